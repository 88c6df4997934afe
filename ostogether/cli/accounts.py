"""The CLI's accounts commands.

Accounts and API tokens.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ostogether.accounts import tokens as tokmod
from ostogether.accounts.users import (
    MIN_PASSWORD,
    by_email,
    create_user,
    end_sessions,
    generate_password,
    invite,
    list_users,
    remove,
)
from ostogether.cli.base import (
    FORMATS,
    Column,
    State,
    cli,
    emit,
    out,
    pass_state,
    print_json,
    project_id,
    visible,
)
from ostogether.core.errors import ValidationError
from ostogether.core.states import ROLES
from ostogether.edges.audit import CLI
from ostogether.registry import members_import, org_import

# -------------------------------------------------------------------------- users

@cli.group("users")
def users_group() -> None:
    """Editor, admin and member accounts."""


@users_group.command("add")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--project", "project_slug", default="", help="Project slug, for members.")
@click.option("--generate", is_flag=True, help="Generate a password and print it once.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@pass_state
def users_add(state: State, email: str, role: str, name: str, project_slug: str,
              generate: bool, password_stdin: bool) -> None:
    """Create an account. Prompts for a password unless told otherwise."""
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
    try:
        user = create_user(state.rt, CLI, email=email, role=role, password=password,
                           name=name, project_slug=project_slug)
    except ValidationError as exc:
        if "project" not in exc.fields:
            raise
        raise ValidationError(f"{str(exc).rstrip('.')}: give --project with its slug "
                              f"(`ostogether registry list` shows them).", exc.fields) from None
    out.print(f"Created {user.role} account {user.email}.")
    if generate:
        out.print(f"Password (shown once): {password}")


@users_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def users_list(state: State, fmt: str) -> None:
    """List the accounts."""
    with state.rt.db.session() as s:
        rows = [{"id": u.id, "email": u.email, "role": u.role, "name": u.name,
                 "project": u.project.slug if u.project else None, "active": u.active,
                 "last_login": u.last_login_at.isoformat() if u.last_login_at else None}
                for u in list_users(s)]
    emit(fmt, rows, [("email", "email"), ("role", "role"), ("project", "project"),
                     ("active", lambda r: "yes" if r["active"] else "no"),
                     ("last login", lambda r: (r["last_login"] or "never")[:16])],
         total=f"{len(rows)} account(s).")


@users_group.command("end-sessions")
@click.option("--email", required=True)
@pass_state
def users_end_sessions(state: State, email: str) -> None:
    """Log an account out of every browser (a lost laptop, a shared password)."""
    with state.rt.db.session() as s:
        user_id = by_email(s, email).id
    user = end_sessions(state.rt, CLI, user_id, why="admin")
    out.print(f"Every session of {user.email} has ended.")


@users_group.command("remove")
@click.option("--email", required=True)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@pass_state
def users_remove(state: State, email: str, yes: bool) -> None:
    """Close a member's account: no more logins, every session ended, what it sent kept."""
    with state.rt.db.session() as s:
        user_id = by_email(s, email).id
    if not yes:
        click.confirm(f"Close the account of {email}?", abort=True)
    user = remove(state.rt, CLI, user_id)
    out.print(f"The account of {user.email} is closed.")


@users_group.command("invite")
@click.option("--email", required=True)
@click.option("--project", "project_slug", required=True, help="The member's project slug.")
@click.option("--name", default="")
@pass_state
def users_invite(state: State, email: str, project_slug: str, name: str) -> None:
    """Create a member account and mail a link to choose the password."""
    user = invite(state.rt, CLI, email=email, project_slug=project_slug, name=name)
    out.print(f"Invited {user.email} to {project_slug}; the link is valid for "
              f"{state.settings.invite_max_age_hours} hours.")


@users_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--apply", is_flag=True, help="Create the matched member accounts and mail "
              "their invitations; without it, only the plan is printed.")
@click.option("--assign", "assigned", multiple=True, metavar="EMAIL=SLUG",
              help="Put a contact in a project by hand (repeatable): for the ambiguous "
                   "and unmatched lines.")
