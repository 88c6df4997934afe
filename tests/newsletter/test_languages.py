"""One issue, every reader in their language: per-language texts, one compile per
language (never per reader), and a send over SMTP (aiosmtpd) in which a Dutch reader gets
a Dutch frame, subject and translated item, with an untranslated item marked English, and
an English reader gets English throughout."""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from ostogether.core.errors import ContentError, ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.models import Delivery, IssueSnapshot, Subscriber
from ostogether.news import translations
from ostogether.newsletter import delivery, rendering, versions
from ostogether.newsletter import issues as newsletter
from tests.conftest import Sink, post
from tests.factories import TEST, add_item, add_readers
from tests.feedserver import FeedServer

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
NL_TITLE = "Ouders als wetenschappers in de klas"


@pytest.fixture
def env(env: dict[str, str], smtp_server: tuple[Any, Sink]) -> dict[str, str]:
    controller, _ = smtp_server
    return {**env, "OSTOGETHER_LINK_CHECK_TIMEOUT": "1", "OSTOGETHER_MAIL_TRANSPORT": "smtp",
            "OSTOGETHER_SMTP_HOST": "127.0.0.1", "OSTOGETHER_SMTP_PORT": str(controller.port),
            "OSTOGETHER_SMTP_SECURITY": "none", "OSTOGETHER_SMTP_TIMEOUT": "5"}


def readers(rt: Runtime, language: str, n: int) -> list[int]:
    ids = add_readers(rt, n, domain=f"{language}.readers.test")
    with rt.db.session() as s:
        s.execute(update(Subscriber).where(Subscriber.id.in_(ids)).values(language=language))
    return ids


def composed(rt: Runtime, web: FeedServer) -> Any:
    """An issue with a translated item (into Dutch) and an untranslated English one."""
    first = add_item(rt, "cosmos", link=web.url("/page/1"),
                     title="Parents as scientists in the classroom")
    translations.save(rt, TEST, first, [translations.TranslationInput(
        "nl", NL_TITLE, "Een gids voor **scholen**.", web.url("/page/2"))])
    add_item(rt, "levers", link=web.url("/page/3"), title="A toolkit for science fairs")
    return newsletter.compose_next(rt, TEST, now=NOW)


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """How many times each language's version is compiled (Jinja2 and MJML)."""
    seen: collections.Counter[str] = collections.Counter()
    real = rendering.render_issue

    def counting(community: Any, context: dict[str, Any]) -> Any:
        seen[context["language"]] += 1
        return real(community, context)
    monkeypatch.setattr(rendering, "render_issue", counting)
    yield seen


