"""Moving readers in: Mailchimp's audience export as it is downloaded, the service's own
CSV, and any other CSV with a column map.

A Mailchimp export is a zip of ``subscribed_…``, ``unsubscribed_…`` and ``cleaned_…``
CSV files (``…_members_export_<id>.csv``, or ``…_email_audience_export_…`` in newer
exports, which add ``nonsubscribed_…``), or one of those files alone. The format is
recognised by the header: ``Email Address`` makes it Mailchimp's, and ``UNSUB_TIME`` or
``CLEAN_TIME`` says which list it is. The non-subscribed file has the subscribed file's
header, so there, and only there, the name decides: a file whose name starts with
``nonsubscribed`` is never read as readers.

- Subscribed readers become confirmed readers. The consent log keeps Mailchimp's
  confirmation time (or opt-in time) and IP, with the source "mailchimp", and the tags,
  country and last change in its detail. A row with neither time is left out: Mailchimp
  has no record of a consent, and none is made up (not from ``LAST_CHANGED`` either).
- Non-subscribed contacts (people Mailchimp knows from a purchase, a form or an
  integration, who never agreed to the newsletter) are left out, counted, with the reason.
- Unsubscribed and cleaned addresses go on the suppression list with their time and
  reason (``UNSUB_REASON``, or "cleaned"); they never become readers, and a later import
  of the same address, in any format, is refused with that reason. A reader who had been
  brought in before and unsubscribed in Mailchimp since is unsubscribed here too. When
  the time is missing, the report warns and says which date was used instead.

Nothing is written without ``apply``; the report says, by file and by line, what each line
would do. Bad input of any kind is a ``ValidationError`` naming the file and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import tomllib
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select

from ostogether.core import csvin
from ostogether.core.errors import ValidationError
from ostogether.core.words import _l, keep, per_field, shown
from ostogether.edges.runtime import Runtime
from ostogether.edges.spool import Entry, Spool
from ostogether.models import ConsentEvent, Subscriber, Suppression
from ostogether.readers import preferences
from ostogether.readers.import_rows import (
    MAILCHIMP,
    NOT_SUBSCRIBED,
    PLAIN,
    Reading,
    _LeftOut,
    _mailchimp_kind,
    _mailchimp_row,
    _own_row,
    _Row,
)
from ostogether.readers.subscribers import (
    COLUMNS,
    Request,
    email_hash,
    log_consent,
    stored_email,
)

REQUIRED = ("email", "consent_date", "consent_source")
IMPORT_MAX_LINES = 500_000
EMAIL_SHOWN = 320  # characters of a bad address kept for the report
DETAIL_KEPT = 500  # characters kept of each value the consent log takes from a line
IMPORT_BATCH = 500  # readers written per transaction
ZIP_MAX_BYTES = 200 * 1024 * 1024  # the CSVs of a zip, unpacked
PENDING = "pending"  # read and checked on its own; not yet compared with the database
OUTCOMES = ("new", "existing", "invalid", "suppressed", "suppress", "left_out")


@dataclass(frozen=True, slots=True)
class ImportLine:
    line: int
    email: str
    outcome: str  # new, existing, invalid, suppressed (refused), suppress (listed),
    # left_out (never a reader: no consent on record)
    reason: str = ""
    file: str = ""
    warning: str = ""  # what was assumed, e.g. which date stands in for a missing one


@dataclass(frozen=True)
class FileSummary:
    name: str
    kind: str  # own, mapped, mailchimp subscribed / unsubscribed / cleaned / nonsubscribed
    lines: int
    ignored_columns: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What an import did or would do, line by line. The lines stay on disk (a
    ``Spool``) and are read a page at a time, so a report of 500,000 lines costs the
    memory of one page; ``close`` deletes them."""

    spool: Spool
    files: list[FileSummary] = field(default_factory=list)
    applied: bool = False
    # Mailchimp's tags and mapped group values → how many new readers carry them, most
    # first; and the --map-tags it was read with (lower-cased label → topic key).
    tags: dict[str, int] = field(default_factory=dict)
    tag_map: dict[str, str] = field(default_factory=dict)

    def tag_topics(self) -> list[tuple[str, str, int]]:
        """(tag, the topic it maps to or "", new readers), most readers first."""
        return [(tag, self.tag_map.get(tag.lower(), ""), n) for tag, n in self.tags.items()]

    @property
    def lines(self) -> Iterator[ImportLine]:
        """Every line, in the order of the files and their lines."""
        return self._lines()

    def of(self, outcome: str) -> list[ImportLine]:
        return list(self._lines((outcome,)))

    def noted(self, kept: bool = False) -> Iterator[ImportLine]:
        """The lines a report shows: all but the plain new ones (a warning shows). Their
        reasons and warnings are text in the reader's language (English outside a
        request), or with ``kept`` as they are stored (``words.keep``)."""
        return self._lines(tuple(o for o in OUTCOMES if o != "new"), with_warning=True,
                           kept=kept)

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(OUTCOMES, 0)
        for (_, outcome), n in self.spool.counts().items():
            out[outcome] = out.get(outcome, 0) + n
        return out

    def counts_by_file(self) -> dict[str, dict[str, int]]:
        out = {f.name: dict.fromkeys(OUTCOMES, 0) for f in self.files}
        for (number, outcome), n in self.spool.counts().items():
            out[self.files[number].name][outcome] += n
        return out

    def warnings(self) -> int:
        return self.spool.warnings()

    def _lines(self, outcomes: tuple[str, ...] = (), with_warning: bool = False,
               kept: bool = False) -> Iterator[ImportLine]:
        def said(text: str) -> str:
            return text if kept else str(shown(text))
        for e in self.spool.entries(outcomes, with_warning):
            yield ImportLine(e.line, e.subject, e.outcome, said(e.reason),
                             self.files[e.file].name, said(e.warning))


