"""Security as a user (or an attacker) meets it:

- every route, tried as a visitor, a member of another project, a member and an editor,
  answers as the permission table says;
- every form POST without its CSRF token is refused and changes nothing;
- an XSS payload in the text fields of the forms stays inert wherever it is shown, in a
  real browser.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from ostogether import imports
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Issue, NewsItem, SocialPost
from ostogether.newsletter import announcements
from ostogether.newsletter import issues as newsletter
from ostogether.readers import subscribers
from ostogether.social import posts as social
from tests.browser import Live, log_in
from tests.conftest import (
    csrf_from,
    login,
    new_client,
    outbox,
)
from tests.factories import (
    TEST,
    add_item,
    add_organisation,
    add_output,
    add_readers,
    approved_issue,
    make_user,
    mark_sent,
)
from tests.permissions import ROLES, TABLE, fill


@pytest.fixture
def world(app: Any, rt: Runtime, web: Any) -> dict[str, Any]:
    """One of everything, and a logged-in client per role."""
    make_user(rt, "editor@ecsite.eu", "editor")
    make_user(rt, "news@cosmosproject.eu", "member", project="cosmos")
    make_user(rt, "team@leversforclimate.eu", "member", project="levers")
    issue = approved_issue(rt, [web.url("/page/1")])
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    item = add_item(rt, "cosmos", "news", link="https://cosmosproject.eu/x", approve=False)
    [reader] = add_readers(rt, 1)
    links = subscribers.link_maker(rt)
    with rt.db.session() as s:
        from ostogether.models import Subscriber

        sub = s.get(Subscriber, reader)
        assert sub is not None
        personal = links(sub.id, sub.link_nonce)
    social.plan_week(rt, TEST)
    with rt.db.session() as s:
        post_id = s.scalars(select(SocialPost.id)).first()
    clients = {"visitor": new_client(app)}
    make_user(rt, "admin@ecsite.eu", "admin")
    for role, email in (("other", "team@leversforclimate.eu"),
                        ("member", "news@cosmosproject.eu"), ("editor", "editor@ecsite.eu"),
                        ("admin", "admin@ecsite.eu")):
        clients[role] = new_client(app)
        assert login(clients[role], email).status_code == 302
    from ostogether.models import Project
    from tests.factories import project_id

    with rt.db.session() as s:  # one application waiting for a decision
        applicant = s.get(Project, project_id(rt, "sense"))
        assert applicant is not None
        applicant.status, applicant.source = "applicant", "application"
    upload = imports.upload(rt, TEST, "members", "contacts.csv", io.BytesIO(
        b"Organization,Email,First name\nCOSMOS,new@cosmosproject.eu,Ana\n"),
        imports.Options())
    imports.pick_up(rt)  # the worker's dry run: the page shows its report
    add_output(rt, "cosmos", title="Air quality toolkit", subjects=["environment"],
                        age_ranges=["lower-secondary"], licence="CC-BY-4.0", sdgs=[3, 11])
    add_output(rt, "cosmos", title="A lesson waiting for review", type="lesson-plan",
               approve=False)
    add_organisation(rt, project="cosmos", person="news@cosmosproject.eu")
    sent = announcements.create(rt, TEST, subject="Fair", preheader="Online",
                                intro_md="Come.", segment={})  # A1, in the archive
    mark_sent(rt, sent.id, dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    announcements.create(rt, TEST, subject="Webinar", preheader="Thursday, online",
                         intro_md="Register.", segment={"topics": ["steam"],
                                                        "countries": ["BE"]})  # A2
    return {"issue": issue, "item": item, "reader": reader, "links": personal,
            "project": project_id(rt, "sense"), "upload": upload,
            "output": "air-quality-toolkit",
            "post": post_id, "clients": clients}


def test_every_get_route_answers_each_role_as_the_table_says(app: Any,
                                                             world: dict[str, Any]) -> None:
    tested = set()
    wrong = []
    for path, expected in TABLE:
        url = fill(path, world)
        for role, want in zip(ROLES, expected, strict=True):
            got = world["clients"][role].get(url).status_code
            if got != want:
                wrong.append(f"{url} as {role}: {got}, expected {want}")
        adapter = app.url_map.bind("localhost")
        tested.add(adapter.match(url.split("?")[0], method="GET")[0])
    assert wrong == []
    # Every GET page of the app is in the table (static files and token pages aside).
    pages = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    untested = pages - tested - {"static", "subscribe.confirm", "subscribe.data",
                                 "auth.choose_password", "public.join_done",
                                 "api.get_item", "reports.visibility_csv",
                                 "public.click"}
    assert untested == set()


def test_an_admin_gets_every_page_an_editor_gets(app: Any, world: dict[str, Any]) -> None:
    """An admin can do everything an editor can, on every route: the table's editor
    column is the admin's too (no role check may name "editor" alone)."""
    wrong = []
    for path, expected in TABLE:
        url = fill(path, world)
        got = world["clients"]["admin"].get(url).status_code
        if got != expected[ROLES.index("editor")]:
            wrong.append(f"{url}: {got}, an editor gets {expected[ROLES.index('editor')]}")
    assert wrong == []


