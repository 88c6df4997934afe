"""The editors' newsletter pages in the editor's language: an editor whose browser asks
for Dutch reads the issues list, an issue's page, its pre-flight and its preview, their
headings and buttons and the flash of composing, in Dutch; ?lang=fr switches to French;
English stays the default (docs/translations.md)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from ostogether.edges.runtime import Runtime
from tests.conftest import post
from tests.factories import add_item


def words(html: str) -> str:
    """A page's text as a reader reads it: without tags, with entities read."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def dutch(client: Any) -> Any:
    """The client's every request says Accept-Language: nl, as a Dutch browser does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    return client


def compose(rt: Runtime, editor: Any) -> tuple[str, int]:
    """Two approved items composed into a draft: (its page's address, its number)."""
    add_item(rt, "cosmos", link="https://cosmosproject.eu/n1", title="Science café in Milan")
    add_item(rt, "levers", "tool", link="https://levers.eu/t1", title="Lesson plan kit")
    r = post(editor, "/editors/issues/compose", "/editors/issues/")
    assert r.status_code == 302
    url = r.headers["Location"]
    return url, int(url.rsplit("/", 1)[1])


def test_the_issues_pages_in_dutch(editor: Any, rt: Runtime) -> None:
    dutch(editor)
    add_item(rt, "connect", link="https://connect.eu/n0", title="Open day")
    html = editor.get("/editors/issues/").get_data(as_text=True)
    assert "<h1>Nummers van de nieuwsbrief</h1>" in html
    assert "1 goedgekeurd bericht voor de nieuwsbrief" in words(html)
    assert ">Het volgende nummer samenstellen</button>" in html
    assert ">Nieuwe aankondiging</a>" in html
    for english in ("Compose the next issue", "approved item", "New announcement"):
        assert english not in html, english

    url, number = compose(rt, editor)
    html = editor.get(url).get_data(as_text=True)
    text = words(html)
    # The flash of composing, then the issue's own page.
    assert f"Nummer #{number} is een concept met 3 berichten." in text
    assert f"<h1>Nummer #{number}</h1>" in html
    for heading in ("Onderwerp, preheader en voorwoord", "In de taal van elke lezer",
                    "Verzenddatum en -tijd", "Berichten", "Een test sturen"):
        assert f">{heading}</h2>" in html, heading
    for button in ("De verzenddatum wijzigen", "De test sturen"):
        assert f">{button}</button>" in html, button
    assert "Voer de pre-flight uit en keur goed" in text
    for english in ("Send date and time", "Send a test", "is a draft with", "Change the send"):
        assert english not in html, english

    # The pre-flight.
    html = editor.get(f"/editors/issues/{number}/preflight").get_data(as_text=True)
    assert f"<h1>Pre-flight van nummer {number}</h1>" in html
    assert ">Wat de keuzes van lezers met dit nummer doen</h2>" in html
    assert ">De taal van elke lezer</h2>" in html
    assert "Een mislukte controle blokkeert de goedkeuring." in html
    for english in ("Pre-flight of", "What readers' choices", "A failed check blocks"):
        assert english not in html, english

    # The preview.
    r = editor.get(f"/editors/issues/{number}/preview")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"<h1>Voorbeeld van nummer {number}</h1>" in html
    assert ">Voorbeeld als lezer die volgt…</h2>" in html
    assert ">Voorbeeld als deze lezer</button>" in html
    assert ">Platte-tekstdeel</h2>" in html and ">Pre-flight uitvoeren</a>" in html
    for english in ("Preview of", "Plain-text part", "Preview as this reader"):
        assert english not in html, english


def test_the_issue_page_in_french_with_lang(editor: Any, rt: Runtime) -> None:
    html = editor.get("/editors/issues/?lang=fr").get_data(as_text=True)
    assert "<h1>Numéros de la lettre d’information</h1>" in html
    assert ">Composer le prochain numéro</button>" in html
    url, number = compose(rt, editor)  # the cookie keeps French for the flash and pages
    html = editor.get(url).get_data(as_text=True)
    assert f"<h1>Numéro {number}</h1>" in html
    assert ">Date et heure d’envoi</h2>" in html and ">Envoyer un test</h2>" in html
    assert f"Le numéro {number} est un brouillon avec 2 contenus." in words(html)


def test_the_issues_pages_stay_english_by_default(editor: Any, rt: Runtime) -> None:
    url, number = compose(rt, editor)
    html = editor.get(url).get_data(as_text=True)
    assert f"<h1>Issue #{number}</h1>" in html and ">Send date and time</h2>" in html
    assert f"Issue #{number} is a draft with 2 item(s)." in words(html)
    html = editor.get(f"/editors/issues/{number}/preflight").get_data(as_text=True)
    assert f"<h1>Pre-flight of issue #{number}</h1>" in html
