"""content/topics.toml: the vocabulary readers choose from, read strictly."""

import shutil
from pathlib import Path

import pytest

from ostogether.core.errors import ContentError
from ostogether.edges.site import Community
from ostogether.edges.topics import vocabulary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def community(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    return Community(root=tmp_path)


def test_the_shipped_vocabulary(community):
    v = vocabulary(community)
    assert "steam" in v.topics and "sdg-13" in v.topics  # themes and the goals
    assert v.topics["sdg-4"] == "SDG 4: Quality Education"
    assert set(v.kinds) == {"news", "event", "reading", "tool", "opportunity"}
    assert list(v.audiences) == ["teachers", "school-heads", "parents",
                                 "researchers-industry", "policy-makers"]
    assert len(v.topics) == 12
    assert v.label("audiences", "teachers", "nl") == "Leraren"
    assert v.label("topics", "sdg-4", "de") == "SDG 4: Hochwertige Bildung"
    assert v.label("audiences", "teachers", "xx") == "Teachers"
    assert v.problem("topics", ["steam", "robots"]).startswith("Unknown topics 'robots'")
    assert v.problem("audiences", ["teachers"]) == ""


@pytest.mark.parametrize("text, problem", [
    ("sdgs = [4, 18]\n[audiences]\nteachers = 'Teachers'\n",
     "topics.toml:1: 18 in sdgs is not a Sustainable Development Goal"),
    ("sdgs = [4]\n[audiences]\nteachers = 'Teachers'\n[languages.nl.audiences]\npupils = 'x'\n",
     "topics.toml:5: 'pupils' in [languages.nl.audiences] is not one of the audiences"),
    ("sdgs = [4]\n[audience]\nteachers = 'Teachers'\n",
     "topics.toml:2: unknown field 'audience'"),
    ("sdgs = [4]\n[audiences]\nTeachers = 'Teachers'\n",
     "topics.toml:3: 'Teachers' in [audiences] must be lower-case"),
])
def test_a_mistake_names_the_file_and_the_line(community, text, problem):
    (community.content / "topics.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError) as err:
        vocabulary(community)
    assert problem in str(err.value)


def test_the_kinds_have_labels_in_every_shipped_language(community):
    v = vocabulary(community)
    assert v.label("kinds", "event", "nl") == "Evenement"
    assert v.label("kinds", "reading", "de") == "Lesetipp"
    for code in ("nl", "fr", "de", "es", "it"):
        assert set(v.translated[code]["kinds"]) == set(v.kinds), code
