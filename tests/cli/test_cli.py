"""The CLI as a user runs it: accounts, and errors without tracebacks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ostogether.accounts.users import authenticate
from ostogether.edges.runtime import Runtime
from ostogether.models import User
from tests.conftest import run, run_process


def test_users_add_from_stdin_then_login(rt: Runtime, env: dict[str, str]) -> None:
    r = run(env, "users", "add", "--email", "Ed@Example.org", "--role", "editor",
            "--password-stdin", stdin="a long enough password\n")
    assert r.returncode == 0, r.stderr
    assert "Created editor account ed@example.org." in r.stdout
    assert authenticate(rt, "ed@example.org", "a long enough password", ip="t") is not None
    with rt.db.session() as s:
        user = s.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2")


def test_users_add_generates_a_password_shown_once(rt: Runtime, env: dict[str, str]) -> None:
    r = run(env, "users", "add", "--email", "a@example.org", "--role", "admin", "--generate")
    password = r.stdout.split("Password (shown once): ")[1].strip()
    assert len(password) >= 12
    assert authenticate(rt, "a@example.org", password, ip="t") is not None


def test_users_add_errors_are_sentences(rt: Runtime, env: dict[str, str]) -> None:
    # Through the real entry point in a subprocess: never a traceback.
    short = run_process(env, "users", "add", "--email", "a@example.org", "--role", "editor",
                "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    member = run(env, "users", "add", "--email", "m@example.org", "--role", "member",
                 "--generate")
    assert "give --project" in member.stderr
    run(env, "users", "add", "--email", "dup@example.org", "--role", "editor", "--generate")
    dup = run(env, "users", "add", "--email", "dup@example.org", "--role", "editor",
              "--generate")
    assert "already exists" in dup.stderr
    for r in (short, member, dup):
        assert "Traceback" not in r.stderr


def test_db_commands(env: dict[str, str], tmp_path: Path) -> None:
    from ostogether.edges.db import head_revision

    assert f"current: base (empty); newest: {head_revision()}" in run(env, "db", "current").stdout
    assert run(env, "db", "upgrade").returncode == 0
    down = run(env, "db", "downgrade", "base", "--yes")
    assert down.returncode == 0 and "base (empty)" in down.stdout
