"""What a project coordinator pastes into a periodic report: the reporting periods of the
project's grant as presets, and the "evidence pack" of one visibility report (a zip of
CSVs, a printable HTML summary, and the archive URLs and post permalinks as plain text).

Periods follow the Horizon rule of thumb: reporting periods of ``PERIOD_MONTHS`` (18)
months from the grant's start, the last one ending with the grant. A project without
dates has the free period only. Pure: it takes the report and returns bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from html import escape
from typing import Any

from babel.dates import format_date
from babel.support import LazyProxy
from flask_babel import get_locale
from sqlalchemy.orm import Session

from ostogether.core import csvout
from ostogether.core.errors import ValidationError
from ostogether.core.states import NETWORK_NAMES
from ostogether.core.words import lazy_gettext as _l
from ostogether.models import Project
from ostogether.reach.reports import Visibility, parse_period, visibility, visibility_csv
from ostogether.registry import projects
from ostogether.social.metrics import AGES

PERIOD_MONTHS = 18


@dataclass(frozen=True)
class Period:
    key: str  # grant, rp1, rp2, …, last-12-months
    label: Any  # a lazy sentence
    start: dt.date
    end: dt.date


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _month(day: dt.date) -> Any:
    """"Jan 2025" as the page's language writes it ("janv. 2025"), when it is shown."""
    return LazyProxy(lambda: format_date(day, "MMM y", locale=get_locale() or "en"),
                     enable_cache=False)


def reporting_periods(project: Project, today: dt.date) -> list[Period]:
    """The presets of a project's report; their labels are lazy sentences in the page's
    language (English outside a request)."""
    out = [Period("last-12-months", _l("The last 12 months"),
                  today - dt.timedelta(days=364), today)]
    start, end = project.start_date, project.end_date
    if not start:
        return out
    last = end or today
    out.append(Period("grant", _l("The whole grant (%(start)s to %(end)s)",
                                  start=_month(start), end=_month(last)), start, last))
    n, first = 1, start
    while first <= last:
        stop = min(_add_months(first, PERIOD_MONTHS) - dt.timedelta(days=1), last)
        m1 = (n - 1) * PERIOD_MONTHS + 1
        m2 = m1 + (stop.year - first.year) * 12 + stop.month - first.month
        months = f"M{m1}–M{m2}"
        out.append(Period(f"rp{n}", _l("Reporting period %(num)d (%(months)s: %(start)s to "
                                       "%(end)s)", num=n, months=months, start=_month(first),
                                       end=_month(stop)), first, stop))
        n, first = n + 1, stop + dt.timedelta(days=1)
        if n > 12:
            break
    return out


def period(project: Project, key: str, today: dt.date) -> Period:
    periods = {p.key: p for p in reporting_periods(project, today)}
    if key not in periods:
        raise ValidationError(_l("%(project)s has no period '%(key)s'; choose one of "
                                 "%(keys)s, or give dates.", project=project.acronym,
                                 key=key, keys=", ".join(periods)), {"period": key})
    return periods[key]


def visibility_for(s: Session, slug: str, today: dt.date, *, start: str = "",
                   end: str = "", period_key: str = "") -> tuple[Visibility, list[Period]]:
    """One project's visibility report for a preset period of its grant (``period_key``)
    or free dates, and the presets it offers: what the web page and the CLI show."""
    first, last = parse_period(start, end, today)
    project = projects.get(s, slug, public=False)
    periods = reporting_periods(project, today)
    if period_key:
        chosen = period(project, period_key, today)
        first, last = chosen.start, chosen.end
    return visibility(s, slug, first, last), periods


# ------------------------------------------------------------------------- the pack

def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    return csvout.to_csv(rows, header=header).encode("utf-8-sig")  # Excel reads UTF-8 then


def _counts(m: dict[str, Any] | None) -> str:
    if m is None:
        return "not taken yet"
    if not m["available"]:
        return "not available" + (f" ({m['note']})" if m.get("note") else "")
    return ", ".join(f"{k} {v}" for k, v in m["counts"].items())


