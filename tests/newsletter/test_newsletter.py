"""The newsletter issue: composing from the database, editing, rendering, pre-flight
against a real HTTP server on loopback, approval with its snapshot, test sends, CLI."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import html as lxml_html
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.errors import (
    Blocked,
    Conflict,
    ContentError,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from ostogether.edges import audit, render
from ostogether.edges.audit import Actor
from ostogether.edges.render import compile_mjml, personalise, placeholder
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Issue, Subscriber, User
from ostogether.news import items as news
from ostogether.newsletter import clicks, preflight, test_sends
from ostogether.newsletter import issues as newsletter
from ostogether.readers import subscribers
from tests.conftest import (
    Sink,
    free_port,
    outbox,
    run,
)
from tests.factories import TEST, add_item, add_readers, make_user, mark_sent, project_id
from tests.feedserver import FeedServer, Route

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    """These tests run on NOW, whatever the machine's date."""
    test_clock.set(NOW)


# A prompt link gets 10 s, so a loaded machine never turns it into a broken link; the test
# of a site that never answers gives up after 1 s, through parametrize("link_timeout").
@pytest.fixture
def link_timeout() -> float:
    return 10.0


@pytest.fixture
def env(env: dict[str, str], link_timeout: float) -> dict[str, str]:
    return {**env, "OSTOGETHER_LINK_CHECK_TIMEOUT": f"{link_timeout:g}"}




def compose(rt: Runtime) -> Issue:
    return newsletter.compose_next(rt, TEST, now=NOW)


def load(rt: Runtime, issue_id: int) -> Issue:
    with rt.db.session() as s:
        return newsletter.get_issue(s, issue_id)  # loads its items with it


def rendered(rt: Runtime, issue_id: int) -> Any:
    with rt.db.session() as s:
        return newsletter.rendered(rt, newsletter.get_issue(s, issue_id))


def ready_issue(rt: Runtime, web: FeedServer, n: int = 3) -> Issue:
    """A composed issue whose links all answer."""
    slugs = ["cosmos", "levers", "most", "otter", "pafse", "phereclos"]  # grants known
    for i in range(n):
        add_item(rt, slugs[i % len(slugs)], "news", link=web.url(f"/page/{i}"))
    return compose(rt)


# --------------------------------------------------------------------- composing

def test_compose_takes_approved_newsletter_items_into_sections(rt: Runtime) -> None:
    a = add_item(rt, "connect", "news", link="https://example.org/a")
    b = add_item(rt, "cosmos", "event", link="https://example.org/b")
    c = add_item(rt, "levers", "tool", link="https://example.org/c")
    add_item(rt, "most", "news", link="https://example.org/waiting", approve=False)
    hidden = add_item(rt, "otter", "news", link="https://example.org/hidden")
    news.set_flags(rt, TEST, hidden, for_newsletter=False, for_social=True)
    issue = compose(rt)
    assert issue.number == 10  # content/newsletter.toml: first_number = 10
    assert issue.status == "draft"
    assert [(e.section, e.item_id) for e in issue.entries] == [
        ("community", a), ("events", b), ("tools", c)]
    # The send date comes from schedules/: the 15th of the next odd month, 10:00 Brussels.
    assert issue.send_at == dt.datetime(2027, 1, 15, 9, 0, tzinfo=dt.UTC)
    # The subject and preheader come from templates/newsletter/.
    assert issue.subject.startswith("OStogether #10: ")
    assert "3 stories from 3 projects" in issue.preheader
    with rt.db.session() as s:
        assert [e.action for e in audit.history(s, issue)] == ["issue.composed"]


def test_only_one_issue_is_open_at_a_time_and_numbers_increment(rt: Runtime) -> None:
    add_item(rt, link="https://example.org/1")
    first = compose(rt)
    with pytest.raises(Conflict, match="#10 is draft"):
        compose(rt)
    mark_sent(rt, first.id)
    add_item(rt, "cosmos", link="https://example.org/2")
    second = compose(rt)
    assert second.number == 11
    # The next date after the last sent issue's.
    assert second.send_at == dt.datetime(2027, 3, 15, 9, 0, tzinfo=dt.UTC)


def test_items_a_sent_issue_carried_are_not_composed_again(rt: Runtime) -> None:
    a = add_item(rt, "connect", link="https://example.org/1")
    first = compose(rt)
    mark_sent(rt, first.id)
    b = add_item(rt, "cosmos", link="https://example.org/2")
    second = compose(rt)
    assert [e.item_id for e in second.entries] == [b]
    assert a not in [e.item_id for e in second.entries]


def test_fair_share_prefers_projects_missing_from_recent_issues(rt: Runtime) -> None:
    add_item(rt, "connect", link="https://example.org/old")
    mark_sent(rt, compose(rt).id)
    # Same approval day, so equal weight: COSMOS (never featured) goes first.
    c = add_item(rt, "connect", link="https://example.org/new-connect")
    d = add_item(rt, "cosmos", link="https://example.org/new-cosmos")
    issue = compose(rt)
    assert [e.item_id for e in issue.entries] == [d, c]


def test_cancel_frees_the_number(rt: Runtime) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    newsletter.cancel(rt, TEST, issue.id)
    assert compose(rt).number == 10
    with rt.db.session() as s:
        assert newsletter.get_issue(s, issue.id).status == "cancelled"


