"""Rendering the community's templates/: transactional mails, and the newsletter issue
through Jinja2 then MJML.

Templates are the community's own, so an error in one is reported with the template
name and the line (for MJML: the line and column of the rendered MJML, with that line's
text), never as a traceback, and always at preview rather than at send time.

An issue is compiled once. What differs per reader (the unsubscribe link, say) is a
``%%name:key%%`` placeholder that ``personalise`` replaces in the compiled HTML and text:
compile once, substitute many times.

The key is the issue's own secret (``newsletter.placeholder_key``). Only the service's
templates receive it, so text from members, feeds or editors can never become a reader's
personal link: ``%%unsubscribe_url%%`` typed into a title, a summary or an image URL stays
those characters, in HTML and in plain text.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import jinja2
import markupsafe
from babel.dates import format_date
from mjml import mjml2html

from ostogether.core import contrast, languages
from ostogether.core.errors import ContentError
from ostogether.core.sanitize import autoescape
from ostogether.core.words import _l
from ostogether.edges.site import Community

ISSUE_MJML = "newsletter/issue.mjml.j2"
ISSUE_TEXT = "newsletter/issue.txt.j2"
ISSUE_SUBJECT = "newsletter/subject.txt.j2"
ISSUE_PREHEADER = "newsletter/preheader.txt.j2"

# The per-reader values an issue may carry; the delivery fills them in. ``choices`` (the
# words a reader chose) is only in the line for a reader whose choices match nothing.
PLACEHOLDERS = ("web_url", "preferences_url", "unsubscribe_url", "choices")


def placeholder(name: str, key: str) -> str:
    """The mark a template puts where a reader's value goes."""
    assert name in PLACEHOLDERS, name
    return f"%%{name}:{key}%%"


