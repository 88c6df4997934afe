"""The segment rule of announcements (``core.segments``), pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ostogether.core.segments import Reader, Segment, chose, reaches

TOPICS = ("climate", "health", "space", "sdg-4")
AUDIENCES = ("teachers", "parents", "school-heads")
LANGS = ("en", "nl", "fr")
COUNTRIES = ("BE", "NL", "")

keys = lambda pool: st.frozensets(st.sampled_from(pool), max_size=3)  # noqa: E731
readers = st.builds(Reader, language=st.sampled_from(LANGS),
                    country=st.sampled_from(COUNTRIES), topics=keys(TOPICS),
                    audiences=keys(AUDIENCES))
segments = st.builds(Segment, topics=keys(TOPICS), audiences=keys(AUDIENCES),
                     languages=keys(LANGS), countries=keys(("BE", "NL")))


def test_the_issue_s_examples() -> None:
    seg = Segment.of(topics=["climate"], countries=["be"])
    assert reaches(seg, Reader("en", "BE", frozenset({"climate", "space"})))
    assert reaches(seg, Reader("nl", "BE"))  # chose no topic: takes every topic
    assert not reaches(seg, Reader("en", "BE", frozenset({"space"})))
    assert not reaches(seg, Reader("en", "", frozenset({"climate"})))  # country unknown
    assert not reaches(seg, Reader("en", "NL", frozenset({"climate"})))
    assert chose("topics", seg, Reader("en", "BE", frozenset({"climate"})))
    assert not chose("topics", seg, Reader("en", "BE"))


@given(readers)
def test_an_empty_segment_is_every_reader(reader: Reader) -> None:
    assert Segment().everyone and reaches(Segment(), reader)


@given(segments, readers)
def test_a_reader_is_in_when_every_named_dimension_matches(seg: Segment,
                                                          reader: Reader) -> None:
    expected = all([
        not seg.languages or reader.language in seg.languages,
        not seg.countries or (reader.country != "" and reader.country in seg.countries),
        not seg.topics or not reader.topics or bool(reader.topics & seg.topics),
        not seg.audiences or not reader.audiences or bool(reader.audiences & seg.audiences),
    ])
    assert reaches(seg, reader) is expected


@given(segments, segments, readers)
def test_naming_more_in_a_dimension_never_loses_a_reader(a: Segment, b: Segment,
                                                         reader: Reader) -> None:
    """Widening every named dimension keeps everyone who was in; a dimension named in
    only one of them is the one's (an unnamed dimension does not narrow)."""
    wider = Segment(a.topics | b.topics if a.topics else frozenset(),
                    a.audiences | b.audiences if a.audiences else frozenset(),
                    a.languages | b.languages if a.languages else frozenset(),
                    a.countries | b.countries if a.countries else frozenset())
    if reaches(a, reader):
        assert reaches(wider, reader)


@given(segments)
def test_a_segment_survives_the_database(seg: Segment) -> None:
    assert Segment.from_dict(seg.as_dict()) == seg
