"""The output record: validation at every door, review, withdrawal, the seeds of init,
search with facets."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ostogether.core.errors import Conflict, NotFound, ValidationError
from ostogether.edges import audit
from ostogether.edges.runtime import Runtime
from ostogether.library import finding, outputs
from ostogether.library.content import vocabulary
from ostogether.models import Output
from tests.factories import TEST, add_output, project_id


def _submit(rt: Runtime, **fields: Any) -> Output:
    fields.setdefault("title", "Air pollution toolkit")
    fields.setdefault("type", "toolkit")
    fields.setdefault("url", "https://multipliers-project.org/toolkits")
    return outputs.submit(rt, TEST, outputs.OutputInput(**fields), source="web",
                          project_id=project_id(rt, "multipliers"))


def test_a_submitted_output_keeps_every_field_and_waits(rt: Runtime) -> None:
    output = _submit(rt, description="Six issues.", languages=["en", "de"],
                     licence="CC-BY-4.0", age_ranges=["upper-secondary"],
                     subjects=["biology", "health"], sdgs=[3, 4], keywords=["vaccination"],
                     organisations=["University of Bonn"], doi="https://doi.org/10.5281/zenodo.42",
                     date="2024-10-01", projects=["otter"],
                     image_url="https://example.org/p.png", image_alt="A class outdoors")
    assert output.status == "submitted"
    assert [p.slug for p in output.projects] == ["multipliers", "otter"]
    assert output.doi == "10.5281/zenodo.42"
    assert output.licence == "CC-BY-4.0" and output.sdgs == [3, 4]
    assert output.slug == "air-pollution-toolkit"
    with rt.db.session() as s:
        assert [e.action for e in audit.history(s, output)] == ["output.submitted"]
        with pytest.raises(NotFound):
            outputs.public(s, output.slug)  # not public before approval


def test_every_bad_field_is_named_at_once(rt: Runtime) -> None:
    with pytest.raises(ValidationError) as exc:
        _submit(rt, title="", type="poster", url="javascript:alert(1)", licence="GPL",
                doi="doi.org/5", sdgs=[18], languages=["english"], age_ranges=["teens"],
                date="yesterday", image_url="https://example.org/x.png")
    assert set(exc.value.fields) == {"title", "type", "url", "licence", "doi", "sdgs",
                                     "languages", "age_ranges", "date", "image_alt"}
    with rt.db.session() as s:
        assert s.scalar(select(Output.id)) is None


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(outputs.API_FIELDS),
                       st.one_of(st.none(), st.integers(), st.text(max_size=30),
                                 st.lists(st.one_of(st.text(max_size=10), st.integers()),
                                          max_size=3), st.booleans())))
def test_validation_never_crashes(body: dict[str, Any]) -> None:
    from ostogether.library.content import Vocabulary
    vocab = Vocabulary(types={"toolkit": "Toolkit"}, age_ranges={"primary": "Primary"},
                       subjects={"biology": "Biology"}, licences={"CC-BY-4.0": "CC BY"})
    try:
        values = outputs.validate(outputs.input_from_json(body), vocab)
    except ValidationError as exc:
        assert exc.fields
    else:
        assert values["type"] == "toolkit" and values["url"].startswith("http")


def test_approve_reject_and_withdraw(rt: Runtime) -> None:
    kept = _submit(rt, title="Kept")
    turned_down = _submit(rt, title="Turned down")
    approved = outputs.approve(rt, TEST, kept.id)
    assert approved.status == "approved" and approved.published_at is not None
    with pytest.raises(ValidationError):
        outputs.reject(rt, TEST, turned_down.id, "  ")
    rejected = outputs.reject(rt, TEST, turned_down.id, "Not an output of the project.")
    assert rejected.reject_reason == "Not an output of the project."
    with pytest.raises(Conflict):
        outputs.approve(rt, TEST, turned_down.id)
    with pytest.raises(NotFound):  # another project's output
        outputs.withdraw(rt, TEST, kept.id, project_id=project_id(rt, "connect"))
    gone = outputs.withdraw(rt, TEST, kept.id, project_id=project_id(rt, "multipliers"))
    assert gone.status == "withdrawn" and gone.withdrawn_at is not None
    with rt.db.session() as s:
        with pytest.raises(NotFound):
            outputs.public(s, "kept")
        assert s.get(Output, kept.id) is not None  # kept, for the harvesters


def test_seeds_are_public_once_however_often_init_runs(rt: Runtime) -> None:
    first = outputs.seed(rt)
    assert len(first.created) == 11
    again = outputs.seed(rt)
    assert again.created == [] and again.unchanged == 11
    with rt.db.session() as s:
        rows = list(s.scalars(select(Output)))
        assert len(rows) == 11 and {o.status for o in rows} == {"approved"}
        white = outputs.public(s, "multipliers-white-book")
        assert white.type == "guide" and white.url == "https://multipliers-project.org/"


def test_search_words_and_facets(rt: Runtime) -> None:
    outputs.seed(rt)
    add_output(rt, "otter", title="Pond life lesson", type="lesson-plan",
               description="Dragonflies and water quality.", subjects=["biology"],
               age_ranges=["primary"], languages=["fr"], licence="CC-BY-4.0", sdgs=[14])
    add_output(rt, "otter", title="Hidden draft", type="lesson-plan", approve=False)
    with rt.db.session() as s:
        everything = finding.search(rt, s, finding.Query())
        assert everything.total == 12  # the draft waits
        assert {v.key: v.count for v in everything.facets["project"]} == {
            "connect": 4, "multipliers": 3, "otter": 5}
        words = finding.search(rt, s, finding.Query(text="dragonfl"))
        assert [o.title for o in words.outputs] == ["Pond life lesson"]
        assert finding.search(rt, s, finding.Query(text="white book")).outputs[0].slug == \
            "multipliers-white-book"
        toolkits = finding.search(rt, s, finding.Query(type="toolkit"))
        assert [o.title for o in toolkits.outputs] == [
            "Science-learning projects/Toolkits on 6 socio-scientific issues"]
        both = finding.search(rt, s, finding.Query(type="lesson-plan", language="fr",
                                                   sdg="14", subject="biology", age="primary",
                                                   licence="CC-BY-4.0", project="otter"))
        assert both.total == 1
        assert finding.search(rt, s, finding.Query(text='"; DROP')).total == 0
        paged = finding.search(rt, s, finding.Query(page=2), page_size=5)
        assert (paged.page, paged.pages, len(paged.outputs)) == (2, 3, 5)
    if rt.db.engine.dialect.name == "sqlite":
        assert everything.full_text == "fts5"


def test_learning_resource_json_ld(rt: Runtime) -> None:
    oid = add_output(rt, "otter", title="Pond life lesson", type="lesson-plan",
                     subjects=["biology"], age_ranges=["primary"], languages=["fr"],
                     licence="CC-BY-4.0", sdgs=[14])
    with rt.db.session() as s:
        data = finding.learning_resource(rt, outputs.get(s, oid))
    assert data["@type"] == "LearningResource"
    assert data["learningResourceType"] == vocabulary(rt.community).types["lesson-plan"]
    assert data["inLanguage"] == ["fr"]
    assert data["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert "Biology" in data["about"] and data["educationalLevel"]
    assert data["name"] == "Pond life lesson"


def test_a_slug_is_never_an_id(rt: Runtime) -> None:
    first = _submit(rt, title="2024")
    second = _submit(rt, title="2024")
    assert (first.slug, second.slug) == ("output-2024", "output-2024-2")
    third = _submit(rt, title="Ünïcode — ça marche")
    assert third.slug == "unicode-ca-marche"


def test_without_fts5_search_falls_back_to_like(rt: Runtime) -> None:
    if rt.db.engine.dialect.name != "sqlite":
        return
    add_output(rt, "otter", title="Pond life lesson", description="Dragonflies.")
    with rt.db.engine.begin() as conn:  # as a SQLite built without FTS5 leaves the schema
        for trigger in ("outputs_fts_ai", "outputs_fts_ad", "outputs_fts_au"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        conn.exec_driver_sql("DROP TABLE outputs_fts")
    with rt.db.session() as s:
        found = finding.search(rt, s, finding.Query(text="dragonfl pond"))
    assert found.full_text == "like" and [o.title for o in found.outputs] == [
        "Pond life lesson"]