# --------------------------------------------------------------------- editing

def test_editor_edits_subject_preheader_and_editorial(rt: Runtime) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    changed = newsletter.update_details(rt, TEST, issue.id, subject="Hello #10",
                                        preheader="Tools and events",
                                        intro_md="Dear reader,\n\n1. **One**\n2. Two")
    assert changed == ["subject", "preheader", "intro_md"]
    out = rendered(rt, issue.id)
    assert "<strong>One</strong>" in out.html and "Dear reader," in out.text
    assert out.subject == "Hello #10"


@pytest.mark.parametrize("subject,preheader,field", [
    ("", "x", "subject"), ("Two\nlines", "x", "subject"), ("ok", "a\rb", "preheader"),
    ("x" * 201, "x", "subject")])
def test_bad_details_are_refused_and_nothing_is_saved(rt: Runtime, subject: str,
                                                      preheader: str, field: str) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    with pytest.raises(ValidationError) as exc:
        newsletter.update_details(rt, TEST, issue.id, subject=subject, preheader=preheader,
                                  intro_md="")
    assert field in exc.value.fields
    assert load(rt, issue.id).subject == issue.subject


def test_reorder_move_drop_and_add(rt: Runtime) -> None:
    a = add_item(rt, "connect", link="https://example.org/a")
    b = add_item(rt, "cosmos", link="https://example.org/b")
    issue = compose(rt)
    order = [e.item_id for e in issue.entries]
    newsletter.arrange(rt, TEST, issue.id, order[1], "up")
    assert [e.item_id for e in load(rt, issue.id).entries] == order[::-1]
    newsletter.arrange(rt, TEST, issue.id, a, "move", "tools")
    assert {e.item_id: e.section for e in load(rt, issue.id).entries}[a] == "tools"
    newsletter.arrange(rt, TEST, issue.id, b, "drop")
    assert [e.item_id for e in load(rt, issue.id).entries] == [a]
    late = add_item(rt, "levers", "reading", link="https://example.org/late")
    newsletter.arrange(rt, TEST, issue.id, late, "add")
    assert {e.item_id: e.section for e in load(rt, issue.id).entries} == {
        a: "tools", late: "readings"}
    waiting = add_item(rt, "most", link="https://example.org/w", approve=False)
    with pytest.raises(Conflict, match="cannot be added"):
        newsletter.arrange(rt, TEST, issue.id, waiting, "add")
    with pytest.raises(ValidationError):
        newsletter.arrange(rt, TEST, issue.id, a, "move", "nowhere")


def test_the_automatic_preheader_follows_the_items_and_an_edited_one_stays(
        rt: Runtime) -> None:
    add_item(rt, "connect", link="https://example.org/a")
    b = add_item(rt, "cosmos", link="https://example.org/b")
    issue = compose(rt)
    assert issue.preheader.startswith("2 stories from 2 projects: CONNECT, COSMOS")
    newsletter.arrange(rt, TEST, issue.id, b, "drop")
    assert load(rt, issue.id).preheader.startswith("1 story from 1 project: CONNECT.")
    late = add_item(rt, "levers", "reading", link="https://example.org/late")
    newsletter.arrange(rt, TEST, issue.id, late, "add")
    assert load(rt, issue.id).preheader.startswith("2 stories from 2 projects: CONNECT, LEVERS")
    newsletter.update_details(rt, TEST, issue.id, subject="Our own subject",
                              preheader="Spring, in two stories", intro_md="")
    newsletter.arrange(rt, TEST, issue.id, b, "add")
    after = load(rt, issue.id)
    assert (after.subject, after.preheader) == ("Our own subject", "Spring, in two stories")


# --------------------------------------------------------------------- rendering

