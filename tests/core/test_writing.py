"""What people really write passes every door: emoji held together by U+200D (👩‍🔬, a
family, 🏳️‍🌈), flags spelt with tag characters (🏴󠁧󠁢󠁳󠁣󠁴󠁿), Persian and Indic words that need
U+200C, Hebrew with its direction marks. Only the characters that reorder or hide text
are refused: bidi embeddings, overrides and isolates, line and paragraph separators, a
BOM or zero-width space inside text, invisible operators, stray tag characters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from ostogether.accounts import tokens
from ostogether.core.errors import ValidationError
from ostogether.core.inputs import (
    DANGEROUS_FORMAT,
    hidden_character,
    one_line_problem,
    text_problem,
)
from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, Project
from ostogether.news import items as news
from ostogether.registry import rules as registry
from ostogether.registry.rules import ProjectRecord
from tests.conftest import csrf_from, login, new_client
from tests.factories import TEST, make_user, project_id

SCIENTIST = "\U0001F469\u200D\U0001F52C"  # 👩‍🔬
FAMILY = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
SCOTLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"
RAINBOW = "\U0001F3F3\uFE0F\u200D\U0001F308"  # a variation selector and a joiner
PERSIAN = "می\u200Cخواهم کتاب\u200Cها را بخوانم"  # ZWNJ inside words
HINDI = "क्\u200Dष"  # ZWJ in Devanagari
HEBREW = "\u05E9\u05DC\u05D5\u05DD (2026)\u200F"  # a right-to-left mark after the number
WRITING = [SCIENTIST, FAMILY, SCOTLAND, RAINBOW, PERSIAN, HINDI, HEBREW]
# What must stay refused, each kind of it.
HIDING = ["\u202E", "\u202A", "\u202D", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028",
          "\u2029", "\uFEFF", "\u200B", "\u2060", "\u2063", "\u206E", "\uFFF9", "\x1b",
          "\x85", "\x9b", "\U000E0041", "\U000E007F", "\uE000"]

PIECES = st.sampled_from([*WRITING, "Science", " ", "é", "—", "2026", "!"])
TEXTS = st.lists(PIECES, min_size=1, max_size=5).map(lambda ps: "A" + "".join(ps))


@given(TEXTS)
@example(" ".join(WRITING))
def test_what_people_write_is_one_line_of_text(text: str) -> None:
    assert one_line_problem(text) is None
    assert text_problem(text + "\n\n" + text) is None


@given(TEXTS, st.sampled_from(HIDING), st.integers(min_value=0))
def test_a_character_that_hides_or_reorders_text_is_refused_anywhere(text: str, bad: str,
                                                                    at: int) -> None:
    at %= len(text) + 1
    spoilt = text[:at] + bad + text[at:]
    assert one_line_problem(spoilt) is not None
    assert text_problem(spoilt) is not None
    assert hidden_character(spoilt, multiline=True) is not None


def test_the_refused_format_characters_are_the_dangerous_ones_only() -> None:
    for ch in "\u200C\u200D\u200E\u200F\u061C\u00AD":
        assert hidden_character(f"a{ch}b") is None, hex(ord(ch))
    for code in DANGEROUS_FORMAT:
        assert hidden_character(f"a{chr(code)}b") == chr(code)
    # Tag characters only inside a flag; a flag cut short is stray tags.
    assert hidden_character(SCOTLAND[:-1]) is not None
    assert hidden_character("x" + SCOTLAND[1:]) is not None


@given(TEXTS, TEXTS)
def test_the_news_and_application_rules_take_what_people_write(title: str, body: str) -> None:
    values = news.validate(news.ItemInput(title=title, summary=body,
                                          link="https://example.org/a",
                                          image_url="https://example.org/p.png",
                                          image_alt=title))
    assert values["title"] and values["summary_md"]
    rec = ProjectRecord(slug="x", acronym=title, name=title, coordinator=body,
                        contact_name=title)
    assert registry.plain_text(rec, None).outcome == "pass"  # type: ignore[arg-type]


def test_every_door_takes_emoji_flags_and_persian(app: Any, rt: Runtime) -> None:
    title = f"{SCIENTIST} Girls in science {FAMILY}"
    summary = f"Families {FAMILY} and {SCOTLAND} schools.\n\n{PERSIAN}\n\n{HINDI} {HEBREW}"
    # The members' form.
    make_user(rt, "m@cosmos.example", "member", project="cosmos")
    member = new_client(app)
    assert login(member, "m@cosmos.example").status_code == 302
    page = member.get("/members/items/new").get_data(as_text=True)
    r = member.post("/members/items/new", data={
        "csrf_token": csrf_from(page), "kind": "news", "title": title, "summary": summary,
        "link": "https://example.org/form", "language": "en", "for_newsletter": "y",
        "for_social": "y", "event_timezone": ""})
    assert r.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)', r.get_data(
        as_text=True))
    # The API.
    _, secret = tokens.create(rt, TEST, project_id(rt, "cosmos"), "test")
    r = new_client(app).post("/api/v1/items", headers={"Authorization": f"Bearer {secret}"},
                             json={"kind": "news", "title": f"{PERSIAN} {RAINBOW}",
                                   "summary": summary, "link": "https://example.org/api"})
    assert r.status_code == 201, r.get_json()
    with rt.db.session() as s:
        stored = {i.link: (i.title, i.summary_md) for i in s.scalars(select(NewsItem))}
    assert stored["https://example.org/form"] == (title, summary)
    assert stored["https://example.org/api"] == (f"{PERSIAN} {RAINBOW}", summary)
    # The application form.
    visitor = new_client(app)
    page = visitor.get("/join").get_data(as_text=True)
    r = visitor.post("/join", data={
        "csrf_token": csrf_from(page), "acronym": f"SCI{SCIENTIST}",
        "name": f"{PERSIAN} {SCOTLAND}", "description": summary,
        "initiative_type": "eu-funded-project", "themes": ["open-schooling", "steam"],
        "sdgs": ["4"], "countries": "ir, gb", "programme": "Horizon Europe",
        "grant_number": "101099997", "start_date": "2025-01-01", "end_date": "2027-12-31",
        "coordinator": f"{HEBREW}", "website": "https://sci.example.org/",
        "contact_name": f"Ana {FAMILY}", "contact_email": "ana@sci.example.org",
        "non_commercial": "y", "coc": "y"})
    assert r.status_code == 302, re.findall(r'class="error"[^>]*>([^<]*)', r.get_data(
        as_text=True))
    with rt.db.session() as s:
        applied = s.scalars(select(Project).where(Project.acronym == f"SCI{SCIENTIST}")).one()
        assert applied.name == f"{PERSIAN} {SCOTLAND}" and applied.coordinator == HEBREW


@pytest.mark.parametrize("bad", ["\u202E", "\u2066", "\uFEFF", "\u2028", "\U000E0041"])
def test_the_doors_still_refuse_what_reorders_or_hides(rt: Runtime, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        news.submit(rt, TEST, project_id(rt, "cosmos"), news.ItemInput(
            title=f"Open{bad} day", summary=f"Text{bad} here", link="https://example.org/x"),
            source="web")
    assert {"title", "summary"} <= set(caught.value.fields)
