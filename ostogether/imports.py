"""Imports uploaded on the editors' page: Mailchimp's audience export (readers), past
issues (a zip of the folder ``archive import`` reads) and Wild Apricot's contacts
(members), through the very services the CLI calls: ``readers_import.check``/``write``,
``archive_import.import_zip`` (``import_folder`` on the unpacked zip) and
``members_import.plan``/``apply``. This module only keeps the file, the report and the
progress between the steps; every rule is the import's own.

- **Upload** keeps the file under ``var_dir/imports/`` (within
  ``import_max_upload_bytes``) and records it (checking). The options are checked at
  once (a column map that does not parse, a contact put in a project that is not one).
- **The dry run** is the worker's (``jobs.pick_up``), like everything that may take
  long: reading a 20 MB export takes longer than a web request may last, and as much
  memory as its lines. Its report (counts, every line left out and why, warnings) is
  stored with the row (checked), its lines in ``import_lines``, so that a report of
  thousands of lines is read a page at a time. A file the import cannot read is refused
  with the import's own sentence (refused), and deleted. Nothing else is written.
- **Apply** records that the editor wants it written (checked → queued). The worker
  takes it (queued → running: a guarded UPDATE, so that one worker only runs it),
  checks the file again against the database as it is now, and writes it, storing its
  progress (rows written of how many) as it goes and then the result (running → done |
  failed), audited with who applied it, which file and the counts.
- The imports are idempotent (a reader, an account or an issue there already is left as
  it is), so applying a file twice, or again after a failure, doubles nothing.
- The file holds people's addresses: it is deleted once applied, discarded, or left
  unapplied for ``KEPT_FOR``.

The options the CLI takes as ``--map``, ``--assign``, ``--replace`` and ``--contacts``
are ``Options`` here, and the imports' messages call them by the page's names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, or_, select, update

from ostogether.core import clock
from ostogether.core.errors import Conflict, NotFound, OstogetherError, ValidationError
from ostogether.core.words import _l, keep
from ostogether.edges import audit
from ostogether.edges.audit import SYSTEM, Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.models import ImportLine, ImportRun, lookup
from ostogether.newsletter import archive_import
from ostogether.readers import readers_import
from ostogether.registry import members_import, org_import

log = logging.getLogger("ostogether.imports")

KINDS = ("readers", "archive", "members", "organisations")
FOLDER = "imports"  # under var_dir
KEPT_FOR = dt.timedelta(days=2)  # an upload never applied is deleted after this
STALE = dt.timedelta(hours=1)  # a running import not heard of for this long has stopped
PAGE = 100  # lines of a report per page
CHUNK = 1 << 20
SUFFIXES = (".zip", ".csv", ".txt")
# What the page calls the options (the CLI's --map, --assign and --replace).
MAP_NAME = _l("Column map")
TAGS_NAME = _l("Tags to topics")  # the CLI's --map-tags
ASSIGN_NAME = "Contacts put in projects"
REPLACE_HINT = ('tick "Replace past issues imported before" and upload the zip again')
MISSING = _l("There is no such import; it may have been discarded.")


@dataclass(frozen=True)
class Options:
    """What the editor chose besides the file."""

    column_map: str = ""  # readers: THEIRS=ours, by line or comma (the CLI's --map)
    tag_map: str = ""  # readers: Mailchimp TAG=topic, by line or comma (--map-tags)
    assign: str = ""  # members: ADDRESS = SLUG, by line (--assign)
    replace: bool = False  # archive: replace issues imported before (--replace)
    # members, when applying: the projects that take their first matched contact's
    # address as their contact (--contacts)
    contacts: tuple[str, ...] = ()

    def stored(self) -> dict[str, Any]:
        return {**asdict(self), "contacts": list(self.contacts)}

    @classmethod
    def of(cls, stored: dict[str, Any]) -> Options:
        return cls(column_map=str(stored.get("column_map", "")),
                   tag_map=str(stored.get("tag_map", "")),
                   assign=str(stored.get("assign", "")),
                   replace=bool(stored.get("replace", False)),
                   contacts=tuple(str(c) for c in stored.get("contacts", ())))


@dataclass
class Checked:
    """A dry run or an applied import, as stored: the counts and what else the report
    says (``summary``), and its lines."""

    summary: dict[str, Any]
    lines: Iterable[dict[str, Any]] = ()  # read once, as they are stored
    close: Callable[[], None] = lambda: None  # what holds the lines (a readers' spool)


@dataclass(frozen=True)
class Page:
    """One page of a report's lines, and how many lines of each outcome it has."""

    lines: list[ImportLine]
    page: int
    pages: int
    shown: int  # lines with the outcome asked for (all when none was)
    by_outcome: dict[str, int]


