"""Each published post's public counts, taken at fixed ages (48 hours, 7 days, 28 days)
by the ``social_metrics`` job, and stored as taken, with the API version that answered.

A snapshot is never taken again or changed, so a figure quoted in a periodic report
stays what it was. A network that refuses the figures (a missing permission) gives a
snapshot marked "not available", never 0; a transient failure (429, 5xx, no connection)
leaves the age for the next run. A snapshot taken late (the worker was down) keeps the
time it was really taken. Dry-run posts have no figures.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.edges.runtime import Runtime
from ostogether.models import PostMetric, SocialPost
from ostogether.social.publish import publishers
from ostogether.social.publishers.base import Metrics, Publisher

log = logging.getLogger(__name__)

AGES = {"48h": dt.timedelta(hours=48), "7d": dt.timedelta(days=7),
        "28d": dt.timedelta(days=28)}
# An age missed by more than this (the worker was off for weeks) is not taken any more:
# the figure would not be the one of that age.
LATE = dt.timedelta(days=7)


@dataclass
class MetricsReport:
    taken: int = 0
    unavailable: int = 0
    later: int = 0
    lines: list[str] = field(default_factory=list)


def due(rt: Runtime, now: dt.datetime) -> list[tuple[int, str, str, str]]:
    """(post id, network, remote id, age) of every snapshot whose time has come."""
    oldest = now - max(AGES.values()) - LATE
    with rt.db.session() as s:
        posts = s.execute(select(SocialPost.id, SocialPost.network, SocialPost.remote_id,
                                 SocialPost.published_at).where(
            SocialPost.status == "published", SocialPost.published_at >= oldest,
            SocialPost.remote_id != "").order_by(SocialPost.published_at)).all()
        taken = set(s.execute(select(PostMetric.post_id, PostMetric.age).where(
            PostMetric.post_id.in_([p[0] for p in posts]))).all()) if posts else set()
    out = []
    for post_id, network, remote_id, published in posts:
        if remote_id.startswith("dryrun:") or published is None:
            continue
        for age, delta in AGES.items():
            when: dt.datetime = published + delta
            if when <= now < when + LATE and (post_id, age) not in taken:
                out.append((post_id, network, remote_id, age))
    return out


def collect(rt: Runtime, now: dt.datetime | None = None,
            publisher_for: Callable[[str], Publisher] | None = None) -> MetricsReport:
    now = now or clock.now()
    report = MetricsReport()
    publisher = publishers(rt, publisher_for)

    for post_id, network, remote_id, age in due(rt, now):
        try:
            got: Metrics = publisher(network).metrics(remote_id)
        except (PublishRetry, PublishUnknown) as exc:
            report.later += 1
            report.lines.append(f"post {post_id} ({network}) at {age}: later: {exc}")
            continue
        except PublishRejected as exc:
            got = Metrics(False, {}, "", str(exc)[:300])
        try:
            with rt.db.session() as s:
                s.add(PostMetric(post_id=post_id, age=age, taken_at=clock.now(),
                                 api_version=got.api_version, available=got.available,
                                 counts=got.counts, note=got.note))
        except IntegrityError:  # another run took it at the same moment: keep that one
            continue
        if got.available:
            report.taken += 1
        else:
            report.unavailable += 1
        report.lines.append(f"post {post_id} ({network}) at {age}: "
                            + (", ".join(f"{k} {v}" for k, v in got.counts.items())
                               if got.available else f"not available ({got.note})"))
        log.info("social metrics of post %s at %s", post_id, age,
                 extra={"event": "social.metrics", "post": post_id, "network": network,
                        "age": age, "available": got.available})
    return report


def labels() -> dict[str, str]:
    """The names of the figures the networks give (the keys of ``Metrics.counts``), as
    the page's language says them beside a count ("like 3", "j’aime 3"); a key not
    named here is shown as it is."""
    return {"like": pgettext("social metric", "like"),
            "likes": pgettext("social metric", "likes"),
            "repost": pgettext("social metric", "repost"),
            "retweet": pgettext("social metric", "retweet"),
            "reply": pgettext("social metric", "reply"),
            "replies": pgettext("social metric", "replies"),
            "quote": pgettext("social metric", "quote"),
            "favourites": pgettext("social metric", "favourites"),
            "reblogs": pgettext("social metric", "reblogs"),
            "bookmark": pgettext("social metric", "bookmark"),
            "impression": pgettext("social metric", "impression"),
            "impressions": pgettext("social metric", "impressions"),
            "unique_impressions": pgettext("social metric", "unique impressions"),
            "clicks": pgettext("social metric", "clicks"),
            "comments": pgettext("social metric", "comments"),
            "shares": pgettext("social metric", "shares"),
            "reactions": pgettext("social metric", "reactions")}


def of_posts(s: Session, post_ids: list[int]) -> dict[int, dict[str, PostMetric]]:
    """post id → age → its snapshot."""
    if not post_ids:
        return {}
    rows = list(s.scalars(select(PostMetric).where(PostMetric.post_id.in_(post_ids))))
    out: dict[int, dict[str, PostMetric]] = {}
    for r in rows:
        out.setdefault(r.post_id, {})[r.age] = r
    return out
