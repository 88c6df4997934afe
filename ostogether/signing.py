"""Signed, timed tokens (itsdangerous) whose age is read from the one clock.

itsdangerous reads the machine's clock itself; its signer's ``get_timestamp`` is the documented
hook to give it another clock, so a test that moves the clock ages the links too.
"""

from __future__ import annotations

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ostogether import clock


class ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.timestamp())


def serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    """A URL-safe, timed serializer for links in mails (confirm, unsubscribe, password)."""
    return URLSafeTimedSerializer(secret, salt=salt, signer=ClockSigner)
