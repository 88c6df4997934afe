"""Every import reads in bounded memory: a line (a record) and its fields are bounded by
settings, and what each line keeps until the report is printed is bounded too. A file
that goes past a bound is refused with its name and line, never read whole: a zip of
185 KB that unpacks to one line of 190 MB of commas once took 4.2 GB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ostogether.edges.runtime import Runtime
from ostogether.newsletter import archive_import
from tests.conftest import run

MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, this child's only
print(done.returncode, peak)
sys.stderr.write(done.stderr)
"""


def peak_of(env: dict[str, str], *args: str) -> tuple[int, int, str]:
    """``ostogether ARGS`` in a process of its own: exit status, peak resident memory in
    MiB and stderr. Measured by a wrapper whose only child it is, so nothing else this
    test run started counts."""
    import subprocess
    import sys

    from tests.conftest import child_env, finish

    proc = subprocess.Popen([sys.executable, "-c", MEASURED, sys.executable, "-m",
                             "ostogether", *args], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=child_env(env))
    out, err = finish(proc, 300)
    code, peak_kib = (int(x) for x in out.split())
    return code, peak_kib // 1024, err


def hostile_zip(path: Path, megabytes: int = 190) -> Path:
    """A Mailchimp-like zip of ~185 KB holding one CSV line of ``megabytes`` MB of
    commas, written a chunk at a time: this test never holds it either."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, \
            zf.open("subscribed_members_export_1.csv", "w", force_zip64=True) as member:
        chunk = b"," * (1 << 20)
        for _ in range(megabytes):
            member.write(chunk)
    return path


def test_a_zip_of_one_huge_line_is_refused_in_bounded_memory(env: dict[str, str],
                                                               tmp_path: Path,
                                                               fill_database: Any) -> None:
    fill_database("migrated")
    bomb = hostile_zip(tmp_path / "audience.zip")
    assert bomb.stat().st_size < 400_000
    code, peak, err = peak_of(env, "subscribers", "import", str(bomb), "--apply")
    assert code == 1, err
    message = " ".join(err.split())
    assert ("subscribed_members_export_1.csv: line 1 is longer than 65536 characters"
            in message), message
    assert "Nothing was imported" in message and "Traceback" not in err
    assert peak < 200, f"{peak} MiB"
    print(f"peak {peak} MiB")


@pytest.mark.parametrize("content, message", [
    (b"email,name,language,consent_date,consent_source\n" + b"a@b.example," * 30_000
     + b"\n", "readers.csv: line 2 is longer than 65536 characters"),
    (b"email,name,language,consent_date,consent_source\n" + b"x," * 300 + b"\n",
     "readers.csv: line 2 has 301 fields; at most 200 are read"),
    (b'email,name,language,consent_date,consent_source\n"a@b.example,' + b"x" * 70_000,
     "readers.csv: line 2 is longer than 65536 characters"),  # a quote never closed
    (b'email,name,language,consent_date,consent_source\n"a@b.example' + b"abc\n" * 40_000,
     "readers.csv: line 16383 is longer than 65536 characters"),  # a quote runs on
])
def test_every_import_reads_lines_and_fields_within_the_limits(
        rt: Runtime, env: dict[str, str], tmp_path: Path, content: bytes,
        message: str) -> None:
    readers = tmp_path / "readers.csv"
    readers.write_bytes(content)
    r = run(env, "subscribers", "import", str(readers))
    assert r.returncode == 1 and message in " ".join(r.stderr.split()), r.stderr
    # The Wild Apricot door reads through the same code.
    contacts = tmp_path / "contacts.csv"
    contacts.write_bytes(content.replace(b"email,name,language,consent_date,consent_source",
                                         b"Email,Organization,First name,Last name,Archived"))
    r = run(env, "users", "import", str(contacts))
    assert r.returncode == 1, r.stderr
    assert message.replace("readers.csv", "contacts.csv") in " ".join(r.stderr.split())


def test_the_limits_are_settings(rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    readers = tmp_path / "readers.csv"
    readers.write_text("email,name,language,consent_date,consent_source\n"
                       f"a@b.example,{'N' * 1500},en,2024-01-01,form\n", encoding="utf-8")
    r = run({**env, "OSTOGETHER_IMPORT_MAX_LINE_CHARS": "1024"}, "subscribers", "import",
            str(readers))
    assert r.returncode == 1 and "line 2 is longer than 1024 characters" in r.stderr
    r = run({**env, "OSTOGETHER_IMPORT_MAX_FIELDS": "10"}, "subscribers", "import",
            str(readers))
    assert r.returncode == 0, r.stderr  # five fields
    r = run(env, "subscribers", "import", str(readers))
    assert r.returncode == 0 and "invalid" in r.stdout  # a name that long is refused


def test_an_archive_import_is_bounded_in_all(rt: Runtime, env: dict[str, str],
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "past"
    folder.mkdir()
    for n in (1, 2):
        (folder / f"issue{n}.html").write_text("<p>News " + "x" * 600 + "</p>")
    (folder / "issues.toml").write_text("".join(
        f'[[issue]]\nnumber = {n}\nsent_on = 2021-0{n}-15\nsubject = "#{n}"\n'
        f'file = "issue{n}.html"\n' for n in (1, 2)))
    monkeypatch.setattr(archive_import, "TOTAL_MAX_BYTES", 1000)
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 1
    assert "import them in parts of at most 0 MB" in " ".join(r.stderr.split()), r.stderr
    (folder / "issues.toml").write_text("# " + "x" * (archive_import.MANIFEST_MAX_BYTES))
    r = run(env, "archive", "import", str(folder))
    assert r.returncode == 1 and "issues.toml is over 1 MB" in r.stderr, r.stderr


def readers_csv(path: Path, lines: int) -> Path:
    """A valid readers' file of ``lines`` lines, one in ten repeating an earlier one (so
    that the report has lines to show), written a line at a time."""
    with path.open("w", encoding="utf-8") as f:
        f.write("email,name,language,consent_date,consent_source\n")
        for n in range(lines):
            who = n - 1 if n % 10 == 9 else n
            f.write(f"reader{who}@import.example.org,Reader {who},en,2024-01-0{1 + n % 9},"
                    f"mailchimp\n")
    return path


def test_a_large_valid_import_takes_the_memory_of_a_small_one(
        env: dict[str, str], home: Path, tmp_path: Path, fill_database: Any) -> None:
    """What an import keeps of each line (its outcome, its row, the addresses seen, the
    report) waits on disk, not in memory: a file of 60,000 lines checks, and one of 20,000
    writes, in the memory that 2,000 take. Kept in memory, each line cost about 1.5 KB
    (90 MB more for the 60,000), and 500,000 lines went past 600 MB."""
    fill_database("migrated")
    small = readers_csv(tmp_path / "small.csv", 2_000)
    code, small_peak, err = peak_of(env, "subscribers", "import", str(small))
    assert code == 0, err
    code, large_peak, err = peak_of(env, "subscribers", "import",
                                    str(readers_csv(tmp_path / "large.csv", 60_000)))
    assert code == 0, err
    assert large_peak - small_peak < 12, (small_peak, large_peak)
    code, applied_small, err = peak_of(env, "subscribers", "import", str(small), "--apply")
    assert code == 0, err
    written = readers_csv(tmp_path / "written.csv", 20_000)
    code, applied_large, err = peak_of(env, "subscribers", "import", str(written), "--apply")
    assert code == 0, err
    assert applied_large - applied_small < 12, (applied_small, applied_large)
    assert large_peak < 200 and applied_large < 200
    # What waited on disk is gone with the import.
    assert list((home / "var" / "imports").glob("*.spool")) == []
    print(f"peak MiB: check 2,000 {small_peak}, 60,000 {large_peak}; "
          f"apply 2,000 {applied_small}, 20,000 {applied_large}")
