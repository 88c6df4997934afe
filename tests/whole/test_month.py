"""An editor's month with no shell, in Debian's Chromium, against the service as `make run`
starts it: the community's folders, every setting at its default (SQLite in var/, mail
into var/outbox/, social posts in dry run), the worker inside `serve`. The one CLI call is
the first account, as the README says. The only other setting is the tests' way through
the outbound guard to the loopback sites that stand for the members' pages.

Each step is what an editor or a member does in a normal month; the test reads what the
pages say and what the mails in var/outbox/ carry, never the database.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from ostogether.core import clock
from tests.browser import log_in, need_browser, shot
from tests.conftest import REPO, child_env, finish, free_port, wait_for
from tests.feedserver import FeedServer, Route, picture

ADMIN = "greta@ecsite.example"
ZONE = ZoneInfo("Europe/Brussels")  # schedules/ostogether.toml
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>SCILAB</title>
<link>https://scilab.example/</link><description>News</description>
<item><title>Open lab day</title><link>https://scilab.example/open-day</link>
<guid>open-day</guid><description>Come and see.</description></item></channel></rss>"""
PASSWORD = "correct horse battery"


@dataclass
class Served:
    url: str
    home: Path

    def mails(self, to: str) -> list[email.message.EmailMessage]:
        """The mails in var/outbox/ for ``to``, oldest first."""
        box = self.home / "var" / "outbox" / "new"
        found = []
        for path in sorted(box.iterdir(), key=lambda p: p.stat().st_mtime_ns) \
                if box.exists() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to in str(msg["To"]):
                found.append(msg)
        return found  # type: ignore[return-value]

    def link(self, to: str, path: str, count: int = 1) -> str:
        def arrived() -> list[Any] | None:
            got = self.mails(to)
            return got if len(got) >= count else None
        msg = wait_for(arrived, 30)[-1]
        body = msg.get_body(("plain",)).get_content()
        found = re.search(re.escape(self.url) + re.escape(path) + r"[^\s>]+", body)
        assert found, body
        return found.group(0)


def ostogether(cwd: Path, env: dict[str, str], *args: str, stdin: str = ""
               ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen([sys.executable, "-m", "ostogether", *args], cwd=cwd,
                            env=child_env(env), text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = finish(proc, 120, stdin)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    need_browser()
    home = tmp_path / "community"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, home / folder)
    env = {"OSTOGETHER_FETCH_ALLOW": "127.0.0.1"}
    ran = ostogether(home, env, "init")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    ran = ostogether(home, env, "users", "add", "--email", ADMIN, "--role", "admin",
                     "--name", "Greta", "--password-stdin", stdin=PASSWORD + "\n")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ostogether", "serve", "--port",
                             str(port)], cwd=home, env=child_env(env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(url + "/healthz", timeout=2).ok, 60)
        yield Served(url, home)
    finally:
        proc.terminate()
        finish(proc, 30)


CONTACTS = (b"User ID,First name,Last name,Organization,Email,Membership level,"
            b"Membership status,Archived\n"
            b"1,Mia,Kos,OTTER,mia@otter.example,Project,Active,no\n")


def mailchimp_zip() -> bytes:
    """A Mailchimp audience export as it is downloaded: subscribed, unsubscribed and
    non-subscribed contacts (the last never become readers)."""
    head = ("Email Address,First Name,Last Name,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,"
            "CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,"
            "LAST_CHANGED,LEID,EUID,NOTES,TAGS")
    row = ("{e},{f},Teacher,2,2024-03-01 10:00:00,192.0.2.1,2024-03-01 10:05:00,192.0.2.1,"
           ",,,,,BE,,2024-03-01 10:05:00,1,a1b2,,")
    subscribed = "\n".join([head] + [row.format(e=f"teacher{n}@school.example", f=f"T{n}")
                                     for n in range(3)])
    unsub_head = head + ",UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON"
    unsubscribed = "\n".join([unsub_head, row.format(e="left@school.example", f="L")
                              + ",2025-01-10 09:00:00,Issue 8,abc,No longer interested"])
    nonsubscribed = "\n".join([head, row.format(e="never@school.example", f="N")])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_members_export_7f3e2a.csv", subscribed)
        zf.writestr("unsubscribed_members_export_7f3e2a.csv", unsubscribed)
        zf.writestr("nonsubscribed_members_export_7f3e2a.csv", nonsubscribed)
    return buf.getvalue()


