"""The editors' review at a glance: search and filters, decisions in bulk with one reason,
an approved item back to review, confirmations that say who was really told, and
histories in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, NewsItem, User
from ostogether.news import items as news
from ostogether.newsletter import issues as newsletter
from tests.conftest import outbox, post
from tests.factories import TEST, add_item, make_user, mark_sent
from tests.feedserver import FeedServer, Route, picture


def status_of(rt: Runtime, item_id: int) -> str:
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert item is not None
        return item.status


def test_the_queue_searches_words_and_filters_by_language(rt: Runtime, editor: Any) -> None:
    a = add_item(rt, "cosmos", link="https://example.org/a", title="Citizen science 100% fun",
                 approve=False)
    b = add_item(rt, "otter", link="https://example.org/b", title="Open schooling in Leiden",
                 approve=False, language="nl")
    add_item(rt, "otter", link="https://example.org/c", title="Another thing", approve=False)
    page = editor.get("/editors/items?q=SCIENCE+fun").get_data(as_text=True)
    assert f"/editors/items/{a}" in page and f"/editors/items/{b}" not in page
    assert "1 item waiting" in page
    # LIKE's wildcards are taken literally: "100%" matches only the item that says so.
    page = editor.get("/editors/items?q=1_0").get_data(as_text=True)
    assert "No items match" in page
    page = editor.get("/editors/items?q=100%25").get_data(as_text=True)
    assert f"/editors/items/{a}" in page
    page = editor.get("/editors/items?language=nl").get_data(as_text=True)
    assert f"/editors/items/{b}" in page and f"/editors/items/{a}" not in page
    assert '<option value="nl" selected>' in page


def test_a_long_queue_is_read_a_page_at_a_time_keeping_the_filters(
        rt: Runtime, editor: Any) -> None:
    """Every waiting item can be reached (no "first 200 shown" dead end), fifty a page,
    oldest first, and the page links keep the search and filters."""
    ids = [add_item(rt, "cosmos", link=f"https://example.org/q/{n}", approve=False,
                    title=f"Workshop {n:03}") for n in range(120)]
    add_item(rt, "otter", link="https://example.org/other", title="Other", approve=False)
    page = editor.get("/editors/items?project=cosmos").get_data(as_text=True)
    assert "120 items waiting for review, oldest first: 1 to 50 shown" in page
    assert "Page 1 of 3" in page and "previous" not in page
    assert f"/editors/items/{ids[49]}\"" in page and f"/editors/items/{ids[50]}\"" not in page
    assert "/editors/items?page=2&amp;project=cosmos" in page
    last = editor.get("/editors/items?project=cosmos&page=3").get_data(as_text=True)
    assert "101 to 120 shown" in last and "Page 3 of 3" in last and "next</a>" not in last
    assert f"/editors/items/{ids[119]}\"" in last and f"/editors/items/{ids[99]}\"" not in last
    # A page number that is not one shows the first page.
    assert "1 to 50 shown" in editor.get("/editors/items?project=cosmos&page=%C2%B2"
                                         ).get_data(as_text=True)


def test_bulk_approve_and_reject_with_one_reason(rt: Runtime, editor: Any,
                                                 settings: Any) -> None:
    make_user(rt, "m@example.org", "member", project="cosmos")
    ids = [add_item(rt, "cosmos", link=f"https://example.org/{n}", approve=False)
           for n in range(3)]
    news.approve(rt, TEST, ids[2])  # decided meanwhile by another editor
    r = post(editor, "/editors/items/decide?status=submitted&q=cosmos", "/editors/items",
             **{"item": [str(i) for i in ids], "action": "reject",
                "bulk-reason": "Please link to the page of the event itself."})
    assert r.status_code == 302 and r.headers["Location"].endswith(
        "/editors/items?status=submitted&q=cosmos")
    page = editor.get("/editors/items").get_data(as_text=True)
    # An approved item can be rejected too (the reason goes to its sender).
    assert "Rejected 3 item(s); 3 submitter(s) told by mail." in page
    assert "was not rejected" not in page
    assert [status_of(rt, i) for i in ids] == ["rejected", "rejected", "rejected"]
    mails = [m for m in outbox(settings) if "Please link to the page" in str(m)]
    assert len(mails) == 3


def test_bulk_reports_each_item_it_could_not_decide(rt: Runtime, editor: Any) -> None:
    ids = [add_item(rt, "cosmos", link=f"https://example.org/{n}", approve=False)
           for n in range(2)]
    news.reject(rt, TEST, ids[0], "off topic")
    r = post(editor, "/editors/items/decide", "/editors/items",
             **{"item": [str(i) for i in ids], "action": "approve", "bulk-reason": ""})
    page = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "Approved 1 item(s)" in page
    assert (f"Item {ids[0]} was not approved: This news item is rejected; it cannot "
            f"become approved.") in page
    assert status_of(rt, ids[1]) == "approved"
    r = post(editor, "/editors/items/decide", "/editors/items",
             **{"item": [str(ids[1])], "action": "reject", "bulk-reason": " "})
    page = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "Give the submitter a reason for the rejection." in page
    assert status_of(rt, ids[1]) == "approved"


def test_the_confirmation_says_nobody_was_told_when_nobody_was(rt: Runtime, editor: Any,
                                                               settings: Any) -> None:
    with rt.db.session() as s:
        from ostogether.models import Project
        project = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert project is not None
        project.contact_email = ""
    item_id = add_item(rt, "cosmos", link="https://example.org/x", approve=False)
    r = post(editor, f"/editors/items/{item_id}", f"/editors/items/{item_id}",
             action="approve", **{"review-reason": ""})
    page = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert r.status_code == 302
    assert "nobody was told" in page and "has been told" not in page
    make_user(rt, "m@example.org", "member", project="cosmos")
    other = add_item(rt, "cosmos", link="https://example.org/y", approve=False)
    post(editor, f"/editors/items/{other}", f"/editors/items/{other}", action="approve",
         **{"review-reason": ""})
    page = editor.get(f"/editors/items/{other}").get_data(as_text=True)
    assert "m@example.org told by mail." in page


def test_an_approved_item_goes_back_to_review_until_readers_have_it(
        rt: Runtime, editor: Any, web: FeedServer) -> None:
    item_id = add_item(rt, "cosmos", link=web.url("/page/0"))
    issue = newsletter.compose_next(rt, TEST)
    approved, _ = newsletter.approve(rt, TEST, issue.id)
    assert approved.status == "approved"
    page = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert "Back to review" in page
    r = post(editor, f"/editors/items/{item_id}", f"/editors/items/{item_id}",
             action="back", **{"review-reason": "The date moved."})
    assert r.status_code == 302
    assert status_of(rt, item_id) == "submitted"
    with rt.db.session() as s:
        assert s.get(Issue, issue.id).status == "in_review"  # type: ignore[union-attr]
    page = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert "is back in the review queue" in page
    assert "Back to review by Editor" in page or "Back to review by editor@example.org" in page
    assert "The date moved." in page
    # Once in a sent issue, it stays where it is.
    news.approve(rt, TEST, item_id)
    with rt.db.session() as s:
        sent = s.get(Issue, issue.id)
        assert sent is not None
        sent.status = "approved"
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    r = post(editor, f"/editors/items/{item_id}", f"/editors/items/{item_id}",
             action="back", **{"review-reason": ""})
    page = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert "went out in issue" in page and status_of(rt, item_id) == "approved"


def test_histories_speak_words_in_the_communitys_zone(rt: Runtime, editor: Any) -> None:
    with rt.db.session() as s:
        user = s.scalar(select(User).where(User.email == "editor@example.org"))
        assert user is not None
        user.name, uid = "Greta", user.id
    item_id = add_item(rt, "cosmos", link="https://example.org/a", approve=False)
    news.approve(rt, Actor("editor:editor@example.org", uid), item_id)
    page = editor.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert "Submitted by " in page and "Approved by Greta, " in page
    assert "news_item.approved" not in page and "editor:editor@example.org" not in page
    assert "Times in Europe/Brussels." in page


def test_the_decision_sits_beside_the_kept_picture(rt: Runtime, editor: Any,
                                                   web: FeedServer) -> None:
    web.routes["/p.png"] = Route(picture(640, 480, "PNG"), content_type="image/png")
    good = add_item(rt, "cosmos", link="https://example.org/a", approve=False,
                    image_url=web.url("/p.png"), image_alt="Pupils at work")
    page = editor.get(f"/editors/items/{good}").get_data(as_text=True)
    top = page.index('class="decide-top"')
    assert top < page.index('id="decide-h"') < page.index('id="nl-h"') or \
        top < page.index('id="decide-h"')
    assert '<img src="/media/' in page and 'alt="Pupils at work"' in page
    web.routes["/broken.png"] = Route(b"not a picture", content_type="image/png")
    bad = add_item(rt, "cosmos", link="https://example.org/b", approve=False,
                   image_url=web.url("/broken.png"), image_alt="x")
    r = editor.get(f"/editors/items/{bad}")
    assert r.status_code == 200
    assert "The picture cannot be used: it is not a picture that can be read" in \
        r.get_data(as_text=True)
