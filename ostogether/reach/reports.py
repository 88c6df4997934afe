"""What the community achieved, in figures: the editors' dashboard and each project's
visibility report (for its EU periodic reports).

Every function reads the database and returns plain data; the faces draw it (SVG charts
from ``ostogether.core.charts``, tables, CSV, JSON).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import Session

from ostogether.core import csvout
from ostogether.core.errors import NotFound, ValidationError
from ostogether.core.states import NETWORKS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.runtime import Runtime
from ostogether.models import (
    AuditEntry,
    ClickCount,
    ConsentEvent,
    Delivery,
    Issue,
    IssueItem,
    NewsItem,
    Output,
    PostMetric,
    Project,
    ReaderCredit,
    SocialPost,
    Subscriber,
    output_projects,
)
from ostogether.newsletter import clicks
from ostogether.social import metrics as post_metrics

FOLLOWS = ("confirm", "import")  # consent-log actions that make a reader confirmed


# Months and weeks are the community's (the zone of schedules/), not UTC's: a reader who
# confirms at 00:30 on 1 January in Brussels counts in January.

def _month(when: dt.datetime, zone: dt.tzinfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m")


def last_months(now: dt.datetime, count: int, zone: dt.tzinfo = dt.UTC) -> list[str]:
    local = now.astimezone(zone)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


@dataclass(frozen=True)
class SubscriberMonth:
    month: str
    confirmed: int
    unsubscribed: int
    bounced: int


def subscribers_by_month(s: Session, now: dt.datetime, months: int = 12,
                         zone: dt.tzinfo = dt.UTC) -> list[SubscriberMonth]:
    """Per month: readers who confirmed (or were imported), unsubscribed, bounced."""
    names = last_months(now, months, zone)
    start = dt.datetime.strptime(names[0] + "-01", "%Y-%m-%d").replace(tzinfo=zone)
    confirmed: Counter[str] = Counter()
    unsubscribed: Counter[str] = Counter()
    for action, at in s.execute(select(ConsentEvent.action, ConsentEvent.at).where(
            ConsentEvent.at >= start, ConsentEvent.action.in_((*FOLLOWS, "unsubscribe")))):
        (confirmed if action in FOLLOWS else unsubscribed)[_month(at, zone)] += 1
    bounced = Counter(_month(at, zone) for at in s.scalars(select(AuditEntry.at).where(
        AuditEntry.action == "subscriber.bounced", AuditEntry.at >= start)))
    return [SubscriberMonth(m, confirmed[m], unsubscribed[m], bounced[m]) for m in names]


@dataclass(frozen=True)
class IssueFigures:
    number: int
    sent_at: dt.datetime | None
    recipients: int
    delivered: int
    bounced: int
    failed: int


def issues_sent(s: Session, limit: int = 12) -> list[IssueFigures]:
    """The last sent issues, oldest first: recipients, delivered, bounced, failed."""
    issues = list(s.execute(select(Issue.id, Issue.number, Issue.sent_at, Issue.send_recipients)
                            .where(Issue.status == "sent", Issue.kind == "issue")
                            .order_by(Issue.send_at.desc())
                            .limit(limit)))[::-1]
    counts: dict[int, Counter[str]] = {i.id: Counter() for i in issues}
    for issue_id, status, n in s.execute(
            select(Delivery.issue_id, Delivery.status, func.count()).where(
                Delivery.issue_id.in_(list(counts))).group_by(Delivery.issue_id,
                                                               Delivery.status)):
        counts[issue_id][status] = n
    return [IssueFigures(i.number or 0, i.sent_at, i.send_recipients, counts[i.id]["sent"],
                         counts[i.id]["bounced"], counts[i.id]["failed"]) for i in issues]


def iso_week(when: dt.datetime, zone: dt.tzinfo = dt.UTC) -> str:
    iso = when.astimezone(zone).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def social_by_week(s: Session, now: dt.datetime, weeks: int = 12, zone: dt.tzinfo = dt.UTC
                   ) -> tuple[list[str], dict[str, list[int]]]:
    """Published posts per network and ISO week, for the last ``weeks`` weeks."""
    names = [iso_week(now - dt.timedelta(weeks=k), zone) for k in range(weeks - 1, -1, -1)]
    start = now - dt.timedelta(weeks=weeks)
    per: dict[str, Counter[str]] = {n: Counter() for n in NETWORKS}
    for network, at in s.execute(select(SocialPost.network, SocialPost.published_at).where(
            SocialPost.status == "published", SocialPost.published_at >= start)):
        if at is not None and network in per:
            per[network][iso_week(at, zone)] += 1
    return names, {n: [per[n][w] for w in names] for n in NETWORKS}


@dataclass(frozen=True)
class ProjectItems:
    slug: str
    acronym: str
    submitted: int
    approved: int
    published: int


def items_per_project(s: Session) -> list[ProjectItems]:
    """Per project with any item: submitted (all ever), approved (incl. published),
    published (carried by a sent issue)."""
    counts: dict[int, Counter[str]] = {}
    for project_id, status, n in s.execute(select(NewsItem.project_id, NewsItem.status,
                                                  func.count()).group_by(
            NewsItem.project_id, NewsItem.status)):
        counts.setdefault(project_id, Counter())[status] = n
    projects = {p.id: p for p in s.scalars(select(Project).where(Project.id.in_(list(counts))))}
    rows = [ProjectItems(projects[pid].slug, projects[pid].acronym, sum(c.values()),
                         c["approved"] + c["published"], c["published"])
            for pid, c in counts.items()]
    return sorted(rows, key=lambda r: (-r.submitted, r.acronym))


# -------------------------------------------------------------------- visibility

@dataclass
class Visibility:
    """One project's visibility in a period: what it sent, what was featured where."""

    project: Project
    start: dt.date
    end: dt.date
    items: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    # The project's public outputs of the results library, each with the issues whose
    # "From the library" featured it and the clicks on it there in the period.
    outputs: list[dict[str, Any]] = field(default_factory=list)
    # Confirmed readers who signed up through the project's own sign-up form.
    readers_brought: int = 0

    @property
    def featured(self) -> int:
        return sum(1 for i in self.items if i["issues"] or i["networks"])

    @property
    def readers_reached(self) -> int:
        return sum(i["recipients"] for i in self.issues)

    @property
    def clicks(self) -> int:
        return sum(i.get("clicks", 0) for i in self.items)

    @property
    def views(self) -> int:
        return sum(i.get("views", 0) for i in self.issues)

    def as_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            return v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
        return {"project": self.project.slug, "acronym": self.project.acronym,
                "from": self.start.isoformat(), "to": self.end.isoformat(),
                "items_submitted": len(self.items), "items_featured": self.featured,
                "issues": len(self.issues), "readers_reached": self.readers_reached,
                "social_posts": len(self.posts), "readers_brought": self.readers_brought,
                "clicks": self.clicks, "archive_views": self.views,
                "items": [{k: plain(v) for k, v in i.items()} for i in self.items],
                "newsletter_issues": [{k: plain(v) for k, v in i.items()} for i in self.issues],
                "posts": [{k: plain(v) for k, v in p.items()} for p in self.posts],
                "outputs": [{k: plain(v) for k, v in o.items()} for o in self.outputs],
                "output_clicks": sum(o["clicks"] for o in self.outputs)}


