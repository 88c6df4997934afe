"""The rules every door applies to what people type: one-line text, for now.

A one-line field (an acronym, a name, a title, a subject) must not carry line breaks or
other control characters: a CR or LF cuts a mail subject short or starts a new header
line, and invisible format characters (zero-width spaces, right-to-left overrides) make
a name read differently from what it is. Such input is refused with a field message,
never silently stored.
"""

from __future__ import annotations

import unicodedata

# Cc control, Cf format (zero-width, bidi overrides), Co private use, Cs surrogates,
# Zl/Zp line and paragraph separators.
_REFUSED = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def one_line_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable as one line of plain text, or None."""
    if "\r" in value or "\n" in value or "\u2028" in value or "\u2029" in value:
        return "must be one line: remove the line break"
    bad = next((ch for ch in value if unicodedata.category(ch) in _REFUSED), None)
    if bad is not None:
        return (f"contains an invisible or control character (U+{ord(bad):04X}); type it "
                f"again rather than pasting it")
    return None
