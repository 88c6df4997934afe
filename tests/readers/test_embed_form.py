"""Readers from every member's site: the copy-paste sign-up form, its cross-site post, the
bot checks (honeypot, signed time, least fill time), the project that brought the reader,
and the purge of sign-ups never confirmed."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Subscriber
from ostogether.reach import reports
from ostogether.readers import subscribers
from tests.browser import PHONE, Live, log_in
from tests.conftest import csrf_from, frozen, link_in, login, new_client, outbox, wait_for
from tests.factories import make_user
from tests.feedserver import Route


def snippet_of(client: Any, slug: str = "otter") -> str:
    page = client.get(f"/registry/{slug}/subscribe-form")
    assert page.status_code == 200
    m = re.search(r'<textarea[^>]*>(.*?)</textarea>', page.get_data(as_text=True), re.S)
    assert m
    return htmllib.unescape(m.group(1))


def member(app: Any, rt: Runtime, slug: str = "otter") -> Any:
    make_user(rt, f"m@{slug}.example", role="member", project=slug)
    c = new_client(app)
    assert login(c, f"m@{slug}.example").status_code == 302
    return c


def post_from_site(app: Any, snippet: str, **fields: str) -> Any:
    """What a visitor's browser sends from the member's site: the form's fields, no
    cookie of ours, no CSRF token."""
    action = re.search(r'action="https://ostogether\.test([^"]+)"', snippet)
    token = re.search(r'name="form" value="([^"]+)"', snippet)
    assert action and token
    data = {"form": token.group(1), "email": "teacher@school.example", "name": "Kim",
            "website": "", **fields}
    return new_client(app).post(action.group(1), data=data,
                                headers={"Origin": "https://otter-project.eu"}), action.group(1)


def step_form(page: Any) -> dict[str, str]:
    html = page.get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="started" name="started" type="hidden" value="([^"]+)"', html)
    assert started, html
    return {"csrf_token": csrf_from(html), "started": started.group(1)}


def test_the_snippet_is_for_the_projects_members_and_editors(app: Any, rt: Runtime,
                                                            editor: Any) -> None:
    # The form carries a token signed with the time: both copies are made in one second.
    with frozen(clock.now()):
        snippet, editors = snippet_of(member(app, rt)), snippet_of(editor)
    assert '<form action="https://ostogether.test/subscribe/from/otter" method="post"' in snippet
    assert "<script" not in snippet and "captcha" not in snippet.lower()
    assert 'name="website"' in snippet and 'tabindex="-1"' in snippet  # the honeypot
    assert "https://ostogether.test/privacy" in snippet
    assert editors == snippet  # the same form for the editors
    # Another project's member, and a visitor, do not get it.
    other = member(app, rt, "sall")
    assert other.get("/registry/otter/subscribe-form").status_code == 403
    assert new_client(app).get("/registry/otter/subscribe-form").status_code == 302
    assert editor.get("/registry/nope/subscribe-form").status_code == 404
    # Members find it from their page, and on their project's page.
    c = member(app, rt, "levers")
    assert "/registry/levers/subscribe-form" in c.get("/members/").get_data(as_text=True)
    assert "/registry/levers/subscribe-form" in c.get("/registry/levers").get_data(as_text=True)


def test_a_sign_up_from_a_members_site_is_double_opt_in_and_counted(
        app: Any, rt: Runtime, editor: Any, settings: Any, test_clock: clock.FakeClock) -> None:
    snippet = snippet_of(editor)
    page, action = post_from_site(app, snippet)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="teacher@school.example"' in html and "website of" in html
    assert "OTTER" in html and "privacy notice" in html
    assert not outbox(settings)  # nothing happens before the reader consents here

    # The step page's own client (it set the session cookie with the CSRF token).
    client = new_client(app)
    page = client.post(action, data={"form": re.search(r'name="form" value="([^"]+)"',
                                                        snippet).group(1),  # type: ignore[union-attr]
                                     "email": "teacher@school.example", "name": "Kim"})
    fields = {**step_form(page), "email": "teacher@school.example", "name": "Kim",
              "language": "en", "consent": "y", "website": ""}
    # Submitted at once (it came filled in: one tick and one press), with the hidden field
    # sent back empty as a browser does, on a fresh page: done.
    done = client.post(action + "/confirm", data=fields)
    assert done.status_code == 302 and done.headers["Location"].endswith("/subscribe/sent")
    [mail] = outbox(settings)
    assert str(mail["To"]) == "teacher@school.example"
    with rt.db.session() as s:
        event = s.scalar(select(ConsentEvent).where(ConsentEvent.action == "subscribe"))
        assert event is not None and event.source == "embed"
        assert event.detail["project"] == "otter"
    with rt.db.session() as s:  # not confirmed yet: not counted
        assert reports.readers_brought(s, "otter") == 0
    confirm = link_in(mail, "/subscribe/confirm/")
    c = new_client(app)
    c.post(confirm, data={"csrf_token": csrf_from(c.get(confirm).get_data(as_text=True))})
    with rt.db.session() as s:
        assert reports.readers_brought(s, "otter") == 1
        assert reports.readers_brought(s, "sall") == 0
        report = reports.visibility(s, "otter", clock.now().date() - dt.timedelta(days=30),
                                    clock.now().date())
    assert report.readers_brought == 1 and report.as_dict()["readers_brought"] == 1
    assert "Readers you brought so far: 1" in editor.get(
        "/registry/otter/subscribe-form").get_data(as_text=True)


def test_bots_and_forged_forms_are_turned_away(app: Any, rt: Runtime, editor: Any,
                                               settings: Any,
                                               test_clock: clock.FakeClock) -> None:
    snippet = snippet_of(editor)
    # The honeypot filled in on the member's site: the usual answer, and nothing else.
    page, action = post_from_site(app, snippet, website="https://spam.example", consent="y")
    assert page.status_code == 200 and "Check your mail" in page.get_data(as_text=True)
    # A token of another project's form, or none.
    cosmos = snippet_of(editor, "cosmos")
    token = re.search(r'name="form" value="([^"]+)"', cosmos).group(1)  # type: ignore[union-attr]
    for data in ({"form": token, "email": "a@b.example"}, {"email": "a@b.example"}):
        r = new_client(app).post(action, data=data)
        assert r.status_code == 400 and "out of date" in r.get_data(as_text=True)
    # The honeypot on the step page, even after a proper wait.
    client = new_client(app)
    step = client.post(action, data={"form": re.search(r'name="form" value="([^"]+)"',
                                                        snippet).group(1),  # type: ignore[union-attr]
                                     "email": "bot@spam.example"})
    test_clock.advance(seconds=10)
    r = client.post(action + "/confirm", data={**step_form(step), "email": "bot@spam.example",
                                               "language": "en", "consent": "y",
                                               "website": "x"})
    assert r.status_code == 302
    # A forged time, and one an hour old.
    r = client.post(action + "/confirm", data={**step_form(step), "started": "forged",
                                               "email": "bot@spam.example", "language": "en",
                                               "consent": "y"})
    assert r.status_code == 400
    test_clock.advance(hours=2)
    r = client.post(action + "/confirm", data={**step_form(step), "email": "bot@spam.example",
                                               "language": "en", "consent": "y"})
    assert r.status_code == 400 and "open for a long time" in r.get_data(as_text=True)
    assert not outbox(settings)
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_a_filled_in_form_from_a_members_site_signs_up_at_once(
        app: Any, rt: Runtime, editor: Any, settings: Any) -> None:
    """The visitor typed their address and ticked the box on the member's site: the
    sign-up went to a step page that asked them to press again."""
    snippet = snippet_of(editor)
    assert ('<label for="ostogether-consent"><input id="ostogether-consent" name="consent" '
            'type="checkbox" value="y" required> I agree to receive the OStogether '
            'newsletter by mail') in snippet
    assert 'href="https://ostogether.test/privacy"' in snippet
    page, _ = post_from_site(app, snippet, consent="y")
    assert page.status_code == 303 and page.headers["Location"].endswith("/subscribe/sent")
    assert "Check your mail" in new_client(app).get(page.headers["Location"]).get_data(
        as_text=True)
    [mail] = outbox(settings)  # double opt-in still: the confirmation mail
    assert str(mail["To"]) == "teacher@school.example"
    assert "confirm" in str(mail["Subject"]).lower()
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "teacher@school.example"))
        assert sub is not None and (sub.status, sub.name) == ("pending", "Kim")
        event = s.scalar(select(ConsentEvent).where(ConsentEvent.action == "subscribe"))
        assert event is not None and event.source == "embed"
        assert event.detail["project"] == "otter"
        assert reports.readers_brought(s, "otter") == 0  # not before the confirmation
    confirm_from(app, mail)
    with rt.db.session() as s:
        assert reports.readers_brought(s, "otter") == 1
    # The same reader through another project's form, at once too: no second credit.
    sall = snippet_of(editor, "sall")
    again = new_client(app).post("/subscribe/from/sall", data={
        "form": token_of(sall), "email": "teacher@school.example", "consent": "y",
        "website": ""})
    assert again.status_code == 303
    assert "already receive" in str(outbox(settings)[-1]["Subject"])
    with rt.db.session() as s:
        assert (reports.readers_brought(s, "otter"), reports.readers_brought(s, "sall")) == (1, 0)


@pytest.mark.parametrize("left_out", ["consent", "email", "website"])
def test_a_post_from_a_members_site_that_is_not_complete_shows_the_step_filled_in(
        app: Any, rt: Runtime, editor: Any, settings: Any, left_out: str) -> None:
    """No tick, no address, or no honeypot field at all (a bot, or a site that stripped
    it): the step page as before, filled in, and nothing sent."""
    snippet = snippet_of(editor)
    action = "/subscribe/from/otter"
    data = {"form": token_of(snippet), "email": "teacher@school.example", "name": "Kim",
            "consent": "y", "website": ""}
    del data[left_out]
    page = new_client(app).post(action, data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "website of" in html and 'name="started"' in html
    if left_out != "email":
        assert 'value="teacher@school.example"' in html
    assert not outbox(settings)
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_an_old_copy_of_the_form_leads_to_the_step_and_still_credits_the_project(
        app: Any, rt: Runtime, editor: Any, settings: Any,
        test_clock: clock.FakeClock) -> None:
    """A copy older than ``embed_form_days`` is not fresh: the step first, then the
    project is credited as before."""
    with frozen(clock.now() - dt.timedelta(days=settings.embed_form_days + 1)):
        old = token_of(snippet_of(editor))
    with frozen(clock.now() - dt.timedelta(days=settings.embed_form_days, hours=-1)):
        fresh_enough = token_of(snippet_of(editor))
    page = editor.get("/registry/otter/subscribe-form").get_data(as_text=True)
    until = rt.today() + dt.timedelta(days=settings.embed_form_days)
    assert f"straight through until <strong>{until:%-d %B %Y}</strong>" in page
    client = new_client(app)
    step = client.post("/subscribe/from/otter", data={
        "form": old, "email": "teacher@school.example", "consent": "y", "website": ""})
    assert step.status_code == 200 and 'value="teacher@school.example"' in step.get_data(
        as_text=True)
    assert not outbox(settings)
    done = client.post("/subscribe/from/otter/confirm", data={
        **step_form(step), "email": "teacher@school.example", "language": "en",
        "consent": "y", "website": ""})
    assert done.status_code == 302
    confirm_from(app, outbox(settings)[-1])
    with rt.db.session() as s:
        assert reports.readers_brought(s, "otter") == 1
    # A copy an hour short of the setting's days is still fresh.
    r = new_client(app).post("/subscribe/from/otter", data={
        "form": fresh_enough, "email": "other@school.example", "consent": "y",
        "website": ""})
    assert r.status_code == 303


def test_a_wrong_address_from_a_members_site_is_said_on_the_step(
        app: Any, rt: Runtime, editor: Any, settings: Any) -> None:
    page = new_client(app).post("/subscribe/from/otter", data={
        "form": token_of(snippet_of(editor)), "email": "teacher@school", "consent": "y",
        "website": ""})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "You are not subscribed yet" in html
    assert 'aria-invalid="true"' in html and 'value="teacher@school"' in html
    assert not outbox(settings)


def test_the_step_sent_at_once_goes_through_unless_the_honeypot_field_is_missing(
        app: Any, rt: Runtime, settings: Any, test_clock: clock.FakeClock) -> None:
    """Within ``embed_min_seconds`` of the step being shown: a browser's post (the hidden
    field sent back empty) and a fresh page go through; a post that left the field out
    entirely is asked again, as before."""
    client = new_client(app)
    step = client.get("/subscribe/from/otter")
    fields = {**step_form(step), "email": "quick@school.example", "language": "en",
              "consent": "y"}
    bare = client.post("/subscribe/from/otter/confirm", data=fields)
    assert bare.status_code == 400 and "press Subscribe again" in bare.get_data(as_text=True)
    assert not outbox(settings)
    done = client.post("/subscribe/from/otter/confirm", data={**fields, "website": ""})
    assert done.status_code == 302 and done.headers["Location"].endswith("/subscribe/sent")
    assert [str(m["To"]) for m in outbox(settings)] == ["quick@school.example"]


def test_sign_ups_from_members_sites_keep_the_hourly_limit(
        app: Any, rt: Runtime, editor: Any, settings: Any) -> None:
    token = token_of(snippet_of(editor))
    codes = [new_client(app).post("/subscribe/from/otter", data={
        "form": token, "email": f"reader{n}@school.example", "consent": "y",
        "website": ""}).status_code for n in range(settings.subscribe_max_per_hour + 1)]
    assert codes == [303] * settings.subscribe_max_per_hour + [429]
    assert len(outbox(settings)) == settings.subscribe_max_per_hour


def test_unconfirmed_sign_ups_are_deleted_after_pending_days(rt: Runtime,
                                                             test_clock: clock.FakeClock) -> None:
    now = clock.now()
    with rt.db.session() as s:
        for email, age in (("old@example.org", 15), ("new@example.org", 13),
                           ("reader@example.org", 40)):
            sub = Subscriber(email=email, email_hash=subscribers.email_hash(email),
                             status="confirmed" if email.startswith("reader") else "pending",
                             link_nonce="n", created_at=now - dt.timedelta(days=age))
            s.add(sub)
            s.flush()
            s.add(ConsentEvent(subscriber_id=sub.id, email_hash=sub.email_hash,
                               action="subscribe", source="form", ip="192.0.2.1"))
    run = jobs.run(rt, "purge_pending")
    assert run.outcome == "ok" and "1 sign-up(s) not confirmed within 14 days" in run.summary
    with rt.db.session() as s:
        left = set(s.scalars(select(Subscriber.email)))
        assert left == {"new@example.org", "reader@example.org"}
        old = subscribers.email_hash("old@example.org")
        events = list(s.scalars(select(ConsentEvent).where(ConsentEvent.email_hash == old)))
        assert {e.action for e in events} == {"subscribe", "expired"}
        assert all(e.ip == "" and e.subscriber_id is None for e in events)
    assert jobs.run(rt, "purge_pending").outcome == "skipped"


def sign_up_through(app: Any, path: str, email: str, test_clock: clock.FakeClock,
                    form_token: str | None = None) -> int:
    """A visitor at the project's sign-up step (reached by a post of the member site's
    form with ``form_token``, or by a plain visit without one), submitting it a few
    seconds later: the step's status."""
    client = new_client(app)
    if form_token is None:
        step = client.get(path)
    else:
        step = client.post(path, data={"form": form_token, "email": email, "name": "Kim"})
    assert step.status_code == 200
    test_clock.advance(seconds=5)
    done = client.post(path + "/confirm", data={**step_form(step), "email": email,
                                                "name": "Kim", "language": "en",
                                                "consent": "y", "website": ""})
    return int(done.status_code)


