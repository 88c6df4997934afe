"""The web doors for news: a member's form and list, invitations, and the editors' queue."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ostogether.models import AuditEntry, NewsItem
from tests.conftest import (
    csrf_from,
    login,
    new_client,
    outbox,
)
from tests.factories import make_user

ITEM = {"kind": "news", "title": "Open day at the science centre",
        "summary": "Schools **welcome**.", "link": "https://example.org/open-day",
        "language": "en", "for_newsletter": "y", "for_social": "y", "event_timezone": ""}


def member(client: Any, rt: Any, email: str = "m@example.org", project: str = "cosmos") -> None:
    make_user(rt, email, "member", project=project)
    login(client, email)


def submit(client: Any, **changes: Any) -> Any:
    page = client.get("/members/items/new")
    data = {**ITEM, **changes, "csrf_token": csrf_from(page.get_data(as_text=True))}
    return client.post("/members/items/new", data=data)


def member_with_item(app: Any, rt: Any) -> tuple[Any, int]:
    """A member of COSMOS, logged in its own client, who has submitted ITEM."""
    m = new_client(app)
    member(m, rt)
    return m, int(submit(m).headers["Location"].rsplit("/", 1)[1])


def test_a_member_submits_news_and_an_event_and_sees_their_states(client: Any, rt: Any) -> None:
    member(client, rt)
    r = submit(client)
    assert r.status_code == 302
    r = submit(client, kind="event", title="Teacher workshop",
               link="https://example.org/workshop", event_start="2027-04-01T09:30",
               event_timezone="Europe/Brussels", event_location="Brussels")
    assert r.status_code == 302
    page = client.get("/members/").get_data(as_text=True)
    assert "Open day at the science centre" in page and "Teacher workshop" in page
    assert page.count('class="state state-submitted"') == 2
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Thursday 1 April 2027, 09:30 (Europe/Brussels)" in detail


def test_the_form_keeps_input_and_explains_each_problem(client: Any, rt: Any) -> None:
    member(client, rt)
    r = submit(client, title="x" * 10_000, link="javascript:alert(1)",
               summary="<script>alert(1)</script>")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "10000 characters; the limit is 200" in html
    assert "javascript: addresses are not allowed" in html
    assert "HTML such as" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html  # kept, escaped
    with rt.db.session() as s:
        assert s.scalars(select(NewsItem)).first() is None


def test_a_duplicate_link_links_to_the_existing_item(client: Any, rt: Any) -> None:
    member(client, rt)
    first = submit(client).headers["Location"]
    r = submit(client, title="Again")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "already submitted as item" in html
    assert f'href="{first}"' in html or f'href="{first.split("localhost")[-1]}"' in html


def test_members_see_only_their_project_and_can_withdraw(client: Any, rt: Any, app: Any) -> None:
    member(client, rt)
    loc = submit(client).headers["Location"]
    item_id = int(loc.rsplit("/", 1)[1])
    other = new_client(app)
    member(other, rt, "o@example.org", "otter")
    assert other.get(f"/members/items/{item_id}").status_code == 404
    assert "Open day" not in other.get("/members/").get_data(as_text=True)
    page = client.get("/members/").get_data(as_text=True)
    # Withdrawing asks once: the first button only opens the question.
    assert "<summary class=\"button danger small\">Withdraw" in page
    client.post(f"/members/items/{item_id}/withdraw", data={"csrf_token": csrf_from(page)})
    with rt.db.session() as s:
        assert s.get(NewsItem, item_id).status == "submitted"
    assert "Nothing was done: confirm that you want to withdraw the item." in \
        client.get("/members/").get_data(as_text=True)
    client.post(f"/members/items/{item_id}/withdraw", data={"csrf_token": csrf_from(page),
                                                            "confirm": "yes"})
    with rt.db.session() as s:
        assert s.get(NewsItem, item_id).status == "withdrawn"


def test_editors_cannot_use_member_pages_and_members_cannot_review(client: Any, rt: Any) -> None:
    member(client, rt)
    assert client.get("/editors/items").status_code == 403
    make_user(rt)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client)
    assert client.get("/members/").status_code == 403


def test_an_editor_reviews_with_previews_then_rejects_with_a_reason(
        client: Any, rt: Any, app: Any, settings: Any) -> None:
    m, item_id = member_with_item(app, rt)
    make_user(rt)
    login(client)
    queue = client.get("/editors/items?project=cosmos&kind=news&source=web&age=7")
    assert "Open day at the science centre" in queue.get_data(as_text=True)
    assert "Open day" not in client.get("/editors/items?source=feed").get_data(as_text=True)
    page = client.get(f"/editors/items/{item_id}").get_data(as_text=True)
    assert "<strong>welcome</strong>" in page            # newsletter preview
    assert "https://example.org/open-day" in page and "#OpenSchooling" in page  # post preview
    token = csrf_from(page)
    r = client.post(f"/editors/items/{item_id}", data={"review-csrf_token": token,
                                                       "action": "reject", "review-reason": ""})
    assert r.status_code == 400 and "reason is required" in r.get_data(as_text=True)
    r = client.post(f"/editors/items/{item_id}", data={
        "review-csrf_token": token, "action": "reject", "review-reason": "Out of scope."})
    assert r.status_code == 302
    mine = m.get("/members/").get_data(as_text=True)
    assert "state-rejected" in mine and "Reason: Out of scope." in mine
    assert outbox(settings)[-1]["To"] == "m@example.org"


def test_an_editor_edits_then_approves_and_everything_is_audited(client: Any, rt: Any,
                                                                  app: Any) -> None:
    m, item_id = member_with_item(app, rt)
    make_user(rt)
    login(client)
    page = client.get(f"/editors/items/{item_id}").get_data(as_text=True)
    token = csrf_from(page)
    bad = client.post(f"/editors/items/{item_id}", data={
        **{f"edit-{k}": v for k, v in ITEM.items()}, "edit-link": "ftp://x",
        "edit-csrf_token": token, "action": "save"})
    assert bad.status_code == 400 and "full address" in bad.get_data(as_text=True)
    ok = client.post(f"/editors/items/{item_id}", data={
        **{f"edit-{k}": v for k, v in ITEM.items()}, "edit-title": "Open day, edited",
        "edit-csrf_token": token, "action": "save"})
    assert ok.status_code == 302
    client.post(f"/editors/items/{item_id}/flags", data={"csrf_token": token,
                                                         "for_newsletter": "y"})
    client.post(f"/editors/items/{item_id}", data={"review-csrf_token": token,
                                                   "action": "approve"})
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert (item.status, item.title, item.for_social) == ("approved", "Open day, edited",
                                                               False)
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(
            AuditEntry.object_type == "news_items"))]
    assert actions == ["news_item.submitted", "news_item.edited", "news_item.flags",
                       "news_item.approved"]


def test_an_editor_invites_a_member_who_sets_a_password_once(client: Any, rt: Any,
                                                             settings: Any, app: Any) -> None:
    make_user(rt)
    login(client)
    page = client.get("/editors/members").get_data(as_text=True)
    r = client.post("/editors/members", data={
        "invite-csrf_token": csrf_from(page), "action": "invite",
        "invite-email": "New@Example.org", "invite-project": "otter", "invite-name": "Ana"})
    assert r.status_code == 302
    mail = outbox(settings)[-1]
    assert mail["To"] == "new@example.org"
    assert "the link works for 7 days and only once" in mail.get_body().get_content()
    link = re.search(r"https://ostogether.test(/account/password/\S+)",
                     mail.get_body().get_content()).group(1)
    visitor = new_client(app)
    form = visitor.get(link).get_data(as_text=True)
    assert "member of OTTER" in form
    r = visitor.post(link, data={"csrf_token": csrf_from(form), "password": "a good passphrase",
                                 "confirm": "a good passphrase"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/members/")
    assert visitor.get(link).status_code == 400  # used once
    assert "already been used" in visitor.get(link).get_data(as_text=True)


def test_token_pages_show_the_secret_once_and_revoke(client: Any, rt: Any) -> None:
    member(client, rt)
    page = client.get("/members/tokens").get_data(as_text=True)
    r = client.post("/members/tokens", data={"csrf_token": csrf_from(page), "name": "site"})
    secret = re.search(r"(ost_[A-Za-z0-9_\-]{20,})", r.get_data(as_text=True)).group(1)
    again = client.get("/members/tokens").get_data(as_text=True)
    assert secret not in again and secret[:12] in again
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    token_id = re.search(r"/members/tokens/(\d+)/revoke", again).group(1)
    client.post(f"/members/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(again)})
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200  # not confirmed: still valid
    client.post(f"/members/tokens/{token_id}/revoke", data={"csrf_token": csrf_from(again),
                                                            "confirm": "yes"})
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401


# ------------------------------------------------------------- who hears of a decision

def _decision_mails(settings: Any) -> dict[str, str]:
    return {m["To"]: m["Subject"] for m in outbox(settings)}


def test_decisions_on_api_items_go_to_the_projects_members_not_the_tokens_editor(
        rt: Any, settings: Any, editor: Any) -> None:
    from ostogether.news import items as news
    from tests.factories import TEST, add_item

    make_user(rt, "ana@cosmosproject.eu", "member", project="cosmos")
    make_user(rt, "ben@cosmosproject.eu", "member", project="cosmos")
    item = add_item(rt, "cosmos", link="https://example.org/api-item", approve=False)
    page = editor.get(f"/editors/items/{item}").get_data(as_text=True)
    assert "mailed to ana@cosmosproject.eu, ben@cosmosproject.eu" in page
    news.approve(rt, TEST, item)
    assert set(_decision_mails(settings)) == {"ana@cosmosproject.eu", "ben@cosmosproject.eu"}


def test_with_no_member_account_the_contact_hears_and_with_neither_the_page_says_so(
        rt: Any, settings: Any, editor: Any) -> None:
    from ostogether.models import Project
    from ostogether.news import items as news
    from tests.factories import TEST, add_item

    item = add_item(rt, "connect", link="https://example.org/l", approve=False)
    contact = "team@connect.example.org"
    with rt.db.session() as s:
        s.scalars(select(Project).where(Project.slug == "connect")).one().contact_email = contact
    news.reject(rt, TEST, item, "Out of scope for teachers")
    assert list(_decision_mails(settings)) == [contact]
    other = add_item(rt, "levers", link="https://example.org/l2", approve=False)  # no contact
    page = editor.get(f"/editors/items/{other}").get_data(as_text=True)
    assert "Nobody will be told of this decision: LEVERS has no member account" in page


# --------------------------------------------------------- correcting a rejected item

def test_a_member_corrects_a_rejected_item_and_the_editor_sees_what_changed(
        app: Any, rt: Any, editor: Any, settings: Any) -> None:
    from ostogether.news import items as news
    from tests.factories import TEST

    m, first = member_with_item(app, rt)
    news.reject(rt, TEST, first, "Say which schools and when")
    mail = next(x for x in outbox(settings) if "Not taken" in x["Subject"])
    assert f"/members/items/new?from={first}" in mail.get_content()
    page = m.get(f"/members/items/{first}").get_data(as_text=True)
    assert f'/members/items/new?from={first}">Correct it and send it again' in page
    form = m.get(f"/members/items/new?from={first}").get_data(as_text=True)
    assert "Their reason: Say which schools and when" in form
    assert 'value="Open day at the science centre"' in form  # the rejected values
    r = m.post(f"/members/items/new?from={first}", data={
        **ITEM, "title": "School open day in Ghent, 4 May",
        "csrf_token": csrf_from(form)})
    assert r.status_code == 302  # the same link: a rejected item is no duplicate
    second = int(r.headers["Location"].rsplit("/", 1)[1])
    with rt.db.session() as s:
        assert s.get(NewsItem, second).resubmits_id == first
    review = editor.get(f"/editors/items/{second}").get_data(as_text=True)
    assert "Sent again after a rejection" in review
    assert f'/editors/items/{first}">item {first}</a>, rejected with the reason: Say which' \
        in review
    assert re.search(r'<th scope="row">Title</th><td class="changed">Open day at the science '
                     r'centre</td><td class="changed">School open day in Ghent, 4 May</td>',
                     review)
    assert '<th scope="row">Link</th>' not in review  # unchanged fields are not listed
    # A second copy of an item still waiting for review stays a duplicate.
    assert submit(m, title="Again").status_code == 400


def test_the_review_page_shows_each_networks_post_as_it_will_appear(
        rt: Any, editor: Any) -> None:
    from tests.factories import add_item

    item = add_item(rt, "cosmos", link="https://www.cosmosproject.eu/news/a-rather-long-"
                    "address-for-a-story?ref=newsletter", approve=False, title="Air sensors")
    html = editor.get(f"/editors/items/{item}").get_data(as_text=True)
    for name in ("X", "Facebook", "LinkedIn", "Mastodon", "Bluesky"):
        assert f'aria-label="The {name} post, as it will appear"' in html
    assert html.count('class="post-link-card"') == 5
    assert "cosmosproject.eu</span><br><strong>Air sensors</strong>" in html
    assert '<span class="hashtag">#OpenSchooling</span>' in html
    # A link shows shortened, as the networks show it, and still leads to the whole address.
    assert re.search(r'<a href="https://www\.cosmosproject\.eu/news/a-rather-long-address'
                     r'[^"]*utm_source=x[^"]*"[^>]*>www\.cosmosproject\.eu/news/a-r…</a>', html)


def test_a_member_changes_an_item_still_in_review(client: Any, rt: Any) -> None:
    member(client, rt)
    item_id = int(submit(client).headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/members/items/{item_id}").get_data(as_text=True)
    assert f'href="/members/items/{item_id}/edit"' in page
    form = client.get(f"/members/items/{item_id}/edit").get_data(as_text=True)
    assert 'value="Open day at the science centre"' in form
    # Language and timezone are choices, not free text.
    assert re.search(r'<select [^>]*id="language" name="language"', form)
    assert '<option selected value="en">English</option>' in form
    assert '<optgroup label="Europe">' in form and '<option value="Europe/Lisbon">' in form
    r = client.post(f"/members/items/{item_id}/edit", data={
        **ITEM, "title": "Open day, now on Saturday", "language": "nl",
        "csrf_token": csrf_from(form)})
    assert r.status_code == 302
    assert "Saved: title, language." in client.get(r.headers["Location"]).get_data(
        as_text=True)
    with rt.db.session() as s:
        item = s.get(NewsItem, item_id)
        assert (item.title, item.language, item.status) == (
            "Open day, now on Saturday", "nl", "submitted")
        assert s.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "news_item.edited")) == {"changed": ["title", "language"]}
    bad = client.post(f"/members/items/{item_id}/edit", data={
        **ITEM, "title": "", "csrf_token": csrf_from(form)})
    assert bad.status_code == 400 and "The changes were not saved" in bad.get_data(
        as_text=True)
    from ostogether.news import items as news
    from tests.factories import TEST
    news.approve(rt, TEST, item_id)
    r = client.get(f"/members/items/{item_id}/edit")
    assert r.status_code == 302
    assert "only an item waiting for review can be changed" in client.get(
        r.headers["Location"]).get_data(as_text=True)


def test_event_fields_show_for_events_only_without_a_script(client: Any, rt: Any) -> None:
    from tests.conftest import REPO
    css = (REPO / "ostogether/web/static/style.css").read_text()
    assert 'form:has(select[name$="kind"]) .event-fields { display: none; }' in css
    assert 'option[value="event"]:checked) .event-fields { display: block; }' in css
    member(client, rt)
    page = client.get("/members/items/new").get_data(as_text=True)
    assert '<fieldset class="event-fields">' in page and 'name="kind"' in page


def test_a_member_uploads_a_picture_from_their_computer(client: Any, rt: Any,
                                                       settings: Any) -> None:
    """Kept as a fetched picture is (checked, nothing but pixels), and the item points
    at the kept copy, which the newsletter uses without fetching anything."""
    import io

    from PIL import Image

    from ostogether.edges import media
    from tests.feedserver import picture

    member(client, rt)
    page = client.get("/members/items/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    photo = picture(2400, 1600, "JPEG", exif_gps=True)  # 2400 px, more than the 1 MB form
    photo += b"\0" * (1_100_000 - len(photo)) if len(photo) < 1_100_000 else b""
    r = client.post("/members/items/new", content_type="multipart/form-data", data={
        **ITEM, "image_alt": "Pupils measuring the air", "csrf_token": csrf_from(page),
        "image_file": (io.BytesIO(photo), "IMG_0042.JPG")})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with rt.db.session() as s:
        item = s.scalars(select(NewsItem)).one()
        url = item.image_url
    assert url.startswith("https://ostogether.test/media/") and url.endswith(".jpg")
    kept = client.get(url.removeprefix("https://ostogether.test"))
    assert kept.status_code == 200
    with Image.open(io.BytesIO(kept.data)) as img:
        assert img.size == (media.MAIL_WIDTH, 800) and not img.getexif()
    assert media.store(rt, url).name in url  # known: never fetched from the service itself
    # Not a picture: the form comes back with the reason beside the field, text kept.
    page = client.get("/members/items/new").get_data(as_text=True)
    bad = client.post("/members/items/new", content_type="multipart/form-data", data={
        **ITEM, "link": "https://example.org/other", "title": "Kept title",
        "csrf_token": csrf_from(page),
        "image_file": (io.BytesIO(b"%PDF-1.7 not a picture"), "flyer.jpg")})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="image_file-error">This picture cannot be used: it is not a picture' in html
    assert 'value="Kept title"' in html


def test_closing_a_member_account_asks_once_and_ends_its_logins(client: Any, rt: Any,
                                                                 app: Any) -> None:
    from tests.conftest import login as log_in

    make_user(rt, "editor@example.org", "editor")
    member(client, rt)
    assert client.get("/members/").status_code == 200
    editor = new_client(app)
    log_in(editor)
    page = editor.get("/editors/members").get_data(as_text=True)
    assert "<summary class=\"button danger small\">Close the account" in page
    with rt.db.session() as s:
        from ostogether.models import User
        uid = s.scalar(select(User.id).where(User.email == "m@example.org"))
    editor.post(f"/editors/accounts/{uid}/remove", data={"csrf_token": csrf_from(page)})
    assert client.get("/members/").status_code == 200  # not confirmed: nothing happened
    editor.post(f"/editors/accounts/{uid}/remove", data={"csrf_token": csrf_from(page),
                                                         "confirm": "yes"})
    after = editor.get("/editors/members").get_data(as_text=True)
    assert "The account of m@example.org is closed" in after
    assert client.get("/members/").status_code == 302  # logged out, and cannot log in
    assert member_login_fails(client)
    with rt.db.session() as s:
        assert s.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "user.removed")) == "user.removed"


def member_login_fails(client: Any) -> bool:
    from tests.conftest import login as log_in
    return log_in(client, "m@example.org").status_code != 302
