"""An issue's send date and time: chosen on the issue page and with the CLI in the
community's zone (Europe/Brussels here), refused when it cannot be, audited; an approved
issue keeps its approval only for another time of the same day; and the worker sends an
approved issue at the time an editor chose, once, whichever of its round and the
timetable's job comes first. Every instant is set on the test's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import html as lxml_html
from sqlalchemy import select

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.errors import Conflict, ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Delivery, Issue
from ostogether.newsletter import delivery, send_dates
from ostogether.newsletter import issues as newsletter
from tests.conftest import outbox, post, run
from tests.factories import TEST, add_item, add_readers, make_user, mark_sent
from tests.feedserver import FeedServer

UTC = dt.UTC
BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # a Saturday, 13:00 in Brussels
SEND = dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # the timetable's: 10:00 in Brussels


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)


@pytest.fixture
def composed(rt: Runtime, web: FeedServer) -> Callable[..., Issue]:
    """``composed(approve=False)``: an issue of two items whose links answer, for the
    timetable's 15 January, approved when asked."""
    def make(approve: bool = False) -> Issue:
        add_item(rt, "cosmos", link=web.url("/page/1"))
        add_item(rt, "levers", link=web.url("/page/2"))
        issue = newsletter.compose_next(rt, TEST, now=NOW)
        assert issue.send_at == SEND
        if approve:
            issue, _ = newsletter.approve(rt, TEST, issue.id)
        return issue
    return make


def state(rt: Runtime, issue_id: int) -> Issue:
    with rt.db.session() as s:
        issue = s.get(Issue, issue_id)
        assert issue is not None
        s.expunge(issue)
        return issue


# --------------------------------------------------------------------- reading the time

def test_the_date_and_time_are_read_on_the_wall_clock_of_the_zone() -> None:
    assert send_dates.when("2027-01-20", "14:30", BRUSSELS, NOW) == dt.datetime(
        2027, 1, 20, 13, 30, tzinfo=UTC)  # CET, UTC+01:00
    assert send_dates.when("2027-06-10", "9:00", BRUSSELS, NOW) == dt.datetime(
        2027, 6, 10, 7, 0, tzinfo=UTC)  # CEST, UTC+02:00
    # The hour that comes twice when the clocks go back: the first of the two.
    assert send_dates.when("2027-10-31", "02:30", BRUSSELS, NOW) == dt.datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("day", "at", "field", "says"), [
    ("2027-03-28", "02:30", "send_time", "there is no 02:30 on 28 March 2027 in "
     "Europe/Brussels: the clocks go forward that night; choose another time, such as 03:30"),
    ("2026-11-20", "10:00", "send_date", "20 November 2026 at 10:00 has passed (it is now 21 "
     "November 2026, 13:00 in Europe/Brussels); choose a time to come"),
    ("2026-11-21", "12:59", "send_time", "21 November 2026 at 12:59 has passed"),
    ("2027-11-23", "10:00", "send_date", "at most a year ahead: 22 November 2027 at the latest"),
    ("15/01/2027", "10:00", "send_date", "'15/01/2027' is not a date: write it as YYYY-MM-DD"),
    ("2027-02-30", "10:00", "send_date", "'2027-02-30' is not a date"),
    ("2027-01-15", "25:00", "send_time", "'25:00' is not a time: write it as HH:MM"),
    ("2027-01-15", "", "send_time", "choose a time"),
    ("", "10:00", "send_date", "choose a date"),
    ("２０２７-01-15", "10:00", "send_date", "is not a date"),
])
def test_a_time_that_cannot_be_is_refused_beside_its_field(day: str, at: str, field: str,
                                                           says: str) -> None:
    with pytest.raises(ValidationError) as exc:
        send_dates.when(day, at, BRUSSELS, NOW)
    assert list(exc.value.fields) == [field]
    assert says in exc.value.fields[field]
    assert str(exc.value).startswith("The send date was not changed: the ")


@given(st.dates(dt.date(2026, 11, 22), dt.date(2027, 11, 20)),
       st.times().map(lambda t: t.replace(second=0, microsecond=0)))
