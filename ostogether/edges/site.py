"""Finds and loads the community's own folders: content/, templates/ and schedules/.

The engine holds no community text. Everything a community says about itself (its
name, sender, eligibility criteria, code of conduct, newsletter sections, evergreen
posts) is loaded from here, checked by ``tomlcheck`` so that a typo is a
``ContentError`` naming the file and the line. The timetable is read by ``timetable``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from ostogether.core.compose import ORDERINGS, Rules, Section
from ostogether.core.errors import ContentError
from ostogether.core.languages import NEWSLETTER as NEWSLETTER_LANGUAGES
from ostogether.core.settings import Settings
from ostogether.core.states import KINDS
from ostogether.edges import timetable
from ostogether.edges.timetable import Schedule
from ostogether.edges.tomlcheck import Spec, check_table, line_of, networks_problems, read_toml

_T = TypeVar("_T")

# --------------------------------------------------------------------------- site.toml

SITE_SPEC: Spec = {
    "name": "str", "short_name": "str", "tagline": "str", "about": "str",
    "facilitator": "str", "contact_email": "str", "postal_address": "str",
    "language": "str",
    "sender": {"name": "str", "email": "str"},
    "links": "table[str]",
    "funding": {"statement": "str", "credit": "str", "disclaimer": "str"},
    "social": {"hashtags": "list[str]", "funding": {
        "x": "str", "facebook": "str", "linkedin": "str", "mastodon": "str", "bluesky": "str"}},
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
    # The EU funding line or tag of each network's posts ([social.funding]).
    social_funding: dict[str, str] = field(default_factory=dict)
    # [languages.<code>]: the texts a visitor or reader sees, per language (SITE_TEXTS).
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    # The language this copy is shown in (``in_language``) and the texts it gives in it.
    shown: str = ""
    translated: frozenset[str] = frozenset()
    # Each language's copy, made once: the same object while site.toml is unchanged, so
    # the page fragments kept for it stay valid (web/cache.py compares by identity).
    _copies: dict[str, Site] = field(default_factory=dict, init=False, compare=False,
                                     repr=False)

    def in_language(self, code: str) -> Site:
        """This site as a page or mail in language ``code`` shows it: each text of
        [languages.<code>], the base language's where it gives none (see ``lang_of``).
        Called on the site as loaded (its base language)."""
        found = self._copies.get(code)
        if found is None:
            own: dict[str, Any] = ({} if code == self.language
                                   else dict(self.translations.get(code, {})))
            found = self._copies[code] = replace(self, **own, shown=code,
                                                 translated=frozenset(own))
        return found

    def lang_of(self, name: str) -> str:
        """The language text ``name`` is in: the shown language when [languages] gives
        it there, else the base language (a page marks such a block with ``lang``)."""
        if not self.shown or self.shown == self.language or name in self.translated:
            return self.shown or self.language
        return self.language


# ------------------------------------------------------------------ eligibility.toml

ELIGIBILITY_SPEC: Spec = {
    "themes": "table[str]",
    "initiative_types": "table[str]",
    "editor_review_types": "list[str]",
    "fields": {"required": "list[str]", "required_for_applications": "list[str]",
               "recommended": "list[str]"},
    "funding": {"eu_programmes": "list[str]", "other_programmes": "list[str]",
                "eu_initiative_types": "list[str]", "grant_number_pattern": "str"},
    "organisations": {"required": "list[str]", "countries": "list[str]",
                      "types": "table[str]"},
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
    # [organisations]: what the rules ask of an organisation that joins (issue 37).
    organisation_types: dict[str, str] = field(default_factory=dict)
    organisation_countries: list[str] = field(default_factory=list)
    organisation_required: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    """A versioned text under content/: the code of conduct, the privacy notice."""

    version: str
    updated: dt.date | None
    markdown: str
    language: str = "en"  # the language its text is in


HASHTAG = re.compile(r"(?!\d+$)\w{1,64}")

# content/newsletter.toml's [languages.<code>] tables: the newsletter's fixed texts, each
# with the {fields} it may use. English (the base language) gives every one but the
# funding lines (site.toml's by default); another language falls back to it key by key.
NEWSLETTER_TEXTS: dict[str, tuple[str, ...]] = {
    "view_in_browser": (), "heading": ("short_name", "number"),
    "announcement_heading": ("short_name",), "announcement": (), "dateline": ("month", "year"),
    "announcement_view_in_browser": (), "announcement_archive_before": (),
    "archive_before": (), "archive_link": (), "archive_after": (),
    "you_receive": ("short_name",), "sent_by": ("sender_name", "name", "facilitator"),
    "postal": ("postal_address",), "view_short": (), "preferences": (), "unsubscribe": (),
    "earlier_issues": (), "unsubscribe_short": (), "register_for": ("title",),
    "register": (), "read_more": (), "online": (), "emblem_alt": (),
    "event_date": ("weekday", "day", "month", "year", "time"),
    "story": (), "stories": (), "project": (), "projects": (), "from": (), "and_more": (),
    "preheader_empty": (), "subject_empty": (), "other_languages": (),
    "feed_title": ("short_name",), "nothing_for_you": ("choices",), "change_choices": (),
    **{f"in_{code}": () for code in NEWSLETTER_LANGUAGES}, "in_other": (),
    "funding_statement": (), "funding_credit": (), "funding_disclaimer": (),
}
NEWSLETTER_LISTS = {"months": 12, "weekdays": 7}
OPTIONAL_TEXTS = ("funding_statement", "funding_credit", "funding_disclaimer",
                  "announcement_heading", "announcement", "announcement_view_in_browser",
                  "announcement_archive_before")  # (issue 36) else the issue's words


def _line_in_table(text: str, header: str, key: str) -> int | None:
    """The line of ``key`` inside the table that ``[header]`` opens (else the header's)."""
    m = re.search(rf"^[ \t]*\[[ \t]*{re.escape(header)}[ \t]*\]", text, re.MULTILINE)
    if m is None:
        return line_of(text, key)
    rest = text[m.end():]
    end = re.search(r"^[ \t]*\[", rest, re.MULTILINE)
    block = rest[:end.start()] if end else rest
    k = re.search(rf"""^[ \t]*["']?{re.escape(key)}["']?[ \t]*=""", block, re.MULTILINE)
    at = m.end() + k.start() if k else m.start()
    return text.count("\n", 0, at) + 1


def _fields_problem(value: str, allowed: tuple[str, ...]) -> str:
    """Why ``value`` cannot be filled with ``allowed`` fields, or ""."""
    try:
        value.format(**{f: "" for f in allowed})
    except (KeyError, IndexError, ValueError) as exc:
        return (f"uses an unknown field {exc}; use " + (", ".join(f"{{{f}}}" for f in allowed)
                if allowed else "no {fields} (write {{ and }} for braces)"))
    return ""


def newsletter_languages(data: Any, sections: list[Section], credits: dict[str, str],
                         base: str, path: Path, text: str
                         ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]],
                                    dict[str, dict[str, str]], list[str]]:
    """content/newsletter.toml's [languages.<code>] tables, checked: (texts, section
    titles, credits) per language and the problems, each with file and line."""
    problems: list[str] = []
    texts: dict[str, dict[str, Any]] = {}
    titles: dict[str, dict[str, str]] = {}
    credits_in: dict[str, dict[str, str]] = {}
    if not isinstance(data, dict):
        return texts, titles, credits_in, [f"{path}:{line_of(text, 'languages')}: "
                                           f"'languages' must be a table of languages."]
    keys = {s.key for s in sections}
    for code, table in data.items():
        header = f"languages.{code}"
        where = f"{path}:{_line_in_table(text, header, code)}"
        if code not in NEWSLETTER_LANGUAGES:
            problems.append(f"{where}: unknown language '{code}'; use "
                            f"{', '.join(NEWSLETTER_LANGUAGES)}.")
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: '{header}' must be a table.")
            continue
        own: dict[str, Any] = {}
        for key, value in table.items():
            at = f"{path}:{_line_in_table(text, header, key)}"
            if key in ("sections", "credits") and isinstance(value, dict):
                sub = f"{header}.{key}"
                for name, line in value.items():
                    sat = f"{path}:{_line_in_table(text, sub, name)}"
                    if not isinstance(line, str):
                        problems.append(f"{sat}: '{sub}.{name}' must be text in quotes.")
                    elif key == "sections" and name not in keys:
                        problems.append(f"{sat}: unknown section '{name}'; the sections are "
                                        f"{', '.join(sorted(keys))}.")
                    elif key == "credits" and (why := _fields_problem(
                            line, ("acronym", "name", "programme", "grant_number"))):
                        problems.append(f"{sat}: the credit line for '{name}' {why}.")
                    else:
                        (titles if key == "sections" else credits_in).setdefault(
                            code, {})[name] = line
            elif key in NEWSLETTER_LISTS:
                n = NEWSLETTER_LISTS[key]
                if not (isinstance(value, list) and len(value) == n
                        and all(isinstance(v, str) and v for v in value)):
                    problems.append(f"{at}: '{header}.{key}' must be a list of {n} texts.")
                else:
                    own[key] = list(value)
            elif key in NEWSLETTER_TEXTS:
                if not isinstance(value, str):
                    problems.append(f"{at}: '{header}.{key}' must be text in quotes.")
                elif why := _fields_problem(value, NEWSLETTER_TEXTS[key]):
                    problems.append(f"{at}: '{header}.{key}' {why}.")
                else:
                    own[key] = value
            else:
                problems.append(f"{at}: unknown text '{header}.{key}' (known: "
                                f"{', '.join(sorted([*NEWSLETTER_TEXTS, *NEWSLETTER_LISTS]))}"
                                f", sections, credits).")
        texts[code] = own
    given = texts.get(base, {})
    missing = [k for k in [*NEWSLETTER_TEXTS, *NEWSLETTER_LISTS]
               if k not in given and k not in OPTIONAL_TEXTS]
    if missing and not any(p.startswith(f"{path}:") and f"languages.{base}" in p
                           for p in problems):
        problems.append(f"{path}:{line_of(text, 'languages.' + base) or line_of(text, 'languages')}"
                        f": [languages.{base}] must give every text of the newsletter "
                        f"(the fallback of the others); missing: {', '.join(missing)}.")
    return texts, titles, credits_in, problems


