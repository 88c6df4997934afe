"""Every CSV the service writes, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets, so a reader's name or an item's title
could run one on an editor's machine (CSV injection). Following OWASP's advice, such a
text cell is written with a leading apostrophe, which spreadsheets show as text.
Numbers are left alone. ``unquote`` undoes it, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def unquote(value: str) -> str:
    """A cell as it was before ``cell`` protected it."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def to_csv(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None,
           lineterminator: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    if header is not None:
        writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