def test_no_check_names_the_editor_role_alone() -> None:
    """Editors' rights go through ``User.is_editor`` (editor or admin), in code and in
    templates; a check of ``role == "editor"`` would leave admins out."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ostogether"
    alone = re.compile(r"""role\s*[!=]=\s*["']editor["']|["']editor["']\s*[!=]=\s*\w*role""")
    found = [f"{p.relative_to(root)}:{n}" for p in sorted(root.rglob("*"))
             if p.suffix in (".py", ".html", ".j2") and "migrations" not in p.parts
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if alone.search(line)]
    assert found == []


def test_an_admin_may_post_every_form_an_editor_may(app: Any, world: dict[str, Any]) -> None:
    admin = world["clients"]["admin"]
    token = csrf_from(admin.get("/editors/").get_data(as_text=True))
    refused = []
    for path in EDITOR_POSTS:
        if path == "/logout":
            continue
        r = admin.post(fill(path, world), data={"csrf_token": token})
        if r.status_code in (401, 403) or r.headers.get("Location", "").startswith("/login"):
            refused.append(f"{path}: {r.status_code}")
    assert refused == []


EDITOR_POSTS = ["/editors/issues/compose", "/editors/issues/{issue}",
                "/editors/issues/{issue}/arrange", "/editors/issues/{issue}/cancel",
                "/editors/issues/{issue}/preflight", "/editors/issues/{issue}/send",
                "/editors/issues/{issue}/send/control", "/editors/issues/{issue}/test",
                "/editors/issues/{issue}/schedule", "/editors/issues/{issue}/texts",
                "/editors/issues/{issue}/same", "/editors/issues/{issue}/everyone",
                "/editors/announcements/new", "/editors/issues/{issue}/segment",
                "/editors/items/{item}", "/editors/items/{item}/flags",
                "/editors/items/{item}/translations",
                "/editors/items/{item}/translations/remove", "/editors/members",
                "/editors/feeds/cosmos", "/editors/social/plan", "/editors/social/{post}",
                "/editors/social/{post}/approve", "/editors/social/approve-week",
                "/editors/subscribers/{reader}/erase", "/editors/schedule/poll_feeds/run",
                "/editors/tokens/1/revoke", "/editors/applications/1",
                "/editors/handles/cosmos", "/editors/social/{post}/card",
                "/editors/social/{post}/move", "/editors/social/{post}/publish",
                "/editors/items/decide", "/editors/sending-domain",
                "/editors/projects/cosmos", "/editors/accounts/1/remove",
                "/editors/imports/readers",
                "/editors/imports/{upload}/check", "/editors/imports/{upload}/apply",
                "/editors/imports/{upload}/discard", "/editors/library/1/approve",
                "/editors/library/1/reject", "/editors/library/1/withdraw",
                "/editors/library/1/archive", "/editors/organisations/merge",
                "/editors/organisations/nemo-science-museum",
                "/editors/organisations/nemo-science-museum/decide",
                "/editors/organisations/nemo-science-museum/logo",
                "/editors/people/1/decide", "/editors/people/1/erase", "/logout"]


def test_every_form_post_without_a_csrf_token_is_refused(app: Any, rt: Runtime,
                                                          world: dict[str, Any]) -> None:
    editor = world["clients"]["editor"]
    member = world["clients"]["member"]
    urls = {
        editor: EDITOR_POSTS,
        member: ["/members/items/new", "/members/items/{item}/withdraw", "/members/tokens",
                 "/members/tokens/1/revoke", "/members/handles", "/members/library/new",
                 "/members/library/1/withdraw", "/members/library/1/archive",
                 "/account/record", "/account/record/erase"],
        world["clients"]["visitor"]: ["/join", "/join/organisation", "/join/person",
                                      "/subscribe", "/subscribe/from/cosmos/confirm",
                                      "/newsletter/manage",
                                      "/login", "/account/reset",
                                      "/p/{preferences}", "/p/{preferences}/erase"],
    }
    with rt.db.session() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    for client, paths in urls.items():
        for path in paths:
            r = client.post(fill(path, world), data={"action": "approve", "name": "x",
                                                     "email": "a@example.org"})
            assert r.status_code == 400, f"{path}: {r.status_code}"
            assert "CSRF" in r.get_data(as_text=True) or "form" in r.get_data(as_text=True)
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
    # One-click unsubscribe is the one exception (RFC 8058): mail clients POST it bare.
    r = world["clients"]["visitor"].post(fill("/u/{unsubscribe}", world))
    assert r.status_code == 200
    # Sign-ups from the cached home page and from members' sites carry no session's token
    # by design (test_home, test_embed_form); a bare post gets the sign-up page with its
    # own token, or "out of date" without the member form's signed token, and no mail.
    mails = len(outbox(rt.settings))
    r = world["clients"]["visitor"].post("/subscribe/quick", data={"email": "a@example.org"})
    assert r.status_code == 200 and "csrf_token" in r.get_data(as_text=True)
    r = world["clients"]["visitor"].post("/subscribe/from/cosmos",
                                         data={"email": "a@example.org", "consent": "y"})
    assert r.status_code == 400 and "out of date" in r.get_data(as_text=True)
    assert len(outbox(rt.settings)) == mails


