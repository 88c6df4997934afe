"""The readers' pages: sign up, confirm, one-click unsubscribe, preferences, download
and erase one's data. Each is one call into ``ostogether.readers.subscribers``.

Links from mails are confirmed by a button, never by the GET alone, so that a mail
scanner that follows every link neither subscribes nor unsubscribes anybody. The one-click
POST of RFC 8058 comes from mail clients, so it carries no CSRF token and needs none: the
signed link is the credential.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ostogether.core import languages
from ostogether.core.errors import PermissionDenied, ValidationError
from ostogether.core.sanitize import markdown_markup
from ostogether.core.words import lazy_gettext as _l
from ostogether.reach import reports
from ostogether.readers import preferences as reader_choices
from ostogether.readers import subscribers
from ostogether.readers.subscribers import LANGUAGES, Request
from ostogether.registry import projects
from ostogether.web.common import runtime
from ostogether.web.forms import MultiCheckboxField
from ostogether.web.i18n import CONSENT, kind_labels, page_language

bp = Blueprint("subscribe", __name__)


def _req(source: str) -> Request:
    return Request(source, request.remote_addr or "unknown",
                   request.headers.get("User-Agent", "")[:400])


# The choices of a reader's language: the shipped ones, each named in its own language.
SHIPPED_CHOICES = [SelectChoice(k, v, render_kw={"lang": k})
                   for k, v in languages.LANGUAGES.items()]


def _choices(current: str = "") -> list[SelectChoice]:
    """The shipped languages, and a reader's stored one when it is another (imported)."""
    if current and current not in languages.LANGUAGES:
        return [*SHIPPED_CHOICES, SelectChoice(current, LANGUAGES.get(current, current))]
    return SHIPPED_CHOICES


class ChoicesForm(FlaskForm):
    """What a reader chooses to receive (``readers.preferences``): the boxes' values are
    the vocabulary's keys and the projects' slugs; the service checks them, so that an
    unknown one gets its sentence (``_choice_problems``) rather than WTForms' own."""

    topics = MultiCheckboxField(_l("Topics"), validate_choice=False)
    kinds = MultiCheckboxField(_l("Kinds of item"), validate_choice=False)
    audiences = MultiCheckboxField(_l("For whom"), validate_choice=False)
    projects = MultiCheckboxField(_l("Projects you follow"), validate_choice=False)
    country = SelectField(_l("Country of your organisation (optional)"),
                          validate_choice=False, default="")

    def offer(self) -> None:
        """The boxes and countries, labelled in the page's language."""
        rt, language = runtime(), page_language()
        with rt.db.session() as s:
            offered = reader_choices.offer(rt, s, language)
        kinds = kind_labels()
        self.topics.choices = list(offered.topics.items())
        self.kinds.choices = [(k, kinds.get(k, v)) for k, v in offered.kinds.items()]
        self.audiences.choices = list(offered.audiences.items())
        self.projects.choices = list(offered.projects.items())
        self.country.choices = [("", _("Not given")),
                                *reader_choices.countries(language).items()]

    def chosen(self) -> dict[str, list[str]]:
        return {name: list(self[name].data or []) for name in reader_choices.GROUPS}

    def choice_problems(self, fields: dict[str, str]) -> None:
        """The service's problems with the choices, said in the page's language by the
        fields they concern."""
        offered = {name: {str(c[0]) for c in self[name].choices or []}
                   for name in reader_choices.GROUPS}
        for name in reader_choices.GROUPS:
            if name in fields:
                bad = [v for v in self[name].data or [] if v not in offered[name]]
                self[name].errors = [_("%(values)s is not one of the choices; tick only "
                                       "the boxes shown.",
                                       values=", ".join(v[:40] for v in bad[:5]) or "?")]
        if "country" in fields:
            self.country.errors = [_("Choose a country from the list, or none.")]


