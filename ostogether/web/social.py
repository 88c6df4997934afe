"""Editors' social calendar: the week's slots and posts, one post's text per network with
its count, and the actions on posts. Each action is one call into
``ostogether.social.posts``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext
from flask_login import current_user

from ostogether.core import clock
from ostogether.core.errors import Conflict, ValidationError
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.social import media as social_media
from ostogether.social import posts as social
from ostogether.social import said, versions, wording
from ostogether.social import text as social_text
from ostogether.social.publishers import is_live
from ostogether.web.common import editors_only, runtime, warn_if_no_worker
from ostogether.web.i18n import kind_labels, local_date

bp = Blueprint("social", __name__, url_prefix="/editors/social")


editors_only(bp)


def _statuses() -> dict[str, str]:
    """A post's status as the page's language says it (core/states.py keeps the codes)."""
    return {"planned": pgettext("social post", "planned"),
            "approved": pgettext("social post", "approved"),
            "publishing": pgettext("social post", "publishing"),
            "published": pgettext("social post", "published"),
            "failed": pgettext("social post", "failed"),
            "unknown": pgettext("social post", "unknown"),
            "skipped": pgettext("social post", "skipped")}


def _kinds() -> dict[str, str]:
    """What a post is about, in the page's language."""
    return {**kind_labels(), "issue": _("Newsletter issue")}


def _when(at: dt.datetime, skeleton: str = "MMMEd") -> str:
    """A post's date (with its weekday) and time, as the page's language writes them."""
    return f"{local_date(at, skeleton)}, {at:%H:%M}"


def _week_arg() -> str | None:
    week = request.values.get("week", "").strip()
    return week or None


@bp.route("/")
def index() -> Any:
    rt = runtime()
    try:
        view = social.week_view(rt, _week_arg())
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("social.index"))
    measures = {p.id: wording.measure(rt.settings, p.text, p.network)
                for _, slots in view.days for slot in slots for entry in slot.entries
                for p in entry.posts}
    return render_template("editors/social.html", view=view, measures=measures,
                           attention=social.needing_attention(rt),
                           connections=versions.connections(rt.settings, rt.today()),
                           statuses=_statuses(), kinds=_kinds(), said=said.shown,
                           auto_approve=rt.settings.social_auto_approve,
                           next_week=social.week_label(*social.next_week(rt)))


@bp.post("/plan")
def plan() -> Any:
    rt = runtime()
    report = social.plan_week(rt, Actor.of(current_user), _week_arg())
    flash(_("Week %(week)s: %(filled)d slot(s) filled, %(empty)d left empty, %(kept)d "
            "post(s) were there already.", week=report.week, filled=len(report.placed),
            empty=len(report.unfilled), kept=report.kept), "success")
    zone = rt.community.schedule().zone
    for at, why in report.unfilled:
        flash(_("%(when)s is empty: %(why)s.", when=_when(at.astimezone(zone)), why=why),
              "info")
    return redirect(url_for("social.index", week=report.week))


@bp.post("/approve-week")
def approve_week() -> Any:
    rt, week = runtime(), _week_arg()
    n = social.approve_week(rt, Actor.of(current_user), week)
    flash(ngettext("%(num)d post(s) approved; they go out at their times.",
                   "%(num)d post(s) approved; they go out at their times.", n), "success")
    if left := social.week_view(rt, week).counts["planned"]:
        flash(ngettext("%(num)d post(s) could not be approved: the reason is beside each one.",
                       "%(num)d post(s) could not be approved: the reason is beside each one.",
                       left), "error")
    return redirect(url_for("social.index", week=week))


@bp.route("/<id:post_id>", methods=["GET", "POST"])
def post(post_id: int) -> Any:
    rt = runtime()
    if request.method == "POST":
        form = request.form
        try:
            # A field the form did not send keeps the picture as it is (None).
            social.edit(rt, Actor.of(current_user), post_id, text=form.get("text", ""),
                        image_url=form.get("image_url"), image_alt=form.get("image_alt"))
            flash(_("The post was saved."), "success")
            return redirect(url_for("social.post", post_id=post_id))
        except ValidationError as exc:
            flash(str(exc), "error")
            return _page(rt, post_id, exc.fields, 400)
        except Conflict as exc:
            flash(str(exc), "error")
            return redirect(url_for("social.post", post_id=post_id))
    return _page(rt, post_id)