def confirm_from(app: Any, mail: Any) -> None:
    confirm = link_in(mail, "/subscribe/confirm/")
    c = new_client(app)
    assert c.post(confirm, data={"csrf_token": csrf_from(
        c.get(confirm).get_data(as_text=True))}).status_code == 200


def token_of(snippet: str) -> str:
    found = re.search(r'name="form" value="([^"]+)"', snippet)
    assert found
    return found.group(1)


def test_only_a_sign_up_through_the_forms_token_credits_the_project(
        app: Any, rt: Runtime, editor: Any, settings: Any,
        test_clock: clock.FakeClock) -> None:
    """``GET /subscribe/from/<slug>`` credited the project without the form's token."""
    assert sign_up_through(app, "/subscribe/from/otter", "walk-in@school.example",
                           test_clock) == 302
    [mail] = outbox(settings)
    confirm_from(app, mail)
    with rt.db.session() as s:
        assert s.scalar(select(Subscriber.status).where(
            Subscriber.email == "walk-in@school.example")) == "confirmed"
        assert reports.readers_brought(s, "otter") == 0
    # Through the member site's form, with its signed token: credited, once confirmed.
    token = token_of(snippet_of(editor))
    assert sign_up_through(app, "/subscribe/from/otter", "teacher@school.example",
                           test_clock, token) == 302
    confirm_from(app, outbox(settings)[-1])
    with rt.db.session() as s:
        assert reports.readers_brought(s, "otter") == 1
        event = s.scalar(select(ConsentEvent).where(
            ConsentEvent.action == "confirm", ConsentEvent.detail["project"].as_string()
            == "otter"))
        assert event is not None  # the consent log says which project was credited
    # Another project's token on otter's form does not reach the step at all.
    other = token_of(snippet_of(editor, "cosmos"))
    r = new_client(app).post("/subscribe/from/otter", data={"form": other, "email": "x@y.z"})
    assert r.status_code == 400


