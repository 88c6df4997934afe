"""Counting and fitting the text of a post to each network's rules. Pure: no I/O.

``measure`` is the one way to count. Each network counts differently:

- **x**: twitter-text v3 weighted length (the ``twitter-text-parser`` library, which
  follows the official conformance data): NFC first, every URL 23, CJK and emoji 2, an
  emoji sequence one emoji. At most 280.
- **mastodon**: grapheme clusters, with every http(s) URL counting 23 and a remote
  mention ``@user@host`` counting as ``@user``, as Mastodon's own validator does. The
  limit is the instance's (500 by default).
- **bluesky**: grapheme clusters of the text as it is posted, where each link is shown
  shortened (the facet keeps the whole URL, as Bluesky's own app does). At most 300
  graphemes and 3000 UTF-8 bytes.
- **linkedin**: UTF-16 code units of the text a reader sees (before escaping), ≤ 3000.
- **facebook**: UTF-16 code units, ≤ 63,206.

``fit`` shortens text that is too long at a word boundary with an ellipsis and never
cuts a URL, a hashtag or a mention; it keeps every link.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex
from twitter_text import parse_tweet
from twitter_text.extract_urls import extract_urls_with_indices

from ostogether.core.errors import ValidationError
from ostogether.core.settings import Settings
from ostogether.core.states import NETWORK_NAMES as NAMES
from ostogether.core.states import NETWORKS
from ostogether.core.words import _l

LIMITS = {"x": 280, "facebook": 63206, "linkedin": 3000, "mastodon": 500, "bluesky": 300}
UNITS = {"x": "weighted characters", "facebook": "characters", "linkedin": "characters",
         "mastodon": "characters", "bluesky": "graphemes"}
URL_WEIGHT = 23
BLUESKY_MAX_BYTES = 3000
BLUESKY_LINK_SHOWN = 30
ELLIPSIS = "…"

# An http(s) URL up to whitespace; trailing punctuation that ends a sentence is not part
# of it, and a closing bracket only when the URL did not open one.
_URL = regex.compile(r"https?://[^\s<>\"'`]+", regex.IGNORECASE)
_TRAILING = ".,;:!?…'\"’”"
_MENTION_REMOTE = regex.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w", regex.UNICODE)
_HASHTAG = regex.compile(r"(?<![\w#&])[#＃](?!\d+\b)(\w{1,64})(?!\w)", regex.UNICODE)
_LINKEDIN_RESERVED = set("\\|{}@[]()<>#*_~")


@dataclass(frozen=True)
class Measure:
    """What ``measure`` found: the counted length, the limit, and whether it fits."""

    length: int
    limit: int
    fits: bool
    network: str

    @property
    def unit(self) -> str:
        return UNITS[self.network]

    def as_dict(self) -> dict[str, Any]:
        return {"length": self.length, "limit": self.limit, "fits": self.fits}


def limit_for(settings: Settings, network: str) -> int:
    """The network's limit: Mastodon's is the instance's setting, the others are fixed."""
    return settings.mastodon_max_chars if network == "mastodon" else LIMITS[network]


def urls(text: str) -> list[tuple[int, int]]:
    """Start and end (code point offsets) of each http(s) URL in ``text``."""
    found = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _TRAILING:
            end -= 1
        candidate = text[m.start():end]
        while candidate.endswith(")") and candidate.count(")") > candidate.count("("):
            candidate, end = candidate[:-1], end - 1
        if len(candidate) > len("https://"):
            found.append((m.start(), end))
    return found


def links(text: str) -> list[str]:
    return [text[a:b] for a, b in urls(text)]


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_network(network: str) -> None:
    if network not in NETWORKS:
        raise ValidationError(_l("Unknown network '%(network)s'; use one of %(networks)s.",
                                 network=network, networks=", ".join(NETWORKS)),
                              {"network": _l("unknown network")})


def measure(text: str, network: str, limit: int | None = None) -> Measure:
    """Count ``text`` the way ``network`` does. ``limit`` overrides the network's own
    (Mastodon instances set theirs)."""
    _check_network(network)
    cap = limit or LIMITS[network]
    if network == "x":
        parsed = parse_tweet(text)
        length = parsed.weightedLength
        fits = bool(parsed.valid) and length <= cap
        return Measure(length, cap, fits, network)
    if network == "mastodon":
        counted = _MENTION_REMOTE.sub(r"\1", _replace_urls(text, "x" * URL_WEIGHT))
        length = graphemes(counted)
    elif network == "bluesky":
        shown, _ = bluesky_richtext(text)
        length = graphemes(shown)
        fits = 0 < length <= cap and len(shown.encode()) <= BLUESKY_MAX_BYTES
        return Measure(length, cap, fits, network)
    else:
        length = _utf16(text)
    return Measure(length, cap, 0 < length <= cap, network)


