"""An issue's send date and time: chosen by an editor in the community's zone, and the rule
by which the worker sends an approved issue when its time comes.

- **Choosing.** The date and time are read as a clock on the wall in the zone of
  schedules/ shows them, and stored in UTC (``issues.send_at``). A time that does not
  exist there (the hour skipped when the clocks go forward), a time that has passed, or
  one more than a year ahead is refused with a sentence beside its field.
- **Approval.** Moving an approved issue to another day sends it back to review: the
  newsletter shows the date (the default templates its month, a community's may show the
  day), and the day decides what is timely (composing left out the events that end
  before it). Moving it to another time of the same day keeps the approval when the
  newsletter stays the same to the byte (``newsletter.move_send_at`` renders it before
  and after): what readers get is then exactly what was approved, a little earlier or
  later.
- **Sending.** The worker starts the send of an approved issue whose time has come
  (``due``), if it was approved before that time and the time passed less than ``LATE``
  ago. An issue approved after its time, or found days late (a worker that was down),
  waits for an editor's "Send now" or a new time: news is not sent stale by itself.
  Starting goes through ``delivery.start``, which starts a send once, so the timetable's
  ``send_issue`` job and the worker's round never send an issue twice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.errors import Conflict, ValidationError
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue
from ostogether.newsletter.issues import EDITABLE, get_issue, move_send_at
from ostogether.newsletter.wording import issue_state, listed, long_day

# How late the worker still sends an approved issue by itself.
LATE = dt.timedelta(days=3)
# How far ahead a send date may be set: further is surely a typo.
AHEAD = dt.timedelta(days=366)
# What the date and time inputs send (and what the CLI takes): ASCII digits only.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


@dataclass(frozen=True)
class Moved:
    """What a new send time did: the times before and after (UTC), and whether the
    issue went back to review."""

    number: int | None
    before: dt.datetime
    after: dt.datetime
    back_to_review: bool


def when(day: str, at: str, zone: dt.tzinfo, now: dt.datetime | None = None) -> dt.datetime:
    """The instant (UTC) of ``day`` (YYYY-MM-DD) at ``at`` (HH:MM) in ``zone``, or
    ValidationError naming ``send_date`` or ``send_time`` with what to do."""
    now = now or clock.now()
    fields: dict[str, Any] = {}
    day, at = day.strip(), at.strip()
    date = time = None
    if _DATE.fullmatch(day):
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            pass
    if date is None:
        fields["send_date"] = (_l("choose a date") if not day else _l(
            "'%(day)s' is not a date: write it as YYYY-MM-DD, such as %(example)s", day=day,
            example=f"{(now + dt.timedelta(days=30)).astimezone(zone):%Y-%m-%d}"))
    if m := _TIME.fullmatch(at):
        try:
            time = dt.time(int(m[1]), int(m[2]), int(m[3] or 0))
        except ValueError:
            pass
    if time is None:
        fields["send_time"] = (_l("choose a time") if not at else _l(
            "'%(time)s' is not a time: write it as HH:MM, such as 10:00", time=at))
    if date is None or time is None:
        raise _refused(fields)
    instant = clock.local_instant(date, time, zone)
    name = getattr(zone, "key", str(zone))
    if instant is None:
        later = dt.datetime.combine(date, time, tzinfo=zone).astimezone(dt.UTC).astimezone(zone)
        raise _refused({"send_time": _l(
            "there is no %(time)s on %(day)s in %(zone)s: the clocks go forward that night; "
            "choose another time, such as %(later)s", time=f"{time:%H:%M}",
            day=long_day(date), zone=name, later=f"{later:%H:%M}")})
    if instant <= now:
        local = now.astimezone(zone)
        field = "send_date" if date < local.date() else "send_time"
        raise _refused({field: _l(
            "%(day)s at %(time)s has passed (it is now %(today)s, %(now)s in %(zone)s); "
            "choose a time to come", day=long_day(date), time=f"{time:%H:%M}",
            today=long_day(local), now=f"{local:%H:%M}", zone=name)})
    if instant > now + AHEAD:
        latest = (now + AHEAD).astimezone(zone)
        raise _refused({"send_date": _l("at most a year ahead: %(day)s at the latest",
                                        day=long_day(latest))})
    return instant


def _refused(fields: dict[str, Any]) -> ValidationError:
    labels = {"send_date": _l("the date"), "send_time": _l("the time")}
    return ValidationError(_l("The send date was not changed: %(problems)s.",
                              problems=listed([(labels[k], v) for k, v in fields.items()])),
                           fields)


def reschedule(rt: Runtime, actor: Actor, issue_id: int, day: str, at: str) -> Moved:
    """Set the send date and time of an issue not yet sending, from what an editor typed
    in the community's zone. Audited (``issue.rescheduled``, from and to)."""
    schedule = rt.community.schedule()
    instant = when(day, at, schedule.zone)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        if issue.status not in EDITABLE:
            raise Conflict(_l("Issue #%(number)s is %(state)s; its send date can no longer "
                              "change.", number=issue.number, state=issue_state(issue.status)))
        before = issue.send_at
        if instant == before:
            return Moved(issue.number, before, instant, False)
        zone = schedule.zone
        same_day = before.astimezone(zone).date() == instant.astimezone(zone).date()
        back = move_send_at(rt, s, actor, issue, instant, "the send " + (
            "time" if same_day else "date") + " changed after approval", may_keep=same_day)
        record(s, actor, "issue.rescheduled", issue, **{
            "from": before.isoformat(), "to": instant.isoformat(), "back_to_review": back})
        return Moved(issue.number, before, instant, back)


def goes_by_itself(issue: Issue) -> bool:
    """Whether the worker sends this issue at its time: approved, before that time."""
    return (issue.status == "approved" and issue.approved_at is not None
            and issue.approved_at <= issue.send_at)


def due(rt: Runtime, now: dt.datetime) -> list[int]:
    """The approved issues the worker should start sending now (see the module's rule)."""
    with rt.db.session() as s:
        return list(s.scalars(select(Issue.id).where(
            Issue.status == "approved", Issue.send_at <= now, Issue.send_at > now - LATE,
            Issue.approved_at.is_not(None), Issue.approved_at <= Issue.send_at)
            .order_by(Issue.send_at)))
