"""Readers: double opt-in, the consent log, one-click unsubscribe (RFC 8058), the
preferences page, and the GDPR rights to download and erase, through the web pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Subscriber, Suppression
from ostogether.readers import subscribers
from tests.conftest import csrf_from, link_in, new_client, outbox

UA = "Mozilla/5.0 (test)"


def sign_up(client: Any, email: str = "reader@example.org", **extra: Any) -> Any:
    token = csrf_from(client.get("/subscribe").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "name": "Ana", "language": "en",
            "consent": "y", **extra}
    return client.post("/subscribe", data=data, headers={"User-Agent": UA})


def subscribed(client: Any, settings: Any, email: str = "reader@example.org") -> str:
    """Sign up and confirm; return the reader's /u/ path from the welcome mail."""
    sign_up(client, email)
    confirm = link_in(outbox(settings)[-1], "/subscribe/confirm/")
    page = client.get(confirm)
    client.post(confirm, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    return link_in(outbox(settings)[-1], "/u/")


def status(rt: Runtime, email: str = "reader@example.org") -> str | None:
    with rt.db.session() as s:
        return s.scalar(select(Subscriber.status).where(Subscriber.email == email))


def test_double_opt_in_with_a_consent_log(client: Any, rt: Runtime, settings: Any) -> None:
    form = client.get("/subscribe").get_data(as_text=True)
    assert 'type="checkbox"' in form and "checked" not in form  # never pre-ticked
    assert 'href="/privacy"' in form
    r = sign_up(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/subscribe/sent")
    assert status(rt) == "pending"
    [mail] = outbox(settings)
    assert mail["To"] == "reader@example.org"
    confirm = link_in(mail, "/subscribe/confirm/")
    # Following the link (as a mail scanner does) confirms nothing.
    page = client.get(confirm)
    assert page.status_code == 200 and "Yes, subscribe me" in page.get_data(as_text=True)
    assert status(rt) == "pending"
    r = client.post(confirm, data={"csrf_token": csrf_from(page.get_data(as_text=True))},
                    headers={"User-Agent": UA})
    assert "You are subscribed" in r.get_data(as_text=True)
    assert status(rt) == "confirmed"
    welcome = outbox(settings)[-1]
    assert welcome["Subject"] == "Welcome to the OStogether newsletter"
    assert link_in(welcome, "/u/") and link_in(welcome, "/p/")
    with rt.db.session() as s:
        log = list(s.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))
    assert [(e.action, e.source) for e in log] == [("subscribe", "form"), ("confirm", "link")]
    assert all(e.ip and e.user_agent == UA and e.consent_version == "1.2" for e in log)


def test_signing_up_again_never_reveals_the_address(app: Any, rt: Runtime,
                                                    settings: Any) -> None:
    subscribed(new_client(app), settings)
    before = len(outbox(settings))
    stranger = new_client(app)
    known = sign_up(stranger, "reader@example.org")
    unknown = sign_up(stranger, "someone.else@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    mails = outbox(settings)[before:]
    assert [m["Subject"] for m in mails] == [
        "You already receive the OStogether newsletter",
        "Confirm your subscription to the OStogether newsletter"]
    assert status(rt) == "confirmed"


def test_bad_sign_ups_are_refused_with_reasons_and_nothing_stored(client: Any,
                                                                  rt: Runtime) -> None:
    r = sign_up(client, "not-an-address", consent="")
    body = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "tick the box to agree" in body and "must have an @-sign" in body
    with rt.db.session() as s:
        assert s.scalar(select(Subscriber.id)) is None


def test_sign_ups_are_rate_limited_per_address(app: Any, rt: Runtime) -> None:
    for n in range(5):
        assert sign_up(new_client(app)).status_code == 302, n
    r = sign_up(new_client(app))
    assert r.status_code == 429 and "Too many sign-ups" in r.get_data(as_text=True)


def test_expired_and_forged_links(client: Any, rt: Runtime, settings: Any,
                                  test_clock: clock.FakeClock) -> None:
    sign_up(client)
    confirm = link_in(outbox(settings)[-1], "/subscribe/confirm/")
    forged = confirm[:-3] + ("aaa" if not confirm.endswith("aaa") else "bbb")
    assert client.get(forged).status_code == 404
    assert client.get("/u/nonsense").status_code == 404
    test_clock.advance(hours=settings.subscribe_confirm_hours + 1)
    r = client.get(confirm)
    assert r.status_code == 400 and "This link has expired" in r.get_data(as_text=True)
    assert status(rt) == "pending"


def test_one_click_unsubscribe_rfc_8058(app: Any, rt: Runtime, settings: Any) -> None:
    u = subscribed(new_client(app), settings)
    mail_client = app.test_client()  # no cookies, no CSRF token: a mail client
    page = mail_client.get(u)
    assert page.status_code == 200 and status(rt) == "confirmed"  # GET changes nothing
    assert page.get_data(as_text=True).count("<form") == 1
    r = mail_client.post(u, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and status(rt) == "unsubscribed"
    assert mail_client.post(u, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with rt.db.session() as s:
        last = s.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
    assert last is not None and (last.action, last.source) == ("unsubscribe", "one-click")


def test_preferences_download_and_erase(app: Any, rt: Runtime, settings: Any) -> None:
    c = new_client(app)
    u = subscribed(c, settings)
    p = "/p/" + u.removeprefix("/u/")
    page = c.get(p)
    r = c.post(p, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                        "name": "Ana María", "language": "es"})
    assert r.status_code == 200 and "Saved." in r.get_data(as_text=True)
    data = c.get(p + "/data.json").get_json()
    assert data["email"] == "reader@example.org" and data["language"] == "es"
    assert [e["action"] for e in data["consent_log"]] == ["subscribe", "confirm",
                                                          "preferences"]
    token = csrf_from(c.get(p).get_data(as_text=True))
    refused = c.post(p + "/erase", data={"csrf_token": token})
    assert refused.status_code == 400 and status(rt) == "confirmed"
    # The preferences page again, the message beside the box, not an error page.
    html = refused.get_data(as_text=True)
    assert 'id="confirm-erase-error">Nothing was erased. Tick the box' in html
    assert 'aria-invalid="true" aria-describedby="confirm-erase-error"' in html
    assert 'value="Ana María"' in html  # the stored name, shown as it is
    r = c.post(p + "/erase", data={"csrf_token": token, "confirm": "yes"})
    assert "Your data is erased" in r.get_data(as_text=True)
    with rt.db.session() as s:
        row = s.scalars(select(Subscriber)).one()
        assert (row.email, row.email_hash, row.name, row.status) == (None, None, "", "erased")
        hashed = subscribers.email_hash("reader@example.org")
        assert s.scalar(select(Suppression.reason).where(
            Suppression.email_hash == hashed)) == "erased"
        log = list(s.scalars(select(ConsentEvent).where(ConsentEvent.email_hash == hashed)))
        assert log[-1].action == "erase" and all(not e.ip and not e.user_agent for e in log)
    assert c.get(p).status_code == 404 and c.get(u).status_code == 404
    # The owner may come back: a new, explicit sign-up starts a new subscription.
    assert sign_up(new_client(app)).status_code == 302
    assert status(rt) == "pending"


def test_a_reader_who_lost_their_mails_asks_for_their_link(app: Any, rt: Runtime,
                                                           settings: Any) -> None:
    """The same answer for a reader, a stranger and a pending sign-up: the form tells
    nobody who is subscribed; only the reader's own mailbox gets the link."""
    c = new_client(app)
    u = subscribed(c, settings)
    before = len(outbox(settings))

    def ask(address: str) -> str:
        page = c.get("/newsletter/manage").get_data(as_text=True)
        r = c.post("/newsletter/manage", data={"csrf_token": csrf_from(page),
                                               "email": address})
        assert r.status_code == 200
        return r.get_data(as_text=True).replace(address, "ADDRESS")

    known = ask("Reader@Example.org")
    stranger = ask("nobody@example.org")
    assert known == stranger and "a mail with your personal link is on its way" in known
    mails = outbox(settings)[before:]
    assert [m["To"] for m in mails] == ["reader@example.org"]
    body = mails[0].get_body(("plain",)).get_content()
    assert "/p/" + u.removeprefix("/u/") in body and u in body
    page = c.get("/newsletter/manage").get_data(as_text=True)
    bad = c.post("/newsletter/manage", data={"csrf_token": csrf_from(page),
                                             "email": "not an address"})
    assert bad.status_code == 400
    assert 'id="email-error"' in bad.get_data(as_text=True)
    codes = [c.post("/newsletter/manage", data={"csrf_token": csrf_from(page),
                                                "email": "reader@example.org"}).status_code
             for _ in range(settings.subscribe_max_per_hour + 1)]
    assert codes[-1] == 429  # rate-limited like sign-ups, per address and per client
