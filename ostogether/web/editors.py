"""Editors' pages: the overview, applications to join, the review queue of news items,
member accounts and tokens, and the feeds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ostogether.accounts import tokens, users
from ostogether.core import charts, clock
from ostogether.core.errors import (
    Conflict,
    ContentError,
    Duplicate,
    OstogetherError,
    PermissionDenied,
    ValidationError,
)
from ostogether.core.inputs import ascii_int
from ostogether.core.languages import NAMES as LANGUAGE_NAMES
from ostogether.core.states import ITEM_STATUSES, KINDS, NETWORK_NAMES, NETWORKS, SOURCES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import audit, media
from ostogether.edges.audit import Actor
from ostogether.edges.wording import reword
from ostogether.library import legacy
from ostogether.library import outputs as library
from ostogether.mail import domain
from ostogether.models import NewsItem
from ostogether.news import feeds, review, translations
from ostogether.news import items as news
from ostogether.newsletter import issues as newsletter
from ostogether.reach import reports
from ostogether.registry import handles, organisations, projects
from ostogether.registry.org_rules import country_label
from ostogether.registry.rules import ProjectRecord
from ostogether.social import wording as social_wording
from ostogether.web.common import confirmed, editors_only, runtime, takes_uploads
from ostogether.web.forms import ItemForm, show_problems, take_upload
from ostogether.web.i18n import kind_labels, page_language

bp = Blueprint("editors", __name__, url_prefix="/editors")


editors_only(bp)


class DecisionForm(FlaskForm):
    reason = TextAreaField(_l("Note or reason for the applicant"),
                           description=_l("Required to reject; sent to the applicant."),
                           validators=[Length(max=4000)])


@bp.route("/")
def index() -> Any:
    """The dashboard: open work, the community's figures as charts with their tables,
    and the projects not featured lately."""
    rt = runtime()
    with rt.db.session() as s:
        waiting = projects.list_all(s, "applicant")
        listed = projects.list_public(s)
        recent = audit.recent(s)
        counts = news.counts_by_status(s)
        open_issue = newsletter.open_issue(s)
        library_waiting = len(library.list_by_status(s, "submitted"))
        dead_outputs = legacy.dead(s)
        community = organisations.figures(s)
    paused = [f for f in feeds.list_feeds(rt) if f.paused_at is not None]
    proposed = handles.pending(rt)
    f = reports.figures(rt, clock.now())
    svg = _charts(f)
    return render_template("editors/index.html", waiting=waiting, listed=listed, recent=recent,
                           counts=counts, paused=paused, open_issue=open_issue,
                           proposed=proposed, library_waiting=library_waiting,
                           dead_outputs=dead_outputs, unknown=f.posts_to_check,
                           figures=svg, months=f.months,
                           sent=f.sent, weeks=f.weeks, per_network=f.per_network,
                           per_project=f.per_project, unfeatured=f.unfeatured,
                           lookback=f.lookback, clicks=f.clicks, reach=f.reach,
                           community=community, types=rt.community.criteria().organisation_types,
                           country_label=country_label)


# The charts drawn last, per language: (figures, charts).
_CHARTS: dict[str, tuple[reports.Figures, dict[str, Markup]]] = {}


def _charts(f: reports.Figures) -> dict[str, Markup]:
    """The dashboard's six charts in the page's language, drawn again only for new figures
    (``reports.figures`` gives the same object while nothing changed)."""
    lang = page_language()
    drawn = _CHARTS.get(lang)
    if drawn is not None and drawn[0] is f:
        return drawn[1]
    top = f.per_project[:15]
    words = {"none": _("%(series)s: none"),
             "total": _("%(series)s: %(total)s in all, most in %(top)s (%(value)s)"),
             "span": _("from %(first)s to %(last)s"), "empty": _("no data")}
    svg = {
        "subscribers": charts.bar_chart(
            "subscribers", _("Subscribers each month"), [m.month for m in f.months],
            [(_("Confirmed"), [m.confirmed for m in f.months]),
             (_("Unsubscribed"), [m.unsubscribed for m in f.months]),
             (_("Bounced"), [m.bounced for m in f.months])], words=words),
        "issues": charts.bar_chart(
            "issues", _("Issues sent: recipients, delivered and bounced"),
            [f"#{i.number}" for i in f.sent],
            [(_("Recipients"), [i.recipients for i in f.sent]),
             (_("Delivered"), [i.delivered for i in f.sent]),
             (_("Bounced"), [i.bounced for i in f.sent])], words=words),
        "social": charts.bar_chart(
            "social", _("Social posts published per network and week"), f.weeks,
            [(NETWORK_NAMES[n], v) for n, v in f.per_network.items()], stacked=True,
            words=words),
        "items": charts.bar_chart(
            "items", _("Items per project: submitted, approved and published"),
            [p.acronym for p in top],
            [(_("Submitted"), [p.submitted for p in top]),
             (_("Approved"), [p.approved for p in top]),
             (_("Published"), [p.published for p in top])], words=words),
        "clicks": charts.bar_chart(
            "clicks", _("Clicks on items and archive views per issue"),
            [f"#{c.number}" for c in f.clicks],
            [(_("Clicks"), [c.clicks for c in f.clicks]),
             (_("Archive views"), [c.views for c in f.clicks])], words=words),
        "reach": charts.bar_chart(
            "reach", _("Interactions with the last year's posts, per network"),
            [NETWORK_NAMES[r.network] for r in f.reach],
            [(_("Interactions"), [r.interactions for r in f.reach])], words=words),
    }
    _CHARTS[lang] = (f, svg)
    return svg


@bp.route("/applications")
def applications() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        waiting = projects.list_all(s, "applicant")
        decided = [p for p in projects.list_all(s) if p.source == "application"
                   and p.status != "applicant"]
    return render_template("editors/applications.html", waiting=waiting, decided=decided)


def _account_note(d: projects.Decision) -> str:
    """What an acceptance did about the applicant's contact, after the confirmation."""
    p = d.project
    if d.account == "invited":
        return " " + _("%(email)s is invited as its first member: the welcome mail has the "
                       "link to choose a password.", email=p.contact_email)
    if d.account == "existing" and d.account_project in ("", p.acronym):
        return " " + _("%(email)s already had an account; the mail says to log in with it.",
                       email=p.contact_email)
    if d.account == "existing":
        return " " + _("%(email)s already has an account, for %(other)s: invite another "
                       "address for %(project)s on Member accounts.", email=p.contact_email,
                       other=d.account_project, project=p.acronym)
    if p.status == "rejected":
        return ""
    return " " + _("It has no contact address, so nobody was invited: invite its first "
                   "member on Member accounts.")


