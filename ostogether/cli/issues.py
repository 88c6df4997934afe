"""The CLI's issues commands.

Newsletter issues: compose, check, approve, send and follow.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ostogether import imports
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
    styled,
)
from ostogether.core import clock
from ostogether.core.errors import NotFound
from ostogether.edges.audit import CLI
from ostogether.newsletter import archive_import, delivery, send_dates, test_sends
from ostogether.newsletter import issues as newsletter

# ------------------------------------------------------------------------ newsletter

@cli.group("issue")
def issue_group() -> None:
    """Newsletter issues: compose, preview, pre-flight, approve, send."""


class IssueNumber(click.ParamType):
    """An issue's number (12), or an announcement's (A3: announcements are numbered on
    their own)."""

    name = "number"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        text = str(value).strip()
        sign = -1 if text[:1] in ("A", "a") else 1
        digits = text[1:] if sign < 0 else text
        if not digits.isascii() or not digits.isdigit():
            self.fail(f"'{text[:20]}' is not an issue number (12) or an announcement's "
                      f"(A3).", param, ctx)
        return sign * int(digits)


ISSUE_NUMBER = IssueNumber()


def _ref(number: int | None) -> str:
    """How a command names it: 12, or A3."""
    return "-" if number is None else f"A{-number}" if number < 0 else str(number)


def _named(number: int | None) -> str:
    """How a sentence names it: #12, or A3."""
    return _ref(number) if number is None or number < 0 else f"#{number}"


def _issue_dict(issue: Any, zone: Any) -> dict[str, Any]:
    return {"number": issue.number, "ref": _ref(issue.number), "kind": issue.kind,
            "segment": issue.segment or {}, "id": issue.id, "status": issue.status,
            "subject": issue.subject, "preheader": issue.preheader,
            "send_at": issue.send_at.astimezone(zone).isoformat(),
            "items": len(issue.entries),
            "approved_at": issue.approved_at.isoformat() if issue.approved_at else None,
            "approved_by": issue.approved_by_label or None,
            "snapshot_sha256": issue.snapshot_sha256 or None}


def _by_number(s: Any, number: int) -> Any:
    """The issue numbered ``number``; the CLI's not-found says how to list them."""
    try:
        return newsletter.by_number(s, number)
    except NotFound as exc:
        raise NotFound(f"{exc} `ostogether issue list` shows them.") from None


def _issue_id(state: State, number: int) -> int:
    with state.rt.db.session() as s:
        return _by_number(s, number).id


@issue_group.command("compose")
@pass_state
def issue_compose(state: State) -> None:
    """Create the next draft issue from the approved items."""
    rt = state.rt
    issue = newsletter.compose_next(rt, CLI)
    when = issue.send_at.astimezone(rt.community.schedule().zone)
    out.print(f"Issue #{issue.number} is a draft with {len(issue.entries)} item(s), to be "
              f"sent on {when:%Y-%m-%d %H:%M %Z}.")
    out.print(f"Subject: {issue.subject}")
    if issue.left_out:
        out.print(f"{len(issue.left_out)} approved item(s) left out:")
        for item_id, why in issue.left_out:
            out.print(f"  item {item_id}: {why}")


@issue_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_list(state: State, fmt: str) -> None:
    """Every issue and announcement (A1, A2, …), the next to go out first."""
    zone = state.rt.community.schedule().zone
    with state.rt.db.session() as s:
        data = [_issue_dict(i, zone) for i in newsletter.list_issues(s)]
    emit(fmt, data, [("#", "ref"), ("kind", "kind"), ("status", "status"),
                     ("send at", lambda d: d["send_at"][:16].replace("T", " ")),
                     ("items", "items"), ("subject", lambda d: d["subject"][:70])],
         total=f"{len(data)} issue(s).")


