"""The gettext catalogues of the service's own words (ostogether/translations/<lang>/
LC_MESSAGES/messages.po), compiled to .mo where the web face reads them.

Only the .po files are kept in git. They are compiled when the application starts, into
var/translations/, whenever a .mo is missing or older than its .po: a clean clone runs
and tests with no build step, and an edited catalogue shows at the next start.
``make translations`` extracts, updates and compiles them by hand (docs/translations.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ostogether.core.errors import ConfigError
from ostogether.core.languages import LANGUAGES

log = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parents[1] / "translations"
DOMAIN = "messages"


def catalogue(language: str, folder: Path = SOURCE) -> Path:
    return folder / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogues(var: Path, source: Path = SOURCE) -> Path:
    """Compile every shipped language's catalogue that changed into ``var``/translations
    and return that folder (the one to give gettext)."""
    out = var / "translations"
    for language in LANGUAGES:
        po = catalogue(language, source)
        if not po.is_file():
            continue
        mo = out / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        try:
            if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as f:
                cat = read_po(f, locale=language)
            mo.parent.mkdir(parents=True, exist_ok=True)
            # Written aside then renamed: two processes starting at once never read half.
            fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                write_mo(f, cat, use_fuzzy=False)
            os.replace(tmp, mo)
        except OSError as exc:
            raise ConfigError(f"Cannot compile the {language} catalogue {po} into {mo}: "
                              f"{exc.strerror or exc}.") from None
        log.info("compiled %s", mo)
    return out
