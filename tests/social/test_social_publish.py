"""Publishing once and only once: the claim before the request, retries only for clear
failures, unknown outcomes left for editors, stale claims, and 1,000 publishes with
injected faults against the loopback fake networks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost, SocialUpload
from ostogether.social import posts as social
from ostogether.social import publish
from tests.conftest import social_posts
from tests.factories import TEST
from tests.feedserver import picture
from tests.social_fakes import FakeNetworks, env_for

NOW = dt.datetime(2026, 11, 23, 9, 0, 5, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    """These tests run on NOW, whatever the machine's date."""
    test_clock.set(NOW)
NETWORKS = ("x", "facebook", "linkedin", "mastodon", "bluesky")


# A prompt answer gets 10 s: a loaded machine has taken over 1 s to answer on loopback,
# and a test that expects an exact outcome then saw a timeout. The tests that inject a
# "timeout" fault (an answer the fake holds until it closes) give up sooner, through
# parametrize("read_timeout", ...).
@pytest.fixture
def read_timeout() -> float:
    return 10.0


@pytest.fixture
def live_rt(env: dict[str, str], fake: FakeNetworks, fill_database: Any,
            read_timeout: float) -> Iterator[Runtime]:
    """A runtime whose five networks point at the fake, with short timeouts."""
    fill_database("imported")
    rt = Runtime(load_settings(environ={
        **env, **env_for(fake.url), "OSTOGETHER_SOCIAL_READ_TIMEOUT": str(read_timeout),
        "OSTOGETHER_SOCIAL_CONNECT_TIMEOUT": "5", "OSTOGETHER_SOCIAL_MAX_ATTEMPTS": "4"}))
    yield rt
    rt.close()


def kept_picture(rt: Runtime) -> str:
    """A picture as approval keeps it under media_dir; its stored name."""
    data = picture(640, 480, "JPEG")
    name = f"{hashlib.sha256(data).hexdigest()}.jpg"
    rt.settings.media_path.mkdir(parents=True, exist_ok=True)
    (rt.settings.media_path / name).write_bytes(data)
    return name