@issue_group.command("show")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_show(state: State, number: int, fmt: str) -> None:
    """An issue's details and its items, by section."""
    rt = state.rt
    zone = rt.community.schedule().zone
    with rt.db.session() as s:
        issue = _by_number(s, number)
        data = _issue_dict(issue, zone)
        data["entries"] = [{"section": e.section, "position": e.position,
                            "item": e.item.id, "project": e.item.project.slug,
                            "kind": e.item.kind, "title": e.item.title,
                            "status": e.item.status, "added_by": e.added_by}
                           for e in issue.entries]
        data["left_out"] = issue.left_out
    if fmt == "json":
        print_json(data)
        return
    out.print(f"Issue {_named(data['number'])} · {data['status']} · sends {data['send_at'][:16]}")
    out.print(f"Subject:   {data['subject']}\nPreheader: {data['preheader']}")
    table = Table("section", "item", "project", "kind", "status", "title", box=None)
    for e in data["entries"]:
        table.add_row(e["section"], str(e["item"]), e["project"], e["kind"], e["status"],
                      e["title"][:60])
    out.print(table)


@issue_group.command("preview")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--format", "fmt", type=click.Choice(["html", "text", "eml"]), default="html")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@pass_state
def issue_preview(state: State, number: int, fmt: str, output: str | None) -> None:
    """The issue as readers will get it (the approved snapshot once approved)."""
    rt = state.rt
    with rt.db.session() as s:
        issue = _by_number(s, number)
        if fmt == "eml":  # the message of a test send, to the sender itself, unsigned
            data = test_sends.test_message(rt, issue).data
        else:
            public = newsletter.public_rendering(rt, issue)
            data = (public.html if fmt == "html" else public.text).encode("utf-8")
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
        out.print(f"Wrote {len(data)} bytes to {output}.")
    else:
        sys.stdout.buffer.write(data)


def _print_report(report: Any) -> None:
    """In the groups the summary counts (``Report.groups``), as the web page lists them."""
    marks = {"pass": styled("PASS", "green"), "warn": styled("WARN", "yellow"),
             "advice": styled("ADVICE", "cyan"), "fail": styled("FAIL", "red")}
    for group, checks in report.groups():
        for c in checks:
            out.print(line(marks[group.key], f" {c.label} ", styled(f"({c.key})", "dim")))
            for d in c.details:
                out.print(f"       {d}")


@issue_group.command("preflight")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_preflight(state: State, number: int, fmt: str) -> None:
    """The pre-flight checklist; exits 1 when a check fails."""
    rt = state.rt
    issue_id = _issue_id(state, number)
    report, _ = newsletter.run_preflight(rt, issue_id)
    if fmt == "json":
        print_json(report.as_dict())
    else:
        _print_report(report)
        out.print(f"{report.summary()}. A warning needs --acknowledge KEY to approve; "
                  f"advice is about the setup and holds nothing up.")
    if report.failed:
        sys.exit(1)


@issue_group.command("approve")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--acknowledge", "acks", multiple=True, metavar="CHECK",
              help="Acknowledge a pre-flight warning by its key (repeatable).")
@click.option("--reason", default="", metavar="TEXT",
              help="Why you approve past a warning that needs a reason (links that could "
                   "not be reached); recorded with the approval.")
@pass_state
def issue_approve(state: State, number: int, acks: tuple[str, ...], reason: str) -> None:
    """Run the pre-flight, then freeze and approve the issue."""
    rt = state.rt
    issue_id = _issue_id(state, number)
    issue, report = newsletter.approve(rt, CLI, issue_id, acks,
                                       dict.fromkeys(acks, reason))
    out.print(f"Issue #{issue.number} is approved; snapshot {issue.snapshot_sha256[:12]}. "
              f"{len(report.warnings)} warning(s) acknowledged.")


@issue_group.command("schedule")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--at", "at", required=True, metavar="'YYYY-MM-DD HH:MM'",
              help="The new send date and time, in the community's zone (schedules/).")
@pass_state
def issue_schedule(state: State, number: int, at: str) -> None:
    """Set when an issue goes out. Another day sends an approved issue back to review (the
    newsletter shows the date); another time of the same day keeps the approval."""
    rt = state.rt
    day, _, time = at.strip().replace("T", " ", 1).partition(" ")
    moved = send_dates.reschedule(rt, CLI, _issue_id(state, number), day, time.strip())
    zone = rt.community.schedule().zone
    local = moved.after.astimezone(zone)
    out.print(f"Issue {_named(number)} goes out on {local:%A %-d %B %Y at %H:%M}, "
              f"{clock.zone_label(zone, moved.after)}."
              + (" It went back to review: approve it again." if moved.back_to_review
                 else ""))