def by_reader(sink: Sink) -> dict[str, EmailMessage]:
    return {str(m["To"]).split("<")[-1].rstrip(">"): m for m in sink.messages}


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_dutch_and_an_english_reader_each_get_the_issue_in_their_language(
        rt: Runtime, web: FeedServer, smtp_server: tuple[Any, Sink],
        compiles: collections.Counter[str]) -> None:
    en = readers(rt, "en", 3)
    nl = readers(rt, "nl", 3)
    issue = composed(rt, web)
    newsletter.approve(rt, TEST, issue.id)
    # Compiled per language, however many readers each has: twice (the pre-flight, then
    # the check that what is frozen is what was checked), never once per reader.
    assert compiles == {"en": 2, "nl": 2}
    compiles.clear()
    st = delivery.send(rt, TEST, issue.id)
    assert st.counts["sent"] == 6 and compiles == {}  # sending never renders
    got = by_reader(smtp_server[1])
    assert len(got) == 6
    with rt.db.session() as s:
        ledger = dict(s.execute(select(Delivery.subscriber_id, Delivery.language)).all())
    assert {ledger[i] for i in en} == {"en"} and {ledger[i] for i in nl} == {"nl"}

    dutch = got["reader0@nl.readers.test"]
    html, text = html_of(dutch), text_of(dutch)
    assert dutch["Subject"] == f"OStogether #10: {NL_TITLE}"
    assert '<html lang="nl"' in html
    for phrase in ("Nieuwsbrief OStogether #10", "Nieuws uit de gemeenschap", NL_TITLE,
                   "Gefinancierd door de Europese Unie", "Uitschrijven voor deze nieuwsbrief",
                   "Bekijk dit nummer in uw browser"):
        assert phrase in html, phrase
    assert re.search(r"· (januari|februari|maart|april|mei|juni|juli|augustus|september|"
                     r"oktober|november|december) 20\d\d<", html)  # the date in Dutch
    for english in ("News from the community", "Unsubscribe from this newsletter",
                    "View this issue in your browser", "Funded by the European Union",
                    "Parents as scientists", "January", "February", "March"):
        assert english not in html, english
    # The untranslated item: in English, marked so, with a label in Dutch.
    assert re.search(r'<h3[^>]* lang="en"[^>]*><a [^>]*>A toolkit for science fairs</a>', html)
    assert "in het Engels" in html and "in het Engels" in text
    assert '<div lang="en">' in html
    assert "?lang=nl" in html  # the web version in Dutch
    assert "Nieuws uit de gemeenschap" in text and NL_TITLE in text

    english = got["reader0@en.readers.test"]
    html, text = html_of(english), text_of(english)
    assert english["Subject"] == "OStogether #10: Parents as scientists in the classroom"
    assert '<html lang="en"' in html
    for phrase in ("News from the community", "Parents as scientists in the classroom",
                   "A toolkit for science fairs", "Unsubscribe from this newsletter"):
        assert phrase in html, phrase
    for dutch_text in (NL_TITLE, "in het Engels", "Nieuws", "Gefinancierd", 'lang="nl"',
                       "in English"):
        assert dutch_text not in html, dutch_text
    assert "?lang=" not in html


def test_a_reader_in_a_language_without_a_version_gets_the_communitys(
        rt: Runtime, web: FeedServer, smtp_server: tuple[Any, Sink],
        compiles: collections.Counter[str]) -> None:
    readers(rt, "pt", 2)  # a language the newsletter does not speak
    readers(rt, "de", 1)
    issue = composed(rt, web)
    newsletter.approve(rt, TEST, issue.id)
    assert set(compiles) == {"en", "de"}
    with rt.db.session() as s:
        assert [v.language for v in s.scalars(select(IssueSnapshot))] == ["de"]
    delivery.send(rt, TEST, issue.id)
    got = by_reader(smtp_server[1])
    assert "News from the community" in html_of(got["reader0@pt.readers.test"])
    german = html_of(got["reader0@de.readers.test"])
    assert "Neues aus der Community" in german and "auf Englisch" in german


def test_per_language_texts_and_the_same_for_every_language(rt: Runtime,
                                                            web: FeedServer) -> None:
    readers(rt, "nl", 1)
    readers(rt, "fr", 1)
    issue = composed(rt, web)
    newsletter.update_details(rt, TEST, issue.id, subject="OStogether #10: spring",
                              preheader="Three stories", intro_md="Dear reader, welcome.")
    versions.set_texts(rt, TEST, issue.id, "nl", subject="Lente bij OStogether",
                       preheader="", intro_md="Beste lezer, welkom.")
    with rt.db.session() as s:
        current = newsletter.get_issue(s, issue.id)
        nl = newsletter.render_current(rt, current, "nl")
        fr = newsletter.render_current(rt, current, "fr")
    assert nl.subject == "Lente bij OStogether"
    assert nl.preheader == "2 berichten van 2 projecten: COSMOS, LEVERS."  # the default
    assert "Beste lezer, welkom." in nl.html and "Voorwoord" in nl.html
    # French has none written: its defaults, and the editorial as written, marked English.
    assert fr.subject == "OStogether #10: Parents as scientists in the classroom"
    assert fr.preheader == "2 articles de 2 projets: COSMOS, LEVERS."
    assert re.search(r'<div lang="en"><p>Dear reader, welcome.</p>', fr.html)
    assert "en anglais" in fr.html and "Éditorial" in fr.html
    versions.set_same(rt, TEST, issue.id, ["subject"])
    with rt.db.session() as s:
        nl = newsletter.render_current(rt, newsletter.get_issue(s, issue.id), "nl")
    assert nl.subject == "OStogether #10: spring"
    with pytest.raises(ValidationError, match="the issue's own language"):
        versions.set_texts(rt, TEST, issue.id, "en", subject="x", preheader="", intro_md="")
    with pytest.raises(ValidationError, match="Unknown language 'sv'"):
        versions.set_texts(rt, TEST, issue.id, "sv", subject="x", preheader="", intro_md="")