def contrast(fg: str, bg: str) -> float:
    def lum(hex_: str) -> float:
        rgb = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_a_full_issue_renders_accessibly_with_footer_credits(rt: Runtime) -> None:
    ids = [add_item(rt, "connect", "news", link="https://example.org/n",
                    image_url="https://example.org/pic.jpg", image_alt="Pupils at a lab"),
           add_item(rt, "cosmos", "event", link="https://example.org/e",
                    event_location="Brussels"),
           add_item(rt, "road-steamer", "tool", link="https://example.org/t"),
           add_item(rt, "sense", "reading", link="https://example.org/r"),
           add_item(rt, "levers", "opportunity", link="https://example.org/o")]
    issue = compose(rt)
    assert len(issue.entries) == len(ids)
    out = rendered(rt, issue.id)
    doc = lxml_html.fromstring(out.html)
    assert doc.get("lang") == "en"
    assert len(doc.findall(".//h1")) == 1
    assert [h.text_content() for h in doc.findall(".//h2")] == [
        "News from the community", "Events", "Tools for educators", "Recommended readings",
        "Opportunities"]
    images = doc.findall(".//img")
    assert {i.get("alt") for i in images} == {"Pupils at a lab", "European Union emblem"}
    layout = [t for t in doc.iter("table") if t.get("role") != "presentation"]
    assert layout == []
    # Funding: the statement beside the emblem, the community's credit, one line per project.
    assert "Funded by the European Union" in out.html and "eu-emblem.png" in out.html
    assert ("COSMOS has received funding from the European Union's Horizon 2020 research and "
            "innovation programme under grant agreement No 101005982.") in out.text
    assert ("Road-STEAMer is funded by the European Union under the Horizon Europe programme, "
            "grant agreement No 101058405.") in out.text
    assert "SENSE. is funded by the European Union (Horizon Europe)." in out.text  # no grant
    # The plain-text part is text: Markdown marks become what a person would type.
    assert "About connect: what happened" in out.text and "**" not in out.text
    # The delivery's placeholders, in both parts, with the issue's own key.
    key = newsletter.issue_key(rt, issue)
    for part in (out.html, out.text):
        for name in ("web_url", "preferences_url", "unsubscribe_url"):
            assert placeholder(name, key) in part
    # The text part carries every item, with its link.
    with rt.db.session() as s:
        for e in newsletter.get_issue(s, issue.id).entries:
            assert e.item.title in out.text and e.item.link in out.text
    # No web fonts, no tracking pixels, no scripts.
    assert "fonts.googleapis" not in out.html and "<script" not in out.html
    assert not [i for i in images if i.get("width") in ("1", "0")]
    # Text is 16px or more, and every coloured text meets 4.5:1 on its background.
    def size_of(el: Any) -> int:
        while el is not None:
            m = re.search(r"font-size:\s*(\d+)px", el.get("style") or "")
            if m:
                return int(m.group(1))
            el = el.getparent()
        return 16  # the browser default

    def hidden(el: Any) -> bool:  # the preheader: for the inbox list, never displayed
        return any("display:none" in (a.get("style") or "").replace(" ", "")
                   for a in [el, *el.iterancestors()])

    texts = [el for el in doc.find("body").iter() if isinstance(el.tag, str)
             and (el.text or "").strip() and el.tag not in ("style", "title") and not hidden(el)]
    assert len(texts) > 20
    assert {(el.text.strip()[:30], size_of(el)) for el in texts if size_of(el) < 16} == set()
    for el in doc.iter():
        m = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", el.get("style") or "")
        if not m or hidden(el):
            continue
        bg, node = "#ffffff", el
        while node is not None:
            found = re.search(r"background(?:-color)?:\s*(#[0-9a-fA-F]{6})",
                              node.get("style") or "") or (
                re.match(r"#[0-9a-fA-F]{6}$", node.get("bgcolor") or ""))
            if found:
                bg = found.group(1) if found.lastindex else found.group(0)
                break
            node = node.getparent()
        assert contrast(m.group(1), bg) >= 4.5, (m.group(1), bg, el.tag)


def test_an_item_in_another_language_says_so_and_the_preheader_is_hidden_without_tricks(
        rt: Runtime) -> None:
    add_item(rt, "connect", link="https://example.org/en")
    add_item(rt, "cosmos", link="https://example.org/nl", title="Proeven met water",
             language="nl")
    out = rendered(rt, compose(rt).id)
    doc = lxml_html.fromstring(out.html)
    assert doc.get("lang") == "en"
    dutch = [e for e in doc.iter() if e.get("lang") == "nl"]
    assert {e.tag for e in dutch} == {"h3", "div"}
    assert "Proeven met water" in dutch[0].text_content()
    assert not [e for e in doc.iter() if e.get("lang") not in (None, "en", "nl", "und")]
    # The preheader is in the mail, hidden by display:none, never by white text.
    [pre] = [e for e in doc.iter("div") if e.get("aria-hidden") == "true"
             and "display:none" in (e.get("style") or "")]
    assert pre.text_content().strip().startswith("2 stories")
    assert "color" not in (pre.get("style") or "")
    assert "font-size:1px;color:#ffffff" not in out.html  # mj-preview's trick is gone


@pytest.mark.parametrize("hours, said", [(168, "7 days"), (24, "1 day"), (48, "2 days"),
                                         (36, "36 hours"), (1, "1 hour")])
def test_durations_in_mails_read_as_people_say_them(hours: int, said: str) -> None:
    assert render.duration(hours) == said


def test_personalise_fills_placeholders_and_escapes_for_html() -> None:
    key = "00112233445566778899aabb"
    html = (f'<a href="%%unsubscribe_url:{key}%%">x</a> %%web_url:{key}%% %%other:{key}%% '
            f'%%web_url%% %%web_url:ffffffffffffffffffffffff%%')
    out = personalise(html, {"unsubscribe_url": "https://x.test/u/a?b=1&c=2",
                             "web_url": "<w>"}, key, is_html=True)
    # Only marks with the issue's key are filled: a bare or foreign one stays as typed.
    assert out == ('<a href="https://x.test/u/a?b=1&amp;c=2">x</a> &lt;w&gt; '
                   f'%%other:{key}%% %%web_url%% %%web_url:ffffffffffffffffffffffff%%')
    assert personalise(f"%%web_url:{key}%%", {"web_url": "<w>"}, key, is_html=False) == "<w>"


def test_a_template_syntax_error_names_the_template_and_line(rt: Runtime, home: Path) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    path = home / "templates/newsletter/issue.mjml.j2"
    lines = path.read_text().splitlines()
    lines[20] += " {% if %}"
    path.write_text("\n".join(lines))
    with pytest.raises(ContentError, match=r"issue\.mjml\.j2:21: template syntax error"):
        rendered(rt, issue.id)


