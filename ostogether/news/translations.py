"""An item in several languages: its title, summary and link in the languages readers
receive the newsletter in (``ostogether.core.languages.NEWSLETTER``).

Every door gives translations the same way: the form's "add a translation" rows, the API's
``translations: {"nl": {"title", "summary", "link"}}``, and feeds (entries of a project's
feeds that share a link or guid in another language). They are checked with the same
limits and cleaning as the item's own fields, and reviewed with the item: approving the
item approves them. An editor may edit or remove them in the review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.support import LazyProxy
from flask_babel import get_locale
from sqlalchemy.orm import Session

from ostogether.core.errors import ValidationError
from ostogether.core.languages import NAMES, NEWSLETTER
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import lazy_ngettext as _nl
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import NewsItem, NewsItemTranslation
from ostogether.news.items import EDITABLE_STATUSES, _reopen_issues, get_item
from ostogether.news.validation import TITLE_MAX, Problems, _plain, _summary, _url

FIELDS = ("title", "summary", "link")


@dataclass(frozen=True)
class TranslationInput:
    """One translation as a door hands it over, before validation."""

    language: str
    title: str = ""
    summary: str = ""
    link: str = ""


def _one(t: TranslationInput, item_language: str, prefix: str, p: Problems) -> dict[str, Any]:
    lang = t.language.strip().lower() if isinstance(t.language, str) else ""
    if lang not in NEWSLETTER:
        p.add(prefix.rstrip("."), _l("'%(code)s' is not a language readers receive; use "
                                     "one of %(codes)s", code=str(t.language)[:20],
                                     codes=", ".join(NEWSLETTER)))
        return {}
    if lang == item_language:
        p.add(prefix.rstrip("."), _l("the item itself is in %(language)s (%(code)s); a "
                                     "translation is into another language",
                                     language=_language_name(lang), code=lang))
        return {}
    own = Problems()
    title = _plain(t.title, "title", "title", TITLE_MAX, own, required=True)
    summary = _summary(t.summary, own)
    link = _url(t.link, "link", own, required=False)
    for name, message in own.fields.items():
        p.add(prefix + name, message)
    return {"language": lang, "title": title, "summary_md": summary,
            "summary_html": markdown_to_html(summary) if not own.fields else "",
            "link": link}


def validate(given: list[TranslationInput], item_language: str, *,
             prefix: str = "translations") -> list[dict[str, Any]]:
    """The column values of valid translations, or ValidationError naming each bad field
    as ``<prefix>.<language>.<field>``."""
    p = Problems()
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for t in given:
        key = str(t.language).strip().lower()[:20] if isinstance(t.language, str) else "?"
        values = _one(t, item_language, f"{prefix}.{key}.", p)
        if values and values["language"] in seen:
            p.add(f"{prefix}.{key}", _l("this language is given twice"))
        elif values:
            seen.add(values["language"])
            out.append(values)
    _raise_if_any(p)
    return out


def _raise_if_any(p: Problems) -> None:
    if not p.fields:
        return
    found = dict(p.fields)
    listed = LazyProxy(lambda: "; ".join(f"{k}: {v}" for k, v in found.items()),
                       enable_cache=False)
    raise ValidationError(_nl("The item was not saved: %(num)d problem in its "
                              "translations. %(listed)s",
                              "The item was not saved: %(num)d problems in its "
                              "translations. %(listed)s", len(found), listed=listed), found)


def _language_name(code: str) -> Any:
    """The language's name in the reader's language (English outside a request)."""
    def name() -> str:
        shown = get_locale()
        if shown is None or shown.language == "en":
            return NAMES[code]
        return Locale.parse(code).get_display_name(shown) or NAMES[code]
    return LazyProxy(name, enable_cache=False)


def from_json(body: Any, item_language: Any) -> list[dict[str, Any]]:
    """The API's ``translations`` object, validated."""
    if body is None:
        return []
    if not isinstance(body, dict):
        raise ValidationError(_l('translations must be an object such as {"nl": {"title": '
                                 '"…", "summary": "…", "link": "…"}}.'),
                              {"translations": _l("expected an object keyed by language")})
    p = Problems()
    given = []
    for lang, fields in body.items():
        if not isinstance(fields, dict):
            p.add(f"translations.{str(lang)[:20]}", _l("must be an object with title, "
                                                       "summary and link"))
            continue
        for key in fields:
            if key not in FIELDS:
                p.add(f"translations.{str(lang)[:20]}.{str(key)[:40]}", _l("unknown field"))
        given.append(TranslationInput(lang, fields.get("title", ""), fields.get("summary", ""),
                                      fields.get("link", "")))
    own = str(item_language).strip().lower() if isinstance(item_language, str) else ""
    try:
        values = validate(given, own)
    except ValidationError as exc:
        for k, v in exc.fields.items():
            p.add(k, v)
        values = []
    _raise_if_any(p)
    return values