def test_an_edit_of_a_language_after_approval_sends_the_issue_back_to_review(
        rt: Runtime, web: FeedServer) -> None:
    readers(rt, "nl", 1)
    issue = composed(rt, web)
    newsletter.approve(rt, TEST, issue.id)
    versions.set_texts(rt, TEST, issue.id, "nl", subject="Nieuw onderwerp", preheader="",
                       intro_md="")
    with rt.db.session() as s:
        again = newsletter.get_issue(s, issue.id)
        assert again.status == "in_review" and not again.snapshots


# ------------------------------------------------------------------ the loader

@pytest.mark.parametrize(("old", "new", "says"), [
    ("[languages.it]", "[languages.xx]", "unknown language 'xx'; use en, nl, fr, de, es, it"),
    ('read_more = "Per saperne di più"', 'read_mor = "Per saperne"',
     "unknown text 'languages.it.read_mor'"),
    ('heading = "Nieuwsbrief {short_name} #{number}"', 'heading = "Nieuwsbrief {naam}"',
     "'languages.nl.heading' uses an unknown field 'naam'"),
    ('events = "Evenementen"', 'evenementen = "Evenementen"', "unknown section 'evenementen'"),
    ('weekdays = ["ma", "di", "wo", "do", "vr", "za", "zo"]', 'weekdays = ["ma"]',
     "'languages.nl.weekdays' must be a list of 7 texts"),
    ('read_more = "Read more"\n', "", "missing: read_more"),
])
def test_the_newsletters_language_tables_are_checked_with_file_and_line(
        rt: Runtime, home: Path, old: str, new: str, says: str) -> None:
    path = home / "content/newsletter.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    path.write_text(changed, encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        rt.community.newsletter()
    problem = next(p for p in caught.value.problems if says in p)
    line = int(problem.split(":")[1])
    assert line >= 1 and (not new or new.split("\n")[0].split(" = ")[0].strip("[]") in
                          changed.splitlines()[line - 1] or "missing" in says)


def test_a_language_that_does_not_render_blocks_the_approval(rt: Runtime, web: FeedServer,
                                                             home: Path) -> None:
    readers(rt, "nl", 1)
    issue = composed(rt, web)
    path = home / "templates/newsletter/issue.txt.j2"
    path.write_text(path.read_text() + '{% if language == "nl" %}{{ nowhere }}{% endif %}\n')
    report, _ = newsletter.run_preflight(rt, issue.id)
    render = next(c for c in report.checks if c.key == "render")
    assert render.status == "fail"
    assert render.details[0].startswith("Nederlands (nl): ") and "nowhere" in render.details[0]


# ------------------------------------------------------------------ the editors' pages

