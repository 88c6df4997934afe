"""Social engagement at fixed ages: each network's public counts of a published post, read
in the documented shapes from the loopback fakes at 48 hours, 7 and 28 days, stored as
taken; a missing permission is "not available", never 0."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import PostMetric, SocialPost
from ostogether.reach import reports
from ostogether.social import metrics, publish
from tests.factories import project_id
from tests.social_fakes import FB_VERSION, LI_VERSION, FakeNetworks

NOW = dt.datetime(2026, 11, 23, 9, 0, 5, tzinfo=dt.UTC)
NETWORKS = ("x", "facebook", "linkedin", "mastodon", "bluesky")


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)




def published(rt: Runtime) -> dict[str, int]:
    """One post per network, published at NOW through the fakes; network → post id."""
    pid = project_id(rt, "cosmos")
    with rt.db.session() as s:
        for i, network in enumerate(NETWORKS):
            s.add(SocialPost(network=network, status="approved", kind="news",
                             slot_at=NOW - dt.timedelta(minutes=5), project_id=pid,
                             evergreen_key="", title=f"Post {i}",
                             link=f"https://example.org/{i}",
                             text=f"Post {i} https://example.org/{i}",
                             idempotency_key=uuid.uuid4().hex))
    assert publish.publish_due(rt, now=NOW).outcomes["published"] == 5
    with rt.db.session() as s:
        return {p.network: p.id for p in s.scalars(select(SocialPost))}


def snapshots(rt: Runtime) -> dict[tuple[str, str], PostMetric]:
    with rt.db.session() as s:
        rows = s.execute(select(SocialPost.network, PostMetric).join(
            SocialPost, SocialPost.id == PostMetric.post_id)).all()
        s.expunge_all()
    return {(network, m.age): m for network, m in rows}


def test_each_network_at_48_hours_7_and_28_days(live_rt: Runtime, fake: FakeNetworks,
                                                test_clock: clock.FakeClock) -> None:
    published(live_rt)
    assert metrics.collect(live_rt, NOW + dt.timedelta(hours=47)).taken == 0
    test_clock.set(NOW + dt.timedelta(hours=48, minutes=20))
    run = jobs.run(live_rt, "social_metrics")
    assert run.outcome == "ok" and "5 snapshot(s) taken" in run.summary
    got = snapshots(live_rt)
    assert got["x", "48h"].counts == {"retweet": 1, "reply": 0, "like": 3, "quote": 0,
                                      "bookmark": 1, "impression": 100}
    assert got["facebook", "48h"].counts == {"reactions": 4, "comments": 1, "shares": 1}
    assert got["linkedin", "48h"].counts == {
        "impressions": 80, "unique_impressions": 50, "clicks": 5, "likes": 2, "comments": 1,
        "shares": 1}
    assert got["mastodon", "48h"].counts == {"favourites": 2, "reblogs": 1, "replies": 0}
    assert got["bluesky", "48h"].counts == {"like": 5, "repost": 1, "reply": 0, "quote": 0}
    assert {m.api_version for m in got.values()} == {
        "2", FB_VERSION, LI_VERSION, "v1", "app.bsky.feed.getPosts"}
    taken = NOW + dt.timedelta(hours=48, minutes=20)
    assert all(taken <= m.taken_at < taken + dt.timedelta(minutes=1) for m in got.values())
    # Nothing again before the next age.
    assert metrics.collect(live_rt, NOW + dt.timedelta(days=3)).taken == 0

    for days in (7, 28):
        test_clock.set(NOW + dt.timedelta(days=days, hours=1))
        assert metrics.collect(live_rt).taken == 5
    got = snapshots(live_rt)
    assert got["mastodon", "7d"].counts["favourites"] == 4
    assert got["mastodon", "28d"].counts["favourites"] == 6
    # The 48-hour figures did not drift.
    assert got["mastodon", "48h"].counts["favourites"] == 2
    assert len(got) == 15
    with live_rt.db.session() as s:
        report = reports.visibility(s, "cosmos", NOW.date(), NOW.date())
    x = next(p for p in report.posts if p["network"] == "x")
    assert x["metrics"]["48h"]["counts"]["like"] == 3
    assert x["metrics"]["28d"]["counts"]["like"] == 9


def test_missing_permissions_are_not_available_and_faults_wait(
        live_rt: Runtime, fake: FakeNetworks, test_clock: clock.FakeClock) -> None:
    published(live_rt)
    fake.faults["metrics:linkedin"] = ["403"]
    fake.faults["metrics:facebook"] = ["403"]
    fake.faults["metrics:x"] = ["500"]
    fake.faults["metrics:bluesky"] = ["429"]
    test_clock.set(NOW + dt.timedelta(hours=49))
    report = metrics.collect(live_rt)
    assert (report.taken, report.unavailable, report.later) == (1, 2, 2)
    got = snapshots(live_rt)
    assert not got["linkedin", "48h"].available and got["linkedin", "48h"].counts == {}
    assert "Not enough permissions" in got["linkedin", "48h"].note
    assert "pages_read_engagement" in got["facebook", "48h"].note
    assert ("x", "48h") not in got and ("bluesky", "48h") not in got
    # The next run takes what waited, and leaves what was taken.
    report = metrics.collect(live_rt)
    assert (report.taken, report.unavailable, report.later) == (2, 0, 0)
    with live_rt.db.session() as s:
        report_ = reports.visibility(s, "cosmos", NOW.date(), NOW.date())
    li = next(p for p in report_.posts if p["network"] == "linkedin")
    assert li["metrics"]["48h"]["available"] is False
    assert li["metrics"]["7d"] is None


def test_dry_run_posts_have_no_figures(rt: Runtime, test_clock: clock.FakeClock) -> None:
    with rt.db.session() as s:
        s.add(SocialPost(network="x", status="approved", kind="reading",
                         slot_at=NOW - dt.timedelta(minutes=1), evergreen_key="t",
                         title="t", link="https://example.org/", text="t",
                         idempotency_key=uuid.uuid4().hex))
    assert publish.publish_due(rt, now=NOW).outcomes["published"] == 1
    test_clock.set(NOW + dt.timedelta(days=3))
    assert metrics.due(rt, clock.now()) == []
    assert jobs.run(rt, "social_metrics").outcome == "skipped"
