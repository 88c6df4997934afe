"""The home page: a teacher finds the newsletter's sign-up above the fold, and sees the
latest issue, recent news and the events to come; "Join" says whom it is for. The page
is kept for anonymous visitors, and still follows every change of what it shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import front
from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Subscriber
from ostogether.news import items as news
from ostogether.reach import reports
from ostogether.web import create_app
from tests.browser import DESKTOP, PHONE, Live, axe_all, shot
from tests.conftest import csrf_from, link_in, new_client, outbox, wait_for
from tests.factories import TEST, add_item, approved_issue, mark_sent

TEACHER = "teacher@school.example"


def sign_up_from_home(client: Any, **fields: str) -> Any:
    """What a browser posts from the home page's form: no cookie of ours, no CSRF token."""
    return client.post("/subscribe/quick", data={"email": TEACHER, "consent": "y",
                                                 "website": "", **fields})


def test_the_home_form_needs_no_session_so_the_page_is_kept_for_every_visitor(
        rt: Runtime, env: dict[str, str]) -> None:
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "60"}))
    try:
        page = new_client(app).get("/")
        html = page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "public, max-age=60"
        assert "Set-Cookie" not in page.headers and "csrf_token" not in html
        assert "Teachers and educators: get the newsletter" in html
        assert '<form method="post" action="/subscribe/quick"' in html
        assert 'name="email" type="email" required' in html
        assert 'name="consent" type="checkbox" value="y" required' in html
        assert 'href="/privacy"' in html and 'name="website"' in html
        assert list(app.extensions["page_cache"].entries) == ["en /?"]  # the copy kept
        # Another visitor, who got the kept copy, sends it: signed up at once.
        done = sign_up_from_home(new_client(app))
        assert done.status_code == 303 and done.headers["Location"].endswith("/subscribe/sent")
        assert "Check your mail" in new_client(app).get("/subscribe/sent").get_data(
            as_text=True)
    finally:
        app.extensions["ostogether"].close()
    [mail] = outbox(load_settings(environ=env))  # double opt-in: the confirmation mail
    assert str(mail["To"]) == TEACHER
    with rt.db.session() as s:
        event = s.scalar(select(ConsentEvent).where(ConsentEvent.action == "subscribe"))
        assert event is not None and event.source == "home" and "project" not in event.detail
    confirm = link_in(mail, "/subscribe/confirm/")
    reader = new_client(create_app(load_settings(environ=env)))
    reader.post(confirm, data={"csrf_token": csrf_from(reader.get(confirm).get_data(
        as_text=True))})
    with rt.db.session() as s:
        assert s.scalar(select(Subscriber.status)) == "confirmed"
        assert reports.readers_brought(s, "cosmos") == 0  # the home page credits nobody


@pytest.mark.parametrize("fields, status, says", [
    ({"consent": ""}, 400, "Please tick the box to agree to receive the newsletter"),
    ({"email": ""}, 400, "You are not subscribed yet"),
    ({"email": "teacher@school"}, 400, "The part after the @-sign is not valid"),
])
def test_an_incomplete_home_form_shows_the_sign_up_page_with_what_is_missing(
        client: Any, settings: Any, fields: dict[str, str], status: int, says: str) -> None:
    page = sign_up_from_home(client, **fields)
    html = page.get_data(as_text=True)
    assert page.status_code == status and says in html
    assert 'aria-invalid="true"' in html and "csrf_token" in html  # the real, protected form
    if fields.get("email", TEACHER):
        assert f'value="{fields.get("email", TEACHER)}"' in html  # nothing typed is lost
    assert not outbox(settings)