# ------------------------------------------------------------------------- reading files

def tag_map_text(value: str) -> str:
    """``--map-tags`` as typed, or the text of the mapping file it names: a TOML file of
    ``"Mailchimp tag" = "topic"`` lines (top level or under ``[tags]``), or a CSV of two
    columns, tag and topic (a header line ``tag,topic`` is skipped)."""
    path = Path(value.strip())
    if not value.strip() or "=" in value or not path.is_file():
        return value
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(_l("%(file)s is not valid TOML (%(why)s).",
                                     file=path.name, why=str(exc)), {"map_tags": "toml"}
                                  ) from None
        table = data.get("tags", data)
        return "\n".join(f"{k}={v}" for k, v in table.items() if isinstance(v, str))
    lines = [r for r in csv.reader(io.StringIO(text)) if len(r) >= 2]
    if lines and [c.strip().lower() for c in lines[0][:2]] == ["tag", "topic"]:
        lines = lines[1:]
    return "\n".join(f"{r[0]}={r[1]}" for r in lines)


def parse_tags(rt: Runtime, text: str, name: str = "--map-tags") -> dict[str, str]:
    """``"STEM teachers=steam,Climate=sdg-13"`` (or, by line, the text of a mapping file)
    → {"stem teachers": "steam", "climate": "sdg-13"}: Mailchimp tags and group values to
    topic keys. A topic that is not one of content/topics.toml is a ValidationError before
    anything is read or written."""
    mapping: dict[str, str] = {}
    topics = preferences.offer_words(rt, "topics")
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        theirs, sep, ours = part.rpartition("=")
        ours = ours.strip()
        if not sep or not theirs.strip() or not ours:
            raise ValidationError(_l('%(option)s: "%(part)s" is not TAG=TOPIC, e.g. '
                                     '"STEM teachers=steam,Climate=sdg-13".', option=name,
                                     part=part[:80]), {"map_tags": part})
        if ours not in topics:
            raise ValidationError(_l('%(option)s: "%(topic)s" (for "%(tag)s") is not a '
                                     'topic; use one of %(topics)s.', option=name,
                                     topic=ours[:40], tag=theirs.strip()[:80],
                                     topics=", ".join(topics)), {"map_tags": part})
        mapping[theirs.strip().lower()] = ours
    return mapping


