"""Importing content/projects/: the 18 projects, idempotence, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ostogether import projects
from ostogether.errors import ContentError
from ostogether.models import AuditEntry, Project
from ostogether.runtime import Runtime
from tests.conftest import run


def count(rt: Runtime, model: type) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_imports_the_eighteen_projects_with_their_facts(bare_rt: Runtime) -> None:
    report = projects.import_content(bare_rt)
    assert len(report.created) == 18
    with bare_rt.db.session() as s:
        road = projects.get(s, "road-steamer")
        assert road.grant_number == "101058405"
        assert road.programme == "Horizon Europe"
        assert road.countries[:2] == ["BE", "GR"]
        connect = projects.get(s, "connect")
        assert connect.grant_number == ""  # not found in sources: left empty, not invented
        # ended projects are alumni; STEAMbrace has no end date and is a member
        assert projects.get(s, "steambrace").status == "member"
        assert connect.status == "alumni"
    assert count(bare_rt, AuditEntry) == 18  # one audit row per imported project


def test_import_is_idempotent(bare_rt: Runtime) -> None:
    projects.import_content(bare_rt)
    audit_rows = count(bare_rt, AuditEntry)
    second = projects.import_content(bare_rt)
    assert not second.changed
    assert len(second.unchanged) == 18
    assert count(bare_rt, AuditEntry) == audit_rows


def test_an_edited_file_updates_the_project_and_is_audited(bare_rt: Runtime, home: Path) -> None:
    projects.import_content(bare_rt)
    path = home / "content/projects/connect.toml"
    path.write_text(path.read_text().replace('grant_number = ""', 'grant_number = "872000"'))
    report = projects.import_content(bare_rt)
    assert report.updated == {"connect": ["grant_number"]}
    with bare_rt.db.session() as s:
        assert projects.get(s, "connect").grant_number == "872000"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.updated")).one()
        assert entry.detail["before"] == {"grant_number": ""}


@pytest.mark.parametrize("name, text, expected", [
    ("broken.toml", 'acronym = "X"\nname = \n', r"broken.toml: TOML syntax error: .*line 2"),
    ("extra.toml", 'acronym = "X"\nname = "Y"\n\nbudget = 3\n',
     r"extra.toml:4: unknown field 'budget'"),
    ("typed.toml", 'acronym = "X"\nstart_date = "2024-01-01"\n',
     r"typed.toml:2: 'start_date' must be a date like 2024-01-31, got str"),
    ("handles.toml", 'acronym = "X"\n[handles]\ntiktok = "@x"\n',
     r"handles.toml:3: unknown field 'handles.tiktok'"),
    ("Bad Name.toml", 'acronym = "X"\n', r"Bad Name.toml: the file name must be a slug"),
    ("stat.toml", 'acronym = "X"\nstatus = "sleeping"\n', r"stat.toml:2: status must be member"),
])
def test_a_bad_file_is_reported_with_file_and_line_and_nothing_is_imported(
        bare_rt: Runtime, home: Path, name: str, text: str, expected: str) -> None:
    (home / "content/projects" / name).write_text(text)
    with pytest.raises(ContentError, match=expected) as exc:
        projects.import_content(bare_rt)
    assert "Nothing was imported" in str(exc.value)
    assert count(bare_rt, Project) == 0  # the 18 good files were not imported either


def test_registry_check_cli(home: Path, env: dict[str, str]) -> None:
    ok = run(env, "registry", "check", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["ok"] is True and len(data["projects"]) == 18
    connect = next(p for p in data["projects"] if p["slug"] == "connect")
    funding = next(c for c in connect["checks"] if c["rule"] == "funding")
    assert funding["outcome"] == "warn" and "grant agreement number" in funding["message"]

    # a project whose end is before its start fails the run
    path = home / "content/projects/sall.toml"
    path.write_text(path.read_text().replace("end_date = 2023-08-31", "end_date = 2019-08-31"))
    bad = run(env, "registry", "check")
    assert bad.returncode == 1
    assert "FAIL dates: The end date 2019-08-31 is before the start date 2020-09-01." in bad.stdout

    # a syntax error is reported with file and line, without a traceback
    (home / "content/projects/zz.toml").write_text("acronym = \n")
    broken = run(env, "registry", "check")
    assert broken.returncode == 1
    assert "zz.toml: TOML syntax error" in broken.stderr and "line 1" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_init_twice_changes_nothing_and_list_formats(env: dict[str, str]) -> None:
    first = run(env, "init")
    assert first.returncode == 0, first.stderr
    assert "18 created" in first.stdout
    second = run(env, "init")
    assert "0 created, 0 updated, 18 unchanged" in second.stdout
    assert "up to date" in second.stdout
    listed = json.loads(run(env, "registry", "list", "--format", "json").stdout)
    assert len(listed) == 18 and "contact_email" not in listed[0]
    csv_out = run(env, "registry", "list", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith('"slug","acronym","name"')
    assert len(csv_out.strip().splitlines()) == 19
