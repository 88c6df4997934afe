"""Markdown to safe HTML, once, when text is stored or shown, and to plain text.

markdown-it-py with raw HTML off turns Markdown into HTML; nh3 then keeps only an
allow-list of tags and attributes, only http(s) and mailto links, and no relative URLs,
because the same HTML goes into mails where a relative link means nothing. For the
plain-text part of a mail and calendar descriptions, the same parse becomes text as a
person would type it: emphasis dropped, a link as "report <https://…>". Pure.
"""

from __future__ import annotations

import functools
import re
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code",
                "pre", "h2", "h3", "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def clean_html(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                     url_relative="deny")


@functools.lru_cache(maxsize=512)
def markdown_to_html(markdown: str) -> str:
    """Markdown as cleaned HTML. Pure, so the same text is rendered once per process:
    the pages that show the community's own texts (home, privacy, code of conduct) do
    not parse them on every request."""
    return clean_html(_md.render(markdown))


def markdown_markup(markdown: str) -> Markup:
    """Markdown as cleaned HTML that a template shows as it is. The one way a page or the
    newsletter is given HTML made from text: nothing but nh3's output is marked safe."""
    return Markup(markdown_to_html(markdown))


def stored_markup(html: str) -> Markup:
    """HTML kept in the database (an item's summary, an issue's introduction), cleaned
    again before a template shows it as it is: what was stored by another version, or
    written into the table by hand, is held to today's allow-list."""
    return Markup(clean_html(html))


# Every Jinja2 environment of the service (the web pages, templates/: the newsletter,
# mails, posts) escapes by default, whatever a template's file name: Flask and
# ``select_autoescape`` go by the ending, and ``snippet.html.j2`` or an ``_footer.j2``
# included from the newsletter would not be escaped. Only a template whose name says it
# makes plain text (``.txt``, ``.txt.j2``: mails, subject lines, posts) is not.
TEXT_TEMPLATE_ENDINGS = (".txt", ".txt.j2", ".text", ".text.j2")


def autoescape(template_name: str | None) -> bool:
    """Whether a template escapes what it is given: always, except plain-text ones."""
    return not (template_name or "").lower().endswith(TEXT_TEMPLATE_ENDINGS)


def markdown_to_text(markdown: str) -> str:
    """Markdown as plain text: paragraphs apart, list items with "- " or "1. ", quotes
    with "> ", links as "text <address>" (the address alone when it is the text)."""
    blocks: list[tuple[str, int]] = []  # (text, the list it is an item of, or 0)
    prefix: list[str] = []  # the open lists and quotes, innermost last
    numbers: list[int] = []
    lists: list[int] = []  # the open lists, by the position of their first token
    for n, token in enumerate(_md.parse(markdown), 1):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append(n)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        if token.type == "bullet_list_open":
            prefix.append("- ")
        elif token.type == "ordered_list_open":
            prefix.append("#")
            numbers.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            if prefix.pop() == "#":
                numbers.pop()
        elif token.type == "blockquote_open":
            prefix.append("> ")
        elif token.type == "blockquote_close":
            prefix.pop()
        elif token.type == "list_item_close" and prefix and prefix[-1] == "#":
            numbers[-1] += 1
        elif token.type == "inline" or token.type in ("fence", "code_block"):
            text = _inline_text(token) if token.type == "inline" else token.content.rstrip()
            lead = "".join(f"{numbers[-1]}. " if p == "#" else p for p in prefix[-1:])
            quote = "> " if "> " in prefix[:-1] else ""
            text = quote + lead + text.replace("\n", "\n" + quote + " " * len(lead))
            if text.strip():
                blocks.append((text, lists[-1] if lead and lists else 0))
        elif token.type == "hr":
            blocks.append(("----", 0))
    out = ""
    for n, (text, in_list) in enumerate(blocks):
        if n:  # the items of one list stay together; other blocks stand apart
            out += "\n" if in_list and in_list == blocks[n - 1][1] else "\n\n"
        out += text
    return out


def _inline_text(token: Token) -> str:
    out: list[str] = []
    links: list[tuple[str, int]] = []  # (address, where its text starts)
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "link_open":
            links.append((str(child.attrGet("href") or ""), len(out)))
        elif child.type == "link_close" and links:
            href, start = links.pop()
            if "".join(out[start:]).strip() != href and href:
                out.append(f" <{href}>")
        elif child.type == "image":
            out.append(child.content or "")
    return "".join(out)


# ------------------------------------------------------------------ past issues

# A past issue's HTML (``ostogether.newsletter.archive_import``) keeps the layout of an e-mail: its
# tables, images and inline styles, through the same cleaner with a wider allow-list.
# Scripts, forms, frames, event handlers, <style> blocks and every CSS property not listed
# here are dropped; links and images must be absolute http(s).
EMAIL_TAGS = ALLOWED_TAGS | {"h1", "h5", "h6", "b", "i", "u", "s", "small", "sub", "sup",
                             "span", "div", "center", "img", "table", "thead", "tbody",
                             "tfoot", "tr", "td", "th", "caption", "figure", "figcaption"}
_CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor"}
EMAIL_ATTRIBUTES = {"*": {"style"}, "a": {"href", "title"},
                    "img": {"src", "alt", "width", "height", "title"},
                    "table": {"width", "align", "cellpadding", "cellspacing", "border",
                              "bgcolor"},
                    "td": _CELL, "th": _CELL | {"scope"}, "tr": {"align", "valign"},
                    "div": {"align"}, "p": {"align"}}
EMAIL_STYLES = {"color", "background-color", "font-size", "font-weight", "font-style",
                "font-family", "line-height", "text-align", "text-decoration",
                "vertical-align", "padding", "padding-top", "padding-right",
                "padding-bottom", "padding-left", "margin", "margin-top", "margin-right",
                "margin-bottom", "margin-left", "width", "max-width", "height",
                "border", "border-top", "border-right", "border-bottom", "border-left",
                "border-collapse", "border-radius", "letter-spacing", "display"}


_BLOCK_END = re.compile(r"<br\s*/?>|</(p|div|tr|h[1-6]|li|table|blockquote)>", re.I)


def clean_email_html(html: str) -> str:
    return nh3.clean(html, tags=EMAIL_TAGS, clean_content_tags={"script", "style", "title",
                                                                "head", "noscript"},
                     attributes=EMAIL_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", url_relative="deny",
                     filter_style_properties=EMAIL_STYLES,
                     set_tag_attribute_values={"table": {"role": "presentation"}})


def html_to_text(html: str) -> str:
    """Clean HTML as plain text: tags dropped, blocks on their own lines."""
    text = unescape(nh3.clean(_BLOCK_END.sub("\n", html), tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"
