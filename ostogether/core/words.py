"""Sentences the core writes for a person to read, marked for gettext.

The core knows no Flask, so it cannot look a translation up itself: ``_l`` and ``_nl``
give a lazy string that becomes a sentence when it is shown, through the translation
function the application registered with ``translate_with`` (the web's, which reads the
page's language). Until one is registered (a command, a test of the core alone) the
sentence is English. ``pybabel`` extracts ``_l`` and ``_nl`` (and ``pgettext`` for a
sentence with a context); placeholders are named (``%(name)s``), so a translation may
order them as its language needs.

This is the service's one lazy string, everywhere (not Flask-Babel's ``lazy_gettext``,
whose strings call themselves safe HTML, so a page would show a member's ``<script>``
inside a sentence unescaped). Shown in a page, it is escaped like any text; the web's
JSON provider writes it as a string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.support import LazyProxy

Singular = Callable[..., str]
Plural = Callable[..., str]
Particular = Callable[..., str]


def _english(msgid: str, **params: Any) -> str:
    return msgid % params if params else msgid


def _english_plural(singular: str, plural: str, num: int, **params: Any) -> str:
    return (singular if num == 1 else plural) % {"num": num, **params}


def _english_particular(context: str, msgid: str, **params: Any) -> str:
    return _english(msgid, **params)


_gettext: list[Singular] = [_english]
_ngettext: list[Plural] = [_english_plural]
_pgettext: list[Particular] = [_english_particular]


def translate_with(gettext: Singular, ngettext: Plural, pgettext: Particular) -> None:
    """Register the application's translation functions (flask_babel's signatures)."""
    _gettext[0], _ngettext[0], _pgettext[0] = gettext, ngettext, pgettext


def is_lazy(value: Any) -> bool:
    """Whether ``value`` is one of these lazy sentences (to be made text with str)."""
    return isinstance(value, LazyProxy)


def _l(msgid: str, **params: Any) -> Any:
    """``msgid`` in the reader's language when it is shown (``%(name)s`` from params)."""
    return LazyProxy(lambda: _gettext[0](msgid, **params), enable_cache=False)


def _nl(singular: str, plural: str, num: int, **params: Any) -> Any:
    """The singular or plural sentence for ``num`` (``%(num)d``), in the reader's language
    when it is shown."""
    return LazyProxy(lambda: _ngettext[0](singular, plural, num, **params), enable_cache=False)


def lazy_pgettext(context: str, msgid: str, **params: Any) -> Any:
    """``msgid`` in ``context`` (one English word, two meanings), lazily."""
    return LazyProxy(lambda: _pgettext[0](context, msgid, **params), enable_cache=False)


# Flask-Babel's names, for the modules that import them under their own aliases.
lazy_gettext = _l
lazy_ngettext = _nl
