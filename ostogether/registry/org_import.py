"""Organisations and people from Wild Apricot's contacts export, or any CSV with the
same column names (``Organization``, ``Email``, ``First name``, ``Last name``,
``Membership status``, ``Country`` as a name such as "Netherlands", ``City``,
``Website``; optionally ``Type``).

An import is an editor's act: what it creates is a member at once. ``plan`` reads the
file (bounded, ``core/csvin``) and says per line what would happen; ``apply`` does it in
one transaction, so nothing is half-written. An organisation of the file is the one
already in the registry when the name (case, accents and spaces aside) and the country
agree; a doubtful match (the same name in another country, or the same website domain
under another name) is named ("possible duplicate: …") and the organisation is created
anew, for an editor to merge if they are one. A person is known by their address, and
linked to the account of that address (made by ``users import``, before or after) and to
the organisation of their line when they have none. Run twice, an import creates nothing
twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ostogether.core import csvin, words
from ostogether.core.errors import ValidationError
from ostogether.core.inputs import email_problem, normalise_email, url_problem
from ostogether.core.words import _l
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, Person, User
from ostogether.registry import organisations, people
from ostogether.registry.members_import import ACTIVE, SKIP
from ostogether.registry.org_rules import (
    Known,
    OrgRecord,
    country_code,
    domain_of,
    normalise_name,
    possible_duplicates,
)

MAX_LINES = 20_000
KEPT = 400
OUTCOMES = ("new", "existing", "doubtful", "skipped", "invalid")


@dataclass
class Line:
    line: int
    organisation: str = ""
    person: str = ""  # the address
    outcome: str = ""  # new, existing, doubtful, skipped, invalid
    detail: Any = ""  # what, or why: a lazy sentence (English outside a page)
    org_key: str = ""  # which organisation of the plan the line belongs to


@dataclass
class PlannedOrg:
    record: OrgRecord
    line: int
    existing: str = ""  # the slug of the registry's organisation it is
    doubts: list[str] = field(default_factory=list)


@dataclass
class Plan:
    lines: list[Line]
    orgs: dict[str, PlannedOrg]  # key -> the organisation
    people: list[tuple[str, people.PersonRecord, int]]  # org key, record, line
    applied: bool = False
    created: dict[str, int] = field(default_factory=dict)
    # address -> organisation key: every person of the file, for ``people.link_accounts``
    addresses: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        new_orgs = sum(1 for o in self.orgs.values() if not o.existing)
        return {"organisations_new": new_orgs,
                "organisations_existing": len(self.orgs) - new_orgs,
                "doubtful": sum(1 for o in self.orgs.values() if o.doubts),
                "people_new": len(self.people),
                **{k: sum(ln.outcome == k for ln in self.lines)
                   for k in ("skipped", "invalid")}}


def _column(header: list[str], *names: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def _key(name: str, country: str) -> str:
    return f"{normalise_name(name)}|{country}"


def plan(rt: Runtime, data: bytes | Path, *, name: str = "the file") -> Plan:
    """What the import would do, line by line; nothing is written."""
    limits = csvin.Limits(rt.settings.import_max_line_chars, rt.settings.import_max_fields)
    with csvin.Records(csvin.Source.of(name, data), limits=limits, windows=True,
                       not_text_hint="Export the contacts as CSV.",
                       empty_hint="export the contacts from Wild Apricot (Contacts → List → "
                                  "Export, CSV).") as records:
        header = records.header
        cols = {k: _column(header, *names) for k, names in {
            "org": ("organization", "organisation", "company"),
            "email": ("email", "e-mail", "email address"), "first": ("first name",),
            "last": ("last name",), "status": ("membership status", "member status"),
            "country": ("country",), "city": ("city",), "website": ("website", "web site"),
            "type": ("type", "organisation type", "organization type")}.items()}
        if cols["org"] is None and cols["email"] is None:
            raise ValidationError(f"{name} has neither an Organization nor an Email column: "
                                  f"export the contacts from Wild Apricot with the default "
                                  f"fields, or name the columns so. Nothing was imported.",
                                  {"file": "columns"})
        rows: list[tuple[int, dict[str, str]]] = []
        for n, values in records:
            if len(rows) >= MAX_LINES:
                raise ValidationError(f"{name} has more than {MAX_LINES} lines; split it. "
                                      f"Nothing was imported.", {"file": "too long"})
            row = {h: v[:KEPT] for h, v in zip(header, values, strict=False)}
            rows.append((n, {k: " ".join((row.get(c) or "").split()) if c else ""
                             for k, c in cols.items()}))
    with rt.db.session() as s:
        known = organisations.known(s)
        emails = set(s.scalars(select(Person.email)))
        unlinked = set(s.scalars(select(User.email).where(User.id.not_in(select(
            Person.user_id).where(Person.user_id.is_not(None))))))
        by_key = {_key(k.name, k.country): k for k in known}
        by_name_only = {normalise_name(k.name): k for k in known if not k.country}
    types = rt.community.criteria().organisation_types
    result = Plan([], {}, [])
    seen_people: dict[str, int] = {}
    for n, row in rows:
        ln = Line(n, row["org"], normalise_email(row["email"]) if row["email"] else "")
        result.lines.append(ln)
        status = row["status"].lower()
        if status in SKIP or (status and status not in ACTIVE):
            ln.outcome, ln.detail = "skipped", SKIP.get(status) or _l(
                "membership status '%(status)s'", status=row["status"])
            continue
        country = country_code(row["country"])
        why: Any = ""
        if row["country"] and not country:
            why = _l("Country '%(country)s' is not a country's name or code",
                     country=row["country"])
        elif row["website"] and (p := url_problem(_with_scheme(row["website"]))):
            why = _l("Website: %(problem)s", problem=p)
        elif row["type"] and row["type"] not in types:
            why = _l("Type '%(type)s' is not one of %(types)s", type=row["type"],
                     types=", ".join(types))
        elif row["email"] and (p := email_problem(row["email"])):
            why = _l("Email: %(problem)s", problem=p)
        elif not row["org"] and not row["email"]:
            why = _l("no organisation and no email address")
        elif ln.person in seen_people:
            why = _l("the address repeats line %(line)d", line=seen_people[ln.person])
        if why:
            ln.outcome, ln.detail = "invalid", _l("%(file)s: line %(line)d: %(why)s.",
                                                  file=name, line=n, why=why)
            continue
        notes: list[Any] = []
        if row["org"]:
            key = _key(row["org"], country)
            ln.org_key = key
            if key not in result.orgs:
                rec = OrgRecord(name=row["org"], type=row["type"], country=country,
                                city=row["city"],
                                website=_with_scheme(row["website"]) if row["website"]
                                else "")
                planned = PlannedOrg(rec, n)
                match = by_key.get(key) or (by_name_only.get(normalise_name(row["org"]))
                                            if country else None)
                if match is not None:
                    planned.existing = match.slug
                else:
                    planned.doubts = [
                        _l("possible duplicate: %(name)s (%(slug)s), %(why)s", name=k.name,
                           slug=k.slug, why=why_)
                        for k, why_ in possible_duplicates(rec, known)]
                    planned.doubts += [
                        _l("possible duplicate: %(name)s (line %(line)d), same website domain",
                           name=o.record.name, line=o.line) for o in result.orgs.values()
                        if rec.website and domain_of(o.record.website) == domain_of(
                            rec.website)]
                result.orgs[key] = planned
            planned = result.orgs[key]
            ln.outcome = "existing" if planned.existing else (
                "doubtful" if planned.doubts else "new")
            notes = (
                [_l("organisation %(slug)s", slug=planned.existing)] if planned.existing
                else list(planned.doubts) or [_l("new organisation")])
        if ln.person:
            seen_people[ln.person] = n
            result.addresses[ln.person] = ln.org_key
            if ln.person in emails:
                notes.append(_l("person known already"))
                ln.outcome = ln.outcome or "existing"
            else:
                result.people.append((ln.org_key, people.PersonRecord(
                    name=" ".join(filter(None, (row["first"], row["last"]))),
                    email=ln.person, country=country), n))
                notes.append(_l("new person"))
                ln.outcome = ln.outcome if ln.outcome in ("doubtful", "new") else "new"
            if ln.person in unlinked:
                notes.append(_l("linked to the account of this address"))
        ln.detail = words.listed(notes) if notes else ""
    return result


def _with_scheme(url: str) -> str:
    return url if "://" in url else f"https://{url}"


def apply(rt: Runtime, actor: Actor, planned: Plan) -> dict[str, int]:
    """Create the plan's new organisations and people, as members, in one transaction;
    again, what exists by then is left alone."""
    created = {"organisations": 0, "people": 0}
    with rt.db.session() as s:
        slugs: dict[str, str] = {}
        current = {_key(k.name, k.country): k for k in organisations.known(s)}
        for key, o in planned.orgs.items():
            found: Known | None = current.get(key)
            if o.existing or found is not None:
                slugs[key] = o.existing or (found.slug if found else "")
                continue
            org = organisations.add(s, actor, o.record, status="member", source="import")
            slugs[key] = org.slug
            created["organisations"] += 1
        emails = set(s.scalars(select(Person.email)))
        for key, rec, _n in planned.people:
            if rec.email in emails:
                continue
            slug = slugs.get(key, "")
            org_slug = slug if slug and s.scalar(select(Organisation.id).where(
                Organisation.slug == slug)) else ""
            people.add(s, actor, people.PersonRecord(
                name=rec.name, email=rec.email, organisation=org_slug,
                country=rec.country), status="member", source="import", link_by_email=True)
            emails.add(rec.email)
            created["people"] += 1
        # People and accounts of the same address, whichever came first (an account from
        # `users import`, a person from an earlier import): tied together, with the
        # organisation of the line when the person has none.
        created["linked"] = people.link_accounts(s, actor, {
            email: slugs.get(key, "") for email, key in planned.addresses.items()})
    planned.applied, planned.created = True, created
    return created
