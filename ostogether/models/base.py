"""The models' foundation: the declarative base with its naming convention, the UTC
datetime type, and the one lookup by id. Datetimes are stored as UTC and always come back
timezone-aware, on SQLite too."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from ostogether.core.errors import NotFound

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Primary keys are INTEGER: 32 bits on PostgreSQL. A larger number from a URL cannot be a
# row, and asking the database for it would be an error rather than "not found".
MAX_ID = 2**31 - 1
_Row = TypeVar("_Row")


def id_or_none(value: int) -> int | None:
    return value if 0 < value <= MAX_ID else None


def lookup(s: Any, model: type[_Row], row_id: int, missing: str,
           options: Any = None) -> _Row:
    """The row of ``model`` with ``row_id``, or ``NotFound(missing)``. The one lookup by id
    of every service: an id no row can have (zero, negative, too large) is "not found"
    too, never an error of the database."""
    row = s.get(model, row_id, options=options) if id_or_none(row_id) else None
    if row is None:
        raise NotFound(missing)
    return row


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC; refuses naive input, which is always a bug."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


