"""Rendering an issue: the templates' context (sections, items, credits, the readers'
placeholders), the current rendering or the approved snapshot, and the public rendering
that editors preview and the archive serves.

An issue has one version per language its readers read (``issue_languages``): the frame,
section titles and footer in that language (content/newsletter.toml's
[languages.<code>]), the subject, preheader and editorial the editors wrote for it (else
its defaults: the automatic lines in that language, the editorial as written, marked with
its language), and each item in that language where it has a translation, otherwise in
its own language marked with ``lang`` and a short label ("in het Engels"). Each version is
compiled once, never per reader; the community's own language is the fallback of all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session, selectinload

from ostogether.core import compose
from ostogether.core.languages import NEWSLETTER
from ostogether.core.sanitize import markdown_to_text, stored_markup
from ostogether.core.states import KINDS
from ostogether.edges import media
from ostogether.edges.render import (
    ISSUE_PREHEADER,
    ISSUE_SUBJECT,
    RenderedIssue,
    assemble,
    block,
    personalise,
    placeholder,
    placeholder_key,
    render_issue,
    render_line,
)
from ostogether.edges.runtime import Runtime, secret_key
from ostogether.models import (
    Issue,
    IssueText,
    NewsItem,
    Organisation,
    Output,
    Project,
    Subscriber,
)

SUBJECT_LIMIT = 200  # stored; pre-flight asks for 90 or fewer
PREHEADER_LIMIT = 200
SAME_TEXTS = ("subject", "preheader", "intro")  # what may be "the same for every language"


# ------------------------------------------------------------------ languages

def base_language(rt: Runtime) -> str:
    """The community's own language: the issue's own texts, everyone's fallback."""
    return rt.community.site().language


def reader_languages(s: Session) -> dict[str, int]:
    """Confirmed readers per language."""
    return {lang or "": n for lang, n in s.execute(
        select(Subscriber.language, func.count()).where(Subscriber.status == "confirmed")
        .group_by(Subscriber.language))}


def issue_languages(rt: Runtime, s: Session) -> list[str]:
    """The versions an issue is compiled in: the community's language, then every other
    newsletter language that confirmed readers read (never one per reader)."""
    base = base_language(rt)
    others = sorted(lang for lang in reader_languages(s)
                    if lang in NEWSLETTER and lang != base)
    return [base, *others]


def version_for(language: str, versions: list[str] | tuple[str, ...], base: str) -> str:
    """The version a reader of ``language`` gets: theirs, else the community's."""
    return language if language in versions else base


def issue_text(issue: Issue, language: str) -> IssueText | None:
    return next((t for t in issue.texts if t.language == language), None)


def lines_written(issue: Issue, language: str, base: str) -> tuple[str, str]:
    """The subject and preheader the editors gave ``language`` ("" where they gave none:
    then the automatic line in that language)."""
    if language == base:
        return issue.subject, issue.preheader
    own = issue_text(issue, language)
    same = set(issue.same_texts or ())
    if issue.announcement:  # no automatic lines: the editor's own, else the community's
        return ((own.subject if own and "subject" not in same else "") or issue.subject,
                (own.preheader if own and "preheader" not in same else "")
                or issue.preheader)
    return (issue.subject if "subject" in same else (own.subject if own else ""),
            issue.preheader if "preheader" in same else (own.preheader if own else ""))


def intro_for(issue: Issue, language: str, base: str) -> tuple[str, str, str]:
    """(Markdown, HTML, its language) of the editorial for ``language``: the one written
    for it, else the community's own."""
    own = issue_text(issue, language) if language != base else None
    if own is not None and own.intro_md and "intro" not in (issue.same_texts or ()):
        return own.intro_md, own.intro_html, language
    return issue.intro_md, issue.intro_html, base


