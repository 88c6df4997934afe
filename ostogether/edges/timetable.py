"""The community's timetable (schedules/): when issues go out, when jobs run, and the
weekly social slots.

- **Send dates.** Issues go out on a day of the listed months at a local time, computed
  on the local calendar, so daylight saving never moves a send.
- **Jobs.** Each job of the catalogue (``JOBS``) takes a cron line, or is timed from the
  send dates (``RELATIVE_JOBS``: days or hours before, at a local time of day).
- **Triggers.** ``trigger_for`` turns a job into an APScheduler trigger, and
  ``next_runs`` lists its next run times, for the worker and for the editors' page alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from ostogether.core import clock
from ostogether.core.errors import ContentError
from ostogether.core.states import KINDS
from ostogether.core.words import _l
from ostogether.edges.tomlcheck import Spec, check_table, line_of, networks_problems, read_toml

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class NewsletterDates:
    """When issues go out: ``day`` of each month in ``months`` (1-12), at ``time``."""

    months: tuple[int, ...] = (1, 3, 5, 7, 9, 11)
    day: int = 15
    time: dt.time = dt.time(10, 0)


@dataclass(frozen=True)
class SocialSlot:
    """A weekly posting slot: on ``days`` (0 = Monday) at local ``time``, one post per
    network in ``networks``, taking content of the ``kinds`` listed (in that order of
    preference)."""

    days: tuple[int, ...]
    time: dt.time
    networks: tuple[str, ...]
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class SocialRules:
    """The social part of the timetable: its slots and the evergreen rule."""

    slots: tuple[SocialSlot, ...] = ()
    evergreen_repeat_weeks: int = 12


# What each job does, as the editors' schedule page says it (in the page's language when
# shown; ``Job.description`` is the text, English outside the application).
JOBS: dict[str, Any] = {
    "poll_feeds": _l("Poll member feeds for new items"),
    "compose_issue": _l("Compose the next issue's draft"),
    "remind_members": _l("Remind member projects to send news"),
    "remind_editors": _l("Remind editors when the issue is not approved"),
    "send_issue": _l("Send the approved issue at its date"),
    "plan_social": _l("Plan next week's social posts"),
    "publish_social": _l("Publish due social posts"),
    "process_bounces": _l("Process the bounce mailbox"),
    "check_registry": _l("Check the registry's websites and feeds"),
    "derive_status": _l("Make projects past their end date alumni"),
    "purge_pending": _l("Delete sign-ups never confirmed"),
    "social_metrics": _l("Take published posts' counts at 48 h, 7 and 28 days"),
    "purge_visitors": _l("Delete the visitor keys of past days (reach counting)"),
    "check_library": _l("Check every library output's address; record dead links"),
}


@dataclass(frozen=True)
class Offset:
    """How a job is timed from the send dates: its key in the file, the default, the
    unit and range of that amount, and whether a local time of day may be given."""

    key: str = ""
    default: int = 0
    unit: str = "days"
    most: int = 60
    timed: bool = False

    def spec(self) -> Spec:
        return {**({self.key: "int"} if self.key else {}),
                **({"time": "str"} if self.timed else {})}


# Jobs timed from the newsletter's send dates; every other job takes a cron line.
RELATIVE_JOBS: dict[str, Offset] = {
    "compose_issue": Offset("days_before_send", 10, timed=True),
    "remind_members": Offset("days_before_compose", 7, timed=True),
    "remind_editors": Offset("hours_before_send", 48, unit="hours", most=720),
    "send_issue": Offset(),
}
CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")


@dataclass(frozen=True)
class JobSpec:
    """One job of the timetable: a cron line, or a time relative to the newsletter's
    send dates (``before`` before each send, at local ``at`` when given)."""

    name: str
    cron: str = ""
    before: dt.timedelta = dt.timedelta(0)
    at: dt.time | None = None
    enabled: bool = True

    @property
    def description(self) -> str:
        return str(JOBS[self.name])


@dataclass(frozen=True)
class Schedule:
    """The community's timetable from schedules/: its timezone, the newsletter dates and
    the weekly social slots."""

    timezone: str
    newsletter: NewsletterDates = field(default_factory=NewsletterDates)
    social: SocialRules = field(default_factory=SocialRules)
    jobs: tuple[JobSpec, ...] = ()

    def send_dates(self, start: dt.datetime) -> Iterator[dt.datetime]:
        """Every newsletter send time (UTC) from ``start`` on, in order."""
        when = start - dt.timedelta(microseconds=1)
        while True:
            when = self.next_send(when)
            yield when

    def fire_for(self, job: JobSpec, send: dt.datetime) -> dt.datetime:
        """When ``job`` runs for the issue sent at ``send`` (UTC). A time of day in
        ``job.at`` is local, so daylight saving never moves it. Members are reminded
        relative to the composition day, not the send date."""
        base = send
        if job.name == "remind_members":
            compose = self.job("compose_issue")
            base = send - (compose.before if compose else dt.timedelta(0))
        if job.at is None:
            return base - job.before
        day = (base - job.before).astimezone(self.zone).date()
        return dt.datetime.combine(day, job.at, tzinfo=self.zone).astimezone(dt.UTC)

    def fire_times(self, job: JobSpec, after: dt.datetime) -> Iterator[dt.datetime]:
        """The send-relative times of ``job`` strictly after ``after``, in order (UTC)."""
        for send in self.send_dates(after - dt.timedelta(days=400)):
            fire = self.fire_for(job, send)
            if fire > after:
                yield fire

    def job(self, name: str) -> JobSpec | None:
        return next((j for j in self.jobs if j.name == name and j.enabled), None)

    def slots_in_week(self, year: int, week: int) -> list[tuple[dt.datetime, SocialSlot]]:
        """Every slot of ISO week ``year``-W``week``, as (UTC time, slot), in time order.

        Built on the local calendar, so a daylight-saving change keeps the local time.
        """
        out = []
        for slot in self.social.slots:
            for day in slot.days:
                local = dt.datetime.combine(dt.date.fromisocalendar(year, week, day + 1),
                                            slot.time, tzinfo=self.zone)
                out.append((local.astimezone(dt.UTC), slot))
        return sorted(out, key=lambda pair: pair[0])

    def next_send(self, after: dt.datetime) -> dt.datetime:
        """The first newsletter date strictly after ``after``, in UTC.

        Computed on the local calendar, so a daylight-saving change never moves the
        local send time.
        """
        local = after.astimezone(self.zone)
        n = self.newsletter
        for offset in range(0, 25):
            year, month0 = divmod(local.month - 1 + offset, 12)
            month = month0 + 1
            if month not in n.months:
                continue
            when = dt.datetime.combine(dt.date(local.year + year, month, n.day), n.time,
                                       tzinfo=self.zone)
            if when > local:
                return when.astimezone(dt.UTC)
        raise AssertionError("no send month within two years")  # months is never empty

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        now = now or clock.now()
        return now.astimezone(self.zone).date()


def load(path: Path) -> Schedule:
    """The timetable in ``path`` (schedules/ostogether.toml), checked whole."""
    data, text = read_toml(path)
    tz = data.get("timezone")
    if not isinstance(tz, str):
        raise ContentError(f"{path}: 'timezone' is required, e.g. \"Europe/Brussels\".")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ContentError(f"{path}:{line_of(text, 'timezone')}: unknown timezone '{tz}'; "
                           f"use an IANA name such as Europe/Brussels.") from None
    problems = check_table({k: v for k, v in data.items()
                            if k not in ("newsletter", "social", "jobs")},
                           {"timezone": "str"}, path, text)
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return Schedule(timezone=tz, newsletter=_newsletter_dates(data, path, text),
                    social=_social_rules(data, path, text),
                    jobs=_jobs(data.get("jobs", {}), tz, path, text))


def _newsletter_dates(data: dict[str, Any], path: Path, text: str) -> NewsletterDates:
    raw = data.get("newsletter")
    if raw is None:
        return NewsletterDates()
    problems = check_table({"newsletter": raw}, {"newsletter": {
        "send_months": "list[str]", "send_day": "int", "send_time": "str"}}, path, text)
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)

    def at(key: str) -> str:
        return f"{path}:{line_of(text, key) or ''}".rstrip(":")

    months = [m.lower() for m in raw.get("send_months", ["jan", "mar", "may", "jul",
                                                          "sep", "nov"])]
    bad = [m for m in months if m not in MONTHS]
    if bad or not months:
        problems.append(f"{at('send_months')}: send_months must list month names "
                        f"({', '.join(MONTHS)}); got {', '.join(bad) or 'none'}.")
    day = raw.get("send_day", 15)
    if not 1 <= day <= 28:
        problems.append(f"{at('send_day')}: send_day must be 1-28, so that every month "
                        f"has it; got {day}.")
    try:
        time = dt.time.fromisoformat(raw.get("send_time", "10:00"))
    except ValueError:
        problems.append(f"{at('send_time')}: send_time must be a local time like "
                        f"\"10:00\"; got \"{raw.get('send_time')}\".")
        time = dt.time(10)
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return NewsletterDates(months=tuple(sorted({MONTHS.index(m) + 1 for m in months})),
                           day=day, time=time)


def _cron_problem(expr: str, tz: str) -> str:
    """Why a cron line is refused, or ''. Days of the week must be names."""
    fields = expr.split()
    if len(fields) != 5:
        return (f"cron needs 5 fields ({', '.join(CRON_FIELDS)}); got {len(fields)} in "
                f"'{expr}'")
    if re.search(r"[0-9]", fields[4]):
        return (f"write the day of the week as names (mon … sun), not numbers: got "
                f"'{fields[4]}'. Cron counts 0 as Sunday and APScheduler as Monday, so a "
                f"number is ambiguous")
    try:
        CronTrigger.from_crontab(expr, timezone=tz)
    except ValueError as exc:
        return f"invalid cron line '{expr}': {exc}"
    return ""


def _jobs(raw: Any, tz: str, path: Path, text: str) -> tuple[JobSpec, ...]:
    if not isinstance(raw, dict):
        raise ContentError(f"{path}: 'jobs' must be tables like [jobs.poll_feeds].")
    problems: list[str] = []
    specs = []
    for name, table in raw.items():
        where = f"{path}:{line_of(text, 'jobs.' + name) or line_of(text, name) or ''}"
        where = where.rstrip(":")
        if name not in JOBS:
            problems.append(f"{where}: unknown job '{name}'; the jobs are "
                            f"{', '.join(JOBS)}.")
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: [jobs.{name}] must be a table.")
            continue
        offset = RELATIVE_JOBS.get(name)
        spec: Spec = {"enabled": "bool", **(offset.spec() if offset else {"cron": "str"})}
        found = check_table(table, spec, path, text, prefix=f"jobs.{name}.")
        if found:
            problems += found
            continue
        enabled = table.get("enabled", True)
        if offset is None:
            expr = table.get("cron", "")
            why = _cron_problem(expr, tz) if expr else "'cron' is required"
            if why:
                problems.append(f"{where}: jobs.{name}: {why}.")
                continue
            specs.append(JobSpec(name, cron=expr, enabled=enabled))
            continue
        at = None
        if "time" in table:
            try:
                at = dt.time.fromisoformat(table["time"])
            except ValueError:
                problems.append(f"{where}: jobs.{name}: time must be a local time like "
                                f"\"09:00\"; got \"{table['time']}\".")
                continue
        value = table.get(offset.key, offset.default) if offset.key else 0
        if offset.key and not 1 <= value <= offset.most:
            problems.append(f"{where}: jobs.{name}: {offset.key} is out of range "
                            f"(1-{offset.most}); got {value}.")
            continue
        before = dt.timedelta(**{offset.unit: value})
        specs.append(JobSpec(name, before=before, at=at, enabled=enabled))
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return tuple(specs)


def _social_rules(data: dict[str, Any], path: Path, text: str) -> SocialRules:
    raw = data.get("social")
    if raw is None:
        return SocialRules()
    problems = check_table({"social": {k: v for k, v in raw.items() if k != "slots"}},
                           {"social": {"evergreen_repeat_weeks": "int"}}, path, text)
    weeks = raw.get("evergreen_repeat_weeks", 12)
    if isinstance(weeks, int) and not 1 <= weeks <= 520:
        problems.append(f"{path}:{line_of(text, 'evergreen_repeat_weeks')}: "
                        f"evergreen_repeat_weeks must be 1-520; got {weeks}.")
    raw_slots = raw.get("slots", [])
    if not isinstance(raw_slots, list):
        problems.append(f"{path}: social.slots must be a list of [[social.slots]] tables.")
        raw_slots = []
    spec: Spec = {"days": "list[str]", "time": "str", "networks": "list[str]",
                  "kinds": "list[str]"}
    slots = []
    for n, slot in enumerate(raw_slots, 1):
        where = f"{path}: social slot {n}"
        if not isinstance(slot, dict):
            problems.append(f"{where}: must be a table.")
            continue
        found = check_table(slot, spec, path, text, prefix=f"social.slots[{n}].")
        if not found:
            for key in spec:
                if not slot.get(key):
                    found.append(f"{where}: '{key}' is required.")
        if found:
            problems += found
            continue
        bad_days = [d for d in slot["days"] if d.lower() not in WEEKDAYS]
        if bad_days:
            problems.append(f"{where}: days must be weekday names ({', '.join(WEEKDAYS)}); "
                            f"got {', '.join(bad_days)}.")
        try:
            time = dt.time.fromisoformat(slot["time"])
        except ValueError:
            problems.append(f"{where}: time must be a local time like \"10:00\"; got "
                            f"\"{slot['time']}\".")
            time = dt.time(10)
        problems += networks_problems(slot["networks"], path, text)
        problems += [f"{where}: unknown kind '{k}'; use {', '.join(KINDS)}."
                     for k in slot["kinds"] if k not in KINDS]
        slots.append(SocialSlot(
            days=tuple(sorted({WEEKDAYS.index(d.lower()) for d in slot["days"]
                               if d.lower() in WEEKDAYS})),
            time=time, networks=tuple(dict.fromkeys(slot["networks"])),
            kinds=tuple(dict.fromkeys(slot["kinds"]))))
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return SocialRules(slots=tuple(slots), evergreen_repeat_weeks=weeks)


# ------------------------------------------------------------------------- triggers

class TimetableTrigger(BaseTrigger):
    """Fires at the times of a job relative to the newsletter's send dates, as
    ``Schedule.fire_times`` computes them (local times stay local across daylight
    saving)."""

    def __init__(self, schedule: Schedule, job: JobSpec) -> None:
        self.schedule, self.job = schedule, job

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None,
                           now: dt.datetime) -> dt.datetime | None:
        after = previous_fire_time or (now - dt.timedelta(microseconds=1))
        return next(self.schedule.fire_times(self.job, after), None)

    def __str__(self) -> str:
        return f"timetable[{self.job.name}]"


def trigger_for(schedule: Schedule, job: JobSpec) -> BaseTrigger:
    if job.cron:
        return CronTrigger.from_crontab(job.cron, timezone=schedule.zone)
    return TimetableTrigger(schedule, job)


def next_runs(schedule: Schedule, job: JobSpec, now: dt.datetime,
              count: int = 5) -> list[dt.datetime]:
    """The next ``count`` run times of ``job`` after ``now`` (aware, in the zone)."""
    trigger = trigger_for(schedule, job)
    times: list[dt.datetime] = []
    previous = None
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        times.append(fire.astimezone(schedule.zone))
        previous, now = fire, fire + dt.timedelta(microseconds=1)
    return times
