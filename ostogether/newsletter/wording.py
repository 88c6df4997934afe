"""How the newsletter's states and stored notes read for an editor, in the page's language.

The database keeps the states' keys (``in_review``, ``paused``) and the send's note as
written in English (``issue.send_note``: "Paused by Ana."); they are worded here when
shown, so that no translation is ever stored and notes written before still read in
every language. A note this module does not know is shown as it was written.
"""

from __future__ import annotations

import re
from typing import Any

from babel.support import LazyProxy

from ostogether.core.words import _l
from ostogether.edges.wording import N_, day, joined, reword

# An issue's state as a sentence says it ("Issue #12 is in review; …").
ISSUE_STATES = {"draft": _l("draft"), "in_review": _l("in review"),
                "approved": _l("approved"), "sending": _l("sending"), "sent": _l("sent"),
                "cancelled": _l("cancelled")}

# Where a send stands (``issue.send_state``).
SEND_STATES = {"running": _l("running"), "paused": _l("paused"), "waiting": _l("waiting"),
               "cancelled": _l("cancelled"), "done": _l("done")}

# A reader's row of the ledger (``deliveries.status``), as the send's counts name it.
LEDGER_STATES = {"queued": _l("queued"), "sending": _l("sending"), "held": _l("held"),
                 "sent": _l("sent"), "bounced": _l("bounced"), "failed": _l("failed"),
                 "cancelled": _l("cancelled")}


def issue_state(status: str) -> Any:
    return ISSUE_STATES.get(status, status.replace("_", " "))


def send_state(state: str) -> Any:
    return SEND_STATES.get(state, state)


def ledger_state(status: str) -> Any:
    return LEDGER_STATES.get(status, status)


# The notes the delivery writes (``delivery.py``), kept in English (``wording.say``).
PAUSED = N_("Paused by %(who)s.")
CANCELLED = N_("Cancelled by %(who)s.")
WAITING = N_("%(why)s The send goes on by itself after %(seconds)s s, or when resumed.")


def send_note(note: str) -> Any:
    """A stored note in the page's language; one it does not know, as it is."""
    return LazyProxy(lambda: reword(note), enable_cache=False)


long_day = day  # "6 December 2026" in the page's language


# The fields a refusal names, by the words of the form.
FIELD_NAMES = {"subject": _l("subject"), "preheader": _l("preheader"),
               "intro_md": _l("editorial")}


def listed(fields: dict[str, Any] | list[tuple[Any, Any]]) -> Any:
    """"subject: a subject is required; editorial: …": each field (by its name, or the
    name given) and its problem, as a refusal lists them, when shown."""
    pairs = list(fields.items()) if isinstance(fields, dict) else fields
    return joined("; ", [_l("%(field)s: %(problem)s",
                            field=FIELD_NAMES.get(k, k) if isinstance(k, str) else k,
                            problem=v) for k, v in pairs])


# Why composing left an item out, as ``core.compose`` writes it (kept with the issue).
_NO_SECTION = re.compile(r"no section takes the kind '(?P<kind>.*)'", re.S)
_FULL = re.compile(r"'(?P<section>.*)' is full \((?P<num>\d+) items\)", re.S)
_PER_PROJECT = re.compile(r"its project already has (?P<num>\d+) items in this issue")


def left_out_reason(why: str) -> Any:
    """A stored reason in the page's language; one it does not know, as it is."""
    if why == "the event is over before the issue goes out":
        return _l("the event is over before the issue goes out")
    if m := _NO_SECTION.fullmatch(why):
        return _l("no section takes the kind '%(kind)s'", kind=m["kind"])
    if m := _FULL.fullmatch(why):
        return _l("'%(section)s' is full (%(num)s items)", section=m["section"], num=m["num"])
    if m := _PER_PROJECT.fullmatch(why):
        return _l("its project already has %(num)s items in this issue", num=m["num"])
    return why
