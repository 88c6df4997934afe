"""Member projects' RSS and Atom feeds: discovery, polite fetching, parsing and ingestion.

Fetching goes through the outbound guard (``ostogether.edges.fetch``): public addresses only,
a connect and read timeout within one overall deadline, a size cap, conditional GET
(ETag and If-Modified-Since) and a User-Agent that names the service.
The bytes are parsed by feedparser, never a URL or path (feedparser would read local
files). Several feeds are fetched at once by a bounded thread pool; only the calling
thread writes to the database, one transaction per feed, so one bad feed never stops or
half-writes the others. New entries become submitted news items with ``source="feed"``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import io
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import feedparser
import nh3
import pycountry
from sqlalchemy import or_, select

from ostogether.core import clock
from ostogether.core.errors import Conflict, NotFound, OstogetherError
from ostogether.core.inputs import url_problem
from ostogether.core.sanitize import clean_html, markdown_to_html
from ostogether.core.settings import Settings
from ostogether.core.states import SUBMITTING_STATUSES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import fetch as guard
from ostogether.edges import wording
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import Vocabulary, vocabulary
from ostogether.edges.wording import N_, say
from ostogether.models import Feed, NewsItem, Project
from ostogether.news import item_topics, translations
from ostogether.news.items import TITLE_MAX, content_hash, dedupe_key, store

log = logging.getLogger(__name__)
POLLER = Actor("feed-poller")
DISCOVERY = Actor("feed-discovery")
SYNC = Actor("feed-sync")
SUMMARY_TEXT_MAX = 1200
CATEGORIES_MAX = 50  # an entry's categories looked at
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/xml", "text/xml")


# ------------------------------------------------------------------------- fetching

@dataclass(frozen=True)
class Fetched:
    """What one HTTP fetch gave: a body, 'not modified', or the reason it failed."""

    url: str
    outcome: str  # ok, not_modified, failed
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    error: str = ""
    seconds: float = 0.0
    # Why it failed: "refused" (the address may not be used or fetched), "answer" (the
    # page is not there, or too big), or "network" (no connection, DNS, a timeout, a
    # server error: worth trying again later).
    failure: str = ""


def user_agent(settings: Settings) -> str:
    return guard.user_agent(settings.public_url, "news from member projects")


def limits(settings: Settings, max_bytes: int | None = None) -> guard.Limits:
    """The feed timeouts as the guard's limits: the whole fetch, redirects included,
    within the connect timeout plus twice the read timeout."""
    return guard.Limits(
        deadline=settings.feed_connect_timeout + 2 * settings.feed_read_timeout,
        connect_timeout=settings.feed_connect_timeout, read_timeout=settings.feed_read_timeout,
        max_bytes=max_bytes or settings.feed_max_bytes,
        max_redirects=settings.fetch_max_redirects)


def fetch(url: str, settings: Settings, *, etag: str = "", last_modified: str = "",
          accept: str = "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                        "text/xml;q=0.8, */*;q=0.1") -> Fetched:
    """GET ``url`` through the outbound guard, within the timeouts and size cap. Never
    raises: failures are outcomes, with a reason and never the server's answer."""
    started = time.monotonic()
    headers = {"User-Agent": user_agent(settings), "Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    def failed(reason: str, failure: str) -> Fetched:
        return Fetched(url, "failed", error=reason, seconds=time.monotonic() - started,
                       failure=failure)

    if why := url_problem(url):
        return failed(say(N_("the feed address cannot be used: %(why)s"), why=why), "refused")
    try:
        resp = guard.get(url, guard.parse_allow(settings.fetch_allow), limits(settings),
                         headers=headers)
    except guard.FetchError as exc:
        if exc.kind == "refused":
            return failed(say(N_("the feed address is not fetched: %(why)s"), why=str(exc)),
                          "refused")
        if exc.kind == "too_big":
            return failed(_too_big(str(exc)), "answer")
        return failed(str(exc), "network")
    if resp.status == 304:
        return Fetched(url, "not_modified", etag=etag, last_modified=last_modified,
                       seconds=resp.seconds)
    if resp.status >= 400:
        return failed(say(N_("the server answered HTTP %(status)d %(reason)s"),
                          status=resp.status, reason=resp.reason).rstrip(),
                      "network" if resp.status >= 500 else "answer")
    return Fetched(url, "ok", body=resp.body, headers=dict(resp.headers),
                   etag=resp.header("etag"), last_modified=resp.header("last-modified"),
                   seconds=resp.seconds)


def _too_big(why: str) -> str:
    """The guard's "the answer is too big" as the feed's problem, naming the setting."""
    found = wording.parse(why)
    if found and found[0] == guard.TOO_BIG_DECLARED:
        return say(N_("the feed is too big: %(size)s bytes, the limit is %(limit)s (setting "
                      "feed_max_bytes)"), **found[1])
    if found and found[0] == guard.TOO_BIG:
        return say(N_("the feed is too big: more than %(limit)s bytes (setting "
                      "feed_max_bytes)"), **found[1])
    return say(N_("the feed is too big: %(why)s (setting feed_max_bytes)"), why=why)


# -------------------------------------------------------------------------- parsing

@dataclass(frozen=True)
class Entry:
    """One feed entry, cleaned and ready to become an item. Pure data."""

    entry_id: str
    values: dict[str, Any]
    published: dt.datetime | None
    # Its categories (RSS <category>, Atom term and label), as written: those that name a
    # topic or an audience of the vocabulary become the item's (``item_topics``).
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Parsed:
    entries: list[Entry]
    skipped: list[str]
    warning: str = ""


class NotAFeed(OstogetherError):
    """The body is not a usable feed; ``str()`` says why, for people."""


def _text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped by nh3, entities decoded."""
    return " ".join(html.unescape(nh3.clean(fragment, tags=set())).split())


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def _language(feed_lang: str) -> str:
    code = (feed_lang or "").strip().lower()[:2]
    return code if code and pycountry.languages.get(alpha_2=code) else "en"


def parse(body: bytes, headers: dict[str, str], url: str, *, max_entries: int = 50,
          not_before: dt.datetime | None = None) -> Parsed:
    """The usable entries of a feed body, newest first. Raises NotAFeed with the reason,
    and nothing else, whatever the body and headers are."""
    try:
        return _parse(body, headers, url, max_entries, not_before)
    except NotAFeed:
        raise
    except Exception as exc:  # outside bytes never raise past their step
        log.warning("feed %s: the parser failed (%s)", url[:200], exc.__class__.__name__,
                    exc_info=True)
        raise NotAFeed(say(N_("the feed could not be read: its content is damaged "
                              "(%(error)s)"), error=exc.__class__.__name__)) from None


def _feedparser(body: bytes, content_type: str, url: str) -> Any:
    """feedparser's reading of ``body``. A Content-Type feedparser cannot use (a charset
    such as punycode or idna, which Python knows but which cannot decode a document, or
    a NUL byte) raises inside it: then the body is read again as the XML itself says."""
    try:
        return feedparser.parse(io.BytesIO(body), response_headers={
            "content-type": content_type, "content-location": url})
    except (LookupError, UnicodeError, ValueError):
        return feedparser.parse(io.BytesIO(body), response_headers={
            "content-type": "application/xml", "content-location": url})


def _parse(body: bytes, headers: dict[str, str], url: str, max_entries: int,
           not_before: dt.datetime | None) -> Parsed:
    if not body.strip():
        raise NotAFeed(N_("the server sent an empty response instead of a feed"))
    d = _feedparser(body, headers.get("content-type", "application/xml"), url)
    if not d.get("version"):
        head = body[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
            raise NotAFeed(N_("the address serves a web page (HTML), not an RSS or Atom "
                              "feed; check the feed address, or look for the feed again "
                              "from the project's website"))
        reason = d.get("bozo_exception")
        raise NotAFeed(say(N_("the body is not a valid RSS or Atom feed (%(why)s)"),
                           why=_short_reason(reason)) if reason else
                       N_("the body is not a valid RSS or Atom feed"))
    if not d.entries:
        raise NotAFeed(N_("the feed has no entries"))
    language = _language(d.feed.get("language", ""))
    entries, skipped = [], []
    for raw in d.entries:
        published = _when(raw)
        if not_before and published and published < not_before:
            continue
        link = (raw.get("link") or "").strip()
        title = _shorten(_text(raw.get("title", "")), TITLE_MAX)
        if why := url_problem(link):
            skipped.append(say(N_("'%(title)s': its link cannot be used: %(why)s"),
                               title=title[:60], why=why) if title else
                           say(N_("an untitled entry: its link cannot be used: %(why)s"),
                               why=why))
            continue
        if not title:
            skipped.append(say(N_("the entry %(link)s has no title"), link=link))
            continue
        summary_source = raw.get("summary") or ""
        if not summary_source and raw.get("content"):
            summary_source = raw.content[0].get("value", "")
        text = _text(summary_source) or title
        if len(text) > SUMMARY_TEXT_MAX:
            text = _shorten(text, SUMMARY_TEXT_MAX)
            summary_html = markdown_to_html(_escape_markdown(text))
        else:
            summary_html = clean_html(summary_source) if summary_source else ""
            if not _text(summary_html):
                summary_html = markdown_to_html(_escape_markdown(text))
        entry_id = (raw.get("id") or "").strip() or link or hashlib.sha256(
            (title + text).encode()).hexdigest()
        # An entry's own xml:lang (Atom) wins over the feed's <language> or xml:lang.
        own = (raw.get("title_detail") or {}).get("language") or ""
        values: dict[str, Any] = {"kind": "news", "title": title, "summary_md": text,
                  "summary_html": summary_html, "link": link, "image_url": "",
                  "image_alt": "", "language": _language(own) if own else language,
                  "sdgs": [],
                  "for_newsletter": True, "for_social": True}
        entries.append(Entry(entry_id[:2000], values, published, _categories(raw)))
    if not entries and skipped:
        raise NotAFeed(say(N_("none of the feed's entries can be used; the first: %(why)s"),
                           why=skipped[0]))
    entries.sort(key=lambda e: e.published or dt.datetime.min.replace(tzinfo=dt.UTC),
                 reverse=True)
    warning = say(N_("the feed has errors (%(why)s)"),
                  why=_short_reason(d.bozo_exception)) if d.get("bozo") else ""
    return Parsed(entries[:max_entries], skipped, warning)


def _categories(entry: Any) -> tuple[str, ...]:
    """The words of an entry's categories: each one's term and label (feedparser's
    ``tags``), at most CATEGORIES_MAX, each cut to a sane length."""
    words: list[str] = []
    for tag in (entry.get("tags") or [])[:CATEGORIES_MAX]:
        for part in ("term", "label"):
            word = tag.get(part) if isinstance(tag, dict) else None
            if isinstance(word, str) and word.strip() and word.strip() not in words:
                words.append(word.strip()[:200])
    return tuple(words)


def _escape_markdown(text: str) -> str:
    """Feed text is plain text: escape what Markdown would interpret."""
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_{}[]()#+-.!<>|~" else ch)
    return "".join(out)


def _short_reason(exc: Any) -> str:
    text = str(getattr(exc, "getMessage", lambda: exc)())
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _when(entry: Any) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, TypeError):
                return None
    return None


# ------------------------------------------------------------------------ discovery

class _AlternateLinks(HTMLParser):
    """Collects <link rel="alternate" type="...feed type..." href>. The stdlib parser is
    enough for these self-closing head tags, and it does not choke on broken pages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        if "alternate" in rels and a.get("type", "").lower().split(";")[0] in FEED_TYPES \
                and a.get("href"):
            self.found.append(a["href"].strip())


