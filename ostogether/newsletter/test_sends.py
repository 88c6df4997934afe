"""Test sends: the issue as readers will get it, to editors and to up to five addresses an
editor types in (their own Gmail or Outlook, a colleague), before it goes out.

Each test is the real message (``test_message``); only the reader's own links differ, and
lead to the public pages. Typed addresses are checked as every door checks an address
(``inputs.email_problem``) and against the suppression list and readers who left: a test
send never mails someone who asked not to be mailed. Editors' own account addresses are
theirs to use. Each message counts against the sending editor's
``test_send_max_per_hour``, and every test send is audited with its addresses.

Note for tests: import the module (``from ostogether.newsletter import test_sends``), never its
functions by name, or pytest would take ``test_send`` for a test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from babel.support import LazyProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.errors import MailDeferred, MailError, MailRejected, ValidationError
from ostogether.core.inputs import email_problem, normalise_email
from ostogether.core.languages import NEWSLETTER
from ostogether.core.words import _l, _nl
from ostogether.edges import ratelimit
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.mail.message import Recipient, Rendered
from ostogether.mail.sender import issue_message, sender_of
from ostogether.mail.transactional import editor_addresses
from ostogether.mail.transports import make_transport
from ostogether.models import Issue, Subscriber, Suppression
from ostogether.newsletter.issues import get_issue, rendered, web_values
from ostogether.newsletter.wording import long_day
from ostogether.readers.subscribers import email_hash

MAX_TYPED = 5
BUCKET = "test_send"
WINDOW = 3600
# What separates typed addresses: commas, semicolons, spaces and line breaks (a list
# pasted from a mail client's To line, or one a line).
_SEPARATORS = re.compile(r"[,;\s]+")


def test_message(rt: Runtime, issue: Issue, to: str = "", language: str | None = None
                 ) -> Rendered:
    """The message readers get (those of ``language``, else the community's language),
    byte for byte but for the reader's own address and links, which are an editor's (or
    the sender's) and the public ones: for test sends and `issue preview --format eml`.
    Signed by the transport, like every message."""
    to = to or parseaddr(sender_of(rt))[1]
    values = web_values(rt, issue)
    return issue_message(rt, issue, rendered(rt, issue, language or None)).render(
        Recipient(0, to, "", values))


@dataclass
class Sent:
    """What a test send did: the addresses the mail server took, and those it refused
    (address, its reason): one refusal never stops the others."""

    to: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def typed_addresses(text: str) -> list[str]:
    """The addresses in what an editor typed, in order, each once (whatever its case)."""
    seen: dict[str, str] = {}
    for part in _SEPARATORS.split(text.strip()):
        part = part.strip().strip("<>")
        if part and part.lower() not in seen:
            seen[part.lower()] = part
    return list(seen.values())


def _never_mailed(s: Session, address: str) -> str | None:
    """Why ``address`` must not get a test: it is suppressed (erased, bounced, or
    unsubscribed or cleaned elsewhere), or its reader left or bounced. None if it may."""
    hashed = email_hash(address)
    sup = s.scalar(select(Suppression).where(Suppression.email_hash == hashed))
    if sup is not None:
        why = {"erased": _l("its owner had it erased"), "bounced": _l("mail to it bounced"),
               "unsubscribed": _l("its owner unsubscribed"),
               "cleaned": _l("it is not deliverable")}.get(sup.reason, sup.reason)
        return _l("%(address)s is on the suppression list (%(why)s on %(day)s); the service "
                  "does not mail it unless its owner signs up again", address=address,
                  why=why, day=long_day(sup.at))
    status = s.scalar(select(Subscriber.status).where(Subscriber.email_hash == hashed))
    if status == "unsubscribed":
        return _l("%(address)s belongs to a reader who unsubscribed; the service does not "
                  "send them the newsletter", address=address)
    if status == "bounced":
        return _l("%(address)s belongs to a reader who bounced; the service does not send "
                  "them the newsletter", address=address)
    return None


def _key(actor: Actor) -> str:
    return f"user:{actor.user_id}" if actor.user_id is not None else f"actor:{actor.label}"


def test_send(rt: Runtime, actor: Actor, issue_id: int, editors: Sequence[str] = (),
              typed: str | Sequence[str] = (), language: str = "") -> Sent:
    """Send the issue as it stands (or its snapshot) as readers will get it
    (``test_message``; the version of ``language``, else the community's language) to the
    ``editors`` ticked and to the addresses ``typed`` (at most ``MAX_TYPED``; a string is
    split as an editor types a list). Every problem with the
    addresses is found at once: ValidationError, with ``to`` (the editors) and ``others``
    (the typed ones) as its fields. RateLimited when the messages would pass the actor's
    ``test_send_max_per_hour``."""
    typed = typed_addresses(typed) if isinstance(typed, str) else typed_addresses(
        " ".join(typed))
    fields: dict[str, Any] = {}
    problems: list[Any] = []
    limit = rt.settings.test_send_max_per_hour
    with rt.db.session() as s:
        known = {e.lower(): e for e in editor_addresses(s)}
        ticked = sorted({e.strip().lower() for e in editors if e.strip()})
        strangers = [e for e in ticked if e not in known]
        if strangers:
            fields["to"] = _l("not an editor: %(addresses)s", addresses=", ".join(strangers))
            problems.append(_l("Not an editor: %(addresses)s; type other addresses in the box "
                               "for them.", addresses=", ".join(strangers)))
        wanted = {known[e]: None for e in ticked if e in known}
        bad: list[Any] = []
        outside = [a for a in typed if normalise_email(a) not in known]
        if len(outside) > MAX_TYPED:
            bad.append(_l("at most %(max)d addresses besides the editors'; there are "
                          "%(num)d", max=MAX_TYPED, num=len(outside)))
        for address in typed:
            if why := email_problem(address):
                bad.append(_l("%(what)s: %(detail)s", what=address, detail=why))
                continue
            normal = normalise_email(address)
            if normal in known:
                wanted.setdefault(known[normal], None)
            elif why := _never_mailed(s, normal):
                bad.append(why)
            else:
                wanted.setdefault(normal, None)
        if bad:
            fields["others"] = LazyProxy(lambda: "; ".join(map(str, bad)), enable_cache=False)
            problems += bad
        if language and language not in NEWSLETTER:
            fields["language"] = _l("choose one of %(known)s", known=", ".join(NEWSLETTER))
            problems.append(_l("There is no %(language)s version of an issue; choose one of "
                               "%(known)s.", language=language[:20],
                               known=", ".join(NEWSLETTER)))
        if not wanted and not fields:
            fields["to"] = _l("choose at least one editor or type an address")
            problems.append(_l("Choose at least one editor, or type an address."))
        if fields:
            raise ValidationError(_l("The test was not sent: %(problems)s", problems=LazyProxy(
                lambda: " ".join(p if p.endswith(".") else p + "."
                                 for p in map(str, problems)), enable_cache=False)), fields)
        if len(wanted) > limit:
            raise ValidationError(
                _l("The test was not sent: %(num)d addresses, and at most %(max)d test "
                   "messages may go in an hour (test_send_max_per_hour).", num=len(wanted),
                   max=limit),
                {"others": _l("at most %(max)d addresses in all", max=limit)})
        n = len(wanted)
        ratelimit.check_room(
            s, BUCKET, _key(actor), n, limit, WINDOW,
            _nl("The test was not sent: it takes %(num)d message, and you may send {left} "
                "more within the hour ({limit} an hour). Try again in {minutes} minute(s), "
                "or send it to fewer addresses.",
                "The test was not sent: it takes %(num)d messages, and you may send {left} "
                "more within the hour ({limit} an hour). Try again in {minutes} minute(s), "
                "or send it to fewer addresses.", n))
        issue = get_issue(s, issue_id)
        messages = [test_message(rt, issue, to, language) for to in wanted]
    done = Sent()
    try:
        with make_transport(rt.settings) as transport:
            for m in messages:
                try:
                    transport.send_raw(m.envelope_from, m.to, m.data)
                except (MailRejected, MailDeferred) as exc:  # this address, not the others
                    done.refused.append((m.to, str(exc)))
                else:
                    done.to.append(m.to)
    except MailError as exc:
        if not done.to:
            raise
        raise MailError(_l("%(error)s The test went to %(addresses)s only.", error=exc,
                           addresses=", ".join(done.to))) from None
    finally:
        # Recorded and counted once the transport took them: what went, and to whom.
        if done.to or done.refused:
            with rt.db.session() as s:
                ratelimit.hit(s, BUCKET, [_key(actor)] * len(done.to))
                record(s, actor, "issue.test_sent", get_issue(s, issue_id), to=done.to,
                       **({"refused": [a for a, _ in done.refused]} if done.refused else {}),
                       **({"language": language} if language else {}))
    return done
