"""The whole service as people use it, in headless Chromium against the app on loopback.
Each flow is asserted on what the page shows, and its last page is saved as a screenshot
under test-output/browser/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.models import Issue, NewsItem, Project, SocialPost, Subscriber
from ostogether.newsletter import issues as newsletter
from tests.browser import Live, axe_serious, link_in, log_in, shot
from tests.conftest import (
    wait_for,
)
from tests.factories import TEST, add_item, make_user


def wait_mail(sink: Any, to: str, count: int = 1) -> list[Any]:
    def arrived() -> list[Any] | None:
        found = [m for m in sink.messages if to in m["To"]]
        return found if len(found) >= count else None
    return list(wait_for(arrived, seconds=10, interval=0.05))


def test_a_project_applies_sees_its_checks_and_an_editor_accepts_it(
        live: Live, browser: Any, smtp_server: Any) -> None:
    _, sink = smtp_server
    make_user(live.rt, "editor@ecsite.eu", "editor")
    page = browser.new_page()
    page.goto(live.url + "/join")
    page.fill("#acronym", "EDUCHAIN")
    page.fill("#name", "Education chain reaction")
    page.fill("#description", "Schools and science centres co-design STEAM activities.")
    page.select_option("#initiative_type", "eu-funded-project")
    page.check("input[name=themes][value=open-schooling]")
    page.fill("#countries", "BE, GR")
    page.select_option("#programme", "Horizon Europe")
    page.fill("#grant_number", "GA-1")  # wrong on purpose
    page.fill("#start_date", "2025-01-01")
    page.fill("#end_date", "2027-12-31")
    page.fill("#website", "https://educhain.example.org/")
    page.fill("#contact_email", "ana@educhain.example.org")
    page.check("#non_commercial")
    page.click("main button[type=submit]")
    # The eligibility checks answer next to the fields.
    body = page.inner_text("main")
    assert "The application was not sent" in body
    assert "The code of conduct has not been accepted." in body
    assert "Grant agreement number 'GA-1' is not valid" in body
    page.fill("#grant_number", "101099999")
    page.check("#coc")
    page.click("main button[type=submit]")
    assert page.inner_text("h1") == "Thank you: the application of EDUCHAIN is sent"
    wait_mail(sink, "ana@educhain.example.org")
    # An editor accepts it.
    editor = browser.new_page()
    log_in(editor, live.url, "editor@ecsite.eu")
    editor.goto(live.url + "/editors/applications")
    editor.click("text=EDUCHAIN")
    assert "Education chain reaction" in editor.inner_text("main")
    editor.click("button[value=accept]")
    assert "EDUCHAIN" in editor.inner_text("main")
    editor.goto(live.url + "/registry")
    assert "EDUCHAIN" in editor.inner_text("main")
    shot(editor, "join-accepted")
    with live.rt.db.session() as s:
        assert s.scalars(select(Project.status).where(Project.acronym == "EDUCHAIN")).one() \
            == "member"
    assert len(wait_mail(sink, "ana@educhain.example.org", 2)) == 2  # received, accepted


def test_a_member_submits_news_and_an_event_and_sees_their_states(
        live: Live, browser: Any) -> None:
    make_user(live.rt, "news@cosmosproject.eu", "member", project="cosmos")
    page = browser.new_page()
    log_in(page, live.url, "news@cosmosproject.eu")
    page.goto(live.url + "/members/items/new")
    page.select_option("#kind", "news")
    page.fill("#title", "Pupils map the air around their school")
    page.fill("#summary", "Three classes built **low-cost sensors**.")
    page.fill("#link", "https://cosmosproject.eu/air")
    page.click("main form button[type=submit]")
    page.goto(live.url + "/members/items/new")
    page.select_option("#kind", "event")
    page.fill("#title", "Open schooling day")
    page.fill("#summary", "Workshops for teachers and museum educators.")
    page.fill("#link", "https://cosmosproject.eu/day")
    page.fill("#event_start", "2027-03-10T10:00")
    # The date and time fields look like every other field, and are big enough to use.
    style = page.eval_on_selector("#event_start", "e => [getComputedStyle(e).borderTopWidth, "
                                  "e.getBoundingClientRect().height, e.getBoundingClientRect()"
                                  ".width]")
    assert style[0] == "2px" and style[1] >= 36 and style[2] >= 200
    page.select_option("#event_timezone", "Europe/Brussels")
    page.fill("#event_location", "Utrecht")
    page.click("main form button[type=submit]")
    page.goto(live.url + "/members/")
    body = page.inner_text("main")
    assert "Pupils map the air around their school" in body and "Open schooling day" in body
    assert body.count("submitted") >= 2
    shot(page, "member-items")
    with live.rt.db.session() as s:
        kinds = sorted(s.scalars(select(NewsItem.kind).where(NewsItem.source == "web")))
    assert kinds == ["event", "news"]


def test_an_editor_reviews_composes_fixes_preflight_previews_on_a_phone_and_approves(
        live: Live, browser: Any, web: Any) -> None:
    rt = live.rt
    make_user(rt, "editor@ecsite.eu", "editor")
    good = add_item(rt, "cosmos", "news", link=web.url("/page/1"), approve=False,
                    title="Sensors in the school garden")
    add_item(rt, "levers", "news", link=web.url("/missing"), title="A story that moved")
    page = browser.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    # Review: the post previews wrap their long tracked links inside the page.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/editors/items/{good}")
    assert page.locator(".post-preview").count() >= 5
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Approve the submitted item.
    page.click("button[value=approve]")
    # Compose the next issue.
    page.goto(live.url + "/editors/issues/")
    page.click("text=Compose the next issue")
    body = page.inner_text("main")
    assert "Sensors in the school garden" in body and "A story that moved" in body
    # The pre-flight finds the broken link and blocks approval.
    page.click("text=Pre-flight")
    assert "Failed:" in page.inner_text("main")
    assert page.locator("text=Fix the failed checks first.").count() == 1
    # Fix it: drop the item whose link is broken, then check again.
    page.click("text=← Issue")
    page.click("button[value=drop]:has-text('A story that moved')")
    page.click("text=Pre-flight")
    assert "0 failed" in page.inner_text("main")
    # Preview at phone width.
    phone = browser.new_page()  # the same editor's session, at a phone's width
    phone.set_viewport_size({"width": 390, "height": 844})
    with rt.db.session() as s:
        issue_id = s.scalars(select(Issue.id)).one()
    with rt.db.session() as s:
        number = s.get(Issue, issue_id).number  # type: ignore[union-attr]
    phone.goto(f"{live.url}/editors/issues/{number}/preview.html")
    assert "Sensors in the school garden" in phone.inner_text("body")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone
    shot(phone, "issue-phone-preview", full=False)
    # Approve (acknowledging any warning the checks raise).
    for box in page.locator("input[name=acknowledge]").all():
        box.check()
    page.click("text=/^Approve issue/")
    assert "approved" in page.inner_text("main")
    shot(page, "issue-approved")
    with rt.db.session() as s:
        assert s.get(Issue, issue_id).status == "approved"  # type: ignore[union-attr]


def test_an_editor_chooses_the_send_time_and_tests_the_issue_on_two_outside_addresses(
        live: Live, browser: Any, axe_context: Any, web: Any, smtp_server: Any) -> None:
    _, sink = smtp_server
    rt = live.rt
    make_user(rt, "editor@ecsite.eu", "editor")
    add_item(rt, "cosmos", "news", link=web.url("/page/1"), title="Sensors in the garden")
    issue = newsletter.compose_next(rt, TEST)
    zone = rt.community.schedule().zone
    # Ten days from now at 14:30 on Brussels' clocks (never a skipped hour there).
    day = (clock.now() + dt.timedelta(days=10)).astimezone(zone).date()
    page = browser.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    page.goto(f"{live.url}/editors/issues/{issue.number}")
    assert "Europe/Brussels (" in page.inner_text("#when")
    page.fill("#send_date", day.isoformat())
    page.fill("#send_time", "14:30")
    page.click("text=Change the send date")
    assert f"now goes out on {day:%A %-d %B %Y} at 14:30, Europe/Brussels (" in page.inner_text(
        "main")
    with rt.db.session() as s:
        send_at = s.get(Issue, issue.id).send_at  # type: ignore[union-attr]
    assert send_at == dt.datetime.combine(day, dt.time(14, 30), tzinfo=zone).astimezone(dt.UTC)
    # A test to the editor and to two addresses typed in, one a line.
    page.fill("#others", "kim.teacher@gmail.example\nanna@outlook.example")
    page.click("text=Send the test")
    assert "Test sent to editor@ecsite.eu, kim.teacher@gmail.example, anna@outlook.example." \
        in page.inner_text("main")
    for to in ("kim.teacher@gmail.example", "anna@outlook.example", "editor@ecsite.eu"):
        [mail] = wait_mail(sink, to)
        assert mail["Subject"].startswith("OStogether #") and mail["List-Unsubscribe"]
    # A mistyped address: named beside the box, and what was typed stays to correct.
    page.fill("#others", "kim.teacher@gmail")
    page.click("text=Send the test")
    assert "kim.teacher@gmail: The part after the @-sign is not valid" in page.inner_text(
        "#others-error")
    assert page.input_value("#others") == "kim.teacher@gmail"
    assert len(sink.messages) == 3
    shot(page, "issue-send-date-and-test")
    # The page with its problems is as usable on a phone, and for a screen reader (axe
    # needs a context that lets it in past the pages' CSP).
    checked = axe_context.new_page()
    checked.set_viewport_size({"width": 390, "height": 844})
    log_in(checked, live.url, "editor@ecsite.eu")
    checked.goto(f"{live.url}/editors/issues/{issue.number}")
    checked.fill("#send_time", "")
    checked.click("text=Change the send date")
    assert "choose a time" in checked.inner_text("#send_time-error")
    assert axe_serious(checked) == []
    checked.fill("#others", "kim.teacher@gmail")
    checked.click("text=Send the test")
    assert checked.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_serious(checked) == []


def test_a_visitor_subscribes_confirms_changes_preferences_and_unsubscribes(
        live: Live, browser: Any, smtp_server: Any) -> None:
    _, sink = smtp_server
    page = browser.new_page()
    page.goto(live.url + "/subscribe")
    page.fill("#email", "reader@example.org")
    page.fill("#name", "Rea")
    page.check("#consent")
    page.click("main form button[type=submit]")
    assert page.inner_text("h1") == "Check your mail"
    [confirm] = wait_mail(sink, "reader@example.org")
    page.goto(link_in(confirm, r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+"))
    with live.rt.db.session() as s:  # following the link alone subscribes nobody
        assert s.scalars(select(Subscriber.status)).one() == "pending"
    page.click("main form button[type=submit]")
    assert page.inner_text("h1") == "You are subscribed"
    welcome = wait_mail(sink, "reader@example.org", 2)[1]
    page.goto(link_in(welcome, r"http://127\.0\.0\.1:\d+/p/\S+"))
    page.fill("#name", "Rea B.")
    page.click("main form button[type=submit]")
    assert "saved" in page.inner_text("main").lower()
    page.goto(link_in(welcome, r"http://127\.0\.0\.1:\d+/u/\S+"))
    page.click("main form button[type=submit]")  # one click
    assert "unsubscribed" in page.inner_text("main").lower()
    shot(page, "unsubscribed")
    with live.rt.db.session() as s:
        reader = s.scalars(select(Subscriber)).one()
        assert (reader.status, reader.name) == ("unsubscribed", "Rea B.")


def test_the_social_week_is_planned_edited_and_approved(live: Live, browser: Any) -> None:
    rt = live.rt
    make_user(rt, "editor@ecsite.eu", "editor")
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1",
             title="Inquiry with pupils")
    page = browser.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    from ostogether.social import posts as social

    week = social.week_label(*social.next_week(rt))
    page.goto(f"{live.url}/editors/social/?week={week}")
    page.click("text=/^Plan week/")
    assert "Inquiry with pupils" in page.inner_text("main")
    page.click("ul.posts a:has-text('X') >> nth=0")
    page.fill("#text", "🎉" * 141)
    page.click("text=Save the text")
    assert "X counts 282 of 280 weighted characters; shorten it by 2." in page.inner_text("main")
    page.fill("#text", "Inquiry with pupils: a guide https://cosmosproject.eu/r1 #OpenSchooling")
    page.click("text=Save the text")
    assert "The post was saved." in page.inner_text("main")
    page.click(f"text=← Week {week}")
    page.click("text=/^Approve the .* planned post/")
    body = page.inner_text("main")
    assert "10 post(s) approved" in body
    assert body.count("approved") >= 11
    shot(page, "social-week-approved")
    with rt.db.session() as s:
        statuses = set(s.scalars(select(SocialPost.status)))
        x_text = s.scalars(select(SocialPost.text).where(SocialPost.network == "x")).first()
    assert statuses == {"approved"}
    assert x_text == "Inquiry with pupils: a guide https://cosmosproject.eu/r1 #OpenSchooling"


# ------------------------------------------------------------------ accessibility

PUBLIC = ["/", "/registry", "/registry/cosmos", "/join", "/code-of-conduct", "/subscribe",
          "/subscribe/sent", "/privacy", "/archive", "/newsletter/manage", "/login",
          "/account/reset", "/subscribe/from/cosmos"]


@pytest.fixture
def axe_context(chromium: Any) -> Any:
    # axe is injected as a script, which the pages' CSP would block: bypass it here only.
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield context
    context.close()


def test_axe_really_runs_and_finds_violations(axe_context: Any) -> None:
    page = axe_context.new_page()
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {v["id"] for v in axe_serious(page)}
    assert {"image-alt", "label"} <= found  # so an empty list below means something


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_have_no_serious_accessibility_violations(live: Live, axe_context: Any,
                                                              path: str) -> None:
    page = axe_context.new_page()
    page.goto(live.url + path)
    assert axe_serious(page) == []


def test_a_readers_own_pages_have_no_serious_accessibility_violations(
        live: Live, axe_context: Any) -> None:
    from ostogether.readers import subscribers
    from tests.factories import add_readers

    [reader] = add_readers(live.rt, 1)
    with live.rt.db.session() as s:
        sub = s.get(Subscriber, reader)
        assert sub is not None
        links = subscribers.link_maker(live.rt)(sub.id, sub.link_nonce)
    page = axe_context.new_page()
    for url in (links["preferences_url"], links["unsubscribe_url"]):
        page.goto(url)
        assert axe_serious(page) == [], url


def test_an_imported_past_issue_has_no_serious_accessibility_violations(
        live: Live, axe_context: Any) -> None:
    from ostogether.newsletter import archive_import
    from tests.factories import TEST

    folder = Path(__file__).parents[1] / "data" / "mailchimp-archive"
    archive_import.import_folder(live.rt, TEST, folder)
    page = axe_context.new_page()
    page.goto(f"{live.url}/archive/1")
    assert "OStogether newsletter #1" in page.title()
    assert axe_serious(page) == []


def test_the_web_version_of_an_issue_has_no_serious_accessibility_violations(
        live: Live, axe_context: Any, web: Any) -> None:
    from tests.factories import approved_issue, mark_sent

    issue = approved_issue(live.rt, [web.url("/page/1"), web.url("/page/2")])
    mark_sent(live.rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    page = axe_context.new_page()
    page.goto(f"{live.url}/archive/{issue.number}")
    assert "Sample" not in page.title()
    assert axe_serious(page) == []
    shot(page, "archive-issue")


def test_the_new_social_pages_have_no_serious_accessibility_violations(
        live: Live, axe_context: Any, web: Any) -> None:
    """A post with its kept picture, a link post with its card's warning, a member's
    handles page with an error, and the editors' confirmation queue."""
    import uuid

    from ostogether.core import clock
    from ostogether.edges.audit import Actor
    from ostogether.registry import handles
    from ostogether.social import posts as social
    from tests.factories import TEST, project_id
    from tests.feedserver import Route, picture

    rt = live.rt
    web.routes["/photo.jpg"] = Route(picture(900, 600, "JPEG"), content_type="image/jpeg")
    web.routes["/bare"] = Route(b"<!doctype html><title>Bare</title>", content_type="text/html")
    at = clock.now() + dt.timedelta(days=2)
    with rt.db.session() as s:
        posts = [SocialPost(network=n, status="planned", kind="reading", slot_at=at,
                            evergreen_key=f"k{n}", title="Air quality week",
                            link=web.url(path), text=f"Air quality week {web.url(path)}",
                            image_url=img, image_alt="Pupils with sensors" if img else "",
                            idempotency_key=uuid.uuid4().hex)
                 for n, path, img in (("x", "/page/1", web.url("/photo.jpg")),
                                      ("linkedin", "/bare", ""))]
        s.add_all(posts)
        s.flush()
        ids = [p.id for p in posts]
    social.approve(rt, TEST, ids)
    make_user(rt, "editor@ecsite.eu", "editor")
    make_user(rt, "ana@cosmos.example", "member", project="cosmos")
    handles.propose(rt, Actor("ana@cosmos.example"), project_id(rt, "cosmos"),
                    {"x": "cosmos_eu", "bluesky": "cosmos.bsky.social"})
    page = axe_context.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    for url in (f"/editors/social/{ids[0]}", "/editors/handles", f"/editors/social/{ids[1]}"):
        page.goto(live.url + url)
        assert axe_serious(page) == [], url
    assert "No picture in the card." in page.inner_text("main")  # the LinkedIn post's
    member = axe_context.new_page()
    log_in(member, live.url, "ana@cosmos.example")
    member.goto(live.url + "/members/handles")
    member.fill("#x", "not a handle!")
    member.click("main form button[type=submit]")
    assert "X: should be" in member.inner_text("main")
    assert axe_serious(member) == []


