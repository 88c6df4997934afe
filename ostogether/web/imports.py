"""Editors' imports page: Mailchimp's audience export, past issues and Wild Apricot's
contacts are uploaded here, checked by the worker (the dry run the CLI prints, as a
page) and applied by the worker, with a progress bar and a result page. Every step is
one call into ``ostogether.imports``, which calls the imports the CLI calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length

from ostogether import imports
from ostogether.core.errors import Conflict, ContentError, OstogetherError, ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import shown
from ostogether.edges.audit import Actor
from ostogether.web.common import (
    confirmed,
    editors_only,
    runtime,
    takes_uploads,
    warn_if_no_worker,
)

bp = Blueprint("imports", __name__, url_prefix="/editors/imports")

editors_only(bp)


class ReadersForm(FlaskForm):
    file = FileField(_l("Mailchimp's export (the zip) or a CSV"),
                     render_kw={"accept": ".zip,.csv,application/zip,text/csv"})
    column_map = TextAreaField(
        # The label begins with imports.MAP_NAME, which the service's messages name.
        _l("Column map (only for another tool's CSV)"),
        description=_l("Which of the file's columns is which, one per line: THEIRS=ours, "
                       "e.g. E-mail=email. Ours are email, name, language, consent_date and "
                       "consent_source. Leave it empty for Mailchimp's export."),
        validators=[Length(max=4000)], render_kw={"rows": 3})
    tag_map = TextAreaField(
        _l("Tags to topics (optional)"),  # imports.TAGS_NAME
        description=_l("Give Mailchimp's readers topics from their tags and group values, "
                       "one per line: TAG=topic, e.g. STEM teachers=steam. The report shows "
                       "each tag with its topic and readers, and the tags left unmapped."),
        validators=[Length(max=4000)], render_kw={"rows": 3})


class ArchiveForm(FlaskForm):
    file = FileField(_l("The zip of past issues"), render_kw={"accept": ".zip,application/zip"})
    replace = BooleanField(_l("Replace past issues imported before whose file or subject "
                              "has changed"))


class MembersForm(FlaskForm):
    file = FileField(_l("Wild Apricot's contacts (CSV)"), render_kw={"accept": ".csv,text/csv"})
    assign = TextAreaField(
        _l("Contacts put in projects (optional)"),  # imports.ASSIGN_NAME
        description=_l("For contacts the report calls ambiguous or unmatched, one per line: "
                       "address = project's short name, e.g. tom@both.example = sall."),
        validators=[Length(max=20000)], render_kw={"rows": 3})


class OrganisationsForm(FlaskForm):
    file = FileField(_l("Wild Apricot's contacts, or a CSV with its column names"),
                     render_kw={"accept": ".csv,text/csv"})


FORMS: dict[str, type[FlaskForm]] = {"readers": ReadersForm, "archive": ArchiveForm,
                                     "members": MembersForm,
                                     "organisations": OrganisationsForm}
BUSY = ("checking", "queued", "running")  # the worker has it: the page may refresh itself
# Where a refusal's per-field key is shown; anything else is about the file.
FIELD_OF = {"map": "column_map", "map_tags": "tag_map", "assign": "assign"}


def _options(form: FlaskForm) -> imports.Options:
    data = form.data
    return imports.Options(column_map=data.get("column_map") or "",
                           tag_map=data.get("tag_map") or "",
                           assign=data.get("assign") or "",
                           replace=bool(data.get("replace")))


def _refused(form: FlaskForm, exc: OstogetherError) -> list[str]:
    """Put the import's sentence beside the field it is about; its list of problems
    (a manifest's, say) comes back to be shown under it."""
    name = "file"
    if isinstance(exc, ValidationError):
        name = next((FIELD_OF[k] for k in exc.fields if k in FIELD_OF), "file")
    problems = exc.problems if isinstance(exc, ContentError) else []
    head = exc.message.split("\n  - ", 1)[0] if problems else exc.message
    getattr(form, name).errors = [head]
    return problems


def _index(forms: dict[str, FlaskForm], failed: str = "", problems: list[str] | None = None,
           status: int = 200) -> Any:
    rt = runtime()
    return render_template("editors/imports.html", forms=forms, failed=failed,
                           problems=problems or [], recent=imports.recent(rt),
                           zone=rt.community.schedule().zone,
                           limit_mb=rt.settings.import_max_upload_bytes / 1e6,
                           kept_days=imports.KEPT_FOR.days), status


@bp.get("/")
def index() -> Any:
    return _index({k: cls(prefix=k) for k, cls in FORMS.items()})


@bp.post("/<kind>")
@takes_uploads(limit="import_max_upload_bytes")
def upload(kind: str) -> Any:
    """Keep the file for the worker's dry run; nothing else is written."""
    if kind not in FORMS:
        abort(404)
    forms = {k: cls(prefix=k) for k, cls in FORMS.items()}
    form = forms[kind]
    problems: list[str] = []
    if form.validate_on_submit():
        sent = form.file.data
        if not sent or not getattr(sent, "filename", ""):
            form.file.errors = [_("Choose the file to upload.")]
        else:
            try:
                import_id = imports.upload(runtime(), Actor.of(current_user), kind,
                                           sent.filename, sent.stream, _options(form))
            except OstogetherError as exc:
                problems = _refused(form, exc)
            else:
                warn_if_no_worker(runtime())
                return redirect(url_for("imports.show", import_id=import_id, watch=1))
    return _index(forms, kind, problems, 400)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e: RequestEntityTooLarge) -> Any:
    limit = runtime().settings.import_max_upload_bytes / 1e6
    return render_template(
        "errors/error.html", status=413, title=_("The file is too large"),
        message=_("An import takes files of up to %(mb)s MB here (import_max_upload_bytes). "
                  "Split the file into parts, or import it with the command line.",
                  mb=format(limit, "g"))), 413


