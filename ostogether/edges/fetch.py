"""The outbound guard: every fetch of a URL that came from outside the service.

Feeds, feed discovery, the pre-flight link check, the registry's website check, the join
form's feed check, images and link cards: a URL given by a member, an applicant, a feed
or an editor is fetched only through ``get``. The operator's own endpoints (SMTP, the
social networks' APIs) are settings, not user input, and do not come here.

What the guard does, for every hop of every redirect:

- **http and https only**, with no user name or password in the address;
- **public addresses only.** The host name is resolved, and every address it gives must
  be globally reachable: every block of IANA's IPv4 and IPv6 special-purpose registries
  that is not (``SPECIAL_IPV4``, ``SPECIAL_IPV6``: loopback, private, link-local with the
  cloud metadata address 169.254.169.254, CGNAT, documentation, benchmarking, ...), plus
  multicast and the deprecated site-local fec0::/10, is refused, and so is an IPv4
  address in IPv6 form that is. Numeric spellings such as ``0x7f000001``,
  ``2130706433`` and ``127.1`` resolve to 127.0.0.1 and are refused too;
- **the connection goes to the address that was checked**, so a DNS answer that changes
  between the check and the connect (rebinding) cannot slip through. TLS still verifies
  the certificate for the host name;
- **redirects are followed by hand**, each target checked again, at most
  ``fetch_max_redirects`` of them;
- **one total deadline** covers connecting, the headers and the body: a server that
  sends one byte a second is cut off when it runs out, whatever the per-read timeout;
- **a size cap** on the body, also after gzip is undone.

``fetch_allow`` lists what is allowed although private (``host[:port]`` or CIDR ranges):
an intranet site, or the loopback servers of the tests. The guard is never switched off.

Failures are ``FetchError`` with a reason fit to show (``"the address is on a private
network"``); what an internal server answered never leaves this module. Whatever the
server sends (a "gzip" body that is not gzip, a wrong length, headers that are not
HTTP), nothing but ``FetchError`` leaves ``get``.

requests cannot connect to an address other than the one its own resolver picks, nor
enforce a deadline across the headers and the body, so this uses ``http.client`` on a
socket it opened itself, with a timer that closes the socket at the deadline.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from ostogether import __version__
from ostogether.core.errors import OstogetherError
from ostogether.core.fetch_rules import Allow as Allow
from ostogether.core.fetch_rules import IPAddress as IPAddress
from ostogether.core.fetch_rules import IPNetwork as IPNetwork
from ostogether.core.fetch_rules import Limits as Limits
from ostogether.core.fetch_rules import parse_allow as parse_allow
from ostogether.edges.wording import N_, say

log = logging.getLogger(__name__)
# The guard's sentences are English where they are raised, kept and logged; a page words
# them in its language with ``wording.reword``.
NO_HOST = N_("the host name %(host)s cannot be found")
TOO_BIG_DECLARED = N_("the answer is too big: %(size)s bytes, the limit is %(limit)s")
TOO_BIG = N_("the answer is too big: more than %(limit)s bytes")
REDIRECTS = {301, 302, 303, 307, 308}


class FetchError(OstogetherError):
    """A fetch did not give a usable answer. ``kind``: refused (the guard said no),
    failed (no connection, TLS, a broken answer), timeout, or too_big."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# ------------------------------------------------------------------------ addresses

LOOPBACK = N_("the address is this machine itself (loopback)")
UNSPECIFIED = N_("the address is unspecified (0.0.0.0 or ::)")
LINK_LOCAL = N_("the address is link-local (169.254.x.x or fe80::), where cloud metadata "
                "services live")
PRIVATE = N_("the address is on a private network")
MULTICAST = N_("the address is a multicast address")
CGNAT = N_("the address is in a carrier-grade NAT range (100.64.0.0/10)")
MAPPED = N_("the address is an IPv4 address in IPv6 form")


def _reserved(purpose: str) -> str:
    return say(N_("the address is reserved for %(purpose)s, not on the public internet"),
               purpose=purpose)