def parse_map(text: str, name: str = "--map") -> dict[str, str]:
    """``"E-mail=email,Full name=name"`` → {"e-mail": "email", "full name": "name"}.
    ``name`` is what the face calls the map: the CLI's option, the page's field."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        theirs, sep, ours = part.rpartition("=")
        ours = ours.strip().lower()
        if not sep or not theirs.strip():
            raise ValidationError(_l('%(option)s: "%(part)s" is not COLUMN=FIELD, e.g. '
                                     '"E-mail=email,Full name=name".', option=name,
                                     part=part), {"map": part})
        if ours not in COLUMNS:
            raise ValidationError(_l('%(option)s: "%(field)s" is not a field; map to one of '
                                     '%(fields)s.', option=name, field=ours,
                                     fields=", ".join(COLUMNS)), {"map": part})
        mapping[theirs.strip().lower()] = ours
    return mapping


Upload = tuple[str, bytes | Path]  # a file's name, and its bytes or where it is


def _opened(name: str, data: bytes | Path) -> IO[bytes]:
    return data.open("rb") if isinstance(data, Path) else io.BytesIO(data)


def files_of(name: str, data: bytes | Path, stack: ExitStack) -> list[csvin.Source]:
    """The CSV files in an upload: a zip's CSV members (the zip stays open in ``stack``
    while they are read, each unpacked as it is read, never whole), or the file itself."""
    with _opened(name, data) as f:
        zipped = f.read(4) == b"PK\x03\x04" or zipfile.is_zipfile(f)
    if not zipped:
        return [csvin.Source.of(name, data)]
    try:
        zf = stack.enter_context(zipfile.ZipFile(_opened(name, data)))
        members = [i for i in zf.infolist() if not i.is_dir()
                   and i.filename.lower().endswith(".csv")
                   and not i.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError) as exc:
        raise _damaged(name, exc) from None
    if not members:
        raise ValidationError(_l("%(file)s is a zip with no CSV file in it. Choose the "
                                 "export that Mailchimp sent, or one CSV.", file=name),
                              {"file": "zip"})
    if sum(i.file_size for i in members) > ZIP_MAX_BYTES:
        raise ValidationError(_l("%(file)s unpacks to more than %(mb)d MB; split it.",
                                 file=name, mb=ZIP_MAX_BYTES // 2**20), {"file": "too big"})
    return [csvin.Source(i.filename.rsplit("/", 1)[-1], _member(name, zf, i))
            for i in sorted(members, key=lambda i: i.filename)]


def _member(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo
            ) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        try:
            return zf.open(info)
        except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
            raise _damaged(name, exc) from None
    return open_member


def _damaged(name: str, exc: Exception) -> ValidationError:
    return ValidationError(_l("%(file)s is a damaged zip (%(why)s). Download the export "
                              "again.", file=name, why=str(exc)), {"file": "zip"})


def _rows(name: str, records: csvin.Records, columns: list[str]
          ) -> Iterator[tuple[int, dict[str, str], bool]]:
    """Each record as a row by ``columns`` (which the caller may change as it goes, as
    with --map), and whether it has more fields than there are columns."""
    count = 0
    for line, fields in records:
        count += 1
        if count > IMPORT_MAX_LINES:
            raise ValidationError(f"{name} has more than {IMPORT_MAX_LINES} lines; split "
                                  f"it.", {"file": "too long"})
        yield line, dict(zip(columns, fields, strict=False)), len(fields) > len(columns)


def read(uploads: Sequence[Upload], spool: Spool, column_map: dict[str, str] | None = None,
         limits: csvin.Limits | None = None, map_name: str = "--map",
         reading: Reading = PLAIN) -> list[FileSummary]:
    """Every line of every file checked on its own, into ``spool``: the lines that
    failed with their outcome, the rows that passed as "pending". Returns what each file
    was taken to be. Files are read a record at a time, each line within ``limits``.
    ``map_name`` is what the face calls the column map."""
    summaries: list[FileSummary] = []
    column_map = column_map or {}
    limits = limits or csvin.Limits()
    with ExitStack() as stack:
        for upload_name, data in uploads:
            for source in files_of(upload_name, data, stack):
                with csvin.Records(source, limits=limits, empty_hint=_l(
                        "it has no header line and no readers. Export the list again, or "
                        "choose another file."),
                        not_text_hint=_l("Save it as CSV UTF-8 and try again.")) as records:
                    summaries.append(_read_file(source.name, records, column_map, spool,
                                                [f.name for f in summaries], map_name,
                                                reading))
    return summaries


def _read_file(name: str, records: csvin.Records, column_map: dict[str, str], spool: Spool,
               before: list[str], map_name: str = "--map",
               reading: Reading = PLAIN) -> FileSummary:
    """One file's lines into ``spool``; ``before`` names the files read before it."""
    number = len(before)
    header = [h.strip() for h in records.header]
    columns = [h.lower() for h in header]
    kind = _mailchimp_kind(header, name)
    ignored: tuple[str, ...] = ()
    if not kind:
        mapped = [column_map.get(h.lower(), h.lower()) for h in header]
        missing = [c for c in REQUIRED if c not in mapped]
        unused = [h for h, m in zip(header, mapped, strict=True) if m not in COLUMNS]
        if missing:
            said = {"file": name, "columns": ", ".join(COLUMNS),
                    "missing": ", ".join(missing), "unused": ", ".join(unused)}
            raise ValidationError(
                _l("%(file)s: the first line must name the columns %(columns)s (or be a "
                   "Mailchimp export); missing: %(missing)s.", **said) if not unused else
                _l("%(file)s: the first line must name the columns %(columns)s (or be a "
                   "Mailchimp export); missing: %(missing)s; not used: %(unused)s. Name them "
                   'with %(option)s, e.g. %(option)s "%(column)s=email".', option=map_name,
                   column=unused[0], **said) if str(map_name).startswith("--") else
                _l("%(file)s: the first line must name the columns %(columns)s (or be a "
                   "Mailchimp export); missing: %(missing)s; not used: %(unused)s. Name them "
                   'in the column map, e.g. "%(column)s=email".', column=unused[0], **said),
                {"file": "columns"})
        columns = mapped
        ignored = tuple(unused)
        kind = "mapped" if column_map else "own"
    else:
        kind = f"mailchimp {kind}"
    count = 0
    for n, row, extra in _rows(name, records, columns):
        count += 1
        if extra:
            spool.add(number, n, "", "invalid", keep(_l("more fields than columns")))
            continue
        raw = ((row.get("email address") if kind.startswith(MAILCHIMP)
                else row.get("email")) or "").strip()
        if kind == "mailchimp nonsubscribed":  # never read further
            spool.add(number, n, raw[:EMAIL_SHOWN], "left_out", keep(NOT_SUBSCRIBED))
            continue
        try:
            address = stored_email(raw)
        except ValidationError as exc:
            # What was there, as much of it as an address can be: a line may be long.
            spool.add(number, n, raw[:EMAIL_SHOWN], "invalid",
                      keep(exc.fields.get("email", exc.message)))
            continue
        if seen := spool.first_seen(address, number, n):
            first, at = seen
            spool.add(number, n, address, "invalid", keep(
                _l("repeats line %(line)d of %(file)s", line=at, file=before[first])
                if first != number else _l("repeats line %(line)d", line=at)))
            continue
        problems: dict[str, str] = {}
        try:
            parsed = (_mailchimp_row(kind.split()[1], name, n, address, row, problems,
                                     reading) if kind.startswith(MAILCHIMP)
                      else _own_row(name, n, address, row, problems, reading))
        except _LeftOut as why:
            spool.add(number, n, address, "left_out", keep(why.args[0]))
            continue
        if parsed is None:
            spool.add(number, n, address, "invalid", keep(per_field(problems)))
            continue
        spool.add(number, n, address, PENDING, warning=parsed.warning,
                  payload=_kept(parsed))
    return FileSummary(name, kind, count, ignored)


