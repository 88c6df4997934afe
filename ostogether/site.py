"""Finds and loads the community's own folders: content/, templates/ and schedules/.

The engine holds no community text. Everything a community says about itself (its
name, sender, eligibility criteria, code of conduct, timetable) is read from here, and
checked strictly: an unknown key or a wrong type is a ``ContentError`` naming the file
and the line, so a typo never silently changes behaviour.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ostogether import clock
from ostogether.errors import ContentError
from ostogether.settings import Settings
from ostogether.states import KINDS, NETWORKS

if TYPE_CHECKING:
    from ostogether.compose import Rules

# A field spec is a type name: str, int, bool, date, list[str], list[int], table[str],
# or a nested dict of specs for a sub-table.
Spec = dict[str, Any]


def line_of(text: str, key: str) -> int | None:
    """The first line (1-based) on which ``key`` is assigned or opens a table."""
    pattern = re.compile(
        rf"""^[ \t]*(\[[ \t]*)?["']?{re.escape(key)}["']?[ \t]*(=|\])""", re.MULTILINE)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file, turning every failure into a ContentError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found.") from None
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8 text; save it as UTF-8.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in its message.
        raise ContentError(f"{path}: TOML syntax error: {exc}.") from None


def check_table(data: dict[str, Any], spec: Spec, path: Path, text: str,
                prefix: str = "") -> list[str]:
    """Check ``data`` against ``spec``; return one problem per bad key, with its line."""
    problems: list[str] = []

    def where(key: str) -> str:
        line = line_of(text, key)
        return f"{path}:{line}" if line else str(path)

    for key, value in data.items():
        name = prefix + key
        if key not in spec:
            known = ", ".join(sorted(spec))
            problems.append(f"{where(key)}: unknown field '{name}' (known: {known}).")
            continue
        kind = spec[key]
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                problems.append(f"{where(key)}: '{name}' must be a table.")
            else:
                problems += check_table(value, kind, path, text, prefix=name + ".")
            continue
        if not _is(kind, value):
            problems.append(f"{where(key)}: '{name}' must be {_describe(kind)}, "
                            f"got {type(value).__name__}.")
    return problems


def _is(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "list[int]":
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "table[str]":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    raise AssertionError(f"unknown spec kind {kind}")


def _describe(kind: str) -> str:
    return {
        "str": "text in quotes", "int": "a whole number", "bool": "true or false",
        "date": "a date like 2024-01-31", "list[str]": "a list of texts in quotes",
        "list[int]": "a list of whole numbers", "table[str]": "a table of texts",
    }[kind]


# --------------------------------------------------------------------------- site.toml

SITE_SPEC: Spec = {
    "name": "str", "short_name": "str", "tagline": "str", "about": "str",
    "facilitator": "str", "contact_email": "str", "postal_address": "str",
    "language": "str",
    "sender": {"name": "str", "email": "str"},
    "links": "table[str]",
    "funding": {"statement": "str", "credit": "str", "disclaimer": "str"},
    "social": {"hashtags": "list[str]"},
}


@dataclass(frozen=True)
class Site:
    """The community's identity, from content/site.toml."""

    name: str
    short_name: str
    tagline: str
    about: str
    facilitator: str
    contact_email: str
    postal_address: str
    language: str
    sender_name: str
    sender_email: str
    links: dict[str, str] = field(default_factory=dict)
    funding_statement: str = "Funded by the European Union"
    funding_credit: str = ""
    funding_disclaimer: str = ""
    hashtags: tuple[str, ...] = ()


# ------------------------------------------------------------------ eligibility.toml

ELIGIBILITY_SPEC: Spec = {
    "themes": "table[str]",
    "initiative_types": "table[str]",
    "editor_review_types": "list[str]",
    "fields": {"required": "list[str]", "required_for_applications": "list[str]",
               "recommended": "list[str]"},
    "funding": {"eu_programmes": "list[str]", "other_programmes": "list[str]",
                "eu_initiative_types": "list[str]", "grant_number_pattern": "str"},
}


@dataclass(frozen=True)
class Criteria:
    """The eligibility criteria, from content/eligibility.toml."""

    themes: dict[str, str]
    initiative_types: dict[str, str]
    editor_review_types: list[str]
    required: list[str]
    required_for_applications: list[str]
    recommended: list[str]
    eu_programmes: list[str]
    other_programmes: list[str]
    eu_initiative_types: list[str]
    grant_number_pattern: str


@dataclass(frozen=True)
class Document:
    """A versioned text under content/: the code of conduct, the privacy notice."""

    version: str
    updated: dt.date | None
    markdown: str


HASHTAG = re.compile(r"(?!\d+$)\w{1,64}")
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


JOBS = {
    "poll_feeds": "Poll member feeds for new items",
    "compose_issue": "Compose the next issue's draft",
    "remind_members": "Remind member projects to send news",
    "remind_editors": "Remind editors when the issue is not approved",
    "send_issue": "Send the approved issue at its date",
    "plan_social": "Plan next week's social posts",
    "publish_social": "Publish due social posts",
    "process_bounces": "Process the bounce mailbox",
    "check_registry": "Check the registry's websites and feeds",
    "derive_status": "Make projects past their end date alumni",
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
        return JOBS[self.name]


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


@dataclass(frozen=True)
class Community:
    """Paths to the community folders, with loaders for what is in them."""

    root: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def schedules(self) -> Path:
        return self.root / "schedules"

    @property
    def projects_dir(self) -> Path:
        return self.content / "projects"

    def site(self) -> Site:
        path = self.content / "site.toml"
        data, text = read_toml(path)
        problems = check_table(data, SITE_SPEC, path, text)
        required = ["name", "short_name", "contact_email", "postal_address", "sender"]
        problems += [f"{path}: '{k}' is required." for k in required if k not in data]
        hashtags = data.get("social", {}).get("hashtags", [])
        problems += [f"{path}:{line_of(text, 'hashtags')}: hashtag '{tag}' must be letters "
                     f"and digits without '#' or spaces, in CamelCase (e.g. OpenSchooling)."
                     for tag in hashtags if not HASHTAG.fullmatch(tag)]
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        sender, funding = data["sender"], data.get("funding", {})
        return Site(
            name=data["name"], short_name=data["short_name"],
            tagline=data.get("tagline", ""), about=data.get("about", ""),
            facilitator=data.get("facilitator", ""), contact_email=data["contact_email"],
            postal_address=data["postal_address"], language=data.get("language", "en"),
            sender_name=sender.get("name", data["short_name"]),
            sender_email=sender.get("email", data["contact_email"]),
            links=dict(data.get("links", {})),
            funding_statement=funding.get("statement", "Funded by the European Union"),
            funding_credit=funding.get("credit", ""),
            funding_disclaimer=funding.get("disclaimer", ""),
            hashtags=tuple(hashtags),
        )

    def criteria(self) -> Criteria:
        path = self.content / "eligibility.toml"
        data, text = read_toml(path)
        problems = check_table(data, ELIGIBILITY_SPEC, path, text)
        for key in ("themes", "initiative_types", "fields", "funding"):
            if key not in data:
                problems.append(f"{path}: '{key}' is required.")
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        fields, funding = data["fields"], data["funding"]
        pattern = funding.get("grant_number_pattern", r"^[0-9]+$")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ContentError(f"{path}:{line_of(text, 'grant_number_pattern')}: "
                               f"grant_number_pattern is not a valid pattern: {exc}.") from None
        return Criteria(
            themes=dict(data["themes"]), initiative_types=dict(data["initiative_types"]),
            editor_review_types=list(data.get("editor_review_types", [])),
            required=list(fields.get("required", [])),
            required_for_applications=list(fields.get("required_for_applications", [])),
            recommended=list(fields.get("recommended", [])),
            eu_programmes=list(funding.get("eu_programmes", [])),
            other_programmes=list(funding.get("other_programmes", [])),
            eu_initiative_types=list(funding.get("eu_initiative_types", [])),
            grant_number_pattern=pattern,
        )

    def code_of_conduct(self) -> Document:
        """content/code-of-conduct.md: the rules every member project accepts."""
        return self.document("code-of-conduct.md")

    def privacy_notice(self) -> Document:
        """content/privacy.md: what subscribers agree to; its version is in the consent log."""
        return self.document("privacy.md")

    def document(self, name: str) -> Document:
        """A versioned text under content/: TOML front matter between +++ lines, then
        Markdown."""
        path = self.content / name
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ContentError(f"{path}: file not found.") from None
        m = re.match(r"\A\+\+\+\n(.*?)\n\+\+\+\n", text, re.DOTALL)
        if not m:
            raise ContentError(f"{path}:1: the file must start with front matter between "
                               f"'+++' lines that gives version = \"...\".")
        try:
            meta = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError as exc:
            raise ContentError(f"{path}: front matter is not valid TOML: {exc}.") from None
        problems = check_table(meta, {"version": "str", "updated": "date"}, path, text)
        if not meta.get("version"):
            problems.append(f"{path}:2: 'version' is required in the front matter.")
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        return Document(version=meta["version"], updated=meta.get("updated"),
                             markdown=text[m.end():])

    def newsletter(self) -> Rules:
        """content/newsletter.toml: the sections and the composer's rules."""
        from ostogether.compose import ORDERINGS, Rules, Section
        path = self.content / "newsletter.toml"
        data, text = read_toml(path)
        problems = check_table({k: v for k, v in data.items() if k != "sections"}, {
            "first_number": "int", "max_items_per_project": "int", "lookback_issues": "int",
            "credits": "table[str]"}, path, text)
        raw_sections = data.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            problems.append(f"{path}: at least one [[sections]] table is required.")
            raw_sections = []
        spec: Spec = {"key": "str", "title": "str", "kinds": "list[str]", "ordering": "str",
                      "max_items": "int", "editorial": "bool"}
        sections, seen_kinds = [], set()
        for n, raw in enumerate(raw_sections, 1):
            where = f"{path}: section {n}"
            found = check_table(raw, spec, path, text, prefix=f"sections[{n}].")
            if found:
                problems += found
                continue
            if not raw.get("key") or not raw.get("title"):
                problems.append(f"{where}: 'key' and 'title' are required.")
                continue
            kinds = tuple(raw.get("kinds", []))
            for kind in kinds:
                if kind not in KINDS:
                    problems.append(f"{where} ({raw['key']}): unknown kind '{kind}'; use "
                                    f"{', '.join(KINDS)}.")
                elif kind in seen_kinds:
                    problems.append(f"{where} ({raw['key']}): kind '{kind}' is already "
                                    f"taken by an earlier section.")
                seen_kinds.add(kind)
            ordering = raw.get("ordering", "newest")
            if ordering not in ORDERINGS:
                problems.append(f"{where} ({raw['key']}): ordering must be one of "
                                f"{', '.join(ORDERINGS)}; got '{ordering}'.")
            if raw.get("max_items", 5) < 1:
                problems.append(f"{where} ({raw['key']}): max_items must be at least 1.")
            sections.append(Section(key=raw["key"], title=raw["title"], kinds=kinds,
                                    ordering=ordering, max_items=raw.get("max_items", 5),
                                    editorial=raw.get("editorial", False)))
        keys = [s.key for s in sections]
        if len(set(keys)) != len(keys):
            problems.append(f"{path}: section keys must be unique; got {', '.join(keys)}.")
        for key in ("max_items_per_project", "lookback_issues", "first_number"):
            if key in data and data[key] < (0 if key == "lookback_issues" else 1):
                problems.append(f"{path}:{line_of(text, key)}: {key} is too small "
                                f"({data[key]}).")
        credits = dict(data.get("credits", {}))
        for programme, line in credits.items():
            try:
                line.format(acronym="", name="", programme="", grant_number="")
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"{path}:{line_of(text, programme)}: credit line for "
                                f"'{programme}' uses an unknown field {exc}; use {{acronym}}, "
                                f"{{name}}, {{programme}} or {{grant_number}}.")
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        return Rules(sections=tuple(sections),
                     max_items_per_project=data.get("max_items_per_project", 2),
                     lookback_issues=data.get("lookback_issues", 3),
                     first_number=data.get("first_number", 1), credits=credits)

    def schedule(self) -> Schedule:
        path = self.schedules / "ostogether.toml"
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

    def evergreen(self) -> list[Evergreen]:
        """content/social/*.toml: the evergreen library, one post per file."""
        folder = self.content / "social"
        entries, problems = [], []
        spec: Spec = {"kind": "str", "title": "str", "text": "str", "link": "str",
                      "hashtags": "list[str]", "image": "str", "image_alt": "str",
                      "networks": "list[str]", "active": "bool", "project": "str"}
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                data, text = read_toml(path)
            except ContentError as exc:
                problems.append(str(exc))
                continue
            found = check_table(data, spec, path, text)
            for key in ("kind", "title", "link"):
                if not data.get(key):
                    found.append(f"{path}: '{key}' is required.")
            if data.get("kind") and data["kind"] not in KINDS:
                found.append(f"{path}:{line_of(text, 'kind')}: unknown kind "
                             f"'{data['kind']}'; use {', '.join(KINDS)}.")
            link = data.get("link", "")
            if isinstance(link, str) and link and not re.match(r"https?://[^\s/]+", link):
                found.append(f"{path}:{line_of(text, 'link')}: link must be an http(s) "
                             f"address, got '{link}'.")
            if data.get("image") and not str(data.get("image_alt", "")).strip():
                found.append(f"{path}:{line_of(text, 'image')}: an image needs image_alt, "
                             f"a description for people who cannot see it.")
            found += _networks_problems(data.get("networks", []), path, text)
            found += [f"{path}:{line_of(text, 'hashtags')}: hashtag '{tag}' must be letters "
                      f"and digits without '#' or spaces." for tag in data.get("hashtags", [])
                      if isinstance(tag, str) and not HASHTAG.fullmatch(tag)]
            if found:
                problems += found
                continue
            entries.append(Evergreen(
                key=path.stem, kind=data["kind"], title=data["title"].strip(),
                text=data.get("text", "").strip(), link=link,
                hashtags=tuple(data.get("hashtags", [])), image_url=data.get("image", ""),
                image_alt=data.get("image_alt", "").strip(),
                networks=tuple(data.get("networks", [])), active=data.get("active", True),
                project=data.get("project", "")))
        if problems:
            raise ContentError(f"{folder}: {len(problems)} problem(s) in the evergreen "
                               f"library:", problems)
        return entries


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


@dataclass(frozen=True)
class Evergreen:
    """A post the community keeps and reuses, from content/social/<key>.toml."""

    key: str
    kind: str
    title: str
    text: str
    link: str
    hashtags: tuple[str, ...] = ()
    image_url: str = ""
    image_alt: str = ""
    networks: tuple[str, ...] = ()
    active: bool = True
    project: str = ""  # the slug of the member project it comes from, if any


def _cron_problem(expr: str, tz: str) -> str:
    """Why a cron line is refused, or ''. Days of the week must be names."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        return (f"cron needs 5 fields ({', '.join(CRON_FIELDS)}); got {len(fields)} in "
                f"'{expr}'")
    if re.search(r"\d", fields[4]):
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


def _networks_problems(networks: Any, path: Path, text: str) -> list[str]:
    return [f"{path}:{line_of(text, 'networks')}: unknown network '{n}'; use "
            f"{', '.join(NETWORKS)}." for n in networks if n not in NETWORKS]


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
        problems += _networks_problems(slot["networks"], path, text)
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


def community(settings: Settings) -> Community:
    return Community(root=settings.home.resolve())
