"""News items' validation, pure: what a door hands over (``ItemInput``), every problem
with it at once (``Problems``), and the column values of a valid item (``validate``);
with the keys that tell the same link or the same text again (``dedupe_key``,
``content_hash``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry

from ostogether.core.errors import ValidationError
from ostogether.core.inputs import hidden_character, one_line_problem, text_problem, url_problem
from ostogether.core.sanitize import markdown_to_html
from ostogether.core.states import KINDS
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import lazy_ngettext as _nl
from ostogether.edges.topics import Vocabulary
from ostogether.edges.wording import joined
from ostogether.news import item_topics

TITLE_MAX = 200
SUMMARY_MAX = 5000
ALT_MAX = 300
LOCATION_MAX = 200


# ------------------------------------------------------------------------ pure part

@dataclass(frozen=True)
class ItemInput:
    """What a door hands over, before validation. Datetimes may be text or datetimes."""

    kind: str = "news"
    title: str = ""
    summary: str = ""
    link: str = ""
    image_url: str = ""
    image_alt: str = ""
    language: str = "en"
    sdgs: tuple[int, ...] = ()
    for_newsletter: bool = True
    for_social: bool = True
    event_start: str | dt.datetime | None = None
    event_end: str | dt.datetime | None = None
    event_timezone: str = ""
    event_location: str = ""
    event_online: bool = False
    registration_url: str = ""
    # Keys of the vocabulary (content/topics.toml); None: not given. An item given no
    # topic takes its project's themes; one given no audience is for every audience.
    topics: tuple[str, ...] | None = None
    audiences: tuple[str, ...] | None = None


@dataclass
class Problems:
    """Each field's problem: a sentence (lazy: in the reader's language when shown)."""

    fields: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, message: Any) -> None:
        self.fields.setdefault(name, message)

    def raise_if_any(self) -> None:
        if not self.fields:
            return
        found = dict(self.fields)
        listed = joined("; ", [_l("%(field)s: %(problem)s", field=k, problem=v)
                               for k, v in found.items()])
        raise ValidationError(self.refusal(len(found), listed), found)

    @staticmethod
    def refusal(num: int, listed: Any) -> Any:
        """The sentence that says nothing was saved, and why (``listed``)."""
        return _nl("The item was not saved: %(num)d problem. %(listed)s",
                   "The item was not saved: %(num)d problems. %(listed)s", num, listed=listed)


# A one-line field's problems, one whole sentence for each field (word order and gender
# differ between languages): field -> problem -> msgid.
N_ = str  # marks a msgid for extraction; lazy_gettext words it when used
ONE_LINE = {
    "title": {
        "text": N_("must be text"),
        "break": N_("the title must be one line: remove the line break"),
        "hidden": N_("the title contains an invisible or control character (U+%(code)s); "
                     "type it again rather than pasting it"),
        "required": N_("the title is required"),
        "long": N_("the title has %(num)d characters; the limit is %(limit)d"),
        "nfc": N_("the title contains control or invisible characters; type it again"),
        "tag": N_("the title is plain text; remove the HTML tag %(tag)s"),
    },
    "image_alt": {
        "text": N_("must be text"),
        "break": N_("the image description must be one line: remove the line break"),
        "hidden": N_("the image description contains an invisible or control character "
                     "(U+%(code)s); type it again rather than pasting it"),
        "required": N_("the image description is required"),
        "long": N_("the image description has %(num)d characters; the limit is %(limit)d"),
        "nfc": N_("the image description contains control or invisible characters; type it "
                  "again"),
        "tag": N_("the image description is plain text; remove the HTML tag %(tag)s"),
    },
    "location": {
        "text": N_("must be text"),
        "break": N_("the location must be one line: remove the line break"),
        "hidden": N_("the location contains an invisible or control character (U+%(code)s); "
                     "type it again rather than pasting it"),
        "required": N_("the location is required"),
        "long": N_("the location has %(num)d characters; the limit is %(limit)d"),
        "nfc": N_("the location contains control or invisible characters; type it again"),
        "tag": N_("the location is plain text; remove the HTML tag %(tag)s"),
    },
}
# A link field's "is required", for each field.
LINK_REQUIRED = {"link": N_("the link is required"),
                 "image_url": N_("the image address is required"),
                 "registration_url": N_("the registration link is required")}


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>?")
_MD_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]{1,31}:[^>\s]*)>")
TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid)$")


def dedupe_key(url: str) -> str:
    """The same link, however it was written: host case, fragment, trailing slash,
    http or https and tracking parameters do not make a link different."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING_PARAMS.match(k)))
    path = parts.path.rstrip("/") or ""
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    canonical = urlunsplit(("https", f"{(parts.hostname or '').lower()}{port}", path, query, ""))
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_hash(title: str, summary: str) -> str:
    text = " ".join((title + "\n" + summary).casefold().split())
    return hashlib.sha256(text.encode()).hexdigest()


