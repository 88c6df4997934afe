"""The CLI's organisations commands: the import of Wild Apricot's contacts export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ostogether.cli.base import FORMATS, Column, State, cli, emit, out, pass_state, print_json
from ostogether.edges.audit import CLI
from ostogether.registry import org_import


@cli.group("organisations")
def organisations_group() -> None:
    """The community's organisations and people."""


@organisations_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", is_flag=True, help="Create the organisations and people (as "
              "members); without it, only the plan is printed.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def organisations_import(state: State, file: str, apply: bool, fmt: str) -> None:
    """Organisations and people from Wild Apricot's contacts export (or a CSV with its
    column names: Organization, Email, First name, Last name, Membership status,
    Country, City, Website). A dry run unless --apply; doubtful matches are named."""
    plan = org_import.plan(state.rt, Path(file), name=Path(file).name)
    counts = plan.counts()
    rows: list[dict[str, Any]] = [
        {"line": ln.line, "organisation": ln.organisation, "email": ln.person,
         "outcome": ln.outcome, "detail": str(ln.detail)} for ln in plan.lines]
    created = org_import.apply(state.rt, CLI, plan) if apply else {}
    if fmt == "json":
        print_json({"applied": apply, "counts": counts, "created": created, "lines": rows})
        return
    columns: list[Column] = [("line", "line"), ("organisation", "organisation"),
                             ("email", "email"), ("outcome", "outcome"),
                             ("detail", "detail")]
    emit(fmt, rows, columns, total=(
        f"{counts['organisations_new']} new organisation(s), "
        f"{counts['organisations_existing']} known already, {counts['doubtful']} with a "
        f"possible duplicate, {counts['people_new']} new person(s), {counts['skipped']} "
        f"skipped, {counts['invalid']} invalid."))
    if apply:
        out.print(f"Created {created['organisations']} organisation(s) and "
                  f"{created['people']} person(s), as members; linked "
                  f"{created['linked']} person(s) to their account or organisation.")
    else:
        out.print("Nothing has been changed. Run again with --apply to create them; "
                  "editors merge possible duplicates on /editors/organisations.")
