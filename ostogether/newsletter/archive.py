"""The public side of the newsletter: the archive of sent issues, its Atom feed
(RFC 4287, through feedgen) and the iCalendar feed of upcoming events (RFC 5545, through
icalendar).

The web version of an issue is its approved snapshot, with the per-reader placeholders
filled with public links and without the scanners' trap link: nothing personal is ever
in it.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from html import escape as html_escape
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from icalendar import Calendar, Event
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock, contrast
from ostogether.core.errors import NotFound
from ostogether.core.languages import NAMES, NEWSLETTER
from ostogether.core.sanitize import markdown_to_text
from ostogether.core.words import _l
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, IssueSnapshot, NewsItem, id_or_none
from ostogether.newsletter import clicks
from ostogether.newsletter.archive_import import served
from ostogether.newsletter.issues import by_number, public_rendering, web_values
from ostogether.newsletter.rendering import base_language, web_url

FEED_ISSUES = 50
EVENTS_MAX = 500


def sent_issues(s: Session, limit: int | None = None, *, announcements: bool = True
                ) -> list[Issue]:
    """The sent issues, latest first; with ``announcements``, the sent announcements
    among them (public like an issue, and marked as announcements)."""
    q = select(Issue).where(Issue.status == "sent").order_by(Issue.sent_at.desc(),
                                                              Issue.number.desc())
    if not announcements:
        q = q.where(Issue.kind == "issue")
    return list(s.scalars(q.limit(limit) if limit else q))


def sent_issue(s: Session, number: int) -> Issue:
    """A sent issue's row alone: its web version is the approved snapshot, so its items
    are only loaded (lazily) for an issue without one."""
    issue = by_number(s, number, with_items=False)
    if issue.status != "sent":
        raise NotFound(_l("Announcement A%(number)s has not been published yet.",
                          number=-(issue.number or 0)) if issue.announcement else
                       _l("Issue #%(number)s has not been published yet.", number=issue.number))
    return issue


_PAGES: OrderedDict[tuple[Any, ...], tuple[Any, str]] = OrderedDict()
_PAGES_LOCK = threading.Lock()
_STAMP = select(Issue.id, Issue.status, Issue.snapshot_sha256, Issue.snapshot_subject,
                Issue.imported_from).where(Issue.number == bindparam("number"))


def issue_page(rt: Runtime, number: int, language: str = "") -> str:
    """The web version of a sent issue in ``language`` (the community's by default, and
    for a language it was not sent in), made once per process, issue and language: a sent
    issue's snapshots are frozen (their SHA-256 is kept with them, and a re-imported past
    issue gets a new one), so one small query tells whether the page made before is still
    the page.
    """
    language = language if language in NEWSLETTER else ""
    row = _issue_stamp(rt, number)
    if row is None or row.status != "sent" or not row.snapshot_sha256:
        return _issue_page(rt, number, language)  # not found, not sent, or no snapshot
    key = (rt.db.key, number, language, *row)
    site = rt.community.site()
    found = _PAGES.get(key)  # one lookup needs no lock; the eviction below does
    if found is not None and found[0] is site:
        return found[1]
    page = _issue_page(rt, number, language)
    with _PAGES_LOCK:
        _PAGES[key] = (site, page)
        while len(_PAGES) > 64:
            _PAGES.popitem(last=False)
    return page


def _issue_stamp(rt: Runtime, number: int) -> Any:
    """The issue's row of _STAMP (asked again only after a commit, where there is a
    change signal)."""
    def read() -> Any:
        if not id_or_none(abs(number)):  # an announcement's is negative
            return None
        with rt.db.engine.connect() as c:
            return c.execute(_STAMP, {"number": number}).first()
    return rt.db.until_commit(("issue stamp", number), read)


def versions_of(rt: Runtime, s: Session, issue: Issue) -> list[str]:
    """The languages a sent issue has a version in, the community's first."""
    return [base_language(rt), *s.scalars(select(IssueSnapshot.language).where(
        IssueSnapshot.issue_id == issue.id).order_by(IssueSnapshot.language))]


