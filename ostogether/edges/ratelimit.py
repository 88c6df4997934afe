"""Rate limits kept in the database, shared by all processes.

Two kinds:

- **a sliding window** (``check`` then ``hit``): sign-ups, applications, reset requests;
  ``check_room`` asks whether several hits still fit (test messages, counted one by one);
- **a throttle with growing delays** (``reserve``): failed logins. A key may fail
  ``free`` times; after that each attempt waits ``base`` seconds after the last
  failure, doubling with every further failure, up to ``cap``. The attempt is recorded
  *before* the password is checked, under a lock, so twenty attempts at once count as
  twenty; a success takes its record back.

Every limit counts a client by ``address_key``: an IPv4 address as it is, an IPv6 address
by its network of ``ratelimit_ipv6_prefix`` bits (a /64 is one household's or one
machine's: its owner may use any of its 2**64 addresses). A limit per mailbox counts the
address by ``mailbox_key``: without its ``+tag`` and whatever its case, since
``victim+1@`` and ``Victim+2@`` reach the same person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from babel.support import LazyProxy
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ostogether.core import clock, words
from ostogether.core.errors import RateLimited
from ostogether.models import RateLimitHit

if TYPE_CHECKING:
    from ostogether.edges.db import Database


def address_key(ip: str, ipv6_prefix: int = 64) -> str:
    """The client a limit counts for a request from ``ip``: the IPv4 address, or the
    IPv6 network of ``ipv6_prefix`` bits around it (an IPv4-mapped address is its IPv4
    address). Text that is not an address is kept as it is, shortened."""
    try:
        addr = ipaddress.ip_address(ip.strip().split("%", 1)[0])  # without a zone id
    except ValueError:
        return ip.strip()[:64] or "unknown"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv4Address):
        return str(addr)
    prefix = min(max(int(ipv6_prefix), 0), 128)
    return str(ipaddress.IPv6Network(f"{addr}/{prefix}", strict=False))


def mailbox_key(email: str) -> str:
    """The mailbox an address reaches, as a hash: lower-cased, without the ``+tag`` of
    its local part (``Kim+news@School.example`` is ``kim@school.example``)."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        local, domain = domain, ""
    base = local.split("+", 1)[0] or local
    return hashlib.sha256(f"{base}@{domain}".encode("utf-8", "surrogatepass")).hexdigest()


# What a limit says when it is reached: English with {minutes} (and the other numbers)
# as str.format fields, or a function of those numbers (keywords) giving the sentence, so
# that it can be a lazy sentence in the visitor's language with a plural for the minutes.
Message = str | Callable[..., Any]


def _said(message: Message, **numbers: int) -> Any:
    if words.is_lazy(message):  # a lazy sentence with the fields: filled when it is shown
        return LazyProxy(lambda: str(message).format(**numbers), enable_cache=False)
    return message(**numbers) if callable(message) else message.format(**numbers)


def count(session: Session, bucket: str, key: str, window: int,
          now: dt.datetime | None = None) -> int:
    since = (now or clock.now()) - dt.timedelta(seconds=window)
    return session.scalar(select(func.count()).select_from(RateLimitHit).where(
        RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at > since)) or 0


def check(session: Session, bucket: str, keys: list[str], limit: int, window: int,
          message: Message, now: dt.datetime | None = None) -> None:
    """Raise RateLimited if any key already has ``limit`` hits within the window."""
    now = now or clock.now()
    for key in keys:
        if count(session, bucket, key, window, now) >= limit:
            oldest = session.scalar(select(func.min(RateLimitHit.at)).where(
                RateLimitHit.bucket == bucket, RateLimitHit.key == key,
                RateLimitHit.at > now - dt.timedelta(seconds=window)))
            wait = window if oldest is None else int(
                (oldest + dt.timedelta(seconds=window) - now).total_seconds()) + 1
            raise RateLimited(_said(message, minutes=max(1, (wait + 59) // 60)), wait)


def check_room(session: Session, bucket: str, key: str, wanted: int, limit: int,
               window: int, message: Message, now: dt.datetime | None = None) -> int:
    """Raise RateLimited unless ``wanted`` more hits fit under ``limit`` within the
    window (a limit that counts things, such as messages, rather than requests). The
    message may use {used}, {limit}, {left} and {minutes}: how long until enough hits
    have left the window. Returns the hits within the window."""
    now = now or clock.now()
    since = now - dt.timedelta(seconds=window)
    times = list(session.scalars(select(RateLimitHit.at).where(
        RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at > since)
        .order_by(RateLimitHit.at)))
    used = len(times)
    if used + wanted <= limit:
        return used
    # The hits that must leave the window first: the oldest, until ``wanted`` fit.
    must_go = min(used, used + wanted - limit)
    freed_at = (times[must_go - 1] if must_go else now) + dt.timedelta(seconds=window)
    wait = max(1, math.ceil((freed_at - now).total_seconds()))
    raise RateLimited(_said(message, used=used, limit=limit, left=max(0, limit - used),
                            minutes=max(1, (wait + 59) // 60)), wait)


@dataclass(frozen=True)
class Throttle:
    key: str
    free: int  # failures allowed before any wait
    base: float  # the first wait, in seconds; it doubles with each further failure
    cap: float  # the longest wait
    lookback: float = 86400  # failures older than this are forgotten


def reserve(db: Database, bucket: str, throttles: list[Throttle],
            message: Message) -> list[int]:
    """Record one attempt for every throttle's key, or raise RateLimited (recording
    nothing) if one of them must still wait. Returns the records' ids for ``release``."""
    now = clock.now()
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            for t in sorted(throttles, key=lambda t: t.key):  # one order: no deadlock
                s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                          {"k": f"{bucket}:{t.key}"})
        # On SQLite the first write takes the database's write lock until the commit.
        rows = [RateLimitHit(bucket=bucket, key=t.key, at=now) for t in throttles]
        s.add_all(rows)
        s.flush()
        mine = [r.id for r in rows]
        for t in throttles:
            since = now - dt.timedelta(seconds=t.lookback)
            failures, last = s.execute(select(func.count(), func.max(RateLimitHit.at)).where(
                RateLimitHit.bucket == bucket, RateLimitHit.key == t.key,
                RateLimitHit.at > since, RateLimitHit.id.not_in(mine))).one()
            if failures >= t.free and last is not None:
                delay = min(t.base * 2 ** (failures - t.free), t.cap)
                wait = math.ceil((last + dt.timedelta(seconds=delay) - now).total_seconds())
                if wait > 0:
                    raise RateLimited(_said(message, minutes=max(1, (wait + 59) // 60),
                                            seconds=wait), wait)
        return mine


def release(db: Database, ids: list[int]) -> None:
    """Take back attempts that turned out well."""
    with db.session() as s:
        s.execute(delete(RateLimitHit).where(RateLimitHit.id.in_(ids)))


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
