"""In Chromium: from the Join page, an organisation and a person join; an editor accepts
the organisation and it shows in the directory and on the map (the phone walk of
tests/web/test_phone.py runs axe on these pages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether.models import Organisation, Person
from tests.browser import Live, log_in
from tests.factories import add_organisation, make_user


def test_an_organisation_and_a_person_join_in_chromium(live: Live, browser: Any,
                                                      chromium: Any) -> None:
    add_organisation(live.rt)
    make_user(live.rt, "editor@ecsite.eu", "editor")
    page = browser.new_page()
    page.goto(live.url + "/join")
    page.click("text=an organisation")
    page.click("button[type=submit]")  # empty: the summary names the fields
    assert "The application was not sent" in page.inner_text("main")
    page.fill("#name", "Escola Ciência Aberta")
    page.select_option("#type", "school")
    page.select_option("#country", "PT")
    page.fill("#city", "Porto")
    page.fill("#website", "https://escola.example.pt")
    page.fill("#latitude", "41.15")
    page.fill("#longitude", "-8.61")
    page.fill("#contact_email", "escola@example.pt")
    page.check("#coc")
    page.click("button[type=submit]")
    assert "Escola Ciência Aberta has applied" in page.inner_text("h1")

    page.goto(live.url + "/join")
    page.click("text=a person")
    page.fill("#name", "Rui Professor")
    page.fill("#email", "rui@escola.example.pt")
    page.select_option("#organisation", "nemo-science-museum")
    page.select_option("#country", "PT")
    page.check("#coc")
    page.click("button[type=submit]")
    assert "Rui Professor has applied" in page.inner_text("h1")

    editors = chromium.new_context()  # cookies of its own: the visitor stays anonymous
    editors.set_default_timeout(15000)
    editor = editors.new_page()
    log_in(editor, live.url, "editor@ecsite.eu")
    editor.goto(live.url + "/editors/organisations")
    row = editor.locator("tr", has_text="Escola Ciência Aberta")
    row.locator("button[value=accept]").click()
    assert "Escola Ciência Aberta is now a member" in editor.inner_text("main")
    editor.goto(live.url + "/editors/people")
    editor.locator("tr", has_text="Rui Professor").locator("button[value=accept]").click()

    page.goto(live.url + "/organisations?country=PT")
    assert "Escola Ciência Aberta" in page.inner_text("table")
    assert page.locator("svg.europe-map path[data-country=PT]").get_attribute(
        "data-count") == "1"
    assert page.locator("svg.europe-map circle title").text_content() == \
        "Escola Ciência Aberta"
    with live.rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.city == "Porto"))
        rui = s.scalar(select(Person).where(Person.email == "rui@escola.example.pt"))
        assert org is not None and org.status == "member" and org.latitude == 41.15
        assert rui is not None and rui.status == "member"
    page.goto(live.url + "/organisations/nemo-science-museum")
    assert "Rui" not in page.inner_text("main")  # private until he says otherwise
    editor.goto(live.url + "/organisations/nemo-science-museum")
    assert "Rui Professor" in editor.inner_text("main")  # editors see every field
    editors.close()
