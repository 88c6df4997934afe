"""The community's organisations and people (migration 0019, issue 37).

``Organisation``: a school, museum, university… with its place, website, logo and the
projects it took part in (``OrganisationProject``: role and years). ``Person``: an
individual member, private by default, perhaps linked to the account they log in with.
Each field of either has a visibility (``everyone``, ``members`` or ``editors``) in
``visibility``; ``ostogether.registry.visibility`` decides what a viewer sees.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime
from ostogether.models.registry import Project, User


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(400))
    type: Mapped[str] = mapped_column(String(40), default="")
    country: Mapped[str] = mapped_column(String(2), default="", index=True)
    city: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    # The kept picture (``edges/media.py``): ``<sha256>.<ext>``, served at /media/<name>.
    logo: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20), default="application")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    # The language its contact is written to in: the page's when it applied; "" the
    # site's (migration 0025).
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    coc_version: Mapped[str] = mapped_column(String(40), default="")
    # field -> everyone | members | editors; a field not named has its default.
    visibility: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    # When an editor (or an import) made it a member, or rejected it: the newsletter's
    # "New in the community" lists the members since the last issue (migration 0023).
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    projects: Mapped[list[OrganisationProject]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug} {self.status}>"


class OrganisationProject(Base):
    """An organisation's part in a project: coordinator, partner or associated."""

    __tablename__ = "organisation_projects"
    __table_args__ = (UniqueConstraint("organisation_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"),
                                            index=True)
    role: Mapped[str] = mapped_column(String(20), default="partner")
    years: Mapped[str] = mapped_column(String(40), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="projects")
    project: Mapped[Project] = relationship()


class Person(Base):
    """An individual member. Private by default: every field is for editors until the
    person (or an editor) says otherwise. ``user_id`` links the account they log in with."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="", index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    role: Mapped[str] = mapped_column(String(200), default="")
    interests: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20), default="application")
    # The language the person is written to in: the page's when they joined; "" the
    # site's (migration 0025).
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    coc_version: Mapped[str] = mapped_column(String(40), default="")
    visibility: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship()
