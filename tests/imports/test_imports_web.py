"""Imports in the browser: Mailchimp's audience export, past issues and Wild Apricot's
contacts are uploaded on the editors' page, which shows the dry run the CLI prints;
"Apply" queues the import, the worker (``jobs.pick_up``, called here as the worker would
call it) writes it with its progress stored, and the page shows what was written. Bad
files say what is wrong and write nothing; an import applied twice doubles nothing."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ostogether import imports, jobs
from ostogether.core import clock, words
from ostogether.core.settings import Settings
from ostogether.edges.runtime import Runtime
from ostogether.models import (
    AuditEntry,
    ImportLine,
    ImportRun,
    Issue,
    Project,
    Subscriber,
    Suppression,
    User,
)
from ostogether.readers import readers_import
from ostogether.registry import members_import, projects
from tests.conftest import csrf_from, outbox, run
from tests.factories import TEST, applicant, make_user

# ------------------------------------------------------------------ the files

MC = ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME",
      "CONFIRM_IP", "CC", "LAST_CHANGED", "TAGS"]


def mc_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, header, lineterminator="\r\n", quoting=csv.QUOTE_ALL,
                       extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def mailchimp_zip(readers: int = 2) -> bytes:
    """Mailchimp's audience export as it is downloaded: subscribed, unsubscribed and
    cleaned contacts, one line of each kind that is left out."""
    subscribed = [{"Email Address": f"teacher{n}@school.example", "First Name": f"T{n}",
                   "OPTIN_TIME": "2021-03-01 09:00:00", "CONFIRM_TIME": "2021-03-01 09:05:00",
                   "CONFIRM_IP": "192.0.2.11", "LAST_CHANGED": "2023-06-01 12:00:00"}
                  for n in range(readers)]
    subscribed += [{"Email Address": "added-by-hand@example.org",
                    "LAST_CHANGED": "2020-05-05 10:00:00"},
                   {"Email Address": "not an address", "LAST_CHANGED": "2020-05-05 10:00:00"}]
    left = [{"Email Address": "left@example.fr", "UNSUB_TIME": "2024-02-03 18:30:00",
             "UNSUB_REASON": "I no longer want to receive these emails",
             "LAST_CHANGED": "2024-02-03 18:30:00"}]
    cleaned = [{"Email Address": "gone@old-school.example", "CLEAN_TIME": "2023-09-09 07:00:00",
                "LAST_CHANGED": "2023-09-09 07:00:00"}]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_members_export_7f3e2a.csv", mc_csv(MC, subscribed))
        zf.writestr("unsubscribed_members_export_7f3e2a.csv",
                    mc_csv(MC + ["UNSUB_TIME", "UNSUB_REASON"], left))
        zf.writestr("cleaned_members_export_7f3e2a.csv", mc_csv(MC + ["CLEAN_TIME"], cleaned))
    return buf.getvalue()


WA = (b"User ID,First name,Last name,Organization,Email,Membership level,Membership status,"
      b"Archived\n"
      b"1,Ana,Silva,OTTER,ana@otter.example,Project,Active,no\n"
      b"2,Mia,Kos,SALL project consortium,mia@sall.example,Project,Active,no\n"
      b"3,Tom,Ray,OTTER and SALL partners,tom@both.example,Project,Active,no\n"
      b"4,Eve,Ng,Acme Widgets,eve@acme.example,Project,Active,no\n"
      b"5,Old,Timer,SALL,old@sall.example,Project,Lapsed,no\n")

ARCHIVE = Path(__file__).parents[1] / "data" / "mailchimp-archive"


def archive_zip(tmp_path: Path, manifest: str | None = None, *, inside: str = "old-issues",
                change: tuple[str, str] | None = None) -> bytes:
    folder = tmp_path / f"zip-{len(list(tmp_path.glob('zip-*')))}" / inside
    shutil.copytree(ARCHIVE, folder)
    if manifest is not None:
        (folder / "issues.toml").write_text(manifest)
    if change:
        two = folder / "issue2.html"
        two.write_text(two.read_text().replace(*change))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{inside}/{f.name}" if inside else f.name)
    return buf.getvalue()


# ------------------------------------------------------------------ the page, as a browser

def upload(client: Any, kind: str, data: bytes, name: str, **options: str) -> Any:
    token = csrf_from(client.get("/editors/imports/").get_data(as_text=True))
    return client.post(f"/editors/imports/{kind}", content_type="multipart/form-data", data={
        f"{kind}-csrf_token": token, f"{kind}-file": (io.BytesIO(data), name),
        **{f"{kind}-{k}": v for k, v in options.items()}})


def uploaded(client: Any, rt: Runtime, kind: str, data: bytes, name: str,
             **options: str) -> int:
    """Upload, see the page wait for the worker, and play the worker: the dry run."""
    r = upload(client, kind, data, name, **options)
    assert r.status_code == 302, text(r)
    m = re.search(r"/editors/imports/(\d+)\?watch=1$", r.headers["Location"])
    assert m, r.headers["Location"]
    waiting = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Checking the file" in waiting and 'http-equiv="refresh"' in waiting
    jobs.pick_up(rt)
    return int(m.group(1))


def refused(client: Any, rt: Runtime, kind: str, data: bytes, name: str,
            **options: str) -> str:
    """Upload a file the import cannot read: the page says why, once the worker read it."""
    import_id = uploaded(client, rt, kind, data, name, **options)
    assert imports.get(rt, import_id).status == "refused"
    return page(client, import_id)


def text(r: Any) -> str:
    """The page's text as a reader sees it: tags out, entities read, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True))).split())


