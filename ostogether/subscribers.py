"""Newsletter readers: double opt-in, one-click unsubscribe, preferences, and the GDPR
rights to see and erase one's data. Every change of consent writes a row to the consent
log (timestamp, source, IP, user agent, version of the privacy notice).

Links in mails are signed with the secret key and carry the reader's ``link_nonce``: a
confirmation link expires (``subscribe_confirm_hours``); the unsubscribe and
preferences link does not, but dies when the reader erases their data.

A sign-up never tells the person at the form whether the address is already subscribed:
the page is always the same, and the mail says what applies.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ostogether import clock, csvout, ratelimit, signing
from ostogether.audit import Actor, record, transition
from ostogether.errors import NotFound, ValidationError
from ostogether.inputs import email_problem, normalise_email, one_line_problem
from ostogether.mail.transactional import send_after_commit
from ostogether.models import ConsentEvent, Subscriber, Suppression, lookup
from ostogether.runtime import Runtime, secret_key
from ostogether.states import SUBSCRIBER_STATUSES

CONFIRM_SALT = "subscriber-confirm"
LINK_SALT = "subscriber-link"
LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español",
             "it": "Italiano", "pt": "Português", "nl": "Nederlands", "el": "Ελληνικά"}
NAME_MAX = 200


@dataclass(frozen=True)
class Request:
    """Where a consent change came from, for the log."""

    source: str
    ip: str = ""
    user_agent: str = ""


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _stored_email(raw: str) -> str:
    """The address as it will be stored, or ValidationError."""
    if why := email_problem(raw):
        raise ValidationError(f"That email address is not valid: {why}", {"email": why})
    return normalise_email(raw)


def _profile(name: str, language: str, fields: dict[str, str]) -> str:
    """The name as stored; a problem with the name or the language goes into ``fields``."""
    if why := one_line_problem(name.strip()):
        fields["name"] = why
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        fields["name"] = f"at most {NAME_MAX} characters"
    if language not in LANGUAGES:
        fields["language"] = f"choose one of {', '.join(LANGUAGES)}"
    return name


def _log(s: Session, rt: Runtime, sub: Subscriber | None, hashed: str, action: str,
         req: Request, **detail: Any) -> None:
    s.add(ConsentEvent(subscriber_id=sub.id if sub else None, email_hash=hashed,
                       action=action, source=req.source, ip=req.ip[:64],
                       user_agent=req.user_agent[:400],
                       consent_version=rt.community.privacy_notice().version, detail=detail))


# ------------------------------------------------------------------------- links

def _serializer(rt: Runtime, salt: str) -> Any:
    return signing.serializer(secret_key(rt.settings), salt)


def confirm_url(rt: Runtime, sub: Subscriber) -> str:
    token = _serializer(rt, CONFIRM_SALT).dumps({"s": sub.id, "n": sub.link_nonce})
    return f"{rt.settings.public_url}/subscribe/confirm/{token}"


def link_token(rt: Runtime, sub: Subscriber) -> str:
    return str(_serializer(rt, LINK_SALT).dumps({"s": sub.id, "n": sub.link_nonce}))


def link_maker(rt: Runtime) -> Callable[[int, str], dict[str, str]]:
    """``links(subscriber id, link nonce)`` → the reader's unsubscribe and preferences
    URLs. The signer is built once, so a send of 100k messages does not re-read the key."""
    signer, base = _serializer(rt, LINK_SALT), rt.settings.public_url

    def links(sub_id: int, nonce: str) -> dict[str, str]:
        token = signer.dumps({"s": sub_id, "n": nonce})
        return {"unsubscribe_url": f"{base}/u/{token}", "preferences_url": f"{base}/p/{token}"}

    return links


def personal_links(rt: Runtime, sub: Subscriber) -> dict[str, str]:
    """The values of a reader's placeholders in a newsletter issue."""
    return link_maker(rt)(sub.id, sub.link_nonce)


