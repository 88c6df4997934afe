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
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core import states
from ostogether.core.errors import Conflict
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import lazy_pgettext as pgettext
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
    "news_item.submitted": pgettext("history", "Submitted by %(who)s"),
    "news_item.approved": pgettext("history", "Approved by %(who)s"),
    "news_item.rejected": pgettext("history", "Rejected by %(who)s"),
    "news_item.withdrawn": pgettext("history", "Withdrawn by %(who)s"),
    "news_item.published": pgettext("history", "Published by %(who)s"),
    "news_item.edited": pgettext("history", "Edited by %(who)s"),
    "news_item.flags": pgettext("history", "%(who)s changed where it may go"),
    "news_item.translated": pgettext("history", "Translation added by %(who)s"),
    "news_item.translation_removed": pgettext("history", "Translation removed by %(who)s"),
    "issue.composed": pgettext("history", "Composed by %(who)s"),
    "issue.edited": pgettext("history", "Edited by %(who)s"),
    "issue.texts_edited": pgettext("history", "Texts edited by %(who)s"),
    "issue.imported": pgettext("history", "Imported by %(who)s"),
    "issue.item_added": pgettext("history", "An item added by %(who)s"),
    "issue.item_dropped": pgettext("history", "An item dropped by %(who)s"),
    "issue.item_moved": pgettext("history", "An item moved by %(who)s"),
    "issue.in_review": pgettext("history", "Sent for review by %(who)s"),
    "issue.draft": pgettext("history", "Back to draft by %(who)s"),
    "issue.approved": pgettext("issue history", "Approved by %(who)s"),
    "issue.cancelled": pgettext("history", "Cancelled by %(who)s"),
    "issue.sending": pgettext("history", "Sending started by %(who)s"),
    "issue.sent": pgettext("history", "Sent to every reader by %(who)s"),
    "issue.send_started": pgettext("history", "Sending started by %(who)s"),
    "issue.send_paused": pgettext("history", "Sending paused by %(who)s"),
    "issue.send_resumed": pgettext("history", "Sending resumed by %(who)s"),
    "issue.send_cancelled": pgettext("history", "Sending cancelled by %(who)s"),
    "issue.send_recovered": pgettext("history", "Sending recovered after a stop by %(who)s"),
    "issue.send_waiting": pgettext("history", "Sending waits for the server (%(who)s)"),
    "issue.held_released": pgettext("history", "Held deliveries released by %(who)s"),
    "issue.test_sent": pgettext("history", "Test sent by %(who)s"),
    "issue.rescheduled": pgettext("history", "Send date changed by %(who)s"),
    "issue.segment_changed": pgettext("history", "Readers it goes to changed by %(who)s"),
    "project.applied": pgettext("history", "Applied to join by %(who)s"),
    "project.member": pgettext("history", "Accepted as a member by %(who)s"),
    "project.rejected": pgettext("history", "Application declined by %(who)s"),
    "project.alumni": pgettext("history", "Became alumni by %(who)s"),
    "project.imported": pgettext("history", "Imported from its file by %(who)s"),
    "project.updated": pgettext("history", "Updated by %(who)s"),
    "project.edited": pgettext("history", "Edited by %(who)s"),
    "project.contact_set": pgettext("history", "Contact address set by %(who)s"),
    "project.handles_proposed": pgettext("history", "Social handles proposed by %(who)s"),
    "project.handles_confirmed": pgettext("history", "Social handles confirmed by %(who)s"),
    "project.handles_declined": pgettext("history", "Social handles declined by %(who)s"),
    "social_post.planned": pgettext("history", "Planned by %(who)s"),
    "social_post.approved": pgettext("post history", "Approved by %(who)s"),
    "social_post.edited": pgettext("history", "Edited by %(who)s"),
    "social_post.moved": pgettext("history", "Moved by %(who)s"),
    "social_post.publish_now": pgettext("history", "Moved to now by %(who)s"),
    "social_post.publishing": pgettext("history", "Publishing by %(who)s"),
    "social_post.published": pgettext("post history", "Published by %(who)s"),
    "social_post.failed": pgettext("history", "Failed (%(who)s)"),
    "social_post.unknown": pgettext("history", "Outcome unknown (%(who)s)"),
    "social_post.skipped": pgettext("history", "Skipped by %(who)s"),
    "social_post.card_read": pgettext("history", "Link card read by %(who)s"),
    "user.created": pgettext("history", "Account created by %(who)s"),
    "user.invited": pgettext("history", "Invited by %(who)s"),
    "user.login": pgettext("history", "Logged in: %(who)s"),
    "user.password_set": pgettext("history", "Password chosen by %(who)s"),
    "user.removed": pgettext("history", "Account closed by %(who)s"),
    "user.sessions_ended": pgettext("history", "Every session ended by %(who)s"),
    "import.uploaded": pgettext("history", "Uploaded by %(who)s"),
    "import.checking": pgettext("history", "Asked to check again by %(who)s"),
    "import.checked": pgettext("history", "Checked by %(who)s"),
    "import.refused": pgettext("history", "Refused by %(who)s"),
    "import.queued": pgettext("history", "Queued to apply by %(who)s"),
    "import.running": pgettext("history", "Started by %(who)s"),
    "import.done": pgettext("history", "Applied by %(who)s"),
    "import.failed": pgettext("history", "Failed (%(who)s)"),
    "import.discarded": pgettext("history", "Discarded by %(who)s"),
    "output.submitted": pgettext("output history", "Submitted by %(who)s"),
    "output.approved": pgettext("output history", "Approved by %(who)s"),
    "output.rejected": pgettext("output history", "Rejected by %(who)s"),
    "output.withdrawn": pgettext("output history", "Withdrawn by %(who)s"),
    "output.archived": pgettext("history", "Archived by %(who)s"),
    "output.deposited": pgettext("history", "Deposited on Zenodo by %(who)s"),
    "output.zenodo_released": pgettext("history", "Released on Zenodo by %(who)s"),
    "organisation.applied": pgettext("history", "Applied to join by %(who)s"),
    "organisation.added": pgettext("history", "Added by %(who)s"),
    "organisation.member": pgettext("history", "Accepted as a member by %(who)s"),
    "organisation.rejected": pgettext("history", "Not accepted by %(who)s"),
    "organisation.edited": pgettext("history", "Edited by %(who)s"),
    "organisation.logo": pgettext("history", "Logo changed by %(who)s"),
    "organisation.merged": pgettext("history", "Merged by %(who)s"),
    "organisation.project": pgettext("history", "A project linked by %(who)s"),
    "person.applied": pgettext("history", "Applied to join by %(who)s"),
    "person.added": pgettext("history", "Added by %(who)s"),
    "person.member": pgettext("history", "Accepted as a member by %(who)s"),
    "person.rejected": pgettext("history", "Not accepted by %(who)s"),
    "person.edited": pgettext("history", "Edited by %(who)s"),
    "person.erased": pgettext("history", "Erased by %(who)s"),
    "person.linked": pgettext("history", "Linked by %(who)s"),
    "feed.discovered": pgettext("history", "Found by %(who)s"),
    "feed.paused": pgettext("history", "Paused by %(who)s"),
    "feed.resumed": pgettext("history", "Resumed by %(who)s"),
    "feed.removed": pgettext("history", "Removed by %(who)s"),
    "api_token.created": pgettext("history", "Token created by %(who)s"),
    "api_token.revoked": pgettext("history", "Token revoked by %(who)s"),
    "subscriber.confirmed": pgettext("history", "Confirmed by %(who)s"),
    "subscriber.unsubscribed": pgettext("history", "Unsubscribed by %(who)s"),
    "subscriber.bounced": pgettext("history", "Bounced (%(who)s)"),
    "subscriber.erased": pgettext("history", "Erased by %(who)s"),
    "subscriber.data_exported": pgettext("history", "Data exported by %(who)s"),
    "subscriber.erased_by_editor": pgettext("history", "Erased by %(who)s"),
}
# Actions worded by a yes/no in their data: (action, key) -> (when true, when false).
SWITCHES: dict[tuple[str, str], tuple[Any, Any]] = {
    ("feed.auto_approve", "on"): (
        pgettext("history", "Automatic approval switched on by %(who)s"),
        pgettext("history", "Automatic approval switched off by %(who)s")),
    ("issue.for_everyone", "on"): (
        pgettext("history", "An item marked for every reader by %(who)s"),
        pgettext("history", "An item no longer marked for every reader by %(who)s")),
    ("issue.same_texts", "same"): (
        pgettext("history", "The same texts for every language, chosen by %(who)s"),
        pgettext("history", "Texts per language, chosen by %(who)s")),
}
# A move back is worded by where it came from: (machine, from, to).
BACK: dict[tuple[str, str, str], Any] = {
    ("news_item", "approved", "submitted"): pgettext("history", "Back to review by %(who)s"),
    ("social_post", "approved", "planned"): pgettext("history", "Back to planned by %(who)s"),
    ("issue", "approved", "in_review"): pgettext(
        "history", "Back to review (it changed after approval) by %(who)s")}
