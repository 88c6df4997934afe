"""Every page on a phone, in Debian's Chromium: each page of the permission table
(tests/permissions.py, so a new route is covered as soon as it is authorised there),
opened at 390 px wide by the role that may see it, over a database with real content
(long words, long links, long addresses). The document is never wider than the phone,
every box that scrolls sideways is a labelled region a keyboard can reach, and axe-core
finds nothing at that width, nor at a desktop's. The menu works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from ostogether import imports
from ostogether.accounts import tokens, users
from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Feed, Project, SocialPost, Subscriber, User
from ostogether.newsletter import announcements
from ostogether.newsletter import issues as newsletter
from ostogether.readers import subscribers
from ostogether.registry import handles
from ostogether.social import posts as social
from tests.browser import DESKTOP, OUTPUT, PHONE, Live, axe_all, log_in
from tests.factories import (
    TEST,
    add_item,
    add_organisation,
    add_output,
    add_readers,
    approved_issue,
    make_user,
    mark_sent,
    project_id,
)
from tests.permissions import ROLES, TABLE, fill

EMAILS = {"editor": "communication.officer.for.open.schooling@ecsite.example.eu",
          "member": "news-and-press-office@cosmosproject.example.eu",
          "other": "team@leversforclimate.eu"}
# What real content brings: a compound word, a tracked link, a pasted token.
WORD = "Wissenschaftskommunikationsveranstaltungsreihenplanungsunterlagen"
LINK = ("https://cosmosproject.eu/news/2026/11/pupils-map-the-air-around-their-school-"
        "with-low-cost-sensors-and-share-a-common-map?utm_source=ostogether&utm_medium="
        "newsletter&utm_campaign=issue-12-" + "x" * 60)
TOKEN = "ost_" + "Q2hlY2tUaGlzVG9rZW5Jc0xvbmdFbm91Z2hUb0JyZWFr" * 2


def build_world(rt: Runtime, web: Any) -> dict[str, Any]:
    """The content test_security's table needs, and more: what a month leaves behind."""
    make_user(rt, EMAILS["editor"], "editor")
    make_user(rt, EMAILS["member"], "member", project="cosmos")
    make_user(rt, EMAILS["other"], "member", project="levers")
    issue = approved_issue(rt, [web.url(f"/page/{n}") for n in range(4)])
    mark_sent(rt, issue.id, dt.datetime(2026, 11, 15, 9, tzinfo=dt.UTC))
    item = add_item(rt, "cosmos", "event", link=LINK, approve=False,
                    title=f"{WORD}: pupils map the air around their school",
                    summary=f"Read {LINK} or paste {TOKEN}. **{WORD}** for teachers.",
                    event_location=f"{WORD}, Brussels", registration_url=LINK)
    add_item(rt, "levers", "news", link=LINK + "-2", approve=True, title=WORD * 2)
    readers = add_readers(rt, 25)
    readers += add_readers(rt, 2, domain="gymnasium-am-stadtpark-naturwissenschaften"
                                         "-und-technik.example.org")
    with rt.db.session() as s:
        for sub in s.scalars(select(Subscriber).where(Subscriber.id.in_(readers[-2:]))):
            sub.name = WORD
        sub = s.get(Subscriber, readers[-1])
        assert sub is not None
        links = subscribers.link_maker(rt)(sub.id, sub.link_nonce)
        pending = Subscriber(email="pending@readers.test", status="pending",
                             email_hash=subscribers.email_hash("pending@readers.test"),
                             name="Pending", link_nonce="0123456789abcdef")
        s.add(pending)
        s.flush()
        confirm = subscribers.confirm_url(rt, pending)
    social.plan_week(rt, TEST)
    with rt.db.session() as s:
        post = s.scalars(select(SocialPost.id).order_by(SocialPost.id)).first()
        applicant = s.get(Project, project_id(rt, "sense"))
        assert applicant is not None
        applicant.status, applicant.source = "applicant", "application"
        user = s.scalars(select(User).where(User.email == EMAILS["member"])).one()
        password = users.password_link(rt, user)
    tokens.create(rt, TEST, project_id(rt, "cosmos"), name=f"{WORD} website")
    handles.propose(rt, TEST, project_id(rt, "cosmos"),
                    {"x": "cosmos_eu", "bluesky": "cosmos-open-schooling.bsky.social"})
    with rt.db.session() as s:  # a feed that keeps failing, with a long address
        s.add(Feed(project_id=project_id(rt, "cosmos"), url=LINK, failures=5,
                   last_error=f"{LINK} answered 404 Not Found ({TOKEN})",
                   paused_at=clock.now(), last_polled_at=clock.now(), last_outcome="failed"))
    # The next issue, in the works: the page where items are moved, dropped and reordered.
    add_item(rt, "most", "event", link=web.url("/page/5"), title=f"{WORD} meet-up",
             event_location=WORD)
    draft = newsletter.compose_next(rt, TEST)
    # An announcement sent (A1, in the archive), and one to a segment in the works (A2):
    # every checkbox group, and the count.
    sent = announcements.create(rt, TEST, subject="The fair", preheader="For everyone",
                                intro_md=f"{WORD} for everyone.", segment={})
    mark_sent(rt, sent.id)
    announcements.create(rt, TEST, subject="Webinar for teachers", preheader="Online on Thursday",
                         intro_md=f"{WORD} for teachers.",
                         segment={"topics": ["steam", "sdg-4"], "audiences": ["teachers"],
                                  "languages": ["de"], "countries": ["DE", "BE"]})
    # Wild Apricot's contacts, checked and waiting: long names, a long organisation.
    upload = imports.upload(rt, TEST, "members", f"{WORD}-contacts-export.csv", io.BytesIO((
        "Organization,Email,First name,Membership status\n"
        f"COSMOS,{EMAILS['member'].replace('@', '2@')},{WORD},Active\n"
        f"{WORD} consortium,someone@{WORD.lower()}.example.org,{WORD},Active\n"
        "COSMOS and LEVERS partners,both@example.org,Tom,Active\n").encode()),
        imports.Options())
    imports.pick_up(rt)  # the worker's dry run: the page shows its report
    # The library: a public output with every list filled, and one waiting for review.
    output = add_output(rt, "cosmos", title=f"{WORD}: air quality toolkit",
                        description=f"{WORD} for teachers. " * 5, url=LINK,
                        subjects=["environment", "health"], keywords=[WORD, "air"],
                        age_ranges=["lower-secondary", "upper-secondary"],
                        organisations=[f"{WORD} e.V."], licence="CC-BY-NC-SA-4.0",
                        sdgs=[3, 11, 13], languages=["de", "en"], doi="10.5281/zenodo.1")
    add_output(rt, "cosmos", title=f"{WORD}: a lesson waiting", type="lesson-plan",
               url=LINK, approve=False)
    with rt.db.session() as s:
        slug = outputs.get(s, output).slug
    organisation = add_organisation(rt, f"{WORD} Museum", project="cosmos", person=EMAILS["member"],
                     city=WORD, website=LINK, description=f"{WORD} for schools.")
    return {"issue": issue, "item": item, "reader": readers[-1], "links": links,
            "project": project_id(rt, "sense"), "post": post, "upload": upload,
            "output": slug, "organisation": organisation,
            # Pages outside the table: a draft issue, and the pages a mail's link opens.
            "extra": [(f"/editors/issues/{draft.number}", "editor"),
                      (f"/editors/issues/{draft.number}/preview", "editor"),
                      (path_of(confirm), "visitor"), (path_of(password), "visitor")]}


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def pages(world: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, role): every route of the permission table, seen by the first of visitor,
    member and editor that may open it (a visitor when nobody may: the error page)."""
    found = []
    for path, expected in TABLE:
        codes = dict(zip(ROLES, expected, strict=True))
        role = next((r for r in ("visitor", "member", "editor") if codes[r] == 200),
                    "visitor")
        found.append((fill(path, world), role))
    return found + world["extra"]


# Every element that scrolls sideways inside the page, and whether a keyboard can reach
# it and a screen reader can name it.
SCROLLERS = """() => [...document.querySelectorAll('body *')].filter(e => {
    const s = getComputedStyle(e);
    return ['auto', 'scroll'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1
        && e.tagName !== 'IFRAME';
}).map(e => ({tag: e.tagName, cls: e.className, role: e.getAttribute('role'),
              label: e.getAttribute('aria-label') || e.getAttribute('aria-labelledby'),
              tabindex: e.getAttribute('tabindex'),
              hint: !!(e.previousElementSibling && e.previousElementSibling.matches(
                  '.scroll-hint') && e.previousElementSibling.checkVisibility())}))"""

# What sticks out past the right edge of the phone: the culprits of a wide page.
CULPRITS = """(width) => [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.right > width + 1 && r.width > 0 && !e.closest('.scroll-box');
}).slice(-4).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect()
    .right) + 'px: ' + (e.textContent || '').trim().slice(0, 40))"""


def walk(live: Live, chromium: Any, web: Any, viewport: dict[str, int]) -> list[str]:
    """Open every page at ``viewport``; what is wrong with them, one line each."""
    world = build_world(live.rt, web)
    contexts: dict[str, Any] = {}
    problems: list[str] = []
    try:
        for role in ("visitor", "member", "editor"):
            # axe is injected as a script, which the pages' CSP would block: bypass it here.
            contexts[role] = chromium.new_context(viewport=viewport, bypass_csp=True)
            contexts[role].set_default_timeout(15000)
            page = contexts[role].new_page()
            if role != "visitor":
                log_in(page, live.url, EMAILS[role])
        opened = scrollers = 0
        for path, role in pages(world):
            url = live.url + path
            context = contexts[role]
            head = context.request.get(url, max_redirects=0)
            if not head.headers.get("content-type", "").startswith("text/html"):
                continue  # a feed, a file or JSON: nothing to lay out
            page = context.pages[0]
            response = page.goto(url)
            assert response is not None
            opened += 1
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{path} as {role}: {width} px wide; "
                                f"{page.evaluate(CULPRITS, viewport['width'])}")
                OUTPUT.mkdir(parents=True, exist_ok=True)
                name = "".join(c if c.isalnum() else "-" for c in path.strip("/"))[:60]
                page.screenshot(path=str(OUTPUT / f"wide-{name}.png"), full_page=True)
            for box in page.evaluate(SCROLLERS):
                scrollers += 1
                if box["tabindex"] != "0" or box["role"] != "region" or not box["label"]:
                    problems.append(f"{path} as {role}: a box scrolls sideways that a "
                                    f"keyboard cannot reach or has no name: {box}")
                if not box["hint"]:
                    problems.append(f"{path} as {role}: no visible hint says that "
                                    f"{box['label']} scrolls sideways")
            if path.endswith("/preview.html"):
                continue  # the mail itself, as sent: the newsletter's own template
            problems += [f"{path} as {role}: {v}" for v in axe_all(page)]
        assert opened >= 40, opened  # the table really was walked
        # On a phone the dashboard's tables of figures do scroll in their boxes, so the
        # checks of the boxes above had something to check.
        assert scrollers >= 3 or viewport["width"] > 390, scrollers
    finally:
        for context in contexts.values():
            context.close()
    return problems


def test_no_page_scrolls_sideways_on_a_phone_and_axe_passes_at_its_width(
        live: Live, chromium: Any, web: Any) -> None:
    problems = walk(live, chromium, web, PHONE)
    assert not problems, "\n".join(problems)


def test_every_page_passes_axe_at_a_desktops_width(live: Live, chromium: Any,
                                                  web: Any) -> None:
    problems = walk(live, chromium, web, DESKTOP)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["visitor", "editor"])
def test_the_menu_folds_on_a_phone_and_opens_without_javascript(
        live: Live, chromium: Any, role: str) -> None:
    if role == "editor":
        make_user(live.rt, EMAILS["editor"], "editor")
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        if role == "editor":
            log_in(page, live.url, EMAILS["editor"])
        page.goto(live.url + "/registry")
        nav = page.locator("header nav")
        toggle = nav.locator("summary")
        registry = nav.get_by_role("link", name="Registry")
        assert toggle.is_visible() and toggle.inner_text().strip() == "Menu"
        assert not registry.is_visible()  # folded: the header is one line
        assert page.locator("header").bounding_box()["height"] < 100  # type: ignore[index]
        toggle.focus()
        page.keyboard.press("Enter")  # a keyboard opens it, with no script on the page
        assert registry.is_visible()
        assert nav.locator("details").get_attribute("open") is not None
        if role == "editor":
            assert nav.get_by_role("link", name="Subscribers").is_visible()
            assert nav.get_by_role("button", name="Log out").is_visible()
        registry.click()
        assert page.url.endswith("/registry")
        # At a desktop's width the links are all in view, and there is nothing to open.
        page.set_viewport_size(DESKTOP)
        toggle.wait_for(state="hidden")  # the new width's layout, once the page has it
        assert nav.get_by_role("link", name="Registry").is_visible()
        page.keyboard.press("Tab")  # the skip link, then the brand, then the first link
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Registry"
    finally:
        context.close()