class SubscribeForm(ChoicesForm):
    email = EmailField(_l("Email address"), validators=[Length(max=320)])
    name = StringField(_l("Name (optional)"), validators=[Length(max=subscribers.NAME_MAX)])
    language = SelectField(_l("Language"), choices=SHIPPED_CHOICES,
                           description=_l("The language of the newsletter and of our mails "
                                          "to you."))
    consent = BooleanField(CONSENT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.language.data or self.language.data not in languages.LANGUAGES:
            # Pre-selected from the page's language (the browser's, or the one chosen).
            self.language.data = page_language()
        self.offer()


class StepForm(SubscribeForm):
    """The sign-up step a member site's form leads to: the same fields, the signed time it
    was shown, and a field that only bots fill in."""

    started = HiddenField()
    website = StringField(_l("Leave this field empty"), render_kw={
        "autocomplete": "off", "tabindex": "-1"})


class PreferencesForm(ChoicesForm):
    name = StringField(_l("Name"), validators=[Length(max=subscribers.NAME_MAX)])
    language = SelectField(_l("Language"), choices=SHIPPED_CHOICES,
                           description=_l("The language of the newsletter and of our mails "
                                          "to you."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer()


def _show(form: ChoicesForm, exc: ValidationError) -> None:
    """A refused form's problems by its fields."""
    for name, message in exc.fields.items():
        if name in form and name not in reader_choices.GROUPS and name != "country":
            form[name].errors = [message]
    form.choice_problems(exc.fields)


@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe() -> Any:
    form = SubscribeForm()
    status = 200
    if form.validate_on_submit():
        try:
            subscribers.subscribe(runtime(), _req("form"), email=form.email.data or "",
                                  name=form.name.data or "", language=form.language.data,
                                  consent=bool(form.consent.data), chosen=form.chosen(),
                                  country=form.country.data or "")
        except ValidationError as exc:
            _show(form, exc)
            status = 400
        else:
            return redirect(url_for("subscribe.sent"))
    elif request.method == "POST":
        status = 400
    return render_template("subscribe/form.html", form=form), status


# ------------------------------------------------------------------ forms on other pages

HONEYPOT = subscribers.HONEYPOT


def _language() -> str:
    """The language a form on another page asked for, else the page's (the one chosen,
    else the browser's), else English: the person can change it in their preferences."""
    asked = request.form.get("language", "")
    if asked in LANGUAGES:
        return asked
    return page_language()


def _typed() -> dict[str, Any]:
    """What a form on another page brought, cut to the fields' sizes."""
    return {"email": request.form.get("email", "")[:320].strip(),
            "name": request.form.get("name", "")[:subscribers.NAME_MAX],
            "language": _language()}


def _straight(source: str, typed: dict[str, Any], form: SubscribeForm, *,
              consent: bool = True, via_project: str = "") -> bool:
    """Sign up what a form on another page brought, at once; False with the problems on
    ``form``'s fields when the service refused it (the page is shown again)."""
    try:
        subscribers.subscribe(runtime(), _req(source), consent=consent,
                              via_project=via_project, **typed)
    except ValidationError as exc:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [message]
        return False
    return True


@bp.post("/subscribe/quick")
def quick() -> Any:
    """Where the home page's form posts. The home page is the same for every visitor and
    kept in the page cache, so its form carries no CSRF token (one would belong to a
    single visitor's session); none is needed, because a sign-up acts for nobody's
    session: anyone may type any address into any sign-up form, and what protects the
    address's owner is the confirmation mail (double opt-in) and the hourly limits per
    client and mailbox, as for every other sign-up. A browser's post (it sends the hidden
    honeypot field, empty) is a sign-up at once, or the sign-up page with what is
    missing; a post without that field gets the sign-up page, filled in."""
    honeypot = request.form.get(HONEYPOT)
    if honeypot:
        return render_template("subscribe/sent.html")
    typed = _typed()
    form = SubscribeForm(formdata=None, data=typed)
    if honeypot is None:
        return render_template("subscribe/form.html", form=form)
    if _straight("home", typed, form, consent=subscribers.ticked(request.form.get("consent"))):
        return redirect(url_for("subscribe.sent"), code=303)
    return render_template("subscribe/form.html", form=form), 400


def _public_project(slug: str) -> Any:
    with runtime().db.session() as s:
        return projects.get(s, slug)


def _step(slug: str, form: StepForm, status: int = 200, note: str = "",
          credit: bool = False) -> Any:
    form.started.data = subscribers.step_token(runtime(), slug, credit)
    return render_template("subscribe/step.html", form=form, note=note,
                           project=_public_project(slug)), status


@bp.route("/subscribe/from/<slug>", methods=["GET", "POST"])
def from_site(slug: str) -> Any:
    """Where a member site's form posts (cross-site, so no CSRF token: see ``quick``).
    A post with the address, the box ticked, the honeypot empty and the form's fresh
    signed token is a sign-up at once; any other shows the sign-up step, filled in. Only
    a post with the form's signed token makes a sign-up that credits the project; a plain
    visit shows the step too."""
    project = _public_project(slug)
    credit = False
    typed = {"email": "", "name": "", "language": _language()}
    if request.method == "POST":
        if request.form.get(HONEYPOT):
            return render_template("subscribe/sent.html")
        try:
            embed = subscribers.read_embed(runtime(), request.form.get("form", ""))
        except ValidationError:
            embed = None
        if embed is None or embed.slug != project.slug:
            return render_template("subscribe/out_of_date.html", project=project), 400
        credit = True
        typed = _typed()
        form = StepForm(formdata=None, data=typed)
        if subscribers.straight_through(
                email=typed["email"], consent=subscribers.ticked(request.form.get("consent")),
                honeypot=request.form.get(HONEYPOT), fresh=embed.fresh):
            if _straight("embed", typed, form, via_project=project.slug):
                return redirect(url_for("subscribe.sent"), code=303)
            return _step(project.slug, form, 400, credit=credit)
    form = StepForm(formdata=None, data=typed)
    return _step(project.slug, form, credit=credit)


@bp.route("/subscribe/from/<slug>/confirm", methods=["POST"])
def from_site_confirm(slug: str) -> Any:
    project = _public_project(slug)
    form = StepForm()
    if form.website.data:
        return redirect(url_for("subscribe.sent"))
    step = subscribers.read_step(runtime(), form.started.data or "",
                                 request.form.get(HONEYPOT))
    credit = step.credit and step.slug == project.slug  # kept when the step is shown again
    if not form.validate_on_submit():
        return _step(project.slug, form, 400, credit=credit)
    if step.problem or step.slug != project.slug:
        # Sent without the hidden field and at once (a bot), too late, or not our page:
        # the person sees the form again, with a fresh time, and one more click does it.
        return _step(project.slug, form, 400, note=_(
            "Please check the details and press Subscribe again.")
            if step.problem == "too quick" else _(
            "This page was open for a long time. Please check the details and press "
            "Subscribe again."), credit=credit)
    try:
        subscribers.subscribe(runtime(), _req("embed"), email=form.email.data or "",
                              name=form.name.data or "", language=form.language.data,
                              consent=bool(form.consent.data),
                              via_project=project.slug if credit else "",
                              chosen=form.chosen(), country=form.country.data or "")
    except ValidationError as exc:
        _show(form, exc)
        return _step(project.slug, form, 400, credit=credit)
    return redirect(url_for("subscribe.sent"))


@bp.route("/registry/<slug>/subscribe-form")
@login_required
def snippet(slug: str) -> Any:
    """The copy-paste HTML of a sign-up form for the project's own site: for its members
    and the editors."""
    rt = runtime()
    with rt.db.session() as s:
        project = projects.get(s, slug)
        if not current_user.is_editor and current_user.project_id != project.id:
            raise PermissionDenied("Only this project's members and the editors can see its "
                                   "sign-up form.")
        brought = reports.readers_brought(s, project.slug)
    # The snippet escapes what it shows (every template does, whatever its name); the
    # page shows its text in the box, escaped again, and the form itself as that same
    # template's output (escaped as it was made, like a cached fragment).
    # The member chooses the form's language (?snippet_lang=nl; the page's by default):
    # its words, and the pages and mails it leads visitors to.
    lang = languages.shipped(request.args.get("snippet_lang")) or page_language()
    form = {"project": project, "base": rt.settings.public_url.rstrip("/"),
            "token": subscribers.embed_token(rt, project.slug), "honeypot": HONEYPOT,
            "snippet_lang": lang}
    with force_locale(lang):
        html = render_template("subscribe/snippet.html.j2", **form).strip() + "\n"
    return render_template("subscribe/snippet_page.html", snippet=html, preview=Markup(html),
                           brought=brought, fresh_until=subscribers.embed_fresh_until(rt),
                           **form)


@bp.route("/subscribe/sent")
def sent() -> Any:
    return render_template("subscribe/sent.html")


@bp.route("/privacy")
def privacy() -> Any:
    notice = runtime().community.privacy_notice(page_language())
    return render_template("subscribe/privacy.html", notice=notice,
                           body=markdown_markup(notice.markdown))


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    rt = runtime()
    if request.method == "POST":
        subscribers.confirm(rt, _req("link"), token)
        return render_template("subscribe/done.html", title=_("You are subscribed"),
                               message=_("Thank you. The next issue will reach you; a welcome "
                                         "mail with your personal links is on its way."))
    subscribers.pending_for_confirmation(rt, token)
    return render_template("subscribe/confirm.html")


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    rt = runtime()
    if request.method == "POST":
        source = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "link"
        subscribers.unsubscribe(rt, _req(source), token)
        return render_template("subscribe/done.html", title=_("You are unsubscribed"),
                               message=_("You will receive no more newsletters. If this was a "
                                         "mistake, you can subscribe again at any time."))
    with rt.db.session() as s:
        sub = subscribers.by_link(rt, s, token)
        email, status = sub.email, sub.status
    return render_template("subscribe/unsubscribe.html", email=email, status=status,
                           token=token)


@bp.route("/p/<token>", methods=["GET", "POST"])
def preferences(token: str, erase_problem: str = "") -> Any:
    rt = runtime()
    with rt.db.session() as s:
        sub = subscribers.by_link(rt, s, token)
        email, status, current = sub.email, sub.status, {"name": sub.name,
                                                         "language": sub.language,
                                                         **reader_choices.state(sub)}
    # Shown again after an erase without the tick: the form as stored, not the POST's.
    form = (PreferencesForm(formdata=None, data=current) if erase_problem
            else PreferencesForm(data=current))
    form.language.choices = _choices(current["language"])
    saved = False
    code = 400 if erase_problem else 200
    if not erase_problem and form.validate_on_submit():
        try:
            subscribers.update_preferences(rt, _req("link"), token, name=form.name.data or "",
                                           language=form.language.data,
                                           chosen=form.chosen(),
                                           country=form.country.data or "")
            saved = True
        except ValidationError as exc:
            _show(form, exc)
            code = 400
    return render_template("subscribe/preferences.html", form=form, email=email,
                           status=status, token=token, saved=saved,
                           erase_problem=erase_problem), code


@bp.route("/p/<token>/data.json")
def data(token: str) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        sub_id = subscribers.by_link(rt, s, token).id
    resp = jsonify(subscribers.export(rt, sub_id))
    resp.headers["Content-Disposition"] = 'attachment; filename="my-newsletter-data.json"'
    return resp


@bp.post("/p/<token>/erase")
def erase(token: str) -> Any:
    if request.form.get("confirm") != "yes":  # the page again, the message by the box
        return preferences(token, erase_problem=_(
            "Nothing was erased. Tick the box to confirm that you want your data erased, "
            "then press the button again."))
    subscribers.erase(runtime(), _req("link"), token)
    return render_template("subscribe/done.html", title=_("Your data is erased"),
                           message=_("We removed your address, name and the record of where "
                                     "you signed up from. Only a one-way fingerprint of the "
                                     "address remains, so that it is never added back by "
                                     "mistake."))

