"""The library in the page's language (issue 35): the vocabularies' labels of
content/library.toml per language (English the fallback, read strictly), the output form's
problems, and what stays as it was for machines (OAI-PMH, the JSON-LD, the JSON listing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from ostogether.accounts import tokens
from ostogether.core.errors import ContentError
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Community
from ostogether.library import content, oai
from tests.conftest import csrf_from, login, new_client
from tests.factories import add_output, make_user, project_id

POND = {"title": "Pond life lesson", "type": "lesson-plan", "subjects": ["biology"],
        "age_ranges": ["primary"], "licence": "CC-BY-SA-4.0", "sdgs": [14],
        "description": "Dragonflies and water quality."}


def _facet(page: str, facet: str) -> dict[str, str]:
    doc = lxml_html.fromstring(page)
    return {str(o.get("value")): str(o.text)
            for o in doc.xpath(f'//select[@id="facet-{facet}"]/option')}


def test_every_shipped_language_labels_every_word(home: Path) -> None:
    vocab = content.vocabulary(Community(home))
    for code in ("nl", "fr", "de", "es", "it"):
        for group in content.GROUPS:
            assert set(vocab.translated[code][group]) == set(getattr(vocab, group)), (
                code, group)
    assert vocab.in_language("nl").subjects["chemistry"] == "Scheikunde"
    assert vocab.in_language("it").age_ranges["lower-secondary"] == (
        "Scuola secondaria di primo grado (dagli 11 ai 14 anni)")
    assert vocab.in_language("de").licences["CC-BY-4.0"] == (
        "Creative Commons Namensnennung 4.0")
    assert vocab.in_language("en") == vocab and vocab.types["guide"] == "Guide or white book"


def test_a_missing_label_falls_back_to_english(home: Path) -> None:
    path = home / "content" / "library.toml"
    path.write_text(path.read_text().replace('map = "Kaart"\n', ""))
    dutch = content.vocabulary(Community(home)).in_language("nl")
    assert dutch.types["map"] == "Map" and dutch.types["video"] == "Video"
    assert dutch.types["lesson-plan"] == "Lesplan"


def test_a_label_for_an_unknown_word_names_its_file_and_line(home: Path) -> None:
    path = home / "content" / "library.toml"
    text = path.read_text()
    # "poster" is no type; the line named is the one inside [languages.fr.types].
    path.write_text(text.replace('[languages.fr.types]\n',
                                 '[languages.fr.types]\nposter = "Affiche"\n'))
    with pytest.raises(ContentError) as exc:
        content.vocabulary(Community(home))
    line = path.read_text().splitlines().index('poster = "Affiche"') + 1
    assert (f"library.toml:{line}: 'poster' in [languages.fr.types] is not one of the "
            f"types (toolkit, lesson-plan") in str(exc.value)


def test_an_unknown_language_or_group_names_its_file_and_line(home: Path) -> None:
    path = home / "content" / "library.toml"
    path.write_text(path.read_text() + '\n[languages.sv.types]\nvideo = "Video"\n'
                    '\n[languages.nl.colours]\nred = "Rood"\n')
    with pytest.raises(ContentError) as exc:
        content.vocabulary(Community(home))
    lines = path.read_text().splitlines()
    sv, colours = lines.index("[languages.sv.types]") + 1, lines.index("[languages.nl.colours]") + 1
    assert (f"library.toml:{sv}: unknown field 'languages.sv' (known: de, en, es, fr, it, "
            f"nl)") in str(exc.value)
    assert (f"library.toml:{colours}: unknown field 'languages.nl.colours' (known: "
            f"age_ranges, licences, subjects, types)") in str(exc.value)


def test_the_public_library_in_dutch(app: Any, client: Any, rt: Runtime) -> None:
    add_output(rt, "otter", **POND)
    page = client.get("/library?lang=nl").get_data(as_text=True)
    assert _facet(page, "type")["lesson-plan"] == "Lesplan (1)"
    assert _facet(page, "subject")["biology"] == "Biologie (1)"
    assert _facet(page, "age")["primary"] == "Primair onderwijs (6 tot 11 jaar) (1)"
    assert _facet(page, "licence")["CC-BY-SA-4.0"] == (
        "Creative Commons Naamsvermelding-GelijkDelen 4.0 (1)")
    assert _facet(page, "sdg")["14"] == "14. Leven in het water (1)"
    # A language by its own name, not its code.
    assert _facet(page, "language")["en"] == "English (1)"
    assert '<span class="tag">Lesplan</span>' in page
    # A chosen filter keeps its Dutch label, and the query keeps its words.
    chosen = client.get("/library?subject=biology&lang=nl").get_data(as_text=True)
    assert _facet(chosen, "subject")["biology"] == "Biologie (1)"
    one = client.get("/library/pond-life-lesson?lang=nl").get_data(as_text=True)
    doc = lxml_html.fromstring(one)
    facts = {str(dt.text_content()): dd.text_content().strip()
             for dt, dd in zip(doc.xpath("//dl/dt"), doc.xpath("//dl/dd"), strict=True)}
    assert facts["Voor wie"] == "Primair onderwijs (6 tot 11 jaar)"
    assert facts["Vakken"] == "Biologie"
    assert facts["Licentie"] == "Creative Commons Naamsvermelding-GelijkDelen 4.0"
    assert '<span class="tag">Lesplan</span>' in one
    # English by default, as before (a new visitor: the Dutch one's cookie remembers nl).
    visitor = new_client(app)
    english = visitor.get("/library").get_data(as_text=True)
    assert _facet(english, "type")["lesson-plan"] == "Lesson plan (1)"
    assert _facet(english, "sdg")["14"] == "14. Life Below Water (1)"
    assert "Primary (6 to 11)" in visitor.get("/library/pond-life-lesson").get_data(
        as_text=True)


def test_italian_labels_from_the_browser(client: Any, rt: Runtime) -> None:
    add_output(rt, "otter", **POND)
    page = client.get("/library", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert _facet(page, "type")["lesson-plan"] == "Piano di lezione (1)"
    assert _facet(page, "age")["primary"] == "Scuola primaria (dai 6 agli 11 anni) (1)"


def test_machines_read_the_same_words_in_every_language(client: Any, rt: Runtime) -> None:
    add_output(rt, "otter", **POND)
    pages = [client.get(f"/library/pond-life-lesson?lang={code}").get_data(as_text=True)
             for code in ("en", "fr")]
    json_ld = [json.loads(lxml_html.fromstring(p).xpath(
        '//script[@type="application/ld+json"]')[0].text) for p in pages]
    assert json_ld[0] == json_ld[1]
    assert json_ld[1]["learningResourceType"] == "Lesson plan"
    assert json_ld[1]["educationalLevel"] == ["Primary (6 to 11)"]
    assert "Biology" in json_ld[1]["about"]
    harvests = [client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc",
                           headers={"Accept-Language": code}).get_data() for code in
                ("en", "nl")]
    assert harvests[0] == harvests[1]
    record = etree.fromstring(harvests[1])
    dc = {"o": oai.OAI, "dc": oai.DC}
    assert "Lesson plan" in [e.text for e in record.iterfind(".//dc:type", dc)]
    assert "Biology" in [e.text for e in record.iterfind(".//dc:subject", dc)]
    listing = client.get("/library.json?lang=de")
    assert listing.status_code == 200
    assert listing.get_json()["outputs"][0]["type"] == "lesson-plan"


def _member(app: Any, rt: Runtime) -> Any:
    make_user(rt, "otter@example.org", role="member", project="otter")
    member = new_client(app)
    assert login(member, "otter@example.org").status_code == 302
    return member


def test_the_output_form_in_french_with_its_problems(app: Any, rt: Runtime) -> None:
    member = _member(app, rt)
    form = member.get("/members/library/new?lang=fr").get_data(as_text=True)
    doc = lxml_html.fromstring(form)
    types = {o.get("value"): o.text for o in doc.xpath('//select[@id="type"]/option')}
    assert types["lesson-plan"] == "Fiche pédagogique"
    assert "Collège (11 à 14 ans)" in form and "Mathématiques" in form
    assert "4. Éducation de qualité" in form
    token = csrf_from(form)
    bad = member.post("/members/library/new?lang=fr", data={
        "csrf_token": token, "title": "", "type": "map", "url": "https://example.org/m",
        "date": "hier", "image_url": "https://example.org/p.png"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Le titre est obligatoire" in html
    assert "«\u00a0hier\u00a0» n’est pas une date" in html
    assert "Décrivez l’image pour les personnes qui ne peuvent pas la voir" in html
    assert "title is required" not in html.lower()
    english = member.post("/members/library/new?lang=en", data={
        "csrf_token": token, "title": "", "type": "map", "url": "https://example.org/m",
        "date": "yesterday"}).get_data(as_text=True)
    assert "The title is required" in english
    assert "&#39;yesterday&#39; is not a date; write it like 2023-06-30" in english


def test_a_wrong_archived_address_in_german(app: Any, rt: Runtime) -> None:
    member = _member(app, rt)
    output = add_output(rt, "otter", title="Outdoor map")
    token = csrf_from(member.get("/members/library?lang=de").get_data(as_text=True))
    page = member.post(f"/members/library/{output}/archive?lang=de",
                       data={"csrf_token": token, "archived_url": "ftp://example.org/x"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Die Adresse der archivierten Kopie kann nicht verwendet werden" in page


def test_the_api_answers_a_bad_output_in_json(client: Any, rt: Runtime) -> None:
    # The field messages are lazy sentences: they still become JSON text.
    _, secret = tokens.create(rt, Actor("test"), project_id(rt, "otter"), "test")
    r = client.post("/api/v1/outputs", json={"title": "", "type": "poster",
                                             "url": "https://example.org/x", "date": "x"},
                    headers={"Authorization": f"Bearer {secret}",
                             "Accept-Language": "nl"})
    assert r.status_code == 422
    body = r.get_json()["error"]
    assert set(body["fields"]) == {"title", "type", "date"}
    assert all(isinstance(v, str) for v in body["fields"].values())
    assert "3" in body["message"]


def test_the_members_list_and_the_editors_review_name_the_type(app: Any, editor: Any,
                                                               rt: Runtime) -> None:
    add_output(rt, "otter", approve=False, **POND)
    review = editor.get("/editors/library?lang=de").get_data(as_text=True)
    assert '<span class="tag">Unterrichtsentwurf</span>' in review
    mine = _member(app, rt).get("/members/library?lang=es").get_data(as_text=True)
    assert '<td data-label="Tipo">Plan de clase</td>' in mine
