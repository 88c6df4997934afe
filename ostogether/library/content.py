"""The library's part of the community's folders: the vocabularies of content/library.toml
and the outputs the community lists itself in content/library/*.toml (seeded by ``init``).

Both are read strictly, like the rest of content/: an unknown key, a wrong type or a word
that is not in the vocabulary is a ``ContentError`` naming the file and the line. The
vocabularies' labels in other languages come from ``[languages.<code>.types]``,
``.age_ranges``, ``.subjects`` and ``.licences`` (English is the fallback), as in
content/topics.toml; a label for a word that is not in the vocabulary is an error too. The SDGs
are the UN's (``core.states.SDG_NAMES``), the languages ISO 639-1 codes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ostogether.core.errors import ContentError
from ostogether.core.inputs import url_problem
from ostogether.core.languages import LANGUAGES
from ostogether.core.states import SDG_NAMES
from ostogether.edges.site import Community, _memo
from ostogether.edges.tomlcheck import Spec, check_table, line_of, read_toml

GROUPS = ("types", "age_ranges", "subjects", "licences")
VOCABULARY_SPEC: Spec = {**{group: "table[str]" for group in GROUPS}, "languages": {
    code: {group: "table[str]" for group in GROUPS} for code in LANGUAGES}}
KEY = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# An SPDX licence identifier (or a LicenseRef-), as https://spdx.org/licenses/ writes them.
SPDX = re.compile(r"(LicenseRef-)?[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")
LANGUAGE = re.compile(r"[a-z]{2}")
DOI = re.compile(r"10\.\d{4,9}/\S{1,200}")

SEED_SPEC: Spec = {
    "projects": "list[str]", "organisations": "list[str]", "title": "str",
    "description": "str", "type": "str", "languages": "list[str]", "licence": "str",
    "age_ranges": "list[str]", "subjects": "list[str]", "sdgs": "list[int]",
    "keywords": "list[str]", "url": "str", "doi": "str", "date": "date", "image": "str",
    "image_alt": "str", "archived_url": "str",
}


@dataclass(frozen=True)
class Vocabulary:
    """The words an output is described in; keys are stored, labels shown. The four
    tables hold the English labels (the harvest, the JSON-LD and the API keep them);
    ``translated`` the labels in other languages, which ``in_language`` shows."""

    types: dict[str, str]
    age_ranges: dict[str, str]
    subjects: dict[str, str]
    licences: dict[str, str]
    translated: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    @property
    def sdgs(self) -> dict[int, str]:
        return dict(SDG_NAMES)

    def label(self, group: str, key: str, language: str = "en") -> str:
        """A word's label in ``language``, else in English, else the key itself."""
        own = self.translated.get(language, {}).get(group, {}).get(key)
        return own or getattr(self, group).get(key, key)

    def in_language(self, language: str) -> Vocabulary:
        """The same words with their labels in ``language`` (English where a label is
        missing), for a page in that language."""
        if language not in self.translated:
            return self
        shown = {group: {key: self.label(group, key, language) for key in getattr(self, group)}
                 for group in GROUPS}
        return replace(self, types=shown["types"], age_ranges=shown["age_ranges"],
                       subjects=shown["subjects"], licences=shown["licences"])


@dataclass(frozen=True)
class SeedOutput:
    """An output the community lists in content/library/<key>.toml."""

    key: str
    projects: tuple[str, ...]
    title: str
    type: str
    description: str = ""
    url: str = ""
    organisations: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    licence: str = ""
    age_ranges: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    doi: str = ""
    date: dt.date | None = None
    image_url: str = ""
    image_alt: str = ""
    archived_url: str = ""


def _line_in(text: str, table: str, key: str) -> int | None:
    """The line of ``key`` inside the table ``[table]`` (the same key may be elsewhere)."""
    start = line_of(text, table)
    if start is None:
        return line_of(text, key)
    rest = "\n".join(text.splitlines()[start:])
    found = line_of(rest, key)
    return start + found if found is not None else start


def _translations(data: dict, path: Path, text: str
                  ) -> tuple[dict[str, dict[str, dict[str, str]]], list[str]]:
    """The labels of ``[languages.<code>.<group>]``; a label for a word that is not in
    ``[<group>]`` is a problem naming its line."""
    translated: dict[str, dict[str, dict[str, str]]] = {}
    problems: list[str] = []
    for code, groups in data.get("languages", {}).items():
        for group, labels in groups.items():
            table = f"languages.{code}.{group}"
            problems += [f"{path}:{_line_in(text, table, key)}: '{key}' in [{table}] is not "
                         f"one of the {group} ({', '.join(data[group])})."
                         for key in labels if key not in data[group]]
            translated.setdefault(code, {})[group] = {k: v.strip() for k, v in labels.items()
                                                     if v.strip()}
    return translated, problems


