"""The sending domain's SPF, DKIM and DMARC, checked against an authoritative DNS server on
loopback, and the pre-flight's advice that shows the last result."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.mail import domain
from ostogether.newsletter import issues as newsletter
from tests.conftest import run
from tests.dnsserver import DnsServer
from tests.factories import approved_issue
from tests.feedserver import FeedServer

RELAY_IP = "185.12.64.25"


def rsa_key() -> tuple[str, str]:
    """A private key in PEM, and its public half as a DKIM p= value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def keys() -> tuple[tuple[str, str], tuple[str, str]]:
    return rsa_key(), rsa_key()


def mail_env(env: dict[str, str], server: DnsServer, pem: str) -> dict[str, str]:
    return {**env, "OSTOGETHER_DNS_NAMESERVER": server.address,
            "OSTOGETHER_DNS_TIMEOUT": "2",
            "OSTOGETHER_MAIL_FROM": "OStogether <newsletter@ostogether.example>",
            "OSTOGETHER_BOUNCE_ADDRESS": "bounces@mail.ostogether.example",
            "OSTOGETHER_SMTP_HOST": "smtp.relay.example",
            "OSTOGETHER_DKIM_SELECTOR": "news2026", "OSTOGETHER_DKIM_DOMAIN":
            "ostogether.example", "OSTOGETHER_DKIM_PRIVATE_KEY": pem}


def good_zone(public: str) -> dict[tuple[str, str], list[str]]:
    return {
        ("smtp.relay.example", "A"): [RELAY_IP],
        ("mail.ostogether.example", "TXT"): ["v=spf1 mx include:_spf.relay.example ~all"],
        ("mail.ostogether.example", "MX"): ["10 mx.ostogether.example."],
        ("mx.ostogether.example", "A"): ["185.12.70.1"],
        ("_spf.relay.example", "TXT"): ["v=spf1 ip4:185.12.64.0/24 ip6:2a01:4f8::/32 -all"],
        ("news2026._domainkey.ostogether.example", "TXT"): [
            f"v=DKIM1; k=rsa; p={public}"],
        ("_dmarc.ostogether.example", "TXT"): [
            "v=DMARC1; p=quarantine; rua=mailto:dmarc@ostogether.example"],
    }


@pytest.fixture
def dns_server(keys: Any) -> Iterator[DnsServer]:
    (_, public), _ = keys
    with DnsServer(good_zone(public)).running() as server:
        yield server


def test_a_domain_in_order_passes_and_the_preflight_says_so(
        rt: Runtime, env: dict[str, str], keys: Any, dns_server: DnsServer,
        web: FeedServer) -> None:
    (pem, _), _ = keys
    menv = mail_env(env, dns_server, pem)
    r = run(menv, "mail", "check-domain")
    assert r.returncode == 0, r.stderr + r.stdout
    out = " ".join(r.stdout.split())
    assert "Sending domain ostogether.example:" in out
    assert (f"SPF: SPF of mail.ostogether.example allows the relay smtp.relay.example "
            f"({RELAY_IP})") in out
    assert "DKIM: The DKIM record at news2026._domainkey.ostogether.example matches" in out
    assert "DMARC: DMARC p=quarantine at _dmarc.ostogether.example; SPF and DKIM aligned" in out
    assert ("_spf.relay.example", "TXT") in dns_server.queries  # the include was followed

    mrt = Runtime(load_settings(environ=menv))
    try:
        issue = approved_issue(mrt, [web.url("/page/0")])
        report, _ = newsletter.run_preflight(mrt, issue.id)
    finally:
        mrt.close()
    [check] = [c for c in report.checks if c.key == "domain"]
    assert check.status == "pass" and check.details == ("checked today: all in order",)


