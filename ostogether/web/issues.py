"""Editors' newsletter pages: the issues, one issue's editor, its preview at desktop and
phone widths, the pre-flight checklist with approval, and test sends.

Every action is one call into ``ostogether.newsletter.issues``; this module only turns forms into
calls and errors into messages on the page.
"""

from __future__ import annotations

import logging
from typing import Any

from babel.lists import format_list
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from ostogether.core import clock
from ostogether.core.errors import (
    Blocked,
    Conflict,
    ContentError,
    MailError,
    NotFound,
    RateLimited,
    ValidationError,
)
from ostogether.core.inputs import ascii_int
from ostogether.core.languages import NAMES as LANGUAGE_NAMES
from ostogether.core.states import KINDS
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import audit
from ostogether.edges.audit import Actor
from ostogether.mail import transactional
from ostogether.newsletter import (
    announcements,
    assembly,
    delivery,
    preflight,
    rendering,
    send_dates,
    test_sends,
    versions,
    wording,
)
from ostogether.newsletter import issues as newsletter
from ostogether.web.announcements import posted_segment, segment_context, unchecked
from ostogether.web.common import (
    confirmed,
    editors_only,
    mail_html_response,
    runtime,
    warn_if_no_worker,
)
from ostogether.web.i18n import local_date

bp = Blueprint("issues", __name__, url_prefix="/editors/issues")
log = logging.getLogger(__name__)

editors_only(bp)


# What an issue's state is called on the editors' pages.
STATES = {"draft": _l("draft"), "in_review": _l("in review"), "approved": _l("approved"),
          "sending": _l("sending"), "sent": _l("sent"), "cancelled": _l("cancelled")}
_TEXTS = {"subject": _l("the subject"), "preheader": _l("the preheader"),
          "intro_md": _l("the editorial")}


bp.add_app_template_global(wording.send_state, "send_state")
bp.add_app_template_global(wording.ledger_state, "ledger_state")
bp.add_app_template_global(wording.send_note, "send_note")


@bp.app_template_global()
def issue_state(status: str) -> str:
    """An issue's state in the page's language ("in review")."""
    return str(STATES.get(status, status.replace("_", " ")))


@bp.app_template_global()
def issue_name(issue: Any, start: bool = False) -> str:
    """How the editors' pages name an issue in the page's language: "issue #12",
    "announcement A3", or with a capital at the start of a line: "Issue #12"."""
    if issue.number is None:
        if issue.announcement:
            return _("Announcement (cancelled)") if start else _("announcement (cancelled)")
        return _("Issue (cancelled)") if start else _("issue (cancelled)")
    if issue.number < 0:
        return (_("Announcement A%(number)s", number=-issue.number) if start
                else _("announcement A%(number)s", number=-issue.number))
    return (_("Issue #%(number)s", number=issue.number) if start
            else _("issue #%(number)s", number=issue.number))


def _texts(changed: Any) -> str:
    """"the subject and the editorial", as the page's language lists them."""
    return format_list([str(_TEXTS[c]) for c in changed], locale=str(get_locale()))


class DetailsForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[Length(max=newsletter.SUBJECT_LIMIT)],
                          description=_l("1-90 characters; inboxes cut longer ones."))
    preheader = StringField(_l("Preheader"),
                            validators=[Length(max=newsletter.PREHEADER_LIMIT)],
                            description=_l("The line inboxes show after the subject."))
    intro_md = TextAreaField(_l("Editorial"), validators=[Length(max=newsletter.INTRO_MAX)],
                             description=_l("Markdown. \"Dear reader…\", with the highlights "
                                            "of this issue. Leave empty for no editorial."))


@bp.route("/")
def index() -> Any:
    rt = runtime()
    with rt.db.session() as s:
        issues = newsletter.list_issues(s)
        counts = {i.id: len(i.entries) for i in issues}
        waiting = len(newsletter.candidates(s))
    return render_template("editors/issues.html", issues=issues, counts=counts,
                           waiting=waiting, zone=rt.community.schedule().zone)


