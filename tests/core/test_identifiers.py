"""Identifiers are ASCII: ids in addresses, page numbers, LinkedIn organisation ids, grant
numbers. Python's ``\\d``, ``str.isdigit()`` and ``int()`` also take other scripts'
digits ("٤٢٤٢" is 4242 to them, and "²" is a digit that ``int`` refuses), so an id could
be spelt two ways, crash a page, or reach a network as ``urn:li:organization:٤٢٤٢``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ostogether.accounts import tokens
from ostogether.core.errors import ValidationError
from ostogether.core.inputs import ascii_int
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Community
from ostogether.registry import handles
from ostogether.registry import rules as registry
from ostogether.registry.rules import HANDLE_FORMS, CheckContext, ProjectRecord
from ostogether.web.common import IdConverter, IssueConverter
from tests.conftest import new_client
from tests.factories import TEST, project_id

REPO = Path(__file__).resolve().parents[2]
# Decimal digits of any script but ASCII's: Arabic-Indic, full-width, Devanagari…
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
# Numbers written with at least one such digit, the rest ASCII or not.
FOREIGN_NUMBERS = st.lists(st.one_of(OTHER_DIGITS, st.sampled_from("0123456789")),
                           min_size=1, max_size=12).filter(
    lambda cs: any(not c.isascii() for c in cs)).map("".join)


@given(FOREIGN_NUMBERS)
@example("٤٢٤٢")
@example("４２")
@example("१२३")
def test_no_identifier_check_takes_another_scripts_digits(number: str) -> None:
    assert ascii_int(number) is None
    linkedin, _ = HANDLE_FORMS["linkedin"]
    assert not linkedin.match(number)
    assert not linkedin.match("urn:li:organization:" + number)
    with pytest.raises(ValidationError) as caught:
        handles.cleaned({"linkedin": number})
    assert "linkedin" in caught.value.fields
    assert not re.fullmatch(IdConverter.regex, number)
    assert not re.fullmatch(IssueConverter.regex, "c" + number)


@pytest.mark.parametrize("value, expected", [("4242", 4242), ("0", 0), ("²", None),
                                             ("+1", None), ("-1", None), (" 1", None),
                                             ("1_000", None), ("", None), ("1" * 19, None)])
def test_ascii_int_takes_plain_digits_only(value: str, expected: int | None) -> None:
    assert ascii_int(value) == expected


def test_a_grant_number_in_other_digits_is_refused_even_by_a_pattern_with_d() -> None:
    criteria = replace(Community(REPO).criteria(), grant_number_pattern=r"^\d{6,9}$")
    ctx = CheckContext(criteria=criteria, coc_version="1.0",
                       today=dt.date(2026, 11, 21))
    rec = ProjectRecord(slug="demo", acronym="DEMO", initiative_type="eu-funded-project",
                        programme="Horizon Europe", grant_number="101058405")
    assert registry.funding(rec, ctx).outcome == "pass"
    for grant in ("١٠١٠٥٨٤٠٥", "１０１０５８４０５"):
        result = registry.funding(replace(rec, grant_number=grant), ctx)
        assert result.outcome == "fail" and "grant_number" in result.fields
    # A LinkedIn id in a project's file is refused by the registry's rule, too.
    result = registry.handles(replace(rec, handles={"linkedin": "٤٢٤٢"}), ctx)
    assert result.outcome == "fail"


def test_addresses_and_arguments_with_other_digits_are_not_ids(
        app: Any, rt: Runtime, editor: Any) -> None:
    for path in ("/editors/items/٤", "/editors/issues/٤", "/editors/social/４",
                 "/r/١/١/x", "/r/1/١/x"):
        r = editor.get(path)
        assert r.status_code == 404, (path, r.status_code)
    # A page number or an id in a query or a form is a number in ASCII, or ignored.
    assert editor.get("/editors/subscribers/?page=²").status_code == 200
    assert editor.get("/editors/subscribers/?page=٢").status_code == 200
    _, secret = tokens.create(rt, TEST, project_id(rt, "cosmos"), "test")
    api = new_client(app)
    auth = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/items?limit=42", headers=auth).status_code == 200
    for limit in ("٤٢", "²", " 42", "4_2"):
        r = api.get(f"/api/v1/items?limit={limit}", headers=auth)
        assert r.status_code == 422 and "whole number" in r.get_json()["error"]["message"], (
            limit, r.get_json())
