"""The service as `make run` starts it: no settings but the community's folders, every
path left at its relative default, and the server started from a working directory that
is not the package's. Tests with absolute test-only paths once hid that every kept
picture answered 500 under `make run` (``send_file`` read the relative ``var/media``
against ``ostogether/web/``)."""

from __future__ import annotations

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
from ostogether.newsletter import delivery
from ostogether.newsletter import issues as newsletter
from tests.conftest import REPO, child_env, csrf_from, finish, free_port, outbox, wait_for
from tests.factories import TEST, add_item, mark_sent
from tests.feedserver import FeedServer, Route, picture


@pytest.fixture
def community(tmp_path: Path) -> Path:
    """A copy of the community's folders, as a newcomer's clone has them."""
    home = tmp_path / "community"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, home / folder)
    return home


def ostogether(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ostogether", *args], cwd=cwd,
                            env=child_env(env), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def served(community: Path, web: FeedServer) -> Iterator[str]:
    """`ostogether init` in the community's folder, then `ostogether serve` started from
    its parent with OSTOGETHER_HOME relative to it. The only setting is the tests' way to
    the loopback picture server through the outbound guard."""
    allow = {"OSTOGETHER_FETCH_ALLOW": "127.0.0.1"}
    init = ostogether(community, allow, "init")
    out, err = finish(init, 120)
    assert init.returncode == 0, out + err
    port = free_port()
    proc = ostogether(community.parent, {**allow, "OSTOGETHER_HOME": community.name},
                      "serve", "--port", str(port), "--no-worker")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(base + "/registry", timeout=2).ok, 60)
        yield base
    finally:
        proc.terminate()
        finish(proc, 30)


def test_a_kept_picture_is_served_from_the_archive_under_make_runs_defaults(
        community: Path, served: str, web: FeedServer) -> None:
    web.routes["/photo.jpg"] = Route(picture(1600, 900, "JPEG"), content_type="image/jpeg")
    # The CLI's view of the same folders: the settings `make run` has, read from the
    # community's folder.
    rt = Runtime(load_settings(environ={"OSTOGETHER_HOME": str(community),
                                        "OSTOGETHER_FETCH_ALLOW": "127.0.0.1"}))
    try:
        assert rt.settings.public_url == served  # recorded by serve in var/
        add_item(rt, "cosmos", "news", link=web.url("/page/0"),
                 image_url=web.url("/photo.jpg"), image_alt="Pupils measuring air quality")
        issue = newsletter.compose_next(rt, TEST)
        approved, report = newsletter.approve(rt, TEST, issue.id)
        [images] = [c for c in report.checks if c.key == "images"]
        assert images.status == "pass", images.details  # asked the served process itself
        mark_sent(rt, approved.id)
        number = approved.number
    finally:
        rt.close()
    page = requests.get(f"{served}/archive/{number}", timeout=10)
    assert page.status_code == 200
    [src] = re.findall(r'<img[^>]+src="([^"]+/media/[0-9a-f]{64}\.jpg)"', page.text)
    assert src.startswith(served + "/media/")
    r = requests.get(src, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
    assert r.content[:3] == b"\xff\xd8\xff"
    assert (community / "var" / "media" / src.rsplit("/", 1)[1]).is_file()


def test_a_readers_choices_under_make_runs_defaults(community: Path, served: str,
                                                    web: FeedServer) -> None:
    """Issue 36 as `make run` serves it: a reader signs up for one topic on the served
    form, confirms from the mail in var/outbox, gets only the matching item of the next
    issue, and finds the topic ticked on the preferences page linked from that mail."""
    session = requests.Session()
    form = session.get(f"{served}/subscribe", timeout=10).text
    sent = session.post(f"{served}/subscribe", timeout=10, data={
        "csrf_token": csrf_from(form), "email": "ines@school.example.es", "language": "en",
        "consent": "y", "topics": "citizen-science"})
    assert sent.status_code == 200 and "<title>Check your mail" in sent.text, sent.text[:300]
    settings = load_settings(environ={"OSTOGETHER_HOME": str(community),
                                      "OSTOGETHER_FETCH_ALLOW": "127.0.0.1"})
    [confirm] = outbox(settings)
    link = re.search(r"http://127\.0\.0\.1:\d+/subscribe/confirm/\S+",
                     confirm.get_body(("plain",)).get_content())
    assert link is not None
    page = session.get(link.group(0), timeout=10).text
    assert session.post(link.group(0), timeout=10,
                        data={"csrf_token": csrf_from(page)}).status_code == 200
    rt = Runtime(settings)
    try:
        add_item(rt, "cosmos", link=web.url("/page/1"), title="Counting birds with pupils",
                 topics=["citizen-science"])
        add_item(rt, "levers", link=web.url("/page/2"), title="A policy brief on STEAM",
                 topics=["educational-policy"])
        issue = newsletter.compose_next(rt, TEST)
        approved, _ = newsletter.approve(rt, TEST, issue.id)
        assert delivery.send(rt, TEST, approved.id).counts["sent"] == 1
    finally:
        rt.close()
    mail = [m for m in outbox(settings) if "ines@" in m["To"]][-1]
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "Counting birds with pupils" in html and "Counting birds with pupils" in text
    assert "STEAM" not in html and "policy brief" not in text
    prefs = re.search(r"http://127\.0\.0\.1:\d+/p/\S+", text)
    assert prefs is not None
    choices = requests.get(prefs.group(0), timeout=10).text
    ticked = {m.group(1) for tag in re.findall(r"<input [^>]*>", choices) if "checked" in tag
              and (m := re.search(r'name="topics"[^>]*value="([^"]+)"', tag))}
    assert ticked == {"citizen-science"}, ticked
