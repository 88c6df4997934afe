"""Accounts made from Wild Apricot become people linked to their organisation (issue 37):
`users import` also makes (or finds) the person and the organisation, and whichever of
`users import` and `organisations import` runs first, both end with account ↔ person ↔
organisation linked, once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, Person, User
from tests.conftest import run
from tests.factories import make_user

EXPORT = (
    "User ID,First name,Last name,Organization,Email,Membership level,Membership status,"
    "Country,City,Website\n"
    "1,Ana,Silva,NEMO Science Museum,ana@nemo.example.nl,Organisation,Active,Netherlands,"
    "Amsterdam,https://nemo.example.nl\n"
)
ASSIGN = ("--assign", "ana@nemo.example.nl=cosmos", "--contacts", "no")


def links(rt: Runtime) -> tuple[int, int, int, str, str]:
    """(accounts, people, organisations, the person's account, the person's organisation)."""
    with rt.db.session() as s:
        n_users = s.scalar(select(func.count()).select_from(User).where(
            User.email == "ana@nemo.example.nl")) or 0
        n_people = s.scalar(select(func.count()).select_from(Person)) or 0
        n_orgs = s.scalar(select(func.count()).select_from(Organisation)) or 0
        person = s.scalar(select(Person).where(Person.email == "ana@nemo.example.nl"))
        account = person.user.email if person and person.user else ""
        org = person.organisation.name if person and person.organisation else ""
        return n_users, n_people, n_orgs, account, org


def test_users_import_makes_the_person_and_the_organisation_and_links_them(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(EXPORT, encoding="utf-8")
    dry = run(env, "users", "import", str(path), *ASSIGN)
    assert dry.returncode == 0, dry.stderr
    assert ("As people: 1 new organisation(s) and 1 new person(s) would be made as members"
            in " ".join(dry.stdout.split()))
    assert links(rt) == (0, 0, 0, "", "")
    done = run(env, "users", "import", str(path), *ASSIGN, "--apply")
    assert done.returncode == 0, done.stderr
    assert "1 person(s) created" in " ".join(done.stdout.split())
    assert links(rt) == (1, 1, 1, "ana@nemo.example.nl", "NEMO Science Museum")
    again = run(env, "users", "import", str(path), *ASSIGN, "--apply")
    assert again.returncode == 0, again.stderr
    assert links(rt) == (1, 1, 1, "ana@nemo.example.nl", "NEMO Science Museum")


def test_organisations_first_then_accounts_end_linked_too(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(EXPORT, encoding="utf-8")
    assert run(env, "organisations", "import", str(path), "--apply").returncode == 0
    assert links(rt) == (0, 1, 1, "", "NEMO Science Museum")
    done = run(env, "users", "import", str(path), *ASSIGN, "--apply")
    assert done.returncode == 0, done.stderr
    assert links(rt) == (1, 1, 1, "ana@nemo.example.nl", "NEMO Science Museum")


def test_an_organisations_import_links_a_person_who_joined_and_their_account(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    """Someone who joined on the Join page (no organisation, no link) and has an account:
    the import ties the three together, and says so in its dry run."""
    path = tmp_path / "contacts.csv"
    path.write_text(EXPORT, encoding="utf-8")
    make_user(rt, "ana@nemo.example.nl", "member", project="cosmos")
    with rt.db.session() as s:
        s.add(Person(name="Ana Silva", email="ana@nemo.example.nl", status="member",
                     source="application", visibility={}))
    dry = run(env, "organisations", "import", str(path))
    assert "linked to the account of this address" in " ".join(dry.stdout.split())
    assert links(rt) == (1, 1, 0, "", "")
    assert run(env, "organisations", "import", str(path), "--apply").returncode == 0
    assert links(rt) == (1, 1, 1, "ana@nemo.example.nl", "NEMO Science Museum")
