"""One line of a readers' file read into a row, on its own: the service's own columns, or
a line of one of Mailchimp's exports (subscribed, unsubscribed, cleaned, non-subscribed),
with what the consent log takes from it. ``readers_import`` reads the files, compares the
rows with the database and writes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ostogether.core import clock, csvout
from ostogether.core.choices import split
from ostogether.core.words import _l, keep
from ostogether.readers import preferences
from ostogether.readers.subscribers import CHOICE_COLUMNS, LANGUAGES, profile

MAILCHIMP = "mailchimp"
NONSUBSCRIBED = re.compile(r"non[-_ ]?subscribed", re.I)
NOT_SUBSCRIBED = _l("a non-subscribed contact in Mailchimp: they never agreed to the "
                    "newsletter, so they do not become a reader")
NO_CONSENT = _l("no CONFIRM_TIME or OPTIN_TIME: Mailchimp has no record of a consent, so "
                "they do not become a reader; if they agreed elsewhere, import them with "
                "that date and source in the service's own columns")


@dataclass(frozen=True, slots=True)
class _Row:
    """One line that passed its checks, ready to be compared with the database."""

    file: str
    line: int
    email: str
    action: str  # subscribe, suppress
    name: str = ""
    language: str = "en"
    when: dt.datetime | None = None  # consent, or the unsubscribe / cleaning
    ip: str = ""
    source: str = ""  # where the consent was given
    log_as: str = "import"  # the consent log's source: import, or mailchimp for its export
    reason: str = ""  # for suppress: unsubscribed, cleaned
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    warning: str = ""
    # What the reader chose (topics, kinds, audiences, projects: checked keys) and the
    # country of their organisation; the Mailchimp tags and group values of the line.
    chosen: dict[str, list[str]] = field(default_factory=dict)
    country: str = ""
    labels: tuple[str, ...] = ()


# Mailchimp's own columns: any other column of a subscribed export is a merge field or an
# interest group, whose values (separated by commas) may be mapped to topics.
MAILCHIMP_COLUMNS = frozenset((
    "email address", "first name", "last name", "fname", "lname", "member_rating",
    "optin_time", "optin_ip", "confirm_time", "confirm_ip", "latitude", "longitude",
    "gmtoff", "dstoff", "timezone", "cc", "region", "last_changed", "leid", "euid",
    "notes", "tags", "language", "address", "phone number", "birthday", "unsub_time",
    "unsub_campaign_title", "unsub_campaign_id", "unsub_reason", "unsub_reason_other",
    "clean_time", "clean_campaign_title", "clean_campaign_id"))


@dataclass
class Reading:
    """What reading lines needs besides the lines: the choices a reader may have (to
    check the choice columns; ``load`` reads them from the database the first time a line
    has any, None checks nothing) and ``--map-tags`` (a Mailchimp tag or group value,
    lower-cased → a topic key)."""

    load: Callable[[], preferences.Offered] | None = None
    tag_map: dict[str, str] = field(default_factory=dict)
    _offered: list[preferences.Offered] = field(default_factory=list)

    def offered(self) -> preferences.Offered | None:
        if self.load is not None and not self._offered:
            self._offered.append(self.load())
        return self._offered[0] if self._offered else None


PLAIN = Reading()  # no choices checked, no tags mapped


class _LeftOut(Exception):
    """A Mailchimp row that is not a reader and was never asked to be one."""


def _when(raw: str) -> dt.datetime:
    """A time in Mailchimp's form (``2021-03-15 10:22:33``, UTC) or ISO 8601."""
    raw = raw.strip()
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(_l("must be a date like 2024-03-01 or "
                            "2024-03-01T09:30:00+01:00")) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > clock.now():
        raise ValueError(_l("is in the future"))
    return when


def _language(raw: str) -> str:
    code = raw.strip().lower().replace("-", "_").split("_", 1)[0]
    return code if code in LANGUAGES else "en"


def _tags(raw: str) -> list[str]:
    """Mailchimp writes tags as ``"Teachers","Spain"`` inside one cell."""
    if not raw.strip():
        return []
    return [t.strip() for t in next(csv.reader([raw]), []) if t.strip()]


def _mailchimp_kind(header: Sequence[str], name: str = "") -> str:
    lowered = {h.lower() for h in header}
    if "email address" not in lowered:
        return ""
    if "unsub_time" in lowered:
        return "unsubscribed"
    if "clean_time" in lowered:
        return "cleaned"
    # Same header as the subscribed file: only the name tells them apart.
    if NONSUBSCRIBED.match(name.rsplit("/", 1)[-1]):
        return "nonsubscribed"
    return "subscribed"


