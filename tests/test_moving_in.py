"""Moving in from Mailchimp: the audience export as it is downloaded (a zip of three CSVs,
in the old and the new file names), other tools' CSVs with a semicolon or a column map,
and the suppression list that the unsubscribed and cleaned addresses go on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select

from ostogether import subscribers
from ostogether.models import ConsentEvent, Subscriber, Suppression
from ostogether.runtime import Runtime
from tests.conftest import run

BASE = ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME",
        "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF",
        "DSTOFF", "TIMEZONE", "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS"]
UNSUB = ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON",
         "UNSUB_REASON_OTHER"]
CLEAN = ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"]


def mc_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, header, lineterminator="\r\n", quoting=csv.QUOTE_ALL,
                       extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


SUBSCRIBED = [
    {"Email Address": "maria@school.example.es", "First Name": "María", "Last Name": "López",
     "MEMBER_RATING": "4", "OPTIN_TIME": "2021-03-01 09:00:00", "OPTIN_IP": "192.0.2.10",
     "CONFIRM_TIME": "2021-03-01 09:05:12", "CONFIRM_IP": "192.0.2.11", "CC": "ES",
     "LAST_CHANGED": "2023-06-01 12:00:00", "TAGS": '"Teachers","Spain"'},
    {"Email Address": "jan@example.nl", "First Name": "Jan", "Last Name": "",
     "OPTIN_TIME": "2022-01-10 08:00:00", "OPTIN_IP": "198.51.100.7", "CONFIRM_TIME": "",
     "CONFIRM_IP": "", "LAST_CHANGED": "2022-01-10 08:00:00"},
    {"Email Address": "added-by-hand@example.org", "LAST_CHANGED": "2020-05-05 10:00:00"},
    {"Email Address": "not an address", "LAST_CHANGED": "2020-05-05 10:00:00"},
]
UNSUBSCRIBED = [
    {"Email Address": "left@example.fr", "First Name": "Léa", "OPTIN_TIME":
     "2021-02-01 10:00:00", "CONFIRM_TIME": "2021-02-01 10:01:00",
     "LAST_CHANGED": "2024-02-03 18:30:00", "UNSUB_TIME": "2024-02-03 18:30:00",
     "UNSUB_CAMPAIGN_TITLE": "OStogether #7", "UNSUB_REASON": "I no longer want to receive "
     "these emails", "UNSUB_REASON_OTHER": ""},
]
CLEANED = [
    {"Email Address": "gone@old-school.example", "CLEAN_TIME": "2023-09-09 07:00:00",
     "CLEAN_CAMPAIGN_TITLE": "OStogether #6", "LAST_CHANGED": "2023-09-09 07:00:00"},
]


def export_zip(path: Path, *, new_names: bool = False) -> Path:
    name = "{}_email_audience_export_7f3e2a.csv" if new_names else "{}_members_export_7f3e2a.csv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name.format("subscribed"), mc_csv(BASE, SUBSCRIBED))
        zf.writestr(name.format("unsubscribed"), mc_csv(BASE + UNSUB, UNSUBSCRIBED))
        zf.writestr(name.format("cleaned"), mc_csv(BASE + CLEAN, CLEANED))
    return path


def reader(rt: Runtime, email: str) -> Subscriber | None:
    with rt.db.session() as s:
        return s.scalar(select(Subscriber).where(Subscriber.email == email))


def test_a_mailchimp_export_zip_goes_in_as_it_is_downloaded(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = export_zip(tmp_path / "export.zip")
    r = run(env, "subscribers", "import", str(path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # By file and by line: the files are recognised by their header.
    assert "subscribed_members_export_7f3e2a.csv, line 5: invalid: not an address" in out
    assert ("unsubscribed_members_export_7f3e2a.csv, line 2: suppress: left@example.fr — "
            "unsubscribed in Mailchimp on 2024-02-03 (I no longer want to receive these "
            "emails)") in out
    assert ("cleaned_members_export_7f3e2a.csv, line 2: suppress: gone@old-school.example — "
            "cleaned in Mailchimp on 2023-09-09") in out
    assert ("subscribed_members_export_7f3e2a.csv (Mailchimp, subscribed): 4 line(s): 3 new, "
            "1 invalid.") in out
    assert ("cleaned_members_export_7f3e2a.csv (Mailchimp, cleaned): 1 line(s): 1 to the "
            "suppression list.") in out
    assert "3 new (would be added), 0 already there (unchanged), 1 invalid, 0 suppressed " \
           "(not imported), 2 unsubscribed or cleaned (would go on the suppression list)." \
           in " ".join(out.split())
    assert reader(rt, "maria@school.example.es") is None  # a dry run writes nothing
    with rt.db.session() as s:
        assert s.scalars(select(Suppression)).all() == []

    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["applied"] and report["counts"] == {
        "new": 3, "existing": 0, "invalid": 1, "suppressed": 0, "suppress": 2}
    assert {f["name"]: f["counts"]["new"] for f in report["files"]} == {
        "cleaned_members_export_7f3e2a.csv": 0, "subscribed_members_export_7f3e2a.csv": 3,
        "unsubscribed_members_export_7f3e2a.csv": 0}

    maria = reader(rt, "maria@school.example.es")
    assert maria is not None and maria.status == "confirmed" and maria.name == "María López"
    assert maria.confirmed_at == dt.datetime(2021, 3, 1, 9, 5, 12, tzinfo=dt.UTC)
    with rt.db.session() as s:
        log = s.scalar(select(ConsentEvent).where(ConsentEvent.subscriber_id == maria.id))
        assert log is not None and log.source == "mailchimp" and log.action == "import"
        assert log.ip == "192.0.2.11"  # the confirmation's IP
        assert log.detail["consent_date"] == "2021-03-01T09:05:12+00:00"
        assert log.detail["optin_ip"] == "192.0.2.10" and log.detail["country"] == "ES"
        assert log.detail["tags"] == ["Teachers", "Spain"]
        jan = s.scalar(select(ConsentEvent).join(Subscriber).where(
            Subscriber.email == "jan@example.nl"))
        # No double opt-in in Mailchimp: the opt-in is the consent.
        assert jan is not None and jan.detail["consent_basis"] == "optin_time"
        assert jan.ip == "198.51.100.7"
        sups = {x.reason: x for x in s.scalars(select(Suppression))}
        assert set(sups) == {"unsubscribed", "cleaned"}
        assert sups["unsubscribed"].at == dt.datetime(2024, 2, 3, 18, 30, tzinfo=dt.UTC)
        assert sups["unsubscribed"].note == "I no longer want to receive these emails"
        assert sups["unsubscribed"].source == "mailchimp"
        # They never became readers.
        assert s.scalar(select(Subscriber).where(Subscriber.email.in_(
            ["left@example.fr", "gone@old-school.example"]))) is None

    # The same export again changes nothing.
    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    assert json.loads(r.stdout)["counts"] == {
        "new": 0, "existing": 5, "invalid": 1, "suppressed": 0, "suppress": 0}

    # A later import of a suppressed address, in the service's own format, is refused
    # with the reason.
    own = tmp_path / "more.csv"
    own.write_text("email,name,language,consent_date,consent_source\n"
                   "Left@Example.fr,Léa,fr,2024-05-01,event sheet\n", encoding="utf-8")
    r = run(env, "subscribers", "import", str(own), "--apply")
    assert ("line 2: suppressed: left@example.fr — on the suppression list: unsubscribed in "
            "Mailchimp on 2024-02-03 (I no longer want to receive these emails); only its "
            "owner can sign up again") in r.stdout
    assert reader(rt, "left@example.fr") is None


def test_newer_file_names_and_one_csv_alone(rt: Runtime, env: dict[str, str],
                                            tmp_path: Path) -> None:
    zipped = export_zip(tmp_path / "new.zip", new_names=True)
    r = run(env, "subscribers", "import", str(zipped))
    assert "unsubscribed_email_audience_export_7f3e2a.csv, line 2: suppress" in r.stdout
    # One of the CSVs on its own, named anything: the header says what it is.
    alone = tmp_path / "download (3).csv"
    alone.write_bytes(mc_csv(BASE + CLEAN, CLEANED))
    r = run(env, "subscribers", "import", str(alone), "--apply")
    assert r.returncode == 0, r.stderr
    assert "line 2: suppress: gone@old-school.example — cleaned in Mailchimp" in r.stdout
    with rt.db.session() as s:
        [sup] = s.scalars(select(Suppression)).all()
        assert sup.reason == "cleaned" and sup.email_hash == subscribers.email_hash(
            "gone@old-school.example")


def test_a_reader_who_left_in_mailchimp_since_is_unsubscribed_here(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_bytes(mc_csv(BASE, [{**UNSUBSCRIBED[0], "LAST_CHANGED": "2021-02-01 10:01:00"}]))
    assert run(env, "subscribers", "import", str(first), "--apply").returncode == 0
    lea = reader(rt, "left@example.fr")
    assert lea is not None and lea.status == "confirmed"
    later = tmp_path / "unsubscribed.csv"
    later.write_bytes(mc_csv(BASE + UNSUB, UNSUBSCRIBED))
    r = run(env, "subscribers", "import", str(later), "--apply")
    assert "the reader here is unsubscribed too" in r.stdout
    lea = reader(rt, "left@example.fr")
    assert lea is not None and lea.status == "unsubscribed"
    assert lea.unsubscribed_at == dt.datetime(2024, 2, 3, 18, 30, tzinfo=dt.UTC)


def test_a_semicolon_csv_with_a_column_map(rt: Runtime, env: dict[str, str],
                                           tmp_path: Path) -> None:
    path = tmp_path / "other-tool.csv"
    path.write_text("E-mail;Full name;Signed up;Where;Phone\n"
                    "ines@example.pt;Inês Costa;2022-04-04;fair stand;+351 1\n",
                    encoding="utf-8")
    r = run(env, "subscribers", "import", str(path))
    assert r.returncode == 1
    assert 'not used: E-mail, Full name, Signed up, Where, Phone. Name them with --map, ' \
           'e.g. --map "E-mail=email"' in " ".join(r.stderr.split())
    r = run(env, "subscribers", "import", str(path), "--apply", "--map",
            "E-mail=email,Full name=name,Signed up=consent_date,Where=consent_source")
    assert r.returncode == 0, r.stderr
    assert "columns not used: Phone" in r.stdout
    ines = reader(rt, "ines@example.pt")
    assert ines is not None and ines.name == "Inês Costa" and ines.status == "confirmed"

    r = run(env, "subscribers", "import", str(path), "--map", "E-mail=mail")
    assert r.returncode == 1 and '"mail" is not a field; map to one of email' in r.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    r = run(env, "subscribers", "import", str(empty))
    assert r.returncode == 1 and "empty.csv is empty" in r.stderr
    assert "Traceback" not in r.stderr
