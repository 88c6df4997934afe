"""The editors' review queue beyond one decision: deciding many items at once with one
reason, sending an approved item back to review, and what a member changed when sending
a rejected item again. One decision on one item is ``news.decide``.

Imports the news service and the models; the web and CLI faces call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.errors import Conflict, NotFound, ValidationError
from ostogether.core.states import NETWORK_NAMES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor, transition
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, IssueItem, NewsItem, SocialPost
from ostogether.news import items as news
from ostogether.newsletter.issues import reopen_for_item


@dataclass(frozen=True)
class BulkOutcome:
    """What a decision on many items did: each decided item, and each item that could
    not be decided with the reason (one item's problem never stops the others)."""

    decided: list[news.Decided]
    refused: list[tuple[int, str]]


BULK_MAX = 200


def decide_many(rt: Runtime, actor: Actor, item_ids: list[int], action: str,
                reason: str = "") -> BulkOutcome:
    """The same decision (and, to reject, the same reason) on each item, one item at a
    time: an item decided meanwhile by another editor is reported, not fatal."""
    if action == "reject":
        news.check_reason(reason)
    if not item_ids:
        raise ValidationError(_l("Tick at least one item first."),
                              {"items": _l("none ticked")})
    if len(item_ids) > BULK_MAX:
        raise ValidationError(_l("%(num)d items were ticked; decide at most %(limit)d at a "
                                 "time.", num=len(item_ids), limit=BULK_MAX),
                              {"items": _l("too many")})
    decided, refused = [], []
    for item_id in dict.fromkeys(item_ids):
        try:
            decided.append(news.decide(rt, actor, item_id, action, reason))
        except (Conflict, NotFound) as exc:
            refused.append((item_id, str(exc)))
    return BulkOutcome(decided, refused)


def back_to_review(rt: Runtime, actor: Actor, item_id: int, reason: str = "") -> NewsItem:
    """An approved item goes back to the queue, as long as no reader has it yet: not in
    an issue that is sending or sent, nor in a social post that is (or may be) live.
    Approved issues that carry it go back to review; its approved social posts go back
    to planned, to be approved again with the item."""
    with rt.db.session() as s:
        item = news.get_item(s, item_id)
        if item.status != "approved":
            raise Conflict(_l("Item %(id)d is %(state)s; only an approved item can go back "
                              "to review.", id=item_id,
                              state=news.STATE_WORDS.get(item.status, item.status)))
        out = s.scalar(select(Issue.number).join(IssueItem).where(
            IssueItem.item_id == item_id, Issue.status.in_(("sending", "sent"))))
        if out is not None:
            raise Conflict(_l("Item %(id)d went out in issue %(number)s; it can no longer go "
                              "back to review.", id=item_id, number=out))
        live = s.scalar(select(SocialPost.network).where(
            SocialPost.item_id == item_id,
            SocialPost.status.in_(("publishing", "published", "unknown"))))
        if live is not None:
            raise Conflict(_l("Item %(id)d is posted on %(network)s; it can no longer go "
                              "back to review.", id=item_id,
                              network=NETWORK_NAMES.get(live, live)))
        transition(s, actor, item, "news_item", "submitted",
                   reason=reason.strip()[:news.REASON_MAX])
        item.reviewed_at = item.reviewed_by_id = None
        reopen_for_item(s, actor, item.id, "an item in it went back to review")
        for post in s.scalars(select(SocialPost).where(SocialPost.item_id == item_id,
                                                       SocialPost.status == "approved")):
            transition(s, actor, post, "social_post", "planned",
                       reason="its item went back to review")
        s.refresh(item, ["project"])
    return item


# What a member can change before sending a rejected item again, as the editors see it.
COMPARED = (("title", _l("Title")), ("summary_md", _l("Summary")), ("link", _l("Link")),
            ("kind", _l("Kind")), ("image_url", _l("Image")),
            ("image_alt", _l("Image description")), ("language", _l("Language")),
            ("event_start", _l("Start")), ("event_end", _l("End")),
            ("event_timezone", _l("Timezone")), ("event_location", _l("Place")),
            ("registration_url", _l("Registration link")))


@dataclass(frozen=True)
class Resubmission:
    """An item sent again after a rejection: the rejected one, and what changed."""

    previous: NewsItem
    changes: list[tuple[Any, str, str]]  # (label: lazy, worded when shown; before, after)


def resubmission(s: Session, item: NewsItem) -> Resubmission | None:
    """What an editor needs to review a corrected item: the earlier rejection and every
    field the member changed."""
    if item.resubmits_id is None:
        return None
    previous = s.get(NewsItem, item.resubmits_id)
    if previous is None:
        return None
    changes = [(label, str(getattr(previous, name) or ""), str(getattr(item, name) or ""))
               for name, label in COMPARED
               if getattr(previous, name) != getattr(item, name)]
    return Resubmission(previous, changes)
