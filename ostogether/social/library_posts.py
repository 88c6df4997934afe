"""Evergreen posts from the results library: each public output of ``ostogether.library``
is an evergreen entry of the kind ``KIND`` (a slot that takes tools can draw it), its
text the output's title and description, its link the output's page in the library.

The planner takes them only when no news item and no entry of the community's own
evergreen library (content/social/) fits a slot, and, like every evergreen entry, not
again within the timetable's ``evergreen_repeat_weeks``; ``wording`` fits the text to
each network's rules. Withdrawn outputs are never drawn.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Evergreen
from ostogether.models import Output

KIND = "tool"
PREFIX = "library-"


def evergreen(rt: Runtime, s: Session) -> list[Evergreen]:
    """The library's public outputs as evergreen entries (key ``library-<slug>``), each
    credited to the first project that made it."""
    public = rt.settings.public_url.rstrip("/")
    entries = []
    for o in s.scalars(select(Output).options(selectinload(Output.projects))
                       .where(Output.status == "approved").order_by(Output.id)):
        first = min(o.projects, key=lambda p: p.id, default=None)
        entries.append(Evergreen(
            key=(PREFIX + o.slug)[:120], kind=KIND, title=o.title,
            text=" ".join(o.description.split()), link=f"{public}/library/{o.slug}",
            image_url=o.image_url, image_alt=o.image_alt,
            project=first.slug if first else ""))
    return entries
