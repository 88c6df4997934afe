"""Issue 35, as a Dutch teacher meets it: a browser that asks for Dutch subscribes in
Dutch (Debian's Chromium against the served app), the confirmation and the welcome come
in Dutch, and the next issue arrives in Dutch, a translated item in Dutch and an
untranslated one marked English; an English reader of the same send gets English
throughout."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

from ostogether.news import translations
from ostogether.newsletter import delivery
from ostogether.newsletter import issues as newsletter
from tests.browser import Live, link_in
from tests.conftest import wait_for
from tests.factories import TEST, add_item, add_readers
from tests.feedserver import FeedServer

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
NL_TITLE = "Ouders als wetenschappers in de klas"
TEACHER = "juf.anna@basisschool.example"


def mails(sink: Any, to: str, count: int) -> list[EmailMessage]:
    def arrived() -> list[EmailMessage] | None:
        found = [m for m in sink.messages if to in m["To"]]
        return found if len(found) >= count else None
    return list(wait_for(arrived, seconds=10, interval=0.05))


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def test_a_dutch_teacher_subscribes_in_dutch_and_reads_the_issue_in_dutch(
        live: Live, chromium: Any, smtp_server: Any, web: FeedServer) -> None:
    _, sink = smtp_server
    context = chromium.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        page.goto(live.url + "/subscribe")
        # Accept-Language alone: no cookie, no parameter.
        assert page.get_attribute("html", "lang") == "nl"
        assert page.input_value("#language") == "nl"  # asked, pre-selected
        page.fill("#email", TEACHER)
        page.check("#consent")
        page.click("main form button[type=submit]")
        assert page.inner_text("h1") == "Kijk in uw mailbox"
        [confirm] = mails(sink, TEACHER, 1)
        assert confirm["Subject"] == "Bevestig uw abonnement op de nieuwsbrief van OStogether"
        page.goto(link_in(confirm, r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+"))
        assert page.get_attribute("html", "lang") == "nl"
        page.click("main form button[type=submit]")
        assert page.inner_text("h1") == "U bent geabonneerd"
        welcome = mails(sink, TEACHER, 2)[1]
        assert welcome["Subject"] == "Welkom bij de nieuwsbrief van OStogether"
    finally:
        context.close()

    # The next issue: one item translated into Dutch, one in English only; an English
    # reader gets the same send.
    rt = live.rt
    [english_reader] = add_readers(rt, 1, domain="en.readers.test")
    first = add_item(rt, "cosmos", link=web.url("/page/1"),
                     title="Parents as scientists in the classroom")
    translations.save(rt, TEST, first, [translations.TranslationInput(
        "nl", NL_TITLE, "Een gids voor **scholen**.", web.url("/page/2"))])
    add_item(rt, "levers", link=web.url("/page/3"), title="A toolkit for science fairs")
    issue = newsletter.compose_next(rt, TEST, now=NOW)
    newsletter.approve(rt, TEST, issue.id)
    assert delivery.send(rt, TEST, issue.id).counts["sent"] == 2

    dutch = mails(sink, TEACHER, 3)[2]
    html = html_of(dutch)
    assert dutch["Subject"].endswith(NL_TITLE)
    assert '<html lang="nl"' in html
    for phrase in ("Nieuws uit de gemeenschap", NL_TITLE, "Uitschrijven voor deze nieuwsbrief",
                   "in het Engels"):
        assert phrase in html, phrase
    # The untranslated item is in English and marked so; the frame never is.
    assert re.search(r'<h3[^>]* lang="en"[^>]*><a [^>]*>A toolkit for science fairs</a>', html)
    for english in ("News from the community", "Unsubscribe from this newsletter",
                    "Parents as scientists"):
        assert english not in html, english

    english = mails(sink, "reader0@en.readers.test", 1)[-1]
    assert english_reader
    html = html_of(english)
    assert english["Subject"].endswith("Parents as scientists in the classroom")
    assert '<html lang="en"' in html
    for phrase in ("News from the community", "Parents as scientists in the classroom",
                   "A toolkit for science fairs", "Unsubscribe from this newsletter"):
        assert phrase in html, phrase
    for dutch_text in (NL_TITLE, "in het Engels", "Nieuws uit de gemeenschap"):
        assert dutch_text not in html, dutch_text
