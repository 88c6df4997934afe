"""Editors' announcements: a one-off mail to a segment of the readers (issue 36).

"New announcement" takes its subject, preheader, text and segment, and shows how many
readers the segment reaches before anything is created ("Count readers" works without
JavaScript). Once created, an announcement is edited, checked, approved and sent on the
issue's own page (``web.issues``), which shows its segment with the same count.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from ostogether.core.errors import ContentError, ValidationError
from ostogether.core.languages import NAMES as LANGUAGE_NAMES
from ostogether.core.segments import DIMENSIONS, Segment
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.newsletter import announcements
from ostogether.newsletter import issues as newsletter
from ostogether.web.common import country_name, editors_only, runtime
from ostogether.web.i18n import page_language

bp = Blueprint("announcements", __name__, url_prefix="/editors/announcements")

editors_only(bp)


class AnnouncementForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[Length(max=newsletter.SUBJECT_LIMIT)],
                          description=_l("1-90 characters; inboxes cut longer ones."))
    preheader = StringField(_l("Preheader"),
                            validators=[Length(max=newsletter.PREHEADER_LIMIT)],
                            description=_l("The line inboxes show after the subject."))
    intro_md = TextAreaField(_l("Text"), validators=[Length(max=newsletter.INTRO_MAX)],
                             description=_l("Markdown: the event or the call, for everyone in "
                                            "the segment. Texts in the other languages, and "
                                            "items, are added on the next page."))


def posted_segment() -> dict[str, list[str]]:
    """The segment as the form sent it: every checkbox group's values."""
    return {name: request.form.getlist(name) for name in DIMENSIONS}


def segment_context(rt: Runtime, chosen: Segment, problems: dict[str, str] | None = None,
                    ) -> dict[str, Any]:
    """What the segment's part of a page needs: the choices with their labels, what is
    ticked, and the readers it reaches now."""
    vocab, countries = announcements.choices(rt)
    language = page_language()
    problems = problems or {}
    return {"segment": chosen, "segment_problems": problems,
            "segment_links": [(f"segment-{k}", v) for k, v in problems.items()],
            "language_names": LANGUAGE_NAMES,
            "segment_groups": [
                ("topics", _("Topics"), vocab.labels("topics", language)),
                ("audiences", _("Audiences"), vocab.labels("audiences", language)),
                ("languages", _("Languages"), dict(LANGUAGE_NAMES)),
                ("countries", _("Countries (of the reader's organisation)"),
                 {c: f"{country_name(c) or c} ({c})" for c in countries})],
            "reach": announcements.reach(rt, chosen)}


def unchecked(values: dict[str, list[str]]) -> Segment:
    """What was ticked, unchecked (to show it again beside the problems)."""
    return Segment.of(*(values[name] for name in DIMENSIONS))


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    rt = runtime()
    form = AnnouncementForm()
    values = posted_segment()
    problems: dict[str, str] = {}
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("action") == "count":
            try:
                chosen = announcements.checked_segment(rt, values)
            except ValidationError as exc:
                problems, chosen = exc.fields, unchecked(values)
            return _new_page(rt, form, chosen, problems, counted=True)
        try:
            issue = announcements.create(
                rt, Actor.of(current_user), subject=form.subject.data or "",
                preheader=form.preheader.data or "", intro_md=form.intro_md.data or "",
                segment=values)
        except (ValidationError, ContentError) as exc:
            fields = getattr(exc, "fields", {})
            for name, message in fields.items():
                if name in form:
                    form[name].errors = [message]
            problems = {k: v for k, v in fields.items() if k in DIMENSIONS}
            if not fields:
                flash(str(exc), "error")
            return _new_page(rt, form, unchecked(values), problems, status=400)
        flash(_("The announcement A%(number)s is a draft. Add texts in other languages or "
                "items if you wish, then preview, test, run the pre-flight and approve it.",
                number=-(issue.number or 0)), "success")
        return redirect(url_for("issues.edit", issue_id=issue.id))
    status = 400 if request.method == "POST" else 200
    return _new_page(rt, form, unchecked(values) if request.method == "POST" else Segment(),
                     problems, status=status)


def _new_page(rt: Runtime, form: AnnouncementForm, chosen: Segment,
              problems: dict[str, str], *, counted: bool = False, status: int = 200) -> Any:
    return render_template("editors/announcement_new.html", form=form, counted=counted,
                           **segment_context(rt, chosen, problems)), status