def _left_when(what: str, given: str, last_changed: str) -> tuple[dt.datetime, str, Any]:
    """The time an address left Mailchimp, when its own column is empty or not a date:
    LAST_CHANGED, else the import's own time. Never a reason to keep an address that
    left off the suppression list. (time, basis, the warning that says so)"""
    column = what.upper()
    try:
        when = _when(last_changed)
        basis = "last_changed"
    except ValueError:
        when = clock.now()
        basis = "import"
    stamp = f"{when:%Y-%m-%d %H:%M}"
    if basis == "import":
        warning = (_l("%(column)s is empty and so is LAST_CHANGED: dated with this import's "
                      "time, %(time)s UTC", column=column, time=stamp) if not given else
                   _l("%(column)s %(given)s is not a date and so is LAST_CHANGED: dated "
                      "with this import's time, %(time)s UTC", column=column,
                      given=repr(given), time=stamp))
    else:
        warning = (_l("%(column)s is empty: dated from LAST_CHANGED, %(time)s UTC",
                      column=column, time=stamp) if not given else
                   _l("%(column)s %(given)s is not a date: dated from LAST_CHANGED, "
                      "%(time)s UTC", column=column, given=repr(given), time=stamp))
    return when, basis, warning


def _labels(row: dict[str, str], tags: list[str], tag_map: dict[str, str]) -> tuple[str, ...]:
    """The line's tags, and the values of its interest groups that ``tag_map`` names
    (any other column's values are merge fields, never counted)."""
    found = list(tags)
    for column, value in row.items():
        if column in MAILCHIMP_COLUMNS or not value:
            continue
        found += [v for v in (p.strip() for p in value.split(","))
                  if v and v.lower() in tag_map and v not in found]
    return tuple(found)


def _mailchimp_row(kind: str, file: str, n: int, address: str, row: dict[str, str],
                   problems: dict[str, str], reading: Reading = PLAIN) -> _Row | None:
    get = lambda key: csvout.unquote((row.get(key) or "").strip())  # noqa: E731
    detail: dict[str, Any] = {k: v for k, v in (("optin_time", get("optin_time")),
                                ("optin_ip", get("optin_ip")),
                                ("confirm_time", get("confirm_time")),
                                ("confirm_ip", get("confirm_ip")),
                                ("country", get("cc")),
                                ("last_changed", get("last_changed"))) if v}
    if tags := _tags(row.get("tags") or ""):
        detail["tags"] = tags
    if kind == "nonsubscribed":
        raise _LeftOut(NOT_SUBSCRIBED)
    if kind != "subscribed":
        field_name = "unsub_time" if kind == "unsubscribed" else "clean_time"
        warning = ""
        try:
            when = _when(get(field_name))
        except ValueError:
            when, detail["date_basis"], warning = _left_when(field_name, get(field_name),
                                                             get("last_changed"))
        note = (get("unsub_reason_other") or get("unsub_reason")) if kind == "unsubscribed" \
            else "cleaned: the address bounced or was reported as not deliverable"
        if campaign := get("unsub_campaign_title") or get("clean_campaign_title"):
            detail["campaign"] = campaign
        return _Row(file, n, address, "suppress", when=when, source=MAILCHIMP, log_as=MAILCHIMP,
                    reason=kind, note=note[:300], detail=detail, warning=keep(warning))
    name = " ".join(filter(None, (get("first name") or get("fname"),
                                  get("last name") or get("lname"))))
    name = profile(name, "en", problems)
    # The consent is the confirmation of the double opt-in, or the opt-in. A row with
    # neither holds no consent, and LAST_CHANGED is not one (GDPR Art. 7(1): the
    # controller must be able to show it).
    stamp, basis = next(((get(k), k) for k in ("confirm_time", "optin_time") if get(k)),
                        ("", ""))
    if not stamp:
        raise _LeftOut(NO_CONSENT)
    try:
        when = _when(stamp)
    except ValueError as exc:
        problems[basis] = exc.args[0]
        return None
    detail["consent_basis"] = basis
    labels = _labels(row, tags, reading.tag_map)
    topics = list(dict.fromkeys(reading.tag_map[t.lower()] for t in labels
                                if t.lower() in reading.tag_map))
    if topics:
        detail["topics_from_tags"] = topics
    return _Row(file, n, address, "subscribe", name=name,
                language=_language(get("language")), when=when,
                ip=get("confirm_ip") or get("optin_ip"), source=MAILCHIMP, log_as=MAILCHIMP,
                detail=detail, chosen={"topics": topics} if topics else {}, labels=labels)


def _own_row(file: str, n: int, address: str, row: dict[str, str],
             problems: dict[str, str], reading: Reading = PLAIN) -> _Row | None:
    language = (row.get("language") or "en").strip() or "en"
    name = profile(csvout.unquote(row.get("name") or ""), language, problems)
    when = None
    try:
        when = _when(row.get("consent_date") or "")
    except ValueError as exc:
        problems["consent_date"] = exc.args[0]
    source = " ".join(csvout.unquote(row.get("consent_source") or "").split())[:40]
    if not source:
        problems["consent_source"] = _l("say where the consent was given, e.g. mailchimp")
    chosen = {k: split(csvout.unquote(row.get(k) or "")) for k in CHOICE_COLUMNS}
    chosen = {k: v for k, v in chosen.items() if v}
    country = csvout.unquote(row.get("country") or "").strip().upper()
    if chosen and (offered := reading.offered()) is not None:
        problems.update(preferences.problems(offered, chosen))
    if why := preferences.country_problem(country):
        problems["country"] = why
    if problems or when is None:
        return None
    return _Row(file, n, address, "subscribe", name=name, language=language, when=when,
                source=source, detail={"consent_source": source}, chosen=chosen,
                country=country)
