"""The composition root: the two long-running processes, built from the faces.

``serve`` is the web face (waitress) with the worker face beside it, in one process: the
embedded default of ``make run``. ``work`` is the worker alone, for production beside a
web server started with ``--no-worker``. This is the one module that may import more
than one face; the CLI's ``serve`` and ``worker`` commands call it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import waitress

from ostogether import scheduler
from ostogether.core.settings import SERVED_URL_FILE, Settings
from ostogether.edges.runtime import Runtime, configure_logging
from ostogether.edges.topics import vocabulary
from ostogether.web import create_app


def serve(settings: Settings, *, threads: int, with_worker: bool,
          say: Callable[[str], None]) -> None:
    """Serve the web application until SIGTERM or Ctrl+C, with the worker beside it."""
    configure_logging(settings)

    # SIGTERM (systemd, a deploy) stops as Ctrl+C does: waitress winds down and the worker
    # releases its lease. SIGINT is set too, because a parent that ignores it (a shell's
    # background job, nohup) would otherwise leave Ctrl+C without effect.
    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    if not settings.base_url:
        # Links in mails must point where the site runs: record the address this server
        # listens on, for the CLI and the worker, and say once that production needs more.
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        here = f"http://{host}:{settings.port}"
        path = settings.var_path / SERVED_URL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(here + "\n", encoding="utf-8")
        say(f"Note: base_url is not set, so links in mails point to {here}. In production "
            f"set OSTOGETHER_BASE_URL to the site's public address.")
    app = create_app(settings)
    vocabulary(app.extensions["ostogether"].community)  # content/topics.toml, file and line
    running = scheduler.start_in_thread(app.extensions["ostogether"]) if with_worker else None
    say(f"Serving {settings.public_url} (listening on {settings.host}:{settings.port})"
        + (", with the scheduler" if with_worker else "") + "; press Ctrl+C to stop.")
    try:
        waitress.serve(app, host=settings.host, port=settings.port, threads=threads,
                       ident="ostogether")
    finally:
        if running is not None:
            running.stop()
            running.join(60)  # let running jobs finish and the lease be released


def work(rt: Runtime, *, say: Callable[[str], None]) -> None:
    """Run the worker until SIGTERM or Ctrl+C (several may run: one schedules, the
    others wait as standbys)."""
    rt.community.schedule()  # a bad timetable stops here, with file and key
    vocabulary(rt.community)  # and so does a bad content/topics.toml, with file and line
    one = scheduler.Worker(rt)
    # The handler runs in the main thread between any two steps of the scheduler's loop,
    # which may then hold one of its locks (submitting a job to its pool, say): stopping
    # the scheduler there waited on that lock for ever. The handler only writes a byte,
    # and a thread of its own stops the worker.
    wake_r, wake_w = os.pipe()

    def asked(*_: Any) -> None:
        os.write(wake_w, b"x")

    def stopper() -> None:
        os.read(wake_r, 1)
        one.stop()

    threading.Thread(target=stopper, name="ostogether-stop", daemon=True).start()
    signal.signal(signal.SIGTERM, asked)
    signal.signal(signal.SIGINT, asked)
    say(f"Worker {one.holder} started; SIGTERM or Ctrl+C stops it.")
    one.run()
    say("Worker stopped.")
