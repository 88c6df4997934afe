"""Each reader's mail, cut out of the issue compiled once per language (issue 36).

An issue is composed, checked and approved once; its snapshot per language marks every
item's block and every section (``edges.render.block``). At send, each reader's choices
(``core.choices``) and the issue's offers (each item's project, kind, topics — its own,
else its project's themes —, audiences, and whether an editor sent it to everyone) give
the ids of the items that reader gets. The reader's body is the language's compiled
HTML and text with the other items' blocks removed, then the sections left empty; a
reader whose choices match nothing in this issue gets what goes to everyone and a short
line, in their language, that names their choices and links to their preferences. A
reader who chose nothing gets the whole issue.

Nothing is compiled per reader: a body is assembled once per language and selection, and
kept (``Assembler``), so a send to 100,000 readers assembles a few hundred bodies at most;
the rest is the usual per-reader substitution of the links (``mail.message``).
Automatic subjects and preheaders (the editors wrote none) are made again for the items a
reader gets, so no reader sees the title of an item they did not choose, not even there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.choices import Choices, Offer
from ostogether.core.choices import select as choose
from ostogether.edges.render import (
    ISSUE_PREHEADER,
    ISSUE_SUBJECT,
    RenderedIssue,
    assemble,
    block_items,
    personalise,
    render_line,
)
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import vocabulary
from ostogether.mail.message import IssueMessage
from ostogether.mail.sender import issue_message
from ostogether.models import Issue, Project, Subscriber
from ostogether.newsletter import preflight
from ostogether.newsletter.issues import get_issue
from ostogether.newsletter.rendering import (
    PREHEADER_LIMIT,
    SUBJECT_LIMIT,
    base_language,
    issue_key,
    marked,
    texts,
    web_values,
)

KEEP_AT_MOST = 4096  # bodies kept per send; past that the cache starts again


def offers(issue: Issue) -> list[Offer]:
    """The issue's items as the choices see them, in the issue's order
    (``issue.entries`` with their items and projects loaded). An announcement's items go
    to everyone it reaches: its segment chose the readers already."""
    out = []
    for e in sorted(issue.entries, key=lambda e: (e.section_order, e.position)):
        item = e.item
        out.append(Offer(id=item.id, project=item.project.slug, kind=item.kind,
                         topics=frozenset(item.topics or item.project.themes or ()),
                         audiences=frozenset(item.audiences or ()),
                         for_everyone=bool(e.for_everyone) or issue.kind == "announcement"))
    return out


def items_cell(ids: Iterable[int]) -> str:
    """What ``deliveries.items`` holds: the ids a reader got, "1,5,7" ("" for none)."""
    return ",".join(str(i) for i in ids)


def parse_items(cell: str | None) -> tuple[int, ...] | None:
    """``deliveries.items`` back to ids; None (a send before readers chose) is every item."""
    if cell is None:
        return None
    return tuple(int(i) for i in cell.split(",") if i.strip().isdigit())


@dataclass(frozen=True)
class Selection:
    """What one reader gets: the items, whether that is the whole issue, and (when their
    choices match nothing here) the words that name their choices."""

    ids: tuple[int, ...]
    whole: bool
    nothing: str | None = None


@dataclass(frozen=True)
class _Lines:
    """The automatic subject and preheader for a choice of items, and which of the two
    are automatic (the editors wrote the other)."""

    make: Callable[[Sequence[int]], tuple[str, str]]
    subject: bool
    preheader: bool


@dataclass
class _Version:
    language: str
    out: RenderedIssue
    lines: _Lines | None


@dataclass
class Assembler:
    """One send's bodies per language and selection. Built in ``from_issue`` inside a
    session; afterwards it needs none."""

    rt: Runtime
    issue: Issue
    base: str
    key: str
    offers: list[Offer]
    versions: dict[str, _Version]
    label: Callable[[str, str, str], str]
    acronyms: dict[str, str]
    kept: dict[tuple[Any, ...], IssueMessage] = field(default_factory=dict)
    chosen: dict[tuple[str, Choices], Selection] = field(default_factory=dict)
    cuttable: bool = True
    assembled: int = 0  # bodies built, for the bench and the log

    @classmethod
    def from_issue(cls, rt: Runtime, s: Session, issue: Issue,
                   outs: dict[str, RenderedIssue] | None = None) -> Assembler:
        """From the approved snapshot's versions (or ``outs``: language → marked
        version; the first is the fallback)."""
        base = base_language(rt)
        if outs is None:
            outs = {base: RenderedIssue(issue.snapshot_subject, issue.snapshot_preheader,
                                        issue.snapshot_html, issue.snapshot_text)}
            outs.update({v.language: RenderedIssue(v.subject, v.preheader, v.html, v.text)
                         for v in issue.snapshots})
        else:
            base = next(iter(outs))
        versions = {lang: _Version(lang, out, _lines(rt, issue, lang, out))
                    for lang, out in outs.items()}
        vocab = vocabulary(rt.community)
        acronyms = {slug: acronym for slug, acronym in s.execute(
            select(Project.slug, Project.acronym))}
        key = issue_key(rt, issue)
        found = offers(issue)
        # A version whose templates mark no item blocks (approved before readers chose,
        # or a community's own templates without the marks) goes whole to everyone.
        cuttable = all({o.id for o in found} <= block_items(v.out.html, key)
                       and {o.id for o in found} <= block_items(v.out.text, key)
                       for v in versions.values())
        return cls(rt, issue, base, key, found, versions, vocab.label, acronyms,
                   cuttable=cuttable)

    def select(self, choices: Choices, language: str) -> Selection:
        every = tuple(o.id for o in self.offers)
        # An announcement's segment chose its readers: every one of them gets it whole.
        if choices.everything or not self.cuttable or self.issue.kind == "announcement":
            return Selection(every, True)
        ids = choose(self.offers, choices)
        own = [o for o in self.offers if o.id in ids and not o.for_everyone]
        return Selection(ids, ids == every,
                         None if own else self.named(choices, language))

    def named(self, choices: Choices, language: str) -> str:
        """A reader's choices as the "nothing for you" line names them, in ``language``."""
        words = [self.label(group, key, language) for group, keys in (
            ("topics", choices.topics), ("kinds", choices.kinds),
            ("audiences", choices.audiences)) for key in sorted(keys)]
        words += sorted(self.acronyms.get(p, p) for p in choices.projects)
        return ", ".join(words)

    def body(self, language: str, sel: Selection) -> RenderedIssue:
        """The subject, preheader, HTML and text a reader of ``language`` with ``sel``
        gets (nothing compiled: blocks cut out of the language's version)."""
        v = self.versions.get(language) or self.versions[self.base]
        keep = None if sel.whole else frozenset(sel.ids)
        subject, preheader = v.out.subject, v.out.preheader
        if v.lines is not None and keep is not None:
            auto_subject, auto_preheader = v.lines.make(sel.ids)
            subject = auto_subject if v.lines.subject else subject
            preheader = auto_preheader if v.lines.preheader else preheader
        html = assemble(v.out.html, self.key, keep, nothing=sel.nothing is not None,
                        preheader=preheader if preheader != v.out.preheader else None)
        if subject != v.out.subject:
            html = _retitled(html, subject)
        text = assemble(v.out.text, self.key, keep, nothing=sel.nothing is not None,
                        is_html=False)
        return RenderedIssue(subject, preheader, html, text)

    def message(self, language: str, choices: Choices
                ) -> tuple[IssueMessage, str, dict[str, str]]:
        """The message for a reader of ``language`` with ``choices``, what
        ``deliveries.items`` records for them, and their own values for it (the words
        of the "nothing for you" line)."""
        lang = language if language in self.versions else self.base
        sel = self.chosen.get((lang, choices))
        if sel is None:
            if len(self.chosen) >= KEEP_AT_MOST * 4:
                self.chosen.clear()
            sel = self.chosen[(lang, choices)] = self.select(choices, lang)
        cache = (lang, None if sel.whole else sel.ids, sel.nothing is not None)
        message = self.kept.get(cache)
        if message is None:
            if len(self.kept) >= KEEP_AT_MOST:
                self.kept.clear()
            message = issue_message(self.rt, self.issue, self.body(lang, sel))
            self.kept[cache] = message
            self.assembled += 1
        return message, items_cell(sel.ids), \
            {} if sel.nothing is None else {"choices": sel.nothing}


