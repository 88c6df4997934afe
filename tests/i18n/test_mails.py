"""Mails in the person's language: the readers' mails in their stored language, an
applicant's acknowledgement in the language of the page they applied from, each with its
subject; English where the community gives no translation. The members' sign-up snippet
in the language its member chose."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.render import mail_template
from ostogether.edges.runtime import Runtime
from ostogether.models import Subscriber
from ostogether.readers import subscribers
from ostogether.readers.subscribers import Request
from tests.conftest import csrf_from, new_client, outbox

SUBJECTS = {
    "en": "Confirm your subscription to the OStogether newsletter",
    "nl": "Bevestig uw abonnement op de nieuwsbrief van OStogether",
    "fr": "Confirmez votre abonnement à la lettre d’information de OStogether",
    "de": "Bestätigen Sie Ihr Abonnement des Newsletters von OStogether",
    "es": "Confirme la suscripción al boletín de OStogether",
    "it": "Confermi l’iscrizione alla newsletter di OStogether",
}


def test_each_reader_gets_the_confirmation_in_their_language(rt: Runtime,
                                                             settings: Any) -> None:
    for n, (language, subject) in enumerate(SUBJECTS.items()):
        subscribers.subscribe(rt, Request("test", f"10.0.0.{n}"), email=f"r{n}@school.example",
                              language=language, consent=True)
        mail = outbox(settings)[-1]
        assert mail["Subject"] == subject
        body = mail.get_content()
        assert ("?lang=" in body) == (language != "en"), language
    # The other mails follow the stored language too: the personal link, "already".
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "r3@school.example"))
        assert sub is not None
        sub.status = "confirmed"
    subscribers.send_link(rt, Request("test", "10.0.1.1"), "r3@school.example")
    assert outbox(settings)[-1]["Subject"] == \
        "Ihr Link zu den Einstellungen des Newsletters von OStogether"
    subscribers.subscribe(rt, Request("test", "10.0.1.2"), email="r3@school.example", language="en",
                          consent=True)
    assert outbox(settings)[-1]["Subject"] == \
        "Sie erhalten den Newsletter von OStogether bereits"


def test_a_language_the_community_does_not_give_falls_back_to_english(rt: Runtime,
                                                                     settings: Any) -> None:
    community = rt.community
    assert mail_template(community, "subscriber_confirm.txt.j2", "nl") == \
        "mail/nl/subscriber_confirm.txt.j2"
    # Greek readers (imported) and any mail without a translation: English.
    assert mail_template(community, "subscriber_confirm.txt.j2", "el") == \
        "mail/subscriber_confirm.txt.j2"
    # A mail of the community's own that it gives in English only.
    only = community.templates / "mail" / "only_english.txt.j2"
    only.write_text("Subject: Hello\nHello.\n", encoding="utf-8")
    try:
        assert mail_template(community, "only_english.txt.j2", "nl") == \
            "mail/only_english.txt.j2"
    finally:
        only.unlink()
    assert mail_template(community, "subscriber_confirm.txt.j2", "../mail") == \
        "mail/subscriber_confirm.txt.j2"
    subscribers.subscribe(rt, Request("test"), email="el@school.example", language="el",
                          consent=True)
    assert outbox(settings)[-1]["Subject"] == SUBJECTS["en"]


def test_an_applicant_is_answered_in_the_language_of_the_page(client: Any, rt: Runtime,
                                                              settings: Any) -> None:
    page = client.get("/join?lang=es")
    html = page.get_data(as_text=True)
    assert "Solicitar la adhesión a OStogether" in html
    r = client.post("/join", data={
        "csrf_token": csrf_from(html), "acronym": "SCI-LAB", "name": "Science Lab",
        "description": "Pupils and teachers run experiments together with researchers.",
        "initiative_type": re.search(r'<option value="([a-z_]+)"',
                                     html.split('id="initiative_type"')[1]).group(1),  # type: ignore[union-attr]
        "themes": re.search(r'name="themes" type="checkbox" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
        "countries": "ES", "website": "https://scilab.example.org",
        "contact_name": "Ana", "contact_email": "ana@scilab.example.org",
        "non_commercial": "y", "coc": "y", "programme": "", "start_date": "2025-01-01"})
    assert r.status_code == 302, r.get_data(as_text=True)
    mails = {str(m["To"]): m for m in outbox(settings)}
    ack = mails["ana@scilab.example.org"]
    assert ack["Subject"] == ("Hemos recibido la solicitud de SCI-LAB para unirse a "
                              "OStogether")
    assert "Hola, Ana:" in ack.get_content()
    # The editors' notice stays English (their pages are, this round).
    assert all(m["Subject"].isascii() for to, m in mails.items() if to != ack["To"])


def test_a_member_chooses_the_language_of_their_sign_up_form(app: Any, rt: Runtime,
                                                             editor: Any,
                                                             settings: Any) -> None:
    page = editor.get("/registry/otter/subscribe-form?snippet_lang=it")
    html = page.get_data(as_text=True)
    assert html_lang_of(html) == "en"  # the page is the editor's; the form is Italian
    snippet = htmllib.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", html,
                                         re.S).group(1))  # type: ignore[union-attr]
    assert 'lang="it"' in snippet and 'name="language" value="it"' in snippet
    assert "Indirizzo e-mail" in snippet and "Si iscriva alla newsletter di OStogether" \
        in snippet
    assert "/privacy?lang=it" in snippet
    assert 'selected>Italiano</option>' in html
    # A visitor of the member's site signs up in Italian and is mailed in Italian.
    token = re.search(r'name="form" value="([^"]+)"', snippet).group(1)  # type: ignore[union-attr]
    r = new_client(app).post("/subscribe/from/otter", data={
        "form": token, "email": "prof@scuola.example", "name": "", "language": "it",
        "consent": "y", "website": ""}, headers={"Origin": "https://otter-project.eu"})
    assert r.status_code == 303
    assert outbox(settings)[-1]["Subject"] == SUBJECTS["it"]
    # The default is the page's language.
    page = editor.get("/registry/otter/subscribe-form", headers={"Accept-Language": "de"})
    assert "Anmeldeformular" in page.get_data(as_text=True)
    assert clock.now()


def html_lang_of(html: str) -> str:
    m = re.search(r'<html lang="([a-z]+)"', html)
    assert m
    return m.group(1)
