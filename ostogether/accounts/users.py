"""Accounts: creation, argon2 password hashing, and rate-limited authentication."""

from __future__ import annotations

import secrets
import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock, signing
from ostogether.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ostogether.core.inputs import ascii_int, email_problem, normalise_email, one_line_problem
from ostogether.core.states import EDITOR_ROLES, ROLES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import ratelimit
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.transactional import send
from ostogether.models import Project, RateLimitHit, User, id_or_none, lookup

MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verifying against this when the address is unknown keeps the timing the same,
# so the login form does not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(rt: Runtime, actor: Actor, *, email: str, role: str, password: str,
                name: str = "", project_slug: str = "") -> User:
    """A new account. A member account belongs to a project (``project_slug``)."""
    with rt.db.session() as s:
        user = _new_user(s, actor, email=email, role=role, password=password, name=name,
                         project_slug=project_slug)
        user.project  # noqa: B018 - loaded for the caller, after the session
        return user


def _new_user(s: Session, actor: Actor, *, email: str, role: str, password: str,
              name: str = "", project_slug: str = "") -> User:
    email = normalise_email(email)
    if why := email_problem(email):
        raise ValidationError(_l("'%(email)s' is not a valid email address: %(why)s",
                                 email=email, why=why),
                              {"email": why})
    if role not in ROLES:
        raise ValidationError(_l("Unknown role '%(role)s': use one of %(roles)s.", role=role,
                                 roles=", ".join(ROLES)),
                              {"role": "unknown role"})
    name = name.strip()
    if why := one_line_problem(name):
        raise ValidationError(_l("The name %(why)s.", why=why), {"name": why})
    if len(password) < MIN_PASSWORD:
        raise ValidationError(_l("The password must have at least %(num)d characters.",
                                 num=MIN_PASSWORD), {"password": "too short"})
    project = None
    if role == "member":
        if not project_slug:
            raise ValidationError(_l("A member account must belong to a project."),
                                  {"project": "required"})
        project = s.scalar(select(Project).where(Project.slug == project_slug))
        if project is None:
            raise ValidationError(_l("There is no project '%(slug)s'.", slug=project_slug),
                                  {"project": "unknown"})
    if s.scalar(select(User).where(func.lower(User.email) == email)):
        raise Conflict(_l("An account for %(email)s already exists.", email=email))
    user = User(email=email, role=role, name=name, password_hash=hash_password(password),
                project_id=project.id if project else None, session_key=new_session_key())
    s.add(user)
    s.flush()
    record(s, actor, "user.created", user, role=role, email=email)
    return user


# ------------------------------------------------------------------------ sessions

def new_session_key() -> str:
    return secrets.token_hex(16)


def user_for_session(rt: Runtime, session_id: str) -> User | None:
    """The active user a session cookie names (``"<id>:<session key>"``), or None when the
    key has changed since: the session was ended."""
    user_id, _, key = session_id.partition(":")
    number = ascii_int(user_id)
    if number is None or not key or id_or_none(number) is None:
        return None
    with rt.db.session() as s:
        user = s.get(User, number)
        if user is None or not user.active or not signing.same(key, user.session_key):
            return None
        _ = user.project
        s.expunge(user)
        return user


def end_sessions(rt: Runtime, actor: Actor, user_id: int, *, why: str = "ended") -> User:
    """End every session of the account, in every browser (logout, or an admin)."""
    with rt.db.session() as s:
        user = lookup(s, User, user_id, _l("There is no account %(id)s.", id=user_id))
        user.session_key = new_session_key()
        record(s, actor, "user.sessions_ended", user, why=why)
        s.flush()
        s.expunge(user)
        return user


