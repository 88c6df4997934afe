"""The editors' registry pages in the page's language: an editor whose browser asks for
Dutch (or who picks German with ?lang=de) gets the headings, buttons, labels, dates and
flash messages of the applications, projects, organisations, people, member accounts and
tokens, social handles, feeds and the sending domain in it (docs/translations.md)."""

from __future__ import annotations

import html
import re
from html import unescape
from typing import Any

from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import Feed, Organisation, Person, Project
from ostogether.news import feeds
from ostogether.registry import handles
from ostogether.web import create_app
from tests.conftest import login, new_client, post
from tests.dnsserver import DnsServer
from tests.factories import TEST, add_organisation, applicant, make_user

DUTCH_DATE = r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|" \
    r"oktober|november|december) 20\d\d"


def html_lang(r: Any) -> str:
    m = re.search(r'<html lang="([a-z]+)"', r.get_data(as_text=True))
    assert m
    return m.group(1)


def form_of(client: Any, page: str, **changes: Any) -> dict[str, Any]:
    """The fields of a project's page as a browser sends them unchanged, with ``changes``."""
    html = client.get(page).get_data(as_text=True)
    data: dict[str, Any] = {}
    for m in re.finditer(r"<input ([^>]*)>", html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "file" or (kind == "checkbox" and " checked" not in m.group(0)):
            continue
        value = unescape(attrs.get("value", "y" if kind == "checkbox" else ""))
        data.setdefault(name, []).append(value) if kind == "checkbox" else \
            data.__setitem__(name, value)
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = unescape(m.group(2)).lstrip("\n")
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', m.group(2))
        data[m.group(1)] = unescape(chosen.group(1)) if chosen else ""
    return {**data, **changes}


def dutch_editor(app: Any, rt: Runtime) -> Any:
    """An editor logged in from a browser that asks for Dutch."""
    make_user(rt)
    c = new_client(app)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-BE,nl;q=0.9,en;q=0.5"
    assert login(c).status_code == 302
    return c


def text(r: Any) -> str:
    """The page with its entities read ("pagina's", escaped as text is on a page)."""
    return html.unescape(" ".join(str(r.get_data(as_text=True)).split()))


def flashed(client: Any, r: Any) -> str:
    """The page a form's redirect leads to, with its flash message."""
    assert r.status_code == 302, text(r)[-1500:]
    return text(client.get(r.headers["Location"]))


def has(page: str, *words: str) -> None:
    for w in words:
        assert w in page, (w, page[page.find('<main'):][:3000])


def test_applications_and_an_application_in_dutch(app: Any, rt: Runtime) -> None:
    ed = dutch_editor(app, rt)
    pid = applicant(rt)
    r = ed.get("/editors/applications")
    page = text(r)
    assert html_lang(r) == "nl"
    has(page, "<h1>Aanvragen om aan te sluiten</h1>", "<h2>Wacht op een besluit</h2>",
        '<th scope="col">Aangevraagd</th>', "<h2>Besloten</h2>", "<p>Nog geen.</p>")
    assert re.search(rf'data-label="Aangevraagd">{DUTCH_DATE}<', page), page
    assert "Applications to join" not in page

    one = f"/editors/applications/{pid}"
    page = text(ed.get(one))
    has(page, "<title>Aanvraag SCI-LAB", "← Alle aanvragen", "<h2>Toelatingscriteria nu</h2>",
        "<h2>Besluit</h2>", ">Toelaten als lid</button>", ">Afwijzen</button>",
        "Notitie of reden voor de kandidaat", "Verplicht bij afwijzing",
        "<h2>Geschiedenis</h2>", "<dt>Looptijd</dt>", "<dt>Financiering</dt>",
        "<dt>Gedragscode</dt>")
    assert re.search(rf"<dd>{DUTCH_DATE} tot {DUTCH_DATE}</dd>", page), page
    assert re.search(rf"versie [^<]+ aanvaard op {DUTCH_DATE}", page), page
    assert "Accept as member" not in page and "Eligibility checks" not in page

    said = flashed(ed, post(ed, one, one, decision="accept", reason="Welkom!"))
    has(said, "SCI-LAB is nu lid; de kandidaat is op de hoogte gebracht. "
              "ana@sci-lab.example.org is uitgenodigd als eerste lid: de welkomstmail bevat "
              "de link om een wachtwoord te kiezen.")
    assert re.search(rf"SCI-LAB</a>: lid op {DUTCH_DATE}</li>", said), said
    page = text(ed.get(one))
    assert re.search(rf"Besloten: <strong>lid</strong> op {DUTCH_DATE}, \d\d:\d\d UTC\. "
                     r"Reden: Welkom!", page), page


def test_the_projects_and_a_projects_page_in_dutch(app: Any, rt: Runtime) -> None:
    applicant(rt, accept=True)
    ed = dutch_editor(app, rt)
    page = text(ed.get("/editors/projects/"))
    has(page, "<h1>Projecten</h1>", "Elk project van het register.",
        '<th scope="col">Binnengekomen via</th>', "het aanmeldformulier om aan te sluiten",
        '<span class="status status-member">lid</span>')
    page = text(ed.get("/editors/projects/sci-lab"))
    has(page, "<title>SCI-LAB: bewerken", "← Alle projecten", "<legend>Het initiatief</legend>",
        "<legend>Financiering en data</legend>",
        "<legend>Accounts op sociale media</legend>", ">Notities van de redactie</label>",
        "Nieuwsfeed (RSS of Atom)", "Privé: nooit getoond op de openbare pagina's.",
        "1 tot 15 letters, cijfers of _, bijv. @ostogether; of plak het adres",
        "Niet gefinancierd door een programma</option>",
        ">SCI-LAB opslaan</button>", "<h2>Geschiedenis</h2>",
        '<label for="sdgs-3">4. Kwaliteitsonderwijs</label>')
    assert "Funding and dates" not in page and "Save SCI-LAB" not in page
    here = "/editors/projects/sci-lab"
    said = flashed(ed, ed.post(here, data=form_of(
        ed, here, description="Een lab dat scholen samen runnen.")))
    has(said, "SCI-LAB opgeslagen: korte beschrijving.")
    assert re.search(rf"<li>{DUTCH_DATE}, \d\d:\d\d UTC, .+?: bewerkt: korte beschrijving",
                     said), said
    said = flashed(ed, ed.post(here, data=form_of(ed, here)))
    has(said, "SCI-LAB opgeslagen: er is niets gewijzigd.")


def test_organisations_an_organisation_and_people_in_dutch(app: Any, rt: Runtime) -> None:
    slug = add_organisation(rt, project="cosmos", city="Amsterdam", type="museum")
    with rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == slug))
        assert org is not None
        org.visibility = {"city": "members", "website": "editors"}
    waiting = add_organisation(rt, "Wetenschapsknooppunt", country="BE", status="applied",
                               website="https://knoop.example.be")
    with rt.db.session() as s:
        s.add(Person(name="Jan Kandidaat", email="jan@example.be", status="applied",
                     source="form", role="Leraar"))
    ed = dutch_editor(app, rt)
    page = text(ed.get("/editors/organisations"))
    has(page, "<h1>Organisaties</h1>", "Personen die zich hebben aangemeld",
        "<h2>Wacht op een besluit</h2>", "Reden (nodig om af te wijzen)", ">Toelaten</button>",
        "<h2>Dubbele organisaties samenvoegen</h2>", "<h2>Leden (1)</h2>",
        '<th scope="col">Plaats</th>')
    said = flashed(ed, post(ed, f"/editors/organisations/{waiting}/decide",
                            "/editors/organisations", decision="accept"))
    has(said, "Wetenschapsknooppunt is nu lid.", "<h2>Leden (2)</h2>",
        "Ja, samenvoegen: dit kan niet ongedaan worden gemaakt", ">Samenvoegen</button>",
        '<label for="drop">Erin samenvoegen en daarna verwijderen</label>')
    said = flashed(ed, post(ed, "/editors/organisations/merge", "/editors/organisations",
                            keep=slug, drop=waiting))
    has(said, "Er is niets gedaan: bevestig dat u ze wilt samenvoegen.")

    here = f"/editors/organisations/{slug}"
    page = text(ed.get(here))
    has(page, "← Organisaties", "<legend>Wie elk veld ziet</legend>",
        '<label for="city">Plaats</label>', '<label for="latitude">Breedtegraad</label>',
        '<option value="editors" selected>Alleen de redactie</option>',
        '<option value="members" selected>Leden (ingelogd)</option>',
        "Een afbeelding van uw computer", ">Logo opslaan</button>",
        '<label for="project">Project (slug)</label>', ">Project toevoegen of wijzigen</button>")
    assert "Who sees each field" not in page
    said = flashed(ed, post(ed, f"{here}/logo", here))
    has(said, "Kies de afbeelding die u wilt uploaden.")

    page = text(ed.get("/editors/people"))
    has(page, "<h1>Personen die zich hebben aangemeld</h1>",
        "Reden (nodig om af te wijzen; wordt gemaild)", ">Wissen", "Ja, de gegevens wissen",
        "De gegevens van Jan Kandidaat worden definitief verwijderd",
        "<h2>Leden en niet-toegelaten personen</h2>")
    with rt.db.session() as s:
        jan = s.scalar(select(Person.id).where(Person.email == "jan@example.be"))
    said = flashed(ed, post(ed, f"/editors/people/{jan}/erase", "/editors/people"))
    has(said, "Er is niets gedaan: bevestig dat u de gegevens wilt wissen.")
    said = flashed(ed, post(ed, f"/editors/people/{jan}/erase", "/editors/people",
                            confirm="yes"))
    has(said, "De gegevens van Jan Kandidaat zijn gewist.")


