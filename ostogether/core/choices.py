"""What a reader chose to receive, and which of an issue's items that gives them. Pure.

A reader chooses topics, item kinds, audiences and the projects they follow (issue 36); an
empty choice everywhere means "everything", which is also every reader's default. The
rule, as the readers' pages explain it:

- an item **matches** when it comes from a followed project or carries a chosen topic
  (with neither chosen, every item does);
- chosen kinds, then chosen audiences, **narrow** that set: the item must be of a chosen
  kind, and be for a chosen audience (an item that names no audience is for everyone);
- items an editor marked "for everyone" go to every reader, whatever they chose.

The issue is composed once; each reader's mail keeps the blocks of the items
``select`` returns and drops the others (``newsletter.rendering``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEPARATOR = ";"  # between values in a CSV cell, as the readers' import and export write them


@dataclass(frozen=True)
class Choices:
    """One reader's choices: vocabulary keys, and projects by slug."""

    topics: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    audiences: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()

    @classmethod
    def of(cls, topics: Iterable[str] = (), kinds: Iterable[str] = (),
           audiences: Iterable[str] = (), projects: Iterable[str] = ()) -> Choices:
        return cls(frozenset(topics or ()), frozenset(kinds or ()), frozenset(audiences or ()),
                   frozenset(projects or ()))

    @property
    def everything(self) -> bool:
        """Nothing chosen: the reader gets every item."""
        return not (self.topics or self.kinds or self.audiences or self.projects)

    def as_dict(self) -> dict[str, list[str]]:
        """Sorted lists, for the consent log, the data download and JSON."""
        return {"topics": sorted(self.topics), "kinds": sorted(self.kinds),
                "audiences": sorted(self.audiences), "projects": sorted(self.projects)}


@dataclass(frozen=True)
class Offer:
    """An item of an issue as the choices see it."""

    id: int
    project: str  # the project's slug
    kind: str
    topics: frozenset[str] = frozenset()
    audiences: frozenset[str] = frozenset()
    for_everyone: bool = False


def matches(offer: Offer, choices: Choices) -> bool:
    """Whether a reader with ``choices`` gets ``offer`` (see the module docstring)."""
    if offer.for_everyone or choices.everything:
        return True
    if (choices.topics or choices.projects) and not (
            offer.project in choices.projects or offer.topics & choices.topics):
        return False
    if choices.kinds and offer.kind not in choices.kinds:
        return False
    return not (choices.audiences and offer.audiences
                and not offer.audiences & choices.audiences)


def select(offers: Iterable[Offer], choices: Choices) -> tuple[int, ...]:
    """The ids of the items a reader gets, in the issue's order."""
    return tuple(o.id for o in offers if matches(o, choices))


def split(cell: str) -> list[str]:
    """A CSV cell of values separated by ``;`` (commas and spaces forgiven), without
    blanks or repeats, in the order written."""
    out: list[str] = []
    for part in cell.replace(",", SEPARATOR).split(SEPARATOR):
        value = part.strip()
        if value and value not in out:
            out.append(value)
    return out


def join(values: Iterable[str]) -> str:
    """The CSV cell for ``values``: sorted, separated by ``;``."""
    return SEPARATOR.join(sorted(values))
