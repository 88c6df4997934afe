"""Importing content/projects/: the 18 projects, idempotence, and bad files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ostogether.core.errors import ContentError
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Project
from ostogether.registry import files as registry_files
from ostogether.registry import projects
from ostogether.registry import rules as registry
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


# ------------------------------------------------- browser edits, conflicts, export

def edit_in_browser(rt: Runtime, slug: str, **values: Any) -> list[str]:
    from ostogether.edges.audit import Actor
    from ostogether.registry import project_edit

    project = project_edit.get(rt, slug)
    outcome = project_edit.save(rt, Actor("editor:greta@example.org"), slug, project_edit.Edit(
        values=values, original=project_edit.snapshot(project)))
    assert outcome.saved, outcome.problems
    return outcome.changed


def get_project(rt: Runtime, slug: str) -> Project:
    with rt.db.session() as s:
        p = projects.get(s, slug, public=False)
        s.expunge(p)
    return p


def test_an_import_reports_a_browser_edit_the_file_disagrees_with_and_keeps_it(
        rt: Runtime, home: Path, env: dict[str, str]) -> None:
    edit_in_browser(rt, "connect", grant_number="872000",
                    handles={"x": "https://x.com/connect_eu"})
    # The file still has what it had at the last import: the browser's edit is newer.
    first = run(env, "registry", "import")
    assert first.returncode == 0, first.stderr
    assert "0 updated, 18 unchanged, 1 with conflicts" in first.stdout
    assert re.search(r"conflict connect\.grant_number: kept the browser's 872000 \(editor:"
                     r"greta@example\.org, [0-9-]+ [0-9:]+\); the file says empty \(the file "
                     r"is older\)", first.stdout)
    assert "conflict connect.handles" in first.stdout
    assert get_project(rt, "connect").grant_number == "872000"

    # The file changes too: the same field is a conflict still (the file changed too),
    # another field of the file is imported as usual.
    path = home / "content/projects/connect.toml"
    text = path.read_text().replace('grant_number = ""', 'grant_number = "872999"')
    path.write_text(text.replace('call = "', 'call = "NEW-'))
    report = projects.import_content(rt)
    assert report.updated == {"connect": ["call"]}
    [grant] = [c for c in report.conflicts["connect"] if c.field == "grant_number"]
    assert (grant.database, grant.file, grant.file_changed) == ("872000", "872999", True)
    assert get_project(rt, "connect").grant_number == "872000"

    # --prefer-file takes the file's values, and the audit row says it overrode them.
    chosen = run(env, "registry", "import", "--prefer-file")
    assert "updated connect: grant_number, handles" in chosen.stdout, chosen.stdout
    p = get_project(rt, "connect")
    assert (p.grant_number, p.handles, p.web_edits) == ("872999", {}, {})
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "project.updated")
                          .order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        assert entry.detail["overrode_web_edits"] == ["grant_number", "handles"]
    # Nothing left to report.
    assert "0 with conflicts" in run(env, "registry", "import").stdout


def test_init_keeps_browser_edits_too(rt: Runtime, env: dict[str, str]) -> None:
    edit_in_browser(rt, "otter", description="Edited in the browser.")
    again = run(env, "init")
    assert again.returncode == 0, again.stderr
    assert "conflict otter.description" in again.stdout
    assert get_project(rt, "otter").description == "Edited in the browser."


def test_export_then_import_changes_nothing(rt: Runtime, env: dict[str, str],
                                           tmp_path: Path) -> None:
    from tests.factories import applicant

    applicant(rt, accept=True)  # a project from the Join form, with no file
    edit_in_browser(rt, "sci-lab", feed_url="", notes='Said "yes"\non the phone.',
                    handles={"mastodon": "https://mastodon.social/@scilab",
                             "bluesky": "scilab.bsky.social"})
    edit_in_browser(rt, "connect", grant_number="872000", sdgs=[4, 13])
    folder = tmp_path / "exported"
    out = run(env, "registry", "export", str(folder))
    assert out.returncode == 0, out.stderr
    assert "19 file(s) written, 0 unchanged" in out.stdout
    data = tomllib.loads((folder / "sci-lab.toml").read_text(encoding="utf-8"))
    assert data["handles"] == {"mastodon": "@scilab@mastodon.social",
                               "bluesky": "scilab.bsky.social"}
    assert data["notes"] == 'Said "yes"\non the phone.' and data["non_commercial"] is True
    # The exported files pass the registry's own check, and importing them changes nothing.
    files, problems = registry.load_project_files(folder)
    assert problems == [] and len(files) == 19
    back = run(env, "registry", "import", "--from", str(folder), "--format", "json")
    assert back.returncode == 0, back.stderr
    report = json.loads(back.stdout)
    assert (report["created"], report["updated"], report["conflicts"]) == ([], {}, {})
    assert len(report["unchanged"]) == 19
    # A second export writes nothing: git sees no change.
    assert "0 file(s) written, 19 unchanged" in run(env, "registry", "export",
                                                   str(folder)).stdout


@given(st.text(max_size=200))
def test_every_text_is_written_as_toml_that_reads_back_the_same(text: str) -> None:
    assert tomllib.loads(f"v = {registry_files.toml_string(text)}\n")["v"] == text


def test_a_logo_address_in_a_file_is_fetched_once_and_kept(
        rt: Runtime, home: Path, settings: Any) -> None:
    from tests.feedserver import FeedServer, Route, picture

    server = FeedServer().start()
    try:
        server.routes["/logo.png"] = Route(body=picture(200, 100), content_type="image/png")
        path = home / "content/projects/sall.toml"
        path.write_text(path.read_text() + f'\nlogo = "{server.url("/logo.png")}"\n')
        bad = home / "content/projects/seas.toml"
        bad.write_text(bad.read_text() + f'\nlogo = "{server.url("/missing.png")}"\n')
        report = projects.import_content(rt)
        assert report.updated == {"sall": ["logo"]}
        assert len(report.problems) == 1 and "seas.toml: the logo" in report.problems[0]
        logo = get_project(rt, "sall").logo
        assert (settings.media_path / logo).is_file()
        # Imported again: the kept copy is known, nothing is fetched, nothing changes.
        assert projects.import_content(rt).updated == {}
        assert len(server.hits("/logo.png")) == 1
    finally:
        server.stop()
