"""Mail transports: one small interface, two implementations.

* ``OutboxTransport`` is the embedded default: each message becomes an ``.eml`` file in
  a maildir under var/outbox/, so a laptop install never sends real mail.
* ``SMTPTransport`` speaks SMTP with smtplib: plain, STARTTLS or implicit TLS, optional
  AUTH, and an explicit timeout on every step. Used as a context manager it keeps one
  connection open across messages; for bulk sending (``send_raw``) it reconnects after
  an error and after ``messages_per_connection`` messages, which many servers limit.

Every message is DKIM-signed here, where all mail leaves (transactional mail, test sends,
issues), when a key is configured: ``make_transport`` gives both transports the key.

Every failure becomes a ``MailError`` whose message says what went wrong and what to check.
``send`` and ``send_raw`` share one SMTP transaction, which sorts them for the delivery
engine: ``MailDeferred`` (4xx, or the connection broke: try again), ``MailRejected``
(5xx: never again) and ``MailUnreachable`` (no server: pause the send).
"""

from __future__ import annotations

import email.policy
import mailbox
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from types import TracebackType
from typing import Protocol

from ostogether.core.errors import MailDeferred, MailError, MailRejected, MailUnreachable
from ostogether.core.settings import Settings
from ostogether.mail.message import DkimKey


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message over, or raise MailError."""

    def send_raw(self, envelope_from: str, to: str, data: bytes) -> None:
        """Hand over one message that is already bytes, with its envelope sender."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def as_bytes(message: EmailMessage) -> bytes:
    """A message as it goes on the wire: its own policy (the subject as ``message``
    writes it), with CRLF line ends."""
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def _signed(key: DkimKey | None, data: bytes) -> bytes:
    return key.sign(data) if key is not None else data


