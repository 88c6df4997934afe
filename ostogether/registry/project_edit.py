"""Editing a project in the browser: every fact of the registry, checked on save.

The registry lives in the database. An editor changes a project's facts (description,
links, contact, dates, funding, themes, countries, feed, handles, logo) on its page; the
eligibility rules of ``registry`` run on what the project would become, and nothing is
saved while one of them fails, each failure named beside its field. A saved change is
audited with every field's old and new value, and marked as a browser edit
(``projects.mark_edited``) so that a later ``registry import`` of an older file reports
the difference instead of overwriting it.

A project that came through the Join form has no file, and needs none: its feed and
handles are set here like any other project's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ostogether.core.errors import Conflict, NotFound, ValidationError
from ostogether.core.states import NETWORK_NAMES
from ostogether.edges import fetch, media
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import Feed, Project
from ostogether.news import feeds
from ostogether.registry import handles, projects
from ostogether.registry import rules as registry
from ostogether.registry.rules import CheckContext, CheckResult, ProjectRecord

# What an editor may change; the status follows the end date, and the applicant's own
# declarations (code of conduct, non-commercial purpose) stay theirs.
EDITABLE = ("acronym", "name", "description", "initiative_type", "themes", "sdgs",
            "countries", "programme", "call", "grant_number", "start_date", "end_date",
            "coordinator", "website", "feed_url", "feeds", "contact_name",
            "contact_email", "handles", "notes")


@dataclass(frozen=True)
class Edit:
    """What the editor sent: the new values of ``EDITABLE`` fields (the ones given), and
    what to do with the logo."""

    values: dict[str, Any]
    logo_upload: bytes | None = None  # a picture from the editor's computer
    logo_url: str = ""  # or the address of one, fetched through the outbound guard
    logo_kept: str = ""  # or one kept at an earlier try of this form
    remove_logo: bool = False
    # The project as the form showed it (``snapshot``): a field the editor left as it was
    # takes what another editor saved meanwhile, instead of undoing it.
    original: dict[str, Any] | None = None


@dataclass
class Outcome:
    """The checks of the project as it would be, and what was saved (nothing when a
    check fails: ``problems`` then says why, per field)."""

    results: list[CheckResult] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    logo: str = ""  # the kept picture the form may offer again
    saved: bool = False
    # Fields another editor changed meanwhile that this editor had left alone: the form
    # shows their new values (``current``) when it is shown again.
    refreshed: list[str] = field(default_factory=list)
    current: Project | None = None


def snapshot(project: Project) -> dict[str, Any]:
    """The editable facts as the form shows them, to send back with it (``Edit.original``)."""
    return {k: _json(getattr(project, k)) for k in EDITABLE}


def get(rt: Runtime, slug: str) -> Project:
    """The project, of any status, detached; NotFound otherwise."""
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        if project is None:
            raise NotFound(_("There is no project '%(slug)s' in the registry.",
                             slug=slug[:80]))
        s.expunge(project)
    return project


def _context(rt: Runtime, slug: str) -> CheckContext:
    with rt.db.session() as s:
        others = tuple(ProjectRecord.from_object(p) for p in s.scalars(
            select(Project).where(Project.slug != slug)))
    return CheckContext(criteria=rt.community.criteria(),
                        coc_version=rt.community.code_of_conduct().version,
                        today=rt.today(), others=others)


def _logo(rt: Runtime, edit: Edit, current: str, out: Outcome) -> str:
    """The logo the project would have: a new kept picture, none, or the current one."""
    try:
        if edit.logo_upload:
            return media.store_upload(rt, edit.logo_upload).name
        if edit.logo_url.strip():
            return media.store(rt, edit.logo_url.strip()).name
    except (ValidationError, fetch.FetchError) as exc:
        out.problems["logo"] = _("The logo was not kept: %(why)s. Choose a JPEG, PNG, GIF "
                                 "or WebP picture.", why=str(exc))
        return current
    if edit.logo_kept and registry.KEPT_PICTURE.match(edit.logo_kept):
        try:
            media.file_for(rt, edit.logo_kept)
            return edit.logo_kept
        except NotFound:
            pass
    return "" if edit.remove_logo else current


def _problems(results: list[CheckResult]) -> dict[str, str]:
    """Each failing check's sentence, under the field it is about."""
    out: dict[str, str] = {}
    for r in results:
        if r.outcome == "fail":
            for name, message in r.notes or [(n, r.message) for n in r.fields[:1]] or [
                    ("", r.message)]:
                out.setdefault(name, message)
    return out


