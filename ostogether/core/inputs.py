"""The rules every door applies to what people type: one-line text, links and addresses.

A one-line field (an acronym, a name, a title, a subject) must not carry line breaks or
other control characters: a CR or LF cuts a mail subject short or starts a new header
line, and invisible format characters (zero-width spaces, right-to-left overrides) make
a name read differently from what it is. Such input is refused with a field message,
never silently stored. A link must be an absolute http(s) address on a named host; an
email address must be one that email-validator accepts (no DNS lookups). Every service
uses these same rules, so a link or an address accepted at one door is accepted at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from ostogether.core.words import _l

# Refused in text whatever their character: Cc controls (C0 and C1), Co private use, Cs
# surrogates, Zl/Zp line and paragraph separators (U+2028, U+2029).
_REFUSED = {"Cc", "Co", "Cs", "Zl", "Zp"}
# Format characters (Cf) are refused only where they are dangerous: those that reorder
# what follows them (bidi embeddings, overrides and isolates, and the deprecated shaping
# controls), and the invisible ones that split or join words unseen (zero-width space,
# word joiner and the invisible operators, a BOM inside text, interlinear annotations).
# The others are writing: U+200D ZERO WIDTH JOINER holds 👩‍🔬 and family emoji together,
# U+200C ZERO WIDTH NON-JOINER is part of Persian and Indic spelling, the marks U+200E,
# U+200F and U+061C only set the direction of neighbouring punctuation (they open no
# embedding, so they cannot flip a run of text), and the soft hyphen shows only at a line
# break. Tag characters are kept only inside an emoji flag (🏴 + tags + CANCEL TAG);
# anywhere else they are invisible text.
DANGEROUS_FORMAT = frozenset(
    [*range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
     *range(0x2066, 0x206A),  # LRI RLI FSI PDI
     *range(0x206A, 0x2070),  # deprecated: inhibit/activate swapping, shaping, digits
     0x200B,  # zero-width space
     *range(0x2060, 0x2065),  # word joiner, invisible function application/times/…
     0xFEFF,  # BOM / zero-width no-break space, inside text
     *range(0xFFF9, 0xFFFC),  # interlinear annotation anchor, separator, terminator
     0xE0001])  # language tag (deprecated)
_TAGS = range(0xE0000, 0xE0080)
# An emoji tag sequence as Unicode's RGI flags write it: 🏴, a region and subdivision in
# tag letters and digits (gbsct, gbwls…), CANCEL TAG.
FLAG_SEQUENCE = re.compile("\U0001F3F4[\U000E0061-\U000E007A]{2}[\U000E0030-\U000E0039"
                   "\U000E0061-\U000E007A]{1,4}\U000E007F")
# In a link, every format character and spaces of every kind are refused too.
_INVISIBLE = _REFUSED | {"Cf", "Zs"}
URL_MAX = 2000


def is_hidden(ch: str) -> bool:
    """Whether a character hides or reorders text, or controls a terminal: refused in what
    people type, and shown as an escape where the CLI prints data. Tag characters count
    here; ``hidden_character`` lets them pass inside a flag."""
    return (unicodedata.category(ch) in _REFUSED or ord(ch) in DANGEROUS_FORMAT
            or ord(ch) in _TAGS)


def hidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` that is refused in typed text, or None. With
    ``multiline``, line feeds and tabs are text (a summary); CR, U+2028 and U+2029 never
    are."""
    if any(ord(ch) in _TAGS for ch in text):
        text = FLAG_SEQUENCE.sub("", text)
    for ch in text:
        if multiline and ch in "\n\t":
            continue
        if is_hidden(ch):
            return ch
    return None


def one_line_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable as one line of plain text, or None."""
    if "\r" in value or "\n" in value or "\u2028" in value or "\u2029" in value:
        return _l("must be one line: remove the line break")
    bad = hidden_character(value)
    if bad is not None:
        return _hidden(bad)
    return None


def _hidden(ch: str) -> str:
    return _l("contains an invisible or control character (U+%(code)s); type it again "
              "rather than pasting it", code=format(ord(ch), "04X"))


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable as text of several lines (a summary), or None."""
    bad = hidden_character(value, multiline=True)
    if bad is not None:
        return _hidden(bad)
    return None


# ------------------------------------------------------------------ shown, not obeyed

# Where data is printed (the CLI, log lines) these are shown as escapes: C0 and C1
# controls and DEL (Cc), surrogates that cannot be written (Cs), line and paragraph
# separators (Zl, Zp), the format characters that reorder or hide text, and tag
# characters outside a flag. What people may type (the joiners, the marks) is shown as
# it is.
_SHOWN_AS_ESCAPE = {"Cc", "Cs", "Zl", "Zp"}


def _escaped(ch: str) -> bool:
    code = ord(ch)
    return (unicodedata.category(ch) in _SHOWN_AS_ESCAPE or code in DANGEROUS_FORMAT
            or code in _TAGS)


def _escape_hidden(text: str, escape: Callable[[str], str], keep: str) -> str:
    if text.isprintable():  # the usual case: nothing to escape
        return text
    flags = {m.start(): m.end() for m in FLAG_SEQUENCE.finditer(text)}
    out: list[str] = []
    i = 0
    while i < len(text):
        if i in flags:  # a flag's tag characters are the flag: kept
            out.append(text[i:flags[i]])
            i = flags[i]
            continue
        ch = text[i]
        out.append(escape(ch) if ch not in keep and _escaped(ch) else ch)
        i += 1
    return "".join(out)


