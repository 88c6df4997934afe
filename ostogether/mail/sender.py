"""The SMTP side of a send: the issue as a message, and the threads that mail it.

``ostogether.newsletter.delivery`` claims ledger rows and hands each reader to a thread here as
a ``Job``; the thread renders the reader's copy, sends it over its own connection and
answers with an ``Outcome``. Nothing here touches the database.
"""

from __future__ import annotations

import logging
import queue
import re
from dataclasses import dataclass
from email.utils import parseaddr

from ostogether.core.errors import MailDeferred, MailError, MailRejected
from ostogether.edges.render import RenderedIssue, placeholder_key
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.message import DkimKey, IssueMessage, Recipient, address
from ostogether.mail.transports import make_transport
from ostogether.models import Issue

log = logging.getLogger(__name__)


@dataclass
class Job:
    delivery_id: int
    subscriber_id: int
    attempts: int
    recipient: Recipient
    # The version this reader gets (their language's); None: the send's one message.
    message: IssueMessage | None = None
    items: str | None = None  # the items of the issue in it, for ``deliveries.items``


@dataclass
class Outcome:
    job: Job
    kind: str  # sent, deferred, rejected, invalid, unreachable, requeue
    message_id: str = ""
    error: str = ""
    status: str = ""


def enhanced(text: str) -> str:
    """The RFC 3463 status (``5.1.1``) in an SMTP reply, if it has one."""
    m = re.search(r"\b([245]\.[0-9]{1,3}\.[0-9]{1,3})\b", text, re.ASCII)
    return m.group(1) if m else ""


def sender_of(rt: Runtime) -> str:
    """The From of every mail: ``mail_from``, else the community's sender."""
    site = rt.community.site()
    return rt.settings.mail_from or address(site.sender_name, site.sender_email)


def issue_message(rt: Runtime, issue: Issue, rendered: RenderedIssue | None = None
                  ) -> IssueMessage:
    """The approved snapshot (or ``rendered``, for a test send of an issue not approved
    yet) as a message to be addressed to each reader."""
    site = rt.community.site()
    st = rt.settings
    sender = sender_of(rt)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    out = rendered or RenderedIssue(issue.snapshot_subject, issue.snapshot_preheader,
                                    issue.snapshot_html, issue.snapshot_text)
    return IssueMessage(
        sender=sender, reply_to=st.mail_reply_to or site.contact_email,
        subject=out.subject, html=out.html, text=out.text,
        placeholder_key=placeholder_key(secret_key(st), issue.id),
        list_id=st.list_id or f"{site.short_name} newsletter <newsletter.{domain}>",
        bounce_address=st.bounce_address or f"bounces@{domain}", secret=secret_key(st))


def sender_thread(rt: Runtime, message: IssueMessage, jobs: queue.Queue[Job | None],
                  outcomes: queue.Queue[Outcome], key: DkimKey | None = None) -> None:
    """``key``: the DKIM key, read once when the send began (a broken key stops the send
    there, not in every thread)."""
    transport = make_transport(rt.settings, key)
    try:
        while (job := jobs.get()) is not None:
            try:
                out = (job.message or message).render(job.recipient)
            except MailError as exc:  # e.g. a line break in a name: never sendable
                outcomes.put(Outcome(job, "invalid", error=str(exc)))
                continue
            try:
                transport.send_raw(out.envelope_from, out.to, out.data)
                outcomes.put(Outcome(job, "sent", message_id=out.message_id))
            except MailDeferred as exc:
                outcomes.put(Outcome(job, "deferred", error=str(exc)))
            except MailRejected as exc:
                outcomes.put(Outcome(job, "rejected", error=str(exc),
                                     status=enhanced(exc.reply)))
            except MailError as exc:  # unreachable, refused login, bad TLS: nothing can go
                outcomes.put(Outcome(job, "unreachable", error=str(exc)))
            except Exception as exc:  # a bug must not lose the row: it is tried again
                log.exception("delivery %d: unexpected error", job.delivery_id)
                outcomes.put(Outcome(job, "deferred", error=f"internal error: {exc!r}"))
    finally:
        try:
            transport.__exit__(None, None, None)
        except MailError:
            pass
