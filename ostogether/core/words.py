"""Sentences the core writes for a person to read, marked for gettext.

The core knows no Flask, so it cannot look a translation up itself: ``_l`` and ``_nl``
give a lazy string that becomes a sentence when it is shown, through the translation
function the application registered with ``translate_with`` (the web's, which reads the
page's language). Until one is registered (a command, a test of the core alone) the
sentence is English. ``pybabel`` extracts ``_l`` and ``_nl`` like the services'
``lazy_gettext``; placeholders are named (``%(name)s``), so a translation may order them
as its language needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel.support import LazyProxy

Singular = Callable[..., str]
Plural = Callable[..., str]


def _english(msgid: str, **params: Any) -> str:
    return msgid % params if params else msgid


def _english_plural(singular: str, plural: str, num: int, **params: Any) -> str:
    return (singular if num == 1 else plural) % {"num": num, **params}


_gettext: list[Singular] = [_english]
_ngettext: list[Plural] = [_english_plural]


def translate_with(gettext: Singular, ngettext: Plural) -> None:
    """Register the application's translation functions (flask_babel's signatures)."""
    _gettext[0], _ngettext[0] = gettext, ngettext


def _l(msgid: str, **params: Any) -> Any:
    """``msgid`` in the reader's language when it is shown (``%(name)s`` from params)."""
    return LazyProxy(lambda: _gettext[0](msgid, **params), enable_cache=False)


def _nl(singular: str, plural: str, num: int, **params: Any) -> Any:
    """The singular or plural sentence for ``num`` (``%(num)d``), in the reader's language
    when it is shown."""
    return LazyProxy(lambda: _ngettext[0](singular, plural, num, **params), enable_cache=False)
