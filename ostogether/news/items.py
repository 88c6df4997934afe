"""News items from member projects: validation, safe HTML, duplicates and the review flow.

All three doors (the members' form, the JSON API and the feed poller) hand an
``ItemInput`` to ``submit``; editors act through ``approve``, ``reject``, ``update`` and
``set_flags``. Validation is pure and collects every problem at once, so a form or an
API client learns everything that is wrong in one answer. An item is stored whole, in
one transaction with its audit row, or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.core.errors import Duplicate, NotFound, PermissionDenied, ValidationError
from ostogether.core.inputs import hidden_character, one_line_problem, text_problem, url_problem
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.states import KINDS, SOURCES, SUBMITTING_STATUSES
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import Vocabulary, vocabulary
from ostogether.mail.transactional import send_after_commit
from ostogether.models import NewsItem, NewsItemTranslation, Project, User, id_or_none
from ostogether.models.organisations import Organisation, OrganisationProject, Person
from ostogether.news import item_topics
from ostogether.newsletter.issues import reopen_for_item

TITLE_MAX = 200
SUMMARY_MAX = 5000
ALT_MAX = 300
LOCATION_MAX = 200
REASON_MAX = 2000


# ------------------------------------------------------------------------ pure part

@dataclass(frozen=True)
class ItemInput:
    """What a door hands over, before validation. Datetimes may be text or datetimes."""

    kind: str = "news"
    title: str = ""
    summary: str = ""
    link: str = ""
    image_url: str = ""
    image_alt: str = ""
    language: str = "en"
    sdgs: tuple[int, ...] = ()
    for_newsletter: bool = True
    for_social: bool = True
    event_start: str | dt.datetime | None = None
    event_end: str | dt.datetime | None = None
    event_timezone: str = ""
    event_location: str = ""
    event_online: bool = False
    registration_url: str = ""
    # Keys of the vocabulary (content/topics.toml); None: not given. An item given no
    # topic takes its project's themes; one given no audience is for every audience.
    topics: tuple[str, ...] | None = None
    audiences: tuple[str, ...] | None = None


@dataclass
class Problems:
    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        n = len(self.fields)
        listed = "; ".join(f"{k}: {v}" for k, v in self.fields.items())
        raise ValidationError(f"The item was not saved: {n} problem{'s' * (n != 1)}. "
                              f"{listed}", dict(self.fields))


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>?")
_MD_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]{1,31}:[^>\s]*)>")
TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$")


def dedupe_key(url: str) -> str:
    """The same link, however it was written: host case, fragment, trailing slash,
    http or https and tracking parameters do not make a link different."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING_PARAMS.match(k)))
    path = parts.path.rstrip("/") or ""
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    canonical = urlunsplit(("https", f"{(parts.hostname or '').lower()}{port}", path, query, ""))
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(title: str, summary: str) -> str:
    text = " ".join((title + "\n" + summary).casefold().split())
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any, name: str, label: str, limit: int, p: Problems, *,
           required: bool = False) -> str:
    if not isinstance(value, str):
        p.add(name, "must be text")
        return ""
    if why := one_line_problem(value.strip()):
        p.add(name, f"{label} {why}")
        return " ".join(value.split())
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not text:
        p.add(name, f"{label} is required")
    elif len(text) > limit:
        p.add(name, f"{label} has {len(text)} characters; the limit is {limit}")
    elif hidden_character(text) is not None:  # what NFC made of it, checked again
        p.add(name, f"{label} contains control or invisible characters; type it again")
    elif m := _TAG.search(text):
        p.add(name, f"{label} is plain text; remove the HTML tag {m.group(0)[:20]!r}")
    return text


def _url(value: Any, name: str, label: str, p: Problems, *, required: bool) -> str:
    if not isinstance(value, str):
        p.add(name, "must be text")
        return ""
    url = value.strip()
    if not url:
        if required:
            p.add(name, f"{label} is required")
        return ""
    if why := url_problem(url):
        p.add(name, why)
    return url