@example(dt.date(2027, 3, 28), dt.time(2, 0))
@example(dt.date(2027, 10, 31), dt.time(2, 59))
def test_any_wall_time_is_stored_as_the_instant_it_shows_or_named_as_skipped(
        day: dt.date, at: dt.time) -> None:
    """Whatever the day (the two daylight-saving changes of 2027 included): the stored
    UTC instant shows the very date and time typed on Brussels' clocks, or the time does
    not exist there and the refusal says so."""
    try:
        instant = send_dates.when(day.isoformat(), f"{at:%H:%M}", BRUSSELS, NOW)
    except ValidationError as exc:
        assert "the clocks go forward that night" in exc.fields["send_time"]
        assert (day, at.hour) in ((dt.date(2027, 3, 28), 2),)
        return
    assert instant.tzinfo is UTC
    local = instant.astimezone(BRUSSELS)
    assert (local.date(), local.time()) == (day, at)


# --------------------------------------------------------------------- rescheduling

def test_a_draft_takes_a_new_send_time_and_the_history_says_from_and_to(
        rt: Runtime, composed: Any) -> None:
    issue = composed()
    moved = send_dates.reschedule(rt, TEST, issue.id, "2027-01-20", "14:30")
    assert moved.after == dt.datetime(2027, 1, 20, 13, 30, tzinfo=UTC)
    assert (moved.before, moved.back_to_review) == (SEND, False)
    assert state(rt, issue.id).send_at == moved.after
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "issue.rescheduled")).one()
    assert entry.detail == {"from": SEND.isoformat(), "to": moved.after.isoformat(),
                            "back_to_review": False}
    # The same time again changes nothing and writes nothing.
    assert send_dates.reschedule(rt, TEST, issue.id, "2027-01-20", "14:30").before == \
        moved.after
    with rt.db.session() as s:
        assert len(s.scalars(select(AuditEntry).where(
            AuditEntry.action == "issue.rescheduled")).all()) == 1


def test_an_approved_issue_keeps_its_approval_for_another_hour_of_the_same_day_only(
        rt: Runtime, composed: Any) -> None:
    issue = composed(approve=True)
    digest = issue.snapshot_sha256
    moved = send_dates.reschedule(rt, TEST, issue.id, "2027-01-15", "16:45")
    assert not moved.back_to_review
    kept = state(rt, issue.id)
    assert (kept.status, kept.snapshot_sha256) == ("approved", digest)
    assert kept.send_at == dt.datetime(2027, 1, 15, 15, 45, tzinfo=UTC)
    # Another day, even in the same month (the default templates show only the month):
    # what is timely depends on the day, so the issue is checked and approved again.
    moved = send_dates.reschedule(rt, TEST, issue.id, "2027-01-18", "16:45")
    assert moved.back_to_review
    reopened = state(rt, issue.id)
    assert (reopened.status, reopened.snapshot_sha256) == ("in_review", "")
    with rt.db.session() as s:
        back = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.in_review")
                         .order_by(AuditEntry.id.desc())).first()
    assert back is not None
    assert back.detail["reason"] == "the send date changed after approval"


def test_a_send_date_cannot_change_once_sending_started(rt: Runtime, composed: Any) -> None:
    issue = composed(approve=True)
    delivery.start(rt, TEST, issue.id)
    with pytest.raises(Conflict, match="is sending; its send date can no longer change"):
        send_dates.reschedule(rt, TEST, issue.id, "2027-01-20", "10:00")


# --------------------------------------------------------------------- the worker

