"""Engine and session factory.

SQLite is the embedded default and gets the pragmas that make it safe for a web app
and a worker side by side: WAL (readers do not block the writer), foreign keys on, and
a busy timeout instead of an immediate "database is locked".

A SQLite database also has a change signal beside it (``<database>-changes``, 8 bytes
that every commit which wrote anything replaces): a web process can tell that nothing
was committed since it last read a table without asking the database, which on a busy
page would otherwise be one query, and one hand-over of Python's lock, per request.
"""

from __future__ import annotations

import logging
import mmap
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ostogether.core.errors import Busy, ConfigError
from ostogether.core.settings import Settings

log = logging.getLogger(__name__)
_T = TypeVar("_T")
KEPT_MAX = 512


class ChangeSignal:
    """A small file shared by every process that opens the same SQLite database: each
    commit that wrote something puts 8 new random bytes in it, after the commit. Read
    through a shared memory map, it costs no system call: when the bytes are the ones
    seen before a table was read, nothing has been committed since, by any process."""

    SIZE = 8

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)
            self._map = mmap.mmap(fd, self.SIZE)
        finally:
            os.close(fd)

    def token(self) -> bytes:
        return self._map[:self.SIZE]

    def bump(self) -> None:
        # Random rather than counted: writers need no lock, and a read that catches a
        # write half done sees bytes never seen before, so it only checks once more.
        self._map[:self.SIZE] = os.urandom(self.SIZE)

    @classmethod
    def beside(cls, database: str) -> ChangeSignal | None:
        """The signal of a SQLite file, or None (the callers then ask the database) where
        it cannot be kept: in memory, or on a folder this process may not write."""
        if not database or database == ":memory:":
            return None
        try:
            return cls(Path(database).resolve().with_name(Path(database).name + "-changes"))
        except (OSError, ValueError) as exc:
            log.warning("no change signal beside %s (%s): pages ask the database on "
                        "every request", database, exc)
            return None


class _SignallingConnection(sqlite3.Connection):
    """sqlite3's connection, which raises the change signal after each commit that ended
    a transaction (reads alone open none, so they raise nothing)."""

    signal: ChangeSignal | None = None

    def commit(self) -> None:
        wrote = self.in_transaction
        super().commit()
        if wrote and self.signal is not None:
            self.signal.bump()


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.sqlalchemy_url)
    kwargs: dict[str, Any] = {"future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            folder = Path(url.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"OSTOGETHER_DATABASE_URL: cannot create {folder}: "
                                  f"{exc.strerror}.") from None
        kwargs["connect_args"] = {"timeout": settings.database_timeout,
                                  "check_same_thread": False,
                                  "factory": _SignallingConnection}
    else:
        kwargs["connect_args"] = {"connect_timeout": max(1, int(settings.database_timeout))}
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        busy_ms = int(settings.database_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def describe(engine: Engine) -> str:
    """The URL with its password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"Cannot connect to the database {describe(engine)}: {reason}. "
                          f"Check OSTOGETHER_DATABASE_URL.") from None


class Database:
    """The engine and a session factory, created once per process by each face."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)  # creates the SQLite file's folder
        url = self.engine.url
        self.key = str(url)  # names this database in each process's memos
        self.signal = ChangeSignal.beside(url.database or "") \
            if url.get_backend_name() == "sqlite" else None
        if self.signal is not None:
            event.listen(self.engine, "connect", self._give_signal)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._kept: OrderedDict[tuple[Any, ...], tuple[bytes, Any]] = OrderedDict()
        self._kept_lock = threading.Lock()

    def _give_signal(self, dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.signal = self.signal

    def change_token(self) -> bytes | None:
        """What the change signal holds now; None where there is none (PostgreSQL, whose
        web processes may run on several machines): then ask the database."""
        return self.signal.token() if self.signal is not None else None

    def until_commit(self, key: tuple[Any, ...], read: Callable[[], _T]) -> _T:
        """``read()``, kept by this process under ``key`` until any process commits a
        write (the change signal); read again on every call where there is no signal.
        The signal is read before ``read()``, so a commit during it shows next time.
        What ``read()`` returns is shared: never change it."""
        token = self.change_token()
        if token is None:
            return read()
        found = self._kept.get(key)  # one lookup needs no lock; the eviction below does
        if found is not None and found[0] == token:
            return cast(_T, found[1])
        value = read()
        with self._kept_lock:
            self._kept[key] = (token, value)
            self._kept.move_to_end(key)
            while len(self._kept) > KEPT_MAX:
                self._kept.popitem(last=False)
        return value

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed if the block ends normally, rolled back otherwise."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if _busy(exc):
                raise Busy("The service is busy with a long task and could not save this "
                           "within a few seconds. Nothing was saved; try again in a moment."
                           ) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def insert(session: Session, model: Any, **values: Any) -> Any:
    """An INSERT of one row that can take ``on_conflict_do_nothing`` or
    ``on_conflict_do_update``: the database's own, which SQLite and PostgreSQL spell
    alike, so that a unique key decides without a read before the write."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model).values(**values)


def _busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" after busy_timeout, or PostgreSQL's lock timeout."""
    text = str(exc.orig).lower()
    return "database is locked" in text or "lock timeout" in text or \
        getattr(exc.orig, "sqlstate", "") == "55P03"


# ------------------------------------------------------------------ migrations

# APScheduler creates and owns its job store table; migrations leave it alone.
FOREIGN_TABLES = {"apscheduler_jobs"}
# The library's full-text index on SQLite (FTS5 and its shadow tables, migration 0019).
FOREIGN_PREFIXES = ("outputs_fts",)


def migration_filter(dialect: str) -> Callable[..., bool]:
    """What autogenerate compares on ``dialect``: not APScheduler's table, and not what
    the models keep for one database only (``info={"only": "postgresql"}``)."""
    def include(obj: Any, name: str | None, type_: str, reflected: bool,
                compare_to: Any) -> bool:
        if type_ == "table" and (name in FOREIGN_TABLES
                                 or (name or "").startswith(FOREIGN_PREFIXES)):
            return False
        only = getattr(obj, "info", {}).get("only")
        return only is None or only == dialect
    return include


def _alembic_config(connection: Any) -> Any:
    cfg = Config()
    cfg.set_main_option("script_location", "ostogether:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    check_connection(db.engine)
    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


def downgrade(db: Database, revision: str = "-1") -> None:
    with db.engine.begin() as conn:
        try:
            command.downgrade(_alembic_config(conn), revision)
        except CommandError as exc:
            raise ConfigError(f"Cannot downgrade to '{revision}': {exc}.") from None


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


# ------------------------------------------------------------------ backup

def backup(db: Database, path: str | Path) -> int:
    """Copy a SQLite database to ``path`` with SQLite's online backup API (consistent
    while the service writes). Returns the copy's size in bytes. PostgreSQL is backed up
    with pg_dump instead."""
    if db.engine.dialect.name != "sqlite":
        raise ConfigError("`ostogether backup` copies SQLite databases; for PostgreSQL use "
                          "pg_dump (see docs/operations.md, Backups).")
    target = Path(path)
    if target.exists():
        raise ConfigError(f"{target} exists already; give a new file name, so that no backup "
                          f"is overwritten.")
    if not target.parent.is_dir():
        raise ConfigError(f"{target.parent} is not a folder; create it first.")
    source_file = db.engine.url.database or ""
    partial = target.with_name(target.name + ".partial")
    source, copy = sqlite3.connect(source_file), sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    partial.replace(target)
    return target.stat().st_size
