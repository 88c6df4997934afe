"""The registry on the web: accepting an application invites its contact as the project's
first member; the public registry's country filter is in the order of the names; a
project's page shows its recent news."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from ostogether.core.settings import Settings
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import User
from ostogether.news import items as news
from tests.conftest import csrf_from, link_in, login, new_client, outbox, post, run
from tests.factories import add_item, applicant, make_user


def welcome(settings: Settings, to: str) -> Any:
    found = [m for m in outbox(settings) if m["Subject"].startswith("Welcome")
             and m["To"] == to]
    assert len(found) == 1, [m["Subject"] for m in outbox(settings)]
    return found[0]


def test_accepting_invites_the_contact_who_chooses_a_password_and_logs_in(
        app: Any, rt: Runtime, editor: Any, settings: Settings) -> None:
    pid = applicant(rt)
    page = f"/editors/applications/{pid}"
    r = post(editor, page, page, decision="accept", reason="Welcome aboard!")
    assert r.status_code == 302
    said = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert ("SCI-LAB is now a member; the applicant has been told. ana@sci-lab.example.org is "
            "invited as its first member") in said

    mail = welcome(settings, "ana@sci-lab.example.org")
    body = mail.get_body(("plain",)).get_content()
    assert "will send you a login" not in body
    assert "Welcome aboard!" in body and "Your login is ana@sci-lab.example.org" in body
    link = link_in(mail, "/account/password/")

    ana = new_client(app)
    form = ana.get(link).get_data(as_text=True)
    assert "member of SCI-LAB" in form
    chosen = ana.post(link, data={"csrf_token": csrf_from(form),
                                  "password": "a lab of our own", "confirm": "a lab of our own"})
    assert chosen.status_code == 302
    # Logged in from another browser with the password she chose.
    again = new_client(app)
    assert login(again, "ana@sci-lab.example.org", "a lab of our own").status_code == 302
    members_page = again.get("/members/")
    assert members_page.status_code == 200 and "SCI-LAB" in members_page.get_data(as_text=True)
    with rt.db.session() as s:
        user = s.scalar(select(User).where(User.email == "ana@sci-lab.example.org"))
        assert user is not None and user.role == "member" and user.project.slug == "sci-lab"


def test_an_address_with_an_account_is_told_to_log_in_with_it(
        app: Any, rt: Runtime, editor: Any, settings: Settings) -> None:
    make_user(rt, "ana@sci-lab.example.org", "member", project="cosmos")
    pid = applicant(rt)
    page = f"/editors/applications/{pid}"
    said = editor.get(post(editor, page, page, decision="accept").headers["Location"])
    assert ("ana@sci-lab.example.org already has an account, for COSMOS: invite another "
            "address for SCI-LAB") in said.get_data(as_text=True)
    body = welcome(settings, "ana@sci-lab.example.org").get_body(("plain",)).get_content()
    assert "You already have an account with this address (ana@sci-lab.example.org), for " \
           "COSMOS" in body
    assert "https://ostogether.test/login" in body and "/account/password/" not in body
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(User).where(
            User.email == "ana@sci-lab.example.org")) == 1


def test_accepting_on_the_command_line_invites_too(rt: Runtime, env: dict[str, str],
                                                   settings: Settings) -> None:
    pid = applicant(rt, "MARS")
    done = run(env, "applications", "accept", str(pid))
    assert done.returncode == 0, done.stderr
    assert "MARS is now a member." in done.stdout
    assert "ana@sci-lab.example.org is invited as its first member" in done.stdout
    assert "/account/password/" in welcome(settings, "ana@sci-lab.example.org").get_body(
        ("plain",)).get_content()


def test_the_country_filter_is_in_the_order_of_the_names(client: Any) -> None:
    page = client.get("/registry").get_data(as_text=True)
    select_html = re.search(r'<select id="country".*?</select>', page, re.S)
    assert select_html is not None
    options = re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>',
                         select_html.group(0))
    names = [name for _, name in options]
    assert len(names) > 10
    assert names == sorted(names, key=str.casefold)
    codes = [code for code, _ in options]
    assert codes != sorted(codes)  # the codes' order is not the names' (GB, HR…)
    assert ("GB", "United Kingdom") in options


def test_a_project_page_shows_its_recent_news_newest_first(rt: Runtime, client: Any,
                                                           test_clock: Any) -> None:
    import datetime as dt

    ids = []
    for n in range(7):
        ids.append(add_item(rt, "otter", link=f"https://otter.example.org/news/{n}",
                            title=f"OTTER news number {n}"))
        test_clock.advance(dt.timedelta(hours=1))
    waiting = add_item(rt, "otter", link="https://otter.example.org/waiting",
                       title="OTTER item still in review", approve=False)
    rejected = add_item(rt, "otter", link="https://otter.example.org/no",
                        title="OTTER item that was rejected", approve=False)
    news.reject(rt, Actor("test"), rejected, "Not news.")
    add_item(rt, "cosmos", link="https://cosmos.example.org/1", title="COSMOS news")
    page = client.get("/registry/otter").get_data(as_text=True)
    shown = re.findall(r'<a href="(https://otter\.example\.org/news/[0-9])"[^>]*>'
                       r'(OTTER news number [0-9])</a>', page)
    assert [title for _, title in shown] == [f"OTTER news number {n}" for n in (6, 5, 4, 3, 2)]
    assert shown[0][0] == "https://otter.example.org/news/6"
    for absent in ("still in review", "that was rejected", "COSMOS news"):
        assert absent not in page
    assert waiting and "No news from" in client.get("/registry/most").get_data(as_text=True)