def _summary(value: Any, p: Problems) -> str:
    if not isinstance(value, str):
        p.add("summary", "must be text")
        return ""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if not text:
        p.add("summary", "a short summary is required")
    elif len(text) > SUMMARY_MAX:
        p.add("summary", f"the summary has {len(text)} characters; the limit is {SUMMARY_MAX}")
    elif (why := text_problem(text)) is not None:
        p.add("summary", f"the summary {why}")
    elif m := _TAG.search(text):
        p.add("summary", f"HTML such as {m.group(0)[:20]!r} is not allowed; write Markdown "
                         "instead: **bold**, *italic*, [text](https://example.org)")
    else:
        for target in _MD_TARGET.findall(text) + _AUTOLINK.findall(text):
            if why := url_problem(target, allow_mailto=True):
                p.add("summary", f"the link '{target[:60]}' cannot be used: {why}")
                break
    return text


def _datetime(value: Any, name: str, tz: ZoneInfo | None, p: Problems) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            p.add(name, f"'{value[:40]}' is not a date and time; write it like "
                        "2027-03-15T14:30")
            return None
    else:
        p.add(name, "must be a date and time as text, like 2027-03-15T14:30")
        return None
    if not 2000 <= when.year <= 2100:
        p.add(name, f"the year {when.year} is not plausible for an event")
        return None
    if when.tzinfo is None:
        if tz is None:
            return None  # the timezone problem is reported on its own field
        when = when.replace(tzinfo=tz)
    return when.astimezone(dt.UTC)


def _timezone(value: Any, default: str, p: Problems) -> tuple[str, ZoneInfo | None]:
    name = (value if isinstance(value, str) else "").strip() or default
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        p.add("event_timezone", f"'{name[:60]}' is not a timezone; use a name such as "
                                "Europe/Brussels")
        return name, None


def _chosen_words(data: ItemInput, vocab: Vocabulary | None, p: Problems) -> dict[str, list[str]]:
    """The topics and audiences given (the groups not given are left out), checked
    against ``vocab`` when there is one."""
    out = {}
    for name in item_topics.GROUPS:
        given, why = item_topics.keys(getattr(data, name), name)
        if why:
            p.add(name, why)
        elif given is not None and vocab is not None and (
                why := item_topics.problem(vocab, name, given)):
            p.add(name, why)
        elif given is not None:
            out[name] = item_topics.ordered(vocab, name, given) if vocab else given
    return out


