"""The `ostogether` command. Each command is thin: it parses, calls a service, prints.

Errors from the service layer (``OstogetherError``) are printed as one sentence on
stderr with exit status 1 (2 for configuration errors); a traceback is only shown
with ``--debug``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import sys
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from ostogether import clock, csvout
from ostogether.errors import ConfigError, ContentError, OstogetherError
from ostogether.settings import Settings, effective, load_settings

log = logging.getLogger(__name__)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
FORMATS = click.Choice(["table", "json"])


class State:
    """Lazily built settings and runtime, shared by the commands of one invocation."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._runtime: Any = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    @property
    def rt(self) -> Any:
        if self._runtime is None:
            from ostogether.runtime import Runtime, configure_logging

            configure_logging(self.settings)
            self._runtime = Runtime(self.settings)
        return self._runtime


    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


pass_state = click.make_pass_decorator(State)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False), envvar="OSTOGETHER_CONFIG",
              help="TOML file of settings (also OSTOGETHER_CONFIG).")
# main() reads --debug from argv itself: it must act after click has returned.
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="ostogether")
@click.pass_context
def cli(ctx: click.Context, config: str | None, debug: bool) -> None:
    """Newsletter, social publishing and project registry of a community of projects."""
    ctx.obj = State(config)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """Console entry point: turns every error into one readable line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except OstogetherError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        log.exception("unexpected error")
        _fail(f"Unexpected error ({type(exc).__name__}: {exc}). Run again with --debug "
              f"for details, and report it.", 70)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]Error:[/] {message}", markup=True)
    sys.exit(code)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ----------------------------------------------------------------------- settings

@cli.command("config")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]),
              default="table", help="markdown prints the reference table of docs/.")
@pass_state
def config_cmd(state: State, fmt: str) -> None:
    """Print the effective settings, secrets masked."""
    if fmt == "markdown":
        from ostogether.settings import markdown_table

        click.echo(markdown_table())
        return
    rows = effective(state.settings)
    if fmt == "json":
        _print_json({info.name: shown for info, shown in rows})
        return
    table = Table("setting", "environment", "value", box=None)
    for info, shown in rows:
        table.add_row(info.name, info.env_name, shown)
    out.print(table)


# ----------------------------------------------------------------------- database

@cli.command()
@pass_state
def init(state: State) -> None:
    """Create or migrate the database and import content/. Safe to run again."""
    from ostogether.bootstrap import initialise

    r = initialise(state.rt)
    if r.migrated:
        out.print(f"Database {r.database}: migrated {r.revision_before or 'empty'} → "
                  f"{r.revision_after}.")
    else:
        out.print(f"Database {r.database}: up to date ({r.revision_after}).")
    report = r.imported
    out.print(f"Projects: {len(report.created)} created, {len(report.updated)} updated, "
              f"{len(report.unchanged)} unchanged"
              + (f", {len(r.became_alumni)} became alumni" if r.became_alumni else "") + ".")
    for slug, fields in report.updated.items():
        out.print(f"  updated {slug}: {', '.join(fields)}")
    if report.not_in_content:
        out.print(f"  in the database but no longer in content/: "
                  f"{', '.join(report.not_in_content)}")
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
    from ostogether import db

    db.upgrade(state.rt.db, revision)
    out.print(f"Database at revision {db.current_revision(state.rt.db)}.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@click.confirmation_option(prompt="Downgrading drops tables and their data. Continue?")
@pass_state
def db_downgrade(state: State, revision: str) -> None:
    """Migrate the database down to REVISION (default: one step; 'base' empties it)."""
    from ostogether import db

    db.downgrade(state.rt.db, revision)
    out.print(f"Database at revision {db.current_revision(state.rt.db) or 'base (empty)'}.")


@db_group.command("current")
@pass_state
def db_current(state: State) -> None:
    """Print the database's revision and the newest one."""
    from ostogether import db

    out.print(f"current: {db.current_revision(state.rt.db) or 'base (empty)'}; "
              f"newest: {db.head_revision()}")


# ----------------------------------------------------------------------- registry

@cli.group()
def registry() -> None:
    """The project registry and its eligibility checks."""


