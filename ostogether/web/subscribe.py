"""The readers' pages: sign up, confirm, one-click unsubscribe, preferences, download
and erase one's data. Each is one call into ``ostogether.subscribers``.

Links from mails are confirmed by a button, never by the GET alone, so that a mail
scanner that follows every link neither subscribes nor unsubscribes anybody. The one-click
POST of RFC 8058 comes from mail clients, so it carries no CSRF token and needs none: the
signed link is the credential.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ostogether import subscribers
from ostogether.errors import ValidationError
from ostogether.sanitize import markdown_to_html
from ostogether.subscribers import LANGUAGES, Request
from ostogether.web.common import runtime

bp = Blueprint("subscribe", __name__)


def _req(source: str) -> Request:
    return Request(source, request.remote_addr or "unknown",
                   request.headers.get("User-Agent", "")[:400])


class SubscribeForm(FlaskForm):
    email = EmailField("Email address", validators=[Length(max=320)])
    name = StringField("Name (optional)", validators=[Length(max=subscribers.NAME_MAX)])
    language = SelectField("Language", choices=[SelectChoice(k, v) for k, v in
                                                LANGUAGES.items()], default="en",
                           description="The newsletter is in English; we use this to "
                                       "tell you about issues in your language.")
    consent = BooleanField("I agree to receive the newsletter by mail, as the privacy "
                           "notice explains. I can unsubscribe at any time.")


class PreferencesForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=subscribers.NAME_MAX)])
    language = SelectField("Language", choices=[SelectChoice(k, v) for k, v in LANGUAGES.items()])


@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe() -> Any:
    form = SubscribeForm()
    status = 200
    if form.validate_on_submit():
        try:
            subscribers.subscribe(runtime(), _req("form"), email=form.email.data or "",
                                  name=form.name.data or "", language=form.language.data,
                                  consent=bool(form.consent.data))
        except ValidationError as exc:
            for name, message in exc.fields.items():
                if name in form:
                    form[name].errors = [message]
            status = 400
        else:
            return redirect(url_for("subscribe.sent"))
    elif request.method == "POST":
        status = 400
    return render_template("subscribe/form.html", form=form), status


@bp.route("/subscribe/sent")
def sent() -> Any:
    return render_template("subscribe/sent.html")


@bp.route("/privacy")
def privacy() -> Any:
    notice = runtime().community.privacy_notice()
    return render_template("subscribe/privacy.html", notice=notice,
                           body=Markup(markdown_to_html(notice.markdown)))


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    rt = runtime()
    if request.method == "POST":
        subscribers.confirm(rt, _req("link"), token)
        return render_template("subscribe/done.html", title="You are subscribed",
                               message="Thank you. The next issue will reach you; a welcome "
                                       "mail with your personal links is on its way.")
    subscribers.pending_for_confirmation(rt, token)
    return render_template("subscribe/confirm.html")


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    rt = runtime()
    if request.method == "POST":
        source = "one-click" if request.form.get("List-Unsubscribe") == "One-Click" else "link"
        subscribers.unsubscribe(rt, _req(source), token)
        return render_template("subscribe/done.html", title="You are unsubscribed",
                               message="You will receive no more newsletters. If this was a "
                                       "mistake, you can subscribe again at any time.")
    with rt.db.session() as s:
        sub = subscribers.by_link(rt, s, token)
        email, status = sub.email, sub.status
    return render_template("subscribe/unsubscribe.html", email=email, status=status,
                           token=token)


@bp.route("/p/<token>", methods=["GET", "POST"])
def preferences(token: str) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        sub = subscribers.by_link(rt, s, token)
        email, status, current = sub.email, sub.status, {"name": sub.name,
                                                         "language": sub.language}
    form = PreferencesForm(data=current)
    saved = False
    code = 200
    if form.validate_on_submit():
        try:
            subscribers.update_preferences(rt, _req("link"), token, name=form.name.data or "",
                                           language=form.language.data)
            saved = True
        except ValidationError as exc:
            for name, message in exc.fields.items():
                if name in form:
                    form[name].errors = [message]
            code = 400
    return render_template("subscribe/preferences.html", form=form, email=email,
                           status=status, token=token, saved=saved), code


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
    if request.form.get("confirm") != "yes":
        raise ValidationError("Tick the box to confirm that you want your data erased.")
    subscribers.erase(runtime(), _req("link"), token)
    return render_template("subscribe/done.html", title="Your data is erased",
                           message="We removed your address, name and the record of where "
                                   "you signed up from. Only a one-way fingerprint of the "
                                   "address remains, so that it is never added back by "
                                   "mistake.")

