"""Building MIME messages. Header values are checked here, so no input can inject headers."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from ostogether.errors import MailError
from ostogether.models import utcnow


def _clean(value: str, what: str) -> str:
    if "\r" in value or "\n" in value:
        raise MailError(f"The {what} contains a line break, which is not allowed in a mail "
                        f"header.")
    return value


def address(name: str, email: str) -> str:
    _clean(name, "name")
    _clean(email, "address")
    local, _, domain = email.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def build(*, sender: str, to: str, subject: str, text: str, html: str | None = None,
          reply_to: str = "", headers: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _clean(sender, "sender")
    msg["To"] = _clean(to, "recipient")
    msg["Subject"] = _clean(subject, "subject")
    if reply_to:
        msg["Reply-To"] = _clean(reply_to, "Reply-To")
    msg["Date"] = format_datetime(utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    for key, value in (headers or {}).items():
        msg[_clean(key, "header name")] = _clean(value, key)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg
