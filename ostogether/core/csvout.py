"""Every CSV the service writes, safe to open in a spreadsheet, in any locale.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel, LibreOffice and Google Sheets, so a reader's name or an item's title
could run one on an editor's machine (CSV injection). Following OWASP's advice, such a
text cell is written with a leading apostrophe, which spreadsheets show as text.

Where the list separator is ``;`` (Excel in German, French, Dutch, Spanish, Italian…) a
spreadsheet splits a line at semicolons, and ``Anna;=1+1;x`` written bare would be three
cells, the second a formula. So every text cell is quoted (numbers are left alone, as
numbers), and the apostrophe goes at the start of every piece a spreadsheet could split
a cell into, at a comma, a semicolon, a tab or a line break: ``Anna;'=1+1;x``. A piece
that already starts with apostrophes before a formula character gets one more, so
``unquote`` undoes exactly what ``cell`` did and an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a piece starts: the cell's start, or just after a separator of some locale or a
# line break. (A lookbehind that is not "after anything but a separator".)
_PIECE = "(?<![^,;\t\r\n])"
_PROTECT = re.compile(_PIECE + "(?='*[=+\\-@\t\r])")
_PROTECTED = re.compile(_PIECE + "'(?='*[=+\\-@\t\r])")


def cell(value: Any) -> Any:
    if isinstance(value, str):
        return _PROTECT.sub("'", value)
    return "" if value is None else value


def unquote(value: str) -> str:
    """A cell as it was before ``cell`` protected it."""
    return _PROTECTED.sub("", value)


def to_csv(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None,
           lineterminator: str = "\r\n") -> str:
    out = io.StringIO()
    # QUOTE_NONNUMERIC: every text cell in quotes, so no locale's separator splits it.
    writer = csv.writer(out, lineterminator=lineterminator, quoting=csv.QUOTE_NONNUMERIC)
    if header is not None:
        writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