def _retitled(html: str, new: str) -> str:
    """The compiled HTML with the subject it carries (MJML's <title> and the aria-label
    of the mail's body) replaced by ``new``."""
    after = str(escape(new))
    html = _TITLE.sub(lambda m: f"<title>{after}</title>", html, count=1)
    return _LABEL.sub(lambda m: f'{m[1]}{after}{m[2]}', html, count=1)


_TITLE = re.compile(r"<title>[^<]*</title>")
_LABEL = re.compile(r'(<div aria-label=")[^"]*(" aria-roledescription="email")')


def _lines(rt: Runtime, issue: Issue, language: str, out: RenderedIssue) -> _Lines | None:
    """The automatic subject and preheader of ``language`` for a choice of items, where
    the version's lines are the automatic ones (what the templates give the whole issue);
    None when the editors wrote both."""
    rules, site = rt.community.newsletter(), rt.community.site()
    send_date = issue.send_at.astimezone(rt.community.schedule().zone).date()
    t = texts(rules, language, site, issue.number, send_date)
    shown: dict[int, dict[str, Any]] = {}
    for e in sorted(issue.entries, key=lambda e: (e.section_order, e.position)):
        i = e.item
        tr = i.in_language(language) if i.language != language else None
        p = i.project
        shown[i.id] = {"title": tr.title if tr else i.title, "project": SimpleNamespace(
            acronym=p.acronym, name=p.name, slug=p.slug)}

    def lines(ids: Sequence[int]) -> tuple[str, str]:
        items = [shown[i] for i in ids if i in shown]
        context = {"number": issue.number, "items": items, "site": site,
                   "send_date": send_date, "language": language, "t": t,
                   "projects": sorted({i["project"].acronym for i in items})}
        return (render_line(rt.community, ISSUE_SUBJECT, SUBJECT_LIMIT, **context),
                render_line(rt.community, ISSUE_PREHEADER, PREHEADER_LIMIT, **context))

    subject, preheader = lines(list(shown))
    made = _Lines(lines, out.subject == subject, out.preheader == preheader)
    return made if made.subject or made.preheader else None


