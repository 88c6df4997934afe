"""News items from member projects: validation, safe HTML, duplicates and the review flow.

All three doors (the members' form, the JSON API and the feed poller) hand an
``ItemInput`` to ``submit``; editors act through ``approve``, ``reject``, ``update`` and
``set_flags``. Validation is pure and collects every problem at once, so a form or an
API client learns everything that is wrong in one answer. An item is stored whole, in
one transaction with its audit row, or not at all. The pure validation is
``news.validation``; its names are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.core.errors import Duplicate, NotFound, PermissionDenied, ValidationError
from ostogether.core.states import SOURCES, STATUS_LABELS, SUBMITTING_STATUSES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import Vocabulary, vocabulary
from ostogether.mail.transactional import send_after_commit
from ostogether.models import NewsItem, NewsItemTranslation, Project, User, id_or_none
from ostogether.models.organisations import Organisation, OrganisationProject, Person
from ostogether.news import item_topics
from ostogether.news.validation import ALT_MAX as ALT_MAX
from ostogether.news.validation import LOCATION_MAX as LOCATION_MAX
from ostogether.news.validation import SUMMARY_MAX as SUMMARY_MAX
from ostogether.news.validation import TITLE_MAX as TITLE_MAX
from ostogether.news.validation import ItemInput as ItemInput
from ostogether.news.validation import Problems as Problems
from ostogether.news.validation import content_hash as content_hash
from ostogether.news.validation import dedupe_key as dedupe_key
from ostogether.news.validation import validate as validate
from ostogether.newsletter.issues import reopen_for_item

REASON_MAX = 2000
# An item's state as a word in a sentence, in the reader's language (the codes stay).
STATE_WORDS = {"submitted": _l("submitted"), "approved": _l("approved"),
               "rejected": _l("rejected"), "withdrawn": _l("withdrawn"),
               "published": _l("published")}


# ------------------------------------------------------------------------- services

def submitting_project(s: Session, project_id: int) -> Project:
    """The project, if it may send news (and so hold API tokens)."""
    project = s.get(Project, project_id)
    if project is None:
        raise NotFound(_l("There is no project %(id)s.", id=project_id))
    if project.status not in SUBMITTING_STATUSES:
        raise PermissionDenied(_l("%(project)s is %(state)s; only member and alumni projects "
                                  "can submit news.", project=project.acronym,
                                  state=STATUS_LABELS.get(project.status, project.status)))
    return project


def submitting_projects(s: Session, user_id: int) -> list[Project]:
    """The projects an account may send news for: its own project (``users.project_id``)
    and, when the account is linked to a member person (``Person.user_id``) of a member
    organisation, every member or alumni project that organisation took part in. The one
    place that decides who may submit for which project; own project first."""
    user = s.get(User, user_id)
    if user is None or not user.active or user.role != "member":
        return []
    found: list[Project] = []
    if user.project_id is not None and (own := s.get(Project, user.project_id)):
        found.append(own)
    rows = s.scalars(select(Project).join(
        OrganisationProject, OrganisationProject.project_id == Project.id).join(
        Organisation, Organisation.id == OrganisationProject.organisation_id).join(
        Person, Person.organisation_id == Organisation.id).where(
        Person.user_id == user.id, Person.status == "member",
        Organisation.status == "member", Project.status.in_(SUBMITTING_STATUSES))
        .order_by(Project.acronym))
    found += [p for p in rows if p not in found]
    return found


def may_submit(s: Session, user_id: int, project_id: int) -> Project:
    """The project, if this account may send news for it (``submitting_projects``) and
    the project may send news at all; PermissionDenied otherwise."""
    if project_id not in {p.id for p in submitting_projects(s, user_id)}:
        raise PermissionDenied(_l("Your account cannot send news for this project: only "
                                  "its members, and people of its member organisations, "
                                  "can."))
    return submitting_project(s, project_id)


def project_of_item(s: Session, item_id: int, user_id: int) -> int:
    """The project of an item this account may see and change (one of its
    ``submitting_projects``); NotFound otherwise, as for an item that does not exist."""
    item = get_item(s, item_id)
    if item.project_id not in {p.id for p in submitting_projects(s, user_id)}:
        raise NotFound(_l("There is no item %(id)s.", id=item_id))
    return item.project_id


def find_duplicate(s: Session, project_id: int, link: str) -> NewsItem | None:
    return s.scalar(select(NewsItem).where(NewsItem.project_id == project_id,
                                           NewsItem.dedupe_key == dedupe_key(link)))


def _duplicate(existing: NewsItem) -> Duplicate:
    return Duplicate(_l('This link was already submitted as item %(id)d ("%(title)s", '
                        '%(state)s).', id=existing.id, title=existing.title[:80],
                        state=STATE_WORDS.get(existing.status, existing.status)),
                     existing.id)


def store(s: Session, actor: Actor, project_id: int, values: dict[str, Any], *,
          source: str, vocab: Vocabulary, auto_approve: bool = False,
          **origin: Any) -> NewsItem:
    """Insert an already validated item with its audit row; every door ends here.

    ``origin`` names where it came from (submitted_by_id, token_id or feed_entry_id).
    An item given no topic takes its project's themes that are topics of ``vocab``.
    A trusted feed's item is approved at once. The unique index on the link raises
    IntegrityError for a duplicate that a caller did not catch first.
    """
    if source not in SOURCES:
        raise ValueError(source)
    values = {"audiences": [], **values}
    if not values.get("topics"):
        project = s.get(Project, project_id)
        values["topics"] = item_topics.defaults(vocab, project.themes if project else [])
    key = dedupe_key(values["link"])
    rejected = [i for i in s.scalars(select(NewsItem).where(
        NewsItem.project_id == project_id, NewsItem.status == "rejected").order_by(
        NewsItem.id.desc())) if dedupe_key(i.link) == key]
    item = NewsItem(project_id=project_id, source=source, status="submitted",
                    dedupe_key=key,
                    content_hash=content_hash(values["title"], values["summary_md"]),
                    resubmits_id=rejected[0].id if rejected else None, **origin, **values)
    s.add(item)
    s.flush()
    record(s, actor, "news_item.submitted", item, source=source, kind=item.kind,
           **({"resubmits": item.resubmits_id} if item.resubmits_id else {}))
    if auto_approve:
        transition(s, actor, item, "news_item", "approved", auto=True)
        item.reviewed_at = clock.now()
    return item


def submit(rt: Runtime, actor: Actor, project_id: int, data: ItemInput, *, source: str,
           user_id: int | None = None, token_id: int | None = None,
           translations: Sequence[dict[str, Any]] = ()) -> NewsItem:
    """Validate and store a new item from the form or the API, with its ``translations``
    (validated by ``news.translations``).

    Raises ValidationError, Duplicate or PermissionDenied; nothing is stored then.
    """
    vocab = vocabulary(rt.community)
    values = validate(data, default_timezone=rt.community.schedule().timezone, vocab=vocab)
    with rt.db.session() as s:
        if user_id is not None and token_id is None:
            may_submit(s, user_id, project_id)  # a person at the form
        else:
            submitting_project(s, project_id)
        existing = find_duplicate(s, project_id, values["link"])
        if existing is not None:
            raise _duplicate(existing)
        try:
            item = store(s, actor, project_id, values, source=source, vocab=vocab,
                         submitted_by_id=user_id, token_id=token_id)
            item.translations.extend(NewsItemTranslation(source=source, **t)
                                     for t in translations)
            s.flush()
        except IntegrityError:
            # Another request stored the same link between our check and our insert.
            s.rollback()
            winner = find_duplicate(s, project_id, values["link"])
            if winner is None:
                raise
            raise _duplicate(winner) from None
        s.refresh(item, ["project", "translations"])
    return item


@dataclass(frozen=True)
class ItemFilters:
    status: str = ""
    project_id: int | None = None
    project_ids: tuple[int, ...] | None = None  # any of these (a person's projects)
    project_slug: str = ""  # an unknown slug matches nothing
    kind: str = ""
    source: str = ""
    language: str = ""
    max_age_days: int | None = None
    text: str = ""  # every word in the title, summary or link, in any case


def _words(text: str) -> list[str]:
    """The search words, with LIKE's wildcards taken literally."""
    return [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            for w in text.split()[:8]]


