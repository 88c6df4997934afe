"""SQLAlchemy 2 typed models.

Projects (members, alumni and applicants), user accounts, the audit log and the
rate-limit ledger (migration 0001); news items, API tokens and feeds (0002); newsletter
issues, their items and the link-check cache (0003); subscribers, the consent log and
the suppression list (0004); the delivery ledger and its workers (0005). The reach
figures and the domain check (0010, 0011) are in ``ostogether.models.reach``, the imports
uploaded on the editors' page (0018) in ``ostogether.models.imports``, the base
and the UTC type in ``ostogether.models.base``; all are importable from here. The states
every stateful model may take are fixed in ``ostogether.core.states``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.core.states import EDITOR_ROLES
from ostogether.models.base import MAX_ID, NAMING, Base, UTCDateTime, id_or_none, lookup
from ostogether.models.imports import ImportLine, ImportRun
from ostogether.models.media import MediaFile, SocialUpload
from ostogether.models.reach import (
    ArchiveView,
    ClickCount,
    DomainCheck,
    PostMetric,
    ReachVisit,
    ReaderCredit,
)

__all__ = ["MAX_ID", "NAMING", "ArchiveView", "Base", "ClickCount", "DomainCheck",
           "ImportLine", "ImportRun", "MediaFile", "PostMetric", "ReachVisit",
           "ReaderCredit", "SocialUpload", "UTCDateTime", "id_or_none", "lookup"]


class Project(Base):
    """A member project, an alumnus, or an application to join.

    Projects from content/projects/ have ``source="content"``; applications made through
    the web form have ``source="application"`` and keep the applicant's declarations.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20), default="content")

    acronym: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="")
    initiative_type: Mapped[str] = mapped_column(String(40), default="")
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)

    programme: Mapped[str] = mapped_column(String(120), default="")
    call: Mapped[str] = mapped_column(String(200), default="")
    grant_number: Mapped[str] = mapped_column(String(40), default="")
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    coordinator: Mapped[str] = mapped_column(String(400), default="")

    website: Mapped[str] = mapped_column(String(500), default="")
    feed_url: Mapped[str] = mapped_column(String(500), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    handles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Handles a member of the project asked for, waiting for an editor (migration 0013).
    proposed_handles: Mapped[dict[str, str] | None] = mapped_column(JSON)

    # The kept picture (``media.py``): ``<sha256>.<ext>``, served at /media/<name>.
    logo: Mapped[str] = mapped_column(String(80), default="", server_default="")

    non_commercial: Mapped[bool | None] = mapped_column(Boolean)
    coc_version: Mapped[str] = mapped_column(String(40), default="")
    coc_accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # use_alter: users and projects point at each other; this one is added last.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(
        "users.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)
    # One more at every change, in the UPDATE itself (migration 0014): with the count and
    # the highest id, it tells a web process that its copy of the registry is out of
    # date (``projects.public_listing``), even when two changes share a timestamp.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                          onupdate=literal_column("revision + 1"))

    # What editors changed in the browser since the project's file last agreed (field →
    # who and when), and the file's values as last imported (migration 0016): the import
    # reports a conflict instead of overwriting a browser edit (``projects.import_content``).
    web_edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Project {self.slug} {self.status}>"


class User(Base):
    """A person who logs in: an admin, an editor, or a member of one project."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id",
                                                              ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Part of what the session cookie names (``get_id``): a new key ends every session
    # made before it (logout, password change or reset, an admin's "end sessions").
    session_key: Mapped[str] = mapped_column(String(32), default="", server_default="")

    project: Mapped[Project | None] = relationship(foreign_keys=[project_id])

    @property
    def is_editor(self) -> bool:
        """An editor, or an admin: every editor's right is an admin's too."""
        return self.role in EDITOR_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    # The four members Flask-Login expects of a user object (no Flask import needed).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"


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


class NewsItem(Base):
    """One piece of news from a member project, whichever door it came through.

    ``dedupe_key`` is the SHA-256 of the normalised link while the item counts as a
    duplicate; it is cleared when the submitter withdraws the item, so the link may be sent
    again. The database enforces the uniqueness, so two doors racing cannot both win.
    """

    __tablename__ = "news_items"
    __table_args__ = (
        UniqueConstraint("project_id", "dedupe_key", name="uq_news_items_project_link"),
        Index("ix_news_items_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    source: Mapped[str] = mapped_column(String(10))  # web, api, feed
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    summary_md: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(2000))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    image_url: Mapped[str] = mapped_column(String(2000), default="")
    image_alt: Mapped[str] = mapped_column(String(400), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    sdgs: Mapped[list[int]] = mapped_column(JSON, default=list)
    for_newsletter: Mapped[bool] = mapped_column(Boolean, default=True)
    for_social: Mapped[bool] = mapped_column(Boolean, default=True)

    event_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    event_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    event_timezone: Mapped[str] = mapped_column(String(64), default="")
    event_location: Mapped[str] = mapped_column(String(300), default="")
    event_online: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_url: Mapped[str] = mapped_column(String(2000), default="")

    # Where it came from: the account, the token, or the feed entry.
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id",
                                                            ondelete="SET NULL"))
    feed_entry_id: Mapped[str] = mapped_column(String(2000), default="")
    # Sent again after a rejection: the rejected item it corrects (migration 0009).
    resubmits_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id",
                                                                ondelete="SET NULL"))
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    reject_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    project: Mapped[Project] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    token: Mapped[ApiToken | None] = relationship()

    def local_start(self) -> dt.datetime | None:
        """An event's start in the event's own zone, as its readers will see it."""
        if self.event_start is None:
            return None
        return self.event_start.astimezone(ZoneInfo(self.event_timezone or "UTC"))

    def __repr__(self) -> str:
        return f"<NewsItem {self.id} {self.kind} {self.status}>"


class ApiToken(Base):
    """A bearer token of one project. Only the SHA-256 of the secret is kept.

    The secret has 256 bits of entropy, so a fast hash is enough: a slow password hash
    would only slow down every API call without making a guess any likelier.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()


class Feed(Base):
    """The polling state of one project's RSS or Atom feed."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            unique=True)
    url: Mapped[str] = mapped_column(String(2000))
    origin: Mapped[str] = mapped_column(String(20), default="content")  # content, discovered
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    etag: Mapped[str] = mapped_column(String(400), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str] = mapped_column(String(20), default="")  # new, unchanged, failed
    last_error: Mapped[str] = mapped_column(Text, default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    items_created: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    project: Mapped[Project] = relationship()


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

    entries: Mapped[list[IssueItem]] = relationship(
        back_populates="issue", cascade="all, delete-orphan",
        order_by="(IssueItem.section_order, IssueItem.position)")

    def __repr__(self) -> str:
        return f"<Issue #{self.number} {self.status}>"


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


class Subscriber(Base):
    """A newsletter reader (migration 0004). States: ``ostogether.core.states.SUBSCRIBER``.

    ``email_hash`` is the SHA-256 of the lower-cased address. Erasing clears the address
    and the hash from this row (which stays, so delivery counts keep their subscriber);
    the hash lives on in the consent log and the suppression list. ``link_nonce`` is part
    of every signed link in the reader's mails; erasing changes it, so old links die.
    """

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    link_nonce: Mapped[str] = mapped_column(String(32))
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)


class ConsentEvent(Base):
    """One row of the consent log: the proof of what a reader agreed to, when and how."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    # subscribe, confirm, import, preferences, unsubscribe, erase
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40))  # form, link, one-click, import, admin
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    consent_version: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Suppression(Base):
    """An address that must never be mailed again unless its owner signs up anew."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # erased, bounced, unsubscribed, cleaned
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Migration 0010: where the entry came from ("mailchimp" for an imported unsubscribe
    # or cleaned address; empty for the service's own) and the reason given there.
    source: Mapped[str] = mapped_column(String(40), default="", server_default="")
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")


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


class SocialPost(Base):
    """One post to one network in one slot (migration 0006). States:
    ``ostogether.core.states.SOCIAL_POST``.

    A post carries either a news item or an entry of the evergreen library
    (``evergreen_key``, the file's name under content/social/). The database refuses a
    second live post of the same item to the same network, and two live posts in the
    same network's slot; a skipped post frees both.
    """

    __tablename__ = "social_posts"
    __table_args__ = (
        Index("uq_social_posts_item_network", "item_id", "network", unique=True,
              sqlite_where=sql_text("status != 'skipped' AND item_id IS NOT NULL"),
              postgresql_where=sql_text("status != 'skipped' AND item_id IS NOT NULL")),
        Index("uq_social_posts_slot_network", "network", "slot_at", unique=True,
              sqlite_where=sql_text("status != 'skipped'"),
              postgresql_where=sql_text("status != 'skipped'")),
        Index("ix_social_posts_status_slot", "status", "slot_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    slot_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("news_items.id",
                                                           ondelete="SET NULL"))
    evergreen_key: Mapped[str] = mapped_column(String(120), default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id",
                                                              ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(2000), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    image_url: Mapped[str] = mapped_column(String(2000), default="")
    image_alt: Mapped[str] = mapped_column(String(1000), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Kept when the post is approved (migration 0013): the picture as stored under
    # media_dir ("<sha256>.<ext>"), and the link's card read from the page's Open Graph
    # tags ({"title", "description", "image", "warning"}).
    media_name: Mapped[str] = mapped_column(String(80), default="")
    card: Mapped[dict[str, str] | None] = mapped_column(JSON)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Sent as Mastodon's Idempotency-Key, so a post an editor re-approves is not doubled.
    idempotency_key: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[str] = mapped_column(String(300), default="")
    remote_url: Mapped[str] = mapped_column(String(2000), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    hint: Mapped[str] = mapped_column(String(300), default="")

    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    item: Mapped[NewsItem | None] = relationship()
    project: Mapped[Project | None] = relationship()

    def __repr__(self) -> str:
        return f"<SocialPost {self.id} {self.network} {self.status}>"


class SocialSession(Base):
    """A network's login kept between runs (Bluesky's session tokens), so each publish
    does not log in again; the network limits logins per day."""

    __tablename__ = "social_sessions"

    network: Mapped[str] = mapped_column(String(20), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)


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