def _replace_urls(text: str, by: str) -> str:
    out, last = [], 0
    for a, b in urls(text):
        out += [text[last:a], by]
        last = b
    return "".join(out) + text[last:]


# ------------------------------------------------------------------------------ fitting

_TOO_MANY_LINKS = {  # one sentence per unit, so that each language words it whole
    "weighted characters": lambda name, limit: _l(
        "This text cannot be shortened to fit %(network)s: its links alone are longer than "
        "%(limit)s weighted characters. Use fewer links.", network=name, limit=limit),
    "characters": lambda name, limit: _l(
        "This text cannot be shortened to fit %(network)s: its links alone are longer than "
        "%(limit)s characters. Use fewer links.", network=name, limit=limit),
    "graphemes": lambda name, limit: _l(
        "This text cannot be shortened to fit %(network)s: its links alone are longer than "
        "%(limit)s graphemes. Use fewer links.", network=name, limit=limit),
}

def _protected(word: str) -> bool:
    if _URL.search(word):
        return True
    bare = word.lstrip("([{\"'“‘¿¡")
    return len(bare) > 1 and bare[0] in "#@＃"


def _trim_end(head: str) -> str:
    """``head`` without the dangling punctuation before an ellipsis ("word -", "word,"),
    but never a character of a link, hashtag or mention ("https://example.org/-")."""
    while True:
        head = head.rstrip()
        m = regex.fullmatch(r"(?s)(.*\s)?(\S+)", head)
        if m is None or _protected(m.group(2)):
            return head
        before, trimmed = m.group(1) or "", m.group(2).rstrip(",;:-–—(")
        if trimmed:
            return before + trimmed
        head = before


def fit(text: str, network: str, limit: int | None = None) -> str:
    """``text`` if it fits; otherwise shortened at a word boundary, with an ellipsis.

    URLs, hashtags and mentions are never cut: words are dropped from the end of the
    prose, and the URLs, hashtags and mentions after the cut are kept in order. When even
    those do not fit, hashtags and then mentions are dropped, last first. Text whose
    links alone are too long raises ``ValidationError``.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if measure(text, network, limit).fits:
        return text
    parts = regex.split(r"(\s+)", text)
    words, seps = parts[0::2], [""] + parts[1::2]
    n = len(words)

    def fits(candidate: str) -> bool:
        return measure(candidate, network, limit).fits

    def tail(k: int) -> list[tuple[str, str]]:
        return [(seps[i] if "\n" in seps[i] else " ", words[i])
                for i in range(k, n) if _protected(words[i])]

    def build(head: str, rest: list[tuple[str, str]]) -> str:
        head = _trim_end(head)
        last = head.split()[-1] if head.split() else ""
        # Never glue the ellipsis to a link, hashtag or mention: that would change it.
        out = (head + (" " if _protected(last) else "") + ELLIPSIS) if head else ""
        for sep, word in rest:
            out = out + sep + word if out else word
        return out.strip()

    def head_of(k: int) -> str:
        return "".join(seps[i] + words[i] if i else words[i] for i in range(k))

    # The largest number of leading words that fits; length grows with it, so search.
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(build(head_of(mid), tail(mid))):
            lo = mid
        else:
            hi = mid - 1
    k = lo
    while k > 0 and not fits(build(head_of(k), tail(k))):
        k -= 1
    rest = tail(k)
    if k == 0 and not _protected(words[0]):
        # Not even the first word fits whole: cut it between graphemes.
        clusters = regex.findall(r"\X", words[0])
        lo, hi = 0, len(clusters) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if fits(build("".join(clusters[:mid]), rest)):
                lo = mid
            else:
                hi = mid - 1
        candidate = build("".join(clusters[:lo]), rest)
        if fits(candidate):
            return candidate
    candidate = build(head_of(k), rest)
    # Drop hashtags, then mentions, last first, while still too long.
    for mark in "#@":
        while not fits(candidate) and any(w.lstrip("([{\"'“‘")[:1] == mark for _, w in rest):
            last = max(i for i, (_, w) in enumerate(rest) if w.lstrip("([{\"'“‘")[:1] == mark)
            rest = rest[:last] + rest[last + 1:]
            candidate = build(head_of(k), rest)
    if not fits(candidate):
        m = measure(text, network, limit)
        raise ValidationError(_TOO_MANY_LINKS[m.unit](NAMES[network], m.limit),
                              {"text": _l("too many links")})
    return candidate


# --------------------------------------------------------------------------- links, UTM

def with_utm(url: str, network: str, campaign: str) -> str:
    """``url`` with utm_source=<network>, utm_medium=social and utm_campaign added,
    unless the link already carries UTM parameters or ``campaign`` is empty."""
    if not campaign or not url:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.startswith("utm_") for k, _ in query):
        return url
    query += [("utm_source", network), ("utm_medium", "social"), ("utm_campaign", campaign)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# ----------------------------------------------------------------- per-network encodings

def mentions_for(network: str, acronym: str, handles: dict[str, str]
                 ) -> tuple[tuple[str, str], ...]:
    """What a post of this project mentions on ``network``: LinkedIn's organisation
    (the acronym becomes a mention of its URN), or Bluesky's handle (``@handle``)."""
    handle = (handles or {}).get(network, "").strip().lstrip("@")
    if not handle:
        return ()
    if network == "linkedin" and acronym:
        return ((acronym, handle if handle.startswith("urn:li:organization:")
                 else f"urn:li:organization:{handle}"),)
    if network == "bluesky":
        return (("@" + handle, handle),)
    return ()


