"""The registry's and the accounts' sentences, and every history line, in the page's
language: the eligibility checks' titles and verdicts on the editors' application page,
the history lines of applications, issues and items (one whole sentence per action, who
did it as that language says it), the registry's refusals and the login's and the API
tokens' messages. Outside a request (the CLI, the JSON of ``registry check``) they stay
English, and every JSON path still serialises; the audit rows keep their codes."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from sqlalchemy import select

from ostogether.core.settings import Settings
from ostogether.edges import audit
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Issue, NewsItem, Project
from ostogether.newsletter import issues as newsletter
from ostogether.registry import rules
from tests.conftest import csrf_from, login, new_client, run
from tests.factories import TEST, add_item, applicant, make_user
from tests.feedserver import FeedServer


def editor_in(app: Any, rt: Runtime, accept_language: str) -> Any:
    """An editor logged in from a browser that asks for ``accept_language``."""
    make_user(rt)
    c = new_client(app)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    assert login(c).status_code == 302
    return c


def failing_application(rt: Runtime) -> int:
    """An application whose facts now fail two checks (as an editor may find them)."""
    pid = applicant(rt, "SCI-LAB")
    with rt.db.session() as s:
        p = s.get(Project, pid)
        assert p is not None
        p.end_date, p.coc_accepted_on = dt.date(2020, 1, 1), None
    return pid


def test_an_applications_checks_on_the_editors_page_in_italian_and_dutch(
        app: Any, rt: Runtime) -> None:
    pid = failing_application(rt)
    c = editor_in(app, rt, "it-IT,it;q=0.9")
    html = c.get(f"/editors/applications/{pid}").get_data(as_text=True)
    assert "<strong>codice di condotta</strong>: Il codice di condotta non è stato " \
           "accettato." in html
    assert "<strong>date</strong>: La data di fine 2020-01-01 precede la data di inizio " \
           "2025-01-01." in html
    assert "<strong>stato</strong>: Candidato." in html
    assert "Richiesta di adesione inviata dal candidato" in html  # the agent as Italian joins it
    assert "code of conduct</strong>" not in html and "Applied to join" not in html

    nl = c.get(f"/editors/applications/{pid}?lang=nl").get_data(as_text=True)
    assert "<strong>gedragscode</strong>: De gedragscode is niet aanvaard." in nl
    assert "<strong>status</strong>: Kandidaat." in nl
    assert "Aansluiting aangevraagd door de kandidaat" in nl

    en = c.get(f"/editors/applications/{pid}?lang=en").get_data(as_text=True)
    assert "<strong>code of conduct</strong>: The code of conduct has not been accepted." in en
    assert "<strong>dates</strong>: The end date 2020-01-01 is before the start date " \
           "2025-01-01." in en
    assert "<strong>status</strong>: Applicant." in en
    assert "Applied to join by the applicant" in en


def test_a_projects_history_in_french_words_every_kind_of_entry(app: Any, rt: Runtime) -> None:
    pid = applicant(rt, "SCI-LAB")
    make_user(rt)
    with rt.db.session() as s:
        project = s.get(Project, pid)
        editor = s.scalar(select(AuditEntry.user_id).where(AuditEntry.action == "user.created"))
        user = Actor("editor:editor@example.org", editor)
        audit.record(s, user, "project.edited", project, changed=["acronym", "website"])
        audit.record(s, Actor("cli"), "project.contact_set", project)
        audit.record(s, Actor("token:ost_abcdefgh…@sci-lab"), "project.handles_proposed",
                     project)
        audit.record(s, user, "project.handles_declined", project,
                     reason="edited after approval")
    c = new_client(app)
    assert login(c).status_code == 302
    html = c.get(f"/editors/applications/{pid}?lang=fr").get_data(as_text=True)
    assert "Demande d’adhésion par le candidat" in html
    assert "Modification par editor@example.org" in html
    assert ": acronyme, site web" in html
    assert "Adresse de contact définie par la ligne de commande" in html
    assert "Comptes de réseaux sociaux proposés par le jeton d’API ost_abcdefgh… du projet" \
        in html
    assert "Comptes de réseaux sociaux refusés par editor@example.org" in html
    assert ": modifié après approbation" in html
    # The rows keep their codes and the English record: nothing translated is stored.
    with rt.db.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.object_id == str(pid),
                                                       AuditEntry.object_type == "projects")))
    assert {r.action for r in rows} >= {"project.applied", "project.edited",
                                        "project.contact_set"}
    assert json.dumps([r.detail for r in rows])  # plain data, as stored


def test_an_issues_and_an_items_history_in_german(app: Any, rt: Runtime) -> None:
    item = add_item(rt, "connect", link="https://example.org/b")
    issue = newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    with rt.db.session() as s:
        audit.record(s, Actor("delivery"), "issue.send_paused", s.get(Issue, issue.id))
    c = editor_in(app, rt, "de-DE,de;q=0.9")
    html = c.get(f"/editors/issues/{issue.number}").get_data(as_text=True)
    assert "Zusammengestellt von test" in html
    assert "Versand pausiert von dem Versanddienst" in html
    assert "Composed by" not in html
    page = c.get(f"/editors/items/{item}").get_data(as_text=True)
    assert "Eingereicht von test" in page and "Angenommen von test" in page
    en = c.get(f"/editors/issues/{issue.number}?lang=en").get_data(as_text=True)
    assert "Composed by test" in en and "Sending paused by the sender" in en


def test_outside_a_request_history_lines_are_english(rt: Runtime) -> None:
    entry = AuditEntry(actor="system", user_id=None, action="issue.test_sent",
                       object_type="issues", object_id="1", detail={"to": ["a@example.org"]},
                       at=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    line = audit.words(entry, {}, zoneinfo.ZoneInfo("Europe/Brussels"))
    assert (line.text, line.detail) == ("Test sent by the service", "to a@example.org")
    moved = AuditEntry(actor="cli", user_id=None, action="issue.rescheduled",
                       object_type="issues", object_id="1",
                       detail={"from": "2027-01-15T09:00:00+00:00",
                               "to": "2027-01-16T09:00:00+00:00"},
                       at=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    line = audit.words(moved, {}, zoneinfo.ZoneInfo("Europe/Brussels"))
    assert line.text == "Send date changed by the command line"
    assert line.detail == "15 Jan 2027 10:00 CET → 16 Jan 2027 10:00 CET"
    # Every kind of entry has its sentence (no "issue: segment changed by …").
    segment = AuditEntry(actor="token:ost_abcdefgh…@sci-lab", user_id=None,
                         action="issue.segment_changed", object_type="issues", object_id="1",
                         detail={"from": {}, "to": {}}, at=entry.at)
    line = audit.words(segment, {}, zoneinfo.ZoneInfo("Europe/Brussels"))
    assert line.text == "Readers it goes to changed by the project's API token ost_abcdefgh…"


def test_login_and_password_link_errors_in_german(client: Any, rt: Runtime,
                                                  settings: Settings) -> None:
    make_user(rt)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    for _ in range(settings.login_max_failures):
        bad = login(client, password="wrong password!")
        assert "Die E-Mail-Adresse oder das Passwort ist nicht richtig." in bad.get_data(
            as_text=True)
    locked = login(client)
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    assert "Zu viele fehlgeschlagene Anmeldungen von hier; warten Sie" in text
    assert "Too many failed logins" not in text
    forged = client.get("/account/password/not-a-link")
    assert forged.status_code == 400
    assert "Dieser Link ist ungültig. Kopieren Sie den ganzen Link aus der E-Mail" in \
        forged.get_data(as_text=True)


def test_the_registrys_filter_problem_in_dutch(client: Any) -> None:
    page = client.get("/registry?status=sleeping&lang=nl").get_data(as_text=True)
    assert "Er is geen status &#39;sleeping&#39;: kies lopend of alumni." in page
    en = client.get("/registry?status=sleeping&lang=en").get_data(as_text=True)
    assert "There is no status &#39;sleeping&#39;: choose running or alumni." in en


def test_an_api_token_refusal_in_french_is_json(client: Any) -> None:
    r = client.get("/api/v1/items", headers={"Accept-Language": "fr",
                                             "Authorization": "Bearer ost_nonsense"})
    assert r.status_code == 401
    body = json.loads(r.get_data(as_text=True))
    assert "Ce jeton est inconnu ou a été révoqué" in json.dumps(body, ensure_ascii=False)
    r = client.get("/api/v1/items", headers={"Accept-Language": "fr",
                                             "Authorization": "Basic x"})
    assert "L’en-tête Authorization doit commencer par" in json.loads(
        r.get_data(as_text=True))["error"]["message"]


def test_registry_check_json_still_serialises_in_english(env: dict[str, str],
                                                         fill_database: Any) -> None:
    out = run(env, "registry", "check", "--format", "json")
    data = json.loads(out.stdout)
    messages = [c["message"] for p in data["projects"] for c in p["checks"]]
    assert "Member: the project is running." in messages or \
        any(m.startswith("Alumni: the project ended on") for m in messages)


def test_a_rejection_needs_a_reason_in_spanish(app: Any, rt: Runtime) -> None:
    pid = applicant(rt, "SCI-LAB")
    c = editor_in(app, rt, "es")
    page = f"/editors/applications/{pid}"
    token = csrf_from(c.get(page).get_data(as_text=True))
    r = c.post(page, data={"csrf_token": token, "decision": "reject", "reason": ""})
    html = r.get_data(as_text=True)
    assert r.status_code in (200, 400)
    assert "Para rechazar hace falta un motivo." in html or \
        "Indique al solicitante el motivo del rechazo." in html


def test_a_handles_form_in_the_checks_words_in_german(app: Any, rt: Runtime) -> None:
    ctx = rules.CheckContext(rt.community.criteria(), "1.0", rt.today())
    record = rules.ProjectRecord(slug="x", handles={"linkedin": "ostogether"})
    with app.test_request_context("/?lang=de"):
        german = rules.handles(record, ctx).message
    english = rules.handles(record, ctx).message
    assert german.startswith("Social-Media-Kennungen nicht im Format ihres Netzwerks:")
    assert "die Nummer der Organisation, z. B. 12345678" in german
    assert english == ("Social handles not in their network's form: linkedin 'ostogether' "
                       "should be the organisation's number, e.g. 12345678.")


def test_a_members_item_history_in_italian_joins_who_did_it(app: Any, rt: Runtime) -> None:
    item = add_item(rt, "cosmos", link="https://example.org/c")
    with rt.db.session() as s:
        row = s.get(NewsItem, item)
        audit.record(s, Actor("feed-poller"), "news_item.edited", row, changed=["title"])
        audit.record(s, Actor("token:ost_abcdefgh…@cosmos"), "news_item.translated", row,
                     languages=["it"])
    make_user(rt, "prof@cosmos.example", role="member", project="cosmos")
    c = new_client(app)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "it"
    assert login(c, "prof@cosmos.example").status_code == 302
    html = c.get(f"/members/items/{item}").get_data(as_text=True)
    assert "Modificata dal feed del progetto" in html
    assert "Traduzione aggiunta dal token API ost_abcdefgh… del progetto" in html
    assert "Inviata da test" in html and "da il " not in html


def test_a_refused_merge_in_french(app: Any, rt: Runtime) -> None:
    c = editor_in(app, rt, "fr")
    page = "/editors/organisations"
    token = csrf_from(c.get(page).get_data(as_text=True))
    r = c.post("/editors/organisations/merge", data={
        "csrf_token": token, "keep": "nemo", "drop": "nemo", "confirm": "yes"},
        follow_redirects=True)
    assert "Choisissez deux organisations différentes à fusionner." in r.get_data(as_text=True)


def test_a_feed_that_is_no_feed_on_the_join_result_in_dutch(client: Any,
                                                            web: FeedServer) -> None:
    token = csrf_from(client.get("/join?lang=nl").get_data(as_text=True))
    form = {
        "csrf_token": token, "acronym": "EDUCHAIN", "name": "Education chain reaction",
        "description": "Schools and science centres co-design STEAM activities.",
        "initiative_type": "eu-funded-project", "themes": ["open-schooling", "steam"],
        "sdgs": ["4"], "countries": "be, gr", "programme": "Horizon Europe",
        "grant_number": "101099999", "start_date": "2025-01-01", "end_date": "2027-12-31",
        "coordinator": "Ecsite", "website": "https://educhain.example.org/",
        "contact_name": "Ana", "contact_email": "ana@educhain.example.org",
        "non_commercial": "y", "coc": "y", "feed_url": web.url("/page/1")}
    r = client.post("/join", data=form)
    assert r.status_code == 400
    assert "Het feedadres levert geen RSS- of Atom-feed:" in r.get_data(as_text=True)
