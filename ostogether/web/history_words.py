"""A news item's history as its member project reads it: ``edges.audit.story`` in the
page's language. Each event is one whole sentence ("Approved by %(who)s"), so that every
language can put the words in its own order; an event this list does not know is worded
as every history words it (``audit.words``, in the page's language too)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ostogether.edges import audit
from ostogether.edges.audit import Line
from ostogether.models import AuditEntry, NewsItem

EVENTS = {
    "news_item.submitted": _l("Submitted by %(who)s"),
    "news_item.approved": _l("Approved by %(who)s"),
    "news_item.rejected": _l("Rejected by %(who)s"),
    "news_item.withdrawn": _l("Withdrawn by %(who)s"),
    "news_item.published": _l("Published by %(who)s"),
    "news_item.edited": _l("Changed by %(who)s"),
    "news_item.flags": _l("%(who)s changed where it may go"),
    "news_item.translated": _l("Translation added by %(who)s"),
    "news_item.translation_removed": _l("Translation removed by %(who)s"),
    "back": _l("Sent back for review by %(who)s"),
}
SYSTEM = {"system": _l("the service"), "cli": _l("the command line"),
          "content-import": _l("the content import"), "feed-poller": _l("the project's feed"),
          "feed-discovery": _l("feed discovery")}
# The fields an edit names, as "Saved: title, language." does (web/members.py).
FIELDS = audit.FIELD_WORDS["news_items"]


def field_names(changed: list[str]) -> list[str]:
    """Changed fields by their names in the page's language, each once."""
    names = [str(FIELDS[c]) if c in FIELDS else c.replace("_", " ") for c in changed]
    return list(dict.fromkeys(names))


def who(entry: AuditEntry, names: dict[int, str]) -> str:
    kind, _sep, rest = entry.actor.partition(":")
    if (entry.user_id is None or entry.user_id not in names) and kind == "token":
        return _("the project's API token %(name)s", name=rest.split("@")[0])
    if entry.user_id is None and entry.actor in SYSTEM:
        return str(SYSTEM[entry.actor])
    if entry.user_id is not None and entry.user_id in names:
        return names[entry.user_id]
    return rest or entry.actor


def line(entry: AuditEntry, names: dict[int, str], zone: ZoneInfo) -> Line:
    english = audit.words(entry, names, zone)
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    key = "back" if (entry.action == "news_item.submitted" and detail.get("from")
                     == "approved") else entry.action
    sentence = EVENTS.get(key)
    if sentence is None:
        return english
    extra = english.detail
    if isinstance(detail.get("changed"), list):
        extra = ", ".join(field_names([str(f) for f in detail["changed"]]))
    elif isinstance(detail.get("languages"), list):
        extra = ", ".join(str(code) for code in detail["languages"])
    elif entry.action == "news_item.translation_removed":
        extra = str(detail.get("language", ""))
    return Line(english.at, str(sentence) % {"who": who(entry, names)}, extra)


def item_story(session: Any, item: NewsItem, zone: ZoneInfo) -> list[Line]:
    """The history of ``item`` in the page's language, oldest first."""
    return audit.story(session, item, zone, wording=line)
