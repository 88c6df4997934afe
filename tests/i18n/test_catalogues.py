"""The shipped catalogues are complete: every message the code and the templates say is
translated in each shipped language, none is fuzzy, and each translation carries exactly
the placeholders of its English source (docs/translations.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from ostogether.core.languages import LANGUAGES
from ostogether.edges.translations import SOURCE, catalogue

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [code for code in LANGUAGES if code != "en"]
# %(name)s for gettext, and {name} where a sentence is filled by str.format later (the
# rate limits' {minutes}).
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{(\w+)\}")


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(1) or (f"{{{m.group(2)}}}" if m.group(2) else m.group(0))
                  for m in PLACEHOLDER.finditer(text))


def problems(cat: Catalog) -> list[str]:
    """Every message that would show English, a guess, or a broken sentence."""
    found = []
    if cat.fuzzy:
        found.append("the catalogue's header is marked fuzzy")
    for m in cat:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        name = repr(ids[0])[:70]
        if m.fuzzy:
            found.append(f"{name}: fuzzy")
        if not all(strings):
            found.append(f"{name}: not translated")
            continue
        # A plural's forms may leave out the number (Italian "un progetto"); its other
        # named placeholders must all be there.
        wanted = _placeholders(ids[-1])
        for s in strings:
            have = _placeholders(s)
            if have != wanted and not (len(ids) > 1 and
                                       [p for p in wanted if p != "num"] ==
                                       [p for p in have if p != "num"]):
                found.append(f"{name}: placeholders {have} instead of {wanted}")
    return found


@pytest.mark.parametrize("language", SHIPPED)
def test_every_shipped_catalogue_is_complete_and_sound(language: str) -> None:
    with catalogue(language).open("rb") as f:
        cat = read_po(f, locale=language)
    assert problems(cat) == []
    assert sum(1 for m in cat if m.id) > 200


def test_the_catalogues_hold_every_message_of_the_code_and_templates() -> None:
    """A string wrapped in gettext but never extracted (make translations not run) would
    show in English on every page: the catalogues hold what the sources say now."""
    extracted = {msgid for _file, _line, msgid, *_ in extract_from_dir(
        str(ROOT), method_map=[("ostogether/**.py", "python"),
                               ("ostogether/web/templates/**.html", "jinja2"),
                               ("ostogether/web/templates/**.j2", "jinja2")],
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None,
                  "lazy_gettext": None, "_nl": (1, 2), "lazy_ngettext": (1, 2),
                  "pgettext": ((1, "c"), 2), "N_": None}, options_map={})}
    with catalogue("nl").open("rb") as f:
        known = {m.id for m in read_po(f, locale="nl") if m.id}
    missing = sorted(str(m) for m in extracted - known)
    assert missing == [], "run `make translations` and translate: " + "; ".join(missing)


def test_the_check_finds_each_kind_of_problem() -> None:
    cat = Catalog(locale="nl", fuzzy=False)
    cat.add("Hello, %(name)s.", "Hallo, %(naam)s.")
    cat.add("Untranslated", "")
    cat.add("Guess", "Gok", flags=["fuzzy"])
    cat[("%(num)d project", "%(num)d projects")] = Message(
        ("%(num)d project", "%(num)d projects"), ("%(num)d project", "projecten"))
    cat.add("Fine %(x)s", "Goed %(x)s")
    cat.add("Wait {minutes} minutes.", "Wacht {minuten} minuten.")
    found = problems(cat)
    assert len(found) == 4, found
    assert any("minuten" in p for p in found)
    assert any("naam" in p for p in found)
    assert any("not translated" in p for p in found)
    assert any("fuzzy" in p for p in found)
    assert SOURCE.is_dir()
