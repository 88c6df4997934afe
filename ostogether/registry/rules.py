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
from flask_babel import gettext as _

from ostogether.core.errors import ContentError
from ostogether.core.inputs import email_problem, one_line_problem, url_problem
from ostogether.core.languages import LANGUAGES
from ostogether.core.states import SDG_NAMES
from ostogether.core.words import lazy_gettext as _l
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
    # Its feeds in other languages: language code -> address ([feeds] in its file).
    feeds: dict[str, str] = field(default_factory=dict)
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

    @property
    def title(self) -> str:
        """The check's name as a page shows it, in the page's language."""
        title = RULE_TITLES.get(self.rule)
        return str(title) if title is not None else self.rule.replace("_", " ")


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


# The messages are in the language of the page that shows them (flask_babel's gettext;
# English outside a request: the CLI, the import).
FIELD_LABELS: dict[str, Any] = {
    "acronym": _l("acronym"), "name": _l("full name"),
    "description": _l("short description"), "initiative_type": _l("initiative type"),
    "themes": _l("themes"), "sdgs": _l("SDGs"), "countries": _l("countries"),
    "programme": _l("funding programme"), "call": _l("call"),
    "grant_number": _l("grant agreement number"), "start_date": _l("start date"),
    "end_date": _l("end date"), "coordinator": _l("coordinator"), "website": _l("website"),
    "feed_url": _l("feed URL"), "feeds": _l("feed in another language"),
    "contact_email": _l("contact email"),
    "non_commercial": _l("non-commercial declaration"),
    "coc_accepted_on": _l("code of conduct acceptance"), "contact_name": _l("contact name"),
    "handles": _l("social handles"), "logo": _l("logo"), "notes": _l("notes"),
}


# Each rule's name as the editors' application page titles its result.
RULE_TITLES: dict[str, Any] = {
    "plain_text": _l("plain text"), "required_fields": _l("required fields"),
    "topical_fit": _l("topical fit"), "initiative_type": _l("initiative type"),
    "code_of_conduct": _l("code of conduct"), "non_commercial": _l("non-commercial"),
    "website_and_contact": _l("website and contact"), "codes": _l("codes"),
    "funding": _l("funding"), "dates": _l("dates"), "duplicates": _l("duplicates"),
    "handles": _l("handles"), "logo": _l("logo"), "status": _l("status"),
}


def _label(names: Iterable[str]) -> str:
    return ", ".join(str(FIELD_LABELS.get(n, n)) for n in names)


def _missing_ok(ctx: CheckContext) -> Outcome:
    """A fact the registry does not know is a warning; an application must give it."""
    return "fail" if ctx.strict else "warn"


# ------------------------------------------------------------------------ the rules