# Who did it, as the sentences above say it after their "by" (the agent: a language that
# joins the preposition to what follows, as Italian's "dal servizio", words it here).
SYSTEM_ACTORS: dict[str, Any] = {
    "system": pgettext("agent", "the service"), "cli": pgettext("agent", "the command line"),
    "content-import": pgettext("agent", "the content import"),
    "feed-poller": pgettext("agent", "the feed"),
    "feed-discovery": pgettext("agent", "feed discovery"),
    "feed-sync": pgettext("agent", "the feeds' update"),
    "delivery": pgettext("agent", "the sender"), "bounces": pgettext("agent", "bounce handling")}
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
    """Who did it, as the agent of a history's sentence ("Greta", "the service")."""
    if entry.user_id is not None and entry.user_id in names:
        return str(pgettext("agent", "%(name)s", name=names[entry.user_id]))
    kind, _sep, rest = entry.actor.partition(":")
    if kind == "token":
        return str(pgettext("agent", "the project's API token %(name)s",
                            name=rest.split("@")[0]))
    if kind == "subscriber":
        return str(pgettext("agent", "the reader"))
    if kind == "applicant":
        return str(pgettext("agent", "the applicant"))
    found = SYSTEM_ACTORS.get(entry.actor)
    return str(found if found is not None else pgettext("agent", "%(name)s",
                                                          name=rest or entry.actor))


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
    text = (str(found) % {"who": by} if found is not None else pgettext(
        "history", "%(event)s by %(who)s", who=by,
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