def _from_token(rt: Runtime, s: Session, token: str, salt: str,
                max_age: int | None = None) -> Subscriber:
    try:
        data = _serializer(rt, salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError("This link has expired. Sign up again to get a new one.",
                              {"token": "expired"}) from None
    except BadSignature:
        raise NotFound("This link is not valid. Use the link from the mail as it is, or "
                       "sign up again.") from None
    sub = s.get(Subscriber, data.get("s")) if isinstance(data, dict) and isinstance(
        data.get("s"), int) else None
    if sub is None or sub.link_nonce != data.get("n") or sub.status == "erased":
        raise NotFound("This link is no longer valid: the subscription it belonged to was "
                       "erased.")
    return sub


def get(s: Session, sub_id: int) -> Subscriber:
    return lookup(s, Subscriber, sub_id, f"There is no subscriber {sub_id}.")


def by_link(rt: Runtime, s: Session, token: str) -> Subscriber:
    return _from_token(rt, s, token, LINK_SALT)


# ------------------------------------------------------------------------- services

def subscribe(rt: Runtime, req: Request, *, email: str, name: str = "", language: str = "en",
              consent: bool = False) -> None:
    """Start a double opt-in. The outcome looks the same whatever the address's state."""
    fields: dict[str, str] = {}
    try:
        email = _stored_email(email)
    except ValidationError as exc:
        fields.update(exc.fields)
    name = _profile(name, language, fields)
    if not consent:
        fields["consent"] = "Please tick the box to agree to receive the newsletter"
    if fields:
        raise ValidationError("You are not subscribed yet: " + "; ".join(
            f"{k}: {v}" for k, v in fields.items()) + ".", fields)
    hashed = email_hash(email)
    st = rt.settings
    with rt.db.session() as s:
        keys = [f"ip:{req.ip}", f"email:{hashed}"]
        ratelimit.check(s, "subscribe", keys, st.subscribe_max_per_hour, 3600,
                        "Too many sign-ups from here or for this address. Try again in "
                        "{minutes} minutes.")
        ratelimit.hit(s, "subscribe", keys)
        sub = s.scalar(select(Subscriber).where(Subscriber.email_hash == hashed))
        if sub is None:
            sub = Subscriber(email=email, email_hash=hashed, status="pending", name=name,
                             language=language, link_nonce=secrets.token_hex(8))
            s.add(sub)
            s.flush()
        _log(s, rt, sub, hashed, "subscribe", req, status=sub.status)
        template = "subscriber_already" if sub.status == "confirmed" else "subscriber_confirm"
        # Anyone can type anything into the form and send it to any address: the mail
        # never repeats what was typed, only the name a confirmed reader chose.
        known_name = sub.name if sub.status == "confirmed" else ""
        url = confirm_url(rt, sub)
        links = personal_links(rt, sub)
    send_after_commit(rt, template, email, confirm_url=url, reader_name=known_name, **links,
                      hours=st.subscribe_confirm_hours)


def pending_for_confirmation(rt: Runtime, token: str) -> Subscriber:
    with rt.db.session() as s:
        return _from_token(rt, s, token, CONFIRM_SALT, rt.settings.subscribe_confirm_hours
                           * 3600)


def confirm(rt: Runtime, req: Request, token: str) -> Subscriber:
    """The second step of the double opt-in; confirming twice is harmless."""
    with rt.db.session() as s:
        sub = _from_token(rt, s, token, CONFIRM_SALT,
                          rt.settings.subscribe_confirm_hours * 3600)
        if sub.status == "confirmed":
            return sub
        was = sub.status
        transition(s, Actor("subscriber"), sub, "subscriber", "confirmed")
        sub.confirmed_at, sub.unsubscribed_at = clock.now(), None
        # A fresh, confirmed sign-up is the owner's own new consent: lift a suppression.
        suppressed = s.scalar(select(Suppression).where(
            Suppression.email_hash == sub.email_hash))
        if suppressed is not None:
            s.delete(suppressed)
        _log(s, rt, sub, sub.email_hash or "", "confirm", req, previous=was)
        email, links = sub.email or "", personal_links(rt, sub)
        name = sub.name
    send_after_commit(rt, "subscriber_welcome", email, reader_name=name, **links)
    return sub


def unsubscribe(rt: Runtime, req: Request, token: str) -> Subscriber:
    """One click, no questions; doing it twice is harmless."""
    with rt.db.session() as s:
        sub = by_link(rt, s, token)
        unsubscribe_reader(s, rt, sub, req)
        return sub


def unsubscribe_reader(s: Session, rt: Runtime, sub: Subscriber, req: Request) -> None:
    """The one way a reader leaves: from the page, the one-click POST, the mailto: of
    List-Unsubscribe, or an editor."""
    if sub.status == "confirmed":
        transition(s, Actor(f"subscriber:{req.source}"), sub, "subscriber", "unsubscribed")
        sub.unsubscribed_at = clock.now()
        _log(s, rt, sub, sub.email_hash or "", "unsubscribe", req)
    elif sub.status == "pending":  # never confirmed: nothing worth keeping
        _erase(s, rt, sub, req)


def update_preferences(rt: Runtime, req: Request, token: str, *, name: str,
                       language: str) -> Subscriber:
    fields: dict[str, str] = {}
    name = _profile(name, language, fields)
    if fields:
        raise ValidationError("Nothing was changed: " + "; ".join(
            f"{k}: {v}" for k, v in fields.items()) + ".", fields)
    with rt.db.session() as s:
        sub = by_link(rt, s, token)
        changed = {k: v for k, v in (("name", name), ("language", language))
                   if getattr(sub, k) != v}
        if changed:
            sub.name, sub.language = name, language
            _log(s, rt, sub, sub.email_hash or "", "preferences", req,
                 changed=sorted(changed))
        return sub


def export(rt: Runtime, sub_id: int) -> dict[str, Any]:
    """Everything kept about one reader (GDPR Art. 15 and 20)."""
    with rt.db.session() as s:
        sub = s.get(Subscriber, sub_id)
        if sub is None:
            raise NotFound(f"There is no subscriber {sub_id}.")
        events = s.scalars(select(ConsentEvent).where(
            ConsentEvent.email_hash == sub.email_hash).order_by(ConsentEvent.at))
        return {
            "email": sub.email, "name": sub.name, "language": sub.language,
            "status": sub.status, "subscribed_at": sub.created_at.isoformat(),
            "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
            "unsubscribed_at": (sub.unsubscribed_at.isoformat()
                                if sub.unsubscribed_at else None),
            "hard_bounces": sub.hard_bounces,
            "consent_log": [{"at": e.at.isoformat(), "action": e.action, "source": e.source,
                             "ip": e.ip, "user_agent": e.user_agent,
                             "privacy_notice_version": e.consent_version}
                            for e in events],
        }


def _erase(s: Session, rt: Runtime, sub: Subscriber, req: Request) -> None:
    hashed = sub.email_hash or ""
    transition(s, Actor(f"subscriber:{req.source}"), sub, "subscriber", "erased")
    sub.email, sub.email_hash, sub.name, sub.language = None, None, "", "en"
    sub.link_nonce = secrets.token_hex(8)
    if s.scalar(select(Suppression).where(Suppression.email_hash == hashed)) is None:
        s.add(Suppression(email_hash=hashed, reason="erased"))
    # The log keeps the hash and what happened, never the address, IP or browser.
    for event in s.scalars(select(ConsentEvent).where(ConsentEvent.email_hash == hashed)):
        event.ip, event.user_agent = "", ""
    _log(s, rt, sub, hashed, "erase", Request(req.source))


def erase(rt: Runtime, req: Request, token: str) -> None:
    """Remove the reader's personal data; keep a hash so it is never re-imported."""
    with rt.db.session() as s:
        _erase(s, rt, by_link(rt, s, token), req)


def erase_by_id(rt: Runtime, actor: Actor, sub_id: int) -> None:
    """An editor's erasure on a reader's request by mail (Art. 17)."""
    with rt.db.session() as s:
        sub = s.get(Subscriber, sub_id)
        if sub is None:
            raise NotFound(f"There is no subscriber {sub_id}.")
        _erase(s, rt, sub, Request("admin"))
        record(s, actor, "subscriber.erased_by_editor", sub)


def erase_by_email(rt: Runtime, actor: Actor, email: str) -> int:
    """``erase_by_id`` for the reader with this address; returns their id."""
    with rt.db.session() as s:
        sub_id = s.scalar(select(Subscriber.id).where(
            Subscriber.email_hash == email_hash(email)))
    if sub_id is None:
        raise NotFound(f"No reader has the address {email}.")
    erase_by_id(rt, actor, sub_id)
    return sub_id


# ------------------------------------------------------------------------- bounces

# Enhanced status codes (RFC 3463) that say the mailbox does not exist: one is enough.
NO_SUCH_USER = ("5.1.1", "5.1.10", "5.1.2")


def hard_bounce(s: Session, rt: Runtime, sub_id: int, status: str, why: str) -> bool:
    """Count one hard bounce against a reader. After ``bounce_hard_limit`` of them, or at
    once when the mailbox does not exist, the reader is ``bounced`` and suppressed.
    Returns True when this bounce suppressed the reader."""
    sub = s.get(Subscriber, sub_id)
    if sub is None or sub.status in ("bounced", "erased"):
        return False
    sub.hard_bounces += 1
    if sub.status != "confirmed":
        return False
    if sub.hard_bounces < rt.settings.bounce_hard_limit and status not in NO_SUCH_USER:
        return False
    transition(s, Actor("bounces"), sub, "subscriber", "bounced", status=status,
               reason=why[:200], hard_bounces=sub.hard_bounces)
    hashed = sub.email_hash or ""
    if hashed and s.scalar(select(Suppression).where(Suppression.email_hash == hashed)) is None:
        s.add(Suppression(email_hash=hashed, reason="bounced"))
    return True


# ------------------------------------------------------------------------- import, export

COLUMNS = ("email", "name", "language", "consent_date", "consent_source")
IMPORT_MAX_LINES = 500_000
IMPORT_BATCH = 500  # readers written per transaction


@dataclass(frozen=True)
class ImportLine:
    line: int
    email: str
    outcome: str  # new, existing, invalid, suppressed
    reason: str = ""


@dataclass
class ImportReport:
    lines: list[ImportLine]
    applied: bool = False

    def of(self, outcome: str) -> list[ImportLine]:
        return [x for x in self.lines if x.outcome == outcome]

    @property
    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ("new", "existing", "invalid", "suppressed")}