@click.option("--contacts", type=click.Choice(["ask", "yes", "no"]), default="ask",
              help="With --apply: give projects without a contact address their first "
                   "matched contact's (ask for each, the default; yes for all; no).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def users_import(state: State, file: str, apply: bool, assigned: tuple[str, ...],
                 contacts: str, fmt: str) -> None:
    """Member accounts from Wild Apricot's contacts export (CSV, default columns).

    Each contact is matched to a project by its organisation: acronym, name or
    coordinator. Archived, lapsed, suspended and pending contacts are skipped.
    """
    assign = {}
    for pair in assigned:
        email, sep, slug = pair.partition("=")
        if not sep or not email.strip() or not slug.strip():
            raise click.BadParameter(f"'{pair}' is not EMAIL=SLUG.", param_hint="--assign")
        assign[email.strip()] = slug.strip()
    plan = members_import.plan(state.rt, Path(file), name=Path(file).name, assign=assign)
    # The same contacts as people of their organisations (``organisations import``'s
    # matching), each linked to their account: planned now, done after the accounts.
    people_plan = org_import.plan(state.rt, Path(file), name=Path(file).name)
    counts = plan.counts()
    columns: list[Column] = [
        ("line", "line"), ("email", "email"), ("organisation", "organisation"),
        ("outcome", "outcome"), ("project / reason", lambda r: r["project"] or r["reason"])]

    def rows() -> list[dict[str, Any]]:
        return [{"line": r.contact.line, "email": r.contact.email, "name": r.contact.name,
                 "organisation": r.contact.organisation, "outcome": r.outcome,
                 "project": r.project, "reason": str(r.reason), "result": r.result}
                for r in plan.rows]

    def total(verb: str) -> str:
        return (f"{counts['matched']} matched ({verb}), {counts['ambiguous']} ambiguous, "
                f"{counts['unmatched']} unmatched, {counts['skipped']} skipped, "
                f"{counts['existing']} with an account already, {counts['invalid']} "
                f"invalid.")

    if fmt == "json":
        created = {}
        if apply:
            members_import.apply(state.rt, CLI, plan)
            created = org_import.apply(state.rt, CLI, people_plan)
        print_json({"applied": apply, "counts": counts, "lines": rows(),
                    "contacts_missing": {k: c.email for k, c in plan.contacts.items()},
                    "people": {"counts": people_plan.counts(), "created": created}})
        return
    # The plan is printed before any invitation goes out.
    emit(fmt, rows(), columns, total=total("to invite"))
    if not apply:
        if counts["ambiguous"] or counts["unmatched"]:
            out.print("Put the ambiguous and unmatched contacts in a project with "
                      "--assign EMAIL=SLUG, or leave them out.")
        if counts["matched"]:
            out.print("Nothing has been changed. Run again with --apply to create the "
                      "accounts and mail the invitations.")
        for slug, c in plan.contacts.items():
            out.print(f"{slug} has no contact address; with --apply you can take "
                      f"{c.email} from here.")
        out.print(_people_summary(people_plan, "would be"))
        return
    members_import.apply(state.rt, CLI, plan)
    for r in plan.rows:
        if r.outcome == "matched" and r.result != "invited":
            out.print(f"line {r.contact.line}: {r.contact.email}: {r.result}")
    out.print(total("invited"))
    created = org_import.apply(state.rt, CLI, people_plan)
    out.print(_people_summary(people_plan, "were") + f" {created['organisations']} "
              f"organisation(s) and {created['people']} person(s) created, "
              f"{created['linked']} person(s) linked to their account or organisation.")
    for slug, c in plan.contacts.items():
        if contacts == "no":
            break
        take = contacts == "yes" or click.confirm(visible(
            f"{slug} has no contact address. Take {c.email} ({c.name or 'no name'}) from "
            f"Wild Apricot?", lines=False), default=False)
        if take:
            members_import.set_contact(state.rt, CLI, slug, c.email)
            out.print(f"{slug}: contact address set to {c.email} in the registry; "
                      f"`ostogether registry export` writes it into the project's file.")


def _people_summary(people_plan: org_import.Plan, verb: str) -> str:
    """What the contacts become as people of their organisations (and which match is
    doubtful), for the accounts' import."""
    c = people_plan.counts()
    doubts = [f"line {o.line}: {o.record.name}: {'; '.join(o.doubts)}"
              for o in people_plan.orgs.values() if o.doubts]
    return "\n".join([f"As people: {c['organisations_new']} new organisation(s) and "
                      f"{c['people_new']} new person(s) {verb} made as members, "
                      f"{c['organisations_existing']} organisation(s) known already; each "
                      f"person {verb} linked to the account of their address and to their "
                      f"organisation.", *doubts])


# ------------------------------------------------------------------------- tokens

@cli.group("tokens")
def tokens_group() -> None:
    """API tokens of member projects."""


@tokens_group.command("create")
@click.option("--project", "project_slug", required=True)
@click.option("--name", default="", help="What the token is for, e.g. 'website plugin'.")
@pass_state
def tokens_create(state: State, project_slug: str, name: str) -> None:
    """Create a token for a project and print it once."""
    pid = project_id(state, project_slug)
    assert pid is not None
    token, secret = tokmod.create(state.rt, CLI, pid, name)
    out.print(f"Token {token.id} for {project_slug} (shown once, store it now):")
    click.echo(secret)


@tokens_group.command("list")
@click.option("--project", "project_slug")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def tokens_list(state: State, project_slug: str | None, fmt: str) -> None:
    """List tokens (never their secrets)."""
    pid = project_id(state, project_slug)
    with state.rt.db.session() as s:
        rows = [{"id": t.id, "project": t.project.slug, "name": t.name, "prefix": t.prefix,
                 "created": t.created_at.isoformat(),
                 "last_used": t.last_used_at.isoformat() if t.last_used_at else None,
                 "state": "revoked" if t.revoked_at else "active"}
                for t in tokmod.list_tokens(s, pid)]
    emit(fmt, rows, [("id", "id"), ("project", "project"), ("name", "name"),
                     ("starts", lambda r: r["prefix"] + "…"),
                     ("created", lambda r: r["created"][:10]),
                     ("last used", lambda r: (r["last_used"] or "never")[:16]),
                     ("state", "state")])


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@pass_state
def tokens_revoke(state: State, token_id: int) -> None:
    """Revoke token TOKEN_ID at once."""
    tokmod.revoke(state.rt, CLI, token_id)
    out.print(f"Token {token_id} is revoked.")