def folder(rt: Runtime) -> Path:
    """Where uploads are kept: ``imports/`` in ``var_dir``, which settings made absolute."""
    return rt.settings.var_path / FOLDER


# ------------------------------------------------------------------ the dry run

def upload(rt: Runtime, actor: Actor, kind: str, name: str, stream: IO[bytes],
           options: Options) -> int:
    """Keep the uploaded file for the worker's dry run; the import's id. Options that
    cannot be used, or a file over the limit, raise the import's error, and nothing is
    kept."""
    if kind not in KINDS:
        raise NotFound(_l("There is no import of %(kind)s; the imports are %(kinds)s.",
                          kind=repr(kind[:40]), kinds=", ".join(KINDS)))
    _check_options(rt, kind, options)
    name = shown_name(name)
    where = folder(rt)
    where.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix.lower()
    path = where / f"{secrets.token_hex(12)}{suffix if suffix in SUFFIXES else ''}"
    try:
        size, digest = _save(stream, path, rt.settings.import_max_upload_bytes, name)
        with rt.db.session() as s:
            run = ImportRun(kind=kind, status="checking", file_name=name, stored=path.name,
                            size=size, sha256=digest, options=options.stored(),
                            uploaded_by=actor.label, uploaded_by_id=actor.user_id)
            s.add(run)
            s.flush()
            record(s, actor, "import.uploaded", run, kind=kind, file=name, size=size,
                   sha256=digest)
            return run.id
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _check_options(rt: Runtime, kind: str, options: Options) -> None:
    """What can be said about the options before the file is read."""
    if kind == "readers":
        readers_import.parse_map(options.column_map, MAP_NAME)
        readers_import.parse_tags(rt, options.tag_map, TAGS_NAME)
    elif kind == "members":
        members_import.check_assign(
            rt, members_import.parse_assign(options.assign, ASSIGN_NAME), ASSIGN_NAME)


