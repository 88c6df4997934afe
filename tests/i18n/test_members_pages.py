"""The member projects' own pages in their language: a member whose browser asks for
Dutch (or who picks French with ?lang=fr) gets the headings, buttons, states, dates and
flash messages of their news, their items, their API tokens, their social handles, their
library outputs and their own record in it (docs/members.md, "In your language")."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from ostogether.edges.runtime import Runtime
from tests.conftest import csrf_from, login, new_client, post
from tests.factories import add_organisation, make_user

ITEM = {"kind": "news", "title": "Open dag in het wetenschapscentrum",
        "summary": "Scholen zijn **welkom**.", "link": "https://example.org/open-dag",
        "language": "nl", "for_newsletter": "y", "for_social": "y", "event_timezone": ""}
DUTCH_DATE = r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|" \
    r"oktober|november|december) 20\d\d"


def html_lang(r: Any) -> str:
    m = re.search(r'<html lang="([a-z]+)"', text(r))
    assert m, text(r)[:200]
    return m.group(1)


def dutch_member(app: Any, rt: Runtime, email: str = "juf@cosmos.example",
                 project: str = "cosmos") -> Any:
    """A member of ``project``, logged in from a browser that asks for Dutch."""
    make_user(rt, email, "member", project=project)
    c = new_client(app)
    c.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    assert login(c, email).status_code == 302
    return c


def text(r: Any) -> str:
    return str(r.get_data(as_text=True))


def flashed(client: Any, r: Any) -> str:
    """The page a form's redirect leads to, with its flash message."""
    assert r.status_code == 302, text(r)[:500]
    return text(client.get(r.headers["Location"]))


def submit(client: Any, **changes: Any) -> Any:
    return post(client, "/members/items/new", "/members/items/new", **{**ITEM, **changes})


def test_the_members_news_their_item_and_its_flashes_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    empty = juf.get("/members/")
    html = text(empty)
    assert html_lang(empty) == "nl"
    assert "<h1>COSMOS: uw nieuws</h1>" in html
    for words in ("Nieuws insturen", "API-tokens", "Zichtbaarheidsrapport",
                  "Aanmeldformulier voor uw site", "Accounts op sociale media",
                  "Nog geen berichten.", "Stuur uw eerste nieuwsbericht in",
                  '<option value="">Alle</option>', ">Tonen</button>", ">Uw nieuws</a>"):
        assert words in html, words
    assert "Submit news" not in html and "your news" not in html

    page = flashed(juf, submit(juf))
    assert "Dank u wel: „Open dag in het wetenschapscentrum” is ingestuurd." in page
    for words in ("Status:", "ingestuurd</span>", "Bericht wijzigen", "Dit bericht intrekken",
                  "Ja, dit bericht intrekken", "Zo ziet het eruit in de nieuwsbrief",
                  "<h2>Gegevens</h2>", "<h2>Geschiedenis</h2>", "Lees meer",
                  "<dt>Binnengekomen via</dt><dd>het formulier</dd>", "<dd>Nederlands</dd>",
                  "<dd>de nieuwsbrief en sociale media</dd>", "<dt>Voorgesteld voor</dt>"):
        assert words in page, words
    assert "How it will look" not in page and "Withdraw" not in page

    listing = text(juf.get("/members/"))
    assert re.search(rf"{DUTCH_DATE} via het formulier", listing), listing
    assert ngettext_caption(listing) == "1 bericht"
    assert '<th scope="col">Soort</th>' in listing and 'data-label="Status"' in listing
    assert '<option value="rejected">afgewezen</option>' in listing
    assert ">Intrekken<" in listing and ">Ja, het bericht intrekken</button>" in listing
    item_id = int(re.findall(r"/members/items/(\d+)/edit", listing)[0])

    # An edit's flash names the changed fields in Dutch.
    edited = post(juf, f"/members/items/{item_id}/edit", f"/members/items/{item_id}/edit",
                  **{**ITEM, "title": "Open dag, nu op zaterdag", "language": "en"})
    assert "Opgeslagen: titel, taal." in flashed(juf, edited)
    history = text(juf.get(f"/members/items/{item_id}"))
    assert "Ingestuurd door juf@cosmos.example" in history
    assert "Gewijzigd door juf@cosmos.example" in history and ": titel, taal</li>" in history
    assert re.search(r"<time [^>]*>\d{1,2} [a-z]{3} 20\d\d \d\d:\d\d</time>", history)
    unchanged = post(juf, f"/members/items/{item_id}/edit", f"/members/items/{item_id}/edit",
                     **{**ITEM, "title": "Open dag, nu op zaterdag", "language": "en"})
    assert "Er is niets gewijzigd." in flashed(juf, unchanged)

    # Withdrawing: unconfirmed, then confirmed; then the item cannot be changed.
    nothing = post(juf, f"/members/items/{item_id}/withdraw", "/members/")
    assert "Er is niets gedaan: bevestig dat u het bericht wilt intrekken." in \
        flashed(juf, nothing)
    done = post(juf, f"/members/items/{item_id}/withdraw", "/members/", confirm="yes")
    assert "„Open dag, nu op zaterdag” is ingetrokken; de redactie beoordeelt het niet." in \
        flashed(juf, done)
    late = juf.get(f"/members/items/{item_id}/edit")
    assert "„Open dag, nu op zaterdag” is ingetrokken; alleen een bericht dat op " \
        "beoordeling wacht, kan worden gewijzigd." in flashed(juf, late)


