"""The library's vocabularies and seed files, read strictly like the rest of content/."""

from __future__ import annotations

from pathlib import Path

import pytest

from ostogether.core.errors import ContentError
from ostogether.edges.site import Community
from ostogether.library import content


def test_the_vocabularies_of_content_library_toml(home: Path) -> None:
    vocab = content.vocabulary(Community(home))
    assert vocab.types["toolkit"] == "Toolkit"
    assert set(vocab.types) == {
        "toolkit", "lesson-plan", "best-practice-collection", "guide", "video",
        "online-course", "platform", "map", "dataset", "policy-brief"}
    assert "CC-BY-4.0" in vocab.licences and "CC0-1.0" in vocab.licences
    assert vocab.age_ranges and vocab.subjects
    assert vocab.sdgs[4] == "Quality Education"  # the registry's SDGs


def test_an_unknown_key_is_an_error_with_file_and_line(home: Path) -> None:
    path = home / "content" / "library.toml"
    path.write_text(path.read_text() + "\n[colours]\nred = \"Red\"\n")
    with pytest.raises(ContentError) as exc:
        content.vocabulary(Community(home))
    line = path.read_text().splitlines().index("[colours]") + 1
    assert f"library.toml:{line}: unknown field 'colours'" in str(exc.value)


def test_a_licence_must_be_an_spdx_identifier(home: Path) -> None:
    path = home / "content" / "library.toml"
    path.write_text(path.read_text().replace('"MIT" = "MIT License"',
                                             '"MIT licence!" = "MIT License"'))
    with pytest.raises(ContentError, match="problem") as exc:
        content.vocabulary(Community(home))
    assert "not an SPDX identifier" in str(exc.value)


def test_the_seed_outputs_name_the_three_projects_outputs(home: Path) -> None:
    seeds = content.seeds(Community(home))
    titles = {s.title for s in seeds}
    assert "MULTIPLIERS White Book" in titles
    assert "A map of EOC places for practice" in titles
    assert "Best Practices library" in titles
    assert {p for s in seeds for p in s.projects} == {"connect", "multipliers", "otter"}
    assert len(seeds) == 11


def test_a_seed_with_an_unknown_type_names_its_file_and_line(home: Path) -> None:
    path = home / "content" / "library" / "otter-map.toml"
    path.write_text(path.read_text().replace('type = "map"', 'type = "atlas"'))
    with pytest.raises(ContentError) as exc:
        content.seeds(Community(home))
    line = path.read_text().splitlines().index('type = "atlas"') + 1
    assert f"otter-map.toml:{line}: unknown type 'atlas'" in str(exc.value)