def test_bots_at_the_home_form_are_turned_away(client: Any, rt: Runtime,
                                                settings: Any) -> None:
    # The honeypot filled in: the usual answer, and nothing else.
    page = sign_up_from_home(client, website="https://spam.example")
    assert page.status_code == 200 and "Check your mail" in page.get_data(as_text=True)
    # A post without the hidden field, which a browser always sends: the form, filled in.
    page = client.post("/subscribe/quick", data={"email": TEACHER, "consent": "y"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'value="{TEACHER}"' in html and "csrf_token" in html
    assert client.get("/subscribe/quick").status_code == 405
    assert not outbox(settings)
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []
    # The hourly limit of every sign-up holds here too.
    codes = [sign_up_from_home(new_client(client.application), email=f"r{n}@school.example")
             .status_code for n in range(settings.subscribe_max_per_hour + 1)]
    assert codes[-1] == 429 and set(codes[:-1]) == {303}


def test_the_home_page_shows_the_latest_issue_recent_news_and_events_to_come(
        client: Any, rt: Runtime, web: Any) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "No news yet." in html and "No upcoming events announced yet." in html
    issue = approved_issue(rt, [web.url("/page/0")])
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    now = clock.now()
    add_item(rt, "most", "tool", link=web.url("/page/2"), title="A lesson-plan checklist")
    add_item(rt, "pafse", "news", link=web.url("/page/3"), title="Still in review",
             approve=False)
    start = (now + dt.timedelta(days=10)).replace(hour=13, minute=0, second=0, microsecond=0)
    add_item(rt, "levers", "event", link=web.url("/page/4"), title="Meet-up for teachers",
             event_start=start, event_end=start + dt.timedelta(hours=2),
             registration_url=web.url("/page/5"))
    add_item(rt, "cosmos", "event", link=web.url("/page/6"), title="Last week's fair",
             event_start=now - dt.timedelta(days=7))
    html = client.get("/").get_data(as_text=True)
    subject = issue.snapshot_subject or issue.subject
    assert f'href="/archive/{issue.number}">' in html and subject in html
    assert "Sent on <time datetime=\"2026-11-15\">15 November 2026</time>" in html
    assert f'<a href="{web.url("/page/2")}" rel="noopener noreferrer">A lesson-plan checklist' \
        in html and 'href="/registry/most">MOST</a>' in html
    assert "Practical tip or tool for educators" in html
    assert "Still in review" not in html
    assert f'<a href="{web.url("/page/5")}" rel="noopener noreferrer">Meet-up for teachers' \
        in html and 'href="/registry/levers">' in html
    local = start.astimezone(rt.community.schedule().zone)  # the community's zone
    end = local + dt.timedelta(hours=2)
    assert f"{local:%H:%M} {local.tzname()} – {end:%H:%M}" in html
    assert f'datetime="{local.isoformat()}"' in html
    assert "Last week&#39;s fair" not in html and "Last week's fair" not in html
    assert 'href="/events.ics"' in html


def test_the_home_page_follows_every_change_and_the_clock_at_once(
        client: Any, rt: Runtime, web: Any, test_clock: clock.FakeClock) -> None:
    """Each process keeps the home page's content while what it shows is the same: news
    approved, an issue sent, or an event over (with nothing committed since, as time
    passes) shows at the next request."""
    test_clock.set(test_clock.now())  # every change below has the same timestamp
    start = clock.now() + dt.timedelta(hours=1)
    add_item(rt, "levers", "event", link=web.url("/page/1"), title="Starts within the hour",
             event_start=start, event_end=start + dt.timedelta(hours=1))
    item = add_item(rt, "most", "news", link=web.url("/page/2"), title="Fresh news",
                    approve=False)
    first = client.get("/").get_data(as_text=True)
    assert "Starts within the hour" in first and "Fresh news" not in first
    assert client.get("/").get_data(as_text=True) == first  # kept
    news.approve(rt, TEST, item)
    assert "Fresh news" in client.get("/").get_data(as_text=True)
    issue = approved_issue(rt, [web.url("/page/3")])
    mark_sent(rt, issue.id, clock.now())
    assert f'href="/archive/{issue.number}"' in client.get("/").get_data(as_text=True)
    test_clock.advance(hours=2, seconds=1)  # the event is over; nothing was written
    later = client.get("/").get_data(as_text=True)
    assert "Starts within the hour" not in later and "Fresh news" in later


def test_events_beyond_those_read_ahead_show_when_those_end(
        client: Any, rt: Runtime, web: Any, test_clock: clock.FakeClock) -> None:
    """The page reads ``EVENTS_READ`` events ahead; when they have all ended, with nothing
    committed since, the ones after them are read and shown."""
    test_clock.set(test_clock.now())
    soon = clock.now() + dt.timedelta(hours=1)
    for n in range(front.EVENTS_READ):
        add_item(rt, "levers", "event", link=web.url(f"/page/{n}"), title=f"Short talk {n}",
                 event_start=soon, event_end=soon + dt.timedelta(minutes=30))
    later = clock.now() + dt.timedelta(days=3)
    add_item(rt, "most", "event", link=web.url("/page/30"), title="A later workshop",
             event_start=later)
    html = client.get("/").get_data(as_text=True)
    assert "Short talk 0" in html and "A later workshop" not in html
    test_clock.advance(hours=2)
    html = client.get("/").get_data(as_text=True)
    assert "Short talk" not in html and "A later workshop" in html


def test_a_kept_copy_for_anonymous_visitors_is_seconds_old_at_most(
        rt: Runtime, env: dict[str, str], web: Any, test_clock: clock.FakeClock) -> None:
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "0.5"}))
    # The clock stands still: on a busy machine half a second passes between two requests.
    still = clock.FakeClock(test_clock.now())
    try:
        with clock.use(still):
            visitor = new_client(app)
            assert "No news yet." in visitor.get("/").get_data(as_text=True)
            add_item(rt, "most", "news", link=web.url("/page/2"), title="Fresh news")
            assert "Fresh news" not in visitor.get("/").get_data(as_text=True)  # the copy
            still.advance(seconds=0.6)
            assert "Fresh news" in visitor.get("/").get_data(as_text=True)
    finally:
        app.extensions["ostogether"].close()


