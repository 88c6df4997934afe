"""The outbound guard: what a member, an applicant or a feed may make the service fetch.

Real servers on loopback; the guard is never switched off, and these tests reach their
servers only through ``fetch_allow``.
"""

from __future__ import annotations

import gzip
import ipaddress
import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.errors import ConfigError
from ostogether.core.settings import load_settings
from ostogether.edges import fetch as guard
from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, Project
from ostogether.news import feeds
from ostogether.newsletter import issues as newsletter
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


# ------------------------------------------------------- IANA's special-purpose blocks

# IANA's IPv4 and IPv6 Special-Purpose Address Registries, written out again here rather
# than read from fetch.py, so that an entry the guard's table loses fails: every entry
# whose "Globally Reachable" is False, with what the refusal says. "" means the reason
# is the one of the IPv4 address the block carries (any refusal will do).
IANA_IPV4 = [
    ("0.0.0.0/8", '"this network"'),
    ("0.0.0.0/32", "unspecified"),
    ("10.0.0.0/8", "private network"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private network"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.0.0/29", "IPv4 service continuity"),
    ("192.0.0.8/32", "dummy address"),
    ("192.0.0.170/32", "NAT64 discovery"),
    ("192.0.0.171/32", "NAT64 discovery"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.2/32", "6a44 relays"),
    ("192.168.0.0/16", "private network"),
    ("198.18.0.0/15", "network benchmarks"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("240.0.0.0/4", "future use"),
    ("255.255.255.255/32", "broadcast"),
]
IANA_IPV6 = [
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", ""),
    ("64:ff9b:1::/48", "local IPv4/IPv6 translation"),
    ("100::/64", "discarding traffic"),
    ("100:0:0:1::/64", "dummy addresses"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001:2::/48", "network benchmarks"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fc00::/7", "private network"),
    ("fe80::/10", "link-local"),
]
# Deprecated blocks (N/A in the registries), and what they leave to other registries.
DEPRECATED_AND_OTHERS = [
    ("192.88.99.0/24", "6to4 relays, now deprecated"),
    ("::/96", "IPv4 address in IPv6 form"),
    ("2001::/32", ""),  # Teredo
    ("2001:10::/28", "ORCHID, now deprecated"),
    ("2002::/16", ""),  # 6to4
    ("fec0::/10", "site-local"),
    ("224.0.0.0/4", "multicast"),
    ("ff00::/8", "multicast"),
]
SPECIAL = IANA_IPV4 + IANA_IPV6 + DEPRECATED_AND_OTHERS


def _inside(block: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The first, middle and last address of ``block`` that no smaller block of the list
    holds (a smaller block gives its own reason)."""
    net = ipaddress.ip_network(block)
    smaller = [ipaddress.ip_network(b) for b, _ in SPECIAL
               if ipaddress.ip_network(b).version == net.version
               and ipaddress.ip_network(b).prefixlen > net.prefixlen]
    candidates = dict.fromkeys([net[0], net[net.num_addresses // 2], net[-1]])
    return [ip for ip in candidates if not any(ip in s for s in smaller)]


def _url(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"http://{ip}/" if ip.version == 4 else f"http://[{ip}]/"


@pytest.mark.parametrize("block, reason", SPECIAL, ids=[b for b, _ in SPECIAL])
def test_every_special_purpose_block_is_refused_with_its_reason(block: str,
                                                                 reason: str) -> None:
    inside = _inside(block)
    assert inside, f"no address of {block} is left to test"
    for ip in inside:
        with pytest.raises(guard.FetchError, match=re.escape(reason) or None) as caught:
            guard.get(_url(ip), NOTHING, QUICK)
        assert caught.value.kind == "refused", ip
        assert caught.value.message.startswith("the address is "), ip
        if ip.version == 4:  # the same address written as IPv6 is refused the same way
            with pytest.raises(guard.FetchError, match=re.escape(reason) or None):
                guard.get(f"http://[::ffff:{ip}]/", NOTHING, QUICK)


@pytest.mark.parametrize("address", ["192.0.0.9", "192.0.0.10", "2001:1::1", "2001:1::3",
                                     "2001:3::1", "2001:4:112::1", "2001:20::1",
                                     "2001:30::1"])
def test_the_anycast_exceptions_inside_refused_blocks_are_refused_too(address: str) -> None:
    """IANA calls these few globally reachable; they answer PCP, TURN, AMT, AS112 or
    name drones, never web pages, so the guard refuses their whole block."""
    assert guard.why_not_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "http://1.1.1.1/x", "http://192.31.196.1/",
                                 "http://[2001:4860:4860::8888]/",
                                 "http://[2606:4700:4700::1111]/", "http://[2620:4f:8000::1]/",
                                 "http://[64:ff9b::808:808]/"])
def test_public_addresses_pass_the_guard(url: str) -> None:
    scheme, _, _, ip, _ = guard.checked_target(url, NOTHING)
    assert scheme == "http" and guard.why_not_public(ip) is None


def test_fetch_allow_still_opens_a_special_block_it_names() -> None:
    allow = guard.parse_allow("192.0.0.0/24, [fec0::1]")
    assert guard.checked_target("http://192.0.0.100/", allow)[3] == ipaddress.ip_address(
        "192.0.0.100")
    assert guard.checked_target("http://[fec0::1]/", allow)[2] == 80
    with pytest.raises(guard.FetchError, match="site-local"):
        guard.checked_target("http://[fec0::2]/", allow)


# ------------------------------------------------------------------ broken answers

@pytest.mark.parametrize("encoding, body", [
    ("gzip", b"<rss>not compressed at all</rss>"),
    ("x-gzip", b"\x1f\x8b\x08\x00garbage after a gzip header"),
    ("deflate", b"plain text, not deflate"),
])
def test_a_body_that_is_not_what_its_encoding_says_is_a_fetch_error(
        server: FeedServer, encoding: str, body: bytes) -> None:
    server.routes["/x"] = Route(body, extra_headers={"Content-Encoding": encoding})
    with pytest.raises(guard.FetchError, match=f"compressed \\({encoding}\\), but it is "
                                               f"not") as caught:
        guard.get(server.url("/x"), guard.parse_allow("127.0.0.1"), QUICK)
    assert caught.value.kind == "failed"


def test_a_compressed_body_cut_short_is_a_fetch_error_but_an_empty_one_is_not(
        server: FeedServer) -> None:
    whole = gzip.compress(b"<rss>" + b"x" * 5000 + b"</rss>")
    server.routes["/cut"] = Route(whole[: len(whole) // 2],
                                  extra_headers={"Content-Encoding": "gzip"})
    server.routes["/none"] = Route(b"", status=204, extra_headers={"Content-Encoding": "gzip"})
    with pytest.raises(guard.FetchError, match=r"compressed \(gzip\) but cut short"):
        guard.get(server.url("/cut"), guard.parse_allow("127.0.0.1"), QUICK)
    assert guard.get(server.url("/none"), guard.parse_allow("127.0.0.1"), QUICK).body == b""
