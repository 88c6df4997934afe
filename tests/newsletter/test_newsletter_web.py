"""The newsletter on the web: the editors' pages for one whole issue, who may use them,
and the public archive with its Atom and iCalendar feeds, each parsed back by a real
parser (feedparser, lxml and icalendar)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import feedparser
import icalendar
import pytest
from lxml import etree
from lxml import html as lxml_html

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.newsletter import issues as newsletter
from ostogether.readers import subscribers
from tests.conftest import (
    csrf_from,
    login,
    new_client,
    outbox,
    post,
    run,
)
from tests.factories import TEST, add_item, add_readers, make_user, mark_sent
from tests.feedserver import FeedServer, Route


def test_an_editor_takes_one_issue_from_compose_to_approval(editor: Any, rt: Runtime,
                                                            web: FeedServer,
                                                            settings: Any) -> None:
    a = add_item(rt, "cosmos", link=web.url("/page/1"), title="Science café in Milan")
    b = add_item(rt, "levers", "tool", link=web.url("/page/2"), title="Lesson plan kit")
    page = editor.get("/editors/issues/")
    assert "2 approved items for the newsletter" in page.get_data(as_text=True)

    r = post(editor, "/editors/issues/compose", "/editors/issues/")
    assert r.status_code == 302
    issue_url = r.headers["Location"]
    number = int(issue_url.rsplit("/", 1)[1])  # editors' addresses name the issue's number
    assert number == 10
    with rt.db.session() as s:
        issue_id = newsletter.by_number(s, number).id
    html = editor.get(issue_url).get_data(as_text=True)
    assert "Issue #10" in html and "Science café in Milan" in html and "Lesson plan kit" in html

    # Write the editorial; change the subject.
    r = post(editor, issue_url, issue_url, subject="OStogether #10: cafés and kits",
             preheader="Two stories", intro_md="Dear reader,\n\nThis issue brings **two** ideas.")
    assert r.status_code == 302
    # A bad subject is refused with the reason, and nothing changes.
    r = post(editor, issue_url, issue_url, subject="Two\nlines", preheader="x", intro_md="")
    assert r.status_code == 400 and "must be one line" in r.get_data(as_text=True)

    # Reorder: the tool moves up to the top of its section list (its own section here).
    r = post(editor, f"/editors/issues/{number}/arrange", issue_url, item_id=str(b),
             action="move", section="community")
    assert r.status_code == 302
    r = post(editor, f"/editors/issues/{number}/arrange", issue_url, item_id=str(b),
             action="up")
    with rt.db.session() as s:
        issue = newsletter.get_issue(s, issue_id)
        assert [(e.section, e.item_id) for e in issue.entries] == [("community", b),
                                                                     ("community", a)]

    # Preview: desktop and phone frames, the text part, and the frame's own HTML.
    html = editor.get(f"/editors/issues/{number}/preview").get_data(as_text=True)
    assert html.count(f'src="/editors/issues/{number}/preview.html"') == 2
    assert "Phone (375 px)" in html and "This issue brings **two** ideas." in html
    frame = editor.get(f"/editors/issues/{number}/preview.html")
    assert frame.status_code == 200 and "<strong>two</strong>" in frame.get_data(as_text=True)
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]  # default-src 'none'
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"

    # A test to themselves.
    r = post(editor, f"/editors/issues/{number}/test", issue_url, to="editor@example.org")
    assert r.status_code == 302
    [msg] = outbox(settings)
    assert msg["Subject"] == "OStogether #10: cafés and kits"  # as readers will see it

    # Pre-flight, then approval.
    html = editor.get(f"/editors/issues/{number}/preflight").get_data(as_text=True)
    # Nothing failed, nothing to tick; the domain, never checked here, is advice.
    assert "0 failed, 0 warnings to tick, 1 piece of advice, 11 passed." in html
    assert "Every link answers" in html
    r = post(editor, f"/editors/issues/{number}/preflight",
             f"/editors/issues/{number}/preflight")
    assert r.status_code == 302
    html = editor.get(issue_url).get_data(as_text=True)
    assert "approved by editor:editor@example.org" in html
    assert "Issue #10 is approved" in html


def test_a_warning_must_be_ticked_before_approval(editor: Any, rt: Runtime,
                                                  web: FeedServer) -> None:
    add_item(rt, "sense", link=web.url("/page/1"))  # no grant number on record
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}/preflight"
    html = editor.get(url).get_data(as_text=True)
    assert 'name="acknowledge" value="grants"' in html
    r = post(editor, url, url)
    assert r.status_code == 409
    assert "warning, not acknowledged" in r.get_data(as_text=True)
    r = post(editor, url, url, acknowledge="grants")
    assert r.status_code == 302
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "approved"


@pytest.fixture
def quick_checks(env: dict[str, str]) -> dict[str, str]:
    env["OSTOGETHER_LINK_CHECK_TIMEOUT"] = "1"  # a link that never answers, given up soon
    return env


def test_an_unreachable_link_is_approved_with_a_reason_and_each_problem_leads_to_its_item(
        quick_checks: Any, editor: Any, rt: Runtime, web: FeedServer) -> None:
    web.routes["/slow"] = Route(hang=True)
    item = add_item(rt, "cosmos", link=web.url("/slow"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}/preflight"
    html = editor.get(url).get_data(as_text=True)
    assert f'<a href="/editors/items/{item}">fix item {item}</a>' in html
    assert 'name="reason-links"' in html
    r = post(editor, url, url, acknowledge="links")
    assert r.status_code == 409 and "say why you approve" in r.get_data(as_text=True)
    r = post(editor, url, url, acknowledge="links", **{"reason-links": "Offline; checked by hand"})
    assert r.status_code == 302
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "approved"


def test_the_preflight_summary_counts_what_the_page_lists(editor: Any, rt: Runtime,
                                                           web: FeedServer,
                                                           env: dict[str, str]) -> None:
    """A failure, a warning to tick and a piece of advice: the line above the list counts
    each group as the list shows it, and the advice is labelled advice, not a warning."""
    web.routes["/gone"] = Route(status=404, body=b"gone", content_type="text/html")
    add_item(rt, "sense", link=web.url("/gone"))  # no grant on record: a warning
    issue = newsletter.compose_next(rt, TEST)
    html = editor.get(f"/editors/issues/{issue.number}/preflight").get_data(as_text=True)
    page = lxml_html.fromstring(html)
    summary = page.get_element_by_id("preflight-summary").text_content()
    assert summary.startswith("1 failed, 1 warning to tick, 1 piece of advice, 9 passed.")
    listed = {ul.get("aria-labelledby"): [li.text_content().split(":", 1)[0].strip()
                                          for li in ul.xpath("./li")]
              for ul in page.xpath('//ul[contains(@class, "checklist")]')}
    assert listed == {"group-fail": ["Failed"], "group-warn": ["Warning"],
                      "group-advice": ["Advice"], "group-pass": ["Passed"] * 9}
    headings = [h.text_content() for h in page.xpath("//main//h2")]
    assert headings == ["Failed (1)", "Warnings to tick (1)", "Advice (1)", "Passed (9)",
                        "What readers' choices do to this issue", "Every reader's language"]
    assert "SPF, DKIM and DMARC" in page.xpath('//ul[@aria-labelledby="group-advice"]')[0
                                                  ].text_content()
    # Only the warning has a box to tick.
    assert [i.get("value") for i in page.xpath('//input[@name="acknowledge"]')] == ["grants"]
    # The CLI says the same, in the same groups.
    r = run(env, "issue", "preflight", str(issue.number))
    assert "1 failed, 1 warning to tick, 1 piece of advice, 9 passed." in r.stdout
    marks = [ln.split()[0] for ln in r.stdout.splitlines() if ln[:1].isupper()
             and ln.split()[0] in ("FAIL", "WARN", "ADVICE", "PASS")]
    assert marks == ["FAIL", "WARN", "ADVICE"] + ["PASS"] * 9


def test_an_editor_sends_a_test_to_typed_addresses_from_the_issue_page(
        editor: Any, rt: Runtime, web: FeedServer, settings: Any) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    page = lxml_html.fromstring(editor.get(url).get_data(as_text=True))
    [others] = page.xpath('//textarea[@name="others"]')
    assert others.get("aria-describedby") == "others-help"
    r = post(editor, f"{url}/test", url, to="editor@example.org",
             others="kim@gmail.example\nanna@outlook.example")
    assert r.status_code == 302 and r.headers["Location"].endswith("#test")
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert ("Test sent to editor@example.org, kim@gmail.example, anna@outlook.example."
            in html)
    assert sorted(m["To"] for m in outbox(settings)) == [
        "anna@outlook.example", "editor@example.org", "kim@gmail.example"]
    assert ("Test sent by editor@example.org" in html  # the history, with the addresses
            and "to editor@example.org, kim@gmail.example, anna@outlook.example</li>" in html)


def test_a_bad_address_is_named_beside_the_box_and_what_was_typed_stays(
        editor: Any, rt: Runtime, web: FeedServer, settings: Any) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    [gone] = add_readers(rt, 1, domain="school.example")
    subscribers.erase_by_id(rt, TEST, gone)
    url = f"/editors/issues/{issue.number}"
    typed = "kim@gmail.example, kim@gmail, reader0@school.example"
    r = post(editor, f"{url}/test", url, others=typed)
    assert r.status_code == 400
    page = lxml_html.fromstring(r.get_data(as_text=True))
    [box] = page.xpath('//textarea[@name="others"]')
    assert box.text_content().strip() == typed  # kept as typed
    assert box.get("aria-invalid") == "true"
    assert box.get("aria-describedby") == "others-help others-error"
    error = page.get_element_by_id("others-error").text_content()
    assert "kim@gmail: The part after the @-sign is not valid: it must be a domain name" in error
    assert "reader0@school.example is on the suppression list (its owner had it erased" in error
    summary = page.get_element_by_id("error-summary").text_content()
    assert "The test was not sent" in summary and "Other addresses:" in summary
    # Nobody ticked stays unticked: the editor's own box was cleared on purpose.
    assert not page.xpath('//input[@name="to" and @checked]')
    assert outbox(settings) == []


@pytest.fixture
def two_an_hour(env: dict[str, str]) -> dict[str, str]:
    env["OSTOGETHER_TEST_SEND_MAX_PER_HOUR"] = "2"
    return env


def test_past_the_hours_test_messages_the_page_says_when_and_keeps_the_addresses(
        two_an_hour: Any, editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    url = f"/editors/issues/{issue.number}"
    assert post(editor, f"{url}/test", url, to="editor@example.org").status_code == 302
    r = post(editor, f"{url}/test", url, to="editor@example.org", others="kim@gmail.example")
    assert r.status_code == 429
    html = r.get_data(as_text=True)
    assert ("it takes 2 messages, and you may send 1 more within the hour (2 an hour). Try "
            "again in 60 minute(s)" in html)
    page = lxml_html.fromstring(html)
    assert page.xpath('//textarea[@name="others"]')[0].text_content().strip() == (
        "kim@gmail.example")
    assert page.xpath('//input[@name="to" and @checked]/@value') == ["editor@example.org"]


def test_a_failed_check_shows_no_approve_button(editor: Any, rt: Runtime) -> None:
    issue = newsletter.compose_next(rt, TEST)  # no items
    html = editor.get(f"/editors/issues/{issue.number}/preflight").get_data(as_text=True)
    assert "Failed:</strong> The issue has at least one item" in html
    assert "Approve issue" not in html


def test_a_template_error_is_shown_at_preview_with_its_place(editor: Any, rt: Runtime,
                                                            home: Path) -> None:
    add_item(rt, "cosmos", link="https://example.org/a")
    issue = newsletter.compose_next(rt, TEST)
    path = home / "templates/newsletter/issue.mjml.j2"
    source = path.read_text()
    broken = source.replace("<mj-text>{{ item.summary_html|link_colour(brand) }}</mj-text>",
                            "<mj-txt>{{ item.summary_html }}</mj-txt>")
    assert broken != source
    path.write_text(broken)
    r = editor.get(f"/editors/issues/{issue.number}/preview")
    body = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "The issue does not render" in body
    assert re.search(r"newsletter/issue\.mjml\.j2: MJML error at line \d+, column \d+ of the "
                     r"rendered MJML: unknown tag &lt;mj-txt&gt;", body)
    assert "Traceback" not in body


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_only_editors_reach_the_issue_pages(app: Any, rt: Runtime, role: str) -> None:
    add_item(rt, "cosmos", link="https://example.org/a")
    issue = newsletter.compose_next(rt, TEST)
    c = new_client(app)
    if role == "member":
        make_user(rt, "member@example.org", "member", project="cosmos")
        login(c, "member@example.org")
    for url in ("/editors/issues/", f"/editors/issues/{issue.number}",
                f"/editors/issues/{issue.number}/preview.html",
                f"/editors/issues/{issue.number}/preflight"):
        r = c.get(url)
        assert r.status_code == (302 if role == "anonymous" else 403), url
    # With a valid CSRF token, so that it is the permission that refuses, not the token.
    token = csrf_from(c.get("/login" if role == "anonymous" else "/members/").get_data(
        as_text=True))
    r = c.post(f"/editors/issues/{issue.number}/preflight", data={"csrf_token": token})
    assert r.status_code in (302, 400, 403)
    assert r.status_code == (302 if role == "anonymous" else 403)
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "draft"


def test_approval_without_csrf_is_refused(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/1"))
    issue = newsletter.compose_next(rt, TEST)
    r = editor.post(f"/editors/issues/{issue.number}/preflight", data={})
    assert r.status_code == 400
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "draft"


# --------------------------------------------------------------------- archive

def sent_issue(rt: Runtime, web: FeedServer, when: dt.datetime, n: int) -> int:
    add_item(rt, ["cosmos", "levers", "most"][n % 3], link=web.url(f"/page/{n}"),
             title=f"Story number {n}")
    issue = newsletter.compose_next(rt, TEST, now=when)
    newsletter.approve(rt, TEST, issue.id)
    mark_sent(rt, issue.id)
    return issue.number or 0


def test_archive_lists_sent_issues_newest_first_without_personal_links(
        client: Any, rt: Runtime, web: FeedServer) -> None:
    first = sent_issue(rt, web, dt.datetime(2026, 11, 1, tzinfo=dt.UTC), 1)
    second = sent_issue(rt, web, dt.datetime(2027, 1, 20, tzinfo=dt.UTC), 2)
    add_item(rt, "otter", link=web.url("/page/5"))
    draft = newsletter.compose_next(rt, TEST)
    html = client.get("/archive").get_data(as_text=True)
    assert html.index(f"#{second}:") < html.index(f"#{first}:")
    assert f"#{draft.number}" not in html
    # The subject names its number already: the list does not say it twice.
    assert f">OStogether #{first}: Story number 1</a>" in html
    assert f"#{first}: OStogether #{first}" not in html

    page = client.get(f"/archive/{second}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Story number 2" in body
    # In the browser already: the site's navigation instead of "view in your browser".
    assert "View this issue in your browser" not in body
    assert '<nav aria-label="Site"><a href="https://ostogether.test/archive"' in body
    assert ">Subscribe</a>" in body
    assert "%%" not in body
    assert "https://ostogether.test/archive/11" in body  # "view in browser" is itself
    assert "https://ostogether.test/newsletter/manage" in body  # no personal unsubscribe
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get(f"/archive/{draft.number}").status_code == 404
    assert client.get("/archive/99999999999").status_code == 404
    manage = client.get("/newsletter/manage").get_data(as_text=True)
    assert "personal to you" in manage


def test_archive_atom_is_valid_atom_1_0(client: Any, rt: Runtime, web: FeedServer) -> None:
    first = sent_issue(rt, web, dt.datetime(2026, 11, 1, tzinfo=dt.UTC), 1)
    second = sent_issue(rt, web, dt.datetime(2027, 1, 20, tzinfo=dt.UTC), 2)
    r = client.get("/archive.atom")
    assert r.mimetype == "application/atom+xml"
    doc = etree.fromstring(r.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    # RFC 4287 4.1.1: a feed has exactly one id, title and updated; an author; a self link.
    for name in ("id", "title", "updated"):
        assert len(doc.findall(f"a:{name}", ns)) == 1
    assert doc.find("a:author/a:name", ns).text == "Open Schooling together"
    assert doc.find("a:link[@rel='self']", ns).get("href") == \
        "https://ostogether.test/archive.atom"
    parsed = feedparser.parse(r.data)
    assert parsed.version == "atom10" and not parsed.bozo
    assert [e.link for e in parsed.entries] == [
        f"https://ostogether.test/archive/{second}", f"https://ostogether.test/archive/{first}"]
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == 2 and all(i.startswith("tag:ostogether.test,") for i in ids)
    assert all(e.updated_parsed for e in parsed.entries)
    assert parsed.entries[0].title.startswith(f"OStogether #{second}")


def test_events_ics_lists_upcoming_approved_events(client: Any, rt: Runtime) -> None:
    soon = clock.now() + dt.timedelta(days=10)
    coming = add_item(rt, "cosmos", "event", link="https://example.org/fair",
                      title="Open schooling fair", event_start=soon,
                      event_end=soon + dt.timedelta(hours=3), event_location="Ghent, BE",
                      summary="A **long** description; with commas, semicolons and a very "
                              "long line that must be folded at 75 octets by the iCalendar "
                              "writer. [Programme](https://example.org/programme).")
    add_item(rt, "levers", "event", link="https://example.org/past", title="Past workshop",
             event_start=clock.now() - dt.timedelta(days=3))
    add_item(rt, "most", "event", link="https://example.org/waiting", title="Not approved",
             approve=False)
    r = client.get("/events.ics")
    assert r.mimetype == "text/calendar"
    raw = r.data
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and all(len(line) <= 75 for line in lines)
    cal = icalendar.Calendar.from_ical(raw)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    events = cal.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Open schooling fair"]
    ev = events[0]
    assert str(ev["UID"]) == f"item-{coming}@ostogether.test"
    # iCalendar has whole seconds: the start is the event's, to the second.
    assert abs(ev.decoded("DTSTART") - soon) < dt.timedelta(seconds=1)
    assert ev.decoded("DTEND") - ev.decoded("DTSTART") == dt.timedelta(hours=3)
    assert str(ev["LOCATION"]) == "Ghent, BE"
    assert "semicolons" in str(ev["DESCRIPTION"]) and "DTSTAMP" in ev
    # The description is text: no Markdown marks, the link as text <address>.
    assert "A long description" in str(ev["DESCRIPTION"]) and "**" not in str(ev["DESCRIPTION"])
    assert "Programme <https://example.org/programme>." in str(ev["DESCRIPTION"])


def test_editors_addresses_name_the_issue_by_its_number(editor: Any, rt: Runtime) -> None:
    add_item(rt, "cosmos", link="https://example.org/a")
    issue = newsletter.compose_next(rt, TEST)
    assert (issue.id, issue.number) == (1, 10)
    page = editor.get("/editors/issues/10")
    assert page.status_code == 200 and "Issue #10" in page.get_data(as_text=True)
    assert editor.get("/editors/issues/1").status_code == 404  # there is no issue #1
    listing = editor.get("/editors/issues/").get_data(as_text=True)
    assert 'href="/editors/issues/10"' in listing
    # A cancelled issue gave its number back; its page stays reachable by its id.
    newsletter.cancel(rt, TEST, issue.id)
    assert 'href="/editors/issues/c1"' in editor.get("/editors/issues/").get_data(as_text=True)
    assert "(cancelled)" in editor.get("/editors/issues/c1").get_data(as_text=True)


def test_cancelling_an_issue_asks_once(editor: Any, rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "cosmos", link=web.url("/page/0"))
    issue = newsletter.compose_next(rt, TEST)
    page = f"/editors/issues/{issue.number}"
    html = editor.get(page).get_data(as_text=True)
    assert '<summary class="button danger">Cancel this issue</summary>' in html
    assert 'name="confirm" value="yes" class="danger">Yes, cancel this issue</button>' in html
    post(editor, f"{page}/cancel", page)
    assert "Nothing was done: confirm that you want to cancel the issue." in editor.get(
        page).get_data(as_text=True)
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "draft"
    post(editor, f"{page}/cancel", page, confirm="yes")
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "cancelled"
