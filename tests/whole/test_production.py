"""The production setup as docs/operations.md describes it: PostgreSQL, gunicorn serving
``ostogether.web:create_app()`` with ``--no-worker`` semantics (gunicorn never starts a
worker), and two ``ostogether worker`` processes. Exactly one holds the lease; when it
stops, the other takes over, and /healthz follows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from ostogether.edges.timetable import JOBS
from tests.conftest import PG_URL, child_env, finish, free_port, renewed_since, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="OSTOGETHER_TEST_DATABASE_URL is not set; "
                                          ".ci/run sets it in CI to a throwaway PostgreSQL"),
]

BIN = Path(sys.executable).parent


@pytest.fixture
def prod_env(env: dict[str, str]) -> dict[str, str]:
    return child_env({**env, "OSTOGETHER_ENV": "production",
                      "OSTOGETHER_SCHEDULER_LEASE_SECONDS": "6", "OSTOGETHER_LOG_FORMAT": "json"})


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)  # gunicorn's own workers too
        finish(p, 10)


def test_gunicorn_and_two_workers_on_postgresql(rt: Runtime, prod_env: dict[str, str],
                                                processes: list[subprocess.Popen[str]]) -> None:
    assert rt.db.engine.dialect.name == "postgresql"
    port = free_port()
    processes.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "ostogether.web:create_app()"], env=prod_env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: requests.get(f"{base}/registry", timeout=2).status_code == 200)
    # Without a worker, /healthz says so.
    r = requests.get(f"{base}/healthz", timeout=5)
    assert r.status_code == 503 and r.json()["database"] == "ok"

    workers = [subprocess.Popen([sys.executable, "-m", "ostogether", "worker"], env=prod_env,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
               for _ in range(2)]
    processes.extend(workers)
    try:
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200,
                 seconds=60)
    except AssertionError as exc:  # this once timed out: say what the workers said, and
        said = [finish(w, 0.1) for w in workers]  # where their threads were (SIGABRT)
        raise AssertionError(f"no worker took the lease: {said}") from exc
    # Two renewals later the same worker still leads: the other one stays a standby.
    first = wait_for(lambda: jobs.lease(rt))
    held = wait_for(lambda: renewed_since(rt, first, seconds=3.9))
    assert (held.holder, held.acquired_at) == (first.holder, first.acquired_at)
    leader_pid = int(held.holder.split(":")[1])
    assert leader_pid in {w.pid for w in workers}
    assert requests.get(f"{base}/healthz", timeout=5).json()["lease_holder"] == held.holder
    with rt.db.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT count(*) FROM apscheduler_jobs")).scalar()
    assert stored == len(JOBS)  # every job of the timetable, once

    leader = next(w for w in workers if w.pid == leader_pid)
    standby = next(w for w in workers if w.pid != leader_pid)
    leader.send_signal(signal.SIGTERM)
    out, err = finish(leader, 30)
    assert leader.returncode == 0, err
    assert "Worker stopped." in out

    def taken_over() -> bool:
        now = jobs.lease(rt)
        return now is not None and now.holder.split(":")[1] == str(standby.pid)
    wait_for(taken_over, seconds=20)
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    # Killed without warning, the lease expires and /healthz turns 503 within a lease time.
    standby.kill()
    finish(standby, 10)
    wait_for(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 503,
             seconds=20)
