"""`make bench`: the public pages under load, served by gunicorn on loopback.

A throwaway SQLite site (the 18 projects, one sent issue in the archive) is served by
gunicorn (gthread workers, one per core, 8 threads each), as in production. A load
generator in its own process keeps 64 HTTP/1.1 keep-alive connections busy for a fixed
time on each page and records every request's latency.

Printed per page: requests per second, p50 and p99 latency, and errors, as served
(anonymous visitors get a copy at most 10 s old: `public_cache_seconds`) and with that
cache off, so the cost of rendering shows too. The peer is a WSGI app that answers a
fixed 10 kB page without any work, served by the same gunicorn settings and loaded by the
same tool: the ceiling of this machine's gunicorn and load generator, so the ratio shows
what the service's own work costs. It is measured in turns with each page (page, peer,
peer, page, …), so that a machine whose speed drifts during the run (a shared one does)
slows both sides of each ratio alike.
An editor's pages, which no cache serves, are measured too, logged in through the login
form: the review queue with 200 items waiting, and the dashboard.
Targets: >= 500 req/s and p99 <= 100 ms at 64 connections on this 2-core machine, as
served; uncached public pages >= 0.3x the peer; the review queue and the dashboard
>= 100 req/s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent

CONNECTIONS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WORKERS = os.cpu_count() or 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------- load tool

async def _client(host: str, port: int, path: str, stop: float, latencies: list[float],
                  errors: list[str], cookie: str = "") -> None:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"User-Agent: ostogether-bench\r\n"
               + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n").encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            writer.write(request)
            status = await reader.readline()
            length, close = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status.startswith(b"HTTP/1.1 200"):
                errors.append(status.decode("latin-1").strip())
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        errors.append(exc.__class__.__name__)
    finally:
        writer.close()


def _load(port: int, path: str, seconds: float, out: Any, cookie: str = "") -> None:
    latencies: list[float] = []
    errors: list[str] = []

    async def main() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(_client("127.0.0.1", port, path, stop, latencies, errors,
                                       cookie) for _ in range(CONNECTIONS)))
    started = time.perf_counter()
    asyncio.run(main())
    out.put({"latencies": latencies, "errors": errors,
             "seconds": time.perf_counter() - started})


def load(port: int, path: str, seconds: float, cookie: str = "") -> dict[str, Any]:
    queue: Any = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_load, args=(port, path, seconds, queue, cookie))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def summary(parts: list[dict[str, Any]]) -> dict[str, float]:
    """Requests per second, p50 and p99 (ms) and errors over one or more runs."""
    lat = sorted(x for r in parts for x in r["latencies"])
    n, seconds = len(lat), sum(r["seconds"] for r in parts)
    return {"rps": n / seconds, "p50": lat[n // 2] * 1000 if n else 0,
            "p99": lat[min(n - 1, int(n * 0.99))] * 1000 if n else 0,
            "errors": sum(len(r["errors"]) for r in parts), "requests": n}


SLICES = 4


def paired(port: int, path: str, peer_port: int,
           cookie: str = "") -> tuple[dict[str, float], dict[str, float]]:
    """The page and the peer, in turns of SECONDS / SLICES each (page, peer, peer, page,
    …): a machine whose speed drifts during the run slows both alike, so the ratio holds.
    """
    load(port, path, 2, cookie)  # warm up
    page: list[dict[str, Any]] = []
    peer: list[dict[str, Any]] = []
    for i in range(SLICES):
        order = [(page, port, path, cookie), (peer, peer_port, "/", "")]
        for parts, p, where, c in order if i % 2 == 0 else order[::-1]:
            parts.append(load(p, where, SECONDS / SLICES, c))
    return summary(page), summary(peer)


# ------------------------------------------------------------------------- servers

PEER_APP = '''
BODY = b"<!doctype html><title>peer</title>" + b"x" * 10_000
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
'''


def gunicorn(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
         "--worker-class", "gthread", "--threads", "8", "--keep-alive", "30",
         "--log-level", "warning", app], env=env, cwd=cwd, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    said = proc.stderr.read().decode() if proc.stderr else ""
    raise SystemExit(f"gunicorn did not start: {said}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def site(tmp: Path) -> tuple[dict[str, str], int]:
    """A site with the 18 projects and one sent issue; returns its env and the issue."""
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, tmp / folder)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OSTOGETHER_")},
           "OSTOGETHER_HOME": str(tmp), "OSTOGETHER_ENV": "production",
           "OSTOGETHER_SECRET_KEY": "b" * 48, "OSTOGETHER_BASE_URL": "https://bench.test",
           "OSTOGETHER_LOG_LEVEL": "WARNING"}
    from ostogether.core.settings import load_settings
    from ostogether.edges import db
    from ostogether.edges.audit import Actor
    from ostogether.edges.runtime import Runtime
    from ostogether.models import Issue, NewsItem
    from ostogether.registry import projects

    rt = Runtime(load_settings(environ=env))
    db.upgrade(rt.db)
    projects.import_content(rt)
    from ostogether.newsletter import issues as newsletter

    actor = Actor("bench")
    with rt.db.session() as s:
        from sqlalchemy import select

        from ostogether.models import Project

        slugs = list(s.scalars(select(Project.slug).order_by(Project.slug)))
    from tests.factories import add_item, make_user

    for i, slug in enumerate(slugs[:12]):
        add_item(rt, slug, "news", link=f"https://example.org/story/{i}",
                 title=f"Story {i}: pupils and museums build something together",
                 summary="Three schools and a science centre ran **workshops** for a term.")
    # The editors' side: an editor, and 200 items waiting in the review queue.
    make_user(rt, EDITOR, "editor", password=PASSWORD)
    for i in range(200):
        add_item(rt, slugs[i % len(slugs)], "news", link=f"https://example.org/queue/{i}",
                 title=f"Waiting item {i}: a teachers' workshop on inquiry", approve=False,
                 summary="A **summary** of what happened, with a [link](https://example.org/).")
    issue = newsletter.compose_next(rt, actor, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    # Freeze it as the approval does, then mark it sent (no links are checked here).
    with rt.db.session() as s:
        rendered = newsletter.render_current(rt, newsletter.get_issue(s, issue.id))
    with rt.db.session() as s:
        row = s.get(Issue, issue.id)
        assert row is not None
        row.snapshot_html, row.snapshot_text = rendered.html, rendered.text
        row.snapshot_subject, row.status = row.subject, "sent"
        row.snapshot_sha256 = "0" * 64  # frozen, as the approval leaves it
        row.sent_at = dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC)
        number = row.number or 0
        # The stories went out with the issue; the 200 in the queue still wait (they
        # were published here too until 2026-12-06, which left the queue bench empty).
        for item in s.scalars(select(NewsItem).where(NewsItem.status == "approved")):
            item.status = "published"
    rt.close()
    return env, number


EDITOR, PASSWORD = "editor@example.org", "correct horse battery staple"
LOGGED_IN = ("/editors/items?status=submitted", "/editors/")


def login_cookie(port: int) -> str:
    """The session cookie of the bench editor, logged in through the login form."""
    opener = urllib.request.build_opener()
    page = opener.open(f"http://127.0.0.1:{port}/login")
    cookie = page.headers.get("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.read().decode())
    assert token, "no CSRF token on /login"
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "email": EDITOR,
                                   "password": PASSWORD}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/login", data=data,
                                     headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        urllib.request.build_opener(NoRedirect()).open(request)
    except urllib.error.HTTPError as exc:  # the 302 after a good login
        if exc.code != 302:
            raise
        return str(exc.headers.get("Set-Cookie", "")).split(";")[0]
    raise SystemExit("the bench editor could not log in")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ostogether-load-"))
    try:
        env, number = site(tmp)
        (tmp / "peer.py").write_text(PEER_APP)
        rows: list[tuple[str, dict[str, float], dict[str, float] | None]] = []
        peer_port = free_port()
        peer = gunicorn("peer:app", peer_port, env, tmp)
        try:
            load(peer_port, "/", 2)  # warm up
            for label, seconds in (("", "10"), (" (no cache)", "0")):
                port = free_port()
                server = gunicorn("ostogether.web:create_app()", port,
                                  {**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": seconds}, REPO)
                try:
                    for path in ("/", "/registry", f"/archive/{number}"):
                        rows.append((path + label, *paired(port, path, peer_port)))
                    if not label:  # an editor's pages are never cached; no ratio either
                        cookie = login_cookie(port)
                        for path in LOGGED_IN:
                            load(port, path, 2, cookie)
                            rows.append((path + " (editor)",
                                         summary([load(port, path, SECONDS, cookie)]), None))
                finally:
                    stop(server)
        finally:
            stop(peer)
        print(f"Public pages under load: gunicorn gthread, {WORKERS} worker(s) x 8 threads, "
              f"{CONNECTIONS} keep-alive connections, {SECONDS:g} s per page; each public "
              f"page in {SLICES} turns with the peer, which served {SECONDS:g} s between "
              f"them (its req/s in the last column)")
        print(f"{'page':<42}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
              f"{'x peer':>9}{'peer':>9}")
        for path, r, q in rows:
            ratio = f"{r['rps'] / q['rps']:>9.2f}{q['rps']:>9.0f}" if q else f"{'':>18}"
            print(f"{path:<42}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                  f"{r['errors']:>8.0f}{ratio}")
        ok = all(r["rps"] >= 500 and r["p99"] <= 100 and not r["errors"]
                 for p, r, _ in rows if "no cache" not in p and "editor" not in p)
        print("target (>= 500 req/s, p99 <= 100 ms, no errors), as served (10 s page "
              "cache): " + ("met" if ok else "NOT met"))
        uncached = min(r["rps"] / q["rps"] for p, r, q in rows if q and "no cache" in p)
        print(f"target (uncached public pages >= 0.30x the peer): "
              f"{'met' if uncached >= 0.3 else 'NOT met'} ({uncached:.2f}x)")
        editors = min(r["rps"] for p, r, _ in rows if "editor" in p)
        print(f"target (review queue and dashboard with 200 items >= 100 req/s): "
              f"{'met' if editors >= 100 else 'NOT met'} ({editors:.0f} req/s)")
        print(json.dumps({p: {**{k: round(v, 1) for k, v in r.items()},
                              **({"peer_rps": round(q["rps"], 1)} if q else {})}
                          for p, r, q in rows}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
