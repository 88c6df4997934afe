"""Where settings meet the machine: the var/ folder, the development secret key, logging.

Kept apart from ``settings`` so that loading settings stays free of side effects.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from ostogether.core.errors import ConfigError
from ostogether.core.inputs import json_visible, visible
from ostogether.core.settings import Settings
from ostogether.edges.db import Database
from ostogether.edges.site import community


def ensure_var(settings: Settings) -> Path:
    var = settings.var_path
    try:
        var.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"OSTOGETHER_VAR_DIR: cannot create {var}: {exc.strerror}.") from None
    return var


def secret_key(settings: Settings) -> str:
    """The configured secret key, or in development one generated once into var/."""
    if settings.secret_key:
        return settings.secret_key
    if settings.env == "production":  # load_settings already refuses this; belt and braces
        raise ConfigError("OSTOGETHER_SECRET_KEY is required in production.")
    path = ensure_var(settings) / "secret_key"
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two processes race at first start, the loser re-reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


# Attributes every log record has; anything else was passed as ``extra`` (the event's
# fields, like job=... outcome=...).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class EventFormatter(logging.Formatter):
    """One line per event: text (``time level logger message key=value …``) or a JSON
    object with the same fields, for a log collector."""

    def __init__(self, as_json: bool) -> None:
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        when = dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        error = self.formatException(record.exc_info) if record.exc_info else ""
        if self.as_json:
            data = {"time": when, "level": record.levelname, "logger": record.name,
                    "message": record.getMessage(), **fields}
            if error:
                data["exception"] = error
            return json_visible(json.dumps(data, default=str, ensure_ascii=False))
        # One line per event: a value from outside (a feed's title, a file's name) shows
        # its line breaks and terminal controls as escapes, never obeys them.
        message = visible(record.getMessage(), lines=False)
        line = f"{when} {record.levelname} {record.name} {message}"
        if fields:
            line += " " + " ".join(f"{k}={visible(str(v), lines=False)}"
                                   for k, v in fields.items())
        return line + ("\n" + visible(error) if error else "")


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged, so a command run
    in-process (the CLI's tests) logs into the stream it was given."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(EventFormatter(settings.log_format == "json"))
    root.addHandler(handler)
    root.setLevel(getattr(logging, settings.log_level))
    # Alembic narrates every migration step at INFO; the CLI reports the outcome itself.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
    # APScheduler logs every job twice at INFO; the job runs are logged as events instead.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))


class Runtime:
    """What every service function needs, built once per process by each face.

    Holds the settings, the database and the community folders. Community files are read
    on each call, so an edit to content/ shows without a restart.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.community = community(settings)

    def today(self) -> dt.date:
        """Today in the community's timezone (the one in schedules/)."""
        return self.community.schedule().today()

    def close(self) -> None:
        self.db.dispose()
