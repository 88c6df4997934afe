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

from babel import Locale
from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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


# What each audited action reads as in a history, for people rather than for logs: one
# whole sentence per action, in the page's language when it is shown (flask_babel's
# lazy strings; English outside a request). The stored rows keep their codes.
WORDS: dict[str, Any] = {
    "news_item.submitted": _l("Submitted by %(who)s"),
    "news_item.approved": _l("Approved by %(who)s"),
    "news_item.rejected": _l("Rejected by %(who)s"),
    "news_item.withdrawn": _l("Withdrawn by %(who)s"),
    "news_item.published": _l("Published by %(who)s"),
    "news_item.edited": _l("Edited by %(who)s"),
    "news_item.flags": _l("%(who)s changed where it may go"),
    "news_item.translated": _l("Translation added by %(who)s"),
    "news_item.translation_removed": _l("Translation removed by %(who)s"),
    "issue.composed": _l("Composed by %(who)s"), "issue.edited": _l("Edited by %(who)s"),
    "issue.texts_edited": _l("Texts edited by %(who)s"),
    "issue.imported": _l("Imported by %(who)s"),
    "issue.item_added": _l("An item added by %(who)s"),
    "issue.item_dropped": _l("An item dropped by %(who)s"),
    "issue.item_moved": _l("An item moved by %(who)s"),
    "issue.in_review": _l("Sent for review by %(who)s"),
    "issue.draft": _l("Back to draft by %(who)s"),
    "issue.approved": _l("Approved by %(who)s"), "issue.cancelled": _l("Cancelled by %(who)s"),
    "issue.sending": _l("Sending started by %(who)s"),
    "issue.sent": _l("Sent to every reader by %(who)s"),
    "issue.send_started": _l("Sending started by %(who)s"),
    "issue.send_paused": _l("Sending paused by %(who)s"),
    "issue.send_resumed": _l("Sending resumed by %(who)s"),
    "issue.send_cancelled": _l("Sending cancelled by %(who)s"),
    "issue.send_recovered": _l("Sending recovered after a stop by %(who)s"),
    "issue.send_waiting": _l("Sending waits for the server (%(who)s)"),
    "issue.held_released": _l("Held deliveries released by %(who)s"),
    "issue.test_sent": _l("Test sent by %(who)s"),
    "issue.rescheduled": _l("Send date changed by %(who)s"),
    "issue.segment_changed": _l("Readers it goes to changed by %(who)s"),
    "project.applied": _l("Applied to join by %(who)s"),
    "project.member": _l("Accepted as a member by %(who)s"),
    "project.rejected": _l("Application declined by %(who)s"),
    "project.alumni": _l("Became alumni by %(who)s"),
    "project.imported": _l("Imported from its file by %(who)s"),
    "project.updated": _l("Updated by %(who)s"), "project.edited": _l("Edited by %(who)s"),
    "project.contact_set": _l("Contact address set by %(who)s"),
    "project.handles_proposed": _l("Social handles proposed by %(who)s"),
    "project.handles_confirmed": _l("Social handles confirmed by %(who)s"),
    "project.handles_declined": _l("Social handles declined by %(who)s"),
    "social_post.planned": _l("Planned by %(who)s"),
    "social_post.approved": _l("Approved by %(who)s"),
    "social_post.edited": _l("Edited by %(who)s"), "social_post.moved": _l("Moved by %(who)s"),
    "social_post.publish_now": _l("Moved to now by %(who)s"),
    "social_post.publishing": _l("Publishing by %(who)s"),
    "social_post.published": _l("Published by %(who)s"),
    "social_post.failed": _l("Failed (%(who)s)"),
    "social_post.unknown": _l("Outcome unknown (%(who)s)"),
    "social_post.skipped": _l("Skipped by %(who)s"),
    "social_post.card_read": _l("Link card read by %(who)s"),
    "user.created": _l("Account created by %(who)s"),
    "user.invited": _l("Invited by %(who)s"), "user.login": _l("Logged in: %(who)s"),
    "user.password_set": _l("Password chosen by %(who)s"),
    "user.removed": _l("Account closed by %(who)s"),
    "user.sessions_ended": _l("Every session ended by %(who)s"),
    "import.uploaded": _l("Uploaded by %(who)s"),
    "import.checking": _l("Asked to check again by %(who)s"),
    "import.checked": _l("Checked by %(who)s"), "import.refused": _l("Refused by %(who)s"),
    "import.queued": _l("Queued to apply by %(who)s"),
    "import.running": _l("Started by %(who)s"), "import.done": _l("Applied by %(who)s"),
    "import.failed": _l("Failed (%(who)s)"), "import.discarded": _l("Discarded by %(who)s"),
    "output.submitted": _l("Submitted by %(who)s"),
    "output.approved": _l("Approved by %(who)s"), "output.rejected": _l("Rejected by %(who)s"),
    "output.withdrawn": _l("Withdrawn by %(who)s"),
    "output.archived": _l("Archived by %(who)s"),
    "output.deposited": _l("Deposited on Zenodo by %(who)s"),
    "output.zenodo_released": _l("Released on Zenodo by %(who)s"),
    "organisation.applied": _l("Applied to join by %(who)s"),
    "organisation.added": _l("Added by %(who)s"),
    "organisation.member": _l("Accepted as a member by %(who)s"),
    "organisation.rejected": _l("Not accepted by %(who)s"),
    "organisation.edited": _l("Edited by %(who)s"),
    "organisation.logo": _l("Logo changed by %(who)s"),
    "organisation.merged": _l("Merged by %(who)s"),
    "organisation.project": _l("A project linked by %(who)s"),
    "person.applied": _l("Applied to join by %(who)s"), "person.added": _l("Added by %(who)s"),
    "person.member": _l("Accepted as a member by %(who)s"),
    "person.rejected": _l("Not accepted by %(who)s"),
    "person.edited": _l("Edited by %(who)s"), "person.erased": _l("Erased by %(who)s"),
    "person.linked": _l("Linked by %(who)s"),
    "feed.discovered": _l("Found by %(who)s"), "feed.paused": _l("Paused by %(who)s"),
    "feed.resumed": _l("Resumed by %(who)s"), "feed.removed": _l("Removed by %(who)s"),
    "api_token.created": _l("Token created by %(who)s"),
    "api_token.revoked": _l("Token revoked by %(who)s"),
    "subscriber.confirmed": _l("Confirmed by %(who)s"),
    "subscriber.unsubscribed": _l("Unsubscribed by %(who)s"),
    "subscriber.bounced": _l("Bounced (%(who)s)"),
    "subscriber.erased": _l("Erased by %(who)s"),
    "subscriber.data_exported": _l("Data exported by %(who)s"),
    "subscriber.erased_by_editor": _l("Erased by %(who)s"),
}
# Actions worded by a yes/no in their data: (action, key) -> (when true, when false).
SWITCHES: dict[tuple[str, str], tuple[Any, Any]] = {
    ("feed.auto_approve", "on"): (
        _l("Automatic approval switched on by %(who)s"),
        _l("Automatic approval switched off by %(who)s")),
    ("issue.for_everyone", "on"): (
        _l("An item marked for every reader by %(who)s"),
        _l("An item no longer marked for every reader by %(who)s")),
    ("issue.same_texts", "same"): (
        _l("The same texts for every language, chosen by %(who)s"),
        _l("Texts per language, chosen by %(who)s")),
}
# A move back is worded by where it came from: (machine, from, to).
BACK: dict[tuple[str, str, str], Any] = {
    ("news_item", "approved", "submitted"): _l("Back to review by %(who)s"),
    ("social_post", "approved", "planned"): _l("Back to planned by %(who)s"),
    ("issue", "approved", "in_review"): _l(
        "Back to review (it changed after approval) by %(who)s")}
