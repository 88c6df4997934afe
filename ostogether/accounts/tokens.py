"""Per-project bearer tokens for the JSON API.

A token is shown once, when it is created; only its SHA-256 is stored, with a short
prefix so that people can tell their tokens apart. Revoked tokens stay listed, for the
audit trail, and never authenticate again.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.core.errors import NotAuthenticated, NotFound, ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import ApiToken, id_or_none
from ostogether.news.items import submitting_project

PREFIX = "ost_"
NAME_MAX = 100


def _hash(secret: str) -> str:
    # Any text a client sends hashes (a lone surrogate too): it is simply no token of ours.
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(rt: Runtime, actor: Actor, project_id: int,
           name: str = "") -> tuple[ApiToken, str]:
    """A new token for the project, and its secret, which is never shown again."""
    name = " ".join(name.split()) or "API token"
    if len(name) > NAME_MAX:
        raise ValidationError(_l("The token name has %(num)d characters; the limit is "
                                 "%(limit)d.", num=len(name), limit=NAME_MAX),
                              {"name": "too long"})
    with rt.db.session() as s:
        project = submitting_project(s, project_id)
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(project_id=project_id, name=name, prefix=secret[:12],
                         secret_hash=_hash(secret), created_by_id=actor.user_id,
                         created_by_label=actor.label, project=project)
        s.add(token)
        s.flush()
        record(s, actor, "api_token.created", token, project=project.slug, name=name)
    return token, secret


def authenticate(s: Session, authorization: str | None) -> ApiToken:
    """The live token named by an ``Authorization: Bearer ...`` header value."""
    if not authorization:
        raise NotAuthenticated(_l("Send your project's token in the header "
                                  "'Authorization: Bearer ost_...'."))
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated(_l("The Authorization header must be 'Bearer ' followed by "
                                  "the token."))
    token = s.scalar(select(ApiToken).where(ApiToken.secret_hash == _hash(secret.strip())))
    if token is None or token.revoked_at is not None:
        raise NotAuthenticated(_l("This token is unknown or has been revoked; ask for a new "
                                  "one on your project's tokens page."))
    submitting_project(s, token.project_id)
    token.last_used_at = clock.now()
    return token


def revoke(rt: Runtime, actor: Actor, token_id: int, *,
           project_id: int | None = None) -> ApiToken:
    """Revoke the token at once (with ``project_id``, only one of that project's)."""
    with rt.db.session() as s:
        token = s.get(ApiToken, token_id) if id_or_none(token_id) else None
        if token is None or (project_id is not None and token.project_id != project_id):
            raise NotFound(_l("There is no token %(id)s.", id=token_id))
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            record(s, actor, "api_token.revoked", token, project=token.project.slug)
        return token


def list_tokens(s: Session, project_id: int | None = None) -> list[ApiToken]:
    stmt = (select(ApiToken).options(selectinload(ApiToken.project))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    if project_id is not None:
        stmt = stmt.where(ApiToken.project_id == project_id)
    return list(s.scalars(stmt))