# Every block that is not the public internet, as data: (block, IANA's name, reason).
# Taken from IANA's "IPv4 Special-Purpose Address Registry" and "IPv6 Special-Purpose
# Address Registry" (iana.org/assignments/iana-ipv4-special-registry and
# .../iana-ipv6-special-registry), as published on 2025-10-09: every entry whose
# "Globally Reachable" is False, and the deprecated ones (N/A there), which no web server
# uses either. Then what those registries leave to others: multicast (its own registries)
# and the deprecated IPv6 site-local block fec0::/10 (RFC 3879).
# A few entries inside 192.0.0.0/24 and 2001::/23 are globally reachable (anycast for
# PCP, TURN and DNS-SD, AMT, AS112, ORCHIDv2, drone DETs); none of them serves web pages,
# so the guard refuses the whole of both blocks. The most specific block gives the reason.
SPECIAL_IPV4: tuple[tuple[str, str, str], ...] = (
    ("0.0.0.0/8", '"This network"', _reserved('"this network" (0.0.0.0/8)')),
    ("0.0.0.0/32", '"This host on this network"', UNSPECIFIED),
    ("10.0.0.0/8", "Private-Use", PRIVATE),
    ("100.64.0.0/10", "Shared Address Space", CGNAT),
    ("127.0.0.0/8", "Loopback", LOOPBACK),
    ("169.254.0.0/16", "Link Local", LINK_LOCAL),
    ("172.16.0.0/12", "Private-Use", PRIVATE),
    ("192.0.0.0/24", "IETF Protocol Assignments",
     _reserved("IETF protocol assignments (192.0.0.0/24)")),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix",
     _reserved("IPv4 service continuity (192.0.0.0/29)")),
    ("192.0.0.8/32", "IPv4 dummy address", _reserved("a dummy address (192.0.0.8)")),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", _reserved("NAT64 discovery (192.0.0.170)")),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", _reserved("NAT64 discovery (192.0.0.171)")),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)",
     _reserved("documentation and examples (192.0.2.0/24)")),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)",
     _reserved("6to4 relays, now deprecated (192.88.99.0/24)")),
    ("192.88.99.2/32", "6a44-relay anycast address", _reserved("6a44 relays (192.88.99.2)")),
    ("192.168.0.0/16", "Private-Use", PRIVATE),
    ("198.18.0.0/15", "Benchmarking", _reserved("network benchmarks (198.18.0.0/15)")),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)",
     _reserved("documentation and examples (198.51.100.0/24)")),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)",
     _reserved("documentation and examples (203.0.113.0/24)")),
    ("224.0.0.0/4", "Multicast (IPv4 Multicast Address Space Registry)", MULTICAST),
    ("240.0.0.0/4", "Reserved", _reserved("future use (240.0.0.0/4)")),
    ("255.255.255.255/32", "Limited Broadcast", _reserved("broadcast (255.255.255.255)")),
)
SPECIAL_IPV6: tuple[tuple[str, str, str], ...] = (
    ("::/128", "Unspecified Address", UNSPECIFIED),
    ("::1/128", "Loopback Address", LOOPBACK),
    ("::/96", "IPv4-compatible (deprecated, RFC 4291)", MAPPED),
    ("::ffff:0:0/96", "IPv4-mapped Address", MAPPED),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.",
     _reserved("local IPv4/IPv6 translation (64:ff9b:1::/48)")),
    ("100::/64", "Discard-Only Address Block", _reserved("discarding traffic (100::/64)")),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", _reserved("dummy addresses (100:0:0:1::/64)")),
    ("2001::/23", "IETF Protocol Assignments",
     _reserved("IETF protocol assignments (2001::/23)")),
    ("2001::/32", "TEREDO", MAPPED),
    ("2001:2::/48", "Benchmarking", _reserved("network benchmarks (2001:2::/48)")),
    ("2001:10::/28", "Deprecated (previously ORCHID)",
     _reserved("ORCHID, now deprecated (2001:10::/28)")),
    ("2001:db8::/32", "Documentation", _reserved("documentation and examples (2001:db8::/32)")),
    ("2002::/16", "6to4", MAPPED),
    ("3fff::/20", "Documentation", _reserved("documentation and examples (3fff::/20)")),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", _reserved("segment routing (5f00::/16)")),
    ("fc00::/7", "Unique-Local", PRIVATE),
    ("fe80::/10", "Link-Local Unicast", LINK_LOCAL),
    ("fec0::/10", "Site-local (deprecated, RFC 3879)",
     "the address is on a private network (site-local fec0::/10, deprecated)"),
    ("ff00::/8", "Multicast (IPv6 Multicast Address Space Registry)", MULTICAST),
)
# Longest prefix first, so that the most specific block gives the reason.
_SPECIAL: tuple[tuple[IPNetwork, str], ...] = tuple(sorted(
    ((ipaddress.ip_network(block), reason) for block, _, reason in SPECIAL_IPV4 + SPECIAL_IPV6),
    key=lambda entry: -entry[0].prefixlen))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # globally reachable: the last 32 bits are IPv4
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def why_not_public(ip: IPAddress) -> str | None:
    """Why the guard refuses ``ip``, in a user's words, or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return why_not_public(embedded) or MAPPED
        if ip in _NAT64:
            return why_not_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for network, reason in _SPECIAL:
        if ip.version == network.version and ip in network:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST:
        # Outside 2000::/3 nothing is allocated for the public internet yet.
        return _reserved("future use (outside 2000::/3)")
    if not ip.is_global:  # Python's own table, should IANA add a block before we do
        return N_("the address is reserved, not on the public internet")
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address is itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(say(NO_HOST, host=host), "failed") from None
    out: list[IPAddress] = []
    for info in infos:
        address = str(info[4][0])
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise FetchError(say(NO_HOST, host=host), "failed")
    return out


def checked_target(url: str, allow: Allow) -> tuple[str, str, int, IPAddress, str]:
    """(scheme, host, port, the address to connect to, path and query) for ``url``, or
    FetchError(kind="refused") saying why the guard will not fetch it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(N_("the address is not a valid URL"), "refused") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(N_("only http:// and https:// addresses are fetched"), "refused")
    if parts.username or parts.password:
        raise FetchError(N_("addresses with a user name or password are not fetched"),
                         "refused")
    host = parts.hostname or ""
    if not host:
        raise FetchError(N_("the address has no host name"), "refused")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve(host, port)
    if not allow.host(host, port):
        for ip in addresses:
            if allow.address(ip, port):
                continue
            if why := why_not_public(ip):
                raise FetchError(why, "refused")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return scheme, host, port, addresses[0], target


