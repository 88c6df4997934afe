"""Editors' social calendar in the web app: plan, read the week, edit with counts,
approve, skip, move, and check an unknown outcome; members and visitors are kept out."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

from sqlalchemy import select

from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from ostogether.social import posts as social
from ostogether.social import wording
from tests.conftest import (
    login,
    new_client,
    post,
)
from tests.factories import TEST, add_item, make_user


def next_week(rt: Runtime) -> str:
    return social.week_label(*social.next_week(rt))


def words(html: str) -> str:
    """A page's text as a reader reads it: without tags, with entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def all_posts(rt: Runtime) -> list[SocialPost]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(SocialPost).order_by(SocialPost.id)))
        s.expunge_all()
    return rows


def test_an_editor_plans_and_approves_the_week(editor: Any, rt: Runtime) -> None:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1",
             title="Inquiry with pupils")
    week = next_week(rt)
    page = f"/editors/social/?week={week}"
    r = post(editor, "/editors/social/plan", page, week=week)
    assert r.status_code == 302
    html = editor.get(page).get_data(as_text=True)
    assert "Inquiry with pupils" in html and "COSMOS" in html
    assert html.count('class="status status-planned"') == 10
    assert re.search(r"X</a> <span class=\"status status-planned\">planned</span> "
                     r"<span class=\"meta\">\d+/280</span>", html)
    assert "X: <strong>dry run</strong>" in html
    post(editor, "/editors/social/approve-week", page, week=week)
    assert {p.status for p in all_posts(rt)} == {"approved"}


def test_editing_shows_the_count_and_refuses_text_that_does_not_fit(editor: Any,
                                                                    rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    x_post = next(p for p in all_posts(rt) if p.network == "x")
    page = f"/editors/social/{x_post.id}"
    html = editor.get(page).get_data(as_text=True)
    m = wording.measure(rt.settings, x_post.text, "x")
    assert f"X counts {m.length} of 280 weighted characters" in words(html)
    r = post(editor, page, page, text="🎉" * 141)
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "X counts 282 of 280 weighted characters; shorten it by 2." in body
    assert "shorten it by 2.." not in body  # the sentence ends once
    assert "🎉" * 141 in body  # what was typed is kept
    assert next(p for p in all_posts(rt) if p.id == x_post.id).text == x_post.text
    r = post(editor, page, page, text="Short text https://example.org/x",
             image_url="https://a.eu/i.png")
    assert "describe the image" in r.get_data(as_text=True)
    r = post(editor, page, page, text="Short text https://example.org/x")
    assert r.status_code == 302
    assert next(p for p in all_posts(rt) if p.id == x_post.id).text == \
        "Short text https://example.org/x"


def test_skip_move_and_the_bluesky_and_linkedin_previews(editor: Any, rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    rows = all_posts(rt)
    li = next(p for p in rows if p.network == "linkedin")
    html = editor.get(f"/editors/social/{li.id}").get_data(as_text=True)
    assert '<span class="hashtag">#OpenSchooling</span>' in html  # as LinkedIn shows it
    assert "{hashtag|" not in html and "Sent to LinkedIn as" not in html
    # Where it goes, in an editor's words: no folder, no setting name.
    assert "the LinkedIn account is not connected yet" in html and "trial run" in html
    assert "var/outbox" not in html and "social_dry_run" not in html
    bsky = next(p for p in rows if p.network == "bluesky")
    assert "Bluesky shows each link shortened" in editor.get(
        f"/editors/social/{bsky.id}").get_data(as_text=True)
    x_mon, x_wed = sorted((p for p in rows if p.network == "x"), key=lambda p: p.slot_at)
    page = f"/editors/social/{x_wed.id}"
    post(editor, f"/editors/social/{x_wed.id}/skip", page)
    page = f"/editors/social/{x_mon.id}"
    html = editor.get(page).get_data(as_text=True)
    assert x_wed.slot_at.isoformat() in html  # the freed slot is offered
    post(editor, f"/editors/social/{x_mon.id}/move", page, slot=x_wed.slot_at.isoformat())
    after = {p.id: p for p in all_posts(rt)}
    assert after[x_wed.id].status == "skipped" and after[x_mon.id].slot_at == x_wed.slot_at


def test_an_unknown_outcome_is_shown_and_resolved(editor: Any, rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    one = all_posts(rt)[0]
    with rt.db.session() as s:
        row = s.get(SocialPost, one.id)
        assert row is not None
        row.status, row.error = "unknown", "X did not answer in time; it may be live."
    html = editor.get("/editors/social/").get_data(as_text=True)
    assert "Posts to check (1)" in html and "it may be live" in html
    page = f"/editors/social/{one.id}"
    assert "Check the account" in editor.get(page).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      editor.get(page).get_data(as_text=True))
    assert token is not None
    editor.post(f"/editors/social/{one.id}/resolve", data={
        "csrf_token": token.group(1), "posted": "yes", "url": "https://x.com/i/web/status/1"})
    row = next(p for p in all_posts(rt) if p.id == one.id)
    assert (row.status, row.remote_url) == ("published", "https://x.com/i/web/status/1")


def test_the_calendar_warns_before_the_linkedin_token_expires(app: Any, rt: Runtime,
                                                              editor: Any) -> None:
    from dataclasses import replace

    web_rt = app.extensions["ostogether"]
    soon = (rt.today() + dt.timedelta(days=3)).isoformat()
    web_rt.settings = replace(web_rt.settings, linkedin_token_expires_on=soon)
    html = editor.get("/editors/social/").get_data(as_text=True)
    assert "The LinkedIn token expires on" in html and "in 3 day(s)" in html


def test_members_and_visitors_cannot_open_the_calendar(app: Any, rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    one = all_posts(rt)[0]
    visitor = new_client(app)
    assert visitor.get("/editors/social/").status_code == 302  # to the login page
    make_user(rt, "member@cosmosproject.eu", "member", project="cosmos")
    member = new_client(app)
    login(member, "member@cosmosproject.eu")
    assert member.get("/editors/social/").status_code == 403
    assert member.post(f"/editors/social/{one.id}/approve").status_code in (400, 403)
    assert all_posts(rt)[0].status == "planned"


def test_a_post_without_csrf_is_refused(editor: Any, rt: Runtime) -> None:
    social.plan_week(rt, TEST)
    one = all_posts(rt)[0]
    assert editor.post(f"/editors/social/{one.id}/approve").status_code == 400
    assert all_posts(rt)[0].status == "planned"


def test_a_post_number_out_of_range_is_not_found(editor: Any) -> None:
    assert editor.get("/editors/social/99999999999").status_code == 404
