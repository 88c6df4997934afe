"""The dashboard's figures and charts, the visibility report (web, CSV, JSON) and the
fair-share view."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core import charts, clock
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Delivery, Issue, NewsItem, SocialPost, Subscriber
from ostogether.reach import reports
from tests.conftest import (
    login,
    new_client,
    run,
)
from tests.factories import add_item, add_readers, approved_issue, make_user, mark_sent

SVG = "{http://www.w3.org/2000/svg}"
NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    """These tests run on NOW, whatever the machine's date."""
    test_clock.set(NOW)


def test_nice_axis_maximum_and_the_text_alternative() -> None:
    assert [charts.nice_max(v) for v in (0, 1, 3, 7, 12, 99, 101, 480, 2000)] == [
        4, 4, 4, 8, 20, 100, 200, 800, 2000]
    assert charts.describe(["2026-10", "2026-11"], [("Confirmed", [2, 5]), ("Bounced", [0, 0])]
                           ) == ("from 2026-10 to 2026-11. Confirmed: 7 in all, most in "
                                 "2026-11 (5); Bounced: none.")


def test_a_bar_chart_is_accessible_svg_with_bars_in_proportion() -> None:
    svg = charts.bar_chart("t", "Posts <per> week", ["W1", "W2", "W3"],
                           [("X", [1, 0, 4]), ("Bluesky", [2, 2, 0])])
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t-title t-desc"
    assert root.find(f"{SVG}title").text == "Posts <per> week"  # type: ignore[union-attr]
    assert "X: 5 in all, most in W3 (4)" in root.find(f"{SVG}desc").text  # type: ignore
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = {r.find(f"{SVG}title").text: float(r.get("height", 0))  # type: ignore[union-attr]
               for r in bars}
    assert len(bars) == 4  # zeros draw nothing
    ticks = [t.text for t in root.iter(f"{SVG}text")][:5]
    assert ticks == ["0", "1", "2", "3", "4"]  # whole numbers for counts
    assert heights["X, W3: 4"] == pytest.approx(4 * heights["X, W1: 1"])
    assert heights["Bluesky, W1: 2"] == pytest.approx(2 * heights["X, W1: 1"])


@pytest.fixture
def history(rt: Runtime, web: Any) -> dict[str, Any]:
    """Two sent issues, readers who joined, left and bounced, and published posts."""
    first = approved_issue(rt, [web.url("/page/1"), web.url("/page/2")])  # cosmos, levers
    mark_sent(rt, first.id, dt.datetime(2026, 9, 15, 8, tzinfo=dt.UTC))
    readers = add_readers(rt, 4)
    with rt.db.session() as s:
        issue = s.get(Issue, first.id)
        assert issue is not None
        issue.send_recipients = 4
        for n, sid in enumerate(readers):
            s.add(Delivery(issue_id=first.id, subscriber_id=sid,
                           status="bounced" if n == 3 else "sent"))
            s.add(ConsentEvent(subscriber_id=sid, email_hash=f"h{n}", action="confirm",
                               source="link", at=dt.datetime(2026, 10 + n % 2, 3, tzinfo=dt.UTC)))
        s.add(ConsentEvent(subscriber_id=readers[0], email_hash="h0", action="unsubscribe",
                           source="one-click", at=dt.datetime(2026, 11, 4, tzinfo=dt.UTC)))
        bounced = s.get(Subscriber, readers[3])
        assert bounced is not None
        record(s, Actor("bounces"), "subscriber.bounced", bounced).at = \
            dt.datetime(2026, 11, 5, tzinfo=dt.UTC)
        cosmos_item = s.scalars(select(NewsItem).where(NewsItem.link == web.url("/page/1"))).one()
        s.add(SocialPost(network="bluesky", status="published", kind="news",
                         slot_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
                         published_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
                         item_id=cosmos_item.id, project_id=cosmos_item.project_id,
                         title=cosmos_item.title, idempotency_key="k1",
                         remote_url="https://bsky.app/profile/did:plc:x/post/1"))
        s.add(SocialPost(network="x", status="published", kind="news",
                         slot_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
                         published_at=dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC),
                         item_id=cosmos_item.id, project_id=cosmos_item.project_id,
                         title=cosmos_item.title, idempotency_key="k2",
                         remote_url="https://x.com/i/web/status/1"))
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/later", approve=False)
    return {"issue": first, "item": cosmos_item}


