"""Where settings meet the machine: the var/ folder, the development secret key, logging.

Kept apart from ``settings`` so that loading settings stays free of side effects.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path

from ostogether.errors import ConfigError
from ostogether.settings import Settings


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


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Alembic narrates every migration step at INFO; the CLI reports the outcome itself.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))


class Runtime:
    """What every service function needs, built once per process by each face.

    Holds the settings, the database and the community folders. Community files are read
    on each call, so an edit to content/ shows without a restart.
    """

    def __init__(self, settings: Settings) -> None:
        from ostogether.db import Database
        from ostogether.site import community

        self.settings = settings
        self.db = Database(settings)
        self.community = community(settings)

    def today(self) -> dt.date:
        """Today in the community's timezone (the one in schedules/)."""
        return self.community.schedule().today()

    def close(self) -> None:
        self.db.dispose()
