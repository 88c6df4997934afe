"""The whole editorial cycle on a fake clock, with real components: a member's feed on a
loopback HTTP server, SQLite (or PostgreSQL in CI), an aiosmtpd server for the mail, and
the dry-run social publishers. Every step is the scheduler's own job."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import jobs
from ostogether.core.settings import load_settings
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import Delivery, Issue, JobRun, NewsItem, Project, SocialPost
from ostogether.news import items as news
from ostogether.newsletter import issues as newsletter
from ostogether.social import posts as social
from tests.factories import add_readers, make_user
from tests.feedserver import Route, rss

UTC = dt.UTC
EDITOR = Actor("editor@ecsite.eu")


@pytest.fixture
def cycle_rt(env: dict[str, str], smtp_server: Any, fill_database: Any) -> Iterator[Runtime]:
    controller, _ = smtp_server
    fill_database("imported")
    rt = Runtime(load_settings(environ={
        **env, "OSTOGETHER_MAIL_TRANSPORT": "smtp", "OSTOGETHER_SMTP_HOST": "127.0.0.1",
        "OSTOGETHER_SMTP_PORT": str(controller.port), "OSTOGETHER_SMTP_SECURITY": "none",
        "OSTOGETHER_LINK_CHECK_TIMEOUT": "2"}))
    yield rt
    rt.close()


def at(day: str, hhmm: str) -> dt.datetime:
    """A Brussels wall-clock time as UTC (winter: UTC+1)."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}:00+01:00").astimezone(UTC)


def test_the_whole_editorial_cycle(cycle_rt: Runtime, smtp_server: Any, web: Any) -> None:
    rt = cycle_rt
    _, sink = smtp_server
    make_user(rt, "editor@ecsite.eu", "editor")
    make_user(rt, "news@steambraceproject.eu", "member", project="steambrace")
    readers = add_readers(rt, 5)
    web.routes["/rss"] = Route(rss([
        {"title": "Pupils build a STEAM garden", "link": web.url("/page/1"),
         "guid": "g1", "summary": "<p>Three schools grew a <b>sensor garden</b>.</p>"},
        {"title": "Teachers meet museum educators", "link": web.url("/page/2"),
         "guid": "g2", "summary": "<p>A day of workshops on open schooling.</p>"}]))
    with rt.db.session() as s:
        s.scalars(select(Project).where(Project.slug == "steambrace")).one().feed_url = \
            web.url("/rss")

    # Tuesday 29 December: member projects are asked for news.
    assert jobs.run(rt, "remind_members", now=at("2026-12-29", "09:30")).outcome == "ok"
    # 1. The member's feed is polled: two new items wait for review.
    polled = jobs.run(rt, "poll_feeds", now=at("2026-12-30", "10:05"))
    assert polled.summary.startswith("1 feed(s) polled, 2 new item(s)")
    with rt.db.session() as s:
        item_ids = list(s.scalars(select(NewsItem.id).where(NewsItem.source == "feed")))
    assert len(item_ids) == 2
    # 2. An editor approves them.
    for item_id in item_ids:
        news.approve(rt, EDITOR, item_id)
    # 3. The draft is composed on its day, Tuesday 5 January at 09:00.
    assert jobs.run(rt, "compose_issue", now=at("2027-01-04", "09:00")).outcome == "skipped"
    composed = jobs.run(rt, "compose_issue", now=at("2027-01-05", "09:00"))
    assert composed.outcome == "ok" and "2 item(s)" in composed.summary
    # 4. An editor approves it (its pre-flight checks pass: the links answer).
    with rt.db.session() as s:
        issue_id = s.scalars(select(Issue.id)).one()
    newsletter.approve(rt, EDITOR, issue_id)
    assert jobs.run(rt, "remind_editors", now=at("2027-01-13", "10:00")).outcome == "skipped"
    # 5. It goes out on its day, Friday 15 January at 10:00, to the SMTP server.
    assert jobs.run(rt, "send_issue", now=at("2027-01-15", "09:59")).outcome == "skipped"
    sent = jobs.run(rt, "send_issue", now=at("2027-01-15", "10:00"))
    assert sent.outcome == "ok" and "5 of 5 sent" in sent.summary
    # 6. Thursday: next week's posts are planned; the editor approves them; each slot's
    #    posts go out at their time through the dry-run publishers.
    planned = jobs.run(rt, "plan_social", now=at("2027-01-14", "08:00"))
    assert planned.summary.startswith("week 2027-W03: 3 slot(s) filled")
    assert social.approve_week(rt, EDITOR, "2027-W03") == 15
    for day, hhmm in (("2027-01-18", "10:00"), ("2027-01-20", "10:00"), ("2027-01-22", "11:00")):
        assert jobs.run(rt, "publish_social", now=at(day, hhmm)).summary == "5 published"
    assert jobs.run(rt, "publish_social", now=at("2027-01-22", "11:01")).outcome == "skipped"

    # The final state of everything.
    with rt.db.session() as s:
        issue = s.get(Issue, issue_id)
        assert issue is not None
        assert (issue.status, issue.send_state) == ("sent", "done")
        assert issue.sent_at is not None and issue.send_at == at("2027-01-15", "10:00")
        assert {i.status for i in s.scalars(select(NewsItem))} == {"published"}
        ledger = list(s.scalars(select(Delivery).where(Delivery.issue_id == issue_id)))
        assert sorted(d.subscriber_id for d in ledger) == sorted(readers)
        assert {d.status for d in ledger} == {"sent"}
        posts = list(s.scalars(select(SocialPost)))
        runs = [(r.job, r.outcome) for r in s.scalars(select(JobRun).order_by(JobRun.id))]
    to_readers = [m for m in sink.messages if m["To"].endswith("@readers.test>")
                  or m["To"].endswith("@readers.test")]
    assert len(to_readers) == 5
    assert {m["Subject"] for m in to_readers} == {issue.subject}
    assert [m["To"] for m in sink.messages if "steambrace" in m["To"]] == [
        "news@steambraceproject.eu"]  # the member's reminder, once
    assert len(posts) == 15 and {p.status for p in posts} == {"published"}
    by_item = {p.item_id for p in posts if p.item_id} | {p.evergreen_key for p in posts
                                                         if p.evergreen_key}
    assert set(item_ids) <= by_item  # both items reached social media
    written = sorted((rt.settings.outbox_path / "social").glob("*.json"))
    assert len(written) == 15
    assert all(json.loads(f.read_text())["fits"] for f in written)
    assert runs == [("remind_members", "ok"), ("poll_feeds", "ok"),
                    ("compose_issue", "skipped"), ("compose_issue", "ok"),
                    ("remind_editors", "skipped"), ("send_issue", "skipped"),
                    ("send_issue", "ok"), ("plan_social", "ok"), ("publish_social", "ok"),
                    ("publish_social", "ok"), ("publish_social", "ok"),
                    ("publish_social", "skipped")]
