"""Editors' view of the scheduler: every job's last and next runs, the worker's lease,
and "Run now", which queues a run that the worker takes within seconds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.errors import Conflict, NotFound
from ostogether.edges.audit import Actor
from ostogether.edges.timetable import JOBS, next_runs
from ostogether.web.common import editors_only, runtime, warn_if_no_worker

bp = Blueprint("schedule", __name__, url_prefix="/editors/schedule")


editors_only(bp)


@bp.route("/")
def index() -> Any:
    rt = runtime()
    schedule = rt.community.schedule()
    now = clock.now()
    enabled = {j.name: j for j in schedule.jobs if j.enabled}
    rows = [{"name": name, "description": description, "job": enabled.get(name),
             "next": next_runs(schedule, enabled[name], now, 3)
             if name in enabled else []} for name, description in JOBS.items()]
    return render_template("editors/schedule.html", rows=rows, last=jobs.last_runs(rt),
                           health=jobs.health(rt, now), zone=schedule.zone)


@bp.post("/<name>/run")
def run_now(name: str) -> Any:
    rt = runtime()
    try:
        jobs.request(rt, name, Actor.of(current_user))
    except (Conflict, NotFound) as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(job)s is queued: the worker runs it within %(seconds)s seconds. Reload "
                "this page to see how it ended.", job=name,
                seconds=format(rt.settings.worker_poll_seconds, "g")), "success")
        warn_if_no_worker(rt)
    return redirect(url_for("schedule.index"))