def add_posts(rt: Runtime, n: int, networks: tuple[str, ...] = NETWORKS,
              at: dt.datetime = NOW - dt.timedelta(hours=1), image_every: int = 0
              ) -> list[int]:
    """``n`` approved posts; every ``image_every``-th one with a kept picture."""
    ids = []
    name = kept_picture(rt) if image_every else ""
    with rt.db.session() as s:
        for i in range(n):
            network = networks[i % len(networks)]
            with_image = bool(image_every) and i % image_every < len(networks)
            post = SocialPost(
                network=network, status="approved", kind="reading",
                slot_at=at + dt.timedelta(seconds=i // len(networks)),
                evergreen_key="test", title=f"Post {i}", link=f"https://example.org/{i}",
                text=f"Post number {i} https://example.org/{i} #OpenSchooling",
                media_name=name if with_image else "",
                image_alt="A class outdoors" if with_image else "",
                idempotency_key=uuid.uuid4().hex)
            s.add(post)
            s.flush()
            ids.append(post.id)
    return ids


def test_due_posts_are_published_with_their_id_and_url(live_rt: Runtime,
                                                       fake: FakeNetworks) -> None:
    ids = add_posts(live_rt, 5)
    add_posts(live_rt, 1, ("x",), at=NOW + dt.timedelta(hours=1))  # not due yet
    report = publish.publish_due(live_rt, now=NOW)
    assert report.outcomes == Counter(published=5)
    found = social_posts(live_rt)
    for pid in ids:
        assert found[pid].status == "published" and found[pid].remote_id
        assert found[pid].published_at == NOW
    assert sorted(p.remote_id for p in fake.posted()) == sorted(found[i].remote_id for i in ids)
    assert publish.publish_due(live_rt, now=NOW).total == 0  # nothing twice


@pytest.mark.parametrize("read_timeout", [1.0])
def test_a_timeout_after_sending_ends_unknown_and_is_never_posted_again(
        live_rt: Runtime, fake: FakeNetworks) -> None:
    [pid] = add_posts(live_rt, 1, ("linkedin",))
    fake.faults["linkedin"] = ["timeout"]
    publish.publish_due(live_rt, now=NOW)
    post = social_posts(live_rt)[pid]
    assert post.status == "unknown" and "may be live" in post.error
    assert "check the account" in post.hint
    for minutes in (1, 60, 60 * 24):
        publish.publish_due(live_rt, now=NOW + dt.timedelta(minutes=minutes))
    assert len(fake.posted("linkedin")) == 1 and social_posts(live_rt)[pid].status == "unknown"
    # The editor checks the account and records what they found.
    social.resolve(live_rt, TEST, pid, posted=True, url="https://www.linkedin.com/feed/x")
    assert social_posts(live_rt)[pid].status == "published"


def test_clear_failures_are_retried_with_backoff_then_failed(live_rt: Runtime,
                                                             fake: FakeNetworks) -> None:
    [pid] = add_posts(live_rt, 1, ("facebook",))
    fake.faults["facebook"] = ["500", "500"]
    publish.publish_due(live_rt, now=NOW)
    post = social_posts(live_rt)[pid]
    assert (post.status, post.attempts) == ("approved", 1)
    assert post.next_attempt_at == NOW + dt.timedelta(seconds=60)
    assert publish.publish_due(live_rt, now=NOW + dt.timedelta(seconds=59)).total == 0
    publish.publish_due(live_rt, now=NOW + dt.timedelta(seconds=60))
    assert social_posts(live_rt)[pid].next_attempt_at == NOW + dt.timedelta(seconds=180)  # 60 + 120
    publish.publish_due(live_rt, now=NOW + dt.timedelta(seconds=180))
    post = social_posts(live_rt)[pid]
    assert (post.status, post.attempts) == ("published", 3)
    assert len(fake.posted("facebook")) == 1

    [other] = add_posts(live_rt, 1, ("mastodon",))
    fake.faults["mastodon"] = ["500"] * 4
    for minutes in range(0, 60, 2):
        publish.publish_due(live_rt, now=NOW + dt.timedelta(minutes=minutes))
    post = social_posts(live_rt)[other]
    assert (post.status, post.attempts) == ("failed", 4)
    assert "Gave up after 4 tries" in post.error
    # An editor approves it again: it is tried afresh.
    social.approve(live_rt, TEST, [other])
    publish.publish_due(live_rt, now=NOW + dt.timedelta(hours=2))
    assert social_posts(live_rt)[other].status == "published"


def test_429_waits_for_the_reset_time(live_rt: Runtime, fake: FakeNetworks) -> None:
    [pid] = add_posts(live_rt, 1, ("x",), at=NOW - dt.timedelta(seconds=1))
    fake.faults["x"] = ["429"]
    publish.publish_due(live_rt, now=NOW)
    post = social_posts(live_rt)[pid]
    assert post.status == "approved" and post.next_attempt_at is not None
    wait = (post.next_attempt_at - clock.now()).total_seconds()
    assert 80 < wait < 95  # the fake's reset is 90 s away, not the 60 s backoff


def test_rejections_fail_with_reason_and_hint(live_rt: Runtime, fake: FakeNetworks) -> None:
    dup, expired = add_posts(live_rt, 2, ("x",))
    fake.faults["x"] = ["duplicate", "expired"]
    publish.publish_due(live_rt, now=NOW)
    found = social_posts(live_rt)
    assert found[dup].status == "failed" and "duplicate" in found[dup].error
    assert "edit the text or skip" in found[dup].hint
    assert found[expired].status == "failed" and "re-authorise" in found[expired].hint
    assert social.needing_attention(live_rt)[0].id in (dup, expired)


def test_a_post_left_publishing_by_a_dead_process_becomes_unknown(live_rt: Runtime,
                                                                  fake: FakeNetworks) -> None:
    [pid] = add_posts(live_rt, 1, ("bluesky",))
    with live_rt.db.session() as s:  # what a process killed after its claim leaves
        post = s.get(SocialPost, pid)
        assert post is not None
        post.status, post.claimed_at, post.attempts = "publishing", NOW, 1
    assert publish.publish_due(live_rt, now=NOW + dt.timedelta(minutes=5)).total == 0
    report = publish.publish_due(live_rt, now=NOW + dt.timedelta(minutes=16))
    assert report.outcomes["unknown"] == 1
    assert social_posts(live_rt)[pid].status == "unknown" and fake.posted() == []


def test_two_runs_never_claim_the_same_post(live_rt: Runtime, fake: FakeNetworks) -> None:
    import threading

    add_posts(live_rt, 40)
    runs = [threading.Thread(target=publish.publish_due, args=(live_rt,),
                             kwargs={"now": NOW}) for _ in range(3)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert Counter(p.status for p in social_posts(live_rt).values()) == Counter(published=40), \
        [(p.status, p.network, p.error) for p in social_posts(live_rt).values()][:5]
    assert len(fake.posted()) == 40


def test_dry_run_writes_every_network_to_the_outbox(rt: Runtime) -> None:
    ids = add_posts(rt, 5)
    assert publish.publish_due(rt, now=NOW).outcomes == Counter(published=5)
    folder = rt.settings.outbox_path / "social"
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(f"{pid:06d}-{n}.json" for pid, n in zip(ids, NETWORKS, strict=True))
    body = json.loads((folder / f"{ids[2]:06d}-linkedin.json").read_text())
    assert body["commentary"].endswith("{hashtag|\\#|OpenSchooling}")


# Each "timeout" costs the test its read timeout of real waiting, so they are few; a
# dropped answer after the post leaves the same doubt and costs nothing.
FAULTS = [(None, 70), ("500", 8), ("429", 5), ("timeout", 1), ("drop", 6),
          ("drop-before", 3), ("duplicate", 3), ("expired", 4)]


@pytest.mark.parametrize("read_timeout", [2.0])
def test_1000_publishes_with_injected_faults(live_rt: Runtime, fake: FakeNetworks,
                                            test_clock: clock.FakeClock) -> None:
    """Zero double posts, and no post lost without a recorded state."""
    rng = random.Random(20261121)
    choices, weights = zip(*FAULTS, strict=True)

    def chooser(network: str) -> str | None:
        fault = rng.choices(choices, weights)[0]
        if fault == "duplicate" and network in ("mastodon", "bluesky"):
            return "500"  # these networks have no duplicate check
        if fault == "expired" and network == "bluesky":
            return None  # an expired Bluesky token is refreshed; covered elsewhere
        return fault

    fake.chooser = chooser
    ids = add_posts(live_rt, 1000, image_every=15)  # a third of the posts have a picture
    for _ in range(40):
        report = publish.publish_due(live_rt, now=clock.now(), limit=1000)
        test_clock.advance(hours=2)  # past every backoff and reset
        if report.total == 0:
            break
    found = social_posts(live_rt)
    final = Counter(found[i].status for i in ids)
    assert set(final) <= {"published", "failed", "unknown"}, final  # every post settled

    made: dict[str, list[Any]] = {}  # "Post number N" -> what the networks hold
    for accepted in fake.posted():
        key = re.search(r"Post number \d+", accepted.text)
        assert key is not None
        made.setdefault(key.group(0), []).append(accepted)
    assert all(len(v) == 1 for v in made.values()), "a post was made twice"
    for pid in ids:
        post = found[pid]
        on_network = made.get(post.text.split(" https:")[0], [])
        if post.status == "published":
            assert [a.remote_id for a in on_network] == [post.remote_id]
        elif post.status == "failed":
            assert on_network == [], f"post {pid} failed but is live"
        else:  # unknown: live or not, an editor is asked; it was never retried
            assert len(on_network) <= 1
    # Nothing is live that the ledger does not account for.
    assert len(made) == final["published"] + sum(
        1 for pid in ids if found[pid].status == "unknown"
        and found[pid].text.split(" https:")[0] in made)
    assert final["published"] > 700 and final["unknown"] > 20 and final["failed"] > 20
    # Media once only: every upload the networks took is in the ledger, kept for its post,
    # and a post that went out carries the upload kept for it. X, LinkedIn and Mastodon
    # keep an unused upload for longer than the retries take, so none was made twice;
    # a Bluesky blob left unused past its life is uploaded again, as it must be.
    with live_rt.db.session() as s:
        kept = {u.post_id: u.ref for u in s.scalars(select(SocialUpload))}
    with_image = [pid for pid in ids if found[pid].media_name]
    assert len(with_image) == 335 and set(kept) <= set(with_image)
    for network in ("x", "linkedin", "mastodon"):
        assert len(fake.uploaded(network)) == sum(
            1 for pid in kept if found[pid].network == network), network
    for pid in with_image:
        post = found[pid]
        [live] = made.get(post.text.split(" https:")[0]) or [None]
        if live is None or post.network == "facebook":
            continue
        ref = kept[pid]
        used = {"x": lambda b: b["media"]["media_ids"][0],
                "linkedin": lambda b: b["content"]["media"]["id"],
                "mastodon": lambda b: b["media_ids"][0],
                "bluesky": lambda b: b["record"]["embed"]["images"][0]["image"]["ref"][
                    "$link"]}[post.network](live.body)
        assert used == (ref.get("media_id") or ref.get("image") or ref.get("id")
                        or ref["blob"]["ref"]["$link"]), pid
    uploads = Counter(u.network for u in fake.uploaded())
    print(f"1000 publishes: {dict(final)}; live on the fake networks: {len(made)}; "
          f"uploads: {dict(uploads)}")


def test_two_runs_saving_their_first_bluesky_session_at_once_both_succeed(
        live_rt: Runtime) -> None:
    import threading

    sessions = [publish.DbSessions(live_rt) for _ in range(8)]
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def save(i: int) -> None:
        start.wait()
        try:
            sessions[i].save("bluesky", {"accessJwt": f"token-{i}"})
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert publish.DbSessions(live_rt).load("bluesky")["accessJwt"].startswith("token-")
