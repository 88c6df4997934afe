"""Feeds against a real HTTP server on loopback: polling, conditional GET, dedupe, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Feed, NewsItem, Project
from ostogether.news import feeds
from ostogether.news import items as news
from tests.conftest import run
from tests.feedserver import FeedServer, Route, atom, rss

ENTRIES = [{"title": f"Story {i}", "link": f"https://example.org/story/{i}",
            "guid": f"tag:example.org,2026:{i}", "summary": f"<p>Summary <b>{i}</b></p>"}
           for i in range(3)]


# A prompt answer gets 10 s, so a loaded machine never turns it into a timeout; the test
# of a server that never answers gives up after 1 s, through parametrize("read_timeout").
@pytest.fixture
def read_timeout() -> float:
    return 10.0


@pytest.fixture
def env(env: dict[str, str], read_timeout: float) -> dict[str, str]:
    return {**env, "OSTOGETHER_FEED_READ_TIMEOUT": f"{read_timeout:g}",
            "OSTOGETHER_FEED_CONNECT_TIMEOUT": "5",
            "OSTOGETHER_FEED_MAX_FAILURES": "2", "OSTOGETHER_FEED_MAX_BYTES": "200000"}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


def use_feed(rt: Runtime, slug: str, url: str) -> None:
    with rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == slug)).feed_url = url


def items_of(rt: Runtime, slug: str) -> list[NewsItem]:
    with rt.db.session() as s:
        return list(s.scalars(select(NewsItem).join(Project).where(Project.slug == slug)
                              .order_by(NewsItem.id)))


def feed_row(rt: Runtime, slug: str) -> Feed:
    with rt.db.session() as s:
        return s.scalar(select(Feed).join(Project).where(Project.slug == slug))


def test_first_poll_stores_entries_and_a_conditional_repoll_stores_nothing(
        rt: Runtime, server: FeedServer) -> None:
    server.routes["/rss"] = Route(rss(ENTRIES), etag='"v1"',
                                  last_modified="Sat, 21 Nov 2026 08:00:00 GMT")
    use_feed(rt, "cosmos", server.url("/rss"))
    [r] = feeds.poll(rt)
    assert (r.outcome, r.created) == ("new", 3)
    stored = items_of(rt, "cosmos")
    assert {i.title for i in stored} == {"Story 0", "Story 1", "Story 2"}
    assert all(i.status == "submitted" and i.source == "feed" for i in stored)
    assert stored[0].summary_html == "<p>Summary 0</p>"  # <b> is not on the allow-list
    first = server.hits("/rss")[0]
    assert first["User-Agent"].startswith("ostogether/")
    assert "If-None-Match" not in first

    [r] = feeds.poll(rt)
    again = server.hits("/rss")[1]
    assert again["If-None-Match"] == '"v1"'
    assert again["If-Modified-Since"] == "Sat, 21 Nov 2026 08:00:00 GMT"
    assert (r.outcome, r.created) == ("unchanged", 0)
    assert len(items_of(rt, "cosmos")) == 3


def test_progress_is_reported_once_per_feed_with_the_total(
        rt: Runtime, server: FeedServer) -> None:
    server.routes["/a"] = Route(rss(ENTRIES))
    server.routes["/b"] = Route(b"", status=500)
    use_feed(rt, "cosmos", server.url("/a"))
    use_feed(rt, "otter", server.url("/b"))
    seen: list[tuple[str, str, int]] = []
    feeds.poll(rt, progress=lambda r, total: seen.append((r.slug, r.outcome, total)))
    assert sorted(seen) == [("cosmos", "new", 2), ("otter", "failed", 2)]


def test_entries_are_deduplicated_by_id_then_link_then_content(
        rt: Runtime, server: FeedServer) -> None:
    server.routes["/rss"] = Route(rss(ENTRIES))  # no ETag: every poll gets the full body
    use_feed(rt, "cosmos", server.url("/rss"))
    feeds.poll(rt)
    changed = [
        {**ENTRIES[0], "title": "Story 0, retitled"},                 # same id
        {**ENTRIES[1], "guid": "new-guid-1"},                         # same link
        {**ENTRIES[2], "guid": "new-guid-2", "link": "https://example.org/moved/2"},  # content
        {"title": "Fresh", "link": "https://example.org/fresh", "summary": "new"},    # new
    ]
    server.routes["/rss"] = Route(rss(changed))
    [r] = feeds.poll(rt)
    assert (r.created, r.duplicates) == (1, 3)
    assert [i.title for i in items_of(rt, "cosmos")][-1] == "Fresh"
    [r] = feeds.poll(rt)
    assert r.created == 0


def test_a_link_already_sent_through_the_form_is_not_taken_again(
        rt: Runtime, server: FeedServer) -> None:
    with rt.db.session() as s:
        pid = s.scalar(select(Project.id).where(Project.slug == "cosmos"))
    news.submit(rt, Actor("t"), pid, news.ItemInput(
        title="By hand", summary="x", link=ENTRIES[0]["link"]), source="web")
    server.routes["/rss"] = Route(rss(ENTRIES))
    use_feed(rt, "cosmos", server.url("/rss"))
    [r] = feeds.poll(rt)
    assert (r.created, r.duplicates) == (2, 1)


def test_atom_feeds_and_auto_approve(rt: Runtime, server: FeedServer) -> None:
    server.routes["/atom"] = Route(atom(ENTRIES), content_type="application/atom+xml")
    use_feed(rt, "otter", server.url("/atom"))
    feeds.sync(rt)
    feeds.set_auto_approve(rt, Actor("editor:e"), "otter", True)
    [r] = feeds.poll(rt)
    assert r.created == 3
    assert {i.status for i in items_of(rt, "otter")} == {"approved"}


def test_hostile_entries_are_cleaned_or_skipped(rt: Runtime, server: FeedServer) -> None:
    hostile = [
        {"title": "<script>alert(1)</script>Real title", "link": "https://example.org/h1",
         "summary": '<p onclick="x()">Hi <img src=x onerror=alert(1)> '
                    '<a href="javascript:alert(1)">bad</a> <a href="https://ok.example/">ok</a>'
                    "<script>steal()</script></p>"},
        {"title": "Bad link", "link": "javascript:alert(1)"},
        {"title": "Zero width", "link": "https://exa\u200bmple.org/x"},
    ]
    server.routes["/rss"] = Route(rss(hostile))
    use_feed(rt, "cosmos", server.url("/rss"))
    [r] = feeds.poll(rt)
    assert r.created == 1 and len(r.skipped) == 2, r
    assert "javascript: addresses are not allowed" in " ".join(r.skipped)
    [item] = items_of(rt, "cosmos")
    assert item.title == "Real title"
    low = item.summary_html.lower()
    assert "script" not in low and "onclick" not in low and "onerror" not in low
    assert "javascript" not in low and 'href="https://ok.example/"' in item.summary_html


@pytest.mark.parametrize("route, expected", [
    (Route(b"oops", status=500), "HTTP 500"),
    (Route(b"<!doctype html><html><head><title>Home</title></head><body>Hi</body></html>",
           content_type="text/html"), "web page (HTML), not an RSS or Atom feed"),
    (Route(b""), "empty response"),
    (Route(b"this is not xml at all <<<"), "not a valid RSS or Atom feed"),
    (Route(rss([])), "no entries"),
    (Route(b"<rss><channel><item><title>x"), "none of the feed's entries can be used"),
    (Route(b"<rss>" + b"x" * 50_000_000), "too big: 50,000,005 bytes"),
])
def test_each_broken_feed_gets_a_specific_reason_and_the_others_still_work(
        rt: Runtime, server: FeedServer, route: Route, expected: str) -> None:
    server.routes["/bad"] = route
    server.routes["/good"] = Route(rss(ENTRIES))
    use_feed(rt, "cosmos", server.url("/bad"))
    use_feed(rt, "otter", server.url("/good"))
    results = {r.slug: r for r in feeds.poll(rt)}
    assert results["cosmos"].outcome == "failed"
    assert expected in results["cosmos"].error
    assert results["otter"].created == 3
    row = feed_row(rt, "cosmos")
    assert (row.failures, row.last_error) == (1, results["cosmos"].error)
    assert items_of(rt, "cosmos") == []


@pytest.mark.parametrize("read_timeout", [1.0])
def test_a_feed_that_never_answers_fails_after_the_timeout(rt: Runtime,
                                                          server: FeedServer) -> None:
    test_each_broken_feed_gets_a_specific_reason_and_the_others_still_work(
        rt, server, Route(b"", hang=True), "did not answer within 1 s")


def test_a_body_without_length_is_cut_at_the_cap(rt: Runtime, server: FeedServer) -> None:
    server.routes["/big"] = Route(rss(ENTRIES) + b" " * 300_000, omit_length=True)
    server.routes["/ok"] = Route(rss(ENTRIES), omit_length=True)
    got = feeds.fetch(server.url("/big"), rt.settings)
    assert got.outcome == "failed" and "more than 200,000 bytes" in got.error
    assert feeds.fetch(server.url("/ok"), rt.settings).outcome == "ok"


def test_wrong_charset_and_malformed_xml_still_give_their_entries(
        rt: Runtime, server: FeedServer) -> None:
    latin = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t'
             '</title><item><title>R\xe9sum\xe9 d\xe9j\xe0</title><link>https://e.org/a</link>'
             "</item></channel></rss>").encode("latin-1")
    server.routes["/latin"] = Route(latin)
    use_feed(rt, "cosmos", server.url("/latin"))
    [r] = feeds.poll(rt)
    assert r.created == 1 and "errors" in r.warning
    assert items_of(rt, "cosmos")[0].title == "Résumé déjà"


def test_a_feed_failing_repeatedly_is_paused_until_resumed(
        rt: Runtime, server: FeedServer) -> None:
    server.routes["/down"] = Route(b"", status=503)
    use_feed(rt, "cosmos", server.url("/down"))
    feeds.poll(rt)
    feeds.poll(rt)
    assert feed_row(rt, "cosmos").paused_at is not None
    [r] = feeds.poll(rt)
    assert r.outcome == "paused" and len(server.hits("/down")) == 2
    with rt.db.session() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "feed.paused"))
    server.routes["/down"] = Route(rss(ENTRIES))
    feeds.resume(rt, Actor("editor:e"), "cosmos")
    [r] = feeds.poll(rt)
    assert r.created == 3 and feed_row(rt, "cosmos").failures == 0


def test_old_entries_are_not_taken(rt: Runtime, server: FeedServer) -> None:
    old = clock.now() - dt.timedelta(days=400)
    server.routes["/rss"] = Route(rss([{**ENTRIES[0], "date": old}, ENTRIES[1]]))
    use_feed(rt, "cosmos", server.url("/rss"))
    [r] = feeds.poll(rt)
    assert r.created == 1


def test_discovery_uses_link_alternate_then_slash_feed(rt: Runtime, server: FeedServer) -> None:
    server.routes["/site-a/"] = Route(
        b'<html><head><link rel="alternate" type="application/rss+xml" href="/a.xml">'
        b"</head></html>", content_type="text/html")
    server.routes["/a.xml"] = Route(rss(ENTRIES))
    server.routes["/site-b/"] = Route(b"<html><head></head></html>", content_type="text/html")
    server.routes["/feed/"] = Route(rss(ENTRIES))
    assert feeds.discover(server.url("/site-a/"), rt.settings) == (
        server.url("/a.xml"), "the page's <link rel=alternate>")
    assert feeds.discover(server.url("/site-b/"), rt.settings) == (
        server.url("/feed/"), "the /feed/ address")
    del server.routes["/feed/"]
    url, why = feeds.discover(server.url("/site-b/"), rt.settings)
    assert url == "" and "HTTP 404" in why


def test_discover_all_saves_what_it_finds(rt: Runtime, server: FeedServer) -> None:
    server.routes["/"] = Route(b'<link rel="alternate" type="application/atom+xml" '
                               b'href="/atom.xml">', content_type="text/html")
    server.routes["/atom.xml"] = Route(atom(ENTRIES), content_type="application/atom+xml")
    with rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == "cosmos")).website = server.url("/")
    [(slug, url, how)] = feeds.discover_all(rt, "cosmos")
    assert (slug, url) == ("cosmos", server.url("/atom.xml"))
    assert feed_row(rt, "cosmos").origin == "discovered"
    [r] = feeds.poll(rt, "cosmos")
    assert r.created == 3


# ------------------------------------------------------- one feed's bad bytes, alone

def test_a_feed_that_lies_about_gzip_fails_alone_and_is_paused_like_any_other(
        rt: Runtime, server: FeedServer, env: dict[str, str]) -> None:
    """``Content-Encoding: gzip`` over a body that is not gzip: the poll goes on, the
    other feed's entries are stored, the command says which feed failed and why, and
    the bad feed counts its failures until it is paused."""
    server.routes["/liar"] = Route(rss(ENTRIES), extra_headers={"Content-Encoding": "gzip"})
    server.routes["/good"] = Route(rss(ENTRIES))
    use_feed(rt, "cosmos", server.url("/liar"))
    use_feed(rt, "otter", server.url("/good"))
    ran = run(env, "feeds", "poll")
    assert ran.returncode == 0, ran.stderr
    assert ("failed cosmos: the server's answer is broken: it says it is compressed (gzip), "
            "but it is not") in " ".join(ran.stdout.split())
    assert "3 new otter" in ran.stdout
    assert len(items_of(rt, "otter")) == 3 and items_of(rt, "cosmos") == []
    assert feed_row(rt, "cosmos").failures == 1
    feeds.poll(rt)
    assert feed_row(rt, "cosmos").paused_at is not None  # feed_max_failures is 2 here
    [r] = [r for r in feeds.poll(rt) if r.slug == "cosmos"]
    assert r.outcome == "paused" and len(server.hits("/liar")) == 2


def test_a_feed_served_as_punycode_still_gives_its_entries(rt: Runtime,
                                                          server: FeedServer) -> None:
    """A charset Python knows but no document uses: feedparser raised UnicodeError on
    it, which stopped the whole poll. The feed is read as its XML says."""
    server.routes["/odd"] = Route(rss(ENTRIES),
                                  content_type="application/rss+xml; charset=punycode")
    server.routes["/good"] = Route(rss(ENTRIES))
    use_feed(rt, "cosmos", server.url("/odd"))
    use_feed(rt, "otter", server.url("/good"))
    results = {r.slug: r for r in feeds.poll(rt)}
    assert (results["cosmos"].created, results["otter"].created) == (3, 3)


def test_whatever_a_feed_makes_the_reader_raise_fails_that_feed_alone(
        rt: Runtime, server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure nobody foresaw, inside the pool thread, is that feed's failure: counted,
    and paused like any other; the other feeds are stored."""
    real_fetch = feeds.fetch

    def breaking(url: str, *args: object, **kwargs: object) -> feeds.Fetched:
        if url.endswith("/cursed"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_fetch(url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds, "fetch", breaking)
    server.routes["/good"] = Route(rss(ENTRIES))
    use_feed(rt, "cosmos", server.url("/cursed"))
    use_feed(rt, "otter", server.url("/good"))
    results = {r.slug: r for r in feeds.poll(rt)}
    assert results["otter"].created == 3
    assert results["cosmos"].outcome == "failed"
    assert results["cosmos"].error == ("the feed could not be read (RecursionError); the "
                                       "service's log has the details")
    feeds.poll(rt)
    assert feed_row(rt, "cosmos").paused_at is not None


def test_clearing_feed_url_in_the_projects_file_stops_its_polling(
        rt: Runtime, server: FeedServer, env: dict[str, str], home: Path) -> None:
    server.routes["/rss"] = Route(rss(ENTRIES))
    path = home / "content" / "projects" / "cosmos.toml"
    original = path.read_text()
    path.write_text(original.replace('feed_url = ""', f'feed_url = "{server.url("/rss")}"'))
    assert run(env, "init").returncode == 0
    [r] = feeds.poll(rt)
    assert (r.slug, r.created) == ("cosmos", 3)
    path.write_text(original)  # the project's editor cleared feed_url
    assert run(env, "init").returncode == 0
    assert feeds.poll(rt) == [] and len(server.hits("/rss")) == 1
    assert feed_row(rt, "cosmos") is None
    listed = run(env, "feeds", "list", "--format", "json")
    assert "cosmos" not in listed.stdout
    with rt.db.session() as s:
        removed = s.scalar(select(AuditEntry).where(AuditEntry.action == "feed.removed"))
        assert removed.detail["url"] == server.url("/rss")
    assert len(items_of(rt, "cosmos")) == 3  # what it brought stays
    # Set again, the feed is polled again and its entries are not taken twice.
    path.write_text(original.replace('feed_url = ""', f'feed_url = "{server.url("/rss")}"'))
    assert run(env, "init").returncode == 0
    [r] = feeds.poll(rt)
    assert (r.created, r.duplicates) == (0, 3)
    # A discovered feed never came from content/: an empty feed_url leaves it alone.
    path.write_text(original)
    assert run(env, "init").returncode == 0
    server.routes["/"] = Route(b'<link rel="alternate" type="application/rss+xml" '
                               b'href="/rss">', content_type="text/html")
    with rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == "cosmos")).website = server.url("/")
    feeds.discover_all(rt, "cosmos")
    assert [r.slug for r in feeds.poll(rt)] == ["cosmos"]
    assert feed_row(rt, "cosmos").origin == "discovered"
