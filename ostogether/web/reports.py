"""Visibility reports: what one project sent in a period and where it was featured.
A member sees their own project's report; editors see every project's. The same report
downloads as CSV, and the page prints cleanly for a periodic report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ostogether.core.errors import PermissionDenied
from ostogether.core.states import SUBMITTING_STATUSES
from ostogether.models import Project
from ostogether.reach import evidence, reports
from ostogether.registry import projects
from ostogether.social.metrics import AGES
from ostogether.social.metrics import labels as metric_labels
from ostogether.web.common import runtime
from ostogether.web.i18n import kind_labels

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _project_slug() -> str:
    """The project asked for, if the user may see it."""
    asked = request.args.get("project", "").strip()
    if current_user.is_editor:
        return asked
    with runtime().db.session() as s:
        own = projects.by_id(s, current_user.project_id).slug \
            if current_user.project_id else ""
    if asked and asked != own:
        raise PermissionDenied(_("You can see your own project's report only."))
    if not own:
        raise PermissionDenied(_("Your account belongs to no project."))
    return own


def _report() -> tuple[reports.Visibility | None, list[Project], str, str,
                       list[evidence.Period], str]:
    """The report asked for: a preset period of the project's grant (``period``), or
    free dates (``from``, ``to``)."""
    rt = runtime()
    slug = _project_slug()
    key = request.args.get("period", "")
    start, end = reports.parse_period(request.args.get("from", ""),
                                      request.args.get("to", ""), rt.today())
    report: reports.Visibility | None = None
    periods: list[evidence.Period] = []
    with rt.db.session() as s:
        choices = projects.list_all(s, SUBMITTING_STATUSES) if current_user.is_editor else []
        if slug:
            report, periods = evidence.visibility_for(
                s, slug, rt.today(), start=request.args.get("from", ""),
                end=request.args.get("to", ""), period_key=key)
            start, end = report.start, report.end
        s.expunge_all()
    return report, choices, start.isoformat(), end.isoformat(), periods, key


@bp.route("/visibility")
@login_required
def visibility() -> Any:
    report, choices, start, end, periods, key = _report()
    return render_template("reports/visibility.html", report=report, choices=choices,
                           start=start, end=end, periods=periods, period=key,
                           ages=AGES, kinds=kind_labels(), metric_words=metric_labels())


@bp.route("/visibility.zip")
@login_required
def evidence_pack() -> Any:
    """The evidence pack: CSVs, a printable summary and the links, in one zip."""
    report, _, start, end, _, _ = _report()
    if report is None:
        raise PermissionDenied("Choose a project.")
    rt = runtime()
    data = evidence.pack(report, rt.settings.public_url, rt.community.site().name)
    name = f"evidence-{report.project.slug}-{start}-{end}.zip"
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/visibility.csv")
@login_required
def visibility_csv() -> Any:
    report, _, start, end, _, _ = _report()
    if report is None:
        raise PermissionDenied("Choose a project.")
    name = f"visibility-{report.project.slug}-{start}-{end}.csv"
    return Response(reports.visibility_csv(report, runtime().settings.public_url),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
