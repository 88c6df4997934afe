"""The doors into the library (the members' form, POST /api/v1/outputs) and the editors'
review in the browser: an output is nowhere public until approved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether.accounts import tokens
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Output
from ostogether.web.openapi import document
from tests.conftest import csrf_from, login, new_client, post
from tests.factories import add_output, make_user, project_id

OUTPUT = {"title": "Forest use or protection?", "type": "toolkit",
          "url": "https://multipliers-project.org/forest", "licence": "CC-BY-SA-4.0",
          "languages": ["en", "sl"], "subjects": ["biology"], "sdgs": [15],
          "keywords": ["forest"], "doi": "10.5281/zenodo.7654321", "date": "2024-06-01"}


def _token(rt: Runtime, slug: str = "multipliers") -> dict[str, str]:
    _, secret = tokens.create(rt, Actor("test"), project_id(rt, slug), "test")
    return {"Authorization": f"Bearer {secret}"}


def _public_everywhere(client: Any, title: str) -> list[bool]:
    """Whether ``title`` shows on each public face of the library."""
    return [title in client.get("/library").get_data(as_text=True),
            title in client.get("/library.json").get_data(as_text=True),
            title in client.get("/library.atom").get_data(as_text=True),
            title in client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc"
                                ).get_data(as_text=True)]


def test_an_output_from_the_api_appears_only_after_approval(client: Any, rt: Runtime) -> None:
    r = client.post("/api/v1/outputs", json={**OUTPUT, "projects": ["otter"]},
                    headers=_token(rt))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "submitted" and body["projects"] == ["multipliers", "otter"]
    assert body["page"] is None
    assert _public_everywhere(client, OUTPUT["title"]) == [False] * 4
    assert client.get(f"/library/{body['slug']}").status_code == 404
    outputs.approve(rt, Actor("test"), body["id"])
    assert _public_everywhere(client, OUTPUT["title"]) == [True] * 4
    page = client.get(f"/library/{body['slug']}")
    assert page.status_code == 200 and "10.5281/zenodo.7654321" in page.get_data(as_text=True)


def test_bad_api_input_is_422_with_field_messages(client: Any, rt: Runtime) -> None:
    headers = _token(rt)
    r = client.post("/api/v1/outputs", json={**OUTPUT, "type": "poster", "doi": "zenodo 7",
                                             "licence": "GPL", "colour": "red"},
                    headers=headers)
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"colour"}
    r = client.post("/api/v1/outputs", json={**OUTPUT, "type": "poster", "doi": "zenodo 7",
                                             "licence": "GPL", "sdgs": "four",
                                             "projects": ["nobody"]}, headers=headers)
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"type", "doi", "licence", "sdgs"}
    r = client.post("/api/v1/outputs", json={**OUTPUT, "projects": ["nobody"]},
                    headers=headers)
    assert r.status_code == 422 and "nobody" in r.get_json()["error"]["fields"]["projects"]
    assert client.post("/api/v1/outputs", json=[1], headers=headers).status_code == 400
    assert client.post("/api/v1/outputs", json=OUTPUT).status_code == 401
    with rt.db.session() as s:
        assert s.scalar(select(Output.id)) is None


def test_the_openapi_document_describes_the_outputs_door() -> None:
    doc = document("https://ostogether.test")
    post_ = doc["paths"]["/api/v1/outputs"]["post"]
    assert set(post_["responses"]) >= {"201", "400", "401", "422"}
    fields = doc["components"]["schemas"]["OutputInput"]["properties"]
    assert set(fields) == set(outputs.API_FIELDS)


def _send(member: Any, **data: Any) -> Any:
    token = csrf_from(member.get("/members/library/new").get_data(as_text=True))
    return member.post("/members/library/new", data={"csrf_token": token, **data})


def test_a_member_adds_an_output_with_the_form(app: Any, rt: Runtime) -> None:
    make_user(rt, "otter@example.org", role="member", project="otter")
    member = new_client(app)
    assert login(member, "otter@example.org").status_code == 302
    page = member.get("/members/library/new")
    assert page.status_code == 200 and 'data-keep="output"' in page.get_data(as_text=True)
    bad = _send(member, title="", type="map", url="not an address")
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "error-summary" in html and "title is required" in html.lower()
    ok = _send(member, title="Outdoor places map", type="map",
               url="https://otter-project.eu/map", languages=["en", "hu"],
               age_ranges=["primary"], sdgs=["4"], keywords="outdoor, map",
               organisations="Geonardo")
    assert ok.status_code == 302
    with rt.db.session() as s:
        [output] = outputs.list_by_status(s, "submitted")
        assert output.languages == ["en", "hu"] and output.keywords == ["outdoor", "map"]
        assert [p.slug for p in output.projects] == ["otter"]
    mine = member.get("/members/library").get_data(as_text=True)
    assert "Outdoor places map" in mine and "submitted" in mine
    # Another project's member does not see it, and cannot withdraw it.
    make_user(rt, "connect@example.org", role="member", project="connect")
    other = new_client(app)
    login(other, "connect@example.org")
    assert "Outdoor places map" not in other.get("/members/library").get_data(as_text=True)
    r = post(other, f"/members/library/{output.id}/withdraw", "/members/library",
             confirm="yes")
    assert r.status_code == 404


def test_editors_approve_and_reject_in_the_browser(editor: Any, client: Any,
                                                   rt: Runtime) -> None:
    keep = add_output(rt, "otter", title="Keep me", approve=False)
    drop = add_output(rt, "otter", title="Drop me", approve=False)
    page = editor.get("/editors/library").get_data(as_text=True)
    assert "Keep me" in page and "Drop me" in page
    token = csrf_from(page)
    assert editor.post(f"/editors/library/{keep}/approve",
                       data={"csrf_token": token}).status_code == 302
    editor.post(f"/editors/library/{drop}/reject", data={"csrf_token": token, "reason": ""})
    with rt.db.session() as s:
        assert outputs.get(s, drop).status == "submitted"  # a reason is required
    editor.post(f"/editors/library/{drop}/reject",
                data={"csrf_token": token, "reason": "Not the project's own."})
    with rt.db.session() as s:
        assert outputs.get(s, keep).status == "approved"
        dropped = outputs.get(s, drop)
        assert (dropped.status, dropped.reject_reason) == ("rejected", "Not the project's own.")
    listing = client.get("/library").get_data(as_text=True)
    assert "Keep me" in listing and "Drop me" not in listing


def test_members_and_visitors_cannot_review(app: Any, client: Any, rt: Runtime) -> None:
    oid = add_output(rt, "otter", title="Waiting", approve=False)
    assert client.get("/editors/library").status_code == 302  # to the login page
    make_user(rt, "otter@example.org", role="member", project="otter")
    member = new_client(app)
    login(member, "otter@example.org")
    assert member.get("/editors/library").status_code == 403
    r = post(member, f"/editors/library/{oid}/approve", "/members/library")
    assert r.status_code == 403
    with rt.db.session() as s:
        assert outputs.get(s, oid).status == "submitted"