def test_an_editors_month_in_the_browser(served: Served, chromium: Any, tmp_path: Path
                                         ) -> None:
    site = FeedServer().start()
    people: list[Any] = []
    try:
        for n in range(6):
            site.routes[f"/story/{n}"] = Route(b"<!doctype html><title>A story</title>",
                                               content_type="text/html")
        site.routes["/feed.xml"] = Route(RSS.encode(), content_type="application/rss+xml")
        site.routes["/photo.jpg"] = Route(picture(1600, 900, "JPEG"),
                                          content_type="image/jpeg")
        people += [chromium.new_context(viewport={"width": 1280, "height": 900})
                   for _ in range(3)]  # the visitor, the editor and the member: own cookies
        for context in people:
            context.set_default_timeout(15000)
        month(served, people, site, tmp_path)
    finally:
        for context in people:
            context.close()
        site.stop()


def month(served: Served, people: list[Any], site: FeedServer, tmp_path: Path) -> None:
    base = served.url
    visitor, editor, member = (context.new_page() for context in people)
    # -- A project applies through Join; the editor accepts it; its contact is invited.
    visitor.goto(base + "/join")
    visitor.fill("#acronym", "SCILAB")
    visitor.fill("#name", "Science lab for schools")
    visitor.fill("#description", "Schools and a science centre run a lab together.")
    visitor.select_option("#initiative_type", "school-led-action")
    visitor.check("input[name=themes][value=steam]")
    visitor.fill("#countries", "BE, PT")
    visitor.fill("#start_date", "2025-01-01")
    visitor.fill("#end_date", "2030-12-31")
    visitor.fill("#website", site.url("/story/0"))
    visitor.fill("#contact_email", "ana@scilab.example")
    visitor.check("#non_commercial")
    visitor.check("#coc")
    visitor.click("main button[type=submit]")
    assert "the application of SCILAB is sent" in visitor.inner_text("h1")

    log_in(editor, base, ADMIN, PASSWORD)
    editor.goto(base + "/editors/applications")
    editor.click("text=SCILAB")
    editor.click("button[value=accept]")
    assert "SCILAB" in editor.inner_text("main")

    # The member follows the invitation, chooses a password and is in.
    member.goto(served.link("ana@scilab.example", "/account/password/", count=2))
    member.fill("#password", "a long member password")
    member.fill("#confirm", "a long member password")
    member.click("main button[type=submit]")
    member.wait_for_load_state()
    member.goto(base + "/members/")
    assert "SCILAB" in member.inner_text("main")

    # -- The editor gives the new project its feed and handles on its page.
    editor.goto(base + "/editors/projects/")
    editor.click("text=SCILAB")
    editor.fill("#feed_url", site.url("/feed.xml"))
    editor.fill("#handles_mastodon", "https://mastodon.social/@scilab")  # pasted, as it is
    editor.click("main form button[type=submit]:has-text('Save SCILAB')")
    assert "Saved SCILAB" in editor.inner_text("main")
    assert editor.input_value("#handles_mastodon") == "@scilab@mastodon.social"
    shot(editor, "month-project")

    # -- Moving in: Mailchimp's audience export and Wild Apricot's contacts, uploaded,
    # checked and applied by the worker inside `serve`.
    def imported(kind: str, name: str, data: bytes, mime: str, report: str) -> None:
        editor.goto(base + "/editors/imports/")
        editor.set_input_files(f"#{kind}-file", files=[{"name": name, "mimeType": mime,
                                                        "buffer": data}])
        editor.click(f"#{kind} button[type=submit]")
        expect(editor.locator("#report-h")).to_have_text("What it would do", timeout=60000)
        expect(editor.locator("main")).to_contain_text(report)
        editor.click("section[aria-labelledby=apply-h] form button:has-text('Apply')")
        expect(editor.locator("#report-h")).to_have_text("What was written", timeout=60000)

    imported("readers", "audience_export_7f3e2a.zip", mailchimp_zip(), "application/zip",
             "3 new: would be added")
    expect(editor.locator("main")).to_contain_text("3 added")
    imported("members", "contacts.csv", CONTACTS, "text/csv", "1 matched: to invite")
    expect(editor.locator("main")).to_contain_text("1 invited")
    assert served.mails("mia@otter.example")  # the member's invitation went out
    shot(editor, "month-imports")

    # -- The member sends news; the editor reviews in bulk.
    for n in range(1, 4):
        member.goto(base + "/members/items/new")
        member.select_option("#kind", "news")
        member.fill("#title", f"Lab story {n}")
        member.fill("#summary", "Pupils and researchers built **a cloud chamber**.")
        member.fill("#link", site.url(f"/story/{n}"))
        member.click("main form button[type=submit]")
    editor.goto(base + "/editors/items?q=Lab+story")
    for box in editor.locator("input[name=item]").all():
        box.check()
    editor.click("button[value=approve]")
    assert "Approved 3 item(s); 3 submitter(s) told by mail." in editor.inner_text("main")

    # -- Compose the issue, choose its send time, test it on an outside address, approve.
    editor.goto(base + "/editors/issues/")
    editor.click("text=Compose the next issue")
    # The community's fair share keeps one project to two items an issue.
    assert "is a draft with 2 item(s)" in editor.inner_text("main")
    number = re.search(r"/editors/issues/(\d+)", editor.url).group(1)  # type: ignore[union-attr]
    day = (clock.now() + dt.timedelta(days=10)).astimezone(ZONE).date()
    editor.fill("#send_date", day.isoformat())
    editor.fill("#send_time", "10:30")
    editor.click("text=Change the send date")
    assert f"now goes out on {day:%A %-d %B %Y} at 10:30" in editor.inner_text("main")
    editor.fill("#others", "kim.teacher@gmail.example")
    editor.click("text=Send the test")
    assert "kim.teacher@gmail.example" in editor.inner_text("main")
    [test] = served.mails("kim.teacher@gmail.example")
    assert test["List-Unsubscribe"] and test["DKIM-Signature"] is None  # no key set up
    editor.goto(f"{base}/editors/issues/{number}/preflight")
    editor.click(f"text=Approve issue #{number}")
    assert f"Issue #{number} is approved." in editor.inner_text("main")
    shot(editor, "month-issue-approved")

    # -- Plan the week's posts and publish one now (dry run until credentials are set:
    # the post is written to var/outbox/social/).
    editor.goto(base + "/editors/social/")
    editor.click("button:has-text('Plan week')")
    editor.locator("main li a[href*='/editors/social/']", has_text="Mastodon").first.click()
    editor.click("button:has-text('publish now')")
    assert "Publishing within a few seconds" in editor.inner_text("main")
    social = served.home / "var" / "outbox" / "social"
    [posted] = wait_for(lambda: list(social.glob("*.json")) if social.exists() else None, 60)
    assert posted.name.endswith("-mastodon.json")
    editor.reload()
    assert "Publish now" not in editor.inner_text("main")
    shot(editor, "month-post-published")

    # -- Send the approved issue now, to the readers that came from Mailchimp.
    editor.goto(f"{base}/editors/issues/{number}")
    editor.check("#send-confirm")
    editor.click("button:has-text('subscriber')")
    assert "Sending issue #" in editor.inner_text("main")
    wait_for(lambda: all(served.mails(f"teacher{n}@school.example") for n in range(3)), 60)
    assert not served.mails("never@school.example")  # non-subscribed in Mailchimp
    assert not served.mails("left@school.example")  # unsubscribed there

    # -- The sending domain, one click from the dashboard.
    editor.goto(base + "/editors/")
    editor.click("text=Sending domain")
    assert "What to publish where" in editor.inner_text("main")