@bp.route("/applications/<id:project_id>", methods=["GET", "POST"])
def application(project_id: int) -> Any:
    rt = runtime()
    with rt.db.session() as s:
        project = projects.application(s, project_id)
        history = audit.story(s, project, rt.community.schedule().zone)
    form = DecisionForm()
    status = 200
    # An application decided meanwhile is refused by the service (Conflict → error page).
    if form.validate_on_submit():
        accept = request.form.get("decision") == "accept"
        try:
            decision = projects.decide(rt, project_id, Actor.of(current_user),
                                       accept=accept, reason=form.reason.data or "")
        except ValidationError as exc:
            form.reason.errors = [exc.fields.get("reason", str(exc))]
            status = 400
        else:
            p = decision.project
            told = (_("%(project)s is now a member; the applicant has been told.",
                      project=p.acronym) if p.status == "member" else
                    _("%(project)s was not accepted; the applicant has been told.",
                      project=p.acronym))
            flash(told + _account_note(decision), "success")
            return redirect(url_for("editors.applications"))
    results = projects.evaluate(rt, ProjectRecord.from_object(project))
    return render_template("editors/application.html", project=project, form=form,
                           results=results, history=history,
                           zone=rt.community.schedule().zone,
                           criteria=rt.community.criteria()), status


# ---------------------------------------------------------------------- review queue

AGES = {"": None, "1": 1, "7": 7, "30": 30}


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the submitter"), validators=[Length(max=4000)],
                           description=_l("Required to reject; sent to the submitter."))


