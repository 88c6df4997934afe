"""One social post's page: moved to any time in the community's zone (never the past,
never an hour the clocks skip), published now by the worker once and only once, and
shown as its reader will see it (no LinkedIn markup, no file path), with the server's
count when no script runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, JobRun, Project, SocialPost
from ostogether.social import posts as social
from ostogether.social import text as social_text
from tests.conftest import csrf_from, login, new_client, post, social_posts
from tests.factories import TEST, make_user
from tests.feedserver import picture
from tests.social_fakes import FakeNetworks


def words(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def planned(rt: Runtime, network: str) -> SocialPost:
    """Next week's first planned post of ``network``."""
    social.plan_week(rt, TEST)
    return min((p for p in social_posts(rt).values() if p.network == network),
               key=lambda p: (p.slot_at, p.id))


def audit_actions(rt: Runtime, post_id: int) -> list[str]:
    with rt.db.session() as s:
        return list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "social_posts", AuditEntry.object_id == str(post_id))
            .order_by(AuditEntry.id)))


# ----------------------------------------------------------------------------- moving

def test_a_post_moves_to_any_future_time_in_the_communitys_zone(editor: Any,
                                                               rt: Runtime) -> None:
    one = planned(rt, "x")
    zone = rt.community.schedule().zone
    page = f"/editors/social/{one.id}"
    html = editor.get(page).get_data(as_text=True)
    local = one.slot_at.astimezone(zone)
    assert f"Date and time (Europe/Brussels, {local.tzname()})" in words(html)
    assert 'type="datetime-local"' in html and f'value="{local:%Y-%m-%dT%H:%M}"' in html
    # A time no slot of the timetable has: the day after, at 16:47 local.
    wanted = (local + dt.timedelta(days=1)).replace(hour=16, minute=47)
    assert wanted.astimezone(dt.UTC) not in {at for at, _ in rt.community.schedule()
                                              .slots_in_week(*social.week_of(wanted.date()))}
    r = post(editor, f"{page}/move", page, at=f"{wanted:%Y-%m-%dT%H:%M}")
    assert r.status_code == 302
    assert social_posts(rt)[one.id].slot_at == wanted.astimezone(dt.UTC)
    assert "social_post.moved" in audit_actions(rt, one.id)
    shown = words(editor.get(page).get_data(as_text=True))
    assert f"Moved to {wanted:%A %-d %B %Y}, 16:47 (Europe/Brussels, {wanted.tzname()})" in shown
    # The free slots stay offered, as suggestions.
    assert "Or a free slot of the timetable" in shown


def test_the_past_and_an_hour_the_clocks_skip_are_refused_with_a_reason(editor: Any,
                                                                        rt: Runtime) -> None:
    one = planned(rt, "mastodon")
    zone = rt.community.schedule().zone
    page = f"/editors/social/{one.id}"
    past = (clock.now() - dt.timedelta(hours=1)).astimezone(zone)
    r = post(editor, f"{page}/move", page, at=f"{past:%Y-%m-%dT%H:%M}")
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f"{past:%a %-d %b %Y, %H:%M} ({past.tzname()}) has passed" in words(body)
    assert f'value="{past:%Y-%m-%dT%H:%M}"' in body  # what was typed stays in its field
    assert 'id="at"' in body and 'aria-invalid="true"' in body
    # The next night the clocks go forward in Brussels, at half past two.
    day = clock.now().astimezone(zone).date()
    while (dt.datetime.combine(day, dt.time(2, 30), tzinfo=zone).astimezone(dt.UTC)
           .astimezone(zone).hour == 2):
        day += dt.timedelta(days=1)
    r = post(editor, f"{page}/move", page, at=f"{day:%Y-%m-%d}T02:30")
    assert r.status_code == 400
    assert (f"There is no 02:30 on {day:%A %-d %B %Y} in Europe/Brussels: the clocks go "
            f"forward from 02:00 to 03:00 that night. Pick another time.") in words(
                r.get_data(as_text=True))
    r = post(editor, f"{page}/move", page, at="next tuesday")
    assert r.status_code == 400
    assert "write it like 2026-11-25 10:00" in r.get_data(as_text=True)
    assert social_posts(rt)[one.id].slot_at == one.slot_at  # nothing moved
    assert "social_post.moved" not in audit_actions(rt, one.id)


ZONES = ("Europe/Brussels", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kathmandu")


@given(zone=st.sampled_from(ZONES),
       typed=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2030, 12, 31)))
