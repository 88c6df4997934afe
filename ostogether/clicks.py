"""Newsletter clicks counted per (issue, item, day), and archive views per (issue, day):
never per reader, and no open pixel.

Each item's link in an approved issue becomes ``/r/<issue>/<item>/<signature>``: the same
for every reader, signed with the secret key so that it cannot be made to lead anywhere
else (the destination is the item's own link, read from the database), and redirected
with ``utm_source=ostogether&utm_medium=newsletter&utm_campaign=issue-N`` added.

What is not counted (``docs/reach.md`` says why, and what this misses):

- HEAD requests and prefetches (``Purpose``/``Sec-Purpose: prefetch``, ``X-Moz``);
- known link scanners and security gateways, and clients without a browser's user agent;
- a burst: one network opening links of ``BURST_ITEMS`` different items of an issue
  within ``BURST_SECONDS`` (a gateway checking every link of a delivered mail); the hits
  of the burst already counted are taken back;
- any hit from a network that followed the hidden trap link (``item 0``), which a person
  never sees, in the hour around it.

A network is a salted hash of the /24 (IPv4) or /48 (IPv6) the request came from, with a
salt that changes every day, kept for an hour (``EVENT_HOURS``) and then deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Mapping
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ostogether import clock, signing
from ostogether.models import ArchiveView, ClickCount, ClickEvent, Issue, NewsItem
from ostogether.runtime import Runtime, secret_key

BURST_SECONDS = 10
BURST_ITEMS = 3
EVENT_HOURS = 1
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


def link(rt: Runtime, number: int, item_id: int) -> str:
    base = rt.settings.public_url.rstrip("/")
    return f"{base}/r/{number}/{item_id}/{signature(secret_key(rt.settings), number, item_id)}"


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


def track(rt: Runtime, number: int, links: Mapping[int, str], html: str, text: str
          ) -> tuple[str, str]:
    """The snapshot with each item's link through the service, and the trap link."""
    for item_id, url in links.items():
        if not url:
            continue
        tracked = link(rt, number, item_id)
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

def _network(rt: Runtime, ip: str, day: dt.date) -> str:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        prefix = "unknown"
    else:
        prefix = str(ipaddress.ip_network(f"{addr}/{24 if addr.version == 4 else 48}",
                                          strict=False))
    salt = f"{secret_key(rt.settings)}:{day.isoformat()}"
    return hmac.new(salt.encode(), prefix.encode(), hashlib.sha256).hexdigest()[:32]


def is_robot(method: str, headers: Mapping[str, str]) -> bool:
    """HEAD, prefetches, and user agents that are not a person's browser."""
    if method != "GET":
        return True
    lowered = {k.lower(): v.lower() for k, v in headers.items()}
    if any(lowered.get(h.lower(), "").startswith(v) for h, v in PREFETCH_HEADERS):
        return True
    agent = headers.get("User-Agent", "")
    return not agent.startswith("Mozilla/") or bool(SCANNERS.search(agent))


def _add(s: Session, issue_id: int, item_id: int, day: dt.date, n: int) -> None:
    row = s.scalar(select(ClickCount).where(ClickCount.issue_id == issue_id,
                                            ClickCount.item_id == item_id,
                                            ClickCount.day == day))
    if row is None:
        if n <= 0:
            return
        s.add(ClickCount(issue_id=issue_id, item_id=item_id, day=day, clicks=n))
    else:
        row.clicks = max(0, row.clicks + n)


def _take_back(s: Session, events: Iterable[ClickEvent]) -> None:
    for e in events:
        if e.counted:
            e.counted = False
            _add(s, e.issue_id, e.item_id, e.day, -1)


def destination(rt: Runtime, number: int, item_id: int, sig: str) -> tuple[int, str] | None:
    """(issue id, where to go) for a genuine tracked link, or None. ``sig`` may be any
    text a visitor typed."""
    if not signing.same(sig, signature(secret_key(rt.settings), number, item_id)):
        return None
    with rt.db.session() as s:
        issue_id = s.scalar(select(Issue.id).where(Issue.number == number))
        if issue_id is None:
            return None
        if item_id == TRAP:
            return issue_id, f"{rt.settings.public_url.rstrip('/')}/archive/{number}"
        url = s.scalar(select(NewsItem.link).where(NewsItem.id == item_id))
    return (issue_id, with_utm(url, number)) if url else None


def record_click(rt: Runtime, issue_id: int, item_id: int, *, method: str,
                 headers: Mapping[str, str], ip: str) -> bool:
    """Count one hit on a tracked link, unless it is a robot's; True when counted."""
    if not rt.settings.click_counting or is_robot(method, headers):
        return False
    now = clock.now()
    day = now.date()
    net = _network(rt, ip, day)
    with rt.db.session() as s:
        s.execute(delete(ClickEvent).where(
            ClickEvent.at < now - dt.timedelta(hours=EVENT_HOURS)))
        recent = list(s.scalars(select(ClickEvent).where(
            ClickEvent.network == net, ClickEvent.at >= now - dt.timedelta(hours=EVENT_HOURS))))
        event = ClickEvent(at=now, issue_id=issue_id, item_id=item_id, network=net, day=day)
        s.add(event)
        if item_id == TRAP:  # a scanner: nothing from its network counts this hour
            _take_back(s, recent)
            return False
        if any(e.item_id == TRAP for e in recent):
            return False
        burst = [e for e in recent if e.issue_id == issue_id
                 and e.at >= now - dt.timedelta(seconds=BURST_SECONDS)]
        if len({e.item_id for e in burst} | {item_id}) >= BURST_ITEMS:
            _take_back(s, burst)
            return False
        event.counted = True
        _add(s, issue_id, item_id, day, 1)
        return True


def record_view(rt: Runtime, number: int, *, method: str, headers: Mapping[str, str]) -> None:
    """Count a view of a sent issue's web version (no cookie, no address kept)."""
    if not rt.settings.click_counting or is_robot(method, headers):
        return
    day = clock.now().date()
    with rt.db.session() as s:
        issue_id = s.scalar(select(Issue.id).where(Issue.number == number,
                                                   Issue.status == "sent"))
        if issue_id is None:
            return
        updated = s.execute(update(ArchiveView).where(
            ArchiveView.issue_id == issue_id, ArchiveView.day == day).values(
            views=ArchiveView.views + 1))
        if not updated.rowcount:  # type: ignore[attr-defined]
            s.add(ArchiveView(issue_id=issue_id, day=day, views=1))


# ------------------------------------------------------------------------- figures

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
