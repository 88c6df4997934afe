"""Issue 36, done when: a reader opens the preferences link of a real mail, changes their
topics in Chromium (at desktop width and at 390 px), and the consent log holds the
change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether.models import ConsentEvent, Subscriber
from tests.browser import PHONE, Live, link_in, shot
from tests.conftest import wait_for


def wait_mail(sink: Any, to: str, count: int = 1) -> list[Any]:
    def arrived() -> list[Any] | None:
        found = [m for m in sink.messages if to in m["To"]]
        return found if len(found) >= count else None
    return list(wait_for(arrived, seconds=10, interval=0.05))


def preferences_log(live: Live) -> list[dict[str, Any]]:
    with live.rt.db.session() as s:
        return [e.detail for e in s.scalars(select(ConsentEvent).where(
            ConsentEvent.action == "preferences").order_by(ConsentEvent.id))]


def test_a_reader_changes_their_topics_from_the_link_in_a_mail(
        live: Live, browser: Any, smtp_server: Any) -> None:
    _, sink = smtp_server
    page = browser.new_page()
    page.goto(live.url + "/subscribe")
    page.fill("#email", "teacher@example.org")
    # The choices are folded away: "everything" unless the reader opens them.
    assert not page.is_visible("input[name=topics][value=steam]")
    page.click("details.choices > summary")
    page.check("input[name=topics][value=steam]")
    page.check("#consent")
    page.click("main form button[type=submit]")
    assert page.inner_text("h1") == "Check your mail"
    [confirm] = wait_mail(sink, "teacher@example.org")
    page.goto(link_in(confirm, r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+"))
    page.click("main form button[type=submit]")
    welcome = wait_mail(sink, "teacher@example.org", 2)[1]
    preferences = link_in(welcome, r"http://127\.0\.0\.1:\d+/p/\S+")

    page.goto(preferences)
    assert page.is_checked("input[name=topics][value=steam]")
    page.uncheck("input[name=topics][value=steam]")
    page.check("input[name=topics][value=sdg-13]")
    page.check("input[name=audiences][value=teachers]")
    page.click("main form button[type=submit] >> text=Save")
    assert "Saved." in page.inner_text("main")
    assert page.is_checked("input[name=topics][value=sdg-13]")
    [change] = preferences_log(live)
    assert (change["before"]["topics"], change["after"]["topics"]) == (["steam"], ["sdg-13"])
    assert change["after"]["audiences"] == ["teachers"]

    phone = browser.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(preferences)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.check("input[name=topics][value=citizen-science]")
    phone.check("input[name=projects][value=connect]")
    phone.select_option("#country", "BE")
    phone.click("main form button[type=submit] >> text=Save")
    assert "Saved." in phone.inner_text("main")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "preferences-choices-phone")
    second = preferences_log(live)[-1]
    assert second["before"]["topics"] == ["sdg-13"]
    assert second["after"] == {"topics": ["citizen-science", "sdg-13"], "kinds": [],
                               "audiences": ["teachers"], "projects": ["connect"],
                               "country": "BE"}
    with live.rt.db.session() as s:
        reader = s.scalars(select(Subscriber)).one()
        assert (sorted(reader.topics), reader.projects, reader.country) == (
            ["citizen-science", "sdg-13"], ["connect"], "BE")
