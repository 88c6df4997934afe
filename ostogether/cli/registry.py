"""The CLI's registry commands.

The project registry and the applications to join it.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    line,
    out,
    pass_state,
    print_json,
    styled,
)
from ostogether.core import csvout
from ostogether.core.errors import ContentError
from ostogether.core.states import PROJECT_STATUSES
from ostogether.edges.audit import CLI
from ostogether.registry import files as registry_files
from ostogether.registry import projects
from ostogether.registry.rules import worst

# ----------------------------------------------------------------------- registry

@cli.group("registry")
def registry_group() -> None:
    """The project registry and its eligibility checks."""


@registry_group.command("check")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def registry_check(state: State, fmt: str) -> None:
    """Check every project file in content/projects/. Exits 1 if any project fails."""
    try:
        checked = projects.check_content(state.rt)
    except ContentError as exc:
        if fmt == "json":
            print_json({"ok": False, "problems": exc.problems or [str(exc)]})
            sys.exit(1)
        raise
    failed = [f for f, results in checked if worst(results) == "fail"]
    if fmt == "json":
        print_json({"ok": not failed, "projects": [
            {"slug": f.record.slug, "file": str(f.path), "outcome": worst(results),
             "checks": [{"rule": r.rule, "outcome": r.outcome, "message": r.message}
                        for r in results]} for f, results in checked]})
    else:
        marks = {"pass": styled("pass", "green"), "warn": styled("warn", "yellow"),
                 "fail": styled("FAIL", "red")}
        for f, results in checked:
            out.print(line(styled(f.record.acronym, "bold"), f" ({f.path.name}): ",
                           marks[worst(results)]))
            for r in results:
                out.print(line("  ", marks[r.outcome], f" {r.rule}: {r.message}"))
        counts = {o: sum(worst(r) == o for _, r in checked) for o in ("pass", "warn", "fail")}
        out.print(f"\n{len(checked)} projects: {counts['pass']} pass, {counts['warn']} "
                  f"with warnings, {counts['fail']} failing.")
    if failed:
        sys.exit(1)


def _shown(value: object) -> str:
    text = "empty" if value in ("", [], {}, None) else str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def print_import(report: projects.ImportReport, prefer_file: bool = False) -> None:
    """The import's report: what changed, and every browser edit a file disagrees with."""
    out.print(f"Projects: {len(report.created)} created, {len(report.updated)} updated, "
              f"{len(report.unchanged)} unchanged, {len(report.conflicts)} with conflicts.",
              markup=False)
    for slug, names in report.updated.items():
        out.print(f"  updated {slug}: {', '.join(names)}", markup=False)
    for slug, conflicts in report.conflicts.items():
        for c in conflicts:
            how = "the file changed too" if c.file_changed else "the file is older"
            out.print(f"  conflict {slug}.{c.field}: kept the browser's "
                      f"{_shown(c.database)} ({c.by}, {c.at[:16].replace('T', ' ')}); "
                      f"the file says {_shown(c.file)} ({how})", markup=False)
    if report.conflicts:
        out.print("Browser edits were kept. To use the files' values instead, run `ostogether "
                  "registry import --prefer-file`; to write the browser's into the files, "
                  "`ostogether registry export content/projects`.", markup=False)
    for problem in report.problems:
        out.print(f"  problem: {problem}", markup=False)
    if report.not_in_content:
        out.print(f"  in the database but not in the files: "
                  f"{', '.join(report.not_in_content)}", markup=False)


