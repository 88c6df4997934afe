"""The tables of the running service: the audit log and the rate-limit ledger
(migration 0001, used by ``ostogether.edges.audit`` and ``ratelimit``), and the worker's
job runs, lease and marks (0007, used by ``jobs`` and ``scheduler``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime


class AuditEntry(Base):
    """Who did what, when, to which object. Written for every state change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateLimitHit(Base):
    """One counted attempt in a sliding window (failed logins, sign-ups, API calls).

    Kept in the database so that the limit holds across processes and restarts.
    """

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class JobRun(Base):
    """One run of a scheduled job (migration 0007): when, how it ended, and what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")  # or manual
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # running, ok, skipped (nothing to do), failed
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)


class SchedulerLease(Base):
    """The one row that says which worker schedules. A worker holds it while it renews
    it; another takes it over once ``expires_at`` has passed."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    renewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class JobMark(Base):
    """A thing a job did once and must not do again (a reminder for one issue, to one
    address), so a job run twice or after a crash does no harm."""

    __tablename__ = "job_marks"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
