"""Bounce mail (RFC 3464 DSNs from a maildir or mbox) and the CSV import and export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import mailbox
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.message import verp_address, verp_token
from ostogether.models import ConsentEvent, Delivery, Subscriber, Suppression
from ostogether.newsletter import delivery
from ostogether.readers import readers_import, subscribers
from tests.conftest import run
from tests.factories import TEST, add_readers, approved_issue
from tests.feedserver import FeedServer

DSN = Path(__file__).parents[1] / "data" / "dsn"


@pytest.fixture
def env(env: dict[str, str], home: Path) -> dict[str, str]:
    return {**env, "OSTOGETHER_LINK_CHECK_TIMEOUT": "1",
            "OSTOGETHER_OUTBOX_DIR": str(home / "var" / "outbox")}




@pytest.fixture
def sent(rt: Runtime, web: FeedServer) -> dict[str, Delivery]:
    """An issue sent (to the outbox) to 6 readers; their deliveries by address."""
    add_readers(rt, 6)
    issue = approved_issue(rt, [web.url("/page/0")])
    assert delivery.send(rt, TEST, issue.id).issue_status == "sent"
    with rt.db.session() as s:
        rows = s.execute(select(Subscriber.email, Delivery).join(
            Delivery, Delivery.subscriber_id == Subscriber.id)).all()
        return {str(email): d for email, d in rows}


def dsn(name: str, rt: Runtime, row: Delivery, rcpt: str) -> bytes:
    verp = verp_address("bounces@ecsite.eu", verp_token(secret_key(rt.settings), row.id))
    text = (DSN / name).read_text()
    return text.format(verp=verp, rcpt=rcpt, message_id=row.message_id).encode()


def maildir_of(tmp_path: Path, mails: list[bytes]) -> Path:
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    for m in mails:
        box.add(m)
    box.close()
    return tmp_path / "bounces"


def status_of(rt: Runtime, email: str) -> tuple[str, int]:
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == email))
        assert sub is not None
        return sub.status, sub.hard_bounces


def test_bounces_from_a_maildir(rt: Runtime, env: dict[str, str], sent: dict[str, Delivery],
                                tmp_path: Path) -> None:
    a, b, c, d, e, f = sorted(sent)
    mails = [dsn("postfix-user-unknown.eml", rt, sent[a], a),
             dsn("sendmail-mailbox-full.eml", rt, sent[b], b),
             dsn("exchange-rewritten-to.eml", rt, sent[c], c),  # token in Message-ID only
             dsn("delayed.eml", rt, sent[d], d),
             dsn("mailto-unsubscribe.eml", rt, sent[e], e),
             dsn("out-of-office.eml", rt, sent[f], f),
             # a forged token: the signature does not match, so nothing happens
             dsn("postfix-user-unknown.eml", rt, sent[f], f).replace(
                 f"d{sent[f].id}-".encode(), f"d{sent[a].id}-".encode())]
    box = maildir_of(tmp_path, mails)
    r = run(env, "bounces", "process", "--maildir", str(box))
    assert r.returncode == 0, r.stderr
    assert ("7 mail(s) read: 3 hard bounce(s), 1 soft, 2 reader(s) suppressed, "
            "1 unsubscribed by mail, 0 already counted, 1 not ours, 1 other.") in r.stdout
    assert status_of(rt, a) == ("bounced", 1)  # 5.1.1: suppressed at once
    assert status_of(rt, b) == ("confirmed", 1)  # 5.2.2 mailbox full: counted, not yet
    assert status_of(rt, c) == ("bounced", 1)  # 5.1.10 via the quoted Message-ID
    assert status_of(rt, d) == ("confirmed", 0)  # delayed: soft
    assert status_of(rt, e) == ("unsubscribed", 0)
    assert status_of(rt, f) == ("confirmed", 0)
    with rt.db.session() as s:
        rows = {d.id: d for d in s.scalars(select(Delivery))}
        assert rows[sent[a].id].status == "bounced"
        assert rows[sent[a].id].last_error.startswith("DSN 5.1.1 smtp; 550 5.1.1")
        assert rows[sent[d].id].status == "sent"
        assert s.scalar(select(Suppression).where(Suppression.email_hash == subscribers
                                                  .email_hash(a))).reason == "bounced"
        unsub = s.scalar(select(ConsentEvent).where(ConsentEvent.action == "unsubscribe"))
        assert unsub is not None and unsub.source == "mailto"
    # Read mails are marked seen and not counted again.
    r = run(env, "bounces", "process", "--maildir", str(box))
    assert "0 mail(s) read" in r.stdout


def test_hard_bounces_add_up_to_the_limit_and_repeat_harmlessly(
        rt: Runtime, sent: dict[str, Delivery], tmp_path: Path, web: FeedServer) -> None:
    from ostogether.readers import bounces

    reader = sorted(sent)[0]
    mbox = mailbox.mbox(tmp_path / "bounces.mbox")
    full = dsn("sendmail-mailbox-full.eml", rt, sent[reader], reader)
    mbox.add(full)
    mbox.add(full)  # the same bounce twice
    mbox.close()
    summary = bounces.process(rt, "mbox", tmp_path / "bounces.mbox")
    assert (summary.hard, summary.repeated) == (1, 1)
    assert status_of(rt, reader) == ("confirmed", 1)
    # Two more issues bounce for the same full mailbox: the third hard bounce suppresses.
    for page in (1, 2):
        issue = approved_issue(rt, [web.url(f"/page/{page}")])
        delivery.send(rt, TEST, issue.id)
        with rt.db.session() as s:
            row = s.scalar(select(Delivery).join(Subscriber).where(
                Subscriber.email == reader, Delivery.issue_id == issue.id))
        assert row is not None
        box = mailbox.mbox(tmp_path / f"b{issue.id}.mbox")
        box.add(dsn("sendmail-mailbox-full.eml", rt, row, reader))
        box.close()
        bounces.process(rt, "mbox", tmp_path / f"b{issue.id}.mbox")
    assert status_of(rt, reader) == ("bounced", 3)


def test_a_missing_mailbox_is_a_clear_error(rt: Runtime, env: dict[str, str],
                                            tmp_path: Path) -> None:
    r = run(env, "bounces", "process", "--maildir", str(tmp_path))
    assert r.returncode == 1 and "is not a maildir" in r.stderr and "Traceback" not in r.stderr
    r = run(env, "bounces", "process")
    assert r.returncode == 2 and "Give one of --maildir PATH or --mbox PATH" in r.stderr


# ------------------------------------------------------------------ import and export

CSV = """email,name,language,consent_date,consent_source
ana@example.org,Ana,pt,2023-05-02,mailchimp
Known@Example.org,,en,2023-05-02,mailchimp
not-an-address,,en,2023-05-02,mailchimp
gone@example.org,,en,2023-05-02,mailchimp
ben@example.org,Ben,xx,2023-05-02,mailchimp
ana@example.org,Ana again,pt,2023-05-02,mailchimp
cleo@example.org,Cléo,fr,2024-01-09T10:00:00+01:00,event sign-up sheet
dan@example.org,,en,,mailchimp
"""


def test_import_dry_run_then_apply(rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    add_readers(rt, 1, domain="x")  # noise
    with rt.db.session() as s:
        s.add(Subscriber(email="known@example.org", email_hash=subscribers.email_hash(
            "known@example.org"), status="unsubscribed", link_nonce="n"))
        s.add(Suppression(email_hash=subscribers.email_hash("gone@example.org"),
                          reason="erased", at=dt.datetime(2026, 3, 10, tzinfo=dt.UTC)))
    path = tmp_path / "readers.csv"
    path.write_text(CSV, encoding="utf-8")
    r = run(env, "subscribers", "import", str(path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "line 4: invalid: not-an-address — An email address must have an @-sign." in lines
    assert "line 6: invalid: ben@example.org — language: choose one of " \
           "en, fr, de, es, it, pt, nl, el" in lines
    assert "line 7: invalid: ana@example.org — repeats line 2" in lines
    assert any(x.startswith("line 9: invalid: dan@example.org — consent_date: must be a date")
               for x in lines)
    assert "line 5: suppressed: gone@example.org — on the suppression list: erased on " \
           "2026-03-10 at the owner's request; only its owner can sign up again" in lines
    assert "line 3: existing: known@example.org" in lines
    assert "2 new (would be added), 1 already there (unchanged), 4 invalid, " \
           "1 suppressed (not imported)." in lines
    assert "Nothing has been changed. Run again with --apply to write it." in lines
    with rt.db.session() as s:  # the dry run changed nothing
        assert s.scalar(select(Subscriber).where(Subscriber.email == "ana@example.org")) is None
    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    assert json.loads(r.stdout)["counts"] == {"new": 2, "existing": 1, "invalid": 4,
                                              "suppressed": 1, "suppress": 0, "left_out": 0}
    with rt.db.session() as s:
        ana = s.scalar(select(Subscriber).where(Subscriber.email == "ana@example.org"))
        assert ana is not None and ana.status == "confirmed" and ana.language == "pt"
        log = s.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == ana.id))
        assert log is not None and log.action == "import" and log.source == "import"
        assert log.detail["consent_source"] == "mailchimp" and log.detail["line"] == 2
        assert log.consent_version  # the privacy notice's version
        known = s.scalar(select(Subscriber).where(Subscriber.email == "known@example.org"))
        assert known is not None and known.status == "unsubscribed"  # not resubscribed
    # Export writes the same columns, so the file could be imported again.
    r = run(env, "subscribers", "export")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["email", "name", "language", "consent_date", "consent_source",
                       "topics", "kinds", "audiences", "projects", "country"]
    assert ["cleo@example.org", "Cléo", "fr", "2024-01-09T10:00:00+01:00",
            "event sign-up sheet", "", "", "", "", ""] in rows
    assert not any(row[0] == "known@example.org" for row in rows)  # confirmed only


@pytest.mark.parametrize("batch", [500, 1], ids=["one-batch", "batch-per-reader"])
def test_import_is_all_or_nothing(rt: Runtime, monkeypatch: pytest.MonkeyPatch,
                                  batch: int) -> None:
    """Written in short batches (the write lock is never held long), and still all or
    nothing: a failure in a later batch takes the earlier ones out again."""
    monkeypatch.setattr(readers_import, "IMPORT_BATCH", batch)
    calls = {"n": 0}
    real = readers_import.log_consent

    def failing_log(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(readers_import, "log_consent", failing_log)
    with pytest.raises(RuntimeError):
        readers_import.import_readers(rt, [("r.csv", CSV.encode())], apply=True)
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []  # the first row is taken out
        assert s.scalars(select(ConsentEvent)).all() == []


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe\x00bad", "not UTF-8 text"),
    (b"mail,name\nx@example.org,X\n", 'missing: email, consent_date, consent_source; '
                                      'not used: mail. Name them with --map, e.g. '
                                      '--map "mail=email"'),
    (b"", "r.csv is empty: it has no header line and no readers"),
    (b"\n \n", "r.csv is empty"),
    (b"PK\x03\x04broken", "r.csv is a damaged zip"),
])
def test_a_bad_file_says_what_is_wrong(rt: Runtime, data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        readers_import.import_readers(rt, [("r.csv", data)], apply=False)


def test_erase_from_the_command_line(rt: Runtime, env: dict[str, str]) -> None:
    [sid] = add_readers(rt, 1)
    r = run(env, "subscribers", "erase", "Reader0@Readers.test")
    assert r.returncode == 0, r.stderr
    assert f"Erased reader {sid}" in r.stdout
    with rt.db.session() as s:
        assert s.get(Subscriber, sid).status == "erased"  # type: ignore[union-attr]
    r = run(env, "subscribers", "erase", "Reader0@Readers.test")
    assert r.returncode == 1 and "No reader has the address" in r.stderr
