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

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ostogether.core import clock, signing
from ostogether.core.choices import Choices, join
from ostogether.core.errors import NotFound, ValidationError
from ostogether.core.inputs import one_line_problem, valid_email
from ostogether.core.states import SUBSCRIBER_STATUSES
from ostogether.core.words import _l, lazy_ngettext, per_field
from ostogether.edges import db, ratelimit
from ostogether.edges.audit import Actor, record, transition
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.mail.transactional import send_after_commit
from ostogether.models import (
    ConsentEvent,
    Project,
    ReaderCredit,
    Subscriber,
    Suppression,
    lookup,
)
from ostogether.readers import preferences

CONFIRM_SALT = "subscriber-confirm"
LINK_SALT = "subscriber-link"
EMBED_SALT = "subscribe-embed"  # the snippet a member project puts on its site
STEP_SALT = "subscribe-step"  # the sign-up step it leads to: when it was shown
STEP_MAX_SECONDS = 3600
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


def stored_email(raw: str) -> str:
    """The address as it will be stored, or ValidationError."""
    try:
        return valid_email(raw)
    except ValueError as exc:
        why = exc.args[0]  # a sentence in the reader's language when it is shown
        raise ValidationError(_("That email address is not valid: %(why)s", why=why),
                              {"email": why}) from None


def profile(name: str, language: str, fields: dict[str, str]) -> str:
    """The name as stored; a problem with the name or the language goes into ``fields``."""
    if why := one_line_problem(name.strip()):
        fields["name"] = why
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        fields["name"] = _("at most %(num)d characters", num=NAME_MAX)
    if language not in LANGUAGES:
        fields["language"] = _("choose one of %(codes)s", codes=", ".join(LANGUAGES))
    return name


def log_consent(s: Session, rt: Runtime, sub: Subscriber | None, hashed: str, action: str,
                req: Request, *, at: dt.datetime | None = None, **detail: Any) -> ConsentEvent:
    """One row of the consent log; ``at`` is now unless the event happened elsewhere
    before (an unsubscribe in Mailchimp)."""
    # The notice in the reader's language, as the pages show it (a translation carries
    # its English version's number); which text was shown is kept with it.
    notice = rt.community.privacy_notice(sub.language if sub else detail.get("language"))
    if notice.language != rt.community.site().language:
        detail = {**detail, "notice_language": notice.language}
    event = ConsentEvent(subscriber_id=sub.id if sub else None, email_hash=hashed,
                         action=action, source=req.source, ip=req.ip[:64],
                         user_agent=req.user_agent[:400], at=at or clock.now(),
                         consent_version=notice.version, detail=detail)
    s.add(event)
    return event


# ------------------------------------------------------------------------- links

def _serializer(rt: Runtime, salt: str) -> Any:
    return signing.serializer(secret_key(rt.settings), salt)


def confirm_url(rt: Runtime, sub: Subscriber, via_project: str = "") -> str:
    """The confirmation link; ``via_project`` (a sign-up through that project's own form)
    is signed into it, so that only this sign-up's confirmation credits the project."""
    data: dict[str, Any] = {"s": sub.id, "n": sub.link_nonce}
    if via_project:
        data["p"] = via_project
    token = _serializer(rt, CONFIRM_SALT).dumps(data)
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
    return _token_data(rt, s, token, salt, max_age)[0]


