"""`make bench`: figures for the registry, printed as a table.

Checks N project files (the 18 real ones, copied with new slugs, acronyms and websites)
with every eligibility rule, and compares the time with the floor: parsing the same
TOML files with tomllib and nothing else, measured in the same run. The duplicates
rule compares each project with every other, so the table shows how the cost grows.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ostogether.edges.site import Community  # noqa: E402
from ostogether.registry import rules as registry  # noqa: E402


def make_folder(n: int, into: Path) -> Path:
    folder = into / f"projects-{n}"
    folder.mkdir()
    sources = sorted((REPO / "content/projects").glob("*.toml"))
    for i in range(n):
        src = sources[i % len(sources)]
        text = src.read_text()
        if i >= len(sources):
            text = text.replace('acronym = "', f'acronym = "C{i}-', 1).replace(
                'website = "https://', f'website = "https://c{i}.', 1)
        (folder / f"p{i:05d}.toml").write_text(text)
    return folder


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    community = Community(REPO)
    criteria = community.criteria()
    version = community.code_of_conduct().version
    today = dt.date(2026, 11, 21)
    tmp = Path(tempfile.mkdtemp())
    try:
        rows = []
        for n in (18, 200, 1000):
            folder = make_folder(n, tmp)
            paths = sorted(folder.glob("*.toml"))
            repeat = 7 if n < 1000 else 3
            floor = median_time(lambda ps=paths: [tomllib.loads(p.read_text()) for p in ps], repeat)
            load = median_time(lambda f=folder: registry.load_project_files(f), repeat)
            files, problems = registry.load_project_files(folder)
            assert not problems, problems[:3]
            check = median_time(lambda fs=files: registry.check_files(fs, criteria, version, today),
                                repeat)
            rows.append((n, floor, load, check))
    finally:
        shutil.rmtree(tmp)

    print("Registry: load and check N project files (median of runs, this machine)")
    print(f"{'projects':>9} {'toml floor ms':>14} {'load ms':>9} {'check ms':>9} "
          f"{'check µs/project':>17} {'load / floor':>13}")
    for n, floor, load, check in rows:
        print(f"{n:>9} {floor * 1e3:>14.1f} {load * 1e3:>9.1f} {check * 1e3:>9.1f} "
              f"{check / n * 1e6:>17.0f} {load / floor:>12.2f}x")


if __name__ == "__main__":
    main()
