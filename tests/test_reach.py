"""Evidence of reach without tracking readers: clicks per (issue, item, day) through the
service's signed links, archive views, and what is not counted."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from typing import Any

from sqlalchemy import select

from ostogether import clicks, clock, evidence, reports
from ostogether.mail import delivery
from ostogether.models import ClickCount, Issue, Project
from ostogether.runtime import Runtime
from ostogether.settings import load_settings
from tests.conftest import outbox, run
from tests.factories import TEST, add_readers, approved_issue, mark_sent
from tests.feedserver import FeedServer

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                         "Gecko) Chrome/131.0 Safari/537.36"}


def tracked_links(html: str) -> list[str]:
    return re.findall(r'href="https://ostogether\.test(/r/\d+/\d+/[0-9a-f]+)"', html)


def sent_issue(rt: Runtime, web: FeedServer, n: int = 3) -> Issue:
    issue = approved_issue(rt, [web.url(f"/page/{i}") for i in range(n)])
    mark_sent(rt, issue.id)
    return issue


def total(rt: Runtime, issue_id: int) -> int:
    with rt.db.session() as s:
        return sum(c.clicks for c in s.scalars(select(ClickCount).where(
            ClickCount.issue_id == issue_id)))


def test_every_reader_gets_the_same_signed_links(rt: Runtime, web: FeedServer,
                                                 settings: Any) -> None:
    add_readers(rt, 3)
    issue = approved_issue(rt, [web.url("/page/0"), web.url("/page/1")])
    assert delivery.send(rt, TEST, issue.id).issue_status == "sent"
    mails = outbox(settings)
    per_reader = [sorted(set(tracked_links(m.get_body(("html",)).get_content())))
                  for m in mails]
    assert len(mails) == 3 and per_reader[0] == per_reader[1] == per_reader[2]
    # Two items, and the hidden trap link (item 0).
    items = {p.split("/")[3] for p in per_reader[0]}
    assert len(items) == 3 and "0" in items
    text = mails[0].get_body(("plain",)).get_content()
    assert web.url("/page/0") not in text and "https://ostogether.test/r/" in text


def test_two_clicks_count_two_and_a_head_nothing(rt: Runtime, client: Any, web: FeedServer,
                                                 test_clock: clock.FakeClock) -> None:
    issue = sent_issue(rt, web)
    path = [p for p in tracked_links(issue.snapshot_html) if "/0/" not in p][0]
    item_id = int(path.split("/")[3])
    r = client.get(path, headers=BROWSER)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(web.url("/page/"))
    assert f"utm_source=ostogether&utm_medium=newsletter&utm_campaign=issue-{issue.number}" \
        in r.headers["Location"]
    test_clock.advance(seconds=30)
    client.get(path, headers=BROWSER)
    assert client.head(path, headers=BROWSER).status_code == 302
    client.get(path, headers={**BROWSER, "Sec-Purpose": "prefetch"})
    client.get(path, headers={"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)"})
    client.get(path, headers={"User-Agent": "python-requests/2.32"})
    assert total(rt, issue.id) == 2
    with rt.db.session() as s:
        report = reports.visibility(s, "cosmos", clock.now().date() - dt.timedelta(days=400),
                                    clock.now().date())
    [item] = [i for i in report.items if i["id"] == item_id]
    assert item["clicks"] == 2 and report.clicks == 2
    assert report.as_dict()["clicks"] == 2
    # A link the service did not sign goes nowhere: no open redirect.
    forged = re.sub(r"/[0-9a-f]+$", "/" + "0" * 20, path)
    assert client.get(forged, headers=BROWSER).status_code == 404


def test_scanners_bursts_and_the_trap_take_nothing(rt: Runtime, app: Any, web: FeedServer,
                                                   test_clock: clock.FakeClock) -> None:
    issue = sent_issue(rt, web)
    links = tracked_links(issue.snapshot_html)
    items = [p for p in links if "/0/" not in p]
    trap = next(p for p in links if "/0/" in p)
    gateway = app.test_client()
    gw = {"environ_base": {"REMOTE_ADDR": "198.51.100.20"}}
    # A gateway opens every link of the delivered mail within a second or two.
    for p in items:
        gateway.get(p, headers=BROWSER, **gw)
    assert total(rt, issue.id) == 0  # the first two were taken back with the third
    # Another network follows the trap: what it clicked before, and after, is not counted.
    other = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    gateway.get(items[0], headers=BROWSER, **other)
    assert total(rt, issue.id) == 1
    test_clock.advance(seconds=20)
    gateway.get(trap, headers=BROWSER, **other)
    test_clock.advance(seconds=20)
    gateway.get(items[1], headers=BROWSER, **other)
    assert total(rt, issue.id) == 0
    # A person elsewhere counts.
    test_clock.advance(minutes=5)
    gateway.get(items[1], headers=BROWSER, environ_base={"REMOTE_ADDR": "192.0.2.77"})
    assert total(rt, issue.id) == 1


def test_archive_views_are_counted_without_cookies(rt: Runtime, client: Any,
                                                   web: FeedServer) -> None:
    issue = sent_issue(rt, web)
    for _ in range(3):
        assert client.get(f"/archive/{issue.number}", headers=BROWSER).status_code == 200
    client.head(f"/archive/{issue.number}", headers=BROWSER)
    client.get(f"/archive/{issue.number}", headers={"User-Agent": "Googlebot/2.1"})
    r = client.get(f"/archive/{issue.number}", headers=BROWSER)
    assert "Set-Cookie" not in r.headers
    with rt.db.session() as s:
        views = clicks.views_by_issue(s, [issue.id])
        report = reports.visibility(s, "cosmos", clock.now().date() - dt.timedelta(days=400),
                                    clock.now().date())
    assert views == {issue.id: 4}
    assert report.issues[0]["views"] == 4 and report.views == 4


def test_click_counting_off_sends_links_straight_to_the_items(
        env: dict[str, str], web: FeedServer, rt: Runtime, client: Any) -> None:
    off = Runtime(load_settings(environ={**env, "OSTOGETHER_CLICK_COUNTING": "false"}))
    try:
        issue = approved_issue(off, [web.url("/page/0")])
        assert tracked_links(issue.snapshot_html) == []
        assert f'href="{web.url("/page/0")}"' in issue.snapshot_html
        mark_sent(off, issue.id)
        clicks.record_view(off, issue.number or 0, method="GET", headers=BROWSER)
        with off.db.session() as s:
            assert clicks.views_by_issue(s, [issue.id]) == {}
    finally:
        off.close()


def test_grant_periods_and_the_evidence_pack(rt: Runtime, env: dict[str, str], editor: Any,
                                             web: FeedServer, tmp_path: Any) -> None:
    issue = sent_issue(rt, web)
    path = [p for p in tracked_links(issue.snapshot_html) if "/0/" not in p][0]
    editor.get(path, headers=BROWSER)
    editor.get(f"/archive/{issue.number}", headers=BROWSER)
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert project is not None
        periods = evidence.reporting_periods(project, clock.now().date())
    keys = [p.key for p in periods]
    assert keys[:3] == ["last-12-months", "grant", "rp1"]
    rp1 = periods[2]
    assert rp1.start == project.start_date and "(M1–M18" in rp1.label
    assert periods[-1].end == project.end_date  # the last period ends with the grant

    page = editor.get("/reports/visibility?project=cosmos&period=last-12-months")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Reporting period 1" in html
    assert "<strong>1</strong> click on your items" in html
    r = editor.get("/reports/visibility.zip?project=cosmos&period=last-12-months")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.data)) as zf:
        assert sorted(zf.namelist()) == ["all.csv", "issues.csv", "items.csv", "links.txt",
                                         "posts.csv", "summary.html"]
        links = zf.read("links.txt").decode()
        issues_csv = zf.read("issues.csv").decode("utf-8-sig")
        summary = zf.read("summary.html").decode()
        every = zf.read("all.csv").decode("utf-8-sig")
    assert every.splitlines()[0] == ("type,date,title,detail,status,url,recipients,clicks,"
                                     "archive_views")  # the header row, as in the page's CSV
    assert f"https://ostogether.test/archive/{issue.number}" in links
    row = next(csv.DictReader(io.StringIO(issues_csv)))
    assert (row["clicks_on_project_items"], row["archive_views"]) == ("1", "1")
    assert "1 click(s) on the project's items" in " ".join(summary.split())
    assert editor.get("/reports/visibility?project=cosmos&period=rp99").status_code == 400

    out = tmp_path / "pack.zip"
    r = run(env, "report", "evidence", "--project", "cosmos", "--period", "last-12-months",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(out)
    r = run(env, "report", "periods", "--project", "cosmos")
    assert "rp1" in r.stdout and "grant" in r.stdout
    r = run(env, "report", "visibility", "--project", "cosmos", "--period", "nope")
    assert r.returncode == 1 and "has no period 'nope'" in r.stderr
