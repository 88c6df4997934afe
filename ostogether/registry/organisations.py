"""The community's organisations: joining, editors' decisions and edits, merging
duplicates, the directory and what each viewer sees of it.

Every view of an organisation goes through ``view`` (``org_rules.visible``): the pages,
``/organisations.json`` and the JSON-LD show only what the viewer may see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.core.errors import NotFound, ValidationError
from ostogether.core.languages import shipped
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import media, ratelimit
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.mail.transactional import editors as editors_of
from ostogether.mail.transactional import send_after_commit
from ostogether.models import Organisation, OrganisationProject, Person, Project, lookup
from ostogether.registry.org_rules import (
    ORG_DEFAULTS,
    ROLES,
    Known,
    OrgContext,
    OrgRecord,
    Viewer,
    check,
    clean_visibility,
    normalise_name,
    visible,
)
from ostogether.registry.projects import PUBLIC_STATUSES, slugify
from ostogether.registry.rules import CheckResult, worst

PAGE_SIZE = 24
ALWAYS = frozenset({"name"})


def viewer_of(user: Any) -> Viewer:
    """What a logged-in user (or an anonymous one) is, for the visibility rules."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "everyone"
    return "editors" if user.is_editor else "members"


def known(s: Session) -> tuple[Known, ...]:
    rows = s.execute(select(Organisation.slug, Organisation.name, Organisation.country,
                            Organisation.website).where(Organisation.status != "rejected"))
    return tuple(Known(*r) for r in rows)


def evaluate(rt: Runtime, rec: OrgRecord, *, strict: bool = True,
             skip: str = "") -> list[CheckResult]:
    with rt.db.session() as s:
        others = known(s)
    return check(rec.normalised(), OrgContext(rt.community.criteria(), others, strict, skip))


