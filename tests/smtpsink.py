"""An SMTP server (aiosmtpd) that misbehaves on purpose, and the fixtures that point a
send at it: for the delivery's tests and those of each reader's mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import threading
from collections import Counter
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from tests.conftest import free_port


class FlakySink:
    """An SMTP server that misbehaves on purpose: it defers a share of messages with 451,
    refuses some addresses for good with 550 5.1.1, and drops the connection at MAIL FROM
    (before the message is taken, so a drop never causes a duplicate by itself)."""

    def __init__(self, *, defer: float = 0.0, drop: float = 0.0,
                 refuse: frozenset[str] = frozenset(), seed: int = 7) -> None:
        self.defer, self.drop, self.refuse = defer, drop, refuse
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, EmailMessage]] = []  # (mail from, rcpt, msg)
        self.deferred = self.dropped = self.refused = 0
        self.delay = 0.0
        self.port = free_port()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        with self.lock:
            roll = self.rng.random()
        if roll < self.drop:
            self.dropped += 1
            server.transport.close()
            return "421 4.4.2 dropped on purpose"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:
        if address in self.refuse:
            self.refused += 1
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        with self.lock:
            roll = self.rng.random()
        if roll < self.defer:
            self.deferred += 1
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((envelope.mail_from, rcpt, msg))  # type: ignore[arg-type]
        return "250 OK queued"

    def per_reader(self) -> Counter[str]:
        return Counter(rcpt for _, rcpt, _ in self.received)


def started_sink() -> Iterator[FlakySink]:
    """A FlakySink listening on loopback until the generator is closed (for a fixture)."""
    from aiosmtpd.controller import Controller

    handler = FlakySink()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    yield handler
    controller.stop()


def smtp_env(env: dict[str, str], sink: FlakySink) -> dict[str, str]:
    """The test environment with mail going to ``sink`` over SMTP, quick to retry."""
    return {**env, "OSTOGETHER_LINK_CHECK_TIMEOUT": "1",
            "OSTOGETHER_MAIL_TRANSPORT": "smtp", "OSTOGETHER_SMTP_HOST": "127.0.0.1",
            "OSTOGETHER_SMTP_PORT": str(sink.port), "OSTOGETHER_SMTP_SECURITY": "none",
            "OSTOGETHER_SMTP_TIMEOUT": "5", "OSTOGETHER_DELIVERY_RETRY_SECONDS": "0.01",
            "OSTOGETHER_DELIVERY_BATCH_SIZE": "40",
            "OSTOGETHER_SMTP_MESSAGES_PER_CONNECTION": "25"}
