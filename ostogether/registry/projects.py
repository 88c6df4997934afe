"""The registry in the database: import from content/, listing, applications and decisions.

These are the service functions the CLI and the web call. The rules themselves are the
pure functions of ``ostogether.registry.rules``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ostogether.accounts import users
from ostogether.core import clock
from ostogether.core.errors import ContentError, NotFound, ValidationError
from ostogether.core.inputs import email_problem
from ostogether.core.languages import shipped
from ostogether.edges import fetch, media, ratelimit
from ostogether.edges.audit import SYSTEM, Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import vocabulary
from ostogether.mail.transactional import editors as editors_of
from ostogether.mail.transactional import send_after_commit
from ostogether.models import Project, lookup
from ostogether.news import feeds
from ostogether.registry import rules as registry
from ostogether.registry.rules import CheckContext, CheckResult, ProjectRecord

PUBLIC_STATUSES = ("member", "alumni")
CONTENT_IMPORT = Actor("content-import")


# ------------------------------------------------------------------- import and check

@dataclass(frozen=True)
class FieldConflict:
    """A field an editor changed in the browser whose file says something else."""

    field: str
    database: Any
    file: Any
    by: str
    at: str
    file_changed: bool  # the file's value changed since the last import too


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    not_in_content: list[str] = field(default_factory=list)
    # Browser edits the files disagree with: kept, unless the file was preferred.
    conflicts: dict[str, list[FieldConflict]] = field(default_factory=dict)
    # What one project's file could not give (its logo, say); the rest was imported.
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def mark_edited(project: Project, names: list[str], actor: Actor) -> None:
    """Remember that ``names`` were changed in the browser, by whom and when, so that an
    import of a file that says otherwise reports it instead of overwriting them."""
    edits = dict(project.web_edits or {})
    for name in names:
        edits[name] = {"by": actor.label, "at": clock.now().isoformat(timespec="seconds")}
    project.web_edits = edits


def _file_logos(rt: Runtime, files: list[registry.ProjectFile], report: ImportReport,
                ) -> dict[str, str]:
    """Each file's logo as the name of the kept picture: an address is fetched (once:
    media.py knows what it fetched) through the outbound guard. A logo that cannot be
    kept is reported on its project, whose other facts are still imported."""
    out = {}
    for f in files:
        logo = f.record.logo
        if not logo:
            out[f.record.slug] = ""
            continue
        try:
            if registry.KEPT_PICTURE.match(logo):
                media.file_for(rt, logo)
                out[f.record.slug] = logo
            else:
                out[f.record.slug] = media.store(rt, logo).name
        except NotFound:
            report.problems.append(f"{f.path.name}: the logo {logo} is not a picture this "
                                   f"service keeps; give the picture's address instead.")
        except (ValidationError, fetch.FetchError) as exc:
            report.problems.append(f"{f.path.name}: the logo {logo[:200]} was not kept: "
                                   f"{exc}.")
    return out


def import_content(rt: Runtime, actor: Actor = CONTENT_IMPORT, *,
                   folder: Path | None = None, prefer_file: bool = False) -> ImportReport:
    """Create or update projects from content/projects/ (or ``folder``). All files or none.

    Idempotent: a second run with the same files changes nothing and writes no audit rows.
    A field an editor changed in the browser since its file last agreed is not
    overwritten: it is reported as a conflict, and the browser's value stays, unless
    ``prefer_file`` (then the file's value is used, and the audit row says so).
    """
    folder = folder or rt.community.projects_dir
    files, problems = registry.load_project_files(folder)
    if problems:
        raise ContentError(f"Nothing was imported: {len(problems)} problem(s) in "
                           f"{folder}.", problems)
    today = rt.today()
    report = ImportReport()
    logos = _file_logos(rt, files, report)
    with rt.db.session() as s:
        existing = {p.slug: p for p in s.scalars(select(Project))}
        for f in files:
            rec = registry.with_status(f.record, today)
            values = registry.record_values(rec)
            values["source"] = "content"
            if rec.slug in logos:
                values["logo"] = logos[rec.slug]
            else:  # not kept: the database's logo stays
                values.pop("logo")
            as_filed = {k: _json(v) for k, v in values.items()}
            project = existing.get(rec.slug)
            if project is None:
                project = Project(**values, file_values=as_filed)
                s.add(project)
                s.flush()
                record(s, actor, "project.imported", project, file=str(f.path.name),
                       status=project.status)
                report.created.append(rec.slug)
                continue
            # Where a project came from (its file, or the Join form) stays as it was.
            values.pop("source")
            _update_from_file(s, actor, project, values, as_filed, f.path.name,
                              prefer_file, report)
        slugs = {f.record.slug for f in files}
        report.not_in_content = sorted(p.slug for p in existing.values()
                                       if p.source == "content" and p.slug not in slugs)
    return report


def _update_from_file(s: Session, actor: Actor, project: Project, values: dict[str, Any],
                      as_filed: dict[str, Any], file: str, prefer_file: bool,
                      report: ImportReport) -> None:
    edits = dict(project.web_edits or {})
    before_file = project.file_values
    changed, overrode, conflicts = [], [], []
    for k, v in values.items():
        if _comparable(getattr(project, k)) == _comparable(v):
            edits.pop(k, None)  # the file and the browser agree now
            continue
        if k in edits and not prefer_file:
            conflicts.append(FieldConflict(
                k, _json(getattr(project, k)), _json(v), str(edits[k].get("by", "")),
                str(edits[k].get("at", "")),
                before_file is None or before_file.get(k) != as_filed[k]))
            continue
        if edits.pop(k, None) is not None:
            overrode.append(k)
        changed.append(k)
    if conflicts:
        report.conflicts[project.slug] = conflicts
    if (project.web_edits or {}) != edits:
        project.web_edits = edits
    if project.file_values != as_filed:
        project.file_values = as_filed
    if not changed:
        report.unchanged.append(project.slug)
        return
    before = {k: _json(getattr(project, k)) for k in changed}
    for k in changed:
        setattr(project, k, values[k])
    s.flush()
    detail: dict[str, Any] = {"file": file, "changed": changed, "before": before}
    if overrode:
        detail["overrode_web_edits"] = overrode
    record(s, actor, "project.updated", project, **detail)
    report.updated[project.slug] = changed


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def check_content(rt: Runtime) -> list[tuple[registry.ProjectFile, list[CheckResult]]]:
    """Run every rule on every file of content/projects/, for `ostogether registry check`,
    after reading content/topics.toml, whose topics are the registry's themes and more (a
    mistake in it is a ContentError naming the file and the line)."""
    vocabulary(rt.community)
    files, problems = registry.load_project_files(rt.community.projects_dir)
    if problems:
        raise ContentError(f"{len(problems)} problem(s) in {rt.community.projects_dir}; "
                           f"nothing was checked.", problems)
    return registry.check_files(files, rt.community.criteria(),
                                rt.community.code_of_conduct().version, rt.today())


def refresh_statuses(rt: Runtime, actor: Actor = SYSTEM) -> list[str]:
    """Members whose end date has passed become alumni. Returns the slugs changed."""
    today = rt.today()
    changed = []
    with rt.db.session() as s:
        for p in s.scalars(select(Project).where(Project.status == "member")):
            if registry.derived_status(ProjectRecord.from_object(p), today) == "alumni":
                transition(s, actor, p, "project", "alumni", end_date=str(p.end_date))
                changed.append(p.slug)
    return changed


# ------------------------------------------------------------------------- listing

@dataclass(frozen=True)
class Filters:
    q: str = ""
    theme: str = ""
    country: str = ""
    status: str = ""


def list_public(s: Session) -> list[Project]:
    """Members and alumni, sorted by acronym."""
    rows = s.scalars(select(Project).where(Project.status.in_(PUBLIC_STATUSES)))
    return sorted(rows, key=lambda p: p.acronym.casefold())


def public_choices(s: Session) -> list[tuple[str, str]]:
    """(slug, acronym) of the members and alumni, sorted by acronym: what a filter's
    menu needs, without loading whole projects (their JSON columns) on every page."""
    rows = s.execute(select(Project.slug, Project.acronym)
                     .where(Project.status.in_(PUBLIC_STATUSES))).all()
    return sorted(((slug, acronym) for slug, acronym in rows),
                  key=lambda r: r[1].casefold())


@dataclass(frozen=True)
class Listing:
    """The public registry as one web process keeps it: the projects (detached from any
    session; read them, never change them), their countries, and the database's stamp
    of the projects table when they were read."""

    stamp: tuple[Any, ...]
    projects: tuple[Project, ...]
    countries: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for p in self.projects:
            self.counts[p.status] = self.counts.get(p.status, 0) + 1

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)


_LISTINGS: dict[str, Listing] = {}
_STAMP = select(func.count(Project.id), func.max(Project.id),
                func.coalesce(func.sum(Project.revision), 0))
_LISTINGS_LOCK = threading.Lock()


def _projects_stamp(rt: Runtime) -> tuple[Any, ...]:
    with rt.db.engine.connect() as c:
        return tuple(c.execute(_STAMP).one())


def public_listing(rt: Runtime) -> Listing:
    """Members and alumni, read again only when the projects table changed: its row
    count, highest id and the sum of the rows' revisions (raised by every UPDATE) are
    one aggregate query, where loading the projects is 18 rows of JSON columns on every
    page. Every process sees every change at its next request, whoever made it. Where
    the database has a change signal (SQLite), even that query waits for a commit."""
    stamp = rt.db.until_commit(("projects stamp",), lambda: _projects_stamp(rt))
    found = _LISTINGS.get(rt.db.key)
    if found is not None and found.stamp == stamp:
        return found
    with rt.db.session() as s:
        rows = list_public(s)
        s.expunge_all()
    # Read after the stamp: a change in between is newer than the stamp kept with it, so
    # the next request reads again; never the other way round.
    # The country filter lists names, so it is in the order of the names, not the codes.
    listing = Listing(stamp, tuple(rows), tuple(registry.by_country_name(
        c for p in rows for c in p.countries)))
    with _LISTINGS_LOCK:
        _LISTINGS[rt.db.key] = listing
    return listing


# The registry's status filter, as its address and its label say it: running projects are
# members. "member" stays accepted, for links made before.
STATUS_FILTERS = {"running": "member", "member": "member", "alumni": "alumni"}


def filter_problems(filters: Filters, themes: dict[str, str],
                    countries: list[str]) -> dict[str, str]:
    """Why a filter value cannot be used (field → sentence); empty when all can."""
    problems = {}
    if filters.status and filters.status not in STATUS_FILTERS:
        problems["status"] = _("There is no status '%(status)s': choose running or alumni.",
                               status=filters.status[:40])
    if filters.theme and filters.theme not in themes:
        problems["theme"] = _("There is no theme '%(theme)s': choose one of the list.",
                              theme=filters.theme[:40])
    if filters.country and filters.country.upper() not in countries:
        problems["country"] = _("No project works in '%(country)s': choose a country of "
                                "the list.", country=filters.country[:2])
    return problems


def filter_projects(rows: list[Project], filters: Filters) -> list[Project]:
    """The rows that match every filter, in their order. Pure."""
    q = filters.q.strip().casefold()
    status = STATUS_FILTERS.get(filters.status, "")
    out = []
    for p in rows:
        if status and p.status != status:
            continue
        if filters.theme and filters.theme not in p.themes:
            continue
        if filters.country and filters.country.upper() not in p.countries:
            continue
        if q and not any(q in (v or "").casefold() for v in (
                p.acronym, p.name, p.description, p.coordinator)):
            continue
        out.append(p)
    return out


def list_all(s: Session, status: str | tuple[str, ...] = "") -> list[Project]:
    """The projects (of one status, or of any of several), by acronym."""
    stmt = select(Project)
    if status:
        stmt = stmt.where(Project.status.in_((status,) if isinstance(status, str) else status))
    return sorted(s.scalars(stmt), key=lambda p: p.acronym.casefold())


def get(s: Session, slug: str, *, public: bool = True) -> Project:
    p = s.scalar(select(Project).where(Project.slug == slug))
    if p is None or (public and p.status not in PUBLIC_STATUSES):
        raise NotFound(_("There is no project '%(slug)s' in the registry.", slug=slug))
    return p


PUBLIC_FIELDS = ("slug", "acronym", "name", "description", "status", "initiative_type",
                 "themes", "sdgs", "countries", "programme", "call", "grant_number",
                 "start_date", "end_date", "coordinator", "website", "feed_url")


def application(s: Session, project_id: int) -> Project:
    """The project that applied through the form, by id (else NotFound)."""
    missing = _("There is no application %(id)s.", id=project_id)
    project = lookup(s, Project, project_id, missing)
    if project.source != "application":
        raise NotFound(missing)
    return project


def by_id(s: Session, project_id: int) -> Project:
    return lookup(s, Project, project_id, _("There is no project %(id)s.", id=project_id))


def public_dict(p: Project) -> dict[str, Any]:
    """What the public may see. Contact addresses are personal data and stay private."""
    return {k: _json(getattr(p, k)) for k in PUBLIC_FIELDS}


# -------------------------------------------------------------------- applications

@dataclass(frozen=True)
class ApplicationResult:
    results: list[CheckResult]
    project: Project | None  # None when the application was not stored


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return slug or "project"


def _unique_slug(s: Session, base: str) -> str:
    taken = set(s.scalars(select(Project.slug).where(Project.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def evaluate(rt: Runtime, rec: ProjectRecord) -> list[CheckResult]:
    """The strict checks an application gets, against every project in the database."""
    with rt.db.session() as s:
        others = tuple(ProjectRecord.from_object(p) for p in s.scalars(select(Project)))
    ctx = CheckContext(criteria=rt.community.criteria(),
                       coc_version=rt.community.code_of_conduct().version,
                       today=rt.today(), others=others, strict=True)
    return registry.check(rec.normalised(), ctx)


def feed_check(rt: Runtime, url: str) -> CheckResult:
    """Whether the feed address an applicant gave serves a feed, asked through the
    outbound guard. A page that is not a feed fails; a feed that cannot be reached now
    (offline, a timeout) only warns: the editors see it with the application."""
    got = feeds.fetch(url, rt.settings)
    if got.outcome == "failed":
        return CheckResult("feed", "warn" if got.failure == "network" else "fail",
                           _("The feed address could not be read: %(error)s. Give the "
                             "address of the project's RSS or Atom feed, or leave it empty.",
                             error=got.error),
                           ("feed_url",))
    try:
        parsed = feeds.parse(got.body, got.headers, url)
    except feeds.NotAFeed as exc:
        return CheckResult("feed", "fail", _("The feed address does not serve an RSS or Atom "
                                             "feed: %(error)s. Give the feed's own address, "
                                             "or leave it empty.", error=str(exc)),
                           ("feed_url",))
    return CheckResult("feed", "pass", ngettext("The feed answers, with %(num)d entry.",
                                                "The feed answers, with %(num)d entries.",
                                                len(parsed.entries)), ("feed_url",))


def apply(rt: Runtime, rec: ProjectRecord, *, ip: str, language: str = "") -> ApplicationResult:
    """Check an application; store it as ``applicant`` when nothing fails, and tell people
    (the applicant in ``language``, the page's, where the community gives that mail in it)."""
    rec = replace(rec.normalised(), status="applicant")
    if rec.coc_accepted_on is not None:
        rec = replace(rec, coc_version=rt.community.code_of_conduct().version)
    results = evaluate(rt, rec)
    if rec.feed_url and registry.worst(results) != "fail":
        results.append(feed_check(rt, rec.feed_url))
    if registry.worst(results) == "fail":
        return ApplicationResult(results, None)
    settings = rt.settings
    keys = [ratelimit.address_key(ip, settings.ratelimit_ipv6_prefix)]
    with rt.db.session() as s:
        ratelimit.check(s, "apply", keys, settings.application_max_per_hour, 3600,
                        _("Too many applications from this network; try again in "
                          "{minutes} minutes."))
        ratelimit.hit(s, "apply", keys)
        values = registry.record_values(rec)
        values.update(slug=_unique_slug(s, slugify(rec.acronym)), status="applicant",
                      source="application", language=shipped(language) or "")
        project = Project(**values)
        s.add(project)
        s.flush()
        record(s, Actor(f"applicant:{rec.contact_email}"), "project.applied", project,
               outcome=registry.worst(results), ip=ip,
               warnings=[r.rule for r in results if r.outcome == "warn"])
        editors = editors_of(s)
    send_after_commit(rt, "application_received", rec.contact_email, project=project,
                      results=results, language=language)
    for editor, editor_language in editors:
        send_after_commit(rt, "application_new", editor, language=editor_language,
                          project=project, results=results)
    return ApplicationResult(results, project)


# How a decision reads after the acronym: "STAR is now a member".
DECIDED = {"member": "is now a member", "rejected": "was not accepted"}


@dataclass(frozen=True)
class Decision:
    project: Project
    # The applicant's contact after an acceptance: "invited" (a new member account, whose
    # password link the welcome mail carries), "existing" (the address had an account
    # already: the mail says so), or "" (no contact address, or a rejection).
    account: str = ""
    account_project: str = ""  # for "existing": the acronym of the account's project


def decide(rt: Runtime, project_id: int, actor: Actor, *, accept: bool,
           reason: str = "") -> Decision:
    """Accept an applicant as a member, or reject it with a reason. Audited and mailed.

    Accepting invites the applicant's contact as the project's first member, in the same
    transaction: the welcome mail carries the link to choose a password. An address that
    has an account already keeps it, and the mail says so."""
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationError(_("Give the applicant a reason for the rejection."),
                              {"reason": _("A reason is required to reject.")})
    user, account, account_project = None, "", ""
    with rt.db.session() as s:
        project = lookup(s, Project, project_id,
                         _("There is no application %(id)s.", id=project_id))
        transition(s, actor, project, "project", "member" if accept else "rejected",
                   reason=reason)
        project.decision_reason = reason
        project.decided_at = clock.now()
        project.decided_by_id = actor.user_id
        if accept and registry.derived_status(
                ProjectRecord.from_object(project), rt.today()) == "alumni":
            transition(s, actor, project, "project", "alumni", end_date=str(project.end_date))
        if accept and project.contact_email and not email_problem(project.contact_email):
            user = users.account_for(s, project.contact_email)
            if user is None:
                user = users.add_invited(s, actor, email=project.contact_email,
                                         project_slug=project.slug,
                                         name=project.contact_name)
                account = "invited"
            else:
                account = "existing"
                account_project = user.project.acronym if user.project else ""
    context: dict[str, Any] = {"project": project, "reason": reason, "account": account,
                               "account_project": account_project}
    if user is not None:
        context.update(user=user, hours=rt.settings.invite_max_age_hours)
        if account == "invited":
            context["link"] = users.password_link(rt, user)
    send_after_commit(rt, "application_accepted" if accept else "application_rejected",
                      project.contact_email, language=project.language, **context)
    return Decision(project, account, account_project)


def record_from_form(data: dict[str, Any]) -> ProjectRecord:
    """Build a record from already type-converted form values, ignoring unknown keys."""
    names = {f.name for f in fields(ProjectRecord)}
    values: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v)
                              for k, v in data.items() if k in names}
    return ProjectRecord(slug="", **values)
