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