@bp.post("/compose")
def compose() -> Any:
    rt = runtime()
    try:
        issue = newsletter.compose_next(rt, Actor.of(current_user))
    except (Conflict, ContentError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("issues.index"))
    flash(ngettext("Issue #%(number)s is a draft with %(num)d item(s).",
                   "Issue #%(number)s is a draft with %(num)d item(s).",
                   len(issue.entries), number=issue.number), "success")
    return redirect(url_for("issues.edit", issue_id=issue.id))


class TestForm(FlaskForm):
    others = TextAreaField(
        _l("Other addresses"), validators=[Length(max=2000)],
        render_kw={"rows": 3, "autocomplete": "off", "spellcheck": "false"},
        description=_l("Up to %(num)s addresses besides the editors' (your Gmail or Outlook, "
                       "a colleague), separated by commas or one a line.",
                       num=test_sends.MAX_TYPED))
    language = SelectField(
        _l("Language version"), choices=[("", _l("The community's language")),
                                         *((c, f"{n} ({c})") for c, n in LANGUAGE_NAMES.items())],
        validate_choice=False, description=_l("The version its readers in that language get."))


class LanguageTextsForm(FlaskForm):
    """One language's subject, preheader and editorial; empty ones take its defaults."""

    language = HiddenField()
    subject = StringField(_l("Subject in this language"),
                          validators=[Length(max=newsletter.SUBJECT_LIMIT)],
                          description=_l("Empty: the automatic subject in this language."))
    preheader = StringField(_l("Preheader in this language"),
                            validators=[Length(max=newsletter.PREHEADER_LIMIT)],
                            description=_l("Empty: the automatic preheader in this language."))
    intro_md = TextAreaField(_l("Editorial in this language"),
                             validators=[Length(max=newsletter.INTRO_MAX)],
                             description=_l("Markdown. Empty: the editorial above, marked with "
                                            "its language."))


class ScheduleForm(FlaskForm):
    send_date = StringField(_l("Date"), validators=[Length(max=20)], render_kw={"type": "date"})
    send_time = StringField(_l("Time"), validators=[Length(max=20)], render_kw={"type": "time"})