QUEUE_PAGE = 50  # items a page of the queue shows (and ticks at once)


def _projects_for_select(s: Any) -> list[tuple[str, str]]:
    return [("", _("All projects")), *projects.public_choices(s)]


@bp.route("/items")
def items() -> Any:
    rt = runtime()
    args = request.args
    status = args.get("status", "submitted")
    status = status if status in ITEM_STATUSES or status == "all" else "submitted"
    with rt.db.session() as s:
        languages = news.languages_in_use(s)
        filters = news.ItemFilters(
            status="" if status == "all" else status,
            project_slug=args.get("project", "")[:80],
            kind=args.get("kind", "") if args.get("kind") in KINDS else "",
            source=args.get("source", "") if args.get("source") in SOURCES else "",
            language=args.get("language", "") if args.get("language") in languages else "",
            max_age_days=AGES.get(args.get("age", ""), None),
            text=args.get("q", "")[:200])
        page = n if (n := ascii_int(args.get("page", "1"))) is not None and 0 < n < 100_000 \
            else 1
        rows, total = news.list_items(s, filters, limit=QUEUE_PAGE,
                                      offset=(page - 1) * QUEUE_PAGE)
        choices = _projects_for_select(s)
    return render_template("editors/items.html", items=rows, total=total, status=status,
                           page=page, pages=max(1, -(-total // QUEUE_PAGE)),
                           first=(page - 1) * QUEUE_PAGE + 1,
                           kept={k: v for k, v in args.items() if k != "page"},
                           args=args, kinds=kind_labels(), sources=SOURCES, languages=languages,
                           statuses=ITEM_STATUSES, project_choices=choices, ages=AGES,
                           bulk_form=ReasonForm(prefix="bulk"))


@bp.route("/items/decide", methods=["POST"])
def items_decide() -> Any:
    """Approve or reject the ticked items of the queue at once, with one reason."""
    form = ReasonForm(prefix="bulk")
    kept: dict[str, Any] = {k: v for k, v in request.args.items()
                            if k in ("status", "project", "kind", "source", "language",
                                     "age", "q")}
    back = url_for("editors.items", **kept)
    if not form.validate_on_submit():
        flash(_("The form had expired; nothing was decided. Please try again."), "error")
        return redirect(back)
    action = request.form.get("action", "")
    ids = [int(v) for v in request.form.getlist("item") if v.isdigit() and len(v) < 12]
    try:
        out = review.decide_many(runtime(), Actor.of(current_user), ids, action,
                               form.reason.data or "")
    except ValidationError as exc:
        flash(str(exc), "error")
        return redirect(back)
    approve = action == "approve"
    told = sum(1 for d in out.decided if d.told)
    n, untold = len(out.decided), len(out.decided) - told
    if out.decided and told < n:
        flash((_("Approved %(num)s item(s); %(told)s submitter(s) told by mail, %(untold)s "
                 "could not be told (no member account or contact address, or the mail "
                 "failed).", num=n, told=told, untold=untold) if approve else
               _("Rejected %(num)s item(s); %(told)s submitter(s) told by mail, %(untold)s "
                 "could not be told (no member account or contact address, or the mail "
                 "failed).", num=n, told=told, untold=untold)), "success")
    elif out.decided:
        flash((_("Approved %(num)s item(s); %(told)s submitter(s) told by mail.", num=n,
                 told=told) if approve else
               _("Rejected %(num)s item(s); %(told)s submitter(s) told by mail.", num=n,
                 told=told)), "success")
    for item_id, why in out.refused:
        flash((_("Item %(id)s was not approved: %(why)s", id=item_id, why=why) if approve
               else _("Item %(id)s was not rejected: %(why)s", id=item_id, why=why)),
              "error")
    return redirect(back)


def _decided_sentence(approved: bool, title: str, told: list[str]) -> str:
    """The flash after one item's decision: whom the mail told, or that nobody heard."""
    if told and approved:
        return _("Approved \u201c%(title)s\u201d; %(told)s told by mail.", title=title,
                 told=", ".join(told))
    if told:
        return _("Rejected \u201c%(title)s\u201d; %(told)s told by mail.", title=title,
                 told=", ".join(told))
    if approved:
        return _("Approved \u201c%(title)s\u201d; nobody was told: the project has no member "
                 "account or contact address, or the mail could not be sent.", title=title)
    return _("Rejected \u201c%(title)s\u201d; nobody was told: the project has no member "
             "account or contact address, or the mail could not be sent.", title=title)


def _post_preview(item: NewsItem) -> tuple[list[Any], str]:
    """Each network's post text for the item, or ([], why) when a template is broken."""
    try:
        return social_wording.texts_for_item(runtime(), item), ""
    except ContentError as exc:
        return [], str(exc)


@bp.route("/items/<id:item_id>", methods=["GET", "POST"])
@takes_uploads
def item(item_id: int) -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    with rt.db.session() as s:
        it = news.get_item(s, item_id)
        _loaded = it.project, it.submitted_by, it.translations  # while the session is open
        history = audit.story(s, it, rt.community.schedule().zone)
        told = news.who_hears(s, it)
        again = review.resubmission(s, it)
    form = ItemForm(prefix="edit")
    reason_form = ReasonForm(prefix="review")
    status = 200
    action = request.form.get("action", "")
    if request.method == "POST":
        try:
            if action == "save" and form.validate_on_submit() and take_upload(form, rt):
                changed = news.update(rt, actor, item_id, form.to_input())
                flash(_("Saved: %(fields)s.", fields=", ".join(changed)) if changed
                      else _("Saved: nothing changed."), "success")
                return redirect(url_for("editors.item", item_id=item_id))
            if action in ("approve", "reject") and reason_form.validate_on_submit():
                done = news.decide(rt, actor, item_id, action, reason_form.reason.data or "")
                flash(_decided_sentence(action == "approve", it.title, done.told),
                      "success" if done.told else "warning")
                return redirect(_next_in_queue(item_id))
            if action == "back" and reason_form.validate_on_submit():
                review.back_to_review(rt, actor, item_id, reason_form.reason.data or "")
                flash(_("\u201c%(title)s\u201d is back in the review queue.",
                        title=it.title), "success")
                return redirect(url_for("editors.item", item_id=item_id))
        except ValidationError as exc:
            show_problems(form if action == "save" else reason_form, exc.fields)
            status = 400
        except Duplicate as exc:
            form.link.errors = [*form.link.errors, str(exc)]
            status = 400
        except (Conflict, PermissionDenied) as exc:
            flash(str(exc), "error")
            return redirect(url_for("editors.item", item_id=item_id))
        if form.errors or reason_form.errors:
            status = 400
    if action != "save":
        form.fill_from(it)
    post_texts, post_problem = _post_preview(it)
    picture, picture_problem = _picture(it)
    return render_template("editors/item.html", item=it, form=form, reason_form=reason_form,
                           history=history, kinds=kind_labels(), post_texts=post_texts,
                           post_problem=post_problem, local_start=it.local_start(),
                           editable=it.status in news.EDITABLE_STATUSES, told=told,
                           again=again, picture=picture,
                           zone=rt.community.schedule().zone,
                           picture_problem=picture_problem,
                           language_names=LANGUAGE_NAMES), status


@bp.route("/items/<id:item_id>/translations", methods=["POST"])
def item_translation(item_id: int) -> Any:
    """Add or change one translation of an item under review (or approved)."""
    form = FlaskForm()
    if form.validate_on_submit():
        f = request.form
        given = translations.TranslationInput(f.get("language", ""), f.get("title", ""),
                                              f.get("summary", ""), f.get("link", ""))
        try:
            done = translations.save(runtime(), Actor.of(current_user), item_id, [given])
        except ValidationError as exc:
            flash(_("The translation was not saved: %(problem)s", problem=exc), "error")
        else:
            flash(_("Translation %(languages)s saved.", languages=", ".join(done)) if done
                  else _("Nothing changed."), "success")
    return redirect(url_for("editors.item", item_id=item_id) + "#translations-h")


@bp.route("/items/<id:item_id>/translations/remove", methods=["POST"])
def item_translation_remove(item_id: int) -> Any:
    form = FlaskForm()
    language = request.form.get("language", "")[:8]
    if form.validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to remove the %(language)s "
            "translation.", language=language)):
        try:
            gone = translations.remove(runtime(), Actor.of(current_user), item_id, language)
        except ValidationError as exc:
            flash(str(exc), "error")
        else:
            flash(_("The %(language)s translation is removed.", language=language) if gone
                  else _("There was no %(language)s translation.", language=language),
                  "success" if gone else "error")
    return redirect(url_for("editors.item", item_id=item_id) + "#translations-h")


