"""The community's organisations and people on the web: the directory (/organisations,
with its map), a page per organisation, /organisations.json, joining as an organisation
or as a person, and a person's own record (see, change, download, erase).

Every value shown comes through ``organisations.view`` or ``people.view``: what the
visitor may see, nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional

from ostogether.core.errors import ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.news import items as news
from ostogether.registry import europe_map, organisations, people
from ostogether.registry.org_rules import (
    LEVELS,
    PERSON_DEFAULTS,
    PERSON_FIELDS,
    OrgRecord,
)
from ostogether.registry.rules import CheckResult, worst
from ostogether.web.cache import public_page
from ostogether.web.common import confirmed, runtime
from ostogether.web.forms import show_problems
from ostogether.web.i18n import country_name, page_language, role_labels

bp = Blueprint("organisations", __name__)


def _viewer() -> Any:
    return organisations.viewer_of(current_user)


@bp.route("/organisations")
@public_page
def directory() -> Any:
    rt = runtime()
    args = request.args.to_dict()
    page = args.get("page", "1")
    f = organisations.Filters(q=args.get("q", "")[:200], type=args.get("type", "")[:40],
                              country=args.get("country", "")[:2].upper(),
                              project=args.get("project", "")[:80],
                              page=int(page) if page.isdigit() and len(page) < 6 else 1)
    viewer = _viewer()
    types = rt.community.criteria().organisation_types
    with rt.db.session() as s:
        found = organisations.directory(s, f, viewer, types=types)
    f = found.filters  # without the values that were not used
    counts, points = organisations.map_data(found.everyone)
    svg = europe_map.draw(tuple(sorted(counts.items())), tuple(points),
                          _("Members by country: %(orgs)d organisations in %(countries)d "
                            "countries", orgs=sum(counts.values()), countries=len(counts)),
                          page_language(), (_("%(name)s: 1 member"),
                                            _("%(name)s: %(num)d members")))
    return render_template("organisations.html", found=found, f=f,
                           types=types, country_label=country_name, map=Markup(svg),
                           counts=sorted(counts.items(), key=lambda c: (-c[1], c[0]))
                           ), 400 if found.problems else 200


@bp.route("/organisations.json")
@public_page
def directory_json() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        rows = [{**organisations.view(o, "everyone"),
                 "url": url_for("organisations.page", slug=o.slug, _external=True)}
                for o in organisations.members(s)]
    resp = jsonify({"organisations": rows, "count": len(rows)})
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/organisations/<slug>")
@public_page
def page(slug: str) -> Any:
    rt = runtime()
    viewer = _viewer()
    with rt.db.session() as s:
        org = organisations.get(s, slug)
        shown = organisations.view(org, viewer)
        recent = [(p, news.recent_for_project(s, lp.project_id, 3))
                  for lp in org.projects for p in shown.get("projects", [])
                  if p["slug"] == lp.project.slug]
        members = people.public_people(s, org.id, viewer)
    url = url_for("organisations.page", slug=slug, _external=True)
    logo = url_for("public.media_file", name=shown["logo"], _external=True) \
        if shown.get("logo") else ""
    ld = json.dumps(organisations.json_ld(shown, url, logo), ensure_ascii=False)
    return render_template("organisation.html", org=shown, recent=recent, members=members,
                           types=rt.community.criteria().organisation_types,
                           roles=role_labels(), country_label=country_name,
                           json_ld=Markup(ld.replace("<", "\\u003c")))


# ------------------------------------------------------------------------ joining

class OrganisationForm(FlaskForm):
    name = StringField(_l("Name of the organisation"), validators=[DataRequired(),
                                                               Length(max=400)])
    type = SelectField(_l("Type"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Length(max=200)])
    website = URLField(_l("Website"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Short description"), validators=[Length(max=2000)],
                                description=_l("What the organisation does in open "
                                               "schooling."))
    latitude = FloatField(_l("Latitude (optional)"), validators=[Optional()],
                          description=_l("Decimal degrees, e.g. 52.374; puts a point on "
                                         "the map."))
    longitude = FloatField(_l("Longitude (optional)"), validators=[Optional()])
    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(),
                                                                Length(max=320)],
                               description=_l("We write to this address about the "
                                              "application. It is not published."))
    coc = BooleanField(_l("I have read and accept the code of conduct."))


def _countries() -> list[tuple[str, str]]:
    codes = runtime().community.criteria().organisation_countries
    return [("", _("Choose one"))] + sorted(((c, country_name(c)) for c in codes),
                                            key=lambda c: c[1])


@bp.route("/join/organisation", methods=["GET", "POST"])
def join_organisation() -> Any:
    rt = runtime()
    form = OrganisationForm()
    form.type.choices = [("", _("Choose one"))] + list(
        rt.community.criteria().organisation_types.items())
    form.country.choices = _countries()
    results: list[CheckResult] = []
    if request.method == "POST":
        rec = OrgRecord(name=form.name.data or "", type=form.type.data or "",
                        country=form.country.data or "", city=form.city.data or "",
                        website=form.website.data or "",
                        latitude=form.latitude.data, longitude=form.longitude.data,
                        description=form.description.data or "",
                        contact_email=form.contact_email.data or "",
                        coc=bool(form.coc.data))
        form_ok = form.validate_on_submit()
        if form_ok:
            done = organisations.apply(rt, rec, ip=request.remote_addr or "unknown",
                                       language=page_language())
            results = done.results
            if done.slug:
                session["joined"] = {"name": rec.name, "what": "organisation", "warnings": [
                    str(r.message) for r in results if r.outcome == "warn"]}
                return redirect(url_for("organisations.joined"))
        else:
            results = organisations.evaluate(rt, rec)
        for r in results:
            if r.outcome == "fail" and r.fields:
                show_problems(form, {r.fields[0]: r.message})
        return render_template("join_organisation.html", form=form,
                               coc=rt.community.code_of_conduct(), results=[
                                   r for r in results if r.outcome != "pass"],
                               failed=worst(results) == "fail" or not form_ok), 400
    return render_template("join_organisation.html", form=form, results=[], failed=False,
                           coc=rt.community.code_of_conduct())


class PersonForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Your email address"), validators=[DataRequired(),
                                                             Length(max=320)])
    # The service checks both (an unknown organisation or country is its sentence).
    organisation = SelectField(_l("Your organisation (optional)"), validate_choice=False)
    country = SelectField(_l("Country"), validate_choice=False)
    role = StringField(_l("Your role (optional)"), validators=[Length(max=200)],
                       description=_l("e.g. teacher, researcher, museum educator."))
    interests = TextAreaField(_l("Interests (optional)"), validators=[Length(max=2000)])
    coc = BooleanField(_l("I have read and accept the code of conduct."))


def _person_form(rt: Any, **kwargs: Any) -> PersonForm:
    form = PersonForm(**kwargs)
    with rt.db.session() as s:
        form.organisation.choices = [("", _("None, or not listed"))] + [
            (o.slug, o.name) for o in organisations.members(s)]
    form.country.choices = [("", _("Choose one (optional)"))] + _countries()[1:]
    return form


def _person_record(form: PersonForm, coc: bool = True) -> people.PersonRecord:
    return people.PersonRecord(
        name=form.name.data or "", email=form.email.data or "",
        organisation=form.organisation.data or "", country=form.country.data or "",
        role=form.role.data or "", interests=form.interests.data or "", coc=coc)


@bp.route("/join/person", methods=["GET", "POST"])
def join_person() -> Any:
    rt = runtime()
    form = _person_form(rt)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                people.join(rt, _person_record(form, bool(form.coc.data)),
                            ip=request.remote_addr or "unknown",
                            user=current_user if current_user.is_authenticated else None,
                            language=page_language())
            except ValidationError as exc:
                show_problems(form, exc.fields)
            else:
                session["joined"] = {"name": form.name.data, "what": "person",
                                     "warnings": []}
                return redirect(url_for("organisations.joined"))
        elif not form.coc.data:
            show_problems(form, {"coc": _("Accept the code of conduct to join.")})
        return render_template("join_person.html", form=form,
                               coc=rt.community.code_of_conduct()), 400
    return render_template("join_person.html", form=form, coc=rt.community.code_of_conduct())


@bp.route("/join/thanks")
def joined() -> Any:
    done = session.get("joined")
    if not done:
        return redirect(url_for("public.join"))
    return render_template("join_thanks.html", done=done)


# ------------------------------------------------------------------ one's own record
# Who may see a field of one's own record, in the page's language (org_rules.LEVEL_NAMES).
OWN_LEVEL_NAMES = {"everyone": _l("Everyone"), "members": _l("Members (logged in)"),
                   "editors": _l("Editors only")}


@bp.route("/account/record", methods=["GET", "POST"])
@login_required
def own_record() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        person = people.own(s, current_user)
        values = {"name": person.name, "email": person.email, "country": person.country,
                  "role": person.role, "interests": person.interests,
                  "organisation": person.organisation.slug if person.organisation else ""}
        visibility = {k: person.visibility.get(k, d) for k, d in PERSON_DEFAULTS.items()}
    form = _person_form(rt, data=values) if request.method == "GET" else _person_form(rt)
    status = 200
    if request.method == "POST":
        chosen = {k: request.form.get(f"show_{k}", "editors") for k in PERSON_FIELDS}
        if form.validate_on_submit():
            try:
                people.update_own(rt, current_user, _person_record(form), chosen)
            except ValidationError as exc:
                show_problems(form, exc.fields)
            else:
                flash(_("Your record is saved."), "success")
                return redirect(url_for("organisations.own_record"))
        visibility, status = chosen, 400
    return render_template("own_record.html", form=form, visibility=visibility,
                           levels=LEVELS, level_names={
                               k: str(v) for k, v in OWN_LEVEL_NAMES.items()}), status



@bp.route("/account/record.json")
@login_required
def own_record_json() -> Any:
    data = people.export_own(runtime(), current_user)
    return Response(json.dumps(data, ensure_ascii=False, indent=2),
                    mimetype="application/json", headers={
                        "Content-Disposition": 'attachment; filename="my-record.json"'})


@bp.route("/account/record/erase", methods=["POST"])
@login_required
def own_record_erase() -> Any:
    if confirmed(_("Nothing was done: confirm that you want to erase "
                                        "your record.")):
        people.erase_own(runtime(), current_user)
        flash(_("Your member record is erased. Your login stays until you remove it."),
              "success")
        return redirect(url_for("public.home"))
    return redirect(url_for("organisations.own_record"))

