"""Rate limits that IPv6 and +tags do not walk around. Every limit counts an IPv6 client by
its network (``ratelimit_ipv6_prefix``, a /64 by default), as an IPv4 client by its
address; the confirmation mails one mailbox gets count the address without its ``+tag``
and whatever its case. Before: 20 wrong passwords from 20 addresses of one /64 were all
checked, 12 of 12 sign-ups from one /64 went through, and 15 confirmation mails reached
one mailbox through ``victim+N@``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ostogether.core import clock
from ostogether.core.errors import RateLimited
from ostogether.core.settings import Settings, load_settings
from ostogether.edges import ratelimit
from ostogether.edges.runtime import Runtime
from ostogether.registry import projects
from ostogether.registry.rules import ProjectRecord
from ostogether.web import create_app
from tests.conftest import csrf_from, frozen, new_client, outbox
from tests.factories import make_user

PASSWORD = "correct horse battery"
UA = "Mozilla/5.0 (test)"


def from_address(app: Any, address: str) -> Any:
    client = new_client(app)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def log_in(app: Any, address: str, password: str) -> int:
    c = from_address(app, address)
    token = csrf_from(c.get("/login").get_data(as_text=True))
    return int(c.post("/login", data={"email": "ed@ecsite.eu", "password": password,
                                      "csrf_token": token}).status_code)


def sign_up(app: Any, address: str, email: str) -> int:
    c = from_address(app, address)
    token = csrf_from(c.get("/subscribe").get_data(as_text=True))
    return int(c.post("/subscribe", data={"csrf_token": token, "email": email, "name": "",
                                          "language": "en", "consent": "y"},
                      headers={"User-Agent": UA}).status_code)


def test_twenty_wrong_passwords_from_one_ipv6_64_check_only_five(app: Any, rt: Runtime) -> None:
    make_user(rt, "ed@ecsite.eu")
    with frozen(clock.now()):  # the waits are exact: none of them is over
        answers = [log_in(app, f"2001:db8:aa:bb::{n + 1:x}", "wrong") for n in range(20)]
        # Five were checked (400: not right); fifteen were refused before the check.
        assert answers == [400] * 5 + [429] * 15
        # The editor, from a network of their own, is not held back.
        assert log_in(app, "2001:db8:aa:bc::1", PASSWORD) == 302


def test_sign_ups_from_one_ipv6_64_are_limited(app: Any, rt: Runtime,
                                               settings: Settings) -> None:
    answers = [sign_up(app, f"2001:db8:5:6:{n + 1:x}::{n + 7:x}", f"reader{n}@example.org")
               for n in range(12)]
    limit = settings.subscribe_max_per_hour
    assert answers == [302] * limit + [429] * (12 - limit)
    assert len(outbox(settings)) == limit
    assert sign_up(app, "2001:db8:5:7::1", "other@example.org") == 302  # the next /64


def test_applications_from_one_ipv6_64_are_limited(rt: Runtime, settings: Settings) -> None:
    rt.settings = dataclasses.replace(settings, application_max_per_hour=2)

    def apply(i: int) -> Any:
        rec = ProjectRecord(slug="", acronym=f"P{i}", name="P", description="d",
                            initiative_type="school-led-action", themes=("steam",),
                            countries=("BE",), start_date=dt.date(2025, 1, 1),
                            website=f"https://p{i}.example.org/",
                            contact_email="p@example.org", non_commercial=True,
                            coc_accepted_on=rt.today())
        return projects.apply(rt, rec, ip=f"2001:db8:7:7::{i + 1}")

    assert apply(0).project is not None and apply(1).project is not None
    with pytest.raises(RateLimited, match="Too many applications"):
        apply(2)


def test_confirmation_mails_to_one_mailbox_count_without_the_tag(app: Any, rt: Runtime,
                                                                 settings: Settings) -> None:
    answers = [sign_up(app, f"192.0.2.{n + 1}", f"{'Victim' if n % 2 else 'victim'}+{n}"
                                                f"@School.example") for n in range(15)]
    limit = settings.subscribe_max_per_hour
    assert answers == [302] * limit + [429] * (15 - limit)
    assert len(outbox(settings)) == limit
    # Another mailbox at the same school is not held back.
    assert sign_up(app, "192.0.2.99", "colleague+news@school.example") == 302


def test_password_links_to_one_mailbox_count_without_the_tag(rt: Runtime) -> None:
    from ostogether.accounts import users

    with frozen(clock.now()):  # the answer's fixed delay passes at once
        for n in range(5):
            users.request_password_reset(rt, f"Ed+{n}@ecsite.eu", ip=f"192.0.2.{n + 1}")
        with pytest.raises(RateLimited, match="password links"):
            users.request_password_reset(rt, "ed+5@ECSITE.eu", ip="192.0.2.50")


def test_the_prefix_is_a_setting(app: Any, rt: Runtime, env: dict[str, str]) -> None:
    """With 128 bits, each IPv6 address is a client of its own again; out of 32..128 the
    setting is refused at start."""
    make_user(rt, "ed@ecsite.eu")
    exact = create_app(load_settings(environ={**env, "OSTOGETHER_RATELIMIT_IPV6_PREFIX": "128"}))
    with frozen(clock.now()):
        answers = [log_in(exact, f"2001:db8:aa:bb::{n + 1:x}", "wrong") for n in range(8)]
    assert answers == [400] * 8
    for bad in ("31", "129"):
        with pytest.raises(Exception, match="RATELIMIT_IPV6_PREFIX"):
            load_settings(environ={**env, "OSTOGETHER_RATELIMIT_IPV6_PREFIX": bad})


@given(a=st.ip_addresses(v=6), b=st.ip_addresses(v=6), prefix=st.integers(32, 128))
@example(a=ipaddress.IPv6Address("2001:db8::1"), b=ipaddress.IPv6Address("2001:db8::2"),
         prefix=64)
def test_ipv6_clients_are_their_networks(a: ipaddress.IPv6Address, b: ipaddress.IPv6Address,
                                         prefix: int) -> None:
    same_net = (int(a) >> (128 - prefix)) == (int(b) >> (128 - prefix))
    mapped = a.ipv4_mapped is not None or b.ipv4_mapped is not None
    if not mapped:
        assert (ratelimit.address_key(str(a), prefix) ==
                ratelimit.address_key(str(b), prefix)) is same_net
    # Spelled any way (upper case, in full, with a zone), an address is the same client.
    assert ratelimit.address_key(a.exploded.upper(), prefix) == \
        ratelimit.address_key(f"{a.compressed}%eth0", prefix) == \
        ratelimit.address_key(str(a), prefix)


@given(a=st.ip_addresses(v=4))
def test_ipv4_clients_are_their_addresses(a: ipaddress.IPv4Address) -> None:
    assert ratelimit.address_key(str(a)) == str(a)
    assert ratelimit.address_key(f"::ffff:{a}") == str(a)  # mapped into IPv6: the same


@given(local=st.from_regex(r"[a-zA-Z0-9._]{1,20}", fullmatch=True),
       tag=st.from_regex(r"[a-zA-Z0-9.+_-]{0,20}", fullmatch=True),
       domain=st.sampled_from(["school.example", "EXAMPLE.org", "mail.Ecsite.eu"]))
def test_a_mailbox_is_the_address_without_its_tag_in_any_case(local: str, tag: str,
                                                              domain: str) -> None:
    plain = ratelimit.mailbox_key(f"{local}@{domain}")
    assert ratelimit.mailbox_key(f"{local}+{tag}@{domain}") == plain
    assert ratelimit.mailbox_key(f"{local.upper()}+{tag}@{domain.lower()}") == plain
    assert ratelimit.mailbox_key(f"{local}x@{domain}") != plain
