"""What the CLI prints from data is shown, never obeyed: rich markup in an acronym
(``[/] Bad``, ``[link=…]``), emoji codes, and the characters that drive a terminal or
hide text (ESC sequences that could wipe lines of a dry run, C1 controls, bidi
overrides). And an import shows its report before it does anything: a report that
could not be printed leaves nothing sent and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.cli import base
from ostogether.core.settings import Settings
from ostogether.edges.runtime import Runtime
from ostogether.models import Project, Subscriber, User
from tests.conftest import outbox, run, run_process

WIDE = {"COLUMNS": "250"}  # for a process of its own


@pytest.fixture
def wide() -> Any:
    """A wide terminal for the commands run in this process, so that no table folds a
    value over two lines (``out`` was made when the CLI was imported)."""
    before = base.out._width
    base.out.width = 250
    yield
    base.out._width = before
ESCAPES = "\x1b[2K\x1b[1A\x1b]8;;https://evil.example\x1b\\"  # wipe a line, go up, link
NASTY = ["[/] Bad", "[bold red]LOUD[/]", "[link=https://evil.example]Innocent[/link]",
         ":red_heart: ok", "Esc" + ESCAPES + "aped", "C1\x9b2Jx", "bidi \u202egnp.exe",
         "line\u2028separator", "tag\U000E0041s"]
SHOWN = ["[/] Bad", "[bold red]LOUD[/]", "[link=https://evil.example]Innocent[/link]",
         ":red_heart: ok", "Esc\\x1b[2K\\x1b[1A\\x1b]8;;https://evil.example\\x1b\\aped",
         "C1\\x9b2Jx", "bidi \\u202egnp.exe", "line\\u2028separator", "tag\\U000e0041s"]


def applicants(rt: Runtime, acronyms: list[str]) -> None:
    """Applications as they could be in the table (written by an older version, or by
    hand): the CLI must show what is there, whatever it is."""
    with rt.db.session() as s:
        found = s.scalars(select(Project).order_by(Project.slug)).all()
        assert len(found) >= len(acronyms)
        for p, acronym in zip(found, acronyms, strict=False):
            p.status, p.source, p.acronym = "applicant", "application", acronym


def test_markup_and_control_characters_in_data_are_shown_as_they_are(
        rt: Runtime, env: dict[str, str], wide: None) -> None:
    applicants(rt, NASTY)
    r = run({**env, **WIDE}, "applications", "list")
    assert r.returncode == 0, r.stderr
    for shown in SHOWN:
        assert shown in r.stdout, (shown, r.stdout)
    assert not any(ch in r.stdout for ch in "\x1b\x9b\u202e\u2028\U000E0041")
    assert "❤" not in r.stdout  # an emoji code is text too
    # JSON: the same data to a JSON reader, nothing a terminal would obey.
    r = run(env, "applications", "list", "--format", "json")
    assert not any(ch in r.stdout for ch in "\x1b\x9b\u202e\u2028\U000E0041")
    assert sorted(a["acronym"] for a in json.loads(r.stdout) if a["acronym"] in NASTY) == \
        sorted(NASTY)


def test_a_real_terminal_process_shows_escapes_not_effects(rt: Runtime,
                                                           env: dict[str, str]) -> None:
    applicants(rt, ["[/] Bad", "Esc" + ESCAPES + "aped"])
    r = run_process({**env, **WIDE, "PYTHONIOENCODING": "ascii"}, "applications", "list")
    assert r.returncode == 0, r.stderr
    assert "[/] Bad" in r.stdout and "\\x1b[2K" in r.stdout and "\x1b" not in r.stdout
    assert "Traceback" not in r.stderr


def test_styled_output_keeps_its_colour_and_data_its_text(rt: Runtime, env: dict[str, str],
                                                          wide: None) -> None:
    """``registry check`` colours its marks, and prints the acronym from the file as
    it is."""
    toml = Path(env["OSTOGETHER_HOME"]) / "content" / "projects" / "otter.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('acronym = "OTTER"', 'acronym = "OT[/]TER [red]x"'),
                    encoding="utf-8")
    r = run({**env, **WIDE}, "registry", "check")
    assert "OT[/]TER [red]x (otter.toml)" in r.stdout, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "Unexpected error" not in r.stderr


def test_an_error_message_is_shown_as_it_is(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "[bold]x\x1b[2Ky[red].csv"
    bad.write_bytes(b"")
    r = run(env, "subscribers", "import", str(bad))
    assert r.returncode == 1
    assert "[bold]x\\x1b[2Ky[red].csv is empty" in " ".join(r.stderr.split()), r.stderr
    assert "\x1b[2K" not in r.stderr


WA_HEADER = ("User ID,First name,Last name,Organization,Email,Membership level,"
             "Membership status,Archived\n")
WA_ROWS = ("1,Ana,[/bold],OTTER,ana@otter.example,Project,Active,no\n"
           "2,Jo,[link=https://evil.example]x[/link],OTTER [/bold] partners,"
           "jo@otter.example,Project,Active,no\n"
           "3,Eve,Esc,Acme\x1b[2KWidgets,eve@acme.example,Project,Active,no\n")


def test_a_wild_apricot_export_with_markup_imports_and_prints(
        rt: Runtime, env: dict[str, str], tmp_path: Path, settings: Settings,
        wide: None) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(WA_HEADER + WA_ROWS, encoding="utf-8")
    r = run({**env, **WIDE}, "users", "import", str(path))
    assert r.returncode == 0, r.stderr
    assert "OTTER [/bold] partners" in r.stdout and "Acme\\x1b[2KWidgets" in r.stdout
    r = run({**env, **WIDE}, "users", "import", str(path), "--apply", "--contacts", "no")
    assert r.returncode == 0, r.stderr
    assert "2 matched (invited)" in r.stdout
    # The plan came first, then what was done.
    assert r.stdout.index("matched (to invite)") < r.stdout.index("matched (invited)")
    assert sorted(str(m["To"]) for m in outbox(settings)) == ["ana@otter.example",
                                                              "jo@otter.example"]


class PrintingFails(RuntimeError):
    pass


@pytest.fixture
def printing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal goes away (a closed pipe, a bug in a report) at the first thing an
    import prints."""
    def fail(*args: Any, **kwargs: Any) -> None:
        raise PrintingFails("the report could not be printed")

    monkeypatch.setattr(base.out, "print", fail)


