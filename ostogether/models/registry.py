"""The registry's tables (migrations 0001, 0002): projects (members, alumni and
applicants), the accounts of the people who sign in (admins, editors, and members of one
project), and the projects' API tokens.

``Project`` and ``User`` point at each other (a user belongs to a project; a decision
names its editor), so they share this file, and the tokens that name both stay beside
them. ``ostogether.registry`` and ``ostogether.accounts`` work on these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.core.states import EDITOR_ROLES
from ostogether.models.base import Base, UTCDateTime


class Project(Base):
    """A member project, an alumnus, or an application to join.

    Projects from content/projects/ have ``source="content"``; applications made through
    the web form have ``source="application"`` and keep the applicant's declarations.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20), default="content")

    acronym: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(400))
    description: Mapped[str] = mapped_column(Text, default="")
    initiative_type: Mapped[str] = mapped_column(String(40), default="")
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)

    programme: Mapped[str] = mapped_column(String(120), default="")
    call: Mapped[str] = mapped_column(String(200), default="")
    grant_number: Mapped[str] = mapped_column(String(40), default="")
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    coordinator: Mapped[str] = mapped_column(String(400), default="")

    website: Mapped[str] = mapped_column(String(500), default="")
    feed_url: Mapped[str] = mapped_column(String(500), default="")
    # Its feeds in other languages: language code -> address (migration 0025).
    feeds: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    # The language its contact is written to in: the page's when it applied; "" the
    # site's (migration 0025).
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    handles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Handles a member of the project asked for, waiting for an editor (migration 0013).
    proposed_handles: Mapped[dict[str, str] | None] = mapped_column(JSON)

    # The kept picture (``media.py``): ``<sha256>.<ext>``, served at /media/<name>.
    logo: Mapped[str] = mapped_column(String(80), default="", server_default="")

    non_commercial: Mapped[bool | None] = mapped_column(Boolean)
    coc_version: Mapped[str] = mapped_column(String(40), default="")
    coc_accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # use_alter: users and projects point at each other; this one is added last.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey(
        "users.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)
    # One more at every change, in the UPDATE itself (migration 0014): with the count and
    # the highest id, it tells a web process that its copy of the registry is out of
    # date (``projects.public_listing``), even when two changes share a timestamp.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                          onupdate=literal_column("revision + 1"))

    # What editors changed in the browser since the project's file last agreed (field →
    # who and when), and the file's values as last imported (migration 0016): the import
    # reports a conflict instead of overwriting a browser edit (``projects.import_content``).
    web_edits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    file_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<Project {self.slug} {self.status}>"


class User(Base):
    """A person who logs in: an admin, an editor, or a member of one project."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id",
                                                              ondelete="CASCADE"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The page's language at the last login: the service's mails to this person are in it
    # ("" the site's language; migration 0026).
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # Part of what the session cookie names (``get_id``): a new key ends every session
    # made before it (logout, password change or reset, an admin's "end sessions").
    session_key: Mapped[str] = mapped_column(String(32), default="", server_default="")

    project: Mapped[Project | None] = relationship(foreign_keys=[project_id])

    @property
    def is_editor(self) -> bool:
        """An editor, or an admin: every editor's right is an admin's too."""
        return self.role in EDITOR_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    # The four members Flask-Login expects of a user object (no Flask import needed).
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_key}"


class ApiToken(Base):
    """A bearer token of one project. Only the SHA-256 of the secret is kept.

    The secret has 256 bits of entropy, so a fast hash is enough: a slow password hash
    would only slow down every API call without making a guess any likelier.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship()
    created_by: Mapped[User | None] = relationship()