def _consent_date(raw: str) -> Any:
    raw = raw.strip()
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("must be a date like 2024-03-01 or "
                         "2024-03-01T09:30:00+01:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when > clock.now():
        raise ValueError("is in the future")
    return when


def import_csv(rt: Runtime, data: bytes, *, apply: bool, source_name: str = "") -> ImportReport:
    """Check a CSV of readers who consented elsewhere (the old Mailchimp list) and, with
    ``apply``, add the new ones as confirmed, all in one transaction.

    Nobody already known is changed: an unsubscribed reader stays unsubscribed. A
    suppressed address (erased or bounced) is never imported; its owner can sign up again.
    Every line needs the date and source of the consent, which go to the consent log.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The file is not UTF-8 text (byte {exc.start} cannot be read). "
                              f"Save it as CSV UTF-8 and try again.", {"file": "encoding"}
                              ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "consent_date", "consent_source") if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown:
        raise ValidationError(
            "The first line must name the columns " + ", ".join(COLUMNS) + "; "
            + "; ".join(filter(None, [f"missing: {', '.join(missing)}" if missing else "",
                                      f"unknown: {', '.join(unknown)}" if unknown else ""]))
            + ".", {"file": "columns"})
    reader.fieldnames = header
    lines: list[ImportLine] = []
    rows: list[tuple[int, str, str, str, Any, str]] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            n = reader.line_num
            if len(lines) >= IMPORT_MAX_LINES:
                raise ValidationError(f"The file has more than {IMPORT_MAX_LINES} lines; split "
                                      f"it.", {"file": "too long"})
            if None in row:
                lines.append(ImportLine(n, "", "invalid", "more fields than columns"))
                continue
            raw = (row.get("email") or "").strip()
            try:
                address = _stored_email(raw)
            except ValidationError as exc:
                lines.append(ImportLine(n, raw, "invalid", exc.fields.get("email", str(exc))))
                continue
            if address in seen:
                lines.append(ImportLine(n, address, "invalid", f"repeats line {seen[address]}"))
                continue
            seen[address] = n
            fields: dict[str, str] = {}
            name = _profile(csvout.unquote(row.get("name") or ""),
                            (row.get("language") or "en").strip() or "en", fields)
            try:
                when = _consent_date(row.get("consent_date") or "")
            except ValueError as exc:
                fields["consent_date"] = str(exc)
            source = " ".join(csvout.unquote(row.get("consent_source") or "").split())[:40]
            if not source:
                fields["consent_source"] = "say where the consent was given, e.g. mailchimp"
            if fields:
                lines.append(ImportLine(n, address, "invalid", "; ".join(
                    f"{k}: {v}" for k, v in fields.items())))
                continue
            lines.append(ImportLine(n, address, "new"))
            rows.append((n, address, name, (row.get("language") or "en").strip() or "en",
                         when, source))
    except csv.Error as exc:
        raise ValidationError(f"Line {reader.line_num} is not valid CSV: {exc}. Nothing was "
                              f"imported.", {"file": "csv"}) from None
    with rt.db.session() as s:
        hashes = {email_hash(a): a for _, a, *_ in rows}
        known: set[str] = set()
        suppressed: set[str] = set()
        keys = list(hashes)
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            known.update(h for h in s.scalars(select(Subscriber.email_hash).where(
                Subscriber.email_hash.in_(chunk))) if h)
            suppressed.update(s.scalars(select(Suppression.email_hash).where(
                Suppression.email_hash.in_(chunk))))
        by_line = {x.line: i for i, x in enumerate(lines)}
        fresh = []
        for n, address, name, language, when, source in rows:
            hashed = email_hash(address)
            if hashed in suppressed:
                lines[by_line[n]] = ImportLine(n, address, "suppressed",
                                               "erased or bounced before; the owner must "
                                               "sign up again")
            elif hashed in known:
                lines[by_line[n]] = ImportLine(n, address, "existing")
            else:
                fresh.append((address, hashed, name, language, when, source, n))
        report = ImportReport(lines)
    if not apply:
        return report
    # Written in batches, each its own short transaction, so that sign-ups, logins and
    # API posts go on while a big file goes in (SQLite has one writer at a time). If a
    # batch fails, the batches before it are taken out again: all or nothing.
    req = Request("import")
    created: list[int] = []
    try:
        for i in range(0, len(fresh), IMPORT_BATCH):
            batch = fresh[i:i + IMPORT_BATCH]
            with rt.db.session() as s:
                taken = set(s.scalars(select(Subscriber.email_hash).where(
                    Subscriber.email_hash.in_([b[1] for b in batch]))))
                mine = []
                for address, hashed, name, language, when, source, n in batch:
                    if hashed in taken:  # signed up since the file was checked
                        lines[by_line[n]] = ImportLine(n, address, "existing")
                        continue
                    sub = Subscriber(email=address, email_hash=hashed, name=name,
                                     language=language, status="confirmed", confirmed_at=when,
                                     link_nonce=secrets.token_hex(8))
                    s.add(sub)
                    s.flush()
                    mine.append(sub.id)
                    _log(s, rt, sub, hashed, "import", req, consent_date=when.isoformat(),
                         consent_source=source, file=source_name, line=n)
            created += mine
    except BaseException:
        _take_back(rt, created)
        raise
    report.applied = True
    return report


def _take_back(rt: Runtime, ids: list[int]) -> None:
    """Remove the readers an import that failed had already written."""
    for i in range(0, len(ids), IMPORT_BATCH):
        chunk = ids[i:i + IMPORT_BATCH]
        with rt.db.session() as s:
            s.execute(delete(ConsentEvent).where(ConsentEvent.subscriber_id.in_(chunk)))
            s.execute(delete(Subscriber).where(Subscriber.id.in_(chunk)))


def export_rows(rt: Runtime, statuses: tuple[str, ...] = ("confirmed",)) -> list[list[str]]:
    """The readers in the import's columns; the consent is the last sign-up, confirmation
    or import in the log."""
    with rt.db.session() as s:
        subs = list(s.scalars(select(Subscriber).where(
            Subscriber.status.in_(statuses), Subscriber.email.is_not(None))
            .order_by(Subscriber.id)))
        consent: dict[str, tuple[str, str]] = {}
        for e in s.scalars(select(ConsentEvent).where(ConsentEvent.action.in_(
                ("confirm", "import"))).order_by(ConsentEvent.at)):
            src = e.detail.get("consent_source", e.source) if e.action == "import" else (
                e.source)
            when = e.detail.get("consent_date", e.at.isoformat()) if e.action == "import" else (
                e.at.isoformat())
            consent[e.email_hash] = (when, src)
        out = [list(COLUMNS)]
        for sub in subs:
            when, src = consent.get(sub.email_hash or "", (
                sub.confirmed_at.isoformat() if sub.confirmed_at else "", ""))
            out.append([sub.email or "", sub.name, sub.language, when, src])
        return out


# ------------------------------------------------------------------------- editors' list



def counts(s: Session) -> dict[str, int]:
    found = dict(s.execute(select(Subscriber.status, func.count()).group_by(
        Subscriber.status)).all())
    return {k: int(found.get(k, 0)) for k in SUBSCRIBER_STATUSES}


def search(s: Session, query: str = "", status: str = "", page: int = 1,
           per_page: int = 50) -> tuple[list[Subscriber], int]:
    """Readers whose address or name contains ``query``, newest first, a page at a time."""
    stmt = select(Subscriber)
    if status in SUBSCRIBER_STATUSES:
        stmt = stmt.where(Subscriber.status == status)
    query = query.strip().lower()[:200]
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Subscriber.email.like(like, escape="\\"),
                              func.lower(Subscriber.name).like(like, escape="\\")))
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    rows = list(s.scalars(stmt.order_by(Subscriber.id.desc()).limit(per_page)
                          .offset((page - 1) * per_page)))
    return rows, int(total)


def consent_log(s: Session, sub: Subscriber) -> list[ConsentEvent]:
    return list(s.scalars(select(ConsentEvent).where(
        ConsentEvent.subscriber_id == sub.id).order_by(ConsentEvent.at, ConsentEvent.id)))