def test_no_invitation_goes_out_before_the_plan_is_printed(
        rt: Runtime, env: dict[str, str], tmp_path: Path, settings: Settings,
        printing_fails: None) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(WA_HEADER + WA_ROWS, encoding="utf-8")
    r = run(env, "users", "import", str(path), "--apply", "--contacts", "no")
    assert r.returncode == 70 and "PrintingFails" in r.stderr
    assert outbox(settings) == []
    with rt.db.session() as s:
        assert s.scalars(select(User).where(User.role == "member")).all() == []


def test_no_reader_is_written_before_the_report_is_printed(
        rt: Runtime, env: dict[str, str], tmp_path: Path, printing_fails: None) -> None:
    path = tmp_path / "readers.csv"
    path.write_text("email,name,language,consent_date,consent_source\n"
                    "a@example.org,[/] A,en,2024-01-01,form\n"
                    "not an address,B,en,2024-01-01,form\n", encoding="utf-8")
    r = run(env, "subscribers", "import", str(path), "--apply")
    assert r.returncode == 70 and "PrintingFails" in r.stderr
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_visible_is_the_one_rule() -> None:
    assert base.visible("a\x1bb\nc") == "a\\x1bb\nc"
    assert base.visible("a\x1bb\nc", lines=False) == "a\\x1bb\\x0ac"
    flag = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"
    assert base.visible(f"Scotland {flag} \u200d\u200c") == f"Scotland {flag} \u200d\u200c"
    assert base.visible("\ud800") == "\\ud800"  # cannot be written: shown
    assert json.loads(base.json_text({"k": "\x9b\u202e\U000E0041"})) == {
        "k": "\x9b\u202e\U000E0041"}


def test_a_log_line_stays_one_line_and_shows_what_it_carries() -> None:
    import logging

    from ostogether.edges.runtime import EventFormatter

    record = logging.LogRecord("ostogether.news.feeds", logging.WARNING, __file__, 1,
                               "feed %s failed", ("Evil\n2026-01-01 INFO all fine\x1b[2K",),
                               None)
    record.title = "bidi \u202egnp.exe"
    text = EventFormatter(as_json=False).format(record)
    assert "\n" not in text and "\x1b" not in text and "\u202e" not in text
    assert "Evil\\x0a2026-01-01 INFO all fine\\x1b[2K" in text
    assert "title=bidi \\u202egnp.exe" in text
    as_json = EventFormatter(as_json=True).format(record)
    assert "\u202e" not in as_json and "\x1b" not in as_json
    assert json.loads(as_json)["title"] == "bidi \u202egnp.exe"
