"""The editors' Schedule page, and `ostogether serve` starting the worker beside the web
server (the embedded default that `make run` uses)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from typing import Any

import requests

from ostogether import jobs
from ostogether.core.settings import load_settings
from ostogether.edges.runtime import Runtime
from tests.conftest import (
    child_env,
    finish,
    free_port,
    login,
    new_client,
    post,
    wait_for,
)
from tests.factories import make_user


def test_editors_see_every_job_and_can_run_one_now(editor: Any, app: Any) -> None:
    rt = app.extensions["ostogether"]
    jobs.run(rt, "derive_status")
    html = editor.get("/editors/schedule/").get_data(as_text=True)
    assert "No worker is scheduling" in html
    for name in ("poll_feeds", "compose_issue", "remind_members", "remind_editors",
                 "send_issue", "plan_social", "publish_social", "process_bounces",
                 "check_registry", "derive_status", "purge_pending",
                 "social_metrics", "purge_visitors", "check_library"):
        assert f"<code>{name}</code>" in html
    assert "Fri 15 Jan 10:00" in html  # send_issue's next run, in local time
    assert "status-job-skipped" in html and "no member project has passed its end date" in html
    r = post(editor, "/editors/schedule/publish_social/run", "/editors/schedule/")
    assert r.status_code == 302
    # The web face queues the run; a second click while it waits is refused.
    assert jobs.last_runs(rt)["publish_social"].outcome == "queued"
    post(editor, "/editors/schedule/publish_social/run", "/editors/schedule/")
    html = editor.get("/editors/schedule/").get_data(as_text=True)
    assert "publish_social is queued already" in html
    [done] = jobs.pick_up(rt)  # what the worker does every few seconds
    assert (done.job, done.trigger, done.outcome) == ("publish_social", "manual", "skipped")
    assert done.finished_at is not None and "queued by editor:" not in done.summary


def test_the_schedule_names_the_worker_in_plain_words(editor: Any, app: Any) -> None:
    rt = app.extensions["ostogether"]
    assert jobs.acquire(rt, "app1:4242:9f3a1c2e")
    html = editor.get("/editors/schedule/").get_data(as_text=True)
    assert re.search(r"the worker on <strong>app1</strong> \(process 4242\) last checked in "
                     r"\d+ seconds ago", html)
    assert "9f3a1c2e" not in html


def test_members_cannot_see_or_run_jobs(app: Any, rt: Runtime) -> None:
    make_user(rt, "member@cosmosproject.eu", "member", project="cosmos")
    member = new_client(app)
    login(member, "member@cosmosproject.eu")
    assert member.get("/editors/schedule/").status_code == 403
    assert new_client(app).get("/editors/schedule/").status_code == 302


def serve(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
    """``ostogether serve`` in a subprocess that inherits SIGINT ignored, as a shell's
    background job or nohup does: Ctrl+C and SIGTERM must stop it all the same."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ostogether", "serve", "--port", str(port),
                             *extra], env=child_env(env), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    return proc, f"http://127.0.0.1:{port}"


def health(base: str, want: int) -> dict[str, Any]:
    def answered() -> dict[str, Any] | None:
        r = requests.get(base + "/healthz", timeout=2)  # a 503 response is falsy itself
        return dict(r.json()) if r.status_code == want else None
    return dict(wait_for(answered))


def test_serve_runs_the_worker_unless_told_not_to(rt: Runtime, env: dict[str, str]) -> None:
    proc, base = serve(env)
    try:
        report = health(base, 200)
        assert report["worker"] == "ok" and str(proc.pid) in report["lease_holder"]
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C
        finish(proc, 30)
    assert proc.returncode == 0
    proc, base = serve(env, "--no-worker")
    try:
        report = health(base, 503)
        assert "expired" in report["worker"]  # the first server released its lease
    finally:
        proc.send_signal(signal.SIGTERM)  # systemd, a deploy
        finish(proc, 30)
    assert proc.returncode == 0


def test_without_base_url_serve_records_where_it_listens_and_the_cli_links_there(
        rt: Runtime, env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k != "OSTOGETHER_BASE_URL"}
    proc, base = serve(bare, "--no-worker")
    try:
        health(base, 503)
        # What the CLI and a separate worker read: the address serve listens on.
        assert load_settings(environ=bare).public_url == base
        assert load_settings(environ=env).public_url == "https://ostogether.test"  # set wins
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = finish(proc, 30)
    assert out.count("base_url is not set, so links in mails point to " + base) == 1
