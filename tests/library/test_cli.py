"""The library on the command line, and what `ostogether init` seeds."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Output
from tests.conftest import run
from tests.factories import add_output


def test_list_approve_and_reject(rt: Runtime, env: dict[str, str]) -> None:
    waiting = add_output(rt, "otter", title="Waiting map", type="map", approve=False)
    other = add_output(rt, "otter", title="Not ours", approve=False)
    listed = run(env, "library", "list", "--status", "submitted", "--format", "json")
    assert listed.returncode == 0
    assert {d["title"] for d in json.loads(listed.stdout)} == {"Waiting map", "Not ours"}
    ok = run(env, "library", "approve", str(waiting))
    assert ok.returncode == 0 and "/library/waiting-map" in ok.stdout
    no_reason = run(env, "library", "reject", str(other))
    assert no_reason.returncode != 0
    rejected = run(env, "library", "reject", str(other), "--reason", "Someone else's.")
    assert rejected.returncode == 0
    again = run(env, "library", "approve", str(other))
    assert again.returncode != 0 and "rejected" in again.stderr and "Traceback" not in again.stderr
    missing = run(env, "library", "approve", "999999")
    assert missing.returncode != 0 and "no output 999999" in missing.stderr
    with rt.db.session() as s:
        assert outputs.get(s, waiting).status == "approved"
        assert outputs.get(s, other).reject_reason == "Someone else's."


def test_init_seeds_the_community_outputs_once(bare_rt: Runtime, env: dict[str, str]) -> None:
    first = run(env, "init")
    assert first.returncode == 0, first.stderr
    assert "Library: 11 output(s) added" in first.stdout
    second = run(env, "init")
    assert second.returncode == 0 and "Library:" not in second.stdout
    with bare_rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Output)) == 11
        assert set(s.scalars(select(Output.status))) == {"approved"}