def remove(rt: Runtime, actor: Actor, user_id: int) -> User:
    """Close a member's account: it can no longer log in, every session ends, and its
    tokens stop working with it; what it sent stays, with its name. Audited. An editor's
    or admin's account is closed by an admin, never by itself."""
    with rt.db.session() as s:
        user = lookup(s, User, user_id, _l("There is no account %(id)s.", id=user_id))
        if not user.active:
            raise Conflict(_l("The account of %(email)s is closed already.",
                              email=user.email))
        if actor.user_id == user.id:
            raise Conflict(_l("You cannot close your own account; ask another admin."))
        if user.role != "member" and (acting := s.get(User, actor.user_id or 0)) is not None \
                and not acting.is_admin:
            raise PermissionDenied(_l("Only an admin can close an editor's account."))
        user.active = False
        user.session_key = new_session_key()
        record(s, actor, "user.removed", user, email=user.email, role=user.role)
        s.flush()
        s.expunge(user)
        return user


def by_email(s: Session, email: str) -> User:
    user = s.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(_l("There is no account for %(email)s.", email=email))
    return user


def count_editors(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(User).where(
        User.role.in_(EDITOR_ROLES))) or 0


# Worded when it is raised ({seconds}: ``ratelimit.reserve`` fills it in).
LOGIN_MESSAGE = _l("Too many failed logins from here; wait {seconds} seconds and try "
                   "again, or ask for a password link.")
# From one network, across accounts: an office or a school shares one address.
LOGIN_FREE_PER_ADDRESS = 10


def login_throttles(rt: Runtime, email: str, ip: str) -> list[ratelimit.Throttle]:
    """Failed logins slow down per (account, address) and per address, never for an
    account from everywhere: nobody can lock an editor out from their own network."""
    st = rt.settings
    cap = float(st.login_window_seconds)
    client = ratelimit.address_key(ip, st.ratelimit_ipv6_prefix)
    return [ratelimit.Throttle(f"account:{email}|ip:{client}", st.login_max_failures, 30, cap),
            ratelimit.Throttle(f"ip:{client}", st.login_max_failures * LOGIN_FREE_PER_ADDRESS,
                               30, cap)]


def authenticate(rt: Runtime, email: str, password: str, *, ip: str,
                 language: str = "") -> User | None:
    """The active user with these credentials, or None. Raises RateLimited while this
    account must wait from this address, or this address from any account. ``language``
    (the page's) is kept: the service's mails to this person are written in it."""
    email = normalise_email(email)
    throttles = login_throttles(rt, email, ip)
    attempt = ratelimit.reserve(rt.db, "login", throttles, LOGIN_MESSAGE)
    with rt.db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        ok = False
        try:
            ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or not user.active:
            return None  # the attempt stays recorded as a failure
        ratelimit.clear(s, "login", throttles[0].key)  # this account from this client
        s.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(attempt)))
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        if not user.session_key:
            user.session_key = new_session_key()
        user.last_login_at = clock.now()
        if language:
            user.language = language
        record(s, Actor.of(user), "user.login", user, ip=ip)
        return user


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.email)))


# ------------------------------------------------------- invitations and password links
#
# A link carries the user id and the tail of the current password hash, signed with the
# secret key and timed (itsdangerous). Setting a password changes the hash, so each link
# works once, and an older link dies as soon as a newer one is used.

PASSWORD_LINK_SALT = "password-link"


def _serializer(rt: Runtime) -> Any:
    return signing.serializer(secret_key(rt.settings), PASSWORD_LINK_SALT)


def password_link(rt: Runtime, user: User) -> str:
    token = _serializer(rt).dumps({"u": user.id, "h": user.password_hash[-16:]})
    return f"{rt.settings.public_url}/account/password/{token}"


