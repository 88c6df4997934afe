"""Planning the week: slots from schedules/, items before the evergreen library, events
before their date, fair share, the evergreen rule, daylight saving, and editors' changes."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ostogether.core import clock
from ostogether.core.errors import Conflict, ContentError, ValidationError
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from ostogether.social import posts as social
from ostogether.social import text as T
from ostogether.social import versions
from tests.factories import TEST, add_item, project_id

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)  # a Saturday; next week is 2026-W48


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    """These tests run on NOW, whatever the machine's date."""
    test_clock.set(NOW)
ALL = ("x", "facebook", "linkedin", "mastodon", "bluesky")


def rows(rt: Runtime) -> list[SocialPost]:
    with rt.db.session() as s:
        found = list(s.scalars(select(SocialPost).order_by(SocialPost.slot_at,
                                                           SocialPost.network)))
        s.expunge_all()
    return found


def by_slot(found: list[SocialPost]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in found:
        out.setdefault(p.slot_at.astimezone(BRUSSELS).strftime("%a %H:%M"), set()).add(
            p.item_id and f"item:{p.item_id}" or f"evergreen:{p.evergreen_key}")
    return out


def test_next_week_is_filled_items_first_then_the_evergreen_library(rt: Runtime) -> None:
    reading = add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1",
                       summary="A *guide* to socio-scientific inquiry.")
    event = add_item(rt, "otter", "event", link="https://otter-project.eu/e1",
                     event_start=dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC))
    report = social.plan_week(rt, TEST, now=NOW)
    assert report.week == "2026-W48"
    found = rows(rt)
    assert by_slot(found) == {"Mon 10:00": {f"item:{reading}"},
                              # cosmos-ssibl would come first by name, but COSMOS
                              # already has Monday: fair share picks another project.
                              "Wed 10:00": {"evergreen:make-it-open-hubs"},
                              "Fri 11:00": {f"item:{event}"}}
    assert len(found) == 15 and all(p.status == "planned" for p in found)
    for p in found:
        assert T.measure(p.text, p.network).fits
        assert f"utm_source={p.network}" in p.link and p.link in p.text
        assert "#OpenSchooling #STEAMEducation" in p.text
    x_post = next(p for p in found if p.network == "x" and p.item_id == reading)
    assert x_post.text.startswith("cosmos reading r1 (COSMOS)")
    assert "A guide to socio-scientific inquiry." in x_post.text  # Markdown made plain
    assert report.unfilled == []


def test_planning_twice_changes_nothing(rt: Runtime) -> None:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1")
    social.plan_week(rt, TEST, now=NOW)
    before = [(p.id, p.text) for p in rows(rt)]
    again = social.plan_week(rt, TEST, now=NOW)
    assert again.placed == [] and again.kept == 10  # Monday and Wednesday, 5 networks
    assert [(p.id, p.text) for p in rows(rt)] == before


def test_an_event_is_only_placed_before_its_date(rt: Runtime) -> None:
    # Starts on Thursday of the planned week: the Friday slot would be too late.
    add_item(rt, "otter", "event", link="https://otter-project.eu/e2",
             event_start=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    report = social.plan_week(rt, TEST, now=NOW)
    assert "Fri 11:00" not in by_slot(rows(rt))
    assert [at.astimezone(BRUSSELS).strftime("%a") for at, _ in report.unfilled] == ["Fri"]


def test_the_same_item_is_never_planned_twice_for_a_network(rt: Runtime) -> None:
    item = add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    social.plan_week(rt, TEST, now=NOW)
    social.plan_week(rt, TEST, week="2026-W49", now=NOW)
    assert {p.slot_at for p in rows(rt) if p.item_id == item} == {
        dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)}
    with pytest.raises(IntegrityError, match="item_id"), rt.db.session() as s:
        post = s.scalars(select(SocialPost).where(SocialPost.item_id == item)).first()
        assert post is not None  # and the database refuses a second one at another time
        s.add(SocialPost(network=post.network, slot_at=post.slot_at + dt.timedelta(hours=3),
                         kind="news", item_id=item, idempotency_key="k"))
        s.flush()


