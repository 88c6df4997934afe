"""Login and logout for editors and members (Flask-Login, argon2, rate-limited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ostogether.accounts import users
from ostogether.core.errors import ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor
from ostogether.web.common import runtime
from ostogether.web.i18n import page_language

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so the login page cannot redirect anywhere else."""
    if not target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # a line break would end up in the Location header
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(runtime(), form.email.data or "", form.password.data or "",
                                  ip=request.remote_addr or "unknown",
                                  language=page_language())
        if user is None:
            form.password.errors = [_("The email address or password is not right.")]
        else:
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.name or user.email), "success")
            default = url_for("editors.index") if user.is_editor else (
                url_for("members.index") if user.role == "member" else url_for("public.home"))
            return redirect(_safe_next(request.args.get("next")) or default)
    return render_template("login.html", form=form), 200 if not form.errors else 400


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Any:
    # Every session of the account ends, also a copy of this cookie or another browser.
    users.end_sessions(runtime(), Actor.of(current_user), current_user.id, why="logout")
    logout_user()
    flash(_("You are logged out, in every browser."), "success")
    return redirect(url_for("public.home"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), description=_l(
        "At least 12 characters. A sentence of a few words is easy to remember and hard "
        "to guess."), validators=[DataRequired(), Length(max=1000)])
    confirm = PasswordField(_l("The same password again"), validators=[DataRequired(),
                                                                       Length(max=1000)])


class ResetForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])


@bp.route("/account/password/<token>", methods=["GET", "POST"])
def choose_password(token: str) -> Any:
    """Where invitation and password-reset links lead."""
    rt = runtime()
    try:
        user = users.user_for_link(rt, token)
    except ValidationError as exc:
        return render_template("password.html", form=None, problem=str(exc)), 400
    form = PasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            form.confirm.errors = [_("The two passwords are not the same.")]
        else:
            try:
                user = users.set_password(rt, token, form.password.data or "")
            except ValidationError as exc:
                form.password.errors = [str(exc)]  # the whole sentence, in the page's language
            else:
                login_user(user)
                flash(_("Your password is set, and you are logged in."), "success")
                return redirect(url_for("editors.index") if user.is_editor
                                else url_for("members.index"))
    return render_template("password.html", form=form, user=user, problem=None), \
        400 if form.errors else 200


@bp.route("/account/reset", methods=["GET", "POST"])
def reset() -> Any:
    form = ResetForm()
    if form.validate_on_submit():
        users.request_password_reset(runtime(), form.email.data or "",
                                     ip=request.remote_addr or "unknown",
                                     language=page_language())
        flash(_("If there is an account for that address, a mail with a link is on its "
                "way."), "success")
        return redirect(url_for("auth.login"))
    return render_template("reset.html", form=form), 400 if form.errors else 200
