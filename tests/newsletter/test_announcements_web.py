"""Editors create an announcement to a segment in the browser and see whom it reaches
before anything is sent (issue 36)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ostogether.core.segments import Segment, reaches
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue
from tests.browser import DESKTOP, PHONE, Live, log_in
from tests.conftest import csrf_from
from tests.factories import add_population, make_user


def _count_line(html: str) -> str:
    found = re.search(r'<div id="segment-count"[^>]*>(.*?)</div>', html, re.S)
    assert found, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_count_button_counts_without_creating_and_says_how(editor: Any,
                                                               rt: Runtime) -> None:
    population = add_population(rt, 50)
    page = editor.get("/editors/announcements/new").get_data(as_text=True)
    assert 'name="topics" value="steam"' in page and 'name="countries"' in page
    seg = Segment.of(topics=["steam", "citizen-science"], languages=["en", "fr"])
    inside = [r for r in population.values() if reaches(seg, r)]
    chose = sum(bool(r.topics) for r in inside)
    answer = editor.post("/editors/announcements/new", data={
        "csrf_token": csrf_from(page), "action": "count", "subject": "Webinar",
        "topics": ["steam", "citizen-science"], "languages": ["en", "fr"]})
    assert answer.status_code == 200
    line = _count_line(answer.get_data(as_text=True))
    assert line.startswith(f"{len(inside)} readers are in this segment: {chose} chose one "
                           f"of these topics, {len(inside) - chose} take every topic.")
    english = sum(r.language == "en" for r in inside)
    assert f"English {english}" in line
    with rt.db.session() as s:  # counting created nothing
        assert s.query(Issue).count() == 0
    # A country segment leaves out the readers whose country is not known, and says so.
    answer = editor.post("/editors/announcements/new", data={
        "csrf_token": csrf_from(page), "action": "count", "countries": ["BE"]})
    unknown = sum(not r.country for r in population.values())
    assert (f"{unknown} readers with no known country are left out"
            in _count_line(answer.get_data(as_text=True)))
    # An unknown key is named beside its group, and nothing is created.
    answer = editor.post("/editors/announcements/new", data={
        "csrf_token": csrf_from(page), "action": "create", "subject": "Webinar",
        "preheader": "Online", "topics": ["astrology"]})
    assert answer.status_code == 400 and "Unknown topics &#39;astrology&#39;" in \
        answer.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.query(Issue).count() == 0


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_editor_creates_an_announcement_in_the_browser(live: Live, browser: Any,
                                                          viewport: dict[str, int]) -> None:
    rt = live.rt
    make_user(rt, "editor@ecsite.eu", "editor")
    population = add_population(rt, 30)
    seg = Segment.of(topics=["steam"], countries=["BE"])
    want = sum(reaches(seg, r) for r in population.values())
    page = browser.new_page()
    page.set_viewport_size(viewport)
    log_in(page, live.url, "editor@ecsite.eu")
    page.goto(live.url + "/editors/issues/")
    page.click("text=New announcement")
    page.fill("#subject", "Call for schools: the STEAM fair")
    page.fill("#preheader", "Apply by 1 March")
    page.fill("#intro_md", "Schools in Belgium can **apply** now.")
    page.check("#seg-topics-steam")
    page.check("#seg-countries-BE")
    page.click("button[value=count]")  # a plain form post: no JavaScript needed
    count = page.inner_text("#segment-count")
    assert count.startswith(f"{want} reader")
    assert page.is_checked("#seg-topics-steam") and page.input_value("#subject") == \
        "Call for schools: the STEAM fair"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]  # nothing wider than the screen
    page.click("button[value=create]")
    assert page.inner_text("h1") == "Announcement A1"
    assert page.inner_text("#segment-count").startswith(f"{want} reader")
    with rt.db.session() as s:
        issue = s.query(Issue).one()
        assert (issue.kind, issue.number, issue.segment) == (
            "announcement", -1, {"topics": ["steam"], "countries": ["BE"]})
    # The segment is changed on its page: counted first, then saved.
    page.uncheck("#seg-countries-BE")
    page.click("#segment button[value=count]")
    assert page.inner_text("#segment-count").startswith(
        f"{sum(reaches(Segment.of(['steam']), r) for r in population.values())} reader")
    page.click("#segment button[value=save]")
    with rt.db.session() as s:
        assert s.query(Issue).one().segment == {"topics": ["steam"]}
