"""Publishing each due post once, and only once.

For each approved post whose time has come:

1. it is claimed: moved from ``approved`` to ``publishing`` by a guarded UPDATE, and the
   claim is committed *before* the request goes out. Two processes cannot both claim it;
2. its network's publisher is called;
3. the outcome is written:
   - success: ``published``, with the network's post id and URL;
   - ``PublishRetry`` (a 5xx, a 429, no connection): back to ``approved`` with the next
     try at the network's reset time or after a doubling backoff; after
     ``social_max_attempts`` tries, ``failed``;
   - ``PublishUnknown`` (the request went out and no clear answer came back): ``unknown``.
     Never retried automatically; an editor checks the account and marks it;
   - ``PublishRejected``: ``failed`` with the reason and a hint.

A post left in ``publishing`` by a process that died is found on the next run (older
than ``social_stale_seconds``) and becomes ``unknown``: the request may have gone out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.edges import audit
from ostogether.edges.audit import SYSTEM
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost, SocialSession, SocialUpload
from ostogether.social import issue_out, said
from ostogether.social import text as social_text
from ostogether.social.publishers import for_network
from ostogether.social.publishers.base import Outgoing, Picture, Published, Publisher

log = logging.getLogger("ostogether.social")

STALE_ERROR = said.record(said.STALE)
CHECK_HINT = said.record(said.CHECK_HINT)


@dataclass
class PublishReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


class DbSessions:
    """Keeps publishers' logins (Bluesky) in the ``social_sessions`` table."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def load(self, network: str) -> dict[str, Any]:
        with self.rt.db.session() as s:
            row = s.get(SocialSession, network)
            return dict(row.data) if row else {}

    def save(self, network: str, data: dict[str, Any]) -> None:
        try:
            with self.rt.db.session() as s:
                row = s.get(SocialSession, network)
                if row is None:
                    s.add(SocialSession(network=network, data=data))
                else:
                    row.data = data
        except IntegrityError:  # another run saved its first session at the same moment
            with self.rt.db.session() as s:
                row = s.get(SocialSession, network)
                assert row is not None
                row.data = data