def _issue_page(rt: Runtime, number: int, language: str = "") -> str:
    """The web version of a sent issue. A reader who is here is in the browser already:
    the issue's "view in your browser" link becomes the way around the site, with the
    issue in its other languages."""
    with rt.db.session() as s:
        issue = sent_issue(s, number)
        if issue.imported_from:
            return _imported_page(rt, issue)
        langs = versions_of(rt, s, issue)
        lang = language if language in langs else langs[0]
        # The trap link is for scanners of the mail; a public page leaves it out.
        html = clicks.without_trap(number, public_rendering(rt, issue, lang).html)
        here = web_values(rt, issue, lang)["web_url"]
        others = [(code, web_url(rt, number, code)) for code in langs if code != lang]
    site, base = rt.community.site(), rt.settings.public_url.rstrip("/")

    def navigation(m: re.Match[str]) -> str:
        style = m.group(1) or ""
        links = [(f"{base}/archive", "All issues"), (f"{base}/subscribe", "Subscribe"),
                 (f"{base}/", site.short_name)]
        marked = "" if lang == langs[0] else f' lang="{langs[0]}"'  # its words are English
        nav = f'<nav aria-label="Site"{marked}>' + " · ".join(
            f'<a href="{html_escape(url)}"{style}>{html_escape(label)}</a>'
            for url, label in links) + "</nav>"
        if others:  # each language named in itself
            nav += ('<nav aria-label="' + html_escape(str(rt.community.newsletter().text(
                lang).get("other_languages", "Other languages"))) + '">' + " · ".join(
                f'<a href="{html_escape(url)}" hreflang="{code}" lang="{code}"{style}>'
                f'{html_escape(NAMES.get(code, code))}</a>' for code, url in others)
                + "</nav>")
        return nav

    alternates = "".join(f'<link rel="alternate" hreflang="{code}" href="{html_escape(url)}">'
                         for code, url in others)
    html = html.replace("</head>", alternates + "</head>", 1)
    return re.sub(r'<a href="' + re.escape(html_escape(here)) + r'"( style="[^"]*")?[^>]*>'
                  r".*?</a>", navigation, html, count=1, flags=re.S)


# The page around a past issue; ``_imported_page`` reads its colours against these.
TEXT, BACKGROUND, LINK = (0x22, 0x22, 0x22), (0xff, 0xff, 0xff), (0x0b, 0x5c, 0xad)
IMPORTED_STYLE = ("body{margin:0;background:#f4f4f4;font-family:Arial,Helvetica,sans-serif;"
                  f"color:{contrast.hexa(TEXT)};line-height:1.5}}header,main{{max-width:680px;"
                  f"margin:0 auto;padding:1rem;background:{contrast.hexa(BACKGROUND)}}}"
                  "header{border-bottom:1px solid #ddd}"
                  "header h1{font-size:1.4rem;margin:.5rem 0}img{max-width:100%;height:auto}"
                  f"table{{max-width:100%}}a{{color:{contrast.hexa(LINK)}}}")


def _imported_page(rt: Runtime, issue: Issue) -> str:
    """A past issue from the old archive, in a plain page of its own: its cleaned HTML
    under a header with the way around the site. Its links to the service are resolved
    here (``archive_import.served``), and its colours made legible on this page: the
    backgrounds that Mailchimp's <head> styles gave were lost in the cleaning, the inline
    text colours chosen for them were not."""
    site, base = rt.community.site(), rt.settings.public_url.rstrip("/")
    body, _ = contrast.legible(served(issue.snapshot_html, base), text=TEXT,
                               background=BACKGROUND, link=LINK)
    subject = html_escape(issue.snapshot_subject or issue.subject)
    sent = issue.sent_at or issue.send_at
    nav = " · ".join(f'<a href="{html_escape(url)}">{html_escape(label)}</a>' for url, label in (
        (f"{base}/archive", "All issues"), (f"{base}/subscribe", "Subscribe"),
        (f"{base}/", site.short_name)))
    return (f'<!doctype html><html lang="{html_escape(site.language)}"><head>'
            f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><title>{subject}</title><style>{IMPORTED_STYLE}</style>'
            f'</head><body><header><nav aria-label="Site">{nav}</nav><h1>{subject}</h1>'
            f'<p>Sent on {sent:%d %B %Y}, before this service: this is the copy from the '
            f'old archive.</p></header><main>{body}</main></body></html>')


