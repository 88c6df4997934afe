"""The readers a segment reaches, asked of the database (issue 36).

``core.segments`` states the rule; ``where`` is the same rule as SQL conditions on
``subscribers``, so that counting a segment of 100,000 readers and freezing the recipients
of an announcement (``newsletter.delivery.start``) are single queries. The readers'
choices are JSON lists of vocabulary keys (lower-case letters, digits and hyphens), stored
as text the way SQLAlchemy writes them (``["a", "b"]``, ``[]``), on SQLite as on
PostgreSQL: "chose topic k" is the text holding ``"k"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, case, cast, false, func, or_, select
from sqlalchemy.orm import Session

from ostogether.core.segments import Segment
from ostogether.models import Subscriber

# What a reader who chose nothing has in the column (SQL NULL is taken the same way).
_NOTHING = ("[]", "null", "")


def _like(key: str) -> str:
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{escaped}"%'


def _none_chosen(column: Any) -> Any:
    text = cast(column, String)
    return or_(column.is_(None), text.in_(_NOTHING))


def _chose_one(column: Any, keys: frozenset[str]) -> Any:
    text = cast(column, String)
    return or_(*[text.like(_like(k), escape="\\") for k in sorted(keys)]) if keys else false()


def where(segment: Segment, *, countries: bool = True) -> list[Any]:
    """The conditions on ``Subscriber`` of readers in ``segment`` (without the reader's
    status: the caller asks for confirmed readers). ``countries=False`` leaves the
    countries out (to count the readers a country segment misses)."""
    out: list[Any] = []
    if segment.languages:
        out.append(Subscriber.language.in_(sorted(segment.languages)))
    if countries and segment.countries:
        out.append(func.upper(Subscriber.country).in_(sorted(segment.countries)))
    for name in ("topics", "audiences"):
        keys: frozenset[str] = getattr(segment, name)
        if keys:
            column = getattr(Subscriber, name)
            out.append(or_(_none_chosen(column), _chose_one(column, keys)))
    return out


@dataclass(frozen=True)
class Reach:
    """How many confirmed readers a segment reaches, and how."""

    total: int = 0
    by_language: dict[str, int] = field(default_factory=dict)
    chose_topic: int = 0  # of ``total``: chose one of the segment's topics
    every_topic: int = 0  # of ``total``: chose no topic, so take every one
    chose_audience: int = 0
    every_audience: int = 0
    unknown_country: int = 0  # readers left out only because their country is not known


def reach(s: Session, segment: Segment) -> Reach:
    """Count the confirmed readers in ``segment``, by language, with the breakdown the
    editor sees before sending."""
    confirmed = Subscriber.status == "confirmed"
    topics_none = _none_chosen(Subscriber.topics)
    audiences_none = _none_chosen(Subscriber.audiences)
    rows = s.execute(
        select(Subscriber.language, func.count(),
               func.sum(case((topics_none, 1), else_=0)),
               func.sum(case((audiences_none, 1), else_=0)))
        .where(confirmed, *where(segment)).group_by(Subscriber.language)).all()
    by_language = {str(lang or ""): int(n) for lang, n, _, _ in rows}
    total = sum(by_language.values())
    every_topic = sum(int(t or 0) for _, _, t, _ in rows)
    every_audience = sum(int(a or 0) for _, _, _, a in rows)
    unknown = 0
    if segment.countries:
        unknown = s.scalar(select(func.count()).select_from(Subscriber).where(
            confirmed, Subscriber.country == "", *where(segment, countries=False))) or 0
    return Reach(total=total, by_language=dict(sorted(by_language.items())),
                 chose_topic=total - every_topic if segment.topics else 0,
                 every_topic=every_topic if segment.topics else 0,
                 chose_audience=total - every_audience if segment.audiences else 0,
                 every_audience=every_audience if segment.audiences else 0,
                 unknown_country=int(unknown))


def countries(s: Session) -> list[str]:
    """The countries confirmed readers are known to be in, for the editor to choose."""
    return sorted(c for c in s.scalars(select(Subscriber.country).where(
        Subscriber.status == "confirmed", Subscriber.country != "").distinct()) if c)


def describe(segment: Segment, vocabulary: Any) -> str:
    """The segment in words, with the vocabulary's labels (``edges.topics``)."""
    if segment.everyone:
        return "every confirmed reader"
    parts = []
    for name in ("topics", "audiences"):
        keys = sorted(getattr(segment, name))
        if keys:
            parts.append(f"{name} " + ", ".join(vocabulary.label(name, k) for k in keys)
                         + " (or none chosen)")
    if segment.languages:
        parts.append("languages " + ", ".join(sorted(segment.languages)))
    if segment.countries:
        parts.append("countries " + ", ".join(sorted(segment.countries)))
    return "; ".join(parts)


def recipients_where(kind: str, segment: dict[str, Any] | None) -> list[Any]:
    """The conditions a send adds to "confirmed": an announcement's segment (an issue
    goes to everyone)."""
    return where(Segment.from_dict(segment)) if kind == "announcement" else []