def _kept(row: _Row) -> _Row:
    """The row as it is kept until it is written: what the consent log takes from the
    file (an IP, times, tags…) at most ``DETAIL_KEPT`` characters a value, so that the
    memory of an import does not grow with the length of its lines."""
    def cut(value: Any) -> Any:
        if isinstance(value, str):
            return value[:DETAIL_KEPT]
        if isinstance(value, list):
            return [cut(v) for v in value[:DETAIL_KEPT // 10]]
        return value

    return replace(row, ip=row.ip[:64], source=row.source[:DETAIL_KEPT],
                   detail={k: cut(v) for k, v in row.detail.items()})


# ------------------------------------------------------------------------- the database

def _left_in_mailchimp(reason: str, when: dt.datetime, note: str) -> Any:
    """How an address left Mailchimp (unsubscribed or cleaned), and the reader's note."""
    date = f"{when:%Y-%m-%d}"
    what = (_l("unsubscribed in Mailchimp on %(date)s", date=date) if reason == "unsubscribed"
            else _l("cleaned in Mailchimp on %(date)s", date=date))
    return _l("%(what)s (%(note)s)", what=what, note=note) if note else what


def _refusal(sup: Suppression) -> Any:
    date = f"{sup.at:%Y-%m-%d}" if sup.at else ""
    mailchimp = sup.source == MAILCHIMP
    if sup.reason == "erased":
        why = (_l("erased on %(date)s at the owner's request", date=date) if date
               else _l("erased at the owner's request"))
    elif sup.reason == "bounced":
        why = (_l("bounced on %(date)s too often", date=date) if date
               else _l("bounced too often"))
    elif sup.reason == "unsubscribed":
        why = (_left_in_mailchimp("unsubscribed", sup.at, sup.note)
               if mailchimp and sup.at else
               _l("unsubscribed on %(date)s", date=date) if date else _l("unsubscribed"))
    elif sup.reason == "cleaned":
        why = (_l("cleaned in Mailchimp on %(date)s (not deliverable)", date=date)
               if mailchimp and date else
               _l("cleaned on %(date)s (not deliverable)", date=date) if date
               else _l("cleaned (not deliverable)"))
    else:
        why = sup.reason
    if sup.reason == "unsubscribed" and sup.note and not (mailchimp and sup.at):
        why = _l("%(what)s (%(note)s)", what=why, note=sup.note)
    return _l("on the suppression list: %(why)s; only its owner can sign up again", why=why)


@dataclass
class Checked:
    """What the files would do (``report``), which ``write`` then writes: the lines
    "new" and "suppress" of its spool. Close it (or use ``with``) to delete the spool."""

    report: ImportReport

    @property
    def to_write(self) -> int:
        return self.report.spool.count("new") + self.report.spool.count("suppress")

    def close(self) -> None:
        self.report.spool.close()

    def __enter__(self) -> Checked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def import_readers(rt: Runtime, uploads: Sequence[Upload], *, apply: bool,
                   column_map: dict[str, str] | None = None) -> ImportReport:
    """Check the files and, with ``apply``, write them: new readers as confirmed, and the
    unsubscribed and cleaned addresses on the suppression list. All or nothing.

    Nobody already known is changed, except a reader who unsubscribed in Mailchimp after
    their consent here: they are unsubscribed. The caller closes the report's spool.
    """
    checked = check(rt, uploads, column_map)
    try:
        return write(rt, checked) if apply else checked.report
    except BaseException:
        checked.close()
        raise


def spool_of(rt: Runtime) -> Spool:
    """Where an import's lines wait: a file of its own in the service's var folder."""
    return Spool(rt.settings.var_dir / "imports")


def check(rt: Runtime, uploads: Sequence[Upload], column_map: dict[str, str] | None = None,
          map_name: str = "--map", tag_map: dict[str, str] | None = None) -> Checked:
    """What importing the files would do, line by line; nothing is written. A face shows
    this report before it calls ``write``, so nothing is written that was not shown.
    ``tag_map`` (``parse_tags``) gives Mailchimp's readers topics from their tags and
    groups; the report counts the new readers of each tag."""
    def load() -> preferences.Offered:
        with rt.db.session() as s:
            return preferences.offer(rt, s)

    reading = Reading(load, tag_map or {})
    spool = spool_of(rt)
    try:
        summaries = read(uploads, spool, column_map, csvin.Limits(
            rt.settings.import_max_line_chars, rt.settings.import_max_fields), map_name,
            reading)
        for page in spool.pages(PENDING, 1000):
            _compare(rt, spool, page)
        tags: Counter[str] = Counter()
        for page in spool.pages("new", 1000):
            for e in page:
                tags.update(e.payload.labels)
    except BaseException:
        spool.close()
        raise
    return Checked(ImportReport(spool, summaries, tags=dict(tags.most_common()),
                                tag_map=dict(reading.tag_map)))


def _compare(rt: Runtime, spool: Spool, page: list[Entry]) -> None:
    """A page of rows that passed their checks, compared with the readers and the
    suppression list: each gets its outcome."""
    hashes = [email_hash(e.subject) for e in page]
    known: dict[str, tuple[int | None, str, dt.datetime | None]] = {}
    suppressed: dict[str, Suppression] = {}
    with rt.db.session() as s:
        for sid, h, status, confirmed in s.execute(select(
                Subscriber.id, Subscriber.email_hash, Subscriber.status,
                Subscriber.confirmed_at).where(Subscriber.email_hash.in_(hashes))):
            known[h or ""] = (sid, status, confirmed)
        for sup in s.scalars(select(Suppression).where(Suppression.email_hash.in_(hashes))):
            s.expunge(sup)
            suppressed[sup.email_hash] = sup
    for entry, hashed in zip(page, hashes, strict=True):
        row: _Row = entry.payload

        def say(outcome: str, reason: str = "", target: int | None = None,
                seq: int = entry.seq, key: str = hashed) -> None:
            spool.settle(seq, outcome, reason, key=key, target=target)

        if row.action == "suppress":
            assert row.when is not None
            what = _left_in_mailchimp(row.reason, row.when,
                                      row.note if row.reason == "unsubscribed" else "")
            if hashed in suppressed:
                say("existing", keep(_l("already on the suppression list")))
                continue
            reader_id, status, confirmed = known.get(hashed, (None, "", None))
            if status == "confirmed" and confirmed and confirmed > row.when:
                say("existing", keep(_l("%(what)s, but subscribed here since; kept",
                                        what=what)))
                continue
            say("suppress", keep(_l("%(what)s; the reader here is unsubscribed too", what=what)
                                 if status == "confirmed" else what),
                reader_id if status == "confirmed" else None)
        elif hashed in suppressed:
            say("suppressed", keep(_refusal(suppressed[hashed])))
        elif hashed in known:
            say("existing")
        else:
            say("new")


Progress = Callable[[int, int], None]  # rows written so far, of how many


def write(rt: Runtime, checked: Checked, progress: Progress | None = None) -> ImportReport:
    """Write what ``check`` found, all or nothing; the report as it turned out (a reader
    who signed up meanwhile is "existing"). ``progress`` is told after each batch."""
    _write(rt, checked.report.spool, progress)
    checked.report.applied = True
    return checked.report


def _write(rt: Runtime, spool: Spool, progress: Progress | None = None) -> None:
    # Written in batches, each its own short transaction, so that sign-ups, logins and
    # API posts go on while a big file goes in (SQLite has one writer at a time). If a
    # batch fails, the batches before it are taken out again: all or nothing. What was
    # written is remembered as ids in arrays (8 bytes each), not as objects.
    created, events, suppressions, left = (array("q") for _ in range(4))
    total, done = spool.count("new") + spool.count("suppress"), 0
    try:
        # Settling a line "existing" takes it out of "new" as the pages go on.
        for batch in spool.pages("new", IMPORT_BATCH):
            with rt.db.session() as s:
                taken = set(s.scalars(select(Subscriber.email_hash).where(
                    Subscriber.email_hash.in_([e.key for e in batch]))))
                mine = []
                for entry in batch:
                    row: _Row = entry.payload
                    if entry.key in taken:  # signed up since the file was checked
                        spool.settle(entry.seq, "existing")
                        continue
                    sub = Subscriber(email=row.email, email_hash=entry.key, name=row.name,
                                     language=row.language, status="confirmed",
                                     confirmed_at=row.when, link_nonce=secrets.token_hex(8),
                                     country=row.country,
                                     **{k: sorted(v) for k, v in row.chosen.items()})
                    s.add(sub)
                    s.flush()
                    mine.append(sub.id)
                    assert row.when is not None
                    log_consent(s, rt, sub, entry.key or "", "import",
                                Request(row.log_as, row.ip),
                                consent_date=row.when.isoformat(),
                                consent_source=row.source, file=row.file, line=row.line,
                                **{k: v for k, v in row.detail.items()
                                   if k != "consent_source"},
                                **_chosen_detail(sub, row))
            created.extend(mine)
            done += len(batch)
            if progress:
                progress(done, total)
        for batch in spool.pages("suppress", IMPORT_BATCH):
            with rt.db.session() as s:
                for entry in batch:
                    row = entry.payload
                    sup = Suppression(email_hash=entry.key, reason=row.reason, at=row.when,
                                      source=row.source, note=row.note)
                    s.add(sup)
                    reader = s.get(Subscriber, entry.target) if entry.target else None
                    if reader is not None and reader.status == "confirmed":
                        reader.status, reader.unsubscribed_at = "unsubscribed", row.when
                        left.append(reader.id)
                    event = log_consent(s, rt, reader, entry.key or "", "unsubscribe"
                                        if row.reason == "unsubscribed" else "cleaned",
                                        Request(row.log_as), at=row.when, file=row.file,
                                        line=row.line, reason=row.note, **row.detail)
                    s.flush()
                    suppressions.append(sup.id)
                    events.append(event.id)
            done += len(batch)
            if progress:
                progress(done, total)
    except BaseException:
        _take_back(rt, created, events, suppressions, left)
        raise


def _chosen_detail(sub: Subscriber, row: _Row) -> dict[str, Any]:
    """What the consent log keeps of the choices a line brought (nothing when none)."""
    return {"choices": preferences.state(sub)} if row.chosen or row.country else {}


def _take_back(rt: Runtime, created: array[int], events: array[int],
               suppressions: array[int], left: array[int]) -> None:
    """Undo what an import that failed had already written."""
    def chunks(ids: array[int]) -> Iterator[list[int]]:
        return (ids[i:i + IMPORT_BATCH].tolist() for i in range(0, len(ids), IMPORT_BATCH))

    with rt.db.session() as s:
        for chunk in chunks(events):
            s.execute(delete(ConsentEvent).where(ConsentEvent.id.in_(chunk)))
        for chunk in chunks(suppressions):
            s.execute(delete(Suppression).where(Suppression.id.in_(chunk)))
        for chunk in chunks(left):
            for sub in s.scalars(select(Subscriber).where(Subscriber.id.in_(chunk))):
                sub.status, sub.unsubscribed_at = "confirmed", None
    for chunk in chunks(created):
        with rt.db.session() as s:
            s.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id.in_(chunk)))
            s.execute(delete(Subscriber).where(Subscriber.id.in_(chunk)))