def list_items(s: Session, filters: ItemFilters = ItemFilters(), *, limit: int = 500,
               offset: int = 0, oldest_first: bool | None = None,
               ) -> tuple[list[NewsItem], int]:
    """A page of matching items and the total. By default the queue of submitted items
    is oldest first (first come, first reviewed) and everything else newest first."""
    conds = []
    if filters.status:
        conds.append(NewsItem.status == filters.status)
    if filters.project_id is not None:
        conds.append(NewsItem.project_id == filters.project_id)
    if filters.project_ids is not None:
        conds.append(NewsItem.project_id.in_(filters.project_ids))
    if filters.project_slug:
        conds.append(NewsItem.project_id.in_(
            select(Project.id).where(Project.slug == filters.project_slug)))
    if filters.kind:
        conds.append(NewsItem.kind == filters.kind)
    if filters.source:
        conds.append(NewsItem.source == filters.source)
    if filters.language:
        conds.append(NewsItem.language == filters.language)
    if filters.max_age_days is not None:
        conds.append(NewsItem.created_at >= clock.now() - dt.timedelta(days=filters.max_age_days))
    for word in _words(filters.text):
        conds.append(or_(*(func.lower(column).like(f"%{word.lower()}%", escape="\\")
                           for column in (NewsItem.title, NewsItem.summary_md,
                                          NewsItem.link))))
    total = s.scalar(select(func.count()).select_from(NewsItem).where(*conds)) or 0
    if oldest_first is None:
        oldest_first = filters.status == "submitted"
    order = ((NewsItem.created_at.asc(), NewsItem.id.asc()) if oldest_first
             else (NewsItem.created_at.desc(), NewsItem.id.desc()))
    # The project is loaded with the page: every face shows its acronym.
    rows = s.scalars(select(NewsItem).options(selectinload(NewsItem.project),
                                                   selectinload(NewsItem.translations))
                     .where(*conds).order_by(*order)
                     .limit(limit).offset(offset))
    return list(rows), total


