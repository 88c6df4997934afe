"""The project registry: eligibility rules (pure) and the import of content/projects/.

Every rule is a pure function ``rule(record, context) -> CheckResult`` that names its
outcome (pass, warn or fail) and says in one sentence why. The same rules serve the CLI
(`ostogether registry check`) and the web application form. Applications are checked
strictly: what is only a warning for a project already in the registry (whose facts
may be unknown) is a failure for an application (which must give them).

The second half of the module is the edge: reading the TOML files with line-accurate
errors, and importing them into the database idempotently.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pycountry

from ostogether.core.errors import ContentError
from ostogether.core.inputs import email_problem, one_line_problem, url_problem
from ostogether.core.states import SDG_NAMES
from ostogether.edges.site import Criteria
from ostogether.edges.tomlcheck import check_table, line_of, read_toml

Outcome = Literal["pass", "warn", "fail"]

@dataclass(frozen=True)
class ProjectRecord:
    """A project as the rules see it: plain data, from a TOML file, a form or the database."""

    slug: str
    acronym: str = ""
    name: str = ""
    description: str = ""
    initiative_type: str = ""
    themes: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()
    countries: tuple[str, ...] = ()
    programme: str = ""
    call: str = ""
    grant_number: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    coordinator: str = ""
    website: str = ""
    feed_url: str = ""
    contact_name: str = ""
    contact_email: str = ""
    handles: dict[str, str] = field(default_factory=dict)
    # A kept picture's name (``<sha256>.<ext>``, as the export writes it), or in a file
    # the http(s) address of one, which the import fetches and keeps.
    logo: str = ""
    status: str = "member"
    non_commercial: bool | None = None
    coc_version: str = ""
    coc_accepted_on: dt.date | None = None
    notes: str = ""

    def is_missing(self, name: str) -> bool:
        value = getattr(self, name)
        return value is None or value == "" or value == ()

    @classmethod
    def from_object(cls, obj: Any) -> ProjectRecord:
        """From anything with the same attribute names, such as a ``models.Project``."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            v = getattr(obj, f.name, None)
            if v is not None:  # None keeps the field's default
                values[f.name] = tuple(v) if isinstance(v, list) else v
        return cls(**values)

    def normalised(self) -> ProjectRecord:
        """Trimmed text, upper-case country codes, no spaces in the grant number.

        Applied to every record before it is checked or stored, whatever its door.
        """
        changes: dict[str, Any] = {
            f.name: getattr(self, f.name).strip() for f in fields(self)
            if isinstance(getattr(self, f.name), str)}
        changes["countries"] = tuple(c.strip().upper() for c in self.countries if c.strip())
        changes["grant_number"] = changes["grant_number"].replace(" ", "")
        return replace(self, **changes)


@dataclass(frozen=True)
class CheckResult:
    rule: str
    outcome: Outcome
    message: str
    fields: tuple[str, ...] = ()
    # One message per field, where a rule judges several (a form shows each in its place).
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CheckContext:
    criteria: Criteria
    coc_version: str
    today: dt.date
    others: tuple[ProjectRecord, ...] = ()
    strict: bool = False  # True for applications

    # Built once per context, so checking N projects costs O(N), not O(N²).
    @cached_property
    def by_acronym(self) -> dict[str, list[ProjectRecord]]:
        index: dict[str, list[ProjectRecord]] = {}
        for o in self.others:
            if o.status != "rejected" and (key := normalise_acronym(o.acronym)):
                index.setdefault(key, []).append(o)
        return index

    @cached_property
    def by_website(self) -> dict[str, list[ProjectRecord]]:
        index: dict[str, list[ProjectRecord]] = {}
        for o in self.others:
            if o.status != "rejected" and o.website:
                index.setdefault(normalise_website(o.website), []).append(o)
        return index


FIELD_LABELS = {
    "acronym": "acronym", "name": "full name", "description": "short description",
    "initiative_type": "initiative type", "themes": "themes", "sdgs": "SDGs",
    "countries": "countries", "programme": "funding programme", "call": "call",
    "grant_number": "grant agreement number", "start_date": "start date",
    "end_date": "end date", "coordinator": "coordinator", "website": "website",
    "feed_url": "feed URL", "contact_email": "contact email",
    "non_commercial": "non-commercial declaration",
    "coc_accepted_on": "code of conduct acceptance", "contact_name": "contact name",
    "handles": "social handles", "logo": "logo", "notes": "notes",
}