def texts(rules: compose.Rules, language: str, site: Any, number: int | None,
          send_date: dt.date) -> dict[str, Any]:
    """The frame's fixed texts in ``language``, their {fields} filled."""
    t = dict(rules.text(language))
    months = t.get("months") or [""] * 12

    def fill(key: str, **values: Any) -> None:
        if key in t:
            t[key] = t[key].format(**values)
    if number is not None and number < 0:  # an announcement (A3 is -3): not "#-3"
        t["heading"] = t.get("announcement_heading") or "{short_name} announcement"
        fill("heading", short_name=site.short_name)
        for key in ("view_in_browser", "archive_before"):  # "this announcement"
            t[key] = t.get(f"announcement_{key}") or t.get(key, "")
    else:
        fill("heading", short_name=site.short_name, number=number)
    fill("dateline", month=months[send_date.month - 1], year=send_date.year)
    fill("you_receive", short_name=site.short_name)
    fill("sent_by", sender_name=site.sender_name, name=site.name,
         facilitator=site.facilitator)
    fill("postal", postal_address=site.postal_address)
    t["funding_statement"] = t.get("funding_statement") or site.funding_statement
    t["funding_credit"] = t.get("funding_credit") or site.funding_credit
    t["funding_disclaimer"] = t.get("funding_disclaimer") or site.funding_disclaimer
    return t


def language_label(t: dict[str, Any], language: str) -> str:
    """"in het Engels": how a reader's texts name another language."""
    return str(t.get(f"in_{language}") or t.get("in_other", ""))


def automatic_lines(rt: Runtime, issue: Issue, items: list[NewsItem],
                    language: str | None = None) -> tuple[str, str]:
    """The subject and preheader the templates give an issue with ``items`` in
    ``language`` (the community's own by default)."""
    lang = language or base_language(rt)
    rules, site = rt.community.newsletter(), rt.community.site()
    send_date = issue.send_at.astimezone(rt.community.schedule().zone).date()
    shown = []
    for i in items:
        tr = i.in_language(lang) if i.language != lang else None
        shown.append({"title": tr.title if tr else i.title, "project": i.project})
    context = {"number": issue.number, "items": shown, "site": site,
               "send_date": send_date, "language": lang,
               "t": texts(rules, lang, site, issue.number, send_date),
               "projects": sorted({i.project.acronym for i in items})}
    return (render_line(rt.community, ISSUE_SUBJECT, SUBJECT_LIMIT, **context),
            render_line(rt.community, ISSUE_PREHEADER, PREHEADER_LIMIT, **context))


# ------------------------------------------------------------------ the context

def credit_line(rules: compose.Rules, project: Project, language: str = "") -> str | None:
    """The funding credit for a project, or None for a project with no programme."""
    if not project.programme:
        return None
    credits = rules.credits_for(language) if language else rules.credits
    if not project.grant_number:
        template = credits.get(
            "no_grant", "{acronym} is funded by the European Union ({programme}).")
    else:
        template = credits.get(project.programme, credits.get(
            "default", "{acronym} is funded under {programme}, grant agreement No "
                       "{grant_number}."))
    return template.format(acronym=project.acronym, name=project.name,
                           programme=project.programme, grant_number=project.grant_number)


def _event_when(item: NewsItem, t: dict[str, Any]) -> str:
    start = item.local_start()
    if start is None:
        return ""

    def day(at: dt.datetime) -> str:
        return str(t["event_date"]).format(
            weekday=t["weekdays"][at.weekday()], day=at.day, month=t["months"][at.month - 1],
            year=at.year, time=f"{at:%H:%M}")
    text = f"{day(start)} {start.tzname()}"
    if item.event_end is not None:
        end = item.event_end.astimezone(start.tzinfo)
        text += f" – {end:%H:%M}" if end.date() == start.date() else f" – {day(end)}"
    return text


