"""Reads and checks the community's TOML files, naming the file and the line.

Every file a community writes (site.toml, eligibility.toml, the projects, the timetable,
the evergreen posts) is read strictly: an unknown key or a wrong type is a problem that
names the file, the line and what to write instead, so a typo never silently changes
behaviour. Pure apart from reading the file.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from ostogether.core.errors import ContentError
from ostogether.core.states import NETWORKS

# A field spec is a type name: str, int, bool, date, list[str], list[int], table[str],
# or a nested dict of specs for a sub-table.
Spec = dict[str, Any]


def line_of(text: str, key: str) -> int | None:
    """The first line (1-based) on which ``key`` is assigned or opens a table."""
    pattern = re.compile(
        rf"""^[ \t]*(\[[ \t]*)?["']?{re.escape(key)}["']?[ \t]*(=|\])""", re.MULTILINE)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def table_line(text: str, name: str) -> int | None:
    """The first line (1-based) of a table header that is ``name`` or inside it."""
    m = re.search(rf"^[ \t]*\[[ \t]*{re.escape(name)}[ \t]*[\].]", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else None


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file, turning every failure into a ContentError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{path}: file not found.") from None
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8 text; save it as UTF-8.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib puts "(at line N, column M)" in its message.
        raise ContentError(f"{path}: TOML syntax error: {exc}.") from None


def check_table(data: dict[str, Any], spec: Spec, path: Path, text: str,
                prefix: str = "") -> list[str]:
    """Check ``data`` against ``spec``; return one problem per bad key, with its line."""
    problems: list[str] = []

    def where(key: str) -> str:
        # A nested key is found by its table's header first ([languages.sv.types] for
        # languages.sv), then as a key.
        line = (prefix and table_line(text, prefix + key)) or line_of(text, key)
        return f"{path}:{line}" if line else str(path)

    for key, value in data.items():
        name = prefix + key
        if key not in spec:
            known = ", ".join(sorted(spec))
            problems.append(f"{where(key)}: unknown field '{name}' (known: {known}).")
            continue
        kind = spec[key]
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                problems.append(f"{where(key)}: '{name}' must be a table.")
            else:
                problems += check_table(value, kind, path, text, prefix=name + ".")
            continue
        if not _is(kind, value):
            problems.append(f"{where(key)}: '{name}' must be {_describe(kind)}, "
                            f"got {type(value).__name__}.")
    return problems


def _is(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "list[int]":
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "table[str]":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    raise AssertionError(f"unknown spec kind {kind}")


def _describe(kind: str) -> str:
    return {
        "str": "text in quotes", "int": "a whole number", "bool": "true or false",
        "date": "a date like 2024-01-31", "list[str]": "a list of texts in quotes",
        "list[int]": "a list of whole numbers", "table[str]": "a table of texts",
    }[kind]


def networks_problems(networks: Any, path: Path, text: str) -> list[str]:
    return [f"{path}:{line_of(text, 'networks')}: unknown network '{n}'; use "
            f"{', '.join(NETWORKS)}." for n in networks if n not in NETWORKS]
