"""The results library (migration 0019): ``outputs``, what the member projects made, and
``output_projects``, which projects made each. What ``ostogether.library`` works on.

Lists of words (languages, age ranges, subjects, SDGs, keywords, organisations) are JSON:
the library is hundreds of records, and its facets are counted over the matching rows.
On SQLite a full-text index (FTS5, ``outputs_fts``) follows the table by triggers; it is
made by the migration, not by the models.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostogether.core import clock
from ostogether.models.base import Base, UTCDateTime
from ostogether.models.registry import ApiToken, Project, User

output_projects = Table(
    "output_projects", Base.metadata,
    Column("output_id", ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Output(Base):
    """One thing a project made, from the form, the API or content/library/.

    ``published_at`` is set by the first approval: a withdrawn output that was public is
    still answered by OAI-PMH as deleted; one never public is not mentioned at all.
    ``updated_at`` is the harvesters' datestamp.
    """

    __tablename__ = "outputs"
    __table_args__ = (Index("ix_outputs_status_updated", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    source: Mapped[str] = mapped_column(String(10))  # web, api, content, cli
    # content/library/<key>.toml, for the seeds: ``init`` finds them again by it.
    seed_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(40))
    organisations: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    licence: Mapped[str] = mapped_column(String(64), default="")
    age_ranges: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    sdgs: Mapped[list[int]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(String(2000))
    doi: Mapped[str] = mapped_column(String(250), default="")
    date: Mapped[dt.date | None] = mapped_column(Date)
    image_url: Mapped[str] = mapped_column(String(2000), default="")
    image_alt: Mapped[str] = mapped_column(String(400), default="")

    # Legacy: the weekly link check and the copy kept elsewhere when the site is gone.
    archived_url: Mapped[str] = mapped_column(String(2000), default="")
    link_status: Mapped[str] = mapped_column(String(10), default="")  # "", ok, dead
    link_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    link_dead_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    link_error: Mapped[str] = mapped_column(Text, default="")
    # Zenodo: the deposit once made, so that it is never made twice.
    zenodo_id: Mapped[str] = mapped_column(String(40), default="")

    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id",
                                                            ondelete="SET NULL"))
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                    onupdate=clock.now)

    projects: Mapped[list[Project]] = relationship(secondary=output_projects,
                                                   order_by=Project.acronym)
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    token: Mapped[ApiToken | None] = relationship()

    def __repr__(self) -> str:
        return f"<Output {self.id} {self.type} {self.status}>"
