"""The languages the service speaks: its pages, forms and mails (English is the source;
the catalogues are in ostogether/translations/, the guide is docs/translations.md), and
the newsletter: the readers' languages, each item's translations and the issue's
versions (content/newsletter.toml gives texts for them).

Pure: the codes, each language's own name, and the best of them for a browser's
``Accept-Language`` list."""

from __future__ import annotations

# The shipped languages, in the switcher's order; each named in its own language.
LANGUAGES: dict[str, str] = {"en": "English", "nl": "Nederlands", "fr": "Français",
                             "de": "Deutsch", "es": "Español", "it": "Italiano"}
DEFAULT = "en"
# The codes a reader may receive the newsletter in and an item may be translated into,
# and their names for the forms: the same six.
NEWSLETTER = tuple(LANGUAGES)
NAMES = LANGUAGES


def known(code: str) -> bool:
    return code in NEWSLETTER


def shipped(code: object) -> str | None:
    """``code`` when it is a shipped language ("nl", "NL", "nl-BE"), else None."""
    if not isinstance(code, str):
        return None
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else None


_UNITS = {  # one, many: hours and days, as a mail says how long a link works
    "en": (("1 hour", "{n} hours"), ("1 day", "{n} days")),
    "nl": (("1 uur", "{n} uur"), ("1 dag", "{n} dagen")),
    "fr": (("1 heure", "{n} heures"), ("1 jour", "{n} jours")),
    "de": (("1 Stunde", "{n} Stunden"), ("1 Tag", "{n} Tage")),
    "es": (("1 hora", "{n} horas"), ("1 día", "{n} días")),
    "it": (("1 ora", "{n} ore"), ("1 giorno", "{n} giorni")),
}


def duration(hours: int, language: str = DEFAULT) -> str:
    """A number of hours as a reader says it: "7 days", "1 day", "36 hours"; in Dutch
    "7 dagen"."""
    hour, day = _UNITS.get(language, _UNITS[DEFAULT])
    if hours >= 24 and hours % 24 == 0:
        days = hours // 24
        return day[0] if days == 1 else day[1].format(n=days)
    return hour[0] if hours == 1 else hour[1].format(n=hours)
