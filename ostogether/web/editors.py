"""Editors' pages: the overview and the applications to join."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ostogether import audit, projects
from ostogether.audit import Actor
from ostogether.errors import ValidationError
from ostogether.models import Project
from ostogether.registry import ProjectRecord
from ostogether.web.app import runtime
from ostogether.web.auth import editor_required

bp = Blueprint("editors", __name__, url_prefix="/editors")


@bp.before_request
@login_required
def _guard() -> None:
    editor_required()


class DecisionForm(FlaskForm):
    reason = TextAreaField("Note or reason for the applicant",
                           description="Required to reject; sent to the applicant.",
                           validators=[Length(max=4000)])


@bp.route("/")
def index() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        waiting = projects.list_all(s, "applicant")
        listed = projects.list_public(s)
        recent = audit.recent(s)
    return render_template("editors/index.html", waiting=waiting, listed=listed, recent=recent)


@bp.route("/applications")
def applications() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        waiting = projects.list_all(s, "applicant")
        decided = [p for p in projects.list_all(s) if p.source == "application"
                   and p.status != "applicant"]
    return render_template("editors/applications.html", waiting=waiting, decided=decided)


@bp.route("/applications/<int:project_id>", methods=["GET", "POST"])
def application(project_id: int) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        project = s.get(Project, project_id)
        if project is None or project.source != "application":
            abort(404)
        history = audit.history(s, project)
    form = DecisionForm()
    status = 200
    # An application decided meanwhile is refused by the service (Conflict → error page).
    if form.validate_on_submit():
        accept = request.form.get("decision") == "accept"
        try:
            p = projects.decide(rt, project_id, Actor.of(current_user), accept=accept,
                                reason=form.reason.data or "")
        except ValidationError as exc:
            form.reason.errors = [exc.fields.get("reason", str(exc))]
            status = 400
        else:
            flash(f"{p.acronym} is now {p.status}; the applicant has been told.", "success")
            return redirect(url_for("editors.applications"))
    results = projects.evaluate(rt, ProjectRecord.from_object(project))
    return render_template("editors/application.html", project=project, form=form,
                           results=results, history=history,
                           criteria=rt.community.criteria()), status
