"""Signed, timed tokens (itsdangerous) whose age is read from the one clock, and the one
way to compare a signature a visitor sent with the right one.

itsdangerous reads the machine's clock itself; its signer's ``get_timestamp`` is the documented
hook to give it another clock, so a test that moves the clock ages the links too.

A token or signature comes from outside (a path, a form, a mail address): any text at all.
``hmac.compare_digest`` raises TypeError on a str that is not ASCII, and itsdangerous
raises UnicodeEncodeError on a lone surrogate and BadPayload (not BadSignature) on a
payload it cannot decode. Here every such failure is simply "not ours": ``same`` answers
False and ``Serializer.loads`` raises BadSignature (or SignatureExpired), whatever the text.
"""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import BadData, BadSignature, TimestampSigner, URLSafeTimedSerializer

from ostogether.core import clock


def same(given: object, expected: str) -> bool:
    """Whether ``given`` (anything a visitor sent) is ``expected``, in constant time for
    equal lengths. Never raises: text that is not ASCII, or not text, is simply not it."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               expected.encode("utf-8", "surrogatepass"))


class ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.timestamp())


class Serializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer that takes any text: whatever cannot be one
    of its tokens is a BadSignature, so a caller needs no other ``except``."""

    def loads(self, s: str | bytes, *args: Any, **kwargs: Any) -> Any:
        # Its tokens are base64url and dots: anything else was never signed here.
        if not isinstance(s, str | bytes) or not s.isascii():
            raise BadSignature("A signed token holds only ASCII letters, digits, - _ and .")
        try:
            return super().loads(s, *args, **kwargs)
        except BadSignature:
            raise
        except (BadData, ValueError, TypeError, OverflowError) as exc:
            raise BadSignature("This token cannot be read.") from exc


def serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    """A URL-safe, timed serializer for links in mails (confirm, unsubscribe, password)."""
    return Serializer(secret, salt=salt, signer=ClockSigner)
