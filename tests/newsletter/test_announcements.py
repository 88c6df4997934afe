"""Announcements to a segment (issue 36): who is in it (the database agrees with the
rule), a send over real SMTP that reaches exactly the segment, its own numbering, and
its mark in the archive."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ostogether import jobs
from ostogether.core.segments import Reader, Segment, reaches
from ostogether.edges.runtime import Runtime
from ostogether.models import Delivery, Issue, NewsItem, Subscriber
from ostogether.newsletter import announcements, archive, delivery, versions
from ostogether.newsletter import issues as newsletter
from ostogether.readers import segments
from tests.conftest import run
from tests.factories import (
    AUDIENCES,
    LANGS,
    TEST,
    TOPICS,
    add_item,
    add_population,
    make_user,
)


@pytest.fixture
def env(env: dict[str, str], smtp_server: Any) -> dict[str, str]:
    controller, _ = smtp_server
    return {**env, "OSTOGETHER_MAIL_TRANSPORT": "smtp", "OSTOGETHER_SMTP_HOST": "127.0.0.1",
            "OSTOGETHER_SMTP_PORT": str(controller.port), "OSTOGETHER_SMTP_SECURITY": "none",
            "OSTOGETHER_LINK_CHECK_TIMEOUT": "1"}


keys = lambda pool: st.frozensets(st.sampled_from(pool), max_size=2)  # noqa: E731


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seg=st.builds(Segment, topics=keys(TOPICS), audiences=keys(AUDIENCES),
                     languages=keys(LANGS), countries=keys(("BE", "NL"))))
def test_the_database_counts_what_the_rule_says(rt: Runtime, seg: Segment) -> None:
    if not hasattr(rt, "_population"):
        rt._population = add_population(rt, 120)  # type: ignore[attr-defined]
    population: dict[str, Reader] = rt._population  # type: ignore[attr-defined]
    inside = [r for r in population.values() if reaches(seg, r)]
    with rt.db.session() as s:
        found = segments.reach(s, seg)
        emails = set(s.scalars(select(Subscriber.email).where(
            Subscriber.status == "confirmed", *segments.where(seg))))
    assert emails == {e for e, r in population.items() if reaches(seg, r)}
    assert found.total == len(inside)
    assert found.by_language == {lang: n for lang in LANGS
                                 if (n := sum(r.language == lang for r in inside))}
    if seg.topics:
        assert found.every_topic == sum(not r.topics for r in inside)
        assert found.chose_topic + found.every_topic == found.total
    if seg.countries:
        without = Segment(seg.topics, seg.audiences, seg.languages)
        assert found.unknown_country == sum(
            reaches(without, r) and not r.country for r in population.values())


def _announcement(rt: Runtime, **segment: list[str]) -> Issue:
    return announcements.create(rt, TEST, subject="Join the Open Schooling webinar",
                                preheader="Thursday, online: an hour with three schools",
                                intro_md="**Register** for the webinar.", segment=segment)


def test_a_send_reaches_exactly_the_segment_over_smtp(rt: Runtime, smtp_server: Any) -> None:
    population = add_population(rt, 40)
    issue = _announcement(rt, topics=["steam"], languages=["en", "nl"], countries=["BE"])
    want = {e for e, r in population.items()
            if reaches(Segment.of(["steam"], [], ["en", "nl"], ["BE"]), r)}
    assert 0 < len(want) < 40
    report, _ = newsletter.run_preflight(rt, issue.id)
    seg_check = next(c for c in report.checks if c.key == "segment")
    assert seg_check.status == "pass" and seg_check.details[0].startswith(
        f"{len(want)} confirmed readers")
    newsletter.approve(rt, TEST, issue.id, [w.key for w in report.warnings])
    st = delivery.send(rt, TEST, issue.id)
    assert st.issue_status == "sent" and st.recipients == len(want)
    _, sink = smtp_server
    got = [rcpt for env in sink.envelopes for rcpt in env.rcpt_tos]
    assert sorted(got) == sorted(want)  # the segment, each once, and no one else
    [subject] = {m["Subject"] for m in sink.messages}
    assert subject == "Join the Open Schooling webinar"
    heading = {"en": "OStogether announcement", "nl": "Aankondiging van OStogether"}
    for msg in sink.messages:  # the frame names it an announcement, in the reader's language
        html = msg.get_body(("html",)).get_content()
        lang = "nl" if '<html lang="nl"' in html else "en"
        assert heading[lang] in html and "#-" not in html and "#None" not in html
        # "this announcement", never "this issue", in the frame's own words
        assert {"en": "View this announcement in your browser",
                "nl": "Bekijk deze aankondiging in uw browser"}[lang] in html
        assert "this issue" not in html and "dit nummer" not in html
    with rt.db.session() as s:
        assert s.scalar(select(Delivery.id).where(Delivery.issue_id == issue.id).limit(1))


def test_announcements_keep_the_issues_numbering(rt: Runtime) -> None:
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    first = _announcement(rt)
    second = _announcement(rt, languages=["fr"])
    assert (first.number, second.number) == (-1, -2)
    assert (first.label, second.label) == ("announcement A1", "announcement A2")
    # An announcement in the works never holds up the next issue, nor takes its number.
    issue = newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12,
                                                              tzinfo=dt.UTC))
    assert issue.number == rt.community.newsletter().first_number
    assert newsletter.issue_ref(rt, second.id) == "a2"
    assert newsletter.issue_id_for(rt, "a2") == second.id
    with rt.db.session() as s:
        assert newsletter.open_issue(s).id == issue.id  # type: ignore[union-attr]


def test_a_sent_announcement_is_in_the_archive_marked_as_such(
        rt: Runtime, smtp_server: Any, client: Any) -> None:
    population = add_population(rt, 12)
    assert any(r.language == "nl" for r in population.values())
    issue = _announcement(rt)
    versions.set_texts(rt, TEST, issue.id, "nl", subject="Doe mee aan het webinar",
                       preheader="Donderdag, online", intro_md="")
    report, _ = newsletter.run_preflight(rt, issue.id)
    newsletter.approve(rt, TEST, issue.id, [w.key for w in report.warnings])
    delivery.send(rt, TEST, issue.id)
    page = client.get("/archive").get_data(as_text=True)
    assert ('<span class="mark">Announcement</span>: Join the Open Schooling webinar'
            in page)
    assert 'href="/archive/announcements/1"' in page
    web = client.get("/archive/announcements/1")
    assert web.status_code == 200 and "Join the Open Schooling webinar" in web.get_data(
        as_text=True)
    dutch_web = client.get("/archive/announcements/1?lang=nl").get_data(as_text=True)
    assert "Doe mee aan het webinar" in dutch_web and "Aankondiging van OStogether" in dutch_web
    dutch = client.get("/archive?lang=nl", headers={"Accept-Language": "nl"})
    assert '<span class="mark">Aankondiging</span>' in dutch.get_data(as_text=True)
    feed = archive.atom(rt).decode()
    assert "Announcement: Join the Open Schooling webinar" in feed
    assert ":announcement:1" in feed
    with rt.db.session() as s:  # the home page's "latest issue" is an issue
        assert archive.sent_issues(s, announcements=False) == []


def test_the_cli_lists_announcements_by_their_own_number(rt: Runtime,
                                                         env: dict[str, str]) -> None:
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    _announcement(rt, topics=["steam"])
    newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    listed = json.loads(run(env, "issue", "list", "--format", "json").stdout)
    assert [(i["ref"], i["kind"]) for i in sorted(listed, key=lambda i: i["id"])] == [
        ("A1", "announcement"), (str(rt.community.newsletter().first_number), "issue")]
    assert next(i for i in listed if i["ref"] == "A1")["segment"] == {"topics": ["steam"]}
    table = run(env, "issue", "list").stdout
    assert "A1" in table and "announcement" in table
    shown = run(env, "issue", "show", "A1")
    assert shown.returncode == 0 and shown.stdout.startswith("Issue A1 · draft"), shown.stdout


def test_the_scheduler_tells_editors_of_an_announcement_not_sent(
        rt: Runtime, smtp_server: Any) -> None:
    make_user(rt, "editor@ecsite.eu", "editor")
    issue = _announcement(rt)
    late = issue.send_at + dt.timedelta(minutes=5)
    row = jobs.run(rt, "send_issue", now=late)
    assert "announcement A1 not sent: it is draft; 1 editor(s) told" in row.summary
    _, sink = smtp_server
    [mail] = [m for m in sink.messages if "not sent" in m["Subject"]]
    assert mail["Subject"] == "Announcement A1 was not sent: it is draft"
    body = mail.get_body(("plain",)).get_content()
    assert "/editors/issues/a1" in body and "ostogether issue send A1" in body
    with rt.db.session() as s:  # the scheduler made nothing of it
        assert [(i.kind, i.number) for i in s.scalars(select(Issue))] == [
            ("announcement", -1)]


def test_an_announcements_items_go_to_everyone_it_reaches(rt: Runtime, smtp_server: Any,
                                                          web: Any) -> None:
    """Its segment chose the readers: a reader's own choices drop none of its items."""
    population = add_population(rt, 12)
    picky = {e for e, r in population.items() if r.topics and "steam" not in r.topics}
    assert picky
    item = add_item(rt, "cosmos", link=web.url("/page/1"),
                    title="The webinar programme", topics=["steam"])
    issue = _announcement(rt)
    newsletter.arrange(rt, TEST, issue.id, item, "add")
    report, _ = newsletter.run_preflight(rt, issue.id)
    newsletter.approve(rt, TEST, issue.id, [w.key for w in report.warnings])
    assert delivery.send(rt, TEST, issue.id).recipients == 12
    _, sink = smtp_server
    for msg in sink.messages:
        assert "The webinar programme" in msg.get_body(("html",)).get_content(), msg["To"]
    assert {m["To"] for m in sink.messages} >= picky


def test_an_item_sent_in_an_announcement_still_goes_into_the_next_issue(
        rt: Runtime, smtp_server: Any, web: Any) -> None:
    add_population(rt, 6)
    item = add_item(rt, "cosmos", link=web.url("/page/2"), title="Open lab day in Porto")
    issue = _announcement(rt, languages=["nl"])
    newsletter.arrange(rt, TEST, issue.id, item, "add")
    report, _ = newsletter.run_preflight(rt, issue.id)
    newsletter.approve(rt, TEST, issue.id, [w.key for w in report.warnings])
    assert delivery.send(rt, TEST, issue.id).issue_status == "sent"
    with rt.db.session() as s:
        assert s.get(NewsItem, item).status == "approved"  # not published to everyone
    nxt = newsletter.compose_next(rt, TEST)
    assert item in [e.item_id for e in nxt.entries]
