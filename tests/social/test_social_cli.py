"""The social commands as a user runs them, in a subprocess against the test database."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from ostogether.social import posts as social
from tests.conftest import run
from tests.factories import TEST, add_item


def test_length_prints_the_count_as_json_and_exits_1_when_too_long(env: dict[str, str]) -> None:
    r = run(env, "social", "length", "--network", "x", "--format", "json",
            "Hello 🎉 https://example.org/a/very/long/path")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"length": 32, "limit": 280, "fits": True}
    r = run(env, "social", "length", "--network", "bluesky", "-", stdin="é" * 301 + "\n")
    assert r.returncode == 1
    assert r.stdout.strip() == "301 of 300 graphemes: does not fit."
    r = run(env, "social", "length", "--network", "myspace", "hi")
    assert r.returncode == 2 and "myspace" in r.stderr and "Traceback" not in r.stderr
    r = run({**env, "OSTOGETHER_MASTODON_MAX_CHARS": "1000"}, "social", "length",
            "--network", "mastodon", "--format", "json", "x" * 700)
    assert json.loads(r.stdout) == {"length": 700, "limit": 1000, "fits": True}


def test_plan_preview_approve_status_and_publish(rt: Runtime, env: dict[str, str]) -> None:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1",
             title="Inquiry with pupils")
    week = social.week_label(*social.next_week(rt))
    r = run(env, "social", "plan", "--week", week, "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["week"] == week and plan["placed"][0]["title"] == "Inquiry with pupils"
    assert plan["placed"][0]["networks"] == ["x", "facebook", "linkedin", "mastodon", "bluesky"]
    with rt.db.session() as s:
        first = s.scalars(select(SocialPost).order_by(SocialPost.id)).first()
        assert first is not None
    r = run(env, "social", "preview", str(first.id))
    assert r.returncode == 0, r.stderr
    for name, unit in (("x", "of 280 weighted characters"), ("linkedin", "of 3000 characters"),
                       ("bluesky", "of 300 graphemes"), ("mastodon", "of 500 characters")):
        assert name in r.stdout and unit in r.stdout
    assert "sent to LinkedIn as:" in r.stdout
    r = run(env, "social", "approve", "--week", week)
    assert r.stdout.strip() == "10 post(s) approved."
    r = run(env, "social", "status", "--format", "json")
    status = json.loads(r.stdout)
    assert status["counts"]["approved"] == {n: 2 for n in
                                            ("x", "facebook", "linkedin", "mastodon", "bluesky")}
    assert {n["network"]: n["live"] for n in status["networks"]}["x"] is False
    # Make one post due now, then publish: it goes to the dry-run outbox.
    with rt.db.session() as s:
        post = s.get(SocialPost, first.id)
        assert post is not None
        post.slot_at = clock.now() - dt.timedelta(minutes=1)
    r = run(env, "social", "publish", "--format", "json")
    assert json.loads(r.stdout)["outcomes"] == {"published": 1}
    outbox = rt.settings.outbox_path / "social" / f"{first.id:06d}-{first.network}.json"
    assert json.loads(outbox.read_text())["text"] == first.text


def test_edit_refuses_too_long_text_with_the_count(rt: Runtime, env: dict[str, str]) -> None:
    social.plan_week(rt, TEST)
    with rt.db.session() as s:
        x_post = s.scalars(select(SocialPost).where(SocialPost.network == "x")).first()
        assert x_post is not None
    r = run(env, "social", "edit", str(x_post.id), "--text", "a" * 290)
    assert r.returncode == 1
    assert "X counts 290 of 280 weighted characters; shorten it by 10." in r.stderr
    r = run(env, "social", "move", str(x_post.id), "--to", "tomorrow")
    assert r.returncode == 1 and "write it like 2026-11-25 10:00" in r.stderr


def test_editing_the_text_keeps_the_picture_and_the_card(rt: Runtime, env: dict[str, str]
                                                         ) -> None:
    """`social edit ID --text` names no picture: the post keeps its own, the picture kept
    for it, and the card read for its link. Only the text changes."""
    social.plan_week(rt, TEST)
    card = {"title": "Inquiry", "host": "cosmosproject.eu", "warning": ""}
    with rt.db.session() as s:
        x_post, bsky = (s.scalars(select(SocialPost).where(SocialPost.network == n)).first()
                        for n in ("x", "bluesky"))
        assert x_post is not None and bsky is not None
        x_post.image_url, x_post.image_alt = "https://cosmosproject.eu/p.png", "Pupils"
        x_post.media_name = "a" * 64 + ".png"
        bsky.card = card
        ids = (x_post.id, bsky.id)
    for post_id in ids:
        r = run(env, "social", "edit", str(post_id), "--text", "Shorter, and still true.")
        assert r.returncode == 0, r.stderr
    with rt.db.session() as s:
        x_post, bsky = (s.get(SocialPost, i) for i in ids)
        assert x_post is not None and bsky is not None
        assert x_post.text == bsky.text == "Shorter, and still true."
        assert (x_post.image_url, x_post.image_alt, x_post.media_name) == (
            "https://cosmosproject.eu/p.png", "Pupils", "a" * 64 + ".png")
        assert bsky.card == card and bsky.image_url == ""
    # The service's own rule, whichever face calls it: a new address drops what was kept.
    social.edit(rt, TEST, ids[0], text="New picture.", image_url="https://cosmosproject.eu/q.png")
    with rt.db.session() as s:
        x_post = s.get(SocialPost, ids[0])
        assert x_post is not None and x_post.media_name == "" and x_post.image_alt == "Pupils"
    social.edit(rt, TEST, ids[0], text="No picture.", image_url="")
    with rt.db.session() as s:
        x_post = s.get(SocialPost, ids[0])
        assert x_post is not None and (x_post.image_url, x_post.image_alt) == ("", "")
