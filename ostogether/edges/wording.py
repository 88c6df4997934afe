"""Sentences kept in English and worded again in the reader's language when shown.

Some sentences outlive the request that made them: a feed's last problem is kept in the
database, a picture's or a link's problem goes into an issue's checks, the CLI and the
log print them. Those stay English where they are kept (the record), and a page words
them again in its own language:

- ``N_("the host name %(host)s cannot be found")`` marks a msgid for ``make
  translations`` (``N_`` is one of pybabel's keywords) and remembers it here;
- ``say(msgid, host=...)`` is its English sentence, the text that is raised, kept and
  printed;
- ``reword(text)`` is that sentence in the page's language: the text is matched against
  the remembered msgids (each placeholder a group), and its parameters are worded again
  the same way (a fetch problem inside a feed problem). Text that matches none (an older
  row, a server's own words) is shown as it is. Outside a request, ``reword`` gives the
  English text back unchanged.

Placeholders are named and are ``%(name)s`` (text, given already formatted) or
``%(name)d`` (a whole number). A placeholder named ``network`` only ever holds a
network's brand name, so that "Not approved: X counts…" is never read as "<network>
counts…". A parameter that is itself one of the remembered sentences is worded too, also
when the outer sentence took its full stop ("Not approved: %(reason)s.").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from babel.dates import format_date
from babel.support import LazyProxy
from flask import has_app_context
from flask_babel import get_locale, gettext

from ostogether.core.states import NETWORK_NAMES

_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
_NETWORK = "|".join(re.escape(name) for name in NETWORK_NAMES.values())
_KNOWN: dict[str, re.Pattern[str]] = {}
_ORDER: list[str] = []  # the most specific (most literal text) first


def _pattern(msgid: str) -> re.Pattern[str]:
    out, at, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(msgid):
        name = m.group(1)
        out.append(re.escape(msgid[at:m.start()].replace("%%", "%")))
        if name in seen:  # the same parameter twice: the same text twice
            out.append(f"(?P={name})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>-?\\d+)" if m.group(2) == "d" else
                       f"(?P<{name}>{_NETWORK})" if name == "network" else
                       f"(?P<{name}>.*?)")
        at = m.end()
    out.append(re.escape(msgid[at:].replace("%%", "%")))
    return re.compile("".join(out), re.DOTALL)


def _literal(msgid: str) -> int:
    return len(_PLACEHOLDER.sub("", msgid))


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for "mark only")
    """``msgid``, marked for extraction and remembered for ``reword``."""
    if msgid not in _KNOWN:
        _KNOWN[msgid] = _pattern(msgid)
        _ORDER.append(msgid)
        _ORDER.sort(key=_literal, reverse=True)
    return msgid


def say(msgid: str, **params: Any) -> str:
    """The English sentence of ``msgid`` with ``params``: what is raised and kept."""
    return msgid % params if params else msgid


def parse(text: str) -> tuple[str, dict[str, Any]] | None:
    """The remembered msgid ``text`` was made from, and its parameters; None if none."""
    for msgid in _ORDER:
        m = _KNOWN[msgid].fullmatch(text)
        if m is not None:
            params: dict[str, Any] = {
                name: int(value) if f"%({name})d" in msgid else value
                for name, value in m.groupdict().items()}
            return msgid, params
    return None


def _worded(text: str, depth: int) -> str | None:
    found = parse(text)
    if found is None:
        return None
    msgid, params = found
    worded = {k: _inner(v, depth + 1) if isinstance(v, str) and depth < 3 else v
              for k, v in params.items()}
    return gettext(msgid, **worded) if worded else gettext(msgid)


def _inner(value: str, depth: int) -> str:
    """A parameter: one of the remembered sentences worded again, whose full stop the
    outer sentence may have taken; anything else as it is."""
    found = _worded(value, depth)
    if found is None and not value.endswith("."):
        found = _worded(value + ".", depth)
        found = found.rstrip(".") if found is not None else None
    return found if found is not None else value


def reword(text: Any) -> str:
    """``text`` (an English sentence made with ``say``) in the page's language."""
    text = str(text)
    found = _worded(text, 0)
    return found if found is not None else text


def day(value: dt.date | dt.datetime) -> Any:
    """A date as the page's language writes it ("6 December 2026", "6 december 2026"),
    lazily; English outside the application."""
    date = value.date() if isinstance(value, dt.datetime) else value

    def text() -> str:
        locale = get_locale() if has_app_context() else None
        if locale is None or locale.language == "en":
            return f"{date:%-d %B %Y}"
        return format_date(date, "long", locale=locale)
    return LazyProxy(text, enable_cache=False)


def joined(separator: str, parts: Any) -> Any:
    """``parts`` (sentences, lazy or not) joined when shown, empty ones left out."""
    parts = list(parts)
    return LazyProxy(lambda: separator.join(t for t in map(str, parts) if t),
                     enable_cache=False)