def test_fair_share_puts_the_least_featured_project_first(rt: Runtime) -> None:
    add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n1")
    social.plan_week(rt, TEST, week="2026-W47", now=dt.datetime(2026, 11, 14, tzinfo=dt.UTC))
    # Next week COSMOS (posted last week) and LEVERS (never posted) both have news.
    older = add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/n2")
    newer = add_item(rt, "levers", "news", link="https://leversforclimate.eu/n1")
    social.plan_week(rt, TEST, now=NOW)
    week = [p for p in rows(rt) if p.slot_at > NOW]
    first = min(week, key=lambda p: p.slot_at)
    assert first.item_id == newer and first.project_id == project_id(rt, "levers")
    assert any(p.item_id == older for p in week)  # COSMOS comes next (Friday)


def test_evergreen_entries_do_not_return_within_the_set_weeks(rt: Runtime) -> None:
    placed = []
    for week in ("2026-W48", "2026-W49", "2026-W50", "2026-W51"):
        report = social.plan_week(rt, TEST, week=week, now=NOW)
        placed.append({title for _, title, _ in report.placed})
    mondays = [p.evergreen_key for p in rows(rt)
               if p.network == "x" and p.slot_at.astimezone(BRUSSELS).weekday() == 0]
    assert sorted(mondays) == ["levers-climate", "oshub-missions", "road-steamer-roadmap"]
    assert len(set(mondays)) == 3  # the three readings, then the fourth Monday stays empty
    assert sum(1 for p in rows(rt) if p.slot_at.astimezone(BRUSSELS).weekday() == 2) == 15


def test_evergreen_returns_after_the_set_weeks(rt: Runtime) -> None:
    library = rt.community.content / "social"
    for path in library.glob("*.toml"):
        if path.stem != "levers-climate":
            path.unlink()
    social.plan_week(rt, TEST, week="2026-W48", now=NOW)  # Monday 23 November
    eleven = social.plan_week(rt, TEST, week="2027-W06", now=NOW)  # Monday 8 February
    twelve = social.plan_week(rt, TEST, week="2027-W07", now=NOW)  # Monday 15 February
    assert [title for _, title, _ in eleven.placed] == []
    assert [title for _, title, _ in twelve.placed] == ["Learning ecosystems for climate "
                                                        "justice"]


