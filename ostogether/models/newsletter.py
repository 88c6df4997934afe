"""The newsletter's tables: issues, their items and the pre-flight's link-check
cache (migration 0003), and the delivery ledger with its workers (0005); what
``ostogether.newsletter`` works on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sql_false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime
from ostogether.models.news import NewsItem


class Issue(Base):
    """One newsletter issue, from draft to sent (migration 0003).

    ``number`` is what readers see ("#12"); a cancelled issue gives its number back, so the
    archive has no gaps. Approving freezes the exact subject, preheader, HTML and text into
    the ``snapshot_*`` columns: sending uses them and never renders again.
    """

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    intro_md: Mapped[str] = mapped_column(Text, default="")
    intro_html: Mapped[str] = mapped_column(Text, default="")
    send_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # What composing left out and why: [[item id, reason], ...], shown to the editor.
    left_out: Mapped[list[Any]] = mapped_column(JSON, default=list)

    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))
    approved_by_label: Mapped[str] = mapped_column(String(200), default="")
    snapshot_subject: Mapped[str] = mapped_column(String(300), default="")
    snapshot_preheader: Mapped[str] = mapped_column(String(300), default="")
    snapshot_html: Mapped[str] = mapped_column(Text, default="")
    snapshot_text: Mapped[str] = mapped_column(Text, default="")
    snapshot_sha256: Mapped[str] = mapped_column(String(64), default="")

    # The send (``ostogether.newsletter.delivery``): running, paused or cancelled while the
    # issue is ``sending``; "done" after. ``send_note`` says why it paused.
    send_state: Mapped[str] = mapped_column(String(20), default="")
    send_note: Mapped[str] = mapped_column(String(500), default="")
    send_resume_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    send_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    send_recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Rows found in ``sending`` after a crash and sent again (or held, by the setting).
    send_resent: Mapped[int] = mapped_column(Integer, default=0)
    send_held: Mapped[int] = mapped_column(Integer, default=0)

    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Migration 0010: the file an issue of the old archive came from (``archive import``);
    # empty for an issue composed here.
    imported_from: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    # Migration 0019: which of subject, preheader and intro are "the same for every
    # language" (the issue's own text goes to every reader).
    same_texts: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Migration 0022: the ids of the library's outputs in its "From the library"
    # section, in order (a sent issue's are never featured again).
    library_outputs: Mapped[list[int]] = mapped_column(JSON, default=list,
                                                       server_default="[]")
    # Migration 0024: "issue", or "announcement": a one-off mail to a segment of the
    # readers (``segment``: topics, audiences, languages, countries; empty is everyone).
    kind: Mapped[str] = mapped_column(String(20), default="issue", server_default="issue")
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    entries: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", cascade="all, delete-orphan",
        order_by="(IssueItem.section_order, IssueItem.position)")
    texts: Mapped[list[IssueText]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="IssueText.language")
    snapshots: Mapped[list[IssueSnapshot]] = relationship(
        back_populates="issue", cascade="all, delete-orphan",
        order_by="IssueSnapshot.language")

    @property
    def announcement(self) -> bool:
        """A one-off mail to a segment, not an issue of the newsletter."""
        return self.kind == "announcement"

    @property
    def label(self) -> str:
        """How editors' pages and the CLI name it: "issue #12"; an announcement has its
        own numbering, stored negated in ``number`` so that it never takes an issue's
        (announcement A3 is -3); a cancelled one gave its number back."""
        if self.number is None:
            return f"{'announcement' if self.announcement else 'issue'} (cancelled)"
        if self.number < 0:
            return f"announcement A{-self.number}"
        return f"issue #{self.number}"

    def __repr__(self) -> str:
        return f"<Issue #{self.number} {self.status}>"


class IssueText(Base):
    """An issue's subject, preheader and editorial in one language other than the
    community's (migration 0019). An empty field is not written: the reader gets the
    default of that language (the templates' automatic line; the issue's own editorial,
    marked with its language)."""

    __tablename__ = "issue_texts"
    __table_args__ = (UniqueConstraint("issue_id", "language",
                                       name="uq_issue_texts_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    intro_md: Mapped[str] = mapped_column(Text, default="")
    intro_html: Mapped[str] = mapped_column(Text, default="")

    issue: Mapped[Issue] = relationship(back_populates="texts")


class IssueSnapshot(Base):
    """One language's version of an approved issue, frozen with the approval as the
    ``snapshot_*`` columns of the issue hold the community's own language (migration
    0019). Sending uses it and never renders again."""

    __tablename__ = "issue_snapshots"
    __table_args__ = (UniqueConstraint("issue_id", "language",
                                       name="uq_issue_snapshots_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300), default="")
    preheader: Mapped[str] = mapped_column(String(300), default="")
    html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")

    issue: Mapped[Issue] = relationship(back_populates="snapshots")


class IssueItem(Base):
    """One item's place in an issue: its section and position."""

    __tablename__ = "issue_items"
    __table_args__ = (UniqueConstraint("issue_id", "item_id", name="uq_issue_items_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"),
                                         index=True)
    section: Mapped[str] = mapped_column(String(40))
    # The section's index in content/newsletter.toml when placed; orders the sections.
    section_order: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    added_by: Mapped[str] = mapped_column(String(20), default="compose")  # compose, editor
    # Migration 0024: every reader gets this item, whatever they chose (none by default).
    for_everyone: Mapped[bool] = mapped_column(Boolean, default=False,
                                               server_default=sql_false())

    issue: Mapped[Issue] = relationship(back_populates="entries")
    item: Mapped[NewsItem] = relationship()


class LinkCheck(Base):
    """The last answer of one URL to the pre-flight link check (a day's cache)."""

    __tablename__ = "link_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    outcome: Mapped[str] = mapped_column(String(10))  # ok, warn, fail
    status_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")


class Delivery(Base):
    """One issue to one reader: a row of the ledger, frozen when the send starts
    (migration 0005). States: ``ostogether.core.states.DELIVERY``.

    The row points at the subscriber, never at the address: an erased reader's rows
    stay, so an issue's counts stay true without keeping anyone's address.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("issue_id", "subscriber_id",
                                       name="uq_deliveries_recipient"),
                      Index("ix_deliveries_issue_status", "issue_id", "status"),
                      # Migration 0015: the rows still to send, in the order they are
                      # claimed (the claim's literal 'queued' lets the planner use it).
                      # PostgreSQL only: SQLite keeps no dead entries in
                      # ix_deliveries_issue_status, whose 'queued' range is this index.
                      Index("ix_deliveries_queued", "issue_id", "id",
                            postgresql_where=sql_text("status = 'queued'"),
                            info={"only": "postgresql"}).ddl_if(dialect="postgresql"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str] = mapped_column(String(250), default="")
    # The last SMTP reply or DSN status that mattered, e.g. "550 5.1.1 user unknown".
    last_error: Mapped[str] = mapped_column(String(500), default="")
    resent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Migration 0019: the language of the version this reader gets (frozen at send start).
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # Migration 0024: the ids of the items this reader's mail held, comma-separated and in
    # the issue's order ("" none, only the editorial), written when sent; NULL for the
    # sends before readers chose (every item).
    items: Mapped[str | None] = mapped_column(String(2000))


class DeliveryWorker(Base):
    """A process sending an issue. Its heartbeat tells a resuming process whether rows
    this worker left in ``sending`` are still in flight or were orphaned by a crash."""

    __tablename__ = "delivery_workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"),
                                          index=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
