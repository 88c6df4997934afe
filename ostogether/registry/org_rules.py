"""Organisations and people as the rules see them (pure): the record, the eligibility
rules of content/eligibility.toml's [organisations], and who may see which field.

The rules have the shape of the projects' (``rules.py``): each is a function of a record
and a context that returns a ``CheckResult`` saying pass, warn or fail and why.

**Visibility.** Each field of an organisation or a person is shown to ``everyone``, to
``members`` (anyone logged in) or to ``editors``, as in Wild Apricot. ``visible`` is the one
function every page and every JSON goes through, so a private field cannot leak by a
template forgetting to hide it. A person is private by default: every field is for
editors until the person says otherwise; the person always sees their whole record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import pycountry
from flask_babel import gettext as _

from ostogether.core.inputs import url_problem
from ostogether.core.words import _l
from ostogether.edges.site import Criteria
from ostogether.registry.rules import CheckResult

Viewer = Literal["everyone", "members", "editors", "self"]
LEVELS = ("everyone", "members", "editors")
LEVEL_NAMES = {"everyone": "Everyone", "members": "Members (logged in)",
               "editors": "Editors only"}
# What a viewer may see: an anonymous visitor sees "everyone" fields, a member those and
# the "members" ones, an editor and the person themself see all.
SEES = {"everyone": {"everyone"}, "members": {"everyone", "members"},
        "editors": set(LEVELS), "self": set(LEVELS)}

ORG_FIELDS = ("name", "type", "country", "city", "website", "latitude", "longitude",
              "description", "logo", "projects")
# An organisation is public by default (a directory is what it joined for); its name
# always is, so that its page and links name it.
ORG_DEFAULTS = dict.fromkeys(ORG_FIELDS, "everyone")
ALWAYS_PUBLIC = {"name"}
PERSON_FIELDS = ("name", "email", "organisation", "country", "role", "interests")
PERSON_DEFAULTS = dict.fromkeys(PERSON_FIELDS, "editors")
ROLES = {"coordinator": "Coordinator", "partner": "Partner", "associated": "Associated"}


def level_of(visibility: Mapping[str, str] | None, name: str,
             defaults: Mapping[str, str]) -> str:
    chosen = (visibility or {}).get(name, defaults.get(name, "editors"))
    return chosen if chosen in LEVELS else "editors"


def visible(values: Mapping[str, Any], visibility: Mapping[str, str] | None,
            defaults: Mapping[str, str], viewer: Viewer,
            always: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """Only the fields of ``values`` that ``viewer`` may see (``always``: fields every
    viewer sees). A field without a rule is for editors: a new column is private until
    someone says otherwise."""
    allowed = SEES[viewer]
    return {k: v for k, v in values.items()
            if k in always or level_of(visibility, k, defaults) in allowed}


def clean_visibility(raw: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """Only known fields and levels; the rest is dropped."""
    return {k: v for k, v in raw.items() if k in defaults and v in LEVELS}


# ----------------------------------------------------------------- names and places

def normalise_name(text: str) -> str:
    """For matching: case, accents, punctuation and spaces do not count."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def domain_of(url: str) -> str:
    """The website's host without ``www.``, lower-case; "" for no address."""
    try:
        host = urlsplit(url.strip() if "://" in url else "https://" + url.strip()).hostname
    except ValueError:
        return ""
    return (host or "").removeprefix("www.").lower() if url.strip() else ""


def country_code(text: str) -> str:
    """An ISO 3166-1 alpha-2 code from a code or a country's name ("Netherlands" → NL);
    "" when it names no country."""
    text = " ".join(text.split())
    if not text:
        return ""
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()):
        return text.upper()
    if text.upper() in ("UK", "GREAT BRITAIN"):
        return "GB"
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(text)
    except LookupError:
        return ""
    return str(found[0].alpha_2) if len(found) == 1 else ""


def country_label(code: str) -> str:
    if code == "XK":  # not in ISO 3166-1, but a code the EU uses
        return "Kosovo"
    found = pycountry.countries.get(alpha_2=code) if code else None
    return str(getattr(found, "common_name", None) or found.name) if found else code


# ----------------------------------------------------------------- the record and rules

@dataclass(frozen=True)
class OrgRecord:
    name: str = ""
    type: str = ""
    country: str = ""
    city: str = ""
    website: str = ""
    latitude: float | None = None
    longitude: float | None = None
    description: str = ""
    contact_email: str = ""
    coc: bool = True  # accepted the code of conduct (an import is an editor's act)

    def normalised(self) -> OrgRecord:
        return OrgRecord(
            name=" ".join(self.name.split()), type=self.type.strip(),
            country=self.country.strip().upper(), city=" ".join(self.city.split()),
            website=self.website.strip(), latitude=self.latitude, longitude=self.longitude,
            description=self.description.strip(), contact_email=self.contact_email.strip(),
            coc=self.coc)


