"""An editor gives a project's feeds per language on its page: kept with the project,
polled as its own feeds, checked like the main one, and removed when cleared."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sqlalchemy import select

from ostogether.edges.runtime import Runtime
from ostogether.models import Feed, Project
from tests.factories import applicant

PAGE = "/editors/projects/sci-lab"


def form_of(client: Any, **changes: Any) -> dict[str, Any]:
    """The page's text fields and selections as a browser sends them, with ``changes``."""
    html = client.get(PAGE).get_data(as_text=True)
    data: dict[str, Any] = {}
    for m in re.finditer(r'<input ([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "file":
            continue
        if kind == "checkbox":
            if re.search(r"(^|\s)checked(\s|=|$)", m.group(1)):
                data.setdefault(name, []).append(unescape(attrs.get("value", "y")))
            continue
        data[name] = unescape(attrs.get("value", ""))
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = unescape(m.group(2)).lstrip("\n")
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" '
                           r'selected', m.group(2))
        value = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
        data[m.group(1)] = unescape(value)
    data.update(changes)
    return data


def test_an_editor_gives_a_feed_per_language(app: Any, rt: Runtime, editor: Any) -> None:
    applicant(rt, accept=True)
    page = editor.get(PAGE).get_data(as_text=True)
    assert 'name="feeds_nl"' in page and "News feed in Nederlands" in page
    r = editor.post(PAGE, data=form_of(editor, feeds_nl="https://lab.example.nl/feed"))
    assert r.status_code == 302
    with rt.db.session() as s:
        assert s.scalar(select(Project.feeds).where(Project.slug == "sci-lab")) == {
            "nl": "https://lab.example.nl/feed"}
        assert [(f.language, f.url) for f in s.scalars(
            select(Feed).join(Project).where(Project.slug == "sci-lab"))] == [
            ("nl", "https://lab.example.nl/feed")]
    bad = editor.post(PAGE, data=form_of(editor, feeds_de="lab dot de"))
    assert bad.status_code == 400 and "lab dot de" in bad.get_data(as_text=True)
    assert editor.post(PAGE, data=form_of(editor, feeds_nl="")).status_code == 302
    with rt.db.session() as s:
        assert s.scalar(select(Project.feeds).where(Project.slug == "sci-lab")) == {}
        assert s.scalars(select(Feed).join(Project).where(
            Project.slug == "sci-lab")).all() == []
