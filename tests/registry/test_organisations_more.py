"""Organisations and people (issue 37), the rest: the directory's unknown filters, the
editors erasing a person, and the mails on applications and decisions."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from ostogether.core.settings import Settings
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Person
from tests.conftest import new_client, outbox, post
from tests.factories import add_organisation


def test_an_unknown_filter_is_named_and_left_out_not_no_results(rt: Runtime,
                                                                client: Any) -> None:
    add_organisation(rt, "NEMO", type="museum", project="cosmos")
    add_organisation(rt, "Ciência Viva", country="PT", type="science-centre")
    for query, said in (("type=spaceport", "There is no type of organisation 'spaceport'"),
                        ("country=ZZ", "No member organisation is in 'ZZ'"),
                        ("project=nope", "No member organisation took part in a project "
                                         "'nope'")):
        r = client.get(f"/organisations?{query}")
        page = html.unescape(r.get_data(as_text=True))
        assert r.status_code == 400, query
        assert said in page and 'role="alert"' in page, query
        assert "NEMO" in page and "Ciência Viva" in page, query  # every member shown
        assert "2 organisations" in page
    r = client.get("/organisations?country=PT&type=spaceport")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "1 organisation." in page and "NEMO</a>" not in page
    ok = client.get("/organisations?country=NL&project=cosmos")
    assert ok.status_code == 200 and "1 organisation." in ok.get_data(as_text=True)


def test_an_editor_erases_a_persons_record_after_confirming(rt: Runtime,
                                                            editor: Any) -> None:
    add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu")
    with rt.db.session() as s:
        person = s.scalar(select(Person).where(Person.email == "ana@cosmos.example.eu"))
        assert person is not None
        pid = person.id
    page = editor.get("/editors/people").get_data(as_text=True)
    assert "Ana Member" in page and f"/editors/people/{pid}/erase" in page
    unconfirmed = post(editor, f"/editors/people/{pid}/erase", "/editors/people")
    assert unconfirmed.status_code == 302
    assert "Nothing was done" in editor.get("/editors/people").get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get(Person, pid) is not None
    r = post(editor, f"/editors/people/{pid}/erase", "/editors/people", confirm="yes")
    assert r.status_code == 302
    after = editor.get("/editors/people").get_data(as_text=True)
    assert "The record of Ana Member is erased." in after
    with rt.db.session() as s:
        assert s.get(Person, pid) is None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
        assert entry is not None and entry.object_id == str(pid)
        assert entry.user_id is not None
    assert post(editor, f"/editors/people/{pid}/erase", "/editors/people",
                confirm="yes").status_code == 404


def mails(settings: Settings, to: str) -> list[tuple[str, str]]:
    return [(str(m["Subject"]), m.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            for m in outbox(settings) if to in str(m["To"])]


def test_an_organisation_is_told_of_its_application_and_the_decisions(
        app: Any, rt: Runtime, settings: Settings, client: Any, editor: Any) -> None:
    for name, address in (("Science Hub Gent", "hub@example.be"),
                          ("Dubious Club", "club@example.org")):
        sent = post(client, "/join/organisation", "/join/organisation", name=name,
                    type="science-centre", country="BE", city="Gent", coc="y",
                    website=f"https://{address.split('@')[1]}", contact_email=address)
        assert sent.status_code == 302, sent.get_data(as_text=True)
    [(subject, body)] = mails(settings, "hub@example.be")
    assert subject == "We received the application of Science Hub Gent to join OStogether"
    assert "version" in body and "/code-of-conduct" in body
    post(editor, "/editors/organisations/science-hub-gent/decide", "/editors/organisations",
         decision="accept")
    subject, body = mails(settings, "hub@example.be")[-1]
    assert subject == "Welcome to OStogether, Science Hub Gent"
    assert "/organisations/science-hub-gent" in body
    post(editor, "/editors/organisations/dubious-club/decide", "/editors/organisations",
         decision="reject")  # no reason: refused, nobody told
    assert len(mails(settings, "club@example.org")) == 1
    post(editor, "/editors/organisations/dubious-club/decide", "/editors/organisations",
         decision="reject", reason="Not about open schooling.")
    subject, body = mails(settings, "club@example.org")[-1]
    assert subject == "Your application to OStogether"
    assert "Not about open schooling." in body and "Dubious Club" in body


def test_a_person_is_told_of_their_application_and_the_decisions(
        app: Any, rt: Runtime, settings: Settings, client: Any, editor: Any) -> None:
    slug = add_organisation(rt)
    for name, address in (("Carla Teacher", "carla@school.example.it"),
                          ("Dan Spam", "dan@example.org")):
        assert post(client, "/join/person", "/join/person", name=name, email=address,
                    organisation=slug, country="IT", coc="y").status_code == 302
    [(subject, body)] = mails(settings, "carla@school.example.it")
    assert subject == "We received your application to join OStogether"
    assert "Hello Carla Teacher" in body and "NEMO Science Museum" in body
    assert "/account/record" in body
    with rt.db.session() as s:
        ids = {p.email: p.id for p in s.scalars(select(Person))}
    post(editor, f"/editors/people/{ids['carla@school.example.it']}/decide",
         "/editors/people", decision="accept")
    subject, _ = mails(settings, "carla@school.example.it")[-1]
    assert subject == "Welcome to OStogether, Carla Teacher"
    refused = post(editor, f"/editors/people/{ids['dan@example.org']}/decide",
                   "/editors/people", decision="reject")
    assert "Give a reason" in editor.get(refused.headers["Location"]).get_data(as_text=True)
    with rt.db.session() as s:
        dan = s.get(Person, ids["dan@example.org"])
        assert dan is not None and dan.status == "applied"
    post(editor, f"/editors/people/{ids['dan@example.org']}/decide", "/editors/people",
         decision="reject", reason="Only people in education.")
    subject, body = mails(settings, "dan@example.org")[-1]
    assert subject == "Your application to OStogether"
    assert "Only people in education." in body


RECEIVED = {
    "nl": ("Wij hebben de aanvraag van Hub {n} om zich aan te sluiten bij OStogether "
           "ontvangen", "Wij hebben uw aanvraag om lid te worden van OStogether ontvangen"),
    "fr": ("Nous avons reçu la candidature de Hub {n} pour rejoindre OStogether",
           "Nous avons reçu votre demande d’adhésion à OStogether"),
    "de": ("Wir haben die Bewerbung von Hub {n} bei OStogether erhalten",
           "Wir haben Ihre Anmeldung bei OStogether erhalten"),
    "es": ("Hemos recibido la solicitud de Hub {n} para unirse a OStogether",
           "Hemos recibido su solicitud para unirse a OStogether"),
    "it": ("Abbiamo ricevuto la candidatura di Hub {n} per aderire a OStogether",
           "Abbiamo ricevuto la Sua richiesta di adesione a OStogether"),
}


def test_the_acknowledgements_come_in_the_language_of_the_page(
        app: Any, rt: Runtime, settings: Settings) -> None:
    slug = add_organisation(rt)
    for n, (lang, (org_subject, person_subject)) in enumerate(RECEIVED.items()):
        client = new_client(app)
        client.get(f"/organisations?lang={lang}")  # the cookie keeps the language
        assert post(client, "/join/organisation", "/join/organisation", name=f"Hub {n}",
                    type="science-centre", country="BE", city="Gent", coc="y",
                    website=f"https://hub{n}.example.be",
                    contact_email=f"hub{n}@example.be").status_code == 302
        assert post(client, "/join/person", "/join/person", name=f"Person {n}",
                    email=f"p{n}@example.be", organisation=slug, coc="y").status_code == 302
        [(subject, body)] = mails(settings, f"hub{n}@example.be")
        assert subject == org_subject.format(n=n), lang
        assert f"/code-of-conduct?lang={lang}" in body
        [(subject, body)] = mails(settings, f"p{n}@example.be")
        assert subject == person_subject and f"Person {n}" in body, lang


def test_the_editors_are_told_of_each_organisation_and_person_applying(
        app: Any, rt: Runtime, settings: Settings, client: Any, editor: Any) -> None:
    slug = add_organisation(rt)
    assert post(client, "/join/organisation", "/join/organisation", name="Science Hub Gent",
                type="science-centre", country="BE", city="Gent", coc="y",
                website="https://hub.example.be",
                contact_email="hub@example.be").status_code == 302
    assert post(client, "/join/person", "/join/person", name="Carla Teacher",
                email="carla@school.example.it", organisation=slug, country="IT",
                coc="y").status_code == 302
    told = mails(settings, "editor@example.org")
    assert [subject for subject, _ in told] == [
        "New organisation applying to OStogether: Science Hub Gent",
        "New person joining OStogether: Carla Teacher"]
    assert "Science Hub Gent (BE)" in told[0][1] and "/editors/organisations" in told[0][1]
    assert "carla@school.example.it" in told[1][1] and "/editors/people" in told[1][1]
    # the applicants' own mails are not sent to the editors
    assert len(mails(settings, "hub@example.be")) == 1
