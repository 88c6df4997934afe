"""The social posts and the networks' kept sessions (migration 0006); what
``ostogether.social`` works on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime
from ostogether.models.news import NewsItem
from ostogether.models.registry import Project


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
