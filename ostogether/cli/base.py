"""What every command module of the `ostogether` CLI shares: the top group, the state of
one invocation, the entry point and ``emit``, which prints rows as a table or as JSON.

Each command is thin: it parses, calls a service, prints.

Errors from the service layer (``OstogetherError``) are printed as one sentence on
stderr with exit status 1 (2 for configuration errors); a traceback is only shown
with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from ostogether import projects
from ostogether.errors import ConfigError, OstogetherError
from ostogether.runtime import Runtime, configure_logging
from ostogether.settings import Settings, load_settings

log = logging.getLogger(__name__)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
FORMATS = click.Choice(["table", "json"])


class State:
    """Lazily built settings and runtime, shared by the commands of one invocation."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None
        self._runtime: Runtime | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    @property
    def rt(self) -> Runtime:
        if self._runtime is None:
            configure_logging(self.settings)
            self._runtime = Runtime(self.settings)
        return self._runtime

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


pass_state = click.make_pass_decorator(State)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(dir_okay=False), envvar="OSTOGETHER_CONFIG",
              help="TOML file of settings (also OSTOGETHER_CONFIG).")
# main() reads --debug from argv itself: it must act after click has returned.
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="ostogether")
@click.pass_context
def cli(ctx: click.Context, config: str | None, debug: bool) -> None:
    """Newsletter, social publishing and project registry of a community of projects."""
    ctx.obj = State(config)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """Console entry point: turns every error into one readable line."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("Aborted.")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except OstogetherError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig)
        if "no such table" in text or "does not exist" in text and "relation" in text:
            _fail("The database has not been set up yet (" + text.split("\n")[0] + "). "
                  "Run `ostogether init` first.", 2)
        if "--debug" in sys.argv:
            raise
        log.exception("unexpected error")
        _fail(f"The database failed ({type(exc).__name__}: {text.splitlines()[0]}). Run "
              f"again with --debug for details, and report it.", 70)
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        log.exception("unexpected error")
        _fail(f"Unexpected error ({type(exc).__name__}: {exc}). Run again with --debug "
              f"for details, and report it.", 70)


def _fail(message: str, code: int) -> NoReturn:
    # The message is text, never markup: "[[issue]]" or "[jobs.send]" must print as is.
    err.print(f"[bold red]Error:[/] {escape(message)}", markup=True)
    sys.exit(code)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))




# A column of a table: its heading, and the key of the row (or a function of the row).
Column = tuple[str, str | Callable[[dict[str, Any]], Any]]


def emit(fmt: str, rows: Sequence[dict[str, Any]], columns: Sequence[Column], *,
         total: str = "", data: Any = None) -> None:
    """Print ``rows``: as JSON (``data`` instead, when given), or as a table of
    ``columns`` followed by the ``total`` line. ``None`` prints as an empty cell."""
    if fmt == "json":
        print_json(rows if data is None else data)
        return
    table = Table(box=None)
    for heading, _ in columns:
        # A narrow terminal wraps a long value (an address, a title) instead of cutting it.
        table.add_column(heading, overflow="fold")
    for row in rows:
        cells = (key(row) if callable(key) else row[key] for _, key in columns)
        table.add_row(*("" if c is None else str(c) for c in cells))
    out.print(table)
    if total:
        out.print(total, markup=False)


def project_id(state: State, slug: str | None) -> int | None:
    """The id of the project with ``slug`` (any status), or None when no slug is given."""
    if not slug:
        return None
    with state.rt.db.session() as s:
        return projects.get(s, slug, public=False).id
