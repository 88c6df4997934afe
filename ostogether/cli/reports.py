"""The CLI's reports commands.

The reports for editors and member projects.
"""

from __future__ import annotations

import click

from ostogether import reports
from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    pass_state,
    print_json,
)

# ------------------------------------------------------------------------ reports

@cli.group("report")
def report_group() -> None:
    """What the community achieved, for editors and for projects' periodic reports."""


@report_group.command("visibility")
@click.option("--project", "slug", required=True, help="The project's slug.")
@click.option("--from", "start", default="", help="First day, like 2026-01-01 "
                                                  "(default: a year before --to).")
@click.option("--to", "end", default="", help="Last day (default: today).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@pass_state
def report_visibility(state: State, slug: str, start: str, end: str, fmt: str) -> None:
    """A project's items, the issues that carried them, and its social posts."""
    rt = state.rt
    first, last = reports.parse_period(start, end, rt.today())
    with rt.db.session() as s:
        report = reports.visibility(s, slug, first, last)
        data = report.as_dict() if fmt == "json" else reports.visibility_csv(report)
    if fmt == "json":
        print_json(data)
    else:
        click.echo(data, nl=False)


@report_group.command("fair-share")
@click.option("--issues", "last", type=click.IntRange(1, 100), default=None,
              help="How many recent issues (default: lookback_issues of newsletter.toml).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def report_fair_share(state: State, last: int | None, fmt: str) -> None:
    """Member projects not featured in the last issues."""
    rt = state.rt
    n = last or reports.lookback(rt)
    with rt.db.session() as s:
        rows = reports.fair_share(s, n)
    data = [{"slug": r.slug, "acronym": r.acronym, "last_issue": r.last_number,
             "last_sent": r.last_sent.isoformat() if r.last_sent else None,
             "approved_waiting": r.waiting} for r in rows]
    emit(fmt, data, [
        ("project", "acronym"),
        ("last featured", lambda r: f"#{r['last_issue']} {r['last_sent'][:10]}"
         if r["last_sent"] else "never"),
        ("approved waiting", "approved_waiting")],
         total=f"{len(rows)} member project(s) not featured in the last {n} issue(s).",
         data={"issues": n, "projects": data})


