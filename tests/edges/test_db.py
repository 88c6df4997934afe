"""The database: migrations both ways, models matching migrations, pragmas, audited states."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from ostogether.core import clock
from ostogether.core.errors import Conflict
from ostogether.core.settings import Settings
from ostogether.edges import db as dbmod
from ostogether.edges.audit import Actor, transition
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Base, Project
from ostogether.registry import projects


def test_migrations_go_down_and_up_again(bare_rt: Runtime) -> None:
    assert dbmod.current_revision(bare_rt.db) == dbmod.head_revision()
    dbmod.downgrade(bare_rt.db, "base")
    assert dbmod.current_revision(bare_rt.db) is None
    assert "projects" not in inspect(bare_rt.db.engine).get_table_names()
    dbmod.upgrade(bare_rt.db)
    assert {"projects", "users", "audit_log", "rate_limit_hits"} <= set(
        inspect(bare_rt.db.engine).get_table_names())


def test_models_and_migrations_agree(bare_rt: Runtime) -> None:
    with bare_rt.db.engine.connect() as conn:
        opts = {"compare_type": True,
                "include_object": dbmod.migration_filter(conn.dialect.name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
    assert diff == [], "a model changed without a migration: run alembic revision --autogenerate"


def test_sqlite_pragmas(bare_rt: Runtime, settings: Settings) -> None:
    if bare_rt.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    with bare_rt.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == int(
            settings.database_timeout * 1000)


def test_a_commit_that_wrote_changes_the_signal_and_a_read_does_not(
        rt: Runtime, settings: Settings) -> None:
    if rt.db.engine.dialect.name != "sqlite":
        assert rt.db.change_token() is None  # PostgreSQL: the pages ask the database
        return
    other = dbmod.Database(settings)  # as another process: its own map of the same file
    try:
        before = other.change_token()
        assert before == rt.db.change_token()
        with rt.db.session() as s:
            assert s.scalars(select(Project)).first() is not None
        with rt.db.engine.connect() as c:
            c.execute(text("SELECT count(*) FROM projects")).one()
        assert other.change_token() == before  # reads raise nothing
        with rt.db.session() as s:
            s.scalars(select(Project)).first().description = "Changed."  # type: ignore[union-attr]
        after_session = other.change_token()
        assert after_session != before
        with rt.db.engine.begin() as c:  # a Core transaction, as the delivery ledger's
            c.execute(text("UPDATE projects SET revision = revision WHERE id = -1"))
        after_core = other.change_token()
        assert after_core not in (before, after_session)
        with pytest.raises(RuntimeError), rt.db.session() as s:
            s.scalars(select(Project)).first().description = "Rolled back."  # type: ignore[union-attr]
            s.flush()
            raise RuntimeError
        assert other.change_token() == after_core  # a rollback changed nothing
    finally:
        other.dispose()


def test_state_changes_are_guarded_and_audited(rt: Runtime) -> None:
    with rt.db.session() as s:
        p = projects.get(s, "steambrace")
        transition(s, Actor("test"), p, "project", "alumni", why="test")
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.alumni")).one()
        assert entry.actor == "test" and entry.detail == {"from": "member", "why": "test"}
        p = projects.get(s, "steambrace")
        with pytest.raises(Conflict, match="is alumni; it cannot become member"):
            transition(s, Actor("test"), p, "project", "member")


def test_refresh_statuses_turns_ended_members_into_alumni(rt: Runtime) -> None:
    import datetime as dt

    with rt.db.session() as s:
        p = s.scalars(select(Project).where(Project.slug == "steambrace")).one()
        p.end_date = dt.date(2025, 1, 31)
    assert projects.refresh_statuses(rt) == ["steambrace"]
    assert projects.refresh_statuses(rt) == []  # idempotent
    with rt.db.session() as s:
        assert projects.get(s, "steambrace").status == "alumni"


def test_unreachable_database_is_one_clear_error(settings: Settings) -> None:
    import dataclasses

    from ostogether.core.errors import ConfigError

    bad = dataclasses.replace(settings, database_url="postgresql+psycopg://u@127.0.0.1:1/x",
                              database_timeout=1)
    with pytest.raises(ConfigError, match="Cannot connect to the database .*127.0.0.1:1"):
        dbmod.upgrade(dbmod.Database(bad))


def test_initialise_prunes_old_rate_limit_hits(rt: Runtime) -> None:
    import datetime as dt

    from ostogether.bootstrap import initialise
    from ostogether.edges import ratelimit
    from ostogether.models import RateLimitHit

    with rt.db.session() as s:
        ratelimit.hit(s, "login", ["old"], now=clock.now() - dt.timedelta(days=2))
        ratelimit.hit(s, "login", ["new"])
    report = initialise(rt)
    assert not report.migrated and not report.imported.changed
    with rt.db.session() as s:
        assert [h.key for h in s.scalars(select(RateLimitHit))] == ["new"]