def page(client: Any, import_id: int, **args: Any) -> str:
    r = client.get(f"/editors/imports/{import_id}", query_string=args)
    assert r.status_code == 200
    return text(r)


def press(client: Any, import_id: int, action: str, **form: Any) -> Any:
    token = csrf_from(client.get(f"/editors/imports/{import_id}").get_data(as_text=True))
    return client.post(f"/editors/imports/{import_id}/{action}",
                       data={"csrf_token": token, **form})


def kept(rt: Runtime) -> list[Path]:
    where = imports.folder(rt)
    return sorted(where.iterdir()) if where.exists() else []


def count(rt: Runtime, model: Any) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def audited(rt: Runtime, action: str) -> list[AuditEntry]:
    with rt.db.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        s.expunge_all()
    return rows


# ------------------------------------------------------------------ readers

def test_a_mailchimp_zip_is_checked_on_the_page_and_written_by_the_worker(
        rt: Runtime, editor: Any, env: dict[str, str], tmp_path: Path) -> None:
    data = mailchimp_zip()
    import_id = uploaded(editor, rt, "readers", data, "members_export_7f3e2a.zip")
    shown = page(editor, import_id)
    assert "Nothing has been changed yet." in shown
    # The counts, each file as it was taken, and every line left out with its reason.
    for said in ("2 new: would be added", "1 invalid", "1 left out (no consent on record)",
                 "2 to the suppression list",
                 "subscribed_members_export_7f3e2a.csv Mailchimp, subscribed 4",
                 "not an address", "An email address must have an @-sign",
                 "added-by-hand@example.org", "no CONFIRM_TIME or OPTIN_TIME",
                 "left@example.fr", "unsubscribed in Mailchimp on 2024-02-03 (I no longer "
                 "want to receive these emails)", "cleaned in Mailchimp on 2023-09-09"):
        assert said in shown, shown
    # The same report as the CLI's dry run of the same file.
    path = tmp_path / "members_export_7f3e2a.zip"
    path.write_bytes(data)
    r = run(env, "subscribers", "import", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    report = imports.get(rt, import_id).report
    assert report["counts"] == cli["counts"]
    assert {f["name"]: f["counts"] for f in report["files"]} == {
        f["name"]: f["counts"] for f in cli["files"]}
    with rt.db.session() as s:
        # The reasons are kept as msgid and parameters (words.keep), English when shown here.
        lines = {(x.file, x.line, x.outcome, str(words.shown(x.reason)))
                 for x in s.scalars(select(ImportLine))}
    assert lines == {(x["file"], x["line"], x["outcome"], x["reason"]) for x in cli["lines"]}
    assert count(rt, Subscriber) == 0 and count(rt, Suppression) == 0  # a dry run

    # Apply: the page only queues it; the worker writes it.
    r = press(editor, import_id, "apply")
    assert r.status_code == 302 and r.headers["Location"].endswith("watch=1")
    waiting = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in waiting
    assert "Waiting for the worker" in waiting and "Stop refreshing" in waiting
    assert count(rt, Subscriber) == 0
    jobs.pick_up(rt)
    done = page(editor, import_id)
    assert "What was written" in done and "2 added" in done
    assert "2 put on the suppression list" in done
    assert "Applied by editor@example.org" in done
    with rt.db.session() as s:
        assert set(s.scalars(select(Subscriber.email))) == {"teacher0@school.example",
                                                           "teacher1@school.example"}
        assert count(rt, Suppression) == 2
        finished = s.get(ImportRun, import_id)
        assert finished is not None and finished.status == "done"
        assert finished.done == finished.total == 4
    assert kept(rt) == []  # the file held addresses: it is gone once applied
    # Audited: who, which file, the counts.
    [entry] = audited(rt, "import.done")
    assert entry.actor == "editor:editor@example.org" and entry.user_id is not None
    assert entry.detail["file"] == "members_export_7f3e2a.zip"
    assert entry.detail["counts"]["new"] == 2 and entry.detail["counts"]["suppress"] == 2
    assert "Applied by editor@example.org" in page(editor, import_id)


def test_a_readers_import_applied_twice_doubles_nothing(rt: Runtime, editor: Any) -> None:
    data = mailchimp_zip()
    first = uploaded(editor, rt, "readers", data, "export.zip")
    press(editor, first, "apply")
    # Pressing Apply again (a double click, another tab) queues nothing more.
    r = press(editor, first, "apply")
    assert r.status_code == 302
    assert "is queued already; it is not applied twice" in text(editor.get(
        f"/editors/imports/{first}"))
    jobs.pick_up(rt)
    readers, listed = count(rt, Subscriber), count(rt, Suppression)
    assert (readers, listed) == (2, 2)

    second = uploaded(editor, rt, "readers", data, "export.zip")
    assert "0 new: would be added" in page(editor, second)
    press(editor, second, "apply")
    jobs.pick_up(rt)
    shown = page(editor, second)
    assert "0 added" in shown and "2 already there (unchanged)" in shown
    assert (count(rt, Subscriber), count(rt, Suppression)) == (readers, listed)
    r = press(editor, second, "apply")
    assert "is done already" in text(editor.get(r.headers["Location"]))
    assert len(audited(rt, "import.done")) == 2
    # The lines each check and each write kept on disk went with them.
    assert list((rt.settings.var_dir / "imports").glob("*.spool")) == []


def test_the_progress_is_stored_as_the_import_runs(rt: Runtime, editor: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import_id = uploaded(editor, rt, "readers", mailchimp_zip(readers=7), "export.zip")
    press(editor, import_id, "apply")
    monkeypatch.setattr(readers_import, "IMPORT_BATCH", 3)
    seen: list[str] = []
    stored = imports._Progress.__call__

    def and_look(self: Any, done: int, total: int) -> None:
        stored(self, done, total)
        seen.append(editor.get(f"/editors/imports/{import_id}").get_data(as_text=True))

    monkeypatch.setattr(imports._Progress, "__call__", and_look)
    jobs.pick_up(rt)
    bars = [re.search(r'<progress id="progress" max="(\d+)" value="(\d+)"', p) for p in seen]
    assert [(m.group(1), m.group(2)) for m in bars if m] == [
        ("9", "0"), ("9", "3"), ("9", "6"), ("9", "7"), ("9", "9")]
    assert all("Being written" in p and "Rows written" in p for p in seen)
    assert "What was written" in page(editor, import_id)


@pytest.mark.parametrize("data, name, message", [
    (b"\xff\xfe\x81" * 10, "export.zip", "export.zip is not UTF-8 text (byte 0 cannot be "
     "read). Save it as CSV UTF-8 and try again."),
    (b"PK\x03\x04 not really a zip", "export.zip", "export.zip is a damaged zip"),
    (b"E-mail,Who\nana@example.org,Ana\n", "fair.csv", "fair.csv: the first line must name "
     "the columns email, name, language, consent_date, consent_source, topics, kinds, audiences, "
     "projects, country (or be a Mailchimp "
     "export); missing: email, consent_date, consent_source; not used: E-mail, Who. Name "
     'them in the column map, e.g. "E-mail=email".'),
    (b"email,consent_date,consent_source\n" + b"a" * 70000 + b"\n", "long.csv",
     "long.csv: line 2 is longer than 65536 characters"),
    (b"", "empty.csv", "empty.csv is empty"),
])
def test_a_bad_readers_file_says_why_and_writes_nothing(rt: Runtime, editor: Any,
                                                       data: bytes, name: str,
                                                       message: str) -> None:
    shown = refused(editor, rt, "readers", data, name)
    assert "Nothing was imported: the file cannot be imported as it is" in shown
    assert message in shown, shown
    assert str(rt.settings.var_path) not in shown  # no server path
    assert kept(rt) == [] and count(rt, Subscriber) == 0 and count(rt, ImportLine) == 0
    assert "Apply" not in shown  # nothing to apply


def test_another_tools_csv_goes_in_with_a_column_map(rt: Runtime, editor: Any) -> None:
    data = (b"E-mail;Full name;Signed up;Where\n"
            b"ana@fair.example;Ana;2024-05-01;science fair\n")
    assert "missing: consent_date, consent_source" in refused(
        editor, rt, "readers", data, "fair.csv", column_map="E-mail=email\nFull name=name")
    # A map that cannot be read is said at once, beside its field, and nothing is kept.
    r = upload(editor, "readers", data, "fair.csv", column_map="E-mail=mail")
    assert r.status_code == 400
    assert 'Column map: "mail" is not a field; map to one of email' in text(r)
    assert kept(rt) == []
    import_id = uploaded(editor, rt, "readers", data, "fair.csv", column_map=(
        "E-mail=email\nFull name=name\nSigned up=consent_date\nWhere=consent_source"))
    assert "1 new: would be added" in page(editor, import_id)
    press(editor, import_id, "apply")
    jobs.pick_up(rt)
    with rt.db.session() as s:
        ana = s.scalar(select(Subscriber).where(Subscriber.email == "ana@fair.example"))
        assert ana is not None and ana.name == "Ana" and ana.status == "confirmed"


def test_a_large_report_is_read_a_page_at_a_time(rt: Runtime, editor: Any) -> None:
    rows = "".join(f"bad{n}-at-example.org,2024-01-01,fair\n" for n in range(250))
    import_id = uploaded(editor, rt, "readers", ("email,consent_date,consent_source\n" + rows)
                         .encode(), "list.csv")
    first = page(editor, import_id)
    assert "250 invalid" in first and "Page 1 of 3" in first
    assert "bad0-at-example.org" in first and "bad100-at-example.org" not in first
    third = page(editor, import_id, page=3, show="invalid")
    assert "Page 3 of 3" in third and "bad249-at-example.org" in third
    assert "bad199-at-example.org" not in third


def test_an_upload_larger_than_the_limit_is_refused(settings: Settings, rt: Runtime,
                                                    tmp_path: Path) -> None:
    import dataclasses

    from ostogether.web import create_app
    from tests.conftest import login, new_client

    small = dataclasses.replace(settings, import_max_upload_bytes=10_000,
                                max_request_bytes=20_000)
    app = create_app(small)
    try:
        make_user(rt)
        client = new_client(app)
        login(client)
        r = upload(client, "readers", b"email\n" + b"x@example.org\n" * 1000, "big.csv")
        assert r.status_code == 400
        assert "big.csv is larger than 0.01 MB, the most an import takes here" in text(r)
        r = upload(client, "readers", b"email\n" + b"x@example.org\n" * 3000, "huge.csv")
        assert r.status_code == 413
        assert "An import takes files of up to 0.01 MB here" in text(r)
        assert count(rt, ImportRun) == 0 and kept(rt) == []
    finally:
        app.extensions["ostogether"].close()


# ------------------------------------------------------------------ members

def test_wild_apricot_contacts_are_matched_on_the_page_and_invited_by_the_worker(
        rt: Runtime, editor: Any, settings: Settings, env: dict[str, str]) -> None:
    import_id = uploaded(editor, rt, "members", WA, "contacts.csv")
    shown = page(editor, import_id)
    for said in ("2 matched: to invite", "1 ambiguous", "1 unmatched", "1 skipped",
                 "ana@otter.example 2 Ana Silva OTTER matched: to invite otter",
                 "could be otter, sall", "no project is called 'Acme Widgets'",
                 "membership lapsed",
                 "otter: take ana@otter.example (Ana Silva) from Wild Apricot"):
        assert said in shown, shown
    # Put the ambiguous contact in a project, as --assign does: checked again.
    r = press(editor, import_id, "check", **{"again-assign": "tom@nobody.example = nope"})
    assert "Contacts put in projects names no member project: nope" in text(
        editor.get(r.headers["Location"]))
    r = press(editor, import_id, "check", **{"again-assign": "tom@both.example = sall"})
    assert "Checking the file" in text(editor.get(r.headers["Location"]))
    jobs.pick_up(rt)
    assert "3 matched: to invite" in page(editor, import_id)
    assert not outbox(settings)

    press(editor, import_id, "apply", contact="otter")
    jobs.pick_up(rt)
    shown = page(editor, import_id)
    assert "3 invited" in shown and "otter: contact address set to ana@otter.example" \
        in shown
    with rt.db.session() as s:
        members = {u.email: u.project.slug for u in s.scalars(select(User).where(
            User.role == "member"))}
        otter = s.scalar(select(Project).where(Project.slug == "otter"))
        assert otter is not None and otter.contact_email == "ana@otter.example"
    assert members == {"ana@otter.example": "otter", "mia@sall.example": "sall",
                       "tom@both.example": "sall"}
    assert sorted(str(m["To"]) for m in outbox(settings)) == [
        "ana@otter.example", "mia@sall.example", "tom@both.example"]
    [entry] = audited(rt, "import.done")
    assert entry.detail["counts"]["invited"] == 3
    assert entry.detail["contacts_set"] == {"otter": "ana@otter.example"}

    # Again: everyone matched has an account now; nothing is doubled.
    again = uploaded(editor, rt, "members", WA, "contacts.csv")
    assert "3 has an account already" in page(editor, again)
    press(editor, again, "apply")
    jobs.pick_up(rt)
    assert "0 invited" in page(editor, again)
    assert len(outbox(settings)) == 3
    assert count(rt, User) == 4  # the editor and the three members


@pytest.mark.parametrize("data, message", [
    (b"Name,Phone\nX,1\n", "contacts.csv is not a Wild Apricot contacts export: no Email or "
     "Organization column. Export with the default fields, which include them."),
    (b"\x81\x8d\x90\xff", "contacts.csv is not text. Export the contacts as CSV."),
    (b"", "contacts.csv is empty"),
])
def test_a_bad_contacts_file_says_why_and_writes_nothing(rt: Runtime, editor: Any,
                                                        data: bytes, message: str) -> None:
    shown = refused(editor, rt, "members", data, "contacts.csv")
    assert message in shown, shown
    assert kept(rt) == [] and count(rt, User) == 1


def test_a_project_accepted_through_the_join_form_takes_its_contact(
        rt: Runtime, editor: Any, env: dict[str, str]) -> None:
    """Wild Apricot's contact goes into the registry's database: a project with no file
    in content/projects/ takes it too, audited, and a later import of the files keeps it
    (set_contact said "sci-lab has no file in /tmp/…; set its contact there")."""
    pid = applicant(rt, accept=True)
    with rt.db.session() as s:
        project = s.get(Project, pid)
        assert project is not None
        project.contact_email, slug = "", project.slug
    members_import.set_contact(rt, TEST, slug, "Lead@Sci-Lab.example.org")
    with rt.db.session() as s:
        project = s.get(Project, pid)
        assert project is not None and project.contact_email == "lead@sci-lab.example.org"
        assert "contact_email" in (project.web_edits or {})
    [entry] = audited(rt, "project.contact_set")
    assert entry.detail == {"email": "lead@sci-lab.example.org", "source": "wild apricot"}
    with pytest.raises(Exception, match="already has a contact address"):
        members_import.set_contact(rt, TEST, slug, "other@sci-lab.example.org")

    # A file-backed project: its file is not touched, and a re-import of the files does
    # not undo the address (it is reported as the editors' change).
    toml = Path(env["OSTOGETHER_HOME"]) / "content" / "projects" / "otter.toml"
    before = toml.read_text()
    with rt.db.session() as s:
        otter = s.scalar(select(Project).where(Project.slug == "otter"))
        assert otter is not None
        otter.contact_email = ""
    members_import.set_contact(rt, TEST, "otter", "ana@otter.example")
    assert toml.read_text() == before
    report = projects.import_content(rt)
    assert "otter" in report.conflicts
    with rt.db.session() as s:
        assert s.scalar(select(Project.contact_email).where(Project.slug == "otter")) == \
            "ana@otter.example"


# ------------------------------------------------------------------ past issues

def test_past_issues_are_checked_on_the_page_and_imported_by_the_worker(
        rt: Runtime, editor: Any, client: Any, tmp_path: Path, env: dict[str, str]) -> None:
    data = archive_zip(tmp_path)
    import_id = uploaded(editor, rt, "archive", data, "old-issues.zip")
    shown = page(editor, import_id)
    assert "2 would be imported" in shown
    # The CLI takes the same zip, through the same service.
    (tmp_path / "old-issues.zip").write_bytes(data)
    r = run(env, "archive", "import", str(tmp_path / "old-issues.zip"), "--dry-run")
    assert r.returncode == 0 and "2 imported, 0 replaced, 0 unchanged (dry run" in " ".join(
        r.stdout.split()), r.stderr
    assert "#1 issue1.html would be imported OStogether newsletter #1" in shown
    assert "Forward to a friend" in shown and "taken out with its text" in shown
    dutch = page(editor, import_id, lang="nl")  # what was taken out, kept as sentences
    assert "met zijn tekst verwijderd" in dutch and "taken out" not in dutch
    page(editor, import_id, lang="en")
    assert client.get("/archive/1").status_code == 404
    press(editor, import_id, "apply")
    jobs.pick_up(rt)
    shown = page(editor, import_id)
    assert "What was written" in shown and "2 imported" in shown
    assert "Eighteen projects" in client.get("/archive/1").get_data(as_text=True)
    [entry] = audited(rt, "import.done")
    assert entry.detail["counts"]["imported"] == 2
    assert kept(rt) == []  # and nothing unpacked is left behind

    # Twice: unchanged. Changed content under a number taken needs "Replace".
    again = uploaded(editor, rt, "archive", data, "old-issues.zip")
    assert "2 unchanged" in page(editor, again)
    press(editor, again, "apply")
    jobs.pick_up(rt)
    assert "2 unchanged" in page(editor, again)
    changed = archive_zip(tmp_path, change=("Three summer schools", "Four summer schools"))
    assert ('#2 was imported before from issue2.html with other content; tick "Replace past '
            'issues imported before" and upload the zip again to replace it.') in refused(
        editor, rt, "archive", changed, "old-issues.zip")
    import_id = uploaded(editor, rt, "archive", changed, "old-issues.zip", replace="y")
    assert "1 would be replaced" in page(editor, import_id)
    press(editor, import_id, "apply")
    jobs.pick_up(rt)
    with rt.db.session() as s:
        two = s.scalar(select(Issue).where(Issue.number == 2))
        assert two is not None and "Four summer schools" in two.snapshot_html
    assert count(rt, Issue) == 2


@pytest.mark.parametrize("make, message", [
    (lambda tmp: b"<html>an issue</html>", "old.zip is not a zip. Put issues.toml and the "
     "issues' HTML files in one folder, zip it, and upload the zip."),
    (lambda tmp: _zip({"issue1.html": b"<p>x</p>"}), "old.zip has no issues.toml."),
    (lambda tmp: archive_zip(tmp, '[[issue]]\nnumber = 1\nsent_on = 2021-03-15\n'
                                  'file = "issue1.html"\n'),
     "old.zip: issues.toml, issue 1: missing subject."),
    (lambda tmp: archive_zip(tmp, '[[issue]]\nnumber = 1\nsent_on = 2021-03-15\n'
                                  'subject = "x"\nfile = "../../secret.html"\n', inside=""),
     "file ../../secret.html is outside the folder"),
    (lambda tmp: _zip({"issues.toml": b"", "../evil.html": b"x"}),
     "old.zip: issues.toml: no [[issue]] table"),
])
def test_a_bad_archive_says_why_and_writes_nothing(rt: Runtime, editor: Any, tmp_path: Path,
                                                   make: Any, message: str) -> None:
    shown = refused(editor, rt, "archive", make(tmp_path), "old.zip")
    assert message in shown, shown
    assert str(rt.settings.var_path) not in shown and "/tmp" not in shown
    assert kept(rt) == [] and count(rt, Issue) == 0
    assert not (tmp_path.parent / "evil.html").exists()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


# ------------------------------------------------------------------ the worker's care

def test_an_upload_never_applied_is_deleted_and_a_stopped_import_fails(
        rt: Runtime, editor: Any, test_clock: clock.FakeClock) -> None:
    waiting = uploaded(editor, rt, "members", WA, "contacts.csv")
    stopped = uploaded(editor, rt, "readers", mailchimp_zip(), "export.zip")
    halted = uploaded(editor, rt, "members", WA, "again.csv")
    assert len(kept(rt)) == 3
    with rt.db.session() as s:  # workers took them, and stopped
        for import_id, status in ((stopped, "running"), (halted, "checking")):
            run_row = s.get(ImportRun, import_id)
            assert run_row is not None
            run_row.status, run_row.heard_at = status, clock.now()
    jobs.pick_up(rt)  # not yet given up: another worker may still be at them
    assert [imports.get(rt, i).status for i in (stopped, halted)] == ["running", "checking"]
    test_clock.advance(imports.STALE + imports.STALE / 10)
    jobs.pick_up(rt)
    shown = page(editor, stopped)
    assert "The import failed" in shown and "The worker stopped during this import" in shown
    assert imports.get(rt, halted).status == "checked"  # a check is simply done again
    assert "2 matched: to invite" in page(editor, halted)
    assert "checked, not applied" in text(editor.get("/editors/imports/"))
    test_clock.advance(imports.KEPT_FOR)
    jobs.pick_up(rt)
    assert kept(rt) == []
    for import_id in (waiting, stopped, halted):
        assert imports.get(rt, import_id).status == "discarded"
        assert "This upload was discarded" in page(editor, import_id)
    assert count(rt, ImportLine) == 0


def test_an_editor_discards_an_upload(rt: Runtime, editor: Any) -> None:
    import_id = uploaded(editor, rt, "members", WA, "contacts.csv")
    r = press(editor, import_id, "discard")  # not confirmed: nothing happens
    assert imports.get(rt, import_id).status == "checked" and len(kept(rt)) == 1
    r = press(editor, import_id, "discard", confirm="yes")
    assert r.headers["Location"].endswith("/editors/imports/")
    assert imports.get(rt, import_id).status == "discarded" and kept(rt) == []
    assert "contacts.csv is discarded" in text(editor.get(r.headers["Location"]))
    r = press(editor, import_id, "apply")
    assert "no longer kept" in text(editor.get(r.headers["Location"]))


def test_mailchimp_tags_map_to_topics_on_the_page(rt: Runtime, editor: Any) -> None:
    rows = [{"Email Address": "tagged@school.example", "OPTIN_TIME": "2021-03-01 09:00:00",
             "TAGS": '"STEM teachers","Spain"'}]
    data = mc_csv(MC, rows)
    # A topic that is not one is said at once, beside its field, and nothing is kept.
    r = upload(editor, "readers", data, "subscribed.csv", tag_map="STEM teachers=stem")
    assert r.status_code == 400
    assert 'Tags to topics: "stem" (for "STEM teachers") is not a topic' in text(r)
    assert kept(rt) == []
    import_id = uploaded(editor, rt, "readers", data, "subscribed.csv",
                         tag_map="STEM teachers=steam")
    shown = page(editor, import_id)
    assert "STEM teachers steam 1" in shown
    assert "Spain unmapped" in shown
    press(editor, import_id, "apply")
    jobs.pick_up(rt)
    with rt.db.session() as s:
        tagged = s.scalar(select(Subscriber).where(Subscriber.email == "tagged@school.example"))
        assert tagged is not None and tagged.topics == ["steam"]


def test_a_contacts_report_speaks_the_editors_language(rt: Runtime, editor: Any) -> None:
    """Why a contact is left out is kept as a sentence, not as English: the report reads
    in Dutch on a Dutch page and in English on an English one."""
    import_id = uploaded(editor, rt, "members", WA, "contacts.csv")
    dutch = page(editor, import_id, lang="nl")
    for said in ("kan horen bij otter, sall", "geen project heet 'Acme Widgets'",
                 "lidmaatschap verlopen"):
        assert said in dutch, dutch
    assert "membership lapsed" not in dutch and "could be" not in dutch
    english = page(editor, import_id, lang="en")
    assert "could be otter, sall" in english and "membership lapsed" in english