def test_an_approved_issue_goes_out_at_the_time_chosen_and_only_once(
        rt: Runtime, composed: Any, test_clock: clock.FakeClock) -> None:
    add_readers(rt, 3)
    issue = composed()
    # Tuesday 12 January at 15:00 in Brussels: no send date of the timetable.
    send_dates.reschedule(rt, TEST, issue.id, "2027-01-12", "15:00")
    newsletter.approve(rt, TEST, issue.id)
    at = dt.datetime(2027, 1, 12, 14, 0, tzinfo=UTC)
    test_clock.set(at - dt.timedelta(seconds=1))
    jobs.pick_up(rt)
    assert state(rt, issue.id).status == "approved" and outbox(rt.settings) == []
    test_clock.set(at)
    jobs.pick_up(rt)  # the worker's round, every few seconds
    assert state(rt, issue.id).status == "sent"
    assert sorted(m["To"].addresses[0].addr_spec for m in outbox(rt.settings)) == [
        "reader0@readers.test", "reader1@readers.test", "reader2@readers.test"]
    # Neither the next round nor the timetable's job sends it again.
    test_clock.advance(seconds=5)
    jobs.pick_up(rt)
    assert "issue #10" not in jobs.run(rt, "send_issue", now=clock.now()).summary
    test_clock.set(SEND)
    jobs.run(rt, "send_issue", now=SEND)
    jobs.pick_up(rt)
    assert len(outbox(rt.settings)) == 3
    with rt.db.session() as s:
        assert len(s.scalars(select(Delivery)).all()) == 3
        started = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "issue.send_started")).one()
    assert started.actor == "system"


def test_when_the_timetables_job_starts_first_the_round_sends_nothing_more(
        rt: Runtime, composed: Any, test_clock: clock.FakeClock) -> None:
    add_readers(rt, 2)
    issue = composed(approve=True)
    test_clock.set(SEND)
    row = jobs.run(rt, "send_issue", now=SEND)
    assert row.outcome == "ok" and "2 of 2 sent" in row.summary
    jobs.pick_up(rt)
    assert state(rt, issue.id).status == "sent" and len(outbox(rt.settings)) == 2


def test_an_issue_approved_after_its_time_waits_for_an_editor(
        rt: Runtime, composed: Any, test_clock: clock.FakeClock) -> None:
    add_readers(rt, 2)
    issue = composed()
    test_clock.set(SEND + dt.timedelta(hours=2))  # approved at noon, for 10:00
    newsletter.approve(rt, TEST, issue.id)
    jobs.pick_up(rt)
    row = jobs.run(rt, "send_issue", now=clock.now())
    assert row.summary.endswith("was approved after its send time; it goes out when an "
                                "editor presses Send now or gives it a new time")
    assert state(rt, issue.id).status == "approved" and outbox(rt.settings) == []
    # A new time that day keeps the approval, and then it goes by itself.
    send_dates.reschedule(rt, TEST, issue.id, "2027-01-15", "16:00")
    assert send_dates.goes_by_itself(state(rt, issue.id))
    test_clock.set(dt.datetime(2027, 1, 15, 15, 0, tzinfo=UTC))
    jobs.pick_up(rt)
    assert state(rt, issue.id).status == "sent" and len(outbox(rt.settings)) == 2


def test_an_issue_days_late_is_not_sent_by_itself(rt: Runtime, composed: Any,
                                                  test_clock: clock.FakeClock) -> None:
    add_readers(rt, 1)
    issue = composed(approve=True)
    test_clock.set(SEND + send_dates.LATE + dt.timedelta(minutes=1))  # a worker was down
    jobs.pick_up(rt)
    assert state(rt, issue.id).status == "approved" and outbox(rt.settings) == []
    assert send_dates.due(rt, SEND + dt.timedelta(days=1)) == [issue.id]


def test_the_editors_reminder_names_the_time_an_editor_chose(
        rt: Runtime, composed: Any, test_clock: clock.FakeClock) -> None:
    make_user(rt, "editor@ecsite.eu", "editor")
    issue = composed()
    send_dates.reschedule(rt, TEST, issue.id, "2027-01-16", "11:00")
    at = SEND - dt.timedelta(hours=48)  # the timetable's reminder, 48 hours before
    test_clock.set(at)
    jobs.run(rt, "remind_editors", now=at)
    [mail] = [m for m in outbox(rt.settings) if m["To"] == "editor@ecsite.eu"]
    assert mail["Subject"] == "Issue #10 is not approved: it goes out Saturday 16 January at 11:00"


# --------------------------------------------------------------------- the faces

