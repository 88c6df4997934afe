"""The pre-flight and the test sends per language: the size check weighs every language
version of the issue (each must stay under Gmail's clipping limit), and a test send may
choose the version to send."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.models import Subscriber
from ostogether.news import translations
from ostogether.newsletter import issues as newsletter
from ostogether.newsletter import preflight, test_sends
from tests.conftest import outbox
from tests.factories import TEST, add_item, add_readers
from tests.feedserver import FeedServer

NOW = dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC)
NL_TITLE = "Ouders als wetenschappers in de klas"


def composed(rt: Runtime, web: FeedServer) -> Any:
    first = add_item(rt, "cosmos", link=web.url("/page/1"),
                     title="Parents as scientists in the classroom")
    translations.save(rt, TEST, first, [translations.TranslationInput(
        "nl", NL_TITLE, "Een gids voor **scholen**.", web.url("/page/2"))])
    add_item(rt, "levers", link=web.url("/page/3"), title="A toolkit for science fairs")
    return newsletter.compose_next(rt, TEST, now=NOW)


def dutch_readers(rt: Runtime) -> None:
    ids = add_readers(rt, 2, domain="nl.readers.test")
    with rt.db.session() as s:
        s.execute(update(Subscriber).where(Subscriber.id.in_(ids)).values(language="nl"))


def test_the_size_check_weighs_every_language_version() -> None:
    small, big = b"x" * 50_000, b"=C3=A9" * 18_000
    one = preflight.check_sizes([("English (en)", small, 40_000)])
    assert one == preflight.check_size(small, 40_000)
    both = preflight.check_sizes([("English (en)", small, 40_000),
                                  ("Nederlands (nl)", small, 41_000)])
    assert both.status == "pass" and both.key == "size"
    assert [d.split(":")[0] for d in both.details] == ["English (en)", "Nederlands (nl)"]
    clipped = preflight.check_sizes([("English (en)", small, 40_000),
                                     ("Nederlands (nl)", big, 90_000)])
    assert clipped.status == "fail"
    assert clipped.details == ("Nederlands (nl): 105.5 KB as sent: Gmail will clip it and "
                               "hide the footer; drop items or shorten them",)


def test_the_preflight_sizes_each_language_its_readers_read(rt: Runtime,
                                                            web: FeedServer) -> None:
    dutch_readers(rt)
    issue = composed(rt, web)
    report, _ = newsletter.run_preflight(rt, issue.id)
    size = next(c for c in report.checks if c.key == "size")
    assert size.status == "pass" and "every language" in size.label
    assert [d.split(":")[0] for d in size.details] == ["English (en)", "Nederlands (nl)"]


def test_a_test_send_of_the_dutch_version(rt: Runtime, web: FeedServer, settings: Any
                                          ) -> None:
    dutch_readers(rt)
    issue = composed(rt, web)
    sent = test_sends.test_send(rt, TEST, issue.id, typed="tester@example.org",
                                language="nl")
    assert sent.to == ["tester@example.org"]
    [mail] = outbox(settings)
    html = str(mail.get_body(("html",)).get_content())
    assert NL_TITLE in html and 'lang="nl"' in html
    test_sends.test_send(rt, TEST, issue.id, typed="tester@example.org")
    english = outbox(settings)[-1]
    assert NL_TITLE not in str(english.get_body(("html",)).get_content())
    with pytest.raises(ValidationError) as exc:
        test_sends.test_send(rt, TEST, issue.id, typed="tester@example.org", language="sv")
    assert "language" in exc.value.fields