def test_a_reader_is_credited_once_and_never_for_signing_up_again(
        app: Any, rt: Runtime, editor: Any, settings: Any,
        test_clock: clock.FakeClock) -> None:
    """An already confirmed reader who signed up again was credited again, to any
    period; a reader who left and came back is not a new reader either."""
    otter, sall = token_of(snippet_of(editor)), token_of(snippet_of(editor, "sall"))
    first = rt.today()
    sign_up_through(app, "/subscribe/from/otter", "teacher@school.example", test_clock, otter)
    confirm_from(app, outbox(settings)[-1])
    test_clock.advance(days=400)  # another reporting period
    for slug, token in (("otter", otter), ("sall", sall)):
        assert sign_up_through(app, f"/subscribe/from/{slug}", "teacher@school.example",
                               test_clock, token) == 302
    assert all("already receive" in str(m["Subject"]) for m in outbox(settings)[-2:])
    # The reader unsubscribes, then signs up again through sall's form and confirms.
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "teacher@school.example"))
        assert sub is not None
        token = subscribers.link_token(rt, sub)
    subscribers.unsubscribe(rt, subscribers.Request("link"), token)
    test_clock.advance(hours=2)  # past the sign-up limit's hour
    assert sign_up_through(app, "/subscribe/from/sall", "teacher@school.example",
                           test_clock, sall) == 302
    confirm_from(app, outbox(settings)[-1])
    with rt.db.session() as s:
        assert s.scalar(select(Subscriber.status).where(
            Subscriber.email == "teacher@school.example")) == "confirmed"
        everything = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), clock.now() + dt.timedelta(1))
        assert reports.readers_brought(s, "otter", *everything) == 1
        assert reports.readers_brought(s, "sall", *everything) == 0
        lately = dt.datetime.combine(first + dt.timedelta(days=30), dt.time(), dt.UTC)
        assert reports.readers_brought(s, "otter", lately, everything[1]) == 0