def _item(rt: Runtime, item: NewsItem, lang: str, t: dict[str, Any],
          kept: dict[str, Any]) -> dict[str, Any]:
    """One item as a reader of ``lang`` gets it: translated, or marked as in its own
    language (WCAG 3.1.2: a screen reader then reads it with the right voice)."""
    tr = item.in_language(lang) if item.language != lang else None
    title = tr.title if tr else item.title
    link = (tr.link or item.link) if tr else item.link
    registration = item.registration_url or item.link
    if tr and tr.link and registration == item.link:
        registration = tr.link
    own = tr is None and bool(item.language) and item.language != lang
    html = stored_markup(tr.summary_html if tr else item.summary_html)
    if own:
        html = Markup('<div lang="{}">{}</div>').format(item.language, html)
    return {
        "id": item.id, "kind": item.kind, "kind_label": KINDS.get(item.kind, ""),
        "title": title, "summary_html": html,
        "summary_text": markdown_to_text(tr.summary_md if tr else item.summary_md),
        "link": link,
        "image_url": media.url_of(rt, kept[item.image_url]) if item.image_url in kept
        else item.image_url, "image_alt": item.image_alt,
        "project": item.project.acronym, "project_name": item.project.name,
        "when": _event_when(item, t), "location": item.event_location,
        "online": item.event_online, "registration_url": registration,
        "register_label": str(t.get("register_for", "{title}")).format(
            title=title if len(title) <= 45 else title[:39] + "…"),  # Jinja2's truncate(40)
        "language": lang if tr else item.language,
        "lang_attr": Markup(' lang="{}"').format(item.language) if own else "",
        "language_label": language_label(t, item.language) if own else "",
        "translated": tr is not None,
    }


def output_page(rt: Runtime, output: Output) -> str:
    """An output's page in the results library: where the newsletter leads."""
    return f"{rt.settings.public_url.rstrip('/')}/library/{output.slug}"


def issue_outputs(issue: Issue) -> list[Output]:
    """The approved outputs of the issue's "From the library" section, in order (one
    withdrawn since is left out)."""
    s = object_session(issue)
    ids = [int(i) for i in issue.library_outputs or ()]
    if s is None or not ids:
        return []
    found = {o.id: o for o in s.scalars(select(Output).options(
        selectinload(Output.projects)).where(Output.id.in_(ids),
                                             Output.status == "approved"))}
    return [found[i] for i in ids if i in found]


def _output(rt: Runtime, output: Output) -> dict[str, Any]:
    """An output as the templates show an item: its title to its page in the library."""
    summary = output.description.strip()
    summary = summary if len(summary) <= 400 else summary[:399].rsplit(" ", 1)[0] + "…"
    return {
        "id": -output.id, "kind": "output", "kind_label": "", "title": output.title,
        "summary_html": Markup("<p>{}</p>").format(summary) if summary else Markup(""),
        "summary_text": summary, "link": output_page(rt, output),
        "image_url": "", "image_alt": "",
        "project": ", ".join(p.acronym for p in output.projects),
        "project_name": "", "when": "", "location": "", "online": False,
        "registration_url": "", "register_label": "", "language": "", "lang_attr": "",
        "language_label": "", "translated": False,
    }


# A first issue has no last one: its "New in the community" looks this far back.
NEWCOMERS_FIRST_DAYS = 61


def newcomers(rt: Runtime, issue: Issue, most: int) -> list[dict[str, Any]]:
    """The organisations and projects accepted since the last issue went out (for a
    first issue, in the last ``NEWCOMERS_FIRST_DAYS`` days), oldest first, at most
    ``most``: as the templates show an item, each to its page in the registry."""
    s = object_session(issue)
    if s is None:
        return []
    since = s.scalar(select(func.max(Issue.sent_at)).where(
        Issue.status == "sent", Issue.id != issue.id, Issue.sent_at.is_not(None)))
    if since is None:
        since = issue.send_at - dt.timedelta(days=NEWCOMERS_FIRST_DAYS)
    public = rt.settings.public_url.rstrip("/")
    types = rt.community.criteria().organisation_types
    found: list[tuple[dt.datetime, dict[str, Any]]] = []
    for org in s.scalars(select(Organisation).where(
            Organisation.status == "member", Organisation.decided_at > since)):
        place = ", ".join(filter(None, (org.city, org.country)))
        found.append((org.decided_at or since, _newcomer(
            org.name, f"{public}/organisations/{org.slug}",
            " · ".join(filter(None, (types.get(org.type, ""), place))))))
    for project in s.scalars(select(Project).where(
            Project.status == "member", Project.decided_at > since)):
        found.append((project.decided_at or since, _newcomer(
            f"{project.acronym}: {project.name}" if project.name != project.acronym
            else project.acronym, f"{public}/registry/{project.slug}", project.description)))
    return [entry for _, entry in sorted(found, key=lambda f: f[0])[:most]]