def test_an_unknown_name_in_a_template_names_the_line(rt: Runtime, home: Path) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    path = home / "templates/newsletter/issue.txt.j2"
    path.write_text("Hello\n{{ reader.name }}\n")
    with pytest.raises(ContentError, match=r"issue\.txt\.j2:2: 'reader' is undefined"):
        rendered(rt, issue.id)


@pytest.mark.parametrize("source,message", [
    ("<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text>x</mj-text>\n</mj-section>\n"
     "</mj-body>\n</mjml>", r"line 6, column 1 .*</mj-section> found, but <mj-column> opened "
                           r"at line 4 is still open.*That line reads: '</mj-section>'"),
    ("<mjml>\n<mj-body>\n<mj-sektion></mj-sektion>\n</mj-body>\n</mjml>",
     r"line 3, column 1 .*unknown tag <mj-sektion>"),
    ("<mjml>\n<mj-body>\n<mj-section>\n</mj-body>\n</mjml>", r"</mj-body> found, but "
                                                            r"<mj-section> opened at line 3"),
    ("<mj-body></mj-body>", r"MJML error at line 1, column 9.*unexpected token"),
])
def test_mjml_errors_name_the_template_line_and_column(source: str, message: str) -> None:
    with pytest.raises(ContentError, match=message) as exc:
        compile_mjml(source, "newsletter/issue.mjml.j2")
    assert str(exc.value).startswith("newsletter/issue.mjml.j2: MJML error")


def test_an_mjml_error_in_the_community_template_reaches_the_editor(rt: Runtime,
                                                                    home: Path) -> None:
    add_item(rt, link="https://example.org/1")
    issue = compose(rt)
    path = home / "templates/newsletter/issue.mjml.j2"
    end = "\n    </mj-section>\n    <mj-raw><!--{{ section.end }}--></mj-raw>\n{% endfor %}"
    path.write_text(path.read_text().replace("</mj-column>" + end, end, 1))
    report, out = newsletter.run_preflight(rt, issue.id)
    assert out is None
    failed = report.failed[0]
    assert failed.key == "render" and "</mj-section> found, but <mj-column>" in failed.details[0]


# --------------------------------------------------------------------- pre-flight

def statuses(report: preflight.Report) -> dict[str, str]:
    return {c.key: c.status for c in report.checks}


def test_a_good_issue_passes_every_check(rt: Runtime, web: FeedServer) -> None:
    issue = ready_issue(rt, web)
    report, out = newsletter.run_preflight(rt, issue.id)
    assert out is not None
    assert statuses(report) == {**{k: "pass" for k in (
        "render", "subject", "items", "rejected", "grants", "images", "blocks", "alt", "marks",
        "size",
        "links")},
        "domain": "warn"}  # advice only: the domain has not been checked here
    links = next(c for c in report.checks if c.key == "links")
    # Three item links; the emblem and the archive link on this service are not fetched.
    assert links.details == ("3 links answered", "2 links to this service itself not tried")


@pytest.mark.parametrize("link_timeout", [1.0])
def test_broken_links_fail_shy_sites_warn_and_answers_are_cached(rt: Runtime,
                                                                 web: FeedServer) -> None:
    web.routes["/gone"] = Route(status=404, body=b"gone", content_type="text/html")
    web.routes["/robots-no"] = Route(status=403, body=b"no", content_type="text/html")
    web.routes["/slow"] = Route(hang=True)
    add_item(rt, "pafse", link=web.url("/page/1"))
    add_item(rt, "cosmos", link=web.url("/gone"))
    add_item(rt, "levers", "tool", link=web.url("/robots-no"))
    add_item(rt, "most", "reading", link=web.url("/slow"))
    issue = compose(rt)
    report, _ = newsletter.run_preflight(rt, issue.id)
    links = next(c for c in report.checks if c.key == "links")
    assert links.status == "fail"
    text = "\n".join(map(str, links.details))
    assert f"{web.url('/gone')}: HTTP 404" in text
    assert f"{web.url('/robots-no')}: HTTP 403: the site refuses automatic checks" in text
    assert f"{web.url('/slow')}: no answer within 1 s" in text
    assert web.url("/page/1") not in text
    # A second run asks only the links that did not answer: the good one is cached a day.
    before = len(web.hits("/page/1")), len(web.hits("/gone"))
    newsletter.run_preflight(rt, issue.id)
    assert len(web.hits("/page/1")) == before[0]
    assert len(web.hits("/gone")) > before[1]


@pytest.mark.parametrize("link_timeout", [1.0])
def test_an_unreachable_link_warns_and_approving_past_it_takes_a_recorded_reason(
        rt: Runtime, web: FeedServer) -> None:
    web.routes["/slow"] = Route(hang=True)  # as offline as a test gets: nothing answers
    add_item(rt, "cosmos", link=web.url("/slow"))
    issue = compose(rt)
    report, _ = newsletter.run_preflight(rt, issue.id)
    links = next(c for c in report.checks if c.key == "links")
    assert (links.status, links.needs_reason) == ("warn", True)
    with pytest.raises(Blocked, match="say why you approve although"):
        newsletter.approve(rt, TEST, issue.id, ["links"])
    approved, _ = newsletter.approve(rt, TEST, issue.id, ["links"],
                                     {"links": "The network is down here; I opened it at home"})
    assert approved.status == "approved"
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.approved")).one()
    assert entry.detail["reasons"] == {"links": "The network is down here; I opened it at home"}