def unique_slug(s: Session, name: str) -> str:
    base = slugify(name)
    taken = set(s.scalars(select(Organisation.slug).where(
        Organisation.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def add(s: Session, actor: Actor, rec: OrgRecord, *, status: str, source: str,
        coc_version: str = "") -> Organisation:
    """A new organisation row, audited (the caller checked it)."""
    rec = rec.normalised()
    org = Organisation(slug=unique_slug(s, rec.name), name=rec.name, type=rec.type,
                       country=rec.country, city=rec.city, website=rec.website,
                       latitude=rec.latitude, longitude=rec.longitude,
                       description=rec.description, contact_email=rec.contact_email,
                       status=status, source=source, coc_version=coc_version,
                       visibility={}, logo="", decision_reason="",
                       decided_at=clock.now() if status == "member" else None)
    s.add(org)
    s.flush()
    record(s, actor, f"organisation.{'applied' if status == 'applied' else 'added'}", org,
           source=source)
    return org


@dataclass(frozen=True)
class Applied:
    results: list[CheckResult]
    slug: str = ""  # "" when nothing was stored


def apply(rt: Runtime, rec: OrgRecord, *, ip: str, language: str = "") -> Applied:
    """The Join page's door: checked strictly; stored as ``applied`` when nothing fails,
    and the applicant told so (in ``language`` where the community gives that mail)."""
    results = evaluate(rt, rec)
    if worst(results) == "fail":
        return Applied(results)
    keys = [ratelimit.address_key(ip, rt.settings.ratelimit_ipv6_prefix)]
    with rt.db.session() as s:
        ratelimit.check(s, "apply", keys, rt.settings.application_max_per_hour, 3600,
                        _l("Too many applications from this network; try again in "
                           "{minutes} minutes."))
        ratelimit.hit(s, "apply", keys)
        org = add(s, Actor(f"applicant:{rec.contact_email or ip}"), rec, status="applied",
                  source="application", coc_version=rt.community.code_of_conduct().version)
        editors = editors_of(s)
        org.language = shipped(language) or ""
    send_after_commit(rt, "organisation_received", org.contact_email, organisation=org,
                      results=results, language=language)
    for editor, editor_language in editors:  # each told in a mail of their own
        send_after_commit(rt, "organisation_new", editor, language=editor_language,
                          organisation=org, results=results)
    return Applied(results, org.slug)


def decide(rt: Runtime, slug: str, actor: Actor, *, accept: bool, reason: str = "") -> str:
    """An editor accepts (a member at once) or rejects (with a reason); the contact
    address is told either way. Its name back."""
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationError(_l("Give a reason for the rejection."),
                              {"reason": str(_l("A reason is required to reject."))})
    with rt.db.session() as s:
        org = get(s, slug, public=False)
        transition(s, actor, org, "organisation", "member" if accept else "rejected",
                   reason=reason)
        org.decision_reason, org.decided_at = reason, clock.now()
    send_after_commit(rt, "organisation_accepted" if accept else "organisation_rejected",
                      org.contact_email, organisation=org, reason=reason,
                      language=org.language)
    return org.name


def get(s: Session, slug: str, *, public: bool = True) -> Organisation:
    org = s.scalar(select(Organisation).where(Organisation.slug == slug[:80]).options(
        selectinload(Organisation.projects).selectinload(OrganisationProject.project)))
    if org is None or (public and org.status != "member"):
        raise NotFound(_l("There is no organisation '%(slug)s' in the directory.",
                          slug=slug[:80]))
    return org


def edit(rt: Runtime, slug: str, actor: Actor, rec: OrgRecord,
         visibility: dict[str, str]) -> list[CheckResult]:
    """An editor's change of an organisation's fields and visibility. Nothing is saved
    when a check fails."""
    results = evaluate(rt, rec, strict=False, skip=slug)
    if worst(results) == "fail":
        return results
    rec = rec.normalised()
    with rt.db.session() as s:
        org = get(s, slug, public=False)
        changed = {}
        for name in ("name", "type", "country", "city", "website", "latitude",
                     "longitude", "description"):
            if getattr(org, name) != getattr(rec, name):
                changed[name] = True
                setattr(org, name, getattr(rec, name))
        vis = clean_visibility(visibility, ORG_DEFAULTS)
        if vis != org.visibility:
            org.visibility = vis
            changed["visibility"] = True
        if changed:
            record(s, actor, "organisation.edited", org, fields=sorted(changed))
    return results


def set_logo(rt: Runtime, slug: str, actor: Actor, data: bytes | None) -> None:
    """An organisation's logo from a picture sent by an editor, kept as projects' logos
    are (checked, re-encoded without metadata, named by its hash); ``None`` removes it."""
    name = media.store_upload(rt, data).name if data is not None else ""
    with rt.db.session() as s:
        org = get(s, slug, public=False)
        org.logo = name
        record(s, actor, "organisation.logo", org, logo=name)


def link_project(rt: Runtime, slug: str, project_slug: str, actor: Actor, *,
                 role: str = "partner", years: str = "") -> None:
    if role not in ROLES:
        raise ValidationError(_l("Role '%(role)s' is not one of %(roles)s.", role=role,
                                 roles=", ".join(ROLES)),
                              {"role": "unknown role"})
    with rt.db.session() as s:
        org = get(s, slug, public=False)
        project = s.scalar(select(Project).where(Project.slug == project_slug))
        if project is None:
            raise NotFound(_l("There is no project '%(slug)s' in the registry.",
                              slug=project_slug))
        found = next((lp for lp in org.projects if lp.project_id == project.id), None)
        if found is None:
            org.projects.append(OrganisationProject(project_id=project.id, role=role,
                                                    years=years.strip()[:40]))
        else:
            found.role, found.years = role, years.strip()[:40]
        record(s, actor, "organisation.project", org, project=project.slug, role=role)


def merge(rt: Runtime, keep: str, drop: str, actor: Actor) -> str:
    """Merge duplicate ``drop`` into ``keep``: its project links (where ``keep`` has none
    for that project) and its people move over, empty fields of ``keep`` take its values,
    and ``drop`` is deleted. Audited on ``keep``. Its name back."""
    if keep == drop:
        raise ValidationError(_l("Choose two different organisations to merge."),
                              {"drop": "the same organisation"})
    with rt.db.session() as s:
        kept, gone = get(s, keep, public=False), get(s, drop, public=False)
        have = {lp.project_id for lp in kept.projects}
        moved = 0
        for lp in list(gone.projects):
            if lp.project_id not in have:
                kept.projects.append(OrganisationProject(
                    project_id=lp.project_id, role=lp.role, years=lp.years))
                moved += 1
        people = list(s.scalars(select(Person).where(Person.organisation_id == gone.id)))
        for p in people:
            p.organisation_id = kept.id
        for name in ("type", "country", "city", "website", "description", "logo",
                     "contact_email"):
            if not getattr(kept, name) and getattr(gone, name):
                setattr(kept, name, getattr(gone, name))
        if kept.latitude is None and gone.latitude is not None:
            kept.latitude, kept.longitude = gone.latitude, gone.longitude
        if kept.status != "member" and gone.status == "member":
            transition(s, actor, kept, "organisation", "member", merged=gone.slug)
        record(s, actor, "organisation.merged", kept, merged=gone.slug,
               merged_name=gone.name, projects=moved, people=len(people))
        s.delete(gone)
        return kept.name


# ----------------------------------------------------------------------- views

def view(org: Organisation, viewer: Viewer) -> dict[str, Any]:
    """What ``viewer`` may see of ``org``: its slug, and each visible field."""
    values: dict[str, Any] = {
        "name": org.name, "type": org.type, "country": org.country, "city": org.city,
        "website": org.website, "latitude": org.latitude, "longitude": org.longitude,
        "description": org.description, "logo": org.logo,
        "projects": [{"slug": lp.project.slug, "acronym": lp.project.acronym,
                      "role": lp.role, "years": lp.years}
                     for lp in sorted(org.projects, key=lambda lp: lp.project.acronym)
                     if lp.project.status in PUBLIC_STATUSES]}
    shown = visible(values, org.visibility, ORG_DEFAULTS, viewer, ALWAYS)
    return {"slug": org.slug, **{k: v for k, v in shown.items()
                                 if v not in ("", None) or k == "projects"}}


def json_ld(shown: dict[str, Any], url: str, logo_url: str = "") -> dict[str, Any]:
    """schema.org Organization of what the viewer may see (``view``'s answer)."""
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Organization",
                            "name": shown["name"], "url": url}
    if shown.get("website"):
        data["sameAs"] = shown["website"]
    if shown.get("description"):
        data["description"] = shown["description"]
    if shown.get("country") or shown.get("city"):
        data["address"] = {"@type": "PostalAddress",
                           **({"addressCountry": shown["country"]} if shown.get("country")
                              else {}),
                           **({"addressLocality": shown["city"]} if shown.get("city")
                              else {})}
    if shown.get("latitude") is not None and shown.get("longitude") is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": shown["latitude"],
                       "longitude": shown["longitude"]}
    if logo_url:
        data["logo"] = logo_url
    return data


@dataclass(frozen=True)
class Filters:
    q: str = ""
    type: str = ""
    country: str = ""
    project: str = ""
    page: int = 1


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    filters: Filters
    countries: list[str] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)
    everyone: list[dict[str, Any]] = field(default_factory=list)  # every member, as seen
    problems: dict[str, str] = field(default_factory=dict)  # filters that were not used


