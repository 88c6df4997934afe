"""Bad input of any kind gets a 4xx and a sentence, never an HTTP 500: every HTML route's
path and query fuzzed as a visitor and as an editor, deep JSON, line breaks in ?next=,
ids past any row, dates out of range, control characters in one-line fields, and CSV
cells that a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ostogether.core import csvout, inputs
from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.newsletter import issues as newsletter
from ostogether.reach import reports
from tests.conftest import (
    login,
    new_client,
    outbox,
    post,
)
from tests.factories import TEST, add_item, make_user

PARAMS = ["q", "status", "next", "week", "project", "from", "to", "format", "page", "kind",
          "theme", "country", "programme", "network", "token", "section", "preset", "n"]
NASTY = ["", "0", "-1", "9223372036854775808", "1e400", "99999-99-99", "2026-02-30",
         "0001-01-01", "9999-12-31", "\r\nSet-Cookie: x=1", "%0d%0a", "../../etc/passwd",
         "<script>alert(1)</script>", "\u202e", "\x00", "' OR 1=1 --", "🎉" * 50,
         "a" * 5000, "{{ 7*7 }}", "//evil.example/", "javascript:alert(1)", "[]", "{}"]
SEGMENTS = ["0", "9223372036854775808", "99999999999999999999", "-1", "x", "%00", "%E2%80%AE",
            "..%2F..", "a" * 300, "%0D%0A"]


def get_rules(app: Any) -> list[str]:
    return sorted({r.rule for r in app.url_map.iter_rules()
                   if "GET" in (r.methods or set()) and not r.rule.startswith("/static")})


def fine(rule: str, status: int) -> bool:
    """Below 500; /healthz says 503 on purpose while no worker runs."""
    return status < 500 or (rule == "/healthz" and status == 503)


def fill(rule: str, value: str) -> str:
    return re.sub(r"<[^>]+>", value, rule)


@pytest.fixture
def clients(app: Any, rt: Runtime) -> dict[str, Any]:
    make_user(rt, "editor@ecsite.eu", "editor")
    editor = new_client(app)
    assert login(editor, "editor@ecsite.eu").status_code == 302
    return {"visitor": new_client(app), "editor": editor}


def test_every_get_route_with_bad_path_segments_answers_4xx(app: Any,
                                                           clients: dict[str, Any]) -> None:
    rules = get_rules(app)
    assert len(rules) > 40
    for rule in rules:
        if "<" not in rule:
            continue
        for segment in SEGMENTS:
            for role, client in clients.items():
                r = client.get(fill(rule, segment))
                assert fine(rule, r.status_code), (role, rule, segment, r.status_code)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_get_route_with_fuzzed_query_answers_below_500(app: Any, clients: dict[str, Any],
                                                            data: Any) -> None:
    rules = [r for r in get_rules(app) if "<" not in r]
    rule = data.draw(st.sampled_from(rules))
    query = data.draw(st.dictionaries(
        st.sampled_from(PARAMS), st.one_of(st.sampled_from(NASTY), st.text(max_size=40)),
        max_size=4))
    for role, client in clients.items():
        r = client.get(rule, query_string=query)
        assert fine(rule, r.status_code), (role, rule, query, r.status_code)


def test_every_get_route_with_every_nasty_value_in_each_parameter(
        app: Any, clients: dict[str, Any]) -> None:
    for rule in (r for r in get_rules(app) if "<" not in r):
        for value in NASTY:
            r = clients["editor"].get(rule, query_string={p: value for p in PARAMS})
            assert fine(rule, r.status_code), (rule, value, r.status_code)


def test_deeply_nested_json_is_a_400(app: Any, rt: Runtime) -> None:
    from ostogether.accounts import tokens
    from tests.factories import project_id

    _, token = tokens.create(rt, TEST, project_id(rt, "cosmos"), "fuzz")
    body = "[" * 20_000 + "]" * 20_000  # within the size limit, past the parser's depth
    r = app.test_client().post("/api/v1/items", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and "nested too deeply" in r.get_json()["error"]["message"]


def test_a_line_break_in_next_never_reaches_the_location_header(app: Any, rt: Runtime) -> None:
    make_user(rt, "editor@ecsite.eu", "editor")
    client = new_client(app)
    page = "/login?next=/editors/%0d%0aSet-Cookie:%20evil=1"
    r = post(client, page, "/login", email="editor@ecsite.eu", password="correct horse battery")
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/editors/") and "evil" not in str(r.headers)


@pytest.mark.parametrize("start, end", [("0001-01-01", ""), ("", "9999-12-31"),
                                        ("2026-01-01", "2026-13-01")])
def test_report_dates_out_of_range_are_a_sentence(start: str, end: str) -> None:
    import datetime as dt

    with pytest.raises(ValidationError):
        reports.parse_period(start, end, dt.date(2026, 11, 25))


@pytest.mark.parametrize("value", ["line\nbreak", "carriage\rreturn", "tab\there",
                                   "zero\u200bwidth", "rtl\u202eoverride", "nul\x00",
                                   "sep\u2028arator"])
def test_control_characters_in_one_line_fields_are_refused(rt: Runtime, value: str) -> None:
    assert inputs.one_line_problem(value)
    with pytest.raises(ValidationError) as caught:
        add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/c", title=value)
    assert "title" in caught.value.fields
    issue = newsletter.compose_next(rt, TEST) if not newsletter_open(rt) else None
    if issue is not None:
        with pytest.raises(ValidationError) as caught:
            newsletter.update_details(rt, TEST, issue.id, subject="Issue " + value,
                                      preheader="ok", intro_md="")
        assert "subject" in caught.value.fields
    assert inputs.one_line_problem("Ordinary title – with “quotes” and é") is None


def newsletter_open(rt: Runtime) -> bool:
    with rt.db.session() as s:
        return newsletter.open_issue(s) is not None


def test_the_join_form_refuses_a_line_break_in_the_acronym(client: Any) -> None:
    r = post(client, "/join", "/join", acronym="EVIL\r\nBcc: x@example.org",
             name="A project")
    assert r.status_code < 500
    assert "must be one line" in r.get_data(as_text=True)


def test_subscribe_mails_never_repeat_what_was_typed(client: Any, settings: Any) -> None:
    spam = "WIN A PRIZE at https://spam.example"
    post(client, "/subscribe", "/subscribe", email="victim@example.org", name=spam,
         language="en", consent="y")
    [mail] = outbox(settings)
    assert spam not in mail.get_content() and "spam.example" not in mail.get_content()


@pytest.mark.parametrize("value", ["=HYPERLINK(\"https://evil.example\")", "+1+2", "-2+3",
                                   "@SUM(A1)", "\tTAB", "\rCR"])
def test_csv_cells_that_would_be_formulas_are_written_as_text(value: str) -> None:
    out = csvout.to_csv([[value, 42, -7]])
    cell = next(csv.reader(io.StringIO(out)))
    assert cell == ["'" + value, "42", "-7"]
    assert csvout.unquote(cell[0]) == value


def test_the_subscribers_export_neutralises_formulas(editor: Any, rt: Runtime) -> None:
    from tests.factories import add_readers

    [sid] = add_readers(rt, 1)
    with rt.db.session() as s:
        from ostogether.models import Subscriber

        sub = s.get(Subscriber, sid)
        assert sub is not None
        sub.name = "=cmd|'/c calc'!A1"
    body = editor.get("/editors/subscribers/export.csv").get_data(as_text=True)
    assert "'=cmd|" in body and ",=cmd" not in body