def _page(issue_id: int, form: DetailsForm | None = None, status: int = 200, *,
          test: TestForm | None = None, ticked: list[str] | None = None,
          to_problem: str = "", test_problem: str = "",
          schedule: ScheduleForm | None = None,
          texts_form: LanguageTextsForm | None = None,
          segment: dict[str, Any] | None = None) -> Any:
    rt = runtime()
    rules = rt.community.newsletter()
    with rt.db.session() as s:
        issue = newsletter.get_issue(s, issue_id)
        entries = list(issue.entries)
        extra = newsletter.available(s, issue) if issue.status in newsletter.EDITABLE else []
        history = audit.story(s, issue, rt.community.schedule().zone)
        left_out = newsletter.left_out(s, issue)
        editors = transactional.editor_addresses(s)
    confirmed = announcements.recipients(rt, issue)  # an announcement's: its segment's
    if issue.announcement and segment is None:
        segment = segment_context(rt, announcements.segment_of(issue))
    send = (delivery.status(rt, issue_id)
            if issue.status in ("approved", "sending", "sent") else None)
    if form is None:
        form = DetailsForm(formdata=None, data={
            "subject": issue.subject, "preheader": issue.preheader,
            "intro_md": issue.intro_md})
    zone = rt.community.schedule().zone
    local = issue.send_at.astimezone(zone)
    if schedule is None:
        schedule = ScheduleForm(formdata=None, data={"send_date": f"{local:%Y-%m-%d}",
                                                     "send_time": f"{local:%H:%M}"})
    now = clock.now()
    schedule.send_time.description = _("In %(zone)s.", zone=clock.zone_label(zone, issue.send_at))
    schedule.send_date.render_kw = {"type": "date", "min": f"{now.astimezone(zone):%Y-%m-%d}",
                                    "max": f"{(now + send_dates.AHEAD).astimezone(zone):%Y-%m-%d}"}
    sections = [sec for sec in rules.sections if not sec.editorial]
    langs = versions.versions(rt, issue_id, render=False)
    chosen = request.args.get("version", "") if texts_form is None else texts_form.language.data
    chosen = chosen if chosen in [v.language for v in langs[1:]] else langs[1].language
    if texts_form is None:
        own = next((t for t in issue.texts if t.language == chosen), None)
        texts_form = LanguageTextsForm(formdata=None, data={
            "language": chosen, "subject": own.subject if own else "",
            "preheader": own.preheader if own else "", "intro_md": own.intro_md if own else ""})
    if issue.announcement:  # no automatic lines: the announcement's own
        texts_form.subject.description = _("Empty: the announcement's own subject.")
        texts_form.preheader.description = _("Empty: the announcement's own preheader.")
    return render_template("editors/issue.html", issue=issue, entries=entries, extra=extra,
                           versions=langs, chosen=chosen, texts_form=texts_form,
                           same_texts=set(issue.same_texts or ()),
                           sections=sections, form=form, history=history, kinds=KINDS,
                           left_out=left_out, send=send, confirmed=confirmed,
                           editors=editors, editable=issue.status in newsletter.EDITABLE,
                           test=test or TestForm(formdata=None),
                           ticked={t.strip().lower() for t in (
                               [current_user.email] if ticked is None else ticked)},
                           to_problem=to_problem, test_problem=test_problem,
                           test_limit=rt.settings.test_send_max_per_hour,
                           schedule=schedule, zone=zone,
                           zone_label=clock.zone_label(zone, issue.send_at),
                           by_itself=send_dates.goes_by_itself(issue),
                           due_now=issue.send_at <= now,
                           poll=rt.settings.worker_poll_seconds, **(segment or {})), status


@bp.route("/<issue:issue_id>", methods=["GET", "POST"])
def edit(issue_id: int) -> Any:
    form = DetailsForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page(issue_id, form, 400)
        try:
            changed = newsletter.update_details(
                runtime(), Actor.of(current_user), issue_id, subject=form.subject.data or "",
                preheader=form.preheader.data or "", intro_md=form.intro_md.data or "")
        except ValidationError as exc:
            for name, message in exc.fields.items():
                if name in form:
                    form[name].errors = [message]
            return _page(issue_id, form, 400)
        flash(_("Saved %(texts)s.", texts=_texts(changed)) if changed
              else _("Nothing changed."), "success")
        return redirect(url_for("issues.edit", issue_id=issue_id))
    return _page(issue_id)


@bp.post("/<issue:issue_id>/texts")
def language_texts(issue_id: int) -> Any:
    """One language's subject, preheader and editorial."""
    form = LanguageTextsForm()
    back = url_for("issues.edit", issue_id=issue_id, version=form.language.data or None)
    if not form.validate_on_submit():
        return _page(issue_id, texts_form=form, status=400)
    try:
        changed = versions.set_texts(
            runtime(), Actor.of(current_user), issue_id, form.language.data or "",
            subject=form.subject.data or "", preheader=form.preheader.data or "",
            intro_md=form.intro_md.data or "")
    except ValidationError as exc:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [message]
        if "language" in exc.fields:
            flash(str(exc), "error")
            return redirect(back + "#languages")
        return _page(issue_id, texts_form=form, status=400)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(back + "#languages")
    name = LANGUAGE_NAMES.get(form.language.data or "", "")
    flash(_("Saved %(texts)s in %(language)s.", texts=_texts(changed), language=name)
          if changed else _("Nothing changed."), "success")
    return redirect(back + "#languages")


@bp.post("/<issue:issue_id>/same")
def same_texts(issue_id: int) -> Any:
    """Which texts are the same for every language."""
    if FlaskForm().validate_on_submit():
        try:
            changed = versions.set_same(runtime(), Actor.of(current_user), issue_id,
                                        request.form.getlist("same"))
        except (ValidationError, Conflict) as exc:
            flash(str(exc), "error")
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#languages")


