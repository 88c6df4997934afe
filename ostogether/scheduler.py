"""The worker that runs the editorial calendar: APScheduler 3.11 wiring and the lease.

- **The timetable** (``schedules/ostogether.toml``, ``[jobs.*]``) is read at every start,
  and each job is declared with ``replace_existing=True``. Jobs no longer in the timetable
  are removed.
- **Triggers.** Cron jobs get a ``CronTrigger`` in the timetable's zone. Jobs relative to
  the newsletter's send dates get a ``TimetableTrigger``.
- **Job store.** Jobs live in APScheduler's ``SQLAlchemyJobStore``, in the service's own
  database. A worker that was down runs each missed job once (``coalesce``) if it is back
  within ``scheduler_grace_hours``. A job never runs twice at once (``max_instances=1``).
- **The lease.** Only the worker holding the lease row schedules. It renews the lease
  every third of ``scheduler_lease_seconds``; another worker waits as a standby and takes
  over once the lease has expired. A worker that fails to renew stops scheduling at once.
- **Stopping.** SIGTERM (or Ctrl+C) stops cleanly: running jobs finish, and the lease is
  released so that a standby takes over without waiting.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.date
import apscheduler.triggers.interval
from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.exc import SQLAlchemyError

from ostogether import jobs
from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.edges.timetable import JobSpec, trigger_for
from ostogether.jobs import acquire, lease, release
from ostogether.newsletter import delivery

log = logging.getLogger("ostogether.scheduler")

JOBSTORE_TABLE = "apscheduler_jobs"


def missed_runs(rt: Runtime, now: dt.datetime) -> dict[str, dt.datetime]:
    """The stored jobs whose next run time has passed while no worker ran, within the
    grace time: job name → the time it was due."""
    grace = dt.timedelta(hours=rt.settings.scheduler_grace_hours)
    store = SQLAlchemyJobStore(engine=rt.db.engine, tablename=JOBSTORE_TABLE)
    try:
        stored = store.get_all_jobs()
    except SQLAlchemyError:  # no job store yet: the first start
        return {}
    return {job.id: job.next_run_time for job in stored
            if job.next_run_time is not None and job.next_run_time <= now
            and now - job.next_run_time <= grace}


def timetable(rt: Runtime) -> Iterator[JobSpec]:
    yield from (j for j in rt.community.schedule().jobs if j.enabled)


# ------------------------------------------------------------------------ the clock

class ClockDatetime(dt.datetime):
    """``datetime`` whose ``now()`` is the one clock.

    APScheduler 3 asks ``datetime`` for the time in its loop, in its executors' misfire check and
    in its interval and date triggers, and offers no hook for another clock. The worker
    gives those modules this class, so that the scheduler and the jobs agree on the time,
    also when a test sets the clock.
    """

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
        t = clock.now()
        return t.astimezone(tz) if tz is not None else t.astimezone().replace(tzinfo=None)


def _scheduler_reads_the_clock() -> None:
    for module in (apscheduler.schedulers.base, apscheduler.executors.base,
                   apscheduler.triggers.interval, apscheduler.triggers.date):
        module.datetime = ClockDatetime


# ------------------------------------------------------------------------ the worker

_WORKER: Worker | None = None  # the process's worker, for jobs fired from the store


def fire(name: str) -> None:
    """What the job store calls: run one job in this process's worker."""
    worker = _WORKER
    if worker is None:
        raise RuntimeError("no worker in this process")
    jobs.run(worker.rt, name)
    if name == "send_issue":
        worker.after_send()


