"""The reach figures (migration 0011): clicks per (issue, item, day), the day's visits
that count each visitor once (0016), archive views per (issue, day), the readers each
project brought (0016), social metrics at fixed ages;
and the last DNS check of the sending domain (0010). Tables point at the core ones by
name only, so this module needs nothing but the base."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostogether.core import clock
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


class ReachVisit(Base):
    """One visitor's click on one link, view of one issue or hit on the trap, on one day
    (migration 0016): there to count each at most once a day, and to let a trap hit or a
    burst take back that visitor's own. ``visitor`` is a keyed hash of the address and
    user agent whose key is made from the secret key and the day and never stored
    (``ostogether.newsletter.clicks.visitor``); rows of a past day are deleted. The unique key, day
    and visitor first, is the index every hit's lookups use."""

    __tablename__ = "reach_visits"
    __table_args__ = (UniqueConstraint("day", "visitor", "kind", "issue_id", "item_id",
                                       name="uq_reach_visits_day_visitor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    visitor: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(5))  # click, view, trap
    issue_id: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(Integer, default=0)  # 0: a view, or the trap
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    counted: Mapped[bool] = mapped_column(Boolean, default=False)


class ReaderCredit(Base):
    """The member project that brought a new reader (migration 0016): written once per
    address, when a sign-up through the project's own form (its signed token) is
    confirmed by an address that was never a reader before."""

    __tablename__ = "reader_credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)


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
