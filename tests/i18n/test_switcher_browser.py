"""The language switcher in Debian's Chromium on a phone: a browser that asks for Dutch
gets Dutch, the switcher's links work without JavaScript and the choice stays, and the
row of languages never makes the page scroll sideways at 390 px."""

from __future__ import annotations

from typing import Any

from tests.browser import PHONE, Live


def test_the_switcher_works_without_script_and_fits_a_phone(live: Live, chromium: Any) -> None:
    context = chromium.new_context(viewport=PHONE, locale="nl-NL", java_script_enabled=False)
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        for path in ("/", "/registry", "/subscribe", "/join", "/archive"):
            page.goto(live.url + path)
            assert page.get_attribute("html", "lang") == "nl", path
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)
            switcher = page.get_by_role("navigation", name="Taal")
            assert switcher.get_by_role("link").count() == 6
        page.goto(live.url + "/registry")
        page.get_by_role("link", name="Deutsch").click()
        assert page.url.endswith("/registry?lang=de")
        assert page.get_attribute("html", "lang") == "de"
        assert page.get_by_role("heading", level=1).inner_text() == "Projektverzeichnis"
        page.goto(live.url + "/")  # the cookie keeps the choice over the browser's Dutch
        assert page.get_attribute("html", "lang") == "de"
        assert page.get_by_role("navigation", name="Sprache").is_visible()
    finally:
        context.close()