def placeholder_key(secret: str, issue_id: int) -> str:
    """The secret an issue's placeholders carry: derived from the service's secret key,
    different for every issue, never shown."""
    mac = hmac.new(secret.encode(), f"placeholders:{issue_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


@functools.lru_cache(maxsize=64)
def placeholder_pattern(key: str) -> re.Pattern[str]:
    """Matches this key's placeholders only; group 1 is the name."""
    if not re.fullmatch(r"[0-9a-f]{16,64}", key):
        raise ValueError("a placeholder key is 16 to 64 hex digits")
    return re.compile(r"%%(" + "|".join(PLACEHOLDERS) + r"):" + key + "%%")


def duration(hours: int, language: str = languages.DEFAULT) -> str:
    """A number of hours as a reader says it: "7 days", "1 day", "36 hours" (in
    ``language``: ``{{ hours|duration('nl') }}`` is "7 dagen")."""
    return languages.duration(hours, language)


@jinja2.pass_context
def _duration(context: Any, hours: int, language: str = "") -> str:
    # In a template, the language of the mail being written (its ``lang``) unless given.
    return duration(hours, language or context.get("lang") or languages.DEFAULT)


@jinja2.pass_context
def day(context: Any, value: dt.date | dt.datetime, pattern: str = "d MMMM y") -> str:
    """A date in the mail's language with a CLDR ``pattern``: ``{{ send_date|day }}`` is
    "15 January 2027", "15 januari 2027"; ``day("EEEE d MMMM")`` adds the weekday."""
    return format_date(value, pattern, locale=context.get("lang") or languages.DEFAULT)


_BARE_LINK = re.compile(r"<a(?![^>]*\sstyle=)(?=[\s>])")


def link_colour(value: Any, colour: str) -> markupsafe.Markup:
    """HTML (stored, cleaned HTML such as an item's summary) with ``colour`` written on
    each link that has no style of its own: mail clients that drop <style>, or repaint it
    in dark mode, then still have the pair the template chose."""
    if not isinstance(contrast.colour(colour), tuple):
        raise ValueError(f"link_colour: {colour!r} is not a colour like #00506b")
    html = str(markupsafe.escape(value))  # Markup stays as it is; text is escaped
    return markupsafe.Markup(_BARE_LINK.sub(
        f'<a style="color: {markupsafe.escape(colour)};"', html))


@functools.lru_cache(maxsize=8)
def _environment(folder: str) -> jinja2.Environment:
    # Cached per folder: Jinja2 compiles each template once and reloads it only when the
    # file changes on disk, so an edit to templates/ still shows without a restart.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=autoescape,  # whatever the name, but for .txt.j2 (mails, posts)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.filters["duration"] = _duration
    env.filters["day"] = day
    env.filters["link_colour"] = link_colour
    return env


def environment(community: Community) -> jinja2.Environment:
    return _environment(str(community.templates))


def _line_in(exc: BaseException, path: str) -> int | None:
    """The template line an error was raised from: Jinja2 rewrites the traceback so that
    template frames carry the template's file name and line."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(community: Community, name: str, **context: Any) -> str:
    env = environment(community)
    path = community.templates / name
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name if isinstance(exc.name, str) else name
        raise ContentError(_l("Template %(path)s not found.",
                              path=str(community.templates / missing))) from None
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(_l("%(where)s: template syntax error: %(error)s.",
                              where=f"{community.templates / (exc.name or name)}:{exc.lineno}",
                              error=exc.message)) from None
    except jinja2.UndefinedError as exc:
        line = _line_in(exc, str(path))
        where = f"{path}:{line}" if line else str(path)
        raise ContentError(_l("%(where)s: %(error)s; the template uses a name that is not "
                              "available.", where=where, error=exc.message)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        line = _line_in(exc, str(path))
        where = f"{path}:{line}" if line else str(path)
        raise ContentError(_l("%(where)s: the template failed: %(error)s.", where=where,
                              error=str(exc))) from None


def check_templates(community: Community) -> None:
    """Compile every template under templates/, so a syntax error is reported at start
    (with file and line) rather than when the template is first used."""
    env = environment(community)
    problems = []
    for name in env.list_templates(extensions=["j2"]):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{community.templates / (exc.name or name)}:{exc.lineno}: "
                            f"template syntax error: {exc.message}.")
    if problems:
        raise ContentError(f"{len(problems)} template(s) under {community.templates} have "
                           f"errors:", problems)


def mail_template(community: Community, name: str, language: str = "") -> str:
    """``mail/<language>/<name>`` when the community gives that mail in ``language``,
    else ``mail/<name>`` (English, the fallback)."""
    if language and language != languages.DEFAULT and languages.shipped(language) == language \
            and (community.templates / "mail" / language / name).is_file():
        return f"mail/{language}/{name}"
    return f"mail/{name}"


def render_mail(community: Community, name: str, **context: Any) -> tuple[str, str]:
    """Render a transactional mail template whose first line is ``Subject: ...``."""
    text = render(community, name, **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ContentError(f"{community.templates / name}:1: a mail template must start "
                           f"with a 'Subject: ...' line.")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def render_line(community: Community, name: str, limit: int, **context: Any) -> str:
    """A one-line template (the subject, the preheader): whitespace folded to spaces."""
    text = " ".join(render(community, name, **context).split())
    return text[:limit]


# ------------------------------------------------------------------------------ MJML

MJML_TAGS = frozenset("""
mjml mj-head mj-body mj-attributes mj-all mj-class mj-breakpoint mj-font
mj-html-attributes mj-html-attribute mj-selector mj-preview mj-style mj-title mj-include
mj-accordion mj-accordion-element mj-accordion-title mj-accordion-text mj-button
mj-carousel mj-carousel-image mj-column mj-divider mj-group mj-hero mj-image mj-navbar
mj-navbar-link mj-raw mj-section mj-social mj-social-element mj-spacer mj-table mj-text
mj-wrapper
""".split())


class _MjmlStructure(HTMLParser):
    """Finds what mjml-python lets pass silently: unknown mj- tags and tags that are not
    closed or closed out of order. Tags other than mj-* (HTML inside mj-text) are left
    to MJML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.problems: list[tuple[tuple[int, int], Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mjml" or tag.startswith("mj-"):
            if tag not in MJML_TAGS:
                self.problems.append((self.getpos(), _l("unknown tag <%(tag)s>", tag=tag)))
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.startswith("mj-") and tag not in MJML_TAGS:
            self.problems.append((self.getpos(), _l("unknown tag <%(tag)s>", tag=tag)))

    def handle_endtag(self, tag: str) -> None:
        if not (tag == "mjml" or tag.startswith("mj-")):
            return
        if not self.stack:
            self.problems.append((self.getpos(), _l("</%(tag)s> closes a tag that was never "
                                                    "opened", tag=tag)))
        elif self.stack[-1][0] != tag:
            open_tag, at = self.stack[-1]
            self.problems.append((self.getpos(), _l(
                "</%(tag)s> found, but <%(open)s> opened at line %(line)d is still open",
                tag=tag, open=open_tag, line=at[0])))
            if any(t == tag for t, _ in self.stack):
                while self.stack and self.stack[-1][0] != tag:
                    self.stack.pop()
                self.stack.pop()
        else:
            self.stack.pop()


def _mjml_error(template: str, source: str, line: int, column: int, what: Any) -> Any:
    lines = source.splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return _l("%(template)s: MJML error at line %(line)d, column %(column)d of the rendered "
              "MJML: %(error)s. That line reads: %(text)s", template=template, line=line,
              column=column, error=what, text=repr(text[:160]))


def compile_mjml(source: str, template: str = ISSUE_MJML) -> str:
    """MJML to HTML with mjml-python, with no web fonts; every problem is a ContentError."""
    checker = _MjmlStructure()
    checker.feed(source)
    checker.close()
    problems = [_mjml_error(template, source, ln, col + 1, what)
                for (ln, col), what in checker.problems]
    problems += [_mjml_error(template, source, at[0], at[1] + 1,
                             _l("<%(tag)s> is never closed", tag=tag))
                 for tag, at in checker.stack]
    if problems:
        raise ContentError(problems[0], problems[1:])
    try:
        # Comments kept for the blocks' marks (``block``); every other one goes, as before.
        return _valid_html(_PLAIN_COMMENT.sub("", mjml2html(source, fonts={},
                                                            disable_comments=False)))
    except ValueError as exc:
        m = re.search(r"at position (\d+):(\d+)", str(exc))
        if m:
            raise ContentError(_mjml_error(template, source, int(m[1]) + 1, int(m[2]) + 1,
                                           str(exc))) from None
        raise ContentError(_l("%(template)s: MJML error: %(error)s.", template=template,
                              error=str(exc))) from None


# A comment that is neither Outlook's conditional (``<!--[if mso]>``, ``<!--<![endif]-->``)
# nor its downlevel-revealed ``<!-->``, nor a block's mark.
_PLAIN_COMMENT = re.compile(r"<!--(?!\[if |<!\[endif\]|>|%%/?block:)[\s\S]*?-->")
_AUTO_HEIGHT = re.compile(r'(<img\b[^>]*?)\s+height="auto"', re.I)


def _valid_html(html: str) -> str:
    """What MJML writes that HTML does not allow: ``<img height="auto">`` (the height
    attribute takes a number of pixels). The image's style says ``height:auto`` already."""
    return _AUTO_HEIGHT.sub(r"\1", html)


@dataclass(frozen=True)
class RenderedIssue:
    subject: str
    preheader: str
    html: str
    text: str


def render_issue(community: Community, context: dict[str, Any]) -> RenderedIssue:
    """Jinja2 → MJML → HTML, and the plain-text part, from one context."""
    mjml_source = render(community, ISSUE_MJML, **context)
    return RenderedIssue(subject=context["subject"], preheader=context["preheader"],
                         html=compile_mjml(mjml_source), text=render(community, ISSUE_TEXT,
                                                                     **context))


def personalise(compiled: str, values: dict[str, str], key: str, *, is_html: bool) -> str:
    """Fill the placeholders of a compiled issue that carry ``key``, in one pass."""
    if is_html:
        values = {k: html.escape(v, quote=True) for k, v in values.items()}
    return placeholder_pattern(key).sub(lambda m: values.get(m[1], m[0]), compiled)


# ------------------------------------------------------------------------------ blocks
# Readers choose what they receive (issue 36), yet an issue is still compiled once per
# language. The templates mark each item's block, each section and the line for a reader
# whose choices match nothing with ``%%block:<kind>-<name>:key%%`` and
# ``%%/block:<kind>-<name>:key%%`` (an HTML comment in an <mj-raw> in the MJML, a line of
# its own in the text), and the delivery cuts each reader's mail out of the compiled
# version: the blocks of the items they do not get go, then the sections left without
# items. The marks carry the issue's placeholder key, so text from members cannot fake or
# end a block. Kinds: ``item-<id>``, ``section-<key>``, ``nothing-0`` (shown only to a
# reader whose choices match nothing; the ``choices`` placeholder in it names them) and
# ``line-preheader`` (the hidden preheader, which an automatic line fits to the reader).

BLOCK_KINDS = ("item", "section", "nothing", "line")


def block(kind: str, name: str | int, key: str, *, end: bool = False) -> str:
    """The mark that opens (or ends) a block, as the templates write it."""
    assert kind in BLOCK_KINDS, kind
    return f"%%{'/' if end else ''}block:{kind}-{name}:{key}%%"


@functools.lru_cache(maxsize=64)
def _mark_pattern(key: str) -> re.Pattern[str]:
    if not re.fullmatch(r"[0-9a-f]{16,64}", key):
        raise ValueError("a placeholder key is 16 to 64 hex digits")
    return re.compile(r"(?:<!--)?%%(/?)block:([a-z]+)-([A-Za-z0-9_-]+):" + key
                      + r"%%(?:-->)?\n?")


@dataclass(frozen=True)
class _Block:
    kind: str
    name: str
    children: tuple[str | _Block, ...]
    items: frozenset[int]  # the ids of the item blocks inside


@functools.lru_cache(maxsize=32)
def _blocks(compiled: str, key: str) -> tuple[str | _Block, ...]:
    """``compiled`` split at its marks into a tree of blocks, once per version (a send
    assembles many bodies from the same one). An end without its start is dropped; a
    start without its end only loses its mark."""
    stack: list[list[str | _Block]] = [[]]
    opened: list[tuple[str, str]] = []
    pos = 0
    for m in _mark_pattern(key).finditer(compiled):
        stack[-1].append(compiled[pos:m.start()])
        pos = m.end()
        if not m[1]:
            opened.append((m[2], m[3]))
            stack.append([])
        elif opened and opened[-1] == (m[2], m[3]):
            children = tuple(stack.pop())
            kind, name = opened.pop()
            items = frozenset().union(*(c.items for c in children if isinstance(c, _Block)))
            if kind == "item" and name.isdigit():
                items |= {int(name)}
            stack[-1].append(_Block(kind, name, children, items))
    stack[-1].append(compiled[pos:])
    while opened:
        opened.pop()
        unclosed = stack.pop()
        stack[-1].extend(unclosed)
    return tuple(stack[0])


def block_items(compiled: str, key: str) -> set[int]:
    """The ids of the items whose blocks ``compiled`` marks."""
    found: set[int] = set()
    for node in _blocks(compiled, key):
        if isinstance(node, _Block):
            found |= node.items
    return found


def assemble(compiled: str, key: str, keep: frozenset[int] | None = None, *,
             nothing: bool = False, preheader: str | None = None,
             is_html: bool = True) -> str:
    """A compiled issue with its marks gone. ``keep`` None: the whole issue, as the
    archive, previews and test sends show it (the "nothing for you" line left out).
    Otherwise one reader's: the items in ``keep``, the sections that still hold one (or
    never held any), and with ``nothing`` the line for a reader whose choices match
    nothing (its ``choices`` placeholder is filled per reader). ``preheader`` replaces
    the hidden preheader's text."""
    out: list[str] = []

    def walk(nodes: tuple[str | _Block, ...]) -> None:
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif node.kind == "item":
                if keep is None or int(node.name) in keep:
                    walk(node.children)
            elif node.kind == "nothing":
                if nothing:
                    walk(node.children)
            elif node.kind == "line" and node.name == "preheader" and preheader is not None:
                out.append(html.escape(preheader, quote=True) if is_html else preheader)
            elif not (keep is not None and node.items and not node.items & keep):
                walk(node.children)

    walk(_blocks(compiled, key))
    return "".join(out)
