"""The CLI's readers commands.

Readers: import, export, erase, and the bounces that remove them.
"""

from __future__ import annotations

import io
import sys
from dataclasses import asdict
from pathlib import Path

import click

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    line,
    out,
    pass_state,
    print_json,
    print_json_stream,
    styled,
)
from ostogether.core import csvout
from ostogether.core.states import SUBSCRIBER_STATUSES
from ostogether.edges.audit import CLI
from ostogether.mail import domain
from ostogether.readers import bounces, readers_import, subscribers

# ------------------------------------------------------------------------ subscribers

@cli.group("subscribers")
def subscribers_group() -> None:
    """Newsletter readers: import, export, erase."""


@subscribers_group.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", is_flag=True, help="Write the changes (all or nothing); "
              "without it, only the report is printed.")
@click.option("--map", "column_map", default="", metavar='"THEIRS=ours,…"',
              help='Name the columns of another tool\'s CSV, e.g. '
                   '--map "E-mail=email,Full name=name,Signed up=consent_date".')
@click.option("--map-tags", "tag_map", default="", metavar='"TAG=topic,…" or FILE',
              help='Give Mailchimp\'s readers topics from their tags and group values, e.g. '
                   '--map-tags "STEM teachers=steam,Climate=sdg-13", or a .toml file of '
                   '"TAG" = "topic" lines or a .csv of tag,topic.')
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def subscribers_import(state: State, files: tuple[str, ...], apply: bool, column_map: str,
                       tag_map: str, fmt: str) -> None:
    """Import readers who consented elsewhere: Mailchimp's audience export (the zip, or
    its subscribed, unsubscribed, cleaned and nonsubscribed CSVs), or a CSV with the
    columns email, name, language, consent_date, consent_source.

    First run it without --apply: it prints what each line would do, by file and line.
    Mailchimp's unsubscribed and cleaned addresses go on the suppression list; its
    non-subscribed contacts, and rows with no opt-in on record, are left out. The
    service's CSV may also carry the readers' choices: topics, kinds, audiences and
    projects (keys separated by ";") and country. With --map-tags the report shows each
    Mailchimp tag with the topic it maps to and its readers, and the tags left unmapped.
    """
    # Read from the files as they are, a record at a time (never whole in memory), and
    # the report's lines kept on disk until they are printed.
    tags = readers_import.parse_tags(state.rt, readers_import.tag_map_text(tag_map))
    with readers_import.check(state.rt, [(Path(f).name, Path(f)) for f in files],
                              readers_import.parse_map(column_map), tag_map=tags) as checked:
        _report(state, checked, apply, fmt)


def _report(state: State, checked: readers_import.Checked, apply: bool, fmt: str) -> None:
    if fmt == "json":
        report = readers_import.write(state.rt, checked) if apply else checked.report
        print_json_stream({"applied": report.applied, "counts": report.counts,
                           "tags": [{"tag": t, "topic": topic, "readers": n}
                                    for t, topic, n in report.tag_topics()],
                           "files": [{**vars(f), "counts": report.counts_by_file()[f.name]}
                                     for f in report.files]},
                          "lines", (asdict(x) for x in report.noted()))
        return
    # The report, line by line, is printed before anything is written.
    report = checked.report
    several = len(report.files) > 1
    for x in report.noted():
        where = f"{x.file}, line {x.line}" if several else f"line {x.line}"
        out.print(f"{where}: {x.outcome.replace('_', ' ')}: {x.email or '(empty)'}"
                  + (f" — {x.reason}" if x.reason else "")
                  + (f" (warning: {x.warning})" if x.warning else ""))
    by_file = report.counts_by_file()
    words = {"new": "new", "existing": "already there", "invalid": "invalid",
             "suppressed": "suppressed", "suppress": "to the suppression list",
             "left_out": "left out"}
    if several or any(f.kind != "own" for f in report.files):
        for f in report.files:
            kind = {"own": "the service's columns", "mapped": "columns from --map"}.get(
                f.kind, f.kind.replace("mailchimp ", "Mailchimp, ").replace(
                    "nonsubscribed", "non-subscribed"))
            counts = ", ".join(f"{n} {words[k]}" for k, n in by_file[f.name].items() if n)
            out.print(f"{f.name} ({kind}): {f.lines} line(s): {counts or 'nothing'}.")
    for f in report.files:
        if f.ignored_columns:
            out.print(f"{f.name}: columns not used: {', '.join(f.ignored_columns)}.")
    _tags(report)
    if apply:
        report = readers_import.write(state.rt, checked)
    c = report.counts
    verb = "added" if report.applied else "would be added"
    listed = "put" if report.applied else "would go"
    out.print(f"{c['new']} new ({verb}), {c['existing']} already there (unchanged), "
              f"{c['invalid']} invalid, {c['suppressed']} suppressed (not imported)"
              + (f", {c['suppress']} unsubscribed or cleaned ({listed} on the suppression "
                 f"list)" if c["suppress"] else "")
              + (f", {c['left_out']} left out (no consent to the newsletter on record in "
                 f"Mailchimp: never readers)" if c["left_out"] else "") + ".")
    warned = report.warnings()
    if warned:
        out.print(f"{warned} line(s) with a warning: check the dates used above.")
    if not report.applied and (c["new"] or c["suppress"]):
        out.print("Nothing has been changed. Run again with --apply to write it.")


def _tags(report: readers_import.ImportReport) -> None:
    """Per Mailchimp tag: the topic it maps to and its new readers; the tags unmapped."""
    pairs = report.tag_topics()
    for tag, topic, n in pairs:
        if topic:
            out.print(f"Tag {tag!r} → topic {topic}: {n} new reader(s).")
    unmapped = [f"{tag!r} ({n})" for tag, topic, n in pairs if not topic]
    if unmapped:
        out.print(f"Tags left unmapped (new readers): {', '.join(unmapped)}"
                  + ("." if report.tag_map else
                     '. Map them to topics with --map-tags "TAG=topic,…".'))


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
    for detail in summary.details:
        out.print(detail)
    out.print(f"{summary.read} mail(s) read: {summary.hard} hard bounce(s), {summary.soft} "
              f"soft, {summary.suppressed} reader(s) suppressed, {summary.unsubscribed} "
              f"unsubscribed by mail, {summary.repeated} already counted, "
              f"{summary.unmatched} not ours, {summary.other} other.")




@cli.group("mail")
def mail_group() -> None:
    """The sending side of the newsletter: the domain's DNS records."""


@mail_group.command("check-domain")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def mail_check_domain(state: State, fmt: str) -> None:
    """Check the sender domain in DNS: SPF covers the SMTP relay, the DKIM selector's
    record matches the configured key, and a DMARC policy exists and aligns with the From
    domain. The pre-flight of each issue shows the last result.

    Exits with 1 when a check fails, so a deploy script can stop on it.
    """
    report = domain.check(state.rt)
    if fmt == "json":
        print_json({"domain": report.domain, "status": report.status,
                    "checked_at": report.checked_at.isoformat(),
                    "findings": [vars(f) for f in report.findings]})
    else:
        marks = {"pass": styled("✓", "green"), "warn": styled("!", "yellow"),
                 "fail": styled("✗", "red")}
        out.print(f"Sending domain {report.domain}:")
        for f in report.findings:
            out.print(line(marks[f.status], f" {f.key.upper()}: {f.message}"))
    if report.status == "fail":
        sys.exit(1)
