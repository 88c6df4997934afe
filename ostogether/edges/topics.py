"""content/topics.toml: the words readers choose from and items carry (issue 36).

- **topics**: the registry's themes (content/eligibility.toml ``[themes]``) and the
  Sustainable Development Goals listed in ``sdgs``, as ``sdg-4``, ``sdg-13``, …;
- **kinds**: the engine's item kinds (``core.states.KINDS``);
- **audiences**: the ``[audiences]`` table.

Labels in other languages come from ``[languages.<code>.topics]``, ``.kinds`` and
``.audiences``, with English as the fallback. The file is read strictly,
like the rest of content/: an unknown key, an SDG outside 1–17, a label for a word that is
not in the vocabulary or for a language that is not shipped is a ``ContentError`` naming
the file and the line. Read again only when the file (or eligibility.toml) changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ostogether.core.errors import ContentError
from ostogether.core.languages import LANGUAGES
from ostogether.core.states import KINDS, SDG_NAMES
from ostogether.edges.site import Community, _memo
from ostogether.edges.tomlcheck import Spec, check_table, line_of, read_toml

SPEC: Spec = {"sdgs": "list[int]", "audiences": "table[str]", "languages": {
    code: {"topics": "table[str]", "kinds": "table[str]", "audiences": "table[str]"}
    for code in LANGUAGES}}
KEY = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
GROUPS = ("topics", "kinds", "audiences")


@dataclass(frozen=True)
class Vocabulary:
    """Keys to English labels per group, and the labels in other languages."""

    topics: dict[str, str]
    kinds: dict[str, str]
    audiences: dict[str, str]
    translated: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, str]:
        """``topics``, ``kinds`` or ``audiences``: key → English label."""
        return dict(getattr(self, name))

    def label(self, name: str, key: str, language: str = "en") -> str:
        """A word's label in ``language``, else in English, else the key itself."""
        own = self.translated.get(language, {}).get(name, {}).get(key)
        return own or self.group(name).get(key, key)

    def labels(self, name: str, language: str = "en") -> dict[str, str]:
        """Every word of a group with its label in ``language`` (English where missing)."""
        return {key: self.label(name, key, language) for key in self.group(name)}

    def unknown(self, name: str, keys: Iterable[str]) -> list[str]:
        """The keys of ``keys`` that are not words of group ``name``, in order."""
        known = self.group(name)
        return [k for k in keys if k not in known]

    def problem(self, name: str, keys: Iterable[str]) -> str:
        """'' when every key is known; else a sentence that names the unknown ones and the
        words to use instead (for forms, the API and imports)."""
        bad = self.unknown(name, keys)
        if not bad:
            return ""
        return (f"Unknown {name} {', '.join(repr(k[:40]) for k in bad[:5])}: use "
                f"{', '.join(self.group(name))}.")


def sdg_topic(number: int) -> str:
    return f"sdg-{number}"


def _load(community: Community) -> Vocabulary:
    path = community.content / "topics.toml"
    data, text = read_toml(path)
    problems = check_table(data, SPEC, path, text)
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    sdgs = data.get("sdgs", [])
    problems += [f"{path}:{line_of(text, 'sdgs')}: {n} in sdgs is not a Sustainable "
                 f"Development Goal; use numbers from 1 to 17." for n in sdgs
                 if n not in SDG_NAMES]
    audiences = data.get("audiences", {})
    if not audiences:
        problems.append(f"{path}: [audiences] is required and may not be empty.")
    problems += [f"{path}:{line_of(text, key)}: '{key}' in [audiences] must be lower-case "
                 f"letters and digits joined by hyphens (e.g. school-heads)."
                 for key in audiences if not KEY.fullmatch(key)]
    problems += [f"{path}:{line_of(text, key)}: '{key}' in [audiences] needs a label."
                 for key, label in audiences.items() if not label.strip()]
    topics = dict(community.criteria().themes)
    topics.update({sdg_topic(n): f"SDG {n}: {SDG_NAMES[n]}" for n in sdgs if n in SDG_NAMES})
    words = {"topics": topics, "kinds": dict(KINDS), "audiences": audiences}
    translated: dict[str, dict[str, dict[str, str]]] = {}
    for code, groups in data.get("languages", {}).items():
        for name, labels in groups.items():
            problems += [f"{path}:{line_of(text, key)}: '{key}' in [languages.{code}.{name}] "
                         f"is not one of the {name} ({', '.join(words[name])})."
                         for key in labels if key not in words[name]]
            translated.setdefault(code, {})[name] = {k: v for k, v in labels.items()
                                                    if v.strip()}
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return Vocabulary(topics=topics, kinds=dict(KINDS), audiences=dict(audiences),
                      translated=translated)


def vocabulary(community: Community) -> Vocabulary:
    """content/topics.toml with the themes of content/eligibility.toml, read again only
    when one of them changed."""
    return _memo(("topics", community.root),
                 lambda: [community.content / "topics.toml",
                          community.content / "eligibility.toml"],
                 lambda: _load(community))
