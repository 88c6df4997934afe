"""Outside bytes never raise past their step: property tests that throw random headers
and bodies at the outbound guard (through a loopback server that answers whatever
hypothesis makes), the feed parser, the card reader and the picture keeper. Each call
gives its result or raises the service's own error (an ``OstogetherError``), never
anything else.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import socket
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from ostogether.core.errors import OstogetherError
from ostogether.edges import fetch as guard
from ostogether.edges import media
from ostogether.edges.runtime import Runtime
from ostogether.news import feeds
from ostogether.social import media as social_media
from tests.feedserver import atom, rss
from tests.pictures import COMMENT, SWAPPED, camera_exif, corpus, encoded, metadata_in

LOOPBACK = guard.parse_allow("127.0.0.1")
LIMITS = guard.Limits(deadline=10, connect_timeout=5, read_timeout=5, max_bytes=50_000,
                      max_redirects=3)
PROPERTY = settings(max_examples=100, deadline=None)


class RawServer:
    """A loopback server that answers each path with the exact bytes a test gives it (a
    wrong length, a lying encoding, no HTTP at all), then hangs up."""

    def __init__(self) -> None:
        self.answers: dict[str, bytes] = {}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                path = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 \
                    else "/"
                conn.sendall(self.answers.get(path.partition("?")[0],
                                              b"HTTP/1.1 404 Not Found\r\n"
                                              b"Content-Length: 0\r\n\r\n"))
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def raw() -> Iterator[RawServer]:
    server = RawServer()
    yield server
    server.close()


# ------------------------------------------------------------------ what to throw

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
charsets = st.sampled_from(["utf-8", "UTF-8", "latin-1", "utf-16", "utf-7", "idna",
                            "punycode", "base64", "rot13", "zlib", "uu_codec",
                            "unicode_escape", "undefined", "no-such-charset", "", '"utf-8"',
                            "utf-8; q=1", "x" * 60]) | header_text
content_types = st.builds(
    lambda kind, charset, bare: kind if bare else f"{kind}; charset={charset}",
    st.sampled_from(["text/html", "application/xhtml+xml", "application/rss+xml",
                     "application/atom+xml", "application/xml", "text/xml", "image/png",
                     "image/jpeg", "text/plain", "", "html", "*/*"]) | header_text,
    charsets, st.booleans())
encodings = st.sampled_from(["gzip", "x-gzip", "deflate", "GZIP ", "identity", "",
                             "br", "gzip, gzip", "compress", "zstd"]) | header_text


@functools.cache
def _corpus() -> list[bytes]:
    return [odd.data for odd in corpus().values()]


def pictures_bytes() -> st.SearchStrategy[bytes]:
    """One of the odd pictures (made once, when first drawn)."""
    return st.integers(0, 10**6).map(lambda i: _corpus()[i % len(_corpus())])


def _flipped(data: bytes, changes: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for where, value in changes:
        if out:
            out[where % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


mutated = st.builds(_flipped, pictures_bytes() | st.sampled_from(
    [rss([{"title": "T", "link": "https://e.org/a"}]), atom([{"title": "T",
                                                              "link": "https://e.org/b"}])]),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    st.none() | st.integers(0, 5000))
plain_bodies = st.binary(max_size=2000) | mutated | st.sampled_from([
    rss([{"title": "Qualité", "link": "https://e.org/a"}]),
    b"<!doctype html><html><head><title>x</title></head></html>",
    "<html><head><title>Caf\u00e9 \u2615</title></head></html>".encode()])


def _body(plain: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(plain)
    if how == "gzip cut":
        whole = gzip.compress(plain)
        return whole[: len(whole) // 2]
    if how == "deflate":
        return zlib.compress(plain)
    if how == "bomb":
        return gzip.compress(b"\0" * 200_000)
    return plain


HONEST = {"plain": "", "gzip": "gzip", "gzip cut": "gzip", "deflate": "deflate",
          "bomb": "gzip"}
bodies = st.builds(_body, plain_bodies, st.sampled_from(list(HONEST)))
STATUSES = st.sampled_from([200, 200, 200, 200, 204, 206, 301, 302, 304, 404, 500, 100, 999])
LENGTHS = ("right", "none", "short", "long", "junk", "huge", "negative", "two")


@st.composite
def answers(draw: st.DrawFn, plain_from: st.SearchStrategy[bytes] = plain_bodies,
            statuses: st.SearchStrategy[int] = STATUSES,
            types: st.SearchStrategy[str] = content_types, tidy: bool = False) -> bytes:
    """A whole HTTP answer: a status line, headers (a type, an encoding that may lie, a
    length that may be wrong, a redirect), a body; or bytes that are not HTTP at all.
    ``tidy`` answers are mostly plain and well measured, so that what they carry (a
    page, a picture) is often read."""
    if not tidy and draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=300))
    status = draw(statuses)
    how = "plain" if tidy and draw(st.integers(0, 3)) else draw(st.sampled_from(list(HONEST)))
    body = _body(draw(plain_from), how)
    encoding = HONEST[how] if draw(st.booleans()) else draw(encodings)
    lines = [f"HTTP/1.1 {status} {draw(header_text)}"]
    if tidy or draw(st.booleans()):
        lines.append(f"Content-Type: {draw(types)}")
    if encoding:
        lines.append(f"Content-Encoding: {encoding}")
    length = draw(st.sampled_from(LENGTHS[:2] if tidy and draw(st.integers(0, 3))
                                  else LENGTHS))
    lines += {"right": [f"Content-Length: {len(body)}"], "none": [],
              "short": [f"Content-Length: {max(0, len(body) - 7)}"],
              "long": [f"Content-Length: {len(body) + 100}"],
              "junk": ["Content-Length: twelve"], "huge": ["Content-Length: 99999999999"],
              "negative": ["Content-Length: -5"],
              "two": [f"Content-Length: {len(body)}", "Content-Length: 3"]}[length]
    if not tidy and draw(st.integers(0, 9)) == 0:
        lines.append("Transfer-Encoding: chunked")
    if status in (301, 302):
        lines.append("Location: " + draw(st.sampled_from(
            ["/elsewhere", "/page", "http://10.0.0.1/", "ftp://example.org/", "http://[::1",
             "//", "", "/" + "a" * 300])))
    for _ in range(draw(st.integers(0, 3))):
        lines.append(f"X-{draw(st.text('abcxyz', min_size=1, max_size=8))}: "
                     f"{draw(header_text)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ------------------------------------------------------------------------- the guard

@PROPERTY
@given(answer=answers())
@example(answer=b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n"
                b"not gzip!")
def test_the_guard_answers_or_raises_fetch_error_whatever_the_server_sends(
        raw: RawServer, answer: bytes) -> None:
    raw.answers["/x"] = answer
    try:
        got = guard.get(raw.base + "/x", LOOPBACK, LIMITS)
    except guard.FetchError as exc:
        event(f"FetchError {exc.kind}")  # --hypothesis-show-statistics shows the spread
        assert exc.kind in ("refused", "failed", "timeout", "too_big") and str(exc)
        return
    event(f"answered {got.status // 100}xx")
    assert len(got.body) <= LIMITS.max_bytes and 100 <= got.status <= 999


# --------------------------------------------------------------------- the feed parser

@PROPERTY
@given(body=bodies, content_type=content_types)
@example(body=rss([{"title": "T", "link": "https://e.org/a"}]),
         content_type="application/rss+xml; charset=punycode")
@example(body=rss([{"title": "T", "link": "https://e.org/a"}]),
         content_type="text/xml; charset=\0")
def test_the_feed_parser_gives_entries_or_not_a_feed(body: bytes, content_type: str) -> None:
    try:
        parsed = feeds.parse(body, {"content-type": content_type}, "https://e.org/feed")
    except feeds.NotAFeed as exc:
        event("not a feed")
        assert isinstance(exc, OstogetherError) and str(exc)
        return
    event("entries")
    assert parsed.entries and all(e.values["title"] for e in parsed.entries)


# -------------------------------------------------------------------- the picture keeper

@st.composite
def made_pictures(draw: st.DrawFn) -> bytes:
    """A picture Pillow makes: a strip, a speck or a small square, in a mode and format
    drawn, with a comment, EXIF or a colour profile perhaps."""
    side = draw(st.integers(1, 2600))
    other = draw(st.integers(1, 4))
    size = (side, other) if draw(st.booleans()) else (other, side)
    mode = draw(st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16"]))
    fmt = draw(st.sampled_from(["PNG", "JPEG", "GIF", "WEBP"]))
    img = Image.new(mode, size)
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["comment"] = COMMENT
    if draw(st.booleans()):
        options["exif"] = camera_exif()
    if draw(st.booleans()) and mode in ("RGB", "RGBA"):
        options["icc_profile"] = SWAPPED
    if draw(st.booleans()) and fmt in ("JPEG", "PNG"):
        options["progressive" if fmt == "JPEG" else "interlace"] = True
    try:
        return encoded(img, fmt, **options)
    except (OSError, ValueError, KeyError, TypeError):
        assume(False)  # this Pillow cannot write that mode in that format
        raise


# ---------------------------------------------------------------------- the card reader

_pictures = itertools.count()
OG_HEAD = ('<html><head><meta property="og:title" content="Caf\u00e9">'
           '<meta property="og:image" content="/picture.png">').encode()
pages = st.builds(lambda head, rest: head + rest, st.sampled_from([OG_HEAD, b""]),
                  plain_bodies)
html_types = st.just("text/html") | st.builds("text/html; charset={}".format, charsets)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=answers(pages, st.sampled_from([200, 200, 200, 404]), html_types, tidy=True),
       picture=answers(pictures_bytes() | made_pictures() | plain_bodies,
                       st.sampled_from([200, 200, 200, 500]), tidy=True))
@example(page=b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=idna\r\n\r\n"
              b"<title>Caf\xc3\xa9</title>", picture=b"")
def test_the_card_reader_gives_a_card_whatever_the_page_and_its_picture(
        rt: Runtime, raw: RawServer, page: bytes, picture: bytes) -> None:
    """A card always comes back (what went wrong is its warning); the page's picture is
    kept or refused through the same keeper."""
    image = f"/picture-{next(_pictures)}.png"  # a new address: kept pictures are not fetched
    raw.answers["/page"] = page.replace(b"/picture.png", image.encode())
    raw.answers[image] = picture
    card = social_media.read_card(rt, raw.base + "/page")
    event("card with a picture" if card["image"] else "card with a warning"
          if card["warning"] else "card")
    assert set(card) == {"url", "title", "description", "image", "image_alt", "warning"}
    assert card["image"] == "" or media.NAME.match(card["image"])


@PROPERTY
@given(data=made_pictures() | mutated | st.binary(max_size=3000))
@example(data=encoded(Image.new("RGB", (2401, 1)), "PNG"))
@example(data=encoded(Image.new("RGB", (3000, 1)), "JPEG"))
def test_the_picture_keeper_keeps_pixels_only_or_refuses_with_a_reason(data: bytes) -> None:
    try:
        kept, ext, width, height = media.checked(data, 20_000_000)
    except OstogetherError as exc:
        event("refused")
        assert str(exc).startswith("it ")
        return
    event(f"kept as {ext}")
    assert 1 <= width <= media.MAIL_WIDTH and height >= 1
    assert metadata_in(kept) == [] and COMMENT not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.size == (width, height)
    for network in social_media.LIMITS:  # each network's copy, from the kept file
        copy = social_media.variant(kept, network)
        assert copy.width >= 1 and copy.height >= 1


@settings(max_examples=50, deadline=None)
@given(data=mutated | st.binary(max_size=3000),
       network=st.sampled_from(sorted(social_media.LIMITS)))
@example(data=b"not a picture", network="bluesky")
def test_a_networks_copy_is_made_or_refused_with_a_reason(data: bytes, network: str) -> None:
    try:
        copy = social_media.variant(data, network)
    except OstogetherError as exc:
        assert f"for {network}" in str(exc)
        return
    assert copy.width >= 1 and copy.height >= 1 and copy.data