def shown_name(name: str) -> str:
    """The uploaded file's own name, as the report shows it: no folder, no control
    characters, at most 200 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:200] or "the file"


def _save(stream: IO[bytes], path: Path, limit: int, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("xb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ValidationError(_l(
                    "%(file)s is larger than %(mb)s MB, the most an import takes here "
                    "(import_max_upload_bytes). Split it into parts, or import it with the "
                    "command line.", file=name, mb=format(limit / 1e6, "g")), {"file": "too big"})
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _check(rt: Runtime, actor: Actor, kind: str, name: str, path: Path,
           options: Options) -> Checked:
    if kind == "readers":
        checked = readers_import.check(
            rt, [(name, path)], readers_import.parse_map(options.column_map, MAP_NAME),
            MAP_NAME, readers_import.parse_tags(rt, options.tag_map, TAGS_NAME))
        return _readers(checked.report)
    if kind == "members":
        return _members(_plan(rt, name, path, options))
    if kind == "organisations":
        return _organisations(org_import.plan(rt, path, name=name))
    return _archive(archive_import.import_zip(
        rt, actor, path, name=name, workdir=folder(rt), apply=False,
        replace=options.replace, replace_hint=REPLACE_HINT))


def _plan(rt: Runtime, name: str, path: Path, options: Options) -> members_import.Plan:
    return members_import.plan(rt, path, name=name, assign=members_import.parse_assign(
        options.assign, ASSIGN_NAME), assign_name=ASSIGN_NAME)


def _readers(report: readers_import.ImportReport) -> Checked:
    """The report of a readers' import; its lines are read from its spool as they are
    stored (a file of 500,000 lines is never a list here), and ``close`` deletes it."""
    by_file = report.counts_by_file()
    return Checked(
        {"counts": report.counts, "warnings": report.warnings(),
         "files": [{"name": f.name, "kind": f.kind, "lines": f.lines,
                    "ignored": list(f.ignored_columns), "counts": by_file[f.name]}
                   for f in report.files],
         "tags": [{"tag": t, "topic": topic, "readers": n}
                  for t, topic, n in report.tag_topics()]},
        ({"file": x.file, "line": x.line, "subject": x.email, "outcome": x.outcome,
          "reason": x.reason, "warning": x.warning} for x in report.noted(kept=True)),
        report.spool.close)


def _members(plan: members_import.Plan) -> Checked:
    counts = plan.counts()
    lines = []
    for r in plan.rows:
        outcome = r.outcome
        if plan.applied and r.outcome == "matched":
            outcome = "invited" if r.result == "invited" else "not_invited"
        lines.append({"line": r.contact.line, "subject": r.contact.email,
                      "detail": r.contact.name, "context": r.contact.organisation,
                      "target": r.project or ", ".join(r.candidates), "outcome": outcome,
                      "reason": r.result.removeprefix("not invited: ")
                      if outcome == "not_invited" else r.reason})
    if plan.applied:
        counts["invited"] = sum(r.result == "invited" for r in plan.rows)
        counts["not_invited"] = counts["matched"] - counts["invited"]
    return Checked({"counts": counts,
                    "contacts": {slug: {"email": c.email, "name": c.name,
                                        "organisation": c.organisation}
                                 for slug, c in plan.contacts.items()}}, lines)


def _organisations(plan: org_import.Plan) -> Checked:
    """The report of an import of organisations and people (``org_import``)."""
    counts: dict[str, int] = {**plan.counts(), **{f"created_{k}": v
                                                  for k, v in plan.created.items()}}
    return Checked({"counts": counts}, ({
        "line": ln.line, "subject": ln.person, "context": ln.organisation,
        "reason": ln.detail, "outcome": ln.outcome} for ln in plan.lines))


def _archive(outcomes: list[archive_import.Outcome]) -> Checked:
    counts = {k: sum(o.outcome == k for o in outcomes)
              for k in ("imported", "replaced", "refreshed", "unchanged")}
    counts["taken_out"] = sum(len(o.dropped) for o in outcomes)
    lines: list[dict[str, Any]] = []
    for o in outcomes:
        lines.append({"file": o.file, "line": o.number, "subject": f"#{o.number}",
                      "detail": o.subject, "outcome": o.outcome})
        lines += [{"file": o.file, "line": o.number, "subject": f"#{o.number}",
                   "outcome": "taken_out", "reason": why} for why in o.dropped]
    return Checked({"counts": counts}, lines)


CUT = {"file": 255, "subject": 400, "detail": 600, "context": 400, "target": 400,
       "outcome": 20}


def _store_lines(s: Any, import_id: int, phase: str,
                 lines: Iterable[dict[str, Any]]) -> None:
    """The report's lines into ``import_lines``, a thousand at a time as they come."""
    s.execute(delete(ImportLine).where(ImportLine.import_id == import_id,
                                       ImportLine.phase == phase))
    rows = ({"file": "", "line": 0, "subject": "", "detail": "", "context": "",
             "target": "", "reason": "", "warning": "",
             **{k: (str(v)[:CUT[k]] if k in CUT else keep(v)
                    if k in ("reason", "warning") else v) for k, v in x.items()},
             "import_id": import_id, "phase": phase, "position": n}
            for n, x in enumerate(lines))
    while chunk := list(islice(rows, 1000)):
        s.execute(insert(ImportLine), chunk)


def recheck(rt: Runtime, actor: Actor, import_id: int, options: Options) -> None:
    """Ask the worker for the dry run of a kept upload again, with other options
    (contacts put in projects, a column map, replacing); its report replaces this one."""
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        _check_options(rt, run.kind, options)
        _kept(rt, run)
        if run.status not in ("checked", "failed"):
            raise Conflict(_l("%(file)s is %(status)s; it cannot be checked again.",
                              file=run.file_name, status=run.status))
        run.options, run.heard_at, run.error = options.stored(), None, ""
        transition(s, actor, run, "import", "checking", kind=run.kind, file=run.file_name,
                   options=options.stored())


