"""Public pages: home, the registry, one page per project, /registry.json, and joining."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional

from ostogether import front, jobs
from ostogether.core.errors import NotFound, ValidationError
from ostogether.core.sanitize import markdown_markup
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import media
from ostogether.models import id_or_none
from ostogether.news import items as news
from ostogether.newsletter import archive as arch
from ostogether.newsletter import clicks
from ostogether.readers import subscribers
from ostogether.registry import organisations, projects
from ostogether.registry import rules as registry
from ostogether.web.cache import fragment, public_page
from ostogether.web.common import mail_html_response, request_site, runtime
from ostogether.web.forms import MultiCheckboxField
from ostogether.web.i18n import CONSENT, kind_labels, page_language, role_labels

bp = Blueprint("public", __name__)


@bp.route("/")
@public_page
def home() -> Any:
    rt = runtime()
    listing = projects.public_listing(rt)
    shown = front.front(rt)  # the key names what it shows: a change shows at once
    site = request_site()
    content = fragment(("home", rt.db.key, listing.stamp, shown), (site,), lambda: (
        render_template(
            "_home.html", about=markdown_markup(site.about),
            counts={"member": listing.count("member"), "alumni": listing.count("alumni")},
            total=len(listing.projects), countries=len(listing.countries), front=shown,
            kinds=kind_labels(), consent=str(CONSENT),
            honeypot=subscribers.HONEYPOT)))
    return render_template("home.html", content=content)


@bp.route("/healthz")
def healthz() -> Any:
    """For a load balancer or monitor: 200 when the database answers and a worker holds a
    fresh lease, else 503, with the details as JSON."""
    report = jobs.health(runtime())
    return jsonify(report), 200 if report["ok"] else 503


@bp.route("/registry")
@public_page
def registry_list() -> Any:
    rt = runtime()
    criteria = rt.community.criteria()
    args = request.args.to_dict()  # a dict's .get: Werkzeug's raises and catches on a miss
    f = projects.Filters(q=args.get("q", "")[:200], theme=args.get("theme", ""),
                         country=args.get("country", "")[:2], status=args.get("status", ""))
    listing = projects.public_listing(rt)
    everyone, countries = list(listing.projects), list(listing.countries)
    problems = projects.filter_problems(f, criteria.themes, countries)
    if problems:  # an unknown value filters nothing out: say so, and show every project
        f = projects.Filters(q=f.q, **{k: v for k, v in (
            ("theme", f.theme), ("country", f.country), ("status", f.status))
            if k not in problems})
    shown = projects.filter_projects(everyone, f)
    site = request_site()
    content = fragment(("registry", rt.db.key, listing.stamp, f, tuple(problems.items())),
                       (site, criteria), lambda: render_template(
        "_registry.html", projects=shown, filters=f, criteria=criteria, countries=countries,
        total=len(everyone), problems=problems))
    return render_template("registry.html", content=content), 400 if problems else 200


@bp.route("/registry/<slug>")
@public_page
def project_page(slug: str) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        project = projects.get(s, slug)
        recent = news.recent_for_project(s, project.id)
        partners = organisations.partners_of(s, project.id)
    return render_template("project.html", project=project, criteria=rt.community.criteria(),
                           recent=recent, kinds=kind_labels(), partners=partners,
                           role_labels=role_labels())


@bp.route("/registry.json")
@public_page
def registry_json() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        rows = [projects.public_dict(p) for p in projects.list_public(s)]
    resp = jsonify({"projects": rows, "count": len(rows)})
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/code-of-conduct")
@public_page
def code_of_conduct() -> Any:
    coc = runtime().community.code_of_conduct(page_language())
    return render_template("code_of_conduct.html", coc=coc,
                           body=markdown_markup(coc.markdown))


# ------------------------------------------------------------------------ joining

class ApplicationForm(FlaskForm):
    acronym = StringField(_l("Acronym or short name"),
                          validators=[DataRequired(), Length(max=80)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=400)])
    description = TextAreaField(_l("Short description"),
                                description=_l("Two or three sentences: what the "
                                               "initiative does and for whom."),
                                validators=[DataRequired(), Length(max=2000)])
    initiative_type = SelectField(_l("Type of initiative"), validators=[DataRequired()])
    themes = MultiCheckboxField(_l("Themes"), description=_l("Choose every theme you work on."))
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals (optional)"), coerce=int,
                              validators=[Optional()])
    countries = StringField(_l("Countries"), validators=[Length(max=400)],
                            description=_l("Two-letter ISO codes, separated by commas, "
                                           "e.g. BE, GR, PT."))
    programme = SelectField(_l("Funding programme"))
    call = StringField(_l("Call or topic (optional)"), validators=[Length(max=200)])
    grant_number = StringField(_l("Grant agreement number"),
                               description=_l("For EU-funded projects: the number on "
                                              "CORDIS, e.g. 101058405."),
                               validators=[Length(max=40)])
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date (optional)"), validators=[Optional()])
    coordinator = StringField(_l("Coordinating organisation"), validators=[Length(max=400)])
    website = URLField(_l("Website"), validators=[DataRequired(), Length(max=500)])
    feed_url = URLField(_l("News feed (RSS or Atom, optional)"), validators=[Length(max=500)])
    contact_name = StringField(_l("Contact person"), validators=[Length(max=200)])
    contact_email = EmailField(_l("Contact email"), validators=[Length(max=320)],
                               description=_l("We write to this address about the "
                                              "application. It is not published."))
    non_commercial = BooleanField(
        _l("The initiative has a non-commercial, educational purpose."))
    coc = BooleanField(_l("I have read and accept the code of conduct."))


PROGRAMME_NONE = ""


def _application_form(rt: Any) -> ApplicationForm:
    criteria = rt.community.criteria()
    form = ApplicationForm()
    form.initiative_type.choices = [("", _l("Choose one"))] + list(
        criteria.initiative_types.items())
    form.themes.choices = list(criteria.themes.items())
    form.sdgs.choices = [(n, f"{n}. {name}") for n, name in registry.SDG_NAMES.items()]
    form.programme.choices = ([(PROGRAMME_NONE, _l("Not funded by a programme"))]
                              + [(p, p) for p in criteria.eu_programmes]
                              + [(p, p) for p in criteria.other_programmes])
    return form


def _record(form: ApplicationForm, today: dt.date) -> registry.ProjectRecord:
    # The service normalises (trims, upper-cases codes); the face only splits the list.
    return projects.record_from_form({
        "acronym": form.acronym.data or "",
        "name": form.name.data or "",
        "description": form.description.data or "",
        "initiative_type": form.initiative_type.data or "",
        "themes": list(form.themes.data or []),
        "sdgs": list(form.sdgs.data or []),
        "countries": (form.countries.data or "").replace(";", ",").split(","),
        "programme": form.programme.data or "",
        "call": form.call.data or "",
        "grant_number": form.grant_number.data or "",
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "coordinator": form.coordinator.data or "",
        "website": form.website.data or "",
        "feed_url": form.feed_url.data or "",
        "contact_name": form.contact_name.data or "",
        "contact_email": form.contact_email.data or "",
        "non_commercial": True if form.non_commercial.data else None,
        "coc_accepted_on": today if form.coc.data else None,
    })


# Which form field shows the result about which record field.
FIELD_FOR = {"coc_accepted_on": "coc", "status": "acronym"}


@bp.route("/join", methods=["GET", "POST"])
def join() -> Any:
    rt = runtime()
    form = _application_form(rt)
    coc = rt.community.code_of_conduct()
    results: list[registry.CheckResult] = []
    by_field: dict[str, list[registry.CheckResult]] = {}
    summary: list[tuple[str, str, str]] = []
    status = 200
    if request.method == "POST":
        form_ok = form.validate_on_submit()
        rec = _record(form, rt.today())
        if form_ok:
            outcome = projects.apply(rt, rec, ip=request.remote_addr or "unknown",
                                     language=page_language())
            results = outcome.results
            if outcome.project is not None:
                session["applied"] = {
                    "acronym": outcome.project.acronym,
                    "warnings": [r.message for r in results if r.outcome == "warn"]}
                return redirect(url_for("public.join_done"))
        else:
            # The form's own errors come first; the rules speak only of the other fields,
            # and the summary lists no "pass" before the form is complete.
            results = [r for r in projects.evaluate(rt, rec) if r.outcome != "pass"]
        for r in results:
            if r.outcome == "pass":
                continue
            for name, message in r.notes or [(n, r.message) for n in r.fields[:1]]:
                target = FIELD_FOR.get(name, name)
                if not form_ok and getattr(form, target, None) is not None and \
                        getattr(form, target).errors:
                    continue  # already said by the form, in its place
                by_field.setdefault(target, []).append(
                    registry.CheckResult(r.rule, r.outcome, message, (name,)))
        if not form_ok:  # one line per field that needs a change, leading to it
            for f in form:
                messages = list(f.errors) + [r.message for r in by_field.get(f.name, [])
                                             if r.outcome == "fail"]
                if messages:
                    summary.append((f.id, f.label.text, messages[0]))
            results = []
        status = 400
    return render_template("join.html", form=form, coc=coc, results=results,
                           by_field=by_field, summary=summary), status


@bp.route("/join/submitted")
def join_done() -> Any:
    applied = session.get("applied")
    if not applied:
        return redirect(url_for("public.join"))
    return render_template("join_done.html", applied=applied)


# ------------------------------------------------------------------------ newsletter

@bp.route("/archive")
@public_page
def archive() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        issues = arch.sent_issues(s)
    return render_template("archive.html", issues=issues, zone=rt.community.schedule().zone)


@bp.route("/archive/<id:number>")
def archive_issue(number: int) -> Any:
    # Counted here, before the page cache answers: once per visitor and day, no cookie.
    clicks.record_view(runtime(), number, method=request.method, headers=dict(request.headers),
                       ip=request.remote_addr or "")
    return _archive_page(number)


@bp.route("/archive/announcements/<id:number>")
def archive_announcement(number: int) -> Any:
    """An announcement's web version (A3 is stored as -3: ``newsletter.announcements``);
    its views are not counted."""
    return _archive_page(-number)


@public_page
def _archive_page(number: int) -> Any:
    return mail_html_response(arch.issue_page(runtime(), number,
                                              request.args.get("lang", "")[:8]),
                              framable=False)


@bp.route("/media/<name>")
def media_file(name: str) -> Any:
    """A picture the service keeps, named by its SHA-256: the same name is always the
    same bytes, so it may be cached for ever."""
    path, mimetype = media.file_for(runtime(), name)
    resp = send_file(path, mimetype=mimetype, conditional=True, etag=name.split(".")[0],
                     max_age=31_536_000)
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/r/<id:number>/<int(signed=True):item_id>/<sig>", methods=["GET", "HEAD"])
def click(number: int, item_id: int, sig: str) -> Any:
    """An item's link in a sent issue: counted (unless a robot's) and redirected, with
    the campaign's UTM parameters. A link the service did not sign is not found."""
    rt = runtime()
    # Item 0 is the trap link, which only scanners follow; -N is the library's output N.
    found = clicks.destination(rt, number, item_id, sig[:40],
                               request.args.get("lang", "")[:8]) if (
        item_id == clicks.TRAP or id_or_none(abs(item_id))) else None
    if found is None:
        raise NotFound("This link is not one of the newsletter's.")
    issue_id, target = found
    clicks.record_click(rt, issue_id, item_id, method=request.method,
                        headers=dict(request.headers), ip=request.remote_addr or "")
    resp = redirect(target, code=302)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp


@bp.route("/archive.atom")
@public_page
def archive_atom() -> Any:
    return Response(arch.atom(runtime(), request.args.get("lang", "")[:8]),
                    mimetype="application/atom+xml")


@bp.route("/events.ics")
@public_page
def events_ics() -> Any:
    return Response(arch.events_ics(runtime()), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="events.ics"'})


class LinkForm(FlaskForm):
    email = EmailField(_l("Your email address"), validators=[Length(max=320)])


@bp.route("/newsletter/manage", methods=["GET", "POST"])
def newsletter_manage() -> Any:
    """Where the footer links of the public web version lead: no one is personal there,
    so a reader asks for their personal link by address."""
    form = LinkForm()
    if form.validate_on_submit():
        try:
            subscribers.send_link(runtime(), subscribers.Request(
                "link-request", request.remote_addr or "unknown",
                request.headers.get("User-Agent", "")[:400]), form.email.data or "")
        except ValidationError as exc:
            form.email.errors = [exc.fields.get("email", str(exc))]
            return render_template("newsletter_manage.html", form=form), 400
        return render_template("newsletter_manage.html", form=form, asked=True)
    return render_template("newsletter_manage.html", form=form), 400 if form.errors else 200
