"""Mail transports against a real aiosmtpd server: plain, STARTTLS with AUTH, implicit TLS."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given, settings
from hypothesis import strategies as st

from ostogether.core.errors import MailError
from ostogether.mail.message import address, build
from ostogether.mail.transports import OutboxTransport, SMTPTransport
from tests.conftest import Sink, free_port


def message(subject: str = "Hello", to: str = "reader@example.org") -> Any:
    return build(sender=address("OStogether", "news@example.org"), to=to, subject=subject,
                 text="Plain text body", html="<p>HTML body</p>", reply_to="help@example.org")


def test_outbox_writes_one_eml_per_message_into_a_maildir(tmp_path: Path) -> None:
    box = OutboxTransport(tmp_path / "outbox")
    box.send(message("First"))
    box.send(message("Second"))
    files = list((tmp_path / "outbox" / "new").iterdir())
    assert len(files) == 2
    got = box.messages()
    assert [m["Subject"] for m in got] == ["First", "Second"]
    assert got[0].get_body(("plain",)).get_content().strip() == "Plain text body"
    assert got[0]["From"] == "OStogether <news@example.org>"


def test_outbox_that_cannot_be_written_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MailError, match="Cannot write to the outbox .*OSTOGETHER_OUTBOX_DIR"):
        OutboxTransport(blocker / "outbox").send(message())


def test_smtp_plain(smtp_server: tuple[Any, Sink]) -> None:
    controller, sink = smtp_server
    SMTPTransport("127.0.0.1", controller.port, security="none", timeout=5).send(message())
    assert len(sink.messages) == 1
    got = sink.messages[0]
    assert got["Subject"] == "Hello" and got["Reply-To"] == "help@example.org"
    assert got.get_content_type() == "multipart/alternative"
    assert sink.envelopes[0].rcpt_tos == ["reader@example.org"]


def test_smtp_keeps_one_connection_across_messages(smtp_server: tuple[Any, Sink]) -> None:
    controller, sink = smtp_server
    with SMTPTransport("127.0.0.1", controller.port, security="none", timeout=5) as t:
        for i in range(5):
            t.send(message(f"n{i}"))
    assert [m["Subject"] for m in sink.messages] == [f"n{i}" for i in range(5)]


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_ctx, str(ca_file)


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"editor", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def starttls_server(tls: tuple[ssl.SSLContext, str]) -> Iterator[tuple[Controller, Sink]]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(),
                            tls_context=tls[0], require_starttls=True, authenticator=_auth,
                            auth_require_tls=True)
    controller.start()
    yield controller, sink
    controller.stop()


def test_smtp_starttls_with_auth(starttls_server: tuple[Controller, Sink],
                                 tls: tuple[ssl.SSLContext, str]) -> None:
    controller, sink = starttls_server
    SMTPTransport("127.0.0.1", controller.port, security="starttls", username="editor",
                  password="s3cret", timeout=5, ca_file=tls[1]).send(message())
    assert len(sink.messages) == 1


def test_smtp_wrong_password_names_the_settings(starttls_server: tuple[Controller, Sink],
                                                tls: tuple[ssl.SSLContext, str]) -> None:
    controller, sink = starttls_server
    t = SMTPTransport("127.0.0.1", controller.port, security="starttls", username="editor",
                      password="wrong", timeout=5, ca_file=tls[1])
    with pytest.raises(MailError, match="refused the login for 'editor'.*SMTP_PASSWORD"):
        t.send(message())
    assert sink.messages == []


def test_smtp_untrusted_certificate_is_refused(starttls_server: tuple[Controller, Sink]) -> None:
    controller, sink = starttls_server
    t = SMTPTransport("127.0.0.1", controller.port, security="starttls", timeout=5)
    with pytest.raises(MailError, match="TLS with the SMTP server .* failed"):
        t.send(message())
    assert sink.messages == []


def test_smtp_implicit_tls(tls: tuple[ssl.SSLContext, str]) -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), ssl_context=tls[0])
    controller.start()
    try:
        SMTPTransport("127.0.0.1", controller.port, security="tls", timeout=5,
                      ca_file=tls[1]).send(message())
    finally:
        controller.stop()
    assert len(sink.messages) == 1


def test_smtp_starttls_missing_is_explained(smtp_server: tuple[Any, Sink]) -> None:
    controller, _ = smtp_server  # a plain server offers no STARTTLS
    with pytest.raises(MailError, match="does not offer STARTTLS"):
        SMTPTransport("127.0.0.1", controller.port, security="starttls", timeout=5).send(message())


def test_smtp_server_down_is_one_clear_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(MailError, match=f"Cannot connect to the SMTP server 127.0.0.1:{port}"):
        SMTPTransport("127.0.0.1", port, security="none", timeout=2).send(message())


@pytest.mark.parametrize("field", ["subject", "to", "name"])
def test_header_injection_is_rejected(field: str) -> None:
    evil = "Hello\r\nBcc: victim@example.org"
    with pytest.raises(MailError, match="line break"):
        if field == "name":
            address(evil, "x@example.org")
        elif field == "subject":
            message(subject=evil)
        else:
            message(to="a@example.org\nBcc: victim@example.org")


# ------------------------------------------------------------------ issue messages

KEY = "0123456789abcdef01234567"  # an issue's placeholder key
U, W, P = (f"%%{n}:{KEY}%%" for n in ("unsubscribe_url", "web_url", "preferences_url"))


def issue_message(**over: Any) -> Any:
    from ostogether.mail.message import IssueMessage

    kwargs: dict[str, Any] = dict(
        sender="OStogether <news@example.org>", reply_to="help@example.org",
        subject="Numéro 12 · ça va", html=f"<p>é <a href=\"{U}\">x</a></p>\n",
        text=f"Unsubscribe: {U}\n", placeholder_key=KEY,
        list_id="OStogether <newsletter.example.org>",
        bounce_address="bounces@example.org", secret="s" * 40)
    kwargs.update(over)
    return IssueMessage(**kwargs)


def reader(name: str = "Zoë", values: dict[str, str] | None = None) -> Any:
    from ostogether.mail.message import Recipient

    return Recipient(41, "zoe@example.org", name, values or {
        "unsubscribe_url": "https://example.org/u/a.b-c?x=1&y=2", "web_url": "w",
        "preferences_url": "p"})


@pytest.mark.parametrize("field", ["subject", "sender", "list_id"])
def test_issue_message_refuses_a_line_break_in_a_header(field: str) -> None:
    with pytest.raises(MailError, match="line break"):
        issue_message(**{field: "Hi\r\nBcc: victim@example.org"})
    with pytest.raises(MailError, match="line break"):
        issue_message().render(reader("Eve\nBcc: victim@example.org"))


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
       st.text(alphabet="abcdefghij%/?&=:.-_ ", min_size=1, max_size=150))
@settings(max_examples=200, deadline=None)
def test_issue_message_decodes_to_exactly_the_personalised_parts(body: str, url: str) -> None:
    import email
    import email.policy

    from ostogether.edges.render import personalise

    html = f"<p>{body}</p><a href=\"{U}\">u</a>{body}{W}\n"
    text = f"{body}\n{U}\n{body} {P}"
    values = {"unsubscribe_url": "https://example.org/" + url, "web_url": url,
              "preferences_url": url}
    out = issue_message(html=html, text=text).render(reader(values=values))
    # Every line within SMTP's limit, and CRLF only.
    assert max(len(line) for line in out.data.split(b"\r\n")) <= 998
    assert b"\n" not in out.data.replace(b"\r\n", b"")
    msg = email.message_from_bytes(out.data, policy=email.policy.default)
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    norm = lambda s: s.replace("\r\n", "\n").replace("\r", "\n")  # noqa: E731
    assert norm(plain.get_content()) == norm(personalise(text, values, KEY, is_html=False))
    assert norm(rich.get_content()) == norm(personalise(html, values, KEY, is_html=True))


def test_dkim_signature_verifies_and_covers_list_unsubscribe(tmp_path: Path) -> None:
    import base64

    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ostogether.mail.message import DkimKey

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = base64.b64encode(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    dkim_key = DkimKey.load("news2026", "example.org", str(tmp_path / "dkim.pem"), "")
    rendered = issue_message().render(reader())
    OutboxTransport(tmp_path / "box", dkim_key).send_raw(rendered.envelope_from, rendered.to,
                                                         rendered.data)
    [path] = (tmp_path / "box" / "new").iterdir()
    data = path.read_bytes()
    assert data.startswith(b"Return-Path: <bounces+d41-")
    out = rendered.__class__(rendered.envelope_from, rendered.to, rendered.message_id,
                             data.split(b"\r\n", 1)[1])
    assert out.data.startswith(b"DKIM-Signature: ")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news2026._domainkey.example.org."
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(out.data, dnsfunc=dns)
    signed = out.data.split(b"\r\n\r\n", 1)[0].decode().replace("\r\n", "")
    h_tag = re.search(r"h=([^;]+);", signed.replace(" ", "")).group(1).lower()  # type: ignore[union-attr]
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(
        h_tag.split(":"))
    tampered = out.data.replace(b"https://example.org/u/", b"https://evil.example/u/")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_half_a_dkim_configuration_is_refused() -> None:
    from ostogether.core.errors import ConfigError
    from ostogether.mail.message import DkimKey

    assert DkimKey.load("", "", "", "") is None
    with pytest.raises(ConfigError, match="DKIM needs"):
        DkimKey.load("sel", "", "", "")
    with pytest.raises(ConfigError, match="cannot read /nonexistent"):
        DkimKey.load("sel", "example.org", "/nonexistent/key.pem", "")
    with pytest.raises(ConfigError, match="not a PEM private key"):
        DkimKey.load("sel", "example.org", "", "hello")


def test_verp_tokens_are_signed() -> None:
    from ostogether.mail.message import delivery_from_token, verp_address, verp_token

    token = verp_token("secret", 1234)
    assert verp_address("bounces@example.org", token) == f"bounces+{token}@example.org"
    assert delivery_from_token("secret", f"BOUNCES+{token.upper()}@example.org") == 1234
    assert delivery_from_token("secret", token.replace("1234", "1235")) is None
    assert delivery_from_token("other secret", token) is None
