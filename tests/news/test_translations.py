"""An item in several languages: translations through the API (accepted, and refused
with a clear message), the form, the editors' review, and feeds whose entries in other
languages share a link or guid."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ostogether.accounts import tokens
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, NewsItemTranslation, Project
from ostogether.news import feeds
from tests.conftest import csrf_from, login
from tests.factories import make_user
from tests.feedserver import FeedServer, Route, atom, rss

ITEM = {"kind": "news", "title": "Teachers' summer school", "summary": "Apply **now**.",
        "link": "https://example.org/summer-school"}
FORM = {"kind": "news", "title": "Open day at the science centre",
        "summary": "Schools **welcome**.", "link": "https://example.org/open-day",
        "language": "en", "for_newsletter": "y", "for_social": "y", "event_timezone": ""}


@pytest.fixture
def token(rt: Runtime) -> str:
    with rt.db.session() as s:
        pid = s.scalar(select(Project.id).where(Project.slug == "cosmos"))
    _, secret = tokens.create(rt, Actor("test"), pid, "test")
    return secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def member(client: Any, rt: Runtime) -> None:
    make_user(rt, "m@example.org", "member", project="cosmos")
    login(client, "m@example.org")


def submit(client: Any, **changes: Any) -> Any:
    page = client.get("/members/items/new")
    data = {**FORM, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/members/items/new", data=data)


def use_feed(rt: Runtime, slug: str, url: str) -> None:
    with rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == slug)).feed_url = url


def items_of(rt: Runtime, slug: str) -> list[NewsItem]:
    with rt.db.session() as s:
        return list(s.scalars(select(NewsItem).join(Project).where(Project.slug == slug)
                              .order_by(NewsItem.id)))


NL = {"title": "Zomerschool voor leraren", "summary": "Schrijf u **nu** in.",
      "link": "https://example.org/nl/zomerschool"}


def test_the_api_takes_translations_and_gives_them_back(client: Any, token: str,
                                                         rt: Runtime) -> None:
    fr = {"title": "École d'été", "summary": "Inscrivez-vous."}
    r = client.post("/api/v1/items", json={**ITEM, "translations": {"nl": NL, "fr": fr}},
                    headers=auth(token))
    assert r.status_code == 201, r.json
    got = r.json["translations"]
    assert got["nl"]["title"] == NL["title"] and got["nl"]["link"] == NL["link"]
    assert got["nl"]["summary_html"] == "<p>Schrijf u <strong>nu</strong> in.</p>\n"
    assert got["fr"]["link"] is None  # the item's own link
    with rt.db.session() as s:
        rows = s.scalars(select(NewsItemTranslation).order_by(NewsItemTranslation.language))
        assert [(t.language, t.source) for t in rows] == [("fr", "api"), ("nl", "api")]
    listed = client.get("/api/v1/items", headers=auth(token)).json
    assert set(listed["items"][0]["translations"]) == {"fr", "nl"}


@pytest.mark.parametrize(("translations", "field", "says"), [
    ({"xx": NL}, "translations.xx", "not a language readers receive"),
    ({"sv": NL}, "translations.sv", "use one of en, nl, fr, de, es, it"),
    ({"en": NL}, "translations.en", "the item itself is in English"),
    ({"nl": {**NL, "title": ""}}, "translations.nl.title", "the title is required"),
    ({"nl": {**NL, "title": "x" * 301}}, "translations.nl.title", "the limit is"),
    ({"nl": {**NL, "summary": "<b>hi</b>"}}, "translations.nl.summary", "HTML"),
    ({"nl": {**NL, "link": "javascript:alert(1)"}}, "translations.nl.link", ""),
    ({"nl": {**NL, "colour": "red"}}, "translations.nl.colour", "unknown field"),
    ({"nl": "Zomerschool"}, "translations.nl", "must be an object"),
    (["nl"], "translations", "expected an object"),
])
def test_the_api_refuses_a_bad_translation_with_a_clear_message(
        client: Any, token: str, rt: Runtime, translations: Any, field: str,
        says: str) -> None:
    r = client.post("/api/v1/items", json={**ITEM, "translations": translations},
                    headers=auth(token))
    assert r.status_code == 422, r.json
    assert field in r.json["error"]["fields"], r.json
    assert says in r.json["error"]["fields"][field]
    with rt.db.session() as s:
        assert s.scalar(select(NewsItem.id)) is None  # nothing stored


def test_the_openapi_document_describes_translations(client: Any) -> None:
    doc = client.get("/api/openapi.json").json
    item_in = doc["components"]["schemas"]["ItemInput"]["properties"]["translations"]
    assert item_in["propertyNames"]["enum"] == ["en", "nl", "fr", "de", "es", "it"]
    assert set(item_in["additionalProperties"]["properties"]) == {"title", "summary", "link"}
    assert "translations" in doc["components"]["schemas"]["Item"]["required"]


# ------------------------------------------------------------------ the web doors

def test_a_member_adds_a_translation_in_the_form_without_a_script(client: Any,
                                                                  rt: Runtime) -> None:
    member(client, rt)
    page = client.get("/members/items/new").get_data(as_text=True)
    assert "Add a translation" in page and 'name="translations-0-language"' in page
    r = submit(client, **{"translations-0-language": "nl", "translations-0-title": NL["title"],
                          "translations-0-summary": NL["summary"],
                          "translations-0-link": NL["link"],
                          "translations-1-language": "", "translations-1-title": "ignored"})
    assert r.status_code == 302, r.get_data(as_text=True)
    with rt.db.session() as s:
        (t,) = s.scalars(select(NewsItemTranslation))
        assert (t.language, t.title, t.link, t.source) == ("nl", NL["title"], NL["link"], "web")


def test_the_form_shows_a_translations_problem_beside_its_row(client: Any,
                                                             rt: Runtime) -> None:
    member(client, rt)
    r = submit(client, **{"translations-0-language": "en", "translations-0-title": "Same",
                          "translations-0-summary": "Same."})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "The item itself is in English" in page
    assert 'href="#translations-0-language"' in page  # in the error summary
    with rt.db.session() as s:
        assert s.scalar(select(NewsItem.id)) is None


def test_an_editor_reviews_edits_and_removes_translations(client: Any, rt: Runtime,
                                                          token: str) -> None:
    item_id = client.post("/api/v1/items", json={**ITEM, "translations": {"nl": NL}},
                          headers=auth(token)).json["id"]
    make_user(rt, "ed@example.org", "editor")
    login(client, "ed@example.org")
    page = client.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert 'lang="nl"' in page and NL["title"] in page
    csrf = csrf_from(page)
    r = client.post(f"/editors/items/{item_id}/translations", data={
        "csrf_token": csrf, "language": "nl", "title": "Zomerschool 2027",
        "summary": NL["summary"], "link": ""})
    assert r.status_code == 302
    r = client.post(f"/editors/items/{item_id}/translations", data={
        "csrf_token": csrf, "language": "de", "title": "Sommerschule",
        "summary": "Melden Sie sich an."})
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert {t.language: t.title for t in item.translations} == {
            "nl": "Zomerschool 2027", "de": "Sommerschule"}
    client.post(f"/editors/items/{item_id}/translations/remove",
                data={"csrf_token": csrf, "language": "de", "confirm": "yes"})
    r = client.post(f"/editors/items/{item_id}", data={
        "csrf_token": csrf, "action": "approve", "review-csrf_token": csrf,
        "review-reason": ""})
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert [t.language for t in item.translations] == ["nl"]
        assert item.status == "approved"  # and its translation with it


# ------------------------------------------------------------------ feeds

@pytest.fixture
def server() -> Any:
    srv = FeedServer().start()
    yield srv
    srv.stop()


def test_atom_entries_sharing_a_guid_in_another_language_become_translations(
        rt: Runtime, server: Any) -> None:
    guid = "tag:example.org,2026:summer"
    server.routes["/atom"] = Route(atom([
        {"title": "Summer school", "link": "https://example.org/summer", "guid": guid,
         "lang": "en", "summary": "Apply now."},
        {"title": "Zomerschool", "link": "https://example.org/nl/zomer", "guid": guid,
         "lang": "nl", "summary": "Schrijf u in."},
        {"title": "Other", "link": "https://example.org/other", "lang": "en"},
    ]), content_type="application/atom+xml")
    use_feed(rt, "cosmos", server.url("/atom"))
    [r] = feeds.poll(rt)
    assert (r.created, r.translations, r.duplicates) == (2, 1, 0)
    with rt.db.session() as s:
        first = s.scalar(select(NewsItem).where(NewsItem.title == "Summer school"))
        assert first.language == "en"
        assert [(t.language, t.title, t.link, t.source) for t in first.translations] == [
            ("nl", "Zomerschool", "https://example.org/nl/zomer", "feed")]
    [r] = feeds.poll(rt)  # seen: neither a new item nor a second translation
    assert (r.created, r.translations) == (0, 0)
    assert len(items_of(rt, "cosmos")) == 2


def test_a_projects_feed_in_another_language_with_the_same_links_adds_translations(
        rt: Runtime, server: Any) -> None:
    entries = [{"title": "Open day", "link": "https://example.org/open-day",
                "guid": "g-1", "summary": "Welcome."}]
    server.routes["/en"] = Route(rss(entries, language="en"))
    server.routes["/fr"] = Route(rss([{**entries[0], "title": "Journée portes ouvertes",
                                       "guid": "g-1-fr", "summary": "Bienvenue."}],
                                     language="fr-BE"))
    use_feed(rt, "cosmos", server.url("/en"))
    feeds.poll(rt)
    use_feed(rt, "cosmos", server.url("/fr"))  # the project's French feed
    [r] = feeds.poll(rt)
    assert (r.created, r.translations) == (0, 1)
    (item,) = items_of(rt, "cosmos")
    with rt.db.session() as s:
        fr = s.get(NewsItem, item.id).in_language("fr")
        assert fr is not None and fr.title == "Journée portes ouvertes" and fr.link == ""


def test_a_member_changes_and_removes_a_translation_while_the_item_waits(
        client: Any, rt: Runtime) -> None:
    member(client, rt)
    r = submit(client, **{"translations-0-language": "nl", "translations-0-title": NL["title"],
                          "translations-0-summary": NL["summary"]})
    item_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/members/items/{item_id}/edit").get_data(as_text=True)
    assert f'value="{NL["title"]}"' in page  # the row comes filled in
    edit = {**FORM, "csrf_token": csrf_from(page),
            "translations-0-language": "nl", "translations-0-title": "",
            "translations-0-summary": "",
            "translations-1-language": "de", "translations-1-title": "Sommerschule",
            "translations-1-summary": "Melden Sie sich an."}
    r = client.post(f"/members/items/{item_id}/edit", data=edit)
    assert r.status_code == 302, r.get_data(as_text=True)
    with rt.db.session() as s:
        assert [t.language for t in s.get(NewsItem, item_id).translations] == ["de"]
    bad = {**edit, "translations-1-language": "en"}  # the item's own language
    r = client.post(f"/members/items/{item_id}/edit", data={**bad, "title": "Changed"})
    assert r.status_code == 400 and "The item itself is in English" in r.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get(NewsItem, item_id).title == FORM["title"]  # nothing saved
