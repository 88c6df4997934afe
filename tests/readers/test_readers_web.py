"""Editors' subscriber pages and the send controls on an issue's page."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from ostogether.models import Subscriber, Suppression
from ostogether.newsletter import delivery
from ostogether.readers import subscribers
from tests.conftest import (
    login,
    new_client,
    outbox,
    post,
)
from tests.factories import TEST, add_readers, approved_issue, make_user
from tests.feedserver import FeedServer


def test_the_list_counts_searches_and_exports(editor: Any, rt: Runtime) -> None:
    add_readers(rt, 3)
    add_readers(rt, 2, status="unsubscribed", domain="left.test")
    html = editor.get("/editors/subscribers/").get_data(as_text=True)
    assert "confirmed</a>: <strong>3</strong>" in html
    assert "unsubscribed</a>: <strong>2</strong>" in html
    html = editor.get("/editors/subscribers/?q=left.test").get_data(as_text=True)
    assert "2 subscribers found." in html and "reader0@left.test" in html
    assert "reader0@readers.test" not in html
    html = editor.get("/editors/subscribers/?q=%25").get_data(as_text=True)
    assert "0 subscribers found." in html  # a LIKE wildcard is taken literally
    r = editor.get("/editors/subscribers/export.csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert r.mimetype == "text/csv" and rows[0][0] == "email"
    assert sorted(row[0] for row in rows[1:]) == [f"reader{i}@readers.test" for i in range(3)]


def test_an_editor_downloads_and_erases_a_readers_data(editor: Any, rt: Runtime) -> None:
    [sid] = add_readers(rt, 1)
    page = f"/editors/subscribers/{sid}"
    assert "reader0@readers.test" in editor.get(page).get_data(as_text=True)
    data = editor.get(f"{page}/data.json").get_json()
    assert data["email"] == "reader0@readers.test" and data["status"] == "confirmed"
    r = post(editor, f"{page}/erase", page)  # without the confirmation box
    assert "nothing was erased" in editor.get(page).get_data(as_text=True)
    r = post(editor, f"{page}/erase", page, confirm="yes")
    assert r.status_code == 302
    with rt.db.session() as s:
        sub = s.get(Subscriber, sid)
        assert sub is not None and sub.status == "erased" and sub.email is None
        assert s.scalar(select(Suppression.reason).where(
            Suppression.email_hash == subscribers.email_hash("reader0@readers.test"))) == "erased"
    assert "Erased subscriber" in editor.get(page).get_data(as_text=True)


def test_members_and_visitors_cannot_see_subscribers(app: Any, rt: Runtime) -> None:
    [sid] = add_readers(rt, 1)
    make_user(rt, "member@example.org", "member", project="cosmos")
    member = new_client(app)
    login(member, "member@example.org")
    for url in ("/editors/subscribers/", f"/editors/subscribers/{sid}/data.json",
                "/editors/subscribers/export.csv"):
        assert member.get(url).status_code == 403
        assert new_client(app).get(url).status_code == 302  # to the login page


def test_an_editor_sends_an_issue_from_its_page(editor: Any, rt: Runtime, web: FeedServer,
                                                settings: Any) -> None:
    add_readers(rt, 7)
    issue = approved_issue(rt, [web.url("/page/0")])
    page = f"/editors/issues/{issue.number}"
    html = editor.get(page).get_data(as_text=True)
    assert "Send to 7 subscribers now" in html
    assert "Yes, send issue #" in html and 'name="confirm" value="7" required' in html
    # Without the box ticked (or with a count that is no longer true) nothing starts.
    for confirm in ({}, {"confirm": "6"}):
        post(editor, f"{page}/send", page, **confirm)
        assert delivery.status(rt, issue.id).issue_status == "approved"
    assert "Tick the box to confirm that the issue goes to 7 subscribers" in editor.get(
        page).get_data(as_text=True)
    r = post(editor, f"{page}/send", page, confirm="7")
    assert r.status_code == 302
    # The web face only records the send; the worker's next round carries it out.
    assert delivery.status(rt, issue.id).counts.get("queued") == 7
    assert outbox(settings) == []
    jobs.pick_up(rt)
    assert delivery.status(rt, issue.id).issue_status == "sent"
    assert len([m for m in outbox(settings) if m["List-Unsubscribe"]]) == 7
    html = editor.get(page).get_data(as_text=True)
    assert "Send <strong>done</strong>" in html and "<td>7</td>" in html
    assert "· sent " in html and "to 7 subscribers: 7 delivered, 0 bounced, 0 failed" in html
    assert "· sends " not in html


def test_the_send_controls_pause_and_cancel(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_readers(rt, 4)
    issue = approved_issue(rt, [web.url("/page/0")])
    delivery.start(rt, TEST, issue.id)  # started, but no process is sending it
    page = f"/editors/issues/{issue.number}"
    post(editor, f"{page}/send/control", page, action="pause")
    assert delivery.status(rt, issue.id).state == "paused"
    assert "Resume" in editor.get(page).get_data(as_text=True)
    post(editor, f"{page}/send/control", page, action="cancel")
    assert delivery.status(rt, issue.id).state == "paused"  # asked first, not cancelled
    post(editor, f"{page}/send/control", page, action="cancel", confirm="yes")
    st = delivery.status(rt, issue.id)
    assert st.issue_status == "cancelled" and st.counts["cancelled"] == 4


def test_the_list_unsubscribe_of_a_sent_issue_works_in_one_post(
        app: Any, rt: Runtime, web: FeedServer, settings: Any) -> None:
    import re

    [sid] = add_readers(rt, 1)
    issue = approved_issue(rt, [web.url("/page/0")])
    delivery.send(rt, TEST, issue.id)
    [msg] = [m for m in outbox(settings) if m["List-Unsubscribe"]]
    url = re.findall(r"<(https://[^>]+)>", msg["List-Unsubscribe"])[0]
    path = url.removeprefix("https://ostogether.test")
    client = new_client(app)
    assert client.get(path).status_code == 200  # a scanner's GET changes nothing
    with rt.db.session() as s:
        assert s.get(Subscriber, sid).status == "confirmed"  # type: ignore[union-attr]
    # What a mail client sends (RFC 8058): no cookie, no CSRF token.
    r = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code in (200, 303)
    with rt.db.session() as s:
        assert s.get(Subscriber, sid).status == "unsubscribed"  # type: ignore[union-attr]
