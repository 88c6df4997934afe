"""The "issue out" post: when an issue has been sent, a post on every network, planned
for an editor's approval, with the archive link, the subject and the featured projects
mentioned (their handle on that network, else their acronym).

The posts are keyed ``issue-<number>`` (in ``evergreen_key``, with kind ``issue``), so
planning them again changes nothing. They go out at the first free minute an hour after
the send finished (``ISSUE_OUT_DELAY``), unless an editor moves them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ostogether.core import clock
from ostogether.core.states import NETWORKS
from ostogether.edges import audit
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.models import Issue, IssueItem, NewsItem, Project, SocialPost
from ostogether.social.text import mentions_for
from ostogether.social.wording import Source, compose_text, mention

ISSUE_OUT_DELAY = dt.timedelta(hours=1)
RECENT = dt.timedelta(days=7)  # an issue sent longer ago gets no post any more


def key_of(number: int) -> str:
    return f"issue-{number}"


def featured(issue: Issue) -> list[Project]:
    """The issue's projects, in the order their items appear, once each."""
    seen: dict[int, Project] = {}
    for entry in sorted(issue.entries, key=lambda e: (e.section_order, e.position)):
        project = entry.item.project
        if project is not None and project.id not in seen:
            seen[project.id] = project
    return list(seen.values())


def plan(rt: Runtime, actor: Actor, now: dt.datetime | None = None) -> list[int]:
    """Plan the "issue out" posts of every issue sent in the last week that has none;
    returns the new posts' ids."""
    now = now or clock.now()
    base = rt.settings.public_url.rstrip("/")
    tags = rt.community.site().hashtags
    made: list[int] = []
    with rt.db.session() as s:
        issues = list(s.scalars(select(Issue).options(
            selectinload(Issue.entries).selectinload(IssueItem.item)
            .selectinload(NewsItem.project)).where(
            Issue.status == "sent", Issue.sent_at >= now - RECENT,
            Issue.imported_from == "", Issue.number.is_not(None), Issue.kind == "issue")))
        for issue in issues:
            assert issue.number is not None
            key = key_of(issue.number)
            if s.scalar(select(SocialPost.id).where(SocialPost.evergreen_key == key,
                                                    SocialPost.kind == "issue").limit(1)):
                continue
            projects = featured(issue)
            at = max(now, issue.sent_at or now) + ISSUE_OUT_DELAY
            at = at.replace(second=0, microsecond=0)
            subject = issue.snapshot_subject or issue.subject
            for network in NETWORKS:
                names = [mention(p, network) for p in projects]
                about = (f"With news from {', '.join(names[:-1])} and {names[-1]}."
                         if len(names) > 1 else f"With news from {names[0]}."
                         if names else "")
                source = Source(kind="issue", title=f"Newsletter #{issue.number}: {subject}",
                                description=about, link=f"{base}/archive/{issue.number}",
                                project=None, hashtags=())
                text, link = compose_text(rt, source, network, tags)
                slot = at
                while s.scalar(select(SocialPost.id).where(
                        SocialPost.network == network, SocialPost.slot_at == slot,
                        SocialPost.status != "skipped")):
                    slot += dt.timedelta(minutes=1)
                post = SocialPost(network=network, status="planned", slot_at=slot,
                                  kind="issue", evergreen_key=key, title=source.title[:300],
                                  description=about, link=link, text=text,
                                  language=rt.community.site().language,
                                  idempotency_key=uuid.uuid4().hex)
                s.add(post)
                s.flush()
                audit.record(s, actor, "social_post.planned", post, network=network,
                             slot=slot.isoformat(), issue=issue.number)
                made.append(post.id)
    return made


def mentions(rt: Runtime, post: SocialPost) -> tuple[tuple[str, str], ...]:
    """An "issue out" post's mentions for its network: each featured project's."""
    if post.kind != "issue" or not post.evergreen_key.startswith("issue-"):
        return ()
    number = int(post.evergreen_key.removeprefix("issue-"))
    with rt.db.session() as s:
        issue = s.scalar(select(Issue).where(Issue.number == number))
        if issue is None:
            return ()
        found: list[tuple[str, str]] = []
        for project in featured(issue):
            found += mentions_for(post.network, project.acronym, project.handles or {})
    return tuple(found)
