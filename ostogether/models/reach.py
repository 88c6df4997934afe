"""The reach figures (migration 0011): clicks per (issue, item, day), the hour of recent
hits that spots scanners, archive views per (issue, day), social metrics at fixed ages;
and the last DNS check of the sending domain (0010). Tables point at the core ones by
name only, so this module needs nothing but the base."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostogether import clock
from ostogether.models.base import Base, UTCDateTime


class DomainCheck(Base):
    """The last check of the sending domain in DNS (``mail check-domain``, migration 0010):
    its SPF, DKIM and DMARC findings, which the pre-flight shows."""

    __tablename__ = "domain_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    status: Mapped[str] = mapped_column(String(10))  # pass, warn, fail
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)




class ClickCount(Base):
    """Clicks on one item's link in one issue on one day: never who clicked."""

    __tablename__ = "click_counts"
    __table_args__ = (UniqueConstraint("issue_id", "item_id", "day",
                                       name="uq_click_counts_issue_item_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class ClickEvent(Base):
    """A recent hit on a tracked link, kept for an hour to spot scanners: the network it
    came from is a salted hash of its /24 (IPv4) or /48 (IPv6), renewed daily."""

    __tablename__ = "click_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    issue_id: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(Integer)  # 0: the trap link
    network: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)


class ArchiveView(Base):
    """Views of one issue's web version on one day, counted on the server, no cookie."""

    __tablename__ = "archive_views"
    __table_args__ = (UniqueConstraint("issue_id", "day", name="uq_archive_views_issue_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    views: Mapped[int] = mapped_column(Integer, default=0)


class PostMetric(Base):
    """A published post's public counts at one age (48h, 7d, 28d), stored as taken, with
    the API that answered: a figure in a report never changes afterwards."""

    __tablename__ = "post_metrics"
    __table_args__ = (UniqueConstraint("post_id", "age", name="uq_post_metrics_post_age"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("social_posts.id", ondelete="CASCADE"))
    age: Mapped[str] = mapped_column(String(4))  # 48h, 7d, 28d
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    api_version: Mapped[str] = mapped_column(String(40), default="")
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(300), default="")
