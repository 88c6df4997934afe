"""What member projects and editors read about their news comes in the page's language:
the item form's problems, a picture's problem, a feed's problem, the API's problems; and
in English as before without a choice. Kept sentences (a feed's last problem) stay
English in the database and are worded when shown."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy import select

from ostogether.accounts import tokens
from ostogether.core.errors import ValidationError
from ostogether.edges import wording
from ostogether.edges.audit import Actor
from ostogether.edges.fetch import FetchError, checked_target, parse_allow
from ostogether.edges.runtime import Runtime
from ostogether.models import Feed, NewsItem, Project
from ostogether.news import feeds
from ostogether.news.validation import ItemInput, validate
from tests.conftest import csrf_from, login
from tests.factories import make_user

NBSP = "\u00a0"
ITEM = {"kind": "news", "title": "Open day at the science centre",
        "summary": "Schools **welcome**.", "link": "https://example.org/open-day",
        "language": "en", "for_newsletter": "y", "for_social": "y", "event_timezone": ""}
API_ITEM = {"kind": "news", "title": "Teachers' summer school", "summary": "Apply **now**.",
            "link": "https://example.org/summer-school"}


def member(client: Any, rt: Runtime, email: str = "m@example.org") -> None:
    make_user(rt, email, "member", project="cosmos")
    login(client, email)


def auth(rt: Runtime) -> dict[str, str]:
    with rt.db.session() as s:
        pid = s.scalar(select(Project.id).where(Project.slug == "cosmos"))
    _, secret = tokens.create(rt, Actor("test"), pid, "test")
    return {"Authorization": f"Bearer {secret}"}


def post_item(client: Any, query: str = "", **changes: Any) -> Any:
    page = client.get("/members/items/new" + query)
    data = {**ITEM, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/members/items/new" + query, data=data)


def test_the_item_forms_problems_come_in_dutch_and_stay_english_without_a_choice(
        client: Any, rt: Runtime, app: Any) -> None:
    member(client, rt)
    bad = {"title": "x" * 300, "summary": "", "kind": "event", "event_start": "",
           "event_location": ""}
    html = post_item(client, "?lang=nl", **bad).get_data(as_text=True)
    assert "De titel heeft 300 tekens; het maximum is 200" in html
    assert "Een korte samenvatting is verplicht" in html
    assert "Een evenement heeft een begindatum en -tijd nodig" in html
    assert "Geef de plaats op, of geef aan dat het evenement online is" in html
    assert "the limit is 200" not in html
    # The member's cookie (kept from ?lang=nl) is enough on the next visit.
    again = post_item(client, **bad).get_data(as_text=True)
    assert "De titel heeft 300 tekens" in again
    # Another member, who chose nothing, reads English as before.
    other = app.test_client()
    other.environ_base["HTTP_REFERER"] = "https://localhost/"
    member(other, rt, email="n@example.org")
    english = post_item(other, **bad).get_data(as_text=True)
    assert "The title has 300 characters; the limit is 200" in english
    assert "A short summary is required" in english
    assert "An event needs a start date and time" in english
    with rt.db.session() as s:
        assert s.scalars(select(NewsItem)).first() is None


def test_a_picture_that_cannot_be_used_is_explained_in_french(client: Any,
                                                               rt: Runtime) -> None:
    member(client, rt)
    page = client.get("/members/items/new").get_data(as_text=True)
    form = {**ITEM, "link": "https://example.org/other", "title": "Titre gardé",
            "csrf_token": csrf_from(page)}
    r = client.post("/members/items/new", content_type="multipart/form-data",
                    headers={"Accept-Language": "fr"},
                    data={**form, "image_file": (io.BytesIO(b"%PDF-1.7 pas une image"),
                                                 "affiche.jpg")})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert (f"Cette image ne peut pas être utilisée{NBSP}: ce n’est pas une image lisible ("
            in html)
    english = client.post("/members/items/new", content_type="multipart/form-data",
                          data={**form, "image_file": (io.BytesIO(b"%PDF-1.7 not a picture"),
                                                       "flyer.jpg")})
    assert ("This picture cannot be used: it is not a picture that can be read ("
            in english.get_data(as_text=True))


def test_a_feeds_problem_is_kept_in_english_and_shown_in_german(editor: Any,
                                                               rt: Runtime) -> None:
    with rt.db.session() as s:  # loopback, but not the address the tests may fetch
        s.scalar(select(Project).where(Project.slug == "cosmos")).feed_url = \
            "http://127.0.0.2/feed.xml"
    [result] = feeds.poll(rt, "cosmos")
    english = ("the feed address is not fetched: the address is this machine itself "
               "(loopback)")
    assert result.error == english
    with rt.db.session() as s:
        assert s.scalar(select(Feed.last_error)) == english  # the record stays English
    german = editor.get("/editors/feeds?lang=de").get_data(as_text=True)
    assert ("die Feed-Adresse wird nicht abgerufen: die Adresse ist dieser Rechner selbst "
            "(Loopback)") in german
    assert english not in german
    assert english in editor.get("/editors/feeds?lang=en").get_data(as_text=True)


def test_the_apis_problems_follow_accept_language_and_are_json_strings(
        client: Any, rt: Runtime) -> None:
    token = auth(rt)
    body = {**API_ITEM, "surprise": 1, "title": "", "kind": "event",
            "event": {"start": "2027-05-04T10:00", "end": "2027-05-03T10:00",
                      "online": True}}
    dutch = client.post("/api/v1/items", json=body,
                        headers={**token, "Accept-Language": "nl"})
    assert dutch.status_code == 422
    error = json.loads(dutch.get_data(as_text=True))["error"]
    assert error["fields"] == {"surprise": "onbekend veld", "title": "de titel is verplicht",
                               "event.end": "het evenement eindigt voordat het begint"}
    assert error["message"].startswith("Het bericht is niet opgeslagen: 3 problemen. ")
    assert "event.end: het evenement eindigt voordat het begint" in error["message"]
    english = client.post("/api/v1/items", json=body, headers=token)
    error = json.loads(english.get_data(as_text=True))["error"]
    assert error["fields"]["event.end"] == "the event ends before it starts"
    assert error["message"].startswith("The item was not saved: 3 problems. ")


def test_sentences_are_english_outside_a_request_and_worded_again_inside(app: Any) -> None:
    try:
        validate(ItemInput(title="", summary="x", link="https://example.org/a"))
    except ValidationError as exc:
        assert str(exc) == "The item was not saved: 1 problem. title: the title is required"
        assert json.dumps({k: str(v) for k, v in exc.fields.items()})
        problem = exc
    try:
        checked_target("http://127.0.0.3/", parse_allow(""))
    except FetchError as exc:
        refused = str(exc)
    kept = wording.say(feeds.N_("the feed address is not fetched: %(why)s"), why=refused)
    assert wording.reword(kept) == kept  # outside a request: the English record
    assert wording.reword("a server's own words") == "a server's own words"
    with app.test_request_context("/?lang=it"):
        assert str(problem.fields["title"]) == "il titolo è obbligatorio"
        assert wording.reword(kept) == ("l’indirizzo del feed non viene scaricato: "
                                        "l’indirizzo è questa stessa macchina (loopback)")
        assert wording.reword("a server's own words") == "a server's own words"


def test_a_projects_status_is_named_in_the_pages_language(app: Any, rt: Runtime) -> None:
    """A refusal names the project's status by its word, not by its code."""
    import pytest

    from ostogether.core.errors import PermissionDenied
    from ostogether.news import items

    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert project is not None
        project.status = "applicant"
        s.flush()
        with pytest.raises(PermissionDenied) as refused:
            items.submitting_project(s, project.id)
    with app.test_request_context("/?lang=nl"):
        dutch = str(refused.value)
    assert "COSMOS heeft de status 'kandidaat'" in dutch, dutch
    assert "applicant" not in dutch
    assert "is applicant; only member and alumni projects" in str(refused.value)
