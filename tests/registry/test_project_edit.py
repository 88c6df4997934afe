"""Editors change a project's facts in the browser: a project that came through the Join
form (and has no file) gets its feed, handles and logo; the eligibility checks run on
save, nothing is saved while one fails, the form keeps what was typed, and every change
is audited with its old and new value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core.settings import Settings
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Feed, Project
from ostogether.news import feeds
from ostogether.registry import handles
from tests.conftest import csrf_from, login, new_client, post
from tests.factories import applicant, make_user
from tests.feedserver import FeedServer, Route, picture, rss

PAGE = "/editors/projects/sci-lab"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    s = FeedServer().start()
    s.routes["/feed.xml"] = Route(body=rss([{"title": "Lab day", "link": "https://x.test/1"}]))
    s.routes["/page.html"] = Route(body=b"<!doctype html><title>a page</title>",
                                   content_type="text/html")
    s.routes["/logo.png"] = Route(body=picture(320, 200), content_type="image/png")
    yield s
    s.stop()


def sci_lab(rt: Runtime) -> Project:
    with rt.db.session() as s:
        p = s.scalar(select(Project).where(Project.slug == "sci-lab"))
        assert p is not None
        s.expunge(p)
    return p


def form_of(client: Any, **changes: Any) -> dict[str, Any]:
    """Every field of the project's page as a browser would send it, with ``changes``."""
    html = client.get(PAGE).get_data(as_text=True)
    data: dict[str, Any] = {}
    for m in re.finditer(r'<input ([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        name, kind = attrs.get("name"), attrs.get("type", "text")
        if not name or kind == "file":
            continue
        if kind == "checkbox":
            if re.search(r"(^|\s)checked(\s|=|$)", m.group(1)):
                data.setdefault(name, []).append(unescape(attrs.get("value", "y")))
            continue
        data[name] = unescape(attrs.get("value", ""))
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = unescape(m.group(2)).lstrip("\n")
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" '
                           r'selected', m.group(2))
        value = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
        data[m.group(1)] = unescape(value)
    data.update(changes)
    return data


def edits(rt: Runtime) -> list[AuditEntry]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "project.edited")))
        s.expunge_all()
    return rows


def test_an_editor_gives_a_join_form_project_its_feed_handles_and_logo(
        app: Any, rt: Runtime, editor: Any, server: FeedServer, settings: Settings) -> None:
    applicant(rt, accept=True)
    listing = editor.get("/editors/projects/").get_data(as_text=True)
    assert f'href="{PAGE}"' in listing and "the Join form" in listing
    data = form_of(editor, feed_url=server.url("/feed.xml"),
                   handles_x="https://x.com/scilab_eu", handles_mastodon="https://mastodon.social/@scilab",
                   handles_bluesky="https://bsky.app/profile/scilab.bsky.social",
                   handles_linkedin="https://www.linkedin.com/company/4242/",
                   handles_facebook="@scilab.eu", description="A lab that schools run.")
    data["logo_file"] = (BytesIO(picture(400, 300)), "logo.png")
    r = editor.post(PAGE, data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)
    saved = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "Saved SCI-LAB: short description, feed URL, social handles, logo." in saved
    assert "has no file" not in saved and "/tmp" not in saved

    p = sci_lab(rt)
    assert p.feed_url == server.url("/feed.xml")
    assert p.handles == {"x": "scilab_eu", "mastodon": "@scilab@mastodon.social",
                         "bluesky": "scilab.bsky.social", "linkedin": "4242",
                         "facebook": "scilab.eu"}
    assert re.fullmatch(r"[0-9a-f]{64}\.png", p.logo)
    assert (settings.media_path / p.logo).is_file()
    assert sorted(p.web_edits or {}) == ["description", "feed_url", "handles", "logo"]
    # The feed is polled from now on, like a feed from a file.
    assert [(f.project.slug, f.url) for f in feeds.list_feeds(rt)
            if f.project.slug == "sci-lab"] == [("sci-lab", server.url("/feed.xml"))]
    # Audited: which fields, old → new.
    [entry] = edits(rt)
    assert entry.actor == "editor:editor@example.org"
    assert entry.detail["changed"] == ["description", "feed_url", "handles", "logo"]
    assert entry.detail["before"]["feed_url"] == "" and entry.detail["before"]["logo"] == ""
    assert entry.detail["after"]["handles"]["x"] == "scilab_eu"
    history = editor.get(PAGE).get_data(as_text=True)
    assert "feed URL (empty → http://127.0.0.1" in history
    # The public page shows the logo, which the service serves itself.
    public = editor.get("/registry/sci-lab").get_data(as_text=True)
    assert f'src="/media/{p.logo}"' in public
    got = editor.get(f"/media/{p.logo}")
    assert got.status_code == 200 and got.mimetype == "image/png"