def test_the_credits_so_far_are_read_from_the_consent_log(rt: Runtime) -> None:
    """Migration 0016 fills ``reader_credits`` from the consent log: an address whose first
    confirmation followed a sign-up through a project's form, at that confirmation."""
    from ostogether.edges import db as dbmod
    from ostogether.models import ReaderCredit

    dbmod.downgrade(rt.db, "0015")
    t0 = clock.now() - dt.timedelta(days=100)

    def at(days: int) -> dt.datetime:
        return t0 + dt.timedelta(days=days)

    log = [  # (address, action, source, project, day)
        ("new@x.example", "subscribe", "embed", "otter", 0),
        ("new@x.example", "confirm", "link", "", 1),
        ("again@x.example", "subscribe", "form", "", 0),  # a reader from the site's form
        ("again@x.example", "confirm", "link", "", 1),
        ("again@x.example", "subscribe", "embed", "otter", 5),  # signed up again: no credit
        ("again@x.example", "confirm", "link", "", 6),
        ("imported@x.example", "import", "import", "", 0),
        ("imported@x.example", "subscribe", "embed", "sall", 3),
        ("pending@x.example", "subscribe", "embed", "sall", 3),  # never confirmed
        ("gone@x.example", "subscribe", "embed", "no-such-project", 3),
        ("gone@x.example", "confirm", "link", "", 4),
    ]
    with rt.db.engine.begin() as conn:
        for email, action, source, project, day in log:
            conn.execute(ConsentEvent.__table__.insert().values(
                email_hash=subscribers.email_hash(email), action=action, source=source,
                at=at(day), ip="", user_agent="", consent_version="1",
                detail={"project": project, "status": "pending"} if project else {}))
    dbmod.upgrade(rt.db)
    with rt.db.session() as s:
        credits = [(c.email_hash, c.at) for c in s.scalars(select(ReaderCredit))]
    assert credits == [(subscribers.email_hash("new@x.example"), at(1))]