def _python_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else (
        f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")


def visible(text: str, *, lines: bool = True) -> str:
    """``text`` as a terminal or a log should show data: every control, hiding or
    reordering character as its Python escape (ESC as ``\\x1b``, RLO as ``\\u202e``);
    with ``lines``, line feeds stay line feeds (a message made of lines)."""
    return _escape_hidden(text, _python_escape, "\n" if lines else "")


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # as JSON writes a character outside the BMP: two surrogates
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_visible(text: str) -> str:
    """JSON text with what JSON leaves raw but a terminal would obey (C1 controls, bidi
    overrides, line separators…) as ``\\u`` escapes: the same data to a JSON reader.
    Only the line feeds that JSON's indentation writes stay (inside strings JSON has
    escaped them already)."""
    return _escape_hidden(text, _json_escape, "\n")


# Identifiers (ids, numbers in addresses, LinkedIn organisation ids, grant numbers, page
# numbers) are ASCII digits. Python's \d, str.isdigit() and int() also take other
# scripts' digits ("٤٢٤٢", "４２", even "²"), so an id could be spelt two ways, or reach
# a network's API as urn:li:organization:٤٢٤٢. Use [0-9] (or re.ASCII) and this.
_DIGITS = re.compile(r"[0-9]{1,18}")


def ascii_int(value: str) -> int | None:
    """``value`` as a whole number when it is 1 to 18 ASCII digits and nothing else (no
    sign, space or underscore), else None."""
    return int(value) if _DIGITS.fullmatch(value) else None


def url_problem(url: str, *, allow_mailto: bool = False) -> str | None:
    """Why ``url`` may not be stored as a link, or None. Absolute http(s) only."""
    if len(url) > URL_MAX:
        return _l("the address has %(length)d characters; the limit is %(limit)d",
                  length=len(url), limit=URL_MAX)
    if any(unicodedata.category(ch) in _INVISIBLE or ch.isspace() for ch in url):
        return _l("the address contains spaces or invisible characters (such as zero-width "
                  "spaces); type it again or paste it from the browser's address bar")
    try:
        parts = urlsplit(url)
    except ValueError:
        return _l("this is not a valid address; copy it from the browser's address bar")
    scheme = parts.scheme.lower()
    if allow_mailto and scheme == "mailto":
        return None if "@" in parts.path else _l("the mailto: address has no @")
    if scheme not in ("http", "https"):
        if scheme in ("javascript", "data", "vbscript", "file"):
            return _l("%(scheme)s: addresses are not allowed; give a https:// address",
                      scheme=scheme)
        return _l("the address must start with https:// (or http://): give a full address "
                  "such as https://example.org/news")
    host = parts.hostname or ""
    if "." not in host or host.startswith(".") or host.endswith("."):
        return _l("the address has no host name; give a full address such as "
                  "https://example.org/")
    if parts.username or parts.password:
        return _l("addresses with a user name or password in them are not allowed")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return _l("the port in the address is not a number from 1 to 65535")
    return None


# email-validator explains in English, in many ways: its reasons become a few of our own
# sentences, by what they are about (checked in this order); any other is the last one.
_EMAIL_REASONS = (
    (("must have an @-sign",),
     _l("An email address must have an @-sign.")),
    (("something before the @-sign", "something after the @-sign"),
     _l("An email address needs a name before the @-sign and a domain after it, such as "
        "name@example.org.")),
    (("display name", "angle bracket"),
     _l("Give the address alone, without a name or angle brackets (< >).")),
    (("too long",),
     _l("The email address is too long.")),
    (("after the @-sign", "top-level domain"),
     _l("The part after the @-sign is not valid: it must be a domain name such as "
        "example.org.")),
    (("period",),
     _l("An email address cannot start or end with a period, or have two periods in a "
        "row.")),
    (("before the @-sign",),
     _l("The part before the @-sign has characters an email address cannot have.")),
)
_EMAIL_GENERIC = _l("This is not a valid email address: check it for typing mistakes, "
                    "as in name@example.org.")


def email_reason(exc: EmailNotValidError) -> str:
    """email-validator's reason as one of our sentences, in the reader's language."""
    said = str(exc)
    for clues, sentence in _EMAIL_REASONS:
        if any(clue in said for clue in clues):
            return sentence
    return _EMAIL_GENERIC


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a usable email address, or None. No DNS lookups."""
    try:
        validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        return email_reason(exc)
    return None


def valid_email(address: str) -> str:
    """The address as it is stored (``normalise_email``'s form), or ValueError saying why
    it is not usable: one validation where ``email_problem`` and ``normalise_email``
    would make two."""
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(email_reason(exc)) from None


def normalise_email(address: str) -> str:
    """The address as it is stored and looked up: email-validator's normal form, in lower
    case. An address it refuses is only trimmed and lower-cased, so that looking up a
    mistyped address finds nothing rather than failing; check ``email_problem`` first
    wherever an address is stored."""
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return address.strip().lower()
