"""The CLI's readers commands.

Readers: import, export, erase, and the bounces that remove them.
"""

from __future__ import annotations

import io
from pathlib import Path

import click

from ostogether import csvout, subscribers
from ostogether.audit import CLI
from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    out,
    pass_state,
    print_json,
)
from ostogether.mail import bounces
from ostogether.states import (
    SUBSCRIBER_STATUSES,
)

# ------------------------------------------------------------------------ subscribers

@cli.group("subscribers")
def subscribers_group() -> None:
    """Newsletter readers: import, export, erase."""


@subscribers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", is_flag=True, help="Add the new readers (one transaction); "
              "without it, only the report is printed.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def subscribers_import(state: State, file: str, apply: bool, fmt: str) -> None:
    """Import readers from CSV: email, name, language, consent_date, consent_source.

    First run it without --apply: it prints what each line would do, with its number.
    """
    report = subscribers.import_csv(state.rt, Path(file).read_bytes(), apply=apply,
                                    source_name=Path(file).name)
    if fmt == "json":
        print_json({"applied": report.applied, "counts": report.counts,
                     "lines": [vars(x) for x in report.lines if x.outcome != "new"]})
        return
    for outcome in ("invalid", "suppressed", "existing"):
        for x in report.of(outcome):
            out.print(f"line {x.line}: {outcome}: {x.email or '(empty)'}"
                      + (f" — {x.reason}" if x.reason else ""), markup=False)
    c = report.counts
    verb = "added" if report.applied else "would be added"
    out.print(f"{c['new']} new ({verb}), {c['existing']} already there (unchanged), "
              f"{c['invalid']} invalid, {c['suppressed']} suppressed (not imported).")
    if not report.applied and c["new"]:
        out.print("Nothing has been changed. Run again with --apply to add the new readers.")


@subscribers_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--status", "statuses", multiple=True, default=("confirmed",),
              type=click.Choice([s for s in SUBSCRIBER_STATUSES if s != "erased"]),
              help="Which readers (repeatable; default: confirmed).")
@pass_state
def subscribers_export(state: State, output: str | None, statuses: tuple[str, ...]) -> None:
    """Export readers as CSV, in the columns the import takes."""

    rows = subscribers.export_rows(state.rt, statuses)
    buf = io.StringIO(csvout.to_csv(rows, lineterminator="\n"))
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
        out.print(f"Wrote {len(rows) - 1} reader(s) to {output}.")
    else:
        click.echo(buf.getvalue(), nl=False)


@subscribers_group.command("erase")
@click.argument("email")
@pass_state
def subscribers_erase(state: State, email: str) -> None:
    """Erase a reader's personal data on their request (GDPR Art. 17); the address's hash
    stays on the suppression list."""
    sub_id = subscribers.erase_by_email(state.rt, CLI, email)
    out.print(f"Erased reader {sub_id}; the address is on the suppression list.")


@cli.group("bounces")
def bounces_group() -> None:
    """Bounce mail: delivery status notifications sent back to the VERP address."""


@bounces_group.command("process")
@click.option("--maildir", type=click.Path(file_okay=False), help="A maildir folder.")
@click.option("--mbox", type=click.Path(dir_okay=False), help="An mbox file.")
@pass_state
def bounces_process(state: State, maildir: str | None, mbox: str | None) -> None:
    """Read bounces, mark hard-bounced deliveries and suppress readers who bounce."""
    if bool(maildir) == bool(mbox):
        raise click.UsageError("Give one of --maildir PATH or --mbox PATH.")
    summary = bounces.process(state.rt, "maildir" if maildir else "mbox",
                              Path(maildir or mbox or ""))
    for line in summary.details:
        out.print(line, markup=False)
    out.print(f"{summary.read} mail(s) read: {summary.hard} hard bounce(s), {summary.soft} "
              f"soft, {summary.suppressed} reader(s) suppressed, {summary.unsubscribed} "
              f"unsubscribed by mail, {summary.repeated} already counted, "
              f"{summary.unmatched} not ours, {summary.other} other.")