# --------------------------------------------------------------------------- in Chromium

def member_page(snippet: str) -> Route:
    """A member project's news page carrying the sign-up form, as its site serves it."""
    return Route(body=("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                       "<title>COSMOS news</title></head><body><h1>COSMOS</h1>"
                       f"<p>Our latest news.</p>{snippet}</body></html>").encode(),
                 content_type="text/html; charset=utf-8")


def test_a_visitor_of_a_members_site_signs_up_in_one_press(
        live: Live, chromium: Any, smtp_server: Any, web: Any) -> None:
    rt = live.rt
    make_user(rt, "news@cosmos.example", "member", project="cosmos")
    _, sink = smtp_server
    member_context = chromium.new_context(viewport=PHONE)
    try:
        page = member_context.new_page()
        log_in(page, live.url, "news@cosmos.example")
        page.goto(live.url + "/registry/cosmos/subscribe-form")
        snippet = page.input_value("textarea.code")  # what the member copies
    finally:
        member_context.close()
    web.routes["/news.html"] = member_page(snippet)
    # As copied before the form had its consent box: the visitor consents on the step.
    old = re.sub(r'<p>\s*<label for="ostogether-consent">.*?</p>', "", snippet, flags=re.S)
    assert "consent" not in old
    web.routes["/old.html"] = member_page(old)
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(web.url("/news.html"))
        page.fill("#ostogether-email", "teacher@school.example")
        page.check("#ostogether-consent")
        page.click("form.ostogether-signup button[type=submit]")
        page.wait_for_url(live.url + "/subscribe/sent")
        assert page.inner_text("h1") == "Check your mail"
        assert [str(m["To"]) for m in wait_for(lambda: sink.messages)] == [
            "teacher@school.example"]
        # The clock stands still: the step is sent within embed_min_seconds of showing.
        with frozen(clock.now()):
            page.goto(web.url("/old.html"))
            page.fill("#ostogether-email", "second@school.example")
            page.click("form.ostogether-signup button[type=submit]")
            page.wait_for_url(live.url + "/subscribe/from/cosmos")
            assert page.input_value("#email") == "second@school.example"  # filled in
            page.check("#consent")
            page.click("main form button[type=submit]")
            page.wait_for_url(live.url + "/subscribe/sent")
        assert page.inner_text("h1") == "Check your mail"
    finally:
        context.close()
    wait_for(lambda: len(sink.messages) == 2)
    assert str(sink.messages[1]["To"]) == "second@school.example"
    with rt.db.session() as s:
        events = list(s.scalars(select(ConsentEvent).where(
            ConsentEvent.action == "subscribe").order_by(ConsentEvent.id)))
    assert [(e.source, e.detail.get("project")) for e in events] == [
        ("embed", "cosmos"), ("embed", "cosmos")]