def save(rt: Runtime, actor: Actor, slug: str, edit: Edit) -> Outcome:
    """Check the project as the edit would make it; save it if no check fails."""
    project = get(rt, slug)
    out = Outcome(current=project)
    values = {k: v for k, v in edit.values.items() if k in EDITABLE}
    if "feeds" in values:  # a language left empty has no feed of its own
        values["feeds"] = {k: v.strip() for k, v in (values["feeds"] or {}).items()
                           if v and v.strip()}
    if "handles" in values:
        try:
            values["handles"] = handles.cleaned(values["handles"] or {})
        except ValidationError as exc:
            # Beside its field, the network's name is its label already.
            out.problems.update({f"handles.{n}": why.removeprefix(f"{NETWORK_NAMES[n]}: ")
                                 for n, why in exc.fields.items()})
            values.pop("handles")
    for name in ("themes", "sdgs", "countries"):
        if name in values:
            values[name] = tuple(values[name])
    rec = replace(ProjectRecord.from_object(project), **values).normalised()
    if edit.original is not None:
        rec = _merge(project, rec, edit.original, out)
    if rec.status in ("member", "alumni"):
        rec = registry.with_status(rec, rt.today())
    out.results = registry.check(rec, _context(rt, slug))
    if rec.feed_url and rec.feed_url != project.feed_url and registry.worst(
            out.results) != "fail":
        out.results.append(projects.feed_check(rt, rec.feed_url))
    for name, message in _problems(out.results).items():
        out.problems.setdefault(name, message)
    logo = _logo(rt, edit, project.logo, out)
    out.logo = logo if logo != project.logo else ""
    if out.problems:
        return out
    new = registry.record_values(rec)
    new["logo"] = logo
    out.changed = _store(rt, actor, project.id, project.revision, new)
    out.saved = True
    if "feed_url" in out.changed or "feeds" in out.changed:
        feeds.sync(rt)
    return out


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value.isoformat() if isinstance(value, dt.date) else value


def _merge(project: Project, rec: ProjectRecord, original: dict[str, Any],
           out: Outcome) -> ProjectRecord:
    """Three ways, per field: what the form showed, what the editor sent, what the
    database holds now. A field changed by someone else meanwhile keeps their value when
    this editor left it alone, and is a problem (theirs shown, this editor's kept in the
    form) when both changed it differently."""
    keep: dict[str, Any] = {}
    edits = project.web_edits or {}
    for k in EDITABLE:
        mine, now = _json(getattr(rec, k)), _json(getattr(project, k))
        was = original.get(k, now)
        if now == was or mine == now:
            continue
        if mine == was:
            keep[k] = getattr(project, k)
            out.refreshed.append(k)
            continue
        by = str((edits.get(k) or {}).get("by", "")).split(":", 1)[-1]
        if now in ("", [], {}, None):
            out.problems[k] = (_("Emptied meanwhile by %(who)s. Yours is still in the form: "
                                 "save again to use it.", who=by) if by else
                               _("Emptied meanwhile by someone. Yours is still in the form: "
                                 "save again to use it."))
        else:
            out.problems[k] = (_("Changed meanwhile by %(who)s, to “%(value)s”. Yours is "
                                 "still in the form: save again to use it.", who=by,
                                 value=str(now)[:200]) if by else
                               _("Changed meanwhile by someone, to “%(value)s”. Yours is "
                                 "still in the form: save again to use it.",
                                 value=str(now)[:200]))
    kept: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                            for k, v in keep.items()}
    return replace(rec, **kept)


def _same(a: Any, b: Any) -> bool:
    return (list(a) if isinstance(a, tuple) else a) == (list(b) if isinstance(b, tuple) else b)


def _store(rt: Runtime, actor: Actor, project_id: int, revision: int,
           new: dict[str, Any]) -> list[str]:
    with rt.db.session() as s:
        project = s.get(Project, project_id)
        if project is None or project.revision != revision:
            raise Conflict(_("The project changed while it was being checked; open it "
                             "again."))
        changed = [k for k in (*EDITABLE, "logo", "status")
                   if not _same(getattr(project, k), new[k])]
        if not changed:
            return []
        before = {k: _json(getattr(project, k)) for k in changed}
        old_feed = project.feed_url
        for k in changed:
            setattr(project, k, new[k])
        projects.mark_edited(project, [k for k in changed if k != "status"], actor)
        s.flush()
        record(s, actor, "project.edited", project, changed=changed, before=before,
               after={k: _json(new[k]) for k in changed})
        if "feed_url" in changed and not project.feed_url:
            # The feed the project gave is no longer polled (a discovered one is kept).
            s.execute(delete(Feed).where(Feed.project_id == project_id,
                                         Feed.origin == "content", Feed.url == old_feed))
    return changed