def test_a_daylight_saving_change_keeps_the_local_time(rt: Runtime) -> None:
    # Summer time ends on Sunday 25 October 2026: W43 is CEST, W44 is CET.
    social.plan_week(rt, TEST, week="2026-W43", now=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    social.plan_week(rt, TEST, week="2026-W44", now=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    mondays = sorted({p.slot_at for p in rows(rt) if p.slot_at.astimezone(BRUSSELS).weekday()
                      == 0})
    assert mondays == [dt.datetime(2026, 10, 19, 8, tzinfo=dt.UTC),
                       dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC)]
    assert {m.astimezone(BRUSSELS).strftime("%H:%M") for m in mondays} == {"10:00"}


def test_slots_already_past_are_not_planned(rt: Runtime) -> None:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1")
    add_item(rt, "otter", "news", link="https://otter-project.eu/n1")
    wednesday_noon = dt.datetime(2026, 11, 25, 11, tzinfo=dt.UTC)
    social.plan_week(rt, TEST, week="2026-W48", now=wednesday_noon)
    assert set(by_slot(rows(rt))) == {"Fri 11:00"}


def test_auto_approve_setting(env: dict[str, str], fill_database: Any) -> None:
    fill_database("imported")
    rt = Runtime(load_settings(environ={**env, "OSTOGETHER_SOCIAL_AUTO_APPROVE": "true"}))
    social.plan_week(rt, TEST, now=NOW)
    assert {p.status for p in rows(rt)} == {"approved"}
    rt.close()


def test_bad_week_and_bad_evergreen_files_are_clear_errors(rt: Runtime) -> None:
    with pytest.raises(ValidationError, match="write it like 2026-W48"):
        social.plan_week(rt, TEST, week="2026-48", now=NOW)
    bad = rt.community.content / "social" / "broken.toml"
    bad.write_text('kind = "tool"\ntitle = "Pic"\nlink = "https://a.eu"\nimage = '
                   '"https://a.eu/p.png"\nproject = "cosmos"\n')
    with pytest.raises(ContentError, match="broken.toml:4: an image needs image_alt"):
        social.plan_week(rt, TEST, now=NOW)
    bad.write_text('kind = "tool"\ntitle = "T"\nlink = "https://a.eu"\nproject = "nope"\n')
    with pytest.raises(ContentError, match="project 'nope'"):
        social.plan_week(rt, TEST, now=NOW)
    assert rows(rt) == []  # nothing half-written


def test_bad_slots_in_the_timetable_are_refused_with_file_and_reason(rt: Runtime) -> None:
    path = rt.community.schedules / "ostogether.toml"
    good = path.read_text()
    path.write_text(good.replace('days = ["wed"]', 'days = ["3"]'))
    with pytest.raises(ContentError, match=r"days must be weekday names .* got 3"):
        rt.community.schedule()
    path.write_text(good.replace('networks = ["x", "facebook", "linkedin", "mastodon", '
                                 '"bluesky"]\nkinds = ["tool"', 'networks = ["myspace"]\n'
                                 'kinds = ["tool"'))
    with pytest.raises(ContentError, match="unknown network 'myspace'"):
        rt.community.schedule()
    path.write_text(good.replace('time = "11:00"', 'time = "25:00"'))
    with pytest.raises(ContentError, match="time must be a local time"):
        rt.community.schedule()


# ------------------------------------------------------------------ editors' changes

def planned(rt: Runtime) -> list[SocialPost]:
    add_item(rt, "cosmos", "reading", link="https://cosmosproject.eu/r1")
    social.plan_week(rt, TEST, now=NOW)
    return rows(rt)


def test_edit_must_fit_the_network_and_an_image_needs_a_description(rt: Runtime) -> None:
    x_post = next(p for p in planned(rt) if p.network == "x")
    with pytest.raises(ValidationError, match="X counts 300 of 280 weighted characters; "
                                              "shorten it by 20"):
        social.edit(rt, TEST, x_post.id, text="a" * 300)
    with pytest.raises(ValidationError, match="describe the image"):
        social.edit(rt, TEST, x_post.id, text="Short", image_url="https://a.eu/p.png")
    social.edit(rt, TEST, x_post.id, text="Short and fine 🎉", image_url="https://a.eu/p.png",
                image_alt="Pupils measuring air quality")
    after = next(p for p in rows(rt) if p.id == x_post.id)
    assert (after.text, after.edited, after.image_alt) == ("Short and fine 🎉", True,
                                                           "Pupils measuring air quality")


def test_approve_skip_and_move(rt: Runtime) -> None:
    found = planned(rt)
    monday = [p for p in found if p.slot_at.weekday() == 0]
    assert social.approve(rt, TEST, [p.id for p in monday], now=NOW) == 5
    assert {p.status for p in rows(rt) if p.slot_at.weekday() == 0} == {"approved"}
    x_wed = next(p for p in found if p.network == "x" and p.slot_at.weekday() == 2)
    social.skip(rt, TEST, x_wed.id)
    x_mon = next(p for p in monday if p.network == "x")
    # The skipped post frees Wednesday's X slot, so Monday's X post may move there.
    social.move(rt, TEST, x_mon.id, x_wed.slot_at, now=NOW)
    fb_mon = next(p for p in monday if p.network == "facebook")
    fb_wed = next(p for p in found if p.network == "facebook" and p.slot_at.weekday() == 2)
    with pytest.raises(Conflict, match="Facebook already has post"):
        social.move(rt, TEST, fb_mon.id, fb_wed.slot_at, now=NOW)
    with pytest.raises(ValidationError, match="in the future"):
        social.move(rt, TEST, fb_mon.id, NOW - dt.timedelta(days=1), now=NOW)
    with pytest.raises(Conflict, match="skipped"):
        social.approve(rt, TEST, [x_wed.id])


def test_week_view_groups_posts_by_day_slot_and_content(rt: Runtime) -> None:
    planned(rt)
    view = social.week_view(rt, "2026-W48")
    assert (view.previous, view.following) == ("2026-W47", "2026-W49")
    monday = view.days[0][1]
    assert [s.at.strftime("%H:%M") for s in monday] == ["10:00"]
    [entry] = monday[0].entries
    assert entry.project == "COSMOS" and [p.network for p in entry.posts] == list(ALL)
    assert view.counts["planned"] == 10
    assert view.days[4][1][0].entries == []  # Friday's slot is shown, empty


def test_linkedin_token_warning_seven_days_before_expiry(settings: object) -> None:
    from dataclasses import replace

    s = replace(settings, linkedin_token_expires_on="2026-11-28")  # type: ignore[type-var]
    warn = {c["network"]: c["warning"] for c in versions.connections(s, dt.date(2026, 11, 21))}
    assert warn["linkedin"] == ("The LinkedIn token expires on 28 November 2026, in 7 day(s); "
                                "renew it before then (docs/social.md).")
    quiet = {c["network"]: c["warning"] for c in versions.connections(s, dt.date(2026, 11, 20))}
    assert quiet["linkedin"] == ""
    gone = {c["network"]: c["warning"] for c in versions.connections(s, dt.date(2026, 12, 1))}
    assert "expired on 28 November 2026" in gone["linkedin"]


def test_a_planning_run_that_loses_a_race_changes_nothing(rt: Runtime,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ostogether.social import planner

    real = planner.plan

    def another_run_plans_first(*args: object, **kwargs: object) -> planner.Plan:
        result = real(*args, **kwargs)  # type: ignore[arg-type]
        first = result.placed[0]
        with rt.db.session() as s:  # a second process takes the same slot meanwhile
            s.add(SocialPost(network=first.networks[0], slot_at=first.slot.at, kind="tool",
                             evergreen_key="other-run", idempotency_key="race"))
        return result

    monkeypatch.setattr(planner, "plan", another_run_plans_first)
    with pytest.raises(Conflict, match="Another planning run filled these slots"):
        social.plan_week(rt, TEST, now=NOW)
    assert [p.evergreen_key for p in rows(rt)] == ["other-run"]  # nothing half-written


def test_a_tool_slot_with_nothing_else_draws_an_output_of_the_library(rt: Runtime) -> None:
    from ostogether.library import outputs
    from ostogether.models import Output
    from tests.factories import add_output

    for path in (rt.community.content / "social").glob("*.toml"):
        if path.stem != "otter-outdoors":  # one evergreen tool of the community's own
            path.unlink()
    with rt.db.session() as s:  # only this test's outputs are public
        for o in s.scalars(select(Output).where(Output.status == "approved")):
            o.status = "withdrawn"
    long = "Places to learn outside the classroom, mapped by teachers. " * 40
    oid = add_output(rt, "otter", title="OTTER map of outdoor learning places",
                     description=long)
    with rt.db.session() as s:
        slug = s.scalar(select(Output.slug).where(Output.id == oid))
    social.plan_week(rt, TEST, week="2026-W48", now=NOW)
    social.plan_week(rt, TEST, week="2026-W49", now=NOW)
    wednesdays = [p for p in rows(rt) if p.slot_at.astimezone(BRUSSELS).weekday() == 2]
    # The community's own entry first; the week after, the library's output.
    assert [p.evergreen_key for p in wednesdays if p.network == "x"] == [
        "otter-outdoors", f"library-{slug}"]
    drawn = [p for p in wednesdays if p.evergreen_key == f"library-{slug}"]
    assert sorted(p.network for p in drawn) == sorted(ALL)
    for p in drawn:
        assert T.measure(p.text, p.network).fits, (p.network, len(p.text))
        assert p.link.startswith(f"https://ostogether.test/library/{slug}?")
        assert p.link in p.text and "OTTER map of outdoor learning places" in p.text
        assert p.project_id == project_id(rt, "otter") and p.kind == "tool"
    # Readings and news slots never draw outputs; a withdrawn output is not drawn.
    assert not any(p.evergreen_key.startswith("library-") for p in rows(rt)
                   if p.slot_at.astimezone(BRUSSELS).weekday() != 2)
    outputs.withdraw(rt, TEST, oid)
    social.plan_week(rt, TEST, week="2026-W50", now=NOW)
    assert not [p for p in rows(rt) if p.slot_at.astimezone(BRUSSELS).weekday() == 2
                and p.slot_at > drawn[0].slot_at]