def test_member_accounts_and_tokens_in_dutch(app: Any, rt: Runtime) -> None:
    ed = dutch_editor(app, rt)
    make_user(rt, "juf@cosmos.example", "member", project="cosmos")
    page = text(ed.get("/editors/members"))
    has(page, "<h1>Ledenaccounts en tokens</h1>", "<h2 id=\"invite-h\">Een lid uitnodigen</h2>",
        ">Uitnodiging versturen</button>", ">Een API-token aanmaken</h2>",
        ">Token aanmaken</button>", "Waarvoor is het token?", "<h2>Ledenaccounts</h2>",
        '<th scope="col">Laatst ingelogd</th>', ">nooit</td>", ">Account sluiten",
        "Ja, het account sluiten", "juf@cosmos.example kan dan niet meer inloggen",
        "<p>Nog geen tokens.</p>")
    assert "Send the invitation" not in page and "never" not in page
    said = flashed(ed, post(ed, "/editors/members", "/editors/members", action="invite",
                            **{"invite-email": "meester@cosmos.example", "invite-name": "",
                               "invite-project": "cosmos"}))
    has(said, "meester@cosmos.example is uitgenodigd; de mail bevat een link om een "
              "wachtwoord te kiezen.")
    r = post(ed, "/editors/members", "/editors/members", action="token",
             **{"token-project": "cosmos", "token-name": "Website"})
    page = text(r)
    has(page, "<h2>Het nieuwe token</h2>", "Kopieer het nu en stuur het veilig naar het project",
        ">Intrekken<",
        "Ja, het token intrekken", "die „Website” (")
    token = re.findall(r"/editors/tokens/(\d+)/revoke", page)[0]
    said = flashed(ed, post(ed, f"/editors/tokens/{token}/revoke", "/editors/members"))
    has(said, "Er is niets gedaan: bevestig dat u het token wilt intrekken.")
    said = flashed(ed, post(ed, f"/editors/tokens/{token}/revoke", "/editors/members",
                            confirm="yes"))
    assert re.search(r"Het token [^ ]+… van COSMOS is ingetrokken\.", said), said
    assert ">ingetrokken</td>" in said


