"""The header and alternates kept for visitors (web/chrome.py): per language and address,
never a logged-in person's, and renewed when site.toml changes."""

from __future__ import annotations

from typing import Any

from ostogether.core.settings import Settings
from ostogether.web import chrome
from tests.conftest import new_client


def header(page: str) -> str:
    return page[page.index('<header'):page.index('</header>')]


def test_a_visitors_header_is_kept_per_language_and_address(app: Any, client: Any) -> None:
    chrome._kept.clear()
    nl = client.get("/registry?lang=nl").get_data(as_text=True)
    assert 'href="/registry?lang=fr"' in header(nl) and '<html lang="nl"' in nl
    assert len(chrome._kept) == 2  # the header and the alternates
    again = client.get("/registry?lang=nl").get_data(as_text=True)
    assert header(again) == header(nl) and len(chrome._kept) == 2
    # another address: its own switcher links, with the page's other arguments kept
    other = new_client(app).get("/registry?theme=steam&lang=de").get_data(as_text=True)
    assert 'href="/registry?theme=steam&amp;lang=fr"' in header(other)
    assert 'hreflang="fr" href="https://' in other and "theme=steam&amp;lang=fr" in other
    assert "Anmelden" in header(other) and len(chrome._kept) == 4


def test_a_logged_in_persons_header_is_their_own(app: Any, client: Any, editor: Any) -> None:
    chrome._kept.clear()
    visitor = client.get("/registry").get_data(as_text=True)
    mine = editor.get("/registry").get_data(as_text=True)
    assert "Log out" in header(mine) and "csrf_token" in header(mine)
    assert "Log out" not in header(visitor) and "Log in" in header(visitor)
    assert len(chrome._kept) == 2  # only the visitor's


def test_a_change_to_site_toml_shows_in_the_kept_header(app: Any, client: Any,
                                                        settings: Settings) -> None:
    chrome._kept.clear()
    assert ">OStogether</a>" in header(client.get("/registry").get_data(as_text=True))
    path = settings.home / "content" / "site.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('short_name = "OStogether"', 'short_name = "OSt"'),
                    encoding="utf-8")
    assert ">OSt</a>" in header(client.get("/registry").get_data(as_text=True))
