"""The results library's pages: the public library (search, facets, a page per output,
its Atom feed and JSON), the members' form and list of their outputs, and the editors'
page of outputs waiting for review. One blueprint for the area; each route says who may
use it. OAI-PMH is in ``web/oai.py``."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.validators import Length

from ostogether.core.errors import PermissionDenied, ValidationError
from ostogether.core.states import ITEM_LANGUAGES, SDG_LABELS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import audit, media
from ostogether.edges.audit import Actor
from ostogether.library import finding, legacy, outputs
from ostogether.library.content import Vocabulary, vocabulary
from ostogether.registry import projects
from ostogether.web.common import (
    confirmed,
    editor_required,
    json_error,
    runtime,
    takes_uploads,
)
from ostogether.web.forms import MultiCheckboxField, show_problems
from ostogether.web.i18n import PARAMETER, page_language

bp = Blueprint("library", __name__)


def _words() -> Vocabulary:
    """The library's vocabularies with their labels in the page's language."""
    return vocabulary(runtime().community).in_language(page_language())


def _sdg_names() -> dict[int, str]:
    """The Sustainable Development Goals by the UN's names in the page's language."""
    return {n: str(name) for n, name in SDG_LABELS.items()}


def _split(text: str | None) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


# Generous caps only stop absurd bodies; the rules and their messages are the service's.
class OutputForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=20000)])
    type = SelectField(_l("Type"), validate_choice=False)
    description = TextAreaField(_l("Description"),
                                description=_l("What it is and who it is for."),
                                validators=[Length(max=50000)])
    url = URLField(_l("Address (URL)"),
                   description=_l("Where people find it, starting https://."),
                   validators=[Length(max=20000)])
    languages = MultiCheckboxField(_l("Languages"), default=["en"])
    licence = SelectField(_l("Licence"), validate_choice=False,
                          description=_l("As the output states it; leave empty if it "
                                         "states none."))
    age_ranges = MultiCheckboxField(_l("For whom"))
    subjects = MultiCheckboxField(_l("School subjects"))
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals"), coerce=int)
    keywords = StringField(_l("Keywords"), description=_l("Separated by commas."),
                           validators=[Length(max=20000)])
    organisations = StringField(_l("Organisations that made it"),
                                description=_l("Names, separated by commas."),
                                validators=[Length(max=20000)])
    doi = StringField(_l("DOI (optional)"), description=_l("Like 10.5281/zenodo.1234567."),
                      validators=[Length(max=20000)])
    date = StringField(_l("Date (optional)"), description=_l("When it was published, like "
                                                             "2023-06-30."),
                       validators=[Length(max=100)])
    image_file = FileField(_l("Picture (optional)"),
                           description=_l("A JPEG or PNG; it is kept here."))
    image_url = URLField(_l("or the picture's address"), validators=[Length(max=20000)])
    image_alt = StringField(_l("Picture description"),
                            description=_l("For people who cannot see it."),
                            validators=[Length(max=20000)])
    archived_url = URLField(_l("Archived copy (optional)"),
                            description=_l("Zenodo, Software Heritage or a web archive: "
                                           "shown if the site goes away."),
                            validators=[Length(max=20000)])

    def fill_choices(self) -> None:
        vocab = _words()
        self.type.choices = list(vocab.types.items())
        self.licence.choices = [("", _("Not stated")), *vocab.licences.items()]
        self.age_ranges.choices = list(vocab.age_ranges.items())
        self.subjects.choices = list(vocab.subjects.items())
        self.sdgs.choices = [(n, f"{n}. {name}") for n, name in _sdg_names().items()]
        self.languages.choices = list(ITEM_LANGUAGES.items())

    def to_input(self) -> outputs.OutputInput:
        d = self.data
        return outputs.OutputInput(
            title=d["title"] or "", description=d["description"] or "", type=d["type"] or "",
            url=d["url"] or "", languages=list(d["languages"] or []),
            licence=d["licence"] or "", age_ranges=list(d["age_ranges"] or []),
            subjects=list(d["subjects"] or []), sdgs=list(d["sdgs"] or []),
            keywords=_split(d["keywords"]), organisations=_split(d["organisations"]),
            doi=d["doi"] or "", date=d["date"] or None, image_url=d["image_url"] or "",
            image_alt=d["image_alt"] or "", archived_url=d["archived_url"] or "")


def _keep_picture(form: OutputForm) -> bool:
    """A picture sent with the form is kept like every other (``edges.media``), and the
    form then carries the kept copy's address."""
    upload = form.image_file.data
    if not upload or not getattr(upload, "filename", ""):
        return True
    rt = runtime()
    try:
        form.image_url.data = media.keep_upload(rt, upload.read(rt.settings.media_max_bytes + 1))
    except ValidationError as exc:
        form.image_file.errors = [_("This picture cannot be used: %(problem)s.",
                                    problem=exc)]
        return False
    return True