SYSTEM_ACTORS: dict[str, Any] = {
    "system": _l("the service"), "cli": _l("the command line"),
    "content-import": _l("the content import"), "feed-poller": _l("the feed"),
    "feed-discovery": _l("feed discovery"), "feed-sync": _l("the feeds' update"),
    "delivery": _l("the sender"), "bounces": _l("bounce handling")}
# Reasons the service itself writes (stored in English, as a record), worded when shown.
REASONS: dict[str, Any] = {
    "edited after approval": _l("edited after approval"),
    "its item went back to review": _l("its item went back to review"),
    "the project's feed address was cleared": _l("the project's feed address was cleared"),
    "stale": _l("no answer from the network in time"),
    "logout": _l("logged out"),
}
# The fields an edit names, by the table of the object (others: the key in words).
FIELD_WORDS: dict[str, dict[str, Any]] = {
    "news_items": {
        "kind": _l("kind"), "title": _l("title"), "summary_md": _l("summary"),
        "summary_html": _l("summary"), "link": _l("link"), "image_url": _l("picture"),
        "image_alt": _l("image description"), "language": _l("language"),
        "sdgs": _l("goals"), "for_newsletter": _l("suggestion for the newsletter"),
        "for_social": _l("suggestion for social media"), "event_start": _l("start"),
        "event_end": _l("end"), "event_timezone": _l("timezone"),
        "event_location": _l("place"), "event_online": _l("online"),
        "registration_url": _l("registration link")},
    "issues": {"subject": _l("subject"), "preheader": _l("preheader"),
               "intro_md": _l("editorial")},
    "projects": {
        "acronym": _l("acronym"), "name": _l("full name"),
        "description": _l("short description"), "initiative_type": _l("initiative type"),
        "themes": _l("themes"), "sdgs": _l("SDGs"), "countries": _l("countries"),
        "programme": _l("funding programme"), "call": _l("call"),
        "grant_number": _l("grant agreement number"), "start_date": _l("start date"),
        "end_date": _l("end date"), "coordinator": _l("coordinator"),
        "website": _l("website"), "feed_url": _l("feed URL"),
        "feeds": _l("feed in another language"), "contact_email": _l("contact email"),
        "contact_name": _l("contact name"), "handles": _l("social handles"),
        "logo": _l("logo"), "notes": _l("notes")},
    "organisations": {
        "name": _l("name"), "type": _l("type"), "country": _l("country"),
        "city": _l("city"), "website": _l("website"), "latitude": _l("latitude"),
        "longitude": _l("longitude"), "description": _l("description"),
        "visibility": _l("visibility")},
}
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
    kind, _sep, rest = entry.actor.partition(":")
    if kind == "token":
        return _("the project's API token %(name)s", name=rest.split("@")[0])
    if kind == "subscriber":
        return _("the reader")
    if kind == "applicant":
        return _("the applicant")
    found = SYSTEM_ACTORS.get(entry.actor)
    return str(found) if found is not None else (rest or entry.actor)