def test_social_handles_to_confirm_in_dutch(app: Any, rt: Runtime) -> None:
    with rt.db.session() as s:
        cosmos = s.scalar(select(Project.id).where(Project.slug == "cosmos"))
    assert cosmos is not None
    handles.propose(rt, TEST, cosmos, {"x": "@cosmos_eu", "bluesky": "cosmos.bsky.social"})
    ed = dutch_editor(app, rt)
    page = text(ed.get("/editors/handles"))
    has(page, "<h1>Accounts op sociale media om te bevestigen</h1>",
        "Lidprojecten stellen de accounts voor", '<a href="/editors/projects/">Projecten</a>',
        '<th scope="col">Netwerk</th>', '<th scope="col">In gebruik</th>',
        '<th scope="col">Voorgesteld</th>', ">Bevestigen<", ">Afwijzen<", "Waarom afwijzen?")
    assert "Nothing to confirm" not in page and "Why decline" not in page
    said = flashed(ed, post(ed, "/editors/handles/cosmos", "/editors/handles",
                            action="confirm"))
    has(said, "De accounts van cosmos worden vanaf het volgende bericht gebruikt.",
        "<p>Niets te bevestigen.</p>")


def test_the_feeds_in_dutch(app: Any, rt: Runtime) -> None:
    with rt.db.session() as s:
        p = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert p is not None
        p.feed_url = "https://cosmos.example.org/feed.xml"
    ed = dutch_editor(app, rt)
    page = text(ed.get("/editors/feeds"))
    has(page, "<h1>Feeds van projecten</h1>", "Feeds worden opgehaald door de worker",
        '<th scope="col">Laatst opgehaald</th>', ">nooit",
        "nieuwe berichten wachten op beoordeling", ">Automatisch goedkeuren<")
    said = flashed(ed, post(ed, "/editors/feeds/cosmos", "/editors/feeds", action="auto_on"))
    has(said, "Automatisch goedkeuren staat aan voor cosmos.",
        "nieuwe berichten worden meteen goedgekeurd", ">Berichten beoordelen<")
    feeds.sync(rt)
    with rt.db.session() as s:
        f = s.scalar(select(Feed))
        assert f is not None
        f.failures, f.paused_at, f.last_error = 3, clock.now(), "HTTP 404"
        f.last_polled_at, f.last_outcome = clock.now(), "failed"
    page = text(ed.get("/editors/feeds"))
    has(page, '<strong class="error">Gepauzeerd</strong> na 3 mislukte pogingen: HTTP 404',
        ">Hervatten<", "· mislukt")
    assert re.search(rf'data-label="Laatst opgehaald">{DUTCH_DATE}, \d\d:\d\d UTC', page), page
    said = flashed(ed, post(ed, "/editors/feeds/cosmos", "/editors/feeds", action="resume"))
    has(said, "De feed van cosmos wordt weer opgehaald.")


