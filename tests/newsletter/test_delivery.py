"""The delivery engine against a real SMTP server (aiosmtpd), well-behaved or not."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, update

from ostogether.core.errors import Conflict
from ostogether.core.settings import load_settings
from ostogether.edges.render import personalise
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.message import delivery_from_token
from ostogether.models import Delivery, Issue, NewsItem, Subscriber, Suppression
from ostogether.newsletter import archive, delivery
from ostogether.newsletter import issues as newsletter
from ostogether.readers import subscribers
from tests.conftest import child_env, finish, free_port, wait_for
from tests.factories import TEST, add_item, add_readers, approved_issue, pg_rows_read
from tests.feedserver import FeedServer, Route, picture
from tests.smtpsink import FlakySink, smtp_env, started_sink


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    yield from started_sink()


@pytest.fixture
def env(env: dict[str, str], sink: FlakySink) -> dict[str, str]:
    return smtp_env(env, sink)


@pytest.fixture
def issue(rt: Runtime, web: FeedServer) -> Issue:
    return approved_issue(rt, [web.url(f"/page/{n}") for n in range(3)])


def ledger(rt: Runtime, issue_id: int) -> dict[int, Delivery]:
    with rt.db.session() as s:
        return {d.subscriber_id: d for d in s.scalars(select(Delivery).where(
            Delivery.issue_id == issue_id))}


def emails(rt: Runtime, ids: list[int]) -> dict[int, str]:
    with rt.db.session() as s:
        return {sid: e for sid, e in s.execute(select(Subscriber.id, Subscriber.email).where(
            Subscriber.id.in_(ids))).all()}


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n")


# ------------------------------------------------------------------ a full send

def test_a_full_send_reaches_each_reader_once_with_every_header(
        rt: Runtime, issue: Issue, sink: FlakySink) -> None:
    readers = add_readers(rt, 30)
    add_readers(rt, 3, status="pending", domain="pending.test")
    add_readers(rt, 2, status="unsubscribed", domain="gone.test")
    progress: list[int] = []
    st = delivery.send(rt, TEST, issue.id, progress=lambda p: progress.append(p.finished))
    assert st.issue_status == "sent" and st.counts["sent"] == 30 and st.recipients == 30
    assert progress[-1] == 30 and progress == sorted(progress)
    per_reader = sink.per_reader()
    by_id = emails(rt, readers)
    assert sorted(per_reader) == sorted(by_id.values())  # confirmed readers only
    assert set(per_reader.values()) == {1}
    rows = ledger(rt, issue.id)
    secret = secret_key(rt.settings)
    with rt.db.session() as s:
        snapshot = s.get(Issue, issue.id)
        assert snapshot is not None
        for mail_from, rcpt, msg in sink.received:
            sid = next(k for k, v in by_id.items() if v == rcpt)
            row = rows[sid]
            # VERP: the envelope sender names this delivery, signed.
            assert re.fullmatch(r"bounces\+d\d+-[0-9a-f]{12}@ecsite\.eu", mail_from), mail_from
            assert delivery_from_token(secret, mail_from) == row.id
            assert msg["Message-ID"] == row.message_id and row.status == "sent"
            assert msg["Subject"] == snapshot.snapshot_subject
            assert msg["List-Id"] == "OStogether newsletter <newsletter.ecsite.eu>"
            assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert msg["Reply-To"] and msg["Date"] and msg["From"]
            https, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
            assert mailto == f"mailto:{mail_from}?subject=unsubscribe"
            token = https.removeprefix("https://ostogether.test/u/")
            assert subscribers.by_link(rt, s, token).id == sid  # the reader's own link
            assert msg.get_content_type() == "multipart/alternative"
            text, html = msg.get_body(("plain",)), msg.get_body(("html",))
            assert text is not None and html is not None
            values = {"unsubscribe_url": https,
                      "preferences_url": https.replace("/u/", "/p/"),
                      "web_url": f"https://ostogether.test/archive/{snapshot.number}"}
            # Exactly what the pure personalisation gives for this reader (lines end in
            # CRLF on the wire, as RFC 5322 wants).
            # A reader who chose nothing gets the whole issue, its marks gone.
            key = newsletter.issue_key(rt, snapshot)
            whole = newsletter.whole(rt, snapshot, newsletter.marked(rt, snapshot))
            assert crlf(text.get_content()) == personalise(whole.text, values,
                                                           key, is_html=False)
            assert crlf(html.get_content()) == personalise(whole.html, values,
                                                           key, is_html=True)
        items = s.scalars(select(NewsItem.status)).all()
        assert set(items) == {"published"}
        assert archive.sent_issue(s, snapshot.number or 0).sent_at is not None  # archived


TRAP = "%%unsubscribe_url%%"


def test_a_member_cannot_make_the_issue_carry_readers_links(rt: Runtime, web: FeedServer,
                                                            sink: FlakySink) -> None:
    """A member writes the placeholders into every field of an item. Readers get those
    characters as typed, and their own links only where the template puts them."""
    web.routes["/pic.png"] = Route(picture(), content_type="image/png")
    add_item(rt, "cosmos", "news", link=web.url("/page/1") + "?u=" + TRAP,
             title=f"Read {TRAP} and %%preferences_url%%",
             summary=f"Click [here]({web.url('/page/2')}?t={TRAP}) or %%web_url%%.",
             image_url=web.url("/pic.png") + "?u=" + TRAP, image_alt=f"alt {TRAP}")
    issue = newsletter.compose_next(rt, TEST)
    newsletter.update_details(rt, TEST, issue.id, subject="Issue " + TRAP,
                              preheader="Pre %%web_url%%",
                              intro_md=f"Editors' note {TRAP} [x]({web.url('/page/4')}?{TRAP})")
    # What editors preview is what readers get: the typed characters, not a link.
    with rt.db.session() as s:
        preview = newsletter.public_rendering(rt, newsletter.get_issue(s, issue.id))
    assert preview.html.count(TRAP) >= 4 and preview.text.count(TRAP) >= 3
    newsletter.approve(rt, TEST, issue.id)
    add_readers(rt, 3)
    assert delivery.send(rt, TEST, issue.id).counts["sent"] == 3
    for _, _, msg in sink.received:
        https = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])[0]
        token = https.rsplit("/", 1)[1]
        for part in (msg.get_body(("plain",)), msg.get_body(("html",))):
            assert part is not None
            body = part.get_content()
            assert TRAP in body and "%%web_url%%" in body
            # The reader's token appears only in the footer's own links.
            assert body.count(token) == 2, part.get_content_type()  # unsubscribe, preferences
            assert "/page/3?u=http" not in body  # the image URL kept its typed text


def test_recipients_are_frozen_when_the_send_starts(rt: Runtime, issue: Issue,
                                                    sink: FlakySink) -> None:
    first = add_readers(rt, 5)
    delivery.start(rt, TEST, issue.id)
    add_readers(rt, 2, domain="late.test")  # confirmed after the start: not added
    with rt.db.session() as s:  # unsubscribed after the start: not mailed
        gone = s.get(Subscriber, first[0])
        assert gone is not None
        gone.status = "unsubscribed"
    st = delivery.run(rt, issue.id)
    assert st.recipients == 5 and st.counts["sent"] == 4 and st.counts["cancelled"] == 1
    assert sorted(sink.per_reader()) == sorted(emails(rt, first[1:]).values())
    assert ledger(rt, issue.id)[first[0]].last_error == "the reader is unsubscribed now"


def test_only_an_approved_issue_is_sent(rt: Runtime, web: FeedServer) -> None:
    issue = approved_issue(rt, [web.url("/page/0")])
    with rt.db.session() as s:
        row = s.get(Issue, issue.id)
        assert row is not None
        row.status = "in_review"
    with pytest.raises(Conflict, match="only an approved issue can be sent"):
        delivery.start(rt, TEST, issue.id)


# ------------------------------------------------------------------ misbehaving servers

@pytest.fixture
def flaky(sink: FlakySink) -> FlakySink:
    sink.defer, sink.drop = 0.10, 0.03
    return sink


def test_a_flaky_server_loses_nothing_and_duplicates_nothing(
        rt: Runtime, issue: Issue, flaky: FlakySink, env: dict[str, str]) -> None:
    readers = add_readers(rt, 400)
    by_id = emails(rt, readers)
    refused = sorted(by_id.values())[::100]  # 1%: mailboxes that do not exist
    flaky.refuse = frozenset(refused)
    rt.settings = load_settings(environ={**env, "OSTOGETHER_DELIVERY_MAX_ATTEMPTS":
                                         "10", "OSTOGETHER_DELIVERY_CONCURRENCY": "3"})
    st = delivery.send(rt, TEST, issue.id)
    assert flaky.deferred > 20 and flaky.dropped > 5  # the server did misbehave
    assert st.issue_status == "sent"
    assert st.counts["sent"] == 400 - len(refused)
    assert st.counts["bounced"] == len(refused) and st.counts["failed"] == 0
    per_reader = flaky.per_reader()
    assert set(per_reader.values()) == {1}, "a reader got the issue twice"
    assert sorted(per_reader) == sorted(set(by_id.values()) - set(refused))
    rows = ledger(rt, issue.id)
    with rt.db.session() as s:
        for sid, address in by_id.items():
            if address in refused:
                assert rows[sid].status == "bounced" and "5.1.1" in rows[sid].last_error
                sub = s.get(Subscriber, sid)
                assert sub is not None and sub.status == "bounced"  # 5.1.1: at once
                assert s.scalar(select(Suppression).where(
                    Suppression.email_hash == sub.email_hash)) is not None
    assert max(r.attempts for r in rows.values()) > 1  # deferred rows were retried


def test_a_deferred_message_fails_after_the_last_attempt(rt: Runtime, issue: Issue,
                                                         sink: FlakySink) -> None:
    add_readers(rt, 3)
    sink.defer = 1.0  # never takes anything
    st = delivery.send(rt, TEST, issue.id)
    assert st.counts["failed"] == 3 and st.issue_status == "sent"
    rows = ledger(rt, issue.id).values()
    assert {r.attempts for r in rows} == {rt.settings.delivery_max_attempts}
    assert all("451 4.3.0 Try again later" in r.last_error for r in rows)


def test_an_unreachable_server_pauses_the_send_and_nothing_is_lost(
        rt: Runtime, issue: Issue, sink: FlakySink, env: dict[str, str]) -> None:
    add_readers(rt, 12)
    good = rt.settings
    rt.settings = load_settings(environ={**env,
                                         "OSTOGETHER_SMTP_PORT": str(free_port())})
    st = delivery.send(rt, TEST, issue.id)
    assert st.state == "waiting" and "Cannot connect to the SMTP server" in st.note
    assert st.counts["queued"] == 12 and st.counts["sent"] == 0 and st.resume_at
    assert {r.attempts for r in ledger(rt, issue.id).values()} == {0}
    assert delivery.due_sends(rt) == []  # not before its wait is over
    rt.settings = good
    st = delivery.run(rt, issue.id)  # a run clears the wait and goes on
    assert st.issue_status == "sent" and st.counts["sent"] == 12
    assert len(sink.received) == 12


def test_pause_resume_and_cancel(rt: Runtime, issue: Issue, sink: FlakySink,
                                 env: dict[str, str]) -> None:
    add_readers(rt, 100)
    rt.settings = load_settings(environ={**env,
                                         "OSTOGETHER_DELIVERY_BATCH_SIZE": "10",
                                         "OSTOGETHER_DELIVERY_RATE": "200"})
    paused = []

    def pause_once(p: delivery.Progress) -> None:
        if p.finished >= 20 and not paused:
            paused.append(delivery.pause(rt, TEST, issue.id))

    st = delivery.send(rt, TEST, issue.id, progress=pause_once)
    assert st.state == "paused" and st.issue_status == "sending"
    assert 20 <= st.counts["sent"] < 100 and st.counts["sending"] == 0
    with pytest.raises(Conflict, match="is paused"):
        delivery.run(rt, issue.id)
    delivery.resume(rt, TEST, issue.id)
    half = []

    def cancel_once(p: delivery.Progress) -> None:
        if p.finished >= 50 and not half:
            half.append(delivery.cancel(rt, TEST, issue.id))

    st = delivery.run(rt, issue.id, progress=cancel_once)
    assert st.issue_status == "sent" and st.state == "cancelled"
    assert st.counts["sent"] + st.counts["cancelled"] == 100 and st.counts["cancelled"] > 0
    assert len(sink.received) == st.counts["sent"]


def test_cancelling_before_anyone_got_it_cancels_the_issue(rt: Runtime, issue: Issue,
                                                           sink: FlakySink) -> None:
    add_readers(rt, 5)
    delivery.start(rt, TEST, issue.id)
    st = delivery.cancel(rt, TEST, issue.id)
    assert st.issue_status == "cancelled" and st.counts["cancelled"] == 5
    assert sink.received == []
    with rt.db.session() as s:
        row = s.get(Issue, issue.id)
        assert row is not None and row.number is None  # the number is free again
        assert set(s.scalars(select(NewsItem.status))) == {"approved"}


def test_status_as_json_counts_each_state(rt: Runtime, issue: Issue, sink: FlakySink,
                                          env: dict[str, str]) -> None:
    import json

    from tests.conftest import run

    add_readers(rt, 4)
    r = run(env, "issue", "send", str(issue.number))
    assert r.returncode == 0, r.stderr
    assert f"Issue #{issue.number}: 4 sent, 0 bounced" in r.stdout
    r = run(env, "issue", "status", str(issue.number), "--format", "json")
    data = json.loads(r.stdout)
    assert data["counts"]["sent"] == 4 and data["issue_status"] == "sent"
    assert data["recipients"] == 4 and data["messages_per_second"] > 0


def test_a_name_with_a_line_break_is_refused_not_sent(rt: Runtime, issue: Issue,
                                                      sink: FlakySink) -> None:
    [sid] = add_readers(rt, 1)
    with rt.db.session() as s:
        sub = s.get(Subscriber, sid)
        assert sub is not None
        sub.name = "Eve\r\nBcc: victim@example.org"
    st = delivery.send(rt, TEST, issue.id)
    assert sink.received == [] and st.counts["failed"] == 1
    assert "line break" in ledger(rt, issue.id)[sid].last_error


# ------------------------------------------------------------------ crashes

def _send_in_subprocess(env: dict[str, str], number: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ostogether", "issue", "send", str(number)],
                            env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _kill_after(proc: subprocess.Popen[str], sink: FlakySink, received: int) -> None:
    def far_enough() -> bool:
        assert proc.poll() is None, proc.communicate()
        return len(sink.received) >= received

    wait_for(far_enough, seconds=60, interval=0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped: the next run must see this process as gone


def test_a_send_killed_at_several_points_resumes_within_the_in_flight_window(
        rt: Runtime, issue: Issue, sink: FlakySink, env: dict[str, str]) -> None:
    readers = add_readers(rt, 300)
    sink.delay = 0.003
    batch = int(env["OSTOGETHER_DELIVERY_BATCH_SIZE"])
    for point in (10, 120, 230):
        _kill_after(_send_in_subprocess(env, issue.number or 0), sink, point)
        st = delivery.status(rt, issue.id)
        assert st.issue_status == "sending" and st.counts["sending"] > 0  # orphaned rows
    proc = _send_in_subprocess(env, issue.number or 0)
    stdout, stderr = finish(proc, 120)
    assert proc.returncode == 0, stderr
    st = delivery.status(rt, issue.id)
    assert st.issue_status == "sent" and st.counts["sent"] == 300
    per_reader = sink.per_reader()
    assert sorted(per_reader) == sorted(emails(rt, readers).values())  # nobody is missed
    duplicates = sum(n - 1 for n in per_reader.values())
    # Only rows a killed process had claimed can arrive twice: at most a batch per kill,
    # and the report counts every row sent again.
    assert duplicates <= st.resent <= 3 * batch
    assert f"{st.resent} message(s) were in flight" in stdout


def test_rows_in_flight_at_a_crash_can_be_held_for_an_editor(
        rt: Runtime, issue: Issue, sink: FlakySink, env: dict[str, str]) -> None:
    from tests.conftest import run

    add_readers(rt, 120)
    sink.delay = 0.003
    env = {**env, "OSTOGETHER_DELIVERY_RESEND_INTERRUPTED": "false"}
    _kill_after(_send_in_subprocess(env, issue.number or 0), sink, 30)
    r = run(env, "issue", "send", str(issue.number))
    assert r.returncode == 0, r.stderr
    st = delivery.status(rt, issue.id)
    assert st.held > 0 and st.counts["held"] == st.held and st.issue_status == "sending"
    assert "held after a crash" in r.stdout
    got = len(sink.received)
    r = run(env, "issue", "held", str(issue.number), "--resend")
    assert f"{st.held} held message(s) queued again" in r.stdout
    r = run(env, "issue", "send", str(issue.number))
    st = delivery.status(rt, issue.id)
    assert st.issue_status == "sent" and st.counts["sent"] == 120
    assert len(sink.received) == got + st.held  # the held ones, sent once more


def test_two_processes_share_one_send_without_sending_twice(
        rt: Runtime, issue: Issue, sink: FlakySink, env: dict[str, str]) -> None:
    readers = add_readers(rt, 400)
    sink.delay = 0.002
    delivery.start(rt, TEST, issue.id)
    env = {**env, "OSTOGETHER_DELIVERY_BATCH_SIZE": "10"}
    procs = [_send_in_subprocess(env, issue.number or 0) for _ in range(2)]
    for proc in procs:
        _, stderr = finish(proc, 120)
        assert proc.returncode == 0, stderr
    st = delivery.status(rt, issue.id)
    assert st.issue_status == "sent" and st.counts["sent"] == 400 and st.resent == 0
    per_reader = sink.per_reader()
    assert sorted(per_reader) == sorted(emails(rt, readers).values())
    assert set(per_reader.values()) == {1}
    with rt.db.session() as s:
        workers = set(s.scalars(select(Delivery.claimed_by).where(
            Delivery.issue_id == issue.id)))
    # Both processes took part: on PostgreSQL through SKIP LOCKED; on SQLite the guarded
    # claim serialises them, and the second may find the work done.
    assert len(workers) == 2 or rt.db.engine.dialect.name == "sqlite"


# ------------------------------------------------------------------ the claim

def _claimer(rt: Runtime, issue: Issue, env: dict[str, str], batch: int) -> Any:
    """A sending process's database side, without its threads: claim() returns the row
    ids one claim took, and forgets them, as if they had been sent."""
    rt.settings = load_settings(environ={**env, "OSTOGETHER_DELIVERY_BATCH_SIZE": str(batch)})
    run = delivery._Run(rt, issue.id, None, None)
    run._begin()

    def claim() -> list[int]:
        with rt.db.session() as s:
            run._claim(s)
        taken = [job.delivery_id for job in run.pending]
        run.pending.clear()
        run.inflight.clear()
        return taken
    return claim


def _ledger_ids(rt: Runtime, issue: Issue) -> list[int]:
    with rt.db.session() as s:
        return sorted(s.scalars(select(Delivery.id).where(Delivery.issue_id == issue.id)))


def test_a_claim_goes_on_from_the_last_batch_then_comes_back_for_rows_behind(
        rt: Runtime, issue: Issue, env: dict[str, str]) -> None:
    add_readers(rt, 6)
    delivery.start(rt, TEST, issue.id)
    ids = _ledger_ids(rt, issue)
    claim = _claimer(rt, issue, env, batch=2)
    assert claim() == ids[:2]
    with rt.db.session() as s:  # the first row goes back to the queue, as a retry does
        s.execute(update(Delivery).where(Delivery.id == ids[0])
                  .values(status="queued", claimed_by=None))
    assert claim() == ids[2:4]
    assert claim() == ids[4:6]
    assert claim() == [ids[0]]  # the forward pass is done: back for the row behind
    assert claim() == []


def test_a_claim_reads_the_batch_it_takes_not_the_ledger(
        rt: Runtime, issue: Issue, env: dict[str, str]) -> None:
    """On PostgreSQL a claim used to sort every queued row of the issue to take the first
    few, or to walk every row sent so far: a send of N readers cost O(N²). (SQLite's plan
    was an index range already; here it must stay free of scans and sorts.)"""
    add_readers(rt, 3000)
    delivery.start(rt, TEST, issue.id)
    ids = _ledger_ids(rt, issue)
    claim = _claimer(rt, issue, env, batch=100)
    for n in range(20):  # 2,000 rows sent, 1,000 still queued
        taken = claim()
        assert taken == ids[n * 100:(n + 1) * 100]
        with rt.db.session() as s:
            s.execute(update(Delivery).where(Delivery.id.in_(taken)).values(status="sent"))
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any,
             many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            statements.append((sql, params))
    event.listen(rt.db.engine, "before_cursor_execute", seen)
    try:
        assert claim() == ids[2000:2100]
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", seen)
    assert len(statements) >= 2  # the claim and the readers' rows
    with rt.db.engine.connect() as conn:
        for sql, params in statements:
            if rt.db.engine.dialect.name == "postgresql":
                read, plan = pg_rows_read(conn, sql, params)
                assert read <= 300, f"{read} rows read for a batch of 100: {sql}: {plan}"
            else:  # SQLite: index searches only, no full scan, no sort
                plan = "; ".join(r[-1] for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + sql, params))
                assert "SCAN " not in plan and "TEMP B-TREE" not in plan, f"{sql}: {plan}"
        conn.rollback()  # EXPLAIN ANALYZE ran the statements