class DbUploads:
    """Keeps what a network gave for a post's uploaded picture (``social_uploads``),
    committed before the post itself is made."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def get(self, post_id: int, media_name: str) -> dict[str, Any] | None:
        with self.rt.db.session() as s:
            row = s.scalar(select(SocialUpload).where(SocialUpload.post_id == post_id,
                                                      SocialUpload.media_name == media_name))
            return dict(row.ref) if row and row.expires_at > clock.now() else None

    def keep(self, post_id: int, media_name: str, ref: dict[str, Any],
             expires_at: dt.datetime) -> None:
        with self.rt.db.session() as s:
            row = s.scalar(select(SocialUpload).where(SocialUpload.post_id == post_id,
                                                      SocialUpload.media_name == media_name))
            if row is None:
                s.add(SocialUpload(post_id=post_id, media_name=media_name, ref=ref,
                                   uploaded_at=clock.now(), expires_at=expires_at))
            else:
                row.ref, row.uploaded_at, row.expires_at = ref, clock.now(), expires_at


def _outgoing(rt: Runtime, post: SocialPost) -> Outgoing:
    folder = rt.settings.media_path
    card = post.card or {}
    image = card_image = None
    if post.media_name:
        image = Picture(post.media_name, folder / post.media_name, post.image_alt)
    elif card.get("image"):
        card_image = Picture(card["image"], folder / card["image"],
                             card.get("image_alt", ""))
    return Outgoing(post_id=post.id, network=post.network, text=post.text, link=post.link,
                    title=card.get("title") or post.title,
                    description=card.get("description") or post.description,
                    language=post.language, idempotency_key=post.idempotency_key,
                    mentions=mentions(rt, post), image=image, card_image=card_image)


def mentions(rt: Runtime, post: SocialPost) -> tuple[tuple[str, str], ...]:
    """What the publisher makes a mention of in ``post`` (its project's, or for an
    "issue out" post each featured project's); ``post.project`` must be loaded."""
    if post.kind == "issue":
        return issue_out.mentions(rt, post)
    return social_text.mentions_for(post.network, post.project.acronym if post.project else "",
                                    post.project.handles if post.project else {})


def recover_stale(rt: Runtime, now: dt.datetime) -> int:
    """Posts left ``publishing`` by a process that died become ``unknown``."""
    cutoff = now - dt.timedelta(seconds=rt.settings.social_stale_seconds)
    with rt.db.session() as s:
        stale = list(s.scalars(select(SocialPost).where(
            SocialPost.status == "publishing", SocialPost.claimed_at < cutoff)))
        for post in stale:
            audit.transition(s, SYSTEM, post, "social_post", "unknown", reason="stale")
            post.error, post.hint = STALE_ERROR, CHECK_HINT
            log.warning("social post %s (%s) was left publishing; marked unknown",
                        post.id, post.network)
    return len(stale)


def _claim(rt: Runtime, post_id: int, now: dt.datetime) -> Outgoing | None:
    with rt.db.session() as s:
        claimed = getattr(s.execute(update(SocialPost).where(
            SocialPost.id == post_id, SocialPost.status == "approved").values(
            status="publishing", claimed_at=now, attempts=SocialPost.attempts + 1,
            updated_at=now)), "rowcount", 0)
        if claimed != 1:
            return None  # another process took it, or an editor changed it
        post = s.get(SocialPost, post_id)
        assert post is not None
        audit.record(s, SYSTEM, "social_post.publishing", post, attempt=post.attempts)
        return _outgoing(rt, post)


def _finish(rt: Runtime, post_id: int, now: dt.datetime, result: Published | None,
            error: Exception | None) -> str:
    """Write the outcome of one publish; returns the post's new state."""
    settings = rt.settings
    with rt.db.session() as s:
        post = s.get(SocialPost, post_id)
        assert post is not None
        if post.status != "publishing":  # marked unknown as stale meanwhile: leave it
            return post.status
        if result is not None:
            audit.transition(s, SYSTEM, post, "social_post", "published",
                             remote_id=result.remote_id)
            post.remote_id, post.remote_url = result.remote_id, result.url
            post.published_at, post.error, post.hint = now, "", ""
        elif isinstance(error, PublishRetry) and post.attempts < settings.social_max_attempts:
            wait = dt.timedelta(seconds=settings.social_retry_seconds
                                * 2 ** (post.attempts - 1))
            post.next_attempt_at = max(error.retry_at or now + wait, now)
            post.error = said.english(error)
            audit.transition(s, SYSTEM, post, "social_post", "approved", retry=True,
                             error=post.error, next_attempt=post.next_attempt_at.isoformat())
        elif isinstance(error, PublishRetry):
            audit.transition(s, SYSTEM, post, "social_post", "failed",
                             error=said.english(error))
            post.error = said.record(said.GAVE_UP, error=error, num=post.attempts)
            post.hint = said.record(said.TRY_ONCE_MORE)
        elif isinstance(error, PublishRejected):
            audit.transition(s, SYSTEM, post, "social_post", "failed",
                             error=said.english(error))
            post.error, post.hint = said.english(error), said.english(error.hint)
        else:
            why = (said.english(error) if isinstance(error, PublishUnknown) else
                   said.record(said.UNEXPECTED, error=error.__class__.__name__))
            audit.transition(s, SYSTEM, post, "social_post", "unknown", error=why)
            post.error, post.hint = why, CHECK_HINT
        post.claimed_at = None
        return post.status


def due(rt: Runtime, now: dt.datetime, limit: int) -> list[int]:
    with rt.db.session() as s:
        return list(s.scalars(select(SocialPost.id).where(
            SocialPost.status == "approved", SocialPost.slot_at <= now,
            or_(SocialPost.next_attempt_at.is_(None), SocialPost.next_attempt_at <= now))
            .order_by(SocialPost.slot_at, SocialPost.id).limit(limit)))


def publishers(rt: Runtime, publisher_for: Callable[[str], Publisher] | None = None
               ) -> Callable[[str], Publisher]:
    """network → its publisher, made once per run (``publisher_for`` in tests)."""
    if publisher_for is not None:
        return publisher_for
    sessions, uploads = DbSessions(rt), DbUploads(rt)
    cache: dict[str, Publisher] = {}

    def publisher(network: str) -> Publisher:
        if network not in cache:
            cache[network] = for_network(rt.settings, network, sessions, uploads)
        return cache[network]

    return publisher


def publish_due(rt: Runtime, now: dt.datetime | None = None, limit: int = 200,
                publisher_for: Callable[[str], Publisher] | None = None) -> PublishReport:
    """Publish every approved post whose time has come (at most ``limit``)."""
    now = now or clock.now()
    report = PublishReport()
    recovered = recover_stale(rt, now)
    if recovered:
        report.outcomes["unknown"] += recovered
        report.lines.append(f"{recovered} post(s) left publishing by a stopped process "
                            f"are now marked unknown; an editor must check them.")
    publisher = publishers(rt, publisher_for)
    for post_id in due(rt, now, limit):
        out = _claim(rt, post_id, now)
        if out is None:
            continue
        result: Published | None = None
        error: Exception | None = None
        try:
            result = publisher(out.network).publish(out)
        except (PublishRetry, PublishUnknown, PublishRejected) as exc:
            error = exc
        except Exception as exc:  # a bug: the request may have gone out, so never retry
            log.exception("social post %s (%s): unexpected error", post_id, out.network)
            error = exc
        state = _finish(rt, post_id, now, result, error)
        report.outcomes["retry" if state == "approved" else state] += 1
        line = f"post {post_id} ({out.network}): {state}"
        if error is not None:
            line += f": {said.english(error)}"
        report.lines.append(line)
        log.log(logging.INFO if error is None or state == "approved" else logging.WARNING,
                "social post %s to %s: %s", post_id, out.network, state,
                extra={"event": "social.publish", "post": post_id, "network": out.network,
                       "outcome": state, **({"error": said.english(error)} if error else {})})
    return report