def test_shy_links_only_warn(rt: Runtime, web: FeedServer) -> None:
    web.routes["/rate"] = Route(status=429, body=b"later", content_type="text/html")
    add_item(rt, "connect", link=web.url("/rate"))
    report, _ = newsletter.run_preflight(rt, compose(rt).id)
    assert statuses(report)["links"] == "warn"


@given(st.lists(st.tuples(st.sampled_from([preflight.PASS, preflight.WARN, preflight.FAIL]),
                          st.booleans()), max_size=14))
def test_the_summary_counts_exactly_the_checks_it_groups(kinds: list[tuple[str, bool]]) -> None:
    """Every check is in one group, and the summary names each group's count: the line
    "1 failed, 2 warnings to tick, 1 piece of advice" never disagrees with the list."""
    report = preflight.Report(tuple(preflight.Check(f"c{n}", f"check {n}", status,
                                                    advisory=advisory)
                                    for n, (status, advisory) in enumerate(kinds)))
    groups = report.groups()
    assert sorted(c.key for _, checks in groups for c in checks) == sorted(
        c.key for c in report.checks)
    counted = {m.group(2): int(m.group(1)) for m in re.finditer(
        r"(\d+) (failed|warnings? to tick|pieces? of advice|piece of advice|passed)",
        report.summary())}
    assert sum(counted.values()) == len(kinds)
    for group, checks in report.groups(empty=True):
        number, words = str(group.counted(len(checks))).split(" ", 1)
        assert int(number) == len(checks) and counted[words] == len(checks)
        assert (group, checks) in groups or not checks  # an empty group is not listed
    advice = [c for c in report.checks if c.status == preflight.WARN and c.advisory]
    assert f"{len(advice)} piece{'' if len(advice) == 1 else 's'} of advice" in report.summary()


def test_alt_text_check() -> None:
    assert preflight.check_alt_text('<img src="a" alt="A">').status == "pass"
    assert preflight.check_alt_text('<img src="a" alt="">').status == "warn"
    missing = preflight.check_alt_text('<img src="a" alt="A"><img src="b.png">')
    assert missing.status == "fail" and missing.details == ("no alt attribute: b.png",)


def test_size_check_at_gmail_clipping_limit() -> None:
    assert preflight.check_size(b"x" * 50_000).status == "pass"
    assert preflight.check_size(b"x" * 95_000).status == "warn"
    big = preflight.check_size(b"=C3=A9" * 18_000)  # 106 KB as sent
    assert big.status == "fail" and "Gmail will clip it" in big.details[0]


@pytest.mark.parametrize("subject,preheader,problem", [
    ("", "p", "the subject is empty"), ("x" * 91, "p", "the subject has 91 characters"),
    ("ok", "", "there is no preheader")])
def test_subject_and_preheader_checks(subject: str, preheader: str, problem: str) -> None:
    check = preflight.check_subject(subject, preheader)
    assert check.status == "fail" and problem in check.details[0]
    assert preflight.check_subject("x" * 90, "p").status == "pass"


def test_missing_unsubscribe_or_credit_block_fails(rt: Runtime, home: Path,
                                                   web: FeedServer) -> None:
    issue = ready_issue(rt, web, 1)
    path = home / "templates/newsletter/issue.txt.j2"
    text = path.read_text()
    path.write_text(text.replace("{{ t.unsubscribe_short }}: {{ unsubscribe_url }}", "").replace(
        "{% for credit in credits %}\n{{ credit }}\n{% endfor %}", ""))
    report, _ = newsletter.run_preflight(rt, issue.id)
    blocks = next(c for c in report.checks if c.key == "blocks")
    assert blocks.status == "fail"
    assert ("the text part has no unsubscribe link (the template's {{ unsubscribe_url }})"
            in blocks.details)
    assert any(d.startswith("missing credit line: COSMOS") for d in blocks.details)


def test_an_empty_issue_fails(rt: Runtime) -> None:
    issue = compose(rt)
    assert issue.entries == []
    report, _ = newsletter.run_preflight(rt, issue.id)
    assert statuses(report)["items"] == "fail"


def test_an_item_rejected_after_composing_fails_and_reopens_an_approved_issue(
        rt: Runtime, web: FeedServer) -> None:
    issue = ready_issue(rt, web, 2)
    newsletter.approve(rt, TEST, issue.id)
    victim = issue.entries[0].item_id
    news.reject(rt, TEST, victim, "Turned out to be an advert.")
    again = load(rt, issue.id)
    assert again.status == "in_review" and again.snapshot_html == ""
    report, _ = newsletter.run_preflight(rt, issue.id)
    rejected = next(c for c in report.checks if c.key == "rejected")
    assert rejected.status == "fail" and f"item {victim}" in rejected.details[0]


def test_a_project_without_grant_number_is_a_warning(rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "sense", link=web.url("/page/1"))  # SENSE.: grant number unknown
    report, _ = newsletter.run_preflight(rt, compose(rt).id)
    grants = next(c for c in report.checks if c.key == "grants")
    assert grants.status == "warn" and grants.details[0].startswith("SENSE. has no grant")


# --------------------------------------------------------------------- approval

