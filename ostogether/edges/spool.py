"""The lines of an import's report, kept on disk while the import runs, so that its
memory does not grow with the file: a file of 500,000 lines is read, checked, written
and reported in the memory of a few thousand.

A spool is a SQLite file of its own (Python's ``sqlite3``, whatever the service's
database is) in a folder the caller names, deleted when the spool is closed. It keeps,
in reading order, each line's outcome and reason, the row that a later step writes
(pickled: only this process writes and reads it), and the keys already seen, so that a
line repeating an earlier one is found without a set in memory.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

SCHEMA = """
CREATE TABLE line (
    seq INTEGER PRIMARY KEY,
    file INTEGER NOT NULL,
    line INTEGER NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    warning TEXT NOT NULL DEFAULT '',
    key TEXT,
    target INTEGER,
    payload BLOB
);
CREATE INDEX line_outcome ON line (outcome, seq);
CREATE TABLE seen (key TEXT PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL)
    WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line as the spool keeps it."""

    seq: int
    file: int  # the file's number, in the order the files were read
    line: int
    subject: str
    outcome: str
    reason: str
    warning: str
    key: str | None
    target: int | None
    payload: Any


class Spool:
    """A report's lines on disk, in the order they were added."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="import-", suffix=".spool", dir=folder)
        os.close(fd)
        self.path = Path(name)
        # One user at a time, though not always the thread that made it.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # Nothing here needs to survive a crash: the spool is deleted with the import.
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                               "PRAGMA cache_size=-4096; BEGIN;" + SCHEMA)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            self.path.unlink(missing_ok=True)

    def add(self, file: int, line: int, subject: str, outcome: str, reason: str = "",
            warning: str = "", key: str | None = None, payload: Any = None) -> None:
        self._db.execute(
            "INSERT INTO line (file, line, subject, outcome, reason, warning, key, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (file, line, subject, outcome, reason, warning, key,
             None if payload is None else pickle.dumps(payload, pickle.HIGHEST_PROTOCOL)))

    def first_seen(self, key: str, file: int, line: int) -> tuple[int, int] | None:
        """Where ``key`` was seen before (file, line), or None, and now it is seen."""
        done = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)",
                                (key, file, line))
        if done.rowcount:
            return None
        file_no, at = self._db.execute("SELECT file, line FROM seen WHERE key = ?",
                                       (key,)).fetchone()
        return int(file_no), int(at)

    def pages(self, outcome: str, size: int) -> Iterator[list[Entry]]:
        """The lines of ``outcome``, ``size`` at a time, in order. The caller may change
        the lines of a page (``settle``) before it asks for the next."""
        after = 0
        while True:
            page = [self._entry(r) for r in self._db.execute(
                "SELECT * FROM line WHERE outcome = ? AND seq > ? ORDER BY seq LIMIT ?",
                (outcome, after, size))]
            if not page:
                return
            yield page
            after = page[-1].seq

    def settle(self, seq: int, outcome: str, reason: str = "", *, key: str | None = None,
               target: int | None = None) -> None:
        """Give a line its outcome (and the key and target a later step needs)."""
        self._db.execute("UPDATE line SET outcome = ?, reason = ?, key = coalesce(?, key),"
                         " target = ? WHERE seq = ?", (outcome, reason, key, target, seq))

    def entries(self, outcomes: tuple[str, ...] = (), with_warning: bool = False
                ) -> Iterator[Entry]:
        """Every line (or those of ``outcomes``, or with a warning) in order, read a
        page at a time."""
        where = " OR ".join(filter(None, [
            f"outcome IN ({', '.join('?' * len(outcomes))})" if outcomes else "",
            "warning != ''" if with_warning else ""])) or "1 = 1"
        after = 0
        while True:
            page = self._db.execute(
                f"SELECT * FROM line WHERE ({where}) AND seq > ? ORDER BY seq LIMIT 1000",
                (*outcomes, after)).fetchall()
            if not page:
                return
            for row in page:
                yield self._entry(row, payload=False)
            after = page[-1][0]

    def count(self, outcome: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM line WHERE outcome = ?",
                                    (outcome,)).fetchone()[0])

    def counts(self) -> dict[tuple[int, str], int]:
        """How many lines of each file have each outcome."""
        return {(int(f), str(o)): int(n) for f, o, n in self._db.execute(
            "SELECT file, outcome, count(*) FROM line GROUP BY file, outcome")}

    def warnings(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM line WHERE warning != ''"
                                    ).fetchone()[0])

    @staticmethod
    def _entry(row: tuple[Any, ...], payload: bool = True) -> Entry:
        seq, file, line, subject, outcome, reason, warning, key, target, blob = row
        return Entry(seq, file, line, subject, outcome, reason, warning, key, target,
                     pickle.loads(blob) if payload and blob is not None else None)
