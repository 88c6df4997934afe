"""The languages the newsletter speaks: the readers' languages, each item's translations
and the issue's versions. Pure data.

``NEWSLETTER`` are the codes a reader may receive the newsletter in, an item may be
translated into, and content/newsletter.toml may give texts for. ``NAMES`` are their
names in their own language, for the forms.
"""

from __future__ import annotations

NEWSLETTER = ("en", "nl", "fr", "de", "es", "it")
NAMES = {"en": "English", "nl": "Nederlands", "fr": "français", "de": "Deutsch",
         "es": "español", "it": "italiano"}


def known(code: str) -> bool:
    return code in NEWSLETTER