def required_fields(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    c = ctx.criteria
    missing = [f for f in c.required if p.is_missing(f)]
    if missing:
        return CheckResult("required_fields", "fail",
                           _("Missing: %(fields)s.", fields=_label(missing)), tuple(missing))
    app_missing = [f for f in c.required_for_applications if p.is_missing(f)]
    if app_missing:
        return CheckResult("required_fields", _missing_ok(ctx),
                           _("Not given: %(fields)s.", fields=_label(app_missing)),
                           tuple(app_missing))
    rec_missing = [f for f in c.recommended if p.is_missing(f)]
    if rec_missing:
        return CheckResult("required_fields", "warn",
                           _("Not known yet: %(fields)s.", fields=_label(rec_missing)),
                           tuple(rec_missing))
    return CheckResult("required_fields", "pass", _("All required fields are present."))


def topical_fit(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    themes = ctx.criteria.themes
    unknown = [t for t in p.themes if t not in themes]
    if unknown:
        return CheckResult("topical_fit", "fail",
                           _("Unknown theme(s): %(unknown)s. Choose from: %(known)s.",
                             unknown=", ".join(unknown), known=", ".join(themes)),
                           ("themes",))
    if not p.themes:
        return CheckResult("topical_fit", "fail",
                           _("Choose at least one theme the initiative works on."),
                           ("themes",))
    shown = ", ".join(themes[t] for t in p.themes)
    return CheckResult("topical_fit", "pass", _("Works on %(themes)s.", themes=shown),
                       ("themes",))


def initiative_type(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    types = ctx.criteria.initiative_types
    if not p.initiative_type:
        return CheckResult("initiative_type", "fail",
                           _("Say what kind of initiative this is."), ("initiative_type",))
    if p.initiative_type not in types:
        return CheckResult("initiative_type", "fail",
                           _("Unknown initiative type '%(type)s'. Choose from: %(known)s.",
                             type=p.initiative_type, known=", ".join(types)),
                           ("initiative_type",))
    if p.initiative_type in ctx.criteria.editor_review_types:
        return CheckResult("initiative_type", "warn",
                           _("'%(type)s': an editor will decide whether it fits.",
                             type=types[p.initiative_type]), ("initiative_type",))
    return CheckResult("initiative_type", "pass", f"{types[p.initiative_type]}.",
                       ("initiative_type",))


def code_of_conduct(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.coc_accepted_on is None:
        return CheckResult("code_of_conduct", _missing_ok(ctx),
                           _("The code of conduct has not been accepted."),
                           ("coc_accepted_on",))
    if p.coc_accepted_on > ctx.today:
        return CheckResult("code_of_conduct", "fail",
                           _("Acceptance date %(date)s is in the future.",
                             date=p.coc_accepted_on),
                           ("coc_accepted_on",))
    if p.coc_version and p.coc_version != ctx.coc_version:
        return CheckResult("code_of_conduct", "warn",
                           _("Accepted version %(version)s on %(date)s; the current version "
                             "is %(current)s.", version=p.coc_version,
                             date=p.coc_accepted_on, current=ctx.coc_version),
                           ("coc_accepted_on",))
    version = p.coc_version or ctx.coc_version
    return CheckResult("code_of_conduct", "pass",
                       _("Version %(version)s accepted on %(date)s.", version=version,
                         date=p.coc_accepted_on),
                       ("coc_accepted_on",))


def non_commercial(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.non_commercial is None:
        return CheckResult("non_commercial", _missing_ok(ctx),
                           _("A non-commercial, educational purpose has not been declared."),
                           ("non_commercial",))
    if not p.non_commercial:
        return CheckResult("non_commercial", "fail",
                           _("The community is open to non-commercial, educational "
                             "initiatives only."), ("non_commercial",))
    return CheckResult("non_commercial", "pass",
                       _("Non-commercial, educational purpose declared."),
                       ("non_commercial",))


def website_and_contact(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    problems, bad = [], []
    for name in ("website", "feed_url"):
        value = getattr(p, name)
        if value and (why := url_problem(value)):
            problems.append(_("The %(field)s '%(value)s' is not valid: %(why)s.",
                              field=FIELD_LABELS[name], value=value, why=why))
            bad.append(name)
    for code, value in sorted(p.feeds.items()):
        why = (url_problem(value) if code in LANGUAGES else
               _("%(code)s is not a language; use %(codes)s", code=code,
                 codes=", ".join(LANGUAGES)))
        if why:
            problems.append(_("The %(field)s '%(value)s' is not valid: %(why)s.",
                              field=FIELD_LABELS["feeds"], value=value, why=why))
            bad.append("feeds")
    if p.contact_email and (why := email_problem(p.contact_email)):
        problems.append(_("The contact email is not valid: %(why)s", why=why))
        bad.append("contact_email")
    if problems:
        return CheckResult("website_and_contact", "fail", " ".join(problems), tuple(bad),
                           notes=tuple(zip(bad, problems, strict=True)))
    if not p.website:
        return CheckResult("website_and_contact", "fail", _("A website is needed."),
                           ("website",))
    if not p.contact_email:
        return CheckResult("website_and_contact", _missing_ok(ctx),
                           _("Website %(website)s; no contact email.", website=p.website),
                           ("contact_email",))
    return CheckResult("website_and_contact", "pass",
                       _("Website %(website)s and contact email are valid.",
                         website=p.website),
                       ("website", "contact_email"))


def codes(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad_countries = [c for c in p.countries if pycountry.countries.get(alpha_2=c) is None]
    bad_sdgs = [s for s in p.sdgs if s not in SDG_NAMES]
    if bad_countries or bad_sdgs:
        parts = []
        if bad_countries:
            # EU documents write UK and EL; ISO 3166 says GB and GR.
            hints = {"UK": "GB", "EL": "GR"}
            hint = "; ".join(_("%(code)s is %(iso)s", code=c, iso=hints[c])
                             for c in bad_countries if c in hints)
            parts.append(_("Not ISO 3166 country codes: %(codes)s (%(hint)s).",
                           codes=", ".join(bad_countries),
                           hint=hint or _("use two capital letters, e.g. BE, GB, GR")))
        if bad_sdgs:
            parts.append(_("Not SDG numbers 1-17: %(numbers)s.",
                           numbers=", ".join(map(str, bad_sdgs))))
        flds = (("countries",) if bad_countries else ()) + (("sdgs",) if bad_sdgs else ())
        return CheckResult("codes", "fail", " ".join(parts), flds)
    return CheckResult("codes", "pass",
                       _("%(countries)d country code(s) and %(sdgs)d SDG(s) valid.",
                         countries=len(p.countries), sdgs=len(p.sdgs)),
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


# Each network's form as the page's language says it (HANDLE_FORMS says it in English).
HANDLE_WORDS: dict[str, Any] = {
    "x": _l("1 to 15 letters, digits or _, e.g. @ostogether"),
    "mastodon": _l("@user@instance, e.g. @ostogether@mastodon.social"),
    "bluesky": _l("A domain-like handle, e.g. ostogether.bsky.social"),
    "linkedin": _l("The organisation's number, e.g. 12345678"),
    "facebook": _l("The Page's name in its address or its number, e.g. ostogether.eu"),
}


def _handle_form(network: str) -> str:
    words = str(HANDLE_WORDS.get(network, HANDLE_FORMS[network][1]))
    return words[:1].lower() + words[1:]


def handles(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad = {n: _handle_form(n) for n, value in p.handles.items() if value.strip()
           and (form := HANDLE_FORMS.get(n)) and not form[0].match(value.strip())}
    if bad:
        return CheckResult("handles", "fail", _(
            "Social handles not in their network's form: %(handles)s.",
            handles="; ".join(_("%(network)s '%(handle)s' should be %(form)s", network=n,
                                handle=p.handles[n], form=why) for n, why in bad.items())),
            ("handles",))
    given = [n for n, v in p.handles.items() if v.strip()]
    return CheckResult("handles", "pass", _("%(num)d social handle(s) in their form.",
                                            num=len(given))
                       if given else _("No social handles: posts name the project by its "
                                       "acronym."), ("handles",))


def funding(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    c = ctx.criteria
    is_eu = p.programme in c.eu_programmes
    if p.initiative_type in c.eu_initiative_types and p.programme and not is_eu:
        return CheckResult("funding", "fail",
                           _("An EU-funded project needs an EU programme (%(known)s), not "
                             "'%(programme)s'.", known=", ".join(c.eu_programmes),
                             programme=p.programme),
                           ("programme",))
    if p.initiative_type in c.eu_initiative_types and not p.programme:
        return CheckResult("funding", _missing_ok(ctx),
                           _("An EU-funded project should name its programme."),
                           ("programme",))
    if is_eu:
        if not p.grant_number:
            return CheckResult("funding", _missing_ok(ctx),
                               _("%(programme)s projects need a grant agreement number (the "
                                 "CORDIS project id).", programme=p.programme),
                               ("grant_number",))
        # ASCII: the community's \d means 0-9, not any script's digits.
        if not re.fullmatch(c.grant_number_pattern, p.grant_number, re.ASCII):
            return CheckResult("funding", "fail",
                               _("Grant agreement number '%(number)s' is not valid: it is a "
                                 "number such as 101058405.", number=p.grant_number),
                               ("grant_number",))
        return CheckResult("funding", "pass",
                           _("%(programme)s, grant agreement %(number)s.",
                             programme=p.programme, number=p.grant_number),
                           ("programme", "grant_number"))
    if p.programme and p.programme not in c.other_programmes:
        return CheckResult("funding", "warn",
                           _("Programme '%(programme)s' is not a known one; an editor will "
                             "check it.", programme=p.programme), ("programme",))
    if p.grant_number and not p.programme:
        return CheckResult("funding", "warn",
                           _("A grant number is given without a programme."), ("programme",))
    return CheckResult("funding", "pass", _("Funding: %(programme)s.", programme=(
        p.programme or _("not EU-funded"))), ("programme",))


def dates(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.start_date and p.end_date and p.end_date < p.start_date:
        return CheckResult("dates", "fail",
                           _("The end date %(end)s is before the start date %(start)s.",
                             end=p.end_date, start=p.start_date), ("end_date",))
    if p.start_date and p.end_date:
        return CheckResult("dates", "pass", _("Runs %(start)s to %(end)s.",
                                              start=p.start_date, end=p.end_date),
                           ("start_date", "end_date"))
    if p.start_date:
        return CheckResult("dates", "pass", _("Started %(start)s; no end date.",
                                              start=p.start_date),
                           ("start_date",))
    return CheckResult("dates", _missing_ok(ctx), _("No start date."), ("start_date",))


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
            clashes.append(_("acronym %(acronym)s is already used by %(other)s",
                             acronym=p.acronym, other=other.slug))
            flds.append("acronym")
    for other in ctx.by_website.get(mine_web, []) if p.website and mine_web else []:
        if other.slug != p.slug:
            clashes.append(_("website is the same as %(other)s's", other=other.slug))
            flds.append("website")
    if clashes:
        return CheckResult("duplicates", "fail",
                           _("Looks like a duplicate: %(clashes)s.", clashes="; ".join(clashes)),
                           tuple(flds))
    return CheckResult("duplicates", "pass",
                       _("No other project has this acronym or website."))


def derived_status(p: ProjectRecord, today: dt.date) -> str:
    """member until the end date has passed, then alumni. Other states stay as they are."""
    if p.status in ("member", "alumni"):
        return "alumni" if p.end_date is not None and p.end_date < today else "member"
    return p.status


def status(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if p.status not in ("member", "alumni", "applicant", "rejected"):
        return CheckResult("status", "fail",
                           _("Unknown status '%(status)s': use member or alumni.",
                             status=p.status), ("status",))
    derived = derived_status(p, ctx.today)
    if derived == "alumni":
        return CheckResult("status", "pass", _("Alumni: the project ended on %(date)s.",
                                               date=p.end_date))
    if derived == "member":
        return CheckResult("status", "pass", _("Member: the project is running."))
    if derived == "applicant":
        return CheckResult("status", "pass", _("Applicant."))
    return CheckResult("status", "pass", _("Rejected."))


ONE_LINE_FIELDS = ("acronym", "name", "coordinator", "contact_name", "contact_email",
                   "programme", "call", "grant_number", "website", "feed_url")


def plain_text(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    bad = {f: why for f in ONE_LINE_FIELDS if (why := one_line_problem(getattr(p, f)))}
    if bad:
        return CheckResult("plain_text", "fail", "; ".join(
            _("The %(field)s %(why)s", field=FIELD_LABELS.get(f, f), why=why)
            for f, why in bad.items()) + ".",
            tuple(bad))
    return CheckResult("plain_text", "pass",
                       _("Names and addresses are plain one-line text."))


# How media.py names a kept picture.
KEPT_PICTURE = re.compile(r"^[0-9a-f]{64}\.(jpg|png|gif|webp)$")


def logo(p: ProjectRecord, ctx: CheckContext) -> CheckResult:
    if not p.logo:
        return CheckResult("logo", "pass", _("No logo: the pages show the acronym."),
                           ("logo",))
    if KEPT_PICTURE.match(p.logo):
        return CheckResult("logo", "pass", _("The logo is a kept picture."), ("logo",))
    if why := url_problem(p.logo):
        return CheckResult("logo", "fail", _("The logo '%(logo)s' is neither the name of a "
                                             "kept picture nor a picture's address: "
                                             "%(why)s.", logo=p.logo[:80], why=why),
                           ("logo",))
    return CheckResult("logo", "pass", _("The logo is fetched and kept at the import."),
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
    "feeds": {code: "str" for code in LANGUAGES},
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
