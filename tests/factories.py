"""The builders the tests share: accounts, approved items, readers, approved issues and
issues marked as sent (sending itself is the delivery's; most tests only need an issue to
count as sent). Each goes through the services, as a user's action would."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from typing import Any

from sqlalchemy import select

from ostogether.accounts.users import create_user
from ostogether.core import clock
from ostogether.core.segments import Reader
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.models import Issue, Project, Subscriber
from ostogether.news import items as news
from ostogether.readers.subscribers import email_hash

TEST = Actor("test")


def project_id(rt: Runtime, slug: str) -> int:
    with rt.db.session() as s:
        pid = s.scalar(select(Project.id).where(Project.slug == slug))
    assert pid is not None, slug
    return pid


def add_item(rt: Runtime, slug: str = "connect", kind: str = "news", *, link: str,
             title: str = "", approve: bool = True, **fields: Any) -> int:
    if kind == "event" and "event_start" not in fields:
        fields["event_start"] = clock.now() + dt.timedelta(days=120)
    if kind == "event":
        fields.setdefault("event_location", "Brussels")
    item = news.submit(rt, TEST, project_id(rt, slug), news.ItemInput(
        kind=kind, title=title or f"{slug} {kind} {link.rsplit('/', 1)[-1]}",
        summary=fields.pop("summary", f"About **{slug}**: what happened and why it matters."),
        link=link, **fields), source="web")
    if approve:
        news.approve(rt, TEST, item.id)
    return item.id


def mark_sent(rt: Runtime, issue_id: int, when: dt.datetime | None = None) -> None:
    with rt.db.session() as s:
        issue = s.get(Issue, issue_id)
        assert issue is not None
        issue.status = "sent"
        issue.sent_at = when or issue.send_at


def approved_issue(rt: Runtime, links: list[str]) -> Issue:
    """An issue with one item per link (projects whose grants are known), approved."""
    from ostogether.newsletter import issues as newsletter

    slugs = ["cosmos", "levers", "most", "otter", "pafse", "phereclos"]
    for i, link in enumerate(links):
        add_item(rt, slugs[i % len(slugs)], "news", link=link)
    issue = newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    approved, _ = newsletter.approve(rt, TEST, issue.id)
    return approved


def add_readers(rt: Runtime, n: int, *, status: str = "confirmed",
                domain: str = "readers.test") -> list[int]:
    """``n`` subscribers straight into the table (the sign-up flow has its own tests)."""
    import secrets

    from ostogether.models import Subscriber
    from ostogether.readers.subscribers import email_hash

    with rt.db.session() as s:
        subs = []
        for i in range(n):
            email = f"reader{i}@{domain}"
            subs.append(Subscriber(email=email, email_hash=email_hash(email),
                                   name=f"Reader {i}" if i % 2 else "", status=status,
                                   link_nonce=secrets.token_hex(8), confirmed_at=clock.now()))
        s.add_all(subs)
        s.flush()
        return [sub.id for sub in subs]


def make_user(rt: Runtime, email: str = "editor@example.org", role: str = "editor",
              password: str = "correct horse battery", project: str = "") -> None:
    create_user(rt, TEST, email=email, role=role, password=password, project_slug=project)


def pg_rows_read(conn: Any, sql: str, params: Any) -> tuple[int, str]:
    """The rows a statement's scans read on PostgreSQL (EXPLAIN ANALYZE, which runs it:
    roll back after), and the plan."""
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql,
                                params).scalar_one()[0]["Plan"]
    read, todo = 0, [plan]
    while todo:
        node = todo.pop()
        todo.extend(node.get("Plans", ()))
        if "Scan" in node["Node Type"]:
            read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                     ) * node["Actual Loops"]
    return read, str(plan)


def applicant(rt: Runtime, acronym: str = "SCI-LAB", *, accept: bool = False,
              contact_email: str = "ana@sci-lab.example.org") -> int:
    """A project that applied through the Join form (no file in content/projects/),
    accepted as a member when ``accept``; its id."""
    from ostogether.registry import projects
    from ostogether.registry.rules import ProjectRecord

    rec = ProjectRecord(
        slug="", acronym=acronym, name=f"{acronym} science lab",
        description="Schools and a science centre run a lab together.",
        initiative_type="school-led-action", themes=("steam",), countries=("BE", "PT"),
        start_date=dt.date(2025, 1, 1), end_date=dt.date(2030, 12, 31),
        website=f"https://{acronym.lower()}.example.org/", contact_name="Ana",
        contact_email=contact_email, non_commercial=True, coc_accepted_on=rt.today())
    result = projects.apply(rt, rec, ip="192.0.2.77")
    assert result.project is not None, result.results
    if accept:
        projects.decide(rt, result.project.id, TEST, accept=True)
    return result.project.id


def add_output(rt: Runtime, slug: str = "connect", *, title: str = "A toolkit",
               approve: bool = True, **fields: Any) -> int:
    """An output of the results library, submitted by ``slug``'s project (and approved)."""
    fields.setdefault("type", "toolkit")
    fields.setdefault("url", "https://example.org/" + title.lower().replace(" ", "-"))
    output = outputs.submit(rt, TEST, outputs.OutputInput(title=title, **fields),
                            source="web", project_id=project_id(rt, slug))
    if approve:
        outputs.approve(rt, TEST, output.id)
    return output.id


def add_organisation(rt: Runtime, name: str = "NEMO Science Museum", *, country: str = "NL",
                     project: str = "", role: str = "partner", person: str = "",
                     status: str = "member", **fields: Any) -> str:
    """An organisation (a member unless said), perhaps in a project and with a person
    whose account (``person``, an existing login's address) is linked. Its slug back."""
    from ostogether.registry import organisations, people
    from ostogether.registry.org_rules import OrgRecord

    with rt.db.session() as s:
        org = organisations.add(s, TEST, OrgRecord(name=name, country=country, **fields),
                                status=status, source="import")
        slug = org.slug
    if project:
        organisations.link_project(rt, slug, project, TEST, role=role, years="2023–2026")
    if person:
        with rt.db.session() as s:
            people.add(s, TEST, people.PersonRecord(name="Ana Member", email=person,
                                                    organisation=slug, country=country),
                       status="member", source="import", link_by_email=True)
    return slug


# Readers with choices (issue 36): the words of content/topics.toml they pick from.
TOPICS = ("steam", "citizen-science", "open-schooling")
AUDIENCES = ("teachers", "parents")
LANGS = ("en", "nl", "fr")
COUNTRIES = ("BE", "NL", "")


def add_population(rt: Runtime, n: int, seed: int = 36) -> dict[str, Reader]:
    """``n`` confirmed readers with random choices, languages and countries (and a few
    who are not confirmed, who are never in any segment): address → Reader."""
    rng = random.Random(seed)
    out: dict[str, Reader] = {}
    with rt.db.session() as s:
        for i in range(n + 4):
            reader = Reader(rng.choice(LANGS), rng.choice(COUNTRIES),
                            frozenset(rng.sample(TOPICS, rng.choice((0, 0, 1, 2)))),
                            frozenset(rng.sample(AUDIENCES, rng.choice((0, 1)))))
            email = f"r{i}@segment.test"
            s.add(Subscriber(email=email, email_hash=email_hash(email),
                             status="confirmed" if i < n else "pending",
                             link_nonce=secrets.token_hex(8), language=reader.language,
                             country=reader.country, topics=sorted(reader.topics),
                             audiences=sorted(reader.audiences)))
            if i < n:
                out[email] = reader
    return out