def _load_vocabulary(path: Path) -> Vocabulary:
    data, text = read_toml(path)
    problems = check_table(data, VOCABULARY_SPEC, path, text)
    for table in GROUPS:
        if not data.get(table):
            problems.append(f"{path}: [{table}] is required and may not be empty.")
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    for table in ("types", "age_ranges", "subjects"):
        problems += [f"{path}:{line_of(text, key)}: '{key}' in [{table}] must be lower-case "
                     f"letters and digits joined by hyphens (e.g. lesson-plan)."
                     for key in data[table] if not KEY.fullmatch(key)]
    problems += [f"{path}:{line_of(text, key)}: '{key}' in [licences] is not an SPDX "
                 f"identifier (e.g. CC-BY-4.0); see https://spdx.org/licenses/."
                 for key in data["licences"] if not SPDX.fullmatch(key)]
    for table in GROUPS:
        problems += [f"{path}:{line_of(text, key)}: '{key}' in [{table}] needs a label."
                     for key, label in data[table].items() if not label.strip()]
    translated, found = _translations(data, path, text)
    problems += found
    if problems:
        raise ContentError(f"{path} has {len(problems)} problem(s):", problems)
    return Vocabulary(types=dict(data["types"]), age_ranges=dict(data["age_ranges"]),
                      subjects=dict(data["subjects"]), licences=dict(data["licences"]),
                      translated=translated)


def vocabulary(community: Community) -> Vocabulary:
    """content/library.toml, read again only when it changed."""
    path = community.content / "library.toml"
    return _memo(("library-vocabulary", community.root), lambda: [path],
                 lambda: _load_vocabulary(path))


def _in(words: list[str], known: dict[str, str], name: str, path: Path,
        text: str) -> list[str]:
    return [f"{path}:{line_of(text, name)}: unknown {name} '{w}'; use "
            f"{', '.join(known)} (content/library.toml)." for w in words if w not in known]


def _load_seeds(folder: Path, vocab: Vocabulary) -> list[SeedOutput]:
    seeds, problems = [], []
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            data, text = read_toml(path)
        except ContentError as exc:
            problems.append(str(exc))
            continue
        found = check_table(data, SEED_SPEC, path, text)
        if found:
            problems += found
            continue
        found += [f"{path}: '{key}' is required." for key in ("projects", "title", "type", "url")
                  if not data.get(key)]
        if data.get("type") and data["type"] not in vocab.types:
            found.append(f"{path}:{line_of(text, 'type')}: unknown type '{data['type']}'; "
                         f"use {', '.join(vocab.types)} (content/library.toml).")
        found += _in(data.get("age_ranges", []), vocab.age_ranges, "age_ranges", path, text)
        found += _in(data.get("subjects", []), vocab.subjects, "subjects", path, text)
        if data.get("licence") and data["licence"] not in vocab.licences:
            found.append(f"{path}:{line_of(text, 'licence')}: unknown licence "
                         f"'{data['licence']}'; use an SPDX identifier listed in "
                         f"content/library.toml ({', '.join(vocab.licences)}).")
        found += [f"{path}:{line_of(text, 'sdgs')}: SDG {n} does not exist; use 1 to 17."
                  for n in data.get("sdgs", []) if n not in SDG_NAMES]
        found += [f"{path}:{line_of(text, 'languages')}: language '{code}' must be a "
                  f"two-letter ISO 639-1 code such as en." for code in data.get("languages", [])
                  if not LANGUAGE.fullmatch(code)]
        for key in ("url", "image", "archived_url"):
            if data.get(key) and (why := url_problem(data[key])):
                found.append(f"{path}:{line_of(text, key)}: {key}: {why}.")
        if data.get("doi") and not DOI.fullmatch(data["doi"]):
            found.append(f"{path}:{line_of(text, 'doi')}: doi must look like 10.5281/zenodo.123 "
                         f"(without https://doi.org/).")
        if data.get("image") and not data.get("image_alt", "").strip():
            found.append(f"{path}:{line_of(text, 'image')}: an image needs image_alt, a "
                         f"description for people who cannot see it.")
        if found:
            problems += found
            continue
        seeds.append(SeedOutput(
            key=path.stem, projects=tuple(data["projects"]), title=data["title"].strip(),
            type=data["type"], description=data.get("description", "").strip(),
            url=data["url"], organisations=tuple(data.get("organisations", [])),
            languages=tuple(data.get("languages", ["en"])), licence=data.get("licence", ""),
            age_ranges=tuple(data.get("age_ranges", [])),
            subjects=tuple(data.get("subjects", [])), sdgs=tuple(data.get("sdgs", [])),
            keywords=tuple(data.get("keywords", [])), doi=data.get("doi", ""),
            date=data.get("date"), image_url=data.get("image", ""),
            image_alt=data.get("image_alt", "").strip(),
            archived_url=data.get("archived_url", "")))
    if problems:
        raise ContentError(f"{folder}: {len(problems)} problem(s) in the library's outputs:",
                           problems)
    return seeds


def seeds(community: Community) -> list[SeedOutput]:
    """content/library/*.toml: the outputs the community lists itself, one per file."""
    folder = community.content / "library"

    def files() -> list[Path]:
        return [folder, community.content / "library.toml",
                *sorted(folder.glob("*.toml"))] if folder.is_dir() else [folder]
    return list(_memo(("library-seeds", community.root), files,
                      lambda: _load_seeds(folder, vocabulary(community))))
