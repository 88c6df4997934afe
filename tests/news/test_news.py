"""News items: validation, the sanitiser against hostile input, duplicates and the review flow."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ostogether.core.errors import Conflict, Duplicate, NotFound, PermissionDenied, ValidationError
from ostogether.core.sanitize import markdown_to_html, markdown_to_text
from ostogether.edges.audit import Actor, history
from ostogether.models import AuditEntry, NewsItem, Project
from ostogether.news import item_api
from ostogether.news import items as news
from ostogether.news.items import ItemInput, validate
from tests.conftest import (
    outbox,
)
from tests.factories import make_user

GOOD = ItemInput(kind="news", title="Open Schooling day", summary="We **opened** the doors.",
                 link="https://example.org/news/1")
EDITOR = Actor("editor:ed@example.org")


def fields_of(data: ItemInput) -> dict[str, str]:
    with pytest.raises(ValidationError) as e:
        validate(data)
    return e.value.fields


def project_id(rt, slug: str = "cosmos") -> int:
    with rt.db.session() as s:
        return s.scalar(select(Project.id).where(Project.slug == slug))


# ----------------------------------------------------------------------- validation

def test_a_good_item_is_stored_with_markdown_and_safe_html() -> None:
    v = validate(GOOD)
    assert v["summary_md"] == "We **opened** the doors."
    assert v["summary_html"] == "<p>We <strong>opened</strong> the doors.</p>\n"


@pytest.mark.parametrize("link, expected", [
    ("javascript:alert(1)", "javascript: addresses are not allowed"),
    ("data:text/html,<script>alert(1)</script>", "data: addresses are not allowed"),
    ("java\u200bscript:alert(1)", "invisible characters"),
    ("https://exa\u200bmple.org/", "invisible characters"),
    ("https://example.org/\u202e/gpj.exe", "invisible characters"),
    ("/news/1", "full address"),
    ("example.org/news", "full address"),
    ("https://user:pw@example.org/", "user name or password"),
    ("https:///nohost", "no host name"),
    ("https://example.org:99999/", "port"),
    ("", "required"),
])
def test_bad_links_get_a_specific_message(link: str, expected: str) -> None:
    f = fields_of(ItemInput(**{**GOOD.__dict__, "link": link}))
    assert expected in f["link"]


@pytest.mark.parametrize("field, value, expected", [
    ("title", "x" * 10_000, "10000 characters; the limit is 200"),
    ("title", "<script>alert(1)</script>", "plain text"),
    ("title", "Hello\u200b world", "invisible"),
    ("title", "   ", "required"),
    ("summary", "<img src=x onerror=alert(1)>", "HTML"),
    ("summary", "[click](javascript:alert(1))", "javascript: addresses are not allowed"),
    ("summary", "[click](data:text/html;base64,PHNjcmlwdD4=)", "data: addresses"),
    ("summary", "see [here](/relative)", "full address"),
    ("summary", "x" * 5001, "limit is 5000"),
    ("kind", "party", "unknown kind 'party'"),
    ("language", "english", "two-letter language code"),
    ("image_alt", '<a onclick="x()">', "plain text"),
])
def test_bad_fields_get_a_specific_message(field: str, value: str, expected: str) -> None:
    f = fields_of(ItemInput(**{**GOOD.__dict__, field: value}))
    assert expected in f[field]


def test_every_problem_is_reported_at_once() -> None:
    f = fields_of(ItemInput(kind="nope", title="", summary="", link="ftp://x"))
    assert set(f) >= {"kind", "title", "summary", "link"}


def test_an_image_needs_alt_text_and_a_safe_address() -> None:
    assert "describe the image" in fields_of(ItemInput(
        **{**GOOD.__dict__, "image_url": "https://example.org/a.png"}))["image_alt"]
    assert "javascript" in fields_of(ItemInput(**{
        **GOOD.__dict__, "image_url": "javascript:x", "image_alt": "x"}))["image_url"]


def event(**kw: object) -> ItemInput:
    base = {**GOOD.__dict__, "kind": "event", "event_start": "2027-03-15T14:30",
            "event_timezone": "Europe/Brussels", "event_location": "Brussels"}
    base.update(kw)
    return ItemInput(**base)  # type: ignore[arg-type]


def test_an_event_is_stored_in_utc_with_its_timezone() -> None:
    v = validate(event())
    assert v["event_start"] == dt.datetime(2027, 3, 15, 13, 30, tzinfo=dt.UTC)
    assert v["event_timezone"] == "Europe/Brussels"
    assert v["registration_url"] == GOOD.link  # defaults to the item's link


@pytest.mark.parametrize("kw, field, expected", [
    ({"event_start": "15/03/2027"}, "event_start", "not a date and time"),
    ({"event_start": "2027-02-30T10:00"}, "event_start", "not a date and time"),
    ({"event_start": "1899-01-01T10:00"}, "event_start", "not plausible"),
    ({"event_start": ""}, "event_start", "needs a start"),
    ({"event_end": "2027-03-15T10:00"}, "event_end", "ends before it starts"),
    ({"event_timezone": "Mars/Olympus"}, "event_timezone", "not a timezone"),
    ({"event_location": ""}, "event_location", "mark the event as online"),
    ({"registration_url": "javascript:void(0)"}, "registration_url", "not allowed"),
])
def test_bad_events_get_a_specific_message(kw: dict, field: str, expected: str) -> None:
    assert expected in fields_of(event(**kw))[field]


def test_a_wrong_timezone_is_the_only_message_when_the_start_was_given() -> None:
    problems = fields_of(event(event_timezone="Mars/Olympus"))
    assert list(problems) == ["event_timezone"]


def test_an_online_event_needs_no_place() -> None:
    assert validate(event(event_location="", event_online=True))["event_online"] is True


def test_json_bodies_of_the_wrong_shape_become_field_errors() -> None:
    with pytest.raises(ValidationError) as e:
        item_api.input_from_json({"title": 5, "sdgs": "4", "bogus": 1})
    # Every problem at once: the unknown field does not hide the others.
    assert e.value.fields == {"bogus": "unknown field", "title": "must be text",
                              "sdgs": "give the goals as numbers from 1 to 17",
                              "summary": "a short summary is required",
                              "link": "the link is required"}
    data = item_api.input_from_json({"title": 5, "sdgs": ["4"], "for_social": "yes"})
    f = fields_of(data)
    assert f["title"] == "must be text" and "1 to 17" in f["sdgs"]
    assert f["for_social"] == "must be true or false"
    with pytest.raises(ValidationError):
        item_api.input_from_json([1, 2])


def test_links_that_differ_only_in_form_are_the_same_link() -> None:
    k = news.dedupe_key
    assert k("https://Example.org/a/") == k("http://example.org/a#top")
    assert k("https://example.org/a?utm_source=x&b=1") == k("https://example.org/a?b=1")
    assert k("https://example.org/a") != k("https://example.org/b")


# ------------------------------------------------------------------------ sanitiser

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\u200bscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<a href='javascript:alert(1)'>x</a>",
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)">',
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "[x](&#106;avascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '[x](https://ok.example "title" onclick="y")',
    "[x](/relative/path)",
]
class Tags(HTMLParser):
    """The real tags and attributes of a fragment, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(html: str) -> None:
    parser = Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "style", "svg", "img", "object"), html
        for name, value in attrs:
            assert not name.startswith("on"), html
            if name in ("href", "src"):
                assert (value or "").startswith(("http://", "https://", "mailto:")), html


