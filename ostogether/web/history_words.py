"""A news item's history as its member project reads it: ``edges.audit.story`` in the
page's language. Each event is one whole sentence ("Approved by %(who)s"), so that every
language can put the words in its own order; an event this list does not know is worded
as every history words it (``audit.words``, in the page's language too)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ostogether.core.words import lazy_pgettext as pgettext
from ostogether.edges import audit
from ostogether.edges.audit import Line
from ostogether.models import AuditEntry, NewsItem

# In the "member history" context: the sentences an editor's history says otherwise
# ("Edited", "Back to review"), with who did it as ``audit.who`` says it (the agent).
EVENTS = {
    "news_item.submitted": pgettext("member history", "Submitted by %(who)s"),
    "news_item.approved": pgettext("member history", "Approved by %(who)s"),
    "news_item.rejected": pgettext("member history", "Rejected by %(who)s"),
    "news_item.withdrawn": pgettext("member history", "Withdrawn by %(who)s"),
    "news_item.published": pgettext("member history", "Published by %(who)s"),
    "news_item.edited": pgettext("member history", "Changed by %(who)s"),
    "news_item.flags": pgettext("member history", "%(who)s changed where it may go"),
    "news_item.translated": pgettext("member history", "Translation added by %(who)s"),
    "news_item.translation_removed": pgettext("member history",
                                              "Translation removed by %(who)s"),
    "back": pgettext("member history", "Sent back for review by %(who)s"),
}
# A member reads the poller as its own project's feed.
PROJECT_FEED = pgettext("agent", "the project's feed")
# The fields an edit names, as "Saved: title, language." does (web/members.py).
FIELDS = audit.FIELD_WORDS["news_items"]


def field_names(changed: list[str]) -> list[str]:
    """Changed fields by their names in the page's language, each once."""
    names = [str(FIELDS[c]) if c in FIELDS else c.replace("_", " ") for c in changed]
    return list(dict.fromkeys(names))


def who(entry: AuditEntry, names: dict[int, str]) -> str:
    if entry.user_id is None and entry.actor == "feed-poller":
        return str(PROJECT_FEED)
    return audit.who(entry, names)


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
