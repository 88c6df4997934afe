"""The languages as `make run` serves them: a clean community folder, `ostogether init`,
`ostogether serve` with every default; the catalogues are compiled at start (only the .po
files are in git), and a German browser gets German."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import REPO, child_env, finish, free_port, wait_for


def ostogether(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ostogether", *args], cwd=cwd,
                            env=child_env({}), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_german_browser_gets_german_from_make_runs_defaults(tmp_path: Path) -> None:
    home = tmp_path / "community"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, home / folder)
    init = ostogether(home, "init")
    out, err = finish(init, 120)
    assert init.returncode == 0, out + err
    port = free_port()
    proc = ostogether(home, "serve", "--port", str(port), "--no-worker")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(base + "/registry", timeout=2).ok, 60)
        r = requests.get(base + "/", headers={"Accept-Language": "de-AT,de;q=0.9"}, timeout=10)
        assert r.status_code == 200
        assert '<html lang="de" dir="ltr">' in r.text
        assert "Lehrkräfte und Bildungsfachleute: Erhalten Sie den Newsletter" in r.text
        assert "Accept-Language" in r.headers["Vary"]
        assert '<html lang="en"' in requests.get(base + "/", timeout=10).text
    finally:
        proc.terminate()
        finish(proc, 30)
    # Compiled where the service keeps its files, never into the package.
    assert (home / "var" / "translations" / "de" / "LC_MESSAGES" / "messages.mo").is_file()
