"""A project's social handles: proposed by a member of the project, confirmed by an editor.

Posts mention a project by its handle on each network (``Project.handles``), kept in the
database like every fact of the registry. A member proposes new handles on a page of
theirs; they are checked in each network's form (``registry.HANDLE_FORMS``) and kept aside
(``Project.proposed_handles``) until an editor confirms them, which puts them in use and
marks them as a browser edit (so a registry import reports a file that says otherwise,
instead of overwriting them); or declines them, with a reason the member sees. Editors
also set handles directly on the project's page (``project_edit``).

People paste what they have: a profile's address (https://x.com/ecsite) or the handle
with a leading ``@``. ``pasted`` turns either into the handle form of its network.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask_babel import gettext
from sqlalchemy import select

from ostogether.core.errors import Conflict, ContentError, ValidationError
from ostogether.core.states import NETWORK_NAMES, NETWORKS
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Project
from ostogether.registry.projects import mark_edited
from ostogether.registry.rules import HANDLE_FORMS


def cleaned(given: dict[str, str]) -> dict[str, str]:
    """The handles as they are kept: each network's, trimmed, without a leading "@" on
    X and Bluesky, ``urn:li:organization:`` dropped on LinkedIn; or ValidationError
    naming each one not in its network's form."""
    out, problems = {}, {}
    for network in NETWORKS:
        value = str(given.get(network, "") or "").strip()
        if not value:
            continue
        try:
            value = pasted(network, value)
        except ValueError as exc:
            problems[network] = gettext("%(network)s: %(why)s", network=NETWORK_NAMES[network],
                                        why=str(exc))
            continue
        if network == "bluesky":  # handles are domain names: case does not matter
            value = value.lower()
        form, example = HANDLE_FORMS[network]
        if not form.match(value):
            problems[network] = f"{NETWORK_NAMES[network]}: should be {example}"
            continue
        if network in ("x", "bluesky"):
            value = value.lstrip("@")
        if network == "mastodon":
            value = "@" + value.lstrip("@")
        if network == "linkedin":
            value = value.removeprefix("urn:li:organization:")
        out[network] = value
    if problems:
        raise ValidationError(gettext("Nothing was sent: %(problems)s.",
                                      problems="; ".join(problems.values())),
                              problems)
    return out


# ------------------------------------------------------- what people paste

# The sites whose profile addresses each network's handle can be read from. Mastodon is
# any instance: its handle is the user and the instance's host.
_SITES = {"x": ("x.com", "twitter.com"), "bluesky": ("bsky.app",),
          "linkedin": ("linkedin.com",), "facebook": ("facebook.com", "fb.com")}
_NUMBER = re.compile(r"^[0-9]{1,20}$")  # ASCII digits only: \d also takes other scripts'


def _is_address(value: str) -> bool:
    return "/" in value or value.lower().startswith(("http:", "https:"))