def feed_links(page: bytes, base: str) -> list[str]:
    parser = _AlternateLinks()
    parser.feed(page[:1_000_000].decode("utf-8", "replace"))
    return [urljoin(base, href) for href in parser.found]


def discover(website: str, settings: Settings) -> tuple[str, str]:
    """The feed of a website, and how it was found, or ("", why not)."""
    if why := url_problem(website):
        return "", say(N_("the website address cannot be used: %(why)s"), why=why)
    page = fetch(website, settings, accept="text/html, application/xhtml+xml;q=0.9, */*;q=0.1")
    candidates = []
    if page.outcome == "ok":
        candidates = feed_links(page.body, website)
    candidates.append(urljoin(website, "/feed/"))
    tried = []
    for url in dict.fromkeys(candidates):
        got = fetch(url, settings)
        if got.outcome != "ok":
            tried.append(f"{url}: {got.error}")
            continue
        try:
            parse(got.body, got.headers, url)
        except NotAFeed as exc:
            tried.append(f"{url}: {exc}")
            continue
        how = (N_("the /feed/ address") if url == urljoin(website, "/feed/")
               else N_("the page's <link rel=alternate>"))
        return url, how
    reason = page.error if page.outcome == "failed" else N_("no feed link on the page")
    return "", say(N_("%(why)s; tried %(tried)s"), why=reason, tried="; ".join(tried))


