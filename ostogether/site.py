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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ostogether.errors import ContentError
from ostogether.settings import Settings

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
class CodeOfConduct:
    version: str
    updated: dt.date | None
    markdown: str


@dataclass(frozen=True)
class Schedule:
    """The parts of schedules/ the foundation needs: the community's timezone."""

    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        now = now or dt.datetime.now(dt.UTC)
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
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        sender = data["sender"]
        return Site(
            name=data["name"], short_name=data["short_name"],
            tagline=data.get("tagline", ""), about=data.get("about", ""),
            facilitator=data.get("facilitator", ""), contact_email=data["contact_email"],
            postal_address=data["postal_address"], language=data.get("language", "en"),
            sender_name=sender.get("name", data["short_name"]),
            sender_email=sender.get("email", data["contact_email"]),
            links=dict(data.get("links", {})),
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

    def code_of_conduct(self) -> CodeOfConduct:
        """content/code-of-conduct.md: TOML front matter between +++ lines, then Markdown."""
        path = self.content / "code-of-conduct.md"
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
        return CodeOfConduct(version=meta["version"], updated=meta.get("updated"),
                             markdown=text[m.end():])

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
        return Schedule(timezone=tz)


def community(settings: Settings) -> Community:
    return Community(root=settings.home.resolve())
