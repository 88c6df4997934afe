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

A sentence that is kept (an import's report, a line in a spool) is never kept worded:
``keep`` gives its msgid and parameters as text, and ``shown`` makes that text a lazy
sentence again, worded in the language of whoever reads it. Text that ``keep`` did not
write (English kept by older code) is shown as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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


Said = dict[str, Any]  # {"m": msgid, "p": params}, {"m", "pl", "n", "p"}, {"j": [...]}
JOIN = "; "


def _value(value: Any) -> Any:
    return _word(value) if isinstance(value, dict) else value


def _word(said: Said) -> str:
    if "j" in said:
        return JOIN.join(str(_value(part)) for part in said["j"])
    params = {k: _value(v) for k, v in said.get("p", {}).items()}
    if "pl" in said:
        return _ngettext[0](said["m"], said["pl"], said["n"], **params)
    return _gettext[0](said["m"], **params)


class Words(LazyProxy):
    """A lazy sentence that knows its msgid and parameters, so that it can be kept."""

    __slots__ = ("said",)

    def __init__(self, said: Said) -> None:
        super().__init__(_word, said, enable_cache=False)
        object.__setattr__(self, "said", said)


def _kept(value: Any) -> Any:
    if isinstance(value, Words):
        return {**value.said, **({"p": {k: _kept(v) for k, v in value.said["p"].items()}}
                                 if "p" in value.said else {}),
                **({"j": [_kept(v) for v in value.said["j"]]} if "j" in value.said else {})}
    if isinstance(value, (str, int, float)) or value is None:
        return value
    return str(value)


def _l(msgid: str, **params: Any) -> Any:
    """``msgid`` in the reader's language when it is shown (``%(name)s`` from params)."""
    return Words({"m": msgid, "p": params})


def _nl(singular: str, plural: str, num: int, **params: Any) -> Any:
    """The singular or plural sentence for ``num`` (``%(num)d``), in the reader's language
    when it is shown."""
    return Words({"m": singular, "pl": plural, "n": num, "p": params})


def listed(parts: Iterable[Any]) -> Any:
    """Sentences (or plain text) shown one after the other, separated by "; "."""
    return Words({"j": list(parts)})


def per_field(fields: dict[str, Any]) -> Any:
    """Each field's problem as "field: problem", one after the other."""
    return listed(_l("%(field)s: %(problem)s", field=k, problem=v) for k, v in fields.items())


def keep(value: Any) -> str:
    """What to store of a sentence: a ``Words`` as its msgid and parameters (JSON text,
    which ``shown`` reads back), anything else as its text."""
    if isinstance(value, Words):
        return json.dumps(_kept(value), ensure_ascii=False, separators=(",", ":"))
    return "" if value is None else str(value)


def shown(text: str) -> Any:
    """Kept text as a sentence to show: what ``keep`` wrote becomes the lazy sentence
    again (in the reader's language when it is shown); any other text stays as it is."""
    if not text.startswith(('{"m":', '{"j":')):
        return text
    try:
        said = json.loads(text)
    except ValueError:
        return text
    return Words(said) if isinstance(said, dict) else text


def lazy_pgettext(context: str, msgid: str, **params: Any) -> Any:
    """``msgid`` in ``context`` (one English word, two meanings), lazily."""
    return LazyProxy(lambda: _pgettext[0](context, msgid, **params), enable_cache=False)


# Flask-Babel's names, for the modules that import them under their own aliases.
lazy_gettext = _l
lazy_ngettext = _nl