class Worker:
    """One scheduling process: a standby until it holds the lease, then the scheduler."""

    def __init__(self, rt: Runtime, holder: str | None = None) -> None:
        self.rt = rt
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.scheduler: BlockingScheduler | None = None
        self.thread: threading.Thread | None = None
        self.interval = max(1.0, rt.settings.scheduler_lease_seconds / 3)

    # -- the loop
    def run(self) -> None:
        global _WORKER
        _WORKER = self
        log.info("worker started", extra={"event": "worker.start", "holder": self.holder})
        standby_said = False
        while not self.stopping.is_set():
            try:
                if acquire(self.rt, self.holder):
                    standby_said = False
                    self._lead()
                elif not standby_said:
                    held = lease(self.rt)
                    log.info("standby: %s holds the lease", held.holder if held else "another",
                             extra={"event": "worker.standby", "holder": self.holder})
                    standby_said = True
            except SQLAlchemyError as exc:  # the database is away: keep trying, never die
                log.error("database error, trying again in %.0f s: %s", self.interval, exc,
                          extra={"event": "worker.db_error", "holder": self.holder})
            except Exception:  # a bug: log it, and lead again after a pause, never die
                log.exception("the worker's loop failed; trying again in %.0f s",
                              self.interval, extra={"event": "worker.crash",
                                                    "holder": self.holder})
            self.stopping.wait(self.interval)
        log.info("worker stopped", extra={"event": "worker.stop", "holder": self.holder})

    def _lead(self) -> None:
        _scheduler_reads_the_clock()
        settings, schedule = self.rt.settings, self.rt.community.schedule()
        scheduler = BlockingScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.rt.db.engine,
                                                     tablename=JOBSTORE_TABLE),
                       "local": MemoryJobStore()},
            # The lease has a thread of its own: four long jobs (a send, a feed poll)
            # filling the pool must not hold back its renewal until it expires.
            executors={"default": ThreadPoolExecutor(4), "lease": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": int(settings.scheduler_grace_hours * 3600)},
            timezone=schedule.zone)
        names = []
        missed = missed_runs(self.rt, clock.now())
        for job in timetable(self.rt):
            # A run that fell due while no worker ran (a restart, a deploy, a failover)
            # keeps its time, so that it runs once now; declaring the job afresh would
            # move it to the next day without a trace.
            extra = {"next_run_time": missed[job.name]} if job.name in missed else {}
            scheduler.add_job("ostogether.scheduler:fire", trigger_for(schedule, job),
                              args=[job.name], id=job.name, name=job.description,
                              replace_existing=True, **extra)
            names.append(job.name)
        if missed:
            log.info("running %d missed job(s): %s", len(missed), ", ".join(sorted(missed)),
                     extra={"event": "worker.missed", "holder": self.holder,
                            "jobs": sorted(missed)})
        scheduler.add_job(self._renew, "interval", seconds=self.interval, id="lease",
                          jobstore="local", executor="lease")
        # Work asked for on the web pages ("Send now", "Run now"): the web face only
        # records it, and the worker does it.
        scheduler.add_job(self._pick_up, "interval", seconds=settings.worker_poll_seconds,
                          id="pick_up", jobstore="local", next_run_time=clock.now())
        keep = set(names)

        def started(_: Any) -> None:
            # A SIGTERM while start() was still declaring the jobs found the scheduler not
            # yet running, so shutting it down did nothing: stop now. Else the stored jobs
            # are loaded, and those no longer in the timetable go.
            if self.stopping.is_set():
                self._shutdown()
            else:
                self._prune(keep)

        scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
        self.scheduler = scheduler
        log.info("scheduling %d job(s)", len(names),
                 extra={"event": "worker.lead", "holder": self.holder, "jobs": len(names)})
        try:
            if not self.stopping.is_set():  # stop() may have come while declaring
                scheduler.start()  # blocks until shutdown
        finally:
            self.scheduler = None
            release(self.rt, self.holder)

    def _pick_up(self) -> None:
        try:
            jobs.pick_up(self.rt)
        except Exception:  # logged; the next round tries again
            log.exception("picking up queued work failed",
                          extra={"event": "worker.pick_up_failed", "holder": self.holder})

    def _prune(self, keep: set[str]) -> None:
        assert self.scheduler is not None
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in keep and not job.id.startswith("resume:"):
                log.info("job %s is no longer in the timetable; removed", job.id)
                job.remove()

    def _renew(self) -> None:
        try:
            held = not self.stopping.is_set() and acquire(self.rt, self.holder)
        except SQLAlchemyError as exc:
            # Cannot renew: stop scheduling before the lease runs out, so that two workers
            # never schedule at once. The loop takes the lease again when it can.
            log.error("cannot renew the lease: %s", exc,
                      extra={"event": "worker.db_error", "holder": self.holder})
            held = False
        if not held:
            if not self.stopping.is_set():
                log.warning("lost the lease; scheduling stops",
                            extra={"event": "worker.lost_lease", "holder": self.holder})
            self._shutdown()

    def after_send(self) -> None:
        """A send that waits for the mail server is resumed at its resume time."""
        scheduler = self.scheduler
        if scheduler is None:
            return
        for issue_id, resume_at in delivery.waiting_sends(self.rt):
            scheduler.add_job("ostogether.scheduler:fire", DateTrigger(resume_at),
                              args=["send_issue"], id=f"resume:{issue_id}",
                              replace_existing=True)

    def _shutdown(self) -> None:
        scheduler = self.scheduler
        if scheduler is not None and scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=False)

    def start_thread(self) -> Worker:
        """Run in a background thread (beside the web server, or in tests)."""
        self.thread = threading.Thread(target=self.run, name="ostogether-worker", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float = 30) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def stop(self, *_: Any) -> None:
        """Stop after the running jobs (a SIGTERM handler, or the web server's exit)."""
        self.stopping.set()
        self._shutdown()


def start_in_thread(rt: Runtime) -> Worker:
    """The embedded default: the worker beside the web server, in the same process."""
    return Worker(rt).start_thread()
