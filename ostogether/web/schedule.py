"""Editors' view of the scheduler: every job's last and next runs, the worker's lease,
and "Run now". Running is ``ostogether.jobs.run``, the same call the worker makes."""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from ostogether import clock, jobs
from ostogether.timetable import JOBS, next_runs
from ostogether.web.common import editors_only, runtime

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
    if name not in JOBS:
        flash(f"There is no job '{name}'.", "error")
    elif jobs.running(rt, name) is not None:
        flash(f"{name} is running already; wait for it to finish.", "error")
    else:
        threading.Thread(target=jobs.run, args=(rt, name), kwargs={"trigger": "manual"},
                         name=f"job-{name}", daemon=True).start()
        flash(f"{name} started. Reload this page to see how it ended.", "success")
    return redirect(url_for("schedule.index"))
