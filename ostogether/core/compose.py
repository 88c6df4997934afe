"""Composition: which approved items go into the next newsletter issue, where and in
what order. Pure: data in, data out; ``newsletter`` does the database around it.

The rules, all read from content/newsletter.toml:

* An item goes into the first section that takes its kind. The editorial takes none:
  it is the editor's own text.
* Events that end before the issue goes out stay out; the others go into "Events",
  soonest first.
* A section holds at most ``max_items``, and one project at most
  ``max_items_per_project`` in the whole issue.
* A section with ``library = true`` takes no items but outputs of the results library:
  at most ``max_items`` approved outputs that no sent issue featured, a fair share across
  projects (``pick_outputs``: round-robin by project, the oldest approved first within one).
* Weight: an item's place in its section's ordering, at the granularity of a day (the
  event date, or the approval date). Among items of equal weight, the projects featured
  least in the last ``lookback_issues`` sent issues come first, then those featured
  longest ago, then the oldest item id. Every key is total, so the same input always
  gives the same issue.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ORDERINGS = ("date", "newest", "oldest")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    kinds: tuple[str, ...] = ()
    ordering: str = "newest"
    max_items: int = 5
    editorial: bool = False
    library: bool = False
    # Takes no items but the organisations and projects accepted since the last issue.
    newcomers: bool = False


@dataclass(frozen=True)
class Rules:
    """content/newsletter.toml, checked."""

    sections: tuple[Section, ...]
    max_items_per_project: int = 2
    lookback_issues: int = 3
    first_number: int = 1
    credits: dict[str, str] = field(default_factory=dict)

    # content/newsletter.toml's [languages.<code>]: the fixed texts per language (English
    # complete, the others falling back to it key by key), section titles and credits.
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)
    titles: dict[str, dict[str, str]] = field(default_factory=dict)
    credits_in: dict[str, dict[str, str]] = field(default_factory=dict)
    base_language: str = "en"

    def text(self, language: str) -> dict[str, Any]:
        """The fixed texts in ``language``, each missing one in the base language."""
        return {**self.texts.get(self.base_language, {}), **self.texts.get(language, {})}

    def title(self, section: Section, language: str) -> str:
        return self.titles.get(language, {}).get(section.key, section.title)

    def credits_for(self, language: str) -> dict[str, str]:
        return {**self.credits, **self.credits_in.get(language, {})}

    def section_for(self, kind: str) -> Section | None:
        return next((s for s in self.sections if kind in s.kinds), None)

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def library_section(self) -> Section | None:
        return next((s for s in self.sections if s.library), None)


@dataclass(frozen=True)
class Candidate:
    """What composing needs to know about an approved item."""

    id: int
    project_id: int
    kind: str
    approved_on: dt.date
    event_start: dt.datetime | None = None
    event_end: dt.datetime | None = None


@dataclass(frozen=True)
class Placed:
    section: str
    item_ids: tuple[int, ...]


@dataclass(frozen=True)
class Composition:
    sections: tuple[Placed, ...]
    # (item id, why it was left out), for the editor: nothing disappears silently.
    left_out: tuple[tuple[int, str], ...]

    @property
    def item_ids(self) -> list[int]:
        return [i for p in self.sections for i in p.item_ids]


def fairness(recent: Sequence[frozenset[int]]) -> dict[int, tuple[int, int]]:
    """Per project: (issues featuring it among ``recent``, minus how long ago the last).

    ``recent`` lists the project ids of each of the last sent issues, the latest first.
    Projects absent from the map were not featured and sort before all others.
    """
    score: dict[int, tuple[int, int]] = {}
    counts = Counter(p for issue in recent for p in issue)
    for age, issue in reversed(list(enumerate(recent))):  # the latest feature wins
        for project in issue:
            score[project] = (counts[project], -age)
    return score


def _weight(c: Candidate, ordering: str) -> int:
    if ordering == "date" and c.event_start is not None:
        return c.event_start.date().toordinal()
    day = c.approved_on.toordinal()
    return -day if ordering == "newest" else day


def is_past_event(c: Candidate, send_at: dt.datetime) -> bool:
    if c.kind != "event" or c.event_start is None:
        return False
    return (c.event_end or c.event_start) < send_at


def compose(candidates: Sequence[Candidate], rules: Rules, send_at: dt.datetime,
            recent: Sequence[frozenset[int]] = ()) -> Composition:
    score = fairness(recent)
    never = (0, 0)
    by_section: dict[str, list[Candidate]] = {s.key: [] for s in rules.sections}
    left_out: list[tuple[int, str]] = []
    for c in sorted(set(candidates), key=lambda c: c.id):
        section = rules.section_for(c.kind)
        if section is None:
            left_out.append((c.id, f"no section takes the kind '{c.kind}'"))
        elif is_past_event(c, send_at):
            left_out.append((c.id, "the event is over before the issue goes out"))
        else:
            by_section[section.key].append(c)

    per_project: Counter[int] = Counter()
    placed: list[Placed] = []
    for section in rules.sections:
        chosen: list[int] = []
        ranked = sorted(by_section[section.key], key=lambda c: (
            _weight(c, section.ordering), score.get(c.project_id, never), c.id))
        for c in ranked:
            if len(chosen) >= section.max_items:
                left_out.append((c.id, f"'{section.title}' is full "
                                       f"({section.max_items} items)"))
            elif per_project[c.project_id] >= rules.max_items_per_project:
                left_out.append((c.id, f"its project already has "
                                       f"{rules.max_items_per_project} items in this issue"))
            else:
                chosen.append(c.id)
                per_project[c.project_id] += 1
        if chosen:
            placed.append(Placed(section.key, tuple(chosen)))
    return Composition(tuple(placed), tuple(sorted(left_out)))


@dataclass(frozen=True)
class OutputCandidate:
    """What choosing needs to know about an approved output of the results library: its
    first project (the lowest id of those that made it) stands for it in the fair share."""

    id: int
    project_id: int
    approved_on: dt.date


def pick_outputs(candidates: Sequence[OutputCandidate], count: int) -> tuple[int, ...]:
    """At most ``count`` outputs, a fair share across projects: one per project in turn
    (projects in the order of their oldest output), the oldest approved first within a
    project. Total keys: the same input always gives the same choice."""
    queues: dict[int, list[OutputCandidate]] = {}
    for c in sorted(set(candidates), key=lambda c: (c.approved_on, c.id)):
        queues.setdefault(c.project_id, []).append(c)
    chosen: list[int] = []
    while len(chosen) < count and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0).id)
    return tuple(chosen)
