"""The editors' applications in Debian's Chromium on a phone whose browser asks for Dutch:
Dutch headings, table labels, dates, buttons and flash message, and nothing wider than
the 390 px screen."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import PHONE, Live, log_in
from tests.factories import applicant, make_user


def test_the_dutch_applications_fit_a_phone(live: Live, chromium: Any) -> None:
    make_user(live.rt)
    pid = applicant(live.rt, "KLIMAATLAB")
    context = chromium.new_context(viewport=PHONE, locale="nl-NL")
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        log_in(page, live.url, "editor@example.org")
        page.goto(live.url + "/editors/applications")
        assert page.get_attribute("html", "lang") == "nl"
        assert page.get_by_role("heading", level=1).inner_text() == "Aanvragen om aan te sluiten"
        assert page.get_by_role("heading", name="Wacht op een besluit").is_visible()
        applied = page.locator('td[data-label="Aangevraagd"]').first.inner_text()
        assert re.fullmatch(r"\d{1,2} [a-z]+ 20\d\d", applied), applied
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width

        page.get_by_role("link", name="KLIMAATLAB").click()
        assert page.url.endswith(f"/editors/applications/{pid}")
        assert page.get_by_role("heading", name="Toelatingscriteria nu").is_visible()
        assert page.get_by_label("Notitie of reden voor de kandidaat").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        page.get_by_role("button", name="Toelaten als lid").click()
        page.wait_for_load_state()
        flash = page.locator(".flash").inner_text()
        assert flash.startswith("KLIMAATLAB is nu lid; de kandidaat is op de hoogte gebracht."), \
            flash
        assert page.get_by_role("heading", name="Besloten").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
    finally:
        context.close()
