"""Test sends: the issue as readers will get it, to an editor before it goes out.

Moved out of ``newsletter`` (which keeps the issue's life) as it stands. Note for tests:
import the module (``from ostogether import test_sends``), never its functions by name,
or pytest would take ``test_send`` for a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr

from ostogether.audit import Actor, record
from ostogether.errors import ValidationError
from ostogether.mail.message import Recipient, Rendered
from ostogether.mail.sender import issue_message, sender_of
from ostogether.mail.transports import make_transport
from ostogether.models import Issue
from ostogether.newsletter import editor_addresses, get_issue, rendered, web_values
from ostogether.runtime import Runtime


def test_message(rt: Runtime, issue: Issue, to: str = "") -> Rendered:
    """The message readers get, byte for byte but for the reader's own address and links,
    which are an editor's (or the sender's) and the public ones: for test sends and
    `issue preview --format eml`. Signed by the transport, like every message."""
    to = to or parseaddr(sender_of(rt))[1]
    values = web_values(rt, issue)
    return issue_message(rt, issue, rendered(rt, issue)).render(Recipient(0, to, "", values))


def test_send(rt: Runtime, actor: Actor, issue_id: int, recipients: Sequence[str]) -> int:
    """Send the issue as it stands (or its snapshot) to editors, as readers will get it
    (``test_message``). Only editors' own addresses are accepted, so this cannot mail
    anybody else."""
    wanted = sorted({r.strip().lower() for r in recipients if r.strip()})
    if not wanted:
        raise ValidationError("Choose at least one editor to send the test to.",
                              {"recipients": "required"})
    with rt.db.session() as s:
        editors = {e.lower(): e for e in editor_addresses(s)}
        strangers = [r for r in wanted if r not in editors]
        if strangers:
            raise ValidationError(
                f"Test sends go to editors only; not an editor: {', '.join(strangers)}.",
                {"recipients": "editors only"})
        issue = get_issue(s, issue_id)
        messages = [test_message(rt, issue, editors[to]) for to in wanted]
    with make_transport(rt.settings) as transport:
        for m in messages:
            transport.send_raw(m.envelope_from, m.to, m.data)
    with rt.db.session() as s:  # recorded once the transport took them all
        record(s, actor, "issue.test_sent", get_issue(s, issue_id), to=wanted)
    return len(wanted)
