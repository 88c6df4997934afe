"""The editors' dashboard, social calendar, post page and schedule in the editor's
language: an editor whose browser asks for Dutch (or who picks Spanish with ?lang=es)
reads their headings, buttons, menu links and the flash messages of their actions in it;
English stays the default (docs/translations.md)."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from ostogether.edges.runtime import Runtime
from ostogether.social import posts as social
from tests.browser import PHONE, Live, log_in, shot
from tests.conftest import post, social_posts
from tests.factories import TEST, add_item, make_user


def html_lang(r: Any) -> str:
    m = re.search(r'<html lang="([a-z]+)"', r.get_data(as_text=True))
    assert m
    return m.group(1)


def words(html: str) -> str:
    """A page's text as a reader reads it: without tags, with entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def dutch(client: Any) -> Any:
    """The client's every request says Accept-Language: nl, as a Dutch browser does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    return client


MENU_NL = ("Redactie", "Beoordelen", "Nummers", "Abonnees", "Sociale media", "Planning")


def test_the_dashboard_in_dutch_and_in_spanish(editor: Any) -> None:
    r = dutch(editor).get("/editors/")
    html = r.get_data(as_text=True)
    text = words(html)
    assert html_lang(r) == "nl"
    assert "<h1>Redactie</h1>" in html
    for heading in ("Openstaand werk", "De cijfers als tabellen", "Recente activiteit"):
        assert f">{heading}</h2>" in html, heading
    assert "Organisaties: 0 leden" in text and "Niet in de laatste" in text
    assert "0 nieuwsberichten om te beoordelen" in text
    assert "Geen nummer in voorbereiding" in text
    for link in ("Te beoordelen", "Nummers van de nieuwsbrief", "Zichtbaarheidsrapporten"):
        assert f">{link}</a>" in html, link
    # The charts: their visible titles, and the SVG's own title and description.
    assert 'class="chart-title">Abonnees per maand</h3>' in html
    assert ">Abonnees per maand: de cijfers als tabel</a>" in html
    assert '<title id="subscribers-title">Abonnees per maand</title>' in html
    assert re.search(r'<desc id="subscribers-desc">[^<]*Bevestigd: geen', html), html
    for item in MENU_NL:
        assert f">{item}</a></li>" in html, item
    for english in ("Open work", "Recent activity", "Subscribers each month", "Review queue",
                    ">Editors</a>", "Confirmed: none"):
        assert english not in html, english
    # Once with ?lang=es: Spanish, and it stays (the cookie) over the browser's Dutch.
    html = editor.get("/editors/?lang=es").get_data(as_text=True)
    assert "<h1>Equipo editorial</h1>" in html and ">Trabajo pendiente</h2>" in html
    assert 'class="chart-title">Suscriptores por mes</h3>' in html
    assert '<title id="subscribers-title">Suscriptores por mes</title>' in html
    assert ">Redes sociales</a></li>" in html
    assert ">Equipo editorial</h1>" in editor.get("/editors/").get_data(as_text=True)


def test_the_dashboard_stays_english_by_default(editor: Any) -> None:
    html = editor.get("/editors/").get_data(as_text=True)
    assert "<h1>Editors</h1>" in html and ">Open work</h2>" in html
    assert '<title id="subscribers-title">Subscribers each month</title>' in html
    assert ">Social</a></li>" in html and ">Schedule</a></li>" in html


def test_the_social_calendar_and_its_flash_messages_in_dutch(editor: Any,
                                                             rt: Runtime) -> None:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1",
             title="Inquiry with pupils")
    week = social.week_label(*social.next_week(rt))
    page = f"/editors/social/?week={week}"
    html = dutch(editor).get(page).get_data(as_text=True)
    assert f"<h1>Socialemediakalender <span class=\"meta\">week {week}</span></h1>" in html
    assert f">Week {week} inplannen</button>" in html and ">deze week</a>" in html
    assert "X: <strong>proefdraai</strong>" in html
    r = post(editor, "/editors/social/plan", page, week=week)
    assert r.status_code == 302
    html = editor.get(page).get_data(as_text=True)
    assert re.search(rf"Week {week}: tijdvakken gevuld: 2, leeg gebleven: \d+, berichten "
                     r"die er al stonden: 0\.", words(html)), words(html)
    assert re.search(r"(ma|di|wo|do|vr|za|zo) \d+ [a-z]+, \d\d:\d\d blijft leeg: ", words(html))
    assert re.search(r"X</a> <span class=\"status status-planned\">gepland</span>", html)
    assert ">De 10 geplande berichten goedkeuren</button>" in html
    assert re.search(r"Leestip · nieuwsbericht \d+<", html)  # its kind and source, in Dutch
    post(editor, "/editors/social/approve-week", page, week=week)
    html = editor.get(page).get_data(as_text=True)
    assert "10 berichten goedgekeurd; ze gaan elk op hun tijd de deur uit." in words(html)
    assert "status-approved\">goedgekeurd</span>" in html
    for english in ("Social calendar", "Plan week", "planned post", "post(s) approved"):
        assert english not in html, english


def test_a_post_page_and_its_actions_in_dutch_and_in_spanish(editor: Any,
                                                             rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    one = min((p for p in social_posts(rt).values() if p.network == "mastodon"),
              key=lambda p: (p.slot_at, p.id))
    page = f"/editors/social/{one.id}"
    html = dutch(editor).get(page).get_data(as_text=True)
    text = words(html)
    assert "<h1>Bericht op Mastodon <span class=\"status status-planned\">gepland</span>" in html
    for label in ("Wanneer", "Gaat naar", "Link"):
        assert f"<dt>{label}</dt>" in html, label
    assert "nog nergens heen: dit is een proefdraai." in text
    assert ">Goedkeuren</button>" in html and ">Dit bericht overslaan</button>" in html
    assert ">Verplaatsen</h2>" in html and ">Tekst opslaan</button>" in html
    assert re.search(r"Mastodon telt \d+ van 500 tekens", text), text
    assert 'data-too-long="te lang"' in html
    assert "Zo verschijnt het op Mastodon" in text
    assert "Mastodon toont het begin van elke link" in text
    # The offered slots and the date of the post, as Dutch writes them.
    assert re.search(r"<dd>(ma|di|wo|do|vr|za|zo) \d+ [a-z]+ 20\d\d, \d\d:\d\d", html), html
    r = post(editor, f"{page}/approve", page)
    assert r.status_code == 302
    html = editor.get(page).get_data(as_text=True)
    assert "Goedgekeurd: het bericht gaat op zijn tijd de deur uit." in words(html)
    assert ">Terug naar gepland</button>" in html
    # Spanish, asked once.
    html = editor.get(page + "?lang=es").get_data(as_text=True)
    assert "<h1>Publicación en Mastodon" in html and ">Volver a programada</button>" in html
    post(editor, f"{page}/unapprove", page)
    html = editor.get(page).get_data(as_text=True)
    assert "De vuelta a programada; no saldrá hasta que se apruebe." in words(html)
    assert "Back to planned" not in html and "Approve" not in html


def test_the_schedule_and_run_now_in_dutch(editor: Any) -> None:
    html = dutch(editor).get("/editors/schedule/").get_data(as_text=True)
    assert "<h1>Planning</h1>" in html and ">Volgende keren</th>" in html
    assert "Er plant geen worker" in html  # no worker runs in the test
    assert ">Nu uitvoeren<span class=\"visually-hidden\"> publish_social</span>" in html
    r = post(editor, "/editors/schedule/publish_social/run", "/editors/schedule/")
    assert r.status_code == 302
    html = editor.get("/editors/schedule/").get_data(as_text=True)
    text = words(html)
    assert "publish_social staat in de wachtrij: de worker voert de taak binnen" in text
    assert "Er draait geen worker, dus dit wacht tot er een start" in text
    assert "in de wachtrij</span>" in html
    assert "Run now" not in html and "is queued" not in html


def test_the_dutch_dashboard_fits_a_phone(live: Live, chromium: Any) -> None:
    make_user(live.rt, "redactie@example.org", "editor")
    context = chromium.new_context(viewport=PHONE, locale="nl-NL")
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        log_in(page, live.url, "redactie@example.org")
        page.goto(live.url + "/editors/")
        assert page.get_attribute("html", "lang") == "nl"
        assert page.get_by_role("heading", level=1).inner_text() == "Redactie"
        assert page.get_by_role("heading", name="Openstaand werk").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        shot(page, "editors-dashboard-phone-nl")
        page.get_by_text("Menu").click()  # the phone's folded menu
        assert page.get_by_role("link", name="Sociale media", exact=True).is_visible()
    finally:
        context.close()
