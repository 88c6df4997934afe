"""Checks that only mean something on PostgreSQL. The whole suite also runs there in CI."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from ostogether.edges.runtime import Runtime
from tests.conftest import PG_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="OSTOGETHER_TEST_DATABASE_URL is not set; "
                                          ".ci/run sets it in CI to a throwaway PostgreSQL"),
]


def test_suite_really_runs_on_postgresql(bare_rt: Runtime) -> None:
    assert bare_rt.db.engine.dialect.name == "postgresql"


def test_mutual_foreign_keys_exist_on_postgresql(bare_rt: Runtime) -> None:
    # projects.decided_by_id and users.project_id point at each other; the migration must
    # add the first one after both tables exist, or PostgreSQL silently lacks it.
    fks = inspect(bare_rt.db.engine).get_foreign_keys("projects")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in fks] == [
        (["decided_by_id"], "users")]
    user_fks = inspect(bare_rt.db.engine).get_foreign_keys("users")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in user_fks] == [
        (["project_id"], "projects")]
