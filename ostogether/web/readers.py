"""Editors' subscriber pages: the list with search and counts, one reader's record and
consent log, the CSV export, and the GDPR actions on a reader's request by mail
(download their data, erase it). Each action is one call into ``ostogether.readers.subscribers``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ostogether.core import csvout
from ostogether.core.errors import Conflict
from ostogether.core.inputs import ascii_int
from ostogether.core.states import SUBSCRIBER_STATUSES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor, record
from ostogether.models import Subscriber
from ostogether.readers import preferences, subscribers
from ostogether.web.common import editors_only, runtime

bp = Blueprint("readers", __name__, url_prefix="/editors/subscribers")
PER_PAGE = 50
# The words for a subscriber's state (core/states.py keeps the codes).
STATE_NAMES = {"pending": _l("pending"), "confirmed": _l("confirmed"),
               "unsubscribed": _l("unsubscribed"), "bounced": _l("bounced"),
               "erased": _l("erased")}


editors_only(bp)


@bp.route("/")
def index() -> Any:
    rt = runtime()
    query, status = request.args.get("q", ""), request.args.get("status", "")
    page = request.args.get("page", "1")
    page_n = n if (n := ascii_int(page)) is not None and 0 < n < 100_000 else 1
    with rt.db.session() as s:
        rows, total = subscribers.search(s, query, status, page_n, PER_PAGE)
        counts = subscribers.counts(s)
    return render_template("editors/subscribers.html", rows=rows, total=total, counts=counts,
                           q=query, status=status, page=page_n,
                           pages=max(1, -(-total // PER_PAGE)),
                           statuses=SUBSCRIBER_STATUSES, STATE_NAMES=STATE_NAMES)


def _reader(s: Any, sub_id: int) -> Subscriber:
    return subscribers.get(s, sub_id)


@bp.route("/<id:sub_id>")
def show(sub_id: int) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        sub = _reader(s, sub_id)
        log = subscribers.consent_log(s, sub)
        offered = preferences.offer(rt, s)
    chosen = {name: [offered.group(name).get(k, k) for k in getattr(sub, name) or ()]
              for name in preferences.GROUPS}
    return render_template("editors/subscriber.html", sub=sub, log=log, chosen=chosen,
                           country=sub.country, STATE_NAMES=STATE_NAMES)


@bp.route("/<id:sub_id>/data.json")
def data(sub_id: int) -> Any:
    rt = runtime()
    payload = subscribers.export(rt, sub_id)
    with rt.db.session() as s:
        record(s, Actor.of(current_user), "subscriber.data_exported", _reader(s, sub_id))
    return Response(json.dumps(payload, indent=2, ensure_ascii=False),
                    mimetype="application/json", headers={
                        "Content-Disposition": f"attachment; filename=subscriber-{sub_id}.json"})


@bp.post("/<id:sub_id>/erase")
def erase(sub_id: int) -> Any:
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the erasure; nothing was erased."), "error")
        return redirect(url_for("readers.show", sub_id=sub_id))
    try:
        subscribers.erase_by_id(runtime(), Actor.of(current_user), sub_id)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("readers.show", sub_id=sub_id))
    flash(_("Subscriber %(id)s is erased: the address, name and network details are gone, "
            "and a hash of the address is on the suppression list.", id=sub_id), "success")
    return redirect(url_for("readers.show", sub_id=sub_id))


@bp.route("/export.csv")
def export() -> Any:
    rt = runtime()
    status = request.args.get("status", "confirmed")
    statuses = (status,) if status in SUBSCRIBER_STATUSES else ("confirmed",)
    body = csvout.to_csv(subscribers.export_rows(rt, statuses))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=subscribers-{statuses[0]}.csv"})