def atom(rt: Runtime, language: str = "") -> bytes:
    """The sent issues, newest first, as an Atom 1.0 document: in ``language`` (one feed
    per language, ``/archive.atom?lang=nl``), each issue's version in it where it has one,
    else the community's."""
    site = rt.community.site()
    base = rt.settings.public_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    own = base_language(rt)
    lang = language if language in NEWSLETTER else own
    query = "" if lang == own else f"?lang={lang}"
    with rt.db.session() as s:
        issues = sent_issues(s, FEED_ISSUES)
        versions = {v.issue_id: v for v in s.scalars(select(IssueSnapshot).where(
            IssueSnapshot.language == lang,
            IssueSnapshot.issue_id.in_([i.id for i in issues])))} if query else {}
        fg = FeedGenerator()
        fg.id(f"{base}/archive{query}")
        fg.title(str(rt.community.newsletter().text(lang).get(
            "feed_title", "{short_name} newsletter")).format(short_name=site.short_name))
        fg.subtitle(site.tagline or f"The newsletter of {site.name}")
        fg.author({"name": site.name, "email": site.contact_email})
        fg.link(href=f"{base}/archive.atom{query}", rel="self", type="application/atom+xml")
        fg.link(href=f"{base}/archive", rel="alternate", type="text/html")
        for code in NEWSLETTER:  # the same feed in the other languages
            if code != lang:
                fg.link(href=f"{base}/archive.atom" + ("" if code == own else f"?lang={code}"),
                        rel="alternate", type="application/atom+xml", hreflang=code)
        fg.language(lang)
        fg.updated(max((i.sent_at or i.updated_at for i in issues),
                       default=dt.datetime(2020, 12, 1, tzinfo=dt.UTC)))
        mark = str(rt.community.newsletter().text(lang).get("announcement") or "Announcement")
        for issue in reversed(issues):  # feedgen puts the last added first
            fe = fg.add_entry()
            version = versions.get(issue.id)
            url = web_url(rt, issue.number, lang if version else "")
            sent = issue.sent_at or issue.updated_at
            # A tag URI (RFC 4151): stable even if the site moves.
            what = (f"announcement:{-(issue.number or 0)}" if issue.announcement
                    else f"newsletter:{issue.number}")
            fe.id(f"tag:{host},{sent:%Y-%m-%d}:{what}" + (f":{lang}" if version else ""))
            title = version.subject if version else issue.snapshot_subject or issue.subject
            fe.title(f"{mark}: {title}" if issue.announcement else title)
            fe.link(href=url, rel="alternate", type="text/html")
            fe.published(sent)
            fe.updated(sent)
            fe.summary(version.preheader if version else
                       issue.snapshot_preheader or issue.preheader)
        return fg.atom_str(pretty=True)


def upcoming_events(s: Session, now: dt.datetime, limit: int = EVENTS_MAX) -> list[NewsItem]:
    """Approved events that have not ended, soonest first (at most ``limit``)."""
    ongoing = (NewsItem.event_end >= now) | (NewsItem.event_end.is_(None) &
                                              (NewsItem.event_start >= now))
    return list(s.scalars(
        select(NewsItem).options(selectinload(NewsItem.project))
        .where(NewsItem.kind == "event", NewsItem.status.in_(("approved", "published")),
               NewsItem.event_start.is_not(None), ongoing)
        .order_by(NewsItem.event_start, NewsItem.id).limit(limit)))


def events_ics(rt: Runtime, now: dt.datetime | None = None) -> bytes:
    """Upcoming events as an iCalendar feed that calendar apps can subscribe to."""
    site = rt.community.site()
    base = rt.settings.public_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    now = now or clock.now()
    cal = Calendar()
    cal.add("prodid", f"-//{site.short_name}//ostogether//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{site.short_name} events")
    with rt.db.session() as s:
        for item in upcoming_events(s, now):
            ev = Event()
            ev.add("uid", f"item-{item.id}@{host}")
            ev.add("dtstamp", item.updated_at)
            ev.add("dtstart", item.event_start)
            # Without an end, an event is taken to last an hour rather than no time at all.
            ev.add("dtend", item.event_end or (item.event_start or now) + dt.timedelta(hours=1))
            ev.add("summary", item.title)
            ev.add("description", f"{markdown_to_text(item.summary_md)}\n\n"
                                   f"{item.project.acronym}: {item.link}")
            ev.add("url", item.registration_url or item.link)
            location = item.event_location or ("Online" if item.event_online else "")
            if location:
                ev.add("location", location)
            cal.add_component(ev)
    return cal.to_ical()