PAYLOAD = ('<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'
           '"><svg onload="window.__xss=1"></svg>')
# What gets past a "no HTML tags" rule: attribute break-outs, javascript: links, and
# template syntax.
SNEAKY = 'x" autofocus onfocus="window.__xss=1" y=\' onmouseover=window.__xss=1 {{ 97*1009 }}'
JS_LINK = "[click](javascript:window.__xss=1)"


def test_an_xss_payload_stays_inert_everywhere_it_is_shown(live: Live, browser: Any,
                                                           chromium: Any, web: Any) -> None:
    rt = live.rt
    make_user(rt, "editor@ecsite.eu", "editor")
    make_user(rt, "news@cosmosproject.eu", "member", project="cosmos")
    dialogs: list[str] = []
    # Through the forms, as people would type it.
    page = browser.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(live.url + "/subscribe")
    page.fill("#email", "reader@example.org")
    page.fill("#name", PAYLOAD[:190])
    page.check("#consent")
    page.click("main form button[type=submit]")
    log_in(page, live.url, "news@cosmosproject.eu")
    page.goto(live.url + "/members/items/new")
    page.select_option("#kind", "event")
    page.fill("#title", PAYLOAD[:190])  # tags are refused in plain-text fields
    page.fill("#summary", PAYLOAD)
    page.fill("#link", web.url("/page/3"))
    page.fill("#event_start", "2027-03-10T10:00")
    page.select_option("#event_timezone", "Europe/Brussels")
    page.fill("#event_location", SNEAKY[:190])
    page.click("main form button[type=submit]")
    text = page.inner_text("main")
    assert "The title is plain text; remove the HTML tag '<script>'" in text
    assert page.input_value("#title") == PAYLOAD[:190]  # kept for correcting
    page.fill("#title", SNEAKY[:190])
    page.fill("#summary", SNEAKY + " " + JS_LINK)
    page.click("main form button[type=submit]")
    assert "javascript: addresses are not allowed" in page.inner_text("main")
    page.fill("#summary", SNEAKY)
    page.click("main form button[type=submit]")
    with rt.db.session() as s:
        item_id = s.scalars(select(NewsItem.id)).first()
    assert item_id is not None, page.inner_text("main")[:2000]
    # And into the issue, the social post and the reject reason, through the services.
    from ostogether.news import items as news

    news.approve(rt, TEST, item_id)
    issue = newsletter.compose_next(rt, TEST)
    newsletter.update_details(rt, TEST, issue.id, subject=SNEAKY[:150],
                              preheader=SNEAKY[:150], intro_md=PAYLOAD + SNEAKY)
    social.plan_week(rt, TEST)
    with rt.db.session() as s:
        post_id = s.scalars(select(SocialPost.id)).first()
        from ostogether.models import Subscriber

        sub_id = s.scalars(select(Subscriber.id)).one()
    assert post_id is not None
    social.edit(rt, TEST, post_id, text="Hello " + PAYLOAD[:200])
    editor_context = chromium.new_context()  # cookies of its own
    editor = editor_context.new_page()
    editor.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(editor, live.url, "editor@ecsite.eu")
    shown = ["/editors/", "/editors/items", f"/editors/items/{item_id}",
             f"/editors/issues/{issue.number}", f"/editors/issues/{issue.number}/preview",
             f"/editors/issues/{issue.number}/preview.html", "/editors/subscribers/",
             f"/editors/subscribers/{sub_id}", "/editors/social/", f"/editors/social/{post_id}",
             "/reports/visibility?project=cosmos"]
    for path in shown:
        editor.goto(live.url + path)
        for link in editor.locator("a").all():
            editor.evaluate("a => a.dispatchEvent(new MouseEvent('mouseover'))",
                            link.element_handle())
        assert editor.evaluate("window.__xss") is None, path
        body = editor.inner_text("body")
        assert "97873" not in body, path  # 97*1009: a template was never evaluated
    page.goto(f"{live.url}/members/items/{item_id}")
    assert page.evaluate("window.__xss") is None
    assert "{{ 97*1009 }}" in page.inner_text("main")  # shown as typed, never evaluated
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    with rt.db.session() as s:
        number = s.get(Issue, issue.id).number  # type: ignore[union-attr]
    for path in ("/archive", f"/archive/{number}", "/"):
        page.goto(live.url + path)
        assert page.evaluate("window.__xss") is None, path
        for link in page.locator("a").all():
            assert not (link.get_attribute("href") or "").lower().startswith("javascript:")
    assert dialogs == []
    editor_context.close()
