"""Rendering an issue: the templates' context (sections, items, credits, the readers'
placeholders), the current rendering or the approved snapshot, and the public rendering
that editors preview and the archive serves."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from ostogether.core import compose
from ostogether.core.sanitize import markdown_to_text, stored_markup
from ostogether.core.states import KINDS
from ostogether.edges import media
from ostogether.edges.render import (
    RenderedIssue,
    personalise,
    placeholder,
    placeholder_key,
    render_issue,
)
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.models import Issue, NewsItem, Project


def credit_line(rules: compose.Rules, project: Project) -> str | None:
    """The funding credit for a project, or None for a project with no programme."""
    if not project.programme:
        return None
    if not project.grant_number:
        template = rules.credits.get(
            "no_grant", "{acronym} is funded by the European Union ({programme}).")
    else:
        template = rules.credits.get(project.programme, rules.credits.get(
            "default", "{acronym} is funded under {programme}, grant agreement No "
                       "{grant_number}."))
    return template.format(acronym=project.acronym, name=project.name,
                           programme=project.programme, grant_number=project.grant_number)


def _event_when(item: NewsItem) -> str:
    start = item.local_start()
    if start is None:
        return ""
    text = f"{start:%a} {start.day} {start:%B %Y, %H:%M} {start.tzname()}"
    if item.event_end is not None:
        end = item.event_end.astimezone(start.tzinfo)
        text += (f" – {end:%H:%M}" if end.date() == start.date()
                 else f" – {end:%a} {end.day} {end:%B %Y, %H:%M}")
    return text


def context(rt: Runtime, issue: Issue) -> dict[str, Any]:
    """Everything the issue templates get. ``issue.entries`` must be loaded."""
    rules = rt.community.newsletter()
    site = rt.community.site()
    base = rt.settings.public_url.rstrip("/")
    key = issue_key(rt, issue)
    sections: list[dict[str, Any]] = []
    projects: dict[int, Project] = {}
    # Pictures the service keeps are served from it (``media``); the pre-flight keeps them.
    kept = media.known(rt, sorted({e.item.image_url for e in issue.entries
                                   if e.item.image_url}))
    for sec in rules.sections:
        if sec.editorial:
            if issue.intro_md:
                sections.append({"key": sec.key, "title": sec.title, "editorial": True,
                                 "intro_html": stored_markup(issue.intro_html),
                                 "intro_text": issue.intro_md, "items": []})
            continue
        rows = [e for e in issue.entries if e.section == sec.key]
        items = []
        for e in sorted(rows, key=lambda e: e.position):
            item = e.item
            projects[item.project_id] = item.project
            items.append({
                "id": item.id, "kind": item.kind, "kind_label": KINDS.get(item.kind, ""),
                "title": item.title, "summary_html": _in_language(item, site.language),
                "summary_text": markdown_to_text(item.summary_md), "link": item.link,
                "image_url": media.url_of(rt, kept[item.image_url]) if item.image_url in
                kept else item.image_url, "image_alt": item.image_alt,
                "project": item.project.acronym, "project_name": item.project.name,
                "when": _event_when(item), "location": item.event_location,
                "online": item.event_online,
                "registration_url": item.registration_url or item.link,
                "language": item.language,
                # WCAG 3.1.2: an item in another language than the issue says so.
                "lang_attr": Markup(' lang="{}"').format(item.language)
                if item.language and item.language != site.language else "",
            })
        if items:
            sections.append({"key": sec.key, "title": sec.title, "editorial": False,
                             "items": items})
    featured = sorted(projects.values(), key=lambda p: p.acronym.lower())
    credits = [c for c in (credit_line(rules, p) for p in featured) if c]
    return {
        "issue": {"number": issue.number, "send_date": issue.send_at.astimezone(
            rt.community.schedule().zone).date()},
        "subject": issue.subject, "preheader": issue.preheader,
        "sections": sections, "credits": credits, "site": site,
        "emblem_url": f"{base}/static/eu-emblem.png",
        "archive_url": f"{base}/archive",
        "web_url": placeholder("web_url", key),
        "preferences_url": placeholder("preferences_url", key),
        "unsubscribe_url": placeholder("unsubscribe_url", key),
    }


def _in_language(item: NewsItem, issue_language: str) -> Markup:
    """The item's HTML, marked with its language when that is not the issue's (WCAG
    3.1.2: a screen reader then reads it with the right voice)."""
    html = stored_markup(item.summary_html)
    if item.language and item.language != issue_language:
        return Markup('<div lang="{}">{}</div>').format(item.language, html)
    return html


def issue_key(rt: Runtime, issue: Issue) -> str:
    """The secret of this issue's placeholders (``render.placeholder_key``)."""
    return placeholder_key(secret_key(rt.settings), issue.id)


def render_current(rt: Runtime, issue: Issue) -> RenderedIssue:
    """The issue as it stands now (raises ContentError for a template or MJML error)."""
    return render_issue(rt.community, context(rt, issue))


def rendered(rt: Runtime, issue: Issue) -> RenderedIssue:
    """The approved snapshot if there is one, else the issue as it stands."""
    if issue.snapshot_sha256:
        return RenderedIssue(issue.snapshot_subject, issue.snapshot_preheader,
                             issue.snapshot_html, issue.snapshot_text)
    return render_current(rt, issue)


def web_values(rt: Runtime, issue: Issue) -> dict[str, str]:
    """What the placeholders become where nobody is personal: the web version and tests."""
    base = rt.settings.public_url.rstrip("/")
    return {"web_url": f"{base}/archive/{issue.number}",
            "preferences_url": f"{base}/newsletter/manage",
            "unsubscribe_url": f"{base}/newsletter/manage"}


def public_rendering(rt: Runtime, issue: Issue) -> RenderedIssue:
    """``rendered`` with the placeholders filled with public links: what editors preview
    and test, and (once sent) the web version in the archive."""
    out = rendered(rt, issue)
    values = web_values(rt, issue)
    return RenderedIssue(out.subject, out.preheader,
                         personalise(out.html, values, issue_key(rt, issue), is_html=True),
                         personalise(out.text, values, issue_key(rt, issue), is_html=False))
