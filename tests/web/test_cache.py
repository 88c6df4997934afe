"""The public page cache: anonymous visitors get a copy at most public_cache_seconds old;
logged-in users always get the live page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, Project
from ostogether.web import create_app
from tests.conftest import (
    child_env,
    finish,
    login,
    new_client,
)
from tests.factories import approved_issue, make_user, mark_sent


def test_anonymous_copies_expire_and_logged_in_users_see_live_pages(
        rt: Runtime, env: dict[str, str], test_clock: clock.FakeClock) -> None:
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "0.5"}))
    visitor = new_client(app)
    first = visitor.get("/registry")
    assert first.headers["Cache-Control"] == "public, max-age=0"
    assert "COSMOS" in first.get_data(as_text=True)
    with rt.db.session() as s:
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        cosmos.acronym = "COSMOS-RENAMED"
    assert "COSMOS-RENAMED" not in visitor.get("/registry").get_data(as_text=True)  # a copy
    assert "COSMOS-RENAMED" in visitor.get("/registry?q=cos").get_data(as_text=True)  # own key
    make_user(rt, "editor@ecsite.eu", "editor")
    editor = new_client(app)
    login(editor, "editor@ecsite.eu")
    live = editor.get("/registry")
    assert "COSMOS-RENAMED" in live.get_data(as_text=True)  # editors see it at once
    assert "Cache-Control" not in live.headers or "public" not in live.headers["Cache-Control"]
    test_clock.advance(seconds=0.6)
    assert "COSMOS-RENAMED" in visitor.get("/registry").get_data(as_text=True)  # expired


def test_pages_with_forms_are_never_cached(rt: Runtime, env: dict[str, str]) -> None:
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "60"}))
    visitor: Any = new_client(app)
    for path in ("/join", "/subscribe", "/login"):
        r = visitor.get(path)
        assert "public" not in r.headers.get("Cache-Control", ""), path
    assert app.extensions["page_cache"].entries == {}


def test_what_each_process_renders_once_follows_every_change_at_once(
        rt: Runtime, client: Any, test_clock: clock.FakeClock) -> None:
    """The registry's projects and cards, and a sent issue's web page, are kept by each
    web process only while the database says they are the same: a change (made by any
    process, at the same frozen instant) shows at the next request, with no TTL."""
    test_clock.set(test_clock.now())  # every change below has the same timestamp
    assert "COSMOS" in client.get("/registry").get_data(as_text=True)
    assert client.get("/").status_code == 200
    with rt.db.session() as s:
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        before = cosmos.revision
        cosmos.description = "A brand new description of the project."
    with rt.db.session() as s:
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        assert cosmos.revision == before + 1  # raised in the UPDATE itself
    assert "A brand new description" in client.get("/registry").get_data(as_text=True)
    assert "A brand new description" in client.get("/registry?q=cosmos").get_data(
        as_text=True)
    with rt.db.session() as s:
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        total_before = client.get("/").get_data(as_text=True)
        cosmos.status = "applicant"  # leaves the public registry
    assert "COSMOS" not in client.get("/registry").get_data(as_text=True)
    assert client.get("/").get_data(as_text=True) != total_before  # the counts changed


def test_a_sent_issues_page_is_made_again_when_its_snapshot_changes(
        rt: Runtime, client: Any, web: Any) -> None:
    issue = approved_issue(rt, [web.url("/page/0")])
    mark_sent(rt, issue.id)
    page = client.get(f"/archive/{issue.number}").get_data(as_text=True)
    assert "All issues" in page
    with rt.db.session() as s:
        row = s.get(Issue, issue.id)
        assert row is not None
        row.snapshot_html = row.snapshot_html.replace("</body>", "<p>Corrected.</p></body>")
        row.snapshot_sha256 = "f" * 64  # as a re-import with --replace leaves it
    assert "Corrected." in client.get(f"/archive/{issue.number}").get_data(as_text=True)


CHANGE_FROM_ANOTHER_PROCESS = """
import sys
from sqlalchemy import select
from ostogether.models import Project
from ostogether.edges.runtime import Runtime
from ostogether.core.settings import load_settings
rt = Runtime(load_settings())
with rt.db.session() as s:
    s.scalars(select(Project).where(Project.slug == "cosmos")).one().acronym = sys.argv[1]
