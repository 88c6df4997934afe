"""What the newsletter service says to an editor comes in the page's language: the
pre-flight's checks (titles, details, groups, the summary line), a refused approval, the
send's state and notes, a refused test send. The CLI and its JSON stay English and
serialise (docs/translations.md)."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any

from lxml import html as lxml_html

from ostogether.edges.runtime import Runtime
from ostogether.edges.wording import say
from ostogether.models import Issue
from ostogether.newsletter import delivery, wording
from ostogether.newsletter import issues as newsletter
from tests.conftest import csrf_from, post, run
from tests.factories import TEST, add_item, add_readers
from tests.feedserver import FeedServer, Route


def words(html: str) -> str:
    """A page's text as a reader reads it: without tags, entities read, every space (the
    French no-break ones too) one space."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def failing_issue(rt: Runtime, web: FeedServer) -> tuple[Issue, int]:
    """An issue with one failure (a link that is gone), one warning to tick (a project
    with no grant on record) and one piece of advice (the domain never checked)."""
    web.routes["/gone"] = Route(status=404, body=b"gone", content_type="text/html")
    item = add_item(rt, "sense", link=web.url("/gone"))
    return newsletter.compose_next(rt, TEST), item


def test_the_preflight_in_dutch_and_in_german(editor: Any, rt: Runtime,
                                              web: FeedServer) -> None:
    issue, item = failing_issue(rt, web)
    url = f"/editors/issues/{issue.number}/preflight"
    html = editor.get(url + "?lang=nl").get_data(as_text=True)
    page = lxml_html.fromstring(html)
    summary = page.get_element_by_id("preflight-summary").text_content()
    assert summary.startswith("1 mislukt, 1 waarschuwing om af te vinken, 1 advies, "
                              "9 geslaagd.")
    headings = [h.text_content() for h in page.xpath("//main//h2")][:4]
    assert headings == ["Mislukt (1)", "Af te vinken waarschuwingen (1)", "Advies (1)",
                        "Geslaagd (9)"]
    text = words(html)
    assert "Mislukt: Elke link antwoordt" in text
    assert f"{web.url('/gone')}: HTTP 404" in text
    assert "Waarschuwing: De subsidie van elk uitgelicht project is bekend" in text
    assert "is geen subsidienummer bekend; de vermeldingsregel noemt geen subsidie" in text
    assert ("Advies: SPF, DKIM en DMARC van het verzenddomein nog niet gecontroleerd: "
            "controleer het op de pagina van het verzenddomein") in text
    assert "Geslaagd: Het nummer heeft ten minste één bericht 1 bericht" in text
    # The failed link still leads to its item.
    assert f'<a href="/editors/items/{item}">bericht {item} verbeteren</a>' in html
    for english in ("Every link answers", "warning to tick", "not checked yet",
                    "Every featured project"):
        assert english not in html, english

    editor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    editor.set_cookie("lang", "", expires=0)
    html = editor.get(url).get_data(as_text=True)
    summary = lxml_html.fromstring(html).get_element_by_id("preflight-summary").text_content()
    assert summary.startswith("1 fehlgeschlagen, 1 Warnung zum Abhaken, 1 Hinweis, "
                              "9 bestanden.")
    assert "Fehlgeschlagen: Jeder Link antwortet" in words(html)


def test_a_refused_approval_in_french(editor: Any, rt: Runtime, web: FeedServer) -> None:
    issue, item = failing_issue(rt, web)
    url = f"/editors/issues/{issue.number}/preflight"
    editor.get(url + "?lang=fr")
    r = post(editor, url, url)
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    text = words(html)
    assert "Non approuvé" in text
    assert f"Chaque lien répond : {web.url('/gone')} : HTTP 404" in text
    assert ("La subvention de chaque projet présenté est connue (avertissement non coché) "
            ": Aucun numéro de subvention n’est enregistré") in text
    # Behind the French colon (a no-break space before it), the link still leads to its item.
    assert f'<a href="/editors/items/{item}">' in html
    assert "warning, not acknowledged" not in html
    # The same refusal in English, as before.
    r = post(editor, url + "?lang=en", url)
    assert "Every link answers: " + web.url("/gone") + ": HTTP 404" in words(
        r.get_data(as_text=True))
    assert "(warning, not acknowledged)" in r.get_data(as_text=True)