def pasted(network: str, value: str) -> str:
    """The handle in what someone pasted into the ``network`` field: a profile's address
    (https://x.com/ecsite, https://mastodon.social/@ecsite,
    https://bsky.app/profile/ecsite.bsky.social, https://www.linkedin.com/company/12345678,
    https://www.facebook.com/ecsite) or a handle with a leading ``@``. Anything else comes
    back trimmed, for the network's form to judge. Raises ValueError saying what to give
    instead when the address cannot name a handle."""
    value = value.strip()
    if not _is_address(value):
        # Mastodon's handle keeps its "@user@instance"; elsewhere "@" is only a habit.
        return value if network == "mastodon" else value.lstrip("@")
    parts = urlsplit(value if "://" in value else "https://" + value)
    host = (parts.hostname or "").lower()
    segments = [p for p in parts.path.split("/") if p]
    if network == "mastodon":
        if segments[:1] == ["users"] and len(segments) > 1:
            segments = ["@" + segments[1]]
        if not host or not segments or not segments[0].startswith("@"):
            raise ValueError(gettext("give the profile's address, such as "
                                     "https://mastodon.social/@ostogether, or @user@instance"))
        user, _, elsewhere = segments[0][1:].partition("@")
        return f"@{user}@{elsewhere.lower() or host}"
    sites = _SITES.get(network, ())
    if not any(host == site or host.endswith("." + site) for site in sites):
        raise ValueError(gettext("%(host)s is not %(network)s's address; give the project's "
                                 "profile there, or its handle", host=host,
                                 network=NETWORK_NAMES[network]) if host else
                         gettext("that is not %(network)s's address; give the project's "
                                 "profile there, or its handle",
                                 network=NETWORK_NAMES[network]))
    if network == "x" and segments:
        return segments[0].lstrip("@")
    if network == "bluesky" and len(segments) > 1 and segments[0] == "profile":
        if segments[1].startswith("did:"):
            raise ValueError(gettext("the address names the account by its DID; give its "
                                     "handle, e.g. ostogether.bsky.social"))
        return segments[1].lstrip("@")
    if network == "linkedin" and len(segments) > 1 and segments[0] in (
            "company", "school", "showcase"):
        if _NUMBER.match(segments[1]):
            return segments[1]
        raise ValueError(gettext("mentions need the organisation's number, not its name in "
                                 "the address ('%(name)s'). A Page admin sees the number in "
                                 "the address of the Page's admin view, "
                                 "linkedin.com/company/12345678/admin",
                                 name=segments[1][:40]))
    if network == "facebook" and segments:
        number = parse_qs(parts.query).get("id", [""])[0]
        if segments[0] == "profile.php" and _NUMBER.match(number):
            return number
        if segments[0] in ("pages", "people") and _NUMBER.match(segments[-1]):
            return segments[-1]
        return segments[0].lstrip("@")
    raise ValueError(gettext("that address is not a profile's; give the project's profile "
                             "on %(network)s, or its handle", network=NETWORK_NAMES[network]))


# ------------------------------------------------------------------- services

def propose(rt: Runtime, actor: Actor, project_id: int, given: dict[str, str]
            ) -> dict[str, str]:
    """A member's proposal, kept for an editor; returns the handles as proposed."""
    handles = cleaned(given)
    with rt.db.session() as s:
        project = s.get(Project, project_id)
        if project is None:
            raise ContentError(gettext("Your project is not in the registry."))
        if handles == (project.handles or {}):
            raise Conflict(gettext("These are the handles the service already uses; nothing "
                                   "was sent."))
        project.proposed_handles = handles
        record(s, actor, "project.handles_proposed", project, handles=handles)
    return handles


def pending(rt: Runtime) -> list[Project]:
    """Projects whose proposed handles wait for an editor."""
    with rt.db.session() as s:
        rows = [p for p in s.scalars(select(Project).order_by(Project.acronym))
                if p.proposed_handles is not None]
        s.expunge_all()
    return rows


def confirm(rt: Runtime, actor: Actor, slug: str) -> dict[str, str]:
    """Use the proposed handles. The database holds them (a project that came through
    the Join form has no file); a registry import keeps them unless told otherwise."""
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        if project is None or project.proposed_handles is None:
            raise Conflict(gettext("There are no proposed handles to confirm for this project "
                                   "(someone dealt with them already?)."))
        handles = cleaned(project.proposed_handles)
        before = dict(project.handles or {})
        project.handles, project.proposed_handles = handles, None
        if handles != before:
            mark_edited(project, ["handles"], actor)
        record(s, actor, "project.handles_confirmed", project, before=before,
               after=handles)
    return handles


def decline(rt: Runtime, actor: Actor, slug: str, reason: str) -> None:
    reason = reason.strip()
    if not reason:
        raise ValidationError(gettext("Say why, so the project can send them again "
                                      "corrected."),
                              {"reason": "say why"})
    with rt.db.session() as s:
        project = s.scalar(select(Project).where(Project.slug == slug))
        if project is None or project.proposed_handles is None:
            raise Conflict(gettext("There are no proposed handles to decline for this "
                                   "project."))
        record(s, actor, "project.handles_declined", project,
               handles=project.proposed_handles, reason=reason[:500])
        project.proposed_handles = None


def last_decision(rt: Runtime, project_id: int) -> AuditEntry | None:
    """The editors' latest answer to the project's handles (confirmed or declined, with
    the reason), for the member's page."""
    with rt.db.session() as s:
        entry = s.scalar(select(AuditEntry).where(
            AuditEntry.object_type == "projects", AuditEntry.object_id == str(project_id),
            AuditEntry.action.in_(("project.handles_confirmed", "project.handles_declined")))
            .order_by(AuditEntry.id.desc()).limit(1))
        if entry is not None:
            s.expunge(entry)
    return entry
