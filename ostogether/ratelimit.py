"""A sliding-window rate limit kept in the database, shared by all processes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ostogether import clock
from ostogether.errors import RateLimited
from ostogether.models import RateLimitHit


def count(session: Session, bucket: str, key: str, window: int,
          now: dt.datetime | None = None) -> int:
    since = (now or clock.now()) - dt.timedelta(seconds=window)
    return session.scalar(select(func.count()).select_from(RateLimitHit).where(
        RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at > since)) or 0


def check(session: Session, bucket: str, keys: list[str], limit: int, window: int,
          message: str, now: dt.datetime | None = None) -> None:
    """Raise RateLimited if any key already has ``limit`` hits within the window."""
    now = now or clock.now()
    for key in keys:
        if count(session, bucket, key, window, now) >= limit:
            oldest = session.scalar(select(func.min(RateLimitHit.at)).where(
                RateLimitHit.bucket == bucket, RateLimitHit.key == key,
                RateLimitHit.at > now - dt.timedelta(seconds=window)))
            wait = window if oldest is None else int(
                (oldest + dt.timedelta(seconds=window) - now).total_seconds()) + 1
            raise RateLimited(message.format(minutes=max(1, (wait + 59) // 60)), wait)


def hit(session: Session, bucket: str, keys: list[str], now: dt.datetime | None = None) -> None:
    for key in keys:
        session.add(RateLimitHit(bucket=bucket, key=key, at=now or clock.now()))


def clear(session: Session, bucket: str, key: str) -> None:
    session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket,
                                               RateLimitHit.key == key))


def prune(session: Session, older_than: int = 86400) -> int:
    cutoff = clock.now() - dt.timedelta(seconds=older_than)
    result = session.execute(delete(RateLimitHit).where(RateLimitHit.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