# ------------------------------------------------------------------------- fetching

@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    seconds: float
    redirects: tuple[str, ...] = field(default=())

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def user_agent(public_url: str, purpose: str) -> str:
    return f"ostogether/{__version__} (+{public_url}; {purpose})"


def get(url: str, allow: Allow, limits: Limits, *, method: str = "GET",
        headers: Mapping[str, str] | None = None, read_body: bool = True) -> Response:
    """Fetch ``url`` through the guard. Never follows a redirect the guard would refuse,
    never waits past ``limits.deadline``. Raises FetchError."""
    try:
        return _get(url, allow, limits, method, headers or {}, read_body)
    except FetchError:
        raise
    except Exception as exc:  # outside bytes never raise past the guard (see above)
        log.warning("fetch %s: %s", url[:200], exc.__class__.__name__, exc_info=True)
        raise FetchError(N_("the server's answer could not be read"), "failed") from None


def _get(url: str, allow: Allow, limits: Limits, method: str, headers: Mapping[str, str],
         read_body: bool) -> Response:
    started = time.monotonic()
    deadline = started + limits.deadline
    hops: list[str] = []
    current = url
    while True:
        scheme, host, port, ip, target = checked_target(current, allow)
        status, reason, head, body = _exchange(scheme, host, port, ip, target, method,
                                               headers, limits, deadline,
                                               read_body and method != "HEAD")
        if status in REDIRECTS and head.get("location"):
            if len(hops) >= limits.max_redirects:
                raise FetchError(say(N_("the address redirects more than %(num)d times"),
                                     num=limits.max_redirects), "refused")
            hops.append(current)
            current = urljoin(current, head["location"].strip())
            if status == 303:
                method = "GET"
            continue
        return Response(current, status, reason, head, body, time.monotonic() - started,
                        tuple(hops))