def attach(item: NewsItem, values: list[dict[str, Any]], source: str) -> list[str]:
    """Give ``item`` these validated translations (replacing one in the same language);
    the languages written."""
    for v in values:
        row = item.in_language(v["language"])
        if row is None:
            item.translations.append(NewsItemTranslation(source=source, **v))
        else:
            row.title, row.summary_md, row.summary_html, row.link = (
                v["title"], v["summary_md"], v["summary_html"], v["link"])
    return [v["language"] for v in values]


def as_dict(item: NewsItem) -> dict[str, dict[str, str | None]]:
    """The API's view of an item's translations."""
    return {t.language: {"title": t.title, "summary": t.summary_md,
                         "summary_html": t.summary_html, "link": t.link or None}
            for t in item.translations}


def _editable(s: Session, item_id: int, project_id: int | None) -> NewsItem:
    item = get_item(s, item_id, project_id=project_id)
    allowed = EDITABLE_STATUSES if project_id is None else ("submitted",)
    if item.status not in allowed:
        raise ValidationError(_l("Item %(id)d is %(state)s; its translations can no longer "
                                 "be changed.", id=item_id, state=item.status),
                              {"translations": _l("not editable")})
    return item


def save(rt: Runtime, actor: Actor, item_id: int, given: list[TranslationInput], *,
         project_id: int | None = None, source: str = "editor") -> list[str]:
    """Add or change translations of an item (an editor in the review, or the member while
    it waits). An approved item's issues go back to review. The languages written."""
    with rt.db.session() as s:
        item = _editable(s, item_id, project_id)
        values = validate(given, item.language)
        changed = [v["language"] for v in values
                   if (row := item.in_language(v["language"])) is None
                   or (row.title, row.summary_md, row.link) != (v["title"], v["summary_md"],
                                                                v["link"])]
        if not changed:
            return []
        attach(item, [v for v in values if v["language"] in changed], source)
        s.flush()
        record(s, actor, "news_item.translated", item, languages=changed)
        _reopen_issues(s, actor, item.id, "a translation of an item in it changed")
        return changed


def remove(rt: Runtime, actor: Actor, item_id: int, language: str, *,
           project_id: int | None = None) -> bool:
    """Remove one translation; False when there was none."""
    with rt.db.session() as s:
        item = _editable(s, item_id, project_id)
        row = item.in_language(language)
        if row is None:
            return False
        item.translations.remove(row)
        s.flush()
        record(s, actor, "news_item.translation_removed", item, language=language)
        _reopen_issues(s, actor, item.id, "a translation of an item in it was removed")
        return True


def merge_feed_entry(s: Session, existing: NewsItem, values: Mapping[str, Any]) -> bool:
    """A feed entry that shares its link or guid with ``existing`` but is in another of
    the readers' languages becomes (or refreshes nothing of) its translation. True when
    it was taken as a translation."""
    lang = values.get("language", "")
    if lang == existing.language or lang not in NEWSLETTER or existing.in_language(lang):
        return False
    link = values["link"] if values["link"] != existing.link else ""
    existing.translations.append(NewsItemTranslation(
        source="feed", language=lang, title=values["title"], summary_md=values["summary_md"],
        summary_html=values["summary_html"], link=link))
    s.flush()
    return True
