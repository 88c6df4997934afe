"""The delivery engine: an approved issue to every confirmed reader, exactly once.

The ledger (``deliveries``) has one row per issue and reader, written in one transaction
when the send starts; readers who confirm later are not added. A row moves
queued → sending → sent | bounced | failed (``ostogether.core.states.DELIVERY``); every move
is an UPDATE guarded by the row's current state and claimant, so two processes can
never both own a row. The ledger is the audit trail of its rows; the issue's own moves
(approved → sending → sent, pause, resume, cancel) go to the audit log.

One sending process (``run``):

* registers itself in ``delivery_workers`` and keeps a heartbeat there;
* claims a batch of due ``queued`` rows by marking them ``sending`` (on PostgreSQL with
  ``FOR UPDATE SKIP LOCKED``, so several processes share one send; SQLite has one
  writer, and the guarded UPDATE keeps a second process harmless). Each claim goes on
  from the highest id it took before, and looks behind only when that runs dry, so it
  reads about the rows it takes however far the send is;
* hands them to ``delivery_concurrency`` threads, each with its own SMTP connection,
  at most ``delivery_rate`` messages per second;
* writes the outcomes back a few times a second: ``sent`` with the Message-ID; a 4xx
  back to ``queued`` with a doubling wait, ``failed`` after ``delivery_max_attempts``;
  a 5xx ``bounced``, counted against the reader; an unreachable server puts every
  unsent row back and makes the send ``waiting`` until ``delivery_pause_seconds``
  have passed. Nothing is dropped.

After a crash (kill -9, power), the rows the dead process had claimed are still
``sending``. The next process that runs the send finds them through the dead worker's
row (same host and its pid is gone, or its heartbeat is stale) and sends them again, or
holds them for an editor when ``delivery_resend_interrupted`` is false. At most one
batch per process can therefore arrive twice, and the status says how many were resent.

Threads (``ostogether.mail.sender``) only do SMTP; every database write happens in the
thread that called ``run``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from ostogether.core import clock
from ostogether.core.choices import Choices
from ostogether.core.errors import Conflict, NotFound
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.edges.wording import say
from ostogether.mail.message import IssueMessage, Recipient
from ostogether.mail.sender import Job, Outcome, sender_thread
from ostogether.mail.transports import dkim_key
from ostogether.models import Delivery, DeliveryWorker, Issue, Subscriber
from ostogether.newsletter.assembly import Assembler
from ostogether.newsletter.issues import get_issue
from ostogether.newsletter.recovery import WORKER, _changed, _recover
from ostogether.newsletter.rendering import base_language, web_url
from ostogether.newsletter.wording import CANCELLED, PAUSED, WAITING, issue_state, send_note
from ostogether.readers import segments, subscribers

log = logging.getLogger(__name__)
T: Table = Delivery.__table__  # type: ignore[assignment]
_QUEUED: Any = literal_column("'queued'")
OPEN = ("queued", "sending", "held")
FINAL = ("sent", "bounced", "failed", "cancelled")


# ------------------------------------------------------------------ status

@dataclass
class SendStatus:
    """Where a send stands; what `issue status --format json` prints."""

    issue: int
    number: int | None
    issue_status: str
    state: str  # running, paused, waiting, cancelled, done, or "" before the send
    note: str
    recipients: int
    counts: dict[str, int]
    resent: int
    held: int
    started_at: str | None
    finished_at: str | None
    resume_at: str | None
    messages_per_second: float | None
    workers: int = 0

    @property
    def finished(self) -> int:
        return sum(self.counts.get(k, 0) for k in FINAL)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _counts(s: Session, issue_id: int) -> dict[str, int]:
    """Recipients per ledger state; every state is present."""
    counts = {k: 0 for k in (*OPEN, *FINAL)}
    counts.update({str(k): int(n) for k, n in s.execute(
        select(T.c.status, func.count()).where(T.c.issue_id == issue_id)
        .group_by(T.c.status)).all()})
    return counts


def _status(s: Session, issue: Issue) -> SendStatus:
    counts = _counts(s, issue.id)
    rate = None
    if issue.send_started_at and counts["sent"]:
        last = s.scalar(select(func.max(T.c.sent_at)).where(T.c.issue_id == issue.id))
        if last is not None:
            last = last.replace(tzinfo=dt.UTC) if last.tzinfo is None else last
            seconds = (last - issue.send_started_at).total_seconds()
            rate = round(counts["sent"] / seconds, 1) if seconds > 0 else None
    workers = s.scalar(select(func.count()).select_from(DeliveryWorker).where(
        DeliveryWorker.issue_id == issue.id, DeliveryWorker.stopped_at.is_(None))) or 0
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return SendStatus(issue.id, issue.number, issue.status, issue.send_state, issue.send_note,
                      issue.send_recipients, counts, issue.send_resent, issue.send_held,
                      iso(issue.send_started_at), iso(issue.sent_at),
                      iso(issue.send_resume_at), rate, workers)


def _issue(s: Session, issue_id: int, lock: bool = False) -> Issue:
    stmt = select(Issue).where(Issue.id == issue_id)
    if lock and s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    issue = s.scalar(stmt)
    if issue is None:
        raise NotFound(_l("There is no issue with id %(id)s.", id=issue_id))
    return issue


def status(rt: Runtime, issue_id: int) -> SendStatus:
    with rt.db.session() as s:
        return _status(s, _issue(s, issue_id))


# ------------------------------------------------------------------ start, pause, resume

def start(rt: Runtime, actor: Actor, issue_id: int) -> SendStatus:
    """Freeze the recipients of an approved issue and mark it sending. Starting a send that
    has started already changes nothing."""
    with rt.db.session() as s:
        issue = _issue(s, issue_id, lock=True)
        if issue.status == "sending":
            return _status(s, issue)
        if issue.status != "approved" or not issue.snapshot_sha256:
            raise Conflict(_l("Issue #%(number)s is %(state)s; only an approved issue can be "
                              "sent.", number=issue.number, state=issue_state(issue.status)))
        transition(s, actor, issue, "issue", "sending")
        now = clock.now()
        # Each reader gets the version in their language, else the community's.
        base = base_language(rt)
        others = [v.language for v in issue.snapshots]
        language = (case((Subscriber.language.in_(others), Subscriber.language),
                         else_=literal(base)) if others else literal(base))
        # One INSERT … SELECT: the recipients are whoever is confirmed at this instant (and,
        # for an announcement, in its segment).
        s.execute(T.insert().from_select(
            ["issue_id", "subscriber_id", "status", "attempts", "message_id", "last_error",
             "resent", "language"],
            select(literal(issue.id), Subscriber.id, literal("queued"), literal(0),
                   literal(""), literal(""), literal(False), language)
            .where(Subscriber.status == "confirmed",
                   *segments.recipients_where(issue.kind, issue.segment))
            .order_by(Subscriber.id)))
        issue.send_recipients = s.scalar(select(func.count()).where(
            T.c.issue_id == issue.id)) or 0
        if s.get_bind().dialect.name == "postgresql":  # the planner learns the new rows
            s.execute(text("ANALYZE deliveries, subscribers"))
        issue.send_state, issue.send_note, issue.send_started_at = "running", "", now
        record(s, actor, "issue.send_started", issue, recipients=issue.send_recipients)
        log.info("send started: issue #%s to %d readers", issue.number, issue.send_recipients,
                 extra={"event": "send.start", "issue": issue.number,
                        "recipients": issue.send_recipients})
        return _status(s, issue)


def pause(rt: Runtime, actor: Actor, issue_id: int) -> SendStatus:
    """Stop handing out messages; those already in flight finish. ``resume`` goes on."""
    with rt.db.session() as s:
        issue = _issue(s, issue_id, lock=True)
        if issue.status != "sending" or issue.send_state not in ("running", "waiting"):
            raise Conflict(_l("Issue #%(number)s is not being sent, so it cannot be paused.",
                              number=issue.number))
        issue.send_state, issue.send_note = "paused", say(PAUSED, who=actor.label)
        issue.send_resume_at = None
        record(s, actor, "issue.send_paused", issue)
        return _status(s, issue)


def resume(rt: Runtime, actor: Actor, issue_id: int) -> SendStatus:
    """Let a paused or waiting send go on; the caller then runs it (``run``)."""
    with rt.db.session() as s:
        issue = _issue(s, issue_id, lock=True)
        if issue.status != "sending" or issue.send_state not in ("paused", "waiting",
                                                                  "running"):
            raise Conflict(_l("Issue #%(number)s has no paused send to resume.",
                              number=issue.number))
        if issue.send_state != "running":
            record(s, actor, "issue.send_resumed", issue, was=issue.send_state)
        issue.send_state, issue.send_note, issue.send_resume_at = "running", "", None
        return _status(s, issue)


def cancel(rt: Runtime, actor: Actor, issue_id: int) -> SendStatus:
    """Stop a send for good: every row not yet sent becomes ``cancelled``. Messages in
    flight finish; the issue is then ``sent`` to those who got it, and its counts say so,
    or ``cancelled`` when nobody got it."""
    with rt.db.session() as s:
        issue = _issue(s, issue_id, lock=True)
        if issue.status != "sending":
            raise Conflict(_l("Issue #%(number)s is not being sent.", number=issue.number))
        issue.send_state, issue.send_note = "cancelled", say(CANCELLED, who=actor.label)
        issue.send_resume_at = None
        s.execute(update(T).where(T.c.issue_id == issue.id,
                                  T.c.status.in_(("queued", "held")))
                  .values(status="cancelled", last_error="the send was cancelled"))
        record(s, actor, "issue.send_cancelled", issue)
        _recover(s, rt, issue, me=None, cancelling=True)
        _finish_if_done(s, issue)
        return _status(s, issue)


def release_held(rt: Runtime, actor: Actor, issue_id: int, *, resend: bool) -> int:
    """An editor's decision on rows held after a crash: send them (again), or not."""
    with rt.db.session() as s:
        issue = _issue(s, issue_id, lock=True)
        target = "queued" if resend else "cancelled"
        n = _changed(s, update(T).where(T.c.issue_id == issue.id, T.c.status == "held")
                     .values(status=target, resent=resend, claimed_by=None,
                             last_error="" if resend else "held after a crash; not resent"))
        if resend:
            issue.send_resent += n
        record(s, actor, "issue.held_released", issue, rows=n, resend=resend)
        _finish_if_done(s, issue)
        return n


