"""Which readers an announcement reaches: the segment rule (issue 36). Pure.

A segment names any of four dimensions: topics, audiences, languages and countries (the
country of the reader's organisation, where it is known). A reader is in the segment
when every dimension it names matches:

- **languages**: the reader's language is one of them;
- **countries**: the reader's country is one of them; a reader whose country is not
  known is *not* in a segment that names countries;
- **topics**: the reader chose one of them, *or chose no topic at all* (a reader who
  chose nothing takes every topic);
- **audiences**: the same, with the audiences.

A segment that names nothing is every confirmed reader. ``readers.segments`` asks the
database the same question; a test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DIMENSIONS = ("topics", "audiences", "languages", "countries")


@dataclass(frozen=True)
class Segment:
    """What an announcement is sent to; an empty dimension does not narrow."""

    topics: frozenset[str] = frozenset()
    audiences: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    @classmethod
    def of(cls, topics: Iterable[str] = (), audiences: Iterable[str] = (),
           languages: Iterable[str] = (), countries: Iterable[str] = ()) -> Segment:
        return cls(frozenset(topics or ()), frozenset(audiences or ()),
                   frozenset(languages or ()), frozenset(c.upper() for c in countries or ()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Segment:
        """The segment stored with an announcement (``Issue.segment``); unknown keys and
        values that are not lists are ignored."""
        data = data or {}

        def values(name: str) -> list[str]:
            v = data.get(name)
            return [str(x) for x in v if isinstance(x, str) and x] if isinstance(
                v, list) else []
        return cls.of(*(values(name) for name in DIMENSIONS))

    def as_dict(self) -> dict[str, list[str]]:
        """Sorted lists of the dimensions it names, for the database and the audit log."""
        return {name: sorted(getattr(self, name)) for name in DIMENSIONS
                if getattr(self, name)}

    @property
    def everyone(self) -> bool:
        """Names nothing: every confirmed reader."""
        return not (self.topics or self.audiences or self.languages or self.countries)


@dataclass(frozen=True)
class Reader:
    """A confirmed reader as the segment sees them."""

    language: str
    country: str = ""  # "" when their organisation's country is not known
    topics: frozenset[str] = frozenset()
    audiences: frozenset[str] = frozenset()


def reaches(segment: Segment, reader: Reader) -> bool:
    """Whether ``reader`` is in ``segment`` (see the module docstring)."""
    if segment.languages and reader.language not in segment.languages:
        return False
    if segment.countries and (not reader.country
                              or reader.country.upper() not in segment.countries):
        return False
    if segment.topics and reader.topics and not reader.topics & segment.topics:
        return False
    return not (segment.audiences and reader.audiences
                and not reader.audiences & segment.audiences)


def chose(dimension: str, segment: Segment, reader: Reader) -> bool:
    """For a reader in the segment: whether they are in it by having chosen one of its
    ``topics`` or ``audiences`` (True), or by taking every one (False)."""
    return bool(getattr(segment, dimension) and getattr(reader, dimension))
