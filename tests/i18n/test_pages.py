"""Visitors' pages in their language: chosen with ?lang= (kept in a cookie), else the
browser's Accept-Language alone; <html lang>, the switcher and the hreflang alternates on
every public page; the page cache and its fragments kept per language."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Subscriber
from ostogether.web import create_app
from tests.conftest import csrf_from, new_client, outbox

PUBLIC = ("/", "/registry", "/registry/cosmos", "/archive", "/join", "/code-of-conduct",
          "/subscribe", "/privacy", "/newsletter/manage", "/login")
LANGS = ("en", "nl", "fr", "de", "es", "it")


def html_lang(r: Any) -> str:
    m = re.search(r'<html lang="([a-z]+)"', r.get_data(as_text=True))
    assert m, r.get_data(as_text=True)[:200]
    return m.group(1)


def test_the_browsers_language_alone_gives_the_page_in_it(client: Any) -> None:
    r = client.get("/", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    html = r.get_data(as_text=True)
    assert html_lang(r) == "nl"
    assert "Leraren en onderwijsprofessionals: ontvang de nieuwsbrief" in html
    assert "Register" in html and "Inloggen" in html
    assert "Set-Cookie" not in r.headers  # nothing to remember: the browser said it
    assert set(r.headers["Vary"].split(", ")) >= {"Accept-Language", "Cookie"}
    # The best of the browser's list that the service speaks; none: English.
    r = client.get("/registry", headers={"Accept-Language": "sv, de;q=0.8, fr;q=0.9"})
    assert html_lang(r) == "fr" and "Répertoire des projets" in r.get_data(as_text=True)
    r = client.get("/registry", headers={"Accept-Language": "sv, el"})
    assert html_lang(r) == "en" and "Registry of projects" in r.get_data(as_text=True)
    assert html_lang(client.get("/registry")) == "en"


def test_a_chosen_language_is_remembered_in_a_cookie_and_wins_over_the_browser(
        client: Any) -> None:
    r = client.get("/registry?lang=de", headers={"Accept-Language": "nl"})
    assert html_lang(r) == "de" and "Projektverzeichnis" in r.get_data(as_text=True)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("lang=de;") and "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # Later pages, without the parameter: the cookie's language, whatever the browser says.
    r = client.get("/archive", headers={"Accept-Language": "nl"})
    assert html_lang(r) == "de" and "Set-Cookie" not in r.headers
    r = client.get("/", headers={"Accept-Language": "fr"})
    assert html_lang(r) == "de"
    # Another choice replaces it.
    r = client.get("/?lang=it")
    assert html_lang(r) == "it" and r.headers["Set-Cookie"].startswith("lang=it;")
    assert html_lang(client.get("/archive")) == "it"


def test_an_unknown_language_code_falls_back_and_is_not_kept(client: Any) -> None:
    for asked in ("xx", "sv", "", "../etc", "nl%00"):
        r = client.get(f"/registry?lang={asked}", headers={"Accept-Language": "es"})
        assert r.status_code in (200, 400), asked
        if r.status_code == 200:
            assert html_lang(r) == "es", asked
        assert "lang=" not in r.headers.get("Set-Cookie", ""), asked
    r = client.get("/registry?lang=xx")
    assert html_lang(r) == "en"
    # A cookie with a code the service does not speak is ignored too.
    client.set_cookie("lang", "pt")
    r = client.get("/registry", headers={"Accept-Language": "it"})
    assert html_lang(r) == "it"


def test_every_public_page_has_lang_the_switcher_and_hreflang_alternates(
        client: Any, settings: Any) -> None:
    base = settings.public_url.rstrip("/")
    for path in PUBLIC:
        r = client.get(path + "?q=x" if path == "/registry" else path,
                       headers={"Accept-Language": "fr"})
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert html_lang(r) == "fr", path
        here = path + ("?q=x&amp;" if path == "/registry" else "?")
        for code in LANGS:
            assert (f'<link rel="alternate" hreflang="{code}" href="{base}{here}lang={code}">'
                    in html), (path, code)
            # The switcher: a plain link per language, named in that language.
            assert re.search(rf'<a href="{re.escape(here)}lang={code}" lang="{code}" '
                             rf'hreflang="{code}"[^>]*>', html), (path, code)
        x_default = base + (path + "?q=x" if path == "/registry" else path)
        assert f'<link rel="alternate" hreflang="x-default" href="{x_default}">' in html
        for name in ("English", "Nederlands", "Français", "Deutsch", "Español", "Italiano"):
            assert f">{name}</a>" in html, (path, name)
        assert 'aria-current="true">Français</a>' in html


def test_the_page_cache_never_serves_one_language_to_another(rt: Runtime,
                                                             env: dict[str, str]) -> None:
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "60"}))
    try:
        for path in ("/", "/registry", "/archive"):
            dutch = new_client(app).get(path, headers={"Accept-Language": "nl"})
            english = new_client(app).get(path, headers={"Accept-Language": "en"})
            german = new_client(app).get(path + "?lang=de")
            kept = new_client(app)
            kept.set_cookie("lang", "it")
            italian = kept.get(path, headers={"Accept-Language": "nl"})
            again = new_client(app).get(path, headers={"Accept-Language": "nl"})
            assert [html_lang(r) for r in (dutch, english, german, italian, again)] == [
                "nl", "en", "de", "it", "nl"], path
            assert again.get_data() == dutch.get_data()  # the copy kept for Dutch
            assert english.headers["Cache-Control"].startswith("public")
        cache = app.extensions["page_cache"]
        assert {key.split(" ")[0] for key in cache.entries} == {"nl", "en", "de", "it"}
    finally:
        app.extensions["ostogether"].close()


def test_a_dutch_sign_up_gets_the_dutch_confirmation_and_the_log_keeps_nl(
        client: Any, rt: Runtime, settings: Any) -> None:
    page = client.get("/subscribe", headers={"Accept-Language": "nl"})
    html = page.get_data(as_text=True)
    # The language is asked, pre-selected from the browser's.
    assert re.search(r'<option lang="nl" selected value="nl">Nederlands</option>', html) or \
        re.search(r'<option[^>]*selected[^>]*value="nl"', html), html
    r = client.post("/subscribe", headers={"Accept-Language": "nl"}, data={
        "csrf_token": csrf_from(html), "email": "juf@school.example", "name": "",
        "language": "nl", "consent": "y"})
    assert r.status_code == 302
    [mail] = outbox(settings)
    assert mail["Subject"] == "Bevestig uw abonnement op de nieuwsbrief van OStogether"
    body = mail.get_content().replace("\r\n", "\n")
    assert f"Open deze link om te bevestigen (hij is {settings.subscribe_confirm_hours // 24} " \
        "dagen geldig)" in body
    assert "?lang=nl" in body and "Confirm" not in body
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "juf@school.example"))
        assert sub is not None and sub.language == "nl"
        [event] = s.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id))
        assert event.action == "subscribe" and event.detail["language"] == "nl"
    # Confirming (in Dutch, from the mail's link) sends the Dutch welcome.
    link = re.search(r"(/subscribe/confirm/\S+)", body)
    assert link
    path = link.group(1)
    confirm = client.get(path)
    assert html_lang(confirm) == "nl"
    client.post(path, data={"csrf_token": csrf_from(confirm.get_data(as_text=True))})
    welcome = outbox(settings)[-1]
    assert welcome["Subject"] == "Welkom bij de nieuwsbrief van OStogether"


def test_the_preferences_page_shows_and_changes_the_language_into_the_consent_log(
        client: Any, rt: Runtime, settings: Any) -> None:
    from ostogether.readers import subscribers
    from tests.factories import add_readers

    [reader] = add_readers(rt, 1)
    with rt.db.session() as s:
        sub = s.get(Subscriber, reader)
        assert sub is not None
        token = subscribers.link_token(rt, sub)
        name = sub.name
    page = client.get(f"/p/{token}?lang=fr")
    html = page.get_data(as_text=True)
    assert "Vos préférences pour la lettre d’information" in html
    assert re.search(r'<option[^>]*selected[^>]*value="en"', html)
    r = client.post(f"/p/{token}", data={"csrf_token": csrf_from(html), "name": name,
                                         "language": "de"})
    assert r.status_code == 200 and "Enregistré." in r.get_data(as_text=True)
    with rt.db.session() as s:
        sub = s.get(Subscriber, reader)
        assert sub is not None and sub.language == "de"
        event = s.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == reader)
                          .order_by(ConsentEvent.id.desc())).first()
        assert event is not None and event.action == "preferences"
        assert event.detail == {"changed": ["language"], "language": "de",
                                "notice_language": "de"}