def _newcomer(title: str, link: str, about: str) -> dict[str, Any]:
    about = about.strip()
    about = about if len(about) <= 300 else about[:299].rsplit(" ", 1)[0] + "…"
    return {
        "id": 0, "kind": "newcomer", "kind_label": "", "title": title,
        "summary_html": Markup("<p>{}</p>").format(about) if about else Markup(""),
        "summary_text": about, "link": link, "image_url": "", "image_alt": "",
        "project": "", "project_name": "", "when": "", "location": "", "online": False,
        "registration_url": "", "register_label": "", "language": "", "lang_attr": "",
        "language_label": "", "translated": False,
    }


def context(rt: Runtime, issue: Issue, language: str | None = None) -> dict[str, Any]:
    """Everything the issue templates get, for the version in ``language`` (the
    community's own by default). ``issue.entries`` must be loaded."""
    rules = rt.community.newsletter()
    site = rt.community.site()
    own_language = base_language(rt)
    lang = language or own_language
    public = rt.settings.public_url.rstrip("/")
    key = issue_key(rt, issue)
    send_date = issue.send_at.astimezone(rt.community.schedule().zone).date()
    t = texts(rules, lang, site, issue.number, send_date)
    sections: list[dict[str, Any]] = []
    projects: dict[int, Project] = {}
    # Pictures the service keeps are served from it (``media``); the pre-flight keeps them.
    kept = media.known(rt, sorted({e.item.image_url for e in issue.entries
                                   if e.item.image_url}))
    for sec in rules.sections:
        if sec.editorial:
            intro_md, intro_html, intro_lang = intro_for(issue, lang, own_language)
            if intro_md:
                other = intro_lang != lang
                html = stored_markup(intro_html)
                sections.append({
                    "key": sec.key, "title": rules.title(sec, lang), "editorial": True,
                    "intro_html": Markup('<div lang="{}">{}</div>').format(intro_lang, html)
                    if other else html, "intro_text": intro_md, "items": [],
                    "language_label": language_label(t, intro_lang) if other else ""})
            continue
        if sec.newcomers:
            joined = newcomers(rt, issue, sec.max_items)
            if joined:
                sections.append({"key": sec.key, "title": rules.title(sec, lang),
                                 "editorial": False, "items": joined})
            continue
        if sec.library:
            shelf = [_output(rt, o) for o in issue_outputs(issue)]
            if shelf:
                sections.append({"key": sec.key, "title": rules.title(sec, lang),
                                 "editorial": False, "items": shelf})
            continue
        rows = [e for e in issue.entries if e.section == sec.key]
        items = []
        for e in sorted(rows, key=lambda e: e.position):
            projects[e.item.project_id] = e.item.project
            items.append({**_item(rt, e.item, lang, t, kept),
                          "begin": block("item", e.item.id, key),
                          "end": block("item", e.item.id, key, end=True)})
        if items:
            sections.append({"key": sec.key, "title": rules.title(sec, lang),
                             "editorial": False, "items": items})
    for sec_ in sections:  # the marks the delivery cuts each reader's mail along
        sec_["begin"] = block("section", sec_["key"], key)
        sec_["end"] = block("section", sec_["key"], key, end=True)
        for n, item in enumerate(sec_["items"]):
            if "begin" not in item:  # newcomers, outputs: for everyone
                item["begin"] = block("line", f"{sec_['key']}-{n}", key)
                item["end"] = block("line", f"{sec_['key']}-{n}", key, end=True)
    t["nothing_for_you"] = str(t.get("nothing_for_you", "")).replace(
        "{choices}", placeholder("choices", key))
    featured = sorted(projects.values(), key=lambda p: p.acronym.lower())
    credits = [c for c in (credit_line(rules, p, lang) for p in featured) if c]
    subject, preheader = lines_written(issue, lang, own_language)
    if not subject or not preheader:
        auto = automatic_lines(rt, issue, [e.item for e in sorted(
            issue.entries, key=lambda e: (e.section_order, e.position))], lang)
        subject, preheader = subject or auto[0], preheader or auto[1]
    return {
        "issue": {"number": issue.number, "send_date": send_date},
        "subject": subject, "preheader": preheader, "language": lang, "t": t,
        "sections": sections, "credits": credits, "site": site,
        "emblem_url": f"{public}/static/eu-emblem.png",
        "archive_url": f"{public}/archive" + ("" if lang == own_language else f"?lang={lang}"),
        "web_url": placeholder("web_url", key),
        "preferences_url": placeholder("preferences_url", key),
        "unsubscribe_url": placeholder("unsubscribe_url", key),
        "marks": {"preheader_begin": block("line", "preheader", key),
                  "preheader_end": block("line", "preheader", key, end=True),
                  "nothing_begin": block("nothing", 0, key),
                  "nothing_end": block("nothing", 0, key, end=True)},
    }