def _token_data(rt: Runtime, s: Session, token: str, salt: str,
                max_age: int | None = None) -> tuple[Subscriber, dict[str, Any]]:
    """The reader a signed link is for, and what else it says; ``token`` may be any text
    (``signing.Serializer`` turns every unreadable one into BadSignature)."""
    try:
        data = _serializer(rt, salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(_("This link has expired. Sign up again to get a new one."),
                              {"token": "expired"}) from None
    except BadSignature:
        raise NotFound(_("This link is not valid. Use the link from the mail as it is, or "
                         "sign up again.")) from None
    sub = s.get(Subscriber, data.get("s")) if isinstance(data, dict) and isinstance(
        data.get("s"), int) else None
    if sub is None or sub.link_nonce != data.get("n") or sub.status == "erased":
        raise NotFound(_l("This link is no longer valid: the subscription it belonged to "
                          "was erased."))
    return sub, data


def get(s: Session, sub_id: int) -> Subscriber:
    return lookup(s, Subscriber, sub_id, _l("There is no subscriber %(id)d.", id=sub_id))


def by_link(rt: Runtime, s: Session, token: str) -> Subscriber:
    return _from_token(rt, s, token, LINK_SALT)


# ------------------------------------------------------------------------- services

def _signups_limited(minutes: int, **_numbers: int) -> Any:
    return lazy_ngettext(
        "Too many sign-ups from here or for this address. Try again in %(num)d minute.",
        "Too many sign-ups from here or for this address. Try again in %(num)d minutes.",
        minutes)


def _links_limited(minutes: int, **_numbers: int) -> Any:
    return lazy_ngettext(
        "Too many requests from here or for this address. Try again in %(num)d "
        "minute.",
        "Too many requests from here or for this address. Try again in %(num)d "
        "minutes.", minutes)


def _mails_limited(s: Session, rt: Runtime, req: Request, email: str,
                   what: Callable[..., Any]) -> None:
    """Count a request that mails ``email``, against one hourly limit shared by sign-ups
    and link requests: per client (an IPv6 client by its network) and per mailbox (the
    address without its +tag), so that nobody can fill a mailbox through either door."""
    st = rt.settings
    keys = [f"ip:{ratelimit.address_key(req.ip, st.ratelimit_ipv6_prefix)}",
            f"mailbox:{ratelimit.mailbox_key(email)}"]
    ratelimit.check(s, "subscribe", keys, st.subscribe_max_per_hour, 3600, what)
    ratelimit.hit(s, "subscribe", keys)


def subscribe(rt: Runtime, req: Request, *, email: str, name: str = "", language: str = "en",
              consent: bool = False, via_project: str = "",
              chosen: Mapping[str, Iterable[str]] | None = None, country: str = "") -> None:
    """Start a double opt-in. The outcome looks the same whatever the address's state.
    ``via_project`` is the slug of the member project whose site's form (its signed token)
    the sign-up came through: the consent log keeps it, and the confirmation link carries
    it, so that confirming credits the project with a new reader (``confirm``).

    ``chosen`` (topics, kinds, audiences, projects; nothing means everything) and
    ``country`` are checked (``preferences.checked``) and kept with the sign-up's consent
    record. They are stored on a reader who is not confirmed (new, pending, or gone), whose
    confirmation is then their owner's check; a confirmed reader's choices change only on
    their preferences page, never from a form anyone can fill in with their address."""
    fields: dict[str, str] = {}
    try:
        email = stored_email(email)
    except ValidationError as exc:
        fields.update(exc.fields)
    name = profile(name, language, fields)
    if not consent:
        fields["consent"] = _("Please tick the box to agree to receive the newsletter")
    if fields:
        raise ValidationError(_l("You are not subscribed yet: %(problems)s.",
                                 problems=per_field(fields)), fields)
    hashed = email_hash(email)
    st = rt.settings
    with rt.db.session() as s:
        try:
            choices, country = preferences.checked(preferences.offer(rt, s), chosen or {},
                                                   country)
        except ValidationError as exc:
            raise ValidationError(_l("You are not subscribed yet: %(problems)s.",
                                     problems=per_field(exc.fields)), exc.fields) from None
        _mails_limited(s, rt, req, email, _signups_limited)
        sub = s.scalar(select(Subscriber).where(Subscriber.email_hash == hashed))
        if sub is None:
            sub = Subscriber(email=email, email_hash=hashed, status="pending", name=name,
                             language=language, link_nonce=secrets.token_hex(8))
            s.add(sub)
            s.flush()
        detail: dict[str, Any] = {"status": sub.status, "language": sub.language}
        if via_project:
            detail["project"] = via_project
        if sub.status != "confirmed":
            preferences.put(sub, choices, country)
            detail["choices"] = preferences.state(sub)
        log_consent(s, rt, sub, hashed, "subscribe", req, **detail)
        template = "subscriber_already" if sub.status == "confirmed" else "subscriber_confirm"
        # Anyone can type anything into the form and send it to any address: the mail
        # never repeats what was typed, only the name a confirmed reader chose.
        known_name = sub.name if sub.status == "confirmed" else ""
        url = confirm_url(rt, sub, via_project)
        links, language = personal_links(rt, sub), sub.language
    send_after_commit(rt, template, email, confirm_url=url, reader_name=known_name, **links,
                      hours=st.subscribe_confirm_hours, language=language)


def send_link(rt: Runtime, req: Request, email: str) -> None:
    """A reader who lost their mails asks for their personal link by address. A confirmed
    reader gets it by mail; a pending one gets the confirmation again; any other address
    gets nothing. The caller shows the same answer whatever happened, so the form cannot
    tell who is subscribed; the same limit as sign-ups keeps it from mailing anyone
    over and over."""
    try:
        email = stored_email(email)
    except ValidationError as exc:
        raise ValidationError(_("Enter the address you receive the newsletter at."),
                              {"email": exc.fields.get("email", "not a valid address")}
                              ) from None
    hashed = email_hash(email)
    st = rt.settings
    with rt.db.session() as s:
        _mails_limited(s, rt, req, email, _links_limited)
        sub = s.scalar(select(Subscriber).where(Subscriber.email_hash == hashed))
        if sub is None or sub.status not in ("pending", "confirmed"):
            return
        template = "subscriber_link" if sub.status == "confirmed" else "subscriber_confirm"
        name = sub.name if sub.status == "confirmed" else ""
        url, links, language = confirm_url(rt, sub), personal_links(rt, sub), sub.language
    send_after_commit(rt, template, email, confirm_url=url, reader_name=name, **links,
                      hours=st.subscribe_confirm_hours, language=language)


# ------------------------------------------------------------------ member sites' forms
#
# A member project's site carries a plain HTML form (no script, no captcha) that posts
# here with a signed token naming the project, the address, the consent box and a hidden
# honeypot field. When all are there (the box ticked, the honeypot sent back empty, the
# token fresh), the sign-up goes straight through: the confirmation mail is the person's
# real check (double opt-in), and the hourly limits keep anyone from filling a mailbox.
# Otherwise the post lands on the service's own sign-up step, filled in, with the privacy
# notice, the consent box and a signed time. The honeypot filled in anywhere is taken for
# a bot and quietly dropped. A post of the step without the honeypot field at all (a
# browser always sends it, empty) and sooner than ``embed_min_seconds`` after it was
# shown is asked again; the delay alone never turns a person away.
#
# The community's own home page carries the same kind of form, with no token: it names
# no project and credits none, and an incomplete post of it gets the service's own
# sign-up page.

# The hidden field of every sign-up form on another page: people leave it empty.
HONEYPOT = "website"
# What a person agrees to by ticking the box, on every sign-up form of the service.
CONSENT_TEXT = ("I agree to receive the newsletter by mail, as the privacy notice "
                "explains. I can unsubscribe at any time.")


def embed_token(rt: Runtime, slug: str) -> str:
    return str(_serializer(rt, EMBED_SALT).dumps({"p": slug}))


@dataclass(frozen=True)
class Embed:
    """What a member site's form token says: the project it names, and whether the copy
    (made when it was taken from the project's page) is still fresh enough
    (``embed_form_days``) for a sign-up through it to go straight through."""

    slug: str
    fresh: bool


def read_embed(rt: Runtime, token: str) -> Embed:
    """The project an embedded form's token names, or ValidationError."""
    try:
        data, made = _serializer(rt, EMBED_SALT).loads(token, return_timestamp=True)
    except BadSignature:
        raise ValidationError(_("This sign-up form is not one of ours, or is out of date."),
                              {"form": "bad token"}) from None
    slug = str(data.get("p", "")) if isinstance(data, dict) else ""
    if not slug:
        raise ValidationError(_("This sign-up form names no project."), {"form": "bad token"})
    return Embed(slug, clock.now() - made <= dt.timedelta(days=rt.settings.embed_form_days))


def embed_fresh_until(rt: Runtime) -> dt.date:
    """The last day a copy of a member site's form made today sends sign-ups straight
    through (``read_embed``)."""
    return rt.today() + dt.timedelta(days=rt.settings.embed_form_days)


def straight_through(*, email: str, consent: bool, honeypot: str | None,
                     fresh: bool) -> bool:
    """Whether a post of a member site's form is a sign-up at once rather than the
    sign-up step, filled in: an address typed, the box ticked, the honeypot field sent
    back empty (a bot that posts without it is not let through), and the form's token
    fresh."""
    return bool(email.strip()) and consent and honeypot == "" and fresh


def ticked(value: str | None) -> bool:
    """A checkbox as a plain HTML form sends it: any value but none, "" or "false"."""
    return value is not None and value.strip().lower() not in ("", "false", "off")


def step_token(rt: Runtime, slug: str, credit: bool = False) -> str:
    """The signed time the sign-up step was shown, for the project ``slug``; ``credit``
    when the step came from the project's own form with a valid token (``read_embed``),
    the one way a sign-up is counted as the project's."""
    data: dict[str, Any] = {"p": slug, "t": clock.now().timestamp()}
    if credit:
        data["c"] = 1
    return str(_serializer(rt, STEP_SALT).dumps(data))


@dataclass(frozen=True)
class Step:
    """What a sign-up step's token says: its project, what is wrong with it ("" when it
    may go through; "bad token", "too quick", "expired"), and whether the sign-up may
    credit the project."""

    slug: str
    problem: str
    credit: bool


def read_step(rt: Runtime, token: str, honeypot: str | None = "") -> Step:
    """The step's token, read when the step is submitted with ``honeypot`` (the hidden
    field's value as sent, None when the post did not carry it). A fresh token goes
    through however quick the person was, unless the post also left out the honeypot
    field, which a browser always sends."""
    try:
        data = _serializer(rt, STEP_SALT).loads(token)
        shown = float(data["t"])
        slug = str(data["p"])
        credit = data.get("c") == 1
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return Step("", "bad token", False)
    waited = clock.now().timestamp() - shown
    if waited > STEP_MAX_SECONDS:
        return Step(slug, "expired", credit)
    if waited < rt.settings.embed_min_seconds and honeypot is None:
        return Step(slug, "too quick", credit)
    return Step(slug, "", credit)


def purge_pending(rt: Runtime, now: dt.datetime | None = None) -> int:
    """Delete sign-ups not confirmed within ``pending_days``. Their log keeps the hash and
    what happened, never the address, IP or browser; no suppression is added: they never
    consented, and may sign up again."""
    cutoff = (now or clock.now()) - dt.timedelta(days=rt.settings.pending_days)
    with rt.db.session() as s:
        subs = list(s.scalars(select(Subscriber).where(Subscriber.status == "pending",
                                                       Subscriber.created_at < cutoff)))
        for sub in subs:
            for event in s.scalars(select(ConsentEvent).where(
                    ConsentEvent.subscriber_id == sub.id)):
                event.subscriber_id, event.ip, event.user_agent = None, "", ""
            log_consent(s, rt, None, sub.email_hash or "", "expired", Request("system"),
                        days=rt.settings.pending_days)
            s.delete(sub)
        return len(subs)


def pending_for_confirmation(rt: Runtime, token: str) -> Subscriber:
    with rt.db.session() as s:
        return _from_token(rt, s, token, CONFIRM_SALT, rt.settings.subscribe_confirm_hours
                           * 3600)


def confirm(rt: Runtime, req: Request, token: str) -> Subscriber:
    """The second step of the double opt-in; confirming twice is harmless. A link from a
    sign-up through a project's own form credits that project with a new reader."""
    with rt.db.session() as s:
        sub, data = _token_data(rt, s, token, CONFIRM_SALT,
                                rt.settings.subscribe_confirm_hours * 3600)
        if sub.status == "confirmed":
            return sub
        credited = _credit(s, sub, data.get("p"))
        was = sub.status
        transition(s, Actor("subscriber"), sub, "subscriber", "confirmed")
        sub.confirmed_at, sub.unsubscribed_at = clock.now(), None
        # A fresh, confirmed sign-up is the owner's own new consent: lift a suppression.
        suppressed = s.scalar(select(Suppression).where(
            Suppression.email_hash == sub.email_hash))
        if suppressed is not None:
            s.delete(suppressed)
        detail: dict[str, Any] = {"previous": was}
        if credited:
            detail["project"] = credited
        log_consent(s, rt, sub, sub.email_hash or "", "confirm", req, **detail)
        email, links = sub.email or "", personal_links(rt, sub)
        name, language = sub.name, sub.language
    send_after_commit(rt, "subscriber_welcome", email, reader_name=name, **links,
                      language=language)
    return sub


def _credit(s: Session, sub: Subscriber, slug: object) -> str:
    """Credit ``slug`` with this reader, once: only an address that was never a reader
    (no confirmation or import in the consent log) counts as a new one, and the unique
    key on the address's hash makes the credit once for good. The slug credited, or ""."""
    hashed = sub.email_hash
    if not isinstance(slug, str) or not slug or not hashed:
        return ""
    project_id = s.scalar(select(Project.id).where(Project.slug == slug))
    was_reader = s.scalar(select(ConsentEvent.id).where(
        ConsentEvent.email_hash == hashed, ConsentEvent.action.in_(("confirm", "import")))
        .limit(1)) is not None
    if project_id is None or was_reader:
        return ""
    made = s.execute(db.insert(s, ReaderCredit, email_hash=hashed, project_id=project_id,
                               at=clock.now()).on_conflict_do_nothing(
        index_elements=["email_hash"]).returning(ReaderCredit.id)).first()
    return slug if made is not None else ""


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
        log_consent(s, rt, sub, sub.email_hash or "", "unsubscribe", req)
    elif sub.status == "pending":  # never confirmed: nothing worth keeping
        _erase(s, rt, sub, req)


def update_preferences(rt: Runtime, req: Request, token: str, *, name: str,
                       language: str, chosen: Mapping[str, Iterable[str]] | None = None,
                       country: str | None = None) -> Subscriber:
    """Save the preferences page. ``chosen`` (topics, kinds, audiences, projects) and
    ``country`` replace the stored ones when given; an unknown key or country is a
    ValidationError and nothing is written. A change writes one row of the consent log
    whose detail holds the choices before and after."""
    fields: dict[str, str] = {}
    name = profile(name, language, fields)
    with rt.db.session() as s:
        sub = by_link(rt, s, token)
        before = preferences.state(sub)
        choices, where = Choices(), ""
        try:
            choices, where = preferences.checked(
                preferences.offer(rt, s), before if chosen is None else chosen,
                before["country"] if country is None else country)
        except ValidationError as exc:
            fields.update(exc.fields)
        if fields:
            raise ValidationError(_l("Nothing was changed: %(problems)s.",
                                     problems=per_field(fields)), fields)
        changed = {k: v for k, v in (("name", name), ("language", language))
                   if getattr(sub, k) != v}
        preferences.put(sub, choices, where)
        after = preferences.state(sub)
        changed.update({k: v for k, v in after.items() if before[k] != v})
        if changed:
            sub.name, sub.language = name, language
            detail: dict[str, Any] = {"changed": sorted(changed)}
            if "language" in changed:
                detail["language"] = language
            if after != before:
                detail["before"], detail["after"] = before, after
            log_consent(s, rt, sub, sub.email_hash or "", "preferences", req, **detail)
        return sub


def export(rt: Runtime, sub_id: int) -> dict[str, Any]:
    """Everything kept about one reader (GDPR Art. 15 and 20)."""
    with rt.db.session() as s:
        sub = s.get(Subscriber, sub_id)
        if sub is None:
            raise NotFound(_l("There is no subscriber %(id)d.", id=sub_id))
        events = s.scalars(select(ConsentEvent).where(
            ConsentEvent.email_hash == sub.email_hash).order_by(ConsentEvent.at))
        return {
            "email": sub.email, "name": sub.name, "language": sub.language,
            "status": sub.status, "subscribed_at": sub.created_at.isoformat(),
            "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None,
            "unsubscribed_at": (sub.unsubscribed_at.isoformat()
                                if sub.unsubscribed_at else None),
            "hard_bounces": sub.hard_bounces,
            # What the reader chose to receive (nothing chosen: everything), and the
            # country of their organisation ("" when not known).
            "choices": preferences.of(sub).as_dict(), "country": sub.country or "",
            "consent_log": [{"at": e.at.isoformat(), "action": e.action, "source": e.source,
                             "ip": e.ip, "user_agent": e.user_agent,
                             "privacy_notice_version": e.consent_version}
                            for e in events],
        }


def _erase(s: Session, rt: Runtime, sub: Subscriber, req: Request) -> None:
    hashed = sub.email_hash or ""
    transition(s, Actor(f"subscriber:{req.source}"), sub, "subscriber", "erased")
    sub.email, sub.email_hash, sub.name, sub.language = None, None, "", "en"
    preferences.put(sub, Choices(), "")
    sub.link_nonce = secrets.token_hex(8)
    if s.scalar(select(Suppression).where(Suppression.email_hash == hashed)) is None:
        s.add(Suppression(email_hash=hashed, reason="erased"))
    # The log keeps the hash and what happened, never the address, IP or browser.
    for event in s.scalars(select(ConsentEvent).where(ConsentEvent.email_hash == hashed)):
        event.ip, event.user_agent = "", ""
    log_consent(s, rt, sub, hashed, "erase", Request(req.source))


def erase(rt: Runtime, req: Request, token: str) -> None:
    """Remove the reader's personal data; keep a hash so it is never re-imported."""
    with rt.db.session() as s:
        _erase(s, rt, by_link(rt, s, token), req)


def erase_by_id(rt: Runtime, actor: Actor, sub_id: int) -> None:
    """An editor's erasure on a reader's request by mail (Art. 17)."""
    with rt.db.session() as s:
        sub = s.get(Subscriber, sub_id)
        if sub is None:
            raise NotFound(_l("There is no subscriber %(id)d.", id=sub_id))
        _erase(s, rt, sub, Request("admin"))
        record(s, actor, "subscriber.erased_by_editor", sub)


def erase_by_email(rt: Runtime, actor: Actor, email: str) -> int:
    """``erase_by_id`` for the reader with this address; returns their id."""
    with rt.db.session() as s:
        sub_id = s.scalar(select(Subscriber.id).where(
            Subscriber.email_hash == email_hash(email)))
    if sub_id is None:
        raise NotFound(_l("No reader has the address %(email)s.", email=email))
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


# ------------------------------------------------------------------------- export

# The columns of the service's own CSV: ``export_rows`` writes them, and
# ``ostogether.readers.readers_import`` reads them back.
# The choices (``CHOICE_COLUMNS``) hold keys as in content/ and projects by slug,
# separated by ";" (``core.choices.split``/``join``); ``country`` an ISO code or nothing.
CHOICE_COLUMNS = preferences.GROUPS
COLUMNS = ("email", "name", "language", "consent_date", "consent_source", *CHOICE_COLUMNS,
           "country")


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
            out.append([sub.email or "", sub.name, sub.language, when, src,
                        *(join(getattr(sub, name) or ()) for name in CHOICE_COLUMNS),
                        sub.country or ""])
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
