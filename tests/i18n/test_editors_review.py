"""The editors' review in the editor's language: the queue, one item's review (its
decision, edit form and translations) and the library's review follow the page's
language like the rest of the back office (docs/translations.md); English stays the
default."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from ostogether.edges.runtime import Runtime
from tests.conftest import post
from tests.factories import add_item, add_output, make_user


def words(html: str) -> str:
    """A page's text as a reader reads it: without tags, with entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def dutch(client: Any) -> Any:
    """The client's every request says Accept-Language: nl, as a Dutch browser does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    return client


def test_the_review_queue_in_dutch(rt: Runtime, editor: Any) -> None:
    add_item(rt, "cosmos", "event", link="https://example.org/e", approve=False,
             title="Open day at the lab")
    html = dutch(editor).get("/editors/items").get_data(as_text=True)
    text = words(html)
    assert '<html lang="nl"' in html
    assert "<h1>Nieuwsberichten</h1>" in html
    assert "1 nieuwsbericht wacht op beoordeling, oudste eerst" in text
    assert ">Aangevinkte goedkeuren</button>" in html
    assert ">Aangevinkte afwijzen met deze reden</button>" in html
    assert "In één keer beslissen over de aangevinkte berichten" in text
    assert ">Evenement</td>" in html  # the kind's label
    assert '<option value="submitted" selected>ingestuurd</option>' in html  # the state's
    assert 'data-label="Ingang"' in html and ">Alle soorten</option>" in html
    for english in ("News items", "Approve ticked", "waiting for review", "All kinds",
                    "Reason for the submitter"):
        assert english not in html, english


def test_an_items_review_and_its_decision_in_dutch(rt: Runtime, editor: Any) -> None:
    make_user(rt, "m@example.org", "member", project="cosmos")
    item_id = add_item(rt, "cosmos", link="https://example.org/a", approve=False,
                       title="Citizen science week")
    dutch(editor)
    html = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    text = words(html)
    assert "<title>Beoordelen: Citizen science week" in html
    for heading in ("Beslissen", "In de nieuwsbrief", "Vertalingen", "Waar het heen mag"):
        assert f">{heading}</h2>" in html, heading
    assert ">Goedkeuren</button>" in html and ">Afwijzen met deze reden</button>" in html
    assert "Het besluit wordt gemaild naar m@example.org." in text
    assert ">Reden voor de inzender</label>" in html
    assert "<summary>Het bericht bewerken</summary>" in html
    assert ">Wijzigingen opslaan</button>" in html
    assert "Link naar het volledige verhaal" in text and "Voorstellen voor de nieuwsbrief" in text
    assert "Link to the full story" not in html
    for english in ("Decide</h2>", "Reject with this reason", "In the newsletter",
                    "Save changes", "Where it may go"):
        assert english not in html, english
    # The decision's flash, on the queue it returns to.
    r = post(editor, f"/editors/items/{item_id}", f"/editors/items/{item_id}",
             action="reject", **{"review-reason": "Please link to the event's page."})
    assert r.status_code == 302
    page = words(editor.get(r.headers["Location"]).get_data(as_text=True))
    assert "„Citizen science week” afgewezen; m@example.org per mail ingelicht." in page


def test_a_bulk_approval_flash_in_dutch(rt: Runtime, editor: Any) -> None:
    ids = [add_item(rt, "cosmos", link=f"https://example.org/{n}", approve=False)
           for n in range(2)]
    dutch(editor)
    r = post(editor, "/editors/items/decide", "/editors/items",
             **{"item": [str(i) for i in ids], "action": "approve", "bulk-reason": ""})
    page = words(editor.get(r.headers["Location"]).get_data(as_text=True))
    assert "2 nieuwsbericht(en) goedgekeurd; 0 inzender(s) per mail ingelicht" in page


def test_the_library_review_in_dutch(rt: Runtime, editor: Any) -> None:
    add_output(rt, "cosmos", title="A toolkit for labs", approve=False)
    add_output(rt, "cosmos", title="A guide to the sky")
    html = dutch(editor).get("/editors/library").get_data(as_text=True)
    text = words(html)
    assert "<h1>Bibliotheek: resultaten die op beoordeling wachten</h1>" in html
    assert "Reden om „A toolkit for labs” af te wijzen" in text
    assert ">Goedkeuren<span" in html and ">Afwijzen<span" in html
    assert ">Dode links</h2>" in html and ">In de bibliotheek</h2>" in html
    assert "1 openbaar resultaat." in text
    assert ">Intrekken<span" in html
    for english in ("outputs waiting for review", "Reason to reject", "Dead links",
                    "public output."):
        assert english not in html, english


def test_the_queue_in_german_by_the_parameter_and_english_by_default(
        rt: Runtime, editor: Any) -> None:
    add_item(rt, "cosmos", link="https://example.org/a", approve=False)
    html = editor.get("/editors/items").get_data(as_text=True)
    assert "<h1>News items</h1>" in html and ">Approve ticked</button>" in html
    html = editor.get("/editors/items?lang=de").get_data(as_text=True)
    assert "<h1>Neuigkeiten</h1>" in html
    assert ">Markierte freigeben</button>" in html
    assert "1 Neuigkeit wartet auf Prüfung, die älteste zuerst" in words(html)
