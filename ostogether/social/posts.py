"""The social calendar's services: plan a week, review and change its posts, and see it.

Every face (web, CLI, scheduler) calls these. Texts are written by
``ostogether.social.wording``; a post's text is stored, so what an editor approved is
what goes out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.support import LazyProxy
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ostogether.core import clock
from ostogether.core.errors import Conflict, ContentError, ValidationError
from ostogether.core.inputs import url_problem
from ostogether.core.settings import Settings
from ostogether.core.states import NETWORK_NAMES, NETWORKS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import audit, wording
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Evergreen
from ostogether.edges.timetable import Schedule
from ostogether.models import NewsItem, Project, SocialPost, lookup
from ostogether.social import library_posts, planner, publish, said
from ostogether.social import media as social_media
from ostogether.social import text as social_text
from ostogether.social.wording import Source, compose_text, measure

WEEK_RE = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
FAIR_SHARE_WEEKS = 8
EDITABLE = ("planned", "approved", "failed")


# ----------------------------------------------------------------------------- weeks

def parse_week(value: str) -> tuple[int, int]:
    """"2026-W48" as (2026, 48); a clear error for anything else."""
    m = WEEK_RE.match(value.strip())
    if m:
        year, week = int(m.group(1)), int(m.group(2))
        try:
            dt.date.fromisocalendar(year, week, 1)
            return year, week
        except ValueError:
            pass
    raise ValidationError(_l("'%(value)s' is not an ISO week; write it like 2026-W48.",
                             value=value), {"week": _l("write it like 2026-W48")})


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def week_of(day: dt.date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def next_week(rt: Runtime, now: dt.datetime | None = None) -> tuple[int, int]:
    today = rt.community.schedule().today(now)
    return week_of(today + dt.timedelta(days=7))


def shift_week(year: int, week: int, by: int) -> tuple[int, int]:
    return week_of(dt.date.fromisocalendar(year, week, 1) + dt.timedelta(weeks=by))


# -------------------------------------------------------------------------- planning

@dataclass
class PlanReport:
    week: str
    placed: list[tuple[dt.datetime, str, tuple[str, ...]]] = field(default_factory=list)
    unfilled: list[tuple[dt.datetime, str]] = field(default_factory=list)
    kept: int = 0  # posts that were in the week already
    approved: bool = False
    post_ids: list[int] = field(default_factory=list)


def _item_contents(s: Session) -> tuple[list[planner.Content], dict[str, NewsItem]]:
    items = list(s.scalars(select(NewsItem).options(joinedload(NewsItem.project)).where(
        NewsItem.status.in_(("approved", "published")), NewsItem.for_social.is_(True))))
    done: dict[int, set[str]] = {}
    for item_id, network in s.execute(select(SocialPost.item_id, SocialPost.network).where(
            SocialPost.item_id.is_not(None))):
        if item_id is not None:
            done.setdefault(item_id, set()).add(network)
    contents, by_key = [], {}
    for item in items:
        key = f"item:{item.id}"
        by_key[key] = item
        contents.append(planner.Content(
            key=key, kind=item.kind, project_id=item.project_id,
            done=frozenset(done.get(item.id, ())), event_start=item.event_start,
            waiting_since=item.reviewed_at or item.created_at))
    return contents, by_key


def _evergreen_contents(rt: Runtime, s: Session) -> tuple[list[planner.Content],
                                                           dict[str, Evergreen],
                                                           dict[str, Project]]:
    own = [e for e in rt.community.evergreen() if e.active]
    taken = {e.key for e in own}  # a file of content/social/ wins over an output
    outputs = [e for e in library_posts.evergreen(rt, s) if e.key not in taken]
    library = {e.key for e in outputs}
    entries = [*own, *outputs]
    projects = {p.slug: p for p in s.scalars(select(Project))}
    unknown = [e for e in entries if e.project and e.project not in projects]
    if unknown:
        raise ContentError("The evergreen library names projects that are not in the "
                           "registry:", [f"content/social/{e.key}.toml: project "
                                         f"'{e.project}'" for e in unknown])
    last = dict(s.execute(select(SocialPost.evergreen_key, func.max(SocialPost.slot_at))
                          .where(SocialPost.evergreen_key != "",
                                 SocialPost.status != "skipped")
                          .group_by(SocialPost.evergreen_key)).all())
    contents = [planner.Content(
        key=f"evergreen:{e.key}", kind=e.kind,
        project_id=projects[e.project].id if e.project else None,
        only=frozenset(e.networks), last_posted=last.get(e.key),
        fallback=e.key in library) for e in entries]
    return contents, {f"evergreen:{e.key}": e for e in entries}, projects


def plan_week(rt: Runtime, actor: Actor, week: str | None = None,
              now: dt.datetime | None = None) -> PlanReport:
    """Fill the slots of ``week`` (default: next week) that are still open.

    Planning twice changes nothing: a slot's network that has a post keeps it.
    """
    now = now or clock.now()
    year, number = parse_week(week) if week else next_week(rt, now)
    schedule = rt.community.schedule()
    auto = rt.settings.social_auto_approve
    report = PlanReport(week=week_label(year, number), approved=auto)
    tags = rt.community.site().hashtags
    try:
        with rt.db.session() as s:
            _plan_into(rt, s, actor, schedule, year, number, now, tags, report)
    except IntegrityError:  # at any flush or at the commit: nothing is kept
        raise Conflict(_l("Another planning run filled these slots at the same time; "
                          "nothing was changed. Open the week to see its posts.")) from None
    if auto:
        _keep_auto_approved(rt, actor, report.post_ids)
    return report


def _keep_auto_approved(rt: Runtime, actor: Actor, post_ids: Sequence[int]) -> None:
    """Keep the pictures and cards of posts approved by planning; a post whose picture
    cannot be kept goes back to planned, with the reason, for an editor."""
    with rt.db.session() as s:
        posts = [get_post(s, i) for i in post_ids]
        s.expunge_all()
    kept, refused = social_media.keep_for(rt, posts)
    with rt.db.session() as s:
        for post_id, prepared in kept.items():
            post = get_post(s, post_id)
            post.media_name, post.card = prepared.media_name, prepared.card
        for post_id, exc in refused.items():
            post = get_post(s, post_id)
            if post.status == "approved":
                reason = said.english(exc)
                audit.transition(s, actor, post, "social_post", "planned", reason=reason)
                post.error = said.record(said.NOT_APPROVED, reason=reason.rstrip("."))
                post.hint = said.record(said.EDIT_IMAGE_HINT)


def _plan_into(rt: Runtime, s: Session, actor: Actor, schedule: Schedule, year: int,
               number: int, now: dt.datetime, tags: Sequence[str], report: PlanReport) -> None:
    week_slots = [(at, slot) for at, slot in schedule.slots_in_week(year, number)
                  if at > now]
    times = [at for at, _ in week_slots]
    taken = {(network, at) for network, at in s.execute(
        select(SocialPost.network, SocialPost.slot_at).where(
            SocialPost.status != "skipped", SocialPost.slot_at.in_(times)))}
    report.kept = len(taken)
    slots = [planner.Slot(at=at, kinds=slot.kinds, networks=tuple(
        n for n in slot.networks if (n, at) not in taken)) for at, slot in week_slots]
    items, item_of = _item_contents(s)
    evergreen, entry_of, projects = _evergreen_contents(rt, s)
    by_id = {p.id: p for p in projects.values()}
    since = now - dt.timedelta(weeks=FAIR_SHARE_WEEKS)
    recent: Counter[int] = Counter(
        pid or 0 for pid, _ in s.execute(
            select(SocialPost.project_id, SocialPost.slot_at).where(
                SocialPost.project_id.is_not(None), SocialPost.status != "skipped",
                SocialPost.slot_at >= since).distinct()).all())
    result = planner.plan(slots, [*items, *evergreen],
                          repeat_weeks=schedule.social.evergreen_repeat_weeks, recent=recent)
    for placement in result.placed:
        c = placement.content
        source = (Source.of_item(item_of[c.key]) if c.is_item else
                  Source.of_evergreen(entry_of[c.key], by_id.get(c.project_id or 0)))
        for network in placement.networks:
            post = _new_post(rt, source, network, placement.slot.at, tags)
            if report.approved:
                post.status, post.approved_at = "approved", now
            s.add(post)
            s.flush()
            report.post_ids.append(post.id)
            audit.record(s, actor, "social_post.planned", post, network=network,
                         slot=post.slot_at.isoformat(), auto_approved=report.approved)
        report.placed.append((placement.slot.at, source.title, placement.networks))
    report.unfilled = [(slot.at, why) for slot, why in result.unfilled]


def _new_post(rt: Runtime, source: Source, network: str, at: dt.datetime,
              community_tags: Sequence[str]) -> SocialPost:
    text, link = compose_text(rt, source, network, community_tags)
    return SocialPost(
        network=network, status="planned", slot_at=at, kind=source.kind,
        item_id=source.item.id if source.item else None, evergreen_key=source.evergreen_key,
        project_id=source.project.id if source.project else None, title=source.title[:300],
        description=source.description, link=link, text=text,
        image_url=source.image_url, image_alt=source.image_alt, language=source.language,
        idempotency_key=uuid.uuid4().hex)


# --------------------------------------------------------------------------- changes

def get_post(s: Session, post_id: int) -> SocialPost:
    return lookup(s, SocialPost, post_id, _l("There is no social post %(id)s.", id=post_id))


def _fitting(settings: Settings, text: str, network: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()
    if not text:
        raise ValidationError(_l("Write the text of the post."),
                              {"text": _l("write the text")})
    m = measure(settings, text, network)
    if not m.fits:
        over = m.length - m.limit
        why = (_l(said.TOO_LONG[m.unit], network=NETWORK_NAMES[network], length=m.length,
                  limit=m.limit, over=over) if over > 0 else
               _l(said.REFUSED_CHARACTERS, network=NETWORK_NAMES[network]))
        raise ValidationError(why, {"text": why})
    return text


def edit(rt: Runtime, actor: Actor, post_id: int, *, text: str,
         image_url: str | None = None, image_alt: str | None = None) -> SocialPost:
    """Change a post's text, and its picture when ``image_url`` or ``image_alt`` is given.
    The text must fit its network.

    ``None`` keeps the picture as it is: the picture kept on approval, or the link's card
    read for it, is dropped only when its address changes. An empty ``image_url`` takes
    the picture off (the post shows its link's card)."""
    with rt.db.session() as s:
        post = get_post(s, post_id)
        if post.status not in EDITABLE:
            raise Conflict(_l("This post is %(status)s; only planned, approved or failed "
                              "posts can be edited.", status=said.status(post.status)))
        fields: dict[str, str] = {}
        try:
            new_text = _fitting(rt.settings, text, post.network)
        except ValidationError as exc:
            fields.update(exc.fields)
            new_text = ""
        picture_given = image_url is not None or image_alt is not None
        url = post.image_url if image_url is None else image_url.strip()
        alt = post.image_alt if image_alt is None else image_alt.strip()
        if picture_given and url:
            problem = url_problem(url)
            if problem:
                fields["image_url"] = problem
            elif not alt:
                fields["image_alt"] = _l("describe the image for people who cannot see it")
        if fields:
            problems = list(fields.values())
            raise ValidationError(_l("The post was not changed: %(problems)s.",
                                     problems=LazyProxy(lambda: "; ".join(
                                         str(v).rstrip(".") for v in problems),
                                         enable_cache=False)), fields)
        before = post.text
        post.text, post.edited = new_text, True
        if url != post.image_url:
            post.media_name, post.card = "", None  # kept (or read) again when approved
        post.image_url, post.image_alt = url, alt if url else ""
        audit.record(s, actor, "social_post.edited", post, before=before, after=new_text)
        s.flush()
        s.expunge(post)
        return post


def approve(rt: Runtime, actor: Actor, post_ids: Iterable[int],
            now: dt.datetime | None = None, *, each: bool = False) -> int:
    """Approve planned (or failed) posts; returns how many were approved.

    Each post's picture is kept now (``social.media.keep_for``), or its link's card read:
    publishing never fetches from a member's site. A post whose text does not fit, or
    whose picture has no description or cannot be kept, stops the whole approval with the
    reason; with ``each`` (a week's approval), it stays planned with the reason beside it,
    and the others are approved."""
    now = now or clock.now()
    refused: dict[int, ValidationError] = {}
    with rt.db.session() as s:  # first what each post needs, without holding a write
        wanted = []
        for post_id in post_ids:
            post = get_post(s, post_id)
            if post.status == "approved":
                continue
            try:
                _fitting(rt.settings, post.text, post.network)
                wanted.append(post)
            except ValidationError as exc:
                if not each:
                    raise
                refused[post.id] = exc
        s.expunge_all()
    kept, not_kept = social_media.keep_for(rt, wanted)
    refused.update(not_kept)
    if refused and not each:
        networks = {p.id: NETWORK_NAMES[p.network] for p in wanted}
        each_one = [_l("post %(id)s (%(network)s): %(reason)s", id=i, network=networks[i],
                       reason=exc) for i, exc in refused.items()]
        raise ValidationError(
            _l("Nothing was approved: %(problems)s. Edit the post, then approve it again.",
               problems=wording.joined("; ", each_one)),
            {k: v for exc in refused.values() for k, v in exc.fields.items()})
    done = 0
    with rt.db.session() as s:
        for post_id in [*(p.id for p in wanted if p.id not in refused), *refused]:
            post = get_post(s, post_id)
            if post.status == "approved":
                continue
            if post_id in refused:
                post.error = said.record(said.NOT_APPROVED, reason=said.english(
                    refused[post_id]).rstrip("."))
                post.hint = said.record(said.EDIT_HINT)
                continue
            if post.status == "failed":
                post.attempts, post.next_attempt_at = 0, None
            audit.transition(s, actor, post, "social_post", "approved")
            post.approved_at, post.approved_by_id = now, actor.user_id
            post.error, post.hint = "", ""
            if post.id in kept:
                post.media_name, post.card = kept[post.id].media_name, kept[post.id].card
            done += 1
    return done


def read_card(rt: Runtime, actor: Actor, post_id: int) -> dict[str, str]:
    """Read the link's card now (before approval, or after the page changed), for this
    post and the other networks' posts of the same content that have no picture."""
    with rt.db.session() as s:
        post = get_post(s, post_id)
        if post.status not in EDITABLE:
            raise Conflict(_l("This post is %(status)s; its card can no longer change.",
                              status=said.status(post.status)))
        if post.image_url or not post.link:
            raise Conflict(_l("This post has no link card: it shows its own picture, or has "
                              "no link."))
        link = post.link
    card = social_media.read_card(rt, link)
    with rt.db.session() as s:
        post = get_post(s, post_id)
        for one in [post, *_siblings_in(s, post)]:
            if one.status in EDITABLE and not one.image_url and one.link:
                one.card = card
        audit.record(s, actor, "social_post.card_read", post, warning=card["warning"])
    return card


def unapprove(rt: Runtime, actor: Actor, post_id: int) -> None:
    with rt.db.session() as s:
        audit.transition(s, actor, get_post(s, post_id), "social_post", "planned")


def skip(rt: Runtime, actor: Actor, post_id: int) -> None:
    """Do not post this; the item is not planned for this network again."""
    with rt.db.session() as s:
        audit.transition(s, actor, get_post(s, post_id), "social_post", "skipped")


def parse_local(zone: ZoneInfo, value: str) -> dt.datetime:
    """A date and time typed in the community's zone (``2026-11-25T10:00``, as a date and
    time field sends it) as UTC. A time the clocks skip when summer time starts is
    refused with what happens that night; a time that comes twice when it ends is the
    first (the flash after moving names the zone's abbreviation, CEST or CET)."""
    value = value.strip()
    if not value:
        raise ValidationError(_l("Choose a date and a time."),
                              {"at": _l("choose a date and a time")})
    try:
        typed = dt.datetime.fromisoformat(value)
        if typed.tzinfo is not None:
            return typed.astimezone(dt.UTC)
        typed = typed.replace(second=0, microsecond=0)
    except (ValueError, OverflowError):
        raise ValidationError(_l("'%(value)s' is not a date and time; write it like "
                                 "2026-11-25 10:00.", value=value),
                              {"at": _l("write it like 2026-11-25 10:00")}) from None
    at = clock.local_instant(typed.date(), typed.time(), zone)
    if at is None:  # say which hour the clocks skip that night

        def exists(t: dt.datetime) -> bool:
            return clock.local_instant(t.date(), t.time(), zone) is not None

        minute = dt.timedelta(minutes=1)
        start, end = typed, typed
        while not exists(start - minute):
            start -= minute
        while not exists(end):
            end += minute
        facts = {"time": f"{typed:%H:%M}", "day": said.weekday_date(typed), "zone": zone.key,
                 "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
        raise ValidationError(
            _l("There is no %(time)s on %(day)s in %(zone)s: the clocks go forward from "
               "%(start)s to %(end)s that night. Pick another time.", **facts),
            {"at": _l("there is no %(time)s on %(day)s in %(zone)s: the clocks go forward "
                      "from %(start)s to %(end)s that night. Pick another time", **facts)})
    return at


def move(rt: Runtime, actor: Actor, post_id: int, to: dt.datetime,
         now: dt.datetime | None = None) -> None:
    """Move a post to any time in the future (UTC): the timetable's free slots are only
    suggestions. The network must have no other post at that very time."""
    now = now or clock.now()
    zone = rt.community.schedule().zone
    with rt.db.session() as s:
        post = get_post(s, post_id)
        if post.status not in EDITABLE:
            raise Conflict(_l("This post is %(status)s; it can no longer be moved.",
                              status=said.status(post.status)))
        if to <= now:
            local = to.astimezone(zone)
            facts = {"when": said.moment(local, "%a %-d %b %Y, %H:%M", "yMMMEd"),
                     "abbreviation": local.tzname()}
            raise ValidationError(
                _l("%(when)s (%(abbreviation)s) has passed; pick a time in the future, or "
                   "publish it now.", **facts),
                {"at": _l("%(when)s (%(abbreviation)s) has passed; pick a time in the "
                          "future, or publish it now", **facts)})
        clash = s.scalar(select(SocialPost.id).where(
            SocialPost.network == post.network, SocialPost.slot_at == to,
            SocialPost.status != "skipped", SocialPost.id != post.id))
        if clash is not None:
            raise Conflict(_l("%(network)s already has post %(id)s at that time; move or "
                              "skip that one first.", network=NETWORK_NAMES[post.network],
                              id=clash))
        before = post.slot_at
        post.slot_at = to
        audit.record(s, actor, "social_post.moved", post, before=before.isoformat(),
                     after=to.isoformat())


def publish_now(rt: Runtime, actor: Actor, post_id: int,
                now: dt.datetime | None = None) -> bool:
    """Make a post due now, so that the worker publishes it within
    ``worker_poll_seconds`` (``jobs.pick_up``); the web only records this. A planned or
    failed post is approved first, with approval's checks. Publishing stays once only:
    a post publishing, published, with an unknown outcome or skipped is refused, and
    asking again for a post that is due changes nothing. False when it was due already."""
    now = now or clock.now()
    if rt.community.schedule().job("publish_social") is None:
        raise Conflict(_l("Publishing is switched off in the timetable (schedules/, "
                          "[jobs.publish_social]); nothing was changed. Ask an "
                          "administrator."))
    with rt.db.session() as s:
        status = get_post(s, post_id).status
    if status in ("planned", "failed"):
        approve(rt, actor, [post_id], now)  # raises with the reason when it cannot be
    try:
        return _make_due(rt, actor, post_id, now)
    except IntegrityError:  # another post of the network took this very instant
        raise Conflict(_l("Another post of this network became due at the same instant; "
                          "press Publish now again.")) from None


def _make_due(rt: Runtime, actor: Actor, post_id: int, now: dt.datetime) -> bool:
    with rt.db.session() as s:
        post = get_post(s, post_id)
        name = NETWORK_NAMES[post.network]
        if post.status != "approved":
            state = said.status(post.status)
            raise Conflict(_l("This post is %(status)s; it is never published twice.",
                              status=state)
                           if post.status in ("publishing", "published", "unknown") else
                           _l("This post is %(status)s; it cannot be published.",
                              status=state))
        if post.next_attempt_at is not None and post.next_attempt_at > now:
            local = post.next_attempt_at.astimezone(rt.community.schedule().zone)
            raise Conflict(_l("%(network)s asked the service to wait: the next try is at "
                              "%(time)s (%(abbreviation)s), on its own. Nothing changed.",
                              network=name, time=f"{local:%H:%M}",
                              abbreviation=local.tzname()))
        if post.slot_at <= now:
            return False
        before = post.slot_at
        moved = getattr(s.execute(update(SocialPost).where(
            SocialPost.id == post_id, SocialPost.status == "approved").values(
            slot_at=now, updated_at=now)), "rowcount", 0)
        if moved != 1:
            raise Conflict(_l("The post changed meanwhile; open it again."))
        audit.record(s, actor, "social_post.publish_now", post, before=before.isoformat(),
                     after=now.isoformat())
    return True


def resolve(rt: Runtime, actor: Actor, post_id: int, *, posted: bool, url: str = "") -> None:
    """An editor's answer for a post whose outcome was unknown."""
    with rt.db.session() as s:
        post = get_post(s, post_id)
        if post.status != "unknown":
            raise Conflict(_l("This post is %(status)s; only a post with an unknown "
                              "outcome needs checking.", status=said.status(post.status)))
        if posted:
            url = url.strip()
            problem = url_problem(url) if url else None
            if problem:
                raise ValidationError(_l("The address is not valid: %(problem)s.",
                                         problem=problem), {"url": problem})
            audit.transition(s, actor, post, "social_post", "published", url=url)
            post.remote_url, post.published_at = url, clock.now()
            post.hint = ""
        else:
            audit.transition(s, actor, post, "social_post", "failed")
            post.error = said.record(said.NOT_POSTED)
            post.hint = said.record(said.APPROVE_TO_POST)


# ------------------------------------------------------------------------------ views

@dataclass
class Entry:
    """One piece of content in one slot, with its post per network."""

    title: str
    kind: str
    project: str
    source: str  # "item 12" or "evergreen cosmos-ssibl"
    posts: list[SocialPost]


@dataclass
class SlotView:
    at: dt.datetime  # local
    entries: list[Entry]
    scheduled: bool  # a slot of the timetable (else a post moved to its own time)


@dataclass
class WeekView:
    label: str
    days: list[tuple[dt.date, list[SlotView]]]
    previous: str
    following: str
    counts: Counter[str]


def week_view(rt: Runtime, week: str | None = None) -> WeekView:
    year, number = parse_week(week) if week else week_of(rt.today())
    schedule = rt.community.schedule()
    zone = schedule.zone
    start = dt.datetime.combine(dt.date.fromisocalendar(year, number, 1), dt.time(),
                                tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(dt.date.fromisocalendar(year, number, 7) + dt.timedelta(days=1),
                              dt.time(), tzinfo=zone).astimezone(dt.UTC)
    with rt.db.session() as s:
        posts = list(s.scalars(select(SocialPost).options(joinedload(SocialPost.project))
                               .where(SocialPost.slot_at >= start, SocialPost.slot_at < end)
                               .order_by(SocialPost.slot_at, SocialPost.id)))
        s.expunge_all()
    order = {n: i for i, n in enumerate(NETWORKS)}
    slots: dict[dt.datetime, SlotView] = {
        at: SlotView(at.astimezone(zone), [], True)
        for at, _ in schedule.slots_in_week(year, number)}
    for post in posts:
        view = slots.setdefault(post.slot_at, SlotView(post.slot_at.astimezone(zone), [],
                                                       False))
        source = (f"item {post.item_id}" if post.item_id else
                  "the newsletter" if post.kind == "issue" else
                  f"evergreen {post.evergreen_key}" if post.evergreen_key else "")
        entry = next((e for e in view.entries if e.source == source and source), None)
        if entry is None:
            entry = Entry(post.title, post.kind,
                          post.project.acronym if post.project else "", source, [])
            view.entries.append(entry)
        entry.posts.append(post)
    for view in slots.values():
        for entry in view.entries:
            entry.posts.sort(key=lambda p: order.get(p.network, 99))
    days = []
    for offset in range(7):
        day = dt.date.fromisocalendar(year, number, 1) + dt.timedelta(days=offset)
        days.append((day, sorted((v for v in slots.values() if v.at.date() == day),
                                 key=lambda v: v.at)))
    return WeekView(label=week_label(year, number), days=days,
                    previous=week_label(*shift_week(year, number, -1)),
                    following=week_label(*shift_week(year, number, 1)),
                    counts=Counter(p.status for p in posts))


def free_slots(rt: Runtime, post: SocialPost,
               now: dt.datetime | None = None) -> list[dt.datetime]:
    """Future slots of the timetable, in the post's week and the next, that take its
    network and have no live post of that network yet (where a post may move)."""
    now = now or clock.now()
    schedule = rt.community.schedule()
    year, week = week_of(post.slot_at.astimezone(schedule.zone).date())
    weeks = [(year, week), shift_week(year, week, 1)]
    times = [at for y, w in weeks for at, slot in schedule.slots_in_week(y, w)
             if post.network in slot.networks and at > now]
    with rt.db.session() as s:
        taken = set(s.scalars(select(SocialPost.slot_at).where(
            SocialPost.network == post.network, SocialPost.status != "skipped",
            SocialPost.slot_at.in_(times))))
    return [at for at in times if at not in taken]


def approve_week(rt: Runtime, actor: Actor, week: str | None) -> int:
    """Approve every planned post of ``week`` that can be; one that cannot (a picture
    that cannot be kept, say) stays planned, with the reason in its ``error``."""
    view = week_view(rt, week)
    return approve(rt, actor, [p.id for _, slots in view.days for slot in slots
                               for entry in slot.entries for p in entry.posts
                               if p.status == "planned"], each=True)


def status_counts(rt: Runtime) -> dict[str, dict[str, int]]:
    """Posts per state and network: {state: {network: n}}."""
    with rt.db.session() as s:
        rows = s.execute(select(SocialPost.status, SocialPost.network, func.count())
                         .group_by(SocialPost.status, SocialPost.network)).all()
    out: dict[str, dict[str, int]] = {}
    for status, network, n in rows:
        out.setdefault(status, {})[network] = n
    return out


def needing_attention(rt: Runtime) -> list[SocialPost]:
    """Posts an editor must look at: unknown outcomes and failures."""
    with rt.db.session() as s:
        posts = list(s.scalars(select(SocialPost).where(
            SocialPost.status.in_(("unknown", "failed"))).order_by(SocialPost.slot_at)))
        s.expunge_all()
    return posts


def preview(rt: Runtime, post_id: int) -> tuple[SocialPost, social_text.Measure,
                                                 list[social_text.Piece]]:
    """A post, its count, and its text as the network's reader sees it (with the
    mentions its publisher makes)."""
    with rt.db.session() as s:
        post = get_post(s, post_id)
        made = publish.mentions(rt, post)
        s.expunge(post)
    return (post, measure(rt.settings, post.text, post.network),
            social_text.as_read(post.text, post.network, made))


def siblings(rt: Runtime, post: SocialPost) -> Sequence[SocialPost]:
    """The other networks' posts of the same content in the same slot."""
    with rt.db.session() as s:
        rows = _siblings_in(s, post)
        s.expunge_all()
    return rows


def _siblings_in(s: Session, post: SocialPost) -> list[SocialPost]:
    q = select(SocialPost).where(SocialPost.slot_at == post.slot_at,
                                 SocialPost.id != post.id)
    q = (q.where(SocialPost.item_id == post.item_id) if post.item_id else
         q.where(SocialPost.evergreen_key == post.evergreen_key))
    return list(s.scalars(q))