def test_a_domain_with_problems_says_what_to_publish(
        rt: Runtime, env: dict[str, str], keys: Any, web: FeedServer) -> None:
    (pem, _), (_, other_public) = keys
    zone = {**good_zone(other_public),  # the record holds another key
            ("mail.ostogether.example", "TXT"): ["v=spf1 ip4:198.51.100.7 -all"]}
    del zone[("_dmarc.ostogether.example", "TXT")]
    with DnsServer(zone).running() as server:
        menv = mail_env(env, server, pem)
        r = run(menv, "mail", "check-domain", "--format", "json")
    assert r.returncode == 1
    found = {f["key"]: f for f in json.loads(r.stdout)["findings"]}
    assert found["spf"]["status"] == "fail"
    assert "does not allow the relay smtp.relay.example (185.12.64.25: fail)" in \
        found["spf"]["message"]
    assert found["dkim"]["status"] == "fail" and "holds another key" in found["dkim"]["message"]
    assert found["dmarc"]["status"] == "fail"
    assert 'e.g. "v=DMARC1; p=none; rua=mailto:dmarc@ostogether.example"' in \
        found["dmarc"]["message"]

    # The pre-flight shows it as advice, which does not hold up approval.
    mrt = Runtime(load_settings(environ=menv))
    try:
        issue = approved_issue(mrt, [web.url("/page/0")])
        assert issue.status == "approved"
        report, _ = newsletter.run_preflight(mrt, issue.id)
        [check] = [c for c in report.checks if c.key == "domain"]
        assert check.status == "warn" and check.advisory
        assert any("holds another key" in d for d in check.details)
        assert "domain" not in [w.key for w in report.warnings]
        assert report.blocking() == []
    finally:
        mrt.close()


def test_spf_mechanisms_and_limits(dns_server: DnsServer) -> None:
    zone = {
        ("a.example", "TXT"): ["v=spf1 a:host.a.example/28 -all"],
        ("host.a.example", "A"): ["192.0.2.17"],
        ("r.example", "TXT"): ["v=spf1 redirect=a.example"],
        ("loop.example", "TXT"): ["v=spf1 include:loop.example -all"],
        ("two.example", "TXT"): ["v=spf1 -all", "v=spf1 +all"],
        ("soft.example", "TXT"): ["v=spf1 ~all"],
        ("six.example", "TXT"): ["v=spf1 ip6:2001:db8::/32 -all"],
    }
    with DnsServer(zone).running() as server:
        settings = load_settings(environ={"OSTOGETHER_DNS_NAMESERVER": server.address})
        lookups = domain.Lookups(domain.resolver(settings))

        def result(name: str, ip: str) -> str:
            return domain.spf_result(domain.Lookups(lookups.res), name, ipaddress.ip_address(ip))

        assert result("a.example", "192.0.2.30") == "pass"  # within the /28
        assert result("a.example", "192.0.2.40") == "fail"
        assert result("r.example", "192.0.2.20") == "pass"
        assert result("loop.example", "192.0.2.1") == "permerror"  # over 10 lookups
        assert result("two.example", "192.0.2.1") == "permerror"
        assert result("soft.example", "192.0.2.1") == "softfail"
        assert result("six.example", "2001:db8::25") == "pass"
        assert result("nothing.example", "192.0.2.1") == "none"


def test_a_silent_name_server_and_a_private_relay_are_named(
        rt: Runtime, env: dict[str, str], keys: Any, dns_server: DnsServer,
        tmp_path: Path) -> None:
    (pem, _), _ = keys
    # A UDP port held open that never answers. (A free TCP port from free_port() could be
    # the live DNS server's UDP port, which then answered.)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        dead = {**mail_env(env, dns_server, pem),
                "OSTOGETHER_DNS_NAMESERVER": f"127.0.0.1:{silent.getsockname()[1]}",
                "OSTOGETHER_DNS_TIMEOUT": "0.3"}
        r = run(dead, "mail", "check-domain")
    assert r.returncode == 0 and "The name servers did not answer" in r.stdout
    local = {**mail_env(env, dns_server, pem), "OSTOGETHER_SMTP_HOST": "127.0.0.1"}
    r = run(local, "mail", "check-domain")
    assert "is on a private address (127.0.0.1)" in " ".join(r.stdout.split())
    unsigned = {k: v for k, v in mail_env(env, dns_server, pem).items() if "DKIM" not in k}
    r = run(unsigned, "mail", "check-domain", "--format", "json")
    found = {f["key"]: f for f in json.loads(r.stdout)["findings"]}
    assert found["dkim"]["status"] == "warn" and "not signed" in found["dkim"]["message"]
    assert found["dmarc"]["status"] == "pass"  # SPF alone aligns (relaxed)


