"""Real parts for every test: its own database, its own community folders, a real SMTP
server, and the one clock set to a fixed day.

- **The clock.** Every test runs on a ``FakeClock`` that starts at ``TEST_NOW`` and runs
  on from there, so the machine's date and zone never matter. ``OSTOGETHER_TEST_NOW``
  moves the whole suite to another instant (a year end, 29 February, a daylight-saving
  change): ``make test-dates`` does that. Subprocesses started by tests get the same
  clock through ``tests/clockshim/sitecustomize.py``.
- **The database.** One migrated database and one with the 18 projects imported are built
  once per session (per xdist worker); each test gets its own copy: an SQLite backup, or
  ``CREATE DATABASE … TEMPLATE`` when OSTOGETHER_TEST_DATABASE_URL points at PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from ostogether import jobs
from ostogether.core import clock
from ostogether.core.settings import Settings, load_settings
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from tests.factories import make_user
from tests.social_fakes import FakeNetworks, env_for

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("OSTOGETHER_TEST_DATABASE_URL", "")
# A Wednesday in the week the suite was written; any instant works (make test-dates).
TEST_NOW = dt.datetime.fromisoformat(
    os.environ.get("OSTOGETHER_TEST_NOW", "") or "2026-11-25T10:00:00+00:00")
if TEST_NOW.tzinfo is None:
    TEST_NOW = TEST_NOW.replace(tzinfo=dt.UTC)
CLOCK_SHIM = Path(__file__).resolve().parent / "clockshim"


# Property tests search the same examples on every run, so that the suite passes or fails
# the same way on any day; HYPOTHESIS_PROFILE=explore searches afresh (then add what it
# finds as an @example).
hypothesis.settings.register_profile("repeatable", derandomize=True, database=None,
                                     deadline=None)
hypothesis.settings.register_profile("explore", derandomize=False, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def pytest_report_header(config: Any) -> list[str]:
    db = (f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)}" if PG_URL
          else "SQLite (set OSTOGETHER_TEST_DATABASE_URL to run on PostgreSQL)")
    return [f"database: {db}", f"test clock starts at {TEST_NOW.isoformat()} "
            f"(OSTOGETHER_TEST_NOW), zone TZ={os.environ.get('TZ', '')!r}"]


def free_port() -> int:
    # aiosmtpd and our loopback servers cannot bind port 0 and report it back, so pick one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- clock

@pytest.fixture(autouse=True)
def test_clock() -> Iterator[clock.FakeClock]:
    """The clock of this test: TEST_NOW, running. A test may ``set`` or ``advance`` it."""
    fake = clock.FakeClock(TEST_NOW, running=True)
    with clock.use(fake):
        yield fake


def frozen(at: dt.datetime) -> Any:
    """``with frozen(t):`` the clock stands at ``t`` for the block."""
    return clock.use(clock.FakeClock(at))


def child_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a subprocess of the service: the machine's, without its
    OSTOGETHER_ settings, with ``env``, and with the test's clock running on."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("OSTOGETHER_")}
    full.update(env)
    full["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(CLOCK_SHIM), str(REPO), full.get("PYTHONPATH", "")) if p)
    full["TEST_CLOCK_MONOTONIC"] = repr(time.monotonic())
    full["TEST_CLOCK_START"] = clock.now().isoformat()
    full["PYTHONFAULTHANDLER"] = "1"  # a hung child prints its threads' stacks (finish)
    return full


# --------------------------------------------------------------------------- database

class Templates:
    """A migrated and an imported database, built once, copied into each test's own."""

    LEVELS = ("migrated", "imported")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, str] = {}
        self.tag = uuid.uuid4().hex[:10]

    def _url(self, level: str) -> str:
        if not PG_URL:
            return f"sqlite:///{self.root / (level + '.db')}"
        return make_url(PG_URL).set(database=f"tpl_{self.tag}_{level}").render_as_string(
            hide_password=False)

    def template(self, level: str) -> str:
        if level in self.built:
            return self.built[level]
        from ostogether.edges import db
        from ostogether.registry import projects

        url = self._url(level)
        if PG_URL:
            _pg_admin(f'CREATE DATABASE "{make_url(url).database}"')
        settings = load_settings(environ={
            "OSTOGETHER_HOME": str(REPO), "OSTOGETHER_DATABASE_URL": url,
            "OSTOGETHER_VAR_DIR": str(self.root / "var"),
            "OSTOGETHER_SECRET_KEY": "template-" + "x" * 32})
        with clock.use(clock.FakeClock(TEST_NOW)):
            rt = Runtime(settings)
            try:
                db.upgrade(rt.db)
                if level == "imported":
                    projects.import_content(rt)
            finally:
                rt.close()
        self.built[level] = url
        return url

    def copy_into(self, level: str, target: str) -> None:
        source = self.template(level)
        if not PG_URL:
            path = make_url(target).database
            assert path
            with sqlite3.connect(make_url(source).database or "") as src, \
                    sqlite3.connect(path) as dst:
                src.backup(dst)
            src.close()
            dst.close()
            return
        name = make_url(target).database
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                  f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"')

    def drop(self) -> None:
        if PG_URL:
            for url in self.built.values():
                _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _pg_admin(*statements: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("templates"))
    yield t
    t.drop()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """This test's own database, empty. ``fill_database`` gives it the template's rows."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = "t_" + uuid.uuid4().hex[:16]
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fill_database(templates: Templates, database_url: str) -> Any:
    """``fill_database("migrated" | "imported")``: this test's database as a copy of the
    session's template: migrated, or migrated with the projects of content/ imported."""
    def fill(level: str = "imported") -> None:
        templates.copy_into(level, database_url)
    return fill


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A private copy of the community folders, so a test may break them."""
    root = tmp_path / "home"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, root / folder)
    return root


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    return {
        "OSTOGETHER_HOME": str(home),
        "OSTOGETHER_DATABASE_URL": database_url,
        "OSTOGETHER_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "OSTOGETHER_BASE_URL": "https://ostogether.test",
        # Tests read public pages right after changing data; test_cache turns it on.
        "OSTOGETHER_PUBLIC_CACHE_SECONDS": "0",
        # The loopback servers of the tests (feeds, pages, images) pass the outbound guard
        # this way; test_fetch checks that nothing else private does.
        "OSTOGETHER_FETCH_ALLOW": "127.0.0.1",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(environ=env)


def _runtime(settings: Settings, fill: Any, level: str) -> Iterator[Runtime]:
    fill(level)
    rt = Runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def bare_rt(settings: Settings, fill_database: Any) -> Iterator[Runtime]:
    """A runtime whose database is migrated but empty."""
    yield from _runtime(settings, fill_database, "migrated")


@pytest.fixture
def rt(settings: Settings, fill_database: Any) -> Iterator[Runtime]:
    """A runtime with the 18 projects of content/ imported."""
    yield from _runtime(settings, fill_database, "imported")


def outbox(settings: Settings) -> list[EmailMessage]:
    from ostogether.mail.transports import OutboxTransport

    return OutboxTransport(settings.outbox_path).messages()


# --------------------------------------------------------------------------- SMTP

class Sink:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.envelopes.append(envelope)
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Any, Sink]]:
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


# --------------------------------------------------------------------------- HTTP

@pytest.fixture
def web() -> Iterator[Any]:
    """A loopback web server whose /page/0 … /page/39 answer 200: links that pass the
    newsletter's link check."""
    from tests.feedserver import FeedServer, Route

    server = FeedServer().start()
    page = Route(body=b"<!doctype html><title>ok</title>", content_type="text/html")
    for n in range(40):
        server.routes[f"/page/{n}"] = page
    yield server
    server.stop()