def _kept(rt: Runtime, run: ImportRun) -> Path:
    path = folder(rt) / run.stored if run.stored else None
    if path is None or not path.is_file():
        raise Conflict(_l("%(file)s is no longer kept (uploads are kept for %(days)d days, "
                          "and until they are applied); upload it again.",
                          file=run.file_name, days=KEPT_FOR.days))
    return path


# ------------------------------------------------------------------ apply

def apply(rt: Runtime, actor: Actor, import_id: int, contacts: Iterable[str] = ()) -> None:
    """Queue the import for the worker (checked or failed → queued). ``contacts`` are
    the projects (of those the report offers) that take their first matched contact's
    address. An import queued, running or done already is not queued again."""
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        if run.status in ("queued", "running", "done"):
            raise Conflict(_l("%(file)s is %(status)s already; it is not applied twice.",
                              file=run.file_name, status=run.status))
        if run.status == "checking":
            raise Conflict(_l("%(file)s is still being checked; apply it once its report "
                              "is shown.", file=run.file_name))
        _kept(rt, run)
        offered = run.report.get("contacts", {})
        options = Options.of(run.options)
        run.options = Options(options.column_map, options.tag_map, options.assign,
                              options.replace,
                              tuple(c for c in dict.fromkeys(contacts) if c in offered)
                              ).stored()
        run.applied_by, run.applied_by_id = actor.label, actor.user_id
        run.queued_at, run.error, run.done, run.total = clock.now(), "", 0, 0
        transition(s, actor, run, "import", "queued", kind=run.kind, file=run.file_name)


def discard(rt: Runtime, actor: Actor, import_id: int) -> ImportRun:
    """Delete an upload that was not applied (its file and its report's lines)."""
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        transition(s, actor, run, "import", "discarded", kind=run.kind, file=run.file_name)
        _forget(rt, s, run)
        s.flush()
        s.expunge(run)
    return run


def _forget(rt: Runtime, s: Any, run: ImportRun) -> None:
    if run.stored:
        (folder(rt) / run.stored).unlink(missing_ok=True)
        run.stored = ""
    s.execute(delete(ImportLine).where(ImportLine.import_id == run.id))


# ------------------------------------------------------------------ the worker

def pick_up(rt: Runtime, now: dt.datetime | None = None) -> list[int]:
    """What the worker does every few seconds: check the uploaded files and run the
    queued imports (each taken by one worker only), fail the imports whose worker
    stopped, and delete uploads never applied. The ids of the imports it checked or
    ran."""
    now = now or clock.now()
    with rt.db.session() as s:
        due = s.execute(select(ImportRun.id, ImportRun.status, ImportRun.heard_at).where(or_(
            ImportRun.status.in_(("checking", "queued", "running")),
            and_(ImportRun.status.in_(("checked", "failed")),
                 ImportRun.created_at < now - KEPT_FOR))).order_by(ImportRun.id)).all()
    worked = []
    for import_id, status, heard in due:
        stale = heard is not None and heard < now - STALE
        if status == "running":
            if heard is None or stale:
                _finish(rt, import_id, SYSTEM, error=_l(
                    "The worker stopped during this import. Apply it again: what was "
                    "written already is not written twice."))
        elif status in ("checked", "failed"):
            _expire(rt, import_id)
        elif status == "checking" and (heard is None or stale):
            if _claim(rt, import_id, "checking", heard):
                _check_run(rt, import_id)
                worked.append(import_id)
        elif status == "queued" and _claim(rt, import_id, "queued", heard):
            _run(rt, import_id)
            worked.append(import_id)
    return worked


def _claim(rt: Runtime, import_id: int, status: str, heard: dt.datetime | None) -> bool:
    """Take the import for this worker: a check waiting (or left by a worker that
    stopped), or an import queued (queued → running)."""
    now = clock.now()
    with rt.db.session() as s:
        if status == "checking":
            taken = s.execute(update(ImportRun).where(
                ImportRun.id == import_id, ImportRun.status == "checking",
                ImportRun.heard_at.is_(None) if heard is None else
                ImportRun.heard_at == heard).values(heard_at=now))
        else:
            taken = s.execute(update(ImportRun).where(
                ImportRun.id == import_id, ImportRun.status == "queued").values(
                status="running", started_at=now, heard_at=now, done=0, total=0))
    return getattr(taken, "rowcount", 0) == 1