def test_a_typed_time_is_that_wall_clock_time_or_refused_as_skipped(zone: str,
                                                                     typed: dt.datetime) -> None:
    tz = ZoneInfo(zone)
    typed = typed.replace(second=0, microsecond=0)
    try:
        at = social.parse_local(tz, f"{typed:%Y-%m-%dT%H:%M}")
    except ValidationError as exc:
        # Refused only when no clock in the zone shows that time.
        assert "the clocks go forward" in str(exc)
        assert typed.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz).replace(
            tzinfo=None) != typed
        return
    assert at.tzinfo is not None and at.astimezone(tz).replace(tzinfo=None) == typed


# ------------------------------------------------------------------------ publish now

@pytest.fixture
def live_app(live_rt: Runtime) -> Iterator[Any]:
    """The web app with every network pointed at the fake."""
    from ostogether.web import create_app

    application = create_app(live_rt.settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["ostogether"].close()


def test_publish_now_is_published_by_the_worker_once(live_app: Any, live_rt: Runtime,
                                                      fake: FakeNetworks) -> None:
    one = planned(live_rt, "mastodon")
    social.approve(live_rt, TEST, [one.id])
    make_user(live_rt)
    editor = new_client(live_app)
    assert login(editor).status_code == 302
    page = f"/editors/social/{one.id}"
    assert "Publish now" in editor.get(page).get_data(as_text=True)
    r = post(editor, f"{page}/publish", page)
    assert r.status_code == 302
    shown = words(editor.get(page).get_data(as_text=True))
    assert "Publishing within a few seconds; refresh this page to see the outcome." in shown
    assert "Due now: publishing within a few seconds." in shown
    row = social_posts(live_rt)[one.id]
    assert (row.status, row.slot_at <= clock.now()) == ("approved", True)
    assert fake.posted() == []  # the web only recorded it; the worker publishes
    ran = jobs.pick_up(live_rt)  # what the worker does every worker_poll_seconds
    assert [(r.job, r.trigger) for r in ran] == [("publish_social", "due")]
    assert len(fake.posted("mastodon")) == 1 and len(fake.posted()) == 1
    row = social_posts(live_rt)[one.id]
    assert row.status == "published" and row.remote_url
    assert row.remote_url in editor.get(page).get_data(as_text=True)
    # Pressing it again (a second tab, a double click) publishes nothing more.
    r = post(editor, f"{page}/publish", page)
    assert "it is never published twice" in words(editor.get(page).get_data(as_text=True))
    assert jobs.pick_up(live_rt) == []
    assert len(fake.posted()) == 1
    assert audit_actions(live_rt, one.id).count("social_post.publish_now") == 1


def test_approve_and_publish_now_runs_approvals_checks(live_app: Any, live_rt: Runtime,
                                                        fake: FakeNetworks) -> None:
    one = planned(live_rt, "x")
    with live_rt.db.session() as s:  # a text too long for X, as a member might have had
        row = s.get(SocialPost, one.id)
        assert row is not None
        row.text = "🎉" * 141
    make_user(live_rt)
    editor = new_client(live_app)
    login(editor)
    page = f"/editors/social/{one.id}"
    assert "Approve and publish now" in editor.get(page).get_data(as_text=True)
    post(editor, f"{page}/publish", page)
    assert "X counts 282 of 280" in words(editor.get(page).get_data(as_text=True))
    assert social_posts(live_rt)[one.id].status == "planned"
    social.edit(live_rt, TEST, one.id, text="Open schooling, now https://example.org/now")
    post(editor, f"{page}/publish", page)
    jobs.pick_up(live_rt)
    assert social_posts(live_rt)[one.id].status == "published"
    assert [p.text for p in fake.posted("x")] == ["Open schooling, now https://example.org/now"]


def test_an_unknown_outcome_is_never_published_again(live_app: Any, live_rt: Runtime,
                                                     fake: FakeNetworks) -> None:
    one = planned(live_rt, "facebook")
    with live_rt.db.session() as s:
        row = s.get(SocialPost, one.id)
        assert row is not None
        row.status, row.slot_at = "unknown", clock.now() - dt.timedelta(minutes=5)
    make_user(live_rt)
    editor = new_client(live_app)
    login(editor)
    page = f"/editors/social/{one.id}"
    assert "Publish now" not in editor.get(page).get_data(as_text=True)
    token = csrf_from(editor.get(page).get_data(as_text=True))
    editor.post(f"{page}/publish", data={"csrf_token": token})
    assert "it is never published twice" in words(editor.get(page).get_data(as_text=True))
    jobs.pick_up(live_rt)
    assert fake.posted() == [] and social_posts(live_rt)[one.id].status == "unknown"
    with live_rt.db.session() as s:
        assert s.scalars(select(JobRun)).all() == []


# --------------------------------------------------------------------- as it is read

def test_the_preview_is_the_text_a_reader_sees_with_the_kept_picture(editor: Any,
                                                                     rt: Runtime) -> None:
    li = planned(rt, "linkedin")
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert project is not None
        project.handles = {**(project.handles or {}), "linkedin": "5551234"}
        row = s.get(SocialPost, li.id)
        assert row is not None
        row.project_id = project.id
    text = ("COSMOS (open schooling) [1]: {maths} <and> science | ~pupils~ _*work*_ "
            "with @teachers #OpenSchooling https://example.org/a_(b)")
    social.edit(rt, TEST, li.id, text=text)
    data = picture(320, 200, "PNG")
    name = f"{hashlib.sha256(data).hexdigest()}.png"
    rt.settings.media_path.mkdir(parents=True, exist_ok=True)
    (rt.settings.media_path / name).write_bytes(data)
    with rt.db.session() as s:
        row = s.get(SocialPost, li.id)
        assert row is not None
        row.image_url, row.image_alt, row.media_name = "https://example.org/p.png", "Pupils", name
    html = editor.get(f"/editors/social/{li.id}").get_data(as_text=True)
    card = html[html.index('<article class="post-card'):html.index("</article>")]
    # The text as written, with the project's name as a mention and the tag marked.
    assert text in words(card)
    assert '<span class="mention">COSMOS</span>' in card
    assert '<span class="hashtag">#OpenSchooling</span>' in card
    assert (" (open schooling) [1]: {maths} &lt;and&gt; science | ~pupils~ _*work*_ with "
            "@teachers ") in card
    # None of LinkedIn's markup: no backslash escapes, no templates.
    for markup in ("\\(", "\\[", "\\{", "\\<", "\\|", "\\~", "\\_", "\\*", "\\@", "{hashtag|",
                   "@[", "urn:li:"):
        assert markup not in html, markup
    # The picture from /media/, never a path on the server.
    assert f'<img class="post-picture" src="/media/{name}" alt="Pupils">' in card
    assert str(rt.settings.media_path) not in html and "var/media" not in html
    assert editor.get(f"/media/{name}").data == data


def test_each_network_shows_links_and_mentions_its_own_way() -> None:
    text = "Hi @cosmos_eu@scholar.social see https://www.example.org/a/very/long/path/to/a/page"
    read = {n: [(p.kind, p.text) for p in social_text.as_read(text, n) if p.kind != "text"]
            for n in ("x", "mastodon", "bluesky", "facebook")}
    assert read["mastodon"] == [("mention", "@cosmos_eu"),
                                ("link", "example.org/a/very/long/path/t…")]
    assert ("link", "example.org/a/very/long/path/t…") in read["x"]
    assert read["bluesky"] == [("link", "www.example.org/a/very/long...")]
    assert read["facebook"] == [("link", "https://www.example.org/a/very/long/path/to/a/page")]
    mentioned = social_text.as_read("News @cosmosproject.bsky.social", "bluesky",
                                    (("@cosmosproject.bsky.social", "cosmosproject.bsky.social"),))
    assert ("mention", "@cosmosproject.bsky.social") in [(p.kind, p.text) for p in mentioned]


def test_without_a_script_the_page_shows_the_servers_count(editor: Any, rt: Runtime) -> None:
    one = planned(rt, "bluesky")
    page = f"/editors/social/{one.id}"
    text = "Ünïcödé 👩‍👩‍👧 and e\u0301 https://example.org/" + "x" * 60
    r = post(editor, page, page, text=text)
    assert r.status_code == 302
    m = social_text.measure(social_posts(rt)[one.id].text, "bluesky")
    shown = words(editor.get(page).get_data(as_text=True))
    assert f"Bluesky counts {m.length} of 300 graphemes (counted when saved)." in shown
    html = editor.get(page).get_data(as_text=True)
    assert re.search(r'<script src="/static/post_count\.js[^"]*" defer>', html)
    assert 'data-network="bluesky"' in html and 'data-limit="300"' in html