class OutboxTransport:
    """Writes each message into a maildir (new/ holds one .eml file per message), signed
    as it would be sent."""

    def __init__(self, folder: Path, dkim_key: DkimKey | None = None) -> None:
        self.folder, self.dkim_key = folder, dkim_key

    def send(self, message: EmailMessage) -> None:
        sender = parseaddr(str(message["From"]))[1]
        self.send_raw(sender, "", as_bytes(message))

    def send_raw(self, envelope_from: str, to: str, data: bytes) -> None:
        # What a delivering mail server would add, so the outbox shows the bounce address.
        self._add(f"Return-Path: <{envelope_from}>\r\n".encode()
                  + _signed(self.dkim_key, data))

    def _add(self, message: bytes) -> None:
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            box = mailbox.Maildir(self.folder, create=True)
            box.add(message)
        except OSError as exc:
            raise MailError(f"Cannot write to the outbox {self.folder}: {exc.strerror}. "
                            f"Check OSTOGETHER_OUTBOX_DIR.") from None

    def messages(self) -> list[EmailMessage]:
        """Every message in the outbox, oldest first."""

        new = self.folder / "new"
        if not new.is_dir():
            return []
        out = []
        for path in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out

    def __enter__(self) -> OutboxTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class SMTPTransport:
    """smtplib with explicit security, AUTH and timeouts."""

    def __init__(self, host: str, port: int, *, security: str = "starttls",
                 username: str = "", password: str = "", timeout: float = 30.0,
                 ca_file: str = "", messages_per_connection: int = 100,
                 dkim_key: DkimKey | None = None) -> None:
        if security not in ("none", "starttls", "tls"):
            raise MailError(f"Unknown SMTP security '{security}': use none, starttls or tls.")
        self.dkim_key = dkim_key
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.ca_file = ca_file
        self.messages_per_connection = messages_per_connection
        self._conn: smtplib.SMTP | None = None
        self._sent_on_conn = 0

    def _context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise MailError(f"Cannot load OSTOGETHER_SMTP_CA_FILE '{self.ca_file}': "
                            f"{exc}.") from None

    def connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        try:
            conn: smtplib.SMTP
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=self._context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise MailError(f"The SMTP server {where} does not offer STARTTLS. Set "
                                    f"OSTOGETHER_SMTP_SECURITY=tls or none to match it.")
                conn.starttls(context=self._context())
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password)
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"The SMTP server {where} refused the login for "
                            f"'{self.username}' ({exc.smtp_code}). Check "
                            f"OSTOGETHER_SMTP_USERNAME and OSTOGETHER_SMTP_PASSWORD.") from None
        except smtplib.SMTPNotSupportedError:
            raise MailError(f"The SMTP server {where} does not support AUTH on this "
                            f"connection; it may need OSTOGETHER_SMTP_SECURITY=starttls.") from None
        except ssl.SSLError as exc:
            raise MailError(f"TLS with the SMTP server {where} failed: {exc.reason}. Check "
                            f"OSTOGETHER_SMTP_SECURITY and OSTOGETHER_SMTP_CA_FILE.") from None
        except TimeoutError:
            raise MailUnreachable(f"The SMTP server {where} did not answer within "
                                  f"{self.timeout:g} s.") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnreachable(f"Cannot connect to the SMTP server {where}: "
                                  f"{exc}.") from None
        return conn

    def send(self, message: EmailMessage) -> None:
        """One message (transactional mail, a test send): over the kept connection when
        used as a context manager, else over its own."""
        own = self._conn is None
        sender = parseaddr(str(message["From"]))[1]
        to = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a]
        try:
            self._transaction(sender, to, _signed(self.dkim_key, as_bytes(message)))
        finally:
            if own:
                self._drop(polite=True)

    def send_raw(self, envelope_from: str, to: str, data: bytes) -> None:
        """One message of a bulk send over the kept connection, sorted by outcome."""
        if self._conn is not None and self._sent_on_conn >= self.messages_per_connection:
            self._drop(polite=True)
        self._transaction(envelope_from, [to], _signed(self.dkim_key, data))

    def _transaction(self, envelope_from: str, to: list[str], data: bytes) -> None:
        if self._conn is None:
            self._conn = self.connect()
            self._sent_on_conn = 0
        conn = self._conn
        try:
            refused = sendmail(conn, envelope_from, to, data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            self._refused(code, reply)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing this connection
                self._drop(polite=False)
            self._refused(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke during the message. Before the final "250" the server
            # has not taken it, so it is tried again. Only a break between the final dot
            # and that reply can make one message arrive twice (RFC 1047).
            self._drop(polite=False)
            raise MailDeferred(f"The connection to {self.host}:{self.port} broke: "
                               f"{exc or type(exc).__name__}.") from None
        self._sent_on_conn += 1
        if refused:  # some of several recipients
            code, reply = next(iter(refused.values()))
            self._refused(code, reply)

    @staticmethod
    def _refused(code: int, reply: bytes | str) -> None:
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        text = " ".join(text.split())[:400]
        if 400 <= code < 500:
            raise MailDeferred(f"The SMTP server deferred it: {code} {text}", code)
        raise MailRejected(f"The SMTP server refused it: {code} {text}", code, text)

    def _drop(self, *, polite: bool) -> None:
        if self._conn is not None:
            if polite:
                _quit(self._conn)
            else:
                self._conn.close()
            self._conn = None

    def __enter__(self) -> SMTPTransport:
        self._conn = self.connect()
        self._sent_on_conn = 0
        return self

    def __exit__(self, *exc: object) -> None:
        self._drop(polite=True)


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def dkim_key(settings: Settings) -> DkimKey | None:
    """The configured signing key, None without DKIM; ConfigError when half set."""
    return DkimKey.load(settings.dkim_selector, settings.dkim_domain, settings.dkim_key_file,
                        settings.dkim_private_key)


_LOAD = object()


def make_transport(settings: Settings, key: DkimKey | None | object = _LOAD
                   ) -> OutboxTransport | SMTPTransport:
    """The configured transport, signing with the configured DKIM key. ``key`` passes a
    key loaded before (a send's threads share one, read once when the send begins)."""
    signing = dkim_key(settings) if key is _LOAD else key
    assert signing is None or isinstance(signing, DkimKey)
    if settings.mail_transport == "smtp":
        return SMTPTransport(settings.smtp_host, settings.smtp_port,
                             security=settings.smtp_security, username=settings.smtp_username,
                             password=settings.smtp_password, timeout=settings.smtp_timeout,
                             ca_file=settings.smtp_ca_file,
                             messages_per_connection=settings.smtp_messages_per_connection,
                             dkim_key=signing)
    return OutboxTransport(settings.outbox_path, signing)


def sendmail(conn: smtplib.SMTP, envelope_from: str, to: list[str],
              data: bytes) -> dict[str, tuple[int, bytes]]:
    """``conn.sendmail``, pipelined (RFC 2920) when the server offers it: MAIL, RCPT and
    DATA go out in one write and their replies are read after, which saves two round
    trips per message. It raises what ``sendmail`` raises, in the same cases."""
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("pipelining") or not all(
            a.isascii() for a in (envelope_from, *to)):
        return conn.sendmail(envelope_from, to, data)
    commands = [f"MAIL FROM:{quote_address(envelope_from)}",
                *(f"RCPT TO:{quote_address(r)}" for r in to), "DATA"]
    conn.send(("\r\n".join(commands) + "\r\n").encode("ascii"))
    code, reply = conn.getreply()
    if code != 250:
        if code != 421:  # the rest of the replies keep the stream in step
            for _ in range(len(to) + 1):
                conn.getreply()
            _rset(conn)
        raise smtplib.SMTPSenderRefused(code, reply, envelope_from)
    refused: dict[str, tuple[int, bytes]] = {}
    for rcpt in to:
        code, reply = conn.getreply()
        if code not in (250, 251):
            refused[rcpt] = (code, reply)
    code, reply = conn.getreply()
    if code != 354:
        _rset(conn)
        if len(refused) == len(to):
            raise smtplib.SMTPRecipientsRefused(refused)
        raise smtplib.SMTPDataError(code, reply)
    if len(refused) == len(to):  # the server asked for data nobody will get: end it
        conn.send(b".\r\n")
        conn.getreply()
        _rset(conn)
        raise smtplib.SMTPRecipientsRefused(refused)
    body = dot_stuff(data)
    if body[-2:] != b"\r\n":
        body += b"\r\n"
    conn.send(body + b".\r\n")
    code, reply = conn.getreply()
    if code != 250:
        _rset(conn)
        raise smtplib.SMTPDataError(code, reply)
    return refused


# A dot-atom address (RFC 5322 3.4.1) with nothing around it: smtplib's parse gives it
# back as it is.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


def quote_address(address: str) -> str:
    """``smtplib.quoteaddr``: ``<address>``. A plain address skips the email parser
    (4 % of a sending process's CPU, for the MAIL and the RCPT of every message)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return str(smtplib.quoteaddr(address))


_LINE_DOT = re.compile(rb"\n\.")


def dot_stuff(data: bytes) -> bytes:
    """RFC 5321 4.5.2: a line that starts with a dot gets one more, so that no line of
    the message reads as the end of DATA. What smtplib does with a multi-line regular
    expression, which was a fifth of a sending process's CPU on 22 KB messages (85 us a
    message); a regex of the two bytes themselves takes 9 us (bytes.replace 26)."""
    data = _LINE_DOT.sub(b"\n..", data)
    return b"." + data if data.startswith(b".") else data


def _rset(conn: smtplib.SMTP) -> None:
    """RSET after a refused message, as ``sendmail`` does; a server that hung up is the
    next message's problem."""
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        pass