def _check_run(rt: Runtime, import_id: int) -> None:
    """The dry run, stored as the import's report (checked); or the import's refusal
    (refused), and the file is deleted."""
    run = get(rt, import_id)
    actor = Actor(run.uploaded_by or SYSTEM.label, run.uploaded_by_id)
    try:
        checked = _check(rt, actor, run.kind, run.file_name, _kept(rt, run),
                         Options.of(run.options))
    except OstogetherError as exc:
        _refuse(rt, import_id, actor, exc.message)
        return
    except Exception as exc:  # a bug: recorded on the import, the worker goes on
        log.exception("checking import %s crashed", import_id,
                      extra={"event": "import.crash", "import_id": import_id})
        _refuse(rt, import_id, actor, _l(
            "Something went wrong on our side (%(error)s); the error has been logged. "
            "Upload the file again later.", error=exc.__class__.__name__))
        return
    try:
        with rt.db.session() as s:
            run = lookup(s, ImportRun, import_id, MISSING)
            if run.status != "checking":  # discarded meanwhile
                return
            run.report, run.heard_at = checked.summary, None
            _store_lines(s, run.id, "check", checked.lines)
            transition(s, actor, run, "import", "checked", kind=run.kind,
                       file=run.file_name, counts=checked.summary.get("counts", {}))
    finally:
        checked.close()


def _refuse(rt: Runtime, import_id: int, actor: Actor, error: Any) -> None:
    """``error`` is kept as ``words.keep`` writes it (shown in the page's language); the
    audit log keeps it in English."""
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        if run.status != "checking":
            return
        run.error, run.report, run.heard_at = keep(error)[:20000], {}, None
        transition(s, actor, run, "import", "refused", kind=run.kind, file=run.file_name,
                   reason=str(error)[:2000])
        _forget(rt, s, run)