def test_the_issue_page_chooses_the_date_and_time_in_the_communitys_zone(
        editor: Any, rt: Runtime, composed: Any) -> None:
    issue = composed()
    url = f"/editors/issues/{issue.number}"
    page = lxml_html.fromstring(editor.get(url).get_data(as_text=True))
    assert page.get_element_by_id("send_date").get("value") == "2027-01-15"
    assert page.get_element_by_id("send_date").get("type") == "date"
    assert page.get_element_by_id("send_time").get("value") == "10:00"
    assert page.get_element_by_id("send_time").get("type") == "time"
    when = page.get_element_by_id("when").text_content()
    assert "Goes out on Friday 15 January 2027 at 10:00, Europe/Brussels (CET, UTC+01:00)." \
        in " ".join(when.split())
    # Summer time: the label says so.
    r = post(editor, f"{url}/schedule", url, send_date="2027-06-10", send_time="09:00")
    assert r.status_code == 302 and r.headers["Location"].endswith("#when")
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert ("Issue #10 now goes out on Thursday 10 June 2027 at 09:00, Europe/Brussels "
            "(CEST, UTC+02:00).") in html
    assert state(rt, issue.id).send_at == dt.datetime(2027, 6, 10, 7, 0, tzinfo=UTC)
    assert ("Send date changed by editor@example.org, <time" in html
            and ": 15 Jan 2027 10:00 CET → 10 Jun 2027 09:00 CEST</li>" in html)


def test_a_skipped_hour_is_named_beside_the_time_and_what_was_typed_stays(
        editor: Any, rt: Runtime, composed: Any) -> None:
    issue = composed()
    url = f"/editors/issues/{issue.number}"
    r = post(editor, f"{url}/schedule", url, send_date="2027-03-28", send_time="02:30")
    assert r.status_code == 400
    page = lxml_html.fromstring(r.get_data(as_text=True))
    field = page.get_element_by_id("send_time")
    assert (field.get("value"), field.get("aria-invalid")) == ("02:30", "true")
    assert page.get_element_by_id("send_date").get("value") == "2027-03-28"
    assert "there is no 02:30 on 28 March 2027 in Europe/Brussels" in page.get_element_by_id(
        "send_time-error").text_content()
    assert "The send date was not changed" in page.get_element_by_id(
        "error-summary").text_content()
    assert state(rt, issue.id).send_at == SEND
    r = post(editor, f"{url}/schedule", url, send_date="2026-11-01", send_time="10:00")
    assert r.status_code == 400 and "has passed" in r.get_data(as_text=True)


def test_moving_an_approved_issue_to_another_day_on_the_page_asks_for_approval_again(
        editor: Any, rt: Runtime, composed: Any) -> None:
    issue = composed(approve=True)
    url = f"/editors/issues/{issue.number}"
    html = editor.get(url).get_data(as_text=True)
    assert "It goes out by itself on Friday 15 January 2027 at 10:00" in html
    post(editor, f"{url}/schedule", url, send_date="2027-01-15", send_time="11:00")
    html = editor.get(url).get_data(as_text=True)
    assert "It went back to review" not in html and state(rt, issue.id).status == "approved"
    post(editor, f"{url}/schedule", url, send_date="2027-01-16", send_time="11:00")
    html = editor.get(url).get_data(as_text=True)
    assert "It went back to review, as it was approved for another day" in html
    assert state(rt, issue.id).status == "in_review"


def test_a_sent_issue_has_no_send_date_form(editor: Any, rt: Runtime, composed: Any) -> None:
    issue = composed(approve=True)
    mark_sent(rt, issue.id)
    html = editor.get(f"/editors/issues/{issue.number}").get_data(as_text=True)
    assert 'name="send_date"' not in html


def test_the_cli_schedules_an_issue(rt: Runtime, composed: Any, env: dict[str, str]) -> None:
    composed()
    r = run(env, "issue", "schedule", "10", "--at", "2027-01-20 14:30")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("Issue #10 goes out on Wednesday 20 January 2027 at 14:30, "
                                "Europe/Brussels (CET, UTC+01:00).")
    r = run(env, "issue", "schedule", "10", "--at", "2027-03-28T02:15")
    assert r.returncode == 1
    assert "there is no 02:15 on 28 March 2027 in Europe/Brussels" in r.stderr