def test_an_editor_gives_a_join_form_project_its_feed_handles_and_logo(
        live: Live, browser: Any, tmp_path: Path) -> None:
    from tests.factories import applicant
    from tests.feedserver import FeedServer, Route, picture, rss

    applicant(live.rt, accept=True)  # SCI-LAB: came through the Join form, has no file
    make_user(live.rt, "editor@ecsite.eu", "editor")
    server = FeedServer().start()
    try:
        server.routes["/feed.xml"] = Route(body=rss([{"title": "Lab day",
                                                      "link": "https://x.test/1"}]))
        server.routes["/news.html"] = Route(body=b"<!doctype html><title>news</title>",
                                            content_type="text/html")
        logo = tmp_path / "sci-lab-logo.png"
        logo.write_bytes(picture(480, 240))
        page = browser.new_page()
        log_in(page, live.url, "editor@ecsite.eu")
        page.goto(live.url + "/editors/projects/")
        page.click("text=SCI-LAB")
        assert page.inner_text("h1").startswith("SCI-LAB")
        page.fill("#feed_url", server.url("/news.html"))  # a page, not its feed
        page.fill("#handles_x", "https://x.com/scilab_eu")
        page.fill("#handles_mastodon", "https://mastodon.social/@scilab")
        page.fill("#handles_linkedin", "https://www.linkedin.com/company/scilab/")
        page.set_input_files("#logo_file", str(logo))
        page.click("main form button[type=submit]")
        # Nothing saved; each problem beside its field; what was typed is still there.
        assert "Nothing was saved" in page.inner_text("main")
        assert "does not serve an RSS or Atom feed" in page.inner_text("#feed_url-error")
        assert "organisation's number" in page.inner_text("#handles_linkedin-error")
        assert page.input_value("#handles_x") == "https://x.com/scilab_eu"
        assert "The logo you sent is kept" in page.inner_text("main")
        page.fill("#feed_url", server.url("/feed.xml"))
        page.fill("#handles_linkedin", "https://www.linkedin.com/company/4242/")
        page.click("main form button[type=submit]")
        assert "Saved SCI-LAB: feed URL, social handles, logo." in page.inner_text("main")
        assert page.input_value("#handles_x") == "scilab_eu"
        assert page.input_value("#handles_mastodon") == "@scilab@mastodon.social"
        # The history says what changed, old → new.
        assert "feed URL (empty → " + server.url("/feed.xml") in page.inner_text("main")
        shot(page, "editor-project-edited")
        # The public page shows the kept logo, served by the service.
        page.goto(live.url + "/registry/sci-lab")
        width = page.eval_on_selector("h1 img.logo", "i => i.complete && i.naturalWidth")
        assert width == 480
    finally:
        server.stop()
    with live.rt.db.session() as s:
        p = s.scalars(select(Project).where(Project.slug == "sci-lab")).one()
        assert (p.feed_url, p.handles["linkedin"]) == (server.url("/feed.xml"), "4242")
        assert p.logo.endswith(".png")


def test_the_editors_project_pages_have_no_serious_accessibility_violations(
        live: Live, axe_context: Any) -> None:
    """The list, a project's page, and the page after a failed save (errors beside
    fields), and the public project page with its recent news."""
    make_user(live.rt, "editor@ecsite.eu", "editor")
    add_item(live.rt, "cosmos", link="https://cosmosproject.eu/air", title="Air week")
    page = axe_context.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    for url in ("/editors/projects/", "/editors/projects/cosmos", "/registry/cosmos"):
        page.goto(live.url + url)
        assert axe_serious(page) == [], url
    page.goto(live.url + "/editors/projects/cosmos")
    page.fill("#grant_number", "GA-1")
    page.fill("#handles_x", "not a handle!")
    page.click("main form button[type=submit]")
    assert "Nothing was saved" in page.inner_text("main")
    assert axe_serious(page) == []
