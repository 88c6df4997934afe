"""Forms and assistive technology, in Debian's Chromium: after a form comes back with
errors, the focus is on the error summary (or on the error flash of an action), with no
script on the page; every field with a problem says so (aria-invalid) and points at its
message (aria-describedby); each line of the summary links to a field that exists; axe
finds nothing. The shared field macro (_macros.html) does it, so every form gets it.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import PHONE, Live, axe_all, log_in
from tests.factories import make_user

# What is wrong with a page's fields, as a list of sentences (empty: nothing).
CHECK_FIELDS = """() => {
    const wrong = [];
    const byId = id => document.getElementById(id);
    // Each error message beside a field is pointed at by the field, which is invalid.
    for (const msg of document.querySelectorAll('.field .error[id], .field .check-fail[id]')) {
        const field = msg.closest('.field');
        const control = field.querySelector('input:not([type=hidden]), select, textarea, fieldset');
        const refs = (control && control.getAttribute('aria-describedby') || '').split(/\\s+/);
        if (!control) { wrong.push('no control beside ' + msg.id); continue; }
        if (!refs.includes(msg.id)) wrong.push(control.id + ' does not point at ' + msg.id);
        if (control.tagName !== 'FIELDSET' && control.getAttribute('aria-invalid') !== 'true')
            wrong.push(control.id + ' is not aria-invalid');
    }
    // Every invalid field names at least one message that is on the page and says something.
    for (const control of document.querySelectorAll('[aria-invalid=true]')) {
        const refs = (control.getAttribute('aria-describedby') || '').split(/\\s+/)
            .filter(Boolean).map(byId);
        if (!refs.length || refs.some(e => !e || !e.textContent.trim()))
            wrong.push(control.id + ' points at no message');
    }
    // Each link of the summary leads to something on the page.
    for (const a of document.querySelectorAll('.error-summary a[href^="#"]'))
        if (!byId(a.getAttribute('href').slice(1))) wrong.push('dead link ' + a.href);
    return wrong;
}"""


def focused(page: Any) -> str:
    """The focused element: its class and its text, as a reader would hear it."""
    return str(page.evaluate("""() => { const e = document.activeElement;
        return e.className + ': ' + e.innerText.trim().replace(/\\s+/g, ' '); }"""))


def check(page: Any, summary: str) -> list[str]:
    problems = [f"{page.url}: {p}" for p in page.evaluate(CHECK_FIELDS)]
    # autofocus runs when the page is first drawn; wait for it rather than racing it
    try:
        page.wait_for_function("document.activeElement !== document.body", timeout=5000)
    except PlaywrightTimeout:
        pass  # nothing took the focus: said below
    now = focused(page)
    if "error-summary" not in now and "flash-error" not in now or summary not in now:
        problems.append(f"{page.url}: the focus is on {now!r}, not on {summary!r}")
    problems += [f"{page.url}: {v}" for v in axe_all(page)]
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{page.url}: {width} px wide with its errors shown")
    return problems


def test_after_an_error_the_focus_is_on_the_summary_and_each_field_names_its_problem(
        live: Live, chromium: Any) -> None:
    make_user(live.rt, "editor@ecsite.eu", "editor")
    make_user(live.rt, "news@cosmosproject.eu", "member", project="cosmos")
    problems: list[str] = []
    # bypass_csp: axe is injected as a script. The pages themselves have none.
    visitor = chromium.new_context(viewport=PHONE, bypass_csp=True)
    page = visitor.new_page()
    page.goto(live.url + "/subscribe")
    page.fill("#email", "not an address")
    page.click("main form button[type=submit]")
    problems += check(page, "You are not subscribed yet")
    if page.get_attribute("#email", "aria-invalid") != "true":  # the checks see a form
        problems.append("/subscribe: #email is not aria-invalid")

    page.goto(live.url + "/join")
    page.fill("#acronym", "EDUCHAIN")
    page.fill("#grant_number", "GA-1")
    page.fill("#contact_email", "ana@")
    page.click("main button[type=submit]")
    problems += check(page, "The application was not sent")

    page.goto(live.url + "/login")
    page.fill("#email", "editor@ecsite.eu")
    page.fill("#password", "not the password")
    page.click("main button[type=submit]")
    problems += check(page, "You are not logged in")

    page.goto(live.url + "/account/reset")
    page.click("main button[type=submit]")
    problems += check(page, "No link was sent")

    member = chromium.new_context(viewport=PHONE, bypass_csp=True)
    page = member.new_page()
    log_in(page, live.url, "news@cosmosproject.eu")
    page.goto(live.url + "/members/items/new")
    page.fill("#title", "<b>Bold</b> news")
    page.fill("#link", "javascript:alert(1)")
    page.click("main form button[type=submit]")
    problems += check(page, "The item was not sent")
    page.goto(live.url + "/members/handles")  # a form of its own, and an error flash
    page.fill("#x", "not a handle!")
    page.click("main form button[type=submit]")
    problems += check(page, "X: should be")

    editor = chromium.new_context(viewport=PHONE, bypass_csp=True)
    page = editor.new_page()
    log_in(page, live.url, "editor@ecsite.eu")
    page.goto(live.url + "/editors/members")
    page.fill("#invite-email", "nobody")
    page.click("text=Send the invitation")
    problems += check(page, "No invitation was sent")
    for context in (visitor, member, editor):
        context.close()
    assert not problems, "\n".join(problems)


def test_the_focus_moves_to_the_summary_without_javascript(live: Live, chromium: Any) -> None:
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live.url + "/subscribe")
    page.click("main form button[type=submit]")
    summary = page.locator("#error-summary")
    summary.wait_for()
    page.locator("#error-summary:focus").wait_for(timeout=5000)
    assert "You are not subscribed yet" in summary.inner_text()
    # The keyboard goes on from the summary: the next Tab is its first link.
    page.keyboard.press("Tab")
    assert page.locator("#error-summary a:focus").count() == 1
    context.close()
