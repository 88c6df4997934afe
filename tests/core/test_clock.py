"""The one clock, and the service at the instants where calendars go wrong: a year end
that comes earlier in Brussels than in UTC, 29 February, both daylight-saving nights,
ISO week 53, and machines set to zones far from UTC.

The suite itself runs on a fixed test clock (conftest); `make test-dates` runs these and
the other clock-sensitive files under libfaketime at other dates and zones.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ostogether import scheduler
from ostogether.accounts import users
from ostogether.core import clock, signing
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost, User
from ostogether.reach import reports
from ostogether.social import posts as social
from tests.conftest import (
    frozen,
)
from tests.factories import TEST, make_user

UTC = dt.UTC
BRUSSELS = ZoneInfo("Europe/Brussels")

EDGES = {
    # 00:30 on 1 January in Brussels, still 31 December in UTC.
    "new-year-in-brussels": dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    "29-february": dt.datetime(2028, 2, 29, 12, 0, tzinfo=UTC),
    # Clocks go forward at 01:00 UTC, and back at 01:00 UTC.
    "spring-forward": dt.datetime(2027, 3, 28, 0, 59, tzinfo=UTC),
    "fall-back": dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
    # 2026 has 53 ISO weeks; the Sunday of W53 is Monday of 2027-W01 in Brussels.
    "iso-week-53": dt.datetime(2026, 12, 28, 9, 0, tzinfo=UTC),
    "iso-week-53-ends-in-brussels": dt.datetime(2027, 1, 3, 23, 30, tzinfo=UTC),
}


# ------------------------------------------------------------------------ the clock

def test_a_fake_clock_stands_still_moves_when_told_and_is_put_back() -> None:
    start = dt.datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    outer = clock.current()
    with frozen(start) as fake:
        assert clock.now() == start
        assert fake.advance(hours=25) == start + dt.timedelta(hours=25)
        assert clock.now() == start + dt.timedelta(hours=25)
        assert clock.timestamp() == (start + dt.timedelta(hours=25)).timestamp()
        fake.set(start)
        assert clock.now() == start
    assert clock.current() is outer


def test_a_running_fake_clock_advances_from_its_start() -> None:
    start = dt.datetime(2031, 1, 1, tzinfo=UTC)
    fake = clock.FakeClock(start, running=True)
    first = fake.now()
    clock.sleep(0.02)
    second = fake.now()
    assert start <= first < second < start + dt.timedelta(seconds=30)


def test_a_fake_clock_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        clock.FakeClock(dt.datetime(2027, 1, 1))


def test_today_depends_on_the_zone_not_the_machine() -> None:
    with frozen(dt.datetime(2027, 6, 30, 12, 0, tzinfo=UTC)):
        assert clock.today("Pacific/Kiritimati") == dt.date(2027, 7, 1)  # UTC+14
        assert clock.today("Pacific/Pago_Pago") == dt.date(2027, 6, 30)  # UTC-11
        assert clock.today(BRUSSELS) == dt.date(2027, 6, 30)


def test_the_system_clock_is_the_machines() -> None:
    # The one test that reads the machine's clock: the real clock is the real time.
    system = clock.SystemClock().now()
    assert system.tzinfo is not None
    assert abs(system.timestamp() - time.time()) < 60


def test_signed_links_age_with_the_clock(rt: Runtime, test_clock: clock.FakeClock) -> None:
    make_user(rt, "ed@example.org")
    with rt.db.session() as s:
        user = s.scalars(select(User)).one()
        s.expunge(user)
    link = users.password_link(rt, user)
    token = link.rsplit("/", 1)[1]
    assert users.user_for_link(rt, token).id == user.id
    test_clock.advance(hours=rt.settings.invite_max_age_hours + 1)
    with pytest.raises(Exception, match="expired"):
        users.user_for_link(rt, token)
    # The signature carries the clock's time, not the machine's.
    with frozen(dt.datetime(2030, 1, 1, tzinfo=UTC)):
        stamp = signing.ClockSigner("k").get_timestamp()
    assert stamp == int(dt.datetime(2030, 1, 1, tzinfo=UTC).timestamp())


def test_the_scheduler_reads_the_same_clock() -> None:
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    at = dt.datetime(2029, 7, 4, 6, 0, tzinfo=UTC)
    scheduler._scheduler_reads_the_clock()
    with frozen(at):
        assert apscheduler.schedulers.base.datetime.now(BRUSSELS) == at.astimezone(BRUSSELS)
        assert apscheduler.executors.base.datetime.now(UTC) == at


# ------------------------------------------------------ the service at the edges

@pytest.fixture(params=sorted(EDGES), ids=sorted(EDGES))
def edge(request: Any) -> Iterator[dt.datetime]:
    with frozen(EDGES[request.param]):
        yield EDGES[request.param]


@pytest.fixture(params=["UTC", "Pacific/Kiritimati", "Pacific/Honolulu", "Asia/Kathmandu"])
def machine_zone(request: Any) -> Iterator[str]:
    """The machine's own zone (TZ), which the service must ignore."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_today_is_the_communitys_day(rt: Runtime, edge: dt.datetime, machine_zone: str) -> None:
    assert rt.today() == edge.astimezone(BRUSSELS).date()


def test_next_week_is_planned_inside_that_week(rt: Runtime, edge: dt.datetime) -> None:
    year, week = social.next_week(rt)
    local_today = edge.astimezone(BRUSSELS).date()
    assert (year, week) == (local_today + dt.timedelta(days=7)).isocalendar()[:2]
    report = social.plan_week(rt, TEST)
    assert report.week == f"{year}-W{week:02d}"
    with rt.db.session() as s:
        slots = list(s.scalars(select(SocialPost.slot_at)))
    assert slots, "nothing was planned"
    for at in slots:
        assert at.astimezone(BRUSSELS).isocalendar()[:2] == (year, week)
        assert at > edge


def test_dashboard_months_and_weeks_end_at_the_communitys_today(
        rt: Runtime, edge: dt.datetime, machine_zone: str) -> None:
    f = reports.figures(rt, clock.now())
    local = edge.astimezone(BRUSSELS)
    months = [m.month for m in f.months]
    assert months[-1] == f"{local.year:04d}-{local.month:02d}"
    assert len(set(months)) == 12 == len(months) and months == sorted(months)
    iso = local.isocalendar()
    assert f.weeks[-1] == f"{iso.year}-W{iso.week:02d}"
    assert len(set(f.weeks)) == 12 and f.weeks == sorted(f.weeks)


def test_the_dashboard_page_renders_at_every_edge(editor: Any, edge: dt.datetime) -> None:
    r = editor.get("/editors/")
    assert r.status_code == 200
    iso = edge.astimezone(BRUSSELS).isocalendar()
    assert f"{iso.year}-W{iso.week:02d}" in r.get_data(as_text=True)


def test_the_next_send_is_after_now_in_a_send_month(rt: Runtime, edge: dt.datetime) -> None:
    schedule = rt.community.schedule()
    send = schedule.next_send(clock.now())
    assert send > edge
    local = send.astimezone(BRUSSELS)
    assert local.month in schedule.newsletter.months
    assert (local.day, local.time()) == (schedule.newsletter.day, schedule.newsletter.time)
    assert send - edge < dt.timedelta(days=62)


def test_the_default_report_period_is_365_days_to_today(rt: Runtime, edge: dt.datetime) -> None:
    start, end = reports.parse_period("", "", rt.today())
    assert end == edge.astimezone(BRUSSELS).date()
    assert (end - start).days == 364
