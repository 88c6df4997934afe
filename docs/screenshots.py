"""Takes the screenshots in docs/ from the real pages: `make screenshots`.

Starts the app on loopback over a throwaway SQLite database with sample items (their
links answer from a local HTTP server, so the pre-flight can pass), then walks one issue
from compose to the public archive in headless Chromium (Debian's, never a downloaded
one) and saves each page under docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import socket
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from waitress import create_server  # noqa: E402

from ostogether import jobs  # noqa: E402
from ostogether.core import clock  # noqa: E402
from ostogether.core.settings import load_settings  # noqa: E402
from ostogether.edges import db as dbmod  # noqa: E402
from ostogether.edges.audit import Actor  # noqa: E402
from ostogether.edges.runtime import Runtime  # noqa: E402
from ostogether.library import outputs as library  # noqa: E402
from ostogether.models import Issue, SocialPost, Subscriber  # noqa: E402
from ostogether.readers import subscribers  # noqa: E402
from ostogether.registry import handles, projects  # noqa: E402
from ostogether.social import posts as social  # noqa: E402
from ostogether.web import create_app  # noqa: E402
from tests.factories import (  # noqa: E402
    add_item,
    add_organisation,
    add_readers,
    make_user,
    project_id,
)
from tests.feedserver import FeedServer, Route  # noqa: E402


def poster(width: int, height: int, label: str) -> bytes:
    """A picture a member's page would carry: a sky, a field and a caption."""
    img = Image.new("RGB", (width, height), (142, 197, 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, height * 2 // 3, width, height), fill=(96, 160, 84))
    draw.ellipse((width - 260, 60, width - 120, 200), fill=(250, 214, 90))
    draw.text((40, height - 80), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()

# Sample organisations for the directory and its map (names made up for the pictures).
ORGANISATIONS = [
    ("Sample Science Centre Amsterdam", "science-centre", "NL", "Amsterdam", "cosmos",
     "partner"),
    ("Sample Museum of Natural History", "museum", "ES", "Madrid", "connect", "coordinator"),
    ("Sample Lyceum Athens", "school", "GR", "Athens", "otter", "partner"),
    ("Sample University of Ljubljana", "university", "SI", "Ljubljana", "levers",
     "associated"),
    ("Sample Community Makerspace", "community-group", "IT", "Bologna", "cosmos",
     "partner"),
]
OUT = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SAMPLES = [
    ("cosmos", "news", "Sample: pupils map air quality around their school",
     "Classes in three countries built low-cost sensors and shared a **common map** of "
     "their measurements with the town council."),
    ("levers", "event", "Sample: open schooling meet-up for teachers",
     "An afternoon of short talks and hands-on tables, with time to meet the science "
     "centres that host school projects."),
    ("road-steamer", "tool", "Sample: a STEAM lesson-plan checklist",
     "Ten questions to check whether a lesson links science, arts and the community "
     "outside the school."),
    ("phereclos", "reading", "Sample: what makes school-museum partnerships last",
     "A short review of evaluation reports, with **five conditions** that kept "
     "partnerships going after the funding ended."),
    ("most", "opportunity", "Sample: call for schools to join a pilot",
     "Secondary schools can apply until the end of the month to run a community science "
     "project with local partners."),
]


def audience_export() -> bytes:
    """A small Mailchimp audience export, as it is downloaded: a zip of CSVs."""
    head = ('"Email Address","First Name","Last Name","OPTIN_TIME","CONFIRM_TIME",'
            '"CONFIRM_IP","LAST_CHANGED"')
    subscribed = [head] + [
        f'"teacher{n}@school{n}.example","Teacher","{n}","2021-03-01 09:00:00",'
        f'"2021-03-01 09:05:00","192.0.2.{n}","2023-06-01 12:00:00"' for n in range(1, 41)] + [
        '"not an address","","","","","","2020-05-05 10:00:00"',
        '"added-by-hand@example.org","","","","","","2020-05-05 10:00:00"']
    left = [head + ',"UNSUB_TIME","UNSUB_REASON"',
            '"left@example.fr","","","2021-02-01 10:00:00","2021-02-01 10:01:00","",'
            '"2024-02-03 18:30:00","2024-02-03 18:30:00","Too many mails"']
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_email_audience_export_7f3e2a.csv", "\r\n".join(subscribed))
        zf.writestr("unsubscribed_email_audience_export_7f3e2a.csv", "\r\n".join(left))
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shot(page: Page, name: str, full: bool = True) -> None:
    page.screenshot(path=str(OUT / name), full_page=full)
    print(f"docs/screenshots/{name}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ostogether-shots-"))
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, tmp / folder)
    port = free_port()
    settings = load_settings(environ={
        "OSTOGETHER_HOME": str(tmp), "OSTOGETHER_SECRET_KEY": "s" * 40,
        "OSTOGETHER_BASE_URL": f"http://127.0.0.1:{port}", "OSTOGETHER_LOG_LEVEL": "ERROR",
        # The loopback story server passes the outbound guard, as in the tests.
        "OSTOGETHER_FETCH_ALLOW": "127.0.0.1"})
    rt = Runtime(settings)
    dbmod.upgrade(rt.db)
    projects.import_content(rt)
    library.seed(rt)  # the outputs the community's pages name, as `ostogether init` does
    for name, kind, country, city, slug, role in ORGANISATIONS:
        add_organisation(rt, name, type=kind, country=country, city=city, project=slug,
                         role=role)
    make_user(rt, "editor@example.org", "editor")
    links = FeedServer().start()
    for n in range(len(SAMPLES)):
        # Every other story page has a preview image (og:image); the others have none,
        # which the calendar flags.
        tags = (f'<meta property="og:image" content="/card/{n}.jpg">'
                f'<meta property="og:image:alt" content="{SAMPLES[n][2]}">' if n % 2 else "")
        links.routes[f"/story/{n}"] = Route(
            f'<title>story</title><meta property="og:title" content="{SAMPLES[n][2]}">'
            f'<meta property="og:description" content="{SAMPLES[n][3].replace("**", "")}">'
            f'{tags}'.encode(),
            content_type="text/html")
        links.routes[f"/card/{n}.jpg"] = Route(poster(1200, 630, SAMPLES[n][2]),
                                               content_type="image/jpeg")
    links.routes["/photo.jpg"] = Route(poster(1600, 1000, "Pupils outdoors"),
                                       content_type="image/jpeg")
    # One story still waiting for review, for the queue on a phone.
    links.routes["/story/garden"] = links.routes["/story/0"]
    add_item(rt, "otter", "news", link=links.url("/story/garden"), approve=False,
             title="Sample: a school garden becomes a science lab",
             summary="Pupils measure soil, water and weather, and publish their data.")
    for n, (slug, kind, title, summary) in enumerate(SAMPLES):
        extra = {}
        if kind == "event":
            start = clock.now().replace(hour=13, minute=0, second=0, microsecond=0)
            extra = {"event_start": start + dt.timedelta(days=70),
                     "event_end": start + dt.timedelta(days=70, hours=3),
                     "event_timezone": "Europe/Brussels", "event_location": "Brussels"}
        if n == 2:  # a tool, which next week's slots take
            extra = {"image_url": links.url("/photo.jpg"),
                     "image_alt": "A teacher and pupils building a model outdoors"}
        add_item(rt, slug, kind, link=links.url(f"/story/{n}"), title=title,
                 summary=summary, **extra)

    app = create_app(settings)
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/login")
            page.fill("#email", "editor@example.org")
            page.fill("#password", "correct horse battery")
            page.click("button[type=submit]")
            page.goto(base + "/editors/issues/")
            page.click("text=Compose the next issue")
            page.fill("#intro_md", "Dear reader,\n\nThis issue brings you:\n\n"
                                   "1. pupils who map the air around their school;\n"
                                   "2. a meet-up for teachers in Brussels;\n"
                                   "3. a checklist for STEAM lessons.")
            page.click("#details button[type=submit]")
            shot(page, "issue-edit.png")
            page.click("text=Preview")
            page.wait_for_load_state("networkidle")
            shot(page, "issue-preview.png", full=False)
            page.goto(page.url.replace("/preview", "/preflight"))
            shot(page, "issue-preflight.png")
            page.click("text=Approve issue")
            shot(page, "issue-approved.png", full=False)
            with rt.db.session() as s:
                issue = s.query(Issue).one()
                issue.status, issue.sent_at = "sent", clock.now()
                number = issue.number
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{base}/archive/{number}")
            shot(phone, "archive-issue-phone.png", full=False)
            # The home page as a teacher finds it on a phone: the sign-up at the top, then
            # the latest issue, the news and the events to come.
            phone.goto(base + "/")
            shot(phone, "home-phone.png")
            week = social.week_label(*social.next_week(rt))
            page.goto(f"{base}/editors/social/?week={week}")
            page.click("text=/^Plan week/")
            page.click("text=/^Approve the .* planned post/")  # keeps pictures, reads cards
            shot(page, "social-week.png")
            page.click("ul.posts a:has-text('LinkedIn') >> nth=0")
            shot(page, "social-post.png")
            with rt.db.session() as s:
                with_picture = s.query(SocialPost).filter(
                    SocialPost.image_url != "").order_by(SocialPost.network).first()
            if with_picture is not None:
                page.goto(f"{base}/editors/social/{with_picture.id}")
                shot(page, "social-post-picture.png")
            # A reader clicks an item's link and reads the issue on the site.
            # (A headless browser says so in its user agent, and is not counted: this one
            # poses as a reader's.)
            reader = browser.new_page(user_agent="Mozilla/5.0 (X11; Linux x86_64) "
                                                 "AppleWebKit/537.36 (KHTML, like Gecko) "
                                                 "Chrome/131.0 Safari/537.36")
            reader.goto(f"{base}/archive/{number}")
            tracked = reader.locator("a[href*='/r/']:visible")
            if tracked.count():
                tracked.first.click()
            reader.close()
            page.goto(base + "/editors/")
            shot(page, "dashboard.png")
            # The editors' pages on a phone: the queue as cards, and the folded menu open.
            phone.goto(base + "/login")
            phone.fill("#email", "editor@example.org")
            phone.fill("#password", "correct horse battery")
            phone.click("main button[type=submit]")
            phone.goto(base + "/editors/items")
            shot(phone, "review-phone.png", full=False)
            phone.click("header summary")
            shot(phone, "menu-phone.png", full=False)
            page.goto(f"{base}/reports/visibility?project=cosmos&period=last-12-months")
            shot(page, "visibility-report.png")
            page.goto(f"{base}/registry/cosmos/subscribe-form")
            shot(page, "subscribe-form-snippet.png")
            handles.propose(rt, Actor("member:ana@cosmos.example"), project_id(rt, "cosmos"),
                            {"x": "cosmos_eu", "bluesky": "cosmos.bsky.social",
                             "linkedin": "4242"})
            page.goto(f"{base}/editors/handles")
            shot(page, "handles-to-confirm.png")
            # A project's page after a save the checks refused: each sentence beside its
            # field, and everything typed kept.
            page.goto(f"{base}/editors/projects/cosmos")
            page.fill("#handles_x", "https://x.com/cosmos_eu")
            page.fill("#handles_linkedin", "https://www.linkedin.com/company/cosmos-eu/")
            page.fill("#grant_number", "GA-1")
            page.click("main form button[type=submit]")
            shot(page, "project-edit.png", full=False)
            # Mailchimp's export on the imports page: the cards, then the dry run.
            page.goto(f"{base}/editors/imports/")
            shot(page, "imports.png", full=False)
            page.set_input_files("#readers-file", files=[{
                "name": "audience_export_7f3e2a.zip", "mimeType": "application/zip",
                "buffer": audience_export()}])
            page.click("#readers button[type=submit]")
            jobs.pick_up(rt)  # the worker's dry run (the page refreshes itself to it)
            page.goto(page.url.split("?")[0])
            shot(page, "import-report.png")
            # A Dutch teacher's phone (a browser that asks for Dutch): the home page and
            # the sign-up, in Dutch with nothing chosen.
            dutch = browser.new_page(viewport={"width": 390, "height": 844}, locale="nl-NL")
            dutch.goto(base + "/")
            shot(dutch, "home-phone-nl.png", full=False)
            dutch.goto(base + "/subscribe")
            shot(dutch, "subscribe-phone-nl.png")
            # The results library and the organisations' directory with its map.
            page.goto(base + "/library")
            shot(page, "library.png", full=False)
            page.goto(base + "/organisations")
            shot(page, "organisations.png")
            # A reader's choices (issue 36): the preferences page from a mail's link, on
            # a phone, with two topics and a project followed; an announcement's segment.
            [sid] = add_readers(rt, 1, domain="teacher.example")
            with rt.db.session() as s:
                reader = s.get(Subscriber, sid)
                assert reader is not None
                reader.topics, reader.projects = ["citizen-science", "steam"], ["cosmos"]
                url = subscribers.personal_links(rt, reader)["preferences_url"]
            phone.goto(url.replace(rt.settings.public_url, base))
            shot(phone, "preferences-phone.png")
            page.goto(base + "/editors/announcements/new")
            page.check("input[name=topics][value=steam]")
            page.check("input[name=languages][value=nl]")
            page.click("button[name=action][value=count]")
            shot(page, "announcement-segment.png", full=False)
            browser.close()
    finally:
        server.close()
        links.stop()
        rt.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