class _Progress:
    """Stores how far the import is, about a hundred times in all, and renews
    ``heard_at`` each time."""

    def __init__(self, rt: Runtime, import_id: int) -> None:
        self.rt, self.import_id, self.last = rt, import_id, -1

    def __call__(self, done: int, total: int) -> None:
        if self.last >= 0 and done < total and done - self.last < max(1, total // 100):
            return
        self.last = done
        with self.rt.db.session() as s:
            s.execute(update(ImportRun).where(ImportRun.id == self.import_id).values(
                done=done, total=total, heard_at=clock.now()))


def _run(rt: Runtime, import_id: int) -> None:
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        s.expunge(run)
    actor = Actor(run.applied_by or SYSTEM.label, run.applied_by_id)
    options = Options.of(run.options)
    progress = _Progress(rt, import_id)
    try:
        path = _kept(rt, run)
        if run.kind == "readers":
            with readers_import.check(
                    rt, [(run.file_name, path)],
                    readers_import.parse_map(options.column_map, MAP_NAME),
                    MAP_NAME, readers_import.parse_tags(rt, options.tag_map, TAGS_NAME)
            ) as checked:
                progress(0, checked.to_write)
                # The report is stored before the spool that holds its lines goes.
                _finish(rt, import_id, actor,
                        result=_readers(readers_import.write(rt, checked, progress)))
                return
        elif run.kind == "members":
            plan = _plan(rt, run.file_name, path, options)
            progress(0, plan.counts()["matched"])
            result = _members(members_import.apply(rt, actor, plan, progress))
            result.summary["contacts_set"], result.summary["contacts_not_set"] = \
                _contacts(rt, actor, plan, options.contacts)
        elif run.kind == "organisations":
            planned = org_import.plan(rt, path, name=run.file_name)
            org_import.apply(rt, actor, planned)  # one transaction: all or nothing
            result = _organisations(planned)
        else:
            result = _archive(archive_import.import_zip(
                rt, actor, path, name=run.file_name, workdir=folder(rt),
                replace=options.replace, replace_hint=REPLACE_HINT, progress=progress))
    except OstogetherError as exc:
        _finish(rt, import_id, actor, error=exc.message)
    except Exception as exc:  # a bug: recorded on the import, the worker goes on
        log.exception("import %s crashed", import_id,
                      extra={"event": "import.crash", "import_id": import_id})
        _finish(rt, import_id, actor, error=_l(
            "Something went wrong on our side (%(error)s); the error has been logged. "
            "Apply it again later: nothing is written twice.", error=exc.__class__.__name__))
    else:
        _finish(rt, import_id, actor, result=result)


def _contacts(rt: Runtime, actor: Actor, plan: members_import.Plan,
              wanted: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Give the projects the editor ticked their first matched contact's address."""
    done, not_done = {}, {}
    for slug in wanted:
        contact = plan.contacts.get(slug)
        if contact is None:
            not_done[slug] = "it has a contact address now, or no matched contact"
            continue
        try:
            members_import.set_contact(rt, actor, slug, contact.email)
        except OstogetherError as exc:
            not_done[slug] = str(exc)
        else:
            done[slug] = contact.email
    return done, not_done


def _finish(rt: Runtime, import_id: int, actor: Actor, *, result: Checked | None = None,
            error: Any = "") -> None:
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        run.finished_at, run.heard_at = clock.now(), clock.now()
        if result is None:
            run.error = keep(error)[:20000]
            transition(s, actor, run, "import", "failed", kind=run.kind,
                       file=run.file_name, reason=str(error)[:2000])
            log.warning("import %s failed: %s", import_id, str(error),
                        extra={"event": "import.failed", "kind": run.kind})
            return
        run.result = result.summary
        run.done = max(run.done, run.total)
        _store_lines(s, run.id, "result", result.lines)
        transition(s, actor, run, "import", "done", kind=run.kind, file=run.file_name,
                   sha256=run.sha256, counts=result.summary.get("counts", {}),
                   contacts_set=result.summary.get("contacts_set", {}))
        # The file holds people's addresses: once applied, the report is the record.
        if run.stored:
            (folder(rt) / run.stored).unlink(missing_ok=True)
            run.stored = ""
    log.info("import %s applied", import_id, extra={"event": "import.done"})


def _expire(rt: Runtime, import_id: int) -> None:
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        if run.status not in ("checked", "failed"):
            return
        transition(s, SYSTEM, run, "import", "discarded", kind=run.kind, file=run.file_name,
                   reason=f"not applied within {KEPT_FOR.days} days")
        _forget(rt, s, run)


# ------------------------------------------------------------------ reading

def get(rt: Runtime, import_id: int) -> ImportRun:
    """The import, detached."""
    with rt.db.session() as s:
        run = lookup(s, ImportRun, import_id, MISSING)
        s.expunge(run)
    return run


def recent(rt: Runtime, limit: int = 20) -> list[ImportRun]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))
        s.expunge_all()
    return rows


def lines(rt: Runtime, import_id: int, phase: str, *, outcome: str = "",
          page: int = 1) -> Page:
    """One page of the report's lines (``PAGE`` a page), of one outcome or all."""
    with rt.db.session() as s:
        where = [ImportLine.import_id == import_id, ImportLine.phase == phase]
        by_outcome: dict[str, int] = {o: n for o, n in s.execute(select(
            ImportLine.outcome, func.count()).where(*where).group_by(ImportLine.outcome))}
        if outcome:
            where.append(ImportLine.outcome == outcome)
        shown = by_outcome.get(outcome, 0) if outcome else sum(by_outcome.values())
        pages = max(1, -(-shown // PAGE))
        page = min(max(1, page), pages)
        found = list(s.scalars(select(ImportLine).where(*where).order_by(
            ImportLine.position).offset((page - 1) * PAGE).limit(PAGE)))
        s.expunge_all()
    return Page(found, page, pages, shown, by_outcome)


def history(rt: Runtime, import_id: int, zone: ZoneInfo) -> list[audit.Line]:
    with rt.db.session() as s:
        return audit.story(s, lookup(s, ImportRun, import_id, MISSING), zone)
