"""Member accounts from Wild Apricot's contacts export.

The export is a CSV with Wild Apricot's default columns ("User ID", "First name",
"Last name", "Organization", "Email", "Membership level", "Membership status",
"Member since", "Archived", …). Each contact is matched to a project of the registry by its
organisation (or membership level): the project's acronym, its name, or (when nothing
else matches) its coordinator. The plan says, per line, what would happen:

- ``matched``: one project; ``--apply`` creates a member account and mails the invitation;
- ``ambiguous``: several projects could be meant; ``--assign EMAIL=SLUG`` decides;
- ``unmatched``: no project; ``--assign`` too, or the contact is left out;
- ``skipped``: archived, lapsed, suspended or pending contacts, with the reason;
- ``existing``: the address already has an account; ``invalid``: a bad line.

A project without a contact address can take its first matched contact's address, once an
editor confirms it (``set_contact``). The registry lives in the database: the address is
saved there, audited, and marked as an editor's change, so that a later ``registry import``
of a file without it reports the difference instead of undoing it (``registry export``
writes it into the file, for those who keep the registry in git).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ostogether.accounts.users import invite
from ostogether.core import csvin
from ostogether.core.errors import NotFound, OstogetherError, ValidationError
from ostogether.core.inputs import email_problem, normalise_email
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import Project, User
from ostogether.registry.projects import mark_edited

MAX_LINES = 20_000
KEPT = 320  # characters kept of each value of a line (an address has at most 320)
# Wild Apricot's membership statuses, and what each means for an account here.
SKIP = {"lapsed": _l("membership lapsed"), "suspended": _l("membership suspended"),
        "pending - new": _l("membership application not approved yet"),
        "pendingnew": _l("membership application not approved yet")}
ACTIVE = {"active", "pending - renewal", "pendingrenewal", "pending - upgrade",
          "pendingupgrade", "pending - level change"}


@dataclass(frozen=True)
class Contact:
    line: int
    email: str
    name: str
    organisation: str
    level: str = ""
    status: str = ""


@dataclass
class Planned:
    contact: Contact
    outcome: str  # matched, ambiguous, unmatched, skipped, existing, invalid
    project: str = ""  # the slug, when matched
    candidates: list[str] = field(default_factory=list)
    reason: Any = ""  # a lazy sentence (English outside a page), kept with words.keep
    result: str = ""  # after apply: invited, or what failed


@dataclass
class Plan:
    rows: list[Planned]
    # Projects without a contact address, and the matched contact that could be it.
    contacts: dict[str, Contact] = field(default_factory=dict)
    applied: bool = False

    def counts(self) -> dict[str, int]:
        keys = ("matched", "ambiguous", "unmatched", "skipped", "existing", "invalid")
        return {k: sum(r.outcome == k for r in self.rows) for k in keys}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _column(header: Sequence[str], *names: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def read_contacts(data: bytes | Path, name: str = "the file",
                  limits: csvin.Limits | None = None
                  ) -> tuple[list[Contact], list[Planned]]:
    """The contacts of the export, and the lines that could not be read. The file is
    read a record at a time, each line within ``limits``."""
    with csvin.Records(csvin.Source.of(name, data), limits=limits or csvin.Limits(),
                       windows=True, not_text_hint="Export the contacts as CSV.",
                       empty_hint="export the contacts from Wild Apricot (Contacts → List → "
                                  "Export, CSV).") as records:
        return _contacts(name, records)


def _contacts(name: str, records: csvin.Records) -> tuple[list[Contact], list[Planned]]:
    header = records.header
    email_col = _column(header, "email", "e-mail", "email address")
    org_col = _column(header, "organization", "organisation", "company")
    if email_col is None or org_col is None:
        missing = [n for n, c in (("Email", email_col), ("Organization", org_col)) if not c]
        raise ValidationError(f"{name} is not a Wild Apricot contacts export: no "
                              f"{' or '.join(missing)} column. Export with the default "
                              f"fields, which include them.", {"file": "columns"})
    cols = {k: _column(header, *names) for k, names in {
        "first": ("first name",), "last": ("last name",), "level": ("membership level",),
        "status": ("membership status", "member status"),
        "archived": ("archived",)}.items()}
    contacts: list[Contact] = []
    bad: list[Planned] = []
    seen: dict[str, int] = {}
    for n, fields in records:
        # Each value as much as a contact can use: a line may be 64 KB, and 20,000 of
        # them are kept until the plan is printed.
        row = {h: v[:KEPT] for h, v in zip(header, fields, strict=False)}
        if len(contacts) + len(bad) >= MAX_LINES:
            raise ValidationError(f"{name} has more than {MAX_LINES} lines; split it.",
                                  {"file": "too long"})

        def get(key: str, row: dict[str, str] = row) -> str:
            col = cols.get(key)
            return " ".join((row.get(col) or "").split()) if col else ""

        raw = (row.get(email_col) or "").strip()
        contact = Contact(n, normalise_email(raw) if raw else "",
                          " ".join(filter(None, (get("first"), get("last")))),
                          " ".join((row.get(org_col) or "").split()), get("level"),
                          get("status"))
        if not raw:
            bad.append(Planned(contact, "invalid", reason=_l("no email address")))
        elif why := email_problem(raw):
            bad.append(Planned(contact, "invalid", reason=why))
        elif contact.email in seen:
            bad.append(Planned(contact, "invalid", reason=_l("repeats line %(line)d",
                                                          line=seen[contact.email])))
        elif get("archived").lower() in ("yes", "true", "1"):
            bad.append(Planned(contact, "skipped", reason=_l("archived in Wild Apricot")))
        elif (status := get("status").lower()) in SKIP:
            bad.append(Planned(contact, "skipped", reason=SKIP[status]))
        elif status and status not in ACTIVE:
            bad.append(Planned(contact, "skipped",
                               reason=_l("membership status '%(status)s'",
                                         status=get("status"))))
        elif not status and cols["status"]:
            bad.append(Planned(contact, "skipped", reason=_l("not a member (a contact only)")))
        else:
            seen[contact.email] = n
            contacts.append(contact)
    return contacts, bad


def _candidates(contact: Contact, projects: Sequence[Project]) -> list[str]:
    """The projects a contact's organisation (or membership level) names."""
    texts = [t for t in (_norm(contact.organisation), _norm(contact.level)) if t]
    exact, word, coordinator = [], [], []
    for p in projects:
        acronym, name = _norm(p.acronym), _norm(p.name)
        if any(t in (acronym, name, _norm(p.slug)) for t in texts):
            exact.append(p.slug)
        elif len(acronym) >= 3 and any(re.search(rf"\b{re.escape(acronym)}\b", t)
                                       for t in texts):
            word.append(p.slug)
        elif p.coordinator and _norm(p.coordinator) in texts:
            coordinator.append(p.slug)
    return exact or word or coordinator