# ------------------------------------------------------------------------- services

@dataclass
class FeedResult:
    slug: str
    url: str
    outcome: str  # new, unchanged, failed, paused
    created: int = 0
    duplicates: int = 0
    translations: int = 0  # entries taken as translations of an item already stored
    skipped: list[str] = field(default_factory=list)
    error: str = ""
    warning: str = ""
    seconds: float = 0.0


def sync(rt: Runtime) -> None:
    """One feed row per member project that has a feed URL (set on its page or in its
    file), or a discovered one.

    A changed feed URL (on the project's page or in content/) replaces the row's URL and
    forgets its caching and failures. A URL cleared removes the row that came from it:
    the row is only the polling state of that URL, so nothing is lost (the items stay,
    and their entry ids and links still keep the same entries out should the URL come
    back). A discovered feed, which never came from content/, stays.
    """
    with rt.db.session() as s:
        for gone in s.scalars(select(Feed).join(Project).where(Feed.origin == "content")):
            if not _wanted(gone.project).get(gone.language):
                record(s, SYNC, "feed.removed", gone, url=gone.url, language=gone.language,
                       reason="the project's feed address was cleared")
                s.delete(gone)
        s.flush()
        feeds = {(f.project_id, f.language): f for f in s.scalars(select(Feed))}
        for p in s.scalars(select(Project).where(Project.status.in_(SUBMITTING_STATUSES))):
            for language, url in _wanted(p).items():
                f = feeds.get((p.id, language))
                if f is None:
                    s.add(Feed(project_id=p.id, language=language, url=url,
                               origin="content"))
                elif f.url != url:
                    f.url, f.origin, f.etag, f.last_modified = url, "content", "", ""
                    f.failures, f.paused_at, f.last_error = 0, None, ""