def readers_brought(s: Session, slug: str, since: dt.datetime | None = None,
                    until: dt.datetime | None = None) -> int:
    """New readers the project brought through its own site's form, still confirmed, by
    the time they confirmed: each address at most once, ever (``reader_credits``)."""
    q = (select(func.count()).select_from(ReaderCredit)
         .join(Project, Project.id == ReaderCredit.project_id)
         .join(Subscriber, Subscriber.email_hash == ReaderCredit.email_hash)
         .where(Project.slug == slug, Subscriber.status == "confirmed"))
    if since is not None:
        q = q.where(ReaderCredit.at >= since)
    if until is not None:
        q = q.where(ReaderCredit.at < until)
    return int(s.scalar(q) or 0)



def parse_period(start: str, end: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """Dates like 2026-01-01; the default is the 365 days up to ``end`` (or today)."""
    try:
        b = dt.date.fromisoformat(end) if end else today
        a = dt.date.fromisoformat(start) if start else b - dt.timedelta(days=364)
        if not (dt.date(2000, 1, 1) <= a and b <= dt.date(2999, 12, 30)):
            raise ValidationError(_l("Give dates between 2000 and 2999."),
                                  {"period": "dates between 2000 and 2999"})
    except (ValueError, OverflowError):
        raise ValidationError(_l("Dates must look like 2026-01-31."),
                              {"period": "dates like 2026-01-31"}) from None
    if a > b:
        raise ValidationError(_l("The period starts after it ends; swap the dates."),
                              {"period": "start after end"})
    return a, b


def visibility(s: Session, slug: str, start: dt.date, end: dt.date) -> Visibility:
    project = s.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound(_l("There is no project '%(slug)s' in the registry.", slug=slug))
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    report = Visibility(project, start, end)
    items = list(s.scalars(select(NewsItem).where(
        NewsItem.project_id == project.id, NewsItem.created_at >= lo,
        NewsItem.created_at < hi).order_by(NewsItem.created_at)))
    ids = [i.id for i in items]
    carried: dict[int, list[int]] = {}
    carried_by: dict[int, list[int]] = {}  # item → the ids of the sent issues with it
    issue_rows: dict[int, dict[str, Any]] = {}
    for item_id, issue in s.execute(select(IssueItem.item_id, Issue).join(Issue).where(
            IssueItem.item_id.in_(ids), Issue.status == "sent", Issue.kind == "issue")
            .order_by(Issue.send_at)):
        carried.setdefault(item_id, []).append(issue.number or 0)
        carried_by.setdefault(item_id, []).append(issue.id)
        row = issue_rows.setdefault(issue.id, {
            "number": issue.number, "sent_at": issue.sent_at, "subject": issue.subject,
            "recipients": issue.send_recipients, "items": 0})
        row["items"] += 1
    posts = list(s.scalars(select(SocialPost).where(
        SocialPost.project_id == project.id, SocialPost.status == "published",
        SocialPost.published_at >= lo, SocialPost.published_at < hi)
        .order_by(SocialPost.published_at)))
    networks: dict[int, list[str]] = {}
    for p in posts:
        if p.item_id:
            networks.setdefault(p.item_id, []).append(p.network)
    report.items = [{"id": i.id, "submitted": i.created_at.date(), "kind": i.kind,
                     "title": i.title, "status": i.status, "link": i.link,
                     "issues": carried.get(i.id, []), "networks": networks.get(i.id, [])}
                    for i in items]
    report.issues = list(issue_rows.values())
    snapshots = post_metrics.of_posts(s, [p.id for p in posts])

    def taken(post_id: int) -> dict[str, Any]:
        return {age: ({"available": m.available, "counts": dict(m.counts),
                       "taken_at": m.taken_at, "api_version": m.api_version,
                       "note": m.note} if (m := snapshots.get(post_id, {}).get(age))
                      else None) for age in post_metrics.AGES}

    report.posts = [{"id": p.id, "metrics": taken(p.id),
                     "published": p.published_at, "network": p.network, "title": p.title,
                     "url": p.remote_url, "source": f"item {p.item_id}" if p.item_id
                     else f"evergreen {p.evergreen_key}"} for p in posts]
    report.readers_brought = readers_brought(s, project.slug, lo, hi)
    clicked = clicks.clicks_by_item(s, ids, start, end)
    views = clicks.views_by_issue(s, issue_rows, start, end)
    for i in report.items:
        i["clicks"] = sum(n for (_, item), n in clicked.items() if item == i["id"])
        i["sent_to"] = sent_to(s, i["id"], carried_by.get(i["id"], []))
    delivered = dict(s.execute(select(Delivery.issue_id, func.count()).where(
        Delivery.issue_id.in_(list(issue_rows)), Delivery.status == "sent")
        .group_by(Delivery.issue_id)).all()) if issue_rows else {}
    for issue_id, row in issue_rows.items():
        row["delivered"] = int(delivered.get(issue_id, 0))
        row["clicks"] = sum(n for (iss, _), n in clicked.items() if iss == issue_id)
        row["views"] = views.get(issue_id, 0)
    report.outputs = output_clicks(s, project.id, start, end)
    return report


def sent_to(s: Session, item_id: int, issue_ids: list[int]) -> int:
    """The readers an item was sent to in ``issue_ids``: each delivery sent records the
    items its reader got (``deliveries.items``, "1,5,7"; NULL, from before readers chose,
    is every item)."""
    if not issue_ids:
        return 0
    held = (literal(",") + Delivery.items + literal(",")).like(f"%,{int(item_id)},%")
    return int(s.scalar(select(func.count()).where(
        Delivery.issue_id.in_(issue_ids), Delivery.status == "sent",
        or_(Delivery.items.is_(None), held))) or 0)


def output_clicks(s: Session, project_id: int, start: dt.date, end: dt.date
                  ) -> list[dict[str, Any]]:
    """The project's public outputs: the sent issues that featured each in "From the
    library", and the newsletter's clicks on it in the period."""
    found = list(s.scalars(select(Output).join(output_projects).where(
        output_projects.c.project_id == project_id, Output.status == "approved")
        .order_by(Output.title, Output.id)))
    clicked = clicks.clicks_by_output(s, start, end)
    featured: dict[int, list[int]] = {}
    for number, ids in s.execute(select(Issue.number, Issue.library_outputs).where(
            Issue.status == "sent").order_by(Issue.send_at)):
        for i in ids or ():
            featured.setdefault(int(i), []).append(number or 0)
    return [{"id": o.id, "title": o.title, "slug": o.slug, "url": o.url,
             "issues": featured.get(o.id, []), "clicks": clicked.get(o.id, 0)}
            for o in found]


CSV_COLUMNS = ("type", "date", "title", "detail", "status", "url", "recipients", "clicks",
               "archive_views")


def visibility_rows(report: Visibility, base_url: str = "") -> list[list[Any]]:
    """The report as rows of ``CSV_COLUMNS``: one per item, issue and post, and the
    readers brought."""
    rows: list[list[Any]] = []
    for i in report.items:
        detail = "; ".join([*(f"issue #{n}" for n in i["issues"]), *i["networks"]])
        rows.append(["item", i["submitted"].isoformat(), i["title"],
                     detail or "not featured", i["status"], i["link"], i.get("sent_to", 0),
                     i.get("clicks", 0), ""])
    for i in report.issues:
        rows.append(["newsletter", i["sent_at"].date().isoformat() if i["sent_at"] else "",
                     i["subject"], f"issue #{i['number']}, {i['items']} item(s)", "sent",
                     f"{base_url}/archive/{i['number']}" if base_url else "",
                     i["recipients"], i.get("clicks", 0), i.get("views", 0)])
    for p in report.posts:
        rows.append(["social", p["published"].date().isoformat() if p["published"] else "",
                     p["title"], p["network"], "published", p["url"], "", "", ""])
    for o in report.outputs:
        detail = "; ".join(f"issue #{n}" for n in o["issues"])
        rows.append(["output", "", o["title"], detail or "not featured", "approved",
                     f"{base_url}/library/{o['slug']}" if base_url else o["url"], "",
                     o["clicks"], ""])
    rows.append(["readers", report.end.isoformat(), "Readers you brought",
                 "confirmed sign-ups through the project's own form", "confirmed", "",
                 report.readers_brought, "", ""])
    return rows


def visibility_csv(report: Visibility, base_url: str = "") -> str:
    """The report as one CSV table."""
    return csvout.to_csv(visibility_rows(report, base_url), header=CSV_COLUMNS)


@dataclass
class FairShare:
    slug: str
    acronym: str
    last_number: int | None
    last_sent: dt.datetime | None
    waiting: int  # approved items not yet carried


def fair_share(s: Session, last_issues: int) -> list[FairShare]:
    """Member projects not featured in the last ``last_issues`` sent issues, the longest
    unfeatured first, with how many approved items each has waiting."""
    recent = list(s.scalars(select(Issue.id).where(Issue.status == "sent")
                            .order_by(Issue.send_at.desc()).limit(last_issues)))
    featured_recently = set(s.scalars(select(NewsItem.project_id).join(IssueItem).where(
        IssueItem.issue_id.in_(recent))))
    last: dict[int, tuple[int | None, dt.datetime | None]] = {}
    for project_id, number, sent_at in s.execute(
            select(NewsItem.project_id, Issue.number, Issue.sent_at)
            .join(IssueItem, IssueItem.item_id == NewsItem.id).join(Issue)
            .where(Issue.status == "sent").order_by(Issue.send_at)):
        last[project_id] = (number, sent_at)
    waiting = dict(s.execute(select(NewsItem.project_id, func.count()).where(
        NewsItem.status == "approved").group_by(NewsItem.project_id)).all())
    rows = [FairShare(p.slug, p.acronym, *last.get(p.id, (None, None)), waiting.get(p.id, 0))
            for p in s.scalars(select(Project).where(Project.status == "member")
                               .order_by(Project.acronym)) if p.id not in featured_recently]
    far = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(rows, key=lambda r: (r.last_sent or far, r.acronym))


# -------------------------------------------------------------------- dashboard

def lookback(rt: Runtime) -> int:
    """How many recent issues the fair share looks at (newsletter.toml)."""
    return rt.community.newsletter().lookback_issues or 3


@dataclass
class IssueClicks:
    number: int
    clicks: int
    views: int


def clicks_per_issue(s: Session, limit: int = 12) -> list[IssueClicks]:
    """Clicks on items and archive views of the last sent issues, oldest first."""
    issues = list(s.scalars(select(Issue).where(Issue.status == "sent", Issue.kind == "issue")
                            .order_by(Issue.sent_at.desc()).limit(limit)))
    ids = [i.id for i in issues]
    clicked = dict(s.execute(select(ClickCount.issue_id, func.sum(ClickCount.clicks)).where(
        ClickCount.issue_id.in_(ids)).group_by(ClickCount.issue_id)).all())
    views = clicks.views_by_issue(s, ids)
    return [IssueClicks(i.number or 0, int(clicked.get(i.id) or 0), views.get(i.id, 0))
            for i in reversed(issues)]


@dataclass
class NetworkReach:
    network: str
    posts: int  # published in the last year
    measured: int  # with a snapshot that has figures
    unavailable: int  # whose latest snapshot is "not available"
    interactions: int  # likes, shares, replies… of the latest snapshot (not impressions)


def reach_per_network(s: Session, now: dt.datetime) -> list[NetworkReach]:
    since = now - dt.timedelta(days=365)
    posts = dict(s.execute(select(SocialPost.id, SocialPost.network).where(
        SocialPost.status == "published", SocialPost.published_at >= since)).all())
    latest: dict[int, Any] = {}
    order = {age: n for n, age in enumerate(post_metrics.AGES)}
    for m in s.scalars(select(PostMetric).where(PostMetric.post_id.in_(list(posts)))):
        if m.post_id not in latest or order[m.age] > order[latest[m.post_id].age]:
            latest[m.post_id] = m
    out = []
    for network in NETWORKS:
        mine = [pid for pid, n in posts.items() if n == network]
        snaps = [latest[pid] for pid in mine if pid in latest]
        out.append(NetworkReach(
            network, len(mine), sum(m.available for m in snaps),
            sum(not m.available for m in snaps),
            sum(int(v) for m in snaps if m.available for k, v in m.counts.items()
                if "impression" not in k and k not in ("clicks", "bookmark"))))
    return out


@dataclass
class Figures:
    """Everything the dashboard's charts and tables show."""

    months: list[SubscriberMonth]
    sent: list[IssueFigures]
    weeks: list[str]
    per_network: dict[str, list[int]]
    per_project: list[ProjectItems]
    posts_to_check: int
    lookback: int
    unfeatured: list[FairShare]
    clicks: list[IssueClicks] = field(default_factory=list)
    reach: list[NetworkReach] = field(default_factory=list)


def figures(rt: Runtime, now: dt.datetime) -> Figures:
    """The dashboard's figures as of the minute of ``now``. Some thirty queries: where the
    database has a change signal (SQLite), they are made again only when something was
    committed, the minute turned, or the timetable or the newsletter's rules changed;
    editors who keep the dashboard open in several tabs do not repeat them. Read them,
    never change them."""
    n, zone = lookback(rt), rt.community.schedule().zone
    now = now.replace(second=0, microsecond=0)
    return rt.db.until_commit(("figures", now, n, zone), lambda: _figures(rt, now, n, zone))


def _figures(rt: Runtime, now: dt.datetime, n: int, zone: Any) -> Figures:
    with rt.db.session() as s:
        weeks, per_network = social_by_week(s, now, zone=zone)
        return Figures(
            months=subscribers_by_month(s, now, zone=zone), sent=issues_sent(s), weeks=weeks,
            per_network=per_network, per_project=items_per_project(s),
            posts_to_check=s.scalar(select(func.count()).select_from(SocialPost).where(
                SocialPost.status.in_(("unknown", "failed")))) or 0,
            lookback=n, unfeatured=fair_share(s, n), clicks=clicks_per_issue(s),
            reach=reach_per_network(s, now))