_SENTINEL = "\ue000{}\ue001"


def linkedin_commentary(text: str, mentions: tuple[tuple[str, str], ...] = ()) -> str:
    """The text in LinkedIn's "little" format: reserved characters escaped with a
    backslash (unescaped, LinkedIn silently cuts the post at the first one), hashtags
    written as hashtag templates, URLs left whole so they still link, and the first
    occurrence of each mentioned name as a mention template ``@[Name](urn:li:…)``."""
    templates = []
    for i, (name, urn) in enumerate(mentions):
        at = next((m.start() for m in regex.finditer(regex.escape(name), text)
                   if not any(a <= m.start() < b for a, b in urls(text))), -1)
        if at >= 0:
            text = text[:at] + _SENTINEL.format(i) + text[at + len(name):]
            safe = "".join("\\" + c if c in _LINKEDIN_RESERVED else c for c in name)
            templates.append((_SENTINEL.format(i), f"@[{safe}]({urn})"))
    out: list[str] = []
    last = 0

    def escape(chunk: str) -> str:
        pieces, pos = [], 0
        for m in _HASHTAG.finditer(chunk):
            pieces.append("".join("\\" + c if c in _LINKEDIN_RESERVED else c
                                  for c in chunk[pos:m.start()]))
            pieces.append("{hashtag|\\#|" + "".join(
                "\\" + c if c in _LINKEDIN_RESERVED else c for c in m.group(1)) + "}")
            pos = m.end()
        pieces.append("".join("\\" + c if c in _LINKEDIN_RESERVED else c
                              for c in chunk[pos:]))
        return "".join(pieces)

    for a, b in urls(text):
        out += [escape(text[last:a]), text[a:b]]
        last = b
    out.append(escape(text[last:]))
    joined = "".join(out)
    for sentinel, template in templates:
        joined = joined.replace(sentinel, template)
    return joined


def _shown(url: str) -> str:
    bare = url.split("://", 1)[1]
    return bare if len(bare) <= BLUESKY_LINK_SHOWN else bare[:BLUESKY_LINK_SHOWN - 3] + "..."


def bluesky_richtext(text: str, dids: dict[str, str] | None = None
                     ) -> tuple[str, list[dict[str, Any]]]:
    """The text as posted to Bluesky and its facets.

    Each URL is shown without its scheme and shortened to 30 characters; a link facet
    over those bytes keeps the whole URL. Hashtags become tag facets. Offsets are UTF-8
    byte offsets into the returned text, as the AT Protocol requires.
    """
    shown_parts: list[str] = []
    facets: list[dict[str, Any]] = []
    last = 0
    size = 0
    for a, b in urls(text):
        before = text[last:a]
        shown_parts.append(before)
        size += len(before.encode())
        label = _shown(text[a:b])
        start = size
        size += len(label.encode())
        shown_parts.append(label)
        facets.append({"index": {"byteStart": start, "byteEnd": size},
                       "features": [{"$type": "app.bsky.richtext.facet#link",
                                     "uri": text[a:b]}]})
        last = b
    shown_parts.append(text[last:])
    shown = "".join(shown_parts)
    for m in _HASHTAG.finditer(shown):
        start = len(shown[:m.start()].encode())
        if any(f["index"]["byteStart"] <= start < f["index"]["byteEnd"] for f in facets):
            continue
        facets.append({"index": {"byteStart": start,
                                 "byteEnd": start + len(m.group(0).encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#tag",
                                     "tag": m.group(1)}]})
    for handle, did in (dids or {}).items():
        for m in regex.finditer(regex.escape("@" + handle) + r"(?![\w-]|\.[\w-])", shown):
            start = len(shown[:m.start()].encode())
            if any(f["index"]["byteStart"] <= start < f["index"]["byteEnd"] for f in facets):
                continue
            facets.append({"index": {"byteStart": start,
                                     "byteEnd": start + len(m.group(0).encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#mention",
                                         "did": did}]})
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return shown, facets



