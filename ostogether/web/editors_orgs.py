"""Editors' pages of organisations and people: accept or reject those who applied,
change an organisation (its fields, who sees each, its projects), merge duplicates."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ostogether.core.errors import ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor
from ostogether.registry import organisations, people
from ostogether.registry.org_rules import (
    LEVELS,
    ORG_DEFAULTS,
    ORG_FIELDS,
    OrgRecord,
    country_label,
)
from ostogether.web.common import confirmed, editors_only, runtime, takes_uploads
from ostogether.web.i18n import role_labels

bp = Blueprint("editors_orgs", __name__, url_prefix="/editors")

editors_only(bp)


# An organisation's fields and who may see each, as the editors' page names them
# (registry.org_rules keeps the codes).
FIELD_LABELS = {"name": _l("Name"), "type": _l("Type"), "country": _l("Country"),
                "city": _l("City"), "website": _l("Website"), "latitude": _l("Latitude"),
                "longitude": _l("Longitude"), "description": _l("Description"),
                "logo": _l("Logo"), "projects": _l("Projects")}
LEVEL_LABELS = {"everyone": _l("Everyone"), "members": _l("Members (logged in)"),
                "editors": _l("Editors only")}


def _decided(name: str, accept: bool) -> str:
    return (_("%(name)s is now a member.", name=name) if accept else
            _("%(name)s was not accepted.", name=name))


def _actor() -> Actor:
    return Actor.of(current_user)


@bp.route("/organisations")
def organisations_page() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        waiting = organisations.waiting(s)
        everyone = [organisations.view(o, "editors") for o in organisations.members(s)]
    return render_template("editors/organisations.html", waiting=waiting, members=everyone,
                           types=rt.community.criteria().organisation_types,
                           country_label=country_label)


@bp.route("/organisations/<slug>/decide", methods=["POST"])
def organisation_decide(slug: str) -> Any:
    accept = request.form.get("decision") == "accept"
    try:
        name = organisations.decide(runtime(), slug[:80], _actor(), accept=accept,
                                    reason=request.form.get("reason", "")[:2000])
    except ValidationError as exc:
        flash(str(exc), "error")
    else:
        flash(_decided(name, accept), "success")
    return redirect(url_for("editors_orgs.organisations_page"))


@bp.route("/organisations/merge", methods=["POST"])
def organisations_merge() -> Any:
    keep, drop = request.form.get("keep", "")[:80], request.form.get("drop", "")[:80]
    if request.form.get("confirm") != "yes":
        flash(_("Nothing was done: confirm that you want to merge them."), "error")
    else:
        try:
            name = organisations.merge(runtime(), keep, drop, _actor())
        except ValidationError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Merged into %(name)s: its projects and people moved over.", name=name),
                  "success")
    return redirect(url_for("editors_orgs.organisations_page"))


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
def organisation_edit(slug: str) -> Any:
    rt = runtime()
    status = 200
    results: list[Any] = []
    if request.method == "POST":
        form = request.form
        if form.get("project"):
            try:
                organisations.link_project(rt, slug[:80], form.get("project", "")[:80],
                                           _actor(), role=form.get("role", "partner"),
                                           years=form.get("years", ""))
            except ValidationError as exc:
                flash(str(exc), "error")
            return redirect(url_for("editors_orgs.organisation_edit", slug=slug))
        try:
            lat = float(form["latitude"]) if form.get("latitude") else None
            lon = float(form["longitude"]) if form.get("longitude") else None
        except ValueError:
            lat = lon = float("nan")
        rec = OrgRecord(name=form.get("name", "")[:400], type=form.get("type", "")[:40],
                        country=form.get("country", "")[:2], city=form.get("city", "")[:200],
                        website=form.get("website", "")[:500], latitude=lat, longitude=lon,
                        description=form.get("description", "")[:4000])
        chosen = {k: form.get(f"show_{k}", "") for k in ORG_FIELDS}
        results = organisations.edit(rt, slug[:80], _actor(), rec, chosen)
        if not any(r.outcome == "fail" for r in results):
            flash(_("Saved."), "success")
            return redirect(url_for("editors_orgs.organisation_edit", slug=slug))
        status = 400
    with rt.db.session() as s:
        org = organisations.get(s, slug, public=False)
        shown = organisations.view(org, "editors")
        visibility = {k: org.visibility.get(k, d) for k, d in ORG_DEFAULTS.items()}
        choices = [(p.slug, p.acronym) for p in
                   sorted((lp.project for lp in org.projects), key=lambda p: p.acronym)]
    return render_template("editors/organisation.html", org=shown, visibility=visibility,
                           levels=LEVELS, fields=ORG_FIELDS, results=results,
                           level_names={k: str(v) for k, v in LEVEL_LABELS.items()},
                           field_labels={k: str(v) for k, v in FIELD_LABELS.items()},
                           roles=role_labels(), linked=choices,
                           types=rt.community.criteria().organisation_types), status


@bp.route("/organisations/<slug>/logo", methods=["POST"])
@takes_uploads
def organisation_logo(slug: str) -> Any:
    sent = request.files.get("logo_file")
    remove = request.form.get("remove") == "yes"
    if remove and not confirmed(_(
            "Nothing was done: confirm that you want to remove the logo.")):
        return redirect(url_for("editors_orgs.organisation_edit", slug=slug))
    if not remove and (sent is None or not sent.filename):
        flash(_("Choose the picture to upload."), "error")
        return redirect(url_for("editors_orgs.organisation_edit", slug=slug))
    try:
        organisations.set_logo(runtime(), slug[:80], _actor(),
                               None if remove else sent.read() if sent else None)
    except ValidationError as exc:
        flash(_("The logo was not kept: %(why)s. Send a JPEG, PNG, GIF or WebP picture.",
                why=str(exc)), "error")
    else:
        flash(_("The logo is removed.") if remove else _("The logo is saved."), "success")
    return redirect(url_for("editors_orgs.organisation_edit", slug=slug))


@bp.route("/people")
def people_page() -> Any:
    with runtime().db.session() as s:
        waiting = [(p.id, people.view(p, "editors")) for p in people.waiting(s)]
        others = [(p.id, p.status, people.view(p, "editors")) for p in people.decided(s)]
    return render_template("editors/people.html", waiting=waiting, others=others)


@bp.route("/people/<id:person_id>/erase", methods=["POST"])
def person_erase(person_id: int) -> Any:
    if confirmed(_(
            "Nothing was done: confirm that you want to erase the record.")):
        name = people.erase(runtime(), person_id, _actor())
        flash(_("The record of %(name)s is erased.", name=name) if name else
              _("The record of that person is erased."), "success")
    return redirect(url_for("editors_orgs.people_page"))


@bp.route("/people/<id:person_id>/decide", methods=["POST"])
def person_decide(person_id: int) -> Any:
    accept = request.form.get("decision") == "accept"
    try:
        name = people.decide(runtime(), person_id, _actor(), accept=accept,
                             reason=request.form.get("reason", "")[:2000])
    except ValidationError as exc:
        flash(str(exc), "error")
    else:
        flash(_decided(name, accept), "success")
    return redirect(url_for("editors_orgs.people_page"))
