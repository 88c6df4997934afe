"""Editors' pages of the registry: every project, and one page per project where an
editor changes any of its facts (feed, handles and logo included), checked on save.

The page only collects what was typed; ``project_edit.save`` checks and stores it, and
its per-field sentences are put back beside the fields. Nothing typed is lost when a
check fails: the form is shown again with the editor's values (a logo already sent is
kept aside and offered again).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional

from ostogether.core.errors import Conflict
from ostogether.core.languages import LANGUAGES
from ostogether.core.states import NETWORK_NAMES, NETWORKS, SDG_LABELS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import audit
from ostogether.edges.audit import Actor
from ostogether.models import Project
from ostogether.registry import project_edit, projects
from ostogether.registry import rules as registry
from ostogether.registry.rules import HANDLE_FORMS
from ostogether.web.common import editors_only, runtime, takes_uploads
from ostogether.web.forms import MultiCheckboxField, show_problems

bp = Blueprint("editors_projects", __name__, url_prefix="/editors/projects")

editors_only(bp)


class ProjectForm(FlaskForm):
    acronym = StringField(_l("Acronym or short name"),
                          validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=400)])
    description = TextAreaField(_l("Short description"), validators=[Length(max=4000)],
                                description=_l("Two or three sentences: what the initiative "
                                               "does and for whom."))
    initiative_type = SelectField(_l("Type of initiative"))
    themes = MultiCheckboxField(_l("Themes"))
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals"), coerce=int,
                              validators=[Optional()])
    countries = StringField(_l("Countries"), validators=[Length(max=1000)],
                            description=_l("Two-letter ISO codes, separated by commas, "
                                           "e.g. BE, GR, PT."))
    programme = SelectField(_l("Funding programme"))
    call = StringField(_l("Call or topic"), validators=[Length(max=200)])
    grant_number = StringField(_l("Grant agreement number"), validators=[Length(max=40)],
                               description=_l("For EU-funded projects: the number on "
                                              "CORDIS, e.g. 101058405."))
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()],
                         description=_l("The project shows as alumni once it has passed."))
    coordinator = StringField(_l("Coordinating organisation"), validators=[Length(max=400)])
    website = URLField(_l("Website"), validators=[Length(max=500)])
    feed_url = URLField(_l("News feed (RSS or Atom)"), validators=[Length(max=500)],
                        description=_l("New entries come to the review queue. Checked when "
                                       "you save; leave empty for none."))
    contact_name = StringField(_l("Contact person"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Contact email"), validators=[Length(max=320)],
                               description=_l("Private: never shown on the public pages."))
    logo_file = FileField(_l("Logo from your computer"),
                          description=_l("A JPEG, PNG, GIF or WebP picture. It is checked, "
                                         "re-encoded without its metadata and kept by the "
                                         "service."))
    logo_url = URLField(_l("Or the logo's address"), validators=[Length(max=2000)],
                        description=_l("The service fetches the picture once and keeps it."))
    remove_logo = BooleanField(_l("Remove the logo"))
    logo_kept = HiddenField()
    notes = TextAreaField(_l("Editors' notes"), validators=[Length(max=4000)],
                          description=_l("Where facts came from; not shown to the public."))
    original = HiddenField()  # the facts as the form showed them (project_edit.snapshot)


# What each network's handle looks like (registry.rules.HANDLE_FORMS says it in English
# for the checks), as the form's help says it in the page's language.
HANDLE_HELP = {
    "x": _l("1 to 15 letters, digits or _, e.g. @ostogether; or paste the profile's "
            "address."),
    "mastodon": _l("@user@instance, e.g. @ostogether@mastodon.social; or paste the "
                   "profile's address."),
    "bluesky": _l("A domain-like handle, e.g. ostogether.bsky.social; or paste the "
                  "profile's address."),
    "linkedin": _l("The organisation's number, e.g. 12345678; or paste the profile's "
                   "address."),
    "facebook": _l("The Page's name in its address or its number, e.g. ostogether.eu; or "
                   "paste the profile's address."),
}

# Each network's field on the form: handles_x, handles_mastodon…
for _network in NETWORKS:
    setattr(ProjectForm, f"handles_{_network}", StringField(
        NETWORK_NAMES[_network], validators=[Length(max=300)],
        description=HANDLE_HELP.get(_network, HANDLE_FORMS[_network][1])))

# A project's facts as a saved change and its history name them: registry.rules's words,
# in the page's language.
FIELD_LABELS = registry.FIELD_LABELS

# What happened to a project, as its history says it.
ACTIONS = {
    "project.alumni": _l("became alumni"), "project.applied": _l("applied"),
    "project.contact_set": _l("contact set"), "project.edited": _l("edited"),
    "project.handles_confirmed": _l("handles confirmed"),
    "project.handles_declined": _l("handles declined"),
    "project.handles_proposed": _l("handles proposed"), "project.imported": _l("imported"),
    "project.member": _l("accepted as a member"), "project.rejected": _l("not accepted"),
    "project.updated": _l("updated"),
}

# The project's feed in each language, beside its main one: feeds_nl, feeds_fr…
for _code, _name in LANGUAGES.items():
    setattr(ProjectForm, f"feeds_{_code}", URLField(
        _l("News feed in %(language)s", language=_name), validators=[Length(max=500)],
        description=_l("Optional: the project's feed of its news in this language "
                       "(%(code)s). An entry with the same link or guid as one of another "
                       "of its feeds becomes that item's translation.", code=_code)))

# Where a check about a record field is shown on the form.
FIELD_FOR = {"logo": "logo_file", "status": "end_date", "handles": "handles_x",
             "feeds": "feeds_en"}


def _form(project: Project) -> ProjectForm:
    criteria = runtime().community.criteria()
    form = ProjectForm()
    form.initiative_type.choices = [("", _("Choose one"))] + list(criteria.initiative_types.items())
    form.themes.choices = list(criteria.themes.items())
    form.sdgs.choices = [(n, f"{n}. {SDG_LABELS.get(n, name)}")
                         for n, name in registry.SDG_NAMES.items()]
    known = [*criteria.eu_programmes, *criteria.other_programmes]
    form.programme.choices = ([("", _("Not funded by a programme"))] + [(p, p) for p in known]
                              + ([(project.programme, project.programme)]
                                 if project.programme and project.programme not in known
                                 else []))
    return form


def _fill(form: ProjectForm, p: Project, only: list[str] | None = None) -> None:
    """The form's fields from the project (or only the fields ``only``)."""
    for name in project_edit.EDITABLE if only is None else only:
        if name == "countries":
            form.countries.data = ", ".join(p.countries)
        elif name == "handles":
            for n in NETWORKS:
                getattr(form, f"handles_{n}").data = (p.handles or {}).get(n, "")
        elif name == "feeds":
            for code in LANGUAGES:
                getattr(form, f"feeds_{code}").data = (p.feeds or {}).get(code, "")
        elif name in ("themes", "sdgs"):
            getattr(form, name).data = list(getattr(p, name))
        else:
            getattr(form, name).data = getattr(p, name)
    form.original.data = json.dumps(project_edit.snapshot(p))