def test_the_sending_domain_in_german_chosen_with_the_parameter(
        rt: Runtime, env: dict[str, str]) -> None:
    with DnsServer({}).running() as dns:  # a domain that publishes nothing yet
        app = create_app(load_settings(environ={
            **env, "OSTOGETHER_DNS_NAMESERVER": dns.address, "OSTOGETHER_DNS_TIMEOUT": "2",
            "OSTOGETHER_MAIL_FROM": "OStogether <newsletter@ostogether.example>",
            "OSTOGETHER_BOUNCE_ADDRESS": "bounces@mail.ostogether.example",
            "OSTOGETHER_SMTP_HOST": "smtp.relay.example",
            "OSTOGETHER_MAIL_TRANSPORT": "smtp"}))
        try:
            make_user(rt)
            c = new_client(app)
            login(c)
            r = c.get("/editors/sending-domain?lang=de")
            page = text(r)
            assert html_lang(r) == "de"
            has(page, "<h1>Die Absenderdomain</h1>", "Der Newsletter wird von <strong>",
                "<h2 id=\"last-h\">Die letzte Prüfung</h2>", "<p>Noch nicht geprüft.</p>",
                ">Jetzt prüfen</button>", "Was wo zu veröffentlichen ist", "<dt>Wert</dt>")
            said = flashed(c, post(c, "/editors/sending-domain", "/editors/sending-domain"))
            has(said, "ostogether.example geprüft: einige Einträge müssen korrigiert werden.",
                "Zu korrigieren:</strong> DMARC:", "Warnung:</strong> SPF:")
            assert re.search(r"Geprüft am \d{1,2}\. [A-Z][a-zä]+ 20\d\d, \d\d:\d\d \(",
                             said), said
            assert "Check now" not in said
        finally:
            app.extensions["ostogether"].close()


def test_english_stays_the_default(app: Any, rt: Runtime, editor: Any) -> None:
    applicant(rt)
    page = text(editor.get("/editors/applications"))
    has(page, "<h1>Applications to join</h1>", "<h2>Waiting for a decision</h2>")
    assert re.search(r'data-label="Applied">\d{1,2} [A-Z][a-z]+ 20\d\d<', page), page
