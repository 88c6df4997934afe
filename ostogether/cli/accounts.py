"""The CLI's accounts commands.

Accounts and API tokens.
"""

from __future__ import annotations

import sys

import click

from ostogether import tokens as tokmod
from ostogether.audit import CLI
from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    emit,
    out,
    pass_state,
    project_id,
)
from ostogether.errors import ValidationError
from ostogether.states import (
    ROLES,
)
from ostogether.users import (
    MIN_PASSWORD,
    by_email,
    create_user,
    end_sessions,
    generate_password,
    invite,
    list_users,
)

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


