"""The CLI's news commands.

News items and the member feeds they come from.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    err,
    line,
    out,
    pass_state,
    print_json,
    project_id,
    styled,
)
from ostogether.core.states import ITEM_STATUSES, KINDS, SOURCES
from ostogether.edges.audit import CLI
from ostogether.news import feeds as feedmod
from ostogether.news import item_api
from ostogether.news import items as news

# -------------------------------------------------------------------------- items



@cli.group("items")
def items_group() -> None:
    """News items from member projects: list and review."""


@items_group.command("list")
@click.option("--status", type=click.Choice(ITEM_STATUSES))
@click.option("--project", "project_slug", help="Project slug.")
@click.option("--kind", type=click.Choice(list(KINDS)))
@click.option("--source", type=click.Choice(SOURCES))
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def items_list(state: State, status: str | None, project_slug: str | None, kind: str | None,
               source: str | None, fmt: str) -> None:
    """List items, oldest first when listing the ones waiting for review."""
    filters = news.ItemFilters(status=status or "", project_id=project_id(state, project_slug),
                               kind=kind or "", source=source or "")
    with state.rt.db.session() as s:
        rows, total = news.list_items(s, filters, limit=10_000)
        data = [item_api.item_dict(i) for i in rows]
    emit(fmt, data, [("id", "id"), ("status", "status"), ("project", "project"),
                     ("kind", "kind"), ("source", "source"),
                     ("title", lambda d: d["title"][:60]),
                     ("submitted", lambda d: d["created_at"][:16].replace("T", " "))],
         total=f"{total} item(s).")


@items_group.command("approve")
@click.argument("item_id", type=int)
@pass_state
def items_approve(state: State, item_id: int) -> None:
    """Approve item ITEM_ID; the submitter is told by mail."""
    item = news.approve(state.rt, CLI, item_id)
    out.print(f"Item {item.id} (\"{item.title}\") is approved.")


@items_group.command("reject")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why; sent to the submitter.")
@pass_state
def items_reject(state: State, item_id: int, reason: str) -> None:
    """Reject item ITEM_ID with a reason; the submitter is told by mail."""
    item = news.reject(state.rt, CLI, item_id, reason)
    out.print(f"Item {item.id} (\"{item.title}\") is rejected.")


# -------------------------------------------------------------------------- feeds

@cli.group("feeds")
def feeds_group() -> None:
    """Member projects' RSS and Atom feeds."""


@feeds_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def feeds_list(state: State, fmt: str) -> None:
    """Every feed with its last poll, failures and pause."""
    rows: list[dict[str, Any]] = [{"project": f.project.slug, "url": f.url, "origin": f.origin,
             "auto_approve": f.auto_approve, "last_polled": f.last_polled_at,
             "last_outcome": f.last_outcome, "failures": f.failures,
             "paused": f.paused_at is not None, "last_error": f.last_error,
             "items_created": f.items_created} for f in feedmod.list_feeds(state.rt)]
    emit(fmt, rows, [
        ("project", "project"), ("url", "url"),
        ("last poll", lambda r: str(r["last_polled"] or "never")[:16]),
        ("outcome", lambda r: r["last_outcome"] or "-"), ("fails", "failures"),
        ("state", lambda r: "PAUSED: " + r["last_error"] if r["paused"] else
         ("auto-approve" if r["auto_approve"] else "review"))], total=f"{len(rows)} feed(s).")


@feeds_group.command("discover")
@click.option("--project", "project_slug", help="Only this project (default: all without a feed).")
@click.option("--dry-run", is_flag=True, help="Report what was found without saving it.")
@pass_state
def feeds_discover(state: State, project_slug: str | None, dry_run: bool) -> None:
    """Find feeds from websites' <link rel="alternate">, then /feed/."""
    found = feedmod.discover_all(state.rt, project_slug, save=not dry_run)
    for slug, url, how in found:
        if url:
            out.print(line(styled("found", "green"), f"  {slug}: {url} (from {how})"))
        else:
            out.print(line(styled("none", "yellow"), f"   {slug}: {how}"))
    hits = sum(1 for _, url, _ in found if url)
    out.print(f"{hits} of {len(found)} project(s) have a feed now"
              f"{' (not saved: --dry-run)' if dry_run else ''}.")


@feeds_group.command("poll")
@click.option("--project", "project_slug", help="Only this project's feed.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def feeds_poll(state: State, project_slug: str | None, fmt: str) -> None:
    """Fetch the feeds now and store new entries as submitted items."""
    with Progress(TextColumn("Polling feeds"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}", markup=False), console=err,
                  disable=fmt == "json" or not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        results = feedmod.poll(state.rt, project_slug, progress=lambda r, total: bar.update(
            task, total=total, advance=1, description=r.slug))
    summary = feedmod.summarise(results)
    if fmt == "json":
        print_json({"summary": summary, "feeds": [r.__dict__ for r in results]})
    else:
        for r in sorted(results, key=lambda r: r.slug):
            if r.outcome in ("failed", "paused"):
                out.print(line(styled(r.outcome, "red"), f" {r.slug}: {r.error}"))
            elif r.created:
                out.print(line(styled(f"{r.created} new", "green"), f" {r.slug}"))
            for why in r.skipped:
                out.print(f"  skipped in {r.slug}: {why}")
            if r.warning:
                out.print(f"  warning for {r.slug}: {r.warning}")
        out.print(f"{summary['feeds']} feed(s): {summary['items']} new item(s); "
                  f"{summary['unchanged']} unchanged, {summary['failed']} failed, "
                  f"{summary['paused']} paused.")
    if summary["failed"] and summary["failed"] == summary["feeds"]:
        sys.exit(1)


@feeds_group.command("resume")
@click.argument("project_slug")
@pass_state
def feeds_resume(state: State, project_slug: str) -> None:
    """Resume a paused feed; its failure count starts again from 0."""
    feedmod.resume(state.rt, CLI, project_slug)
    out.print(f"The feed of {project_slug} will be polled again.")


@feeds_group.command("auto-approve")
@click.argument("project_slug")
@click.argument("on_off", type=click.Choice(["on", "off"]))
@pass_state
def feeds_auto_approve(state: State, project_slug: str, on_off: str) -> None:
    """Let a trusted project's feed entries skip review (on), or not (off)."""
    feedmod.set_auto_approve(state.rt, CLI, project_slug, on_off == "on")
    out.print(f"Auto-approve is {on_off} for the feed of {project_slug}.")


