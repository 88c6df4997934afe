"""What a reader chooses to receive (issue 36): the topics, kinds and audiences of
content/topics.toml, the projects they follow (the registry's members and alumni, by
slug), and the country of their organisation.

Every door that takes choices (the sign-up, the preferences page, the CSV import, the
Mailchimp import's tag map) checks them here, against the vocabulary and the registry as
they are now: an unknown key is a sentence naming it and the words to use instead. What
the choices then give a reader is ``core.choices``' rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pycountry
from babel import Locale, UnknownLocaleError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.choices import Choices
from ostogether.core.errors import ValidationError
from ostogether.core.words import _l, _nl, per_field
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import vocabulary
from ostogether.models import Project, Subscriber

GROUPS = ("topics", "kinds", "audiences", "projects")
FOLLOWED = ("member", "alumni")  # the projects a reader may follow: the public ones
MAX_PER_GROUP = 200  # more values than any vocabulary has: a cell or a post gone wrong


@dataclass(frozen=True)
class Offered:
    """Everything a reader can choose, key → label in one language."""

    topics: dict[str, str]
    kinds: dict[str, str]
    audiences: dict[str, str]
    projects: dict[str, str]  # slug → acronym

    def group(self, name: str) -> dict[str, str]:
        return dict(getattr(self, name))


def followable(s: Session) -> dict[str, str]:
    """The projects a reader may follow, slug → acronym, by acronym."""
    rows = s.execute(select(Project.slug, Project.acronym).where(
        Project.status.in_(FOLLOWED)).order_by(Project.acronym))
    return {slug: acronym for slug, acronym in rows}


def offer(rt: Runtime, s: Session, language: str = "en") -> Offered:
    """What the sign-up and the preferences page show, labelled in ``language``."""
    words = vocabulary(rt.community)
    return Offered(topics=words.labels("topics", language),
                 kinds=words.labels("kinds", language),
                 audiences=words.labels("audiences", language),
                 projects=followable(s))


def offer_words(rt: Runtime, group: str) -> dict[str, str]:
    """One vocabulary group (topics, kinds, audiences), key → English label."""
    return vocabulary(rt.community).group(group)


def problems(offered: Offered, chosen: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """A sentence per group with a value that is not on offer, naming the values and the
    ones to use (empty when all is well)."""
    out: dict[str, str] = {}
    for name in GROUPS:
        values = list(chosen.get(name, ()))
        known = offered.group(name)
        if len(values) > MAX_PER_GROUP:
            out[name] = _TOO_MANY[name](MAX_PER_GROUP)
            continue
        bad = [v for v in values if v not in known]
        if bad:
            given = ", ".join(repr(v[:40]) for v in bad[:5])
            out[name] = (_UNKNOWN[name](given, ", ".join(known)) if known
                         else _l("unknown project %(values)s; there are none to follow yet",
                                 values=given))
    return out


_TOO_MANY = {
    "topics": lambda n: _nl("at most %(num)d topic", "at most %(num)d topics", n),
    "kinds": lambda n: _nl("at most %(num)d kind", "at most %(num)d kinds", n),
    "audiences": lambda n: _nl("at most %(num)d audience", "at most %(num)d audiences", n),
    "projects": lambda n: _nl("at most %(num)d project", "at most %(num)d projects", n),
}
_UNKNOWN = {
    "topics": lambda v, k: _l("unknown topic %(values)s; use %(known)s", values=v, known=k),
    "kinds": lambda v, k: _l("unknown kind %(values)s; use %(known)s", values=v, known=k),
    "audiences": lambda v, k: _l("unknown audience %(values)s; use %(known)s", values=v,
                                 known=k),
    "projects": lambda v, k: _l("unknown project %(values)s; use %(known)s", values=v,
                                known=k),
}


def country_problem(code: str) -> str:
    """'' for no country or an ISO 3166 alpha-2 code, else what to write."""
    if not code or (len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None):
        return ""
    return _l("%(code)s is not a country code; use two letters (ISO 3166), e.g. BE or PT",
              code=repr(code[:20]))


def checked(offered: Offered, chosen: Mapping[str, Iterable[str]], country: str = ""
            ) -> tuple[Choices, str]:
    """The choices and the country as stored, or ValidationError whose fields name each
    group with an unknown value; nothing is written by the caller then."""
    country = country.strip().upper()
    found = problems(offered, chosen)
    if why := country_problem(country):
        found["country"] = why
    if found:
        raise ValidationError(_l("Nothing was changed: %(problems)s.",
                                 problems=per_field(found)), found)
    return Choices.of(**{name: chosen.get(name, ()) for name in GROUPS}), country


def of(sub: Subscriber) -> Choices:
    return Choices.of(sub.topics or (), sub.kinds or (), sub.audiences or (),
                      sub.projects or ())


def state(sub: Subscriber) -> dict[str, Any]:
    """A reader's choices and country, as the consent log and the data download keep
    them."""
    return {**of(sub).as_dict(), "country": sub.country or ""}


def put(sub: Subscriber, choices: Choices, country: str) -> None:
    """Store ``choices`` (checked) and ``country`` on the reader."""
    for name, values in choices.as_dict().items():
        setattr(sub, name, values)
    sub.country = country


def countries(language: str = "en") -> dict[str, str]:
    """Every country, ISO code → its name in ``language`` (Babel's; pycountry's English
    where Babel has none), sorted by name."""
    names: dict[str, str] = {}
    try:
        names = {str(k): str(v) for k, v in Locale.parse(language).territories.items()}
    except (UnknownLocaleError, ValueError):
        pass
    found = {str(c.alpha_2): names.get(c.alpha_2) or str(getattr(c, "common_name", c.name))
             for c in pycountry.countries}
    return dict(sorted(found.items(), key=lambda kv: kv[1].casefold()))
