"""An issue's language versions: the subject, preheader and editorial the editors write
per language (or mark "the same for every language"), and what the pre-flight shows of
each version: its readers, how many items are in their language, the lines they get,
and whether it renders.

A language's texts left empty take its defaults (``rendering``): the automatic subject
and preheader in that language, the community's editorial marked with its language.
So an issue can be approved with no hand-written text in any other language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ostogether.core.errors import ContentError, ValidationError
from ostogether.core.languages import NAMES, NEWSLETTER
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, IssueText
from ostogether.newsletter.issues import (
    INTRO_MAX,
    PREHEADER_LIMIT,
    SUBJECT_LIMIT,
    _editable,
    _one_line,
    get_issue,
)
from ostogether.newsletter.rendering import (
    SAME_TEXTS,
    base_language,
    issue_text,
    lines_written,
    reader_languages,
    render_current,
)
from ostogether.newsletter.wording import listed


def _language(rt: Runtime, language: str) -> str:
    if language not in NEWSLETTER:
        raise ValidationError(_l("Unknown language '%(language)s'; use one of %(known)s.",
                                 language=language[:20], known=", ".join(NEWSLETTER)),
                              {"language": "unknown language"})
    if language == base_language(rt):
        raise ValidationError(_l("%(language)s is the issue's own language: edit its "
                                 "subject, preheader and editorial above.",
                                 language=NAMES[language]),
                              {"language": "the issue's own language"})
    return language


def set_texts(rt: Runtime, actor: Actor, issue_id: int, language: str, *, subject: str,
              preheader: str, intro_md: str) -> list[str]:
    """The subject, preheader and editorial of one language; an empty one takes that
    language's default. An approved issue goes back to review. The fields changed."""
    language = _language(rt, language)
    fields: dict[str, Any] = {}
    try:
        subject = _one_line(subject, "subject", SUBJECT_LIMIT)
    except ValidationError as exc:
        fields.update(exc.fields)
    try:
        preheader = _one_line(preheader, "preheader", PREHEADER_LIMIT)
    except ValidationError as exc:
        fields.update(exc.fields)
    if len(intro_md) > INTRO_MAX:
        fields["intro_md"] = _l("at most %(max)d characters", max=INTRO_MAX)
    if fields:
        raise ValidationError(_l("The %(language)s texts were not saved: %(problems)s.",
                                 language=NAMES[language], problems=listed(fields)), fields)
    intro_md = intro_md.replace("\r\n", "\n").strip()
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        row = issue_text(issue, language)
        before = (row.subject, row.preheader, row.intro_md) if row else ("", "", "")
        new = (subject, preheader, intro_md)
        changed = [k for k, a, b in zip(("subject", "preheader", "intro_md"), before, new,
                                        strict=True) if a != b]
        if not changed:
            return []
        _editable(s, actor, issue)
        if row is None:
            row = IssueText(language=language)
            issue.texts.append(row)
        row.subject, row.preheader, row.intro_md = new
        row.intro_html = markdown_to_html(intro_md)
        record(s, actor, "issue.texts_edited", issue, language=language, fields=changed)
        return changed


def set_same(rt: Runtime, actor: Actor, issue_id: int, same: Iterable[str]) -> bool:
    """Which of the subject, preheader and editorial are the same for every language
    (the issue's own goes to every reader). True when that changed."""
    wanted = sorted(set(same))
    unknown = [k for k in wanted if k not in SAME_TEXTS]
    if unknown:
        raise ValidationError(_l("Unknown text '%(text)s'; use %(known)s.",
                                 text=unknown[0][:20], known=", ".join(SAME_TEXTS)),
                              {"same": "unknown text"})
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        if sorted(issue.same_texts or ()) == wanted:
            return False
        _editable(s, actor, issue)
        issue.same_texts = wanted
        record(s, actor, "issue.same_texts", issue, same=wanted)
        return True


@dataclass(frozen=True)
class Version:
    """One language's version of an issue, as the editors and the pre-flight see it."""

    language: str
    name: str
    readers: int
    items: int
    in_language: int  # items the reader gets in their language (own or translated)
    subject: str
    preheader: str
    written: tuple[str, ...]  # the texts written for it: subject, preheader, intro
    problem: str = ""  # why it does not render, if it does not

    @property
    def untranslated(self) -> int:
        return self.items - self.in_language


def _version(rt: Runtime, issue: Issue, lang: str, readers: int, render: bool) -> Version:
    base = base_language(rt)
    entries = list(issue.entries)
    in_language = sum(1 for e in entries if e.item.language == lang
                      or e.item.in_language(lang) is not None)
    own = issue_text(issue, lang) if lang != base else None
    written = tuple(k for k, v in (("subject", issue.subject if lang == base else
                                    lines_written(issue, lang, base)[0]),
                                   ("preheader", issue.preheader if lang == base else
                                    lines_written(issue, lang, base)[1]),
                                   ("intro", issue.intro_md if lang == base else
                                    (own.intro_md if own else ""))) if v)
    subject, preheader, problem = "", "", ""
    if render:
        try:
            out = render_current(rt, issue, lang)
            subject, preheader = out.subject, out.preheader
        except ContentError as exc:
            problem = str(exc)
    return Version(lang, NAMES.get(lang, lang), readers, len(entries), in_language,
                   subject, preheader, written, problem)


def versions(rt: Runtime, issue_id: int, *, render: bool = True) -> list[Version]:
    """Every language of the newsletter, the community's first: its readers now and its
    items in their language (and, with ``render``, its lines and whether it renders)."""
    base = base_language(rt)
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        counts = reader_languages(s)
        langs = [base, *(code for code in NEWSLETTER if code != base)]
        # Readers of a language the newsletter does not speak get the community's.
        fallback = sum(n for code, n in counts.items() if code not in NEWSLETTER)
        return [_version(rt, issue, lang, counts.get(lang, 0)
                         + (fallback if lang == base else 0), render and (
                             lang == base or counts.get(lang, 0) > 0))
                for lang in langs]
