"""Markdown to safe HTML, once, when text is stored or shown.

markdown-it-py with raw HTML off turns Markdown into HTML; nh3 then keeps only an
allow-list of tags and attributes, only http(s) and mailto links, and no relative URLs,
because the same HTML goes into mails where a relative link means nothing. Pure.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code",
                "pre", "h2", "h3", "h4", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def clean_html(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                     url_relative="deny")


def markdown_to_html(markdown: str) -> str:
    return clean_html(_md.render(markdown))
