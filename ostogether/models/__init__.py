"""SQLAlchemy 2 typed models: one file per domain, every class importable from here
(``from ostogether.models import Project``), and every table on one ``Base.metadata``
that the migrations are compared with.

- ``registry``: projects (members, alumni and applicants), user accounts and API tokens
  (migrations 0001, 0002);
- ``news``: news items and feeds (0002), items' translations (0021);
- ``newsletter``: issues, their items, the link-check cache (0003), the delivery ledger
  and its workers (0005), the per-language texts and snapshots (0021);
- ``readers``: subscribers, the consent log and the suppression list (0004);
- ``social``: social posts and the networks' sessions (0006);
- ``ops``: the audit log, the rate-limit ledger (0001), the worker's runs, lease and
  marks (0007);
- ``reach``: the reach figures and the domain check (0010, 0011, 0016);
- ``media``: kept pictures and their uploads (0012, 0013);
- ``imports``: the imports uploaded on the editors' page (0018);
- ``library``: the results library's outputs and the projects that made them (0019);
- ``organisations``: the community's organisations, their projects, and people (0020);
- ``base``: the declarative base, the UTC type and the one lookup by id.

The states every stateful model may take are fixed in ``ostogether.core.states``.
"""

from __future__ import annotations

from ostogether.models.base import MAX_ID, NAMING, Base, UTCDateTime, id_or_none, lookup
from ostogether.models.imports import ImportLine, ImportRun
from ostogether.models.library import Output, output_projects
from ostogether.models.media import MediaFile, SocialUpload
from ostogether.models.news import Feed, NewsItem, NewsItemTranslation
from ostogether.models.newsletter import (
    Delivery,
    DeliveryWorker,
    Issue,
    IssueItem,
    IssueSnapshot,
    IssueText,
    LinkCheck,
)
from ostogether.models.ops import AuditEntry, JobMark, JobRun, RateLimitHit, SchedulerLease
from ostogether.models.organisations import Organisation, OrganisationProject, Person
from ostogether.models.reach import (
    ArchiveView,
    ClickCount,
    DomainCheck,
    PostMetric,
    ReachVisit,
    ReaderCredit,
)
from ostogether.models.readers import ConsentEvent, Subscriber, Suppression
from ostogether.models.registry import ApiToken, Project, User
from ostogether.models.social import SocialPost, SocialSession

__all__ = ["MAX_ID", "NAMING", "ApiToken", "ArchiveView", "AuditEntry", "Base", "ClickCount",
           "ConsentEvent", "Delivery", "DeliveryWorker", "DomainCheck", "Feed", "ImportLine",
           "ImportRun", "Issue", "IssueItem", "IssueSnapshot", "IssueText", "JobMark",
           "JobRun", "LinkCheck", "MediaFile", "NewsItem", "NewsItemTranslation",
           "Organisation", "OrganisationProject", "Output", "Person",
           "PostMetric", "Project", "RateLimitHit", "ReachVisit", "ReaderCredit",
           "SchedulerLease", "SocialPost", "SocialSession", "SocialUpload", "Subscriber",
           "Suppression", "UTCDateTime", "User", "id_or_none", "lookup",
           "output_projects"]