def ngettext_caption(html: str) -> str:
    m = re.search(r"<caption>(.*?)</caption>", html)
    assert m, html
    return m.group(1)


def test_an_events_day_and_time_are_written_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    page = flashed(juf, submit(juf, kind="event", title="Lerarenworkshop",
                               link="https://example.org/workshop",
                               event_start="2027-04-01T09:30",
                               event_timezone="Europe/Brussels", event_location="Brussel"))
    assert "donderdag 1 april 2027, 09:30 (Europe/Brussels)" in page
    assert "<dt>Soort</dt><dd>Evenement</dd>" in page


def test_api_tokens_in_french_when_chosen_with_lang(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    page = juf.get("/members/tokens?lang=fr")  # the choice wins over the browser's Dutch
    html = text(page)
    assert html_lang(page) == "fr"
    for words in ("<h1>Jetons d’API de COSMOS</h1>", "À quoi sert ce jeton\u00a0?",
                  "Créer un jeton", "Aucun jeton pour l’instant.", "description OpenAPI"):
        assert words in html, words
    created = text(juf.post("/members/tokens", data={"csrf_token": csrf_from(html),
                                                     "name": "site"}))
    assert "Votre nouveau jeton" in created and "Copiez-le maintenant" in created
    assert ">Révoquer<" in created and "Oui, révoquer le jeton" in created
    assert '<th scope="col">Dernière utilisation</th>' in created and ">jamais<" in created
    token_id = re.search(r"/members/tokens/(\d+)/revoke", created)
    assert token_id
    url = f"/members/tokens/{token_id.group(1)}/revoke"
    nothing = post(juf, url, "/members/tokens")
    assert "Rien n’a été fait\u00a0: confirmez que vous souhaitez révoquer le jeton." in \
        flashed(juf, nothing)
    revoked = flashed(juf, post(juf, url, "/members/tokens", confirm="yes"))
    assert re.search(r"Le jeton «\u00a0site\u00a0» \(ost_[^)]*…\) est révoqué\.", revoked)
    assert re.search(r"révoqué le \d{1,2} \w+ 20\d\d", revoked), revoked


def test_social_handles_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    html = text(juf.get("/members/handles"))
    for words in ("<h1>COSMOS op sociale media</h1>", "Als de gemeenschap over uw nieuws post",
                  "1 tot 15 letters, cijfers of _, bijvoorbeeld @ostogether; of plak het adres",
                  "Ter bevestiging naar de redactie sturen", "<h2>Nu in gebruik</h2>",
                  "Nog geen: berichten op sociale media noemen COSMOS bij naam."):
        assert words in html, words
    bad = post(juf, "/members/handles", "/members/handles", x="not a handle!",
               mastodon="cosmos", bluesky="", linkedin="", facebook="")
    refused = unescape(text(bad))
    assert bad.status_code == 400
    assert "Er is niets verstuurd: X: verwacht wordt 1 tot 15 letters, cijfers of _" in refused
    assert "Mastodon: verwacht wordt @gebruiker@server, bijvoorbeeld" in refused
    sent = post(juf, "/members/handles", "/members/handles", x="@cosmos_eu", mastodon="",
                bluesky="", linkedin="", facebook="")
    page = flashed(juf, sent)
    assert "Verstuurd: de redactie controleert de accounts" in page
    assert "Uw voorstel wacht op de redactie." in page


def send(member: Any, **data: Any) -> Any:
    """The output form, sent (its "url" field cannot go through ``post``)."""
    token = csrf_from(text(member.get("/members/library/new")))
    return member.post("/members/library/new", data={"csrf_token": token, **data})


def test_library_outputs_and_their_form_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt, "otter@example.org", "otter")
    mine = text(juf.get("/members/library"))
    assert "<h1>OTTER: uw resultaten in de bibliotheek</h1>" in mine
    assert "Resultaat toevoegen" in mine and "Nog geen resultaten." in mine
    form = juf.get("/members/library/new")
    html = text(form)
    for words in ("Een resultaat van OTTER aan de bibliotheek toevoegen", ">Titel</label>",
                  ">Beschrijving</label>", "Wat het is en voor wie het bedoeld is.",
                  ">Schoolvakken</legend>", "Niet vermeld", "Ter beoordeling insturen",
                  "← Uw resultaten"):
        assert words in html, words
    bad = send(juf, title="", type="map", url="https://otter-project.eu/map")
    assert bad.status_code == 400
    assert "Het resultaat is niet verstuurd" in text(bad)
    ok = send(juf, title="Kaart van buitenplekken", type="map",
              url="https://otter-project.eu/map", languages=["en"],
              description="Plekken om buiten les te geven.")
    listing = flashed(juf, ok)
    assert "Dank u wel: „Kaart van buitenplekken” is verstuurd." in listing
    assert ngettext_caption(listing) == "1 resultaat"
    assert 'data-label="Status">ingestuurd' in listing
    assert "Ja, het resultaat intrekken" in listing
    output_id = re.search(r"/members/library/(\d+)/withdraw", listing)
    assert output_id
    done = post(juf, f"/members/library/{output_id.group(1)}/withdraw", "/members/library",
                confirm="yes")
    assert "„Kaart van buitenplekken” is uit de bibliotheek teruggetrokken." in \
        flashed(juf, done)


