"""The scheduler's jobs: each a thin, idempotent call into an existing service.

``run(rt, name)`` runs one job and records the run (start, end, outcome, summary,
error) in ``job_runs``. Every job looks at the database before acting, so running it
twice, or again after a crash, does no harm:

- what it would create exists already (an open issue, a planned slot), or
- what it would send is marked done in ``job_marks`` (a reminder per issue and address;
  the mark is committed before the mail goes, so a crash loses a reminder rather than
  doubling it), or
- the service itself is idempotent (feeds skip known entries, the delivery ledger sends
  each reader once, social posts are claimed once).

Each job takes ``now``, so tests run the whole calendar on a fake clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ostogether import imports
from ostogether.core import clock
from ostogether.core.errors import Busy, Conflict, NotFound, OstogetherError
from ostogether.core.words import _l
from ostogether.edges.audit import SYSTEM, Actor
from ostogether.edges.runtime import Runtime
from ostogether.edges.timetable import JOBS
from ostogether.library import legacy
from ostogether.mail import transactional
from ostogether.models import Issue, JobMark, JobRun, NewsItem, Project, SchedulerLease, User
from ostogether.news import feeds
from ostogether.newsletter import clicks, delivery, send_dates
from ostogether.newsletter import issues as newsletter
from ostogether.readers import bounces, subscribers
from ostogether.registry import projects
from ostogether.social import issue_out, posts, publish
from ostogether.social import metrics as post_metrics

log = logging.getLogger("ostogether.jobs")

# A run still "running" after this long belongs to a process that died.
STALE_RUN = dt.timedelta(hours=6)
# A job fired a little before its time (clock skew) still counts as on time.
EARLY = dt.timedelta(minutes=1)
# An unapproved issue whose send time passed longer ago than this is not reported again.
NOT_SENT_WINDOW = dt.timedelta(days=3)


@dataclass(frozen=True)
class Result:
    outcome: str  # ok, skipped (nothing to do now), failed
    summary: str


def _ok(summary: str) -> Result:
    return Result("ok", summary)


def _skip(summary: str) -> Result:
    return Result("skipped", summary)


def _mark(rt: Runtime, key: str) -> bool:
    """Record ``key`` as done; False when it was done already."""
    try:
        with rt.db.session() as s:
            if s.get(JobMark, key) is not None:
                return False
            s.add(JobMark(key=key))
    except IntegrityError:
        return False  # another run marked it at the same moment
    return True


# ----------------------------------------------------------------------------- jobs

def poll_feeds(rt: Runtime, now: dt.datetime) -> Result:
    results = feeds.poll(rt)
    if not results:
        return _skip("no active feed to poll")
    created = sum(r.created for r in results)
    failed = [r.slug for r in results if r.outcome == "failed"]
    return _ok(f"{len(results)} feed(s) polled, {created} new item(s)"
               + (f"; failed: {', '.join(failed)}" if failed else ""))


def _upcoming_send(rt: Runtime, now: dt.datetime) -> dt.datetime:
    return rt.community.schedule().next_send(now - dt.timedelta(seconds=1))


def compose_issue(rt: Runtime, now: dt.datetime) -> Result:
    schedule = rt.community.schedule()
    spec = schedule.job("compose_issue")
    send = _upcoming_send(rt, now)
    with rt.db.session() as s:
        busy = newsletter.open_issue(s)
        if busy is not None:
            return _skip(f"issue #{busy.number} is {busy.status.replace('_', ' ')}; the next "
                         f"one is composed after it is sent")
    due = schedule.fire_for(spec, send) if spec else None
    if due is not None and now < due - EARLY:
        return _skip(f"the issue of {send.astimezone(schedule.zone):%-d %B} is composed on "
                     f"{due.astimezone(schedule.zone):%-d %B at %H:%M}")
    try:
        issue = newsletter.compose_next(rt, SYSTEM, now)
    except Conflict as exc:  # another run composed it a moment ago
        return _skip(str(exc))
    return _ok(f"issue #{issue.number} composed with {len(issue.entries)} item(s) for "
               f"{issue.send_at.astimezone(schedule.zone):%-d %B %Y %H:%M}")


def remind_members(rt: Runtime, now: dt.datetime) -> Result:
    schedule = rt.community.schedule()
    spec, compose = schedule.job("remind_members"), schedule.job("compose_issue")
    if spec is None or compose is None:
        return _skip("remind_members needs compose_issue in the timetable")
    send = _upcoming_send(rt, now)
    compose_at = schedule.fire_for(compose, send)
    if not schedule.fire_for(spec, send) - EARLY <= now < compose_at:
        day = f"{compose_at.astimezone(schedule.zone):%-d %B}"
        return _skip(f"members are reminded before {day}, not now")
    sent, without = 0, []
    with rt.db.session() as s:
        members = list(s.scalars(select(Project).where(Project.status == "member")
                                 .order_by(Project.slug)))
        users = s.execute(select(User.project_id, User.email).where(
            User.active.is_(True), User.role == "member")).all()
        waiting = dict(s.execute(select(NewsItem.project_id, func.count()).where(
            NewsItem.status == "submitted").group_by(NewsItem.project_id)).all())
        s.expunge_all()
    for project in members:
        addresses = sorted({a.lower() for a in [project.contact_email,
                                                *(e for pid, e in users if pid == project.id)]
                            if a})
        if not addresses:
            without.append(project.acronym)
            continue
        for address in addresses:
            key = f"remind_members:{send.date().isoformat()}:{address}"
            if not _mark(rt, key):
                continue
            transactional.send_after_commit(
                rt, "reminder_members", address, language=project.language, project=project,
                send_date=send.astimezone(schedule.zone),
                compose_date=compose_at.astimezone(schedule.zone),
                waiting=waiting.get(project.id, 0))
            sent += 1
    summary = (f"{sent} reminder(s) sent for the issue of "
               f"{send.astimezone(schedule.zone):%-d %B}")
    if without:
        summary += (f"; {len(without)} member project(s) have no contact address or member "
                    f"account: {', '.join(without)}")
    return _ok(summary) if sent else _skip(summary)


def _editors_told(rt: Runtime, key: str, template: str, **context: object) -> int:
    if not _mark(rt, key):
        return 0
    with rt.db.session() as s:
        editors = transactional.editors(s)
    zone = rt.community.schedule().zone
    for address, language in editors:
        transactional.send_after_commit(rt, template, address, language=language,
                                        zone=str(zone), **context)
    return len(editors)


def remind_editors(rt: Runtime, now: dt.datetime) -> Result:
    schedule = rt.community.schedule()
    spec = schedule.job("remind_editors")
    send = _upcoming_send(rt, now)
    if spec is None or now < schedule.fire_for(spec, send) - EARLY:
        return _skip("not yet within the reminder time before the next send")
    with rt.db.session() as s:
        issue = s.scalar(select(Issue).where(Issue.send_at == send,
                                             Issue.status != "cancelled"))
        if issue is None:
            issue = newsletter.open_issue(s)
        if issue is not None and issue.status in ("approved", "sending", "sent"):
            return _skip(f"issue #{issue.number} is {issue.status}")
        if issue is not None:
            s.expunge(issue)
    # An issue an editor moved to another time is reminded of with its own (the reminder
    # itself keeps the timetable's time).
    when = issue.send_at if issue is not None else send
    told = _editors_told(rt, f"remind_editors:{send.isoformat()}", "reminder_editors",
                         issue=issue, send_at=when.astimezone(schedule.zone))
    what = f"issue #{issue.number} is {issue.status}" if issue else "no issue is composed"
    return _ok(f"{what}; {told} editor(s) told") if told else _skip(
        f"{what}; the editors were told already")


def send_issue(rt: Runtime, now: dt.datetime) -> Result:
    schedule = rt.community.schedule()
    lines: list[str] = []
    unsent = False
    # Sends already under way: after a crash, or waiting for the mail server.
    for issue_id in delivery.due_sends(rt):
        status = delivery.run(rt, issue_id)
        lines.append(f"issue #{status.number}: {status.state}, "
                     f"{status.counts.get('sent', 0)} sent")
    with rt.db.session() as s:
        due = list(s.scalars(select(Issue).where(
            Issue.send_at <= now, Issue.send_at > now - NOT_SENT_WINDOW,
            Issue.status.in_(("draft", "in_review", "approved"))).order_by(Issue.send_at)))
        s.expunge_all()
    for issue in due:
        when = issue.send_at.astimezone(schedule.zone)
        if send_dates.goes_by_itself(issue):
            status = delivery.send(rt, SYSTEM, issue.id)
            lines.append(f"{issue.label}: {status.state}, "
                         f"{status.counts.get('sent', 0)} of {status.recipients} sent")
            continue
        if issue.status == "approved":  # after its time: an editor sends it, or moves it
            lines.append(f"{issue.label} was approved after its send time; it goes "
                         f"out when an editor presses Send now or gives it a new time")
            continue
        unsent = True
        told = _editors_told(rt, f"not_sent:{issue.id}", "issue_not_sent", issue=issue,
                             send_at=when)
        lines.append(f"{issue.label} not sent: it is "
                     f"{issue.status.replace('_', ' ')}"
                     + (f"; {told} editor(s) told" if told else ""))
    planned = issue_out.plan(rt, SYSTEM, now)
    if planned:
        lines.append(f"{len(planned)} \"issue out\" post(s) planned for approval")
    if not lines:
        return _skip("no issue is due")
    return Result("failed" if unsent else "ok", "; ".join(lines))


def plan_social(rt: Runtime, now: dt.datetime) -> Result:
    report = posts.plan_week(rt, SYSTEM, None, now)
    return (_ok if report.placed else _skip)(
        f"week {report.week}: {len(report.placed)} slot(s) filled, {len(report.unfilled)} "
        f"empty, {report.kept} post(s) there already")


def publish_social(rt: Runtime, now: dt.datetime) -> Result:
    issue_out.plan(rt, SYSTEM, now)  # an issue sent from the editors' page
    report = publish.publish_due(rt, now)
    if not report.total:
        return _skip("nothing due")
    return _ok(", ".join(f"{n} {k}" for k, n in sorted(report.outcomes.items())))


def process_bounces(rt: Runtime, now: dt.datetime) -> Result:
    if not rt.settings.bounce_maildir:
        return _skip("no bounce mailbox is configured (bounce_maildir)")
    summary = bounces.process(rt, "maildir", Path(rt.settings.bounce_maildir))
    return _ok(f"{summary.read} mail(s) read, {summary.hard} hard bounce(s), "
               f"{summary.suppressed} suppressed")


def check_registry(rt: Runtime, now: dt.datetime) -> Result:
    with rt.db.session() as s:
        rows = s.execute(select(Project.acronym, Project.website, Project.feed_url).where(
            # Applicants' sites wait until an editor has accepted them: nobody has reviewed
            # what they point at.
            Project.status.in_(("member", "alumni"))).order_by(Project.slug)).all()
    urls = sorted({u for _, web, feed in rows for u in (web, feed) if u})
    results = {r.url: r for r in newsletter.checked_links(rt, urls)}
    failing = [f"{acronym} {label} {url} ({results[url].detail or results[url].outcome})"
               for acronym, web, feed in rows
               for label, url in (("website", web), ("feed", feed))
               if url and results[url].outcome == "fail"]
    summary = f"{len(urls)} address(es) checked, {len(failing)} failing"
    if failing:
        log.warning("registry check: %s", "; ".join(failing),
                    extra={"event": "registry.check", "failing": len(failing)})
        return Result("failed", summary + ": " + "; ".join(failing))
    return _ok(summary)


def derive_status(rt: Runtime, now: dt.datetime) -> Result:
    changed = projects.refresh_statuses(rt)
    return _ok(f"now alumni: {', '.join(changed)}") if changed else _skip(
        "no member project has passed its end date")


def purge_pending(rt: Runtime, now: dt.datetime) -> Result:
    gone = subscribers.purge_pending(rt, now)
    days = rt.settings.pending_days
    return _ok(f"{gone} sign-up(s) not confirmed within {days} days deleted") if gone else (
        _skip(f"no sign-up older than {days} days is unconfirmed"))


def social_metrics(rt: Runtime, now: dt.datetime) -> Result:
    report = post_metrics.collect(rt, now)
    summary = (f"{report.taken} snapshot(s) taken, {report.unavailable} not available, "
               f"{report.later} left for the next run")
    if not (report.taken or report.unavailable or report.later):
        return _skip("no post has reached 48 hours, 7 or 28 days since the last run")
    return Result("failed" if report.later and not report.taken else "ok",
                  summary + ("; " + "; ".join(report.lines[:5]) if report.later else ""))


def purge_visitors(rt: Runtime, now: dt.datetime) -> Result:
    gone = clicks.purge_visits(rt)
    return _ok(f"{gone} visit(s) of past days deleted") if gone else _skip(
        "no visit of a past day is left")


def check_library(rt: Runtime, now: dt.datetime) -> Result:
    report = legacy.check_links(rt, now)
    if not report.checked:
        return _skip("the library has no public output yet")
    summary = (f"{report.checked} output(s) checked, {len(report.dead)} dead, "
               f"{report.revived} answering again")
    if report.dead:
        log.warning("library check: %s", "; ".join(report.dead),
                    extra={"event": "library.check", "dead": len(report.dead)})
        return Result("failed", summary + ": " + "; ".join(report.dead[:10]))
    return _ok(summary)


RUNNERS: dict[str, Callable[[Runtime, dt.datetime], Result]] = {
    "poll_feeds": poll_feeds, "compose_issue": compose_issue,
    "remind_members": remind_members, "remind_editors": remind_editors,
    "send_issue": send_issue, "plan_social": plan_social, "publish_social": publish_social,
    "process_bounces": process_bounces, "check_registry": check_registry,
    "derive_status": derive_status, "purge_pending": purge_pending,
    "social_metrics": social_metrics, "purge_visitors": purge_visitors,
    "check_library": check_library,
}
assert set(RUNNERS) == set(JOBS)


# ------------------------------------------------------------------------ running

def running(rt: Runtime, name: str, now: dt.datetime | None = None) -> JobRun | None:
    """A run of ``name`` that is under way (not one left behind by a dead process)."""
    now = now or clock.now()
    with rt.db.session() as s:
        run_row = s.scalar(select(JobRun).where(
            JobRun.job == name, JobRun.outcome == "running",
            JobRun.started_at > now - STALE_RUN).order_by(JobRun.id.desc()).limit(1))
        if run_row is not None:
            s.expunge(run_row)
        return run_row


def run(rt: Runtime, name: str, now: dt.datetime | None = None,
        trigger: str = "schedule") -> JobRun:
    """Run one job now and record it. Errors are recorded, never raised."""
    if name not in RUNNERS:
        raise OstogetherError(f"Unknown job '{name}'; the jobs are {', '.join(JOBS)}.")
    with rt.db.session() as s:
        row = JobRun(job=name, trigger=trigger, started_at=clock.now(), host=socket.gethostname(),
                     pid=os.getpid())
        s.add(row)
        s.flush()
        run_id = row.id
    return _execute(rt, name, run_id, now or clock.now(), trigger)


def request(rt: Runtime, name: str, actor: Actor) -> JobRun:
    """Queue a run of ``name`` for the worker ("Run now" on the editors' page): the worker
    takes it within ``worker_poll_seconds``. A job queued or running already is not
    queued twice."""
    if name not in RUNNERS:
        raise NotFound(_l("There is no job '%(job)s'.", job=name))
    now = clock.now()
    with rt.db.session() as s:
        busy = s.scalar(select(JobRun).where(
            JobRun.job == name, JobRun.outcome.in_(("queued", "running")),
            JobRun.started_at > now - STALE_RUN).limit(1))
        if busy is not None:
            raise Conflict(_l("%(job)s is queued already; wait for it to finish.", job=name)
                           if busy.outcome == "queued" else
                           _l("%(job)s is running already; wait for it to finish.", job=name))
        row = JobRun(job=name, trigger="manual", started_at=now, outcome="queued",
                     summary=f"queued by {actor.label}")
        s.add(row)
        s.flush()
        s.expunge(row)
    log.info("job %s queued", name, extra={"event": "job.queued", "job": name,
                                           "actor": actor.label})
    return row


def pick_up(rt: Runtime) -> list[JobRun]:
    """What the worker does every few seconds: run the queued runs (each taken by one
    worker only), start the sends of approved issues whose time has come (an editor may
    have set any time, not only the timetable's), carry on the sends under way, and
    publish the social posts that are due (an editor's "Publish now" makes a post due at
    once; each post is claimed once, whoever runs ``publish_social``), then apply the
    imports that an editor queued on the imports page."""
    done = []
    with rt.db.session() as s:
        queued = list(s.execute(select(JobRun.id, JobRun.job).where(
            JobRun.outcome == "queued").order_by(JobRun.id)))
    for run_id, name in queued:
        with rt.db.session() as s:
            taken = getattr(s.execute(update(JobRun).where(
                JobRun.id == run_id, JobRun.outcome == "queued").values(
                outcome="running", started_at=clock.now(), host=socket.gethostname(),
                pid=os.getpid())), "rowcount", 0)
        if taken == 1:
            done.append(_execute(rt, name, run_id, clock.now(), "manual"))
    for issue_id in send_dates.due(rt, clock.now()):
        try:  # starting is once only: the send_issue job may have started it a moment ago
            delivery.start(rt, SYSTEM, issue_id)
        except (Conflict, Busy) as exc:
            log.info("issue %s was not started here: %s", issue_id, exc)
    for issue_id in delivery.due_sends(rt):
        delivery.run(rt, issue_id)
    if rt.community.schedule().job("publish_social") and publish.due(rt, clock.now(), 1):
        done.append(run(rt, "publish_social", trigger="due"))
    imports.pick_up(rt)
    return done


def _execute(rt: Runtime, name: str, run_id: int, now: dt.datetime, trigger: str) -> JobRun:
    started = time.monotonic()
    error = ""
    try:
        result = RUNNERS[name](rt, now)
    except OstogetherError as exc:
        result, error = Result("failed", ""), str(exc)
    except Exception as exc:  # a bug: record it, keep the worker alive
        log.exception("job %s crashed", name, extra={"event": "job.crash", "job": name})
        result, error = Result("failed", ""), f"unexpected error: {exc.__class__.__name__}: {exc}"
    seconds = round(time.monotonic() - started, 3)
    with rt.db.session() as s:
        done = s.get(JobRun, run_id)
        assert done is not None
        done.finished_at, done.outcome = clock.now(), result.outcome
        done.summary, done.error = result.summary, error
        s.flush()
        s.expunge(done)
    level = logging.WARNING if result.outcome == "failed" else logging.INFO
    log.log(level, "job %s %s: %s", name, result.outcome, error or result.summary,
            extra={"event": "job.run", "job": name, "outcome": result.outcome,
                   "trigger": trigger, "seconds": seconds})
    return done


def last_runs(rt: Runtime) -> dict[str, JobRun]:
    """The latest run of each job."""
    with rt.db.session() as s:
        latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(
            JobRun.job).subquery()
        rows = list(s.scalars(select(JobRun).join(latest, JobRun.id == latest.c.id)))
        s.expunge_all()
    return {r.job: r for r in rows}


# ---------------------------------------------------------------------------- lease

# Only the worker holding this row schedules (see ``scheduler``).
LEASE = "scheduler"

def acquire(rt: Runtime, holder: str, now: dt.datetime | None = None) -> bool:
    """Take or renew the lease; False while another live worker holds it."""
    now = now or clock.now()
    expires = now + dt.timedelta(seconds=rt.settings.scheduler_lease_seconds)
    with rt.db.session() as s:
        taken = getattr(s.execute(update(SchedulerLease).where(
            SchedulerLease.name == LEASE,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now)).values(
            acquired_at=case((SchedulerLease.holder == holder, SchedulerLease.acquired_at),
                             else_=now),
            holder=holder, renewed_at=now, expires_at=expires)), "rowcount", 0)
        if taken == 1:
            return True
        if s.get(SchedulerLease, LEASE) is not None:
            return False
    try:
        with rt.db.session() as s:
            s.add(SchedulerLease(name=LEASE, holder=holder, acquired_at=now, renewed_at=now,
                                 expires_at=expires))
    except IntegrityError:
        return False  # another worker created it first
    return True


def release(rt: Runtime, holder: str) -> None:
    with rt.db.session() as s:
        s.execute(update(SchedulerLease).where(
            SchedulerLease.name == LEASE, SchedulerLease.holder == holder).values(
            expires_at=clock.now()))


def lease(rt: Runtime) -> SchedulerLease | None:
    with rt.db.session() as s:
        row = s.get(SchedulerLease, LEASE)
        if row is not None:
            s.expunge(row)
        return row


def health(rt: Runtime, now: dt.datetime | None = None) -> dict[str, Any]:
    """What /healthz reports: the database answers, and the lease is fresh."""
    now = now or clock.now()
    out: dict[str, Any] = {"database": "ok", "worker": "ok"}
    try:
        held = lease(rt)
    except Exception as exc:  # the database does not answer
        return {"database": f"error: {exc.__class__.__name__}", "worker": "unknown",
                "ok": False}
    if held is None:
        out["worker"] = "no worker has ever held the lease"
    else:
        age = (now - held.renewed_at).total_seconds()
        out.update(lease_holder=held.holder, lease_age_seconds=round(age, 1))
        if held.expires_at < now:
            late = round((now - held.expires_at).total_seconds())
            out["worker"] = f"the lease expired {late} s ago: no worker is scheduling"
    out["ok"] = out["worker"] == "ok"
    return out
