"""The scheduler's jobs on a fake clock: reminder mails and their contents, an issue that
is not approved is not sent, and a job killed halfway then run again does no harm."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.mail import transactional
from ostogether.models import Delivery, Issue, JobRun
from tests.conftest import (
    outbox,
)
from tests.factories import add_item, make_user

UTC = dt.UTC
REMIND_MEMBERS = dt.datetime(2026, 12, 29, 8, 30, tzinfo=UTC)  # 09:30 in Brussels
COMPOSE = dt.datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 in Brussels
REMIND_EDITORS = dt.datetime(2027, 1, 13, 9, 0, tzinfo=UTC)  # 48 h before sending
SEND = dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Brussels


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return part.get_content()


def mails(rt: Runtime, to: str | None = None) -> list[EmailMessage]:
    return [m for m in outbox(rt.settings) if to is None or m["To"] == to]


def members(rt: Runtime) -> None:
    """COSMOS and LEVERS as current members (their grants ended, so the import made them
    alumni), with member accounts; STEAMbrace stays a member without any address."""
    from ostogether.models import Project

    with rt.db.session() as s:
        for p in s.scalars(select(Project).where(Project.slug.in_(("cosmos", "levers")))):
            p.status = "member"
    make_user(rt, "news@cosmosproject.eu", "member", project="cosmos")
    make_user(rt, "team@cosmosproject.eu", "member", project="cosmos")
    make_user(rt, "hello@leversforclimate.eu", "member", project="levers")


def test_member_reminders_say_when_and_how_and_go_once(rt: Runtime) -> None:
    members(rt)
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1", approve=False)
    early = jobs.run(rt, "remind_members", now=REMIND_MEMBERS - dt.timedelta(days=1))
    assert early.outcome == "skipped" and mails(rt) == []
    row = jobs.run(rt, "remind_members", now=REMIND_MEMBERS)
    assert row.outcome == "ok"
    assert row.summary.startswith("3 reminder(s) sent for the issue of 15 January")
    assert row.summary.endswith("1 member project(s) have no contact address or member "
                                "account: STEAMbrace")
    [cosmos] = mails(rt, "news@cosmosproject.eu")
    assert cosmos["Subject"] == ("News for the OStogether newsletter of 15 January: please "
                                 "send it by 5 January")
    text = body(cosmos)
    assert "goes out on Friday 15 January 2027" in text
    assert "put it together on Tuesday 5 January" in text
    assert "Does COSMOS have news" in text
    assert "https://ostogether.test/members/items/new" in text
    assert "Already waiting for the editors from COSMOS: 1 item(s)." in text
    assert "Already waiting" not in body(mails(rt, "hello@leversforclimate.eu")[0])
    again = jobs.run(rt, "remind_members", now=REMIND_MEMBERS + dt.timedelta(hours=1))
    assert again.outcome == "skipped" and len(mails(rt)) == 3


def test_a_reminder_run_killed_halfway_then_run_again_sends_no_doubles(rt: Runtime,
                                                                      monkeypatch: Any) -> None:
    members(rt)
    real = transactional.send_after_commit
    calls = []

    def dies_on_the_second(rt: Runtime, template: str, to: str, **ctx: Any) -> None:
        calls.append(to)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is killed in the middle of the loop
        real(rt, template, to, **ctx)

    monkeypatch.setattr(transactional, "send_after_commit", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(rt, "remind_members", now=REMIND_MEMBERS)
    with rt.db.session() as s:
        assert s.scalars(select(JobRun.outcome)).one() == "running"  # left as it was
    assert jobs.running(rt, "remind_members") is not None
    assert jobs.running(rt, "remind_members", now=utcnow_plus(hours=7)) is None  # stale
    monkeypatch.setattr(transactional, "send_after_commit", real)
    jobs.run(rt, "remind_members", now=REMIND_MEMBERS + dt.timedelta(minutes=5))
    got = [m["To"] for m in mails(rt)]
    assert len(got) == len(set(got)) == 2  # nobody twice; the one in flight is lost
    assert calls[1] not in got


def number(rt: Runtime) -> int:
    with rt.db.session() as s:
        n = s.scalars(select(Issue.number)).one()
    assert n is not None
    return n


def utcnow_plus(**delta: float) -> dt.datetime:
    return clock.now() + dt.timedelta(**delta)


def test_editors_are_told_when_the_issue_is_not_approved_48h_before(rt: Runtime) -> None:
    make_user(rt, "editor@ecsite.eu", "editor")
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    assert jobs.run(rt, "compose_issue", now=COMPOSE).outcome == "ok"
    assert jobs.run(rt, "remind_editors", now=REMIND_EDITORS - dt.timedelta(hours=2)
                    ).outcome == "skipped"
    row = jobs.run(rt, "remind_editors", now=REMIND_EDITORS)
    n = number(rt)
    assert row.summary == f"issue #{n} is draft; 1 editor(s) told"
    [mail] = mails(rt, "editor@ecsite.eu")
    assert mail["Subject"] == f"Issue #{n} is not approved: it goes out Friday 15 January at 10:00"
    text = body(mail)
    assert "due to go out on Friday 15 January 2027 at 10:00 (Europe/Brussels)" in text
    assert "it is still draft" in text
    with rt.db.session() as s:
        issue_number = s.scalars(select(Issue.number)).one()
    assert f"https://ostogether.test/editors/issues/{issue_number}" in text
    assert jobs.run(rt, "remind_editors", now=REMIND_EDITORS + dt.timedelta(hours=1)
                    ).outcome == "skipped"
    assert len(mails(rt, "editor@ecsite.eu")) == 1


def test_an_issue_that_is_not_approved_is_not_sent_and_editors_are_told(
        rt: Runtime, smtp_server: Any) -> None:
    make_user(rt, "editor@ecsite.eu", "editor")
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    jobs.run(rt, "compose_issue", now=COMPOSE)
    row = jobs.run(rt, "send_issue", now=SEND)
    n = number(rt)
    assert row.outcome == "failed"
    assert row.summary == f"issue #{n} not sent: it is draft; 1 editor(s) told"
    with rt.db.session() as s:
        issue = s.scalars(select(Issue)).one()
        assert issue.status == "draft" and issue.sent_at is None
        assert s.scalars(select(Delivery)).first() is None
    [mail] = mails(rt, "editor@ecsite.eu")
    assert mail["Subject"] == f"Issue #{n} was not sent: it is draft"
    assert f"ostogether issue send {n}" in body(mail)
    jobs.run(rt, "send_issue", now=SEND + dt.timedelta(minutes=10))
    assert len(mails(rt, "editor@ecsite.eu")) == 1  # told once


def test_an_editor_is_told_in_the_language_they_use_the_site_in(
        rt: Runtime, smtp_server: Any) -> None:
    from ostogether.models import User

    make_user(rt, "redactie@ecsite.eu", "editor")
    with rt.db.session() as s:
        user = s.scalars(select(User).where(User.email == "redactie@ecsite.eu")).one()
        user.language = "nl"  # as the last login from a Dutch page keeps it
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    jobs.run(rt, "compose_issue", now=COMPOSE)
    jobs.run(rt, "send_issue", now=SEND)
    [mail] = mails(rt, "redactie@ecsite.eu")
    assert mail["Subject"] == (f"Nummer #{number(rt)} is niet verzonden: de status is "
                               "\u201econcept\u201d")
    assert "draft" not in mail["Subject"] + body(mail)


def test_compose_waits_for_its_day_and_runs_once(rt: Runtime) -> None:
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    early = jobs.run(rt, "compose_issue", now=COMPOSE - dt.timedelta(days=2))
    assert early.summary == "the issue of 15 January is composed on 5 January at 09:00"
    assert jobs.run(rt, "compose_issue", now=COMPOSE).outcome == "ok"
    again = jobs.run(rt, "compose_issue", now=COMPOSE + dt.timedelta(minutes=1))
    assert again.outcome == "skipped" and f"issue #{number(rt)} is draft" in again.summary
    with rt.db.session() as s:
        assert len(s.scalars(select(Issue)).all()) == 1
        assert s.scalars(select(Issue.send_at)).one() == SEND


def test_bounce_job_skips_without_a_mailbox(rt: Runtime) -> None:
    row = jobs.run(rt, "process_bounces", now=SEND)
    assert row.summary == "no bounce mailbox is configured (bounce_maildir)"


def test_check_registry_reports_failing_websites(rt: Runtime, web: Any) -> None:
    from ostogether.models import Project

    with rt.db.session() as s:
        for p in s.scalars(select(Project)):
            p.website, p.feed_url = web.url(f"/page/{p.id % 3}"), ""
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        cosmos.website = web.url("/missing")
    row = jobs.run(rt, "check_registry", now=SEND)
    assert row.outcome == "failed"
    assert row.summary.startswith("4 address(es) checked, 1 failing: COSMOS website")
