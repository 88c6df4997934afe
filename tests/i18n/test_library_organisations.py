"""The public library and organisations pages, their filters' messages and the join
forms follow the visitor's language: the browser's Accept-Language alone, or ?lang=."""

from __future__ import annotations

import html
from typing import Any

from ostogether.edges.runtime import Runtime
from tests.conftest import csrf_from
from tests.factories import add_organisation, add_output


def test_the_library_in_dutch_from_the_browser_and_in_german_by_choice(
        rt: Runtime, client: Any) -> None:
    add_output(rt, "otter", title="Outdoor map", url="https://example.org/map")
    page = client.get("/library", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert "Wat de projecten van de gemeenschap hebben gemaakt" in page
    assert "1 resultaat" in page and ">Voor wie<" in page and ">Zoeken<" in page
    output = client.get("/library/outdoor-map", headers={"Accept-Language": "nl"}
                        ).get_data(as_text=True)
    assert "Licentie" in output and "Niet vermeld" in output and "← Bibliotheek" in output
    # A bad filter: the sentence in the visitor's language.
    r = client.get("/library?page=x&lang=de")
    assert r.status_code == 400
    assert "page muss eine ganze Zahl ab 1 sein." in r.get_data(as_text=True)
    r = client.get("/library?colour=red&lang=fr")
    assert "Paramètre inconnu «\u00a0colour\u00a0»" in r.get_data(as_text=True)
    # English stays English.
    assert "What the community's projects made" in client.get(
        "/library?lang=en").get_data(as_text=True)


def test_the_organisations_directory_its_map_and_its_filters_in_dutch(
        rt: Runtime, client: Any) -> None:
    slug = add_organisation(rt, "NEMO", city="Amsterdam", latitude=52.37, longitude=4.9)
    add_organisation(rt, "Ciência Viva", country="PT")
    nl = {"Accept-Language": "nl-NL,nl;q=0.9"}
    page = html.unescape(client.get("/organisations", headers=nl).get_data(as_text=True))
    assert '<html lang="nl"' in page and "<h1>Organisaties</h1>" in page
    assert "2 organisaties" in page and "Alle landen" in page
    assert "<title>Nederland: 1 lid</title>" in page
    assert "<title>Frankrijk: 0 leden</title>" in page
    assert "Amsterdam, Nederland" in page
    r = client.get("/organisations?type=spaceship&country=ZZ", headers=nl)
    assert r.status_code == 400
    text = html.unescape(r.get_data(as_text=True))
    assert "Er bestaat geen soort organisatie 'spaceship': kies er een uit de lijst." in text
    assert "Geen enkele aangesloten organisatie is gevestigd in 'ZZ'" in text
    org = html.unescape(client.get(f"/organisations/{slug}?lang=es").get_data(as_text=True))
    assert '<html lang="es"' in org and "← Todas las organizaciones" in org
    assert "Países Bajos" in org
    # The English page is as before.
    page = html.unescape(client.get("/organisations?lang=en").get_data(as_text=True))
    assert "<title>Netherlands: 1 member</title>" in page and "2 organisations" in page


def test_the_join_forms_in_the_visitors_language(rt: Runtime, client: Any) -> None:
    it = {"Accept-Language": "it"}
    page = html.unescape(client.get("/join/organisation", headers=it).get_data(as_text=True))
    assert "Nome dell'organizzazione" in page and "Invia" not in page.split("<form")[0]
    assert "Aderire a" in page and "Selezionare" in page
    person = html.unescape(client.get("/join/person?lang=de").get_data(as_text=True))
    assert "Ihr Name" in person and "Über Sie" in person and "Mitmachen" in person
    r = client.post("/join/person", data={"csrf_token": csrf_from(person), "name": "Ana",
                                          "email": "ana@example.org"})
    assert r.status_code == 400
    assert "Bitte akzeptieren Sie den Verhaltenskodex, um mitzumachen." in r.get_data(
        as_text=True)