def _picture(item: NewsItem) -> tuple[str, str]:
    """The kept copy of the item's picture (fetched through the guard and kept now if it
    was not yet, as approval would), or ("", why it cannot be shown)."""
    if not item.image_url:
        return "", ""
    try:
        kept = media.store(runtime(), item.image_url)
    except OstogetherError as exc:
        return "", _("The picture cannot be used: %(problem)s", problem=reword(exc))
    return url_for("public.media_file", name=kept.name), ""


def _next_in_queue(after_id: int) -> str:
    with runtime().db.session() as s:
        rows, _ = news.list_items(s, news.ItemFilters(status="submitted"), limit=1)
    return url_for("editors.item", item_id=rows[0].id) if rows else url_for("editors.items")


@bp.route("/items/<id:item_id>/flags", methods=["POST"])
def item_flags(item_id: int) -> Any:
    if FlaskForm().validate_on_submit():
        news.set_flags(runtime(), Actor.of(current_user), item_id,
                       for_newsletter=request.form.get("for_newsletter") == "y",
                       for_social=request.form.get("for_social") == "y")
        flash(_("Flags saved."), "success")
    return redirect(url_for("editors.item", item_id=item_id))


# ------------------------------------------------------------- accounts and tokens

class InviteForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=320)])
    name = StringField(_l("Name (optional)"), validators=[Length(max=200)])
    project = SelectField(_l("Project"), validators=[DataRequired()])