def members(s: Session) -> list[Organisation]:
    return list(s.scalars(select(Organisation).where(Organisation.status == "member")
                          .options(selectinload(Organisation.projects)
                                   .selectinload(OrganisationProject.project))
                          .order_by(Organisation.name)))


def filter_problems(f: Filters, types: dict[str, str], countries: list[str],
                    projects: list[tuple[str, str]]) -> dict[str, Any]:
    """Why a filter value cannot be used (field → sentence); empty when all can. An
    unknown value is not "no results": the directory says so and leaves it out."""
    problems = {}
    if f.type and f.type not in types:
        problems["type"] = _l("There is no type of organisation '%(type)s': choose one "
                              "of the list.", type=f.type[:40])
    if f.country and f.country not in countries:
        problems["country"] = _l("No member organisation is in '%(country)s': choose a "
                                 "country of the list.", country=f.country[:2])
    if f.project and f.project not in {slug for slug, _ in projects}:
        problems["project"] = _l("No member organisation took part in a project "
                                 "'%(project)s': choose a project of the list.",
                                 project=f.project[:80])
    return problems


def directory(s: Session, f: Filters, viewer: Viewer, *, types: dict[str, str] | None = None,
              page_size: int = PAGE_SIZE) -> Page:
    """The directory's page: members matching the filters, each as ``viewer`` sees it.
    A filter only matches on what the viewer may see (a hidden country does not find).
    With ``types`` (the community's list), an unknown filter value is left out and named
    in ``problems``."""
    everyone = [view(o, viewer) for o in members(s)]
    countries = sorted({v["country"] for v in everyone if v.get("country")})
    projects = sorted({(p["slug"], p["acronym"]) for v in everyone
                       for p in v.get("projects", [])}, key=lambda p: p[1].casefold())
    problems = filter_problems(f, types, countries, projects) if types is not None else {}
    if problems:
        f = Filters(**{**f.__dict__, **dict.fromkeys(problems, "")})
    q = normalise_name(f.q)
    shown = [v for v in everyone
             if (not q or q in normalise_name(" ".join(
                 str(v.get(k, "")) for k in ("name", "city", "description"))))
             and (not f.type or v.get("type") == f.type)
             and (not f.country or v.get("country") == f.country)
             and (not f.project or any(p["slug"] == f.project
                                       for p in v.get("projects", [])))]
    pages = max(1, math.ceil(len(shown) / page_size))
    page = min(max(1, f.page), pages)
    return Page(shown[(page - 1) * page_size:page * page_size], len(shown), page, pages, f,
                countries, projects, everyone, problems)


