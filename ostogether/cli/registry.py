"""The CLI's registry commands.

The project registry and the applications to join it.
"""

from __future__ import annotations

import sys

import click

from ostogether import csvout, projects
from ostogether.audit import CLI
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
from ostogether.errors import ContentError
from ostogether.registry import worst
from ostogether.states import (
    PROJECT_STATUSES,
)

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

    p = projects.decide(state.rt, project_id, CLI, accept=accept, reason=reason)
    out.print(f"{p.acronym} {projects.DECIDED[p.status]}.")


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