@pytest.mark.parametrize("markdown, text", [
    ("Our **water-quality experiments** are *open*.", "Our water-quality experiments are open."),
    ("See the [report](https://ex.org/r).", "See the report <https://ex.org/r>."),
    ("Mail <https://ex.org/x>", "Mail https://ex.org/x"),
    ("- one\n- two\n\n1. first\n2. second", "- one\n- two\n\n1. first\n2. second"),
    ("> a [quote](https://q.org)", "> a quote <https://q.org>"),
    ("Use `print()`", "Use print()"),
    ("one  \ntwo", "one\ntwo"),
])
def test_markdown_becomes_text_as_a_person_would_type_it(markdown: str, text: str) -> None:
    assert markdown_to_text(markdown) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_never_reaches_stored_html(text: str) -> None:
    assert_safe(markdown_to_html(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("<>\"'=/:()[]!&#; \n\u200bajvscrtoneilxdhp")
                               + ["javascript:", "onerror=", "<script>", "data:", "](",
                                  "<a href=", "<img src=", "http://", "[x](", "&#106;"]),
                max_size=80).map("".join))
def test_property_stored_html_never_has_script_handlers_or_bad_links(text: str) -> None:
    assert_safe(markdown_to_html(text))


# ------------------------------------------------------------------------- services

def test_submit_stores_the_whole_item_with_its_audit_row(rt) -> None:
    item = news.submit(rt, Actor("member:m@example.org"), project_id(rt), GOOD, source="web")
    with rt.db.session() as s:
        stored = s.get(NewsItem, item.id)
        assert stored.status == "submitted" and stored.source == "web"
        assert stored.summary_html.startswith("<p>")
        assert [e.action for e in history(s, stored)] == ["news_item.submitted"]


def test_invalid_input_stores_nothing(rt) -> None:
    with pytest.raises(ValidationError):
        news.submit(rt, EDITOR, project_id(rt), ItemInput(**{**GOOD.__dict__, "title": ""}),
                    source="api")
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(NewsItem)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "news_item.submitted")) == 0


