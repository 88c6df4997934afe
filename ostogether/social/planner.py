"""Which content goes into which weekly slot. Pure: no I/O.

``plan`` walks the week's slots in time order. Each slot takes, in this order:

1. an approved news item flagged for social, of one of the slot's kinds, that is not yet
   posted (or planned) on the slot's networks. An event only goes into a slot before it
   starts. Among several, the project featured least in recent posts goes first (the
   newsletter's fair share), then the slot's preferred kind, then the nearest event,
   then the longest waiting;
2. otherwise an entry of the evergreen library of one of the slot's kinds that was not
   posted within ``repeat_weeks``, the longest unposted first; the community's own
   entries before the ``fallback`` ones (the results library's outputs).

A slot whose networks are all taken already is left as it is, so planning a week twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ostogether.core.states import KIND_LABELS
from ostogether.core.words import _nl
from ostogether.edges.wording import joined

FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Slot:
    at: dt.datetime  # UTC
    networks: tuple[str, ...]  # the networks of the slot still open
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class Content:
    """A news item (``key`` "item:<id>") or an evergreen entry ("evergreen:<key>")."""

    key: str
    kind: str
    project_id: int | None = None
    # Networks where an item is already posted, planned or skipped on purpose.
    done: frozenset[str] = frozenset()
    # Networks an evergreen entry is limited to (empty: all).
    only: frozenset[str] = frozenset()
    event_start: dt.datetime | None = None
    waiting_since: dt.datetime | None = None  # approval time of an item
    last_posted: dt.datetime | None = None  # an evergreen entry's latest slot
    fallback: bool = False  # an output of the results library: after the others

    @property
    def is_item(self) -> bool:
        return self.key.startswith("item:")


@dataclass(frozen=True)
class Placement:
    slot: Slot
    content: Content
    networks: tuple[str, ...]


@dataclass
class Plan:
    placed: list[Placement] = field(default_factory=list)
    # Each empty slot with why: a sentence in the reader's language when shown.
    unfilled: list[tuple[Slot, Any]] = field(default_factory=list)


def _networks(slot: Slot, c: Content) -> tuple[str, ...]:
    return tuple(n for n in slot.networks
                 if n not in c.done and (not c.only or n in c.only))


def plan(slots: Sequence[Slot], contents: Iterable[Content], *, repeat_weeks: int,
         recent: Counter[int] | None = None) -> Plan:
    """Fill ``slots``. ``recent`` counts each project's posts in the last weeks."""
    counts: Counter[int] = Counter(recent or {})
    pool = list(contents)
    items = [c for c in pool if c.is_item]
    evergreen = [c for c in pool if not c.is_item]
    used: set[str] = set()
    # An evergreen entry placed now counts as posted at that time for later slots.
    last: dict[str, dt.datetime | None] = {c.key: c.last_posted for c in evergreen}
    result = Plan()
    for slot in sorted(slots, key=lambda s: s.at):
        if not slot.networks:
            continue

        def item_key(c: Content, slot: Slot = slot) -> tuple[object, ...]:
            return (counts[c.project_id] if c.project_id is not None else 0,
                    slot.kinds.index(c.kind), c.event_start or FAR,
                    c.waiting_since or FAR, c.key)

        fitting = [c for c in items if c.key not in used and c.kind in slot.kinds
                   and _networks(slot, c)
                   and (c.kind != "event" or (c.event_start is not None
                                              and slot.at < c.event_start))]
        chosen: Content | None = min(fitting, key=item_key) if fitting else None
        if chosen is None:
            gap = dt.timedelta(weeks=repeat_weeks)
            rested = [c for c in evergreen if c.kind in slot.kinds and _networks(slot, c)
                      and (last[c.key] is None or last[c.key] <= slot.at - gap)]  # type: ignore[operator]
            if rested:
                chosen = min(rested, key=lambda c: (
                    c.fallback, last[c.key] is not None, last[c.key] or FAR,
                    counts[c.project_id] if c.project_id is not None else 0,
                    slot.kinds.index(c.kind), c.key))
        if chosen is None:
            result.unfilled.append((slot, _nl(
                "nothing of the kinds %(kinds)s is waiting, and every evergreen entry of "
                "those kinds was posted within %(num)d weeks",
                "nothing of the kinds %(kinds)s is waiting, and every evergreen entry of "
                "those kinds was posted within %(num)d weeks", repeat_weeks,
                kinds=joined(", ", [KIND_LABELS.get(k, k) for k in slot.kinds]))))
            continue
        result.placed.append(Placement(slot, chosen, _networks(slot, chosen)))
        if chosen.is_item:
            used.add(chosen.key)
        else:
            last[chosen.key] = slot.at
        if chosen.project_id is not None:
            counts[chosen.project_id] += 1
    return result
