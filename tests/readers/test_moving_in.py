"""Moving in from Mailchimp: the audience export as it is downloaded (a zip of three CSVs,
in the old and the new file names), other tools' CSVs with a semicolon or a column map,
and the suppression list that the unsubscribed and cleaned addresses go on."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core.settings import Settings
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Issue, Project, Subscriber, Suppression, User
from ostogether.readers import subscribers
from tests.conftest import outbox, run
from tests.factories import approved_issue, make_user
from tests.feedserver import FeedServer

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
    assert ("subscribed_members_export_7f3e2a.csv (Mailchimp, subscribed): 4 line(s): 2 new, "
            "1 invalid, 1 left out.") in out
    # No opt-in on record: left out, with no consent date made up from LAST_CHANGED.
    assert ("subscribed_members_export_7f3e2a.csv, line 4: left out: added-by-hand@example.org"
            " — no CONFIRM_TIME or OPTIN_TIME") in out
    assert ("cleaned_members_export_7f3e2a.csv (Mailchimp, cleaned): 1 line(s): 1 to the "
            "suppression list.") in out
    assert "2 new (would be added), 0 already there (unchanged), 1 invalid, 0 suppressed " \
           "(not imported), 2 unsubscribed or cleaned (would go on the suppression list), " \
           "1 left out (no consent to the newsletter on record in Mailchimp: never " \
           "readers)." in " ".join(out.split())
    assert reader(rt, "maria@school.example.es") is None  # a dry run writes nothing
    with rt.db.session() as s:
        assert s.scalars(select(Suppression)).all() == []

    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["applied"] and report["counts"] == {
        "new": 2, "existing": 0, "invalid": 1, "suppressed": 0, "suppress": 2, "left_out": 1}
    assert {f["name"]: f["counts"]["new"] for f in report["files"]} == {
        "cleaned_members_export_7f3e2a.csv": 0, "subscribed_members_export_7f3e2a.csv": 2,
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
        "new": 0, "existing": 4, "invalid": 1, "suppressed": 0, "suppress": 0, "left_out": 1}
    assert reader(rt, "added-by-hand@example.org") is None

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


# A newer export's non-subscribed contacts: the subscribed file's very header, rows with a
# last change and no opt-in (a shop order, an event sign-in, a CRM sync).
NONSUBSCRIBED = [
    {"Email Address": "customer@shop.example", "First Name": "Olga", "CC": "PL",
     "LAST_CHANGED": "2024-10-01 08:00:00", "TAGS": '"Shop"'},
    {"Email Address": "visitor@fair.example", "LAST_CHANGED": "2023-04-04 16:20:00"},
    # Even one that once opted in somewhere: the file says they are not subscribed now.
    {"Email Address": "lapsed@example.org", "OPTIN_TIME": "2020-01-01 10:00:00",
     "LAST_CHANGED": "2022-02-02 10:00:00"},
]


def test_non_subscribed_contacts_never_become_readers(rt: Runtime, env: dict[str, str],
                                                      tmp_path: Path) -> None:
    path = tmp_path / "newer.zip"
    name = "{}_email_audience_export_7f3e2a.csv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(name.format("subscribed"), mc_csv(BASE, SUBSCRIBED[:2]))
        zf.writestr(name.format("nonsubscribed"), mc_csv(BASE, NONSUBSCRIBED))
        zf.writestr(name.format("unsubscribed"), mc_csv(BASE + UNSUB, UNSUBSCRIBED))
        zf.writestr(name.format("cleaned"), mc_csv(BASE + CLEAN, CLEANED))
    r = run(env, "subscribers", "import", str(path))
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert ("nonsubscribed_email_audience_export_7f3e2a.csv (Mailchimp, non-subscribed): "
            "3 line(s): 3 left out.") in out
    assert ("nonsubscribed_email_audience_export_7f3e2a.csv, line 2: left out: "
            "customer@shop.example — a non-subscribed contact in Mailchimp: they never "
            "agreed to the newsletter, so they do not become a reader") in out
    assert "2 new (would be added)" in out and "3 left out (no consent to the newsletter " \
        "on record in Mailchimp: never readers)" in out

    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["counts"] == {"new": 2, "existing": 0, "invalid": 0, "suppressed": 0,
                                "suppress": 2, "left_out": 3}
    assert {f["name"]: f["kind"] for f in report["files"]}[
        "nonsubscribed_email_audience_export_7f3e2a.csv"] == "mailchimp nonsubscribed"
    hashes = [subscribers.email_hash(row["Email Address"]) for row in NONSUBSCRIBED]
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber).where(Subscriber.email_hash.in_(hashes))).all() \
            == []
        # No consent recorded for them, and not suppressed either: they may still sign up.
        assert s.scalars(select(ConsentEvent).where(ConsentEvent.email_hash.in_(hashes))
                         ).all() == []
        assert s.scalars(select(Suppression).where(Suppression.email_hash.in_(hashes))
                         ).all() == []
        assert {x.email for x in s.scalars(select(Subscriber))} == {
            "maria@school.example.es", "jan@example.nl"}

    # The non-subscribed file alone, whatever else it is called after its prefix.
    alone = tmp_path / "nonsubscribed_members_export_0001.csv"
    alone.write_bytes(mc_csv(BASE, NONSUBSCRIBED))
    r = run(env, "subscribers", "import", str(alone), "--apply", "--format", "json")
    assert json.loads(r.stdout)["counts"]["left_out"] == 3
    with rt.db.session() as s:
        assert s.scalar(select(Subscriber).where(Subscriber.email_hash.in_(hashes))) is None


def test_a_subscribed_row_without_an_opt_in_gets_no_made_up_consent(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "subscribed_members_export_1.csv"
    path.write_bytes(mc_csv(BASE, [
        {"Email Address": "hand@example.org", "LAST_CHANGED": "2020-05-05 10:00:00"},
        {"Email Address": "confirmed@example.org", "CONFIRM_TIME": "2021-01-01 09:00:00",
         "LAST_CHANGED": "2024-05-05 10:00:00"}]))
    r = run(env, "subscribers", "import", str(path), "--apply")
    assert r.returncode == 0, r.stderr
    assert "line 2: left out: hand@example.org — no CONFIRM_TIME or OPTIN_TIME" in r.stdout
    assert reader(rt, "hand@example.org") is None
    confirmed = reader(rt, "confirmed@example.org")
    assert confirmed is not None
    assert confirmed.confirmed_at == dt.datetime(2021, 1, 1, 9, tzinfo=dt.UTC)
    with rt.db.session() as s:
        [event] = s.scalars(select(ConsentEvent).where(
            ConsentEvent.subscriber_id == confirmed.id)).all()
        assert event.detail["consent_date"] == "2021-01-01T09:00:00+00:00"
        assert event.detail["consent_basis"] == "confirm_time"


def test_an_unsubscribe_without_its_time_says_which_date_was_used(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "unsubscribed_members_export_1.csv"
    path.write_bytes(mc_csv(BASE + UNSUB, [
        {**UNSUBSCRIBED[0], "UNSUB_TIME": ""},
        {**UNSUBSCRIBED[0], "Email Address": "nodate@example.org", "UNSUB_TIME": "",
         "LAST_CHANGED": ""},
        {**UNSUBSCRIBED[0], "Email Address": "odd@example.org", "UNSUB_TIME": "last week"}]))
    r = run(env, "subscribers", "import", str(path))
    out = " ".join(r.stdout.split())
    assert ("line 2: suppress: left@example.fr — unsubscribed in Mailchimp on 2024-02-03 (I "
            "no longer want to receive these emails) (warning: UNSUB_TIME is empty: dated "
            "from LAST_CHANGED, 2024-02-03 18:30 UTC)") in out
    assert "line 3: suppress: nodate@example.org — unsubscribed in Mailchimp on" in out
    assert "(warning: UNSUB_TIME is empty and so is LAST_CHANGED: dated with this import's " \
        "time" in out
    assert "line 4: suppress: odd@example.org" in out
    assert "(warning: UNSUB_TIME 'last week' is not a date: dated from LAST_CHANGED" in out
    assert "3 line(s) with a warning" in out
    r = run(env, "subscribers", "import", str(path), "--apply", "--format", "json")
    report = json.loads(r.stdout)
    assert report["counts"]["suppress"] == 3
    assert [x["warning"][:20] for x in report["lines"]] == ["UNSUB_TIME is empty:",
                                                            "UNSUB_TIME is empty ",
                                                            "UNSUB_TIME 'last wee"]
    with rt.db.session() as s:
        sups = {x.email_hash: x for x in s.scalars(select(Suppression))}
        left = sups[subscribers.email_hash("left@example.fr")]
        assert left.at == dt.datetime(2024, 2, 3, 18, 30, tzinfo=dt.UTC)
        nodate = sups[subscribers.email_hash("nodate@example.org")].at
        assert nodate is not None and f"this import's time, {nodate:%Y-%m-%d %H:%M} UTC" \
            in report["lines"][1]["warning"]
        event = s.scalar(select(ConsentEvent).where(
            ConsentEvent.email_hash == subscribers.email_hash("left@example.fr")))
        assert event is not None and event.detail["date_basis"] == "last_changed"


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


# ------------------------------------------------------------------ the old archive

ARCHIVE = Path(__file__).parents[1] / "data" / "mailchimp-archive"


def archive_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "old-archive"
    shutil.copytree(ARCHIVE, folder)
    return folder


def test_past_issues_join_the_archive_cleaned(rt: Runtime, env: dict[str, str], client: Any,
                                              tmp_path: Path, web: FeedServer) -> None:
    folder = archive_copy(tmp_path)
    r = run(env, "archive", "import", str(folder), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "would be imported" in r.stdout and "dry run: nothing was written" in r.stdout
    assert client.get("/archive/1").status_code == 404
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 0, r.stderr
    assert "2 imported, 0 replaced, 0 unchanged." in r.stdout

    listing = client.get("/archive").get_data(as_text=True)
    assert "OStogether newsletter #1" in listing and "15 March 2021" in listing
    assert "17 May 2021" in listing
    page = client.get("/archive/1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Eighteen projects on <strong>open schooling</strong>" in html
    assert '<a href="https://www.otter-project.eu/hub" rel="noopener noreferrer">OTTER hub</a>' \
        in html
    assert "Read about the SALL food labs and" in html  # the tracking link's text stays
    assert "Hello, welcome to OStogether #1" in html  # *|FNAME|* gone, with its space
    assert "Copyright © 2021 Open Schooling together" in html
    for gone in ("*|", "|*", "list-manage.com", "eepurl", "View this email in your browser",
                 "Forward to a friend", "address book", "<script", "<form", "<iframe",
                 "javascript:", "onclick", "position:absolute", "mcnPreviewText",
                 "monkey_rewards", "track/open"):
        assert gone not in html, gone
    assert html.count("/newsletter/manage") == 2  # preferences and unsubscribe
    assert "Content-Security-Policy" in page.headers
    two = client.get("/archive/2").get_data(as_text=True)
    assert "https://www.sall-project.eu/summer" in two and "list-manage" not in two

    feed = client.get("/archive.atom").get_data(as_text=True)
    assert "/archive/1" in feed and "/archive/2" in feed
    assert "Open schooling in 18 projects" in feed  # the preview text is the summary

    # A re-import changes nothing; new issues go on after the highest number.
    r = run(env, "archive", "import", str(folder))
    assert "0 imported, 0 replaced, 2 unchanged." in r.stdout
    issue = approved_issue(rt, [web.url("/page/0")])
    assert issue.number == 10  # the community's first number (content/newsletter.toml)


def test_a_clash_of_numbers_is_refused_and_nothing_is_written(
        rt: Runtime, env: dict[str, str], tmp_path: Path, web: FeedServer) -> None:
    issue = approved_issue(rt, [web.url("/page/0")])
    folder = archive_copy(tmp_path)
    (folder / "issues.toml").write_text((folder / "issues.toml").read_text().replace(
        "number = 2", f"number = {issue.number}"))
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 1
    assert f"#{issue.number} (issue2.html) is taken by an issue composed here (approved)" \
        in " ".join(r.stderr.split())
    with rt.db.session() as s:
        assert s.scalar(select(Issue).where(Issue.number == 1)) is None

    # Changed content under an imported number needs --replace.
    folder = archive_copy(tmp_path / "again")
    assert run(env, "archive", "import", str(folder)).returncode == 0
    (folder / "issue2.html").write_text((folder / "issue2.html").read_text().replace(
        "Three summer schools", "Four summer schools"))
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 1 and "run again with --replace" in " ".join(r.stderr.split())
    r = run(env, "archive", "import", str(folder), "--replace")
    assert "0 imported, 1 replaced, 1 unchanged." in r.stdout
    with rt.db.session() as s:
        two = s.scalar(select(Issue).where(Issue.number == 2))
        assert two is not None and "Four summer schools" in two.snapshot_html


@pytest.mark.parametrize("manifest, message", [
    ('[[issue]]\nnumber = 1\nsent_on = 2021-03-15\nfile = "issue1.html"\n', "missing subject"),
    ('[[issue]]\nnumber = "one"\nsent_on = 2021-03-15\nsubject = "x"\nfile = "issue1.html"\n',
     "'issue.number' must be a whole number"),
    ('[[issue]]\nnumber = 1\nsent_on = 2021-03-15\nsubject = "x"\nfile = "../secret.html"\n',
     "file ../secret.html is outside the folder"),
    ('[[issue]]\nnumber = 1\nsent_on = 2021-03-15\nsubject = "x"\nfile = "nope.html"\n',
     "file nope.html not found"),
    ('[[issue]]\nnumber = 1\nsent_on = 2099-03-15\nsubject = "x"\nfile = "issue1.html"\n',
     "is in the future"),
    ('[[issue]]\nnumber = 1\nsent_on = 2021-03-15\nsubject = "x"\nfile = "issue1.html"\n'
     '[[issue]]\nnumber = 1\nsent_on = 2021-05-15\nsubject = "y"\nfile = "issue2.html"\n',
     "number 1 is also issue 1's"),
    ('[[issue]\nnumber = 1\n', "TOML syntax error"),
    ('title = "x"\n', "no [[issue]] table"),
])
def test_a_bad_manifest_says_what_to_fix(rt: Runtime, env: dict[str, str], tmp_path: Path,
                                         manifest: str, message: str) -> None:
    folder = archive_copy(tmp_path)
    (folder / "issues.toml").write_text(manifest)
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 1 and message in " ".join(r.stderr.split()), r.stderr
    assert "Traceback" not in r.stderr
    with rt.db.session() as s:
        assert s.scalars(select(Issue)).all() == []


def test_editors_pages_take_imported_issues(rt: Runtime, env: dict[str, str], editor: Any,
                                            tmp_path: Path) -> None:
    assert run(env, "archive", "import", str(archive_copy(tmp_path))).returncode == 0
    for url in ("/editors/", "/editors/issues/", "/editors/issues/1", "/editors/issues/2/preview",
                "/reports/visibility?project=otter", "/reports/visibility.csv?project=otter"):
        r = editor.get(url)
        assert r.status_code == 200, (url, r.status_code)
    listing = editor.get("/editors/issues/").get_data(as_text=True)
    assert "OStogether newsletter #2" in listing
    r = run(env, "issue", "list", "--format", "json")
    assert [i["number"] for i in json.loads(r.stdout)][:2] in ([2, 1], [1, 2])


# ------------------------------------------------------------------ Wild Apricot

WA_HEADER = ("User ID,First name,Last name,Organization,Email,Phone,Membership level,"
             "Membership status,Member since,Renewal due,Archived,Profile last updated\n")
WA_ROWS = [
    "50001,Ana,Silva,OTTER,ana@otter.example,,Project,Active,2021-10-01,,no,2024-01-01",
    "50002,Jo,Bauer,Outdoor Science Education for a Sustainable Future,jo@otter.example,,"
    "Project,Active,2021-10-01,,no,2024-01-01",
    "50003,Mia,Kos,SALL project consortium,mia@sall.example,,Project,Pending - Renewal,"
    "2021-09-01,,no,2024-01-01",
    "50004,Tom,Ray,OTTER and SALL partners,tom@both.example,,Project,Active,2022-01-01,,no,",
    "50005,Eve,Ng,Acme Widgets,eve@acme.example,,Project,Active,2022-01-01,,no,",
    "50006,Old,Timer,SALL,old@sall.example,,Project,Lapsed,2019-01-01,,no,",
    "50007,Gone,Away,SALL,gone@sall.example,,Project,Active,2019-01-01,,yes,",
    "50008,Ed,Itor,Ecsite,editor@example.org,,Staff,Active,2019-01-01,,no,",
    "50009,No,Mail,SALL,,,Project,Active,2019-01-01,,no,",
    "50010,New,Applicant,LEVERS,new@levers.example,,Project,Pending - New,2026-01-01,,no,",
]


def test_member_accounts_from_wild_apricot(rt: Runtime, env: dict[str, str], tmp_path: Path,
                                           settings: Settings) -> None:
    make_user(rt)  # editor@example.org has an account already
    path = tmp_path / "contacts.csv"
    path.write_text(WA_HEADER + "\n".join(WA_ROWS) + "\n", encoding="utf-8")
    r = run(env, "users", "import", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    by_email = {x["email"]: x for x in plan["lines"]}
    assert by_email["ana@otter.example"]["project"] == "otter"  # acronym
    assert by_email["jo@otter.example"]["project"] == "otter"  # name
    assert by_email["mia@sall.example"]["project"] == "sall"  # acronym as a word
    assert by_email["tom@both.example"]["outcome"] == "ambiguous"
    assert by_email["tom@both.example"]["reason"] == "could be otter, sall"
    assert by_email["eve@acme.example"]["outcome"] == "unmatched"
    assert by_email["old@sall.example"]["reason"] == "membership lapsed"
    assert by_email["gone@sall.example"]["reason"] == "archived in Wild Apricot"
    assert by_email["new@levers.example"]["reason"] == "membership application not approved yet"
    assert by_email["editor@example.org"]["outcome"] == "existing"
    assert by_email[""]["reason"] == "no email address"
    assert plan["counts"] == {"matched": 3, "ambiguous": 1, "unmatched": 1, "skipped": 3,
                              "existing": 1, "invalid": 1}
    assert plan["contacts_missing"]["otter"] == "ana@otter.example"
    assert not outbox(settings)

    r = run(env, "users", "import", str(path))
    assert "3 matched (to invite), 1 ambiguous, 1 unmatched, 3 skipped" in r.stdout
    assert "--apply" in r.stdout and "--assign EMAIL=SLUG" in r.stdout

    # Apply, with the ambiguous one assigned, and the editor confirming OTTER's contact
    # and declining SALL's.
    r = run(env, "users", "import", str(path), "--apply", "--assign", "tom@both.example=sall",
            stdin="y\nn\n")
    assert r.returncode == 0, r.stderr
    assert "4 matched (invited)" in r.stdout
    with rt.db.session() as s:
        members = {u.email: u.project.slug for u in s.scalars(select(User).where(
            User.role == "member"))}
        assert members == {"ana@otter.example": "otter", "jo@otter.example": "otter",
                           "mia@sall.example": "sall", "tom@both.example": "sall"}
        otter = s.scalar(select(Project).where(Project.slug == "otter"))
        sall = s.scalar(select(Project).where(Project.slug == "sall"))
        assert otter is not None and otter.contact_email == "ana@otter.example"
        assert sall is not None and sall.contact_email == ""
    invited = sorted(str(m["To"]) for m in outbox(settings))
    assert invited == ["ana@otter.example", "jo@otter.example", "mia@sall.example",
                       "tom@both.example"]
    # The registry (the database) keeps the address, as an editor's change: the file is
    # left alone, and a re-import of the files does not undo it.
    assert "otter: contact address set to ana@otter.example in the registry" in " ".join(
        r.stdout.split())
    assert "ana@otter.example" not in (
        Path(env["OSTOGETHER_HOME"]) / "content" / "projects" / "otter.toml").read_text()
    assert run(env, "registry", "import").returncode == 0
    with rt.db.session() as s:
        otter = s.scalar(select(Project).where(Project.slug == "otter"))
        assert otter is not None and otter.contact_email == "ana@otter.example"
        assert "contact_email" in (otter.web_edits or {})

    # Again: everyone matched has an account now.
    r = run(env, "users", "import", str(path), "--apply", "--contacts", "no")
    assert "0 matched (invited)" in r.stdout and "5 with an account already" in r.stdout


@pytest.mark.parametrize("data, message", [
    (b"", "contacts.csv is empty"),
    (b"Name,Phone\nX,1\n", "not a Wild Apricot contacts export: no Email or Organization"),
    (b"\x81\x8d\x90\xff", "contacts.csv is not text. Export the contacts as CSV."),
])
def test_a_bad_contacts_file_says_what_is_wrong(rt: Runtime, env: dict[str, str],
                                                tmp_path: Path, data: bytes,
                                                message: str) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    r = run(env, "users", "import", str(path))
    assert r.returncode == 1 and message in " ".join(r.stderr.split()), r.stderr
    r = run(env, "users", "import", str(tmp_path / "contacts.csv"), "--assign", "x")
    assert r.returncode == 2 and "is not EMAIL=SLUG" in r.stderr
