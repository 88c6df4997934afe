"""The newsletter's "New in the community" (issue 37): the organisations and projects
accepted since the last issue went out, each linked to its page, in every language;
nobody still waiting, rejected or accepted before that issue."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, Project
from ostogether.newsletter import issues as newsletter
from ostogether.newsletter import rendering
from ostogether.registry import organisations
from tests.factories import TEST, add_item, add_organisation, mark_sent

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)


def html_of(rt: Runtime, issue_id: int, language: str | None = None) -> str:
    with rt.db.session() as s:
        return rendering.render_current(rt, newsletter.get_issue(s, issue_id), language).html


def test_new_in_the_community_lists_who_joined_since_the_last_issue(
        rt: Runtime, test_clock: clock.FakeClock) -> None:
    add_item(rt, "cosmos", "news", link="https://example.org/news-1")
    first = newsletter.compose_next(rt, TEST, now=NOW)
    mark_sent(rt, first.id, NOW)
    before = add_organisation(rt, "Old Science Centre", country="BE")  # decided at NOW
    test_clock.advance(days=3)
    joined = add_organisation(rt, "Museo Nuovo", country="IT", city="Torino", type="museum")
    waiting = add_organisation(rt, "Still Waiting School", status="applied")
    refused = add_organisation(rt, "Refused Company", status="applied")
    organisations.decide(rt, refused, TEST, accept=False, reason="Not an education body.")
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "otter"))
        assert project is not None
        project.status, project.decided_at = "member", clock.now()  # accepted since
        s.get(Organisation, s.scalar(select(Organisation.id).where(
            Organisation.slug == before))).decided_at = NOW - dt.timedelta(hours=1)
    add_item(rt, "levers", "news", link="https://example.org/news-2")
    second = newsletter.compose_next(rt, TEST, now=clock.now())

    html = html_of(rt, second.id)
    assert "New in the community" in html
    assert f"/organisations/{joined}" in html and "Museo Nuovo" in html
    assert "Museum · Torino, IT" in html
    assert "/registry/otter" in html
    for absent in ("Old Science Centre", "Still Waiting School", "Refused Company",
                   waiting, "/registry/cosmos\""):
        assert absent not in html, absent
    # Every reader's language has its own title for it.
    assert "Nieuw in de gemeenschap" in html_of(rt, second.id, "nl")
    assert "Neu in der Community" in html_of(rt, second.id, "de")


def test_an_issue_with_nobody_new_has_no_such_section(rt: Runtime) -> None:
    add_item(rt, "cosmos", "news", link="https://example.org/news-1")
    first = newsletter.compose_next(rt, TEST, now=NOW)
    mark_sent(rt, first.id, NOW)
    add_item(rt, "levers", "news", link="https://example.org/news-2")
    second = newsletter.compose_next(rt, TEST, now=NOW)
    assert "New in the community" not in html_of(rt, second.id)