@dataclass(frozen=True)
class Known:
    """An organisation already in the registry, as the duplicate rule compares it."""

    slug: str
    name: str
    country: str
    website: str


@dataclass(frozen=True)
class OrgContext:
    criteria: Criteria
    others: tuple[Known, ...] = ()
    strict: bool = True
    skip_slug: str = ""  # the organisation being edited is no duplicate of itself
    labels: dict[str, str] = field(default_factory=dict)


def org_required(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    missing = [f for f in ctx.criteria.organisation_required if not getattr(o, f, "")]
    if missing:
        return CheckResult("org_required", "fail", _("Missing: %(fields)s.",
                                                     fields=", ".join(missing)),
                           tuple(missing), tuple((f, _("Fill this in.")) for f in missing))
    return CheckResult("org_required", "pass", _("All required fields are present."))


def org_type(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    types = ctx.criteria.organisation_types
    if o.type and o.type not in types:
        return CheckResult("org_type", "fail", _("Unknown type '%(type)s'; choose from "
                                                 "%(known)s.", type=o.type,
                                                 known=", ".join(types.values())), ("type",))
    return CheckResult("org_type", "pass", _("The type is one of the list."), ("type",))


def org_country(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    if not o.country:
        return CheckResult("org_country", "pass", _("No country given."), ("country",))
    if not pycountry.countries.get(alpha_2=o.country) and o.country != "XK":
        return CheckResult("org_country", "fail", _("'%(country)s' is not a country code; "
                                                    "give the two-letter ISO code, e.g. NL.",
                                                    country=o.country), ("country",))
    listed = ctx.criteria.organisation_countries
    if listed and o.country not in listed:
        return CheckResult("org_country", "warn", _(
            "%(country)s is not an EU or associated country: an editor decides.",
            country=country_label(o.country)), ("country",))
    return CheckResult("org_country", "pass", _("Based in %(country)s.",
                                                country=country_label(o.country)),
                       ("country",))


def org_website(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    if o.website and (why := url_problem(o.website)):
        return CheckResult("org_website", "fail", _("The website: %(why)s.", why=why),
                           ("website",))
    return CheckResult("org_website", "pass", _("The website address is well formed."),
                       ("website",))


def org_position(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    if (o.latitude is None) != (o.longitude is None):
        return CheckResult("org_position", "fail", _("Give both latitude and longitude, or "
                                                     "neither."), ("latitude",))
    if o.latitude is not None and o.longitude is not None and not (
            -90 <= o.latitude <= 90 and -180 <= o.longitude <= 180):
        return CheckResult("org_position", "fail", _("Latitude is between -90 and 90, "
                                                     "longitude between -180 and 180."),
                           ("latitude",))
    return CheckResult("org_position", "pass", _("The position is valid."), ("latitude",))


def org_duplicate(o: OrgRecord, ctx: OrgContext) -> CheckResult:
    doubts = possible_duplicates(o, ctx.others, skip=ctx.skip_slug)
    if doubts:
        names = ", ".join(f"{k.name} ({k.slug})" for k, _why in doubts)
        return CheckResult("org_duplicate", "warn", _(
            "Possible duplicate of %(names)s: an editor merges them if they are one.",
            names=names), ("name",))
    return CheckResult("org_duplicate", "pass", _("No other organisation looks the same."))


def possible_duplicates(o: OrgRecord, others: tuple[Known, ...], *,
                        skip: str = "") -> list[tuple[Known, Any]]:
    """Organisations that may be ``o``: the same name (case, accents and spaces aside)
    in another or no country, or the same website domain; with the reason."""
    name, domain = normalise_name(o.name), domain_of(o.website)
    found = []
    for k in others:
        if k.slug == skip:
            continue
        if name and normalise_name(k.name) == name:
            found.append((k, _l("same name") if k.country == o.country else
                          _l("same name, %(country)s", country=k.country) if k.country else
                          _l("same name, no country")))
        elif domain and domain_of(k.website) == domain:
            found.append((k, _l("same website domain (%(domain)s)", domain=domain)))
    return found


RULES: tuple[Callable[[OrgRecord, OrgContext], CheckResult], ...] = (
    org_required, org_type, org_country, org_website, org_position, org_duplicate)


def check(o: OrgRecord, ctx: OrgContext) -> list[CheckResult]:
    results = [rule(o, ctx) for rule in RULES]
    if ctx.strict and not o.coc:
        results.append(CheckResult("coc", "fail", _("Accept the code of conduct to join."),
                                   ("coc",)))
    return results
