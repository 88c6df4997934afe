"""Bounce processing: delivery status notifications (RFC 3464) from a bounce mailbox.

Every issue message leaves with the envelope sender ``bounces+<token>@domain``, so a
bounce comes back to that address and names its delivery. The token is signed
(``message.verp_token``), so a forged bounce cannot mark someone else's row. When a
server rewrote the address, the token is also in the original Message-ID, which most
DSNs quote in their third part.

* ``Action: failed`` with a 5.x.x status is a hard bounce: the delivery becomes
  ``bounced`` and counts against the reader (``subscribers.hard_bounce``: suppressed after
  ``bounce_hard_limit`` of them, or at once for "no such user").
* ``delayed`` or a 4.x.x status is soft: counted in the report, nothing changes.
* A plain mail to the token address whose subject says "unsubscribe" is the mailto: of
  List-Unsubscribe: the reader is unsubscribed.

Processing the same mail twice changes nothing: a delivery is bounced once.
"""

from __future__ import annotations

import email
import logging
import mailbox
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from sqlalchemy.orm import Session

from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.message import delivery_from_token
from ostogether.models import Delivery, Subscriber
from ostogether.readers import subscribers

log = logging.getLogger(__name__)
ADDRESS_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To",
                   "Return-Path")


@dataclass(frozen=True)
class Notice:
    """One recipient's status in one DSN."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # 5.1.1
    diagnostic: str

    @property
    def hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5")


@dataclass
class Summary:
    """What one run over a mailbox found."""

    read: int = 0
    hard: int = 0
    soft: int = 0
    suppressed: int = 0
    unsubscribed: int = 0
    repeated: int = 0  # bounces of deliveries already marked bounced
    unmatched: int = 0  # no valid token: not ours, or forged
    other: int = 0  # neither a DSN nor an unsubscribe request
    details: list[str] = field(default_factory=list)


def notices(msg: Message) -> list[Notice]:
    """The per-recipient blocks of a ``multipart/report; report-type=delivery-status``."""
    out = []
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status",
                                           "message/global-delivery-status"):
            continue
        payload = part.get_payload()
        blocks: list[Message] = [b for b in payload if isinstance(b, Message)] if isinstance(
            payload, list) else []
        if not blocks:  # some MTAs send the fields as plain text
            raw = part.get_payload(decode=True)
            text = raw if isinstance(raw, bytes) else b""
            blocks = [email.message_from_bytes(chunk.strip() + b"\n")
                      for chunk in text.replace(b"\r\n", b"\n").split(b"\n\n") if chunk.strip()]
        for block in blocks:  # the first block is about the message: no recipient
            recipient = str(block.get("Final-Recipient", "") or block.get(
                "Original-Recipient", ""))
            if not recipient:
                continue
            status = str(block.get("Status", "")).split()
            out.append(Notice(
                recipient=recipient.split(";", 1)[-1].strip().strip("<>"),
                action=str(block.get("Action", "")).strip().lower(),
                status=status[0] if status else "",
                diagnostic=" ".join(str(block.get("Diagnostic-Code", "")).split())[:300]))
    return out


def _token_delivery(secret: str, msg: Message) -> int | None:
    for name in ADDRESS_HEADERS:
        for value in msg.get_all(name, []):
            found = delivery_from_token(secret, str(value))
            if found:
                return found
    # The original message, quoted in the DSN: our Message-ID carries the token too.
    for part in msg.walk():
        if part.get_content_type() in ("text/rfc822-headers", "message/rfc822",
                                       "message/global-headers"):
            raw = part.as_bytes() if part.get_content_type() == "message/rfc822" else (
                part.get_payload(decode=True))
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            found = delivery_from_token(secret, text)
            if found:
                return found
    return None


def _handle(s: Session, rt: Runtime, secret: str, msg: Message, summary: Summary) -> None:
    summary.read += 1
    delivery_id = _token_delivery(secret, msg)
    found = notices(msg)
    subject = str(msg.get("Subject", "")).lower()
    if delivery_id is None:
        summary.unmatched += 1
        return
    row = s.get(Delivery, delivery_id)
    if row is None:
        summary.unmatched += 1
        return
    if not found:
        if "unsubscribe" in subject:
            sub = s.get(Subscriber, row.subscriber_id)
            if sub is not None and sub.status == "confirmed":
                subscribers.unsubscribe_reader(s, rt, sub, subscribers.Request("mailto"))
                summary.unsubscribed += 1
            return
        summary.other += 1
        return
    hard = [n for n in found if n.hard]
    if not hard:
        summary.soft += 1
        return
    if row.status == "bounced":
        summary.repeated += 1
        return
    notice = hard[0]
    summary.hard += 1
    if row.status == "sent":
        row.status = "bounced"
        row.last_error = f"DSN {notice.status} {notice.diagnostic}"[:500]
    if subscribers.hard_bounce(s, rt, row.subscriber_id, notice.status, notice.diagnostic):
        summary.suppressed += 1
    summary.details.append(f"delivery {delivery_id}: {notice.status} {notice.diagnostic}")


def _open(kind: str, path: Path) -> mailbox.Mailbox:
    if kind == "maildir":
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise ValidationError(f"{path} is not a maildir (it has no cur/ or new/ folder).",
                                  {"path": "not a maildir"})
        return mailbox.Maildir(path, factory=None, create=False)
    if not path.is_file():
        raise ValidationError(f"{path} is not an mbox file.", {"path": "not a file"})
    return mailbox.mbox(path, create=False)


def process(rt: Runtime, kind: str, path: Path) -> Summary:
    """Read every message of a maildir or mbox and act on the bounces. In a maildir, each
    message read is marked seen (moved to cur/ with flag S) and skipped next time."""
    box = _open(kind, path)
    secret = secret_key(rt.settings)
    summary = Summary()
    try:
        box.lock()
    except (mailbox.ExternalClashError, OSError):
        raise ValidationError(f"{path} is locked by another program; try again.",
                              {"path": "locked"}) from None
    try:
        for key in box.iterkeys():
            msg = box.get_message(key)  # a MaildirMessage or mboxMessage: parsed once
            if isinstance(msg, mailbox.MaildirMessage) and "S" in msg.get_flags():
                continue
            with rt.db.session() as s:  # one mail, one transaction
                _handle(s, rt, secret, msg, summary)
            if isinstance(msg, mailbox.MaildirMessage):
                msg.set_subdir("cur")
                msg.add_flag("S")
                box[key] = msg
    finally:
        box.unlock()
        box.close()
    log.info("bounces processed from %s: %s", path, summary)
    return summary