# --------------------------------------------------------------------------- web

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


def wait_for(check: Any, seconds: float = 30, interval: float = 0.1) -> Any:
    """Call ``check`` until it returns something true (a server not up yet, OSError,
    counts as not yet); its value, or AssertionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:  # includes requests' ConnectionError
            value = None
        if value:
            return value
        clock.sleep(interval)
    raise AssertionError(f"timed out after {seconds} s waiting for {check}")


@dataclass
class Ran:
    """What a command printed and how it exited, as ``subprocess.CompletedProcess`` says."""

    returncode: int
    stdout: str
    stderr: str


def run(env: dict[str, str], *args: str, stdin: str = "") -> Ran:
    """``ostogether ARGS`` in this process, through its real entry point ``main()`` (so
    errors become the same one-line messages), with ``env`` as its whole OSTOGETHER_
    environment. Much faster than a subprocess; ``run_process`` is the real thing."""
    from click.testing import CliRunner

    from ostogether.cli import main

    runner = CliRunner()
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("OSTOGETHER_")}
    handlers, level = logging.root.handlers[:], logging.root.level
    argv = sys.argv
    with runner.isolation(input=stdin, env={**unset, **env}) as streams:
        sys.argv = ["ostogether", *args]
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = argv
            logging.root.handlers[:] = handlers
            logging.root.setLevel(level)
        out, err = streams[0], streams[1]
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def finish(proc: Any, timeout: float = 60, stdin: str | None = None) -> tuple[str, str]:
    """``proc.communicate()``, killing the process if it is not done after ``timeout``.

    Not ``communicate(timeout=…)``: its wait polls with ``time.sleep``, which fails with
    EINVAL under libfaketime. A timer that kills the process is the same deadline. A
    process that hangs is first asked for the stack of every thread (SIGABRT, which
    faulthandler answers on stderr; ``child_env`` turns it on), so a failure says where.
    """
    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGABRT)
            threading.Timer(3, proc.kill).start()

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        out, err = proc.communicate(stdin)
    finally:
        timer.cancel()
    return out or "", err or ""


def run_process(env: dict[str, str], *args: str, stdin: str = "",
                timeout: float = 120) -> Ran:
    """``python -m ostogether ARGS`` in a subprocess, with the test's clock."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "ostogether", *args], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=child_env(env))
    out, err = finish(proc, timeout, stdin)
    return Ran(proc.returncode, out, err)