def test_editors_write_a_languages_texts_and_preview_and_check_each_language(
        rt: Runtime, web: FeedServer, editor: Any) -> None:
    readers(rt, "en", 2)
    readers(rt, "nl", 3)
    issue = composed(rt, web)
    page = f"/editors/issues/{issue.number}?version=nl"
    html = editor.get(page).get_data(as_text=True)
    assert 'id="languages-h"' in html and "The texts in" in html
    # Choosing the Dutch texts to edit never turns the editor's own pages Dutch (the
    # page's language is ?lang=, kept in a cookie; a version is ?version=).
    assert '<html lang="en"' in html and editor.get_cookie("lang") is None
    r = post(editor, f"/editors/issues/{issue.number}/texts", page, language="nl",
             subject="Lente bij OStogether", preheader="", intro_md="Beste lezer.")
    assert r.status_code == 302 and "version=nl" in r.headers["Location"]
    r = post(editor, f"/editors/issues/{issue.number}/texts", page, language="nl",
             subject="x" * 201, preheader="", intro_md="")
    assert r.status_code == 400 and "200 characters" in r.get_data(as_text=True)
    r = post(editor, f"/editors/issues/{issue.number}/same", page, same=["preheader"])
    assert r.status_code == 302
    with rt.db.session() as s:
        again = newsletter.get_issue(s, issue.id)
        assert [(t.language, t.subject, t.intro_md) for t in again.texts] == [
            ("nl", "Lente bij OStogether", "Beste lezer.")]
        assert again.same_texts == ["preheader"]
    preview = editor.get(f"/editors/issues/{issue.number}/preview?version=nl")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Lente bij OStogether" in text
    assert "preview.html?version=nl" in text
    frame = editor.get(f"/editors/issues/{issue.number}/preview.html?version=nl")
    assert "Nieuws uit de gemeenschap" in frame.get_data(as_text=True)
    checks = editor.get(f"/editors/issues/{issue.number}/preflight").get_data(as_text=True)
    row = re.search(r'<th scope="row" data-label="Language"><span lang="nl">Nederlands'
                    r'</span> \(nl\)</th>\s*<td data-label="Readers">(\d+)</td>\s*'
                    r'<td data-label="Items in their language">(\d+) of (\d+)', checks)
    assert row is not None and row.groups() == ("3", "1", "2")
    row = re.search(r'<span lang="en">English</span> \(en\)</th>\s*<td data-label='
                    r'"Readers">(\d+)</td>\s*<td data-label="Items in their language">'
                    r'(\d+) of (\d+)', checks)
    assert row is not None and row.groups() == ("2", "2", "2")
    assert "Lente bij OStogether" in checks
    assert f"/editors/issues/{issue.number}/preview?version=nl" in checks


# ------------------------------------------------------------------ the archive

def test_the_archive_keeps_every_languages_web_version_and_feed(
        rt: Runtime, web: FeedServer, client: Any, smtp_server: tuple[Any, Sink]) -> None:
    readers(rt, "en", 1)
    readers(rt, "nl", 1)
    issue = composed(rt, web)
    newsletter.approve(rt, TEST, issue.id)
    delivery.send(rt, TEST, issue.id)
    dutch = client.get(f"/archive/{issue.number}?lang=nl")
    html = dutch.get_data(as_text=True)
    assert dutch.status_code == 200 and '<html lang="nl"' in html
    assert NL_TITLE in html and "Nieuws uit de gemeenschap" in html
    assert "in het Engels" in html
    # The way to the other languages, each named in itself; and the alternates.
    assert re.search(r'<nav aria-label="Dit nummer in andere talen"><a href="[^"]*/archive/'
                     rf'{issue.number}" hreflang="en" lang="en"[^>]*>English</a></nav>', html)
    assert re.search(rf'<link rel="alternate" hreflang="en" href="[^"]*/archive/'
                     rf'{issue.number}"></head>', html)
    english = client.get(f"/archive/{issue.number}").get_data(as_text=True)
    assert '<html lang="en"' in english and "News from the community" in english
    assert f'/archive/{issue.number}?lang=nl" hreflang="nl" lang="nl"' in english
    assert "Nederlands</a>" in english
    # A language it was not sent in: the community's version.
    french = client.get(f"/archive/{issue.number}?lang=fr").get_data(as_text=True)
    assert '<html lang="en"' in french
    feed = client.get("/archive.atom?lang=nl").get_data(as_text=True)
    assert "<title>Nieuwsbrief OStogether</title>" in feed
    assert f"<title>OStogether #10: {NL_TITLE}</title>" in feed
    assert f'/archive/{issue.number}?lang=nl"' in feed and 'xml:lang="nl"' in feed
    assert 'hreflang="en"' in feed
    plain = client.get("/archive.atom").get_data(as_text=True)
    assert "OStogether #10: Parents as scientists in the classroom" in plain
    assert NL_TITLE not in plain
