"""What the home page shows of the community's life: the latest sent issue, the latest
news the editors let out, and the events to come, as plain values that a web process can
keep and compare.

The home page's content is kept by each web process (``web/cache.py``, ``fragment``) for
as long as what it shows is the same: its key holds the ``Front`` itself, so a change
shows at the next request. The rows are read again only after a commit, where the
database has a change signal (``Database.until_commit``). Which events are still to come
is decided at every request, because time passes without any commit: an event that has
ended leaves the page at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, Project
from ostogether.newsletter import archive
from ostogether.registry.projects import PUBLIC_STATUSES

NEWS_SHOWN = 4
EVENTS_SHOWN = 4
# Events read ahead, so that the page need not ask again each time one of them ends.
EVENTS_READ = 20
LET_OUT = ("approved", "published")


@dataclass(frozen=True)
class IssueLine:
    number: int
    subject: str
    sent: dt.date  # in the community's zone


@dataclass(frozen=True)
class NewsLine:
    title: str
    link: str
    kind: str
    acronym: str
    slug: str
    published: dt.date  # in the community's zone


@dataclass(frozen=True)
class EventLine:
    title: str
    link: str
    acronym: str
    slug: str
    start: dt.datetime  # in the community's zone
    end: dt.datetime | None  # in the community's zone
    place: str
    until: dt.datetime  # UTC: its end, or its start when it has none

    def when(self) -> str:
        """"Tue 3 March 2026, 14:00 CET", with the end when there is one."""
        start = self.start
        text = f"{start:%a} {start.day} {start:%B %Y, %H:%M} {start.tzname()}"
        if self.end is not None:
            end = self.end
            text += (f" – {end:%H:%M}" if end.date() == start.date()
                     else f" – {end:%a} {end.day} {end:%B %Y, %H:%M}")
        return text


@dataclass(frozen=True)
class Front:
    """What the home page shows; equal when the page would be the same."""

    issue: IssueLine | None
    news: tuple[NewsLine, ...]
    events: tuple[EventLine, ...]


@dataclass(frozen=True)
class _Read:
    issue: IssueLine | None
    news: tuple[NewsLine, ...]
    events: tuple[EventLine, ...]  # not ended when read, soonest first
    more_events: bool  # EVENTS_READ were read: more may be behind them


def front(rt: Runtime, now: dt.datetime | None = None) -> Front:
    """The home page's latest issue, news and events to come, at ``now``."""
    now = now or clock.now()
    zone = rt.community.schedule().zone
    read = rt.db.until_commit(("front", zone.key), lambda: _read(rt, zone, now))
    events = [e for e in read.events if e.until >= now]
    if len(events) < EVENTS_SHOWN and read.more_events and len(events) < len(read.events):
        # Some of those read have ended since, and others may come after them.
        read = _read(rt, zone, now)
        events = [e for e in read.events if e.until >= now]
    return Front(read.issue, read.news, tuple(events[:EVENTS_SHOWN]))


def _read(rt: Runtime, zone: dt.tzinfo, now: dt.datetime) -> _Read:
    with rt.db.session() as s:
        latest = archive.sent_issues(s, 1, announcements=False)
        issue = None
        if latest and (number := latest[0].number) is not None:  # a sent one keeps it
            i = latest[0]
            sent = i.sent_at or i.send_at
            issue = IssueLine(number, i.snapshot_subject or i.subject,
                              sent.astimezone(zone).date())
        news = tuple(
            NewsLine(item.title, item.link, item.kind, item.project.acronym,
                     item.project.slug, item.created_at.astimezone(zone).date())
            for item in s.scalars(
                select(NewsItem).join(Project).options(selectinload(NewsItem.project))
                .where(NewsItem.status.in_(LET_OUT), NewsItem.kind != "event",
                       Project.status.in_(PUBLIC_STATUSES))
                .order_by(NewsItem.created_at.desc(), NewsItem.id.desc())
                .limit(NEWS_SHOWN)))
        events = []
        rows = archive.upcoming_events(s, now, EVENTS_READ)
        for item in rows:
            if item.event_start is None or item.project.status not in PUBLIC_STATUSES:
                continue
            end = item.event_end
            events.append(EventLine(
                item.title, item.registration_url or item.link, item.project.acronym,
                item.project.slug, item.event_start.astimezone(zone),
                end.astimezone(zone) if end else None,
                item.event_location or ("Online" if item.event_online else ""),
                end or item.event_start))
    return _Read(issue, news, tuple(events), len(rows) >= EVENTS_READ)