def renewed_since(rt: Runtime, seen: Any, seconds: float) -> Any:
    """The scheduler's lease once renewed ``seconds`` after ``seen`` was, else None."""

    held = jobs.lease(rt)
    if held is not None and held.renewed_at >= seen.renewed_at + dt.timedelta(seconds=seconds):
        return held
    return None


def csrf_from(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1) or m.group(2)


@pytest.fixture
def app(rt: Runtime, settings: Settings) -> Any:
    from ostogether.web import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["ostogether"].close()


def new_client(app: Any) -> Any:
    """A test client with its own cookies, as a second person in another browser."""
    c = app.test_client()
    # Requests are https (the base URL is), so Flask-WTF checks the Referer as browsers send it.
    c.environ_base["HTTP_REFERER"] = "https://localhost/"
    return c


@pytest.fixture
def client(app: Any) -> Any:
    return new_client(app)


@pytest.fixture
def fake() -> Iterator[FakeNetworks]:
    """The five networks' loopback fake; every request it got had the documented shape."""
    with FakeNetworks() as server:
        yield server
        assert server.problems == []


@pytest.fixture
def live_rt(env: dict[str, str], fake: FakeNetworks, fill_database: Any) -> Iterator[Runtime]:
    """A runtime whose five networks are live, pointed at the fake. Its timeouts leave a
    loaded machine room: no test of this fixture injects a "timeout" fault."""
    fill_database("imported")
    rt = Runtime(load_settings(environ={**env, **env_for(fake.url),
                                        "OSTOGETHER_SOCIAL_READ_TIMEOUT": "10",
                                        "OSTOGETHER_SOCIAL_CONNECT_TIMEOUT": "5"}))
    yield rt
    rt.close()


def social_posts(rt: Runtime) -> dict[int, SocialPost]:
    """Every social post by id, detached, as the database holds it now."""
    with rt.db.session() as s:
        found = {p.id: p for p in s.scalars(select(SocialPost))}
        s.expunge_all()
    return found


def link_in(message: Any, path: str) -> str:
    """The path of the service's link under ``path`` in a mail's plain-text part."""
    body = message.get_body(("plain",)).get_content()
    m = re.search(r"https://ostogether\.test(" + path + r"[^\s]+)", body)
    assert m, body
    return m.group(1)


def login(client: Any, email: str = "editor@example.org",
          password: str = "correct horse battery") -> Any:
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


@pytest.fixture
def editor(app: Any, rt: Runtime) -> Any:
    """A client logged in as an editor (editor@example.org)."""
    make_user(rt)
    c = new_client(app)
    assert login(c).status_code == 302
    return c


def post(client: Any, url: str, page: str, **data: Any) -> Any:
    """POST a form to ``url`` with the CSRF token of ``page``, as a browser would."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


# The browser fixtures (Chromium, the app on loopback) live in tests/browser.py; they are
# registered here once, so the session-wide browser is shared by every module.
from tests.browser import browser, chromium, live  # noqa: E402, F401