def languages_in_use(s: Session) -> list[str]:
    """The languages items are written in, for the queue's filter."""
    return sorted(s.scalars(select(NewsItem.language).distinct()))


def recent_for_project(s: Session, project_id: int, limit: int = 5) -> list[NewsItem]:
    """The project's latest news the editors let out (approved or published), newest
    first: what its public page shows."""
    return list(s.scalars(select(NewsItem).where(
        NewsItem.project_id == project_id,
        NewsItem.status.in_(("approved", "published")))
        .order_by(NewsItem.created_at.desc(), NewsItem.id.desc()).limit(limit)))


def get_item(s: Session, item_id: int, *, project_id: int | None = None) -> NewsItem:
    """The item; with ``project_id``, only if it belongs to that project (else NotFound)."""
    item = s.get(NewsItem, item_id) if id_or_none(item_id) else None
    if item is None or (project_id is not None and item.project_id != project_id):
        raise NotFound(_l("There is no item %(id)s.", id=item_id))
    return item


def counts_by_status(s: Session) -> dict[str, int]:
    return dict(s.execute(select(NewsItem.status, func.count())
                          .group_by(NewsItem.status)).all())


def withdraw(rt: Runtime, actor: Actor, item_id: int, *, project_id: int) -> NewsItem:
    """The submitter takes back an item that nobody has reviewed yet."""
    with rt.db.session() as s:
        item = get_item(s, item_id, project_id=project_id)
        transition(s, actor, item, "news_item", "withdrawn")
        item.dedupe_key = None  # the link may be sent again
    return item


@dataclass(frozen=True)
class Decided:
    """An editor's decision on an item, and who was really told of it (the addresses a
    mail went out to: none when nobody could be told or the mail failed)."""

    item: NewsItem
    told: list[str]


def approve(rt: Runtime, actor: Actor, item_id: int) -> NewsItem:
    return decide(rt, actor, item_id, "approve").item


def reject(rt: Runtime, actor: Actor, item_id: int, reason: str) -> NewsItem:
    return decide(rt, actor, item_id, "reject", reason).item


def check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(_l("Give the submitter a reason for the rejection."),
                              {"reason": _l("a reason is required to reject")})
    if len(reason) > REASON_MAX:
        raise ValidationError(_l("The reason has %(num)d characters; the limit is "
                                 "%(limit)d.", num=len(reason), limit=REASON_MAX),
                              {"reason": _l("too long")})
    return reason


