"""Members sign in as people (issue 37): a person linked to a member organisation sends
news for every member project that organisation took part in, and for no other."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, Project
from ostogether.registry import organisations
from tests.conftest import csrf_from, login, new_client
from tests.factories import TEST, add_organisation, make_user

ITEM = {"kind": "news", "title": "Open day at the museum", "summary": "Schools welcome.",
        "link": "https://example.org/museum-open-day", "language": "en",
        "for_newsletter": "y", "for_social": "y", "event_timezone": ""}


def send(client: Any, **changes: Any) -> Any:
    page = client.get("/members/items/new")
    assert page.status_code == 200, page.status_code
    data = {**ITEM, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/members/items/new", data=data)


def project_of(rt: Runtime, title: str) -> str:
    with rt.db.session() as s:
        item = s.scalar(select(NewsItem).where(NewsItem.title == title))
        assert item is not None
        project = s.get(Project, item.project_id)
        assert project is not None
        return project.slug


def test_a_person_of_a_member_organisation_sends_news_for_its_projects(
        app: Any, rt: Runtime) -> None:
    # Ana's account is COSMOS's; her museum also took part in OTTER.
    make_user(rt, "ana@cosmos.example.eu", "member", project="cosmos")
    slug = add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu")
    organisations.link_project(rt, slug, "otter", TEST, role="partner")
    ana = new_client(app)
    login(ana, "ana@cosmos.example.eu")
    form = ana.get("/members/items/new").get_data(as_text=True)
    assert 'name="project"' in form and 'value="otter"' in form
    r = send(ana, project="otter")
    assert r.status_code == 302, r.get_data(as_text=True)
    assert project_of(rt, ITEM["title"]) == "otter"
    assert ana.get(r.headers["Location"]).status_code == 200
    assert ITEM["title"] in ana.get("/members/").get_data(as_text=True)
    # A project the organisation is not in: refused, nothing stored.
    r = send(ana, project="sall", link="https://example.org/other", title="Not ours")
    assert r.status_code == 403
    with rt.db.session() as s:
        assert s.scalar(select(NewsItem).where(NewsItem.title == "Not ours")) is None


def test_an_unlinked_account_sends_only_for_its_own_project(app: Any, rt: Runtime) -> None:
    make_user(rt, "ana@cosmos.example.eu", "member", project="cosmos")
    slug = add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu")
    organisations.link_project(rt, slug, "otter", TEST, role="partner")
    make_user(rt, "bo@cosmos.example.eu", "member", project="cosmos")  # no person record
    bo = new_client(app)
    login(bo, "bo@cosmos.example.eu")
    assert 'name="project"' not in bo.get("/members/items/new").get_data(as_text=True)
    assert send(bo, project="otter").status_code == 403
    assert send(bo).status_code == 302
    assert project_of(rt, ITEM["title"]) == "cosmos"


def test_a_person_of_an_organisation_that_is_not_a_member_cannot(app: Any,
                                                                 rt: Runtime) -> None:
    make_user(rt, "ana@cosmos.example.eu", "member", project="cosmos")
    slug = add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu",
                            status="applied")
    organisations.link_project(rt, slug, "otter", TEST, role="partner")
    ana = new_client(app)
    login(ana, "ana@cosmos.example.eu")
    assert send(ana, project="otter").status_code == 403