def _label(names: Iterable[str]) -> str:
    return ", ".join(FIELD_LABELS.get(n, n) for n in names)


def _missing_ok(ctx: CheckContext) -> Outcome:
    """A fact the registry does not know is a warning; an application must give it."""
    return "fail" if ctx.strict else "warn"


# ------------------------------------------------------------------------ the rules

def required_fields(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    c = ctx.criteria
    missing = [f for f in c.required if p.is_missing(f)]
    if missing:
        return CheckResult("required_fields", "fail",
                           f"Missing: {_label(missing)}.", tuple(missing))
    app_missing = [f for f in c.required_for_applications if p.is_missing(f)]
    if app_missing:
        return CheckResult("required_fields", _missing_ok(ctx),
                           f"Not given: {_label(app_missing)}.", tuple(app_missing))
    rec_missing = [f for f in c.recommended if p.is_missing(f)]
    if rec_missing:
        return CheckResult("required_fields", "warn",
                           f"Not known yet: {_label(rec_missing)}.", tuple(rec_missing))
    return CheckResult("required_fields", "pass", "All required fields are present.")


def topical_fit(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    themes = ctx.criteria.themes
    unknown = [t for t in p.themes if t not in themes]
    if unknown:
        return CheckResult("topical_fit", "fail",
                           f"Unknown theme(s): {', '.join(unknown)}. Choose from: "
                           f"{', '.join(themes)}.", ("themes",))
    if not p.themes:
        return CheckResult("topical_fit", "fail",
                           "Choose at least one theme the initiative works on.", ("themes",))
    shown = ", ".join(themes[t] for t in p.themes)
    return CheckResult("topical_fit", "pass", f"Works on {shown}.", ("themes",))


def initiative_type(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    types = ctx.criteria.initiative_types
    if not p.initiative_type:
        return CheckResult("initiative_type", "fail", "Say what kind of initiative this is.",
                           ("initiative_type",))
    if p.initiative_type not in types:
        return CheckResult("initiative_type", "fail",
                           f"Unknown initiative type '{p.initiative_type}'. Choose from: "
                           f"{', '.join(types)}.", ("initiative_type",))
    if p.initiative_type in ctx.criteria.editor_review_types:
        return CheckResult("initiative_type", "warn",
                           f"'{types[p.initiative_type]}': an editor will decide whether it "
                           f"fits.", ("initiative_type",))
    return CheckResult("initiative_type", "pass", f"{types[p.initiative_type]}.",
                       ("initiative_type",))


def code_of_conduct(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.coc_accepted_on is None:
        return CheckResult("code_of_conduct", _missing_ok(ctx),
                           "The code of conduct has not been accepted.",
                           ("coc_accepted_on",))
    if p.coc_accepted_on > ctx.today:
        return CheckResult("code_of_conduct", "fail",
                           f"Acceptance date {p.coc_accepted_on} is in the future.",
                           ("coc_accepted_on",))
    if p.coc_version and p.coc_version != ctx.coc_version:
        return CheckResult("code_of_conduct", "warn",
                           f"Accepted version {p.coc_version} on {p.coc_accepted_on}; the "
                           f"current version is {ctx.coc_version}.", ("coc_accepted_on",))
    version = p.coc_version or ctx.coc_version
    return CheckResult("code_of_conduct", "pass",
                       f"Version {version} accepted on {p.coc_accepted_on}.",
                       ("coc_accepted_on",))


def non_commercial(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.non_commercial is None:
        return CheckResult("non_commercial", _missing_ok(ctx),
                           "A non-commercial, educational purpose has not been declared.",
                           ("non_commercial",))
    if not p.non_commercial:
        return CheckResult("non_commercial", "fail",
                           "The community is open to non-commercial, educational "
                           "initiatives only.", ("non_commercial",))
    return CheckResult("non_commercial", "pass",
                       "Non-commercial, educational purpose declared.", ("non_commercial",))


def website_and_contact(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    problems, bad = [], []
    for name in ("website", "feed_url"):
        value = getattr(p, name)
        if value and (why := url_problem(value)):
            problems.append(f"The {FIELD_LABELS[name]} '{value}' is not valid: {why}.")
            bad.append(name)
    if p.contact_email and (why := email_problem(p.contact_email)):
        problems.append(f"The contact email is not valid: {why}")
        bad.append("contact_email")
    if problems:
        return CheckResult("website_and_contact", "fail", " ".join(problems), tuple(bad),
                           notes=tuple(zip(bad, problems, strict=True)))
    if not p.website:
        return CheckResult("website_and_contact", "fail", "A website is needed.", ("website",))
    if not p.contact_email:
        return CheckResult("website_and_contact", _missing_ok(ctx),
                           f"Website {p.website}; no contact email.", ("contact_email",))
    return CheckResult("website_and_contact", "pass",
                       f"Website {p.website} and contact email are valid.",
                       ("website", "contact_email"))


def codes(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad_countries = [c for c in p.countries if pycountry.countries.get(alpha_2=c) is None]
    bad_sdgs = [s for s in p.sdgs if s not in SDG_NAMES]
    if bad_countries or bad_sdgs:
        parts = []
        if bad_countries:
            # EU documents write UK and EL; ISO 3166 says GB and GR.
            hints = {"UK": "GB", "EL": "GR"}
            hint = "; ".join(f"{c} is {hints[c]}" for c in bad_countries if c in hints)
            parts.append(f"not ISO 3166 country codes: {', '.join(bad_countries)} "
                         f"({hint or 'use two capital letters, e.g. BE, GB, GR'})")
        if bad_sdgs:
            parts.append(f"not SDG numbers 1-17: {', '.join(map(str, bad_sdgs))}")
        flds = (("countries",) if bad_countries else ()) + (("sdgs",) if bad_sdgs else ())
        text = "; ".join(parts)
        return CheckResult("codes", "fail", text[0].upper() + text[1:] + ".", flds)
    return CheckResult("codes", "pass",
                       f"{len(p.countries)} country code(s) and {len(p.sdgs)} SDG(s) valid.",
                       ("countries", "sdgs"))


# Each network's handle as the project's file writes it; the posts' mentions are made
# from these (``social.posts``).
HANDLE_FORMS: dict[str, tuple[re.Pattern[str], str]] = {
    "x": (re.compile(r"^@?[A-Za-z0-9_]{1,15}$"), "1 to 15 letters, digits or _, e.g. "
                                                 "@ostogether"),
    "mastodon": (re.compile(r"^@?[A-Za-z0-9_]{1,30}@[a-z0-9-]+(\.[a-z0-9-]+)+$"),
                 "@user@instance, e.g. @ostogether@mastodon.social"),
    "bluesky": (re.compile(r"^@?(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+"
                           r"[a-z]{2,}$"), "a domain-like handle, e.g. ostogether.bsky.social"),
    "linkedin": (re.compile(r"^(urn:li:organization:)?[0-9]{1,20}$"),
                 "the organisation's number, e.g. 12345678"),
    "facebook": (re.compile(r"^[A-Za-z0-9.]{5,50}$"), "the Page's name in its address or "
                                                     "its number, e.g. ostogether.eu"),
}


def handles(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad = {n: why for n, value in p.handles.items() if value.strip()
           and (form := HANDLE_FORMS.get(n)) and not form[0].match(value.strip())
           for why in [form[1]]}
    if bad:
        return CheckResult("handles", "fail", "Social handles not in their network's form: "
                           + "; ".join(f"{n} '{p.handles[n]}' should be {why}"
                                       for n, why in bad.items()) + ".", ("handles",))
    given = [n for n, v in p.handles.items() if v.strip()]
    return CheckResult("handles", "pass", f"{len(given)} social handle(s) in their form."
                       if given else "No social handles: posts name the project by its "
                                     "acronym.", ("handles",))


def funding(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    c = ctx.criteria
    is_eu = p.programme in c.eu_programmes
    if p.initiative_type in c.eu_initiative_types and p.programme and not is_eu:
        return CheckResult("funding", "fail",
                           f"An EU-funded project needs an EU programme "
                           f"({', '.join(c.eu_programmes)}), not '{p.programme}'.",
                           ("programme",))
    if p.initiative_type in c.eu_initiative_types and not p.programme:
        return CheckResult("funding", _missing_ok(ctx),
                           "An EU-funded project should name its programme.", ("programme",))
    if is_eu:
        if not p.grant_number:
            return CheckResult("funding", _missing_ok(ctx),
                               f"{p.programme} projects need a grant agreement number "
                               f"(the CORDIS project id).", ("grant_number",))
        # ASCII: the community's \d means 0-9, not any script's digits.
        if not re.fullmatch(c.grant_number_pattern, p.grant_number, re.ASCII):
            return CheckResult("funding", "fail",
                               f"Grant agreement number '{p.grant_number}' is not valid: it "
                               f"is a number such as 101058405.", ("grant_number",))
        return CheckResult("funding", "pass",
                           f"{p.programme}, grant agreement {p.grant_number}.",
                           ("programme", "grant_number"))
    if p.programme and p.programme not in c.other_programmes:
        return CheckResult("funding", "warn",
                           f"Programme '{p.programme}' is not a known one; an editor will "
                           f"check it.", ("programme",))
    if p.grant_number and not p.programme:
        return CheckResult("funding", "warn", "A grant number is given without a programme.",
                           ("programme",))
    return CheckResult("funding", "pass",
                       f"Funding: {p.programme or 'not EU-funded'}.", ("programme",))


def dates(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.start_date and p.end_date and p.end_date < p.start_date:
        return CheckResult("dates", "fail",
                           f"The end date {p.end_date} is before the start date "
                           f"{p.start_date}.", ("end_date",))
    if p.start_date and p.end_date:
        return CheckResult("dates", "pass", f"Runs {p.start_date} to {p.end_date}.",
                           ("start_date", "end_date"))
    if p.start_date:
        return CheckResult("dates", "pass", f"Started {p.start_date}; no end date.",
                           ("start_date",))
    return CheckResult("dates", _missing_ok(ctx), "No start date.", ("start_date",))


def country_name(code: str) -> str:
    """The country's common name (pycountry), or the code when it is not one."""
    c = pycountry.countries.get(alpha_2=code)
    return getattr(c, "common_name", None) or (c.name if c else code)


def by_country_name(codes: Iterable[str]) -> list[str]:
    """Country codes in the order of their names, as a reader looks for them in a list:
    accents and case aside (Åland Islands with the A's), Türkiye under T."""
    def key(code: str) -> tuple[str, str]:
        name = unicodedata.normalize("NFKD", country_name(code))
        return "".join(c for c in name if not unicodedata.combining(c)).casefold(), code
    return sorted(set(codes), key=key)


def normalise_acronym(acronym: str) -> str:
    return re.sub(r"[^0-9a-z]", "", acronym.casefold())


def normalise_website(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        return url.strip().casefold()
    return host + parts.path.rstrip("/").casefold()


def duplicates(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    clashes, flds = [], []
    mine_acr, mine_web = normalise_acronym(p.acronym), normalise_website(p.website)
    for other in ctx.by_acronym.get(mine_acr, []) if mine_acr else []:
        if other.slug != p.slug:
            clashes.append(f"acronym {p.acronym} is already used by {other.slug}")
            flds.append("acronym")
    for other in ctx.by_website.get(mine_web, []) if p.website and mine_web else []:
        if other.slug != p.slug:
            clashes.append(f"website is the same as {other.slug}'s")
            flds.append("website")
    if clashes:
        return CheckResult("duplicates", "fail",
                           "Looks like a duplicate: " + "; ".join(clashes) + ".", tuple(flds))
    return CheckResult("duplicates", "pass", "No other project has this acronym or website.")


def derived_status(p: ProjectRecord, today: dt.date) -> str:
    """member until the end date has passed, then alumni. Other states stay as they are."""
    if p.status in ("member", "alumni"):
        return "alumni" if p.end_date is not None and p.end_date < today else "member"
    return p.status


def status(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.status not in ("member", "alumni", "applicant", "rejected"):
        return CheckResult("status", "fail",
                           f"Unknown status '{p.status}': use member or alumni.", ("status",))
    derived = derived_status(p, ctx.today)
    if derived == "alumni":
        return CheckResult("status", "pass", f"Alumni: the project ended on {p.end_date}.")
    if derived == "member":
        return CheckResult("status", "pass", "Member: the project is running.")
    return CheckResult("status", "pass", f"{derived.capitalize()}.")


ONE_LINE_FIELDS = ("acronym", "name", "coordinator", "contact_name", "contact_email",
                   "programme", "call", "grant_number", "website", "feed_url")


def plain_text(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad = {f: why for f in ONE_LINE_FIELDS if (why := one_line_problem(getattr(p, f)))}
    if bad:
        return CheckResult("plain_text", "fail", "; ".join(
            f"The {FIELD_LABELS.get(f, f)} {why}" for f, why in bad.items()) + ".",
            tuple(bad))
    return CheckResult("plain_text", "pass", "Names and addresses are plain one-line text.")


# How media.py names a kept picture.
KEPT_PICTURE = re.compile(r"^[0-9a-f]{64}\.(jpg|png|gif|webp)$")


def logo(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if not p.logo:
        return CheckResult("logo", "pass", "No logo: the pages show the acronym.", ("logo",))
    if KEPT_PICTURE.match(p.logo):
        return CheckResult("logo", "pass", "The logo is a kept picture.", ("logo",))
    if why := url_problem(p.logo):
        return CheckResult("logo", "fail", f"The logo '{p.logo[:80]}' is neither the name "
                           f"of a kept picture nor a picture's address: {why}.", ("logo",))
    return CheckResult("logo", "pass", "The logo is fetched and kept at the import.",
                       ("logo",))


Rule = Callable[[ProjectRecord, CheckContext], CheckResult]
RULES: tuple[Rule, ...] = (plain_text, required_fields, topical_fit, initiative_type,
                           code_of_conduct, non_commercial, website_and_contact, codes,
                           funding, dates, duplicates, handles, logo, status)


def check(p: ProjectRecord, ctx: CheckContext) -> list[CheckResult]:
    return [rule(p, ctx) for rule in RULES]


def worst(results: Iterable[CheckResult]) -> Outcome:
    outcomes = {r.outcome for r in results}
    return "fail" if "fail" in outcomes else "warn" if "warn" in outcomes else "pass"


# ----------------------------------------------------------------- reading the files

PROJECT_SPEC: dict[str, Any] = {
    "acronym": "str", "name": "str", "description": "str", "initiative_type": "str",
    "themes": "list[str]", "sdgs": "list[int]", "countries": "list[str]",
    "programme": "str", "call": "str", "grant_number": "str",
    "start_date": "date", "end_date": "date", "coordinator": "str",
    "website": "str", "feed_url": "str", "contact_name": "str", "contact_email": "str",
    "handles": {"x": "str", "facebook": "str", "linkedin": "str", "mastodon": "str",
                "bluesky": "str"},
    "logo": "str", "status": "str", "non_commercial": "bool", "coc_version": "str",
    "coc_accepted_on": "date", "notes": "str",
}
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}$")


@dataclass(frozen=True)
class ProjectFile:
    path: Path
    record: ProjectRecord


def load_project_files(folder: Path) -> tuple[list[ProjectFile], list[str]]:
    """Read every content/projects/*.toml. Returns the records and every problem found."""
    files, problems = [], []
    paths = sorted(folder.glob("*.toml"))
    if not folder.is_dir():
        problems.append(f"{folder}: folder not found.")
    for path in paths:
        slug = path.stem
        if not SLUG_RE.match(slug):
            problems.append(f"{path}: the file name must be a slug of lower-case letters, "
                            f"digits and dashes, e.g. make-it-open.toml.")
            continue
        try:
            data, text = read_toml(path)
        except ContentError as exc:
            problems.append(exc.message)
            continue
        found = check_table(data, PROJECT_SPEC, path, text)
        if "status" in data and data["status"] not in ("member", "alumni"):
            found.append(f"{path}:{line_of(text, 'status')}: status must be member or "
                         f"alumni, got '{data['status']}'.")
        if found:
            problems += found
            continue
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        files.append(ProjectFile(path, ProjectRecord(slug=slug, **values).normalised()))
    return files, problems


def check_files(files: list[ProjectFile], criteria: Criteria, coc_version: str,
                today: dt.date) -> list[tuple[ProjectFile, list[CheckResult]]]:
    others = tuple(f.record for f in files)
    ctx = CheckContext(criteria=criteria, coc_version=coc_version, today=today, others=others)
    return [(f, check(f.record, ctx)) for f in files]


def record_values(record: ProjectRecord) -> dict[str, Any]:
    """The record as column values for ``models.Project``."""
    out: dict[str, Any] = {}
    for f in fields(record):
        v = getattr(record, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out


def with_status(record: ProjectRecord, today: dt.date) -> ProjectRecord:
    return replace(record, status=derived_status(record, today))
