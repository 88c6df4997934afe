"""What a reader's choices give them (``core.choices``), as the readers' pages explain it."""

from hypothesis import given
from hypothesis import strategies as st

from ostogether.core.choices import Choices, Offer, join, matches, select, split

NEWS = Offer(1, "oshub", "news", frozenset({"steam"}), frozenset({"teachers"}))
EVENT = Offer(2, "sles", "event", frozenset({"citizen-science"}), frozenset())
TOOL = Offer(3, "otter", "tool", frozenset({"steam", "sdg-13"}), frozenset({"parents"}))
CALL = Offer(4, "most", "opportunity", frozenset(), frozenset(), for_everyone=True)
ISSUE = (NEWS, EVENT, TOOL, CALL)


def test_nothing_chosen_is_everything():
    assert Choices().everything
    assert select(ISSUE, Choices()) == (1, 2, 3, 4)


def test_a_topic_or_a_followed_project_matches_and_the_issue_order_is_kept():
    assert select(ISSUE, Choices.of(topics=["steam"])) == (1, 3, 4)
    assert select(ISSUE, Choices.of(projects=["sles"])) == (2, 4)
    assert select(ISSUE, Choices.of(topics=["sdg-13"], projects=["oshub"])) == (1, 3, 4)


def test_kinds_and_audiences_narrow_the_set():
    assert select(ISSUE, Choices.of(topics=["steam"], kinds=["tool"])) == (3, 4)
    # kinds alone narrow everything
    assert select(ISSUE, Choices.of(kinds=["event", "news"])) == (1, 2, 4)
    # an item that names no audience is for every audience
    assert select(ISSUE, Choices.of(audiences=["teachers"])) == (1, 2, 4)


def test_an_item_for_everyone_reaches_a_reader_whose_choices_match_nothing():
    choices = Choices.of(topics=["school-innovation"])
    assert select(ISSUE, choices) == (4,)
    assert not matches(NEWS, choices)


def test_csv_cells_split_and_join():
    assert split(" steam; citizen-science ;;steam, sdg-4") == ["steam", "citizen-science",
                                                               "sdg-4"]
    assert join(["steam", "citizen-science"]) == "citizen-science;steam"
    assert split("") == []


words = st.frozensets(st.sampled_from(["a", "b", "c", "d"]), max_size=3)


@given(words, words, words, words)
def test_more_topics_or_projects_never_give_fewer_items(t1, t2, p1, p2):
    offers = [Offer(i, p, "news", frozenset({t})) for i, (p, t) in
              enumerate([("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")])]
    narrow = set(select(offers, Choices(topics=t1, projects=p1)))
    wide = set(select(offers, Choices(topics=t1 | t2, projects=p1 | p2)))
    assert narrow <= wide or not (t1 or p1)
