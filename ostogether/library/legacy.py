"""Legacy: what keeps an output reachable after its project's site is gone.

The weekly job ``check_links`` asks every public output's address whether it still
answers, through the outbound guard and the newsletter's link check (one probe per
address, answers that passed kept for ``link_check_cache_hours``); an address that fails
or cannot be reached marks the output dead, one that answers again revives it. A dead
output's page says so and points to its archived copy (Zenodo, Software Heritage, a web
archive), which a member or an editor records with ``record_archive``; the editors see the
dead ones on their dashboard and library page. The check is a flag, not a state, and
moves no harvester's datestamp.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ostogether.core import clock
from ostogether.core.errors import ValidationError
from ostogether.core.inputs import url_problem
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Output
from ostogether.newsletter import preflight
from ostogether.newsletter.issues import checked_links

DEAD_OUTCOMES = (preflight.FAIL, preflight.UNREACHED)


@dataclass(frozen=True)
class LinkReport:
    checked: int
    dead: list[str]  # "title (address: why)"
    revived: int


def check_links(rt: Runtime, now: dt.datetime | None = None) -> LinkReport:
    """Check every public output's address once, and record what each answered."""
    now = now or clock.now()
    with rt.db.session() as s:
        rows = s.execute(select(Output.id, Output.title, Output.url, Output.link_status,
                                Output.link_dead_since)
                         .where(Output.status == "approved").order_by(Output.id)).all()
    results = {r.url: r for r in checked_links(rt, sorted({row.url for row in rows}))}
    dead, revived = [], 0
    with rt.db.session() as s:
        for row in rows:
            result = results[row.url]
            gone = result.outcome in DEAD_OUTCOMES
            if gone:
                dead.append(f"{row.title} ({row.url}: {result.detail})")
            elif row.link_status == "dead":
                revived += 1
            # updated_at is named, so its onupdate does not fire: a link check is not a
            # change of the record that harvesters would fetch again.
            s.execute(update(Output).where(Output.id == row.id).values(
                link_status="dead" if gone else "ok", link_checked_at=now,
                link_dead_since=(row.link_dead_since or now) if gone else None,
                link_error=result.detail[:500] if gone else "",
                updated_at=Output.updated_at))
    return LinkReport(checked=len(rows), dead=dead, revived=revived)


def record_archive(rt: Runtime, actor: Actor, output_id: int, url: str, *,
                   project_id: int | None = None) -> Output:
    """Record (or clear, with "") where an archived copy of the output is kept."""
    url = url.strip() if isinstance(url, str) else ""
    if url and (why := url_problem(url)):
        raise ValidationError(_l("The archived copy's address cannot be used: %(why)s.",
                                 why=why), {"archived_url": why})
    with rt.db.session() as s:
        output = outputs.get(s, output_id, project_id=project_id)
        before = output.archived_url
        output.archived_url = url
        record(s, actor, "output.archived", output, **{"from": before, "to": url})
    with rt.db.session() as s:
        return outputs.get(s, output_id)


def dead(s: Session) -> list[Output]:
    """Public outputs whose address did not answer the last check, longest dead first."""
    return list(s.scalars(select(Output).where(
        Output.status == "approved", Output.link_status == "dead").order_by(
        Output.link_dead_since, Output.id)))
