"""What the browser tests share: the app on loopback, Debian's Chromium driven by
Playwright (never a downloaded browser), axe-core from the npm registry, and screenshots
under test-output/.

Chromium and axe-core are put in place by `make test` (and so by `.ci/run`): chromium
through apt, axe-core with `npm pack` into .venv/axe/. Where either is missing (a
machine without root or npm), the browser tests are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / ".venv" / "axe" / "axe.min.js"
OUTPUT = REPO / "test-output" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]


def need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed; `make test` installs it when run "
                    "as root (apt-get install chromium)")


@dataclass
class Live:
    """The app served by waitress on loopback, with its runtime."""

    url: str
    rt: Any


@pytest.fixture
def live(env: dict[str, str], smtp_server: Any, fill_database: Any) -> Iterator[Live]:
    from waitress import create_server

    from ostogether.core.settings import load_settings
    from ostogether.edges.runtime import Runtime
    from ostogether.web import create_app
    from tests.conftest import free_port

    controller, _ = smtp_server
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(environ={
        **env, "OSTOGETHER_BASE_URL": base, "OSTOGETHER_MAIL_TRANSPORT": "smtp",
        "OSTOGETHER_SMTP_HOST": "127.0.0.1", "OSTOGETHER_SMTP_PORT": str(controller.port),
        "OSTOGETHER_SMTP_SECURITY": "none", "OSTOGETHER_LINK_CHECK_TIMEOUT": "2",
        "OSTOGETHER_LOG_LEVEL": "WARNING"})
    fill_database("imported")
    rt = Runtime(settings)
    app = create_app(settings)
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield Live(base, app.extensions["ostogether"])
    server.close()
    rt.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Chromium runs on the machine's own clock: under libfaketime (make test-dates) it
        # would crawl, and what the tests check in it never depends on the date.
        env = {k: v for k, v in os.environ.items()
               if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC")}
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, env=env)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (cookies of its own), CSP kept on."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    yield context
    context.close()


def shot(page: Any, name: str, full: bool = True) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


def log_in(page: Any, base: str, email: str,
           password: str = "correct horse battery") -> None:
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def link_in(message: EmailMessage, pattern: str) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    found = re.search(pattern, part.get_content())
    assert found is not None, part.get_content()
    return found.group(0)


def axe_source() -> str:
    if not AXE.exists():
        pytest.skip("axe-core is not in .venv/axe/; `make test` fetches it with npm pack")
    return AXE.read_text(encoding="utf-8")


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; return the serious and
    critical violations."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def axe_all(page: Any) -> list[str]:
    """Every axe-core violation of the WCAG 2.0/2.1 A and AA rules, whatever its impact,
    one line each."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]]
