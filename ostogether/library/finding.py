"""Finding outputs: full-text search with facets, a page's schema.org LearningResource
(LRMI) JSON-LD, and the library's Atom feed. Only approved outputs are ever read here.

Search is the database's own full-text search: SQLite's FTS5 index ``outputs_fts`` (kept
by triggers, migration 0019), PostgreSQL's ``to_tsvector``/``to_tsquery`` (every word a
prefix); only a SQLite built without FTS5 falls back to LIKE on every word. The facets
(type, age range, subject, SDG, language, licence, project) are counted in Python over the
matching outputs: the library holds hundreds of records, and the counts need every list
column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from sqlalchemy import Integer, String, cast, column, func, or_, select, text
from sqlalchemy.orm import Session, selectinload

from ostogether.core.errors import ValidationError
from ostogether.core.states import ITEM_LANGUAGES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.runtime import Runtime
from ostogether.library.content import Vocabulary, vocabulary
from ostogether.models import Output

PAGE_SIZE = 20
FEED_OUTPUTS = 50
FACETS = ("type", "age", "subject", "sdg", "language", "licence", "project")
QUERY_MAX = 200


@dataclass(frozen=True)
class Query:
    """What a visitor asks: words, and one value per facet (empty: any)."""

    text: str = ""
    type: str = ""
    age: str = ""
    subject: str = ""
    sdg: str = ""
    language: str = ""
    licence: str = ""
    project: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any, *, allowed: tuple[str, ...] = ("q", "page", *FACETS)
                  ) -> Query:
        """A Query from URL parameters; an unknown parameter or a bad page is a
        ValidationError naming it (an API answers 422, a page shows it)."""
        unknown = [k for k in args if k not in allowed]
        if unknown:
            raise ValidationError(_l("Unknown parameter '%(name)s'; use %(known)s.",
                                     name=unknown[0][:40], known=", ".join(allowed)),
                                  {k[:40]: "unknown parameter" for k in unknown})
        raw_page = args.get("page", "1")
        if not (raw_page.isascii() and raw_page.isdigit()) or not 1 <= int(raw_page) <= 10**6:
            raise ValidationError(_l("page must be a whole number from 1."),
                                  {"page": "a whole number from 1"})
        values = {f: str(args.get(f, "")).strip()[:100] for f in FACETS}
        return cls(text=str(args.get("q", "")).strip()[:QUERY_MAX], page=int(raw_page),
                   **values)

    def args(self, **change: Any) -> dict[str, Any]:
        """The URL parameters of this query with ``change`` applied (a facet link)."""
        q = replace(self, **change)
        out = {"q": q.text, **{f: getattr(q, f) for f in FACETS}}
        if q.page > 1:
            out["page"] = q.page
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class FacetValue:
    key: str
    label: str
    count: int
    chosen: bool


@dataclass
class Results:
    outputs: list[Output]
    total: int
    page: int
    pages: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    full_text: str = "fts5"  # fts5, postgresql or like: what answered the words


def _fts5(s: Session) -> bool:
    bind = s.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    return s.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'outputs_fts'")
                     ).first() is not None


def _words(query: str) -> list[str]:
    return re.findall(r"\w+", query)[:20]


def _matching_ids(s: Session, words: str) -> tuple[Any, str]:
    """A condition on Output that the words match, and which search answered."""
    found = _words(words)
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        document = func.to_tsvector("simple", func.concat_ws(
            " ", Output.title, Output.description, cast(Output.keywords, String),
            cast(Output.organisations, String)))
        # Each word a prefix, as on SQLite ("toolk" finds "toolkit"); the words are \w+
        # only, so no tsquery syntax comes from visitors (plainto_tsquery has no prefixes).
        terms = " & ".join(f"{w}:*" for w in found)
        return document.op("@@")(func.to_tsquery("simple", terms)), "postgresql"
    if _fts5(s):
        # Each word quoted (no FTS5 syntax from visitors), and a prefix: "toolk" finds
        # "toolkit".
        match = " ".join(f'"{w}"*' for w in found)
        ids = text("SELECT rowid FROM outputs_fts WHERE outputs_fts MATCH :m").bindparams(
            m=match).columns(column("rowid", Integer))
        return Output.id.in_(ids), "fts5"
    conditions = [or_(Output.title.ilike(f"%{w}%"), Output.description.ilike(f"%{w}%"),
                      cast(Output.keywords, String).ilike(f"%{w}%")) for w in found]
    return _and(conditions), "like"


def _and(conditions: list[Any]) -> Any:
    out = conditions[0]
    for c in conditions[1:]:
        out = out & c
    return out


def _values(output: Output, facet: str) -> list[str]:
    if facet == "type":
        return [output.type]
    if facet == "age":
        return list(output.age_ranges)
    if facet == "subject":
        return list(output.subjects)
    if facet == "sdg":
        return [str(n) for n in output.sdgs]
    if facet == "language":
        return list(output.languages)
    if facet == "licence":
        return [output.licence] if output.licence else []
    return [p.slug for p in output.projects]


def labels(vocab: Vocabulary, outputs: list[Output],
           sdg_names: Mapping[int, str] | None = None) -> dict[str, dict[str, str]]:
    """What each facet's keys are called on the page (``vocab`` and ``sdg_names`` in the
    page's language; the goals' English names when none are given)."""
    projects = {p.slug: p.acronym for o in outputs for p in o.projects}
    sdgs = dict(sdg_names) if sdg_names is not None else vocab.sdgs
    return {"type": vocab.types, "age": vocab.age_ranges, "subject": vocab.subjects,
            "sdg": {str(n): f"{n}. {name}" for n, name in sdgs.items()},
            # A language by its own name (as language pickers do), the same on every page.
            "language": dict(ITEM_LANGUAGES), "licence": vocab.licences, "project": projects}


def search(rt: Runtime, s: Session, query: Query, *, page_size: int = PAGE_SIZE,
           words: Vocabulary | None = None,
           sdg_names: Mapping[int, str] | None = None) -> Results:
    """The approved outputs matching ``query``, newest first, one page of them, with each
    facet's values counted over every match. The facets' labels are those of ``words``
    (the vocabulary in the page's language; English when None) and ``sdg_names``."""
    statement = select(Output).options(selectinload(Output.projects)).where(
        Output.status == "approved").order_by(Output.published_at.desc(), Output.id.desc())
    how = "fts5" if _fts5(s) else ("postgresql" if s.get_bind().dialect.name == "postgresql"
                                   else "like")
    if _words(query.text):
        condition, how = _matching_ids(s, query.text)
        statement = statement.where(condition)
    matches = [o for o in s.scalars(statement)
               if all(not getattr(query, f) or getattr(query, f) in _values(o, f)
                      for f in FACETS)]
    names = labels(words or vocabulary(rt.community), matches, sdg_names)
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        counts = Counter(v for o in matches for v in _values(o, facet))
        chosen = getattr(query, facet)
        if chosen and chosen not in counts:
            counts[chosen] = 0
        facets[facet] = [FacetValue(k, names[facet].get(k, k), n, k == chosen)
                         for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    pages = max(1, math.ceil(len(matches) / page_size))
    page = min(query.page, pages)
    return Results(outputs=matches[(page - 1) * page_size: page * page_size],
                   total=len(matches), page=page, pages=pages, facets=facets, full_text=how)


# ------------------------------------------------------------- what others read

def page_url(rt: Runtime, output: Output) -> str:
    return f"{rt.settings.public_url.rstrip('/')}/library/{output.slug}"


def licence_url(licence: str) -> str:
    return f"https://spdx.org/licenses/{licence}.html" if licence else ""


def learning_resource(rt: Runtime, output: Output) -> dict[str, Any]:
    """The output as schema.org LearningResource (LRMI), for its page's JSON-LD."""
    vocab = vocabulary(rt.community)
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "LearningResource",
        "@id": page_url(rt, output), "name": output.title, "url": output.url,
        "mainEntityOfPage": page_url(rt, output),
        "description": output.description,
        "learningResourceType": vocab.types.get(output.type, output.type),
        "inLanguage": list(output.languages),
        "educationalLevel": [vocab.age_ranges.get(a, a) for a in output.age_ranges],
        "about": [vocab.subjects.get(x, x) for x in output.subjects]
        + [f"SDG {n}: {vocab.sdgs.get(n, '')}" for n in output.sdgs],
        "keywords": list(output.keywords),
        "creator": [{"@type": "Organization", "name": p.name or p.acronym,
                     "alternateName": p.acronym} for p in output.projects]
        + [{"@type": "Organization", "name": o} for o in output.organisations],
    }
    if output.licence:
        data["license"] = licence_url(output.licence)
    if output.date:
        data["datePublished"] = output.date.isoformat()
    if output.doi:
        data["identifier"] = f"https://doi.org/{output.doi}"
    if output.image_url:
        data["image"] = output.image_url
    if output.archived_url:
        data["archivedAt"] = output.archived_url
    return {k: v for k, v in data.items() if v not in ("", [], None)}


def listing(rt: Runtime, s: Session, query: Query) -> dict[str, Any]:
    """``/library.json``: every public output matching the query (no pages), with the
    facets' counts."""
    found = search(rt, s, replace(query, page=1), page_size=10**9)
    return {
        "total": found.total,
        "outputs": [{"id": o.id, "title": o.title, "type": o.type, "url": page_url(rt, o),
                     "link": o.url, "projects": [p.slug for p in o.projects],
                     "languages": list(o.languages), "licence": o.licence or None,
                     "age_ranges": list(o.age_ranges), "subjects": list(o.subjects),
                     "sdgs": list(o.sdgs), "doi": o.doi or None} for o in found.outputs],
        "facets": {f: {v.key: v.count for v in values} for f, values in found.facets.items()},
    }


def atom(rt: Runtime) -> bytes:
    """The newest approved outputs as an Atom 1.0 document."""
    site = rt.community.site()
    base = rt.settings.public_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    vocab = vocabulary(rt.community)
    with rt.db.session() as s:
        outputs = list(s.scalars(select(Output).options(selectinload(Output.projects)).where(
            Output.status == "approved").order_by(Output.published_at.desc(),
                                                  Output.id.desc()).limit(FEED_OUTPUTS)))
        fg = FeedGenerator()
        fg.id(f"{base}/library")
        fg.title(f"{site.short_name} library")
        fg.subtitle(f"What the projects of {site.name} made")
        fg.author({"name": site.name, "email": site.contact_email})
        fg.link(href=f"{base}/library.atom", rel="self", type="application/atom+xml")
        fg.link(href=f"{base}/library", rel="alternate", type="text/html")
        fg.language(site.language)
        fg.updated(max((o.updated_at for o in outputs),
                       default=dt.datetime(2020, 12, 1, tzinfo=dt.UTC)))
        for output in reversed(outputs):  # feedgen puts the last added first
            fe = fg.add_entry()
            published = output.published_at or output.created_at
            fe.id(f"tag:{host},{published:%Y-%m-%d}:library:{output.id}")
            fe.title(output.title)
            fe.link(href=page_url(rt, output), rel="alternate", type="text/html")
            fe.published(published)
            fe.updated(output.updated_at)
            fe.category(term=output.type, label=vocab.types.get(output.type, output.type))
            fe.summary(output.description or output.title)
        return fg.atom_str(pretty=True)
