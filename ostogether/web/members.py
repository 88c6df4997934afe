"""Member projects' pages: their items and states, the submission form, API tokens, and
the project's social handles."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from ostogether.accounts import tokens
from ostogether.core.errors import Conflict, Duplicate, PermissionDenied, ValidationError
from ostogether.core.inputs import ascii_int
from ostogether.core.states import ITEM_STATUSES, NETWORK_NAMES, NETWORKS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor
from ostogether.edges.topics import vocabulary
from ostogether.models import Project
from ostogether.news import items as news
from ostogether.news import translations
from ostogether.registry import handles, projects
from ostogether.registry.rules import HANDLE_FORMS
from ostogether.web.common import confirmed, runtime, takes_uploads
from ostogether.web.forms import ItemWithTranslationsForm, show_problems, take_upload
from ostogether.web.history_words import field_names, item_story
from ostogether.web.i18n import kind_labels, state_label

bp = Blueprint("members", __name__, url_prefix="/members")


@bp.before_request
@login_required
def _guard() -> None:
    if current_user.role != "member" or not _projects():
        raise PermissionDenied(_("These pages are for member projects' accounts. Editors "
                                 "review items on the editors' pages."))


def _projects() -> list[Project]:
    """The projects this account sends news for (``news.submitting_projects`` decides)."""
    with runtime().db.session() as s:
        return news.submitting_projects(s, current_user.id)


def _project() -> Project:
    """The account's own project, or (a person of a member organisation without one)
    the first of its organisation's projects."""
    with runtime().db.session() as s:
        if current_user.project_id is not None:
            return projects.by_id(s, current_user.project_id)
    return _projects()[0]


def _chosen(choices: list[Project]) -> int:
    """The project the form names (``project``, a slug), else the account's own."""
    slug = request.form.get("project", "")
    found = next((p.id for p in choices if p.slug == slug), None)
    if slug and found is None:
        raise PermissionDenied(_("Your account cannot send news for '%(project)s': only "
                                 "its members, and people of its member organisations, can.",
                                 project=slug[:80]))
    return found if found is not None else choices[0].id


def _item_project(item_id: int) -> int:
    with runtime().db.session() as s:
        return news.project_of_item(s, item_id, current_user.id)


class TokenForm(FlaskForm):
    name = StringField(_l("What is the token for?"), default=_l("API token"),
                       description=_l("For example: website plugin, newsroom script."),
                       validators=[Length(max=100)])


# How a handle is written on each network (registry/rules.py checks it), for the help.
HANDLE_HINTS = {
    "x": _l("1 to 15 letters, digits or _, e.g. @ostogether"),
    "mastodon": _l("@user@instance, e.g. @ostogether@mastodon.social"),
    "bluesky": _l("A domain-like handle, e.g. ostogether.bsky.social"),
    "linkedin": _l("The organisation's number, e.g. 12345678"),
    "facebook": _l("The Page's name in its address or its number, e.g. ostogether.eu"),
}


@bp.route("/")
def index() -> Any:
    rt = runtime()
    status = request.args.get("status", "")
    with rt.db.session() as s:
        rows, total = news.list_items(s, news.ItemFilters(
            project_ids=tuple(p.id for p in news.submitting_projects(s, current_user.id)),
            status=status if status in ITEM_STATUSES else ""), limit=500)
    return render_template("members/index.html", items=rows, total=total, project=_project(),
                           kinds=kind_labels(), status=status, statuses=ITEM_STATUSES)


@bp.route("/items/new", methods=["GET", "POST"])
@takes_uploads
def new_item() -> Any:
    rt = runtime()
    form = ItemWithTranslationsForm()
    choices = _projects()
    correcting = None
    if request.method == "GET":
        form.event_timezone.data = rt.community.schedule().timezone
        # "Correct and send again": the rejected item's values, to change and resubmit.
        if (from_id := ascii_int(request.args.get("from", ""))) is not None:
            with rt.db.session() as s:
                correcting = news.get_item(
                    s, from_id, project_id=news.project_of_item(s, from_id,
                                                                current_user.id))
                if correcting.status == "rejected":
                    form.fill_translations(correcting)
            if correcting.status != "rejected":
                correcting = None
            else:
                form.fill_from(correcting)
    existing = None
    if form.validate_on_submit() and take_upload(form, rt):
        given, problems = [], False
        try:
            given = translations.validate(form.translation_inputs()[0],
                                          form.language.data or "")
        except ValidationError as exc:
            form.show_translation_problems(exc.fields)
            problems = True
        try:
            if problems:  # the item's own problems too, in the same answer
                news.validate(form.to_input(), vocab=vocabulary(rt.community))
                raise ValidationError("The translations have problems.")
            item = news.submit(rt, Actor.of(current_user), _chosen(choices),
                               form.to_input(), source="web", user_id=current_user.id,
                               translations=given)
        except ValidationError as exc:
            show_problems(form, exc.fields)
        except Duplicate as exc:
            existing = exc.existing_id
            form.link.errors = [*form.link.errors, str(exc)]
        else:
            flash(_("Thank you: \u201c%(title)s\u201d is submitted. The editors will "
                    "review it, and you will get an email when they decide.",
                    title=item.title), "success")
            return redirect(url_for("members.item", item_id=item.id))
    status = 400 if form.errors or form.translation_problems() or existing else 200
    return render_template("members/item_form.html", form=form, existing=existing,
                           project=_project(), correcting=correcting, choices=choices,
                           chosen=request.form.get("project", "")), status