def test_the_own_record_in_dutch(app: Any, rt: Runtime) -> None:
    make_user(rt, "ana@cosmos.example.eu", "member", project="cosmos")
    slug = add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu")
    ana = new_client(app)
    ana.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    assert login(ana, "ana@cosmos.example.eu").status_code == 302
    html = text(ana.get("/account/record"))
    for words in ("<h1>Uw ledengegevens</h1>", "Kies per veld wie het mag zien",
                  ">Wie het ziet</label>", ">Alleen de redactie</option>",
                  ">Leden (ingelogd)</option>", ">Iedereen</option>",
                  "Uw gegevens downloaden (JSON)", "Mijn gegevens wissen",
                  "Ja, mijn gegevens wissen"):
        assert words in html, words
    saved = ana.post("/account/record", data={
        "csrf_token": csrf_from(html), "name": "Ana Silva", "email": "ana@cosmos.example.eu",
        "organisation": slug, "country": "NL", "role": "", "interests": "",
        "show_name": "everyone"})
    assert "Uw gegevens zijn opgeslagen." in flashed(ana, saved)
    erased = post(ana, "/account/record/erase", "/account/record", confirm="yes")
    assert "Uw ledengegevens zijn gewist." in flashed(ana, erased)


def test_an_editor_on_the_members_pages_is_told_so_in_dutch(app: Any, rt: Runtime) -> None:
    make_user(rt)
    editor = new_client(app)
    editor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl"
    assert login(editor).status_code == 302
    for path in ("/members/", "/members/library"):
        r = editor.get(path)
        assert r.status_code == 403
        assert "Deze pagina's zijn voor de accounts van lidprojecten." in \
            unescape(text(r)), path


def test_the_visibility_report_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    assert submit(juf).status_code == 302
    html = unescape(text(juf.get("/reports/visibility")))
    for words in ("<h1>Zichtbaarheidsrapport: COSMOS</h1>", ">Periode</label>",
                  ">Van</label>", ">Tonen</button>", "Het bewijspakket downloaden",
                  "<strong>1</strong> bericht ingestuurd",
                  "<strong>0</strong> nummers van de nieuwsbrief, met een bereik van",
                  "<h2>Berichten</h2>", 'data-label="Status">ingestuurd</td>',
                  "<span class=\"meta\">Nieuws</span>", ">nog niet</td>",
                  "In deze periode bevatte geen enkel nummer berichten van dit project.",
                  "Geen berichten op sociale media in deze periode."):
        assert words in html, words
    assert re.search(rf"Periode: {DUTCH_DATE} tot en met {DUTCH_DATE}, in de nieuwsbrief",
                     html), html
    other = juf.get("/reports/visibility?project=levers")
    assert other.status_code == 403
    assert "U kunt alleen het rapport van uw eigen project zien." in unescape(text(other))


def test_the_item_form_in_dutch(app: Any, rt: Runtime) -> None:
    juf = dutch_member(app, rt)
    page = text(juf.get("/members/items/new"))
    for words in ("<h1>Nieuws van COSMOS insturen</h1>", "Voor evenementen",
                  "Vertaling 1", "Taal van deze vertaling", "Ter beoordeling insturen",
                  "De redactie beoordeelt elk bericht"):
        assert words in page, words
    for english in ("Submit for review", "For events", "Language of this translation"):
        assert english not in page, english
    refused = text(juf.post("/members/items/new", data={
        "csrf_token": csrf_from(page), "kind": "news", "title": "", "link": "nope"}))
    assert "Het bericht is niet ingestuurd" in refused
