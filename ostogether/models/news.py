"""News items from every door and the projects' feeds (migration 0002); what
``ostogether.news`` works on."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime
from ostogether.models.registry import ApiToken, Project, User


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
    # Migration 0024: vocabulary keys (content/topics.toml) that readers' choices match;
    # topics default to the project's themes, audiences to none (an item for everyone).
    topics: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
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
    # Migration 0019: the item in other languages; reviewed and approved with it.
    translations: Mapped[list[NewsItemTranslation]] = relationship(
        back_populates="item", cascade="all, delete-orphan",
        order_by="NewsItemTranslation.language")

    def in_language(self, language: str) -> NewsItemTranslation | None:
        """The translation into ``language``, if the item has one."""
        return next((t for t in self.translations if t.language == language), None)

    def local_start(self) -> dt.datetime | None:
        """An event's start in the event's own zone, as its readers will see it."""
        if self.event_start is None:
            return None
        return self.event_start.astimezone(ZoneInfo(self.event_timezone or "UTC"))

    def __repr__(self) -> str:
        return f"<NewsItem {self.id} {self.kind} {self.status}>"


class NewsItemTranslation(Base):
    """An item's title and summary (and link, when the page exists in that language) in
    another language than its own (migration 0019). Validated and cleaned as the item's own
    fields are; one per item and language."""

    __tablename__ = "news_item_translations"
    __table_args__ = (UniqueConstraint("item_id", "language",
                                       name="uq_news_item_translations_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("news_items.id", ondelete="CASCADE"),
                                         index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    summary_md: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(2000), default="")  # empty: the item's own
    source: Mapped[str] = mapped_column(String(10), default="web")  # web, api, feed, editor
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[NewsItem] = relationship(back_populates="translations")


class Feed(Base):
    """The polling state of one project's RSS or Atom feed."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One row per feed of a project: its main one (language "") and one per language it
    # gives a feed in (``Project.feeds``; migration 0025).
    __table_args__ = (UniqueConstraint("project_id", "language",
                                       name="uq_feeds_project_id_language"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
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
