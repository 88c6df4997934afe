"""The CLI's library commands: the results library's outputs, their review, and what a
repository receives of them."""

from __future__ import annotations

import click

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    err,
    out,
    pass_state,
    print_json,
    project_id,
)
from ostogether.core.states import OUTPUT_STATUSES
from ostogether.edges.audit import CLI
from ostogether.library import outputs, zenodo


@cli.group("library")
def library_group() -> None:
    """The results library: list outputs, approve or reject them."""


@library_group.command("list")
@click.option("--status", type=click.Choice(OUTPUT_STATUSES),
              help="Only outputs in this state (e.g. submitted: waiting for review).")
@click.option("--project", "project_slug", help="Project slug.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def library_list(state: State, status: str | None, project_slug: str | None,
                 fmt: str) -> None:
    """List outputs, newest first."""
    with state.rt.db.session() as s:
        rows = outputs.list_by_status(s, status or "",
                                      project_id=project_id(state, project_slug),
                                      limit=100_000)
        data = [outputs.output_dict(o, state.rt.settings.public_url) for o in rows]
    emit(fmt, data, [("id", "id"), ("status", "status"), ("type", "type"),
                     ("projects", lambda d: ", ".join(d["projects"])),
                     ("title", lambda d: d["title"][:60])],
         total=f"{len(data)} output(s).")


@library_group.command("approve")
@click.argument("output_id", type=int)
@pass_state
def library_approve(state: State, output_id: int) -> None:
    """Approve output OUTPUT_ID: it appears in the library, its feed and the harvest."""
    output = outputs.approve(state.rt, CLI, output_id)
    out.print(f"Output {output.id} (\"{output.title}\") is approved: "
              f"{state.rt.settings.public_url}/library/{output.slug}")


@library_group.command("reject")
@click.argument("output_id", type=int)
@click.option("--reason", required=True, help="Why; the project reads it.")
@pass_state
def library_reject(state: State, output_id: int, reason: str) -> None:
    """Reject output OUTPUT_ID with a reason."""
    output = outputs.reject(state.rt, CLI, output_id, reason)
    out.print(f"Output {output.id} (\"{output.title}\") is rejected.")


@library_group.command("withdraw")
@click.argument("output_id", type=int)
@pass_state
def library_withdraw(state: State, output_id: int) -> None:
    """Withdraw output OUTPUT_ID: it leaves the library; harvesters see it as deleted."""
    output = outputs.withdraw(state.rt, CLI, output_id)
    out.print(f"Output {output.id} (\"{output.title}\") is withdrawn.")


@library_group.command("zenodo")
@click.argument("output_id", type=int)
@click.option("--dry-run", is_flag=True, help="Only print the metadata, even with a token.")
@click.option("--release", is_flag=True,
              help="Clear the claim of a run that stopped before Zenodo answered.")
@pass_state
def library_zenodo(state: State, output_id: int, dry_run: bool, release: bool) -> None:
    """Print output OUTPUT_ID's Zenodo deposit metadata (JSON); with zenodo_token set,
    deposit it once and keep the DOI. Running it again never deposits twice."""
    rt = state.rt
    if release:
        done = zenodo.release(rt, CLI, output_id)
        out.print("Claim cleared." if done else "There was no claim to clear.")
        return
    with rt.db.session() as s:
        data = zenodo.metadata(rt, outputs.get(s, output_id))
    print_json(data)
    if dry_run or not rt.settings.zenodo_token:
        return
    result = zenodo.deposit(rt, CLI, output_id)
    if result.new:
        err.print(f"Deposited on Zenodo as {result.deposition_id}: DOI {result.doi}.")
    else:
        err.print(f"Already deposited on Zenodo ({result.deposition_id}, DOI {result.doi}); "
                  "nothing was sent.")