def test_approval_freezes_the_exact_snapshot_and_is_audited(rt: Runtime, web: FeedServer,
                                                            home: Path) -> None:
    make_user(rt)
    with rt.db.session() as s:
        editor = s.scalar(select(User).where(User.email == "editor@example.org"))
        actor = Actor.of(editor)
    issue = ready_issue(rt, web)
    with rt.db.session() as s:  # the snapshot keeps the marks the delivery cuts along
        before = newsletter.marked(rt, newsletter.get_issue(s, issue.id))
    approved, _ = newsletter.approve(rt, actor, issue.id)
    assert approved.status == "approved"
    assert approved.approved_by_label == "editor:editor@example.org"
    # What was checked, with each item's link through the service (click counting).
    with rt.db.session() as s:
        links = {e.item.id: e.item.link for e in newsletter.get_issue(s, issue.id).entries}
    assert (approved.snapshot_html, approved.snapshot_text) == clicks.track(
        rt, approved.number or 0, links, before.html, before.text)
    # A later template edit does not touch what was approved: sending never re-renders.
    path = home / "templates/newsletter/issue.txt.j2"
    path.write_text("changed\n" + path.read_text())
    with rt.db.session() as s:
        assert newsletter.marked(rt, newsletter.get_issue(s, issue.id)).text == \
            approved.snapshot_text
    with rt.db.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == "issues")))
    assert [r.action for r in rows] == ["issue.composed", "issue.in_review", "issue.approved"]
    assert rows[-1].actor == "editor:editor@example.org"
    assert rows[-1].detail["sha256"] == approved.snapshot_sha256


def test_a_failed_check_blocks_approval(rt: Runtime) -> None:
    issue = compose(rt)  # no items
    with pytest.raises(Blocked) as exc:
        newsletter.approve(rt, TEST, issue.id)
    assert any(r.startswith("The issue has at least one item") for r in exc.value.reasons)
    assert load(rt, issue.id).status == "draft"


def test_a_warning_needs_acknowledgement(rt: Runtime, web: FeedServer) -> None:
    add_item(rt, "sense", link=web.url("/page/1"))
    issue = compose(rt)
    with pytest.raises(Blocked, match="warning, not acknowledged"):
        newsletter.approve(rt, TEST, issue.id)
    approved, report = newsletter.approve(rt, TEST, issue.id, acknowledged=["grants"])
    assert approved.status == "approved" and [w.key for w in report.warnings] == ["grants"]


def test_only_editors_approve(rt: Runtime, web: FeedServer) -> None:
    make_user(rt, "member@example.org", "member", project="connect")
    with rt.db.session() as s:
        member = s.scalar(select(User).where(User.email == "member@example.org"))
        actor = Actor.of(member)
    issue = ready_issue(rt, web, 1)
    with pytest.raises(PermissionDenied, match="Only editors"):
        newsletter.approve(rt, actor, issue.id)
    assert load(rt, issue.id).status == "draft"


def test_an_edit_after_approval_sends_the_issue_back_to_review(rt: Runtime,
                                                               web: FeedServer) -> None:
    issue = ready_issue(rt, web)
    newsletter.approve(rt, TEST, issue.id)
    newsletter.update_details(rt, TEST, issue.id, subject="A better subject",
                              preheader=issue.preheader, intro_md="")
    again = load(rt, issue.id)
    assert again.status == "in_review" and again.snapshot_sha256 == ""
    assert again.approved_at is None


def test_cancel_before_sending_but_not_after(rt: Runtime, web: FeedServer) -> None:
    issue = ready_issue(rt, web, 1)
    newsletter.approve(rt, TEST, issue.id)
    mark_sent(rt, issue.id)
    with pytest.raises(Conflict, match="is sent; it cannot become cancelled"):
        newsletter.cancel(rt, TEST, issue.id)


# --------------------------------------------------------------------- test sends

def test_a_test_goes_to_editors_and_to_typed_addresses(rt: Runtime, settings: Any,
                                                        web: FeedServer) -> None:
    make_user(rt, "ed@example.org", "editor")
    make_user(rt, "member@example.org", "member", project="connect")
    issue = ready_issue(rt, web, 1)
    sent = test_sends.test_send(rt, TEST, issue.id, ["ED@example.org"],
                                "Kim.Teacher@Gmail.example\nmember@example.org, "
                                "kim.teacher@gmail.example")
    # The editor ticked, then each typed address once (whatever its case), as typed.
    assert sent.to == ["ed@example.org", "kim.teacher@gmail.example", "member@example.org"]
    messages = outbox(settings)
    assert sorted(m["To"] for m in messages) == sorted(sent.to)
    for msg in messages:
        assert msg["Subject"].startswith("OStogether #10")  # the real subject
        assert msg.is_multipart() and msg["List-Unsubscribe-Post"]
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert "%%" not in html and "%%" not in text
        assert "https://ostogether.test/archive/10" in text
    with rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.test_sent")).one()
    assert entry.detail == {"to": sent.to}
    with pytest.raises(ValidationError, match="Choose at least one editor, or type"):
        test_sends.test_send(rt, TEST, issue.id, [], " , ")