class EditorTokenForm(FlaskForm):
    project = SelectField(_l("Project"), validators=[DataRequired()])
    name = StringField(_l("What is the token for?"), default=_l("API token"),
                       validators=[Length(max=100)])


@bp.route("/members", methods=["GET", "POST"])
def members() -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    invite = InviteForm(prefix="invite")
    token_form = EditorTokenForm(prefix="token")
    with rt.db.session() as s:
        choices = _projects_for_select(s)[1:]
    invite.project.choices = [SelectChoice(v, label) for v, label in choices]
    token_form.project.choices = [SelectChoice(v, label) for v, label in choices]
    secret, status = None, 200
    if request.form.get("action") == "invite" and invite.validate_on_submit():
        try:
            user = users.invite(rt, actor, email=invite.email.data or "",
                                project_slug=invite.project.data or "",
                                name=invite.name.data or "",
                                inviter=current_user.name or current_user.email)
        except ValidationError as exc:
            show_problems(invite, exc.fields)
        except Conflict as exc:
            invite.email.errors = [str(exc)]
        else:
            flash(_("Invited %(email)s; the mail has a link to choose a password.",
                    email=user.email), "success")
            return redirect(url_for("editors.members"))
    elif request.form.get("action") == "token" and token_form.validate_on_submit():
        with rt.db.session() as s:
            project = projects.get(s, token_form.project.data or "", public=False)
        _token, secret = tokens.create(rt, actor, project.id, token_form.name.data or "")
    if invite.errors or token_form.errors:
        status = 400
    with rt.db.session() as s:
        accounts = users.members_of(s)
        all_tokens = tokens.list_tokens(s)
    return render_template("editors/members.html", invite=invite, token_form=token_form,
                           accounts=accounts, tokens=all_tokens, secret=secret), status