def _hidden_code(text: str, *, multiline: bool = False) -> str:
    """The code point (``200B``) of the first refused character of ``text``."""
    bad = hidden_character(text, multiline=multiline)
    return f"{ord(bad):04X}" if bad is not None else ""


def _plain(value: Any, name: str, what: str, limit: int, p: Problems, *,
           required: bool = False) -> str:
    """One line of plain text; ``what`` (a key of ONE_LINE) names the field in its
    sentences."""
    said = ONE_LINE[what]
    if not isinstance(value, str):
        p.add(name, _l(said["text"]))
        return ""
    if one_line_problem(value.strip()):
        if code := _hidden_code(value.strip()):
            line_break = any(ch in value.strip() for ch in "\r\n\u2028\u2029")
            p.add(name, _l(said["break"]) if line_break else _l(said["hidden"], code=code))
        else:
            p.add(name, _l(said["break"]))
        return " ".join(value.split())
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if required and not text:
        p.add(name, _l(said["required"]))
    elif len(text) > limit:
        p.add(name, _l(said["long"], num=len(text), limit=limit))
    elif hidden_character(text) is not None:  # what NFC made of it, checked again
        p.add(name, _l(said["nfc"]))
    elif m := _TAG.search(text):
        p.add(name, _l(said["tag"], tag=repr(m.group(0)[:20])))
    return text


def _url(value: Any, name: str, p: Problems, *, required: bool) -> str:
    """A link field (``name``: a key of LINK_REQUIRED)."""
    if not isinstance(value, str):
        p.add(name, _l("must be text"))
        return ""
    url = value.strip()
    if not url:
        if required:
            p.add(name, _l(LINK_REQUIRED[name]))
        return ""
    if why := url_problem(url):
        p.add(name, why)
    return url


def _summary(value: Any, p: Problems) -> str:
    if not isinstance(value, str):
        p.add("summary", _l("must be text"))
        return ""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if not text:
        p.add("summary", _l("a short summary is required"))
    elif len(text) > SUMMARY_MAX:
        p.add("summary", _l("the summary has %(num)d characters; the limit is %(limit)d",
                            num=len(text), limit=SUMMARY_MAX))
    elif text_problem(text) is not None:
        p.add("summary", _l("the summary contains an invisible or control character "
                            "(U+%(code)s); type it again rather than pasting it",
                            code=_hidden_code(text, multiline=True)))
    elif m := _TAG.search(text):
        p.add("summary", _l("HTML such as %(tag)s is not allowed; write Markdown instead: "
                            "**bold**, *italic*, [text](https://example.org)",
                            tag=repr(m.group(0)[:20])))
    else:
        for target in _MD_TARGET.findall(text) + _AUTOLINK.findall(text):
            if why := url_problem(target, allow_mailto=True):
                p.add("summary", _l("the link '%(link)s' cannot be used: %(why)s",
                                    link=target[:60], why=why))
                break
    return text


def _datetime(value: Any, name: str, tz: ZoneInfo | None, p: Problems) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            p.add(name, _l("'%(value)s' is not a date and time; write it like "
                           "2027-03-15T14:30", value=value[:40]))
            return None
    else:
        p.add(name, _l("must be a date and time as text, like 2027-03-15T14:30"))
        return None
    if not 2000 <= when.year <= 2100:
        p.add(name, _l("the year %(year)d is not plausible for an event", year=when.year))
        return None
    if when.tzinfo is None:
        if tz is None:
            return None  # the timezone problem is reported on its own field
        when = when.replace(tzinfo=tz)
    return when.astimezone(dt.UTC)


