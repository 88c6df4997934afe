"""The CSV files people bring to the imports (readers, member contacts): read in bounded
memory, named in every message. ``csvout`` is the other direction. Pure but for reading
the files it is handed.

A file is never held whole. It is read twice, in chunks: once to learn its encoding
(UTF-8, or Excel's Windows code page where that is allowed), that it is not empty, and
that no line is longer than the limit; then record by record. A line (a record, which
may span lines inside quotes) longer than ``Limits.line_chars`` characters, or with more
than ``Limits.fields`` fields, is refused with the file's name and the line's number.
So a zip of 185 KB that unpacks to one line of 190 MB of commas costs a few megabytes
and one sentence, not gigabytes: the memory an import uses depends on the limits, not
on the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ostogether.core.errors import ValidationError
from ostogether.core.words import _l

CHUNK = 1 << 20  # bytes read at a time
_BREAK = re.compile("\r\n|\r|\n")


@dataclass(frozen=True)
class Limits:
    """How much of one line an import reads (``import_max_line_chars`` and
    ``import_max_fields`` in the settings)."""

    line_chars: int = 65536
    fields: int = 200


@dataclass(frozen=True)
class Source:
    """A file to read: its name for messages, and how to open it (again) as bytes."""

    name: str
    open: Callable[[], IO[bytes]]

    @classmethod
    def of(cls, name: str, data: bytes | Path) -> Source:
        if isinstance(data, Path):
            path = data
            return cls(name, lambda: path.open("rb"))
        return cls(name, lambda: io.BytesIO(data))


def _too_long(name: str, line: int, limits: Limits) -> ValidationError:
    return ValidationError(_l(
        "%(file)s: line %(line)d is longer than %(limit)d characters, so the file was not "
        "read (is it a CSV export? a quote that is never closed makes the rest of the file "
        "one line). Nothing was imported.", file=name, line=line, limit=limits.line_chars),
        {"file": "line too long"})


def encoding_of(source: Source, *, limits: Limits, empty_hint: str, not_text_hint: str,
                windows: bool = False) -> str:
    """The file's encoding: UTF-8 (with or without a BOM), or with ``windows`` also
    Excel's Windows code page; ValidationError naming the file when it is not text, is
    empty, or has a line longer than the limit. Reads the file once, a chunk at a time."""
    name = source.name
    for encoding in ("utf-8-sig", "cp1252") if windows else ("utf-8-sig",):
        decoder = codecs.getincrementaldecoder(encoding)()
        blank, line, length, offset = True, 1, 0, 0
        try:
            with source.open() as f:
                while chunk := f.read(CHUNK):
                    text = decoder.decode(chunk)
                    offset += len(chunk)
                    blank = blank and not text.strip()
                    start = 0
                    for end in _BREAK.finditer(text):
                        if length + end.start() - start > limits.line_chars:
                            raise _too_long(name, line, limits)
                        line, length, start = line + 1, 0, end.end()
                    length += len(text) - start
                    if length > limits.line_chars:
                        raise _too_long(name, line, limits)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            if windows and encoding == "utf-8-sig":
                continue  # Excel's "CSV" on Windows
            if windows:
                raise ValidationError(_l("%(file)s is not text. %(hint)s", file=name,
                                         hint=not_text_hint), {"file": "encoding"}) from None
            at = max(0, offset - len(chunk) + exc.start)
            raise ValidationError(_l("%(file)s is not UTF-8 text (byte %(at)d cannot be "
                                     "read). %(hint)s", file=name, at=at,
                                     hint=not_text_hint), {"file": "encoding"}) from None
        if blank:
            raise ValidationError(_l("%(file)s is empty: %(hint)s", file=name,
                                     hint=empty_hint), {"file": "empty"})
        return encoding
    raise AssertionError("unreachable")  # pragma: no cover


class _Lines:
    """The file's lines, each at most the limit, and no record (the lines csv reads for
    one row) longer than the limit either."""

    def __init__(self, name: str, text: IO[str], limits: Limits) -> None:
        self.name, self.text, self.limits = name, text, limits
        self.physical = 0  # lines read so far
        self.record = 0  # characters of the record being read
        self.pushed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pushed:
            line = self.pushed.pop()
        else:
            line = self.text.readline(self.limits.line_chars + 3)
            if not line:
                raise StopIteration
            self.physical += 1
        self.record += len(line)
        if self.record > self.limits.line_chars + 2:
            raise _too_long(self.name, self.physical, self.limits)
        return line


def delimiter(header: str) -> str:
    """Comma, semicolon (spreadsheets in much of Europe) or tab, from the header line."""
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


class Records:
    """The records of one CSV file, read in bounded memory: ``header`` (the first
    record), then ``(line, fields)`` for each record that is not blank, ``line`` being
    the line it ends on. Every problem is a ValidationError naming the file and line.
    Use it as a context manager, so that the file is closed."""

    def __init__(self, source: Source, *, limits: Limits, empty_hint: str,
                 not_text_hint: str, windows: bool = False) -> None:
        self.name, self.limits = source.name, limits
        encoding = encoding_of(source, limits=limits, empty_hint=empty_hint,
                               not_text_hint=not_text_hint, windows=windows)
        self._file = source.open()
        try:
            text = io.TextIOWrapper(self._file, encoding=encoding, newline="")
            self._lines = _Lines(self.name, text, limits)
            first = next(self._lines, "")
            self._lines.pushed.append(first)
            self._lines.record = 0
            self._reader = csv.reader(self._lines, delimiter=delimiter(first))
            self.header = next(self._rows(), (0, []))[1]
        except BaseException:
            self._file.close()
            raise

    @property
    def line(self) -> int:
        return self._lines.physical

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                fields = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ValidationError(_l("%(file)s: line %(line)d is not valid CSV: "
                                         "%(why)s. Nothing was imported.", file=self.name,
                                         line=self.line, why=str(exc)), {"file": "csv"}
                                      ) from None
            self._lines.record = 0
            if len(fields) > self.limits.fields:
                raise ValidationError(_l(
                    "%(file)s: line %(line)d has %(fields)d fields; at most %(limit)d are "
                    "read, so the file was not read. Is it a CSV export? Nothing was "
                    "imported.", file=self.name, line=self.line, fields=len(fields),
                    limit=self.limits.fields), {"file": "too many fields"})
            if fields:  # a blank line is no record
                yield self.line, fields

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._rows()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
