"""`make bench`: polling 200 member feeds served on loopback, 10% of them slow or broken.

180 feeds answer at once with 10 entries each and an ETag; 10 answer after 1 s; 10 are
broken (HTTP 500, a web page instead of a feed, malformed XML, an empty body, HTTP 404).
The first poll stores 1,800 items; the conditional re-poll should get 304s and store
nothing. The floor is the same 200 GETs through the same bounded pool with requests and
nothing else (no parsing, no database), measured in the same run.
Targets: first poll <= 10 s, re-poll <= 2 s on a 2-core machine.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from ostogether.core.settings import load_settings  # noqa: E402
from ostogether.edges import db as dbmod  # noqa: E402
from ostogether.edges.runtime import Runtime  # noqa: E402
from ostogether.models import NewsItem, Project  # noqa: E402
from ostogether.news import feeds  # noqa: E402
from tests.feedserver import FeedServer, Route, rss  # noqa: E402

N, SLOW, BROKEN, ENTRIES = 200, 10, 10, 10
BROKEN_ROUTES = [Route(b"oops", status=500), Route(b"<html><body>Home</body></html>",
                                                   content_type="text/html"),
                 Route(b"<rss><channel><item><title>x"), Route(b""), Route(b"gone", status=404)]


def serve(server: FeedServer) -> list[str]:
    paths = []
    for i in range(N):
        path = f"/feed/{i}.xml"
        if i < SLOW:
            route = Route(rss(entries(i)), etag=f'"s{i}"', delay=1.0)
        elif i < SLOW + BROKEN:
            route = BROKEN_ROUTES[i % len(BROKEN_ROUTES)]
        else:
            route = Route(rss(entries(i)), etag=f'"v{i}"')
        server.routes[path] = route
        paths.append(path)
    return paths


def entries(i: int) -> list[dict[str, str]]:
    return [{"title": f"Project {i} story {k}", "link": f"https://p{i}.example/news/{k}",
             "guid": f"p{i}-{k}", "summary": f"<p>Story <em>{k}</em> from project {i}.</p>"}
            for k in range(ENTRIES)]


def floor(urls: list[str], workers: int) -> float:
    def get(url: str) -> int:
        try:
            return len(requests.get(url, timeout=(5, 10)).content)
        except requests.RequestException:
            return 0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(get, urls))
    return time.perf_counter() - started


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ostogether-bench-"))
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, tmp / folder)
    settings = load_settings(environ={"OSTOGETHER_HOME": str(tmp),
                                      "OSTOGETHER_SECRET_KEY": "b" * 40,
                                      # the loopback feed server, through the guard
                                      "OSTOGETHER_FETCH_ALLOW": "127.0.0.1",
                                      "OSTOGETHER_LOG_LEVEL": "ERROR"})
    rt = Runtime(settings)
    dbmod.upgrade(rt.db)
    server = FeedServer().start()
    try:
        paths = serve(server)
        with rt.db.session() as s:
            for i, path in enumerate(paths):
                s.add(Project(slug=f"p{i}", status="member", acronym=f"P{i}", name=f"P {i}",
                              feed_url=server.url(path)))
        urls = [server.url(p) for p in paths]
        workers = settings.feed_concurrency

        t0 = time.perf_counter()
        first = feeds.poll(rt)
        t_first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = feeds.poll(rt)
        t_again = time.perf_counter() - t0
        t_floor = floor(urls, workers)
        with rt.db.session() as s:
            stored = s.scalar(select(func.count()).select_from(NewsItem))
    finally:
        server.stop()
        rt.close()
        shutil.rmtree(tmp, ignore_errors=True)

    s1, s2 = feeds.summarise(first), feeds.summarise(again)
    print(f"\nFeeds: {N} on loopback ({SLOW} slow by 1 s, {BROKEN} broken), pool of "
          f"{workers}, SQLite\n")
    print(f"{'run':<22}{'seconds':>9}{'target':>8}{'items':>7}{'failed':>8}{'vs floor':>10}")
    print(f"{'first poll':<22}{t_first:>9.2f}{'10':>8}{s1['items']:>7}{s1['failed']:>8}"
          f"{t_first / t_floor:>9.2f}x")
    print(f"{'conditional re-poll':<22}{t_again:>9.2f}{'2':>8}{s2['items']:>7}"
          f"{s2['failed']:>8}{t_again / t_floor:>9.2f}x")
    print(f"{'floor: bare GETs':<22}{t_floor:>9.2f}{'':>8}{'':>7}{'':>8}{1:>9.2f}x")
    print(f"\nItems stored: {stored} (expected {(N - BROKEN) * ENTRIES}); re-poll answered "
          f"304 for {s2['unchanged']} feeds.")
    ok = t_first <= 10 and t_again <= 2 and stored == (N - BROKEN) * ENTRIES
    print("Targets met." if ok else "TARGETS MISSED.")


if __name__ == "__main__":
    main()
