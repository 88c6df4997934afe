"""Handles become mentions: X and Mastodon as @handle in the text, Bluesky as a mention
facet with the DID that com.atproto.identity.resolveHandle gives (kept between runs), and
LinkedIn as the mention template of the organisation's URN."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import Project, SocialPost
from ostogether.social import publish, wording
from ostogether.social import text as social_text
from tests.factories import project_id
from tests.social_fakes import FakeNetworks, env_for

NOW = dt.datetime(2026, 11, 23, 9, 0, 5, tzinfo=dt.UTC)
HANDLES = {"x": "@COSMOSproj", "mastodon": "@cosmos@scholar.social",
           "bluesky": "cosmosproject.bsky.social", "linkedin": "5551234"}


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)


@pytest.fixture
def live_rt(env: dict[str, str], fake: FakeNetworks, fill_database: Any) -> Iterator[Runtime]:
    fill_database("imported")
    fake.bluesky_dids["cosmosproject.bsky.social"] = "did:plc:cosmos42"
    rt = Runtime(load_settings(environ={**env, **env_for(fake.url)}))
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert project is not None
        project.handles = HANDLES
    yield rt
    rt.close()


def test_the_mention_each_network_shows(live_rt: Runtime) -> None:
    with live_rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        got = {n: wording.mention(project, n) for n in ("x", "mastodon", "bluesky",
                                                      "linkedin", "facebook")}
    assert got == {"x": "@COSMOSproj", "mastodon": "@cosmos@scholar.social",
                   "bluesky": "@cosmosproject.bsky.social", "linkedin": "COSMOS",
                   "facebook": "COSMOS"}
    # A project without handles is named by its acronym everywhere.
    with live_rt.db.session() as s:
        other = s.scalar(select(Project).where(Project.slug == "levers"))
        assert {wording.mention(other, n) for n in ("x", "bluesky")} == {"LEVERS"}
    assert social_text.linkedin_commentary(
        "New from COSMOS (and COSMOS again): https://ex.org/a_b #OpenSchooling",
        (("COSMOS", "urn:li:organization:555"),)) == (
        "New from @[COSMOS](urn:li:organization:555) \\(and COSMOS again\\): "
        "https://ex.org/a_b {hashtag|\\#|OpenSchooling}")


def test_published_posts_carry_real_mentions(live_rt: Runtime, fake: FakeNetworks) -> None:
    pid = project_id(live_rt, "cosmos")
    texts = {"linkedin": "News from COSMOS: pupils map air quality https://example.org/1",
             "bluesky": "News from @cosmosproject.bsky.social: pupils map air quality "
                        "https://example.org/1",
             "x": "News from @COSMOSproj https://example.org/1"}
    with live_rt.db.session() as s:
        for i, (network, text) in enumerate([*texts.items(), ("bluesky", texts["bluesky"]
                                                              + " #2")]):
            s.add(SocialPost(network=network, status="approved", kind="news",
                             slot_at=NOW - dt.timedelta(minutes=5 - i), project_id=pid,
                             evergreen_key="", title="t", link="https://example.org/1",
                             text=text, idempotency_key=uuid.uuid4().hex))
    assert publish.publish_due(live_rt, now=NOW).outcomes["published"] == 4
    [li] = fake.posted("linkedin")
    assert li.text.startswith("News from @[COSMOS](urn:li:organization:5551234): pupils")
    first, second = fake.posted("bluesky")
    for post in (first, second):
        facets = post.body["record"]["facets"]
        mention = [f for f in facets if f["features"][0]["$type"].endswith("#mention")]
        assert len(mention) == 1 and mention[0]["features"][0]["did"] == "did:plc:cosmos42"
        start, end = mention[0]["index"]["byteStart"], mention[0]["index"]["byteEnd"]
        assert post.text.encode()[start:end] == b"@cosmosproject.bsky.social"
    # Resolved once, then kept.
    asked = [p for p, _, _ in fake.requests if "resolveHandle" in p]
    assert len(asked) == 1
    [x] = fake.posted("x")
    assert x.text == "News from @COSMOSproj https://example.org/1"
