"""The public page cache: anonymous visitors get a copy at most public_cache_seconds old;
logged-in users always get the live page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether import clock
from ostogether.models import Project
from ostogether.runtime import Runtime
from ostogether.settings import load_settings
from ostogether.web import create_app
from tests.conftest import (
    login,
    new_client,
)
from tests.factories import make_user


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