@registry.command("check")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def registry_check(state: State, fmt: str) -> None:
    """Check every project file in content/projects/. Exits 1 if any project fails."""
    from ostogether import projects
    from ostogether.registry import worst

    try:
        checked = projects.check_content(state.rt)
    except ContentError as exc:
        if fmt == "json":
            _print_json({"ok": False, "problems": exc.problems or [str(exc)]})
            sys.exit(1)
        raise
    failed = [f for f, results in checked if worst(results) == "fail"]
    if fmt == "json":
        _print_json({"ok": not failed, "projects": [
            {"slug": f.record.slug, "file": str(f.path), "outcome": worst(results),
             "checks": [{"rule": r.rule, "outcome": r.outcome, "message": r.message}
                        for r in results]} for f, results in checked]})
    else:
        marks = {"pass": "[green]pass[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for f, results in checked:
            out.print(f"[bold]{f.record.acronym}[/] ({f.path.name}): "
                      f"{marks[worst(results)]}", markup=True)
            for r in results:
                out.print(f"  {marks[r.outcome]} {r.rule}: {r.message}", markup=True)
        counts = {o: sum(worst(r) == o for _, r in checked) for o in ("pass", "warn", "fail")}
        out.print(f"\n{len(checked)} projects: {counts['pass']} pass, {counts['warn']} "
                  f"with warnings, {counts['fail']} failing.")
    if failed:
        sys.exit(1)


@registry.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.option("--status", type=click.Choice(["member", "alumni", "applicant", "rejected"]))
@pass_state
def registry_list(state: State, fmt: str, status: str | None) -> None:
    """List the projects in the database."""
    from ostogether import projects

    with state.rt.db.session() as s:
        rows = [projects.public_dict(p) for p in projects.list_all(s, status or "")]
    if fmt == "json":
        _print_json(rows)
    elif fmt == "csv":
        fields = list(projects.PUBLIC_FIELDS)
        click.echo(csvout.to_csv(
            ([";".join(map(str, v)) if isinstance(v, list) else v
              for v in (row[k] for k in fields)] for row in rows),
            header=fields, lineterminator="\n"), nl=False)
    else:
        table = Table("slug", "acronym", "status", "programme", "grant", "ends", box=None)
        for r in rows:
            table.add_row(r["slug"], r["acronym"], r["status"], r["programme"],
                          r["grant_number"], r["end_date"] or "")
        out.print(table)
        out.print(f"{len(rows)} project(s).")


# ------------------------------------------------------------------- applications

@cli.group()
def applications() -> None:
    """Applications to join: list, accept, reject."""


@applications.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def applications_list(state: State, fmt: str) -> None:
    """List the applications waiting for a decision."""
    from ostogether import projects

    with state.rt.db.session() as s:
        rows = [{"id": p.id, **projects.public_dict(p), "contact_email": p.contact_email,
                 "applied": p.created_at.isoformat()}
                for p in projects.list_all(s, "applicant")]
    if fmt == "json":
        _print_json(rows)
        return
    table = Table("id", "acronym", "contact", "applied", box=None)
    for r in rows:
        table.add_row(str(r["id"]), r["acronym"], r["contact_email"], r["applied"][:10])
    out.print(table)
    out.print(f"{len(rows)} application(s) waiting.")


def _decide(state: State, project_id: int, accept: bool, reason: str) -> None:
    from ostogether import projects
    from ostogether.audit import Actor

    p = projects.decide(state.rt, project_id, Actor("cli"), accept=accept, reason=reason)
    out.print(f"{p.acronym} is now {p.status}.")


@applications.command("accept")
@click.argument("project_id", type=int)
@click.option("--note", default="", help="A note for the applicant.")
@pass_state
def applications_accept(state: State, project_id: int, note: str) -> None:
    """Accept application PROJECT_ID: the project becomes a member."""
    _decide(state, project_id, True, note)


@applications.command("reject")
@click.argument("project_id", type=int)
@click.option("--reason", required=True, help="Why; sent to the applicant.")
@pass_state
def applications_reject(state: State, project_id: int, reason: str) -> None:
    """Reject application PROJECT_ID with a reason."""
    _decide(state, project_id, False, reason)


# -------------------------------------------------------------------------- users

@cli.group()
def users() -> None:
    """Editor, admin and member accounts."""


@users.command("add")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["editor", "admin", "member"]), required=True)
@click.option("--name", default="")
@click.option("--project", "project_slug", default="", help="Project slug, for members.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_state
def users_add(state: State, email: str, role: str, name: str, project_slug: str,
              generate: bool, password_stdin: bool) -> None:
    """Create an account. Prompts for a password unless told otherwise."""
    from ostogether.audit import Actor
    from ostogether.users import MIN_PASSWORD, create_user, generate_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif generate or not sys.stdin.isatty():
        password, generate = generate_password(), True
    else:
        password = click.prompt(f"Password (at least {MIN_PASSWORD} characters; "
                                f"empty to generate one)", hide_input=True,
                                confirmation_prompt=True, default="", show_default=False)
        if not password:
            password, generate = generate_password(), True
    with state.rt.db.session() as s:
        user = create_user(s, Actor("cli"), email=email, role=role, password=password,
                           name=name, project_slug=project_slug)
    out.print(f"Created {user.role} account {user.email}.")
    if generate:
        out.print(f"Password (shown once): {password}")


@users.command("list")
@pass_state
def users_list(state: State) -> None:
    """List the accounts."""
    from ostogether.users import list_users

    with state.rt.db.session() as s:
        table = Table("email", "role", "project", "active", "last login", box=None)
        for u in list_users(s):
            table.add_row(u.email, u.role, u.project.slug if u.project else "",
                          "yes" if u.active else "no",
                          u.last_login_at.isoformat()[:16] if u.last_login_at else "never")
    out.print(table)


@users.command("end-sessions")
@click.option("--email", required=True)
@pass_state
def users_end_sessions(state: State, email: str) -> None:
    """Log an account out of every browser (a lost laptop, a shared password)."""
    from ostogether.audit import Actor
    from ostogether.users import by_email, end_sessions

    with state.rt.db.session() as s:
        user_id = by_email(s, email).id
    user = end_sessions(state.rt, Actor("cli"), user_id, why="admin")
    out.print(f"Every session of {user.email} has ended.")


@users.command("invite")
@click.option("--email", required=True)
@click.option("--project", "project_slug", required=True, help="The member's project slug.")
@click.option("--name", default="")
@pass_state
def users_invite(state: State, email: str, project_slug: str, name: str) -> None:
    """Create a member account and mail a link to choose the password."""
    from ostogether.audit import Actor
    from ostogether.users import invite

    user = invite(state.rt, Actor("cli"), email=email, project_slug=project_slug, name=name)
    out.print(f"Invited {user.email} to {project_slug}; the link is valid for "
              f"{state.settings.invite_max_age_hours} hours.")


# -------------------------------------------------------------------------- items

ITEM_STATUSES = click.Choice(["submitted", "approved", "rejected", "withdrawn", "published"])


def _project_id(state: State, slug: str | None) -> int | None:
    if not slug:
        return None
    from ostogether import projects

    with state.rt.db.session() as s:
        return projects.get(s, slug, public=False).id


@cli.group()
def items() -> None:
    """News items from member projects: list and review."""


@items.command("list")
@click.option("--status", type=ITEM_STATUSES)
@click.option("--project", "project_slug", help="Project slug.")
@click.option("--kind", type=click.Choice(["news", "event", "reading", "tool", "opportunity"]))
@click.option("--source", type=click.Choice(["web", "api", "feed"]))
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def items_list(state: State, status: str | None, project_slug: str | None, kind: str | None,
               source: str | None, fmt: str) -> None:
    """List items, oldest first when listing the ones waiting for review."""
    from ostogether import news

    filters = news.ItemFilters(status=status or "", project_id=_project_id(state, project_slug),
                               kind=kind or "", source=source or "")
    with state.rt.db.session() as s:
        rows, total = news.list_items(s, filters, limit=10_000)
        data = [news.item_dict(i) for i in rows]
    if fmt == "json":
        _print_json(data)
        return
    table = Table("id", "status", "project", "kind", "source", "title", "submitted", box=None)
    for d in data:
        table.add_row(str(d["id"]), d["status"], d["project"], d["kind"], d["source"],
                      d["title"][:60], d["created_at"][:16].replace("T", " "))
    out.print(table)
    out.print(f"{total} item(s).")


@items.command("approve")
@click.argument("item_id", type=int)
@pass_state
def items_approve(state: State, item_id: int) -> None:
    """Approve item ITEM_ID; the submitter is told by mail."""
    from ostogether import news
    from ostogether.audit import Actor

    item = news.approve(state.rt, Actor("cli"), item_id)
    out.print(f"Item {item.id} (\"{item.title}\") is approved.")


@items.command("reject")
@click.argument("item_id", type=int)
@click.option("--reason", required=True, help="Why; sent to the submitter.")
@pass_state
def items_reject(state: State, item_id: int, reason: str) -> None:
    """Reject item ITEM_ID with a reason; the submitter is told by mail."""
    from ostogether import news
    from ostogether.audit import Actor

    item = news.reject(state.rt, Actor("cli"), item_id, reason)
    out.print(f"Item {item.id} (\"{item.title}\") is rejected.")


# ------------------------------------------------------------------------- tokens

@cli.group()
def tokens() -> None:
    """API tokens of member projects."""


@tokens.command("create")
@click.option("--project", "project_slug", required=True)
@click.option("--name", default="", help="What the token is for, e.g. 'website plugin'.")
@pass_state
def tokens_create(state: State, project_slug: str, name: str) -> None:
    """Create a token for a project and print it once."""
    from ostogether import tokens as tokmod
    from ostogether.audit import Actor

    pid = _project_id(state, project_slug)
    assert pid is not None
    with state.rt.db.session() as s:
        token, secret = tokmod.create(s, Actor("cli"), pid, name)
        tid = token.id
    out.print(f"Token {tid} for {project_slug} (shown once, store it now):")
    click.echo(secret)


@tokens.command("list")
@click.option("--project", "project_slug")
@pass_state
def tokens_list(state: State, project_slug: str | None) -> None:
    """List tokens (never their secrets)."""
    from ostogether import tokens as tokmod

    pid = _project_id(state, project_slug)
    with state.rt.db.session() as s:
        table = Table("id", "project", "name", "starts", "created", "last used", "state",
                      box=None)
        for t in tokmod.list_tokens(s, pid):
            table.add_row(str(t.id), t.project.slug, t.name, t.prefix + "…",
                          t.created_at.isoformat()[:10],
                          t.last_used_at.isoformat()[:16] if t.last_used_at else "never",
                          "revoked" if t.revoked_at else "active")
    out.print(table)


@tokens.command("revoke")
@click.argument("token_id", type=int)
@pass_state
def tokens_revoke(state: State, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    from ostogether import tokens as tokmod
    from ostogether.audit import Actor

    with state.rt.db.session() as s:
        tokmod.revoke(s, Actor("cli"), token_id)
    out.print(f"Token {token_id} is revoked.")


# -------------------------------------------------------------------------- feeds

@cli.group()
def feeds() -> None:
    """Member projects' RSS and Atom feeds."""


@feeds.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def feeds_list(state: State, fmt: str) -> None:
    """Every feed with its last poll, failures and pause."""
    from ostogether import feeds as feedmod

    rows: list[dict[str, Any]] = [{"project": f.project.slug, "url": f.url, "origin": f.origin,
             "auto_approve": f.auto_approve, "last_polled": f.last_polled_at,
             "last_outcome": f.last_outcome, "failures": f.failures,
             "paused": f.paused_at is not None, "last_error": f.last_error,
             "items_created": f.items_created} for f in feedmod.list_feeds(state.rt)]
    if fmt == "json":
        _print_json(rows)
        return
    table = Table("project", "url", "last poll", "outcome", "fails", "state", box=None)
    for r in rows:
        table.add_row(r["project"], r["url"], str(r["last_polled"] or "never")[:16],
                      r["last_outcome"] or "-", str(r["failures"]),
                      "PAUSED: " + r["last_error"] if r["paused"] else
                      ("auto-approve" if r["auto_approve"] else "review"))
    out.print(table)
    out.print(f"{len(rows)} feed(s).")


@feeds.command("discover")
@click.option("--project", "project_slug", help="Only this project (default: all without a feed).")
@click.option("--dry-run", is_flag=True, help="Report what was found without saving it.")
@pass_state
def feeds_discover(state: State, project_slug: str | None, dry_run: bool) -> None:
    """Find feeds from websites' <link rel="alternate">, then /feed/."""
    from ostogether import feeds as feedmod

    found = feedmod.discover_all(state.rt, project_slug, save=not dry_run)
    for slug, url, how in found:
        if url:
            out.print(f"[green]found[/]  {slug}: {url} (from {how})", markup=True)
        else:
            out.print(f"[yellow]none[/]   {slug}: {how}", markup=True)
    hits = sum(1 for _, url, _ in found if url)
    out.print(f"{hits} of {len(found)} project(s) have a feed now"
              f"{' (not saved: --dry-run)' if dry_run else ''}.")


@feeds.command("poll")
@click.option("--project", "project_slug", help="Only this project's feed.")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def feeds_poll(state: State, project_slug: str | None, fmt: str) -> None:
    """Fetch the feeds now and store new entries as submitted items."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ostogether import feeds as feedmod

    with Progress(TextColumn("Polling feeds"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), console=err,
                  disable=fmt == "json" or not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        results = feedmod.poll(state.rt, project_slug, progress=lambda r, total: bar.update(
            task, total=total, advance=1, description=r.slug))
    summary = feedmod.summarise(results)
    if fmt == "json":
        _print_json({"summary": summary, "feeds": [r.__dict__ for r in results]})
    else:
        for r in sorted(results, key=lambda r: r.slug):
            if r.outcome in ("failed", "paused"):
                out.print(f"[red]{r.outcome}[/] {r.slug}: {r.error}", markup=True)
            elif r.created:
                out.print(f"[green]{r.created} new[/] {r.slug}", markup=True)
            for why in r.skipped:
                out.print(f"  skipped in {r.slug}: {why}")
            if r.warning:
                out.print(f"  warning for {r.slug}: {r.warning}")
        out.print(f"{summary['feeds']} feed(s): {summary['items']} new item(s); "
                  f"{summary['unchanged']} unchanged, {summary['failed']} failed, "
                  f"{summary['paused']} paused.")
    if summary["failed"] and summary["failed"] == summary["feeds"]:
        sys.exit(1)


@feeds.command("resume")
@click.argument("project_slug")
@pass_state
def feeds_resume(state: State, project_slug: str) -> None:
    """Resume a paused feed; its failure count starts again from 0."""
    from ostogether import feeds as feedmod
    from ostogether.audit import Actor

    feedmod.resume(state.rt, Actor("cli"), project_slug)
    out.print(f"The feed of {project_slug} will be polled again.")


@feeds.command("auto-approve")
@click.argument("project_slug")
@click.argument("on_off", type=click.Choice(["on", "off"]))
@pass_state
def feeds_auto_approve(state: State, project_slug: str, on_off: str) -> None:
    """Let a trusted project's feed entries skip review (on), or not (off)."""
    from ostogether import feeds as feedmod
    from ostogether.audit import Actor

    feedmod.set_auto_approve(state.rt, Actor("cli"), project_slug, on_off == "on")
    out.print(f"Auto-approve is {on_off} for the feed of {project_slug}.")


# -------------------------------------------------------------------------- serve

# ------------------------------------------------------------------------ newsletter

@cli.group("issue")
def issue_group() -> None:
    """Newsletter issues: compose, preview, pre-flight, approve, send."""


def _issue_dict(issue: Any, zone: Any) -> dict[str, Any]:
    return {"number": issue.number, "id": issue.id, "status": issue.status,
            "subject": issue.subject, "preheader": issue.preheader,
            "send_at": issue.send_at.astimezone(zone).isoformat(),
            "items": len(issue.entries),
            "approved_at": issue.approved_at.isoformat() if issue.approved_at else None,
            "approved_by": issue.approved_by_label or None,
            "snapshot_sha256": issue.snapshot_sha256 or None}


def _issue_id(state: State, number: int) -> int:
    from ostogether import newsletter

    with state.rt.db.session() as s:
        return newsletter.by_number(s, number).id


@issue_group.command("compose")
@pass_state
def issue_compose(state: State) -> None:
    """Create the next draft issue from the approved items."""
    from ostogether import newsletter
    from ostogether.audit import Actor

    rt = state.rt
    issue = newsletter.compose_next(rt, Actor("cli"))
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
    """Every issue, the next to go out first."""
    from ostogether import newsletter

    zone = state.rt.community.schedule().zone
    with state.rt.db.session() as s:
        data = [_issue_dict(i, zone) for i in newsletter.list_issues(s)]
    if fmt == "json":
        _print_json(data)
        return
    table = Table("#", "status", "send at", "items", "subject", box=None)
    for d in data:
        table.add_row(str(d["number"] or "-"), d["status"], d["send_at"][:16].replace("T", " "),
                      str(d["items"]), d["subject"][:70])
    out.print(table)
    out.print(f"{len(data)} issue(s).")


@issue_group.command("show")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_show(state: State, number: int, fmt: str) -> None:
    """An issue's details and its items, by section."""
    from ostogether import newsletter

    rt = state.rt
    zone = rt.community.schedule().zone
    with rt.db.session() as s:
        issue = newsletter.by_number(s, number)
        data = _issue_dict(issue, zone)
        data["entries"] = [{"section": e.section, "position": e.position,
                            "item": e.item.id, "project": e.item.project.slug,
                            "kind": e.item.kind, "title": e.item.title,
                            "status": e.item.status, "added_by": e.added_by}
                           for e in issue.entries]
        data["left_out"] = issue.left_out
    if fmt == "json":
        _print_json(data)
        return
    out.print(f"Issue #{data['number']} · {data['status']} · sends {data['send_at'][:16]}")
    out.print(f"Subject:   {data['subject']}\nPreheader: {data['preheader']}")
    table = Table("section", "item", "project", "kind", "status", "title", box=None)
    for e in data["entries"]:
        table.add_row(e["section"], str(e["item"]), e["project"], e["kind"], e["status"],
                      e["title"][:60])
    out.print(table)


@issue_group.command("preview")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(["html", "text", "eml"]), default="html")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@pass_state
def issue_preview(state: State, number: int, fmt: str, output: str | None) -> None:
    """The issue as readers will get it (the approved snapshot once approved)."""
    from ostogether import newsletter

    rt = state.rt
    with rt.db.session() as s:
        issue = newsletter.by_number(s, number)
        public = newsletter.public_rendering(rt, issue)
    if fmt == "eml":
        data = newsletter.web_message(rt, public, "").as_bytes()
    else:
        data = (public.html if fmt == "html" else public.text).encode("utf-8")
    if output:
        with open(output, "wb") as fh:
            fh.write(data)
        out.print(f"Wrote {len(data)} bytes to {output}.")
    else:
        sys.stdout.buffer.write(data)


def _print_report(report: Any) -> None:
    marks = {"pass": "[green]PASS[/]", "warn": "[yellow]WARN[/]", "fail": "[red]FAIL[/]"}
    for c in report.checks:
        out.print(f"{marks[c.status]} {c.label} [dim]({c.key})[/]", markup=True)
        for d in c.details:
            out.print(f"       {d}", markup=False)


@issue_group.command("preflight")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_preflight(state: State, number: int, fmt: str) -> None:
    """The pre-flight checklist; exits 1 when a check fails."""
    from ostogether import newsletter

    rt = state.rt
    issue_id = _issue_id(state, number)
    report, _ = newsletter.run_preflight(rt, issue_id)
    if fmt == "json":
        _print_json(report.as_dict())
    else:
        _print_report(report)
        out.print(f"{len(report.failed)} failed, {len(report.warnings)} warning(s).")
    if report.failed:
        sys.exit(1)


@issue_group.command("approve")
@click.argument("number", type=int)
@click.option("--acknowledge", "acks", multiple=True, metavar="CHECK",
              help="Acknowledge a pre-flight warning by its key (repeatable).")
@pass_state
def issue_approve(state: State, number: int, acks: tuple[str, ...]) -> None:
    """Run the pre-flight, then freeze and approve the issue."""
    from ostogether import newsletter
    from ostogether.audit import Actor

    rt = state.rt
    issue_id = _issue_id(state, number)
    issue, report = newsletter.approve(rt, Actor("cli"), issue_id, acks)
    out.print(f"Issue #{issue.number} is approved; snapshot {issue.snapshot_sha256[:12]}. "
              f"{len(report.warnings)} warning(s) acknowledged.")


@issue_group.command("cancel")
@click.argument("number", type=int)
@pass_state
def issue_cancel(state: State, number: int) -> None:
    """Cancel an issue that has not started sending (its number is freed), or stop a send:
    readers not yet mailed are not mailed."""
    from ostogether import newsletter
    from ostogether.audit import Actor
    from ostogether.mail import delivery

    rt = state.rt
    with rt.db.session() as s:
        issue = newsletter.by_number(s, number)
    if issue.status == "sending":
        st = delivery.cancel(rt, Actor("cli"), issue.id)
        out.print(f"The send of issue #{number} is cancelled: {st.counts['sent']} sent, "
                  f"{st.counts['cancelled']} not sent.")
        return
    newsletter.cancel(rt, Actor("cli"), issue.id)
    out.print(f"Issue #{number} is cancelled.")


def _run_send(state: State, number: int, start: bool) -> None:
    """Send with a progress bar; Ctrl+C or SIGTERM stops cleanly (rows go back to the
    queue) and the same command goes on later."""
    import signal

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from ostogether.audit import Actor
    from ostogether.mail import delivery

    rt = state.rt
    issue_id = _issue_id(state, number)
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        first = delivery.start(rt, Actor("cli"), issue_id) if start else delivery.status(
            rt, issue_id)
        with Progress(TextColumn(f"Issue #{number}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[state]}"), TimeRemainingColumn(),
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
    out.print(f"Issue #{number}: {c['sent']} sent, {c['bounced']} bounced, {c['failed']} "
              f"failed, {c['cancelled']} not sent, {c['queued'] + c['sending']} still to "
              f"send, {c['held']} held.")
    if st.resent:
        out.print(f"{st.resent} message(s) were in flight when a sending process stopped "
                  f"and were sent again; those readers may have it twice.")
    if st.issue_status == "sent":
        out.print(f"Issue #{number} is sent; it is now in the archive.")
    elif st.state == "waiting":
        out.print(f"The send is waiting: {st.note}")
        sys.exit(75)  # EX_TEMPFAIL: run the same command again later
    elif stopping["now"]:
        out.print(f"Stopped. Run `ostogether issue send {number}` to go on.")
        sys.exit(130)
    elif c["held"]:
        out.print(f"{c['held']} message(s) are held after a crash. Decide with `ostogether "
                  f"issue held {number} --resend` or `--cancel`.")
    elif st.state == "paused":
        out.print(f"{st.note} Run `ostogether issue resume {number}` to go on.")


@issue_group.command("send")
@click.argument("number", type=int)
@pass_state
def issue_send(state: State, number: int) -> None:
    """Send an approved issue to every confirmed subscriber, or go on with a send that
    stopped; a progress bar shows how far it is."""
    _run_send(state, number, start=True)


@issue_group.command("resume")
@click.argument("number", type=int)
@pass_state
def issue_resume(state: State, number: int) -> None:
    """Resume a paused or waiting send, and run it here."""
    from ostogether.audit import Actor
    from ostogether.mail import delivery

    delivery.resume(state.rt, Actor("cli"), _issue_id(state, number))
    _run_send(state, number, start=False)


@issue_group.command("pause")
@click.argument("number", type=int)
@pass_state
def issue_pause(state: State, number: int) -> None:
    """Pause a send: messages in flight finish, the rest wait for `issue resume`."""
    from ostogether.audit import Actor
    from ostogether.mail import delivery

    delivery.pause(state.rt, Actor("cli"), _issue_id(state, number))
    out.print(f"The send of issue #{number} is paused.")


@issue_group.command("held")
@click.argument("number", type=int)
@click.option("--resend", "action", flag_value="resend", help="Send the held messages.")
@click.option("--cancel", "action", flag_value="cancel", help="Do not send them.")
@pass_state
def issue_held(state: State, number: int, action: str | None) -> None:
    """Decide on messages held after a crash (when delivery_resend_interrupted is false):
    they may or may not have reached their readers."""
    from ostogether.audit import Actor
    from ostogether.mail import delivery

    if action is None:
        raise click.UsageError("Say --resend or --cancel.")
    n = delivery.release_held(state.rt, Actor("cli"), _issue_id(state, number),
                              resend=action == "resend")
    out.print(f"{n} held message(s) {'queued again' if action == 'resend' else 'cancelled'}."
              + (f" Run `ostogether issue send {number}` to send them."
                 if action == "resend" and n else ""))


@issue_group.command("status")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def issue_status(state: State, number: int, fmt: str) -> None:
    """How far a send is: recipients per state, and the throughput."""
    from ostogether.mail import delivery

    st = delivery.status(state.rt, _issue_id(state, number))
    if fmt == "json":
        _print_json(st.as_dict())
        return
    out.print(f"Issue #{number} · {st.issue_status} · send {st.state or 'not started'}"
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
@click.argument("number", type=int)
@click.option("--to", "recipients", multiple=True, required=True,
              help="An editor's address (repeatable).")
@pass_state
def issue_test_send(state: State, number: int, recipients: tuple[str, ...]) -> None:
    """Send the issue to editors, marked as a test."""
    from ostogether import newsletter
    from ostogether.audit import Actor

    rt = state.rt
    issue_id = _issue_id(state, number)
    sent = newsletter.test_send(rt, Actor("cli"), issue_id, recipients)
    out.print(f"Test of issue #{number} sent to {sent} editor(s).")


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
    from pathlib import Path

    from ostogether import subscribers

    report = subscribers.import_csv(state.rt, Path(file).read_bytes(), apply=apply,
                                    source_name=Path(file).name)
    if fmt == "json":
        _print_json({"applied": report.applied, "counts": report.counts,
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
              type=click.Choice(["pending", "confirmed", "unsubscribed", "bounced"]),
              help="Which readers (repeatable; default: confirmed).")
@pass_state
def subscribers_export(state: State, output: str | None, statuses: tuple[str, ...]) -> None:
    """Export readers as CSV, in the columns the import takes."""

    from ostogether import subscribers

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
    from ostogether import subscribers
    from ostogether.audit import Actor

    sub_id = subscribers.erase_by_email(state.rt, Actor("cli"), email)
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
    from pathlib import Path

    from ostogether.mail import bounces

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


# ------------------------------------------------------------------------- social

NETWORK = click.Choice(["x", "facebook", "linkedin", "mastodon", "bluesky"])


@cli.group("social")
def social_group() -> None:
    """Weekly social posts: plan, review, publish."""


def _post_dict(post: Any, zone: Any) -> dict[str, Any]:
    return {"id": post.id, "network": post.network, "status": post.status,
            "slot": post.slot_at.astimezone(zone).isoformat(timespec="minutes"),
            "kind": post.kind, "title": post.title, "text": post.text, "link": post.link,
            "item_id": post.item_id, "evergreen": post.evergreen_key or None,
            "remote_url": post.remote_url or None, "error": post.error or None,
            "hint": post.hint or None}


@social_group.command("plan")
@click.option("--week", default=None, help="ISO week like 2026-W48 (default: next week).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_plan(state: State, week: str | None, fmt: str) -> None:
    """Fill the week's slots: approved items first, then the evergreen library."""
    from ostogether.audit import SYSTEM
    from ostogether.social import posts

    report = posts.plan_week(state.rt, SYSTEM, week)
    zone = state.rt.community.schedule().zone
    if fmt == "json":
        _print_json({"week": report.week, "kept": report.kept, "approved": report.approved,
                     "placed": [{"slot": at.astimezone(zone).isoformat(timespec="minutes"),
                                 "title": title, "networks": list(nets)}
                                for at, title, nets in report.placed],
                     "unfilled": [{"slot": at.astimezone(zone).isoformat(timespec="minutes"),
                                   "why": why} for at, why in report.unfilled]})
        return
    for at, title, nets in report.placed:
        out.print(f"{at.astimezone(zone):%a %d %b %H:%M}  {title[:60]}  ({', '.join(nets)})",
                  markup=False)
    for at, why in report.unfilled:
        out.print(f"{at.astimezone(zone):%a %d %b %H:%M}  empty: {why}")
    state_word = "approved" if report.approved else "planned, waiting for review"
    out.print(f"Week {report.week}: {len(report.placed)} slot(s) filled ({state_word}), "
              f"{len(report.unfilled)} empty, {report.kept} post(s) were there already.")


@social_group.command("week")
@click.option("--week", default=None, help="ISO week like 2026-W48 (default: this week).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_week(state: State, week: str | None, fmt: str) -> None:
    """The week's calendar: every slot and its posts."""
    from ostogether.social import posts

    view = posts.week_view(state.rt, week)
    zone = state.rt.community.schedule().zone
    if fmt == "json":
        _print_json({"week": view.label, "posts": [
            _post_dict(p, zone) for _, slots in view.days for slot in slots
            for entry in slot.entries for p in entry.posts]})
        return
    for day, slots in view.days:
        for slot in slots:
            if not slot.entries:
                out.print(f"{day:%a %d %b} {slot.at:%H:%M}  (empty)")
            for entry in slot.entries:
                states = ", ".join(f"{p.network} #{p.id} {p.status}" for p in entry.posts)
                out.print(f"{day:%a %d %b} {slot.at:%H:%M}  {entry.title[:50]}  [{states}]",
                          markup=False)
    out.print(f"Week {view.label}: " + (", ".join(f"{n} {k}" for k, n in view.counts.items())
                                        or "no posts") + ".")


@social_group.command("length")
@click.option("--network", type=NETWORK, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.argument("text")
@pass_state
def social_length(state: State, network: str, fmt: str, text: str) -> None:
    """Count TEXT the way NETWORK does ('-' reads it from stdin). Exit 1 if it does not
    fit."""
    from ostogether.social import posts

    if text == "-":
        text = sys.stdin.read().rstrip("\n")
    m = posts.measure(state.settings, text, network)
    if fmt == "json":
        _print_json(m.as_dict())
    else:
        out.print(f"{m.length} of {m.limit} {m.unit}: "
                  + ("fits." if m.fits else "does not fit."))
    sys.exit(0 if m.fits else 1)


@social_group.command("preview")
@click.argument("post_id", type=int)
@pass_state
def social_preview(state: State, post_id: int) -> None:
    """Each network's text of a post's content, with its counted length."""
    from ostogether.social import posts
    from ostogether.social.text import as_sent

    post, _, _ = posts.preview(state.rt, post_id)
    zone = state.rt.community.schedule().zone
    out.print(f"{post.title} — {post.slot_at.astimezone(zone):%a %d %b %Y %H:%M}")
    for one in sorted([post, *posts.siblings(state.rt, post)], key=lambda p: p.id):
        m, extra = posts.measure(state.settings, one.text, one.network), as_sent(
            one.text, one.network)
        out.print(f"\n[bold]#{one.id} {one.network}[/] ({one.status}): {m.length} of "
                  f"{m.limit} {m.unit}" + ("" if m.fits else " — too long"), markup=True)
        out.print(one.text, markup=False)
        if "commentary" in extra:
            out.print(f"  sent to LinkedIn as: {extra['commentary']}", markup=False)


@social_group.command("approve")
@click.argument("post_ids", type=int, nargs=-1)
@click.option("--week", default=None, help="Approve every planned post of this ISO week.")
@pass_state
def social_approve(state: State, post_ids: tuple[int, ...], week: str | None) -> None:
    """Approve posts (by id, or a whole --week), so they go out at their time."""
    from ostogether.audit import SYSTEM
    from ostogether.social import posts

    if bool(post_ids) == bool(week):
        raise click.UsageError("Give post ids, or --week, but not both.")
    n = (posts.approve_week(state.rt, SYSTEM, week) if week
         else posts.approve(state.rt, SYSTEM, post_ids))
    out.print(f"{n} post(s) approved.")


@social_group.command("skip")
@click.argument("post_id", type=int)
@pass_state
def social_skip(state: State, post_id: int) -> None:
    """Do not publish this post."""
    from ostogether.audit import SYSTEM
    from ostogether.social import posts

    posts.skip(state.rt, SYSTEM, post_id)
    out.print(f"Post {post_id} skipped.")


@social_group.command("edit")
@click.argument("post_id", type=int)
@click.option("--text", required=True, help="The new text; '-' reads it from stdin.")
@pass_state
def social_edit(state: State, post_id: int, text: str) -> None:
    """Replace a post's text; it must fit its network."""
    from ostogether.audit import SYSTEM
    from ostogether.social import posts

    if text == "-":
        text = sys.stdin.read()
    post = posts.edit(state.rt, SYSTEM, post_id, text=text)
    m = posts.measure(state.settings, post.text, post.network)
    out.print(f"Post {post_id} changed: {m.length} of {m.limit} {m.unit}.")


@social_group.command("move")
@click.argument("post_id", type=int)
@click.option("--to", "when", required=True, help="Local time like '2026-11-25 10:00'.")
@pass_state
def social_move(state: State, post_id: int, when: str) -> None:
    """Move a post to another time (local, in the timetable's zone)."""
    from ostogether.audit import SYSTEM
    from ostogether.errors import ValidationError
    from ostogether.social import posts

    zone = state.rt.community.schedule().zone
    try:
        local = dt.datetime.fromisoformat(when).replace(tzinfo=zone)
    except ValueError:
        raise ValidationError(f"'{when}' is not a time; write it like 2026-11-25 10:00.",
                              {"to": "bad time"}) from None
    posts.move(state.rt, SYSTEM, post_id, local.astimezone(dt.UTC))
    out.print(f"Post {post_id} moved to {local:%a %d %b %Y %H:%M}.")


@social_group.command("resolve")
@click.argument("post_id", type=int)
@click.option("--posted/--not-posted", required=True,
              help="What you found on the network's account.")
@click.option("--url", default="", help="The post's address, when it was posted.")
@pass_state
def social_resolve(state: State, post_id: int, posted: bool, url: str) -> None:
    """Record what became of a post whose outcome was unknown."""
    from ostogether.audit import SYSTEM
    from ostogether.social import posts

    posts.resolve(state.rt, SYSTEM, post_id, posted=posted, url=url)
    out.print(f"Post {post_id} marked {'published' if posted else 'failed (not posted)'}.")


@social_group.command("publish")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_publish(state: State, fmt: str) -> None:
    """Publish every approved post whose time has come."""
    from ostogether.social import publish

    report = publish.publish_due(state.rt)
    if fmt == "json":
        _print_json({"outcomes": dict(report.outcomes), "lines": report.lines})
        return
    for line in report.lines:
        out.print(line, markup=False)
    out.print(f"{report.total} post(s) handled: " + (", ".join(
        f"{n} {k}" for k, n in sorted(report.outcomes.items())) or "nothing was due") + ".")


@social_group.command("status")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_status(state: State, fmt: str) -> None:
    """Posts per state and network, each network's connection, and warnings."""
    from ostogether.social import posts

    counts = posts.status_counts(state.rt)
    connections = posts.connections(state.settings, state.rt.today())
    if fmt == "json":
        _print_json({"counts": counts, "networks": connections})
        return
    networks = [c["network"] for c in connections]
    table = Table("state", *networks, box=None)
    for status in sorted(counts):
        table.add_row(status, *(str(counts[status].get(n, 0)) for n in networks))
    out.print(table)
    for c in connections:
        out.print(f"{c['name']}: {'live' if c['live'] else 'dry run (var/outbox/social/)'}"
                  + (f" — {c['warning']}" if c["warning"] else ""))


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
    from ostogether import reports

    rt = state.rt
    first, last = reports.parse_period(start, end, rt.today())
    with rt.db.session() as s:
        report = reports.visibility(s, slug, first, last)
        data = report.as_dict() if fmt == "json" else reports.visibility_csv(report)
    if fmt == "json":
        _print_json(data)
    else:
        click.echo(data, nl=False)


@report_group.command("fair-share")
@click.option("--issues", "last", type=click.IntRange(1, 100), default=None,
              help="How many recent issues (default: lookback_issues of newsletter.toml).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def report_fair_share(state: State, last: int | None, fmt: str) -> None:
    """Member projects not featured in the last issues."""
    from ostogether import reports

    rt = state.rt
    n = last or reports.lookback(rt)
    with rt.db.session() as s:
        rows = reports.fair_share(s, n)
    if fmt == "json":
        _print_json({"issues": n, "projects": [
            {"slug": r.slug, "acronym": r.acronym, "last_issue": r.last_number,
             "last_sent": r.last_sent.isoformat() if r.last_sent else None,
             "approved_waiting": r.waiting} for r in rows]})
        return
    table = Table("project", "last featured", "approved waiting", box=None)
    for r in rows:
        table.add_row(r.acronym, f"#{r.last_number} {r.last_sent:%Y-%m-%d}" if r.last_sent
                      else "never", str(r.waiting))
    out.print(table)
    out.print(f"{len(rows)} member project(s) not featured in the last {n} issue(s).")


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
    import dataclasses
    import signal

    import waitress

    from ostogether import scheduler
    from ostogether.runtime import configure_logging
    from ostogether.web import create_app

    settings = dataclasses.replace(state.settings, host=host or state.settings.host,
                                   port=port or state.settings.port)
    configure_logging(settings)

    # SIGTERM (systemd, a deploy) stops as Ctrl+C does: waitress winds down and the worker
    # releases its lease. SIGINT is set too, because a parent that ignores it (a shell's
    # background job, nohup) would otherwise leave Ctrl+C without effect.
    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    app = create_app(settings)
    running = scheduler.start_in_thread(app.extensions["ostogether"]) if worker else None
    out.print(f"Serving {settings.public_url} (listening on {settings.host}:{settings.port})"
              + (", with the scheduler" if worker else "") + "; press Ctrl+C to stop.")
    try:
        waitress.serve(app, host=settings.host, port=settings.port, threads=threads,
                       ident="ostogether")
    finally:
        if running is not None:
            running.stop()
            running.join(60)  # let running jobs finish and the lease be released


@cli.command()
@pass_state
def worker(state: State) -> None:
    """Run the scheduler: the jobs of schedules/ostogether.toml, until SIGTERM.

    Several workers may run; one schedules and the others wait as standbys."""
    import signal

    from ostogether import scheduler

    rt = state.rt
    rt.community.schedule()  # a bad timetable stops here, with file and key
    one = scheduler.Worker(rt)
    signal.signal(signal.SIGTERM, one.stop)
    signal.signal(signal.SIGINT, one.stop)
    out.print(f"Worker {one.holder} started; SIGTERM or Ctrl+C stops it.")
    one.run()
    out.print("Worker stopped.")


@cli.group("schedule")
def schedule_group() -> None:
    """The scheduler's timetable and its jobs."""


@schedule_group.command("show")
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.option("--count", type=click.IntRange(1, 50), default=5, help="Run times per job.")
@pass_state
def schedule_show(state: State, fmt: str, count: int) -> None:
    """Every job with its next run times, in the timetable's local time."""
    from ostogether import jobs, timetable

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
    if fmt == "json":
        _print_json({"timezone": schedule.timezone, "jobs": rows})
        return
    table = Table("job", "trigger", "next runs", "last run", box=None)
    for r in rows:
        nxt = ", ".join(t[:16].replace("T", " ") for t in r["next"]) or "off"
        lst = (f"{r['last']['started'][:16].replace('T', ' ')} {r['last']['outcome']}"
               if r["last"] else "never")
        table.add_row(r["job"], r["trigger"], nxt, lst)
    out.print(table)
    out.print(f"Times are in {schedule.timezone}.")


@schedule_group.command("run")
@click.argument("job")
@pass_state
def schedule_run(state: State, job: str) -> None:
    """Run one job now, whatever its timetable says (each job checks before acting)."""
    from ostogether import jobs

    row = jobs.run(state.rt, job, trigger="manual")
    out.print(f"{job}: {row.outcome}: {row.error or row.summary}", markup=False)
    if row.outcome == "failed":
        sys.exit(1)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_state
def backup(state: State, path: str) -> None:
    """Copy the SQLite database to PATH while the service runs (SQLite's backup API).

    For PostgreSQL use pg_dump; docs/operations.md shows how."""
    from ostogether import db

    size = db.backup(state.rt.db, path)
    out.print(f"Backed up to {path} ({size / 1e6:.1f} MB).")
