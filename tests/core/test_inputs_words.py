"""The core's input sentences are our own, in the reader's language: email-validator's
English reasons become a few sentences of ours (core/inputs.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ostogether.core.inputs import email_problem, one_line_problem, url_problem, valid_email

OURS = {
    "An email address must have an @-sign.",
    "An email address needs a name before the @-sign and a domain after it, such as "
    "name@example.org.",
    "Give the address alone, without a name or angle brackets (< >).",
    "The email address is too long.",
    "The part after the @-sign is not valid: it must be a domain name such as example.org.",
    "The part before the @-sign has characters an email address cannot have.",
    "An email address cannot start or end with a period, or have two periods in a row.",
    "This is not a valid email address: check it for typing mistakes, as in "
    "name@example.org.",
}


@pytest.mark.parametrize("address, sentence", [
    ("not-an-address", "An email address must have an @-sign."),
    ("", "An email address must have an @-sign."),
    ("@example.org", "An email address needs a name before the @-sign and a domain after "
                     "it, such as name@example.org."),
    ("kim@", "An email address needs a name before the @-sign and a domain after it, such "
             "as name@example.org."),
    ("Kim <kim@example.org>", "Give the address alone, without a name or angle brackets "
                              "(< >)."),
    ("k" * 300 + "@example.org", "The email address is too long."),
    ("kim@gmail", "The part after the @-sign is not valid: it must be a domain name such "
                  "as example.org."),
    ("kim@exa mple.org", "The part after the @-sign is not valid: it must be a domain name "
                         "such as example.org."),
    ("ki m@example.org", "The part before the @-sign has characters an email address "
                         "cannot have."),
    ("kim(x)@example.org", "The part before the @-sign has characters an email address "
                           "cannot have."),
    ("kim..lee@example.org", "An email address cannot start or end with a period, or have "
                             "two periods in a row."),
    ("kim@example..org", "An email address cannot start or end with a period, or have two "
                         "periods in a row."),
])
def test_email_validators_reasons_become_our_sentences(address: str, sentence: str) -> None:
    assert str(email_problem(address)) == sentence
    with pytest.raises(ValueError) as caught:
        valid_email(address)
    assert str(caught.value) == sentence


@pytest.mark.parametrize("address", [
    "a@b@c.org", "kim@[300.1.1.1]", "kim@-example.org", "kim@example..org", ".kim@x.org",
    "kim@localhost", "\"kim\"@example.org", "kim@xn--zz.org", "kim@example.org.",
    "kim@ex_ample.org", "kim(comment)@example.org", "kim@" + "a" * 64 + ".org",
])
def test_no_reason_of_email_validator_is_shown_as_it_is(address: str) -> None:
    why = email_problem(address)
    assert why is None or str(why) in OURS


def test_the_sentences_of_the_inputs_in_dutch_and_german(app: Any) -> None:
    with app.test_request_context("/?lang=nl"):
        assert str(email_problem("not-an-address")) == \
            "Een e-mailadres moet een @-teken bevatten."
        assert str(one_line_problem("a\nb")) == "moet één regel zijn: verwijder het regeleinde"
    with app.test_request_context("/?lang=de"):
        assert str(url_problem("javascript:alert(1)")) == \
            "javascript:-Adressen sind nicht erlaubt; geben Sie eine https://-Adresse an"
        assert "U+200B" in str(one_line_problem("a\u200bb"))
    assert str(one_line_problem("a\nb")) == "must be one line: remove the line break"
