"""The scheduler: the timetable's run times (daylight saving, the bi-monthly rule), bad
timetables, the lease and its takeover, the worker with its job store, SIGTERM,
/healthz, backups and structured logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from ostogether import jobs, scheduler
from ostogether.core import clock
from ostogether.core.errors import ConfigError, Conflict, ContentError
from ostogether.core.settings import load_settings
from ostogether.edges import db, timetable
from ostogether.edges.runtime import EventFormatter, Runtime
from ostogether.models import JobRun, SchedulerLease
from ostogether.newsletter import delivery
from tests.conftest import child_env, finish, renewed_since, run, wait_for
from tests.factories import TEST, add_readers, approved_issue
from tests.feedserver import FeedServer

BRUSSELS = ZoneInfo("Europe/Brussels")


def local(times: list[dt.datetime]) -> list[str]:
    return [t.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M %Z") for t in times]


def test_send_relative_jobs_follow_the_bi_monthly_rule_across_daylight_saving(
        rt: Runtime) -> None:
    schedule = rt.community.schedule()
    now = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
    send = schedule.job("send_issue")
    assert send is not None
    runs = timetable.next_runs(schedule, send, now, 5)
    assert local(runs) == ["2027-01-15 10:00 CET", "2027-03-15 10:00 CET",
                           "2027-05-15 10:00 CEST", "2027-07-15 10:00 CEST",
                           "2027-09-15 10:00 CEST"]
    assert [t.astimezone(dt.UTC).hour for t in runs] == [9, 9, 8, 8, 8]
    compose = schedule.job("compose_issue")
    assert compose is not None
    assert local(timetable.next_runs(schedule, compose, now, 3)) == [
        "2027-01-05 09:00 CET", "2027-03-05 09:00 CET", "2027-05-05 09:00 CEST"]
    # 29 March 2027 is after the switch to summer time; 26 Feb is before it.
    members = schedule.job("remind_members")
    assert members is not None
    assert local(timetable.next_runs(schedule, members, now, 3)) == [
        "2026-12-29 09:30 CET", "2027-02-26 09:30 CET", "2027-04-28 09:30 CEST"]
    editors = schedule.job("remind_editors")
    assert editors is not None
    assert local(timetable.next_runs(schedule, editors, now, 3)) == [
        "2027-01-13 10:00 CET", "2027-03-13 10:00 CET", "2027-05-13 10:00 CEST"]


def test_cron_jobs_keep_their_local_time_across_daylight_saving(rt: Runtime) -> None:
    schedule = rt.community.schedule()
    plan = schedule.job("plan_social")
    assert plan is not None and plan.cron == "0 8 * * thu"
    runs = timetable.next_runs(schedule, plan, dt.datetime(2026, 10, 19, tzinfo=dt.UTC), 2)
    assert local(runs) == ["2026-10-22 08:00 CEST", "2026-10-29 08:00 CET"]
    assert [t.astimezone(dt.UTC).hour for t in runs] == [6, 7]


def test_a_different_bi_monthly_cadence_is_a_setting_of_the_file(rt: Runtime) -> None:
    path = rt.community.schedules / "ostogether.toml"
    path.write_text(path.read_text().replace(
        'send_months = ["jan", "mar", "may", "jul", "sep", "nov"]',
        'send_months = ["feb", "apr", "jun", "aug", "oct", "dec"]').replace(
        "send_day = 15", "send_day = 1"))
    schedule = rt.community.schedule()
    send = schedule.job("send_issue")
    assert send is not None
    assert local(timetable.next_runs(schedule, send, dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
                                     3)) == ["2026-12-01 10:00 CET", "2027-02-01 10:00 CET",
                                             "2027-04-01 10:00 CEST"]


@pytest.mark.parametrize("change,expected", [
    (("[jobs.poll_feeds]", "[jobs.poll_feedz]"), r":\d+: unknown job 'poll_feedz'; the jobs are"),
    (('cron = "5 * * * *"', 'cron = "61 * * * *"'), r"jobs.poll_feeds: invalid cron line "
                                                    r"'61 \* \* \* \*'"),
    (('cron = "0 8 * * thu"', 'cron = "0 8 * * 4"'), r"jobs.plan_social: write the day of the "
                                                     r"week as names .* got '4'"),
    (('cron = "15 3 * * *"', 'cron = "15 3 * *"'), r"jobs.derive_status: cron needs 5 fields"),
    (('timezone = "Europe/Brussels"', 'timezone = "Europe/Bruxelles"'),
     r":\d+: unknown timezone 'Europe/Bruxelles'"),
    (("days_before_send = 10", "days_before_send = 0"), r"days_before_send is out of range"),
    (('time = "09:00"', 'time = "9h"'), r"time must be a local time"),
])
def test_a_bad_timetable_is_refused_with_file_key_and_reason(rt: Runtime, env: dict[str, str],
                                                             change: tuple[str, str],
                                                             expected: str) -> None:
    path = rt.community.schedules / "ostogether.toml"
    good = path.read_text()
    assert change[0] in good
    path.write_text(good.replace(change[0], change[1], 1))
    with pytest.raises(ContentError, match=expected) as caught:
        rt.community.schedule()
    assert str(path) in str(caught.value)
    r = run(env, "worker")  # the worker refuses to start, with the same words
    assert r.returncode == 1 and str(path) in r.stderr and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- lease

def test_one_holder_at_a_time_and_takeover_after_expiry(rt: Runtime) -> None:
    now = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
    ttl = dt.timedelta(seconds=rt.settings.scheduler_lease_seconds)
    assert jobs.acquire(rt, "a", now)
    assert not jobs.acquire(rt, "b", now + ttl / 2)
    assert jobs.acquire(rt, "a", now + ttl / 2)  # renewal
    assert not jobs.acquire(rt, "b", now + ttl)  # renewed: not expired yet
    assert jobs.acquire(rt, "b", now + ttl * 2)  # a stopped renewing: b takes over
    assert not jobs.acquire(rt, "a", now + ttl * 2)  # and a cannot renew any more
    held = jobs.lease(rt)
    assert held is not None and held.holder == "b" and held.acquired_at == now + ttl * 2
    jobs.release(rt, "b")
    assert jobs.acquire(rt, "a", clock.now())  # a release hands over at once


@pytest.fixture
def quick_rt(env: dict[str, str], fill_database: Any) -> Any:
    fill_database("imported")
    rt = Runtime(load_settings(environ={**env, "OSTOGETHER_SCHEDULER_LEASE_SECONDS": "5",
                                        "OSTOGETHER_WORKER_POLL_SECONDS": "0.5"}))
    yield rt
    rt.close()


def test_the_worker_declares_the_timetable_fires_jobs_and_a_standby_takes_over(
        quick_rt: Runtime) -> None:
    rt = quick_rt
    first, second = scheduler.Worker(rt, "first"), scheduler.Worker(rt, "second")
    first.start_thread()
    wait_for(lambda: first.scheduler is not None and first.scheduler.running)
    second.start_thread()
    # Two renewals (every 5/3 s) later, the first still leads and the second waits.
    start = wait_for(lambda: jobs.lease(rt))
    held = wait_for(lambda: renewed_since(rt, start, seconds=3.2))
    assert held.holder == "first" and held.acquired_at == start.acquired_at
    assert second.scheduler is None
    with rt.db.session() as s:
        stored = dict(s.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all())
    assert set(stored) == {"poll_feeds", "compose_issue", "remind_members", "remind_editors",
                           "send_issue", "plan_social", "publish_social", "process_bounces",
                           "check_registry", "derive_status", "purge_pending",
                           "social_metrics", "purge_visitors", "check_library"}
    assert all(v is not None for v in stored.values())
    # Fire one job through the job store now: it runs and is recorded.
    assert first.scheduler is not None
    first.scheduler.modify_job("derive_status", next_run_time=clock.now())
    def finished() -> JobRun | None:
        last = jobs.last_runs(rt).get("derive_status")
        return last if last is not None and last.finished_at is not None else None
    done = wait_for(finished)
    assert done.trigger == "schedule" and done.outcome == "skipped"
    # The leader stops (SIGTERM does this): the standby takes over.
    first.stop()
    wait_for(lambda: second.scheduler is not None and second.scheduler.running)
    held = jobs.lease(rt)
    assert held is not None and held.holder == "second"
    second.stop()
    first.join()
    second.join()
    held = jobs.lease(rt)
    assert held is not None and held.expires_at <= clock.now()  # released on the way out


def test_the_lease_is_renewed_while_long_jobs_fill_the_pool(quick_rt: Runtime) -> None:
    """Four long jobs (a send, a slow feed poll) take every thread of the pool: the
    renewal has a thread of its own, so the lease does not run out under them."""
    rt = quick_rt
    worker = scheduler.Worker(rt, "one").start_thread()
    release = threading.Event()
    busy = threading.Semaphore(0)

    def long_job() -> None:
        busy.release()
        release.wait(60)
    try:
        wait_for(lambda: worker.scheduler is not None and worker.scheduler.running)
        assert worker.scheduler is not None
        for n in range(4):
            worker.scheduler.add_job(long_job, id=f"long{n}", jobstore="local")
        for _ in range(4):
            assert busy.acquire(timeout=30)
        start = wait_for(lambda: jobs.lease(rt))
        held = wait_for(lambda: renewed_since(rt, start, seconds=3.2))
        assert held.holder == "one" and held.expires_at > clock.now()
        assert worker.scheduler is not None and worker.scheduler.running
    finally:
        release.set()
        worker.stop()
        worker.join()


def test_the_worker_takes_queued_runs_and_started_sends_within_seconds(
        quick_rt: Runtime, web: FeedServer) -> None:
    """What "Run now" and "Send now" record on the web pages, a running worker does."""
    rt = quick_rt
    add_readers(rt, 3)
    issue = approved_issue(rt, [web.url("/page/0")])
    delivery.start(rt, TEST, issue.id)
    queued = jobs.request(rt, "derive_status", TEST)
    with pytest.raises(Conflict, match="queued already"):
        jobs.request(rt, "derive_status", TEST)
    worker = scheduler.Worker(rt, "one").start_thread()
    try:
        def finished() -> JobRun | None:
            with rt.db.session() as s:
                row = s.get(JobRun, queued.id)
                return row if row is not None and row.finished_at is not None else None
        done = wait_for(finished)
        assert (done.trigger, done.outcome, done.pid) == ("manual", "skipped", os.getpid())
        wait_for(lambda: delivery.status(rt, issue.id).issue_status == "sent")
        assert delivery.status(rt, issue.id).counts["sent"] == 3
    finally:
        worker.stop()
        worker.join()


def test_a_removed_job_leaves_the_store_at_the_next_start(quick_rt: Runtime) -> None:
    rt = quick_rt
    worker = scheduler.Worker(rt, "one")
    worker.start_thread()
    wait_for(lambda: worker.scheduler is not None and worker.scheduler.running)
    worker.stop()
    worker.join()
    path = rt.community.schedules / "ostogether.toml"
    path.write_text(path.read_text().replace("[jobs.check_registry]",
                                             "[jobs.check_registry]\nenabled = false"))
    again = scheduler.Worker(rt, "two")
    again.start_thread()

    def ids() -> set[str]:
        with rt.db.session() as s:
            return set(s.scalars(text("SELECT id FROM apscheduler_jobs")))
    wait_for(lambda: "check_registry" not in ids())
    again.stop()
    again.join()
    assert len(ids()) == len(timetable.JOBS) - 1


def test_sigterm_stops_the_worker_cleanly_and_releases_the_lease(quick_rt: Runtime,
                                                                 env: dict[str, str]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "ostogether", "worker"],
                            env=child_env({**env, "OSTOGETHER_SCHEDULER_LEASE_SECONDS": "5"}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: jobs.lease(quick_rt) is not None)
        held = jobs.lease(quick_rt)
        assert held is not None and held.expires_at > clock.now()
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc, 30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Worker stopped." in out
    held = jobs.lease(quick_rt)
    assert held is not None and held.expires_at <= clock.now()


# --------------------------------------------------------------------------- healthz

def test_healthz_reports_the_database_and_the_lease(client: Any, app: Any) -> None:
    rt = app.extensions["ostogether"]
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json["worker"] == "no worker has ever held the lease"
    jobs.acquire(rt, "web-test")
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["ok"] and r.json["lease_holder"] == "web-test"
    with rt.db.session() as s:
        row = s.get(SchedulerLease, jobs.LEASE)
        assert row is not None
        row.expires_at = clock.now() - dt.timedelta(seconds=30)
    r = client.get("/healthz")
    assert r.status_code == 503 and "expired" in r.json["worker"]


# ---------------------------------------------------------------------------- backup

def test_backup_copies_a_live_sqlite_database(rt: Runtime, env: dict[str, str],
                                              tmp_path: Path) -> None:
    if rt.db.engine.dialect.name != "sqlite":
        with pytest.raises(ConfigError, match="pg_dump"):
            db.backup(rt.db, tmp_path / "copy.db")
        return
    target = tmp_path / "copy.db"
    r = run(env, "backup", str(target))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM projects").fetchone()[0] == 18
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    r = run(env, "backup", str(target))
    assert r.returncode == 2 and "exists already" in r.stderr


# ---------------------------------------------------------------------- runs and logs

def test_every_run_is_recorded_and_a_crash_is_a_failed_run(rt: Runtime,
                                                          monkeypatch: Any) -> None:
    row = jobs.run(rt, "derive_status")
    assert (row.outcome, row.trigger) == ("skipped", "schedule") and row.finished_at
    monkeypatch.setitem(jobs.RUNNERS, "derive_status",
                        lambda rt, now: (_ for _ in ()).throw(ZeroDivisionError("boom")))
    row = jobs.run(rt, "derive_status", trigger="manual")
    assert row.outcome == "failed" and "ZeroDivisionError: boom" in row.error
    with rt.db.session() as s:
        assert [r.outcome for r in s.scalars(select(JobRun).order_by(JobRun.id))] == [
            "skipped", "failed"]


def test_log_lines_are_one_json_object_per_event() -> None:
    record = logging.LogRecord("ostogether.jobs", logging.INFO, __file__, 1,
                               "job %s %s", ("poll_feeds", "ok"), None)
    record.job, record.outcome, record.event = "poll_feeds", "ok", "job.run"
    line = EventFormatter(as_json=True).format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "job poll_feeds ok" and data["job"] == "poll_feeds"
    assert data["level"] == "INFO" and data["event"] == "job.run"
    text_line = EventFormatter(as_json=False).format(record)
    assert text_line.endswith("job poll_feeds ok job=poll_feeds outcome=ok event=job.run")


# ------------------------------------------------------------------ missed runs

def stored_next(rt: Runtime, job: str) -> dt.datetime:
    with rt.db.session() as s:
        stamp = s.scalar(text("SELECT next_run_time FROM apscheduler_jobs WHERE id = :j"),
                         {"j": job})
    assert stamp is not None
    return dt.datetime.fromtimestamp(float(stamp), dt.UTC)


def runs_of(rt: Runtime, job: str) -> list[JobRun]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(JobRun).where(JobRun.job == job)))
        s.expunge_all()
    return rows


def declared(rt: Runtime) -> None:
    """A worker has run once and stopped: the job store holds every next run time."""
    w = scheduler.Worker(rt, "earlier")
    w.start_thread()
    wait_for(lambda: w.scheduler is not None and w.scheduler.running)
    w.stop()
    w.join()


def test_a_restart_across_compose_time_still_composes_once(
        quick_rt: Runtime, test_clock: clock.FakeClock) -> None:
    rt = quick_rt
    declared(rt)
    due = stored_next(rt, "compose_issue")
    assert due > clock.now()
    test_clock.set(due + dt.timedelta(hours=1))  # the worker was down across it
    w = scheduler.Worker(rt, "after-restart")
    w.start_thread()
    try:
        done = wait_for(lambda: [r for r in runs_of(rt, "compose_issue") if r.finished_at])
        assert len(done) == 1 and done[0].trigger == "schedule"
        wait_for(lambda: stored_next(rt, "compose_issue") > clock.now())  # moved on
    finally:
        w.stop()
        w.join()
    assert len(runs_of(rt, "compose_issue")) == 1  # once, not once per missed slot


def test_a_failover_across_send_time_still_sends_once(
        quick_rt: Runtime, test_clock: clock.FakeClock) -> None:
    rt = quick_rt
    declared(rt)
    due = stored_next(rt, "send_issue")
    # The leader died holding the lease just before the send time.
    test_clock.set(due - dt.timedelta(minutes=1))
    assert jobs.acquire(rt, "dead-leader")
    standby = scheduler.Worker(rt, "standby")
    standby.start_thread()
    try:
        test_clock.set(due + dt.timedelta(hours=2))  # the lease expired meanwhile
        wait_for(lambda: getattr(jobs.lease(rt), "holder", None) == "standby")
        done = wait_for(lambda: [r for r in runs_of(rt, "send_issue") if r.finished_at])
        assert len(done) == 1 and done[0].trigger == "schedule"
    finally:
        standby.stop()
        standby.join()
    assert len(runs_of(rt, "send_issue")) == 1


def test_a_run_missed_by_more_than_the_grace_time_is_left_out(
        quick_rt: Runtime, test_clock: clock.FakeClock) -> None:
    rt = quick_rt
    declared(rt)
    due = stored_next(rt, "compose_issue")
    test_clock.set(due + dt.timedelta(hours=rt.settings.scheduler_grace_hours + 1))
    assert "compose_issue" not in scheduler.missed_runs(rt, clock.now())
    assert scheduler.missed_runs(rt, due + dt.timedelta(minutes=5)).get("compose_issue") == due
