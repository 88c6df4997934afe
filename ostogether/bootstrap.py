"""Bringing an installation up to date: what `ostogether init` (and `make run`) does.

One service function, so the CLI, and later the worker, run the same steps in the same
order. Every step is idempotent: run twice, the second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from ostogether.accounts.users import count_editors
from ostogether.edges import db, ratelimit, render
from ostogether.edges.runtime import Runtime, ensure_var, secret_key
from ostogether.edges.topics import vocabulary
from ostogether.library import content as library_content
from ostogether.library import outputs as library
from ostogether.registry import projects


@dataclass(frozen=True)
class InitReport:
    database: str
    revision_before: str | None
    revision_after: str | None
    imported: projects.ImportReport
    became_alumni: list[str]
    editors: int
    library: library.SeedReport

    @property
    def migrated(self) -> bool:
        return self.revision_before != self.revision_after


def initialise(rt: Runtime) -> InitReport:
    """Check the community folders, migrate, import content/, derive statuses, tidy up."""
    ensure_var(rt.settings)
    secret_key(rt.settings)
    # Read every community file once now, so a mistake is reported before anything changes.
    rt.community.site()
    rt.community.criteria()
    rt.community.code_of_conduct()
    rt.community.schedule()
    rt.community.newsletter()
    rt.community.evergreen()
    vocabulary(rt.community)  # content/topics.toml: the words items carry, readers choose
    library_content.seeds(rt.community)
    render.check_templates(rt.community)
    before = db.current_revision(rt.db)
    db.upgrade(rt.db)
    imported = projects.import_content(rt)
    became_alumni = projects.refresh_statuses(rt)
    seeded = library.seed(rt)
    with rt.db.session() as s:
        ratelimit.prune(s)
        editors = count_editors(s)
    return InitReport(database=db.describe(rt.db.engine), revision_before=before,
                      revision_after=db.current_revision(rt.db), imported=imported,
                      became_alumni=became_alumni, editors=editors, library=seeded)