@bp.post("/<issue:issue_id>/schedule")
def schedule(issue_id: int) -> Any:
    """A new send date and time, in the community's zone."""
    rt = runtime()
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _page(issue_id, schedule=form, status=400)
    try:
        moved = send_dates.reschedule(rt, Actor.of(current_user), issue_id,
                                      form.send_date.data or "", form.send_time.data or "")
    except ValidationError as exc:
        for name, message in exc.fields.items():
            if name in form:
                form[name].errors = [message]
        return _page(issue_id, schedule=form, status=400)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("issues.edit", issue_id=issue_id) + "#when")
    zone = rt.community.schedule().zone
    if moved.before == moved.after:
        flash(_("The send date and time were already those: nothing changed."), "success")
    else:
        local = moved.after.astimezone(zone)
        flash(_("Issue #%(number)s now goes out on %(day)s at %(time)s, %(zone)s.",
                number=moved.number, day=local_date(local, "yMMMMEEEEd"),
                time=f"{local:%H:%M}", zone=clock.zone_label(zone, moved.after)), "success")
    if moved.back_to_review:
        flash(_("It went back to review, as it was approved for another day: run the "
                "pre-flight and approve it again."), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#when")


@bp.post("/<issue:issue_id>/segment")
def segment(issue_id: int) -> Any:
    """An announcement's segment: "Count readers" shows what the ticked segment reaches
    (nothing is saved); "Save" keeps it, and the page shows its count."""
    rt = runtime()
    values = posted_segment()
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired; nothing was saved. Try again."), "error")
        return redirect(url_for("issues.edit", issue_id=issue_id) + "#segment")
    try:
        if request.form.get("action") == "count":
            chosen = announcements.checked_segment(rt, values)
            return _page(issue_id, segment={**segment_context(rt, chosen),
                                            "segment_counted": True})
        changed = announcements.set_segment(rt, Actor.of(current_user), issue_id, values)
    except ValidationError as exc:
        return _page(issue_id, status=400, segment=segment_context(rt, unchecked(values),
                                                                   exc.fields))
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("issues.edit", issue_id=issue_id) + "#segment")
    flash(_("Saved the segment.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#segment")


@bp.post("/<issue:issue_id>/arrange")
def arrange(issue_id: int) -> Any:
    item_id = request.form.get("item_id", "")
    try:
        newsletter.arrange(runtime(), Actor.of(current_user), issue_id,
                           ascii_int(item_id) or 0,
                           request.form.get("action", ""), request.form.get("section", ""))
    except (ValidationError, Conflict, NotFound) as exc:
        flash(str(exc), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#items")


@bp.post("/<issue:issue_id>/everyone")
def for_everyone(issue_id: int) -> Any:
    item_id = ascii_int(request.form.get("item_id", "")) or 0
    on = request.form.get("on", "") == "1"
    try:
        if newsletter.set_for_everyone(runtime(), Actor.of(current_user), issue_id, item_id,
                                       on):
            flash(_("The item now goes to every reader, whatever they chose.") if on else
                  _("The item now goes only to the readers whose choices match it."),
                  "success")
    except (Conflict, NotFound) as exc:
        flash(str(exc), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#items")


@bp.post("/<issue:issue_id>/cancel")
def cancel(issue_id: int) -> Any:
    if not confirmed(_("Nothing was done: confirm that you want to "
                                           "cancel the issue.")):
        return redirect(url_for("issues.edit", issue_id=issue_id))
    try:
        newsletter.cancel(runtime(), Actor.of(current_user), issue_id)
        flash(_("The issue is cancelled; its number is free again."), "success")
    except Conflict as exc:
        flash(str(exc), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id))


def _language_arg() -> str:
    """The ``version`` asked for (a newsletter language), or "" for the community's."""
    asked = request.args.get("version", "")
    return asked if asked in LANGUAGE_NAMES else ""


GROUPS = ("topics", "kinds", "audiences", "projects")


def _as_reader() -> dict[str, list[str]]:
    """The choices of "preview as a reader who follows …" (GET parameters)."""
    return {g: request.args.getlist(g)[:50] for g in GROUPS if request.args.getlist(g)}


def _preview(issue_id: int) -> tuple[Any, Any, Any, Any]:
    """(issue, rendering, problem, what the reader gets or None) for the preview pages:
    the whole issue, or the mail of the reader whose choices the parameters give."""
    rt = runtime()
    lang, asked = _language_arg(), _as_reader()
    with rt.db.session() as s:
        issue = newsletter.get_issue(s, issue_id)
        try:
            if asked:
                choices = assembly.known_choices(rt, s, *(asked.get(g, ()) for g in GROUPS))
                out, sel = assembly.preview(rt, s, issue, choices, lang)
                return issue, out, None, sel
            return issue, newsletter.public_rendering(rt, issue, lang or None), None, None
        except ContentError as exc:
            return issue, None, exc, None


@bp.route("/<issue:issue_id>/preview")
def preview(issue_id: int) -> Any:
    rt = runtime()
    lang = _language_arg()
    issue, out, problem, sel = _preview(issue_id)
    size = len(out.html.encode()) if out else 0
    return render_template("editors/issue_preview.html", issue=issue, out=out,
                           problem=problem, size=size, lang=lang,
                           base=rendering.base_language(rt), asked=_as_reader(), sel=sel,
                           words=assembly.choice_words(rt), items=len(issue.entries),
                           language_names=LANGUAGE_NAMES), 200 if out else 422


@bp.route("/<issue:issue_id>/preview.html")
def preview_html(issue_id: int) -> Any:
    _issue, out, problem, _sel = _preview(issue_id)
    if out is None:
        return render_template("errors/error.html", status=422,
                               title=_("The issue does not render"),
                               message=str(problem)), 422
    return mail_html_response(out.html, framable=True)


@bp.route("/<issue:issue_id>/preflight", methods=["GET", "POST"])
def checks(issue_id: int) -> Any:
    rt = runtime()
    blocked: list[str] = []
    report = None
    if request.method == "POST":
        try:
            acks = request.form.getlist("acknowledge")
            issue, _detail = newsletter.approve(rt, Actor.of(current_user), issue_id, acks, {
                key: request.form.get(f"reason-{key}", "") for key in acks})
        except Blocked as exc:
            blocked, report = exc.reasons, exc.detail
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            flash(_("%(issue)s is approved. The approved version is frozen: sending will "
                    "use exactly this.", issue=issue_name(issue, start=True)), "success")
            return redirect(url_for("issues.edit", issue_id=issue_id))
    if report is None:  # a refused approval already ran the checks: show those
        report, _rendered = newsletter.run_preflight(rt, issue_id)
    with rt.db.session() as s:
        issue = newsletter.get_issue(s, issue_id)
    effect, offered = assembly.effect(rt, issue_id)
    return render_template("editors/issue_preflight.html", issue=issue, report=report,
                           effect=effect, offered=offered, few=preflight.FEW_ITEMS,
                           words=assembly.choice_words(rt),
                           versions=versions.versions(rt, issue_id),
                           blocked=blocked, PASS=preflight.PASS, WARN=preflight.WARN,
                           FAIL=preflight.FAIL, items=newsletter.item_addresses(rt, issue_id),
                           form=request.form), 409 if blocked else 200


@bp.post("/<issue:issue_id>/test")
def test_send(issue_id: int) -> Any:
    """A test to the editors ticked and the addresses typed. A problem shows beside its
    field, with what was ticked and typed kept; the test then goes nowhere."""
    rt = runtime()
    form = TestForm()
    ticked = request.form.getlist("to")
    if not form.validate_on_submit():
        return _page(issue_id, test=form, ticked=ticked, status=400)
    try:
        sent = test_sends.test_send(rt, Actor.of(current_user), issue_id, ticked,
                                    form.others.data or "", form.language.data or "")
    except ValidationError as exc:
        form.others.errors = [exc.fields["others"]] if "others" in exc.fields else []
        form.language.errors = [exc.fields["language"]] if "language" in exc.fields else []
        return _page(issue_id, test=form, ticked=ticked, status=400,
                     to_problem=exc.fields.get("to", ""))
    except RateLimited as exc:
        return _page(issue_id, test=form, ticked=ticked, status=429,
                     test_problem=str(exc))
    except (ContentError, MailError) as exc:
        return _page(issue_id, test=form, ticked=ticked, status=503, test_problem=str(exc))
    if sent.to:
        flash(_("Test sent to %(addresses)s.", addresses=", ".join(sent.to)), "success")
    for address, why in sent.refused:
        flash(_("Not sent to %(address)s: %(why)s", address=address, why=why), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#test")


# ------------------------------------------------------------------ sending

@bp.post("/<issue:issue_id>/send")
def send(issue_id: int) -> Any:
    rt = runtime()
    # The editor confirms the count the page showed; if readers confirmed or left since,
    # the page shows the new count and asks again.
    with rt.db.session() as s:
        confirmed = announcements.recipients(rt, newsletter.get_issue(s, issue_id))
    if request.form.get("confirm") != str(confirmed):
        flash(ngettext("Nothing was sent. Tick the box to confirm that the issue goes to "
                       "%(num)d subscriber, then press Send.",
                       "Nothing was sent. Tick the box to confirm that the issue goes to "
                       "%(num)d subscribers, then press Send.", confirmed), "error")
        return redirect(url_for("issues.edit", issue_id=issue_id) + "#send")
    try:
        st = delivery.start(rt, Actor.of(current_user), issue_id)
    except (Conflict, ContentError, MailError, NotFound) as exc:
        flash(str(exc), "error")
        return redirect(url_for("issues.edit", issue_id=issue_id) + "#send")
    # The send is in the ledger now; the worker carries it out within seconds.
    flash(ngettext("Sending issue #%(number)s to %(num)d subscriber(s): the worker starts "
                   "within %(seconds)s seconds.",
                   "Sending issue #%(number)s to %(num)d subscriber(s): the worker starts "
                   "within %(seconds)s seconds.", st.recipients, number=st.number,
                   seconds=f"{rt.settings.worker_poll_seconds:g}"), "success")
    warn_if_no_worker(rt)
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#send")


@bp.post("/<issue:issue_id>/send/control")
def send_control(issue_id: int) -> Any:
    rt = runtime()
    actor = Actor.of(current_user)
    action = request.form.get("action", "")
    try:
        if action == "pause":
            delivery.pause(rt, actor, issue_id)
            flash(_("The send is paused; messages in flight finish."), "success")
        elif action in ("resume", "release"):
            if action == "release":
                n = delivery.release_held(rt, actor, issue_id, resend=True)
                flash(ngettext("%(num)d held message(s) will be sent.",
                               "%(num)d held message(s) will be sent.", n), "success")
            delivery.resume(rt, actor, issue_id)  # the worker carries it on
            if action == "resume":
                flash(_("The send goes on."), "success")
        elif action == "drop-held":
            n = delivery.release_held(rt, actor, issue_id, resend=False)
            flash(ngettext("%(num)d held message(s) will not be sent.",
                           "%(num)d held message(s) will not be sent.", n), "success")
        elif action == "cancel":
            if confirmed(_("Nothing was done: confirm that you want to "
                                              "cancel the send.")):
                st = delivery.cancel(rt, actor, issue_id)
                flash(_("The send is cancelled: %(sent)s sent, %(cancelled)s not sent.",
                        sent=st.counts["sent"], cancelled=st.counts["cancelled"]), "success")
        else:
            flash(_("Unknown action."), "error")
    except (Conflict, NotFound, MailError, ContentError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("issues.edit", issue_id=issue_id) + "#send")