def sentence(entry: AuditEntry) -> Any:
    """The whole sentence (with ``%(who)s``) that words ``entry``, or None."""
    machine, _sep, target = entry.action.partition(".")
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    back = BACK.get((machine, str(detail.get("from", "")), target))
    if back is not None:
        return back
    for (action, key), (yes, no) in SWITCHES.items():
        if entry.action == action:
            return yes if detail.get(key) else no
    return WORDS.get(entry.action)


def field_words(entry: AuditEntry, keys: list[Any]) -> str:
    """The fields an edit changed, by their names in the page's language, each once."""
    known = FIELD_WORDS.get(entry.object_type, {})
    names = [str(known[k]) if k in known else str(k).replace("_", " ") for k in keys]
    return ", ".join(dict.fromkeys(names))


def words(entry: AuditEntry, names: dict[int, str], zone: ZoneInfo) -> Line:
    """``entry`` in words, in the page's language (English outside a request): pure,
    given the names of the users it mentions."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    by = who(entry, names)
    found = sentence(entry)
    text = (str(found) % {"who": by} if found is not None else _(
        "%(event)s by %(who)s", who=by,
        event=entry.action.replace("_", " ").replace(".", ": ")))
    reason = str(detail.get("reason") or "")
    extra = str(REASONS[reason]) if reason in REASONS else reason
    for key in FIELD_KEYS:
        if isinstance(detail.get(key), list):
            extra = field_words(entry, detail[key])
    if entry.action == "issue.test_sent" and isinstance(detail.get("to"), list):
        extra = _("to %(addresses)s", addresses=", ".join(str(a) for a in detail["to"]))
    elif entry.action == "issue.rescheduled":
        extra = " → ".join(_local(str(detail.get(k, "")), zone) for k in ("from", "to"))
    return Line(entry.at.astimezone(zone), text, extra)


def _local(iso: str, zone: ZoneInfo) -> str:
    """A stored UTC time as the history shows times: "15 Jan 2027 10:00 CET", the month
    in the page's language."""
    try:
        when = dt.datetime.fromisoformat(iso).astimezone(zone)
    except ValueError:
        return iso
    locale = get_locale() or Locale("en")
    pattern = "d. MMM y HH:mm" if locale.language == "de" else "d MMM y HH:mm"
    return f"{format_datetime(when, pattern, locale=locale)} {when.tzname()}"


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
