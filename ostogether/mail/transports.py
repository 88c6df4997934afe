"""Mail transports: one small interface, two implementations.

* ``OutboxTransport`` is the embedded default: each message becomes an ``.eml`` file in
  a maildir under var/outbox/, so a laptop install never sends real mail.
* ``SMTPTransport`` speaks SMTP with smtplib: plain, STARTTLS or implicit TLS, optional
  AUTH, and an explicit timeout on every step. Used as a context manager it keeps one
  connection open across messages, which the bulk sender builds on.

Every failure becomes a ``MailError`` whose message says what went wrong and what to check.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol

from ostogether.errors import MailError
from ostogether.settings import Settings


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message over, or raise MailError."""

    def __enter__(self) -> Transport: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class OutboxTransport:
    """Writes each message into a maildir (new/ holds one .eml file per message)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.parent.mkdir(parents=True, exist_ok=True)
            box = mailbox.Maildir(self.folder, create=True)
            box.add(mailbox.MaildirMessage(message))
        except OSError as exc:
            raise MailError(f"Cannot write to the outbox {self.folder}: {exc.strerror}. "
                            f"Check OSTOGETHER_OUTBOX_DIR.") from None

    def messages(self) -> list[EmailMessage]:
        """Every message in the outbox, oldest first."""
        import email
        import email.policy

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
                 ca_file: str = "") -> None:
        if security not in ("none", "starttls", "tls"):
            raise MailError(f"Unknown SMTP security '{security}': use none, starttls or tls.")
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.ca_file = ca_file
        self._conn: smtplib.SMTP | None = None

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
            raise MailError(f"The SMTP server {where} did not answer within "
                            f"{self.timeout:g} s.") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"Cannot connect to the SMTP server {where}: {exc}.") from None
        return conn

    def send(self, message: EmailMessage) -> None:
        own = self._conn is None
        conn = self._conn or self.connect()
        try:
            refused = conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"The SMTP server refused every recipient: "
                            f"{', '.join(exc.recipients)}.") from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            raise MailError(f"The SMTP server answered {exc.smtp_code}: {text}.") from None
        except (OSError, smtplib.SMTPException) as exc:
            self._conn = None
            raise MailError(f"Sending to {self.host}:{self.port} failed: {exc}.") from None
        finally:
            if own:
                _quit(conn)
        if refused:
            raise MailError(f"The SMTP server refused: {', '.join(refused)}.")

    def __enter__(self) -> SMTPTransport:
        self._conn = self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            _quit(self._conn)
            self._conn = None


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def make_transport(settings: Settings) -> OutboxTransport | SMTPTransport:
    if settings.mail_transport == "smtp":
        return SMTPTransport(settings.smtp_host, settings.smtp_port,
                             security=settings.smtp_security, username=settings.smtp_username,
                             password=settings.smtp_password, timeout=settings.smtp_timeout,
                             ca_file=settings.smtp_ca_file)
    return OutboxTransport(settings.outbox_path)