def parse_assign(text: str, name: str = "--assign") -> dict[str, str]:
    """``ADDRESS = SLUG`` on each line (or separated by commas) → {address: slug}: the
    contacts an editor puts in a project by hand. ``name`` is what the face calls it."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace(",", "\n").splitlines())):
        email, sep, slug = part.partition("=")
        if not sep or not email.strip() or not slug.strip():
            raise ValidationError(f'{name}: "{part[:200]}" is not ADDRESS = PROJECT, e.g. '
                                  f'"tom@both.example = sall".', {"assign": part[:200]})
        out[email.strip()] = slug.strip().lower()
    return out


def check_assign(rt: Runtime, assign: dict[str, str], assign_name: str = "--assign") -> None:
    """Refuse contacts put in a project that is not a member (or alumnus) of the
    registry, before the file is read."""
    wanted = set(assign.values())
    if not wanted:
        return
    with rt.db.session() as s:
        known = set(s.scalars(select(Project.slug).where(
            Project.status.in_(("member", "alumni")), Project.slug.in_(wanted))))
    _refuse_unknown(wanted - known, assign_name)


def _refuse_unknown(unknown: set[str], assign_name: str) -> None:
    if unknown:
        where = ("`ostogether registry list` shows the slugs." if assign_name.startswith(
            "--") else "Use the short names (slugs) the list of projects gives.")
        listed = ", ".join(sorted(unknown))[:500]
        raise ValidationError(f"{assign_name} names no member project: {listed}. {where}",
                              {"assign": listed})


def plan(rt: Runtime, data: bytes | Path, *, name: str = "the file",
         assign: dict[str, str] | None = None, assign_name: str = "--assign") -> Plan:
    """What importing the export would do; nothing is written. ``assign_name`` is what
    the face calls the contacts put in projects by hand."""
    assign = {normalise_email(k): v for k, v in (assign or {}).items()}
    contacts, bad = read_contacts(data, name, csvin.Limits(
        rt.settings.import_max_line_chars, rt.settings.import_max_fields))
    with rt.db.session() as s:
        projects = list(s.scalars(select(Project).where(
            Project.status.in_(("member", "alumni"))).order_by(Project.slug)))
        accounts = set(s.scalars(select(User.email).where(
            User.email.in_([c.email for c in contacts])))) if contacts else set()
    slugs = {p.slug: p for p in projects}
    _refuse_unknown(set(assign.values()) - set(slugs), assign_name)
    rows = list(bad)
    result = Plan(rows)
    for c in contacts:
        if c.email in accounts:
            rows.append(Planned(c, "existing", reason=_l("already has an account")))
            continue
        found = [assign[c.email]] if c.email in assign else _candidates(c, projects)
        if len(found) == 1:
            rows.append(Planned(c, "matched", found[0],
                                reason=_l("assigned") if c.email in assign else ""))
            project = slugs[found[0]]
            if not project.contact_email and found[0] not in result.contacts:
                result.contacts[found[0]] = c
        elif found:
            rows.append(Planned(c, "ambiguous", candidates=found,
                                reason=_l("could be %(projects)s", projects=", ".join(found))))
        else:
            rows.append(Planned(c, "unmatched", reason=_l("no project is called '%(name)s'",
                                                        name=c.organisation or c.level)))
    rows.sort(key=lambda r: r.contact.line)
    return result


def apply(rt: Runtime, actor: Actor, planned: Plan,
          progress: Callable[[int, int], None] | None = None) -> Plan:
    """Create the matched accounts and mail their invitations, one by one: a failure (an
    account made meanwhile, a mail the server refused) is reported on its line and the
    others go on. ``progress`` is told after each matched contact."""
    total = sum(r.outcome == "matched" for r in planned.rows)
    done = 0
    for row in planned.rows:
        if row.outcome != "matched":
            continue
        try:
            invite(rt, actor, email=row.contact.email, project_slug=row.project,
                   name=row.contact.name)
        except OstogetherError as exc:
            row.result = f"not invited: {exc}"
        else:
            row.result = "invited"
        done += 1
        if progress:
            progress(done, total)
    planned.applied = True
    return planned


def set_contact(rt: Runtime, actor: Actor, slug: str, email: str) -> None:
    """Give a project without a contact address the one an editor confirmed, in the
    registry (the database), audited and marked as an editor's change."""
    email = normalise_email(email)
    if why := email_problem(email):
        raise ValidationError(f"'{email}' is not a valid address: {why}", {"email": why})
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        if project is None:
            raise NotFound(f"There is no project '{slug[:80]}' in the registry.")
        if project.contact_email:
            raise ValidationError(f"{project.acronym} already has a contact address "
                                  f"({project.contact_email}); change it on the project's "
                                  f"page under Editors → Projects.", {"email": "taken"})
        project.contact_email = email
        mark_edited(project, ["contact_email"], actor)
        s.flush()
        record(s, actor, "project.contact_set", project, email=email, source="wild apricot")