def test_join_says_it_is_for_projects_and_organisations(client: Any) -> None:
    for path in ("/", "/registry", "/archive"):
        assert ">Join (projects and organisations)</a>" in client.get(path).get_data(
            as_text=True), path
    join = client.get("/join").get_data(as_text=True)
    assert "For projects and organisations" in join
    assert "<strong>Teachers and educators:</strong>" in join and 'href="/subscribe"' in join
    assert ">Join as a project or organisation</a>" in client.get("/").get_data(as_text=True)


# --------------------------------------------------------------------------- in Chromium

# Where each part of the sign-up is on the page, in CSS pixels of the first screen.
BOXES = """() => ['#signup-email', '#signup-consent', '.signup-form button[type=submit]']
    .map(s => { const r = document.querySelector(s).getBoundingClientRect();
                return {selector: s, top: r.top, bottom: r.bottom}; })"""


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_teacher_subscribes_from_the_first_screen_of_the_home_page(
        live: Live, chromium: Any, smtp_server: Any, web: Any, viewport: dict[str, int]
        ) -> None:
    rt = live.rt
    issue = approved_issue(rt, [web.url("/page/0"), web.url("/page/1")])
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    add_item(rt, "levers", "event", link=web.url("/page/2"),
             title="Open schooling meet-up for teachers",
             event_start=clock.now() + dt.timedelta(days=12))
    _, sink = smtp_server
    context = chromium.new_context(viewport=viewport, bypass_csp=True)  # axe is a script
    try:
        page = context.new_page()
        page.goto(live.url + "/")
        shot(page, f"home-{'phone' if viewport is PHONE else 'desktop'}", full=False)
        for box in page.evaluate(BOXES):  # no scrolling needed to sign up
            assert 0 <= box["top"] and box["bottom"] <= viewport["height"], box
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert axe_all(page) == []
        page.fill("#signup-email", TEACHER)
        page.check("#signup-consent")
        page.click(".signup-form button[type=submit]")
        page.wait_for_url(live.url + "/subscribe/sent")
        assert page.inner_text("h1") == "Check your mail"
    finally:
        context.close()
    mail = wait_for(lambda: sink.messages)[0]
    assert str(mail["To"]) == TEACHER and "/subscribe/confirm/" in mail.get_body(
        ("plain",)).get_content()
