"""The audit log and guarded state changes.

``transition`` is the only way a stateful object changes state: it checks the move
against ``ostogether.core.states`` and writes the audit row in the same transaction, so a
state change without its audit row cannot be committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core import states
from ostogether.core.errors import Conflict
from ostogether.models import AuditEntry, User


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user, or a named system part (cli, content-import, worker)."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(label=f"{user.role}:{user.email}", user_id=user.id)


SYSTEM = Actor("system")  # the worker
CLI = Actor("cli")  # whoever runs the ostogether command


def record(session: Session, actor: Actor, action: str, obj: Any,
           **detail: Any) -> AuditEntry:
    entry = AuditEntry(actor=actor.label, user_id=actor.user_id, action=action,
                       object_type=type(obj).__tablename__, object_id=str(obj.id),
                       detail=detail)
    session.add(entry)
    return entry


def transition(session: Session, actor: Actor, obj: Any, machine: str, target: str,
               **detail: Any) -> None:
    current = obj.status
    if not states.allowed(machine, current, target):
        raise Conflict(f"This {machine.replace('_', ' ')} is {current}; "
                       f"it cannot become {target}.")
    obj.status = target
    session.flush()
    record(session, actor, f"{machine}.{target}", obj, **{"from": current, **detail})


def history(session: Session, obj: Any) -> list[AuditEntry]:
    """Every audit row about ``obj``, oldest first."""
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == type(obj).__tablename__,
        AuditEntry.object_id == str(obj.id)).order_by(AuditEntry.at, AuditEntry.id)))


def recent(session: Session, limit: int = 15) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(
        AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))


# What each audited action reads as in a history, for people rather than for logs.
WORDS = {
    "news_item.submitted": "Submitted", "news_item.approved": "Approved",
    "news_item.rejected": "Rejected", "news_item.withdrawn": "Withdrawn by its sender",
    "news_item.published": "Published", "news_item.edited": "Edited",
    "news_item.flags": "Changed where it may go",
    "issue.composed": "Composed", "issue.edited": "Edited", "issue.imported": "Imported",
    "issue.item_added": "Added an item", "issue.item_dropped": "Dropped an item",
    "issue.item_moved": "Moved an item", "issue.in_review": "Sent for review",
    "issue.draft": "Back to draft", "issue.approved": "Approved",
    "issue.cancelled": "Cancelled", "issue.sending": "Sending started",
    "issue.sent": "Sent to every reader", "issue.send_started": "Sending started",
    "issue.send_paused": "Sending paused", "issue.send_resumed": "Sending resumed",
    "issue.send_cancelled": "Sending cancelled", "issue.send_recovered":
    "Sending recovered after a stop", "issue.send_waiting": "Sending waits for the server",
    "issue.held_released": "Held deliveries released", "issue.test_sent": "Test sent",
    "issue.rescheduled": "Send date changed",
    "project.applied": "Applied to join", "project.member": "Accepted as a member",
    "project.rejected": "Application declined", "project.alumni": "Became alumni",
    "project.imported": "Imported from its file", "project.updated": "Updated",
    "project.contact_set": "Contact address set",
    "project.handles_proposed": "Social handles proposed",
    "project.handles_confirmed": "Social handles confirmed",
    "project.handles_declined": "Social handles declined",
    "social_post.planned": "Planned", "social_post.approved": "Approved",
    "social_post.edited": "Edited", "social_post.moved": "Moved",
    "social_post.publishing": "Publishing", "social_post.published": "Published",
    "social_post.failed": "Failed", "social_post.unknown": "Outcome unknown",
    "social_post.skipped": "Skipped",
    "social_post.card_read": "Link card read",
    "user.removed": "Account closed", "user.sessions_ended": "Every session ended",
    "import.uploaded": "Uploaded", "import.checking": "Asked to check again",
    "import.checked": "Checked", "import.refused": "Refused", "import.queued": "Queued to apply",
    "import.done": "Applied", "import.failed": "Failed", "import.discarded": "Discarded",
}
# A move back is worded by where it came from: (machine, from, to).
BACK = {("news_item", "approved", "submitted"): "Back to review",
        ("social_post", "approved", "planned"): "Back to planned",
        ("issue", "approved", "in_review"): "Back to review (it changed after approval)"}
SYSTEM_ACTORS = {"system": "the service", "cli": "the command line",
                 "content-import": "the content import", "feed-poller": "the feed",
                 "feed-discovery": "feed discovery", "delivery": "the sender",
                 "bounces": "bounce handling"}
FIELD_KEYS = ("changed", "fields")


@dataclass(frozen=True)
class Line:
    """One event of a history as people read it: "Approved by Greta", when, and the
    reason or the fields it changed."""

    at: dt.datetime  # in the community's zone
    text: str
    detail: str = ""


def who(entry: AuditEntry, names: dict[int, str]) -> str:
    if entry.user_id is not None and entry.user_id in names:
        return names[entry.user_id]
    kind, _, rest = entry.actor.partition(":")
    if kind == "token":
        return f"the project's API token {rest.split('@')[0]}"
    if kind == "subscriber":
        return "the reader"
    if kind == "applicant":
        return "the applicant"
    return SYSTEM_ACTORS.get(entry.actor, rest or entry.actor)


def words(entry: AuditEntry, names: dict[int, str], zone: ZoneInfo) -> Line:
    """``entry`` in words: pure, given the names of the users it mentions."""
    machine, _, target = entry.action.partition(".")
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    done = BACK.get((machine, str(detail.get("from", "")), target)) or WORDS.get(
        entry.action, entry.action.replace("_", " ").replace(".", ": "))
    extra = str(detail.get("reason") or "")
    for key in FIELD_KEYS:
        if isinstance(detail.get(key), list):
            extra = ", ".join(str(f).replace("_", " ") for f in detail[key])
    if entry.action == "issue.test_sent" and isinstance(detail.get("to"), list):
        extra = "to " + ", ".join(str(a) for a in detail["to"])
    elif entry.action == "issue.rescheduled":
        extra = " → ".join(_local(str(detail.get(k, "")), zone) for k in ("from", "to"))
    return Line(entry.at.astimezone(zone), f"{done} by {who(entry, names)}", extra)


def _local(iso: str, zone: ZoneInfo) -> str:
    """A stored UTC time as the history shows times: "15 Jan 2027 10:00 CET"."""
    try:
        when = dt.datetime.fromisoformat(iso).astimezone(zone)
    except ValueError:
        return iso
    return f"{when:%-d %b %Y %H:%M} {when.tzname()}"


def story(session: Session, obj: Any, zone: ZoneInfo,
          wording: Callable[[AuditEntry, dict[int, str], ZoneInfo], Line] | None = None
          ) -> list[Line]:
    """The history of ``obj`` in words, oldest first, times in the community's zone;
    ``wording`` words each entry instead of ``words`` (a page in another language)."""
    entries = history(session, obj)
    ids = {e.user_id for e in entries if e.user_id is not None}
    names = {u.id: u.name or u.email for u in session.scalars(
        select(User).where(User.id.in_(ids)))} if ids else {}
    return [(wording or words)(e, names, zone) for e in entries]
