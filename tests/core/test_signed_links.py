"""Signatures and signed tokens take any text. A click signature, a reader's link, a
password link, an API token, a member site's form token or a sign-up step's time that a
visitor made up (any Unicode, lone surrogates, bytes that are not UTF-8) is simply not
one of ours: a 4xx or a redirect, never a 500. ``GET /r/10/1/é`` used to raise TypeError in
``hmac.compare_digest``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from itsdangerous import BadSignature

from ostogether.core import signing
from ostogether.edges.runtime import Runtime
from ostogether.mail.message import delivery_from_token, verp_token
from tests.conftest import csrf_from, new_client
from tests.factories import approved_issue, mark_sent
from tests.feedserver import FeedServer

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 "
                         "Firefox/140.0"}
# Any code point, lone surrogates included, and raw bytes that are not UTF-8.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60)
ANY_BYTES = st.binary(max_size=60)
# Where a signed token or a signature is part of the path: {n} is a sent issue's number.
IN_PATH = (("GET", "/r/{n}/1/{t}"), ("GET", "/r/{n}/0/{t}"), ("HEAD", "/r/{n}/3/{t}"),
           ("GET", "/subscribe/confirm/{t}"), ("POST", "/u/{t}"), ("GET", "/u/{t}"),
           ("GET", "/p/{t}"), ("GET", "/p/{t}/data.json"), ("GET", "/account/password/{t}"))


def in_url(value: str | bytes) -> str:
    """``value`` as one percent-encoded path segment, byte for byte (a lone surrogate
    becomes the bytes that are not UTF-8 it stands for)."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote(raw, safe="")


@pytest.fixture
def issue_number(rt: Runtime, web: FeedServer) -> int:
    issue = approved_issue(rt, [web.url("/page/0"), web.url("/page/1")])
    mark_sent(rt, issue.id)
    return issue.number or 0


def fine(status: int) -> bool:
    return 300 <= status < 500


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(ANY_TEXT, ANY_BYTES))
@example(value="é")
@example(value="\udc80")
@example(value=b"\xff\xfe")
@example(value="0" * 19 + "é")
@example(value="٤٢")
@example(value="a.b.c")
def test_any_signature_or_token_a_visitor_sends_is_a_4xx_never_a_500(
        app: Any, issue_number: int, value: str | bytes) -> None:
    client = new_client(app)
    segment = in_url(value)
    for method, route in IN_PATH:
        path = route.format(n=issue_number, t=segment)
        r = client.open(path, method=method, headers=BROWSER)
        assert fine(r.status_code), (method, path, r.status_code)
    raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    # An API token: whatever follows "Bearer " is unknown, 401. (A header holds no line.)
    bearer = (value.decode("latin-1") if isinstance(value, bytes) else value)
    bearer = bearer.replace("\r", "").replace("\n", "")
    r = client.get("/api/v1/items", headers={"Authorization": f"Bearer x{bearer}"})
    assert r.status_code == 401, r.status_code
    # The form a member site posts (its signed token), sent as the browser would encode it.
    r = client.post("/subscribe/from/cosmos", data=b"email=a%40b.example&form=" +
                    quote(raw, safe="").encode(),
                    content_type="application/x-www-form-urlencoded", headers=BROWSER)
    assert r.status_code == 400 and "out of date" in r.get_data(as_text=True), r.status_code
    # The sign-up step, with its signed time made up.
    csrf = csrf_from(client.get("/subscribe/from/cosmos").get_data(as_text=True))
    body = (f"csrf_token={quote(csrf)}&email=a%40b.example&language=en&consent=y&website="
            f"&started=").encode() + quote(raw, safe="").encode()
    r = client.post("/subscribe/from/cosmos/confirm", data=body,
                    content_type="application/x-www-form-urlencoded", headers=BROWSER)
    assert r.status_code == 400, r.status_code
    assert "Please check the details and press Subscribe" in r.get_data(as_text=True)


@settings(max_examples=300, deadline=None)
@given(given_=st.one_of(ANY_TEXT, ANY_BYTES, st.none(), st.integers()),
       expected=st.text(st.characters(exclude_categories=()), max_size=30))
@example(given_="é", expected="abc")
@example(given_="\udc80", expected="\udc80")
def test_same_never_raises_and_says_yes_only_to_the_very_text(given_: Any,
                                                              expected: str) -> None:
    assert signing.same(given_, expected) is (given_ == expected)


@settings(max_examples=300, deadline=None)
@given(token=st.one_of(ANY_TEXT, ANY_BYTES))
@example(token="\udc80")
@example(token="é.é.é")
@example(token=".eJzLSM3JyVcozy_KSQEAGgQEXQ.aaaa.bbbb")  # a compressed payload, unsigned
def test_a_serializer_turns_any_text_into_bad_signature(token: str | bytes) -> None:
    s = signing.serializer("k" * 32, "salt")
    with pytest.raises(BadSignature):
        s.loads(token, max_age=60)
    assert s.loads(s.dumps({"a": 1})) == {"a": 1}  # and its own tokens still load


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT)
@example(text="bounces+d٤٢-0123456789ab@example.org")  # Arabic-Indic digits
@example(text="d42-0123456789aé")
def test_a_verp_token_in_any_text_is_found_or_not_never_an_error(text: str) -> None:
    secret = "s" * 32
    found = delivery_from_token(secret, text)
    assert found is None or verp_token(secret, found) in text.lower()
    assert delivery_from_token(secret, f"{text} {verp_token(secret, 42)}") == (found or 42)
