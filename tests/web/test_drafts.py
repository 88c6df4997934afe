"""Nothing typed is lost, in Debian's Chromium: the issue's editorial survives the item
buttons (Move, Drop, Up, Down are forms of their own that reload the page), and leaving a
page with unsaved text asks first."""

from __future__ import annotations

from typing import Any

from ostogether.newsletter import issues as newsletter
from tests.browser import Live, log_in, shot
from tests.factories import TEST, add_item, make_user


def test_the_editorial_survives_the_item_buttons_and_leaving_asks_first(
        live: Live, browser: Any) -> None:
    make_user(live.rt, "editor@ecsite.eu", "editor")
    for n in range(2):
        add_item(live.rt, "cosmos", "news", link=f"https://example.org/story/{n}",
                 title=f"Story {n}")
    issue = newsletter.compose_next(live.rt, TEST)
    page = browser.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    page.goto(f"{live.url}/editors/issues/{issue.number}")
    page.fill("#intro_md", "Dear reader, this issue is about air quality.")
    page.fill("#subject", "Air, schools and science")
    # Down on the first item: another form, which reloads the page.
    page.click("form[action$='/arrange'] button[value=down]")
    page.wait_for_load_state()
    assert page.input_value("#intro_md") == "Dear reader, this issue is about air quality."
    assert page.input_value("#subject") == "Air, schools and science"
    assert "What you typed here and had not saved is back." in page.inner_text("main")
    shot(page, "draft-kept")
    # Leaving by a link with the text still unsaved asks first; staying keeps it.
    asked: list[str] = []

    def stay(dialog: Any) -> None:  # "Stay on this page"
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.click("main a[href$='/editors/issues/']")  # the handler ran within the click
    assert asked == ["beforeunload"]
    assert page.input_value("#intro_md") == "Dear reader, this issue is about air quality."
    # Saving clears the draft: nothing is asked any more, and nothing comes back.
    page.click("form[data-keep=details] button[type=submit]")
    page.wait_for_load_state()
    assert "Saved the subject and the editorial." in page.inner_text("main")
    page.reload()
    assert "had not saved is back" not in page.inner_text("main")
    page.click("main a[href$='/editors/issues/']")
    page.wait_for_url("**/editors/issues/")
    assert asked == ["beforeunload"]  # not asked again


def test_the_kept_draft_is_announced_in_the_pages_language(live: Live, browser: Any) -> None:
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Leave the page?": yes, reload
    page.goto(f"{live.url}/join/person?lang=nl")
    page.fill("#name", "Anna de Vries")
    page.reload()
    page.wait_for_load_state()
    assert page.input_value("#name") == "Anna de Vries"
    main = page.inner_text("main")
    assert "Wat u hier had getypt en nog niet had bewaard, is terug." in main
    assert page.inner_text(".draft-note button") == "Weggooien"
    assert "What you typed" not in main
