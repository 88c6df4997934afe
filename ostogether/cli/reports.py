"""The CLI's reports commands.

The reports for editors and member projects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    out,
    pass_state,
    print_json,
)
from ostogether.reach import evidence, reports
from ostogether.registry import projects

# ------------------------------------------------------------------------ reports

@cli.group("report")
def report_group() -> None:
    """What the community achieved, for editors and for projects' periodic reports."""


def _period_options(f: Any) -> Any:
    f = click.option("--period", default="", metavar="KEY",
                     help="A preset of the project's grant: grant, rp1, rp2, … or "
                          "last-12-months (instead of --from/--to).")(f)
    f = click.option("--to", "end", default="", help="Last day (default: today).")(f)
    f = click.option("--from", "start", default="", help="First day, like 2026-01-01 "
                                                        "(default: a year before --to).")(f)
    return click.option("--project", "slug", required=True, help="The project's slug.")(f)


def _visibility(state: State, slug: str, start: str, end: str, period: str) -> Any:
    with state.rt.db.session() as s:
        report, _ = evidence.visibility_for(s, slug, state.rt.today(), start=start, end=end,
                                            period_key=period)
        s.expunge_all()
    return report


@report_group.command("visibility")
@_period_options
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@pass_state
def report_visibility(state: State, slug: str, start: str, end: str, period: str,
                      fmt: str) -> None:
    """A project's items with their clicks, the issues that carried them with their
    archive views, its social posts with their counts at 48 hours, 7 and 28 days, and the
    readers it brought."""
    report = _visibility(state, slug, start, end, period)
    if fmt == "json":
        print_json(report.as_dict())
    else:
        click.echo(reports.visibility_csv(report, state.settings.public_url), nl=False)


@report_group.command("periods")
@click.option("--project", "slug", required=True, help="The project's slug.")
@pass_state
def report_periods(state: State, slug: str) -> None:
    """The preset periods of a project's grant, for --period."""
    with state.rt.db.session() as s:
        found = evidence.reporting_periods(projects.get(s, slug, public=False),
                                           state.rt.today())
    emit("table", [{"key": p.key, "from": p.start, "to": p.end, "label": p.label}
                   for p in found],
         [("period", "key"), ("from", "from"), ("to", "to"), ("", "label")])


@report_group.command("evidence")
@_period_options
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The zip file to write.")
@pass_state
def report_evidence(state: State, slug: str, start: str, end: str, period: str,
                    output: str) -> None:
    """The evidence pack: a zip of CSVs (items, issues, posts with their counts), a
    printable HTML summary, and the archive URLs and post permalinks."""
    report = _visibility(state, slug, start, end, period)
    data = evidence.pack(report, state.settings.public_url, state.rt.community.site().name)
    Path(output).write_bytes(data)
    out.print(f"Wrote the evidence pack of {report.project.acronym}, {report.start} to "
              f"{report.end}, to {output} ({len(data) // 1024 + 1} KB).")


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