def as_sent(text: str, network: str) -> dict[str, Any]:
    """What the network receives where it differs from ``text``: LinkedIn's escaped
    commentary, or Bluesky's posted text and facets."""
    if network == "linkedin":
        return {"commentary": linkedin_commentary(text)}
    if network == "bluesky":
        shown, facets = bluesky_richtext(text)
        return {"text_posted": shown, "facets": facets}
    return {}


# ------------------------------------------------------------------- as its reader sees it

@dataclass(frozen=True)
class Piece:
    """A run of a post as its reader sees it on the network: plain ``text``, or a link
    (``href`` is where it goes), a hashtag or a mention, shown the network's way."""

    kind: str  # text, link, tag, mention
    text: str
    href: str = ""


LINK_SHOWN = 30  # X and Mastodon show a link's start, without its scheme, then "…"
_SCHEME_WWW = regex.compile(r"^https?://(?:www\.)?", regex.IGNORECASE)
# @user, or Mastodon's @user@instance.example (shown as @user)
_AT = regex.compile(r"(?<![\w@/.])@(\w[\w.-]*\w|\w)(?:@((?:[\w-]+\.)+[\w-]+))?")
_X_AT = regex.compile(r"(?<![\w@])@(\w{1,15})(?![\w@])")


def _cut(url: str) -> str:
    bare = _SCHEME_WWW.sub("", url)
    return bare if len(bare) <= LINK_SHOWN else bare[:LINK_SHOWN] + ELLIPSIS


def _pieces(text: str, spans: list[tuple[int, int, Piece]]) -> list[Piece]:
    """``text`` cut into pieces: ``spans`` (kept when they do not overlap an earlier
    one, in the order given) and plain text between them."""
    taken: list[tuple[int, int, Piece]] = []
    for a, b, piece in spans:
        if b > a and not any(a < y and x < b for x, y, _ in taken):
            taken.append((a, b, piece))
    out, last = [], 0
    for a, b, piece in sorted(taken, key=lambda t: t[0]):
        if a > last:
            out.append(Piece("text", text[last:a]))
        out.append(piece)
        last = b
    if last < len(text):
        out.append(Piece("text", text[last:]))
    return out


def _tags(text: str) -> list[tuple[int, int, Piece]]:
    return [(m.start(), m.end(), Piece("tag", m.group(0))) for m in _HASHTAG.finditer(text)]


def as_read(text: str, network: str, mentions: tuple[tuple[str, str], ...] = ()
            ) -> list[Piece]:
    """``text`` as a reader sees it on ``network``, never in the form the API is sent
    (LinkedIn's escapes and templates, Bluesky's facets). ``mentions`` are those the
    publisher makes (``mentions_for``): LinkedIn's organisation names, Bluesky's handles.

    - **x**: every address X finds (also one written without https://) is shortened
      through t.co and shown as its start, without the scheme, then "…"; @names are
      mentions.
    - **mastodon**: links shown the same way; ``@user@instance`` shows as ``@user``.
    - **bluesky**: the text as posted, each link shortened (the app's way); only the
      handles the publisher mentions are mentions.
    - **linkedin**: links whole; the first use of each mentioned name is a mention.
    - **facebook**: links whole.

    Hashtags are marked on every network."""
    _check_network(network)
    if network == "bluesky":
        shown, facets = bluesky_richtext(text, {handle: handle for _, handle in mentions})
        raw = shown.encode()
        spans: list[tuple[int, int, Piece]] = []
        for facet in facets:
            a, b = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            start, end = len(raw[:a].decode()), len(raw[:b].decode())
            feature = facet["features"][0]
            kind = feature["$type"].rpartition("#")[2]  # link, tag or mention
            spans.append((start, end, Piece(kind, shown[start:end], feature.get("uri", ""))))
        return _pieces(shown, spans)
    spans = []
    if network == "x":
        from_x = [(e["indices"][0], e["indices"][1], e["url"])
                  for e in extract_urls_with_indices(text)]
        spans += [(a, b, Piece("link", _cut(url), url if "://" in url else "https://" + url))
                  for a, b, url in from_x]
        spans += [(m.start(), m.end(), Piece("mention", m.group(0)))
                  for m in _X_AT.finditer(text)]
    else:
        cut = _cut if network == "mastodon" else (lambda url: url)
        spans += [(a, b, Piece("link", cut(text[a:b]), text[a:b])) for a, b in urls(text)]
    if network == "mastodon":
        spans += [(m.start(), m.end(), Piece("mention", "@" + m.group(1)))
                  for m in _AT.finditer(text)]
    if network == "linkedin":
        for name, _urn in mentions:
            found = next((m for m in regex.finditer(regex.escape(name), text)
                          if not any(a <= m.start() < b for a, b in urls(text))), None)
            if found is not None:
                spans.append((found.start(), found.end(), Piece("mention", name)))
    return _pieces(text, spans + _tags(text))