def issue_key(rt: Runtime, issue: Issue) -> str:
    """The secret of this issue's placeholders (``render.placeholder_key``)."""
    return placeholder_key(secret_key(rt.settings), issue.id)


def render_current(rt: Runtime, issue: Issue, language: str | None = None) -> RenderedIssue:
    """The issue as it stands now, in ``language`` (raises ContentError for a template or
    MJML error)."""
    return render_issue(rt.community, context(rt, issue, language))


def marked(rt: Runtime, issue: Issue, language: str | None = None) -> RenderedIssue:
    """The approved snapshot (of ``language``, else the community's) if there is one,
    else the issue as it stands, with the marks of its blocks (what the delivery cuts)."""
    if issue.snapshot_sha256:
        own = next((v for v in issue.snapshots if v.language == language), None) \
            if language and language != base_language(rt) else None
        if own is not None:
            return RenderedIssue(own.subject, own.preheader, own.html, own.text)
        return RenderedIssue(issue.snapshot_subject, issue.snapshot_preheader,
                             issue.snapshot_html, issue.snapshot_text)
    return render_current(rt, issue, language)


def whole(rt: Runtime, issue: Issue, out: RenderedIssue) -> RenderedIssue:
    """``out`` as a reader who chose nothing gets it: every item, no marks."""
    key = issue_key(rt, issue)
    return RenderedIssue(out.subject, out.preheader, assemble(out.html, key),
                         assemble(out.text, key, is_html=False))


def rendered(rt: Runtime, issue: Issue, language: str | None = None) -> RenderedIssue:
    """The approved snapshot (of ``language``, else the community's) if there is one,
    else the issue as it stands: the whole issue, as the archive, the previews, the test
    sends and the feed show it."""
    return whole(rt, issue, marked(rt, issue, language))


def web_url(rt: Runtime, number: int | None, language: str = "") -> str:
    """The web version of an issue in ``language`` (the community's: no parameter); an
    announcement's (its number negated) is under /archive/announcements/."""
    public = rt.settings.public_url.rstrip("/")
    own = not language or language == base_language(rt)
    path = (f"announcements/{-number}" if number is not None and number < 0
            else str(number))
    return f"{public}/archive/{path}" + ("" if own else f"?lang={language}")


def web_values(rt: Runtime, issue: Issue, language: str = "") -> dict[str, str]:
    """What the placeholders become where nobody is personal: the web version and tests."""
    public = rt.settings.public_url.rstrip("/")
    return {"web_url": web_url(rt, issue.number, language),
            "preferences_url": f"{public}/newsletter/manage",
            "unsubscribe_url": f"{public}/newsletter/manage"}


def public_rendering(rt: Runtime, issue: Issue, language: str | None = None
                     ) -> RenderedIssue:
    """``rendered`` with the placeholders filled with public links: what editors preview
    and test, and (once sent) the web version in the archive."""
    out = rendered(rt, issue, language)
    values = web_values(rt, issue, language or "")
    return RenderedIssue(out.subject, out.preheader,
                         personalise(out.html, values, issue_key(rt, issue), is_html=True),
                         personalise(out.text, values, issue_key(rt, issue), is_html=False))
