"""Makes ostogether/web/static/x_text.js: the data of X's counting rules for the post
page's live counter (static/post_count.js), taken from twitter-text-parser, the library
that the server's count (ostogether/social/text.py) uses.

The rules are twitter-text's config v3 (weights by code point range, URLs 23, emoji 2),
its URL extraction (the regular expressions, with the lists of top-level domains: an
address written without https:// counts 23 too) and its emoji list (Emoji 12.0: a
sequence joined with ZWJ counts as one emoji). Taking them from the library, instead of
copying them by hand, keeps the page and the server counting alike; when the library
changes, tests/social/test_social_counter.py fails until the file is made again:

    .venv/bin/python -m tests.x_text_js
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from twitter_text.config import config
from twitter_text.regexp.emoji import emoji_list, single_codepoint_emoji_ranges
from twitter_text.regexp.extract_url import extract_url
from twitter_text.regexp.invalid_chars import invalid_chars
from twitter_text.regexp.invalid_url_without_protocol_preceding_chars import (
    invalid_url_without_protocol_preceding_chars,
)
from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
from twitter_text.regexp.valid_cctld import valid_cctld
from twitter_text.regexp.valid_gtld import valid_gtld
from twitter_text.regexp.valid_tco_url import valid_tco_url

TARGET = Path(__file__).resolve().parents[1] / "ostogether" / "web" / "static" / "x_text.js"


SYNTAX = set("^$\\.*+?()[]{}|/")


DOTTED_I = "\u0130\u0131"  # İ and ı


def _unicode_mode(source: str, ignore_case: bool = True) -> str:
    """``source`` for a RegExp with the ``u`` flag, which takes a code point beyond
    U+FFFF as one character, as Python does. That flag refuses an escaped character that
    needs none (``\\!``, ``\\@``), so those lose their backslash. Ignoring case, Python
    also takes İ and ı for i, and JavaScript does not: they are added where i is."""
    out: list[str] = []
    i, klass = 0, None  # klass: the text of the character class being read
    while i < len(source):
        c = source[i]
        if c == "\\":
            nxt = source[i + 1]
            keep = (nxt.isascii() and nxt.isalnum() or nxt in SYNTAX
                    or (klass is not None and nxt == "-"))
            piece = c + nxt if keep else nxt
            i += 2
        elif c == "[" and klass is None:
            klass, piece = "", ""
            out.append("[")
            i += 1
            continue
        elif c == "]" and klass is not None and klass not in ("", "^"):
            has_i = re.search(r"(?<!\\)(a-z|A-Z)|(?<!\\)[iI]", klass) is not None
            # At the front (after ^): at the end, after a "-", it would make a range.
            negated = klass.startswith("^")
            extra = DOTTED_I if ignore_case and has_i else ""
            piece = ("^" if negated else "") + extra + klass[negated:] + "]"
            klass = None
            out.append(piece)
            i += 1
            continue
        elif c in "iI" and klass is None and ignore_case:
            piece = "[iI" + DOTTED_I + "]"
            i += 1
        else:
            piece = c
            i += 1
        if klass is not None:
            klass += piece
        else:
            out.append(piece)
    return "".join(out)


def _regex(pattern: re.Pattern[str]) -> dict[str, str]:
    """A Python pattern as a JavaScript RegExp's source and flags. The top-level domain
    lists, which two patterns share, are written once (``#{gtld}``, ``#{cctld}``)."""
    ignore_case = bool(pattern.flags & re.IGNORECASE)
    source = _unicode_mode(pattern.pattern, ignore_case)
    for name, shared in (("gtld", valid_gtld), ("cctld", valid_cctld)):
        source = source.replace(_unicode_mode(shared.pattern, ignore_case), "#{" + name + "}")
    return {"source": source, "flags": "iu" if ignore_case else "u"}


def source() -> str:
    """The file's text."""
    v3 = config["version3"]
    multi = sorted({"".join(chr(int(c, 16)) for c in e.codepoint.split())
                    for e in emoji_list if len(e.codepoint.split()) > 1})
    data = {
        "config": {"scale": v3["scale"], "defaultWeight": v3["default_weight"],
                   "transformedURLLength": v3["transformed_url_length"],
                   "maxWeightedTweetLength": v3["max_weighted_tweet_length"],
                   "emojiParsingEnabled": v3["emoji_parsing_enabled"],
                   "ranges": v3["ranges"]},
        "gtld": _unicode_mode(valid_gtld.pattern), "cctld": _unicode_mode(valid_cctld.pattern),
        "extractUrl": _regex(extract_url),
        "invalidUrlWithoutProtocolPrecedingChars":
            _regex(invalid_url_without_protocol_preceding_chars),
        "validAsciiDomain": _regex(valid_ascii_domain),
        "validTcoUrl": _regex(valid_tco_url),
        "invalidChars": _regex(invalid_chars),
        # Sequences of two or more code points, and the single code points, that count
        # as one emoji.
        "emojiSequences": "|".join(multi),
        "emojiSingles": [list(r) for r in single_codepoint_emoji_ranges],
    }
    body = json.dumps(data, ensure_ascii=False, indent=0, separators=(",", ":"))
    return ("// Made by `python -m tests.x_text_js` from twitter-text-parser (config v3, its\n"
            "// URL rules and its emoji list): X's counting rules for post_count.js. Do not\n"
            "// edit by hand; tests/social/test_social_counter.py checks that it is up to date.\n"
            f"window.OSTOGETHER_X = {body};\n")


if __name__ == "__main__":
    TARGET.write_text(source(), encoding="utf-8")
    print(f"wrote {TARGET} ({TARGET.stat().st_size} bytes)")