def validate(data: ItemInput, *, default_timezone: str = "Europe/Brussels",
             vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The column values of a valid item, or ValidationError naming every bad field.
    Topics and audiences are checked against ``vocab`` when one is given."""
    p = Problems()
    kind = data.kind.strip().lower() if isinstance(data.kind, str) else ""
    if kind not in KINDS:
        p.add("kind", f"unknown kind '{str(data.kind)[:30]}'; use one of {', '.join(KINDS)}")
    values: dict[str, Any] = {"kind": kind}
    values["title"] = _plain(data.title, "title", "the title", TITLE_MAX, p, required=True)
    values["summary_md"] = _summary(data.summary, p)
    values["link"] = _url(data.link, "link", "the link", p, required=True)
    values["image_url"] = _url(data.image_url, "image_url", "the image address", p,
                               required=False)
    values["image_alt"] = _plain(data.image_alt, "image_alt", "the image description",
                                 ALT_MAX, p)
    if values["image_url"] and not values["image_alt"] and "image_alt" not in p.fields:
        p.add("image_alt", "describe the image for people who cannot see it")
    if values["image_alt"] and not values["image_url"] and "image_url" not in p.fields:
        values["image_alt"] = ""
    lang = data.language.strip().lower() if isinstance(data.language, str) else ""
    if len(lang) != 2 or pycountry.languages.get(alpha_2=lang) is None:
        p.add("language", f"'{str(data.language)[:20]}' is not a two-letter language code "
                          "such as en, fr or de")
    values["language"] = lang
    sdgs = data.sdgs
    if not isinstance(sdgs, list | tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 17 for n in sdgs):
        p.add("sdgs", "give the goals as numbers from 1 to 17")
        sdgs = ()
    values["sdgs"] = sorted(set(sdgs))
    for flag in ("for_newsletter", "for_social", "event_online"):
        v = getattr(data, flag)
        if not isinstance(v, bool):
            p.add(flag, "must be true or false")
        values[flag] = bool(v) if isinstance(v, bool) else False
    values.update(_chosen_words(data, vocab, p))

    values.update(event_start=None, event_end=None, event_timezone="", event_location="",
                  event_online=False, registration_url="")
    if kind == "event":
        tz_name, tz = _timezone(data.event_timezone, default_timezone, p)
        start = _datetime(data.event_start, "event_start", tz, p)
        end = _datetime(data.event_end, "event_end", tz, p)
        # A start given without a usable timezone is the timezone's problem alone.
        given = data.event_start not in (None, "")
        if start is None and "event_start" not in p.fields and not (given and tz is None):
            p.add("event_start", "an event needs a start date and time")
        if start and end and end < start:
            p.add("event_end", "the event ends before it starts")
        location = _plain(data.event_location, "event_location", "the location",
                          LOCATION_MAX, p)
        online = data.event_online is True
        if not location and not online and "event_location" not in p.fields:
            p.add("event_location", "give the place, or mark the event as online")
        registration = _url(data.registration_url, "registration_url",
                            "the registration link", p, required=False)
        values.update(event_start=start, event_end=end, event_timezone=tz_name,
                      event_location=location, event_online=online,
                      registration_url=registration or values["link"])
    p.raise_if_any()
    values["summary_html"] = markdown_to_html(values["summary_md"])
    return values


# ------------------------------------------------------------------------- services

def submitting_project(s: Session, project_id: int) -> Project:
    """The project, if it may send news (and so hold API tokens)."""
    project = s.get(Project, project_id)
    if project is None:
        raise NotFound(f"There is no project {project_id}.")
    if project.status not in SUBMITTING_STATUSES:
        raise PermissionDenied(f"{project.acronym} is {project.status}; only member and "
                               "alumni projects can submit news.")
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
        raise PermissionDenied("Your account cannot send news for this project: only its "
                               "members, and people of its member organisations, can.")
    return submitting_project(s, project_id)


def project_of_item(s: Session, item_id: int, user_id: int) -> int:
    """The project of an item this account may see and change (one of its
    ``submitting_projects``); NotFound otherwise, as for an item that does not exist."""
    item = get_item(s, item_id)
    if item.project_id not in {p.id for p in submitting_projects(s, user_id)}:
        raise NotFound(f"There is no item {item_id}.")
    return item.project_id


def find_duplicate(s: Session, project_id: int, link: str) -> NewsItem | None:
    return s.scalar(select(NewsItem).where(NewsItem.project_id == project_id,
                                           NewsItem.dedupe_key == dedupe_key(link)))


def _duplicate(existing: NewsItem) -> Duplicate:
    return Duplicate(f"This link was already submitted as item {existing.id} "
                     f"(\"{existing.title[:80]}\", {existing.status}).", existing.id)


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
        raise NotFound(f"There is no item {item_id}.")
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
        raise ValidationError("Give the submitter a reason for the rejection.",
                              {"reason": "a reason is required to reject"})
    if len(reason) > REASON_MAX:
        raise ValidationError(f"The reason has {len(reason)} characters; the limit is "
                              f"{REASON_MAX}.", {"reason": "too long"})
    return reason


def decide(rt: Runtime, actor: Actor, item_id: int, action: str,
           reason: str = "") -> Decided:
    """Approve or reject one item (``action``: approve | reject; a rejection needs a
    reason), in its own transaction, then tell the submitter."""
    if action not in ("approve", "reject"):
        raise ValidationError(f"'{action}' is not a decision: approve or reject.")
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
            raise PermissionDenied(f"Item {item_id} is {item.status} and can no longer be "
                                   "edited." + (" Send a new item instead." if project_id
                                                is not None else ""))
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