def _timezone(value: Any, default: str, p: Problems) -> tuple[str, ZoneInfo | None]:
    name = (value if isinstance(value, str) else "").strip() or default
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        p.add("event_timezone", _l("'%(name)s' is not a timezone; use a name such as "
                                   "Europe/Brussels", name=name[:60]))
        return name, None


def _chosen_words(data: ItemInput, vocab: Vocabulary | None, p: Problems) -> dict[str, list[str]]:
    """The topics and audiences given (the groups not given are left out), checked
    against ``vocab`` when there is one."""
    out = {}
    for name in item_topics.GROUPS:
        given, why = item_topics.keys(getattr(data, name), name)
        if why:
            p.add(name, why)
        elif given is not None and vocab is not None and (
                why := item_topics.problem(vocab, name, given)):
            p.add(name, why)
        elif given is not None:
            out[name] = item_topics.ordered(vocab, name, given) if vocab else given
    return out


def validate(data: ItemInput, *, default_timezone: str = "Europe/Brussels",
             vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The column values of a valid item, or ValidationError naming every bad field.
    Topics and audiences are checked against ``vocab`` when one is given."""
    p = Problems()
    kind = data.kind.strip().lower() if isinstance(data.kind, str) else ""
    if kind not in KINDS:
        p.add("kind", _l("unknown kind '%(kind)s'; use one of %(kinds)s",
                         kind=str(data.kind)[:30], kinds=", ".join(KINDS)))
    values: dict[str, Any] = {"kind": kind}
    values["title"] = _plain(data.title, "title", "title", TITLE_MAX, p, required=True)
    values["summary_md"] = _summary(data.summary, p)
    values["link"] = _url(data.link, "link", p, required=True)
    values["image_url"] = _url(data.image_url, "image_url", p, required=False)
    values["image_alt"] = _plain(data.image_alt, "image_alt", "image_alt", ALT_MAX, p)
    if values["image_url"] and not values["image_alt"] and "image_alt" not in p.fields:
        p.add("image_alt", _l("describe the image for people who cannot see it"))
    if values["image_alt"] and not values["image_url"] and "image_url" not in p.fields:
        values["image_alt"] = ""
    lang = data.language.strip().lower() if isinstance(data.language, str) else ""
    if len(lang) != 2 or pycountry.languages.get(alpha_2=lang) is None:
        p.add("language", _l("'%(code)s' is not a two-letter language code such as en, fr "
                             "or de", code=str(data.language)[:20]))
    values["language"] = lang
    sdgs = data.sdgs
    if not isinstance(sdgs, list | tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 17 for n in sdgs):
        p.add("sdgs", _l("give the goals as numbers from 1 to 17"))
        sdgs = ()
    values["sdgs"] = sorted(set(sdgs))
    for flag in ("for_newsletter", "for_social", "event_online"):
        v = getattr(data, flag)
        if not isinstance(v, bool):
            p.add(flag, _l("must be true or false"))
        values[flag] = bool(v) if isinstance(v, bool) else False
    values.update(_chosen_words(data, vocab, p))

    values.update(event_start=None, event_end=None, event_timezone="", event_location="",
                  event_online=False, registration_url="")
    if kind == "event":
        tz_name, tz = _timezone(data.event_timezone, default_timezone, p)
        start = _datetime(data.event_start, "event_start", tz, p)
        end = _datetime(data.event_end, "event_end", tz, p)
        # A start given without a usable timezone is the timezone's problem alone.
        given = data.event_start not in (None, "")
        if start is None and "event_start" not in p.fields and not (given and tz is None):
            p.add("event_start", _l("an event needs a start date and time"))
        if start and end and end < start:
            p.add("event_end", _l("the event ends before it starts"))
        location = _plain(data.event_location, "event_location", "location",
                          LOCATION_MAX, p)
        online = data.event_online is True
        if not location and not online and "event_location" not in p.fields:
            p.add("event_location", _l("give the place, or mark the event as online"))
        registration = _url(data.registration_url, "registration_url", p, required=False)
        values.update(event_start=start, event_end=end, event_timezone=tz_name,
                      event_location=location, event_online=online,
                      registration_url=registration or values["link"])
    p.raise_if_any()
    values["summary_html"] = markdown_to_html(values["summary_md"])
    return values
