"""Items carry topics and audiences (issue 36): chosen in the form and the API, checked
against content/topics.toml, the project's themes when none are given, taken from a
feed's categories, adjusted by editors in review; the vocabulary checked by `init`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ostogether.accounts import tokens
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Community
from ostogether.edges.topics import vocabulary
from ostogether.models import AuditEntry, NewsItem, Project
from ostogether.news import feeds, item_topics
from tests.browser import PHONE, Live, log_in, shot
from tests.conftest import csrf_from, login, new_client, run
from tests.factories import make_user
from tests.feedserver import FeedServer, Route, atom, rss

REPO = Path(__file__).resolve().parents[2]
COSMOS_THEMES = ["open-schooling", "science-education", "school-innovation"]
ITEM = {"kind": "news", "title": "Open day at the science centre",
        "summary": "Schools **welcome**.", "link": "https://example.org/open-day",
        "language": "en", "for_newsletter": "y", "for_social": "y", "event_timezone": ""}


def member(client: Any, rt: Runtime) -> None:
    """The client logged in as a member of COSMOS."""
    make_user(rt, "m@example.org", "member", project="cosmos")
    login(client, "m@example.org")


def submit(client: Any, **changes: Any) -> Any:
    page = client.get("/members/items/new")
    data = {**ITEM, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/members/items/new", data=data)


def member_with_item(app: Any, rt: Runtime) -> tuple[Any, int]:
    """A member of COSMOS, logged in its own client, who has submitted ITEM."""
    m = new_client(app)
    member(m, rt)
    return m, int(submit(m).headers["Location"].rsplit("/", 1)[1])


def make_token(rt: Runtime) -> str:
    with rt.db.session() as s:
        pid = s.scalar(select(Project.id).where(Project.slug == "cosmos"))
    return tokens.create(rt, Actor("test"), pid, "test")[1]


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def items(rt: Runtime) -> list[NewsItem]:
    with rt.db.session() as s:
        return list(s.scalars(select(NewsItem).order_by(NewsItem.id)))


def count(rt: Runtime) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(NewsItem)) or 0


# ------------------------------------------------------------------------------ pure

@pytest.fixture(scope="module")
def vocab() -> Any:
    return vocabulary(Community(root=REPO))


@pytest.mark.parametrize("category, expected", [
    ("SDG 13", (["sdg-13"], [])), ("SDG13", (["sdg-13"], [])), ("sdg-13", (["sdg-13"], [])),
    ("Climate Action", (["sdg-13"], [])),  # the goal's name, without "SDG 13:"
    ("ODD 13 : Lutte contre les changements climatiques", (["sdg-13"], [])),
    ("STEAM", (["steam"], [])), ("Citizen Science", (["citizen-science"], [])),
    ("Sciences participatives", (["citizen-science"], [])),  # French label
    ("educacion cientifica", (["science-education"], [])),  # Spanish, accent left out
    ("LEHRKRÄFTE", ([], ["teachers"])), ("Lehrkrafte", ([], ["teachers"])),
    ("school heads", ([], ["school-heads"])), ("Décideurs politiques", ([], ["policy-makers"])),
    ("robots", ([], [])), ("SDG 3", ([], [])),  # not a word of this community
    ("", ([], [])),
])
def test_a_category_names_a_topic_or_an_audience_in_any_language(
        vocab: Any, category: str, expected: tuple[list[str], list[str]]) -> None:
    assert item_topics.from_categories(vocab, [category]) == expected


def test_the_defaults_are_the_projects_themes_that_are_topics(vocab: Any) -> None:
    assert item_topics.defaults(vocab, ["steam", "no-such-theme", "open-schooling"]) == [
        "open-schooling", "steam"]


# ------------------------------------------------------------------------- the form

def test_a_member_chooses_topics_and_audiences_in_the_form(client: Any, rt: Runtime) -> None:
    member(client, rt)
    page = client.get("/members/items/new?lang=nl").get_data(as_text=True)
    # Checkboxes whose values are keys, labelled in the page's language.
    assert 'type="checkbox" value="sdg-13"' in page and "SDG 13: Klimaatactie" in page
    assert 'name="audiences" type="checkbox" value="teachers"' in page and "Leraren" in page
    r = client.post("/members/items/new", data={
        **ITEM, "topics": ["sdg-13", "steam"], "audiences": ["teachers", "parents"],
        "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    [item] = items(rt)
    assert item.topics == ["steam", "sdg-13"]  # in the vocabulary's order
    assert item.audiences == ["teachers", "parents"]
    edit = client.get(f"/members/items/{item.id}/edit").get_data(as_text=True)
    assert re.search(r'<input checked id="topics-\d+" name="topics" type="checkbox" '
                     r'value="sdg-13">', edit)
    r = client.post(f"/members/items/{item.id}/edit", data={
        **ITEM, "topics": ["sdg-13"], "audiences": [], "csrf_token": csrf_from(edit)})
    assert r.status_code == 302
    [item] = items(rt)
    assert (item.topics, item.audiences) == (["sdg-13"], [])


def test_with_no_topic_ticked_the_item_takes_the_projects_themes(client: Any,
                                                                 rt: Runtime) -> None:
    member(client, rt)
    assert submit(client).status_code == 302
    [item] = items(rt)
    assert (item.topics, item.audiences) == (COSMOS_THEMES, [])
    page = client.get(f"/members/items/{item.id}").get_data(as_text=True)
    assert "open-schooling, science-education, school-innovation" in page


def test_an_unknown_word_in_the_form_is_named_and_nothing_is_stored(client: Any,
                                                                    rt: Runtime) -> None:
    member(client, rt)
    r = submit(client, topics=["steam", "robots"], audiences=["pupils"])
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Unknown topics &#39;robots&#39;: use open-schooling, steam" in html
    assert "Unknown audiences &#39;pupils&#39;: use teachers, school-heads" in html
    assert count(rt) == 0


# -------------------------------------------------------------------------- the API

def test_the_api_takes_and_returns_topics_and_audiences(client: Any, rt: Runtime) -> None:
    token = make_token(rt)
    r = client.post("/api/v1/items", headers=auth(token), json={
        "title": "Climate week", "summary": "Schools act.", "link": "https://example.org/cw",
        "topics": ["sdg-13"], "audiences": ["teachers", "school-heads"]})
    assert r.status_code == 201, r.json
    assert (r.json["topics"], r.json["audiences"]) == (["sdg-13"], ["teachers",
                                                                    "school-heads"])
    got = client.get(f"/api/v1/items/{r.json['id']}", headers=auth(token)).json
    assert (got["topics"], got["audiences"]) == (["sdg-13"], ["teachers", "school-heads"])
    plain = client.post("/api/v1/items", headers=auth(token), json={
        "title": "Open day", "summary": "Come.", "link": "https://example.org/od"}).json
    assert (plain["topics"], plain["audiences"]) == (COSMOS_THEMES, [])


@pytest.mark.parametrize("body, field, words", [
    ({"topics": ["steam", "robots", "SDG 13"]}, "topics",
     ["'robots'", "'SDG 13'", "use open-schooling, steam", "sdg-13"]),
    ({"audiences": ["pupils"]}, "audiences", ["'pupils'", "use teachers, school-heads"]),
    ({"topics": "steam"}, "topics", ["as a list of words"]),
    ({"audiences": [1, 2]}, "audiences", ["as a list of words"]),
])
def test_an_unknown_word_in_the_api_is_422_naming_it_and_nothing_is_written(
        client: Any, rt: Runtime, body: dict[str, Any], field: str,
        words: list[str]) -> None:
    token = make_token(rt)
    r = client.post("/api/v1/items", headers=auth(token), json={
        "title": "Climate week", "summary": "Schools act.", "link": "https://example.org/cw",
        **body})
    assert r.status_code == 422, r.json
    message = r.json["error"]["fields"][field]
    for word in words:
        assert word in message and word in r.json["error"]["message"]
    assert count(rt) == 0


def test_the_openapi_document_has_both_fields_with_their_words(client: Any) -> None:
    doc = client.get("/api/openapi.json").json
    schemas = doc["components"]["schemas"]
    topics = schemas["ItemInput"]["properties"]["topics"]
    audiences = schemas["ItemInput"]["properties"]["audiences"]
    assert topics["items"]["enum"] == ["open-schooling", "steam", "science-education",
                                       "educational-policy", "teachers-training",
                                       "citizen-science", "school-innovation", "sdg-4",
                                       "sdg-5", "sdg-11", "sdg-13", "sdg-17"]
    assert audiences["items"]["enum"] == ["teachers", "school-heads", "parents",
                                          "researchers-industry", "policy-makers"]
    assert {"topics", "audiences"} <= set(schemas["Item"]["required"])


# ------------------------------------------------------------------------ the feeds

@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


def use_feed(rt: Runtime, slug: str, url: str) -> None:
    with rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == slug)).feed_url = url


def test_a_feeds_categories_become_topics_and_audiences(rt: Runtime,
                                                        server: FeedServer) -> None:
    server.routes["/rss"] = Route(rss([
        {"title": "Climate", "link": "https://example.org/1",
         "categories": ["SDG13", "Teachers", "Uncategorized"]},
        {"title": "Robots", "link": "https://example.org/2", "categories": ["Robots"]},
        {"title": "Plain", "link": "https://example.org/3"},
        {"title": "Clima", "link": "https://example.org/4",
         "categories": ["sdg-13", "Ciencia ciudadana", "Eltern"]},
    ]))
    use_feed(rt, "cosmos", server.url("/rss"))
    [r] = feeds.poll(rt)
    assert r.created == 4
    got = {i.title: (i.topics, i.audiences) for i in items(rt)}
    assert got == {"Climate": (["sdg-13"], ["teachers"]),
                   "Robots": (COSMOS_THEMES, []),  # nothing mapped: the project's themes
                   "Plain": (COSMOS_THEMES, []),
                   "Clima": (["citizen-science", "sdg-13"], ["parents"])}


def test_an_atom_category_maps_by_term_or_by_label(rt: Runtime, server: FeedServer) -> None:
    server.routes["/atom"] = Route(atom([
        {"title": "By term", "link": "https://example.org/a",
         "categories": [("sdg-4", None), ("policy-makers", None)]},
        {"title": "By label", "link": "https://example.org/b",
         "categories": [("cat-17", "STE(A)M"), ("x", "Responsables políticos")]},
    ]), content_type="application/atom+xml")
    use_feed(rt, "cosmos", server.url("/atom"))
    feeds.poll(rt)
    got = {i.title: (i.topics, i.audiences) for i in items(rt)}
    assert got == {"By term": (["sdg-4"], ["policy-makers"]),
                   "By label": (["steam"], ["policy-makers"])}


# ----------------------------------------------------------------------- the review

def test_an_editor_adjusts_topics_in_review_and_the_queue_shows_them(
        client: Any, rt: Runtime, app: Any) -> None:
    _, item_id = member_with_item(app, rt)
    make_user(rt)
    login(client)
    queue = client.get("/editors/items").get_data(as_text=True)
    assert ('<td data-label="Topics"><span class="item-words">open-schooling, '
            'science-education, school-innovation</span></td>') in queue
    page = client.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert 'name="edit-topics" type="checkbox" value="sdg-13"' in page
    r = client.post(f"/editors/items/{item_id}", data={
        **{f"edit-{k}": v for k, v in ITEM.items()}, "edit-topics": ["steam", "sdg-4"],
        "edit-audiences": ["teachers"], "edit-csrf_token": csrf_from(page),
        "action": "save"})
    assert r.status_code == 302
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert (item.topics, item.audiences) == (["steam", "sdg-4"], ["teachers"])
        assert s.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "news_item.edited")) == {"changed": ["topics", "audiences"]}
    queue = client.get("/editors/items").get_data(as_text=True)
    assert '<span class="item-words">steam, sdg-4; for teachers</span>' in queue
    bad = client.post(f"/editors/items/{item_id}", data={
        **{f"edit-{k}": v for k, v in ITEM.items()}, "edit-topics": ["gossip"],
        "edit-csrf_token": csrf_from(page), "action": "save"})
    assert bad.status_code == 400 and "Unknown topics &#39;gossip&#39;" in bad.get_data(
        as_text=True)
    with rt.db.session() as s:
        assert s.get(NewsItem, item_id).topics == ["steam", "sdg-4"]


# ------------------------------------------------------------------ the vocabulary file

def test_init_and_registry_check_name_a_mistake_in_topics_toml(env: dict[str, str],
                                                               home: Path) -> None:
    path = home / "content" / "topics.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "sdgs = [4, 5, 11, 13, 17]", "sdgs = [4, 5, 11, 13, 18]"), encoding="utf-8")
    for args in (("init",), ("registry", "check")):
        ran = run(env, *args)
        assert ran.returncode == 1, (args, ran.stdout)
        assert "topics.toml:10: 18 in sdgs is not a Sustainable Development Goal" \
            in ran.stderr, (args, ran.stderr)
        assert "Traceback" not in ran.stderr
    assert json.loads(run(env, "registry", "check", "--format", "json").stdout)["ok"] is False


# ---------------------------------------------------------------------- a phone

def test_on_a_phone_a_member_ticks_topics_and_an_audience(live: Live, chromium: Any) -> None:
    make_user(live.rt, "news@cosmosproject.eu", "member", project="cosmos")
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live.url, "news@cosmosproject.eu")
    page.goto(live.url + "/members/items/new")
    page.fill("#title", "Climate week at school")
    page.fill("#summary", "Pupils measure the air.")
    page.fill("#link", "https://example.org/climate-week")
    page.get_by_label("SDG 13: Climate Action").check()
    page.get_by_label("Teachers", exact=True).check()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("fieldset:has(legend:text-is('Topics'))").scroll_into_view_if_needed()
    shot(page, "item-topics-phone", full=False)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    context.close()
    [item] = items(live.rt)
    assert (item.topics, item.audiences) == (["sdg-13"], ["teachers"])