# ------------------------------------------------------------------ finish

def _finish_if_done(s: Session, issue: Issue) -> bool:
    if issue.status != "sending":
        return issue.status == "sent"
    left = s.scalar(select(func.count()).where(T.c.issue_id == issue.id,
                                               T.c.status.in_(OPEN))) or 0
    if left:
        return False
    issue = get_issue(s, issue.id)
    counts = {k: v for k, v in _counts(s, issue.id).items() if v}
    if issue.send_state == "cancelled" and not counts.get("sent"):
        # Nobody got it: the issue is cancelled like a draft, and its number and items
        # are free for the next one.
        transition(s, WORKER, issue, "issue", "cancelled", number=issue.number, **counts)
        issue.number = None
        return True
    transition(s, WORKER, issue, "issue", "sent", **counts)
    issue.sent_at = clock.now()
    if issue.send_state != "cancelled":
        issue.send_state, issue.send_note = "done", ""
    # An announcement reached a segment only: its items still go into the next issue.
    for entry in issue.entries if issue.kind == "issue" else ():
        if entry.item.status == "approved":
            transition(s, WORKER, entry.item, "news_item", "published", issue=issue.number)
    log.info("send finished: issue #%s %s", issue.number, counts,
             extra={"event": "send.finish", "issue": issue.number, **counts})
    return True