# ------------------------------------------------------------------- public pages

def _query_args() -> dict[str, str]:
    """The search's parameters: the page's own, without the language (web/i18n.py)."""
    return {k: v for k, v in request.args.items() if k != PARAMETER}


@bp.route("/library")
def index() -> Any:
    rt = runtime()
    problem = ""
    try:
        query = finding.Query.from_args(_query_args())
    except ValidationError as exc:
        query, problem = finding.Query(), str(exc)
    with rt.db.session() as s:
        found = finding.search(rt, s, query, words=_words(), sdg_names=_sdg_names())
    status = 400 if problem else 200
    return render_template("library/index.html", found=found, query=query, problem=problem,
                           facets=FACET_NAMES, vocab=_words()), status


FACET_NAMES = {"type": _l("Type"), "age": _l("For whom"), "subject": _l("Subject"),
               "sdg": _l("Sustainable Development Goal"), "language": _l("Language"),
               "licence": _l("Licence"), "project": _l("Project")}


@bp.route("/library.json")
def listing() -> Any:
    rt = runtime()
    try:
        query = finding.Query.from_args(_query_args(), allowed=("q", *finding.FACETS))
    except ValidationError as exc:
        return json_error(422, str(exc), fields=exc.fields)
    with rt.db.session() as s:
        return jsonify(finding.listing(rt, s, query))


@bp.route("/library.atom")
def atom() -> Any:
    return Response(finding.atom(runtime()), mimetype="application/atom+xml")


@bp.route("/library/<key>")
def output_page(key: str) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        output = outputs.public(s, key)
        data = finding.learning_resource(rt, output)
    # JSON inside <script>: "</" and "<!--" may not appear as such.
    json_ld = Markup(json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c"))
    return render_template("library/output.html", output=output, json_ld=json_ld,
                           vocab=_words(), languages=ITEM_LANGUAGES, sdgs=_sdg_names())


# ------------------------------------------------------------------- members

def _member() -> int:
    if current_user.role != "member" or current_user.project_id is None:
        raise PermissionDenied(_("These pages are for member projects' accounts. Editors "
                                 "review outputs on the editors' library page."))
    return int(current_user.project_id)


@bp.route("/members/library")
@login_required
def member_outputs() -> Any:
    rt = runtime()
    project_id = _member()
    with rt.db.session() as s:
        rows = outputs.list_by_status(s, project_id=project_id)
        project = projects.by_id(s, project_id)
    return render_template("library/member_outputs.html", outputs=rows, project=project,
                           vocab=_words())


@bp.route("/members/library/new", methods=["GET", "POST"])
@login_required
@takes_uploads
def new_output() -> Any:
    rt = runtime()
    project_id = _member()
    form = OutputForm()
    form.fill_choices()
    if form.validate_on_submit() and _keep_picture(form):
        try:
            output = outputs.submit(rt, Actor.of(current_user), form.to_input(),
                                    source="web", project_id=project_id,
                                    user_id=current_user.id)
        except ValidationError as exc:
            show_problems(form, exc.fields)
        else:
            flash(_("Thank you: \u201c%(title)s\u201d is sent. The editors will review "
                    "it before it appears in the library.", title=output.title), "success")
            return redirect(url_for("library.member_outputs"))
    with rt.db.session() as s:
        project = projects.by_id(s, project_id)
    return render_template("library/output_form.html", form=form, project=project), (
        400 if form.errors else 200)


@bp.route("/members/library/<id:output_id>/withdraw", methods=["POST"])
@login_required
def member_withdraw(output_id: int) -> Any:
    project_id = _member()
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to withdraw the output.")):
        output = outputs.withdraw(runtime(), Actor.of(current_user), output_id,
                                  project_id=project_id)
        flash(_("\u201c%(title)s\u201d is withdrawn from the library.", title=output.title),
              "success")
    return redirect(url_for("library.member_outputs"))


# ------------------------------------------------------------------- editors

class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), description=_l("The project reads it."),
                           validators=[Length(max=4000)])


