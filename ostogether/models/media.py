"""Images the service fetched once and keeps (migration 0012): one row per source
address, pointing at the stored copy by its SHA-256; and what a network holds of a post's
picture once it was uploaded (migration 0013)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime


class MediaFile(Base):
    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_url: Mapped[str] = mapped_column(String(2000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    ext: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


class SocialUpload(Base):
    """A picture a network took for a post: its media id, image URN or blob, kept until
    the network forgets an unused upload (``expires_at``), so that a retried post uses
    it instead of uploading again."""

    __tablename__ = "social_uploads"
    __table_args__ = (UniqueConstraint("post_id", "media_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("social_posts.id", ondelete="CASCADE"))
    media_name: Mapped[str] = mapped_column(String(80))
    ref: Mapped[dict[str, Any]] = mapped_column(JSON)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