def test_dashboard_figures(rt: Runtime, history: dict[str, Any]) -> None:
    with rt.db.session() as s:
        months = {m.month: m for m in reports.subscribers_by_month(s, NOW)}
        assert len(months) == 12
        assert (months["2026-10"].confirmed, months["2026-11"].confirmed) == (2, 2)
        assert (months["2026-11"].unsubscribed, months["2026-11"].bounced) == (1, 1)
        [sent] = reports.issues_sent(s)
        assert (sent.recipients, sent.delivered, sent.bounced) == (4, 3, 1)
        weeks, per_network = reports.social_by_week(s, NOW)
        assert weeks[-1] == "2026-W47" and per_network["bluesky"][-1] == 1
        assert per_network["x"][-1] == 1 and sum(per_network["facebook"]) == 0
        rows = {p.slug: p for p in reports.items_per_project(s)}
        assert (rows["cosmos"].submitted, rows["cosmos"].approved,
                rows["cosmos"].published) == (2, 1, 0)


def test_visibility_report_and_its_csv(rt: Runtime, history: dict[str, Any]) -> None:
    with rt.db.session() as s:
        report = reports.visibility(s, "cosmos", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    issue = history["issue"]
    assert len(report.items) == 2 and report.featured == 1
    featured = next(i for i in report.items if i["issues"])
    assert featured["issues"] == [issue.number]
    assert sorted(featured["networks"]) == ["bluesky", "x"]
    assert report.issues == [{"number": issue.number, "sent_at": dt.datetime(
        2026, 9, 15, 8, tzinfo=dt.UTC), "subject": issue.subject, "recipients": 4, "items": 1,
        "delivered": 3, "clicks": 0, "views": 0}]
    assert {p["url"] for p in report.posts} == {"https://bsky.app/profile/did:plc:x/post/1",
                                                "https://x.com/i/web/status/1"}
    rows = list(csv.DictReader(io.StringIO(reports.visibility_csv(report))))
    assert [r["type"] for r in rows] == ["item", "item", "newsletter", "social", "social",
                                         "readers"]
    assert rows[2]["recipients"] == "4"
    assert "not featured" in {r["detail"] for r in rows}
    with rt.db.session() as s:
        empty = reports.visibility(s, "cosmos", dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert empty.items == [] and empty.issues == [] and empty.posts == []


def test_the_report_says_how_many_readers_each_item_was_sent_to(
        rt: Runtime, history: dict[str, Any]) -> None:
    item = history["item"]
    with rt.db.session() as s:
        sent = list(s.scalars(select(Delivery).where(Delivery.status == "sent")
                              .order_by(Delivery.id)))
        # Readers chose: one got none of the items, one got this one (and another), one
        # was sent before readers chose (NULL: every item). The bounce got nothing.
        sent[0].items, sent[1].items, sent[2].items = "", f"{item.id + 1000},{item.id}", None
        report = reports.visibility(s, "cosmos", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    by_id = {i["id"]: i for i in report.items}
    assert by_id[item.id]["sent_to"] == 2
    assert [i["sent_to"] for i in report.items if i["id"] != item.id] == [0]  # not sent
    rows = list(csv.DictReader(io.StringIO(reports.visibility_csv(report))))
    assert [r["recipients"] for r in rows if r["type"] == "item"] == ["2", "0"]
    with rt.db.session() as s:  # an id that merely contains this one's digits is not it
        s.scalars(select(Delivery).where(Delivery.status == "sent")
                  .order_by(Delivery.id)).first().items = \
            f"1{item.id},{item.id}1"
        again = reports.visibility(s, "cosmos", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert {i["id"]: i["sent_to"] for i in again.items}[item.id] == 2


def test_report_cli_json_csv_and_bad_input(rt: Runtime, env: dict[str, str],
                                           history: dict[str, Any]) -> None:
    r = run(env, "report", "visibility", "--project", "cosmos", "--from", "2026-01-01",
            "--to", "2026-12-31", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["items_submitted"], data["items_featured"], data["readers_reached"],
            data["social_posts"]) == (2, 1, 4, 2)
    r = run(env, "report", "visibility", "--project", "cosmos")
    assert r.stdout.splitlines()[0] == ('"type","date","title","detail","status","url",'
                                        '"recipients","clicks","archive_views"')
    r = run(env, "report", "visibility", "--project", "nope")
    assert r.returncode == 1 and "no project 'nope'" in r.stderr
    r = run(env, "report", "visibility", "--project", "cosmos", "--from", "2026-12-01",
            "--to", "2026-01-01")
    assert r.returncode == 1 and "starts after it ends" in r.stderr
    r = run(env, "report", "fair-share", "--issues", "1", "--format", "json")
    unfeatured = {p["slug"] for p in json.loads(r.stdout)["projects"]}
    assert "cosmos" not in unfeatured and "levers" not in unfeatured
    assert "steambrace" in unfeatured


def test_the_default_period_is_the_last_365_days_even_from_a_leap_day() -> None:
    assert reports.parse_period("", "2028-02-29", dt.date(2028, 3, 1)) == (
        dt.date(2027, 3, 2), dt.date(2028, 2, 29))
    assert reports.parse_period("", "", dt.date(2026, 11, 21)) == (
        dt.date(2025, 11, 22), dt.date(2026, 11, 21))


def test_fair_share_lists_members_not_featured_lately(rt: Runtime,
                                                      history: dict[str, Any]) -> None:
    with rt.db.session() as s:
        rows = {r.slug: r for r in reports.fair_share(s, 1)}
    assert "cosmos" not in rows  # featured in the last issue
    assert rows["steambrace"].last_number is None


def test_dashboard_page_shows_charts_tables_and_fair_share(editor: Any,
                                                           history: dict[str, Any]) -> None:
    html = editor.get("/editors/").get_data(as_text=True)
    assert html.count('role="img"') == 6
    for table in ("table-subscribers", "table-issues", "table-social", "table-items",
                  "table-clicks", "table-reach"):
        assert f'href="#{table}"' in html and f'id="{table}"' in html
    # Each chart has a visible title, and its link to the table names it.
    for title in ("Subscribers each month", "Issues sent", "Social posts published per week",
                  "Items per project", "Clicks and archive views per issue",
                  "Reach per network"):
        assert f'class="chart-title">{title}</h3>' in html
        assert f">{title}: the figures as a table</a>" in html
    assert "The figures of this chart as a table" not in html
    assert "Not featured in the last" in html and "STEAMbrace" in html
    assert "<td>4</td><td>3</td><td>1</td>" in html  # issue: recipients, delivered, bounced


def test_members_see_their_own_report_only(app: Any, rt: Runtime, editor: Any,
                                           history: dict[str, Any]) -> None:
    make_user(rt, "news@cosmosproject.eu", "member", project="cosmos")
    member = new_client(app)
    login(member, "news@cosmosproject.eu")
    html = member.get("/reports/visibility?from=2026-01-01&to=2026-12-31").get_data(
        as_text=True)
    assert "Visibility report: COSMOS" in html and "https://x.com/i/web/status/1" in html
    assert member.get("/reports/visibility?project=levers").status_code == 403
    r = member.get("/reports/visibility.csv?from=2026-01-01&to=2026-12-31")
    assert r.mimetype == "text/csv" and "newsletter" in r.get_data(as_text=True)
    assert new_client(app).get("/reports/visibility").status_code == 302
    html = editor.get("/reports/visibility?project=levers&from=2026-01-01&to=2026-12-31"
                      ).get_data(as_text=True)
    assert "Visibility report: LEVERS" in html
    assert editor.get("/reports/visibility?from=2026-13-01").status_code == 400


def test_the_dashboard_figures_are_made_again_for_a_change_or_a_new_minute(
        rt: Runtime, test_clock: clock.FakeClock) -> None:
    """Some thirty queries are not repeated for every look at the dashboard, yet a change
    (committed by anyone) or the turn of the minute gives new figures at once."""
    test_clock.set(dt.datetime(2026, 3, 4, 10, 15, 5, tzinfo=dt.UTC))
    first = reports.figures(rt, clock.now())
    assert not any(p.slug == "cosmos" and p.submitted for p in first.per_project)
    again = reports.figures(rt, clock.now() + dt.timedelta(seconds=30))
    if rt.db.change_token() is not None:  # SQLite: nothing changed within the minute
        assert again is first
    add_item(rt, "cosmos", link="https://example.org/new", approve=False)
    changed = reports.figures(rt, clock.now() + dt.timedelta(seconds=31))
    assert changed is not first
    assert [p.submitted for p in changed.per_project if p.slug == "cosmos"] == [1]
    later = reports.figures(rt, clock.now() + dt.timedelta(seconds=60))
    assert later is not changed and later.per_project == changed.per_project