def test_a_failing_check_saves_nothing_and_keeps_what_was_typed(
        app: Any, rt: Runtime, editor: Any, server: FeedServer) -> None:
    applicant(rt, accept=True)
    before = sci_lab(rt)
    data = form_of(editor, programme="Horizon Europe", grant_number="GA-1",
                   feed_url=server.url("/page.html"), handles_x="not a handle!",
                   handles_linkedin="https://www.linkedin.com/company/ecsite/",
                   description="Typed, and not to be lost.")
    data["logo_file"] = (BytesIO(b"GIF89a not really"), "logo.gif")
    r = editor.post(PAGE, data=data, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Nothing was saved" in html
    # Each sentence beside its field.
    assert re.search(r'id="grant_number-error">Grant agreement number &#39;GA-1&#39; is not '
                     r'valid', html)
    assert re.search(r'id="handles_x-error">Should be 1 to 15 letters', html)
    assert re.search(r'id="handles_linkedin-error">Mentions need the '
                     r"organisation&#39;s number", html)
    assert re.search(r'id="logo_file-error">The logo was not kept: it is not a picture', html)
    # What was typed is still there.
    assert 'value="GA-1"' in html and 'value="not a handle!"' in html
    assert "Typed, and not to be lost.</textarea>" in html
    # Nothing changed in the database, and nothing was audited.
    after = sci_lab(rt)
    assert (after.grant_number, after.handles, after.description, after.revision) == (
        before.grant_number, before.handles, before.description, before.revision)
    assert edits(rt) == []

    # A feed address that serves a page, not a feed, is refused beside the feed field.
    r = editor.post(PAGE, data=form_of(editor, feed_url=server.url("/page.html")))
    assert r.status_code == 400
    assert re.search(r'id="feed_url-error">The feed address does not serve an RSS or Atom',
                     r.get_data(as_text=True))
    assert sci_lab(rt).feed_url == ""


def test_a_logo_by_address_is_kept_even_across_a_failed_save(
        app: Any, rt: Runtime, editor: Any, server: FeedServer) -> None:
    applicant(rt, accept=True)
    r = editor.post(PAGE, data=form_of(editor, logo_url=server.url("/logo.png"),
                                       website="not an address"))
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "The logo you sent is kept" in html
    kept = re.search(r'name="logo_kept" type="hidden" value="([0-9a-f]{64}\.png)"|'
                     r'type="hidden" name="logo_kept" value="([0-9a-f]{64}\.png)"|'
                     r'id="logo_kept" name="logo_kept" type="hidden" value="([^"]+)"', html)
    assert kept is not None
    name = next(g for g in kept.groups() if g)
    assert sci_lab(rt).logo == ""
    # Corrected; the logo is not sent again, and still used.
    again = form_of(editor, website="https://sci-lab.example.org/", logo_kept=name)
    assert editor.post(PAGE, data=again).status_code == 302
    assert sci_lab(rt).logo == name
    assert len(server.hits("/logo.png")) == 1  # fetched once, through the guard


def test_confirming_proposed_handles_works_for_a_join_form_project(
        app: Any, rt: Runtime, editor: Any) -> None:
    pid = applicant(rt, accept=True)
    handles.propose(rt, Actor("ana@sci-lab.example.org"), pid,
                    {"x": "https://twitter.com/scilab_eu", "bluesky": "@scilab.bsky.social"})
    r = post(editor, "/editors/handles/sci-lab", "/editors/handles", action="confirm")
    page = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "The handles of sci-lab are in use from the next post." in page
    assert "has no file" not in page
    assert sci_lab(rt).handles == {"x": "scilab_eu", "bluesky": "scilab.bsky.social"}
    assert sci_lab(rt).web_edits is not None and "handles" in sci_lab(rt).web_edits


def test_two_editors_at_once_nobody_undoes_the_other_and_nothing_typed_is_lost(
        app: Any, rt: Runtime, editor: Any) -> None:
    applicant(rt, accept=True)
    make_user(rt, "greta@example.org")
    greta = new_client(app)
    login(greta, "greta@example.org")
    # Different fields: both are kept (her form still showed the old coordinator).
    hers = form_of(greta, call="HORIZON-CALL-1")
    assert editor.post(PAGE, data=form_of(editor, coordinator="Ecsite")).status_code == 302
    assert greta.post(PAGE, data=hers).status_code == 302
    assert (sci_lab(rt).call, sci_lab(rt).coordinator) == ("HORIZON-CALL-1", "Ecsite")

    # The same field, differently: she is told, with theirs; hers stays in the form.
    hers = form_of(greta, call="HORIZON-CALL-2", notes="Her note.")
    assert editor.post(PAGE, data=form_of(editor, call="HORIZON-CALL-3",
                                          coordinator="Ecsite AISBL")).status_code == 302
    r = greta.post(PAGE, data=hers)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert re.search(r'id="call-error">Changed meanwhile by editor@example.org, to '
                     r'“HORIZON-CALL-3”', html)
    assert 'value="HORIZON-CALL-2"' in html and "Her note.</textarea>" in html
    assert 'value="Ecsite AISBL"' in html  # what she had left alone shows theirs now
    assert sci_lab(rt).call == "HORIZON-CALL-3"
    # Having seen it, she saves again: hers is used, theirs elsewhere is not undone.
    again = {k: v for k, v in form_of(greta).items() if k in ("csrf_token", "original")}
    assert greta.post(PAGE, data={**hers, "coordinator": "Ecsite AISBL", **again}
                      ).status_code == 302
    p = sci_lab(rt)
    assert (p.call, p.coordinator, p.notes) == ("HORIZON-CALL-2", "Ecsite AISBL", "Her note.")


def test_an_end_date_in_the_past_makes_the_project_alumni_in_the_audit_too(
        app: Any, rt: Runtime, editor: Any) -> None:
    applicant(rt, accept=True)
    assert editor.post(PAGE, data=form_of(editor, end_date="2025-06-30")).status_code == 302
    assert sci_lab(rt).status == "alumni"
    [entry] = edits(rt)
    assert entry.detail["changed"] == ["end_date", "status"]
    assert entry.detail["before"]["status"] == "member"
    assert entry.detail["after"]["status"] == "alumni"


def test_an_admin_edits_a_member_may_not(app: Any, rt: Runtime) -> None:
    applicant(rt, accept=True)  # ana@sci-lab.example.org is its member now
    make_user(rt, "root@example.org", "admin")
    admin = new_client(app)
    login(admin, "root@example.org")
    assert admin.get(PAGE).status_code == 200
    assert admin.post(PAGE, data=form_of(admin, call="C-1")).status_code == 302
    assert sci_lab(rt).call == "C-1"
    make_user(rt, "bo@sci-lab.example.org", "member", project="sci-lab")
    bo = new_client(app)
    login(bo, "bo@sci-lab.example.org")
    assert bo.get(PAGE).status_code == 403
    token = csrf_from(bo.get("/members/").get_data(as_text=True))
    assert bo.post(PAGE, data={"csrf_token": token, "call": "C-2"}).status_code == 403
    assert sci_lab(rt).call == "C-1"


def test_clearing_the_feed_stops_polling_it(app: Any, rt: Runtime, editor: Any,
                                            server: FeedServer) -> None:
    applicant(rt, accept=True)
    editor.post(PAGE, data=form_of(editor, feed_url=server.url("/feed.xml")))
    with rt.db.session() as s:
        assert s.scalar(select(Feed.url).join(Project).where(Project.slug == "sci-lab"))
    assert editor.post(PAGE, data=form_of(editor, feed_url="")).status_code == 302
    with rt.db.session() as s:
        assert s.scalar(select(Feed.url).join(Project).where(Project.slug == "sci-lab")) is None


def test_a_logo_larger_than_a_form_is_taken_not_refused(
        app: Any, rt: Runtime, editor: Any) -> None:
    """A phone's photo is a few MB: more than a form without a file may send (1 MB), less
    than a picture may be. It was refused with "too large" and the form was lost."""
    applicant(rt, accept=True)
    data = form_of(editor, description="With a big logo.")
    big = picture(400, 300) + b"\0" * 2_500_000  # a valid PNG with a long tail
    data["logo_file"] = (BytesIO(big), "logo.png")
    r = editor.post(PAGE, data=data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    assert sci_lab(rt).logo.endswith(".png")
