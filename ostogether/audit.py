"""The audit log and guarded state changes.

``transition`` is the only way a stateful object changes state: it checks the move
against ``ostogether.states`` and writes the audit row in the same transaction, so a
state change without its audit row cannot be committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether import states
from ostogether.errors import Conflict
from ostogether.models import AuditEntry, User


@dataclass(frozen=True)
class Actor:
    """Who acts: a logged-in user, or a named system part (cli, content-import, worker)."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(label=f"{user.role}:{user.email}", user_id=user.id)


SYSTEM = Actor("system")  # the worker
CLI = Actor("cli")  # whoever runs the ostogether command


def record(session: Session, actor: Actor, action: str, obj: Any,
           **detail: Any) -> AuditEntry:
    entry = AuditEntry(actor=actor.label, user_id=actor.user_id, action=action,
                       object_type=type(obj).__tablename__, object_id=str(obj.id),
                       detail=detail)
    session.add(entry)
    return entry


def transition(session: Session, actor: Actor, obj: Any, machine: str, target: str,
               **detail: Any) -> None:
    current = obj.status
    if not states.allowed(machine, current, target):
        raise Conflict(f"This {machine.replace('_', ' ')} is {current}; "
                       f"it cannot become {target}.")
    obj.status = target
    session.flush()
    record(session, actor, f"{machine}.{target}", obj, **{"from": current, **detail})


def history(session: Session, obj: Any) -> list[AuditEntry]:
    """Every audit row about ``obj``, oldest first."""
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == type(obj).__tablename__,
        AuditEntry.object_id == str(obj.id)).order_by(AuditEntry.at, AuditEntry.id)))


def recent(session: Session, limit: int = 15) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(
        AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
