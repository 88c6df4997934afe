"""One issue, assembled per reader (issue 36): sent over real SMTP (aiosmtpd) to readers
with different choices, each mail checked item by item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html
from sqlalchemy import select, update

from ostogether.edges import render
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Delivery, Issue, NewsItem, Subscriber
from ostogether.newsletter import delivery, test_sends
from ostogether.newsletter import issues as newsletter
from tests.conftest import post
from tests.factories import TEST, add_item, add_readers, mark_sent
from tests.feedserver import FeedServer
from tests.smtpsink import FlakySink, smtp_env, started_sink


@pytest.fixture
def sink() -> Iterator[FlakySink]:
    yield from started_sink()


@pytest.fixture
def env(env: dict[str, str], sink: FlakySink) -> dict[str, str]:
    return smtp_env(env, sink)


# title: (project, kind, topics, audiences)
ITEMS = {  # in the issue's order: its sections, then the items in each
    "Alpha climate lab": ("cosmos", "news", ["sdg-13"], ["teachers"]),
    "Charlie bird count": ("most", "news", ["citizen-science"], []),
    "Bravo robotics fair": ("levers", "event", ["steam"], ["parents"]),
    "Delta planner kit": ("otter", "tool", ["sdg-13"], ["school-heads"]),
}
EDITORIAL = "Dear readers, this editorial goes to every one of you."


def composed(rt: Runtime, web: FeedServer) -> tuple[Issue, dict[str, int]]:
    """An issue of the four ITEMS with their topics and audiences, and an editorial."""
    ids = {}
    for n, (title, (slug, kind, topics, audiences)) in enumerate(ITEMS.items()):
        ids[title] = add_item(rt, slug, kind, link=web.url(f"/page/{n}"), title=title)
        with rt.db.session() as s:
            s.execute(update(NewsItem).where(NewsItem.id == ids[title]).values(
                topics=topics, audiences=audiences))
    issue = newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    newsletter.update_details(rt, TEST, issue.id, subject=issue.subject,
                              preheader=issue.preheader, intro_md=EDITORIAL)
    return issue, ids


def issue_with_topics(rt: Runtime, web: FeedServer, for_everyone: str = "") -> tuple[
        Issue, dict[str, int]]:
    issue, ids = composed(rt, web)
    if for_everyone:
        newsletter.set_for_everyone(rt, TEST, issue.id, ids[for_everyone], True)
    approved, _ = newsletter.approve(rt, TEST, issue.id)
    return approved, ids


def choose(rt: Runtime, sid: int, **choices: list[str]) -> None:
    with rt.db.session() as s:
        s.execute(update(Subscriber).where(Subscriber.id == sid).values(**choices))


def parts(msg: EmailMessage) -> tuple[str, str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    return str(msg["Subject"]), text.get_content(), html.get_content()


READERS: dict[str, tuple[dict[str, list[str]], list[str]]] = {
    # who: (their choices, the titles they get)
    "everything": ({}, list(ITEMS)),
    "a topic": ({"topics": ["sdg-13"]}, ["Alpha climate lab", "Delta planner kit"]),
    "a project": ({"projects": ["most"]}, ["Charlie bird count"]),
    "kinds narrow": ({"topics": ["sdg-13"], "kinds": ["tool"]}, ["Delta planner kit"]),
    "an audience": ({"audiences": ["teachers"]}, ["Alpha climate lab", "Charlie bird count"]),
    "nothing matches": ({"topics": ["sdg-5"], "audiences": ["parents"]}, []),
}


def test_each_reader_gets_the_items_they_chose_and_nothing_else(
        rt: Runtime, web: FeedServer, sink: FlakySink) -> None:
    issue, ids = issue_with_topics(rt, web)
    sids = dict(zip(READERS, add_readers(rt, len(READERS)), strict=True))
    for who, (choices, _) in READERS.items():
        choose(rt, sids[who], **choices)
    status = delivery.send(rt, TEST, issue.id)
    assert status.counts["sent"] == len(READERS)
    mails = {rcpt: msg for _, rcpt, msg in sink.received}
    with rt.db.session() as s:
        emails = dict(s.execute(select(Subscriber.id, Subscriber.email)).all())
        recorded = {d.subscriber_id: d.items for d in s.scalars(select(Delivery))}
    for who, (_, titles) in READERS.items():
        subject, text, html = parts(mails[emails[sids[who]]])
        page = lxml_html.fromstring(html.encode())
        shown = [h.text_content().strip() for h in page.iter("h3")]
        assert shown == titles, who  # in the issue's order, each once
        for title in ITEMS:
            if title in titles:
                assert title in text, (who, title)
            else:  # not as a teaser either: subject, preheader, text, HTML, headings
                assert title not in text and title not in html and title not in subject, \
                    (who, title)
        assert EDITORIAL in text and EDITORIAL in " ".join(page.text_content().split()), who
        assert "%%" not in text and "%%" not in html, who  # every mark gone
        nothing = "Nothing in this issue matches what you follow"
        assert (nothing in text) == (nothing in html) == (who == "nothing matches"), who
        # The ids on the ledger, in the issue's order.
        assert recorded[sids[who]] == ",".join(str(ids[t]) for t in ITEMS if t in titles)
    # A section whose items all went goes with its heading; the others stay.
    _, text, html = parts(mails[emails[sids["a project"]]])
    assert "Events" not in text and "Tools for educators" not in html
    assert "News from the community" in text and "News from the community" in html
    # The reader whose choices match nothing: the line names them (in their language's
    # labels) and leads to their own preferences; no item, and still the editorial.
    subject, text, html = parts(mails[emails[sids["nothing matches"]]])
    assert "(SDG 5: Gender Equality, Parents)" in text
    page = lxml_html.fromstring(html.encode())
    [link] = [a for a in page.iter("a") if a.text_content() == "Change what you receive"]
    assert link.get("href", "").startswith("https://ostogether.test/p/")
    assert subject.endswith("news from the community")
    # The reader who chose nothing has the automatic subject of the whole issue.
    subject, _, _ = parts(mails[emails[sids["everything"]]])
    assert subject == issue.snapshot_subject


def test_the_nothing_line_is_in_the_readers_language(rt: Runtime, web: FeedServer,
                                                      sink: FlakySink) -> None:
    [sid] = add_readers(rt, 1)
    choose(rt, sid, topics=["sdg-5"])
    with rt.db.session() as s:
        s.execute(update(Subscriber).where(Subscriber.id == sid).values(language="nl"))
    issue, _ = issue_with_topics(rt, web)
    delivery.send(rt, TEST, issue.id)
    [(_, _, msg)] = sink.received
    _, text, html = parts(msg)
    assert "Niets in dit nummer past bij wat u volgt" in " ".join(text.split())
    assert "Wijzigen wat u ontvangt" in html
    assert not any(title in text or title in html for title in ITEMS)


def test_an_item_for_everyone_reaches_every_reader(rt: Runtime, web: FeedServer,
                                                   sink: FlakySink) -> None:
    issue, ids = issue_with_topics(rt, web, for_everyone="Bravo robotics fair")
    [follows, unmatched] = add_readers(rt, 2)
    choose(rt, follows, projects=["most"])
    choose(rt, unmatched, topics=["sdg-5"])
    delivery.send(rt, TEST, issue.id)
    with rt.db.session() as s:
        emails = dict(s.execute(select(Subscriber.id, Subscriber.email)).all())
    mails = {rcpt: parts(msg) for _, rcpt, msg in sink.received}
    _, text, _ = mails[emails[follows]]
    assert "Charlie bird count" in text and "Bravo robotics fair" in text
    assert "Alpha climate lab" not in text
    _, text, _ = mails[emails[unmatched]]
    # Their own choices still match nothing: the line says so, beside the item for all.
    assert "Bravo robotics fair" in text and "Nothing in this issue matches" in text
    assert "Charlie bird count" not in text


def test_the_archive_and_previews_show_the_whole_issue_without_marks(
        rt: Runtime, web: FeedServer, client: Any, editor: Any) -> None:
    issue, _ = issue_with_topics(rt, web)
    eml = test_sends.test_message(rt, issue, "editor@example.org").data.decode()
    assert "block:" not in eml and "Nothing in this issue" not in eml
    for url in (f"/editors/issues/{issue.number}/preview",
                f"/editors/issues/{issue.number}/preview.html"):
        page = editor.get(url).get_data(as_text=True)
        assert "%%" not in page and all(title in page for title in ITEMS), url
    mark_sent(rt, issue.id)
    page = client.get(f"/archive/{issue.number}").get_data(as_text=True)
    assert "%%" not in page and all(title in page for title in ITEMS)
    assert "Nothing in this issue matches" not in page
    key = newsletter.issue_key(rt, issue)
    assert render.block("item", min(render.block_items(issue.snapshot_html, key)), key) \
        in issue.snapshot_html  # the snapshot keeps them, for the delivery
    with rt.db.session() as s:
        shown = newsletter.public_rendering(rt, newsletter.get_issue(s, issue.id))
    for part in (shown.html, shown.text):
        assert "%%block" not in part and "%%/block" not in part and "%%slot" not in part
        assert all(title in part for title in ITEMS)
        assert "Nothing in this issue matches" not in part


KEY = "0123456789abcdef01234567"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["news", "events"]), st.integers(1, 40)),
                min_size=1, max_size=8, unique_by=lambda t: t[1]),
       st.sets(st.integers(1, 40)))
def test_cutting_leaves_balanced_html_and_only_the_kept_items(
        items: list[tuple[str, int]], keep: set[int]) -> None:
    """Whatever is kept, the Outlook conditionals stay balanced and the tables whole."""
    sections: dict[str, list[int]] = {}
    for sec, i in items:
        sections.setdefault(sec, []).append(i)
    body = "".join(
        f'<mj-raw><!--{render.block("section", sec, KEY)}--></mj-raw><mj-section>'
        f"<mj-column><mj-text><h2>{sec}</h2></mj-text>"
        + "".join(f'<mj-raw><!--{render.block("item", i, KEY)}--></mj-raw>'
                  f"<mj-text><h3>item {i}</h3></mj-text>"
                  f'<mj-button href="https://x.test/{i}">go {i}</mj-button>'
                  f'<mj-raw><!--{render.block("item", i, KEY, end=True)}--></mj-raw>'
                  for i in ids)
        + f'</mj-column></mj-section><mj-raw><!--{render.block("section", sec, KEY, end=True)}'
          f"--></mj-raw>" for sec, ids in sections.items())
    compiled = render.compile_mjml(f'<mjml lang="en"><mj-body>{body}<mj-section><mj-column>'
                                   f"<mj-text>footer</mj-text></mj-column></mj-section>"
                                   f"</mj-body></mjml>")
    assert render.block_items(compiled, KEY) == {i for _, i in items}
    out = render.assemble(compiled, KEY, frozenset(keep))
    assert out.count("<!--[if") == out.count("<![endif]-->")
    assert out.count("<table") == out.count("</table>")
    assert out.count("<tr") == out.count("</tr>") and out.count("<td") == out.count("</td>")
    page = lxml_html.fromstring(out)
    assert [h.text_content() for h in page.iter("h3")] == [
        f"item {i}" for sec, ids in sections.items() for i in ids if i in keep]
    assert [h.text_content() for h in page.iter("h2")] == [
        sec for sec, ids in sections.items() if set(ids) & keep]
    assert "%%" not in out and "footer" in out


# ------------------------------------------------------------------ the editors' pages

def test_an_editor_sends_an_item_to_every_reader_before_approval_only(
        editor: Any, rt: Runtime, web: FeedServer) -> None:
    issue, ids = composed(rt, web)
    page = f"/editors/issues/{issue.number}"
    html = editor.get(page).get_data(as_text=True)
    assert "Send to every reader" in html and "For every reader" not in html  # none yet
    r = post(editor, f"{page}/everyone", page, item_id=ids["Delta planner kit"], on="1")
    assert r.status_code == 302
    with rt.db.session() as s:
        entries = {e.item_id: e.for_everyone for e in newsletter.get_issue(s, issue.id).entries}
        [row] = s.scalars(select(AuditEntry).where(AuditEntry.action == "issue.for_everyone"))
    assert entries == {i: i == ids["Delta planner kit"] for i in ids.values()}
    assert row.detail == {"item": ids["Delta planner kit"], "on": True}
    assert "For every reader" in editor.get(page).get_data(as_text=True)
    newsletter.approve(rt, TEST, issue.id)
    r = post(editor, f"{page}/everyone", page, item_id=ids["Alpha climate lab"], on="1")
    assert "decided before approval" in editor.get(page).get_data(as_text=True)
    with rt.db.session() as s:
        assert sum(e.for_everyone for e in newsletter.get_issue(s, issue.id).entries) == 1


def test_the_preflight_counts_the_readers_of_each_item(editor: Any, rt: Runtime,
                                                        web: FeedServer) -> None:
    issue, ids = composed(rt, web)
    sids = add_readers(rt, 5)
    add_readers(rt, 2, status="pending", domain="pending.test")  # not counted
    choose(rt, sids[0], topics=["sdg-13"])  # Alpha, Delta
    choose(rt, sids[1], projects=["most"])  # Charlie
    choose(rt, sids[2], topics=["sdg-5"])  # nothing
    choose(rt, sids[3], audiences=["parents"])  # Charlie, Bravo (Charlie names nobody)
    # sids[4] chose nothing: every item
    html = editor.get(f"/editors/issues/{issue.number}/preflight").get_data(as_text=True)
    page = lxml_html.fromstring(html)
    rows = {r.xpath("th")[0].text_content().strip(): r.xpath("td")[-1].text_content()
            for r in page.xpath('//table[@aria-labelledby="choices-h"]/tbody/tr')}
    assert rows == {"Alpha climate lab": "2", "Charlie bird count": "3",
                    "Bravo robotics fair": "2", "Delta planner kit": "2"}
    summary = " ".join(page.get_element_by_id("choices-summary").text_content().split())
    assert summary.startswith("Of 5 confirmed readers, 4 get fewer than 3 items and 1 get "
                              "none of their choosing")


def test_the_preview_as_a_reader_shows_their_mail(editor: Any, rt: Runtime,
                                                  web: FeedServer) -> None:
    issue, _ = composed(rt, web)
    base = f"/editors/issues/{issue.number}"
    html = editor.get(f"{base}/preview?topics=sdg-13").get_data(as_text=True)
    page = lxml_html.fromstring(html)
    assert "gets 2 of 4 items" in page.get_element_by_id("as-reader-result").text_content()
    [box] = page.xpath('//input[@name="topics"][@value="sdg-13"]')
    assert box.get("checked") is not None  # the form shows the choice
    [frame] = page.xpath("//iframe")[:1]
    assert "topics=sdg-13" in frame.get("src")
    mail = editor.get(f"{base}/preview.html?topics=sdg-13").get_data(as_text=True)
    assert "Alpha climate lab" in mail and "Delta planner kit" in mail
    assert "Charlie bird count" not in mail and "Bravo robotics fair" not in mail
    assert "%%" not in mail
    # In another language, and for choices that match nothing: the line, in Dutch.
    mail = editor.get(f"{base}/preview.html?version=nl&audiences=parents&kinds=tool"
                      ).get_data(as_text=True)
    assert "Niets in dit nummer past bij wat u volgt" in mail
    assert not any(title in mail for title in ITEMS)
    # Unknown words are left out, not an error: the whole issue.
    whole_mail = editor.get(f"{base}/preview.html?topics=nonsense").get_data(as_text=True)
    assert all(title in whole_mail for title in ITEMS)


def test_templates_without_marks_warn_and_every_reader_gets_every_item(
        rt: Runtime, web: FeedServer, home: Path, sink: FlakySink) -> None:
    for name in ("issue.mjml.j2", "issue.txt.j2"):
        path = home / "templates/newsletter" / name
        path.write_text(path.read_text().replace("{{ item.begin }}", "")
                        .replace("{{ item.end }}", ""))
    issue, ids = composed(rt, web)
    report, _ = newsletter.run_preflight(rt, issue.id)
    [check] = [c for c in report.checks if c.key == "marks"]
    assert check.status == "warn" and "every reader will get every item" in check.details[0]
    newsletter.approve(rt, TEST, issue.id, ["marks"])
    [sid] = add_readers(rt, 1)
    choose(rt, sid, topics=["sdg-5"])
    delivery.send(rt, TEST, issue.id)
    [(_, _, msg)] = sink.received
    _, text, _ = parts(msg)
    assert all(title in text for title in ITEMS)  # not cut: nothing is lost either
    assert "Nothing in this issue matches" not in text
    with rt.db.session() as s:
        [row] = s.scalars(select(Delivery))
    assert row.items == ",".join(str(ids[t]) for t in ITEMS)