def pack(report: Visibility, base_url: str, site_name: str) -> bytes:
    base = base_url.rstrip("/")
    p = report.project
    items = [[i["id"], i["submitted"].isoformat(), i["kind"], i["title"], i["status"],
              i["link"], " ".join(f"#{n}" for n in i["issues"]),
              " ".join(i["networks"]), i.get("clicks", 0)] for i in report.items]
    issues = [[i["number"], i["sent_at"].date().isoformat() if i["sent_at"] else "",
               i["subject"], f"{base}/archive/{i['number']}", i["items"], i["recipients"],
               i.get("delivered", 0), i.get("clicks", 0), i.get("views", 0)]
              for i in report.issues]
    posts = []
    for post in report.posts:
        for age in AGES:
            m = post["metrics"].get(age)
            posts.append([post["published"].date().isoformat() if post["published"] else "",
                          NETWORK_NAMES.get(post["network"], post["network"]), post["title"],
                          post["url"], age,
                          "" if m is None else ("yes" if m["available"] else "no"),
                          _counts(m) if m is None or not m["available"] else "; ".join(
                              f"{k}={v}" for k, v in m["counts"].items()),
                          m["taken_at"].isoformat(timespec="minutes") if m else "",
                          m["api_version"] if m else ""])
    links = [f"Visibility of {p.acronym} ({p.name}), {report.start} to {report.end}", "",
             "Newsletter issues (web versions):",
             *(f"  #{i['number']} {i['subject']}: {base}/archive/{i['number']}"
               for i in report.issues), "", "Social media posts:",
             *(f"  {NETWORK_NAMES.get(x['network'], x['network'])}, "
               f"{x['published']:%Y-%m-%d}: {x['url']}" for x in report.posts
               if x["url"] and x["published"]), ""]
    buf = io.BytesIO()
    stamp = (report.end.year, report.end.month, report.end.day, 0, 0, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: bytes) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data)

        put("summary.html", summary_html(report, base, site_name).encode())
        put("links.txt", "\n".join(links).encode())
        put("items.csv", _csv(["id", "submitted", "kind", "title", "status", "link",
                               "issues", "networks", "newsletter_clicks"], items))
        put("issues.csv", _csv(["number", "sent", "subject", "archive_url", "items_of_project",
                                "recipients", "delivered", "clicks_on_project_items",
                                "archive_views"],
                               issues))
        put("posts.csv", _csv(["published", "network", "title", "permalink", "age",
                               "available", "counts", "taken_at", "api_version"], posts))
        put("all.csv", visibility_csv(report, base).encode("utf-8-sig"))
    return buf.getvalue()


def summary_html(report: Visibility, base: str, site_name: str) -> str:
    p = report.project
    e = escape

    def table(head: list[str], rows: list[list[Any]]) -> str:
        if not rows:
            return "<p>None in this period.</p>"
        return ("<table><thead><tr>" + "".join(f'<th scope="col">{e(h)}</th>' for h in head)
                + "</tr></thead><tbody>" + "".join(
                    "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
                + "</tbody></table>")

    items = [[e(i["submitted"].isoformat()), f'<a href="{e(i["link"])}">{e(i["title"])}</a>',
              e(" ".join(f"#{n}" for n in i["issues"]) or "—"),
              e(", ".join(NETWORK_NAMES.get(n, n) for n in i["networks"]) or "—"),
              i.get("clicks", 0)] for i in report.items]
    issues = [[f'<a href="{e(base)}/archive/{i["number"]}">#{i["number"]}</a>',
               e(i["sent_at"].date().isoformat() if i["sent_at"] else ""), e(i["subject"]),
               i["recipients"], i.get("delivered", 0), i.get("clicks", 0), i.get("views", 0)]
              for i in report.issues]
    posts = [[e(x["published"].date().isoformat() if x["published"] else ""),
              e(NETWORK_NAMES.get(x["network"], x["network"])),
              f'<a href="{e(x["url"])}">{e(x["title"])}</a>' if x["url"] else e(x["title"]),
              *(e(_counts(x["metrics"].get(age))) for age in AGES)] for x in report.posts]
    grant = f", grant agreement No {e(p.grant_number)}" if p.grant_number else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Visibility of {e(p.acronym)}</title>
<style>body{{font-family:Arial,Helvetica,sans-serif;margin:2rem;color:#222;line-height:1.4}}
table{{border-collapse:collapse;margin:1rem 0;width:100%}}th,td{{border:1px solid #bbb;
padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}}</style></head><body>
<h1>Visibility of {e(p.acronym)} in {e(site_name)}</h1>
<p><strong>{e(p.name)}</strong>{grant}. Period: {report.start:%d %B %Y} to
{report.end:%d %B %Y}.</p>
<ul>
<li>{len(report.items)} item(s) submitted, {report.featured} featured</li>
<li>{len(report.issues)} newsletter issue(s), reaching {report.readers_reached} reader(s);
{report.clicks} click(s) on the project's items; {report.views} view(s) of those issues'
web versions</li>
<li>{len(report.posts)} social media post(s)</li>
<li>{report.readers_brought} reader(s) brought through the project's own sign-up form</li>
</ul>
<p>Clicks are counted per issue, item and day, never per reader: at most one click per
link and one view per issue for each visitor a day; robots and link scanners are left
out. Readers brought are new readers who signed up through the project's form and
confirmed, each once. Social figures are the networks' public counts, taken 48 hours, 7 days and
28 days after posting and kept as taken.</p>
<h2>Items</h2>{table(["Submitted", "Item", "Issues", "Networks", "Clicks"], items)}
<h2>Newsletter issues</h2>{table(["Issue", "Sent", "Subject", "Recipients", "Delivered",
                                  "Clicks", "Archive views"], issues)}
<h2>Social media posts</h2>{table(["Published", "Network", "Post", "After 48 hours",
                                   "After 7 days", "After 28 days"], posts)}
</body></html>
"""