def decide(rt: Runtime, actor: Actor, item_id: int, action: str,
           reason: str = "") -> Decided:
    """Approve or reject one item (``action``: approve | reject; a rejection needs a
    reason), in its own transaction, then tell the submitter."""
    if action not in ("approve", "reject"):
        raise ValidationError(_l("'%(action)s' is not a decision: approve or reject.",
                                 action=action))
    reason = check_reason(reason) if action == "reject" else ""
    with rt.db.session() as s:
        item = get_item(s, item_id)
        if action == "approve":
            transition(s, actor, item, "news_item", "approved")
        else:
            transition(s, actor, item, "news_item", "rejected", reason=reason)
            _reopen_issues(s, actor, item.id, "an item in it was rejected")
            item.reject_reason = reason
            item.dedupe_key = None  # corrected, the link may be sent again
        item.reviewed_at, item.reviewed_by_id = clock.now(), actor.user_id
        recipients = who_hears(s, item)
        s.refresh(item, ["project"])
    template = "item_approved" if action == "approve" else "item_rejected"
    return Decided(item, _tell(rt, template, recipients, item))


EDITABLE_STATUSES = ("submitted", "approved")


def update(rt: Runtime, actor: Actor, item_id: int, data: ItemInput, *,
           project_id: int | None = None) -> list[str]:
    """An edit by an editor, or by a member of ``project_id`` while the item still waits
    for review. Returns the names of the fields that changed (audited)."""
    vocab = vocabulary(rt.community)
    values = validate(data, default_timezone=rt.community.schedule().timezone, vocab=vocab)
    with rt.db.session() as s:
        item = get_item(s, item_id, project_id=project_id)
        if "topics" in values and not values["topics"]:  # none ticked: the project's themes
            values["topics"] = item_topics.defaults(vocab, item.project.themes)
        allowed = EDITABLE_STATUSES if project_id is None else ("submitted",)
        if item.status not in allowed:
            raise PermissionDenied(
                _l("Item %(id)d is %(state)s and can no longer be edited. Send a new item "
                   "instead.", id=item_id, state=STATE_WORDS.get(item.status, item.status))
                if project_id is not None else
                _l("Item %(id)d is %(state)s and can no longer be edited.", id=item_id,
                   state=STATE_WORDS.get(item.status, item.status)))
        if dedupe_key(values["link"]) != item.dedupe_key:
            other = find_duplicate(s, item.project_id, values["link"])
            if other is not None and other.id != item.id:
                raise _duplicate(other)
            item.dedupe_key = dedupe_key(values["link"])
        changed = [k for k, v in values.items() if getattr(item, k) != v]
        if changed:
            for k in changed:
                setattr(item, k, values[k])
            item.content_hash = content_hash(item.title, item.summary_md)
            s.flush()
            record(s, actor, "news_item.edited", item, changed=changed)
            _reopen_issues(s, actor, item.id, "an item in it was edited")
    return changed


def set_flags(rt: Runtime, actor: Actor, item_id: int, *, for_newsletter: bool,
              for_social: bool) -> NewsItem:
    with rt.db.session() as s:
        item = get_item(s, item_id)
        before = {"for_newsletter": item.for_newsletter, "for_social": item.for_social}
        after = {"for_newsletter": for_newsletter, "for_social": for_social}
        if before != after:
            item.for_newsletter, item.for_social = for_newsletter, for_social
            s.flush()
            record(s, actor, "news_item.flags", item, before=before, after=after)
    return item


def _reopen_issues(s: Session, actor: Actor, item_id: int, why: str) -> None:
    # An approved issue must not go out with an item that changed after its approval.
    reopen_for_item(s, actor, item_id, why)


def who_hears(s: Session, item: NewsItem) -> list[str]:
    """Who is told of a decision on ``item``: the member who sent it through the form;
    for an API item (or a sender whose account is gone), the project's member accounts;
    with none, the project's contact address. Never the editor who made an API token: the
    news is the project's. A feed's entries were not sent by anyone: only the project's
    contact address hears of them (members see them in their list). Empty when nobody
    can be told."""
    contact = [item.project.contact_email] if item.project.contact_email else []
    if item.source == "feed":
        return contact
    sender = item.submitted_by
    if sender is not None and sender.active and sender.role == "member":
        return [sender.email]
    members = sorted(s.scalars(select(User.email).where(
        User.project_id == item.project_id, User.role == "member", User.active.is_(True))))
    return members or contact


def _tell(rt: Runtime, template: str, recipients: list[str], item: NewsItem) -> list[str]:
    """Mail each recipient; the addresses the mail really went out to."""
    if not recipients:
        send_after_commit(rt, template, "", item=item, project=item.project)
    return [to for to in recipients if send_after_commit(  # in the project's language
        rt, template, to, item=item, project=item.project, language=item.project.language)]
