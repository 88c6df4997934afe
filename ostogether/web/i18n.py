"""The page's language: Flask-Babel, which language a page is in, and what every page
needs to offer the others (the switcher, ``<html lang>``, the ``hreflang`` alternates).

A page is in the language asked for with ``?lang=xx`` (then kept in the ``lang`` cookie
for a year), else the cookie's, else the best of the browser's ``Accept-Language`` among
the shipped languages, else English. The switcher is a list of plain links (no script).
Pages that depend on it say ``Vary: Accept-Language, Cookie``; the page cache and the
fragments are kept per language (web/cache.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from flask import Flask, Response, has_app_context, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, gettext, ngettext, pgettext
from jinja2 import pass_context
from markupsafe import Markup

from ostogether.core import languages, words
from ostogether.core.languages import LANGUAGES, shipped
from ostogether.core.states import ITEM_LANGUAGES, KIND_LABELS, STATUS_LABELS
from ostogether.core.words import lazy_gettext as _l
from ostogether.registry.org_rules import country_label
from ostogether.web.common import has_cookie

COOKIE = "lang"
COOKIE_SECONDS = 365 * 24 * 3600
PARAMETER = "lang"


def select_language() -> str:
    """The page's language code (see the module's docstring); English outside a request
    (a job in the application's context)."""
    if not has_request_context():
        return languages.DEFAULT
    asked = shipped(request.args.get(PARAMETER))
    if asked:
        return asked
    if has_cookie(COOKIE):
        kept = shipped(request.cookies.get(COOKIE))
        if kept:
            return kept
    if "HTTP_ACCEPT_LANGUAGE" in request.environ:
        best = request.accept_languages.best_match(list(LANGUAGES))
        if best:
            return shipped(best) or languages.DEFAULT
    return languages.DEFAULT


def page_language() -> str:
    """The language this request's page is in."""
    locale = get_locale()
    return locale.language if locale is not None else languages.DEFAULT


def lang_url(code: str | None) -> str:
    """This page's address (path and query, below the script root) in language ``code``;
    None: the address with no language, which follows the visitor's browser."""
    return _lang_urls()(code)


def _lang_urls() -> Callable[[str | None], str]:
    """``lang_url`` for this request: its path and other arguments read once, so that a
    page's switcher and alternates (thirteen addresses) cost one parse."""
    urls: dict[str | None, str] = {}

    def url(code: str | None) -> str:
        if not urls:  # at the first call: a visitor's header is mostly kept (web/chrome.py)
            here = request.script_root + request.path
            args = [(k, v) for k, v in request.args.items(multi=True) if k != PARAMETER]
            rest = urlencode(args) + "&" if args else ""
            # The codes are a few ASCII letters: nothing in them to quote.
            urls.update({c: f"{here}?{rest}{PARAMETER}={c}" for c in LANGUAGES})
            urls[None] = f"{here}?{rest[:-1]}" if rest else here
        return urls.get(code) or urls[None]
    return url


def _page_gettext() -> Callable[..., str]:
    """Jinja's ``gettext`` (and so ``_`` and ``{% trans %}``) for one page, bound to its
    language's catalogue once, with the same meaning as Flask-Babel's: the translation,
    marked safe where the template autoescapes, then its named placeholders filled.
    Flask-Babel's looks the catalogue up again at every call (14 on the home page)."""
    ugettext = get_translations().ugettext

    @pass_context
    def gettext(context: Any, message: str, **variables: Any) -> str:
        text = ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables
    return gettext


def long_date(value: dt.date | dt.datetime) -> str:
    """A date as the page's language writes it: "6 December 2026", "6 december 2026",
    "6. Dezember 2026"."""
    day = value.date() if isinstance(value, dt.datetime) else value
    code = page_language()
    return format_date(day, "d MMMM y" if code == "en" else "long", locale=code)


def long_when(value: dt.datetime) -> str:
    """A day and a time as the page's language writes them: "Thursday 1 April 2027,
    09:30", "donderdag 1 april 2027 09:30", "Donnerstag, 1. April 2027, 09:30"."""
    code = page_language()
    if code == "en":
        return format_datetime(value, "EEEE d MMMM y, HH:mm", locale=code)
    return f"{format_date(value.date(), 'full', locale=code)}, " \
        f"{format_time(value.time(), 'HH:mm', locale=code)}"


def short_when(value: dt.datetime) -> str:
    """A moment in a list or a history: "6 Dec 2026 14:05", "6 déc. 2026 14:05",
    "6. Dez. 2026 14:05"."""
    code = page_language()
    return format_datetime(value, "d. MMM y HH:mm" if code == "de" else "d MMM y HH:mm",
                           locale=code)


def local_date(value: dt.date | dt.datetime, skeleton: str = "MMMEd") -> str:
    """A date with its weekday, as the page's language writes it, from a CLDR skeleton:
    "MMMEd" gives "Sun 6 Dec" / "zo 6 dec" / "So., 6. Dez."; "MMMMEEEEd" the month in
    full; "yMMMMEEEEd" with the year. A time is added by the template (``%H:%M``)."""
    code = page_language()
    if code == "en":  # as the service always wrote it: "Sunday 6 December 2026"
        return format_date(value, _ENGLISH[skeleton], locale="en")
    return format_skeleton(skeleton, value, locale=code)


_ENGLISH = {"MMMEd": "EEE d MMM", "MMMMEEEEd": "EEEE d MMMM", "yMMMMEEEEd": "EEEE d MMMM y"}


# What a person agrees to by ticking the box, on every sign-up form of the service: the
# same sentence as readers.subscribers.CONSENT_TEXT, in the page's language.
CONSENT = _l("I agree to receive the newsletter by mail, as the privacy notice explains. "
             "I can unsubscribe at any time.")



def status_label(status: str) -> str:
    """A project's status as the page's language says it."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


def kind_labels() -> dict[str, str]:
    """The kinds of news item, in the page's language."""
    return {kind: str(label) for kind, label in KIND_LABELS.items()}


# An organisation's part in a project, as a project page lists it.
ROLE_LABELS = {"coordinator": _l("coordinator"), "partner": _l("partner"),
               "associated": _l("associated partner")}


def role_labels() -> dict[str, str]:
    """An organisation's roles in a project, in the page's language."""
    return {role: str(label) for role, label in ROLE_LABELS.items()}


# The states of a news item or a library output, as a member reads them (core/states.py
# keeps the codes). A status stands alone in a list, so it needs no agreement.
STATE_LABELS = {"submitted": _l("submitted"), "approved": _l("approved"),
                "rejected": _l("rejected"), "withdrawn": _l("withdrawn"),
                "published": _l("published")}


def state_label(state: str) -> str:
    """An item's or an output's state in the page's language."""
    label = STATE_LABELS.get(state)
    return str(label) if label is not None else state


def item_language_name(code: str) -> str:
    """An item's language by its own name ("Nederlands"), readable in every language."""
    return ITEM_LANGUAGES.get(code, code)


def lang_attr(code: str) -> Markup:
    """`` lang="xx"`` for a block whose text is in language ``code`` when that is not the
    page's (a text that falls back to English inside a Dutch page); else nothing."""
    if not code or code == page_language():
        return Markup("")
    return Markup(' lang="{0}"').format(code)


def country_name(code: str) -> str:
    """A country (ISO code) as the page's language names it ("Nederland", "Pays-Bas")."""
    if not code:
        return ""
    language = page_language()
    if language != languages.DEFAULT:
        name = Locale.parse(language).territories.get(code.upper())
        if name:
            return str(name)
    return country_label(code)


def _core_gettext(msgid: str, **params: Any) -> str:
    # The core's sentences (core/words.py): in the page's language within the
    # application, English outside it.
    if has_app_context():
        return gettext(msgid, **params)
    return msgid % params if params else msgid


def _core_ngettext(singular: str, plural: str, num: int, **params: Any) -> str:
    if has_app_context():
        return ngettext(singular, plural, num, **params)
    return (singular if num == 1 else plural) % {"num": num, **params}


def _core_pgettext(context: str, msgid: str, **params: Any) -> str:
    if has_app_context():
        return pgettext(context, msgid, **params)
    return msgid % params if params else msgid


def init_app(app: Flask, translations: str, public_url: str) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translations
    app.config["BABEL_DEFAULT_LOCALE"] = languages.DEFAULT
    Babel(app, locale_selector=select_language)
    words.translate_with(_core_gettext, _core_ngettext, _core_pgettext)
    base = public_url.rstrip("/")

    @app.context_processor
    def language_context() -> dict[str, Any]:
        return {"page_lang": page_language(), "site_languages": LANGUAGES,
                "lang_url": _lang_urls(), "public_base": base, "gettext": _page_gettext()}

    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(long_when, "long_when")
    app.add_template_filter(short_when, "short_when")
    app.jinja_env.globals["state_label"] = state_label
    app.jinja_env.globals["item_language_name"] = item_language_name
    app.add_template_filter(local_date, "local_date")
    app.jinja_env.globals["status_label"] = status_label  # macros see globals only
    app.jinja_env.globals["lang_attr"] = lang_attr

    @app.after_request
    def remember_language(response: Response) -> Response:
        asked = shipped(request.args.get(PARAMETER))
        if asked and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=COOKIE_SECONDS, samesite="Lax",
                                httponly=True, secure=public_url.startswith("https"))
        if response.mimetype == "text/html":
            response.vary.update(("Accept-Language", "Cookie"))
        return response
