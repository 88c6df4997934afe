"""Publish now as `make run` serves it: `ostogether serve` with its embedded worker, on
the default settings (every network in dry run, paths relative, started from another
working directory). The page records the wish; the worker publishes the post within
worker_poll_seconds, once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from ostogether.social import posts as social
from tests.conftest import REPO, child_env, csrf_from, finish, free_port, social_posts, wait_for
from tests.factories import TEST, make_user


def ostogether(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ostogether", *args], cwd=cwd,
                            env=child_env(env), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def community(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A newcomer's clone: the community's folders, `ostogether init`, then `ostogether
    serve` (web and worker) from the folder's parent, with OSTOGETHER_HOME relative."""
    home = tmp_path / "community"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, home / folder)
    init = ostogether(home, {}, "init")
    out, err = finish(init, 120)
    assert init.returncode == 0, out + err
    port = free_port()
    proc = ostogether(home.parent, {"OSTOGETHER_HOME": home.name}, "serve", "--port",
                      str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(base + "/login", timeout=2).ok, 60)
        yield home, base
    finally:
        proc.terminate()
        finish(proc, 30)


def test_publish_now_goes_out_through_the_served_worker_once(community: tuple[Path, str]
                                                               ) -> None:
    home, base = community
    rt = Runtime(load_settings(environ={"OSTOGETHER_HOME": str(home)}))
    try:
        make_user(rt)
        social.plan_week(rt, TEST)
        post = min((p for p in social_posts(rt).values() if p.network == "bluesky"),
                   key=lambda p: p.id)
        web = requests.Session()
        page = web.get(f"{base}/login", timeout=10)
        web.post(f"{base}/login", timeout=10, data={
            "email": "editor@example.org", "password": "correct horse battery",
            "csrf_token": csrf_from(page.text)})
        url = f"{base}/editors/social/{post.id}"
        html = web.get(url, timeout=10).text
        assert "Approve and publish now" in html
        r = web.post(f"{url}/publish", data={"csrf_token": csrf_from(html)}, timeout=30)
        assert r.status_code == 200  # the post's page, after the redirect
        assert "Publishing within a few seconds" in r.text
        assert "No worker is running" not in r.text
        done = wait_for(lambda: social_posts(rt)[post.id].status not in
                        ("planned", "approved", "publishing") and social_posts(rt)[post.id],
                        60)
        assert done.status == "published", (done.status, done.error)
        sent = sorted((home / "var" / "outbox" / "social").glob("*.json"))
        assert [p.name for p in sent] == [f"{post.id:06d}-bluesky.json"]
        assert json.loads(sent[0].read_text())["text"] == post.text
        page_after = web.get(url, timeout=10).text
        assert "Publish now" not in re.sub(r"<!--.*?-->", "", page_after)
        r = web.post(f"{url}/publish", data={"csrf_token": csrf_from(page_after)}, timeout=30)
        assert "it is never published twice" in r.text
        assert social_posts(rt)[post.id].status == "published"
        assert len(list((home / "var" / "outbox" / "social").glob("*.json"))) == 1
    finally:
        rt.close()