def _wanted(p: Project) -> dict[str, str]:
    """A project's feeds: its main one (language "") and one per language it gives."""
    return {k: v for k, v in {"": p.feed_url, **(p.feeds or {})}.items() if v}


def list_feeds(rt: Runtime) -> list[Feed]:
    sync(rt)
    with rt.db.session() as s:
        rows = list(s.scalars(select(Feed).join(Project)))
        for f in rows:
            _ = f.project.slug
    return sorted(rows, key=lambda f: f.project.acronym.casefold())


def _feed_for(s: Any, slug: str) -> Feed:
    """A project's main feed (or its first per-language one)."""
    f = s.scalar(select(Feed).join(Project).where(Project.slug == slug)
                 .order_by(Feed.language))
    if f is None:
        raise NotFound(_l("Project '%(slug)s' has no feed. Set its feed address on the "
                          "project's page (Editors → Projects), or look for the feed from "
                          "its website.", slug=slug))
    return f


def discover_all(rt: Runtime, slug: str | None = None, *, save: bool = True,
                 ) -> list[tuple[str, str, str]]:
    """Look for the feed of every member project without one (or of ``slug``).

    Returns (slug, feed url or "", how it was found or why not). Found feeds are saved.
    """
    sync(rt)
    with rt.db.session() as s:
        stmt = select(Project).where(Project.status.in_(SUBMITTING_STATUSES))
        if slug:
            stmt = stmt.where(Project.slug == slug)
        targets = [(p.id, p.slug, p.website) for p in s.scalars(stmt)]
        has_feed = set(s.scalars(select(Feed.project_id)))
    if slug and not targets:
        raise NotFound(_l("There is no member or alumni project '%(slug)s'.", slug=slug))
    if not slug:
        targets = [t for t in targets if t[0] not in has_feed]
    out = []
    with ThreadPoolExecutor(max_workers=max(1, min(rt.settings.feed_concurrency,
                                                   len(targets)))) as pool:
        found = pool.map(lambda t: discover(t[2], rt.settings) if t[2] else
                         ("", N_("the project has no website")), targets)
        for (pid, pslug, _), (url, how) in zip(targets, found, strict=True):
            out.append((pslug, url, how))
            if url and save:
                with rt.db.session() as s:
                    f = s.scalar(select(Feed).where(Feed.project_id == pid))
                    if f is None:
                        f = Feed(project_id=pid, url=url, origin="discovered")
                        s.add(f)
                    else:
                        f.url, f.origin, f.failures, f.paused_at = url, "discovered", 0, None
                    s.flush()
                    record(s, DISCOVERY, "feed.discovered", f, url=url, how=how)
    return out


