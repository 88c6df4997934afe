"""People: individual members of the community, private by default.

A person joins on the Join page (an editor accepts them) or comes with an import (a
member at once). Every field is for editors until the person shows it to members or to
everyone. A person whose account is linked (``Person.user_id``) sees, changes,
downloads and erases their own record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.errors import NotFound, ValidationError
from ostogether.core.inputs import email_problem, normalise_email, one_line_problem
from ostogether.core.languages import shipped
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import ratelimit
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.mail.transactional import editors as editors_of
from ostogether.mail.transactional import send_after_commit
from ostogether.models import Organisation, Person, User, lookup
from ostogether.registry.org_rules import (
    PERSON_DEFAULTS,
    Viewer,
    clean_visibility,
    country_code,
    visible,
)

TEXT_LIMITS = {"name": 200, "role": 200, "interests": 2000}


@dataclass(frozen=True)
class PersonRecord:
    name: str = ""
    email: str = ""
    organisation: str = ""  # an organisation's slug, or ""
    country: str = ""
    role: str = ""
    interests: str = ""
    coc: bool = True


def problems(rec: PersonRecord, *, strict: bool = True) -> dict[str, Any]:
    """Field → what is wrong (a lazy gettext string: the reader's language where it is
    shown); empty when the record may be stored."""
    found: dict[str, Any] = {}
    if not rec.name.strip():
        found["name"] = _l("Give your name.")
    if not rec.email.strip():
        found["email"] = _l("Give your email address.")
    elif why := email_problem(rec.email):
        found["email"] = why
    if rec.country.strip() and not country_code(rec.country):
        found["country"] = _l("'%(country)s' is not a country: give its name or ISO code.",
                                country=rec.country)
    for name, limit in TEXT_LIMITS.items():
        value = getattr(rec, name)
        if len(value) > limit:
            found[name] = _l("At most %(num)d characters.", num=limit)
        elif name != "interests" and (why := one_line_problem(value)):
            found[name] = why
    if strict and not rec.coc:
        found["coc"] = _l("Accept the code of conduct to join.")
    return found


def _organisation_id(s: Session, slug: str) -> int | None:
    if not slug:
        return None
    found = s.scalar(select(Organisation.id).where(Organisation.slug == slug,
                                                   Organisation.status != "rejected"))
    if found is None:
        raise ValidationError(_("There is no organisation '%(slug)s' in the directory.",
                                slug=slug),
                              {"organisation": _("Choose one of the list, or none.")})
    return found


def add(s: Session, actor: Actor, rec: PersonRecord, *, status: str, source: str,
        coc_version: str = "", user_id: int | None = None,
        link_by_email: bool = False) -> Person:
    """A new person, audited (the caller checked it). Linked to ``user_id``'s account, or
    with ``link_by_email`` (an editor's import) to the account of the same address; a
    stranger's form never links itself to someone else's login."""
    email = normalise_email(rec.email)
    account = user_id or (s.scalar(select(User.id).where(User.email == email))
                          if link_by_email else None)
    if account is not None and s.scalar(select(Person.id).where(
            Person.user_id == account)) is not None:
        account = None  # the account already has its person
    person = Person(name=" ".join(rec.name.split()), email=email,
                    organisation_id=_organisation_id(s, rec.organisation),
                    country=country_code(rec.country), role=" ".join(rec.role.split()),
                    interests=rec.interests.strip(), status=status, source=source,
                    coc_version=coc_version, visibility={}, user_id=account)
    s.add(person)
    s.flush()
    record(s, actor, f"person.{'applied' if status == 'applied' else 'added'}", person,
           source=source)
    return person


def link_accounts(s: Session, actor: Actor, organisation_of: dict[str, str]) -> int:
    """An editor's import ties what is known of the same address together: each person
    of these addresses (``organisation_of``: address → an organisation's slug, or "") gets
    the account of their address when neither has its link yet, and the organisation when
    the person has none. Run twice, it changes nothing more. How many it linked."""
    emails = [normalise_email(e) for e in organisation_of if e]
    if not emails:
        return 0
    slugs = {normalise_email(e): slug for e, slug in organisation_of.items()}
    accounts = {u.email: u.id for u in s.scalars(select(User).where(User.email.in_(emails)))}
    taken = set(s.scalars(select(Person.user_id).where(Person.user_id.is_not(None))))
    orgs = {slug: org_id for slug, org_id in s.execute(
        select(Organisation.slug, Organisation.id).where(
            Organisation.slug.in_([v for v in slugs.values() if v]),
            Organisation.status != "rejected"))}
    linked = 0
    for person in s.scalars(select(Person).where(Person.email.in_(emails))
                            .order_by(Person.id)):
        changed = []
        account = accounts.get(person.email)
        if person.user_id is None and account is not None and account not in taken:
            person.user_id = account
            taken.add(account)
            changed.append("account")
        org_id = orgs.get(slugs.get(person.email, ""))
        if person.organisation_id is None and org_id is not None:
            person.organisation_id = org_id
            changed.append("organisation")
        if changed:
            record(s, actor, "person.linked", person, to=changed)
            linked += 1
    return linked


def join(rt: Runtime, rec: PersonRecord, *, ip: str, user: User | None = None,
         language: str = "") -> int:
    """The Join page's door: checked, stored as ``applied`` for an editor, and the person
    told so (in ``language`` where the community gives that mail). Its id back."""
    found = problems(rec)
    if found:
        raise ValidationError(_l("Correct the fields marked and send it again."), found)
    keys = [ratelimit.address_key(ip, rt.settings.ratelimit_ipv6_prefix)]
    with rt.db.session() as s:
        ratelimit.check(s, "apply", keys, rt.settings.application_max_per_hour, 3600,
                        _l("Too many applications from this network; try again in "
                           "{minutes} minutes."))
        ratelimit.hit(s, "apply", keys)
        if s.scalar(select(Person.id).where(Person.email == normalise_email(rec.email),
                                            Person.status != "rejected")) is not None:
            raise ValidationError(_("This address has joined already; log in to see or "
                                    "change your record."), {"email": _("Joined already.")})
        person = add(s, Actor(f"applicant:{normalise_email(rec.email)}"), rec,
                     status="applied", source="application",
                     coc_version=rt.community.code_of_conduct().version,
                     user_id=user.id if user is not None else None)
        person.language = shipped(language) or ""
        organisation = person.organisation.name if person.organisation else ""
        editors = editors_of(s)
    send_after_commit(rt, "person_received", person.email, person=person,
                      organisation=organisation, language=language)
    for editor, editor_language in editors:  # each told in a mail of their own
        send_after_commit(rt, "person_new", editor, language=editor_language,
                          person=person, organisation=organisation)
    return person.id


def decide(rt: Runtime, person_id: int, actor: Actor, *, accept: bool,
           reason: str = "") -> str:
    """An editor accepts (a member) or rejects (with a reason); the person is told
    either way. Their name back."""
    reason = reason.strip()
    if not accept and not reason:
        raise ValidationError(_("Give a reason for the rejection."),
                              {"reason": _("A reason is required to reject.")})
    with rt.db.session() as s:
        person = lookup(s, Person, person_id, _("There is no person %(id)s.", id=person_id))
        transition(s, actor, person, "person", "member" if accept else "rejected",
                   reason=reason)
        name, email, language = person.name, person.email, person.language
    send_after_commit(rt, "person_accepted" if accept else "person_rejected", email,
                      person=person, person_name=name, reason=reason, language=language)
    return name


def waiting(s: Session, status: str = "applied") -> list[Person]:
    return list(s.scalars(select(Person).where(Person.status == status)
                          .order_by(Person.created_at, Person.id)))


def decided(s: Session) -> list[Person]:
    """Everyone an editor has decided on (members, and those not accepted), by name."""
    return list(s.scalars(select(Person).where(Person.status != "applied")
                          .order_by(Person.name, Person.id)))


def view(person: Person, viewer: Viewer) -> dict[str, Any]:
    """What ``viewer`` may see of ``person`` (nothing but what they chose to show)."""
    values = {"name": person.name, "email": person.email,
              "organisation": person.organisation.name if person.organisation else "",
              "country": person.country, "role": person.role,
              "interests": person.interests}
    return {k: v for k, v in visible(values, person.visibility, PERSON_DEFAULTS,
                                     viewer).items() if v}


def public_people(s: Session, organisation_id: int, viewer: Viewer) -> list[dict[str, Any]]:
    """The members of an organisation who let ``viewer`` see their name."""
    rows = s.scalars(select(Person).where(Person.organisation_id == organisation_id,
                                          Person.status == "member").order_by(Person.id))
    return [v for v in (view(p, viewer) for p in rows) if v.get("name")]


# ------------------------------------------------------------------ one's own record

def own(s: Session, user: User) -> Person:
    person = s.scalar(select(Person).where(Person.user_id == user.id))
    if person is None:
        raise NotFound(_("Your account has no member record. Join as a person on the Join "
                         "page, or ask the editors to link it."))
    return person


def update_own(rt: Runtime, user: User, rec: PersonRecord,
               visibility: dict[str, str]) -> None:
    found = problems(rec, strict=False)
    if found:
        raise ValidationError(_l("Correct the fields marked and save again."), found)
    with rt.db.session() as s:
        person = own(s, user)
        person.name = " ".join(rec.name.split())
        person.email = normalise_email(rec.email)
        person.organisation_id = _organisation_id(s, rec.organisation)
        person.country = country_code(rec.country)
        person.role = " ".join(rec.role.split())
        person.interests = rec.interests.strip()
        person.visibility = clean_visibility(visibility, PERSON_DEFAULTS)
        record(s, Actor.of(user), "person.edited", person)


def export_own(rt: Runtime, user: User) -> dict[str, Any]:
    """Everything kept about the person, as JSON (the right of access)."""
    with rt.db.session() as s:
        p = own(s, user)
        return {"name": p.name, "email": p.email,
                "organisation": p.organisation.name if p.organisation else "",
                "country": p.country, "role": p.role, "interests": p.interests,
                "status": p.status, "source": p.source,
                "code_of_conduct_version": p.coc_version,
                "visibility": {k: p.visibility.get(k, d) for k, d in PERSON_DEFAULTS.items()},
                "joined": p.created_at.isoformat(), "changed": p.updated_at.isoformat()}


def erase_own(rt: Runtime, user: User) -> None:
    """The record is deleted; the audit keeps only that a record was erased."""
    with rt.db.session() as s:
        person = own(s, user)
        record(s, Actor.of(user), "person.erased", person)
        s.delete(person)


def erase(rt: Runtime, person_id: int, actor: Actor) -> str:
    """An editor erases someone's record (at their request, or an import's mistake): it
    is deleted, and the audit keeps only who erased which record. Its name back."""
    with rt.db.session() as s:
        person = lookup(s, Person, person_id, f"There is no person {person_id}.")
        name = person.name
        record(s, actor, "person.erased", person)
        s.delete(person)
        return name