def user_for_link(rt: Runtime, token: str) -> User:
    """The user a password link is for, or ValidationError if expired, used or forged."""
    max_age = rt.settings.invite_max_age_hours * 3600
    try:
        data = _serializer(rt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(_l("This link has expired. Ask the editors for a new "
                                 "invitation, or request a new password link."),
                              {"link": "expired"}) from None
    except BadSignature:
        raise ValidationError(_l("This link is not valid. Copy the whole link from the mail, "
                                 "or request a new one."), {"link": "invalid"}) from None
    with rt.db.session() as s:
        user = s.get(User, data.get("u")) if isinstance(data, dict) else None
        if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
            raise ValidationError(_l("This link has already been used. Log in, or request a "
                                     "new password link."), {"link": "used"})
        _ = user.project
        return user


def set_password(rt: Runtime, token: str, password: str) -> User:
    user = user_for_link(rt, token)
    if len(password) < MIN_PASSWORD:
        raise ValidationError(_l("The password must have at least %(num)d characters.",
                                 num=MIN_PASSWORD),
                              {"password": f"at least {MIN_PASSWORD} characters"})
    with rt.db.session() as s:
        fresh = s.get(User, user.id)
        assert fresh is not None
        fresh.password_hash = hash_password(password)
        fresh.session_key = new_session_key()  # every older session ends
        record(s, Actor.of(fresh), "user.password_set", fresh)
        s.execute(delete(RateLimitHit).where(RateLimitHit.bucket == "login",
                                             RateLimitHit.key.startswith(
                                                 f"account:{fresh.email}|")))
    return fresh


def add_invited(s: Session, actor: Actor, *, email: str, project_slug: str,
                name: str = "") -> User:
    """A member account with no usable password, in the caller's transaction, for a
    mail that carries ``password_link`` to choose one."""
    user = _new_user(s, actor, email=email, role="member", name=name,
                     password=generate_password() + generate_password(),
                     project_slug=project_slug)
    record(s, actor, "user.invited", user, project=project_slug)
    return user


def account_for(s: Session, email: str) -> User | None:
    """The account of this address, whatever its role, or None."""
    return s.scalar(select(User).options(selectinload(User.project)).where(
        func.lower(User.email) == normalise_email(email)))


def invite(rt: Runtime, actor: Actor, *, email: str, project_slug: str, name: str = "",
           inviter: str = "") -> User:
    """Create a member account with no usable password and mail a link to choose one
    (``inviter``: who did, by name; the mail says "the editors" in its language if none)."""
    with rt.db.session() as s:
        user = add_invited(s, actor, email=email, project_slug=project_slug, name=name)
        project = user.project
    # In the language the project applied in (English for one that never said).
    send(rt, "member_invite", user.email, language=project.language if project else "",
         user=user, project=project, inviter=inviter, link=password_link(rt, user),
         hours=rt.settings.invite_max_age_hours)
    return user


# A reset request answers after this long whatever the address, so that the time it
# takes (sending a mail, or not) cannot tell whether an account exists.
RESET_ANSWER_SECONDS = 0.5


def request_password_reset(rt: Runtime, email: str, *, ip: str, language: str = "") -> None:
    """Mail a password link if the address has an active account, in ``language`` (the
    page's where it was asked for). Says nothing either way, and takes the same time
    either way (``RESET_ANSWER_SECONDS``)."""
    started = time.monotonic()
    try:
        email = normalise_email(email)
        keys = [f"ip:{ratelimit.address_key(ip, rt.settings.ratelimit_ipv6_prefix)}",
                f"mailbox:{ratelimit.mailbox_key(email)}"]
        with rt.db.session() as s:
            ratelimit.check(s, "reset", keys, 5, 3600,
                            _l("Too many requests for password links; try again in "
                               "{minutes} minutes."))
            ratelimit.hit(s, "reset", keys)
            user = s.scalar(select(User).where(User.email == email, User.active.is_(True)))
        if user is not None:
            send(rt, "password_reset", user.email, language=language, user=user,
                 link=password_link(rt, user), hours=rt.settings.invite_max_age_hours)
    finally:
        clock.sleep(RESET_ANSWER_SECONDS - (time.monotonic() - started))


def members_of(s: Session, project_id: int | None = None) -> list[User]:
    stmt = (select(User).options(selectinload(User.project))
            .where(User.role == "member").order_by(User.email))
    if project_id is not None:
        stmt = stmt.where(User.project_id == project_id)
    return list(s.scalars(stmt))
