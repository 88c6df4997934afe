"""Colours that can be read: the WCAG 2 contrast of text on its background, worked out from
an HTML fragment's inline styles and ``bgcolor`` attributes. Pure.

A past issue from Mailchimp loses its ``<head>`` styles when it is cleaned, and with them
the dark backgrounds its inline colours were chosen for: near-white links on white.
``legible`` walks the fragment as a browser would inherit colours and, where an element's
own colour or background leaves its text under the contrast asked for, gives that element
an explicit text colour (black or white, whichever reads better on what is behind it), so
the page states every pair it changes. ``runs`` says, for each piece of visible text,
which pair it is shown in and whether the HTML states both colours, which a newsletter
needs when mail clients in dark mode would otherwise pick one of them.

Written by hand: the HTML is the service's own cleaner's output (quoted attributes, every
element closed), and what is needed is one pass over inline styles, not a CSS engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

RGB = tuple[int, int, int]
AA = 4.5  # WCAG 2.x 1.4.3, normal text
BLACK, WHITE = (0, 0, 0), (255, 255, 255)
VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# The colour names Mailchimp's editor and common templates write; anything else that is
# not a number is taken as unknown, and an unknown colour is dropped rather than trusted.
NAMES: dict[str, RGB] = {
    "black": BLACK, "white": WHITE, "red": (255, 0, 0), "green": (0, 128, 0),
    "blue": (0, 0, 255), "navy": (0, 0, 128), "gray": (128, 128, 128),
    "grey": (128, 128, 128), "silver": (192, 192, 192), "darkgray": (169, 169, 169),
    "darkgrey": (169, 169, 169), "lightgray": (211, 211, 211), "lightgrey": (211, 211, 211),
    "dimgray": (105, 105, 105), "dimgrey": (105, 105, 105), "whitesmoke": (245, 245, 245),
    "gainsboro": (220, 220, 220), "orange": (255, 165, 0), "yellow": (255, 255, 0),
    "purple": (128, 0, 128), "maroon": (128, 0, 0), "teal": (0, 128, 128),
    "olive": (128, 128, 0), "aqua": (0, 255, 255), "fuchsia": (255, 0, 255),
    "lime": (0, 255, 0), "darkblue": (0, 0, 139), "darkred": (139, 0, 0),
    "darkgreen": (0, 100, 0), "ivory": (255, 255, 240), "snow": (255, 250, 250),
    "beige": (245, 245, 220), "linen": (250, 240, 230),
}
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_RGB = re.compile(r"rgba?\(\s*(\d{1,3})[\s,]+(\d{1,3})[\s,]+(\d{1,3})"
                  r"\s*(?:[,/]\s*([\d.]+%?))?\s*\)")
TRANSPARENT = "transparent"


def colour(value: str) -> RGB | str | None:
    """A CSS colour as RGB; TRANSPARENT for none (or any alpha below 1); None when it
    cannot be read."""
    v = value.strip().lower().removesuffix("!important").strip()
    if v in ("transparent", "none", "inherit", "initial", "unset", "currentcolor"):
        return TRANSPARENT
    if m := _HEX.fullmatch(v):
        h = m.group(1)
        if len(h) in (3, 4):
            h = "".join(c * 2 for c in h)
        if len(h) == 8 and h[6:] != "ff":
            return TRANSPARENT
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    if m := _RGB.fullmatch(v):
        alpha = m.group(4)
        if alpha and (float(alpha.rstrip("%")) / (100 if alpha.endswith("%") else 1)) < 1:
            return TRANSPARENT
        r, g, b = (min(255, int(x)) for x in m.group(1, 2, 3))
        return r, g, b
    return NAMES.get(v)


def luminance(c: RGB) -> float:
    """WCAG 2 relative luminance."""
    def lin(x: int) -> float:
        s = x / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(x) for x in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hexa(c: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def _declarations(style: str) -> list[tuple[str, str]]:
    out = []
    for part in style.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            out.append((name.strip().lower(), value.strip()))
    return out


def _background(decls: list[tuple[str, str]], bgcolor: str | None) -> RGB | str | None:
    """The element's own background colour: the last ``background-color`` or colour in a
    ``background`` shorthand, else ``bgcolor``; None when it sets none."""
    found: RGB | str | None = None
    for name, value in decls:
        if name == "background-color":
            found = colour(value) or found
        elif name == "background":
            for word in re.split(r"\s+(?![^(]*\))", value):
                if (c := colour(word)) is not None:
                    found = c
    if found is None and bgcolor:
        found = colour(bgcolor)
    return found


@dataclass(frozen=True)
class Run:
    """A piece of visible text, the colours it is shown in, and whether the HTML states
    each of them (rather than leaving it to the page or the mail client)."""

    text: str
    fg: RGB
    bg: RGB
    fg_stated: bool
    bg_stated: bool

    @property
    def contrast(self) -> float:
        return ratio(self.fg, self.bg)


@dataclass
class _Frame:
    tag: str
    fg: RGB
    bg: RGB
    fg_stated: bool
    bg_stated: bool
    hidden: bool


class _Walk(HTMLParser):
    def __init__(self, text: RGB, background: RGB, link: RGB | None, minimum: float,
                 fix: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.link, self.minimum, self.fix = link, minimum, fix
        self.stack = [_Frame("", text, background, False, False, False)]
        self.out: list[str] = []
        self.runs: list[Run] = []
        self.changed: list[str] = []

    def _open(self, tag: str, attrs: list[tuple[str, str | None]], closed: bool) -> None:
        parent = self.stack[-1]
        values = dict(attrs)
        decls = _declarations(values.get("style") or "")
        own_fg: RGB | str | None = None
        kept = []
        for name, value in decls:
            if name == "color":
                c = colour(value)
                if c is None or c == TRANSPARENT:
                    continue  # unreadable or invisible: not trusted, dropped
                own_fg = c
            kept.append((name, value))
        own_bg = _background(decls, values.get("bgcolor"))
        bg_stated = isinstance(own_bg, tuple) or parent.bg_stated
        bg = own_bg if isinstance(own_bg, tuple) else parent.bg
        link = tag == "a" and self.link is not None and own_fg is None
        fg = own_fg if isinstance(own_fg, tuple) else (self.link if link and self.link
                                                       else parent.fg)
        fg_stated = isinstance(own_fg, tuple) or (parent.fg_stated and not link)
        hidden = parent.hidden or any(n == "display" and v.lower().startswith("none")
                                      for n, v in decls)
        sets = isinstance(own_fg, tuple) or isinstance(own_bg, tuple) or link
        rewrite = len(kept) != len(decls)
        if self.fix and sets and not hidden and ratio(fg, bg) < self.minimum:
            better = max((BLACK, WHITE), key=lambda c: ratio(c, bg))
            self.changed.append(f"<{tag}> {hexa(fg)} on {hexa(bg)} "
                                f"({ratio(fg, bg):.2f}:1) → {hexa(better)}")
            kept = [(n, v) for n, v in kept if n != "color"] + [("color", hexa(better))]
            fg, fg_stated, rewrite = better, True, True
        if rewrite:
            style = "; ".join(f"{n}: {v}" for n, v in kept)
            attrs = [(k, v) for k, v in attrs if k != "style"] + ([("style", style)]
                                                                  if style else [])
            self.out.append(f"<{tag}" + "".join(
                f' {k}="{escape(v, quote=True)}"' if v is not None else f" {k}"
                for k, v in attrs) + (" />" if closed else ">"))
        else:
            self.out.append(self.get_starttag_text() or "")
        if not closed and tag not in VOID:
            self.stack.append(_Frame(tag, fg, bg, fg_stated, bg_stated, hidden))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag, attrs, True)

    def handle_endtag(self, tag: str) -> None:
        if any(f.tag == tag for f in self.stack[1:]):
            while self.stack[-1].tag != tag:
                self.stack.pop()
            self.stack.pop()
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)
        top = self.stack[-1]
        if data.strip() and not top.hidden and top.tag not in ("style", "script", "title"):
            self.runs.append(Run(" ".join(data.split()), top.fg, top.bg, top.fg_stated,
                                 top.bg_stated))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def legible(html: str, *, text: RGB, background: RGB, link: RGB | None = None,
            minimum: float = AA) -> tuple[str, list[str]]:
    """``html`` shown on ``background`` in ``text`` (links in ``link``), with each element
    whose own colours leave its text under ``minimum`` given a colour that reads; and what
    was changed."""
    walk = _Walk(text, background, link, minimum, fix=True)
    walk.feed(html)
    walk.close()
    return "".join(walk.out), walk.changed


def runs(html: str, *, text: RGB = BLACK, background: RGB = WHITE,
         link: RGB | None = None) -> list[Run]:
    """Every visible piece of text with its colours (``text`` and ``background`` where
    the HTML states none)."""
    walk = _Walk(text, background, link, AA, fix=False)
    walk.feed(html)
    walk.close()
    return walk.runs
