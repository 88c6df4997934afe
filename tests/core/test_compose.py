"""Composition rules, pure: sections, events, caps, fair share, determinism."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ostogether.core.compose import Candidate, Rules, Section, compose, fairness

SEND = dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 1)

RULES = Rules(sections=(
    Section("editorial", "Editorial", editorial=True),
    Section("community", "News", ("news",), "newest", 3),
    Section("events", "Events", ("event",), "date", 3),
    Section("tools", "Tools", ("tool",), "oldest", 2),
), max_items_per_project=2, lookback_issues=3)


def cand(id: int, project: int = 1, kind: str = "news", day: dt.date = DAY,
         start: dt.datetime | None = None, end: dt.datetime | None = None) -> Candidate:
    return Candidate(id=id, project_id=project, kind=kind, approved_on=day,
                     event_start=start, event_end=end)


def placed(c: object) -> dict[str, tuple[int, ...]]:
    return {p.section: p.item_ids for p in c.sections}  # type: ignore[attr-defined]


def test_items_go_to_the_section_of_their_kind_and_unknown_kinds_are_reported() -> None:
    c = compose([cand(1, 1, "news"), cand(2, 2, "tool"), cand(3, 3, "reading")], RULES, SEND)
    assert placed(c) == {"community": (1,), "tools": (2,)}
    assert c.left_out == ((3, "no section takes the kind 'reading'"),)


def test_past_events_stay_out_and_upcoming_ones_are_in_date_order() -> None:
    past = SEND - dt.timedelta(days=2)
    items = [
        cand(1, 1, "event", start=SEND + dt.timedelta(days=30)),
        cand(2, 2, "event", start=SEND + dt.timedelta(days=3)),
        cand(3, 3, "event", start=past),  # over before the issue goes out
        cand(4, 4, "event", start=past, end=SEND + dt.timedelta(days=1)),  # still running
    ]
    c = compose(items, RULES, SEND)
    assert placed(c)["events"] == (4, 2, 1)
    assert c.left_out == ((3, "the event is over before the issue goes out"),)


def test_newest_and_oldest_orderings() -> None:
    news = [cand(i, i, "news", day=DAY + dt.timedelta(days=i)) for i in range(1, 4)]
    tools = [cand(10 + i, 10 + i, "tool", day=DAY + dt.timedelta(days=i)) for i in range(1, 3)]
    c = compose(news + tools, RULES, SEND)
    assert placed(c)["community"] == (3, 2, 1)
    assert placed(c)["tools"] == (11, 12)


def test_a_full_section_leaves_the_rest_out_with_the_reason() -> None:
    c = compose([cand(i, i) for i in range(1, 6)], RULES, SEND)
    assert placed(c)["community"] == (1, 2, 3)
    assert c.left_out == ((4, "'News' is full (3 items)"), (5, "'News' is full (3 items)"))


def test_one_project_gets_at_most_its_fair_share_across_sections() -> None:
    items = [cand(1, 7, "news"), cand(2, 7, "event", start=SEND + dt.timedelta(days=1)),
             cand(3, 7, "tool"), cand(4, 8, "tool")]
    c = compose(items, RULES, SEND)
    assert placed(c) == {"community": (1,), "events": (2,), "tools": (4,)}
    assert c.left_out == ((3, "its project already has 2 items in this issue"),)


def test_among_equal_weight_unfeatured_projects_come_first_then_the_longest_unfeatured() -> None:
    items = [cand(1, 1), cand(2, 2), cand(3, 3), cand(4, 4)]
    # Project 1 was in the last issue, project 2 in the one before, 3 in both; 4 never.
    recent = [frozenset({1, 3}), frozenset({2, 3})]
    c = compose(items, RULES, SEND, recent)
    assert placed(c)["community"] == (4, 2, 1)
    assert (3, "'News' is full (3 items)") in c.left_out


def test_weight_beats_fairness() -> None:
    # A newer item of a featured project still comes before an older one of a new project.
    items = [cand(1, 1, day=DAY + dt.timedelta(days=5)), cand(2, 2, day=DAY)]
    c = compose(items, RULES, SEND, [frozenset({1})])
    assert placed(c)["community"] == (1, 2)


def test_fairness_scores() -> None:
    score = fairness([frozenset({1}), frozenset({1, 2}), frozenset({3})])
    assert score == {1: (2, 0), 2: (1, -1), 3: (1, -2)}
    assert sorted([1, 2, 3, 4], key=lambda p: score.get(p, (0, 0))) == [4, 3, 2, 1]


KINDS = ["news", "event", "tool", "reading"]
candidates = st.lists(st.builds(
    cand, id=st.integers(1, 400), project=st.integers(1, 8), kind=st.sampled_from(KINDS),
    day=st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    start=st.one_of(st.none(), st.datetimes(dt.datetime(2026, 12, 1), dt.datetime(2027, 6, 1),
                                            timezones=st.just(dt.UTC)))),
    max_size=60, unique_by=lambda c: c.id)
recents = st.lists(st.frozensets(st.integers(1, 8), max_size=4), max_size=3)


@settings(max_examples=300, deadline=None)
@given(items=candidates, recent=recents, seed=st.integers(0, 2**32 - 1))
def test_composing_is_deterministic_and_never_places_an_item_twice(
        items: list[Candidate], recent: list[frozenset[int]], seed: int) -> None:
    first = compose(items, RULES, SEND, recent)
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    assert compose(shuffled, RULES, SEND, recent) == first

    ids = first.item_ids
    assert len(ids) == len(set(ids))
    # Every candidate is either placed or left out with a reason, exactly once.
    left = [i for i, _ in first.left_out]
    assert sorted(ids + left) == sorted(c.id for c in items)
    by_id = {c.id: c for c in items}
    per_project: dict[int, int] = {}
    for p in first.sections:
        section = RULES.section(p.section)
        assert section is not None and len(p.item_ids) <= section.max_items
        for i in p.item_ids:
            assert by_id[i].kind in section.kinds
            per_project[by_id[i].project_id] = per_project.get(by_id[i].project_id, 0) + 1
    assert all(n <= RULES.max_items_per_project for n in per_project.values())


# ------------------------------------------------------------ "From the library"

def test_outputs_take_turns_by_project_the_oldest_first_within_one() -> None:
    from ostogether.core.compose import OutputCandidate, pick_outputs

    day = dt.date(2026, 1, 1)
    a_old, a_new = OutputCandidate(1, 10, day), OutputCandidate(2, 10, day.replace(month=3))
    a_mid = OutputCandidate(3, 10, day.replace(month=2))
    b = OutputCandidate(4, 20, day.replace(month=6))
    c = OutputCandidate(5, 30, day.replace(month=9))
    # One project with many outputs never fills the section while another waits.
    assert pick_outputs([a_new, a_mid, a_old, b, c], 3) == (1, 4, 5)
    assert pick_outputs([a_new, a_mid, a_old, b], 3) == (1, 4, 3)
    assert pick_outputs([a_new, a_mid, a_old], 2) == (1, 3)
    assert pick_outputs([], 3) == ()


@given(st.lists(st.tuples(st.integers(1, 40), st.integers(1, 5), st.integers(0, 400)),
                unique_by=lambda t: t[0]), st.integers(1, 6))
def test_outputs_are_a_fair_share_whatever_the_input(rows: list[tuple[int, int, int]],
                                                     count: int) -> None:
    from ostogether.core.compose import OutputCandidate, pick_outputs

    cands = [OutputCandidate(i, p, dt.date(2026, 1, 1) + dt.timedelta(days=d))
             for i, p, d in rows]
    chosen = pick_outputs(cands, count)
    assert len(chosen) == min(count, len(cands)) and len(set(chosen)) == len(chosen)
    assert chosen == pick_outputs(list(reversed(cands)), count)
    # Fair: a project has more than one output over another's only when that other one
    # has no output left; within a project the oldest approved go first.
    chosen_of = {p: [c for c in cands if c.project_id == p and c.id in chosen]
                 for p in {c.project_id for c in cands}}
    left = {p: [c for c in cands if c.project_id == p and c.id not in chosen]
            for p in chosen_of}
    for p in chosen_of:
        for q in chosen_of:
            if len(chosen_of[p]) > len(chosen_of[q]) + 1:
                assert not left[q]
        if chosen_of[p] and left[p]:
            assert max((c.approved_on, c.id) for c in chosen_of[p]) < min(
                (c.approved_on, c.id) for c in left[p])
