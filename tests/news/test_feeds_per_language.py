"""A project's feeds per language: its main feed and one per language it gives (in its
file's [feeds] table, or on its page), each polled as its own feed; entries that share a
link or guid across them become one item with translations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ostogether.edges.runtime import Runtime
from ostogether.models import Feed, NewsItem, Project
from ostogether.news import feeds
from ostogether.registry import files
from ostogether.registry.rules import ProjectRecord, load_project_files
from tests.conftest import REPO
from tests.feedserver import FeedServer, Route, rss


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


def _feeds(rt: Runtime, slug: str, main: str, **by_language: str) -> None:
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        assert project is not None
        project.feed_url, project.feeds = main, dict(by_language)


def test_a_projects_feeds_per_language_merge_into_items_with_translations(
        rt: Runtime, server: FeedServer) -> None:
    server.routes["/en"] = Route(rss([
        {"title": "Open day", "link": "https://example.org/open-day", "guid": "en-1",
         "summary": "Welcome."},
        {"title": "Only in English", "link": "https://example.org/english", "guid": "en-2"},
    ]))
    # The Dutch feed says <language>en</language> (a common slip): the project says
    # it is its Dutch feed, and that wins.
    server.routes["/nl"] = Route(rss([
        {"title": "Open dag", "link": "https://example.org/open-day", "guid": "nl-1",
         "summary": "Welkom."},
    ], language="en"))
    server.routes["/de"] = Route(rss([
        {"title": "Tag der offenen Tür", "link": "https://example.org/de/tag",
         "guid": "en-1", "summary": "Willkommen."},
    ], language="de"))
    _feeds(rt, "cosmos", server.url("/en"), nl=server.url("/nl"), de=server.url("/de"))
    results = feeds.poll(rt, "cosmos")
    assert len(results) == 3
    assert sum(r.created for r in results) == 2
    assert sum(r.translations for r in results) == 2
    with rt.db.session() as s:
        rows = s.scalars(select(Feed).join(Project).where(Project.slug == "cosmos")
                         .order_by(Feed.language)).all()
        assert [(f.language, f.url.rsplit("/", 1)[1]) for f in rows] == [
            ("", "en"), ("de", "de"), ("nl", "nl")]
        items = s.scalars(select(NewsItem).join(Project).where(Project.slug == "cosmos")
                          .order_by(NewsItem.id)).all()
        assert len(items) == 2
        open_day = next(i for i in items if i.link == "https://example.org/open-day"
                        or any(t.link == "https://example.org/open-day"
                               for t in i.translations))
        langs = {open_day.language, *(t.language for t in open_day.translations)}
        assert langs == {"en", "nl", "de"}
        nl = open_day.in_language("nl")
        assert nl is not None and nl.title == "Open dag"
    # Polled again: nothing new, no second translation.
    again = feeds.poll(rt)
    assert sum(r.created + r.translations for r in again) == 0
    # A language's feed removed from the project: its row goes, the items stay.
    _feeds(rt, "cosmos", server.url("/en"), nl=server.url("/nl"))
    feeds.sync(rt)
    with rt.db.session() as s:
        assert sorted(s.scalars(select(Feed.language).join(Project).where(
            Project.slug == "cosmos"))) == ["", "nl"]


def test_feeds_per_language_in_a_projects_file(tmp_path: Path) -> None:
    folder = tmp_path / "projects"
    shutil.copytree(REPO / "content" / "projects", folder)
    path = sorted(folder.glob("*.toml"))[0]
    text = path.read_text()
    path.write_text(text + '\n[feeds]\nnl = "https://example.org/nl/feed"\n'
                    'sv = "https://example.org/sv/feed"\n')
    found, problems = load_project_files(folder)
    line = path.read_text().splitlines().index('sv = "https://example.org/sv/feed"') + 1
    assert problems == [f"{path}:{line}: unknown field 'feeds.sv' (known: de, en, es, fr, "
                        f"it, nl)."]
    path.write_text(text + '\n[feeds]\nnl = "https://example.org/nl/feed"\n')
    found, problems = load_project_files(folder)
    assert problems == []
    rec = next(f.record for f in found if f.path == path)
    assert rec.feeds == {"nl": "https://example.org/nl/feed"}
    written = files.project_toml(rec)
    assert written.endswith('[feeds]\nnl = "https://example.org/nl/feed"\n')
    assert ProjectRecord.from_object(rec).feeds == rec.feeds
