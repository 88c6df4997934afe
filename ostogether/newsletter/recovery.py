"""Recovering a send after a crash: rows left ``sending`` by a process that is gone.

The next process that runs the send finds them through the dead worker's row in
``delivery_workers`` (same host and its pid is gone, or its heartbeat is stale) and queues
them again, or holds them for an editor when ``delivery_resend_interrupted`` is false
(``ostogether.newsletter.delivery`` explains the ledger).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Any

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from ostogether.core import clock
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import Delivery, DeliveryWorker, Issue

log = logging.getLogger(__name__)
T: Table = Delivery.__table__  # type: ignore[assignment]
WORKER = Actor("delivery")


def _changed(s: Session, stmt: Any) -> int:
    """Run an UPDATE; the number of rows it changed."""
    return int(getattr(s.execute(stmt), "rowcount", 0))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover(s: Session, rt: Runtime, issue: Issue, me: str | None,
             cancelling: bool = False) -> int:
    """Rows left ``sending`` by processes that are gone: queue them again (or hold them,
    or, when cancelling, cancel them). Returns the number of rows recovered."""
    now = clock.now()
    stale = now - dt.timedelta(seconds=rt.settings.delivery_worker_stale_seconds)
    host = socket.gethostname()
    alive = set()
    for w in s.scalars(select(DeliveryWorker).where(DeliveryWorker.issue_id == issue.id,
                                                    DeliveryWorker.stopped_at.is_(None))):
        dead = w.heartbeat_at < stale or (w.host == host and w.pid != os.getpid()
                                          and not _pid_alive(w.pid))
        if dead and w.id != me:
            w.stopped_at = now
            log.warning("send of issue #%s: process %s on %s (pid %d) is gone",
                        issue.number, w.id, w.host, w.pid)
        else:
            alive.add(w.id)
    orphaned = (T.c.issue_id == issue.id, T.c.status == "sending",
                or_(T.c.claimed_by.is_(None), T.c.claimed_by.not_in(alive or {""})))
    if cancelling:
        return _changed(s, update(T).where(*orphaned).values(
            status="cancelled", last_error="outcome unknown: its sending process stopped"
        ))
    if rt.settings.delivery_resend_interrupted:
        n = _changed(s, update(T).where(*orphaned).values(
            status="queued", resent=True, claimed_by=None, next_attempt_at=None))
        issue.send_resent += n
    else:
        n = _changed(s, update(T).where(*orphaned).values(status="held",
                                                        claimed_by=None))
        issue.send_held += n
    if n:
        record(s, WORKER, "issue.send_recovered", issue, rows=n,
               resent=rt.settings.delivery_resend_interrupted)
        log.warning("send of issue #%s: %d rows were in flight when a process stopped; %s",
                    issue.number, n, "queued again" if rt.settings.delivery_resend_interrupted
                    else "held for an editor")
    return n