def test_typed_addresses_are_checked_all_at_once_and_then_nothing_goes(
        rt: Runtime, settings: Any, web: FeedServer) -> None:
    make_user(rt, "ed@example.org", "editor")
    issue = ready_issue(rt, web, 1)
    readers = add_readers(rt, 3, domain="school.example")
    subscribers.erase_by_id(rt, TEST, readers[0])  # reader0: erased, on the suppression list
    with rt.db.session() as s:  # reader1 left
        s.get(Subscriber, readers[1]).status = "unsubscribed"  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as exc:
        test_sends.test_send(rt, TEST, issue.id, ["ed@example.org", "stranger@example.org"],
                             "reader0@school.example, not-an-address, reader1@school.example,"
                             " reader2@school.example, a@b.example, c@d.example, e@f.example")
    fields = exc.value.fields
    assert fields["to"] == "not an editor: stranger@example.org"
    assert "at most 5 addresses besides the editors'; there are 7" in fields["others"]
    assert "not-an-address: An email address must have an @-sign." in fields["others"]
    assert ("reader0@school.example is on the suppression list (its owner had it erased on "
            in fields["others"])
    assert "reader1@school.example belongs to a reader who unsubscribed" in fields["others"]
    assert "reader2@school.example" not in fields["others"]  # a confirmed reader may have it
    assert outbox(settings) == []
    # An editor's own address is theirs, even when it was erased as a reader's.
    make_user(rt, "reader0@school.example", "editor")
    sent = test_sends.test_send(rt, TEST, issue.id, [], "Reader0@school.example")
    assert sent.to == ["reader0@school.example"]


@pytest.fixture
def env_limit(env: dict[str, str]) -> dict[str, str]:
    env["OSTOGETHER_TEST_SEND_MAX_PER_HOUR"] = "4"
    return env


def test_test_messages_are_counted_per_editor_and_hour(env_limit: Any, rt: Runtime,
                                                       settings: Any, web: FeedServer,
                                                       test_clock: clock.FakeClock) -> None:
    make_user(rt, "greta@example.org", "editor")
    make_user(rt, "hans@example.org", "editor")
    with rt.db.session() as s:
        greta, hans = (Actor.of(s.scalars(select(User).where(User.email == e)).one())
                       for e in ("greta@example.org", "hans@example.org"))
    issue = ready_issue(rt, web, 1)
    assert len(test_sends.test_send(rt, greta, issue.id, [], "a@x.example b@x.example "
                                                               "c@x.example").to) == 3
    test_clock.advance(minutes=20)
    with pytest.raises(RateLimited, match=r"it takes 2 messages, and you may send 1 more "
                                          r"within the hour \(4 an hour\)\. Try again in "
                                          r"40 minute"):
        test_sends.test_send(rt, greta, issue.id, [], "a@x.example, d@x.example")
    assert len(test_sends.test_send(rt, greta, issue.id, [], "a@x.example").to) == 1
    # Another editor has an hour of their own.
    assert len(test_sends.test_send(rt, hans, issue.id, [], "a@x.example, b@x.example, "
                                                            "c@x.example, d@x.example").to) == 4
    # More than the hour allows is refused whatever was sent before.
    with pytest.raises(ValidationError, match="5 addresses, and at most 4 test messages"):
        test_sends.test_send(rt, greta, issue.id, ["greta@example.org"],
                             "a@x.example b@x.example c@x.example d@x.example")
    test_clock.advance(minutes=41)  # Greta's first three left the hour
    assert len(test_sends.test_send(rt, greta, issue.id, [], "a@x.example b@x.example "
                                                               "c@x.example").to) == 3
    assert len(outbox(settings)) == 11


@pytest.mark.skipif(shutil.which("spamassassin") is None,
                    reason="SpamAssassin is not installed (apt-get install spamassassin)")
def test_spamassassin_scores_an_issue_zero(rt: Runtime, settings: Any, web: FeedServer) -> None:
    """Debian's SpamAssassin rules, run locally (-L: no network tests), find nothing."""
    make_user(rt, "ed@example.org", "editor")
    issue = ready_issue(rt, web, 3)
    test_sends.test_send(rt, TEST, issue.id, ["ed@example.org"])
    [msg] = outbox(settings)
    report = subprocess.run(["spamassassin", "-t", "-L"], input=msg.as_bytes(),
                            capture_output=True, check=True).stdout.decode(errors="replace")
    found = re.search(r"Content analysis details:\s+\((-?[\d.]+) points", report)
    assert found is not None and float(found.group(1)) <= 0.0, report[report.find("Content"):]


