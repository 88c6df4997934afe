"""The core's sentences (core/words.py) are English alone and the page's language in the
application."""

from __future__ import annotations

from typing import Any

from ostogether.core.words import _l, _nl


def test_a_core_sentence_is_english_outside_the_application() -> None:
    assert str(_l("'%(country)s' is not a country: give its name or ISO code.",
                  country="Atlantis")) == \
        "'Atlantis' is not a country: give its name or ISO code."
    assert str(_nl("%(num)d line", "%(num)d lines", 1)) == "1 line"
    assert str(_nl("%(num)d line", "%(num)d lines", 3)) == "3 lines"


def test_a_core_sentence_takes_the_pages_language(app: Any) -> None:
    message = _l("'%(country)s' is not a country: give its name or ISO code.",
                 country="Atlantis")
    with app.test_request_context("/?lang=nl"):
        dutch = str(message)
    with app.test_request_context("/?lang=fr"):
        french = str(message)
    assert "Atlantis" in dutch and "Atlantis" in french
    assert dutch != french
    assert "is not a country" not in dutch and "is not a country" not in french
    # The same lazy sentence, shown again outside a request, is English again.
    assert str(message) == "'Atlantis' is not a country: give its name or ISO code."


def test_a_lazy_sentence_is_escaped_in_a_page_and_written_in_json(app: Any) -> None:
    """A member's text inside a sentence is escaped like any text (Flask-Babel's lazy
    strings call themselves safe HTML, which let it through), and JSON writes the text."""
    from flask import json, render_template_string

    from ostogether.core.words import lazy_gettext, lazy_pgettext

    message = _l("'%(country)s' is not a country: give its name or ISO code.",
                 country="<script>alert(1)</script>")
    with app.test_request_context("/?lang=nl"):
        page = render_template_string("<p>{{ m }}</p>", m=message)
        assert "<script>" not in page and "&lt;script&gt;" in page
        assert json.loads(json.dumps({"error": message}))["error"] == str(message)
    assert lazy_gettext is _l
    assert str(lazy_pgettext("history", "%(who)s", who="x")) == "x"


def test_no_module_uses_flask_babels_lazy_strings() -> None:
    import re
    from pathlib import Path

    import ostogether

    root = Path(ostogether.__file__).parent
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             if re.search(r"from flask_babel import[^\n]*lazy_", p.read_text())]
    assert found == [], f"use ostogether.core.words instead in {found}"


def test_a_kept_sentence_is_worded_again_when_shown(app: Any) -> None:
    from ostogether.core.words import keep, listed, per_field, shown

    said = listed([_l("repeats line %(line)d of %(file)s", line=4, file="a.csv"),
                   per_field({"consent_date": _l("is in the future")}),
                   _nl("at most %(num)d topic", "at most %(num)d topics", 3)])
    kept = keep(said)
    assert isinstance(kept, str) and "repeats line" in kept  # msgids, never a wording
    assert keep("plain English") == "plain English" and keep(None) == ""
    english = "repeats line 4 of a.csv; consent_date: is in the future; at most 3 topics"
    assert str(shown(kept)) == str(said) == english
    assert shown("plain English") == "plain English"  # text kept before stays as it is
    assert shown('{"m": broken') == '{"m": broken'
    with app.test_request_context("/?lang=fr"):
        french = str(shown(kept))
    assert french == ("répète la ligne 4 de a.csv; consent_date\u00a0: est dans l'avenir; "
                      "au plus 3 thèmes")
