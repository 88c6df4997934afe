"""The outbound guard: what a member, an applicant or a feed may make the service fetch.

Real servers on loopback; the guard is never switched off, and these tests reach their
servers only through ``fetch_allow``.
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import clock, feeds, jobs, newsletter
from ostogether import fetch as guard
from ostogether.errors import ConfigError
from ostogether.models import NewsItem, Project
from ostogether.runtime import Runtime
from ostogether.settings import load_settings
from tests.conftest import free_port
from tests.feedserver import FeedServer, Route, rss

NOTHING = guard.parse_allow("")
# Room for a loaded machine: every server these limits meet answers at once.
QUICK = guard.Limits(deadline=10, connect_timeout=5, read_timeout=5, max_bytes=100_000)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/", "loopback"),
    ("http://localhost:8000/admin", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://0x7f000001/", "loopback"),
    ("http://2130706433/", "loopback"),
    ("http://127.1/", "loopback"),
    ("http://017700000001/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.1.2.3/", "private network"),
    ("http://172.16.0.1/", "private network"),
    ("http://192.168.1.1/", "private network"),
    ("http://[fd12:3456::1]/", "private network"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.251/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("ftp://example.org/file", "only http:// and https://"),
    ("file:///etc/passwd", "only http:// and https://"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "only http:// and https://"),
    ("http://user:pw@example.org/", "user name or password"),
])
def test_the_guard_refuses_what_is_not_public_internet(url: str, reason: str) -> None:
    with pytest.raises(guard.FetchError, match=reason) as caught:
        guard.get(url, NOTHING, QUICK)
    assert caught.value.kind == "refused"


def test_fetch_allow_opens_exactly_what_it_names(server: FeedServer) -> None:
    server.routes["/x"] = Route(b"hello", content_type="text/plain")
    port = server.base.rsplit(":", 1)[1]
    assert guard.get(server.url("/x"), guard.parse_allow(f"127.0.0.1:{port}"),
                     QUICK).body == b"hello"
    assert guard.get(server.url("/x"), guard.parse_allow("127.0.0.0/8"), QUICK).status == 200
    with pytest.raises(guard.FetchError, match="loopback"):
        guard.get(server.url("/x"), guard.parse_allow(f"127.0.0.1:{int(port) + 1}"), QUICK)
    with pytest.raises(guard.FetchError, match="loopback"):
        guard.get(server.url("/x"), guard.parse_allow("10.0.0.0/8, intranet.example"), QUICK)


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "host:99999", "a b", "::1/200"])
def test_a_bad_fetch_allow_stops_the_start_with_the_entry(bad: str) -> None:
    with pytest.raises(ConfigError, match="OSTOGETHER_FETCH_ALLOW: '"):
        load_settings(environ={"OSTOGETHER_FETCH_ALLOW": f"example.org, {bad}"})


def test_every_redirect_hop_is_checked_again(server: FeedServer) -> None:
    port = int(server.base.rsplit(":", 1)[1])
    allow = guard.parse_allow(f"127.0.0.1:{port}")
    server.routes["/to-metadata"] = Route(b"", status=302, extra_headers={
        "Location": "http://169.254.169.254/latest/meta-data/"})
    server.routes["/to-other-port"] = Route(b"", status=301, extra_headers={
        "Location": f"http://127.0.0.1:{port + 1}/admin"})
    server.routes["/to-ok"] = Route(b"", status=307, extra_headers={"Location": "/ok"})
    server.routes["/ok"] = Route(b"fine")
    server.routes["/loop"] = Route(b"", status=302, extra_headers={"Location": "/loop"})
    with pytest.raises(guard.FetchError, match="link-local"):
        guard.get(server.url("/to-metadata"), allow, QUICK)
    with pytest.raises(guard.FetchError, match="loopback"):
        guard.get(server.url("/to-other-port"), allow, QUICK)
    ok = guard.get(server.url("/to-ok"), allow, QUICK)
    assert (ok.status, ok.body, ok.url, ok.redirects) == (200, b"fine", server.url("/ok"),
                                                          (server.url("/to-ok"),))
    with pytest.raises(guard.FetchError, match="redirects more than 5 times"):
        guard.get(server.url("/loop"), allow, QUICK)


def test_the_connection_goes_to_the_address_that_was_checked(
        server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a name that answers a public address for the check and a private one
    a moment later. The guard resolves once per hop and connects to what it checked."""
    server.routes["/x"] = Route(b"hello")
    port = int(server.base.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9", "10.9.9.9"])
    asked: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "news.rebind.test":
            return real(host, *args, **kwargs)
        asked.append(host)
        ip = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    connected: list[Any] = []
    real_connect = socket.create_connection

    def recording(address: Any, *args: Any, **kwargs: Any) -> Any:
        connected.append(address)
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", recording)
    got = guard.get(f"http://news.rebind.test:{port}/x", guard.parse_allow("127.0.0.1"),
                    QUICK)
    assert got.body == b"hello"
    assert asked == ["news.rebind.test"] and connected == [("127.0.0.1", port)]


class Drip:
    """A server that answers one byte at a time, slowly, for ever: headers, or body."""

    def __init__(self, in_headers: bool) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.in_headers = in_headers
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(4096)
            if self.in_headers:
                data = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                data = b"x" * 100_000
            for byte in data:
                if self.stop.wait(0.05):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize("in_headers", [True, False], ids=["headers", "body"])
def test_a_server_sending_a_byte_at_a_time_is_cut_off_at_the_deadline(in_headers: bool
                                                                       ) -> None:
    drip = Drip(in_headers)
    try:
        with pytest.raises(guard.FetchError, match="no complete answer within 1 s") as caught:
            guard.get(f"http://127.0.0.1:{drip.port}/", guard.parse_allow("127.0.0.1"),
                      guard.Limits(deadline=1, connect_timeout=1, read_timeout=5))
        assert caught.value.kind == "timeout"
    finally:
        drip.close()


def test_the_size_cap_holds_after_gzip_too(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    server.routes["/bomb"] = Route(bomb, extra_headers={"Content-Encoding": "gzip"})
    server.routes["/small"] = Route(gzip.compress(b"<rss/>"),
                                    extra_headers={"Content-Encoding": "gzip"})
    allow = guard.parse_allow("127.0.0.1")
    with pytest.raises(guard.FetchError, match="more than 100,000 bytes") as caught:
        guard.get(server.url("/bomb"), allow, QUICK)
    assert caught.value.kind == "too_big" and len(bomb) < 100_000
    assert guard.get(server.url("/small"), allow, QUICK).body == b"<rss/>"


# ------------------------------------------------------------- the service's fetches

@pytest.fixture
def strict_rt(settings: Any, fill_database: Any, env: dict[str, str]) -> Iterator[Runtime]:
    """A runtime whose guard allows nothing private, as in production."""
    fill_database("imported")
    rt = Runtime(load_settings(environ={**env, "OSTOGETHER_FETCH_ALLOW": "",
                                        "OSTOGETHER_FEED_READ_TIMEOUT": "1",
                                        "OSTOGETHER_LINK_CHECK_TIMEOUT": "1"}))
    yield rt
    rt.close()


def test_an_internal_feed_never_becomes_an_item(strict_rt: Runtime, server: FeedServer) -> None:
    """An applicant gave an internal address as its feed and was accepted: the poll
    refuses it, and what the internal server would answer never reaches anyone."""
    secret = [{"title": "root:x:0:0", "link": "https://example.org/secret"}]
    server.routes["/internal"] = Route(rss(secret))
    server.routes["/redirect"] = Route(b"", status=302,
                                       extra_headers={"Location": server.url("/internal")})
    with strict_rt.db.session() as s:
        s.scalar(select(Project).where(Project.slug == "cosmos")).feed_url = \
            server.url("/internal")
    results = {r.slug: r for r in feeds.poll(strict_rt)}
    assert results["cosmos"].outcome == "failed"
    assert results["cosmos"].error == ("the feed address is not fetched: the address is this "
                                       "machine itself (loopback)")
    with strict_rt.db.session() as s:
        assert s.scalars(select(NewsItem)).all() == []
    assert server.requests == []  # nothing was even asked
    url, why = feeds.discover(server.url("/"), strict_rt.settings)
    assert url == "" and "loopback" in why and "root:x" not in why


def test_the_link_check_refuses_internal_addresses_with_a_status_line(
        strict_rt: Runtime, server: FeedServer) -> None:
    server.routes["/admin"] = Route(b"<h1>router admin</h1>", content_type="text/html")
    results = newsletter.checked_links(strict_rt, [
        server.url("/admin"), "http://0x7f000001/", "http://169.254.169.254/"])
    assert [r.outcome for r in results] == ["fail"] * 3
    assert results[0].detail == "not checked: the address is this machine itself (loopback)"
    assert "link-local" in results[2].detail
    assert server.requests == []


def test_the_registry_check_leaves_unreviewed_applicants_alone(
        rt: Runtime, server: FeedServer, test_clock: clock.FakeClock) -> None:
    server.routes["/member"] = Route(b"ok", content_type="text/html")
    with rt.db.session() as s:
        for p in s.scalars(select(Project)):
            p.website, p.feed_url = "", ""
        cosmos = s.scalar(select(Project).where(Project.slug == "cosmos"))
        cosmos.website = server.url("/member")
        s.add(Project(slug="newcomer", acronym="NEW", name="Newcomer", status="applicant",
                      website=server.url("/applicant-site"), contact_email="a@example.org"))
    result = jobs.check_registry(rt, clock.now())
    assert result.outcome == "ok" and "1 address(es) checked" in result.summary
    assert [path for path, _ in server.requests] == ["/member"]