def _page(rt: Runtime, post_id: int, errors: dict[str, str] | None = None,
          status: int = 200) -> Any:
    """The post page; after a refused form, with what was typed and the errors."""
    # A service's reasons are sentences in the page's language; as text, so that the
    # page escapes what they quote.
    errors = {name: str(why) for name, why in (errors or {}).items()}
    form = request.form if errors else {}
    one, measured, pieces = social.preview(rt, post_id)
    others = sorted(social.siblings(rt, one), key=lambda p: p.network)
    zone = rt.community.schedule().zone
    local = one.slot_at.astimezone(zone)
    now = clock.now()
    return render_template(
        "editors/social_post.html", post=one, m=measured, pieces=pieces, others=others,
        shows=social_media.appearance(one), errors=errors,
        text=form.get("text", one.text), image_url=form.get("image_url", one.image_url),
        image_alt=form.get("image_alt", one.image_alt), local=local, zone=zone.key,
        at=form.get("at", f"{local:%Y-%m-%dT%H:%M}"),
        earliest=f"{now.astimezone(zone):%Y-%m-%dT%H:%M}",
        due=one.status == "approved" and one.slot_at <= now and (
            one.next_attempt_at is None or one.next_attempt_at <= now),
        limit=social_text.limit_for(rt.settings, one.network),
        slots=[(at.isoformat(), _when(at.astimezone(zone)))
               for at in social.free_slots(rt, one)],
        live=is_live(rt.settings, one.network), dry_run_everywhere=rt.settings.social_dry_run,
        week=social.week_label(*social.week_of(local.date())), statuses=_statuses(),
        kinds=_kinds(), said=said.shown), status


@bp.post("/<id:post_id>/<action>")
def act(post_id: int, action: str) -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    try:
        if action == "approve":
            social.approve(rt, actor, [post_id])
            flash(_("Approved: it goes out at its time."), "success")
        elif action == "unapprove":
            social.unapprove(rt, actor, post_id)
            flash(_("Back to planned; it will not go out until approved."), "success")
        elif action == "card":
            social.read_card(rt, actor, post_id)
            flash(_("The link's card was read again."), "success")
        elif action == "skip":
            social.skip(rt, actor, post_id)
            flash(_("Skipped: this post will not go out."), "success")
        elif action == "move":
            zone = rt.community.schedule().zone
            if "at" in request.form:  # the date and time picker
                to = social.parse_local(zone, request.form["at"])
            else:  # one of the free slots offered
                try:
                    to = dt.datetime.fromisoformat(request.form.get("slot", ""))
                except ValueError:
                    raise ValidationError(_("Pick one of the offered times."), {
                        "slot": _("pick one of the offered times")}) from None
            social.move(rt, actor, post_id, to.astimezone(dt.UTC))
            local = to.astimezone(zone)
            flash(_("Moved to %(when)s (%(zone)s, %(abbreviation)s).",
                    when=_when(local, "yMMMMEEEEd"), zone=zone.key,
                    abbreviation=local.tzname()), "success")
        elif action == "publish":
            asked = social.publish_now(rt, actor, post_id)
            flash(_("Publishing within a few seconds; refresh this page to see the outcome.")
                  if asked else _("It is due already: publishing within a few seconds; "
                                  "refresh this page to see the outcome."), "success")
            warn_if_no_worker(rt)
        elif action == "resolve":
            posted = request.form.get("posted") == "yes"
            social.resolve(rt, actor, post_id, posted=posted, url=request.form.get("url", ""))
            flash(_("Marked published.") if posted else _("Marked not posted; approve it "
                                                          "again to post it."), "success")
        else:
            flash(_("Unknown action."), "error")
    except ValidationError as exc:
        flash(str(exc), "error")
        if action == "move" and "at" in exc.fields:
            return _page(rt, post_id, exc.fields, 400)  # the typed time stays in its field
    except Conflict as exc:
        flash(str(exc), "error")
    return redirect(url_for("social.post", post_id=post_id))
