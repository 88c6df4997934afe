"""Newsletter clicks counted per (issue, item, day), and archive views per (issue, day):
never per reader, and no open pixel.

Each item's link in an approved issue becomes ``/r/<issue>/<item>/<signature>``: the same
for every reader (an output of the results library in its "From the library" section is
counted as the item ``-<output id>`` and leads to its page in the library), signed with
the secret key so that it cannot be made to lead anywhere else (the destination is the
item's own link, read from the database), and redirected with
``utm_source=ostogether&utm_medium=newsletter&utm_campaign=issue-N`` added.

One visitor counts at most one click per link and one view per issue a day. A visitor is
a keyed hash of the client's address (an IPv6 client by its network, as the rate limits
count it) and its user agent; the key is made from the secret key and the day (in the
community's zone) and never stored, so the hashes of one day cannot be matched with
another's. ``reach_visits`` keeps one row per visitor and thing counted for that day
only: rows of a past day are deleted at the next hits (a few at a time) and by the
``purge_visitors`` job. Every hit is a few lookups in its unique index, whatever the
number of hits before it.

What is not counted (``docs/reach.md`` says why, and what this misses):

- HEAD requests and prefetches (``Purpose``/``Sec-Purpose: prefetch``, ``X-Moz``);
- known link scanners and security gateways, and clients without a browser's user agent;
- a repeat: the same visitor's second click on a link, or second view of an issue, that day;
- a burst: one visitor opening links of ``BURST_ITEMS`` different items of an issue
  within ``BURST_SECONDS`` (a gateway checking every link of a delivered mail); that
  visitor's hits of the burst already counted are taken back;
- anything from a visitor who followed the hidden trap link (``item 0``), which a person
  never sees, that day; that visitor's earlier clicks and views of the day are taken back.
  Nobody else's: a trap hit never touches another visitor's counts. The public web
  version of an issue leaves the trap out (``without_trap``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from ostogether.core import clock, signing
from ostogether.core.errors import OstogetherError
from ostogether.edges import db, ratelimit
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.models import (
    ArchiveView,
    ClickCount,
    Issue,
    NewsItem,
    NewsItemTranslation,
    Output,
    ReachVisit,
)

BURST_SECONDS = 10
BURST_ITEMS = 3
# Rows of past days deleted by one hit at most: the cost of a hit stays bounded.
PURGE_BATCH = 500
TRAP = 0
SCANNERS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|scan|check|monitor|validator|fetch|"
    r"barracuda|mimecast|proofpoint|ppops|symantec|messagelabs|forcepoint|trend ?micro|"
    r"sophos|fireeye|ironport|cisco|avanan|checkpoint|check point|safelinks|"
    r"microsoft office existence|ms-office|skypeuripreview|whatsapp|telegram|slack|"
    r"discord|facebookexternalhit|linkedin|google-safety|googleimageproxy|"
    r"python|curl|wget|go-http-client|okhttp|java/|libwww|httpclient|headless|"
    r"phantomjs|node-fetch|axios|aiohttp|httpx|requests", re.I)
PREFETCH_HEADERS = (("Purpose", "prefetch"), ("Sec-Purpose", "prefetch"), ("X-Moz", "prefetch"),
                    ("X-Purpose", "preview"), ("Sec-Purpose", "prerender"))


def signature(secret: str, number: int, item_id: int) -> str:
    return hmac.new(secret.encode(), f"click:{number}:{item_id}".encode(),
                    hashlib.sha256).hexdigest()[:20]


def link(rt: Runtime, number: int, item_id: int, language: str = "") -> str:
    """The tracked link of an item; with ``language``, it leads to the item's page in that
    language when its translation has one (the language is not signed: it only chooses
    among the item's own links)."""
    base = rt.settings.public_url.rstrip("/")
    return (f"{base}/r/{number}/{item_id}/{signature(secret_key(rt.settings), number, item_id)}"
            + (f"?lang={language}" if language else ""))


def with_utm(url: str, number: int) -> str:
    """The item's link with the campaign added; parameters already there are kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    for key, value in (("utm_source", "ostogether"), ("utm_medium", "newsletter"),
                       ("utm_campaign", f"issue-{number}")):
        if key not in have:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def track(rt: Runtime, number: int, links: Mapping[int, str], html: str, text: str,
          language: str = "") -> tuple[str, str]:
    """The snapshot with each item's link through the service, and the trap link.
    ``language``: the version's, when it is not the community's own."""
    for item_id, url in links.items():
        if not url:
            continue
        tracked = link(rt, number, item_id, language)
        html = html.replace(f'href="{escape(url)}"', f'href="{escape(tracked)}"')
        if escape(url) != url:
            html = html.replace(f'href="{url}"', f'href="{escape(tracked)}"')
        text = re.sub(re.escape(url) + r"(?=[\s>)\]]|$)", tracked, text)
    trap = escape(link(rt, number, TRAP))
    # Hidden from people and their screen readers; scanners follow every href.
    anchor = (f'<a href="{trap}" style="display:none;font-size:0;line-height:0" '
              f'aria-hidden="true" tabindex="-1">&#8203;</a>')
    html = html.replace("</body>", anchor + "</body>", 1) if "</body>" in html else (
        html + anchor)
    return html, text


# ------------------------------------------------------------------------- counting

def without_trap(number: int, html: str) -> str:
    """The issue's HTML without its trap link: what a public page may show. Anyone could
    follow the trap from there, and take back their own clicks; nobody needs to."""
    return re.sub(r'<a\b[^>]*\bhref="[^"]*/r/' + str(number) + r'/0/[^"]*"[^>]*>.*?</a>', "",
                  html, flags=re.S | re.I)


def _today(rt: Runtime) -> dt.date:
    """The community's day, which the visitor key and the counts go by. A schedules/
    folder being edited never stands between a reader and an item: then it is UTC's."""
    try:
        return rt.today()
    except OstogetherError:
        return clock.now().date()


def visitor(rt: Runtime, ip: str, user_agent: str, day: dt.date) -> str:
    """The visitor of one day: an HMAC of the client (its IPv4 address, or its IPv6
    network as the rate limits count it) and its user agent, under a key made from the
    secret key and the day. The key is never stored; neither is the address."""
    key = hmac.new(secret_key(rt.settings).encode(), f"reach-visitor:{day.isoformat()}"
                   .encode(), hashlib.sha256).digest()
    client = ratelimit.address_key(ip, rt.settings.ratelimit_ipv6_prefix)
    return hmac.new(key, f"{client}\n{user_agent}".encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()[:32]


def is_robot(method: str, headers: Mapping[str, str]) -> bool:
    """HEAD, prefetches, and user agents that are not a person's browser."""
    if method != "GET":
        return True
    lowered = {k.lower(): v.lower() for k, v in headers.items()}
    if any(lowered.get(h.lower(), "").startswith(v) for h, v in PREFETCH_HEADERS):
        return True
    agent = headers.get("User-Agent", "")
    return not agent.startswith("Mozilla/") or bool(SCANNERS.search(agent))


VISIT_KEY = ("day", "visitor", "kind", "issue_id", "item_id")


def _seen(s: Session, day: dt.date, who: str, kind: str, issue_id: int,
          item_id: int) -> bool:
    """Whether this visitor's click, view or trap hit was noted today already: a repeat
    is read, never written, so it commits nothing (nor raises SQLite's change signal)."""
    return s.scalar(select(ReachVisit.id).where(
        ReachVisit.day == day, ReachVisit.visitor == who, ReachVisit.kind == kind,
        ReachVisit.issue_id == issue_id, ReachVisit.item_id == item_id)) is not None


def _visit(s: Session, day: dt.date, who: str, kind: str, issue_id: int, item_id: int,
           counted: bool) -> bool:
    """Note this visitor's click, view or trap hit of the day; False when it was noted
    meanwhile (the unique key decides between two hits at once)."""
    stmt = db.insert(s, ReachVisit, day=day, visitor=who, kind=kind, issue_id=issue_id,
                     item_id=item_id, at=clock.now(), counted=counted)
    return s.execute(stmt.on_conflict_do_nothing(index_elements=list(VISIT_KEY))
                     .returning(ReachVisit.id)).first() is not None


def _count(s: Session, kind: str, issue_id: int, item_id: int, day: dt.date, n: int) -> None:
    """Add ``n`` (1 or -1) to the click or view count of (issue, item, day), in place."""
    model: Any = ClickCount if kind == "click" else ArchiveView
    column = model.clicks if kind == "click" else model.views
    keys = ({"issue_id": issue_id, "item_id": item_id, "day": day} if kind == "click"
            else {"issue_id": issue_id, "day": day})
    if n > 0:
        s.execute(db.insert(s, model, **keys, **{column.key: n}).on_conflict_do_update(
            index_elements=list(keys), set_={column.key: column + n}))
    else:
        s.execute(update(model).where(*(getattr(model, k) == v for k, v in keys.items()))
                  .values({column.key: case((column > -n, column + n), else_=0)}),
                  execution_options={"synchronize_session": False})


def _take_back(s: Session, day: dt.date, who: str, issue_id: int | None = None,
               items: Iterable[int] = ()) -> None:
    """Take back what this visitor counted today (of one issue's ``items`` only, for a
    burst): their own rows, never anybody else's."""
    q = update(ReachVisit).where(ReachVisit.day == day, ReachVisit.visitor == who,
                                 ReachVisit.counted.is_(True))
    if issue_id is None:
        q = q.where(ReachVisit.kind.in_(("click", "view")))
    else:
        q = q.where(ReachVisit.kind == "click", ReachVisit.issue_id == issue_id,
                    ReachVisit.item_id.in_(list(items)))
    for kind, issue, item in s.execute(q.values(counted=False).returning(
            ReachVisit.kind, ReachVisit.issue_id, ReachVisit.item_id),
            execution_options={"synchronize_session": False}).all():
        _count(s, kind, issue, item, day, -1)


def _trapped(s: Session, day: dt.date, who: str) -> bool:
    return s.scalar(select(ReachVisit.id).where(
        ReachVisit.day == day, ReachVisit.visitor == who, ReachVisit.kind == "trap")
        .limit(1)) is not None


def _purge(s: Session, day: dt.date, most: int | None = PURGE_BATCH) -> int:
    """Delete visits of days before ``day``: ``most`` at a time on a hit (which first
    looks whether there is any, so that a hit on a day already purged writes nothing)."""
    old = select(ReachVisit.id).where(ReachVisit.day < day)
    if s.scalar(old.limit(1)) is None:
        return 0
    found = s.execute(delete(ReachVisit).where(ReachVisit.id.in_(
        old.limit(most) if most else old)), execution_options={"synchronize_session": False})
    return int(getattr(found, "rowcount", 0) or 0)


def purge_visits(rt: Runtime) -> int:
    """Delete every visit of a day before today: the ``purge_visitors`` job."""
    with rt.db.session() as s:
        return _purge(s, _today(rt), None)


def destination(rt: Runtime, number: int, item_id: int, sig: str, language: str = ""
                ) -> tuple[int, str] | None:
    """(issue id, where to go) for a genuine tracked link, or None. ``sig`` and
    ``language`` may be any text a visitor typed."""
    if not signing.same(sig, signature(secret_key(rt.settings), number, item_id)):
        return None
    with rt.db.session() as s:
        issue_id = s.scalar(select(Issue.id).where(Issue.number == number))
        if issue_id is None:
            return None
        if item_id == TRAP:
            return issue_id, f"{rt.settings.public_url.rstrip('/')}/archive/{number}"
        if item_id < 0:  # an output of the results library: its page, while it is public
            slug = s.scalar(select(Output.slug).where(Output.id == -item_id,
                                                      Output.status == "approved"))
            page = f"{rt.settings.public_url.rstrip('/')}/library/{slug}" if slug else ""
            return (issue_id, with_utm(page, number)) if page else None
        url = s.scalar(select(NewsItem.link).where(NewsItem.id == item_id))
        if url and language:  # the page in the reader's language, when there is one
            url = s.scalar(select(NewsItemTranslation.link).where(
                NewsItemTranslation.item_id == item_id,
                NewsItemTranslation.language == language[:8])) or url
    return (issue_id, with_utm(url, number)) if url else None


def record_click(rt: Runtime, issue_id: int, item_id: int, *, method: str,
                 headers: Mapping[str, str], ip: str) -> bool:
    """Count one hit on a tracked link, unless it is a robot's, a repeat, part of a burst,
    or from a visitor who followed the trap today; True when counted."""
    if not rt.settings.click_counting or is_robot(method, headers):
        return False
    day = _today(rt)
    who = visitor(rt, ip, headers.get("User-Agent", ""), day)
    with rt.db.session() as s:
        _purge(s, day)
        if item_id == TRAP:  # a scanner: nothing of this visitor's counts today
            if not _seen(s, day, who, "trap", issue_id, TRAP) and _visit(
                    s, day, who, "trap", issue_id, TRAP, False):
                _take_back(s, day, who)
            return False
        if _seen(s, day, who, "click", issue_id, item_id) or _trapped(s, day, who):
            return False  # a repeat (counted already, or not at all), or a scanner
        since = clock.now() - dt.timedelta(seconds=BURST_SECONDS)
        recent = set(s.scalars(select(ReachVisit.item_id).where(
            ReachVisit.day == day, ReachVisit.visitor == who, ReachVisit.kind == "click",
            ReachVisit.issue_id == issue_id, ReachVisit.at >= since))) - {item_id}
        burst = len(recent) + 1 >= BURST_ITEMS
        if not _visit(s, day, who, "click", issue_id, item_id, not burst):
            return False  # noted by another hit of this visitor's at the same moment
        if burst:
            _take_back(s, day, who, issue_id, recent)
            return False
        _count(s, "click", issue_id, item_id, day, 1)
        return True


def record_view(rt: Runtime, number: int, *, method: str, headers: Mapping[str, str],
                ip: str) -> bool:
    """Count a view of a sent issue's web version (no cookie, no address kept), once per
    visitor and day; True when counted."""
    if not rt.settings.click_counting or is_robot(method, headers):
        return False
    day = _today(rt)
    who = visitor(rt, ip, headers.get("User-Agent", ""), day)
    with rt.db.session() as s:
        issue_id = s.scalar(select(Issue.id).where(Issue.number == number,
                                                   Issue.status == "sent"))
        if issue_id is None:
            return False
        _purge(s, day)
        if _seen(s, day, who, "view", issue_id, 0) or _trapped(s, day, who) or not _visit(
                s, day, who, "view", issue_id, 0, True):
            return False
        _count(s, "view", issue_id, 0, day, 1)
        return True


# ------------------------------------------------------------------------- figures

def clicks_by_output(s: Session, since: dt.date | None = None,
                     until: dt.date | None = None) -> dict[int, int]:
    """Output id → clicks on it in every issue's "From the library", in the period."""
    q = select(ClickCount.item_id, func.sum(ClickCount.clicks)).where(ClickCount.item_id < 0)
    if since:
        q = q.where(ClickCount.day >= since)
    if until:
        q = q.where(ClickCount.day <= until)
    return {-i: int(n or 0) for i, n in s.execute(q.group_by(ClickCount.item_id))}


def clicks_by_item(s: Session, item_ids: Iterable[int], since: dt.date | None = None,
                   until: dt.date | None = None) -> dict[tuple[int, int], int]:
    """(issue id, item id) → clicks, in the period."""
    q = select(ClickCount.issue_id, ClickCount.item_id, func.sum(ClickCount.clicks)).where(
        ClickCount.item_id.in_(list(item_ids)))
    if since:
        q = q.where(ClickCount.day >= since)
    if until:
        q = q.where(ClickCount.day <= until)
    return {(i, t): int(n or 0) for i, t, n in s.execute(
        q.group_by(ClickCount.issue_id, ClickCount.item_id))}


def views_by_issue(s: Session, issue_ids: Iterable[int], since: dt.date | None = None,
                   until: dt.date | None = None) -> dict[int, int]:
    q = select(ArchiveView.issue_id, func.sum(ArchiveView.views)).where(
        ArchiveView.issue_id.in_(list(issue_ids)))
    if since:
        q = q.where(ArchiveView.day >= since)
    if until:
        q = q.where(ArchiveView.day <= until)
    return {i: int(n or 0) for i, n in s.execute(q.group_by(ArchiveView.issue_id))}
