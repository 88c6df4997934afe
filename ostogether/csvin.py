"""The CSV files people bring to the imports (readers, member contacts): their text,
named in every message, and their separator. ``csvout`` is the other direction. Pure."""

from __future__ import annotations

import csv

from ostogether.errors import ValidationError


def text_of(name: str, data: bytes, *, empty_hint: str, not_text_hint: str,
            windows: bool = False) -> str:
    """The file as text: UTF-8 (with or without a BOM), or with ``windows`` also Excel's
    Windows code page; ValidationError naming the file when it is not text or empty."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if not windows:
            raise ValidationError(f"{name} is not UTF-8 text (byte {exc.start} cannot be "
                                  f"read). {not_text_hint}", {"file": "encoding"}) from None
        try:
            text = data.decode("cp1252")  # Excel's "CSV" on Windows
        except UnicodeDecodeError:
            raise ValidationError(f"{name} is not text. {not_text_hint}",
                                  {"file": "encoding"}) from None
    if not text.strip():
        raise ValidationError(f"{name} is empty: {empty_hint}", {"file": "empty"})
    return text


def delimiter(text: str) -> str:
    """Comma, semicolon (spreadsheets in much of Europe) or tab, from the header line."""
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return ","
