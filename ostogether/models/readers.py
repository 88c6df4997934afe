"""The readers' tables (migration 0004): subscribers, the consent log and the
suppression list; what ``ostogether.readers`` works on."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime


class Subscriber(Base):
    """A newsletter reader (migration 0004). States: ``ostogether.core.states.SUBSCRIBER``.

    ``email_hash`` is the SHA-256 of the lower-cased address. Erasing clears the address
    and the hash from this row (which stays, so delivery counts keep their subscriber);
    the hash lives on in the consent log and the suppression list. ``link_nonce`` is part
    of every signed link in the reader's mails; erasing changes it, so old links die.
    """

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    link_nonce: Mapped[str] = mapped_column(String(32))
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    # Migration 0024: what the reader chose to receive (``core.choices``): vocabulary keys
    # of content/topics.toml and projects by slug; all empty means everything.
    topics: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    projects: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The country (ISO 3166 alpha-2) of the reader's organisation, where known: imported,
    # or given at sign-up. Announcements may go to the readers of some countries.
    country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)


class ConsentEvent(Base):
    """One row of the consent log: the proof of what a reader agreed to, when and how."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    # subscribe, confirm, import, preferences, unsubscribe, erase
    action: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(40))  # form, link, one-click, import, admin
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    consent_version: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Suppression(Base):
    """An address that must never be mailed again unless its owner signs up anew."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(20))  # erased, bounced, unsubscribed, cleaned
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Migration 0010: where the entry came from ("mailchimp" for an imported unsubscribe
    # or cleaned address; empty for the service's own) and the reason given there.
    source: Mapped[str] = mapped_column(String(40), default="", server_default="")
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")
