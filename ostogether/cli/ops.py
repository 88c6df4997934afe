"""The CLI's ops commands.

Running the service: settings, the database, the web server, the worker, the timetable and backups.
"""

from __future__ import annotations

import dataclasses
import sys

import click

from ostogether import jobs, launch
from ostogether.bootstrap import initialise
from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    err,
    out,
    pass_state,
)
from ostogether.cli.registry import print_import
from ostogether.core import clock
from ostogether.core.settings_shown import effective, markdown_table
from ostogether.edges import db, timetable
from ostogether.social import versions

# ----------------------------------------------------------------------- settings

@cli.command("config")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", help="markdown prints the reference table of docs/.")
@pass_state
def config_cmd(state: State, fmt: str) -> None:
    """Print the effective settings, secrets masked."""
    if fmt == "markdown":
        click.echo(markdown_table())
        return
    rows = [{"setting": info.name, "environment": info.env_name, "value": shown}
            for info, shown in effective(state.settings)]
    emit(fmt, rows, [("setting", "setting"), ("environment", "environment"),
                     ("value", "value")], data={r["setting"]: r["value"] for r in rows})
    # The networks' API versions near their end of life (on stderr beside JSON).
    for warning in versions.warnings(state.settings, clock.now().date()):
        (err if fmt == "json" else out).print(f"Warning: {warning}", markup=False)


# ----------------------------------------------------------------------- database

@cli.command()
@pass_state
def init(state: State) -> None:
    """Create or migrate the database and import content/. Safe to run again."""
    r = initialise(state.rt)
    if r.migrated:
        out.print(f"Database {r.database}: migrated {r.revision_before or 'empty'} → "
                  f"{r.revision_after}.")
    else:
        out.print(f"Database {r.database}: up to date ({r.revision_after}).")
    print_import(r.imported)
    if r.became_alumni:
        out.print(f"{len(r.became_alumni)} became alumni: {', '.join(r.became_alumni)}.")
    if r.library.created:
        out.print(f"Library: {len(r.library.created)} output(s) added from content/library/.")
    if r.editors == 0:
        out.print("\nNo editor account yet. Create the first one with:\n"
                  "  .venv/bin/ostogether users add --email you@example.org --role admin")


@cli.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@pass_state
def db_upgrade(state: State, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    db.upgrade(state.rt.db, revision)
    out.print(f"Database at revision {db.current_revision(state.rt.db)}.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@click.confirmation_option(prompt="Downgrading drops tables and their data. Continue?")
@pass_state
def db_downgrade(state: State, revision: str) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' empties it)."""
    db.downgrade(state.rt.db, revision)
    out.print(f"Database at revision {db.current_revision(state.rt.db) or 'base (empty)'}.")


@db_group.command("current")
@pass_state
def db_current(state: State) -> None:
    """Print the database's revision and the newest one."""
    out.print(f"current: {db.current_revision(state.rt.db) or 'base (empty)'}; "
              f"newest: {db.head_revision()}")


@cli.command()
@click.option("--host", default=None, help="Listen address (default: the host setting).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: the port setting).")
@click.option("--threads", type=click.IntRange(1, 64), default=8)
@click.option("--worker/--no-worker", default=True,
              help="Also run the scheduler in this process (the default; in production run "
                   "`ostogether worker` apart and pass --no-worker).")
@pass_state
def serve(state: State, host: str | None, port: int | None, threads: int,
          worker: bool) -> None:
    """Serve the web application with waitress, and the scheduler beside it."""
    settings = dataclasses.replace(state.settings, host=host or state.settings.host,
                                   port=port or state.settings.port)
    launch.serve(settings, threads=threads, with_worker=worker,
                 say=lambda line: out.print(line))


@cli.command()
@pass_state
def worker(state: State) -> None:
    """Run the scheduler: the jobs of schedules/ostogether.toml, until SIGTERM.

    Several workers may run; one schedules and the others wait as standbys."""
    launch.work(state.rt, say=lambda line: out.print(line))


@cli.group("schedule")
def schedule_group() -> None:
    """The scheduler's timetable and its jobs."""


@schedule_group.command("show")
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.option("--count", type=click.IntRange(1, 50), default=5, help="Run times per job.")
@pass_state
def schedule_show(state: State, fmt: str, count: int) -> None:
    """Every job with its next run times, in the timetable's local time."""
    rt = state.rt
    schedule = rt.community.schedule()
    now = clock.now()
    last = jobs.last_runs(rt)
    rows = []
    for job in schedule.jobs:
        runs = timetable.next_runs(schedule, job, now, count) if job.enabled else []
        previous = last.get(job.name)
        rows.append({"job": job.name, "description": job.description,
                     "enabled": job.enabled, "trigger": job.cron or "timetable",
                     "next": [t.isoformat(timespec="minutes") for t in runs],
                     "last": None if previous is None else {
                         "started": previous.started_at.astimezone(schedule.zone).isoformat(
                             timespec="seconds"),
                         "outcome": previous.outcome,
                         "summary": previous.summary or previous.error}})
    emit(fmt, rows, [
        ("job", "job"), ("trigger", "trigger"),
        ("next runs", lambda r: ", ".join(t[:16].replace("T", " ") for t in r["next"]) or "off"),
        ("last run", lambda r: f"{r['last']['started'][:16].replace('T', ' ')} "
                               f"{r['last']['outcome']}" if r["last"] else "never")],
         total=f"Times are in {schedule.timezone}.",
         data={"timezone": schedule.timezone, "jobs": rows})


@schedule_group.command("run")
@click.argument("job")
@pass_state
def schedule_run(state: State, job: str) -> None:
    """Run one job now, whatever its timetable says (each job checks before acting)."""
    row = jobs.run(state.rt, job, trigger="manual")
    out.print(f"{job}: {row.outcome}: {row.error or row.summary}")
    if row.outcome == "failed":
        sys.exit(1)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_state
def backup(state: State, path: str) -> None:
    """Copy the SQLite database to PATH while the service runs (SQLite's backup API).

    For PostgreSQL use pg_dump; docs/operations.md shows how."""
    size = db.backup(state.rt.db, path)
    out.print(f"Backed up to {path} ({size / 1e6:.1f} MB).")
