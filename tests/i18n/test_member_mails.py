"""Mails to members in their language: the language the project, organisation or person
applied in is kept (migration 0025), and the editors' decisions, and the mails about
a project's news items, are written in it; the site's language where none was kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, Person, Project
from ostogether.news import items
from ostogether.registry import organisations, people, projects
from ostogether.registry.org_rules import OrgRecord
from ostogether.registry.rules import ProjectRecord
from tests.conftest import outbox
from tests.factories import add_item

EDITOR = Actor("editor", user_id=None)


def _body(mail: Any) -> str:
    return str(mail.get_content()).replace("\r\n", "\n")


def test_a_project_that_applied_in_dutch_is_accepted_and_told_in_dutch(
        rt: Runtime, settings: Any) -> None:
    rec = ProjectRecord(slug="", acronym="WIS", name="Wiskunde buiten",
                        description="Wiskunde in de stad.",
                        initiative_type="school-led-action", themes=("steam",),
                        countries=("NL",), start_date=dt.date(2026, 1, 1),
                        end_date=dt.date(2028, 1, 1), website="https://wis.example.nl/",
                        contact_name="Joke", contact_email="joke@wis.example.nl",
                        non_commercial=True, coc_accepted_on=rt.today())
    applied = projects.apply(rt, rec, ip="192.0.2.1", language="nl-BE")
    assert applied.project is not None
    with rt.db.session() as s:
        assert s.scalar(select(Project.language).where(Project.acronym == "WIS")) == "nl"
    projects.decide(rt, applied.project.id, EDITOR, accept=True)
    mail = outbox(settings)[-1]
    assert mail["To"] == "joke@wis.example.nl"
    assert mail["Subject"] == "Welkom bij OStogether, WIS"
    body = _body(mail)
    assert "Beste Joke," in body and "Goed nieuws: WIS is nu lid van" in body
    assert "/registry/wis?lang=nl" in body
    # The footer's community texts in Dutch too, where site.toml gives them.
    assert "gefaciliteerd door Ecsite" in body
    # Its news items: the decision mails in Dutch.
    item = add_item(rt, "wis", link="https://wis.example.nl/nieuws/1", title="Meten in het park",
                    approve=False)
    items.decide(rt, EDITOR, item, "reject", reason="De link werkt niet.")
    rejected = outbox(settings)[-1]
    assert rejected["Subject"] == "Deze keer niet opgenomen: Meten in het park"
    assert "De reden: De link werkt niet." in _body(rejected)


def test_organisations_and_people_hear_the_decision_in_their_language(
        rt: Runtime, settings: Any) -> None:
    done = organisations.apply(rt, OrgRecord(
        name="Museo della Scienza", type="museum", country="IT",
        website="https://museo.example.it", contact_email="info@museo.example.it"),
        ip="192.0.2.2", language="it")
    assert done.slug
    organisations.decide(rt, done.slug, EDITOR, accept=False, reason="Non è un museo.")
    mail = outbox(settings)[-1]
    assert mail["Subject"] == "La Sua candidatura a OStogether"
    assert "Non è un museo." in _body(mail) and "grazie per la candidatura" in _body(mail)
    pid = people.join(rt, people.PersonRecord(name="Ana", email="ana@escuela.example.es"),
                      ip="192.0.2.3", language="es")
    people.decide(rt, pid, EDITOR, accept=True)
    mail = outbox(settings)[-1]
    assert mail["Subject"] == "Bienvenido/a a OStogether, Ana"
    assert "Buenas noticias: ya es miembro de" in _body(mail)
    with rt.db.session() as s:
        assert s.scalar(select(Organisation.language).where(
            Organisation.slug == done.slug)) == "it"
        assert s.scalar(select(Person.language).where(Person.id == pid)) == "es"


def test_without_a_kept_language_the_mail_is_in_english(rt: Runtime, settings: Any) -> None:
    pid = people.join(rt, people.PersonRecord(name="Kim", email="kim@example.org"),
                      ip="192.0.2.4", language="sv")
    people.decide(rt, pid, EDITOR, accept=True)
    mail = outbox(settings)[-1]
    assert mail["Subject"] == "Welcome to OStogether, Kim"


def _dutch(rt: Runtime, slug: str) -> Project:
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        assert project is not None
        project.language = "nl"
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        assert project is not None and project.language == "nl"
        s.expunge(project)
        return project


def test_an_account_invitation_and_a_reminder_go_in_the_projects_language(
        rt: Runtime, settings: Any) -> None:
    from ostogether import jobs
    from ostogether.accounts import users

    with rt.db.session() as s:  # a project whose membership runs (the others are alumni)
        slug = s.scalar(select(Project.slug).where(Project.status == "member")
                        .order_by(Project.slug))
    assert slug is not None
    project = _dutch(rt, slug)
    users.invite(rt, EDITOR, email="anna@cosmos.example", project_slug=slug, name="Anna")
    invite = outbox(settings)[-1]
    assert invite["Subject"] == (f"Uw {rt.community.site().short_name}-account voor "
                                 f"{project.acronym}")
    body = _body(invite)
    assert body.startswith("Beste Anna,") and "De redactie heeft een account" in body
    hours = rt.settings.invite_max_age_hours
    assert f"{hours // 24} dagen geldig" in body and "days" not in body, body
    # The reminder before an issue: in Dutch, its dates too.
    schedule = rt.community.schedule()
    send = schedule.next_send(dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    spec = schedule.job("remind_members")
    assert spec is not None
    done = jobs.remind_members(rt, schedule.fire_for(spec, send))
    assert done.outcome == "ok", done
    mails = [m for m in outbox(settings) if m["To"] == "anna@cosmos.example"]
    reminder = mails[-1]
    assert reminder["Subject"] != invite["Subject"] and "Hello" not in _body(reminder)
    month = {1: "januari", 2: "februari", 3: "maart", 4: "april", 5: "mei", 6: "juni",
             7: "juli", 8: "augustus", 9: "september", 10: "oktober", 11: "november",
             12: "december"}[send.astimezone(schedule.zone).month]
    assert month in reminder["Subject"] + _body(reminder)
    assert "/members/items/new?lang=nl" in _body(reminder)


def test_a_password_link_goes_in_the_language_of_the_page_that_asked(
        app: Any, rt: Runtime, settings: Any) -> None:
    from tests.conftest import csrf_from, new_client
    from tests.factories import make_user

    make_user(rt, "greta@ecsite.eu", "editor")
    c = new_client(app)
    page = c.get("/account/reset?lang=de").get_data(as_text=True)
    r = c.post("/account/reset?lang=de", data={"csrf_token": csrf_from(page),
                                               "email": "greta@ecsite.eu"})
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    mail = outbox(settings)[-1]
    assert mail["To"] == "greta@ecsite.eu"
    body = _body(mail)
    assert "Passwort" in mail["Subject"] + body and "Hello" not in body
    assert "Tage" in body and "days" not in body, body


def test_an_editor_hears_of_an_application_in_the_language_they_use_the_site_in(
        app: Any, rt: Runtime, settings: Any) -> None:
    from ostogether.models import User
    from tests.conftest import login, new_client
    from tests.factories import make_user

    make_user(rt)  # editor@example.org
    make_user(rt, "max@ecsite.eu", "editor")  # never logged in: the site's language
    c = new_client(app)
    c.get("/?lang=fr")  # the switcher's cookie: the login page is in French
    assert login(c).status_code == 302
    with rt.db.session() as s:
        assert s.scalar(select(User.language).where(User.email == "editor@example.org")) == "fr"
    rec = ProjectRecord(slug="", acronym="MER", name="La mer en classe",
                        description="La mer à l'école.", initiative_type="school-led-action",
                        themes=("steam",), countries=("FR",), start_date=dt.date(2026, 1, 1),
                        end_date=dt.date(2028, 1, 1), website="https://mer.example.fr/",
                        contact_name="Léa", contact_email="lea@mer.example.fr",
                        non_commercial=True, coc_accepted_on=rt.today())
    projects.apply(rt, rec, ip="192.0.2.9", language="fr")
    told = {str(m["To"]): m for m in outbox(settings)
            if m["To"] in ("editor@example.org", "max@ecsite.eu")}
    french, english = _body(told["editor@example.org"]), _body(told["max@ecsite.eu"])
    subject = told["editor@example.org"]["Subject"]
    assert "MER" in subject and subject != told["max@ecsite.eu"]["Subject"], subject
    assert french != english and "lang=fr" in french
    assert "applied" in told["max@ecsite.eu"]["Subject"] + english
