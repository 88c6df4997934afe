"""A real HTTP server on loopback that serves feeds, pages and misbehaviour on demand.

Used by the feed tests and by benchmarks/feeds.py. Each path has a ``Route``: a body,
a status, headers, a delay before answering, or no answer at all. ETag and
If-Modified-Since are honoured like a well-behaved web server does, and every request's
headers are kept so that tests can check what the poller sent.
"""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image

from ostogether.core import clock


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = ""
    last_modified: str = ""
    delay: float = 0.0
    hang: bool = False  # accept the connection and never answer
    omit_length: bool = False  # no Content-Length: the body ends when the connection closes
    extra_headers: dict[str, str] = field(default_factory=dict)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path) or server.routes.get(
                    self.path.partition("?")[0])  # a route answers whatever its query
                if route is None:
                    self._send(404, b"not found", "text/plain")
                    return
                if route.hang:
                    server.stopping.wait(60)
                    return
                if route.delay:
                    clock.sleep(route.delay)
                if route.etag and self.headers.get("If-None-Match") == route.etag or (
                        route.last_modified and
                        self.headers.get("If-Modified-Since") == route.last_modified):
                    self._send(304, b"", route.content_type, route)
                    return
                self._send(route.status, route.body, route.content_type, route)

            def _send(self, status: int, body: bytes, ctype: str,
                      route: Route | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if route and route.omit_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                elif status != 304:
                    self.send_header("Content-Length", str(len(body)))
                if route and route.etag:
                    self.send_header("ETag", route.etag)
                if route and route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                for k, v in (route.extra_headers if route else {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if status != 304:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        class Server(ThreadingHTTPServer):
            # The listen backlog, read when the socket starts listening, in __init__. At
            # the default 5, a pool of 16 clients saw SYNs dropped and retried after 1 s.
            request_queue_size = 256

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up early (a size cap, a timeout) is expected

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


def rss(entries: list[dict[str, Any]], *, title: str = "Project news",
        language: str = "en") -> bytes:
    """An RSS 2.0 document. Each entry: title, link, and optionally guid, summary, date and
    categories (a list of words, one <category> each)."""
    now = clock.now()
    items = []
    for i, e in enumerate(entries):
        date = e.get("date") or now - dt.timedelta(hours=i)
        guid = f"<guid isPermaLink=\"false\">{escape(e['guid'])}</guid>" if e.get("guid") else ""
        items.append(
            f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>{guid}"
            f"<description>{escape(e.get('summary', 'A summary.'))}</description>"
            + "".join(f"<category>{escape(c)}</category>" for c in e.get("categories", ()))
            + f"<pubDate>{format_datetime(date)}</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>https://example.org/</link>"
            f"<description>News</description><language>{language}</language>"
            + "".join(items) + "</channel></rss>").encode()


def atom(entries: list[dict[str, Any]]) -> bytes:
    """An Atom document; an entry's categories are (term, label) pairs, label None for
    none."""
    now = clock.now()
    parts = []
    for i, e in enumerate(entries):
        date = (e.get("date") or now - dt.timedelta(hours=i)).isoformat()
        lang = f' xml:lang="{escape(e["lang"])}"' if e.get("lang") else ""
        parts.append(f"<entry{lang}><title>{escape(e['title'])}</title>"
                     f'<link href="{escape(e["link"])}"/><id>{escape(e.get("guid", e["link"]))}'
                     f"</id><updated>{date}</updated>"
                     f'<summary type="html">{escape(e.get("summary", "A summary."))}</summary>'
                     + "".join(f'<category term="{escape(t)}"'
                               + (f' label="{escape(lb)}"' if lb else "") + "/>"
                               for t, lb in e.get("categories", ()))
                     + "</entry>")
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Atom news</title><id>urn:x</id><updated>{now.isoformat()}</updated>"
            + "".join(parts) + "</feed>").encode()


def picture(width: int = 64, height: int = 48, fmt: str = "PNG", exif_gps: bool = False) -> bytes:
    """A real image of that size, as a member's site would serve it."""
    img = Image.new("RGB", (width, height), (200, 60, 30))
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (50.0, 50.0, 0.0)}  # GPSInfo: a camera's position
        exif[0x010F] = "TestCam"  # Make
        img.save(out, fmt, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()