@registry_group.command("import")
@click.option("--from", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Read the files of this folder instead of content/projects/.")
@click.option("--prefer-file", "--overwrite", "prefer_file", is_flag=True,
              help="Where an editor changed a field in the browser and the file says "
                   "otherwise, take the file's value (the default keeps the browser's).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def registry_import(state: State, folder: Path | None, prefer_file: bool, fmt: str) -> None:
    """Load the project files (all or none) into the database, reporting conflicts with
    edits made in the browser instead of overwriting them."""
    report = projects.import_content(state.rt, CLI, folder=folder, prefer_file=prefer_file)
    if fmt == "json":
        print_json({"created": report.created, "updated": report.updated,
                    "unchanged": report.unchanged, "not_in_files": report.not_in_content,
                    "problems": report.problems,
                    "conflicts": {slug: [asdict(c) for c in cs]
                                  for slug, cs in report.conflicts.items()}})
        return
    print_import(report, prefer_file)


@registry_group.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_state
def registry_export(state: State, folder: Path) -> None:
    """Write every member and alumni project to FOLDER/<slug>.toml, in the format that
    `registry import` reads (FOLDER may be content/projects)."""
    report = registry_files.export(state.rt, folder)
    out.print(f"{len(report.written)} file(s) written, {len(report.unchanged)} unchanged, "
              f"in {report.folder}.", markup=False)
    for slug in report.written:
        out.print(f"  wrote {slug}.toml", markup=False)


@registry_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--status", type=click.Choice(PROJECT_STATUSES))
@pass_state
def registry_list(state: State, fmt: str, status: str | None) -> None:
    """List the projects in the database."""
    with state.rt.db.session() as s:
        rows = [projects.public_dict(p) for p in projects.list_all(s, status or "")]
    if fmt == "csv":
        fields = list(projects.PUBLIC_FIELDS)
        click.echo(csvout.to_csv(
            ([";".join(map(str, v)) if isinstance(v, list) else v
              for v in (row[k] for k in fields)] for row in rows),
            header=fields, lineterminator="\n"), nl=False)
        return
    emit(fmt, rows, [("slug", "slug"), ("acronym", "acronym"), ("status", "status"),
                     ("programme", "programme"), ("grant", "grant_number"),
                     ("ends", "end_date")], total=f"{len(rows)} project(s).")


# ------------------------------------------------------------------- applications

@cli.group("applications")
def applications_group() -> None:
    """Applications to join: list, accept, reject."""


@applications_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def applications_list(state: State, fmt: str) -> None:
    """List the applications waiting for a decision."""
    with state.rt.db.session() as s:
        rows = [{"id": p.id, **projects.public_dict(p), "contact_email": p.contact_email,
                 "applied": p.created_at.isoformat()}
                for p in projects.list_all(s, "applicant")]
    emit(fmt, rows, [("id", "id"), ("acronym", "acronym"), ("contact", "contact_email"),
                     ("applied", lambda r: r["applied"][:10])],
         total=f"{len(rows)} application(s) waiting.")


def _decide(state: State, project_id: int, accept: bool, reason: str) -> None:

    decision = projects.decide(state.rt, project_id, CLI, accept=accept, reason=reason)
    p = decision.project
    out.print(f"{p.acronym} {projects.DECIDED[p.status]}.", markup=False)
    if decision.account == "invited":
        out.print(f"{p.contact_email} is invited as its first member; the welcome mail has "
                  f"the link to choose a password.", markup=False)
    elif decision.account == "existing":
        out.print(f"{p.contact_email} already has an account "
                  f"({decision.account_project or 'an editor'}); the mail says so.",
                  markup=False)
    elif accept:
        out.print("No contact address: invite its first member with `ostogether users "
                  f"invite --project {p.slug}`.", markup=False)


@applications_group.command("accept")
@click.argument("project_id", type=int)
@click.option("--note", default="", help="A note for the applicant.")
@pass_state
def applications_accept(state: State, project_id: int, note: str) -> None:
    """Accept application PROJECT_ID: the project becomes a member."""
    _decide(state, project_id, True, note)


@applications_group.command("reject")
@click.argument("project_id", type=int)
@click.option("--reason", required=True, help="Why; sent to the applicant.")
@pass_state
def applications_reject(state: State, project_id: int, reason: str) -> None:
    """Reject application PROJECT_ID with a reason."""
    _decide(state, project_id, False, reason)


