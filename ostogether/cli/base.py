"""What every command module of the `ostogether` CLI shares: the top group, the state of
one invocation, the entry point and ``emit``, which prints rows as a table or as JSON.

Each command is thin: it parses, calls a service, prints.

Everything the CLI prints goes through ``out`` and ``err`` (``Terminal``), ``emit`` or
``print_json``, and none of them can be made to misbehave by data: text is never read as
rich markup (``[/]`` in an acronym, ``[link=…]`` in a name) nor as emoji codes, and every
character that controls a terminal or hides or reorders text (ESC, C0 and C1 controls,
bidi overrides and isolates, line separators, stray tags) is shown as its escape
(``\x1b``, ``\u202e``), so a dry run shows what is there. Colour is asked for with
``styled``, never with markup in a string.

Errors from the service layer (``OstogetherError``) are printed as one sentence on
stderr with exit status 1 (2 for configuration errors); a traceback is only shown
with ``--debug``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import OperationalError, ProgrammingError

from ostogether.core.errors import ConfigError, OstogetherError
from ostogether.core.inputs import json_visible, visible
from ostogether.core.settings import Settings, load_settings
from ostogether.edges.runtime import Runtime, configure_logging
from ostogether.registry import projects

log = logging.getLogger(__name__)
FORMATS = click.Choice(["table", "json"])
class Terminal(Console):
    """rich's console for data: every string it is given, printed or in a table, is
    plain text (no markup, no emoji codes, no highlighting) with its hidden characters
    shown (``visible``). Style comes only from ``styled`` pieces."""

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, highlight=False, soft_wrap=True, markup=False,
                         emoji=False)

    def render_str(self, text: str, *, style: str | Style = "", justify: Any = None,
                   overflow: Any = None, emoji: bool | None = None,
                   markup: bool | None = None, highlight: bool | None = None,
                   highlighter: Any = None) -> Text:
        return super().render_str(visible(text), style=style, justify=justify,
                                  overflow=overflow, emoji=False, markup=False,
                                  highlight=False, highlighter=highlighter)


def styled(text: str, style: str) -> Text:
    """A piece of output in a style (``styled("FAIL", "red")``), its text shown as
    ``visible`` does."""
    return Text(visible(text), style=style)


def line(*parts: str | Text) -> Text:
    """One line of output made of plain text (shown as ``visible`` does) and ``styled``
    pieces, joined as they are."""
    joined = Text()
    for part in parts:
        joined.append(part if isinstance(part, Text) else visible(part))
    return joined


out = Terminal()
err = Terminal(stderr=True)


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


def _never_fail_to_write() -> None:
    # A terminal or pipe that cannot encode a character (LANG=C, a Windows code page)
    # shows it as an escape rather than stopping the command halfway through its report.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change: left as it is
                pass


def main() -> None:
    """Console entry point: turns every error into one readable line."""
    _never_fail_to_write()
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
    err.print(styled("Error:", "bold red"), message)
    sys.exit(code)


def json_text(data: Any) -> str:
    """``data`` as indented JSON, with what JSON leaves raw but a terminal would obey
    (C1 controls, bidi overrides, line separators…) written as ``\\u`` escapes: the
    same data to any JSON reader."""
    return json_visible(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_json(data: Any) -> None:
    click.echo(json_text(data))


def print_json_stream(data: dict[str, Any], key: str, items: Iterable[Any]) -> None:
    """``data`` with ``key`` (its last key) holding ``items``, as ``print_json`` would
    print it, written an item at a time: a report of 500,000 lines is never held whole."""
    opening, _, closing = json_text({**data, key: []}).rpartition("[]")
    click.echo(opening + "[", nl=False)
    first = True
    for item in items:
        click.echo(("" if first else ",") + "\n    "
                   + json_text(item).replace("\n", "\n    "), nl=False)
        first = False
    click.echo(("" if first else "\n  ") + "]" + closing)




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
        # A cell is one line of data: a line break in it is shown, not obeyed, so no
        # value can make a row look like two.
        table.add_row(*(Text(visible("" if c is None else str(c), lines=False))
                        for c in cells))
    out.print(table)
    if total:
        out.print(total)


def project_id(state: State, slug: str | None) -> int | None:
    """The id of the project with ``slug`` (any status), or None when no slug is given."""
    if not slug:
        return None
    with state.rt.db.session() as s:
        return projects.get(s, slug, public=False).id