@bp.post("/accounts/<id:user_id>/end-sessions")
def end_sessions(user_id: int) -> Any:
    """An admin logs an account out everywhere (a lost laptop, a shared password)."""
    if not current_user.is_admin:
        raise PermissionDenied(_("Only an admin can end another account's sessions."))
    if FlaskForm().validate_on_submit():
        user = users.end_sessions(runtime(), Actor.of(current_user), user_id, why="admin")
        flash(_("Every session of %(email)s has ended; they must log in again.",
                email=user.email), "success")
    return redirect(url_for("editors.members"))


@bp.post("/accounts/<id:user_id>/remove")
def remove_account(user_id: int) -> Any:
    """Close a member's account (asked once: the page's confirm form)."""
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to close the account.")):
        try:
            user = users.remove(runtime(), Actor.of(current_user), user_id)
        except (Conflict, PermissionDenied) as exc:
            flash(str(exc), "error")
        else:
            flash(_("The account of %(email)s is closed: it can no longer log in. What it "
                    "sent stays.", email=user.email), "success")
    return redirect(url_for("editors.members"))


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int) -> Any:
    if FlaskForm().validate_on_submit() and confirmed(_(
            "Nothing was done: confirm that you want to revoke the token.")):
        t = tokens.revoke(runtime(), Actor.of(current_user), token_id)
        flash(_("The token %(prefix)s\u2026 of %(project)s is revoked.", prefix=t.prefix,
                project=t.project.acronym), "success")
    return redirect(url_for("editors.members"))


# -------------------------------------------------------------------------- feeds

@bp.route("/feeds")
def feeds_page() -> Any:
    rt = runtime()
    return render_template("editors/feeds.html", feeds=feeds.list_feeds(rt),
                           reword=reword)


@bp.route("/feeds/<slug>", methods=["POST"])
def feed_action(slug: str) -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    if FlaskForm().validate_on_submit():
        action = request.form.get("action")
        if action == "resume":
            feeds.resume(rt, actor, slug)
            flash(_("The feed of %(project)s will be polled again.", project=slug),
                  "success")
        elif action in ("auto_on", "auto_off"):
            feeds.set_auto_approve(rt, actor, slug, action == "auto_on")
            flash(_("Auto-approve is on for %(project)s.", project=slug)
                  if action == "auto_on" else
                  _("Auto-approve is off for %(project)s.", project=slug), "success")
    return redirect(url_for("editors.feeds_page"))


# ------------------------------------------------------------------------- handles

@bp.route("/handles")
def handles_page() -> Any:
    """Handles proposed by member projects, waiting for an editor."""
    return render_template("editors/handles.html", waiting=handles.pending(runtime()),
                           networks=NETWORKS)


@bp.post("/handles/<slug>")
def handles_action(slug: str) -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    if FlaskForm().validate_on_submit():
        try:
            if request.form.get("action") == "confirm":
                handles.confirm(rt, actor, slug)
                flash(_("The handles of %(project)s are in use from the next post.",
                        project=slug), "success")
            else:
                handles.decline(rt, actor, slug, request.form.get("reason", ""))
                flash(_("Declined; the members of %(project)s see the reason.",
                        project=slug), "success")
        except (Conflict, ValidationError, ContentError) as exc:
            flash(str(exc), "error")
    return redirect(url_for("editors.handles_page"))


# ------------------------------------------------------------- the sending domain

@bp.route("/sending-domain", methods=["GET", "POST"])
def sending_domain() -> Any:
    """SPF, DKIM and DMARC of the domain the newsletter is sent from: the last check,
    **Check now**, and each record to publish where."""
    rt = runtime()
    if request.method == "POST" and FlaskForm().validate_on_submit():
        found = domain.check(rt)
        said = {"pass": _("Checked %(domain)s: all in order.", domain=found.domain),
                "warn": _("Checked %(domain)s: see the warnings below.", domain=found.domain),
                "fail": _("Checked %(domain)s: some records must be fixed.",
                          domain=found.domain)}
        flash(said[found.status], "success" if found.status == "pass" else "warning")
        return redirect(url_for("editors.sending_domain"))
    return render_template("editors/domain.html", report=domain.last(rt),
                           domains=domain.domains(rt), records=domain.to_publish(rt),
                           zone=rt.community.schedule().zone)
