"""Announcements: a one-off mail (an event, a call) to a segment of the readers (issue 36).

An announcement is an ``Issue`` of kind "announcement" with a ``segment`` (topics,
audiences, languages, countries; ``core.segments`` has the rule). It has the issue's
texts per language, optional items, and the same pre-flight, approval, snapshots, test
sends, ledger and archive; the scheduler never composes one, and it never holds up the
next issue.

Numbering: announcements are numbered on their own, A1, A2, …, so that an issue's number
never moves. The number is stored negated in ``Issue.number`` (A3 is -3): the column stays
unique, the issues' numbering (the highest number + 1) never sees it, and a cancelled
announcement gives its number back like an issue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import pycountry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ostogether.core import clock
from ostogether.core.errors import ValidationError
from ostogether.core.languages import NEWSLETTER
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.segments import DIMENSIONS, Segment
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import Vocabulary, vocabulary
from ostogether.edges.wording import joined
from ostogether.models import Issue
from ostogether.newsletter.issues import _editable, checked_details, get_issue
from ostogether.newsletter.wording import listed
from ostogether.readers import segments, subscribers

KIND = "announcement"
# A new announcement goes out at this time tomorrow unless an editor says when (approved
# before it, it then goes by itself; "Send now" sends it at once).
FIRST_SEND = dt.timedelta(days=1)


def segment_of(issue: Issue) -> Segment:
    return Segment.from_dict(issue.segment)


def checked_segment(rt: Runtime, values: Mapping[str, Iterable[str]]) -> Segment:
    """The segment an editor chose (keys of the vocabulary, language and country codes),
    or a ValidationError that names each unknown value and what to use."""
    vocab = vocabulary(rt.community)
    chosen = {name: [str(v).strip() for v in values.get(name, ()) if str(v).strip()]
              for name in DIMENSIONS}
    fields: dict[str, Any] = {name: why for name in ("topics", "audiences")
              if (why := vocab.problem(name, chosen[name]))}
    bad = [code for code in chosen["languages"] if code not in NEWSLETTER]
    if bad:
        fields["languages"] = _l("Unknown language %(codes)s: use %(known)s.",
                                 codes=", ".join(repr(c[:10]) for c in bad),
                                 known=", ".join(NEWSLETTER))
    bad = [code for code in chosen["countries"] if len(code) != 2
           or pycountry.countries.get(alpha_2=code.upper()) is None]
    if bad:
        fields["countries"] = _l("Unknown country %(codes)s: use two-letter codes such as "
                                 "BE, NL.", codes=", ".join(repr(c[:10]) for c in bad))
    if fields:
        raise ValidationError(_l("The segment was not saved: %(problems)s",
                                 problems=joined(" ", fields.values())), fields)
    return Segment.of(*(chosen[name] for name in DIMENSIONS))


def _next_number(s: Session) -> int:
    """The next announcement's number, negated (the lowest so far minus one)."""
    lowest = s.scalar(select(func.min(Issue.number)).where(Issue.number < 0))
    return (lowest or 0) - 1


def create(rt: Runtime, actor: Actor, *, subject: str, preheader: str, intro_md: str,
           segment: Mapping[str, Iterable[str]]) -> Issue:
    """A new draft announcement with its texts and segment (checked first: nothing is
    created when one is wrong)."""
    problems: dict[str, Any] = {}
    try:
        subject, preheader, intro_md = checked_details(subject, preheader, intro_md)
    except ValidationError as exc:
        problems.update(exc.fields)
    try:
        chosen = checked_segment(rt, segment)
    except ValidationError as exc:
        problems.update(exc.fields)
    if problems:
        raise ValidationError(_l("The announcement was not created: %(problems)s",
                                 problems=listed(problems)), problems)
    now = clock.now()
    with rt.db.session() as s:
        issue = Issue(kind=KIND, number=_next_number(s), status="draft",
                      send_at=now.replace(second=0, microsecond=0) + FIRST_SEND,
                      subject=subject, preheader=preheader, intro_md=intro_md,
                      intro_html=markdown_to_html(intro_md), segment=chosen.as_dict(),
                      left_out=[], library_outputs=[])
        s.add(issue)
        s.flush()
        record(s, actor, "issue.composed", issue, kind=KIND, number=issue.number,
               segment=chosen.as_dict(), send_at=issue.send_at.isoformat())
        s.expunge(issue)
        return issue


def set_segment(rt: Runtime, actor: Actor, issue_id: int,
                values: Mapping[str, Iterable[str]]) -> bool:
    """Change an announcement's segment; an approved one goes back to review (whom it
    reaches is part of what was approved). True when it changed."""
    chosen = checked_segment(rt, values)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        if not issue.announcement:
            raise ValidationError(_l("Issue #%(number)s is not an announcement: it goes to "
                                     "every reader.", number=issue.number),
                                  {"segment": "not an announcement"})
        if segment_of(issue) == chosen:
            return False
        _editable(s, actor, issue)
        before = segment_of(issue).as_dict()
        issue.segment = chosen.as_dict()
        record(s, actor, "issue.segment_changed", issue, **{"from": before,
                                                            "to": chosen.as_dict()})
        return True


def recipients(rt: Runtime, issue: Issue) -> int:
    """How many readers a send of ``issue`` would go to now: every confirmed reader, or
    an announcement's segment."""
    with rt.db.session() as s:
        if issue.announcement:
            return segments.reach(s, segment_of(issue)).total
        return subscribers.counts(s)["confirmed"]


def reach(rt: Runtime, segment: Segment) -> segments.Reach:
    with rt.db.session() as s:
        return segments.reach(s, segment)


def choices(rt: Runtime) -> tuple[Vocabulary, list[str]]:
    """What an editor chooses a segment from: the vocabulary, and the countries (the
    community's organisations' and those readers are known to be in)."""
    with rt.db.session() as s:
        known = segments.countries(s)
    listed = rt.community.criteria().organisation_countries
    return vocabulary(rt.community), sorted({*known, *(c.upper() for c in listed)})
