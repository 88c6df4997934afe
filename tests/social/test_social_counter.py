"""The post page's live character counter (static/post_count.js) in Debian's Chromium,
at a desktop's width and a phone's: strings typed into the text box are counted as the
server counts them on save (ostogether/social/text.py), on every network. The data of
X's rules (static/x_text.js) is made from the library the server counts with."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from ostogether.social import posts as social
from ostogether.social import text as social_text
from tests.browser import DESKTOP, PHONE, Live, log_in, shot
from tests.conftest import social_posts
from tests.factories import TEST, make_user
from tests.x_text_js import TARGET, source

TYPED = [
    "Open schooling brings schools and science centres together.",  # ASCII
    "学校と科学館が一緒に学ぶ 오픈 스쿨링 开放学校",  # CJK
    "Family 👨‍👩‍👧‍👦 and 🏳️‍🌈 with 👍🏽 🇧🇪🇪🇺",  # emoji joined with ZWJ, tones, flags
    "e\u0301le\u0300ves, n\u0303, a\u0308\u0301\u0323 stacked",  # combining marks
    "Read https://www.cosmosproject.eu/news/2026/open-schooling-day?lang=fr, then "
    "cosmosproject.eu and t.co/abc.",  # addresses with and without https://
    "Hi @cosmos@scholar.social (see https://example.org/a_(b)). ©2026 ™ #️⃣ 7️⃣",
    "Two lines\nand a tab\there ‼ — «quotes» “more” …",
    "🎉" * 141,  # too long for X
]


def kept(text: str) -> str:
    """The text as the server keeps it before counting (social/posts.py)."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()


def test_the_x_rules_are_made_from_the_servers_library() -> None:
    assert TARGET.read_text(encoding="utf-8") == source(), (
        "static/x_text.js is out of date: run `.venv/bin/python -m tests.x_text_js`")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_counter_agrees_with_the_server_as_you_type(live: Live, browser: Any,
                                                        size: dict[str, int]) -> None:
    rt = live.rt
    make_user(rt)
    social.plan_week(rt, TEST)
    first = {}
    for p in sorted(social_posts(rt).values(), key=lambda p: p.id):
        first.setdefault(p.network, p)
    assert set(first) == {"x", "mastodon", "bluesky", "linkedin", "facebook"}
    browser.new_page().close()
    login_page = browser.new_page()
    log_in(login_page, live.url, "editor@example.org")
    login_page.close()
    wrong = []
    for network, post in first.items():
        limit = social_text.limit_for(rt.settings, network)
        page = browser.new_page()
        page.set_viewport_size(size)
        page.goto(f"{live.url}/editors/social/{post.id}")
        count = page.locator("#text-count .count-number")
        # Before typing: the script counts what the server sent, alike.
        assert int(count.inner_text()) == social_text.measure(post.text, network, limit).length
        assert "counted as you type" in page.locator("#text-count").inner_text()
        box = page.locator("#text")
        for text in TYPED:
            box.fill("")
            box.press_sequentially(text)
            want = social_text.measure(kept(text), network, limit)
            got = int(count.inner_text())
            if got != want.length:
                wrong.append(f"{network}: {text!r}: the page counts {got}, the server "
                             f"{want.length}")
            shown = page.locator("#text-count").inner_text()
            assert ("too long" in shown) == (not want.fits and want.length > limit), shown
        shot(page, f"social-counter-{network}-{size['width']}", full=False)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{network}: the page is {width} px wide"
        page.close()
    assert wrong == []


def test_without_a_script_the_servers_count_is_shown(live: Live, chromium: Any) -> None:
    rt = live.rt
    make_user(rt)
    social.plan_week(rt, TEST)
    x_post = next(p for p in social_posts(rt).values() if p.network == "x")
    context = chromium.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    log_in(page, live.url, "editor@example.org")
    page.goto(f"{live.url}/editors/social/{x_post.id}")
    page.fill("#text", "学校 👨‍👩‍👧 https://example.org/a")
    page.click("text=Save the text")
    page.wait_for_load_state()
    saved = social_posts(rt)[x_post.id].text
    m = social_text.measure(saved, "x")
    assert page.locator("#text-count").inner_text() == (
        f"X counts {m.length} of 280 weighted characters (counted when saved).")
    context.close()