def _project_feeds(s: Any, slug: str) -> list[Feed]:
    """A project's feeds, its main one first (NotFound when it has none)."""
    main = _feed_for(s, slug)
    return [main, *s.scalars(select(Feed).join(Project).where(
        Project.slug == slug, Feed.id != main.id).order_by(Feed.language))]


def set_auto_approve(rt: Runtime, actor: Actor, slug: str, on: bool) -> Feed:
    """For every feed of the project (its languages' too)."""
    with rt.db.session() as s:
        found = _project_feeds(s, slug)
        for f in found:
            if f.auto_approve != on:
                f.auto_approve = on
                record(s, actor, "feed.auto_approve", f, on=on)
    return found[0]


def resume(rt: Runtime, actor: Actor, slug: str) -> Feed:
    """Every paused feed of the project (its languages' too)."""
    with rt.db.session() as s:
        paused = [f for f in _project_feeds(s, slug) if f.paused_at is not None]
        if not paused:
            raise Conflict(_l("The feed of %(slug)s is not paused; it is polled as usual.",
                              slug=slug))
        for f in paused:
            f.paused_at, f.failures = None, 0
            record(s, actor, "feed.resumed", f)
    return paused[0]


def _work(url: str, etag: str, modified: str, settings: Settings,
          not_before: dt.datetime) -> tuple[Fetched, Parsed | None, str]:
    """Runs in a pool thread: fetch and parse, no database. Never raises: whatever goes
    wrong is the feed's failure, counted like any other."""
    try:
        got = fetch(url, settings, etag=etag, last_modified=modified)
        if got.outcome != "ok":
            return got, None, got.error
        try:
            return got, parse(got.body, got.headers, url,
                              max_entries=settings.feed_max_entries,
                              not_before=not_before), ""
        except OstogetherError as exc:  # NotAFeed, with its reason
            return got, None, str(exc)
    except Exception as exc:
        return _broken(url, exc)


def _broken(url: str, exc: Exception) -> tuple[Fetched, None, str]:
    """A feed whose fetch or parse failed in a way nobody foresaw: logged, and a failure
    of that feed alone."""
    log.error("feed %s: %s", url[:200], exc.__class__.__name__, exc_info=exc)
    error = say(N_("the feed could not be read (%(error)s); the service's log has the "
                   "details"), error=exc.__class__.__name__)
    return Fetched(url, "failed", error=error), None, error


def poll(rt: Runtime, slug: str | None = None, *,
         progress: Callable[[FeedResult, int], None] | None = None) -> list[FeedResult]:
    """Fetch every active feed (or one project's) and store new entries as items.

    ``progress`` is called once per feed with its result and the number of feeds.
    """
    sync(rt)
    vocab = vocabulary(rt.community)  # a broken content/topics.toml stops here, named
    with rt.db.session() as s:
        if slug:
            feeds = _project_feeds(s, slug)
        else:
            feeds = list(s.scalars(select(Feed).join(Project).where(
                Project.status.in_(SUBMITTING_STATUSES))))
        # A project's main feed first: its entries are the items, and the same entries
        # in its other languages' feeds their translations (stored in this order below).
        jobs = [(f.id, f.project.slug, f.url, f.etag, f.last_modified, f.paused_at)
                for f in sorted(feeds, key=lambda f: f.language != "")]
    results: list[FeedResult] = []
    active = []
    for fid, pslug, url, etag, modified, paused in jobs:
        if paused is not None:
            r = FeedResult(pslug, url, "paused", error=N_("paused after repeated failures; "
                                                          "an editor can resume it"))
            results.append(r)
            if progress:
                progress(r, len(jobs))
        else:
            active.append((fid, pslug, url, etag, modified))
    if not active:
        return results
    not_before = clock.now() - dt.timedelta(days=rt.settings.feed_max_age_days)
    with ThreadPoolExecutor(max_workers=min(rt.settings.feed_concurrency, len(active)),
                            thread_name_prefix="feed") as pool:
        futures = {pool.submit(_work, url, etag, modified, rt.settings, not_before):
                   (fid, pslug, url) for fid, pslug, url, etag, modified in active}
        for fut in futures:  # fetched at once, stored in order (main feeds first)
            fid, pslug, url = futures[fut]
            try:
                got, parsed, error = fut.result()
            except Exception as exc:  # one feed's failure never stops another's
                got, parsed, error = _broken(url, exc)
            try:
                r = _store(rt, fid, pslug, url, got, parsed, error, vocab)
            except Exception:  # one feed's database trouble must not stop the others
                log.exception("feed %s: could not store the poll result", pslug)
                r = FeedResult(pslug, url, "failed", error=N_("internal error while storing; "
                                                              "see the log"))
            results.append(r)
            if progress:
                progress(r, len(jobs))
    return results


