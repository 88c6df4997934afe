"""Engine and session factory.

SQLite is the embedded default and gets the pragmas that make it safe for a web app
and a worker side by side: WAL (readers do not block the writer), foreign keys on, and
a busy timeout instead of an immediate "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ostogether.errors import Busy, ConfigError
from ostogether.settings import Settings


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
                                  "check_same_thread": False}
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
        self.engine = make_engine(settings)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

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


def _busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" after busy_timeout, or PostgreSQL's lock timeout."""
    text = str(exc.orig).lower()
    return "database is locked" in text or "lock timeout" in text or \
        getattr(exc.orig, "sqlstate", "") == "55P03"


# ------------------------------------------------------------------ migrations

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