def test_an_issue_never_checked_gets_the_advice_to_check(rt: Runtime, web: FeedServer) -> None:
    issue = approved_issue(rt, [web.url("/page/0")])
    report, _ = newsletter.run_preflight(rt, issue.id)
    [check] = [c for c in report.checks if c.key == "domain"]
    assert check.status == "warn" and "check it on the sending domain page" in check.details[0]
    assert issue.status == "approved"  # approve() ran past the advice, unacknowledged


def test_the_sending_domain_page_checks_and_says_what_to_publish_where(
        rt: Runtime, env: dict[str, str], keys: Any, dns_server: DnsServer) -> None:
    """An editor's way, without a shell: the records to hand to IT, the public half of
    the configured key included, and **Check now**."""
    from ostogether.web import create_app
    from tests.conftest import csrf_from, login, new_client
    from tests.factories import make_user

    (pem, public), _ = keys
    app = create_app(load_settings(environ={**mail_env(env, dns_server, pem),
                                            "OSTOGETHER_MAIL_TRANSPORT": "smtp"}))
    try:
        make_user(rt)
        c = new_client(app)
        login(c)
        page = c.get("/editors/sending-domain").get_data(as_text=True)
        assert "Not checked yet." in page
        text = " ".join(page.split())
        assert ("<code>news2026._domainkey.ostogether.example</code>" in text
                and f"v=DKIM1; k=rsa; p={public}" in text)  # the configured key's public half
        assert "<code>mail.ostogether.example</code>" in text
        assert "v=spf1 a:smtp.relay.example ~all" in text
        assert "<code>_dmarc.ostogether.example</code>" in text and "v=DMARC1; p=none;" in text
        r = c.post("/editors/sending-domain", data={"csrf_token": csrf_from(page)})
        assert r.status_code == 302
        page = " ".join(c.get("/editors/sending-domain").get_data(as_text=True).split())
        assert "Checked ostogether.example: all in order." in page
        assert "In order:</strong> DKIM: The DKIM record at news2026._domainkey" in page
        # The findings are kept as sentences to word: the same page in Dutch says them in
        # Dutch, and English again after.
        dutch = " ".join(c.get("/editors/sending-domain?lang=nl").get_data(as_text=True).split())
        assert ("Het DKIM-record op news2026._domainkey.ostogether.example past bij de "
                "ondertekeningssleutel.") in dutch
        assert "matches the signing key" not in dutch
        assert "De publieke helft van de sleutel waarmee de dienst ondertekent." in dutch
        again = " ".join(c.get("/editors/sending-domain?lang=en").get_data(as_text=True).split())
        assert "The DKIM record at news2026._domainkey.ostogether.example matches" in again
    finally:
        app.extensions["ostogether"].close()


def test_the_preflight_advice_links_to_the_sending_domain_page(
        rt: Runtime, editor: Any, web: FeedServer) -> None:
    issue = approved_issue(rt, [web.url("/page/0")])
    page = editor.get(f"/editors/issues/{issue.number}/preflight").get_data(as_text=True)
    assert 'href="/editors/sending-domain"' in page


def test_public_key_txt_is_the_der_that_openssl_writes(keys: Any) -> None:
    for pem, public in keys:
        assert domain.public_key_txt(pem.encode()) == public