rt.close()
"""


def test_a_change_made_by_another_process_shows_at_the_next_request(
        rt: Runtime, client: Any, env: dict[str, str]) -> None:
    """The worker, the CLI or another web process commits: this process's memos (which,
    on SQLite, skip even their small query while the change signal stays the same) see
    it at once."""
    assert "COSMOS" in client.get("/registry").get_data(as_text=True)
    home_before = client.get("/").get_data(as_text=True)
    for name in ("COSMOS-ELSEWHERE", "COSMOS-AGAIN"):
        proc = subprocess.Popen([sys.executable, "-c", CHANGE_FROM_ANOTHER_PROCESS, name],
                                env=child_env(env), text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        _, err = finish(proc, 120)  # not run(timeout=…), which libfaketime breaks
        assert proc.returncode == 0, err
        assert name in client.get("/registry").get_data(as_text=True)
        assert name in client.get("/registry?q=cosmos").get_data(as_text=True)
    assert client.get("/").get_data(as_text=True) == home_before  # the counts stay


def test_an_edited_content_file_shows_at_the_next_request(
        rt: Runtime, client: Any, env: dict[str, str]) -> None:
    site_toml = Path(env["OSTOGETHER_HOME"]) / "content" / "site.toml"
    assert "A community of practice, edited." not in client.get("/").get_data(as_text=True)
    text = site_toml.read_text()
    site_toml.write_text(text.replace('tagline = "', 'tagline = "A community of practice, '
                                      'edited. ', 1))
    assert 'tagline = "A community' in site_toml.read_text()
    for path in ("/", "/registry"):  # the tagline on one, the short name in the other
        assert client.get(path).status_code == 200
    assert "A community of practice, edited." in client.get("/").get_data(as_text=True)


def test_remembered_links_follow_the_prefix_the_site_is_mounted_under(
        rt: Runtime, client: Any) -> None:
    """Templates build each address once; a site mounted under a prefix (SCRIPT_NAME, as a
    proxy may set it) gets its own, in its header and in the shared fragments alike."""
    plain = client.get("/registry").get_data(as_text=True)
    assert 'href="/registry"' in plain and 'href="/registry/cosmos"' in plain
    mounted = client.get("/registry", base_url="https://ostogether.test/news").get_data(
        as_text=True)
    assert 'href="/news/registry"' in mounted and 'href="/news/registry/cosmos"' in mounted
    assert 'href="/registry"' not in mounted
    again = client.get("/registry").get_data(as_text=True)
    assert 'href="/news/' not in again and again.count('href="/registry/') >= 18


def test_a_first_visit_gets_no_cookie_and_every_page_varies_on_the_cookie(
        rt: Runtime, env: dict[str, str]) -> None:
    """Pages differ by who is logged in and by language, so every page says ``Vary:
    Accept-Language, Cookie`` once, whether a session cookie came or not; a visitor who brought
    no cookie and filled in nothing is given none."""
    app = create_app(load_settings(environ={**env, "OSTOGETHER_PUBLIC_CACHE_SECONDS": "0"}))
    visitor = new_client(app)
    for path in ("/", "/registry"):
        r = visitor.get(path)
        assert r.status_code == 200
        assert r.headers.get_all("Vary") == ["Accept-Language, Cookie"], path
        assert "Set-Cookie" not in r.headers, path
    make_user(rt, "editor@ecsite.eu", "editor")
    editor = new_client(app)
    login(editor, "editor@ecsite.eu")
    r = editor.get("/registry")
    assert r.headers.get_all("Vary") == ["Accept-Language, Cookie"]
    assert "Log out" in r.get_data(as_text=True)
    r = editor.get("/login")  # a form: its CSRF token lives in the session
    assert r.headers.get_all("Vary") == ["Accept-Language, Cookie"]