def map_data(views: list[dict[str, Any]]) -> tuple[dict[str, int],
                                                  list[tuple[float, float, str]]]:
    """Members per country, and the positions (latitude, longitude, name), of what a
    viewer sees (``view``'s answers): what the map draws."""
    counts: dict[str, int] = {}
    points = []
    for v in views:
        if v.get("country"):
            counts[v["country"]] = counts.get(v["country"], 0) + 1
        if v.get("latitude") is not None and v.get("longitude") is not None:
            points.append((float(v["latitude"]), float(v["longitude"]), v["name"]))
    return counts, points


def figures(s: Session) -> dict[str, Any]:
    """The dashboard's counts: members by type and by country, and who waits."""
    by_type: dict[str, int] = {}
    by_country: dict[str, int] = {}
    for kind, country in s.execute(select(Organisation.type, Organisation.country)
                                   .where(Organisation.status == "member")):
        by_type[kind or ""] = by_type.get(kind or "", 0) + 1
        by_country[country or ""] = by_country.get(country or "", 0) + 1
    waiting = s.scalar(select(func.count(Organisation.id)).where(
        Organisation.status == "applied")) or 0
    people_waiting = s.scalar(select(func.count(Person.id)).where(
        Person.status == "applied")) or 0
    return {"by_type": sorted(by_type.items(), key=lambda c: (-c[1], c[0])),
            "by_country": sorted(by_country.items(), key=lambda c: (-c[1], c[0])),
            "total": sum(by_type.values()), "waiting": waiting,
            "people_waiting": people_waiting}


def partners_of(s: Session, project_id: int) -> list[tuple[str, str, str]]:
    """(slug, name, role) of the member organisations in a project: its page lists them."""
    rows = s.execute(select(Organisation.slug, Organisation.name, OrganisationProject.role)
                     .join(OrganisationProject.organisation)
                     .where(OrganisationProject.project_id == project_id,
                            Organisation.status == "member")
                     .order_by(OrganisationProject.role, Organisation.name))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def waiting(s: Session, status: str = "applied") -> list[Organisation]:
    return list(s.scalars(select(Organisation).where(Organisation.status == status)
                          .order_by(Organisation.created_at, Organisation.id)))


def by_id(s: Session, org_id: int) -> Organisation:
    return lookup(s, Organisation, org_id, f"There is no organisation {org_id}.")
