"""The web shell through Flask's test client with CSRF on: pages, login, applications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core.settings import Settings
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Project
from tests.conftest import (
    csrf_from,
    login,
    outbox,
)
from tests.factories import make_user
from tests.feedserver import FeedServer, Route


def test_home_and_registry_list_the_eighteen_projects(client: Any) -> None:
    home = client.get("/").get_data(as_text=True)
    assert "<strong>18</strong> projects in the registry" in home
    page = client.get("/registry").get_data(as_text=True)
    assert "18 projects shown." in page
    for acronym in ("CONNECT", "Road-STEAMer", "STEAMbrace", "OSHub.Network", "SENSE."):
        assert f">{acronym}</a>" in page


@pytest.mark.parametrize("query, expected, absent", [
    ("theme=educational-policy", {"Road-STEAMer", "SENSE.", "SLEs"}, "CONNECT"),
    ("country=HR", {"STEAMbrace", "ICSEfactory"}, "CONNECT"),
    ("status=member", {"STEAMbrace"}, "COSMOS"),
    ("status=running", {"STEAMbrace"}, "COSMOS"),
    ("q=climate", {"LEVERS", "COSMOS"}, "PAFSE"),
])
def test_registry_filters(client: Any, query: str, expected: set[str], absent: str) -> None:
    page = client.get(f"/registry?{query}").get_data(as_text=True)
    for acronym in expected:
        assert f">{acronym}</a>" in page
    assert f">{absent}</a>" not in page
    assert f"{len(expected)} project" in page


@pytest.mark.parametrize("query, field, says", [
    ("status=finished", "status",
     "There is no status &#39;finished&#39;: choose running or alumni"),
    ("theme=astrology", "theme", "There is no theme &#39;astrology&#39;"),
    ("country=XX", "country", "No project works in &#39;XX&#39;"),
])
def test_an_unknown_registry_filter_is_refused_with_a_message(
        client: Any, query: str, field: str, says: str) -> None:
    r = client.get(f"/registry?{query}")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and says in page and f'href="#{field}"' in page
    assert "18 projects shown" in page  # the unknown value filtered nothing out
    assert 'value="running"' in page and 'value="member"' not in page


def test_project_page_and_friendly_404(client: Any) -> None:
    page = client.get("/registry/road-steamer").get_data(as_text=True)
    assert "grant agreement No 101058405" in page and "The Lisbon Council" in page
    missing = client.get("/registry/nope")
    assert missing.status_code == 404
    body = missing.get_data(as_text=True)
    assert "no project &#39;nope&#39;" in body or "no project 'nope'" in body
    assert "Traceback" not in body
    assert client.get("/no/such/page").status_code == 404


def test_registry_json_is_public_data_only(client: Any) -> None:
    data = client.get("/registry.json").get_json()
    assert data["count"] == 18
    assert {p["slug"] for p in data["projects"]} >= {"connect", "steambrace"}
    assert all("contact_email" not in p for p in data["projects"])


def test_security_headers(client: Any) -> None:
    resp = client.get("/")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    css = client.get("/static/style.css")
    assert css.status_code == 200 and b"--brand" in css.data
    # Every response carries each house header once: error pages, files, a second look.
    for resp in (client.get("/no/such/page"), css, client.get("/"), client.get("/registry")):
        for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
                     "Referrer-Policy", "Permissions-Policy"):
            assert len(resp.headers.getlist(name)) == 1, (resp.request.path, name)
    assert client.get("/no/such/page").headers["X-Frame-Options"] == "DENY"


def test_pages_have_landmarks_and_labels(client: Any) -> None:
    for path in ("/", "/registry", "/join", "/login", "/code-of-conduct"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="en" dir="ltr">' in html
        for landmark in ("<header", "<nav", '<main id="main"', "<footer"):
            assert landmark in html, (path, landmark)
        assert html.count("<h1") == 1, path
    join = client.get("/join").get_data(as_text=True)
    assert '<label for="acronym">' in join and '<label for="contact_email">' in join


# ------------------------------------------------------------------------- login

def test_post_without_csrf_token_is_refused(client: Any, rt: Runtime) -> None:
    make_user(rt)
    resp = client.post("/login", data={"email": "editor@example.org",
                                       "password": "correct horse battery"})
    assert resp.status_code == 400
    assert "The form has expired" in resp.get_data(as_text=True)
    assert client.get("/editors/").status_code == 302  # still logged out


def test_login_with_csrf_then_logout(client: Any, rt: Runtime) -> None:
    make_user(rt)
    resp = login(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/editors/")
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.login")).one()
        assert entry.actor == "editor:editor@example.org"
    assert "Editors" in client.get("/editors/").get_data(as_text=True)
    token = csrf_from(client.get("/editors/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/editors/").status_code == 302


def test_wrong_password_and_rate_limit(client: Any, rt: Runtime, settings: Settings) -> None:
    make_user(rt)
    for _ in range(settings.login_max_failures):
        bad = login(client, password="wrong password!")
        assert bad.status_code == 400
        assert "email address or password is not right" in bad.get_data(as_text=True)
    # now even the right password is refused until the window passes
    locked = login(client)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0


def test_login_redirect_stays_on_site(client: Any, rt: Runtime) -> None:
    make_user(rt)
    page = client.get("/login?next=https://evil.example/")
    resp = client.post("/login?next=https://evil.example/", data={
        "email": "editor@example.org", "password": "correct horse battery",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.headers["Location"].endswith("/editors/")


def test_editor_pages_need_an_editor(client: Any, rt: Runtime) -> None:
    assert client.get("/editors/applications").status_code == 302  # anonymous → login
    make_user(rt, "member@example.org", "member", project="levers")
    login(client, "member@example.org")
    assert client.get("/editors/applications").status_code == 403


# ------------------------------------------------------------------ applications

def application(token: str, **changes: Any) -> dict[str, Any]:
    form = {
        "csrf_token": token, "acronym": "EDUCHAIN", "name": "Education chain reaction",
        "description": "Schools and science centres co-design STEAM activities.",
        "initiative_type": "eu-funded-project", "themes": ["open-schooling", "steam"],
        "sdgs": ["4"], "countries": "be, gr", "programme": "Horizon Europe",
        "grant_number": "101099999", "start_date": "2025-01-01", "end_date": "2027-12-31",
        "coordinator": "Ecsite", "website": "https://educhain.example.org/",
        "contact_name": "Ana", "contact_email": "ana@educhain.example.org",
        "non_commercial": "y", "coc": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_failing_application_shows_results_next_to_fields_and_stores_nothing(
        client: Any, rt: Runtime, settings: Settings) -> None:
    token = csrf_from(client.get("/join").get_data(as_text=True))
    resp = client.post("/join", data=application(
        token, coc=None, grant_number="GA-1", website="educhain.example.org",
        end_date="2020-01-01", acronym="LEVERS"))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "The application was not sent" in html
    assert "The code of conduct has not been accepted." in html
    assert "Grant agreement number &#39;GA-1&#39; is not valid" in html
    assert "must start with https://" in html
    assert "before the start date" in html
    assert "acronym LEVERS is already used by levers" in html
    assert 'value="Education chain reaction"' in html  # nothing typed is lost
    # the code of conduct result sits right after its checkbox
    coc_box = html.index('id="coc"')
    assert html.index("The code of conduct has not been accepted", coc_box) - coc_box < 400
    with rt.db.session() as s:
        assert s.scalars(select(Project).where(Project.status == "applicant")).all() == []
    assert outbox(settings) == []


def _field_block(html: str, field_id: str) -> str:
    """The form field's own block: from its div to the next field's."""
    at = html.index(f'id="{field_id}"')
    start = html.rindex('<div class="field', 0, at)
    end = html.find('<div class="field', at)
    return html[start:end if end > 0 else None]


def test_an_empty_application_gets_one_message_per_field_and_no_pass_lines(
        client: Any) -> None:
    token = csrf_from(client.get("/join").get_data(as_text=True))
    html = client.post("/join", data={"csrf_token": token}).get_data(as_text=True)
    assert "The application was not sent" in html and 'href="#website"' in html
    assert "Pass" not in html and "the project is running" not in html
    website = _field_block(html, "website")
    assert "has-problem" in website
    assert website.count('class="error') + website.count("check-fail") == 1  # said once


def test_a_bad_contact_email_is_marked_on_the_email_field(client: Any) -> None:
    token = csrf_from(client.get("/join").get_data(as_text=True))
    html = client.post("/join", data=application(
        token, website="educhain.example.org", contact_email="ana@@educhain")).get_data(
        as_text=True)
    email, website = _field_block(html, "contact_email"), _field_block(html, "website")
    assert "has-problem" in email and "The contact email is not valid" in email
    assert "The contact email is not valid" not in website and "must start with" in website


def test_a_feed_address_that_is_not_a_feed_is_refused(client: Any, rt: Runtime,
                                                      web: FeedServer) -> None:
    token = csrf_from(client.get("/join").get_data(as_text=True))
    r = client.post("/join", data=application(token, feed_url=web.url("/page/1")))
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "does not serve an RSS or Atom feed" in _field_block(html, "feed_url")
    with rt.db.session() as s:
        assert s.scalars(select(Project).where(Project.status == "applicant")).all() == []
    web.routes["/feed"] = Route(body=(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>EDUCHAIN</title>'
        b"<link>https://educhain.example.org/</link><description>News</description>"
        b"<item><title>Kick-off</title><link>https://educhain.example.org/k</link></item>"
        b"</channel></rss>"), content_type="application/rss+xml")
    good = client.post("/join", data=application(csrf_from(html), feed_url=web.url("/feed")))
    assert good.status_code == 302


def test_a_missing_feed_is_refused_and_a_failing_server_only_warns(client: Any,
                                                                  web: FeedServer) -> None:
    web.routes["/busy"] = Route(status=503, body=b"later", content_type="text/html")
    token = csrf_from(client.get("/join").get_data(as_text=True))
    gone = client.post("/join", data=application(token, feed_url=web.url("/no-such-feed")))
    assert gone.status_code == 400
    assert "could not be read: the server answered HTTP 404" in _field_block(
        gone.get_data(as_text=True), "feed_url")
    busy = client.post("/join", data=application(csrf_from(gone.get_data(as_text=True)),
                                                 feed_url=web.url("/busy")))
    assert busy.status_code == 302  # a server error may pass: the editors see the warning


def test_checkbox_for_code_of_conduct_is_unticked(client: Any) -> None:
    html = client.get("/join").get_data(as_text=True)
    tag = html[html.index('id="coc"') - 80: html.index('id="coc"') + 80]
    assert 'type="checkbox"' in tag and "checked" not in tag


def test_application_accepted_by_an_editor(client: Any, rt: Runtime,
                                           settings: Settings) -> None:
    make_user(rt)
    token = csrf_from(client.get("/join").get_data(as_text=True))
    resp = client.post("/join", data=application(token))
    assert resp.status_code == 302
    done = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "the application of EDUCHAIN is sent" in done and "What happens next" in done

    with rt.db.session() as s:
        p = s.scalars(select(Project).where(Project.slug == "educhain")).one()
        assert p.status == "applicant" and p.source == "application"
        assert p.coc_version == "1.0" and p.coc_accepted_on == rt.today()
        assert p.countries == ["BE", "GR"] and p.sdgs == [4]
        pid = p.id
    mails = {m["To"]: m for m in outbox(settings)}
    assert "We received the application of EDUCHAIN" in mails["ana@educhain.example.org"]["Subject"]
    assert "/editors/applications/" in mails["editor@example.org"].get_content()
    assert client.get("/registry/educhain").status_code == 404  # not public yet

    login(client)
    page = client.get(f"/editors/applications/{pid}").get_data(as_text=True)
    assert "Eligibility checks now" in page and "101099999" in page
    resp = client.post(f"/editors/applications/{pid}", data={
        "csrf_token": csrf_from(page), "decision": "accept", "reason": ""})
    assert resp.status_code == 302
    assert "EDUCHAIN is now a member; the applicant has been told." in client.get(
        resp.headers["Location"]).get_data(as_text=True)
    assert client.get("/registry/educhain").status_code == 200
    with rt.db.session() as s:
        p = s.get(Project, pid)
        assert p is not None and p.status == "member" and p.decided_by_id is not None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.member")).one()
        assert entry.actor == "editor:editor@example.org"
    welcome = [m for m in outbox(settings) if "Welcome" in m["Subject"]]
    assert welcome and "/registry/educhain" in welcome[0].get_content()
    # a second decision (say, from a stale tab) is refused and changes nothing
    again = client.post(f"/editors/applications/{pid}", data={
        "csrf_token": csrf_from(page), "decision": "reject", "reason": "Too late"})
    assert again.status_code == 400
    assert "it cannot become rejected" in again.get_data(as_text=True)
    with rt.db.session() as s:
        p = s.get(Project, pid)
        assert p is not None and p.status == "member" and p.decision_reason == ""


def test_rejection_needs_a_reason_and_tells_the_applicant(client: Any, rt: Runtime,
                                                          settings: Settings) -> None:
    make_user(rt)
    token = csrf_from(client.get("/join").get_data(as_text=True))
    client.post("/join", data=application(token, initiative_type="other",
                                          programme="", grant_number=""))
    with rt.db.session() as s:
        pid = s.scalars(select(Project.id).where(Project.slug == "educhain")).one()
    login(client)
    page = client.get(f"/editors/applications/{pid}").get_data(as_text=True)
    assert "an editor will decide" in page
    no_reason = client.post(f"/editors/applications/{pid}", data={
        "csrf_token": csrf_from(page), "decision": "reject", "reason": ""})
    assert no_reason.status_code == 400
    assert "A reason is required to reject." in no_reason.get_data(as_text=True)
    client.post(f"/editors/applications/{pid}", data={
        "csrf_token": csrf_from(page), "decision": "reject",
        "reason": "The initiative sells teaching kits."})
    with rt.db.session() as s:
        p = s.get(Project, pid)
        assert p is not None and p.status == "rejected"
        assert p.decision_reason == "The initiative sells teaching kits."
    rejection = [m for m in outbox(settings) if m["Subject"].startswith("Your application")]
    assert "The initiative sells teaching kits." in rejection[0].get_content()


def test_accepting_an_ended_project_makes_it_alumni(rt: Runtime) -> None:
    from ostogether.edges.audit import Actor
    from ostogether.registry import projects
    from ostogether.registry.rules import ProjectRecord

    rec = ProjectRecord(slug="", acronym="OLD", name="Old project", description="Ended.",
                        initiative_type="school-led-action", themes=("steam",),
                        countries=("BE",), start_date=dt.date(2019, 1, 1),
                        end_date=dt.date(2020, 1, 1), website="https://old.example.org/",
                        contact_email="old@example.org", non_commercial=True,
                        coc_accepted_on=rt.today())
    result = projects.apply(rt, rec, ip="192.0.2.1")
    assert result.project is not None
    decided = projects.decide(rt, result.project.id, Actor("test"), accept=True)
    assert decided.project.status == "alumni"


def test_application_rate_limit_per_ip(rt: Runtime, settings: Settings) -> None:
    import dataclasses

    from ostogether.core.errors import RateLimited
    from ostogether.registry import projects
    from ostogether.registry.rules import ProjectRecord

    rt.settings = dataclasses.replace(settings, application_max_per_hour=2)
    for i in range(3):
        rec = ProjectRecord(slug="", acronym=f"P{i}", name="P", description="d",
                            initiative_type="school-led-action", themes=("steam",),
                            countries=("BE",), start_date=dt.date(2025, 1, 1),
                            website=f"https://p{i}.example.org/",
                            contact_email="p@example.org", non_commercial=True,
                            coc_accepted_on=rt.today())
        if i < 2:
            assert projects.apply(rt, rec, ip="192.0.2.9").project is not None
        else:
            with pytest.raises(RateLimited, match="Too many applications"):
                projects.apply(rt, rec, ip="192.0.2.9")


def test_oversized_request_is_refused_politely(client: Any, settings: Settings) -> None:
    token = csrf_from(client.get("/join").get_data(as_text=True))
    resp = client.post("/join", data=application(token, description="x" * (
        settings.max_request_bytes + 10)))
    assert resp.status_code == 413
    assert "too large" in resp.get_data(as_text=True)


def test_unexpected_error_shows_a_friendly_500(settings: Settings, rt: Runtime) -> None:
    from ostogether.web import create_app

    app = create_app(settings)

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    resp = app.test_client().get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "Something went wrong on our side" in body
    assert "kaboom" not in body and "Traceback" not in body
    app.extensions["ostogether"].close()