def readers_choices(s: Session) -> Counter[Choices]:
    """Every confirmed reader's choices, counted: a send's readers, as the pre-flight
    sees them."""
    return Counter(Choices.of(*row) for row in s.execute(
        select(Subscriber.topics, Subscriber.kinds, Subscriber.audiences,
               Subscriber.projects).where(Subscriber.status == "confirmed")))


def effect(rt: Runtime, issue_id: int) -> tuple[preflight.Effect, list[tuple[Offer, str]]]:
    """The pre-flight's view of readers' choices: the effect on the issue, and its items
    (the offer and its title) in order."""
    with rt.db.session() as s:
        issue = get_issue(s, issue_id)
        titles = {e.item.id: e.item.title for e in issue.entries}
        found = offers(issue)
        return (preflight.effect(found, readers_choices(s)),
                [(o, titles[o.id]) for o in found])


def preview(rt: Runtime, s: Session, issue: Issue, choices: Choices,
            language: str = "") -> tuple[RenderedIssue, Selection]:
    """The mail a reader with ``choices`` would get in ``language`` (the community's by
    default), with the public links: the approved snapshot cut for them, or the issue as
    it stands. Raises ContentError when the templates fail."""
    lang = language or base_language(rt)
    asm = Assembler.from_issue(rt, s, issue, {lang: marked(rt, issue, lang)})
    sel = asm.select(choices, lang)
    out = asm.body(lang, sel)
    values, key = web_values(rt, issue, language), asm.key
    if sel.nothing is not None:
        values["choices"] = sel.nothing
    return RenderedIssue(out.subject, out.preheader,
                         personalise(out.html, values, key, is_html=True),
                         personalise(out.text, values, key, is_html=False)), sel


def known_choices(rt: Runtime, s: Session, topics: Iterable[str], kinds: Iterable[str],
                  audiences: Iterable[str], projects: Iterable[str]) -> Choices:
    """Choices from a form, keeping only the words of the vocabulary and the projects
    that exist."""
    vocab = vocabulary(rt.community)
    slugs = set(s.scalars(select(Project.slug)))
    return Choices.of([t for t in topics if t in vocab.topics],
                      [k for k in kinds if k in vocab.kinds],
                      [a for a in audiences if a in vocab.audiences],
                      [p for p in projects if p in slugs])


def choice_words(rt: Runtime) -> dict[str, dict[str, str]]:
    """What a reader can choose, key → label, per group (projects: slug → acronym), for
    the editors' "preview as a reader" form."""
    vocab = vocabulary(rt.community)
    with rt.db.session() as s:
        projects = {slug: acronym for slug, acronym in s.execute(
            select(Project.slug, Project.acronym).where(Project.status == "member")
            .order_by(Project.acronym))}
    return {"topics": vocab.labels("topics"), "kinds": vocab.labels("kinds"),
            "audiences": vocab.labels("audiences"), "projects": projects}