@issue_group.command("cancel")
@click.argument("number", type=ISSUE_NUMBER)
@pass_state
def issue_cancel(state: State, number: int) -> None:
    """Cancel an issue that has not started sending (its number is freed), or stop a send:
    readers not yet mailed are not mailed."""
    rt = state.rt
    with rt.db.session() as s:
        issue = _by_number(s, number)
    if issue.status == "sending":
        st = delivery.cancel(rt, CLI, issue.id)
        out.print(f"The send of issue {_named(number)} is cancelled: {st.counts['sent']} sent, "
                  f"{st.counts['cancelled']} not sent.")
        return
    newsletter.cancel(rt, CLI, issue.id)
    out.print(f"Issue {_named(number)} is cancelled.")


def _run_send(state: State, number: int, start: bool) -> None:
    """Send with a progress bar; Ctrl+C or SIGTERM stops cleanly (rows go back to the
    queue) and the same command goes on later."""
    rt = state.rt
    issue_id = _issue_id(state, number)
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        first = delivery.start(rt, CLI, issue_id) if start else delivery.status(
            rt, issue_id)
        with Progress(TextColumn(f"Issue {_named(number)}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[state]}", markup=False), TimeRemainingColumn(),
                      console=err, transient=False) as bar:
            task = bar.add_task("send", total=first.recipients, completed=first.finished,
                                state="")

            def progress(p: delivery.Progress) -> None:
                bar.update(task, completed=p.finished, state=p.state)

            st = delivery.run(rt, issue_id, progress=progress,
                              should_stop=lambda: stopping["now"])
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    c = st.counts
    out.print(f"Issue {_named(number)}: {c['sent']} sent, {c['bounced']} bounced, {c['failed']} "
              f"failed, {c['cancelled']} not sent, {c['queued'] + c['sending']} still to "
              f"send, {c['held']} held.")
    if st.resent:
        out.print(f"{st.resent} message(s) were in flight when a sending process stopped "
                  f"and were sent again; those readers may have it twice.")
    if st.issue_status == "sent":
        out.print(f"Issue {_named(number)} is sent; it is now in the archive.")
    elif st.state == "waiting":
        out.print(f"The send is waiting: {st.note}")
        sys.exit(75)  # EX_TEMPFAIL: run the same command again later
    elif stopping["now"]:
        out.print(f"Stopped. Run `ostogether issue send {_ref(number)}` to go on.")
        sys.exit(130)
    elif c["held"]:
        out.print(f"{c['held']} message(s) are held after a crash. Decide with `ostogether "
                  f"issue held {_ref(number)} --resend` or `--cancel`.")
    elif st.state == "paused":
        out.print(f"{st.note} Run `ostogether issue resume {_ref(number)}` to go on.")


@issue_group.command("send")
@click.argument("number", type=ISSUE_NUMBER)
@pass_state
def issue_send(state: State, number: int) -> None:
    """Send an approved issue to every confirmed subscriber, or go on with a send that
    stopped; a progress bar shows how far it is."""
    _run_send(state, number, start=True)


@issue_group.command("resume")
@click.argument("number", type=ISSUE_NUMBER)
@pass_state
def issue_resume(state: State, number: int) -> None:
    """Resume a paused or waiting send, and run it here."""
    delivery.resume(state.rt, CLI, _issue_id(state, number))
    _run_send(state, number, start=False)


@issue_group.command("pause")
@click.argument("number", type=ISSUE_NUMBER)
@pass_state
def issue_pause(state: State, number: int) -> None:
    """Pause a send: messages in flight finish, the rest wait for `issue resume`."""
    delivery.pause(state.rt, CLI, _issue_id(state, number))
    out.print(f"The send of issue {_named(number)} is paused.")


@issue_group.command("held")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--resend", "action", flag_value="resend", help="Send the held messages.")
@click.option("--cancel", "action", flag_value="cancel", help="Do not send them.")
@pass_state
def issue_held(state: State, number: int, action: str | None) -> None:
    """Decide on messages held after a crash (when delivery_resend_interrupted is false):
    they may or may not have reached their readers."""
    if action is None:
        raise click.UsageError("Say --resend or --cancel.")
    n = delivery.release_held(state.rt, CLI, _issue_id(state, number),
                              resend=action == "resend")
    out.print(f"{n} held message(s) {'queued again' if action == 'resend' else 'cancelled'}."
              + (f" Run `ostogether issue send {_ref(number)}` to send them."
                 if action == "resend" and n else ""))


