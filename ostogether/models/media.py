"""Images the service fetched once and keeps (migration 0012): one row per source
address, pointing at the stored copy by its SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ostogether import clock
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