def test_the_same_link_from_the_same_project_is_a_duplicate(rt) -> None:
    first = news.submit(rt, EDITOR, project_id(rt), GOOD, source="web")
    again = ItemInput(**{**GOOD.__dict__, "link": "http://EXAMPLE.org/news/1/#x"})
    with pytest.raises(Duplicate) as e:
        news.submit(rt, EDITOR, project_id(rt), again, source="api")
    assert e.value.existing_id == first.id
    # Another project may share the link.
    news.submit(rt, EDITOR, project_id(rt, "otter"), GOOD, source="web")


def test_a_duplicate_that_wins_a_race_is_still_reported_as_a_duplicate(
        rt, monkeypatch: pytest.MonkeyPatch) -> None:
    first = news.submit(rt, EDITOR, project_id(rt), GOOD, source="web")
    real = news.find_duplicate
    calls = []

    def blind_first_time(s, pid, link):  # the other request committed after our check
        calls.append(link)
        return None if len(calls) == 1 else real(s, pid, link)

    monkeypatch.setattr(news, "find_duplicate", blind_first_time)
    with pytest.raises(Duplicate) as e:
        news.submit(rt, EDITOR, project_id(rt), GOOD, source="api")
    assert e.value.existing_id == first.id and len(calls) == 2
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(NewsItem)) == 1


def test_a_withdrawn_item_frees_its_link_and_cannot_be_reviewed(rt) -> None:
    pid = project_id(rt)
    item = news.submit(rt, EDITOR, pid, GOOD, source="web")
    with pytest.raises(NotFound):
        news.withdraw(rt, EDITOR, item.id, project_id=project_id(rt, "otter"))
    news.withdraw(rt, EDITOR, item.id, project_id=pid)
    with pytest.raises(Conflict):
        news.approve(rt, EDITOR, item.id)
    news.submit(rt, EDITOR, pid, GOOD, source="web")  # the link is free again


def test_applicants_cannot_submit(rt) -> None:
    with rt.db.session() as s:
        p = s.scalar(select(Project).where(Project.slug == "cosmos"))
        p.status = "applicant"
    with pytest.raises(PermissionDenied):
        news.submit(rt, EDITOR, project_id(rt), GOOD, source="web")


def test_approve_and_reject_are_audited_and_mailed_to_the_submitter(rt, settings) -> None:
    make_user(rt, "m@example.org", "member", project="cosmos")
    with rt.db.session() as s:
        from ostogether.models import User

        uid = s.scalar(select(User.id).where(User.email == "m@example.org"))
    a = news.submit(rt, EDITOR, project_id(rt), GOOD, source="web", user_id=uid)
    b = news.submit(rt, EDITOR, project_id(rt), ItemInput(
        **{**GOOD.__dict__, "link": "https://example.org/2"}), source="web", user_id=uid)
    news.approve(rt, EDITOR, a.id)
    with pytest.raises(ValidationError):
        news.reject(rt, EDITOR, b.id, "  ")
    news.reject(rt, EDITOR, b.id, "Please add a date.")
    with pytest.raises(Conflict):
        news.approve(rt, EDITOR, b.id)
    mails = outbox(settings)
    assert [m["To"] for m in mails] == ["m@example.org", "m@example.org"]
    assert mails[0]["Subject"] == "Approved: Open Schooling day"
    assert "Please add a date." in mails[1].get_body().get_content()
    with rt.db.session() as s:
        actions = [e.action for e in history(s, s.get(NewsItem, b.id))]
        assert actions == ["news_item.submitted", "news_item.rejected"]
        assert s.get(NewsItem, b.id).reject_reason == "Please add a date."


def test_editor_edits_are_validated_and_record_what_changed(rt) -> None:
    item = news.submit(rt, EDITOR, project_id(rt), GOOD, source="web")
    changed = news.update(rt, EDITOR, item.id, ItemInput(
        **{**GOOD.__dict__, "title": "Better title", "summary": "New *text*"}))
    assert set(changed) == {"title", "summary_md", "summary_html"}
    with pytest.raises(ValidationError):
        news.update(rt, EDITOR, item.id, ItemInput(**{**GOOD.__dict__, "link": "nope"}))
    news.set_flags(rt, EDITOR, item.id, for_newsletter=False, for_social=True)
    with rt.db.session() as s:
        stored = s.get(NewsItem, item.id)
        assert stored.title == "Better title"
        assert stored.summary_html == "<p>New <em>text</em></p>\n"
        assert stored.for_newsletter is False
        assert [e.action for e in history(s, stored)][-2:] == ["news_item.edited",
                                                              "news_item.flags"]