@issue_group.command("status")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_status(state: State, number: int, fmt: str) -> None:
    """How far a send is: recipients per state, and the throughput."""
    st = delivery.status(state.rt, _issue_id(state, number))
    if fmt == "json":
        print_json(st.as_dict())
        return
    out.print(f"Issue {_named(number)} · {st.issue_status} · send {st.state or 'not started'}"
              + (f" · {st.note}" if st.note else ""))
    table = Table("state", "recipients", box=None)
    for k, v in st.counts.items():
        table.add_row(k, str(v))
    out.print(table)
    if st.messages_per_second:
        out.print(f"{st.messages_per_second:g} messages per second since the start.")
    if st.resent:
        out.print(f"{st.resent} resent after a stop.")


@issue_group.command("test-send")
@click.argument("number", type=ISSUE_NUMBER)
@click.option("--to", "recipients", multiple=True, required=True, metavar="ADDRESS",
              help="An editor's address, or any other (up to five others); repeatable.")
@click.option("--language", default="", metavar="CODE",
              help="The language version to send (nl, fr…); the community's by default.")
@pass_state
def issue_test_send(state: State, number: int, recipients: tuple[str, ...],
                    language: str) -> None:
    """Send the issue as readers will get it (only their links differ) to editors and up
    to five other addresses; exits 1 when the mail server refused one of them."""
    rt = state.rt
    issue_id = _issue_id(state, number)
    sent = test_sends.test_send(rt, CLI, issue_id, typed=recipients, language=language)
    if sent.to:
        out.print(f"Test of issue {_named(number)} sent to {', '.join(sent.to)}.")
    for address, why in sent.refused:
        out.print(f"Not sent to {address}: {why}")
    if sent.refused:
        sys.exit(1)


# ------------------------------------------------------------------------ the old archive

@cli.group("archive")
def archive_group() -> None:
    """The public archive of sent issues, and the past issues sent before the service."""


@archive_group.command("import")
@click.argument("folder", type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Check and show what would happen; write "
              "nothing.")
@click.option("--replace", is_flag=True, help="Replace past issues imported before whose "
              "file or subject has changed.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def archive_import_cmd(state: State, folder: str, dry_run: bool, replace: bool,
                       fmt: str) -> None:
    """Import past issues from FOLDER: the HTML of each issue (Mailchimp's "Export as
    HTML") and an issues.toml with one [[issue]] table per issue: number, sent_on,
    subject, file (and optionally preheader, recipients). FOLDER may be a zip of it, as
    the editors' imports page takes it.

    Importing the same folder again changes nothing; a number already taken is refused.
    """
    path = Path(folder)
    outcomes = archive_import.import_folder(
        state.rt, CLI, path, apply=not dry_run, replace=replace) if path.is_dir() else (
        archive_import.import_zip(state.rt, CLI, path, name=path.name,
                                  workdir=imports.folder(state.rt),
                                  apply=not dry_run, replace=replace))
    done = {"imported": "would be imported", "replaced": "would be replaced",
            "refreshed": "would be refreshed"} if dry_run else {}
    rows = [{"number": o.number, "file": o.file, "outcome": done.get(o.outcome, o.outcome),
             "subject": o.subject, "dropped": [str(d) for d in o.dropped]} for o in outcomes]
    counts = {k: sum(o.outcome == k for o in outcomes)
              for k in ("imported", "replaced", "refreshed", "unchanged")}
    emit(fmt, rows, [("#", "number"), ("file", "file"), ("outcome", "outcome"),
                     ("subject", "subject")],
         total=f"{counts['imported']} imported, {counts['replaced']} replaced, "
               + (f"{counts['refreshed']} refreshed (the same file, cleaned again), "
                  if counts["refreshed"] else "")
               + f"{counts['unchanged']} unchanged" + (" (dry run: nothing was written)."
                                                       if dry_run else "."),
         data={"dry_run": dry_run, "counts": counts, "issues": rows})
    if fmt != "json":
        for o in outcomes:
            for line in o.dropped:
                out.print(f"#{o.number} ({o.file}): {line}", markup=False)