@bp.get("/<id:import_id>")
def show(import_id: int) -> Any:
    """The dry run's report, then the progress, then what was written."""
    rt = runtime()
    run = imports.get(rt, import_id)
    phase = "result" if run.status == "done" else "check"
    outcome = request.args.get("show", "")[:20]
    page = request.args.get("page", "1")
    lines = imports.lines(rt, import_id, phase, outcome=outcome,
                          page=int(page) if page.isdigit() and len(page) < 7 else 1)
    # What the import keeps (its refusal, each line's reason) in the page's language.
    run.error = str(shown(run.error))
    for x in lines.lines:
        x.reason, x.warning = str(shown(x.reason)), str(shown(x.warning))
    again = FORMS[run.kind](prefix="again", formdata=None, data=run.options)
    zone = rt.community.schedule().zone
    return render_template(
        "editors/import.html", run=run, phase=phase, lines=lines, outcome=outcome,
        again=again, zone=zone, history=imports.history(rt, import_id, zone),
        options=imports.Options.of(run.options), stale_hours=imports.STALE,
        watch=request.args.get("watch") == "1" and run.status in BUSY)


@bp.post("/<id:import_id>/apply")
def apply(import_id: int) -> Any:
    """Queue the import for the worker: it is written there, not in this request."""
    rt = runtime()
    if FlaskForm().validate_on_submit():
        try:
            imports.apply(rt, Actor.of(current_user), import_id,
                          contacts=request.form.getlist("contact"))
        except Conflict as exc:
            flash(str(exc), "error")
            return redirect(url_for("imports.show", import_id=import_id))
        warn_if_no_worker(rt)
    return redirect(url_for("imports.show", import_id=import_id, watch=1))


@bp.post("/<id:import_id>/check")
def recheck(import_id: int) -> Any:
    """The dry run again, with other options: the worker's, as the first."""
    rt = runtime()
    run = imports.get(rt, import_id)
    form = FORMS[run.kind](prefix="again")
    if form.validate_on_submit():
        try:
            imports.recheck(rt, Actor.of(current_user), import_id, _options(form))
        except OstogetherError as exc:
            flash(_("Nothing changed: %(reason)s", reason=exc), "error")
        else:
            warn_if_no_worker(rt)
            return redirect(url_for("imports.show", import_id=import_id, watch=1))
    return redirect(url_for("imports.show", import_id=import_id))


@bp.post("/<id:import_id>/discard")
def discard(import_id: int) -> Any:
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to discard the upload.")):
        try:
            run = imports.discard(runtime(), Actor.of(current_user), import_id)
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            flash(_("%(file)s is discarded: the file and its report are deleted.",
                    file=run.file_name), "success")
            return redirect(url_for("imports.index"))
    return redirect(url_for("imports.show", import_id=import_id))
