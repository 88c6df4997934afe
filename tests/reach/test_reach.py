"""Evidence of reach without tracking readers: clicks per (issue, item, day) through the
service's signed links, archive views, and what is not counted."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from typing import Any

from sqlalchemy import event, select, text

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import ClickCount, Issue, Project, ReachVisit
from ostogether.newsletter import clicks, delivery
from ostogether.reach import evidence, reports
from ostogether.reach.reports import CSV_COLUMNS
from tests.conftest import outbox, run
from tests.factories import TEST, add_readers, approved_issue, mark_sent, pg_rows_read
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


def midday(rt: Runtime, test_clock: clock.FakeClock) -> dt.datetime:
    """Noon of today in the community's zone: a test's hits stay within one of its days,
    whatever the instant and zone the suite runs at."""
    noon = dt.datetime.combine(rt.today(), dt.time(12),
                               tzinfo=rt.community.schedule().zone)
    test_clock.set(noon)
    return noon


def at(address: str, agent: str = BROWSER["User-Agent"]) -> dict[str, Any]:
    """A request's keywords for a visitor at ``address`` with a browser's user agent."""
    return {"headers": {"User-Agent": agent}, "environ_base": {"REMOTE_ADDR": address}}


def item_paths(issue: Issue) -> tuple[list[str], str]:
    links = tracked_links(issue.snapshot_html)
    return [p for p in links if "/0/" not in p], next(p for p in links if "/0/" in p)


def test_one_click_per_link_and_visitor_a_day_and_a_head_nothing(
        rt: Runtime, client: Any, web: FeedServer, test_clock: clock.FakeClock) -> None:
    """200 GETs of one link from one client used to count 200 clicks."""
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    path = item_paths(issue)[0][0]
    item_id = int(path.split("/")[3])
    r = client.get(path, headers=BROWSER)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(web.url("/page/"))
    assert f"utm_source=ostogether&utm_medium=newsletter&utm_campaign=issue-{issue.number}" \
        in r.headers["Location"]
    for _ in range(199):  # the same visitor, all day long: one click
        test_clock.advance(seconds=60)
        assert client.get(path, headers=BROWSER).status_code == 302
    assert client.head(path, headers=BROWSER).status_code == 302
    client.get(path, headers={**BROWSER, "Sec-Purpose": "prefetch"})
    client.get(path, headers={"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)"})
    client.get(path, headers={"User-Agent": "python-requests/2.32"})
    assert total(rt, issue.id) == 1
    # Another address is another visitor; so is another browser at the same address.
    client.get(path, **at("192.0.2.77"))
    client.get(path, **at("192.0.2.77", BROWSER["User-Agent"].replace("131", "132")))
    # Twenty addresses of one IPv6 /64 are one client, as for the rate limits.
    for n in range(20):
        client.get(path, **at(f"2001:db8:5:6::{n + 1:x}"))
    client.get(path, **at("2001:db8:5:7::1"))  # the next /64 is somebody else
    assert total(rt, issue.id) == 5
    # The next day, the same visitor may count once more.
    test_clock.advance(days=1)
    client.get(path, headers=BROWSER)
    client.get(path, headers=BROWSER)
    assert total(rt, issue.id) == 6
    with rt.db.session() as s:
        report = reports.visibility(s, "cosmos", rt.today() - dt.timedelta(days=400),
                                    rt.today())
    [item] = [i for i in report.items if i["id"] == item_id]
    assert item["clicks"] == 6 and report.clicks == 6
    assert report.as_dict()["clicks"] == 6
    # A link the service did not sign goes nowhere: no open redirect.
    forged = re.sub(r"/[0-9a-f]+$", "/" + "0" * 20, path)
    assert client.get(forged, headers=BROWSER).status_code == 404


def test_scanners_bursts_and_the_trap_take_nothing(rt: Runtime, app: Any, web: FeedServer,
                                                   test_clock: clock.FakeClock) -> None:
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    items, trap = item_paths(issue)
    gateway = app.test_client()
    # A gateway opens every link of the delivered mail within a second or two.
    for p in items:
        gateway.get(p, **at("198.51.100.20"))
    assert total(rt, issue.id) == 0  # the first two were taken back with the third
    # Another visitor follows the trap: what it clicked before, and after, is not counted.
    gateway.get(items[0], **at("203.0.113.9"))
    assert total(rt, issue.id) == 1
    test_clock.advance(seconds=20)
    gateway.get(trap, **at("203.0.113.9"))
    test_clock.advance(seconds=20)
    gateway.get(items[1], **at("203.0.113.9"))
    assert total(rt, issue.id) == 0
    # A person elsewhere counts.
    test_clock.advance(minutes=5)
    gateway.get(items[1], **at("192.0.2.77"))
    assert total(rt, issue.id) == 1


def test_the_trap_takes_back_only_its_own_visitors_clicks(
        rt: Runtime, app: Any, web: FeedServer, test_clock: clock.FakeClock) -> None:
    """One hit on the trap took back every click of its /24 (1,451 → 0) and stopped
    counting for an hour; now it discounts the visitor who followed it, and only them."""
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    items, trap = item_paths(issue)
    visitor = app.test_client()
    for n in range(40):  # colleagues in one office network, one click each
        visitor.get(items[n % 3], **at(f"198.51.100.{n + 1}"))
        test_clock.advance(seconds=30)
    visitor.get(f"/archive/{issue.number}", **at("198.51.100.1"))
    assert total(rt, issue.id) == 40
    # Somebody in the same /24, and the first colleague with another browser, take the trap.
    for who in (at("198.51.100.200"), at("198.51.100.1", "Mozilla/5.0 Firefox/140.0")):
        assert visitor.get(trap, **who).status_code == 302
    assert total(rt, issue.id) == 40
    # The first colleague's own browser takes it: their click and view are taken back.
    visitor.get(trap, **at("198.51.100.1"))
    assert total(rt, issue.id) == 39
    with rt.db.session() as s:
        assert clicks.views_by_issue(s, [issue.id]) == {issue.id: 0}
    # Nobody else stops counting, now or later.
    test_clock.advance(seconds=30)
    visitor.get(items[0], **at("198.51.100.77"))
    visitor.get(items[2], **at("198.51.100.2"))
    visitor.get(items[1], **at("198.51.100.1"))  # the one who took the trap: not today
    assert total(rt, issue.id) == 41


def test_the_public_archive_has_no_trap_link(rt: Runtime, client: Any, web: FeedServer) -> None:
    issue = sent_issue(rt, web)
    items, trap = item_paths(issue)
    assert trap in issue.snapshot_html  # the mail keeps it, for the scanners of the mail
    page = client.get(f"/archive/{issue.number}", headers=BROWSER).get_data(as_text=True)
    assert f"/r/{issue.number}/0/" not in page and "&#8203;" not in page
    assert all(p in page for p in items)  # the items' own links are all there


def test_archive_views_count_once_per_visitor_a_day_without_cookies(
        rt: Runtime, client: Any, web: FeedServer, test_clock: clock.FakeClock) -> None:
    """100 GETs of /archive/10 used to count 100 views."""
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    for _ in range(100):
        assert client.get(f"/archive/{issue.number}", headers=BROWSER).status_code == 200
    client.head(f"/archive/{issue.number}", headers=BROWSER)
    client.get(f"/archive/{issue.number}", headers={"User-Agent": "Googlebot/2.1"})
    r = client.get(f"/archive/{issue.number}", **at("192.0.2.5"))
    assert "Set-Cookie" not in r.headers
    test_clock.advance(days=1)
    client.get(f"/archive/{issue.number}", headers=BROWSER)
    with rt.db.session() as s:
        views = clicks.views_by_issue(s, [issue.id])
        report = reports.visibility(s, "cosmos", rt.today() - dt.timedelta(days=400),
                                    rt.today())
    assert views == {issue.id: 3}
    assert report.issues[0]["views"] == 3 and report.views == 3


def test_a_visitor_is_a_keyed_hash_kept_for_its_day_only(
        rt: Runtime, client: Any, web: FeedServer, test_clock: clock.FakeClock) -> None:
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    path = item_paths(issue)[0][0]
    address, agent = "192.0.2.41", BROWSER["User-Agent"]
    client.get(path, **at(address))
    client.get(f"/archive/{issue.number}", **at(address))
    with rt.db.session() as s:
        rows = list(s.scalars(select(ReachVisit)))
    assert {r.kind for r in rows} == {"click", "view"} and len({r.visitor for r in rows}) == 1
    stored = rows[0].visitor
    # Neither the address nor an unkeyed hash of it (a dictionary of 2**32 addresses
    # would undo that) is kept: only an HMAC under a key made from the secret and the day.
    unkeyed = {hashlib.sha256(v.encode()).hexdigest()[:32] for v in (
        address, f"{address}\n{agent}", f"{address}{agent}", f"{address}|{agent}")}
    assert re.fullmatch(r"[0-9a-f]{32}", stored) and stored not in unkeyed
    assert address not in stored
    assert stored == clicks.visitor(rt, address, agent, rt.today())
    tomorrow = rt.today() + dt.timedelta(days=1)
    assert clicks.visitor(rt, address, agent, tomorrow) != stored  # the key turns daily
    # The next day: the first hits delete the past day's rows, and so does the job.
    test_clock.advance(days=1)
    client.get(path, **at("192.0.2.42"))
    with rt.db.session() as s:
        assert [(r.day, r.visitor != stored) for r in s.scalars(select(ReachVisit))] == [
            (rt.today(), True)]
    with rt.db.session() as s:
        s.add(ReachVisit(day=rt.today() - dt.timedelta(days=1), visitor="0" * 32,
                         kind="click", issue_id=issue.id, item_id=1, at=clock.now()))
    run = jobs.run(rt, "purge_visitors")
    assert run.outcome == "ok" and "1 visit(s) of past days deleted" in run.summary
    with rt.db.session() as s:
        assert [r.day for r in s.scalars(select(ReachVisit))] == [rt.today()]
    assert jobs.run(rt, "purge_visitors").outcome == "skipped"
    # The figures themselves stay: one click on each of the two days.
    assert total(rt, issue.id) == 2


def test_click_counting_off_sends_links_straight_to_the_items(
        env: dict[str, str], web: FeedServer, rt: Runtime, client: Any) -> None:
    off = Runtime(load_settings(environ={**env, "OSTOGETHER_CLICK_COUNTING": "false"}))
    try:
        issue = approved_issue(off, [web.url("/page/0")])
        assert tracked_links(issue.snapshot_html) == []
        assert f'href="{web.url("/page/0")}"' in issue.snapshot_html
        mark_sent(off, issue.id)
        clicks.record_view(off, issue.number or 0, method="GET", headers=BROWSER,
                           ip="192.0.2.1")
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
    assert next(csv.reader(io.StringIO(every))) == list(CSV_COLUMNS)  # its header row
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


def _measured(engine: Any, hit: Any) -> tuple[list[tuple[str, Any]], int]:
    """The statements ``hit()`` sends through ``engine``, and on SQLite the virtual machine
    instructions they took, which grow with every row a statement reads (an index search
    is a few instructions, whatever the size of the table)."""
    seen: list[tuple[str, Any]] = []
    steps = [0]
    connections: set[Any] = set()

    def step() -> int:
        steps[0] += 1
        return 0

    def note(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            seen.append((sql, params))
        if engine.dialect.name == "sqlite":
            cursor.connection.set_progress_handler(step, 1)
            connections.add(cursor.connection)
    event.listen(engine, "before_cursor_execute", note)
    try:
        hit()
    finally:
        event.remove(engine, "before_cursor_execute", note)
        for c in connections:
            c.set_progress_handler(None, 1)
    return seen, steps[0]


def test_a_hit_costs_the_same_at_the_first_and_after_thousands(
        rt: Runtime, app: Any, web: FeedServer, test_clock: clock.FakeClock) -> None:
    """Each /r/ hit loaded every event of its network in the last hour, inside a write
    transaction: 39 ms at first, 121 ms after 1,500 hits. Now a hit is a few searches of
    the unique key: the same statements at the first hit and after 600 others, reading
    no more rows (SQLite: as many instructions, no scan, no sort; PostgreSQL: a few rows
    read, by EXPLAIN ANALYZE)."""
    midday(rt, test_clock)
    issue = sent_issue(rt, web)
    items, trap = item_paths(issue)
    client, engine = app.test_client(), app.extensions["ostogether"].db.engine

    def hits(n: int) -> dict[str, Any]:
        """A new visitor's click, the same visitor's repeat, a view (the count alone: the
        page itself is kept once made), a click on another item, and a trap hit."""
        ip = f"2001:db8:1:{n:x}::1"
        return {"click": (engine, lambda: client.get(items[0], **at(ip))),
                "repeat": (engine, lambda: client.get(items[0], **at(ip))),
                "view": (rt.db.engine, lambda: clicks.record_view(
                    rt, issue.number or 0, method="GET", headers=BROWSER, ip=ip)),
                "other item": (engine, lambda: client.get(items[1], **at(ip))),
                "trap": (engine, lambda: client.get(trap, **at(ip)))}

    first = {name: _measured(*hit) for name, hit in hits(0xffff).items()}
    # 600 other readers, all in one /48 (what used to be one "network"), click.
    for n in range(600):
        client.get(items[n % 2], **at(f"2001:db8:1:{n:x}::1"))
    if rt.db.engine.dialect.name == "postgresql":  # as autovacuum does after such a day
        with rt.db.session() as s:
            s.execute(text("ANALYZE reach_visits"))
    test_clock.advance(seconds=30)
    later = {name: _measured(*hit) for name, hit in hits(0xfffe).items()}
    for name, (statements, steps) in later.items():
        assert statements and [sql for sql, _ in statements] == [
            sql for sql, _ in first[name][0]], name
        assert steps <= first[name][1] + 10, (name, steps, first[name][1])
    # A repeat only reads: it commits nothing, so on SQLite it leaves every web process's
    # kept pages alone (the change signal stays as it was).
    assert all(sql.lstrip().upper().startswith("SELECT") for sql, _ in later["repeat"][0])
    with engine.connect() as conn:
        for name, (statements, _) in later.items():
            for sql, params in statements:
                if engine.dialect.name == "postgresql":
                    read, plan = pg_rows_read(conn, sql, params)
                    assert read <= 10, f"{name}: {read} rows read: {sql}: {plan}"
                else:
                    plan = "; ".join(r[-1] for r in conn.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + sql, params))
                    assert "SCAN " not in plan.replace("SCAN CONSTANT ROW", "") and \
                        "TEMP B-TREE" not in plan, f"{name}: {sql}: {plan}"
        conn.rollback()  # EXPLAIN ANALYZE ran the statements
    assert total(rt, issue.id) == 600  # theirs; the two measured visitors took the trap
