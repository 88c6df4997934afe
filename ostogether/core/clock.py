"""The one clock: every part of the service asks it the time, and nothing else.

Models, mail headers, signed links, jobs, rate limits and the social publishers all read
``now()``. Tests and the tests' fakes install a ``FakeClock`` with ``use()``, so a test
decides what day it is and the machine's date, zone and locale do not matter.

The clock is process-wide on purpose: the service's threads (the web server, the worker,
the sending threads) and the fakes serving them must agree on one time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FakeClock:
    """A clock a test sets and moves. Frozen by default; ``running=True`` lets it advance
    with the machine's monotonic clock from its start, so waits with deadlines still end."""

    def __init__(self, start: dt.datetime, *, running: bool = False,
                 since: float | None = None) -> None:
        """``since``: the monotonic time at which it was ``start`` (default: now). The
        monotonic clock is the machine's, so processes given the same pair share one
        timeline, however late each of them starts."""
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._lock = threading.Lock()
        self._at = start.astimezone(UTC)
        self._running = running
        self._base = time.monotonic() if since is None else since

    def now(self) -> dt.datetime:
        with self._lock:
            if self._running:
                return self._at + dt.timedelta(seconds=time.monotonic() - self._base)
            return self._at

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._at, self._base = when.astimezone(UTC), time.monotonic()

    def advance(self, delta: dt.timedelta | None = None, **parts: float) -> dt.datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)``; the new time."""
        step = delta if delta is not None else dt.timedelta(**parts)
        with self._lock:
            if self._running:
                self._at += dt.timedelta(seconds=time.monotonic() - self._base)
                self._base = time.monotonic()
            self._at += step
            return self._at


_current: Clock = SystemClock()


def now() -> dt.datetime:
    """The current time in UTC, from the installed clock."""
    return _current.now()


def timestamp() -> float:
    """Seconds since the epoch, from the installed clock (for itsdangerous and headers)."""
    return _current.now().timestamp()


def today(zone: str | dt.tzinfo) -> dt.date:
    """Today's date in ``zone`` (a zone name or tzinfo)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return _current.now().astimezone(tz).date()


def local_instant(day: dt.date, at: dt.time, zone: dt.tzinfo) -> dt.datetime | None:
    """The instant (UTC) a clock on the wall in ``zone`` shows ``day`` at ``at``; None when
    it never does (the hour skipped when the clocks go forward). In the hour that comes
    twice (clocks back), the first."""
    wall = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        return None
    return instant


def zone_label(zone: dt.tzinfo, at: dt.datetime) -> str:
    """The zone as people read it at instant ``at``: "Europe/Brussels (CET, UTC+01:00)"."""
    local = at.astimezone(zone)
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{getattr(zone, 'key', str(zone))} ({local.tzname()}, UTC{sign}{hours:02d}:{rest:02d})"


def sleep(seconds: float) -> None:
    """Wait ``seconds`` of real time.

    Not ``time.sleep``: that sleeps with ``clock_nanosleep`` to an absolute deadline, which
    fails with EINVAL under libfaketime (used to run the suite at other dates). A timed
    wait on an event sleeps the same and works there too.
    """
    if seconds > 0:
        threading.Event().wait(seconds)


def current() -> Clock:
    return _current


def install(clock: Clock) -> Clock:
    """Install ``clock`` for the whole process; returns the one it replaced."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    """Install ``clock`` for the length of a ``with`` block."""
    previous = install(clock)
    try:
        yield clock
    finally:
        install(previous)