# ------------------------------------------------------------------ the sending process

@dataclass
class Progress:
    """What a progress bar needs, after each write of outcomes."""

    total: int
    finished: int
    state: str = "running"
    note: str = ""


class _Run:
    """One process's part of one send. See the module docstring."""

    def __init__(self, rt: Runtime, issue_id: int, progress: Callable[[Progress], None] | None,
                 should_stop: Callable[[], bool] | None) -> None:
        self.rt, self.st, self.issue_id = rt, rt.settings, issue_id
        self.progress, self.should_stop = progress, should_stop or (lambda: False)
        self.me = uuid.uuid4().hex
        self.inflight: dict[int, Job] = {}
        self.pending: deque[Job] = deque()
        self.buffer: list[Outcome] = []
        self.cursor = 0  # the highest row id claimed so far
        self.stop: str = ""  # why no more rows are claimed: paused, cancelled, waiting, …
        self.links = subscribers.link_maker(rt)
        self.postgres = rt.db.engine.dialect.name == "postgresql"
        self.concurrency = (self.st.delivery_concurrency
                            if self.st.mail_transport == "smtp" else 1)

    # -- database side (this thread only)

    def _begin(self) -> IssueMessage:
        with self.rt.db.session() as s:
            issue = _issue(s, self.issue_id, lock=True)
            if issue.status != "sending":
                raise Conflict(_l("Issue #%(number)s is %(state)s; start its send first.",
                                  number=issue.number, state=issue_state(issue.status)))
            if issue.send_state == "paused":
                raise Conflict(_l("The send of issue #%(number)s is paused (%(note)s) Resume "
                                  "it first.", number=issue.number,
                                  note=send_note(issue.send_note)))
            if issue.send_state == "waiting":
                issue.send_state, issue.send_note, issue.send_resume_at = "running", "", None
            self.number, self.total = issue.number, issue.send_recipients
            # Each reader's message is cut from their language's version, once per
            # selection of items (``assembly``), and addressed to each reader in turn.
            self.assembler = Assembler.from_issue(self.rt, s, issue)
            self.web_urls = {v.language: web_url(self.rt, issue.number, v.language)
                             for v in issue.snapshots}
            self.web_url = web_url(self.rt, issue.number)
            s.add(DeliveryWorker(id=self.me, issue_id=issue.id, host=socket.gethostname(),
                                 pid=os.getpid()))
            s.flush()
            _recover(s, self.rt, issue, self.me)
            message = self.assembler.message("", Choices())[0]  # the whole issue
            self.finished = _status(s, issue).finished
        return message

    def _take(self, s: Session, after: int, want: int) -> list[tuple[int, int, int, str]]:
        """Mark up to ``want`` due rows past id ``after`` as ours: (id, attempts, reader,
        language)."""
        now = clock.now()
        # 'queued' is written into the SQL, not bound, so that the planner can prove the
        # claim matches ix_deliveries_queued, which holds these rows in id order
        due = (select(T.c.id).where(T.c.issue_id == self.issue_id, T.c.id > after,
                                    T.c.status == _QUEUED,
                                    or_(T.c.next_attempt_at.is_(None),
                                        T.c.next_attempt_at <= now))
               .order_by(T.c.id).limit(want))
        if self.postgres:
            # Lock the batch first, then update it. A LIMIT … SKIP LOCKED subquery inside
            # the UPDATE may be run again per row by the planner and claim far more.
            locked = list(s.scalars(due.with_for_update(skip_locked=True)))
            if not locked:
                return []
            target = T.c.id.in_(locked)
        else:  # SQLite runs the subquery once; one statement never waits to upgrade a lock
            target = T.c.id.in_(due)
        return [(r[0], r[1], r[2], r[3]) for r in s.execute(
            update(T).where(target, T.c.status == "queued")
            .values(status="sending", claimed_by=self.me, claimed_at=now)
            .returning(T.c.id, T.c.attempts, T.c.subscriber_id, T.c.language))]

    def _claim(self, s: Session) -> None:
        want = self.st.delivery_batch_size - len(self.inflight)
        # On from where the last batch ended, so that a claim never walks the rows sent
        # before it; then from the start for rows behind: retries come due, rows handed back.
        claimed = self._take(s, self.cursor, want)
        if len(claimed) < want and self.cursor:
            claimed += self._take(s, 0, want - len(claimed))
        if not claimed:
            return
        claimed.sort()
        self.cursor = max(self.cursor, claimed[-1][0])
        # The readers by their own key: a join let the planner hash the whole table.
        readers = {r[0]: r[1:] for r in s.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.status,
                   Subscriber.link_nonce, Subscriber.topics, Subscriber.kinds,
                   Subscriber.audiences, Subscriber.projects)
            .where(Subscriber.id.in_([sid for _, _, sid, _ in claimed])))}
        gone = []
        for did, attempts, sid, lang in claimed:
            email, name, sub_status, nonce, *choices = readers[sid]
            if sub_status != "confirmed" or not email:
                gone.append({"b_id": did, "b_err": f"the reader is {sub_status} now"})
                continue
            values = {**self.links(sid, nonce),
                      "web_url": self.web_urls.get(lang, self.web_url)}
            message, items, own = self.assembler.message(lang, Choices.of(*choices))
            job = Job(did, sid, attempts, Recipient(did, email, name, {**values, **own}),
                      message, items)
            self.inflight[did] = job
            self.pending.append(job)
        if gone:  # unsubscribed (or erased) after the send started: not mailed
            s.execute(update(T).where(T.c.id == bindparam("b_id"), T.c.claimed_by == self.me)
                      .values(status="cancelled", last_error=bindparam("b_err")), gone)
            self.finished += len(gone)

    def _write(self, s: Session) -> Issue:
        """Outcomes to the ledger, the heartbeat, and a fresh look at the issue."""
        now = clock.now()
        by_kind: dict[str, list[dict[str, Any]]] = {}
        retry = self.st.delivery_retry_seconds
        for o in self.buffer:
            self.inflight.pop(o.job.delivery_id, None)
            row: dict[str, Any] = {"b_id": o.job.delivery_id}
            if o.kind == "sent":
                row.update(b_mid=o.message_id[:250], b_items=o.job.items)
                kind = "sent"
            elif o.kind == "rejected":
                row.update(b_err=o.error[:500])
                kind = "bounced"
                subscribers.hard_bounce(s, self.rt, o.job.subscriber_id, o.status, o.error)
            elif o.kind == "invalid" or (o.kind == "deferred" and o.job.attempts + 1
                                         >= self.st.delivery_max_attempts):
                row.update(b_err=o.error[:500])
                kind = "failed"
            elif o.kind == "deferred":
                wait = retry * (2 ** o.job.attempts)
                row.update(b_err=o.error[:500], b_next=now + dt.timedelta(seconds=wait))
                kind = "retry"
            elif o.kind == "cancel":
                kind = "cancelled"
            else:  # unreachable, or handed back unsent: no attempt is counted
                kind = "requeue"
            by_kind.setdefault(kind, []).append(row)
        guard = (T.c.id == bindparam("b_id"), T.c.claimed_by == self.me,
                 T.c.status == "sending")
        values: dict[str, dict[str, Any]] = {
            "sent": {"status": "sent", "sent_at": now, "message_id": bindparam("b_mid"),
                     "items": bindparam("b_items"), "attempts": T.c.attempts + 1},
            "bounced": {"status": "bounced", "last_error": bindparam("b_err"),
                        "attempts": T.c.attempts + 1},
            "failed": {"status": "failed", "last_error": bindparam("b_err"),
                       "attempts": T.c.attempts + 1},
            "retry": {"status": "queued", "last_error": bindparam("b_err"),
                      "next_attempt_at": bindparam("b_next"), "claimed_by": None,
                      "attempts": T.c.attempts + 1},
            "requeue": {"status": "queued", "claimed_by": None},
            "cancelled": {"status": "cancelled", "last_error": "the send was cancelled"},
        }
        for kind, rows in by_kind.items():
            s.execute(update(T).where(*guard).values(**values[kind]), rows)
        self.finished += sum(len(by_kind.get(k, ())) for k in FINAL)
        self.buffer.clear()
        s.execute(update(DeliveryWorker).where(DeliveryWorker.id == self.me)
                  .values(heartbeat_at=now))
        return _issue(s, self.issue_id)

    def _handback(self, jobs: queue.Queue[Job | None]) -> None:
        """Claimed rows that no thread has taken go back to ``queued`` (or are cancelled
        with the send)."""
        while True:
            try:
                job = jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self.pending.append(job)
        kind = "cancel" if self.stop == "cancelled" else "requeue"
        while self.pending:
            self.buffer.append(Outcome(self.pending.popleft(), kind))

    # -- the loop

    def run(self) -> SendStatus:
        key = dkim_key(self.st)  # a half-set or unreadable key stops the send here
        message = self._begin()
        jobs: queue.Queue[Job | None] = queue.Queue(maxsize=self.concurrency * 2)
        outcomes: queue.Queue[Outcome] = queue.Queue()
        threads = [threading.Thread(target=sender_thread, name=f"smtp-{i}", daemon=True,
                                    args=(self.rt, message, jobs, outcomes, key))
                   for i in range(self.concurrency)]
        for t in threads:
            t.start()
        interval = 1.0 / self.st.delivery_rate if self.st.delivery_rate else 0.0
        next_slot = time.monotonic()
        last_write, write_at = time.monotonic(), max(1, self.st.delivery_batch_size // 4)
        try:
            while True:
                if not self.stop and self.should_stop():
                    self.stop = "stopped"
                # 1. claim when half the window is free
                if not self.stop and len(self.inflight) <= self.st.delivery_batch_size // 2:
                    with self.rt.db.session() as s:
                        self._claim(s)
                # 2. hand out, within the rate
                while self.pending and not self.stop and not jobs.full():
                    if interval:
                        now_m = time.monotonic()
                        if now_m < next_slot:
                            break
                        next_slot = max(next_slot + interval, now_m - 1.0)
                    jobs.put(self.pending.popleft())
                # 3. collect
                try:
                    self.buffer.append(outcomes.get(timeout=0.05))
                    while len(self.buffer) < 1000:
                        self.buffer.append(outcomes.get_nowait())
                except queue.Empty:
                    pass
                if any(o.kind == "unreachable" for o in self.buffer) and self.stop != "waiting":
                    note = next(o.error for o in self.buffer if o.kind == "unreachable")
                    self._wait_for_server(note)
                if self.stop:
                    self._handback(jobs)
                # 4. write a quarter batch or 0.2 s at a time (a commit per handful of
                # outcomes cost as much CPU as the SMTP), at once when idle or stopping
                quiet = not self.inflight
                since = time.monotonic() - last_write
                if (quiet or self.stop or len(self.buffer) >= write_at
                        or (self.buffer and since > 0.2) or since > 1.0):
                    with self.rt.db.session() as s:
                        issue = self._write(s)
                        if issue.send_state in ("paused", "cancelled") and not self.stop:
                            self.stop = issue.send_state
                            self._handback(jobs)
                            self._write(s)
                        done = quiet and self._settle(s, issue)
                        state, note = issue.send_state, issue.send_note
                    last_write = time.monotonic()
                    self._report(state, note)
                    if done:
                        break
        finally:
            self._handback(jobs)  # what no thread has taken goes back to the queue
            for _ in threads:
                jobs.put(None)
            for t in threads:
                t.join(timeout=self.st.smtp_timeout + 5)
            # Outcomes that arrived while stopping are written, never dropped.
            while True:
                try:
                    self.buffer.append(outcomes.get_nowait())
                except queue.Empty:
                    break
            with self.rt.db.session() as s:
                if self.buffer:
                    self._write(s)
                s.execute(update(DeliveryWorker).where(DeliveryWorker.id == self.me)
                          .values(stopped_at=clock.now()))
                if self.stop == "cancelled":
                    _finish_if_done(s, _issue(s, self.issue_id))
        return status(self.rt, self.issue_id)

    def _wait_for_server(self, note: str) -> None:
        self.stop = "waiting"
        with self.rt.db.session() as s:
            issue = _issue(s, self.issue_id, lock=True)
            if issue.send_state == "running":
                issue.send_state = "waiting"
                issue.send_note = say(WAITING,
                    why=note, seconds=f"{self.st.delivery_pause_seconds:g}")
                issue.send_resume_at = clock.now() + dt.timedelta(
                    seconds=self.st.delivery_pause_seconds)
                record(s, WORKER, "issue.send_waiting", issue, reason=note)
        log.error("send of issue #%s waits: %s", self.number, note,
                  extra={"event": "send.wait", "issue": self.number})

    def _settle(self, s: Session, issue: Issue) -> bool:
        """Nothing in flight here: finish the issue, stop, or wait for retries."""
        if self.stop:
            return True
        _recover(s, self.rt, issue, self.me)
        if _finish_if_done(s, issue):
            return True
        nxt = s.scalar(select(func.min(T.c.next_attempt_at)).where(
            T.c.issue_id == issue.id, T.c.status == "queued"))
        if nxt is None:
            # Nothing queued: the open rows are held, or in flight in another process.
            held = s.scalar(select(func.count()).where(T.c.issue_id == issue.id,
                                                       T.c.status == "held")) or 0
            others = s.scalar(select(func.count()).where(T.c.issue_id == issue.id,
                                                         T.c.status == "sending")) or 0
            if held and not others:
                self.stop = "held"
                return True
            clock.sleep(0.2)
            return False
        nxt = nxt.replace(tzinfo=dt.UTC) if nxt.tzinfo is None else nxt
        wait = (nxt - clock.now()).total_seconds()
        if wait > 0:
            clock.sleep(min(wait, 1.0))
        return False

    def _report(self, state: str, note: str) -> None:
        if self.progress is not None:
            self.progress(Progress(self.total, self.finished, state=state, note=note))


def run(rt: Runtime, issue_id: int, *, progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> SendStatus:
    """Send (or go on sending) a started issue from this process until it is finished,
    paused, cancelled, waiting for the server, or ``should_stop()`` says so."""
    return _Run(rt, issue_id, progress, should_stop).run()


def send(rt: Runtime, actor: Actor, issue_id: int, *,
         progress: Callable[[Progress], None] | None = None,
         should_stop: Callable[[], bool] | None = None) -> SendStatus:
    """Start the send if it has not started, then run it."""
    start(rt, actor, issue_id)
    return run(rt, issue_id, progress=progress, should_stop=should_stop)


def due_sends(rt: Runtime) -> list[int]:
    """Sends that should be running now: running with no live process, or waiting
    whose wait is over. For the scheduler."""
    with rt.db.session() as s:
        now = clock.now()
        return list(s.scalars(select(Issue.id).where(
            Issue.status == "sending",
            or_(Issue.send_state == "running",
                (Issue.send_state == "waiting") & (Issue.send_resume_at <= now)))))


def waiting_sends(rt: Runtime) -> list[tuple[int, dt.datetime]]:
    """Sends that wait for the mail server, with the time each resumes. For the
    scheduler, which wakes up then."""
    with rt.db.session() as s:
        return [(issue_id, at) for issue_id, at in s.execute(
            select(Issue.id, Issue.send_resume_at).where(
                Issue.status == "sending", Issue.send_state == "waiting"))
            if at is not None]