def _edit(form: ProjectForm) -> project_edit.Edit:
    d = form.data
    for name in ("description", "notes"):  # browsers send a textarea's lines with CR LF
        d[name] = (d[name] or "").replace("\r\n", "\n")
    values = {k: d[k] or "" for k in (
        "acronym", "name", "description", "initiative_type", "programme", "call",
        "grant_number", "coordinator", "website", "feed_url", "contact_name",
        "contact_email", "notes")}
    values.update(
        themes=list(d["themes"] or []), sdgs=list(d["sdgs"] or []),
        countries=(d["countries"] or "").replace(";", ",").split(","),
        start_date=d["start_date"], end_date=d["end_date"],
        handles={n: d[f"handles_{n}"] or "" for n in NETWORKS},
        feeds={code: d[f"feeds_{code}"] or "" for code in LANGUAGES})
    upload = request.files.get(form.logo_file.name)
    return project_edit.Edit(
        values=values, logo_upload=upload.read() if upload and upload.filename else None,
        logo_url=d["logo_url"] or "", logo_kept=d["logo_kept"] or "",
        remove_logo=bool(d["remove_logo"]), original=_original(d["original"] or ""))


def _original(text: str) -> dict[str, Any] | None:
    try:
        found = json.loads(text)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


@bp.route("/")
def index() -> Any:
    """Every project of the registry, with what editors most often come to change."""
    with runtime().db.session() as s:
        rows = [p for p in projects.list_all(s) if p.status != "rejected"]
        s.expunge_all()
    return render_template("editors/projects.html", projects=rows, networks=NETWORKS)


@bp.route("/<slug>", methods=["GET", "POST"])
@takes_uploads
def edit(slug: str) -> Any:
    rt = runtime()
    project = project_edit.get(rt, slug[:80])
    form = _form(project)
    outcome = project_edit.Outcome()
    status = 200
    summary: list[tuple[str, str, str]] = []
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                outcome = project_edit.save(rt, Actor.of(current_user), project.slug,
                                            _edit(form))
            except Conflict as exc:
                outcome.problems[""] = str(exc)
            if outcome.saved:
                changed = ", ".join(_label(c) for c in outcome.changed)
                flash(_("Saved %(project)s: %(fields)s.", project=project.acronym,
                        fields=changed) if changed else
                      _("Saved %(project)s: nothing changed.", project=project.acronym),
                      "success")
                return redirect(url_for("editors_projects.edit", slug=project.slug))
            show_problems(form, {_target(k): v for k, v in outcome.problems.items()})
            if outcome.current is not None:
                # What others saved meanwhile is shown, and the next save starts from it.
                _fill(form, outcome.current, outcome.refreshed)
                form.original.data = json.dumps(project_edit.snapshot(outcome.current))
            if outcome.logo:
                form.logo_kept.data = outcome.logo
        status = 400
        for f in form:
            if f.errors and f.type not in ("CSRFTokenField", "HiddenField"):
                summary.append((f.id, f.label.text, f.errors[0]))
        summary += [("", "", why) for k, why in outcome.problems.items()
                    if getattr(form, _target(k), None) is None]
    else:
        _fill(form, project)
    by_field: dict[str, list[registry.CheckResult]] = {}
    for r in outcome.results:
        if r.outcome == "warn":
            for name, message in r.notes or [(n, r.message) for n in r.fields[:1]]:
                by_field.setdefault(_target(name), []).append(
                    registry.CheckResult(r.rule, r.outcome, message, (name,)))
    with rt.db.session() as s:
        history = audit.history(s, project)
    kept = form.logo_kept.data or ""
    return render_template("editors/project.html", project=project, form=form,
                           by_field=by_field, summary=summary, history=history,
                           networks=NETWORKS, kept_logo=kept,
                           labels={k: str(v) for k, v in FIELD_LABELS.items()},
                           actions={k: str(v) for k, v in ACTIONS.items()}), status


def _target(name: str) -> str:
    if name.startswith("handles."):
        return "handles_" + name.split(".", 1)[1]
    return FIELD_FOR.get(name, name)


def _label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ")
