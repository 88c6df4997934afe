"""Imports uploaded on the editors' page (migration 0018): one row per uploaded file, with
its dry run's report and, once applied in the worker, its progress and result; and the
report's lines, a row each, so that a report of thousands of lines is read a page at a
time. The file itself is kept under ``var_dir/imports/`` (``stored`` names it) until it
is applied or discarded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime


class ImportRun(Base):
    """One uploaded file: readers (Mailchimp's export or a CSV), past issues (a zip with
    issues.toml) or members (Wild Apricot's contacts). Its status follows
    ``states.IMPORT``: checking → checked (or refused) → queued → running → done |
    failed."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="checking", index=True)
    file_name: Mapped[str] = mapped_column(String(255))  # as it was on the editor's computer
    stored: Mapped[str] = mapped_column(String(80), default="")  # under var_dir/imports/
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the dry run's
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # once applied
    error: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows written so far
    total: Mapped[int] = mapped_column(Integer, default=0)  # of this many
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    applied_by: Mapped[str] = mapped_column(String(200), default="")
    applied_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set when a worker takes the check or the import, renewed with each step of
    # progress: one not heard of for long belongs to a worker that stopped.
    heard_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ImportLine(Base):
    """One line of an import's report: a line of the file left out (and why), a warning,
    a contact and the project it goes to, an issue and what happens to it. ``phase`` is
    "check" for the dry run and "result" for what applying it did."""

    __tablename__ = "import_lines"
    __table_args__ = (Index("ix_import_lines_run", "import_id", "phase", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(255), default="")
    line: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(400), default="")  # an address, an issue
    detail: Mapped[str] = mapped_column(String(600), default="")  # a name, a subject
    context: Mapped[str] = mapped_column(String(400), default="")  # the organisation
    target: Mapped[str] = mapped_column(String(400), default="")  # the project it goes to
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    warning: Mapped[str] = mapped_column(Text, default="")
