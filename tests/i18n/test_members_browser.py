"""The members' news page in Debian's Chromium on a phone whose browser asks for Dutch:
Dutch headings, buttons, states and dates, and nothing wider than the 390 px screen."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import PHONE, Live, log_in
from tests.factories import add_item, make_user


def test_the_dutch_members_news_page_fits_a_phone(live: Live, chromium: Any) -> None:
    make_user(live.rt, "juf@cosmos.example", "member", project="cosmos")
    add_item(live.rt, "cosmos", link="https://example.org/open-dag", approve=False,
             title="Open dag in het wetenschapscentrum, met een lange titel die omloopt")
    add_item(live.rt, "cosmos", link="https://example.org/lerarendag",
             title="Lerarendag over klimaat en water")
    context = chromium.new_context(viewport=PHONE, locale="nl-NL")
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        log_in(page, live.url, "juf@cosmos.example")
        page.goto(live.url + "/members/")
        assert page.get_attribute("html", "lang") == "nl"
        assert page.get_by_role("heading", level=1).inner_text() == "COSMOS: uw nieuws"
        assert page.get_by_role("link", name="Nieuws insturen").is_visible()
        assert page.get_by_role("button", name="Tonen").is_visible()
        table = page.locator("table.card-table")
        assert table.locator("caption").inner_text() == "2 berichten"
        states = table.locator(".state").all_inner_texts()
        assert sorted(states) == ["goedgekeurd", "ingestuurd"]
        sent = table.locator('td[data-label="Ingestuurd"]').first.inner_text()
        assert re.fullmatch(r"\d{1,2} [a-z]+ 20\d\d via het formulier", sent), sent
        assert table.locator("summary", has_text="Intrekken").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
    finally:
        context.close()
