"""The newsletter's "From the library" section: approved outputs of the results library
not featured before, a fair share across projects, in every language, and the clicks on
them through the service counted per output in the visibility report."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.languages import NEWSLETTER
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Output
from ostogether.newsletter import clicks
from ostogether.newsletter import issues as newsletter
from ostogether.reach import reports
from tests.factories import TEST, add_item, add_output, mark_sent
from tests.feedserver import FeedServer

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/131.0 Safari/537.36"}


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)


def public_ids(rt: Runtime) -> set[int]:
    with rt.db.session() as s:
        return set(s.scalars(select(Output.id).where(Output.status == "approved")))


def withdraw_seeds(rt: Runtime) -> None:
    """Only this test's outputs stay public (``init`` may have seeded some)."""
    with rt.db.session() as s:
        for o in s.scalars(select(Output).where(Output.status == "approved")):
            o.status = "withdrawn"


def compose(rt: Runtime) -> Any:
    return newsletter.compose_next(rt, TEST, now=NOW)


def test_library_section_takes_turns_by_project_and_never_repeats(
        rt: Runtime, test_clock: clock.FakeClock) -> None:
    withdraw_seeds(rt)
    a1 = add_output(rt, "connect", title="Best practices one")
    test_clock.advance(days=1)
    a2 = add_output(rt, "connect", title="Best practices two")
    test_clock.advance(days=1)
    a3 = add_output(rt, "connect", title="Best practices three")
    test_clock.advance(days=1)
    b1 = add_output(rt, "otter", title="Map of places")
    add_output(rt, "otter", title="Still in review", approve=False)
    add_item(rt, "cosmos", "news", link="https://example.org/news")
    first = compose(rt)
    # Round-robin: CONNECT's oldest, OTTER's, then CONNECT's next; three at most.
    assert first.library_outputs == [a1, b1, a2]
    mark_sent(rt, first.id)
    add_item(rt, "cosmos", "news", link="https://example.org/news-2")
    second = compose(rt)
    assert second.library_outputs == [a3]  # a sent issue's outputs are not featured again


def test_the_section_renders_with_the_outputs_pages_in_every_language(rt: Runtime) -> None:
    withdraw_seeds(rt)
    add_output(rt, "otter", title="OTTER learning platform",
               description="Outdoor learning for all ages.")
    add_item(rt, "cosmos", "news", link="https://example.org/news")
    issue = compose(rt)
    rules = rt.community.newsletter()
    section = rules.library_section()
    assert section is not None and section.key == "library" and section.max_items == 3
    titles = {lang: rules.title(section, lang) for lang in NEWSLETTER}
    assert titles["en"] == "From the library"
    assert len(set(titles.values())) == len(NEWSLETTER), titles  # each its own words
    with rt.db.session() as s:
        slug = s.scalar(select(Output.slug).where(Output.title == "OTTER learning platform"))
        for lang in NEWSLETTER:
            out = newsletter.render_current(rt, newsletter.get_issue(s, issue.id), lang)
            assert titles[lang] in out.html and titles[lang] in out.text
        out = newsletter.render_current(rt, newsletter.get_issue(s, issue.id))
    page = f"https://ostogether.test/library/{slug}"
    assert f'href="{page}"' in out.html and "OTTER learning platform" in out.html
    assert "Outdoor learning for all ages." in out.text and page in out.text


def test_a_withdrawn_output_leaves_the_section(rt: Runtime) -> None:
    withdraw_seeds(rt)
    gone = add_output(rt, "otter", title="Soon withdrawn")
    add_item(rt, "cosmos", "news", link="https://example.org/news")
    issue = compose(rt)
    assert issue.library_outputs == [gone]
    with rt.db.session() as s:
        o = s.get(Output, gone)
        assert o is not None
        o.status = "withdrawn"
    with rt.db.session() as s:
        out = newsletter.render_current(rt, newsletter.get_issue(s, issue.id))
    assert "Soon withdrawn" not in out.html and "From the library" not in out.html


def test_clicks_on_an_output_are_counted_and_reported_per_output(
        rt: Runtime, client: Any, editor: Any, web: FeedServer) -> None:
    withdraw_seeds(rt)
    oid = add_output(rt, "otter", title="Map of places")
    add_item(rt, "cosmos", "news", link=web.url("/page/0"))
    issue = compose(rt)
    approved, _ = newsletter.approve(rt, TEST, issue.id)
    path = re.findall(r'href="https://ostogether\.test(/r/\d+/-\d+/[0-9a-f]+)"',
                      approved.snapshot_html)
    assert [p.split("/")[3] for p in path] == [f"-{oid}"]
    mark_sent(rt, issue.id)
    r = client.get(path[0], headers=BROWSER)
    assert r.status_code == 302
    with rt.db.session() as s:
        slug = s.scalar(select(Output.slug).where(Output.id == oid))
    assert r.headers["Location"].startswith(f"https://ostogether.test/library/{slug}?utm_")
    client.get(path[0], headers=BROWSER)  # the same visitor the same day: one click
    client.get(path[0], headers=BROWSER, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    forged = re.sub(r"/-\d+/", f"/-{oid + 1}/", path[0])
    assert client.get(forged, headers=BROWSER).status_code == 404
    with rt.db.session() as s:
        assert clicks.clicks_by_output(s) == {oid: 2}
        report = reports.visibility(s, "otter", rt.today() - dt.timedelta(days=30),
                                    rt.today())
    [row] = report.outputs
    assert row["id"] == oid and row["clicks"] == 2 and row["issues"] == [issue.number]
    assert report.as_dict()["output_clicks"] == 2
    assert ["output", "", "Map of places", f"issue #{issue.number}", "approved",
            f"https://ostogether.test/library/{slug}", "", 2, ""] in \
        reports.visibility_rows(report, "https://ostogether.test")
    page = editor.get("/reports/visibility?project=otter").get_data(as_text=True)
    assert "Outputs in the library" in page
    assert re.search(rf'href="/library/{slug}">Map of places</a></td><td data-label="Featured '
                     rf'in">issue #{issue.number}</td><td data-label="Clicks in the newsletter">'
                     r"2</td>", page)
    # A withdrawn output's tracked link leads nowhere any more.
    outputs.withdraw(rt, TEST, oid)
    assert client.get(path[0], headers=BROWSER).status_code == 404
