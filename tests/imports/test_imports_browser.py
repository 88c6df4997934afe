"""Imports in Chromium: an editor uploads Mailchimp's export zip and Wild Apricot's
contacts on the imports page, reads the dry run, presses Apply and reaches the result
page as it refreshes itself. The live app runs no worker: the test plays it, calling
``jobs.pick_up`` as the worker does every few seconds."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from ostogether import jobs
from ostogether.models import Project, Subscriber, User
from tests.browser import Live, log_in, shot
from tests.factories import make_user

HEADER = ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "CONFIRM_TIME",
          "CONFIRM_IP", "LAST_CHANGED"]


def export_zip() -> bytes:
    """Mailchimp's audience export as it is downloaded: a zip of CSVs."""
    def table(header: list[str], rows: list[dict[str, str]]) -> str:
        out = io.StringIO()
        w = csv.DictWriter(out, header, lineterminator="\r\n", quoting=csv.QUOTE_ALL,
                           extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
        return out.getvalue()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_email_audience_export_7f3e2a.csv", table(HEADER, [
            {"Email Address": "maria@school.example.es", "First Name": "María",
             "Last Name": "López", "OPTIN_TIME": "2021-03-01 09:00:00",
             "CONFIRM_TIME": "2021-03-01 09:05:12", "CONFIRM_IP": "192.0.2.11"},
            {"Email Address": "jan@example.nl", "First Name": "Jan",
             "OPTIN_TIME": "2022-01-10 08:00:00"},
            {"Email Address": "not an address"}]))
        zf.writestr("unsubscribed_email_audience_export_7f3e2a.csv", table(
            [*HEADER, "UNSUB_TIME", "UNSUB_REASON"],
            [{"Email Address": "left@example.fr", "UNSUB_TIME": "2024-02-03 18:30:00",
              "UNSUB_REASON": "Too many mails"}]))
    return buf.getvalue()


CONTACTS = (b"User ID,First name,Last name,Organization,Email,Membership level,"
            b"Membership status,Archived\n"
            b"1,Ana,Silva,OTTER,ana@otter.example,Project,Active,no\n"
            b"2,Mia,Kos,SALL project consortium,mia@sall.example,Project,Active,no\n"
            b"3,Eve,Ng,Acme Widgets,eve@acme.example,Project,Active,no\n")


def check_and_apply(live: Live, page: Any, kind: str, name: str, data: bytes,
                    mime: str) -> None:
    """Upload on the kind's card; the worker's report is shown before Apply is
    pressed."""
    page.goto(live.url + "/editors/imports/")
    page.set_input_files(f"#{kind}-file", files=[{"name": name, "mimeType": mime,
                                                  "buffer": data}])
    page.click(f"#{kind} button[type=submit]")
    expect(page.locator("#progress-h")).to_have_text("Checking the file")
    jobs.pick_up(live.rt)  # the worker's dry run; the page refreshes itself to show it
    expect(page.locator("#report-h")).to_have_text("What it would do", timeout=20000)
    expect(page.locator("main")).to_contain_text("Nothing has been changed yet.")


def applied(live: Live, page: Any) -> None:
    """Apply, play the worker, and wait for the page to reach the result by itself."""
    page.click("section[aria-labelledby=apply-h] form button:has-text('Apply')")
    expect(page.locator("#progress-h")).to_have_text("Waiting for the worker")
    jobs.pick_up(live.rt)
    # The page refreshes itself (no script), and ends on what was written.
    expect(page.locator("#report-h")).to_have_text("What was written", timeout=20000)


def test_an_editor_imports_a_mailchimp_zip_and_wild_apricot_contacts(
        live: Live, browser: Any, smtp_server: Any) -> None:
    _, sink = smtp_server
    make_user(live.rt, "editor@ecsite.eu", "editor")
    page = browser.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    page.goto(live.url + "/editors/")
    page.click("text=Imports (Mailchimp, past issues, Wild Apricot)")
    expect(page.locator("h1")).to_have_text("Imports")

    check_and_apply(live, page, "readers", "audience_export_7f3e2a.zip", export_zip(),
                    "application/zip")
    main = page.locator("main")
    expect(main).to_contain_text("2 new: would be added")
    expect(main).to_contain_text("1 to the suppression list")
    expect(main).to_contain_text("An email address must have an @-sign")
    expect(main).to_contain_text("unsubscribed in Mailchimp on 2024-02-03 (Too many mails)")
    shot(page, "imports-readers-report")
    with live.rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []
    applied(live, page)
    expect(main).to_contain_text("2 added")
    expect(main).to_contain_text("1 put on the suppression list")
    shot(page, "imports-readers-result")
    with live.rt.db.session() as s:
        assert set(s.scalars(select(Subscriber.email))) == {"maria@school.example.es",
                                                           "jan@example.nl"}

    check_and_apply(live, page, "members", "contacts.csv", CONTACTS, "text/csv")
    expect(main).to_contain_text("2 matched: to invite")
    expect(main).to_contain_text("no project is called 'Acme Widgets'")
    page.check("#contact-otter")
    shot(page, "imports-members-report")
    applied(live, page)
    expect(main).to_contain_text("2 invited")
    expect(main).to_contain_text("otter: contact address set to ana@otter.example")
    shot(page, "imports-members-result")
    with live.rt.db.session() as s:
        members = set(s.scalars(select(User.email).where(User.role == "member")))
        otter = s.scalar(select(Project.contact_email).where(Project.slug == "otter"))
    assert members == {"ana@otter.example", "mia@sall.example"}
    assert otter == "ana@otter.example"
    assert {str(m["To"]) for m in sink.messages} == {"ana@otter.example", "mia@sall.example"}

    # The list of imports says what each one became.
    page.goto(live.url + "/editors/imports/")
    expect(page.locator("table")).to_contain_text("audience_export_7f3e2a.zip")
    expect(page.locator("table")).to_contain_text("applied")
