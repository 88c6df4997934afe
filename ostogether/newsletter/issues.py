"""The life of a newsletter issue: composed as a draft, edited, previewed, checked,
approved with a frozen snapshot, or cancelled. Sending belongs to the delivery.

States (``ostogether.core.states.ISSUE``): draft → in_review → approved → sending → sent;
cancelled from any state before sending. Any edit of an approved issue sends it back to
in_review and drops its snapshot, so what is sent is always what was approved.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock, compose
from ostogether.core.errors import (
    Blocked,
    Conflict,
    ContentError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ostogether.core.inputs import one_line_problem
from ostogether.core.languages import NAMES
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.segments import Segment
from ostogether.core.words import _l
from ostogether.edges import fetch, media
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.render import (
    RenderedIssue,
    block_items,
    placeholder,
)
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import vocabulary
from ostogether.mail import domain
from ostogether.mail.sender import issue_message
from ostogether.models import (
    Issue,
    IssueItem,
    IssueSnapshot,
    LinkCheck,
    NewsItem,
    Output,
    User,
    id_or_none,
    lookup,
)
from ostogether.newsletter import clicks, preflight
from ostogether.newsletter.rendering import (
    automatic_lines,
    base_language,
    issue_languages,
    issue_outputs,
    output_page,
)
from ostogether.newsletter.rendering import context as context
from ostogether.newsletter.rendering import credit_line as credit_line
from ostogether.newsletter.rendering import issue_key as issue_key
from ostogether.newsletter.rendering import marked as marked
from ostogether.newsletter.rendering import public_rendering as public_rendering
from ostogether.newsletter.rendering import render_current as render_current
from ostogether.newsletter.rendering import rendered as rendered
from ostogether.newsletter.rendering import web_values as web_values
from ostogether.newsletter.rendering import whole as whole
from ostogether.newsletter.wording import issue_state, left_out_reason, listed
from ostogether.readers import segments, subscribers

OPEN = ("draft", "in_review", "approved", "sending")
EDITABLE = ("draft", "in_review", "approved")
SUBJECT_LIMIT = 200  # stored; pre-flight asks for 90 or fewer
PREHEADER_LIMIT = 200
INTRO_MAX = 10_000
ACTIONS = ("up", "down", "drop", "add", "move")


# ---------------------------------------------------------------------- queries

# An issue is always wanted with its items and their projects: every face shows them.
WITH_ITEMS = (selectinload(Issue.entries).selectinload(IssueItem.item).selectinload(
    NewsItem.project), selectinload(Issue.entries).selectinload(IssueItem.item)
    .selectinload(NewsItem.translations), selectinload(Issue.texts),
    selectinload(Issue.snapshots))


def get_issue(s: Session, issue_id: int) -> Issue:
    return lookup(s, Issue, issue_id, _l("There is no issue with id %(id)s.", id=issue_id),
                  options=list(WITH_ITEMS))


def issue_ref(rt: Runtime, issue_id: int) -> str:
    """How editors' addresses name an issue: its number; an announcement "a" and its own
    number; a cancelled one, which gave its number back, "c" and its id."""
    with rt.db.session() as s:
        issue = s.get(Issue, issue_id) if id_or_none(issue_id) else None
        number = issue.number if issue is not None else None
    if number is not None and number < 0:
        return f"a{-number}"
    return str(number) if number is not None else f"c{issue_id}"


def issue_id_for(rt: Runtime, ref: str) -> int | None:
    """The issue an address names (``issue_ref``), or None."""
    if ref.startswith("c"):
        value = int(ref[1:])
        return value if id_or_none(value) else None
    sign = -1 if ref.startswith("a") else 1
    number = int(ref.removeprefix("a"))
    if not id_or_none(number):
        return None
    with rt.db.session() as s:
        return s.scalar(select(Issue.id).where(Issue.number == sign * number))


def by_number(s: Session, number: int, *, with_items: bool = True) -> Issue:
    """The issue numbered ``number`` (an announcement's negated: -3 is A3)."""
    q = select(Issue).where(Issue.number == number)
    issue = (s.scalar(q.options(*WITH_ITEMS) if with_items else q)
             if id_or_none(abs(number)) else None)
    if issue is None:
        raise NotFound(_l("There is no issue #%(number)s.", number=number))
    return issue


def list_issues(s: Session) -> list[Issue]:
    return list(s.scalars(select(Issue).order_by(Issue.send_at.desc(), Issue.id.desc())))


def open_issue(s: Session) -> Issue | None:
    """The issue in the works (composed, not yet sent or cancelled), if any; an
    announcement in the works is not one (it never holds up the next issue)."""
    return s.scalar(select(Issue).where(Issue.status.in_(OPEN), Issue.kind == "issue")
                    .order_by(Issue.id))


def _carried_by_sent(s: Session) -> Any:
    """The items a sent issue carried (an announcement's reached a segment only)."""
    return select(IssueItem.item_id).join(Issue).where(Issue.status == "sent",
                                                       Issue.kind == "issue")


def candidates(s: Session) -> list[NewsItem]:
    """Approved items for the newsletter that no sent issue has carried."""
    return list(s.scalars(
        select(NewsItem).options(selectinload(NewsItem.project))
        .where(NewsItem.status == "approved", NewsItem.for_newsletter.is_(True),
               NewsItem.id.not_in(_carried_by_sent(s)))
        .order_by(NewsItem.id)))


def featured_outputs(s: Session) -> set[int]:
    """The outputs of the results library that a sent issue featured."""
    return {int(i) for ids in s.scalars(select(Issue.library_outputs).where(
        Issue.status == "sent")) for i in ids or ()}


def output_candidates(s: Session) -> list[compose.OutputCandidate]:
    """Approved outputs of the results library that no sent issue featured. (The
    newsletter comes before the library among the domains: it reads the table itself.)"""
    done = featured_outputs(s)
    out = []
    for o in s.scalars(select(Output).options(selectinload(Output.projects))
                       .where(Output.status == "approved").order_by(Output.id)):
        if o.id in done:
            continue
        approved = o.published_at or o.reviewed_at or o.created_at
        out.append(compose.OutputCandidate(
            id=o.id, project_id=min((p.id for p in o.projects), default=0),
            approved_on=approved.date()))
    return out


def available(s: Session, issue: Issue) -> list[NewsItem]:
    """What an editor may add to ``issue``: candidates it does not hold yet."""
    held = {e.item_id for e in issue.entries}
    return [i for i in candidates(s) if i.id not in held]


def left_out(s: Session, issue: Issue) -> list[tuple[int, Any, Any]]:
    """(item id, title, why) of each approved item composing did not place."""
    ids = [int(i) for i, _ in issue.left_out]
    titles = dict(s.execute(select(NewsItem.id, NewsItem.title).where(
        NewsItem.id.in_(ids))).all())
    return [(int(i), titles.get(int(i), _l("(deleted)")), left_out_reason(str(why)))
            for i, why in issue.left_out]


def recent_projects(s: Session, lookback: int, before: dt.datetime | None = None,
                    ) -> list[frozenset[int]]:
    """The project ids featured in each of the last ``lookback`` sent issues, latest first."""
    if lookback < 1:
        return []
    q = select(Issue.id).where(Issue.status == "sent")
    if before is not None:
        q = q.where(Issue.send_at < before)
    ids = list(s.scalars(q.order_by(Issue.send_at.desc(), Issue.id.desc()).limit(lookback)))
    rows = s.execute(select(IssueItem.issue_id, NewsItem.project_id).join(NewsItem)
                     .where(IssueItem.issue_id.in_(ids))).all()
    by_issue: dict[int, set[int]] = {i: set() for i in ids}
    for issue_id, project_id in rows:
        by_issue[issue_id].add(project_id)
    return [frozenset(by_issue[i]) for i in ids]


def as_candidate(item: NewsItem) -> compose.Candidate:
    approved = item.reviewed_at or item.created_at
    return compose.Candidate(id=item.id, project_id=item.project_id, kind=item.kind,
                             approved_on=approved.date(), event_start=item.event_start,
                             event_end=item.event_end)


# ------------------------------------------------------------------ composing

def compose_next(rt: Runtime, actor: Actor, now: dt.datetime | None = None) -> Issue:
    """Create the next draft issue from the approved items, or say why not."""
    rules = rt.community.newsletter()
    schedule = rt.community.schedule()
    now = now or clock.now()
    with rt.db.session() as s:
        busy = open_issue(s)
        if busy is not None:
            raise Conflict(_l("Issue #%(number)s is %(state)s and not sent yet; finish or "
                              "cancel it before composing the next one.", number=busy.number,
                              state=issue_state(busy.status)))
        last_number = s.scalar(select(func.max(Issue.number)))  # announcements: < 0
        number = max(rules.first_number, (last_number or 0) + 1)
        last_send = s.scalar(select(func.max(Issue.send_at)).where(Issue.status == "sent"))
        send_at = schedule.next_send(max(now, last_send) if last_send else now)
        items = candidates(s)
        composition = compose.compose(
            [as_candidate(i) for i in items], rules, send_at,
            recent_projects(s, rules.lookback_issues))
        shelf = rules.library_section()
        issue = Issue(number=number, status="draft", send_at=send_at,
                      left_out=[list(x) for x in composition.left_out],
                      library_outputs=list(compose.pick_outputs(
                          output_candidates(s), shelf.max_items)) if shelf else [])
        order = {sec.key: n for n, sec in enumerate(rules.sections)}
        for placed in composition.sections:
            for pos, item_id in enumerate(placed.item_ids):
                issue.entries.append(IssueItem(item_id=item_id, section=placed.section,
                                               section_order=order[placed.section],
                                               position=pos))
        s.add(issue)
        s.flush()
        by_id = {i.id: i for i in items}
        chosen = [by_id[i] for i in composition.item_ids]
        issue.subject, issue.preheader = _automatic_lines(rt, issue, chosen)
        record(s, actor, "issue.composed", issue, number=number, items=len(chosen),
               left_out=len(composition.left_out), send_at=send_at.isoformat())
        s.refresh(issue, ["entries"])
        return issue


def _automatic_lines(rt: Runtime, issue: Issue, items: list[NewsItem]) -> tuple[str, str]:
    """The subject and preheader the templates give an issue with ``items``."""
    return automatic_lines(rt, issue, items)


def _items_of(s: Session, issue: Issue) -> list[NewsItem]:
    entries = sorted(issue.entries, key=lambda e: (e.section_order, e.position))
    return [item for e in entries if (item := s.get(NewsItem, e.item_id)) is not None]


def _follow_the_items(rt: Runtime, s: Session, issue: Issue,
                      before: tuple[str, str]) -> None:
    """After an item was added or dropped, a subject or preheader that is still the
    automatic one follows the items (so it never says "2 stories" of 3); a line an
    editor wrote stays as it is."""
    after = _automatic_lines(rt, issue, _items_of(s, issue))
    if issue.subject == before[0]:
        issue.subject = after[0]
    if issue.preheader == before[1]:
        issue.preheader = after[1]


# ------------------------------------------------------------------ editing

def _editable(s: Session, actor: Actor, issue: Issue) -> None:
    """Refuse edits once sending began; an edit to an approved issue reopens review."""
    if issue.status not in EDITABLE:
        raise Conflict(_l("Issue #%(number)s is %(state)s and can no longer be edited.",
                          number=issue.number, state=issue_state(issue.status)))
    if issue.status == "approved":
        transition(s, actor, issue, "issue", "in_review", reason="edited after approval")
        _drop_snapshot(issue)


def _drop_snapshot(issue: Issue) -> None:
    issue.approved_at = None
    issue.approved_by_id = None
    issue.approved_by_label = ""
    issue.snapshot_subject = issue.snapshot_preheader = ""
    issue.snapshot_html = issue.snapshot_text = issue.snapshot_sha256 = ""
    issue.snapshots.clear()


def _one_line(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if why := one_line_problem(value):
        raise ValidationError(_l("The subject %(problem)s.", problem=why) if field == "subject"
                              else _l("The preheader %(problem)s.", problem=why), {field: why})
    if len(value) > limit:
        raise ValidationError(_l("The subject has %(num)d characters; the limit is %(max)d.",
                                 num=len(value), max=limit) if field == "subject" else
                              _l("The preheader has %(num)d characters; the limit is "
                                 "%(max)d.", num=len(value), max=limit),
                              {field: _l("at most %(max)d characters", max=limit)})
    return value


def update_details(rt: Runtime, actor: Actor, issue_id: int, *, subject: str,
                   preheader: str, intro_md: str) -> list[str]:
    """Edit the subject, preheader and editorial. Returns the names of changed fields."""
    subject, preheader, intro_md = checked_details(subject, preheader, intro_md)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        new = {"subject": subject, "preheader": preheader, "intro_md": intro_md}
        changed = [k for k, v in new.items() if getattr(issue, k) != v]
        if not changed:
            return []
        _editable(s, actor, issue)
        issue.subject, issue.preheader, issue.intro_md = subject, preheader, intro_md
        issue.intro_html = markdown_to_html(intro_md)
        record(s, actor, "issue.edited", issue, fields=changed)
        return changed


def checked_details(subject: str, preheader: str, intro_md: str) -> tuple[str, str, str]:
    """The subject, preheader and editorial as they are stored, or a ValidationError
    naming each field that is wrong."""
    fields: dict[str, Any] = {}
    try:
        subject = _one_line(subject, "subject", SUBJECT_LIMIT)
    except ValidationError as exc:
        fields.update(exc.fields)
    try:
        preheader = _one_line(preheader, "preheader", PREHEADER_LIMIT)
    except ValidationError as exc:
        fields.update(exc.fields)
    if not subject and "subject" not in fields:
        fields["subject"] = _l("a subject is required")
    if len(intro_md) > INTRO_MAX:
        fields["intro_md"] = _l("at most %(max)d characters", max=INTRO_MAX)
    if fields:
        raise ValidationError(_l("The issue was not saved: %(problems)s.",
                                 problems=listed(fields)), fields)
    return subject, preheader, intro_md.replace("\r\n", "\n").strip()


def set_for_everyone(rt: Runtime, actor: Actor, issue_id: int, item_id: int,
                     on: bool) -> bool:
    """Send one item of the issue to every reader whatever they chose (``on``), or only
    to those whose choices match it. Only before approval: the approved snapshot decides
    who gets what. Returns whether anything changed."""
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        if issue.status not in ("draft", "in_review"):
            raise Conflict(_l("Issue #%(number)s is %(state)s; which items go to every reader "
                              "is decided before approval.", number=issue.number,
                              state=issue_state(issue.status)))
        entry = next((e for e in issue.entries if e.item_id == item_id), None)
        if entry is None:
            raise NotFound(_l("Item %(id)s is not in issue #%(number)s.", id=item_id,
                              number=issue.number))
        if entry.for_everyone == on:
            return False
        entry.for_everyone = on
        record(s, actor, "issue.for_everyone", issue, item=item_id, on=on)
        return True


def arrange(rt: Runtime, actor: Actor, issue_id: int, item_id: int, action: str,
            section: str = "") -> None:
    """Move an item up or down in its section, move it to another section, drop it, or add
    one that composing left out."""
    if action not in ACTIONS:
        raise ValidationError(_l("Unknown action '%(action)s'; use %(known)s.", action=action,
                                 known=", ".join(ACTIONS)),
                              {"action": "unknown"})
    rules = rt.community.newsletter()
    order = {sec.key: n for n, sec in enumerate(rules.sections) if not sec.editorial}
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        _editable(s, actor, issue)
        entry = next((e for e in issue.entries if e.item_id == item_id), None)
        lines = _automatic_lines(rt, issue, _items_of(s, issue))
        if action == "add":
            if entry is not None:
                raise Conflict(_l("Item %(id)s is already in this issue.", id=item_id))
            item = s.get(NewsItem, item_id) if id_or_none(item_id) else None
            if item is None or item not in available(s, issue):
                raise Conflict(_l("Item %(id)s cannot be added: only approved items for the "
                                  "newsletter that no sent issue carried can.", id=item_id))
            fitting = rules.section_for(item.kind)
            section = section or (fitting.key if fitting else "")
            if section not in order:
                raise ValidationError(_l("Choose a section for item %(id)s.", id=item_id),
                                      {"section": "unknown section"})
            last = max((e.position for e in issue.entries if e.section == section),
                       default=-1)
            issue.entries.append(IssueItem(item_id=item_id, section=section,
                                           section_order=order[section],
                                           position=last + 1, added_by="editor"))
            record(s, actor, "issue.item_added", issue, item=item_id, section=section)
            _follow_the_items(rt, s, issue, lines)
            return
        if entry is None:
            raise NotFound(_l("Item %(id)s is not in issue #%(number)s.", id=item_id,
                              number=issue.number))
        if action == "drop":
            issue.entries.remove(entry)
            record(s, actor, "issue.item_dropped", issue, item=item_id)
            _follow_the_items(rt, s, issue, lines)
        elif action == "move":
            if section not in order:
                raise ValidationError(_l("Unknown section '%(section)s'; use %(known)s.",
                                         section=section, known=", ".join(order)),
                                      {"section": "unknown section"})
            last = max((e.position for e in issue.entries if e.section == section),
                       default=-1)
            entry.section, entry.section_order, entry.position = (section, order[section],
                                                                  last + 1)
            record(s, actor, "issue.item_moved", issue, item=item_id, section=section)
        else:
            peers = sorted((e for e in issue.entries if e.section == entry.section),
                           key=lambda e: e.position)
            n = peers.index(entry)
            other = n - 1 if action == "up" else n + 1
            if 0 <= other < len(peers):
                peers[n], peers[other] = peers[other], peers[n]
                for pos, e in enumerate(peers):
                    e.position = pos
                record(s, actor, "issue.item_moved", issue, item=item_id, direction=action)


def reopen_for_item(s: Session, actor: Actor, item_id: int, why: str) -> None:
    """An item changed under an approved issue: send that issue back to review."""
    issues = list(s.scalars(select(Issue).join(IssueItem).where(
        IssueItem.item_id == item_id, Issue.status == "approved")))
    for issue in issues:
        transition(s, actor, issue, "issue", "in_review", reason=why, item=item_id)
        _drop_snapshot(issue)


def move_send_at(rt: Runtime, s: Session, actor: Actor, issue: Issue, when: dt.datetime,
                 why: str, *, may_keep: bool) -> bool:
    """Give ``issue`` (editable, its items loaded) the send time ``when``, in the caller's
    transaction; a subject or preheader still automatic follows the new date. An approved
    issue goes back to review (``why``) unless ``may_keep`` and what readers get stays the
    same to the byte; True when it went."""
    approved = issue.status == "approved"
    before = None
    if approved and may_keep:
        try:
            before = render_current(rt, issue)
        except ContentError:  # cannot tell whether it changes: check it again
            pass
    lines = _automatic_lines(rt, issue, _items_of(s, issue))
    issue.send_at = when
    _follow_the_items(rt, s, issue, lines)
    if not approved or (before is not None and render_current(rt, issue) == before):
        return False
    transition(s, actor, issue, "issue", "in_review", reason=why)
    _drop_snapshot(issue)
    return True


def cancel(rt: Runtime, actor: Actor, issue_id: int) -> Issue:
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        number = issue.number
        transition(s, actor, issue, "issue", "cancelled", number=number)
        # The number goes back, so the archive has no gaps.
        issue.number = None
        _drop_snapshot(issue)
        return issue


# ------------------------------------------------------------------ pre-flight

def checked_links(rt: Runtime, urls: Sequence[str]) -> list[preflight.LinkResult]:
    """Links that answered within the cache time are not tried again; the rest are."""
    hours = rt.settings.link_check_cache_hours
    since = clock.now() - dt.timedelta(hours=hours)
    hashes = {u: hashlib.sha256(u.encode()).hexdigest() for u in urls}
    with rt.db.session() as s:
        cached = {c.url: preflight.LinkResult(c.url, c.outcome, c.status_code, c.detail)
                  for c in s.scalars(select(LinkCheck).where(
                      LinkCheck.url_hash.in_(hashes.values()), LinkCheck.checked_at >= since,
                      LinkCheck.outcome == preflight.PASS))} if hours else {}
    st = rt.settings
    limits = st.link_limits(max_bytes=1)
    fresh = preflight.probe_links([u for u in urls if u not in cached],
                                  fetch.parse_allow(st.fetch_allow), limits,
                                  st.link_check_concurrency)
    if fresh:
        with rt.db.session() as s:
            rows = {c.url_hash: c for c in s.scalars(select(LinkCheck).where(
                LinkCheck.url_hash.in_([hashes[r.url] for r in fresh])))}
            for r in fresh:
                row = rows.get(hashes[r.url]) or LinkCheck(url_hash=hashes[r.url], url=r.url)
                row.outcome, row.status_code, row.detail = r.outcome, r.status_code, r.detail
                row.checked_at = clock.now()
                s.add(row)
    by_url = {**cached, **{r.url: r for r in fresh}}
    return [by_url[u] for u in urls]


def run_preflight(rt: Runtime, issue_id: int) -> tuple[preflight.Report,
                                                         RenderedIssue | None]:
    """The checklist for an issue as it stands, and its rendering when it rendered."""
    rules = rt.community.newsletter()
    with rt.db.session() as s:  # pictures first: the rendering shows the kept copies
        image_urls = [e.item.image_url for e in get_issue(s, issue_id).entries
                      if e.item.image_url]
    image_problems = media.keep_all(rt, image_urls)
    unserved, unasked = media.unserved(rt, image_urls)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        entry_list = list(issue.entries)
        unusable = [(e.item.id, e.item.title, e.item.status) for e in entry_list
                    if e.item.status not in ("approved", "published")]
        featured = {e.item.project_id: e.item.project for e in entry_list}
        no_grant = sorted(p.acronym for p in featured.values()
                          if p.programme and not p.grant_number)
        credits = [c for c in (credit_line(rules, p) for p in featured.values()) if c]
        subject, preheader = issue.subject, issue.preheader
        segment_check = _segment_check(rt, s, issue) if issue.announcement else None
        try:
            out: RenderedIssue | None = render_current(rt, issue)
            render_check = preflight.Check("render", _l("The templates render"),
                                           preflight.PASS)
        except ContentError as exc:
            out, render_check = None, preflight.render_failed(str(exc), exc.problems)
        failed = []  # every other language its readers read renders too
        others: list[tuple[str, RenderedIssue]] = []
        for lang in issue_languages(rt, s)[1:] if out is not None else []:
            try:
                others.append((lang, render_current(rt, issue, lang)))
            except ContentError as exc:
                failed.append(_l("%(what)s: %(detail)s", what=f"{NAMES.get(lang, lang)} "
                                 f"({lang})", detail=exc))
        if failed:
            render_check = preflight.Check("render", _l("The templates render in every "
                                                        "language"), preflight.FAIL,
                                           tuple(failed))
    found = domain.last(rt)
    checks = [render_check,
              preflight.check_subject(subject, preheader),
              segment_check or preflight.check_has_items(len(entry_list)),
              preflight.check_not_rejected(unusable),
              preflight.check_credit_facts(no_grant),
              preflight.check_images(image_problems, unserved, unasked)]
    if out is not None:
        shown = whole(rt, issue, out)  # as a reader who chose nothing gets it
        site = rt.community.site()
        urls, own = preflight.checkable_urls(shown.html, rt.settings.public_url)
        checks += [preflight.check_blocks(shown.html, shown.text, site.funding_statement,
                                          credits, placeholder("unsubscribe_url",
                                                               issue_key(rt, issue))),
                   preflight.check_alt_text(shown.html),
                   preflight.check_marks([e.item.id for e in entry_list],
                                         block_items(out.html, issue_key(rt, issue)),
                                         block_items(out.text, issue_key(rt, issue))),
                   # Every language's version, as a reader's copy with long links.
                   preflight.check_sizes([(
                       f"{NAMES.get(lang, lang)} ({lang})",
                       issue_message(rt, issue, version).html_part(
                           {**web_values(rt, issue),
                            **subscribers.link_maker(rt)(2**31 - 1, "f" * 16)}),
                       len(version.html.encode()))
                       for lang, version in [(base_language(rt), shown),
                                             *((lang, whole(rt, issue, other))
                                               for lang, other in others)]]),
                   preflight.check_links(checked_links(rt, urls), own)]
    checks.append(preflight.check_domain(
        found.status if found else None,
        (clock.now() - found.checked_at).days if found else 0,
        [f.message for f in found.findings if f.status != preflight.PASS] if found else []))
    return preflight.Report(tuple(checks)), out


def _segment_check(rt: Runtime, s: Session, issue: Issue) -> preflight.Check:
    """Whom an announcement reaches (its items are optional: no check of them)."""
    segment = Segment.from_dict(issue.segment)
    found = segments.reach(s, segment)
    return preflight.check_segment(found.total, found.by_language, segments.describe(
        segment, vocabulary(rt.community)), found.unknown_country)


def item_addresses(rt: Runtime, issue_id: int) -> dict[str, int]:
    """Each address an item of the issue brings (its link, registration link, image) →
    the item, so that a failed check can lead to the item to fix."""
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        out: dict[str, int] = {}
        for e in issue.entries:
            for url in (e.item.link, e.item.registration_url, e.item.image_url):
                if url:
                    out.setdefault(url, e.item.id)
        return out


# ------------------------------------------------------------------ approval

def _may_approve(s: Session, actor: Actor) -> None:
    """Editors and admins approve; a system actor (the CLI on the server) may too."""
    if actor.user_id is None:
        return
    user = s.get(User, actor.user_id)
    if user is None or not user.active or not user.is_editor:
        raise PermissionDenied(_l("Only editors can approve a newsletter issue."))


def approve(rt: Runtime, actor: Actor, issue_id: int, acknowledged: Iterable[str] = (),
            reasons: Mapping[str, str] | None = None) -> tuple[Issue, preflight.Report]:
    """Run the pre-flight, and if nothing blocks, freeze the snapshot and approve.
    ``reasons`` holds the editor's words for the warnings that need them (links that could
    not be reached); they go into the audit log with the approval."""
    acknowledged = sorted(set(acknowledged))
    reasons = {k: v.strip()[:500] for k, v in (reasons or {}).items() if v.strip()}
    with rt.db.session() as s:
        _may_approve(s, actor)
        issue = get_issue(s, issue_id)
        if issue.status not in ("draft", "in_review"):
            raise Conflict(_l("Issue #%(number)s is %(state)s; only a draft or an issue in "
                              "review can be approved.", number=issue.number,
                              state=issue_state(issue.status)))
    report, out = run_preflight(rt, issue_id)
    blocking = report.blocking(acknowledged, reasons)
    if blocking or out is None:
        raise Blocked(_l("Issue #%(number)s cannot be approved yet: fix the failed checks "
                         "and acknowledge the warnings.", number=issue.number), blocking,
                      report)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        # Re-render inside this transaction: what is frozen is exactly what was checked,
        # or the approval is refused because someone edited it meanwhile.
        now_out = render_current(rt, issue)
        if now_out != out:
            raise Conflict(_l("The issue changed while it was being checked; run the "
                              "pre-flight again."))
        if issue.status == "draft":
            transition(s, actor, issue, "issue", "in_review")
        html, text, digest = _frozen(rt, issue, out, base_language(rt))
        # Every other language's version, compiled once each (never per reader).
        for lang in issue_languages(rt, s)[1:]:
            version = render_current(rt, issue, lang)
            v_html, v_text, v_digest = _frozen(rt, issue, version, lang)
            issue.snapshots.append(IssueSnapshot(
                language=lang, subject=version.subject, preheader=version.preheader,
                html=v_html, text=v_text, sha256=v_digest))
        transition(s, actor, issue, "issue", "approved", sha256=digest,
                   acknowledged=[w.key for w in report.warnings],
                   **({"reasons": {w.key: reasons[w.key] for w in report.warnings
                                   if w.key in reasons}} if reasons else {}))
        issue.approved_at, issue.approved_by_id = clock.now(), actor.user_id
        issue.approved_by_label = actor.label
        issue.snapshot_subject, issue.snapshot_preheader = out.subject, out.preheader
        issue.snapshot_html, issue.snapshot_text = html, text
        issue.snapshot_sha256 = digest
        return issue, report


def _frozen(rt: Runtime, issue: Issue, out: RenderedIssue, language: str
            ) -> tuple[str, str, str]:
    """One version's HTML and text as they are frozen (links through the service when
    clicks are counted), and their SHA-256 with the subject and preheader."""
    html, text = out.html, out.text
    if rt.settings.click_counting and issue.number and not issue.announcement:
        # The same link for every reader of a language, through the service (``clicks``).
        links = {}
        for e in issue.entries:
            tr = e.item.in_language(language) if e.item.language != language else None
            links[e.item.id] = (tr.link or e.item.link) if tr else e.item.link
        for output in issue_outputs(issue):  # "From the library": as -(output id)
            links[-output.id] = output_page(rt, output)
        html, text = clicks.track(rt, issue.number, links, html, text,
                                  "" if language == base_language(rt) else language)
    digest = hashlib.sha256((out.subject + "\0" + out.preheader + "\0" + html +
                             "\0" + text).encode()).hexdigest()
    return html, text, digest