@bp.route("/items/<id:item_id>")
def item(item_id: int) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        it = news.get_item(s, item_id,
                           project_id=news.project_of_item(s, item_id, current_user.id))
        _ = it.project
        history = item_story(s, it, rt.community.schedule().zone)
    return render_template("members/item.html", item=it, history=history, kinds=kind_labels(),
                           local_start=it.local_start(), zone=rt.community.schedule().zone)


@bp.route("/items/<id:item_id>/edit", methods=["GET", "POST"])
@takes_uploads
def edit_item(item_id: int) -> Any:
    """A member changes an item that the editors have not reviewed yet."""
    rt = runtime()
    project_id = _item_project(item_id)
    with rt.db.session() as s:
        it = news.get_item(s, item_id, project_id=project_id)
    if it.status != "submitted":
        flash(_("\u201c%(title)s\u201d is %(state)s; only an item waiting for review can "
                "be changed.", title=it.title, state=state_label(it.status)), "error")
        return redirect(url_for("members.item", item_id=item_id))
    form = ItemWithTranslationsForm()
    existing = None
    if request.method == "GET":
        with rt.db.session() as s:
            form.fill_from(it)
            form.fill_translations(news.get_item(s, item_id))
    elif form.validate_on_submit() and take_upload(form, rt):
        try:
            given, emptied = form.translation_inputs()
            # The translations are checked first: nothing is saved unless all is right.
            translations.validate(given, form.language.data or "")
            changed = news.update(rt, Actor.of(current_user), item_id, form.to_input(),
                                  project_id=project_id)
            actor = Actor.of(current_user)
            names = field_names(changed)
            names += [_("translation %(language)s", language=lang)
                      for lang in translations.save(rt, actor, item_id, given,
                                                    project_id=project_id, source="web")]
            names += [_("translation %(language)s removed", language=lang) for lang in emptied
                      if translations.remove(rt, actor, item_id, lang,
                                             project_id=project_id)]
        except ValidationError as exc:
            form.show_translation_problems(exc.fields)
            show_problems(form, exc.fields)
        except Duplicate as exc:
            existing = exc.existing_id
            form.link.errors = [*form.link.errors, str(exc)]
        else:
            flash(_("Saved: %(fields)s.", fields=", ".join(names)) if names
                  else _("Nothing changed."), "success")
            return redirect(url_for("members.item", item_id=item_id))
    status = 400 if form.errors or form.translation_problems() or existing else 200
    return render_template("members/item_form.html", form=form, existing=existing,
                           project=_project(), correcting=None, editing=it), status


@bp.route("/items/<id:item_id>/withdraw", methods=["POST"])
def withdraw(item_id: int) -> Any:
    form = FlaskForm()
    if form.validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to withdraw the item.")):
        it = news.withdraw(runtime(), Actor.of(current_user), item_id,
                           project_id=_item_project(item_id))
        flash(_("\u201c%(title)s\u201d is withdrawn; the editors will not review it.",
                title=it.title), "success")
    return redirect(url_for("members.index"))


@bp.route("/tokens", methods=["GET", "POST"])
def tokens_page() -> Any:
    rt = runtime()
    form = TokenForm()
    secret = None
    if form.validate_on_submit():
        _, secret = tokens.create(rt, Actor.of(current_user), current_user.project_id,
                                  form.name.data or "")
    with rt.db.session() as s:
        rows = tokens.list_tokens(s, current_user.project_id)
    return render_template("members/tokens.html", form=form, tokens=rows, secret=secret,
                           project=_project(), revoke_form=FlaskForm())


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int) -> Any:
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to revoke the token.")):
        t = tokens.revoke(runtime(), Actor.of(current_user), token_id,
                          project_id=current_user.project_id)
        flash(_("The token \u201c%(name)s\u201d (%(prefix)s\u2026) is revoked.",
                name=t.name, prefix=t.prefix), "success")
    return redirect(url_for("members.tokens_page"))


def _handle_problems(fields: dict[str, str]) -> dict[str, str]:
    """The service's problem with each handle; the commonest, a handle not in its
    network's form, in the page's language."""
    found = {}
    for network, problem in fields.items():
        name = NETWORK_NAMES.get(network, network)
        form = HANDLE_FORMS.get(network)
        if form is not None and problem == f"{name}: should be {form[1]}":
            hint = str(HANDLE_HINTS[network])
            problem = _("%(network)s: should be %(form)s", network=name,
                        form=hint[:1].lower() + hint[1:])
        found[network] = problem
    return found


@bp.route("/handles", methods=["GET", "POST"])
def handles_page() -> Any:
    """The project's social handles: the ones in use, and a proposal for an editor."""
    rt = runtime()
    errors: dict[str, str] = {}
    status = 200
    project = _project()
    if request.method == "POST":
        given = {n: request.form.get(n, "") for n in NETWORKS}
        try:
            handles.propose(rt, Actor.of(current_user), project.id, given)
            flash(_("Sent: an editor checks the handles, and posts use them once "
                    "confirmed."), "success")
            return redirect(url_for("members.handles_page"))
        except ValidationError as exc:
            errors, status = _handle_problems(exc.fields), 400
            flash(_("Nothing was sent: %(problems)s.", problems="; ".join(errors.values())),
                  "error")
        except Conflict as exc:
            flash(str(exc), "error")
    shown = (request.form if errors else
             project.proposed_handles or project.handles or {})
    return render_template("members/handles.html", project=project, errors=errors,
                           values={n: shown.get(n, "") for n in NETWORKS},
                           hints=HANDLE_HINTS, networks=NETWORKS,
                           decision=handles.last_decision(rt, project.id)), status