@bp.route("/editors/library")
@login_required
def review() -> Any:
    editor_required()
    rt = runtime()
    with rt.db.session() as s:
        waiting = outputs.list_by_status(s, "submitted")
        public = outputs.list_by_status(s, "approved")
        histories = {o.id: audit.story(s, o, rt.community.schedule().zone) for o in waiting}
    return render_template("library/review.html", waiting=waiting, public=public,
                           histories=histories, vocab=_words(),
                           form=RejectForm(), zone=rt.community.schedule().zone)


@bp.route("/editors/library/<id:output_id>/approve", methods=["POST"])
@login_required
def approve(output_id: int) -> Any:
    editor_required()
    if FlaskForm().validate_on_submit():
        output = outputs.approve(runtime(), Actor.of(current_user), output_id)
        flash(_("\u201c%(title)s\u201d is in the library now.", title=output.title),
              "success")
    return redirect(url_for("library.review"))


@bp.route("/editors/library/<id:output_id>/reject", methods=["POST"])
@login_required
def reject(output_id: int) -> Any:
    editor_required()
    form = RejectForm()
    if form.validate_on_submit():
        try:
            output = outputs.reject(runtime(), Actor.of(current_user), output_id,
                                    form.reason.data or "")
        except ValidationError as exc:
            flash(_("Not rejected: %(problem)s", problem=exc), "error")
        else:
            flash(_("\u201c%(title)s\u201d is rejected; the project sees your reason.",
                    title=output.title), "success")
    return redirect(url_for("library.review"))


@bp.route("/editors/library/<id:output_id>/withdraw", methods=["POST"])
@login_required
def withdraw(output_id: int) -> Any:
    editor_required()
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to withdraw the output.")):
        output = outputs.withdraw(runtime(), Actor.of(current_user), output_id)
        flash(_("\u201c%(title)s\u201d is withdrawn from the library.", title=output.title),
              "success")
    return redirect(url_for("library.review"))


# ------------------------------------------------------------------- legacy

def _archive(project_id: int | None, output_id: int) -> None:
    try:
        output = legacy.record_archive(runtime(), Actor.of(current_user), output_id,
                                       request.form.get("archived_url", ""),
                                       project_id=project_id)
    except ValidationError as exc:
        flash(_("Not saved: %(problem)s", problem=exc), "error")
    else:
        flash(_("Archived copy of \u201c%(title)s\u201d recorded.", title=output.title)
              if output.archived_url else
              _("Archived copy of \u201c%(title)s\u201d removed.", title=output.title),
              "success")


@bp.route("/members/library/<id:output_id>/archive", methods=["POST"])
@login_required
def member_archive(output_id: int) -> Any:
    project_id = _member()
    if FlaskForm().validate_on_submit():
        _archive(project_id, output_id)
    return redirect(url_for("library.member_outputs"))


@bp.route("/editors/library/<id:output_id>/archive", methods=["POST"])
@login_required
def archive(output_id: int) -> Any:
    editor_required()
    if FlaskForm().validate_on_submit():
        _archive(None, output_id)
    return redirect(url_for("library.review") + "#dead")
