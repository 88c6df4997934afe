"""Accounts: creation, argon2 password hashing, and rate-limited authentication."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ostogether import ratelimit
from ostogether.audit import Actor, record
from ostogether.errors import Conflict, ValidationError
from ostogether.models import Project, User, utcnow
from ostogether.registry import email_problem
from ostogether.runtime import Runtime

ROLES = ("admin", "editor", "member")
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verifying against this when the address is unknown keeps the timing the same,
# so the login form does not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(s: Session, actor: Actor, *, email: str, role: str, password: str,
                name: str = "", project_slug: str = "") -> User:
    email = normalise_email(email)
    if why := email_problem(email):
        raise ValidationError(f"'{email}' is not a valid email address: {why}",
                              {"email": why})
    if role not in ROLES:
        raise ValidationError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.",
                              {"role": "unknown role"})
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"The password must have at least {MIN_PASSWORD} characters.",
                              {"password": "too short"})
    project = None
    if role == "member":
        if not project_slug:
            raise ValidationError("A member account belongs to a project: give --project.",
                                  {"project": "required"})
        project = s.scalar(select(Project).where(Project.slug == project_slug))
        if project is None:
            raise ValidationError(f"There is no project '{project_slug}'.",
                                  {"project": "unknown"})
    if s.scalar(select(User).where(func.lower(User.email) == email)):
        raise Conflict(f"An account for {email} already exists.")
    user = User(email=email, role=role, name=name, password_hash=hash_password(password),
                project_id=project.id if project else None)
    s.add(user)
    s.flush()
    record(s, actor, "user.created", user, role=role, email=email)
    return user


def count_editors(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(User).where(
        User.role.in_(("editor", "admin")))) or 0


LOGIN_MESSAGE = "Too many failed logins; wait {minutes} minutes and try again."


def authenticate(rt: Runtime, email: str, password: str, *, ip: str) -> User | None:
    """The active user with these credentials, or None. Raises RateLimited when locked.

    Failures count per address and per IP within the window; a success clears the
    address's count.
    """
    email = normalise_email(email)
    st = rt.settings
    keys = [f"email:{email}", f"ip:{ip}"]
    with rt.db.session() as s:
        ratelimit.check(s, "login", keys, st.login_max_failures, st.login_window_seconds,
                        LOGIN_MESSAGE)
        user = s.scalar(select(User).where(User.email == email))
        ok = False
        try:
            ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None or not user.active:
            ratelimit.hit(s, "login", keys)
            return None
        ratelimit.clear(s, "login", f"email:{email}")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        record(s, Actor.of(user), "user.login", user, ip=ip)
        return user


def list_users(s: Session) -> list[User]:
    return list(s.scalars(select(User).order_by(User.email)))
