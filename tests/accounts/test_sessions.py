"""Sessions end for good (logout, a new password, an admin), failed logins slow down per
account and address without ever locking an account from everywhere, and behind a proxy
each visitor keeps an address of their own."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from ostogether.accounts import users
from ostogether.core import clock
from ostogether.core.errors import RateLimited
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import RateLimitHit
from ostogether.web import create_app
from tests.conftest import (
    csrf_from,
    frozen,
    login,
    new_client,
    post,
    run,
)
from tests.factories import make_user

PASSWORD = "correct horse battery"


def copy_of(app: Any, client: Any) -> Any:
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = new_client(app)
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_dies_at_logout_in_every_browser(app: Any, rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    mine, laptop = new_client(app), new_client(app)
    assert login(mine, "ed@ecsite.eu").status_code == 302
    assert login(laptop, "ed@ecsite.eu").status_code == 302
    thief = copy_of(app, mine)
    assert thief.get("/editors/").status_code == 200
    assert post(mine, "/logout", "/editors/").status_code == 302
    for other in (thief, laptop, mine):
        assert other.get("/editors/").status_code == 302  # back to the login page


def test_a_new_password_ends_the_old_sessions(app: Any, rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    mine = new_client(app)
    login(mine, "ed@ecsite.eu")
    thief = copy_of(app, mine)
    with rt.db.session() as s:
        user = users.by_email(s, "ed@ecsite.eu")
        s.expunge(user)
    token = users.password_link(rt, user).rsplit("/", 1)[1]
    users.set_password(rt, token, "a brand new long password")
    assert thief.get("/editors/").status_code == 302
    assert mine.get("/editors/").status_code == 302
    assert login(mine, "ed@ecsite.eu", "a brand new long password").status_code == 302
    assert mine.get("/editors/").status_code == 200


def test_an_admin_ends_a_members_sessions_from_the_web_and_the_cli(
        app: Any, rt: Runtime, env: dict[str, str]) -> None:
    make_user(rt, "admin@ecsite.eu", "admin")
    make_user(rt, "editor@ecsite.eu", "editor")
    make_user(rt, "m@cosmosproject.eu", "member", project="cosmos")
    member = new_client(app)
    login(member, "m@cosmosproject.eu")
    assert member.get("/members/").status_code == 200
    with rt.db.session() as s:
        member_id = users.by_email(s, "m@cosmosproject.eu").id
    editor = new_client(app)
    login(editor, "editor@ecsite.eu")
    assert "Log out everywhere" not in editor.get("/editors/members").get_data(as_text=True)
    assert post(editor, f"/editors/accounts/{member_id}/end-sessions",
                "/editors/members").status_code == 403
    assert member.get("/members/").status_code == 200
    admin = new_client(app)
    login(admin, "admin@ecsite.eu")
    assert "Log out everywhere" in admin.get("/editors/members").get_data(as_text=True)
    r = post(admin, f"/editors/accounts/{member_id}/end-sessions", "/editors/members")
    assert r.status_code == 302 and member.get("/members/").status_code == 302
    login(member, "m@cosmosproject.eu")
    cli = run(env, "users", "end-sessions", "--email", "M@cosmosproject.eu")
    assert cli.returncode == 0 and "Every session of m@cosmosproject.eu has ended" in cli.stdout
    assert member.get("/members/").status_code == 302
    assert "no account" in run(env, "users", "end-sessions", "--email", "x@y.org").stderr


def test_failed_logins_slow_down_per_address_and_never_lock_out_everywhere(
        rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    with frozen(clock.now()) as test_clock:  # frozen: the waits are exact
        _slow_down_then_forget(rt, test_clock)


def _slow_down_then_forget(rt: Runtime, test_clock: clock.FakeClock) -> None:
    for _ in range(5):
        assert users.authenticate(rt, "ed@ecsite.eu", "wrong", ip="6.6.6.6") is None
    with pytest.raises(RateLimited, match="wait 30 seconds") as caught:
        users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="6.6.6.6")
    assert caught.value.retry_after == 30
    # The editor, from their own network, is not locked out.
    assert users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="1.2.3.4") is not None
    # The delay grows: 30 s, then 60 s, then 120 s after each further failure.
    test_clock.advance(seconds=31)
    assert users.authenticate(rt, "ed@ecsite.eu", "wrong", ip="6.6.6.6") is None
    test_clock.advance(seconds=31)
    with pytest.raises(RateLimited):
        users.authenticate(rt, "ed@ecsite.eu", "wrong", ip="6.6.6.6")
    test_clock.advance(seconds=30)
    assert users.authenticate(rt, "ed@ecsite.eu", "wrong", ip="6.6.6.6") is None
    test_clock.advance(seconds=100)
    with pytest.raises(RateLimited, match="wait 20 seconds"):
        users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="6.6.6.6")
    # A day later the failures are forgotten.
    test_clock.advance(hours=25)
    assert users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="6.6.6.6") is not None


def test_one_address_trying_many_accounts_is_slowed_down(rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    for n in range(50):
        assert users.authenticate(rt, f"guess{n}@example.org", "x", ip="6.6.6.6") is None
    with pytest.raises(RateLimited):
        users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="6.6.6.6")
    assert users.authenticate(rt, "ed@ecsite.eu", PASSWORD, ip="7.7.7.7") is not None


def test_twenty_wrong_passwords_at_once_count_as_twenty(rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            users.authenticate(rt, "ed@ecsite.eu", "wrong", ip="6.6.6.6")
            result = "tried"
        except RateLimited:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Exactly five passwords were tried; the other fifteen were refused before the check.
    assert sorted(outcomes) == ["refused"] * 15 + ["tried"] * 5
    with rt.db.session() as s:
        recorded = s.scalar(select(func.count()).select_from(RateLimitHit).where(
            RateLimitHit.key == "account:ed@ecsite.eu|ip:6.6.6.6"))
    assert recorded == 5


def test_behind_a_trusted_proxy_each_visitor_has_an_address(rt: Runtime,
                                                            env: dict[str, str]) -> None:
    make_user(rt, "ed@ecsite.eu")

    def fail_five_then_try(app: Any) -> int:
        for _ in range(5):
            c = new_client(app)
            page = c.get("/login").get_data(as_text=True)
            c.post("/login", data={"email": "ed@ecsite.eu", "password": "wrong",
                                   "csrf_token": csrf_from(page)},
                   headers={"X-Forwarded-For": "6.6.6.6"})
        c = new_client(app)
        page = c.get("/login").get_data(as_text=True)
        return int(c.post("/login", data={"email": "ed@ecsite.eu", "password": PASSWORD,
                                          "csrf_token": csrf_from(page)},
                          headers={"X-Forwarded-For": "1.2.3.4"}).status_code)

    proxied = create_app(load_settings(environ={**env, "OSTOGETHER_TRUSTED_PROXIES": "1"}))
    assert fail_five_then_try(proxied) == 302  # the editor's own address is not held back
    with rt.db.session() as s:
        s.query(RateLimitHit).delete()
    direct = create_app(load_settings(environ=env))
    # Without a trusted proxy the header is anyone's to send, so it is ignored: every
    # request comes from the same address, and that address waits.
    assert fail_five_then_try(direct) == 429


def test_a_password_link_takes_the_same_time_for_known_and_unknown_addresses(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both answers wait until RESET_ANSWER_SECONDS have passed since the request came:
    the time it takes cannot tell whether an account exists. (No stopwatch here: what
    is checked is that each path pads itself to the same total.)"""
    make_user(rt, "ed@ecsite.eu")
    slept: list[float] = []
    monkeypatch.setattr(users.clock, "sleep", slept.append)
    users.request_password_reset(rt, "ed@ecsite.eu", ip="1.1.1.1")  # a mail goes out
    users.request_password_reset(rt, "nobody@ecsite.eu", ip="1.1.1.1")  # nothing is sent
    # Both padded themselves: what each did took less than the answer time, and each
    # waited for the rest of it.
    assert len(slept) == 2
    assert all(0 < pause < users.RESET_ANSWER_SECONDS for pause in slept), slept