def _exchange(scheme: str, host: str, port: int, ip: IPAddress, target: str, method: str,
              headers: Mapping[str, str], limits: Limits, deadline: float,
              read_body: bool) -> tuple[int, str, dict[str, str], bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout(limits)
    try:
        sock = socket.create_connection((str(ip), port),
                                        timeout=min(limits.connect_timeout, remaining))
    except TimeoutError:
        raise FetchError(say(N_("no connection within %(seconds)s s"),
                             seconds=f"{limits.connect_timeout:g}"),
                         "timeout") from None
    except OSError:
        raise FetchError(N_("cannot connect to the server (refused, reset or unreachable)"),
                         "failed") from None
    # The deadline, whatever the server does: closing the socket ends any blocking read.
    current = [sock]  # the TLS socket replaces the plain one once the handshake is done
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _close(current[0])

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    watchdog.daemon = True
    watchdog.start()
    conn: http.client.HTTPConnection | None = None
    try:
        sock.settimeout(limits.read_timeout)
        if scheme == "https":
            context = ssl.create_default_context()
            try:
                sock = current[0] = context.wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError:
                raise FetchError(N_("the server's TLS certificate could not be verified"),
                                 "failed") from None
            conn = http.client.HTTPSConnection(host, port, timeout=limits.read_timeout,
                                               context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=limits.read_timeout)
        conn.sock = sock
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        default_port = 443 if scheme == "https" else 80
        host_header = host if ":" not in host else f"[{host}]"
        conn.putheader("Host", host_header if port == default_port else f"{host_header}:{port}")
        sent = {k.lower() for k in headers}
        for key, value in headers.items():
            conn.putheader(key, value)
        if "user-agent" not in sent:
            conn.putheader("User-Agent", f"ostogether/{__version__}")
        if "accept-encoding" not in sent:
            conn.putheader("Accept-Encoding", "gzip, identity")
        conn.endheaders()
        resp = conn.getresponse()
        head = {k.lower(): v for k, v in resp.getheaders()}
        body = _read_body(resp, head, limits, deadline) if read_body else b""
        if expired.is_set():  # the socket was closed under a read: the answer is cut short
            raise _timeout(limits)
        return resp.status, resp.reason or "", head, body
    except FetchError:
        raise
    except TimeoutError:
        if expired.is_set():
            raise _timeout(limits) from None
        raise FetchError(say(N_("the server did not answer within %(seconds)s s"),
                             seconds=f"{limits.read_timeout:g}"),
                         "timeout") from None
    except ssl.SSLError:
        raise FetchError(N_("the TLS connection to the server failed"), "failed") from None
    except (http.client.HTTPException, OSError, ValueError):
        if expired.is_set():
            raise _timeout(limits) from None
        raise FetchError(N_("the server's answer broke off or was not HTTP"),
                         "failed") from None
    finally:
        watchdog.cancel()
        if conn is not None:
            conn.close()
        _close(sock)


def _read_body(resp: http.client.HTTPResponse, head: Mapping[str, str], limits: Limits,
               deadline: float) -> bytes:
    cap = limits.max_bytes
    declared = head.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(say(TOO_BIG_DECLARED, size=f"{int(declared):,}", limit=f"{cap:,}"),
                         "too_big")
    encoding = head.get("content-encoding", "identity").strip().lower()
    decoder = (zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip")
               else zlib.decompressobj() if encoding == "deflate" else None)
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise FetchError(say(N_("the server sent the answer encoded as '%(encoding)s'"),
                             encoding=encoding), "failed")
    chunks: list[bytes] = []
    size = received = 0
    while True:
        if time.monotonic() >= deadline:
            raise _timeout(limits)
        chunk = resp.read1(65536)  # one read at most, so the deadline is checked often
        if not chunk:
            break
        received += len(chunk)
        if decoder is not None:
            chunk = _decompressed(decoder, chunk, cap + 1 - size, encoding)
        size += len(chunk)
        if size > cap:
            raise FetchError(say(TOO_BIG, limit=f"{cap:,}"), "too_big")
        chunks.append(chunk)
    if decoder is not None:
        tail = _decompressed(decoder, b"", 0, encoding, flush=True)
        size += len(tail)
        if size > cap:
            raise FetchError(say(TOO_BIG, limit=f"{cap:,}"), "too_big")
        chunks.append(tail)
        if received and not decoder.eof:  # (an empty 304 may still name an encoding)
            raise FetchError(say(N_("the server's answer is broken: it is compressed "
                                    "(%(encoding)s) but cut short"), encoding=encoding),
                             "failed")
    return b"".join(chunks)


def _decompressed(decoder: Any, chunk: bytes, room: int, encoding: str, *,
                  flush: bool = False) -> bytes:
    """What ``decoder`` makes of ``chunk``; FetchError when the body is not what its
    Content-Encoding says (a "gzip" answer that is plain text, say)."""
    try:
        return decoder.flush() if flush else decoder.decompress(chunk, room)
    except zlib.error:
        raise FetchError(say(N_("the server's answer is broken: it says it is compressed "
                                "(%(encoding)s), but it is not"), encoding=encoding),
                         "failed") from None


def _timeout(limits: Limits) -> FetchError:
    return FetchError(say(N_("the server was too slow: no complete answer within "
                             "%(seconds)s s"), seconds=f"{limits.deadline:g}"), "timeout")


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
