"""The "issue out" post: after a send, a post on every network for approval, with the
archive link, the subject and the featured projects mentioned."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import Project, SocialPost
from ostogether.newsletter import delivery
from ostogether.social import issue_out, publish, wording
from tests.factories import TEST, add_readers, approved_issue
from tests.feedserver import FeedServer
from tests.social_fakes import FakeNetworks, env_for


def issue_posts(rt: Runtime) -> dict[str, SocialPost]:
    with rt.db.session() as s:
        found = {p.network: p for p in s.scalars(select(SocialPost).where(
            SocialPost.kind == "issue"))}
        s.expunge_all()
    return found


def test_a_sent_issue_plans_one_post_per_network_for_approval(
        rt: Runtime, web: FeedServer, test_clock: clock.FakeClock) -> None:
    with rt.db.session() as s:
        cosmos = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert cosmos is not None
        cosmos.handles = {"x": "cosmos_eu", "bluesky": "cosmos.bsky.social",
                          "linkedin": "12345"}
    add_readers(rt, 3)
    issue = approved_issue(rt, [web.url("/page/0"), web.url("/page/1")])
    assert delivery.send(rt, TEST, issue.id).issue_status == "sent"
    assert issue_posts(rt) == {}
    result = jobs.send_issue(rt, clock.now())
    assert "5 \"issue out\" post(s) planned for approval" in result.summary
    made = issue_posts(rt)
    assert sorted(made) == ["bluesky", "facebook", "linkedin", "mastodon", "x"]
    archive = f"https://ostogether.test/archive/{issue.number}"
    for network, post in made.items():
        assert post.status == "planned"  # an editor approves it
        assert post.link.startswith(archive) and archive in post.text
        assert f"Newsletter #{issue.number}: {issue.snapshot_subject}" in post.text
        assert wording.measure(rt.settings, post.text, network).fits
    assert "@cosmos_eu" in made["x"].text and "LEVERS" in made["x"].text
    assert "@cosmos.bsky.social" in made["bluesky"].text
    assert "COSMOS" in made["linkedin"].text  # the acronym, made a mention when sent
    # Planning again (the next job run) adds nothing.
    assert issue_out.plan(rt, TEST) == []
    jobs.publish_social(rt, clock.now())
    assert len(issue_posts(rt)) == 5
    # An issue sent more than a week ago gets no post any more.
    test_clock.advance(days=8)
    with rt.db.session() as s:
        for p in s.scalars(select(SocialPost).where(SocialPost.kind == "issue")):
            s.delete(p)
    assert issue_out.plan(rt, TEST) == []


def test_the_issue_out_post_mentions_the_projects_on_linkedin_and_bluesky(
        env: dict[str, str], rt: Runtime, web: FeedServer, fake: FakeNetworks,
        test_clock: clock.FakeClock) -> None:
    with rt.db.session() as s:
        cosmos = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert cosmos is not None
        cosmos.handles = {"bluesky": "cosmos.bsky.social", "linkedin": "12345"}
    fake.bluesky_dids["cosmos.bsky.social"] = "did:plc:cosmos"
    add_readers(rt, 2)
    issue = approved_issue(rt, [web.url("/page/0")])
    delivery.send(rt, TEST, issue.id)
    ids = issue_out.plan(rt, TEST)
    live_rt = Runtime(load_settings(environ={**env, **env_for(fake.url)}))
    try:
        with live_rt.db.session() as s:
            for p in s.scalars(select(SocialPost).where(SocialPost.id.in_(ids))):
                p.status, p.slot_at = "approved", clock.now() - dt.timedelta(minutes=1)
        publish.publish_due(live_rt, now=clock.now())
    finally:
        live_rt.close()
    [li] = fake.posted("linkedin")
    assert "@[COSMOS](urn:li:organization:12345)" in li.body["commentary"]
    [bsky] = fake.posted("bluesky")
    assert "news from @cosmos.bsky.social." in bsky.text  # a full stop ends the handle
    features = [f for facet in bsky.body["record"].get("facets", [])
                for f in facet["features"]]
    assert {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:cosmos"} in features

