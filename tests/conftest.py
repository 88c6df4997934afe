"""Real parts for every test: its own database, its own community folders, a real SMTP server.

The database is a fresh SQLite file per test, or, when OSTOGETHER_TEST_DATABASE_URL
points at a PostgreSQL server, a fresh database created on that server per test.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ostogether import db as dbmod
from ostogether.runtime import Runtime
from ostogether.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("OSTOGETHER_TEST_DATABASE_URL", "")


def pytest_report_header(config: Any) -> str:
    if PG_URL:
        return f"database: PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)}"
    return "database: SQLite (set OSTOGETHER_TEST_DATABASE_URL to run on PostgreSQL)"


def free_port() -> int:
    # aiosmtpd and our loopback servers cannot bind port 0 and report it back, so pick one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = "t_" + uuid.uuid4().hex[:16]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(environ=env)


@pytest.fixture
def bare_rt(settings: Settings) -> Iterator[Runtime]:
    """A runtime whose database is migrated but empty."""
    rt = Runtime(settings)
    dbmod.upgrade(rt.db)
    yield rt
    rt.close()


@pytest.fixture
def rt(bare_rt: Runtime) -> Runtime:
    """A runtime with the 18 projects of content/ imported."""
    from ostogether import projects

    projects.import_content(bare_rt)
    return bare_rt


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
        time.sleep(interval)
    raise AssertionError(f"timed out after {seconds} s waiting for {check}")


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


def make_user(rt: Runtime, email: str = "editor@example.org", role: str = "editor",
              password: str = "correct horse battery", project: str = "") -> None:
    from ostogether.audit import Actor
    from ostogether.users import create_user

    with rt.db.session() as s:
        create_user(s, Actor("test"), email=email, role=role, password=password,
                    project_slug=project)


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
