"""Topics and audiences of news items (issue 36). Pure.

An item carries ``topics`` and ``audiences``: keys of the community's vocabulary
(``edges.topics.vocabulary``, from content/topics.toml and the registry's themes), which
readers' choices match (``core.choices``).

- The form and the API give keys; ``keys`` checks their shape and ``problem`` names the
  words the vocabulary does not know, with the words to use.
- An item given no topic takes its project's themes (those that are topics): ``defaults``.
  An item given no audience is for every audience.
- A feed's categories become topics and audiences when they name one (``from_categories``):
  by key or by label in any shipped language, in any case and with or without accents,
  spaces or hyphens ("SDG 13", "SDG13" and "sdg-13" are all ``sdg-13``); other categories
  are ignored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.topics import Vocabulary

GROUPS = ("topics", "audiences")  # what an item carries (kinds are the item's own field)
KEYS_MAX = 40  # more words than any vocabulary holds: a body that sends more is wrong
# Each group's sentences, whole (N_ marks them for extraction; _l words them when used).
N_ = str
LIST_OF_WORDS = {"topics": N_('give the topics as a list of words, such as ["steam"]'),
                 "audiences": N_('give the audiences as a list of words, such as ["steam"]')}
TOO_MANY = {"topics": N_("%(num)d topics are more than the %(limit)d allowed"),
            "audiences": N_("%(num)d audiences are more than the %(limit)d allowed")}
UNKNOWN = {"topics": N_("Unknown topics %(keys)s: use %(words)s."),
           "audiences": N_("Unknown audiences %(keys)s: use %(words)s.")}


def keys(value: Any, name: str) -> tuple[list[str] | None, Any]:
    """The keys given for group ``name`` (None: not given), without blanks or repeats, and
    '' or why the value is not a list of words."""
    if value is None:
        return None, ""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return None, _l(LIST_OF_WORDS[name])
    if len(value) > KEYS_MAX:
        return None, _l(TOO_MANY[name], num=len(value), limit=KEYS_MAX)
    out: list[str] = []
    for v in value:
        key = v.strip()
        if key and key not in out:
            out.append(key)
    return out, ""


def problem(vocab: Vocabulary, name: str, given: Iterable[str]) -> Any:
    """'' when every key is a word of group ``name``; else the sentence that names the
    unknown ones and the words to use (in the reader's language when shown)."""
    bad = vocab.unknown(name, given)
    if not bad:
        return ""
    return _l(UNKNOWN[name], keys=", ".join(repr(k[:40]) for k in bad[:5]),
              words=", ".join(vocab.group(name)))


def ordered(vocab: Vocabulary, name: str, given: Iterable[str]) -> list[str]:
    """The known keys of ``given`` in the vocabulary's order (so that the same choice is
    always stored the same way)."""
    chosen = set(given)
    return [k for k in vocab.group(name) if k in chosen]


def defaults(vocab: Vocabulary, themes: Iterable[str]) -> list[str]:
    """The topics of an item given none: its project's themes that are topics."""
    return ordered(vocab, "topics", themes)


def normal(word: str) -> str:
    """A word as categories are compared: case folded, accents, spaces and punctuation
    dropped ("SDG 13" and "sdg-13" are both "sdg13")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def index(vocab: Vocabulary) -> dict[str, tuple[str, str]]:
    """Every way a category may name a topic or an audience → (group, key): the key, the
    label in each shipped language, and each part of a label written "SDG 13: Climate
    action" (so "SDG 13", "ODD 13" and "Climate action" name it too). The first wins."""
    found: dict[str, tuple[str, str]] = {}
    languages = ["en", *sorted(vocab.translated)]
    for name in GROUPS:
        for key in vocab.group(name):
            words = [key]
            for language in languages:
                label = vocab.label(name, key, language)
                words += [label, *label.split(":")]
            for word in words:
                if (n := normal(word)) and n not in found:
                    found[n] = (name, key)
    return found


def from_categories(vocab: Vocabulary, categories: Iterable[str],
                    ) -> tuple[list[str], list[str]]:
    """The topics and the audiences that a feed entry's categories name (see the module's
    docstring), in the vocabulary's order; categories that name none are ignored."""
    words = index(vocab)
    hits: dict[str, set[str]] = {name: set() for name in GROUPS}
    for category in categories:
        if (hit := words.get(normal(category))) is not None:
            hits[hit[0]].add(hit[1])
    return ordered(vocab, "topics", hits["topics"]), ordered(vocab, "audiences",
                                                            hits["audiences"])