def _store(rt: Runtime, fid: int, slug: str, url: str, got: Fetched, parsed: Parsed | None,
           error: str, vocab: Vocabulary) -> FeedResult:
    """Write one feed's outcome and its new items in one transaction. An entry's
    categories that name topics or audiences become the item's; an entry with no topic
    takes the project's themes."""
    now = clock.now()
    result = FeedResult(slug, url, "unchanged", seconds=got.seconds)
    with rt.db.session() as s:
        f = s.get(Feed, fid)
        assert f is not None
        f.last_polled_at = now
        if error:
            f.failures += 1
            f.last_error, f.last_outcome = error, "failed"
            result.outcome, result.error = "failed", error
            if f.failures >= rt.settings.feed_max_failures and f.paused_at is None:
                f.paused_at = now
                record(s, POLLER, "feed.paused", f, failures=f.failures, reason=error)
            return result
        f.failures, f.last_error, f.last_ok_at = 0, "", now
        f.etag, f.last_modified = got.etag, got.last_modified
        if parsed is None:  # 304 Not Modified
            f.last_outcome = "unchanged"
            return result
        result.skipped, result.warning = parsed.skipped, parsed.warning
        seen_ids, seen_links, seen_hashes = _seen(s, f.project_id)
        for entry in parsed.entries:
            v = entry.values
            if f.language:  # a project's feed in one language: its entries are in it
                v = {**v, "language": f.language}
            key, chash = dedupe_key(v["link"]), content_hash(v["title"], v["summary_md"])
            if entry.entry_id in seen_ids or key in seen_links:
                # The same link or guid in another language: a translation, not a copy.
                first = s.scalar(select(NewsItem).where(
                    NewsItem.project_id == f.project_id,
                    or_(NewsItem.feed_entry_id == entry.entry_id,
                        NewsItem.dedupe_key == key)).order_by(NewsItem.id))
                if first is not None and translations.merge_feed_entry(s, first, v):
                    record(s, POLLER, "news_item.translated", first,
                           languages=[v["language"]], feed_entry=entry.entry_id[:200])
                    result.translations += 1
                else:
                    result.duplicates += 1
                continue
            if chash in seen_hashes:
                result.duplicates += 1
                continue
            topics, audiences = item_topics.from_categories(vocab, entry.categories)
            store(s, POLLER, f.project_id, {**v, "topics": topics, "audiences": audiences},
                  source="feed", vocab=vocab, auto_approve=f.auto_approve,
                  feed_entry_id=entry.entry_id)
            seen_ids.add(entry.entry_id)
            seen_links.add(key)
            seen_hashes.add(chash)
            result.created += 1
        f.items_created += result.created
        f.last_outcome = "new" if result.created else "unchanged"
        result.outcome = f.last_outcome
    return result


def _seen(s: Any, project_id: int) -> tuple[set[str], set[str], set[str]]:
    rows = s.execute(select(NewsItem.feed_entry_id, NewsItem.dedupe_key,
                            NewsItem.content_hash).where(NewsItem.project_id == project_id))
    ids, links, hashes = set(), set(), set()
    for entry_id, key, chash in rows:
        if entry_id:
            ids.add(entry_id)
        if key:
            links.add(key)
        if chash:
            hashes.add(chash)
    return ids, links, hashes


def summarise(results: Iterable[FeedResult]) -> dict[str, int]:
    out = {"feeds": 0, "new": 0, "unchanged": 0, "failed": 0, "paused": 0, "items": 0}
    for r in results:
        out["feeds"] += 1
        out[r.outcome] += 1
        out["items"] += r.created
    return out