def test_a_refusal_quoted_in_a_flash_in_italian(editor: Any, rt: Runtime,
                                                web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    editor.get("/editors/issues/?lang=it")
    r = post(editor, f"/editors/issues/{issue.number}/send/control",
             f"/editors/issues/{issue.number}", action="pause")
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert (f"Il numero {issue.number} non è in invio, quindi non può essere messo in pausa."
            in words(html))


def test_the_sends_state_and_note_in_dutch(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    add_readers(rt, 2)
    issue = newsletter.compose_next(rt, TEST)
    newsletter.approve(rt, TEST, issue.id, ["domain"])
    delivery.start(rt, TEST, issue.id)
    delivery.pause(rt, TEST, issue.id)
    with rt.db.session() as s:  # what is kept is the English note, never a translation
        assert s.get(Issue, issue.id).send_note == "Paused by test."
    html = editor.get(f"/editors/issues/{issue.number}?lang=nl").get_data(as_text=True)
    assert "Verzending <strong>gepauzeerd</strong>: Gepauzeerd door test." in html
    assert "<th scope=\"col\">in de wachtrij</th>" in html
    html = editor.get(f"/editors/issues/{issue.number}?lang=en").get_data(as_text=True)
    assert "Send <strong>paused</strong>: Paused by test." in html
    assert "<th scope=\"col\">queued</th>" in html


def test_notes_kept_before_read_in_every_language(app: Any) -> None:
    """The notes the delivery keeps (in English), worded when shown: in a French page in
    French, outside a request as kept; a note it does not know, as it is."""
    note = say(wording.WAITING, why="The mail server cannot be reached.", seconds="60")
    assert note == ("The mail server cannot be reached. The send goes on by itself after 60 s, "
                    "or when resumed.")
    assert str(wording.send_note(note)) == note
    assert str(wording.send_note("Cancelled by Ana.")) == "Cancelled by Ana."
    assert wording.send_note("Something else.") == "Something else."
    with app.test_request_context("/editors/?lang=fr"):
        assert str(wording.send_note(note)) == (
            "The mail server cannot be reached. L’envoi reprend de lui-même après 60 s, ou "
            "dès qu’il est relancé.")
        assert str(wording.send_note("Cancelled by Ana.")) == "Annulé par Ana."
        assert str(wording.left_out_reason("'News' is full (4 items)")) == (
            "«\u00a0News\u00a0» est complète (4 actualités)")


def test_a_refused_test_send_in_spanish(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    editor.get(url + "?lang=es")
    r = post(editor, url + "/test", url, to="stranger@example.org", others="")
    assert r.status_code == 400
    text = words(r.get_data(as_text=True))
    assert "no pertenece al equipo editorial: stranger@example.org" in text
    assert "not an editor" not in text


def test_the_cli_and_its_json_stay_english(rt: Runtime, web: FeedServer,
                                           env: dict[str, str]) -> None:
    issue, _item = failing_issue(rt, web)
    r = run(env, "issue", "preflight", str(issue.number), "--format", "json")
    report = json.loads(r.stdout)
    checks = {c["key"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert checks["links"]["label"] == "Every link answers"
    assert checks["links"]["details"][0] == f"{web.url('/gone')}: HTTP 404"
    assert checks["items"]["details"] == ["1 item"]
    r = run(env, "issue", "preflight", str(issue.number))
    assert "1 failed, 1 warning to tick, 1 piece of advice, 9 passed." in r.stdout


def test_the_jobs_descriptions_in_dutch(editor: Any, env: dict[str, str]) -> None:
    """The timetable's jobs as the schedule page names them; the CLI's list stays English
    and serialises."""
    html = editor.get("/editors/schedule/?lang=nl").get_data(as_text=True)
    assert "<strong>Feeds van lidprojecten ophalen voor nieuwe berichten</strong>" in html
    assert "<strong>Het concept van het volgende nummer samenstellen</strong>" in html
    assert "Poll member feeds" not in html
    html = editor.get("/editors/schedule/?lang=en").get_data(as_text=True)
    assert "<strong>Poll member feeds for new items</strong>" in html
    r = run(env, "schedule", "show", "--format", "json")
    jobs = {row["job"]: row for row in json.loads(r.stdout)["jobs"]}
    assert jobs["poll_feeds"]["description"] == "Poll member feeds for new items"


def test_the_send_dates_refusal_in_italian_with_its_date(editor: Any, rt: Runtime,
                                                          web: FeedServer,
                                                          test_clock: Any) -> None:
    test_clock.set(dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC))
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    editor.get(url + "?lang=it")
    r = post(editor, f"{url}/schedule", url, send_date="2027-03-28", send_time="02:30")
    assert r.status_code == 400
    text = words(r.get_data(as_text=True))
    assert ("le 02:30 non esistono il 28 marzo 2027 in Europe/Brussels: quella notte si "
            "spostano avanti gli orologi") in text
    assert "there is no" not in text


def test_an_items_move_refused_in_german(editor: Any, rt: Runtime, web: FeedServer) -> None:
    item = add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    editor.get(url + "?lang=de")
    r = post(editor, f"{url}/arrange", url, item_id=str(item), action="add")
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Beitrag {item} ist bereits in dieser Ausgabe." in words(html)


def test_an_announcements_segment_refused_in_french(editor: Any, rt: Runtime) -> None:
    page = editor.get("/editors/announcements/new?lang=fr").get_data(as_text=True)
    r = editor.post("/editors/announcements/new", data={
        "csrf_token": csrf_from(page), "action": "create", "subject": "Webinaire",
        "preheader": "En ligne", "countries": ["XX"], "languages": ["xx"]})
    assert r.status_code == 400
    text = words(r.get_data(as_text=True))
    assert "Pays inconnu 'XX' : utilisez des codes à deux lettres, comme BE, NL." in text
    assert "Langue inconnue 'xx' : utilisez en, nl, fr, de, es, it." in text


def test_a_language_texts_refusal_in_dutch(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    editor.get(url + "?lang=nl")
    r = post(editor, f"{url}/texts", url, language="xx", subject="Onderwerp", preheader="",
             intro_md="")
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert ("Onbekende taal 'xx'; gebruik een van en, nl, fr, de, es, it."
            in words(html))



def test_an_unpublished_issue_and_a_broken_template_in_dutch(client: Any, editor: Any,
                                                             rt: Runtime, home: Any) -> None:
    add_item(rt, "cosmos", link="https://example.org/a")
    issue = newsletter.compose_next(rt, TEST)
    r = client.get(f"/archive/{issue.number}?lang=nl")
    assert r.status_code == 404
    assert f"Nummer #{issue.number} is nog niet gepubliceerd." in words(
        r.get_data(as_text=True))
    path = home / "templates/newsletter/issue.mjml.j2"
    path.write_text(path.read_text().replace(
        "<mj-text>{{ item.summary_html|link_colour(brand) }}</mj-text>",
        "<mj-txt>{{ item.summary_html }}</mj-txt>"))
    r = editor.get(f"/editors/issues/{issue.number}/preview?lang=nl")
    assert r.status_code == 422
    assert re.search(r"newsletter/issue\.mjml\.j2: MJML-fout op regel \d+, kolom \d+ van de "
                     r"gegenereerde MJML: onbekende tag &lt;mj-txt&gt;",
                     r.get_data(as_text=True))


def test_a_refusal_names_its_fields_by_the_forms_words(app: Any) -> None:
    """"editorial", "onderwerp": never the form's keys (intro_md)."""
    import pytest

    from ostogether.core.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        newsletter.checked_details("", "", "x" * 10_001)
    assert str(refused.value) == ("The issue was not saved: subject: a subject is required; "
                                  "editorial: at most 10000 characters.")
    with app.test_request_context("/?lang=nl"):
        dutch = str(refused.value)
    assert "onderwerp: " in dutch and "redactioneel: " in dutch and "intro_md" not in dutch
