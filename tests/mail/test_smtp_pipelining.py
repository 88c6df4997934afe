"""SMTP pipelining (RFC 2920) against a real aiosmtpd server that offers it: the engine's
sendmail sends MAIL, RCPT and DATA in one write, and every refusal raises what smtplib's
sendmail raises, with the session left in step for the next message."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ostogether.mail.transports import dot_stuff, quote_address, sendmail
from tests.conftest import free_port

MESSAGE = b"Subject: hi\r\n\r\n.a line that starts with a dot\r\nbye\r\n"


class Handler:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.startswith("blocked@"):
            return "553 5.7.1 sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if b"REFUSE" in envelope.original_content:
            return "554 5.6.0 content refused"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content))
        return "250 OK queued"


@pytest.fixture
def server() -> Iterator[tuple[Handler, int]]:
    handler, port = Handler(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_pipelined_messages_and_every_refusal(server: tuple[Handler, int]) -> None:
    handler, port = server
    conn = smtplib.SMTP("127.0.0.1", port, timeout=10)
    conn.ehlo()
    assert conn.has_extn("pipelining")
    assert sendmail(conn, "news@example.org", ["a@example.org"], MESSAGE) == {}
    # Dot-stuffing survives: the server gets the line back as written.
    assert handler.received[-1][2].endswith(b".a line that starts with a dot\r\nbye\r\n")
    refused = sendmail(conn, "news@example.org", ["b@example.org", "nobody@example.org"],
                        MESSAGE)
    assert refused == {"nobody@example.org": (550, b"5.1.1 no such user")}
    assert handler.received[-1][1] == ["b@example.org"]
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        sendmail(conn, "news@example.org", ["nobody@example.org"], MESSAGE)
    with pytest.raises(smtplib.SMTPSenderRefused) as sender:
        sendmail(conn, "blocked@example.org", ["c@example.org"], MESSAGE)
    assert sender.value.smtp_code == 553
    with pytest.raises(smtplib.SMTPDataError) as data:
        sendmail(conn, "news@example.org", ["d@example.org"], MESSAGE + b"REFUSE\r\n")
    assert data.value.smtp_code == 554
    # After each refusal the session is still in step: the next message goes through.
    assert sendmail(conn, "news@example.org", ["e@example.org"], MESSAGE) == {}
    assert [r[1] for r in handler.received] == [["a@example.org"], ["b@example.org"],
                                                ["e@example.org"]]
    conn.quit()


@pytest.mark.parametrize("data", [
    b"", b".", b"..", b"no dot\r\n", b".first\r\n", b"a\r\n.\r\nb\r\n", b"a\r\n..\r\n",
    b"a\r\n.\r\n.\r\n.x\r\n", b"\r\n.", b"a\n.b\n..c", b"x.y\r\n. \r\n"])
def test_dot_stuffing_is_what_rfc_5321_asks(data: bytes) -> None:
    # smtplib's own regular expression is the reference: every line that starts with a
    # dot gets one more.
    assert dot_stuff(data) == smtplib._quote_periods(data)  # type: ignore[attr-defined]


def test_a_lone_dot_line_inside_a_message_does_not_end_it(
        server: tuple[Handler, int]) -> None:
    handler, port = server
    message = b"Subject: dots\r\n\r\nabove\r\n.\r\n..two\r\n.\r\nbelow\r\n"
    conn = smtplib.SMTP("127.0.0.1", port, timeout=10)
    conn.ehlo()
    assert sendmail(conn, "news@example.org", ["a@example.org"], message) == {}
    assert handler.received[-1][2].endswith(b"above\r\n.\r\n..two\r\n.\r\nbelow\r\n")
    conn.quit()


@pytest.mark.parametrize("address", [
    "a@example.org", "news+x1Y_-z@lists.example.org", "o'brien@example.ie",
    "first.last@sub-domain.example.com", "a..b@example.org", ".a@example.org",
    "Name <a@example.org>", '"quoted local"@example.org', "a@[192.0.2.1]", "",
    "not an address", "<already@example.org>", "a@b@example.org", "ünï@example.org"])
def test_addresses_are_quoted_as_smtplib_quotes_them(address: str) -> None:
    assert quote_address(address) == smtplib.quoteaddr(address)