class RefusingSink(Sink):
    """The sink, but a mailbox of refused.example does not exist (550 at RCPT)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_test_over_real_smtp_goes_on_past_an_address_the_server_refuses(
        rt: Runtime, env: dict[str, str], web: FeedServer) -> None:
    from aiosmtpd.controller import Controller

    from ostogether.core.settings import load_settings

    sink = RefusingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp_rt = Runtime(load_settings(environ={
        **env, "OSTOGETHER_MAIL_TRANSPORT": "smtp", "OSTOGETHER_SMTP_HOST": "127.0.0.1",
        "OSTOGETHER_SMTP_PORT": str(controller.port), "OSTOGETHER_SMTP_SECURITY": "none"}))
    try:
        make_user(smtp_rt, "ed@example.org", "editor")
        issue = ready_issue(smtp_rt, web, 1)
        sent = test_sends.test_send(smtp_rt, TEST, issue.id, ["ed@example.org"],
                                    "nobody@refused.example, kim@gmail.example")
    finally:
        smtp_rt.close()
        controller.stop()
    assert sent.to == ["ed@example.org", "kim@gmail.example"]
    [(address, why)] = sent.refused
    assert address == "nobody@refused.example"
    assert why == "The SMTP server refused it: 550 5.1.1 No such user here"
    assert [e.rcpt_tos for e in sink.envelopes] == [["ed@example.org"], ["kim@gmail.example"]]
    assert all(m["Subject"].startswith("OStogether #10") for m in sink.messages)
    assert all(e.mail_from.startswith("bounces+d0-") for e in sink.envelopes)  # VERP
    with smtp_rt.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.test_sent")).one()
    assert entry.detail == {"to": sent.to, "refused": ["nobody@refused.example"]}


# --------------------------------------------------------------------- CLI

def test_cli_test_send_takes_any_address(rt: Runtime, env: dict[str, str], settings: Any,
                                         web: FeedServer) -> None:
    make_user(rt, "ed@example.org", "editor")
    ready_issue(rt, web, 1)
    r = run(env, "issue", "test-send", "10", "--to", "ed@example.org", "--to",
            "kim@gmail.example")
    assert r.returncode == 0, r.stderr
    assert "Test of issue #10 sent to ed@example.org, kim@gmail.example." in r.stdout
    assert sorted(m["To"] for m in outbox(settings)) == ["ed@example.org", "kim@gmail.example"]
    r = run(env, "issue", "test-send", "10", "--to", "kim@gmail")
    assert r.returncode == 1
    assert "kim@gmail: The part after the @-sign is not valid" in r.stderr


def test_cli_compose_show_preflight_approve_preview(rt: Runtime, env: dict[str, str],
                                                    web: FeedServer, tmp_path: Path) -> None:
    add_item(rt, "connect", link=web.url("/page/1"))
    add_item(rt, "sense", "tool", link=web.url("/page/2"))
    r = run(env, "issue", "compose")
    assert r.returncode == 0, r.stderr
    assert "Issue #10 is a draft with 2 item(s)" in r.stdout
    r = run(env, "issue", "list", "--format", "json")
    assert [(i["number"], i["status"], i["items"]) for i in __import__("json").loads(
        r.stdout)] == [(10, "draft", 2)]
    r = run(env, "issue", "preflight", "10")
    assert r.returncode == 0, r.stdout  # a warning is not a failure
    assert "WARN Every featured project's grant is known" in r.stdout
    r = run(env, "issue", "approve", "10")
    assert r.returncode == 1 and "warning, not acknowledged" in r.stderr
    r = run(env, "issue", "approve", "10", "--acknowledge", "grants")
    assert r.returncode == 0, r.stderr
    assert "Issue #10 is approved" in r.stdout
    r = run(env, "issue", "preview", "10", "--format", "eml", "-o", str(tmp_path / "i.eml"))
    assert r.returncode == 0, r.stderr
    import email
    import email.policy
    msg = email.message_from_bytes((tmp_path / "i.eml").read_bytes(),
                                   policy=email.policy.default)
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    r = run(env, "issue", "preview", "10", "--format", "text")
    assert "Unsubscribe: https://ostogether.test/newsletter/manage" in r.stdout
    r = run(env, "issue", "show", "99")
    assert r.returncode == 1 and "There is no issue #99" in r.stderr


def test_cli_preflight_exits_1_on_failure(rt: Runtime, env: dict[str, str]) -> None:
    assert run(env, "issue", "compose").returncode == 0
    r = run(env, "issue", "preflight", "10", "--format", "json")
    assert r.returncode == 1
    data = __import__("json").loads(r.stdout)
    assert data["ok"] is False
    assert {c["key"]: c["status"] for c in data["checks"]}["items"] == "fail"


def test_unknown_project_credit_field_is_a_content_error(rt: Runtime, home: Path) -> None:
    path = home / "content/newsletter.toml"
    path.write_text(path.read_text().replace("No {grant_number}.\"\n", "No {grant}.\"\n", 1))
    with pytest.raises(ContentError, match="unknown field 'grant'"):
        rt.community.newsletter()
    assert project_id(rt, "connect")


@pytest.mark.parametrize("path,old,new,message", [
    ("templates/newsletter/subject.txt.j2", "{% else %}", "{% els %}",
     r"subject\.txt\.j2:\d+: template syntax error"),
    ("content/newsletter.toml", 'ordering = "date"', 'ordering = "random"',
     r"section 3 \(events\): ordering must be one of date, newest, oldest; got 'random'"),
    ("content/newsletter.toml", 'kinds = ["tool"]', 'kinds = ["tools"]',
     r"unknown kind 'tools'"),
    ("schedules/ostogether.toml", '"jan", ', '"january", ',
     r"ostogether\.toml:\d+: send_months must list month names .* got january"),
    ("schedules/ostogether.toml", "send_day = 15", "send_day = 31",
     r"send_day must be 1-28"),
    ("schedules/ostogether.toml", '"10:00"', '"10h"', r"send_time must be a local time"),
])
def test_init_refuses_a_bad_newsletter_file_with_its_place(
        home: Path, env: dict[str, str], path: str, old: str, new: str, message: str) -> None:
    file = home / path
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    r = run(env, "init")
    assert r.returncode == 1
    assert re.search(message, r.stderr), r.stderr
    assert "Traceback" not in r.stderr
