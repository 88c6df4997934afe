"""Outputs of the results library: every door in, the review, withdrawal, and reading.

The members' form, the API and ``init`` (the community's content/library/ files) hand an
``OutputInput`` to ``submit`` or ``seed``; editors ``approve`` or ``reject`` (with a
reason); a member or an editor ``withdraw``s one, which is kept so that harvesters learn
it is gone. Validation is pure and collects every problem at once, naming each field. Only
approved outputs are public: ``public`` and ``search`` (in ``finding``) never see others.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.core.errors import NotFound, PermissionDenied, ValidationError
from ostogether.core.inputs import hidden_character, one_line_problem, text_problem, url_problem
from ostogether.core.states import SDG_NAMES, SUBMITTING_STATUSES
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import lazy_ngettext as _nl
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime
from ostogether.library.content import DOI, Vocabulary, seeds, vocabulary
from ostogether.models import Output, Project, id_or_none, lookup
from ostogether.news import validation

TITLE_MAX = 250
DESCRIPTION_MAX = 5000
NAME_MAX = 200
ALT_MAX = 300
REASON_MAX = 2000
LIST_MAX = 30
SOURCES = ("web", "api", "content", "cli")


@dataclass(frozen=True)
class OutputInput:
    """What a door hands over, before validation (any JSON value may arrive)."""

    title: Any = ""
    description: Any = ""
    type: Any = ""
    projects: Any = ()  # slugs; a member's own project is added by ``submit``
    organisations: Any = ()
    languages: Any = ("en",)
    licence: Any = ""
    age_ranges: Any = ()
    subjects: Any = ()
    sdgs: Any = ()
    keywords: Any = ()
    url: Any = ""
    doi: Any = ""
    date: Any = None  # a date, or text like 2023-06-30
    image_url: Any = ""
    image_alt: Any = ""
    archived_url: Any = ""


# The sentences a field's problem is told in, one whole sentence per field (word order
# and the noun's gender differ between languages). ``why`` is the core's reason.
def _too_long(name: str, num: int, limit: int) -> Any:
    if name == "title":
        return _l("the title has %(num)d characters; the limit is %(limit)d",
                  num=num, limit=limit)
    if name == "description":
        return _l("the description has %(num)d characters; the limit is %(limit)d",
                  num=num, limit=limit)
    return _l("the image description has %(num)d characters; the limit is %(limit)d",
              num=num, limit=limit)


def _invisible(name: str) -> Any:
    if name == "title":
        return _l("the title contains an invisible character; type it again")
    return _l("the image description contains an invisible character; type it again")


def _unusable(name: str, why: Any) -> Any:
    if name == "title":
        return _l("the title %(why)s", why=why)
    if name == "description":
        return _l("the description %(why)s", why=why)
    return _l("the image description %(why)s", why=why)


MUST_BE_TEXT = _l("must be text")


class Problems(validation.Problems):
    """Each field's problem, as an item's (news/validation.py); the refusal names the
    output."""

    @staticmethod
    def refusal(num: int, listed: Any) -> Any:
        return _nl("The output was not saved: %(num)d problem. %(listed)s",
                   "The output was not saved: %(num)d problems. %(listed)s", num,
                   listed=listed)


def _text(value: Any, name: str, limit: int, p: Problems, *,
          required: bool = False) -> str:
    if not isinstance(value, str):
        p.add(name, MUST_BE_TEXT)
        return ""
    if why := one_line_problem(value.strip()):
        p.add(name, _unusable(name, why))
        return ""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not text:
        p.add(name, _l("the title is required"))  # only the title is required
    elif len(text) > limit:
        p.add(name, _too_long(name, len(text), limit))
    elif hidden_character(text) is not None:
        p.add(name, _invisible(name))
    return text


def _long_text(value: Any, name: str, limit: int, p: Problems) -> str:
    if not isinstance(value, str):
        p.add(name, MUST_BE_TEXT)
        return ""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if len(text) > limit:
        p.add(name, _too_long(name, len(text), limit))
    elif text and (why := text_problem(text)) is not None:
        p.add(name, _unusable(name, why))
    return text


def _url(value: Any, name: str, p: Problems, *, required: bool = False) -> str:
    if not isinstance(value, str):
        p.add(name, MUST_BE_TEXT)
        return ""
    url = value.strip()
    if not url:
        if required:
            p.add(name, _l("the address is required"))
        return ""
    if why := url_problem(url):
        p.add(name, why)
    return url


def _words(value: Any, name: str, p: Problems, known: dict[str, str] | None = None,
           limit: int = NAME_MAX) -> list[str]:
    if isinstance(value, str):
        value = [value] if value.strip() else []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        p.add(name, _l("must be a list of texts"))
        return []
    if len(value) > LIST_MAX:
        p.add(name, _nl("at most %(num)d value", "at most %(num)d values", LIST_MAX))
        return []
    out: list[str] = []
    for raw in value:
        word = " ".join(unicodedata.normalize("NFC", raw).split())
        if not word:
            continue
        if known is not None and word not in known:
            p.add(name, _l("unknown value '%(value)s'; use %(known)s", value=word[:40],
                           known=", ".join(known)))
            return []
        if len(word) > limit or one_line_problem(word) or hidden_character(word) is not None:
            p.add(name, _l("'%(value)s' is not a usable value", value=word[:40]))
            return []
        if word not in out:
            out.append(word)
    return out


def _date(value: Any, p: Problems) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.date.fromisoformat(value.strip())
        except ValueError:
            p.add("date", _l("'%(value)s' is not a date; write it like 2023-06-30",
                             value=value[:30]))
            return None
    else:
        p.add("date", _l("must be a date as text, like 2023-06-30"))
        return None
    if not 1990 <= when.year <= 2100:
        p.add("date", _l("the year %(year)d is not plausible for an output", year=when.year))
        return None
    return when


def doi_problem(doi: str) -> Any:
    """Why ``doi`` is not a DOI as the library stores it (10.NNNN/suffix), or None."""
    if not DOI.fullmatch(doi):
        return _l("a DOI looks like 10.5281/zenodo.1234567 (without https://doi.org/)")
    return None


def validate(data: OutputInput, vocab: Vocabulary) -> dict[str, Any]:
    """The column values of a valid output, or ValidationError naming every bad field."""
    p = Problems()
    values: dict[str, Any] = {}
    values["title"] = _text(data.title, "title", TITLE_MAX, p, required=True)
    values["description"] = _long_text(data.description, "description", DESCRIPTION_MAX, p)
    kind = data.type.strip() if isinstance(data.type, str) else ""
    if kind not in vocab.types:
        p.add("type", _l("unknown type '%(type)s'; use one of %(known)s",
                         type=str(data.type)[:30], known=", ".join(vocab.types)))
    values["type"] = kind
    values["url"] = _url(data.url, "url", p, required=True)
    values["image_url"] = _url(data.image_url, "image_url", p)
    values["archived_url"] = _url(data.archived_url, "archived_url", p)
    values["image_alt"] = _text(data.image_alt, "image_alt", ALT_MAX, p)
    if values["image_url"] and not values["image_alt"] and "image_alt" not in p.fields:
        p.add("image_alt", _l("describe the picture for people who cannot see it"))
    licence = data.licence.strip() if isinstance(data.licence, str) else None
    if licence is None:
        p.add("licence", MUST_BE_TEXT)
    elif licence and licence not in vocab.licences:
        p.add("licence", _l("unknown licence '%(licence)s'; use an SPDX identifier such as "
                            "%(known)s", licence=licence[:40],
                            known=", ".join(list(vocab.licences)[:4])))
    values["licence"] = licence or ""
    doi = data.doi.strip() if isinstance(data.doi, str) else None
    if doi is None:
        p.add("doi", MUST_BE_TEXT)
    elif doi:
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", doi, flags=re.I)
        if why := doi_problem(doi):
            p.add("doi", why)
    values["doi"] = doi or ""
    values["date"] = _date(data.date, p)
    values["age_ranges"] = _words(data.age_ranges, "age_ranges", p, vocab.age_ranges)
    values["subjects"] = _words(data.subjects, "subjects", p, vocab.subjects)
    values["organisations"] = _words(data.organisations, "organisations", p)
    values["keywords"] = _words(data.keywords, "keywords", p, limit=80)
    languages = _words(data.languages, "languages", p)
    for code in languages:
        if len(code) != 2 or pycountry.languages.get(alpha_2=code.lower()) is None:
            p.add("languages", _l("'%(code)s' is not a two-letter language code such as "
                                  "en, fr or de", code=code[:20]))
    values["languages"] = [c.lower() for c in languages] or ["en"]
    sdgs = data.sdgs
    if not isinstance(sdgs, list | tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n in SDG_NAMES for n in sdgs):
        p.add("sdgs", _l("give the goals as numbers from 1 to 17"))
        sdgs = ()
    values["sdgs"] = sorted(set(sdgs))
    values["projects"] = _words(data.projects, "projects", p, limit=100)
    p.raise_if_any()
    return values


API_FIELDS = tuple(OutputInput.__dataclass_fields__)


def input_from_json(body: Any) -> OutputInput:
    """An OutputInput from an API body; an unknown field is a field error, like a bad
    value, and every problem comes in the same answer."""
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object with the output's fields.",
                              {"body": "expected a JSON object"})
    unknown = {str(k)[:40]: "unknown field" for k in body if k not in API_FIELDS}
    data = OutputInput(**{k: body[k] for k in API_FIELDS if k in body})
    if unknown:
        raise ValidationError(f"The output was not saved: unknown field(s) "
                              f"{', '.join(unknown)}; the fields are {', '.join(API_FIELDS)}.",
                              unknown)
    return data


# --------------------------------------------------------------------- the database

def _slug(s: Session, title: str, taken_by: int | None = None) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80] or "output"
    if base.isdigit():  # /library/<digits> is an output's id
        base = f"output-{base}"
    slug, n = base, 1
    while True:
        row = s.scalar(select(Output.id).where(Output.slug == slug))
        if row is None or row == taken_by:
            return slug
        n += 1
        slug = f"{base}-{n}"


def _projects(s: Session, slugs: list[str], p: Problems) -> list[Project]:
    found = {pr.slug: pr for pr in s.scalars(select(Project).where(Project.slug.in_(slugs)))}
    for slug in slugs:
        if slug not in found:
            p.add("projects", _l("there is no project '%(slug)s'; use the project's short "
                                 "name as in its registry address (e.g. otter)",
                                 slug=slug[:40]))
        elif found[slug].status not in SUBMITTING_STATUSES:
            p.add("projects", _l("%(project)s is %(status)s; only member and alumni "
                                 "projects have outputs", project=found[slug].acronym,
                                 status=found[slug].status))
    return [found[slug] for slug in slugs if slug in found]


def submit(rt: Runtime, actor: Actor, data: OutputInput, *, source: str,
           project_id: int | None = None, user_id: int | None = None,
           token_id: int | None = None) -> Output:
    """Validate and store a new output, waiting for review.

    ``project_id`` is the member's (or the token's) own project: it is always among the
    output's projects, and others may be named beside it. An editor (no ``project_id``)
    names the projects. Raises ValidationError; nothing is stored then.
    """
    values = validate(data, vocabulary(rt.community))
    slugs = values.pop("projects")
    with rt.db.session() as s:
        p = Problems()
        chosen = _projects(s, slugs, p)
        if project_id is not None:
            own = s.get(Project, project_id)
            if own is None or own.status not in SUBMITTING_STATUSES:
                raise PermissionDenied(_l("Only member and alumni projects can add "
                                          "outputs."))
            if own not in chosen:
                chosen.insert(0, own)
        if not chosen and "projects" not in p.fields:
            p.add("projects", _l("name at least one project that made it"))
        p.raise_if_any()
        output = Output(**values, slug=_slug(s, values["title"]), source=source,
                        status="submitted", projects=chosen, submitted_by_id=user_id,
                        token_id=token_id)
        s.add(output)
        s.flush()
        record(s, actor, "output.submitted", output, source=source)
        s.commit()
        s.refresh(output, ["projects"])
    return output


def _decide(rt: Runtime, actor: Actor, output_id: int, target: str, **detail: Any) -> Output:
    with rt.db.session() as s:
        output = lookup(s, Output, output_id, _l("There is no output %(id)s.", id=output_id))
        transition(s, actor, output, "output", target, **detail)
        now = clock.now()
        if target in ("approved", "rejected"):
            output.reviewed_at, output.reviewed_by_id = now, actor.user_id
        if target == "approved" and output.published_at is None:
            output.published_at = now
        if target == "rejected":
            output.reject_reason = detail.get("reason", "")
        if target == "withdrawn":
            output.withdrawn_at = now
        output.updated_at = now  # the harvesters' datestamp moves with the state
        s.commit()
        s.refresh(output, ["projects"])
    return output


def approve(rt: Runtime, actor: Actor, output_id: int) -> Output:
    """An editor makes the output public: the library, its feed and the harvest."""
    return _decide(rt, actor, output_id, "approved")


def reject(rt: Runtime, actor: Actor, output_id: int, reason: str) -> Output:
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise ValidationError(_l("Give a reason: the project reads it."),
                              {"reason": _l("a reason is required")})
    if len(text) > REASON_MAX:
        raise ValidationError(_l("The reason is longer than %(limit)d characters.",
                                 limit=REASON_MAX),
                              {"reason": _l("at most %(limit)d characters", limit=REASON_MAX)})
    return _decide(rt, actor, output_id, "rejected", reason=text)


def withdraw(rt: Runtime, actor: Actor, output_id: int, *,
             project_id: int | None = None) -> Output:
    """Withdraw an output (a member: one of their project's). It leaves every public list;
    if it was public, harvesters are told it is deleted."""
    if project_id is not None:
        with rt.db.session() as s:
            get(s, output_id, project_id=project_id)
    return _decide(rt, actor, output_id, "withdrawn")


# ----------------------------------------------------------------------- reading

def _loaded() -> Any:
    return select(Output).options(selectinload(Output.projects))


def get(s: Session, output_id: int, *, project_id: int | None = None) -> Output:
    """Any output by id (a member's: only one of their project's)."""
    missing = _l("There is no output %(id)s.", id=output_id)
    if id_or_none(output_id) is None:
        raise NotFound(missing)
    output = s.scalar(_loaded().where(Output.id == output_id))
    if output is None or (project_id is not None
                          and project_id not in {p.id for p in output.projects}):
        raise NotFound(missing)
    return output


def public(s: Session, key: str) -> Output:
    """An approved output by its id or slug; anything else is not found."""
    missing = _l("There is no output '%(key)s' in the library.", key=key[:60])
    query = _loaded().where(Output.status == "approved")
    if key.isascii() and key.isdigit():
        number = int(key)
        if id_or_none(number) is None:
            raise NotFound(missing)
        output = s.scalar(query.where(Output.id == number))
    else:
        output = s.scalar(query.where(Output.slug == key[:120]))
    if output is None:
        raise NotFound(missing)
    return output


def list_by_status(s: Session, status: str = "", *, project_id: int | None = None,
                   limit: int = 500) -> list[Output]:
    """Outputs, newest first: those with ``status`` (all when empty), of one project."""
    query = _loaded().order_by(Output.created_at.desc(), Output.id.desc()).limit(limit)
    if status:
        query = query.where(Output.status == status)
    if project_id is not None:
        query = query.where(Output.projects.any(Project.id == project_id))
    return list(s.scalars(query))


def output_dict(output: Output, base_url: str = "") -> dict[str, Any]:
    """The API's view of an output."""
    return {
        "id": output.id, "slug": output.slug, "status": output.status,
        "title": output.title, "description": output.description, "type": output.type,
        "projects": [p.slug for p in output.projects],
        "organisations": list(output.organisations), "languages": list(output.languages),
        "licence": output.licence or None, "age_ranges": list(output.age_ranges),
        "subjects": list(output.subjects), "sdgs": list(output.sdgs),
        "keywords": list(output.keywords), "url": output.url, "doi": output.doi or None,
        "date": output.date.isoformat() if output.date else None,
        "image_url": output.image_url or None, "image_alt": output.image_alt or None,
        "archived_url": output.archived_url or None,
        "reject_reason": output.reject_reason or None,
        "page": f"{base_url}/library/{output.slug}" if output.status == "approved" else None,
        "created_at": output.created_at.isoformat(),
    }


# ---------------------------------------------------------------------- the seeds

@dataclass(frozen=True)
class SeedReport:
    created: list[str]
    unchanged: int


CONTENT_IMPORT = Actor("content-import")


def seed(rt: Runtime, actor: Actor = CONTENT_IMPORT) -> SeedReport:
    """The outputs content/library/*.toml lists, stored once as approved outputs. A file
    already seeded is left alone (an editor may have changed or withdrawn its output)."""
    created, unchanged = [], 0
    vocab = vocabulary(rt.community)
    for entry in seeds(rt.community):
        with rt.db.session() as s:
            if s.scalar(select(Output.id).where(Output.seed_key == entry.key)) is not None:
                unchanged += 1
                continue
            values = validate(OutputInput(
                title=entry.title, description=entry.description, type=entry.type,
                projects=list(entry.projects), organisations=list(entry.organisations),
                languages=list(entry.languages), licence=entry.licence,
                age_ranges=list(entry.age_ranges), subjects=list(entry.subjects),
                sdgs=list(entry.sdgs), keywords=list(entry.keywords), url=entry.url,
                doi=entry.doi, date=entry.date, image_url=entry.image_url,
                image_alt=entry.image_alt, archived_url=entry.archived_url), vocab)
            p = Problems()
            chosen = _projects(s, values.pop("projects"), p)
            if p.fields:
                raise ValidationError(f"content/library/{entry.key}.toml: "
                                      f"{'; '.join(map(str, p.fields.values()))}.",
                                      p.fields)
            now = clock.now()
            output = Output(**values, slug=_slug(s, values["title"]), source="content",
                            seed_key=entry.key, status="submitted", projects=chosen)
            s.add(output)
            s.flush()
            record(s, actor, "output.submitted", output, source="content")
            transition(s, actor, output, "output", "approved")
            output.published_at = output.reviewed_at = now
            s.commit()
            created.append(entry.key)
    return SeedReport(created=created, unchanged=unchanged)