# The texts of site.toml a visitor or reader sees, which [languages.<code>] may give in
# another language (key in the table: the Site field it replaces).
SITE_TEXTS = ("name", "tagline", "about", "facilitator", "postal_address",
              "funding_statement", "funding_credit", "funding_disclaimer")


def site_languages(data: Any, base: str, path: Path, text: str
                   ) -> tuple[dict[str, dict[str, str]], list[str]]:
    """site.toml's [languages.<code>] tables, checked: the texts per language, and the
    problems (an unknown language or text, a value that is not text), each with file
    and line."""
    found: dict[str, dict[str, str]] = {}
    if not isinstance(data, dict):
        return found, [f"{path}:{line_of(text, 'languages')}: 'languages' must be a table "
                       f"of languages, like [languages.nl]."]
    problems: list[str] = []
    for code, table in data.items():
        header = f"languages.{code}"
        where = f"{path}:{_line_in_table(text, header, code)}"
        if code not in NEWSLETTER_LANGUAGES or code == base:
            problems.append(f"{where}: unknown language '{code}'; use one of "
                            f"{', '.join(c for c in NEWSLETTER_LANGUAGES if c != base)} "
                            f"(the texts outside [languages] are the {base} ones).")
            continue
        if not isinstance(table, dict):
            problems.append(f"{where}: '{header}' must be a table.")
            continue
        for key, value in table.items():
            at = f"{path}:{_line_in_table(text, header, key)}"
            if key not in SITE_TEXTS:
                problems.append(f"{at}: unknown text '{header}.{key}' (known: "
                                f"{', '.join(SITE_TEXTS)}).")
            elif not isinstance(value, str) or not value.strip():
                problems.append(f"{at}: '{header}.{key}' must be text in quotes.")
            else:
                found.setdefault(code, {})[key] = value
    return found, problems


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

    def _load_site(self) -> Site:
        path = self.content / "site.toml"
        data, text = read_toml(path)
        problems = check_table({k: v for k, v in data.items() if k != "languages"},
                               SITE_SPEC, path, text)
        translations, more = site_languages(data.get("languages", {}),
                                            data.get("language", "en"), path, text)
        problems += more
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
            social_funding={k: v.strip() for k, v in data.get("social", {}).get(
                "funding", {}).items() if v.strip()},
            translations=translations,
        )

    def _load_criteria(self) -> Criteria:
        path = self.content / "eligibility.toml"
        data, text = read_toml(path)
        problems = check_table(data, ELIGIBILITY_SPEC, path, text)
        for key in ("themes", "initiative_types", "fields", "funding"):
            if key not in data:
                problems.append(f"{path}: '{key}' is required.")
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        orgs = data.get("organisations", {})
        problems += [f"{path}:{line_of(text, 'countries')}: '{c}' in [organisations] "
                     f"countries is not a two-letter country code." for c in
                     orgs.get("countries", []) if not re.fullmatch("[A-Z]{2}", c)]
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        fields, funding = data["fields"], data["funding"]
        pattern = funding.get("grant_number_pattern", r"^[0-9]+$")
        try:
            re.compile(pattern, re.ASCII)  # as registry.funding matches it
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
            organisation_types=dict(orgs.get("types", {})),
            organisation_countries=list(orgs.get("countries", [])),
            organisation_required=list(orgs.get("required", ["name", "country"])),
        )

    def code_of_conduct(self, language: str | None = None) -> Document:
        """content/code-of-conduct.md: the rules every member project accepts (in
        ``language`` where content/code-of-conduct.<language>.md gives them)."""
        return self.document("code-of-conduct.md", language)

    def privacy_notice(self, language: str | None = None) -> Document:
        """content/privacy.md: what subscribers agree to; its version is in the consent log
        (in ``language`` where content/privacy.<language>.md gives it)."""
        return self.document("privacy.md", language)

    def _load_document(self, name: str, language: str = "") -> Document:
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
                        markdown=text[m.end():], language=language or self.site().language)

    def _load_newsletter(self) -> Rules:
        """content/newsletter.toml: the sections and the composer's rules."""
        path = self.content / "newsletter.toml"
        data, text = read_toml(path)
        problems = check_table({k: v for k, v in data.items()
                                if k not in ("sections", "languages")}, {
            "first_number": "int", "max_items_per_project": "int", "lookback_issues": "int",
            "credits": "table[str]"}, path, text)
        raw_sections = data.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            problems.append(f"{path}: at least one [[sections]] table is required.")
            raw_sections = []
        spec: Spec = {"key": "str", "title": "str", "kinds": "list[str]", "ordering": "str",
                      "max_items": "int", "editorial": "bool", "library": "bool",
                      "newcomers": "bool"}
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
                                    editorial=raw.get("editorial", False),
                                    library=raw.get("library", False),
                                    newcomers=raw.get("newcomers", False)))
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
        base = self.site().language
        texts, titles, credits_in, found = newsletter_languages(
            data.get("languages", {}), sections, credits, base, path, text)
        problems += found
        if problems:
            raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
        return Rules(sections=tuple(sections),
                     max_items_per_project=data.get("max_items_per_project", 2),
                     lookback_issues=data.get("lookback_issues", 3),
                     first_number=data.get("first_number", 1), credits=credits,
                     texts=texts, titles=titles, credits_in=credits_in, base_language=base)

    def _load_schedule(self) -> Schedule:
        return timetable.load(self.schedules / "ostogether.toml")

    # -- what callers use: each file is read and checked again only when it changed, so a
    # page does not parse TOML on every request and an edit still shows at once.

    def site(self) -> Site:
        """content/site.toml: the community's identity."""
        return _memo(("site", self.root), lambda: [self.content / "site.toml"],
                     self._load_site)

    def criteria(self) -> Criteria:
        """content/eligibility.toml: the eligibility criteria."""
        return _memo(("criteria", self.root), lambda: [self.content / "eligibility.toml"],
                     self._load_criteria)

    def newsletter(self) -> Rules:
        """content/newsletter.toml: the sections and the composer's rules."""
        return _memo(("newsletter", self.root), lambda: [self.content / "newsletter.toml",
                                                         self.content / "site.toml"],
                     self._load_newsletter)

    def schedule(self) -> Schedule:
        """schedules/ostogether.toml: the timetable."""
        return _memo(("schedule", self.root), lambda: [self.schedules / "ostogether.toml"],
                     self._load_schedule)

    def document(self, name: str, language: str | None = None) -> Document:
        """A versioned text under content/ (front matter, then Markdown), in ``language``
        where the file beside it, ``<name>.<language>.md``, gives it with the same
        version; else the base language's (an out-of-date translation is never shown)."""
        base = _memo(("document", self.root, name), lambda: [self.content / name],
                     lambda: self._load_document(name))
        if not language or language == base.language or language not in NEWSLETTER_LANGUAGES:
            return base
        stem, _, ext = name.rpartition(".")
        own = f"{stem}.{language}.{ext}"
        if not (self.content / own).is_file():
            return base
        found = _memo(("document", self.root, own), lambda: [self.content / own],
                      lambda: self._load_document(own, language))
        return found if found.version == base.version else base

    def evergreen(self) -> list[Evergreen]:
        """content/social/*.toml: the evergreen library, one post per file."""
        def files() -> list[Path]:
            folder = self.content / "social"
            return [folder, *sorted(folder.glob("*.toml"))] if folder.is_dir() else [folder]
        return list(_memo(("evergreen", self.root), files, self._load_evergreen))

    def _load_evergreen(self) -> list[Evergreen]:
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
            found += networks_problems(data.get("networks", []), path, text)
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


# key -> (the files' paths, their stamp, the value)
_MEMO: dict[tuple[Any, ...], tuple[tuple[str, ...], tuple[Any, ...], Any]] = {}
_MEMO_LOCK = threading.Lock()


def _stamp(paths: tuple[str, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)


def _memo(key: tuple[Any, ...], paths: Callable[[], list[Path]], load: Callable[[], _T]) -> _T:
    """``load()``, kept while the files ``paths()`` names are unchanged (time, size and
    inode); one stat per file and call, with the paths found once. A load that fails is
    not kept: the error is raised again until the file is fixed."""
    hit = _MEMO.get(key)  # one lookup needs no lock (and 8 threads queued on it)
    if hit is not None and _stamp(hit[0]) == hit[1]:
        return cast(_T, hit[2])
    names = tuple(str(p) for p in paths())
    stamp = _stamp(names)
    value = load()
    with _MEMO_LOCK:
        _MEMO[key] = (names, stamp, value)
    return value


def community(settings: Settings) -> Community:
    return Community(root=settings.home.resolve())
