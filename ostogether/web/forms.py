"""Forms shared by several pages: the news item form, and the multi-checkbox field.

The forms only collect text; the rules live in the services (``news.validate``), whose
per-field messages are put back next to the fields by ``show_problems``.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from ostogether.core.errors import ValidationError
from ostogether.core.languages import NAMES as LANGUAGE_NAMES
from ostogether.core.states import ITEM_LANGUAGES, KINDS, SDG_LABELS, SDG_NAMES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import media
from ostogether.edges.runtime import Runtime
from ostogether.edges.topics import vocabulary
from ostogether.edges.wording import reword
from ostogether.models import NewsItem
from ostogether.news.items import ItemInput
from ostogether.news.translations import TranslationInput
from ostogether.web.common import runtime
from ostogether.web.i18n import kind_labels, page_language


@functools.cache
def zone_choices() -> dict[str, list[SelectChoice]]:
    """Every IANA zone by region (Europe first), as a select's option groups."""
    groups: dict[str, list[SelectChoice]] = {}
    for name in sorted(zoneinfo.available_timezones()):
        region, _, place = name.partition("/")
        if not place or region in ("Etc", "SystemV", "US", "Brazil", "Canada", "Chile",
                                   "Mexico"):
            continue
        groups.setdefault(region, []).append(SelectChoice(name, place.replace("_", " ")))
    return {"Europe": groups.pop("Europe", []), **groups}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


# Generous caps here only stop absurd bodies; the real limits and messages are the service's.
class ItemForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KINDS.items()],
                       default="news")
    title = StringField(_l("Title"), description=_l("Plain text, up to 200 characters."),
                        validators=[Length(max=20000)])
    summary = TextAreaField(
        _l("Summary"),
        description=_l("Two or three sentences in Markdown: **bold**, *italic*, "
                       "[a link](https://example.org). No HTML."),
        validators=[Length(max=50000)])
    link = URLField(_l("Link to the full story"),
                    description=_l("The full address, starting with https://"),
                    validators=[Length(max=5000)])
    image_file = FileField(_l("Upload a picture from your computer"),
                           description=_l("A JPEG, PNG, GIF or WebP picture. It is checked, "
                                          "its hidden details (such as where a photo was "
                                          "taken) are removed, and the service keeps it."),
                           render_kw={"accept": "image/jpeg,image/png,image/gif,image/webp"})
    image_url = URLField(_l("Or the address of a picture on the web"),
                         validators=[Length(max=5000)])
    image_alt = StringField(_l("Image description"), description=_l(
                            "What the image shows, for people who cannot see it. Required "
                            "with an image."),
                            validators=[Length(max=5000)])
    language = SelectField(_l("Language"), default="en",
                           description=_l("The language the item is written in."),
                           choices=[SelectChoice(k, v) for k, v in ITEM_LANGUAGES.items()],
                           validate_choice=False)  # the service says what is wrong
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals"), coerce=int,
                              choices=[SelectChoice(n, f"{n}. {name}")
                                       for n, name in SDG_NAMES.items()])
    # Issue 36: the words readers choose by; the choices (keys, with labels in the page's
    # language) come from the community's vocabulary when the form is made.
    topics = MultiCheckboxField(
        _l("Topics"), validate_choice=False,  # the service names an unknown word
        description=_l("What the item is about; readers who chose a topic get the items "
                       "that carry it. None ticked: the project's themes."))
    audiences = MultiCheckboxField(
        _l("For whom"), validate_choice=False,
        description=_l("None ticked: for everyone."))
    for_newsletter = BooleanField(_l("Suggest for the newsletter"), default=True)
    for_social = BooleanField(_l("Suggest for social media"), default=True)
    event_start = StringField(_l("Starts"), render_kw={"type": "datetime-local"},
                              description=_l("Local time of the event."),
                              validators=[Length(max=100)])
    event_end = StringField(_l("Ends (optional)"), render_kw={"type": "datetime-local"},
                            validators=[Length(max=100)])
    event_timezone = SelectField(_l("Timezone"),
                                 description=_l("Where the times above are local."),
                                 choices=zone_choices, validate_choice=False)
    event_location = StringField(_l("Place"), validators=[Length(max=5000)])
    event_online = BooleanField(_l("Online event"))
    registration_url = URLField(_l("Registration link (optional)"),
                                description=_l("Default: the link above."),
                                validators=[Length(max=5000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vocab = vocabulary(runtime().community)
        language = page_language()
        self.kind.choices = [SelectChoice(k, v) for k, v in kind_labels().items()]
        self.sdgs.choices = [SelectChoice(n, f"{n}. {label}") for n, label in
                             SDG_LABELS.items()]  # the UN's names, in the page's language
        for name in ("topics", "audiences"):
            getattr(self, name).choices = [SelectChoice(k, v) for k, v in
                                           vocab.labels(name, language).items()]

    def to_input(self) -> ItemInput:
        d = self.data
        return ItemInput(
            kind=d["kind"] or "", title=d["title"] or "", summary=d["summary"] or "",
            link=d["link"] or "", image_url=d["image_url"] or "",
            image_alt=d["image_alt"] or "", language=d["language"] or "",
            sdgs=tuple(d["sdgs"] or ()), for_newsletter=bool(d["for_newsletter"]),
            for_social=bool(d["for_social"]), event_start=d["event_start"] or None,
            event_end=d["event_end"] or None, event_timezone=d["event_timezone"] or "",
            event_location=d["event_location"] or "", event_online=bool(d["event_online"]),
            registration_url=d["registration_url"] or "",
            topics=tuple(d["topics"] or ()), audiences=tuple(d["audiences"] or ()))

    def fill_from(self, item: NewsItem) -> None:
        """Pre-fill the form with a stored item, for editing."""
        for name in ("kind", "title", "link", "image_url", "image_alt", "language",
                     "for_newsletter", "for_social", "event_timezone", "event_location",
                     "event_online"):
            getattr(self, name).data = getattr(item, name)
        if item.language not in ITEM_LANGUAGES:  # an API or feed item in another language
            self.language.choices = [*self.language.choices,
                                     SelectChoice(item.language, item.language)]
        self.summary.data = item.summary_md
        self.sdgs.data = list(item.sdgs)
        self.topics.data, self.audiences.data = list(item.topics), list(item.audiences)
        self.registration_url.data = item.registration_url if item.registration_url != \
            item.link else ""
        start = item.local_start()
        self.event_start.data = start.strftime("%Y-%m-%dT%H:%M") if start else ""
        if item.event_end is not None and start is not None:
            end = item.event_end.astimezone(start.tzinfo)
            self.event_end.data = end.strftime("%Y-%m-%dT%H:%M")


def take_upload(form: ItemForm, rt: Runtime) -> bool:
    """Keep a picture sent with the item form, and put its address in the form, so that
    the item (and a form shown again after a problem) uses the kept copy. False, with the
    reason beside the field, when the picture cannot be used."""
    upload = form.image_file.data
    if not upload or not getattr(upload, "filename", ""):
        return True
    try:
        form.image_url.data = media.keep_upload(
            rt, upload.read(rt.settings.media_max_bytes + 1))
    except ValidationError as exc:
        form.image_file.errors = [gettext("This picture cannot be used: %(problem)s.",
                                          problem=reword(exc))]
        return False
    return True


def show_problems(form: FlaskForm, fields: dict[str, Any]) -> None:
    """Put a service's per-field messages next to the matching form fields."""
    for name, message in fields.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            text = str(message)
            if not re.match(r"[a-z][a-z0-9+.-]*:", text):  # never "Javascript: …"
                text = text[:1].upper() + text[1:]
            target.errors = [*list(target.errors), text]


# -------------------------------------------------------- an item in other languages

TRANSLATION_ROWS = 3  # the form's fixed "add a translation" rows (no JavaScript needed)


class TranslationRow(Form):
    """One "add a translation" row of the item form: a language, a title, a summary and
    (if the page exists in that language) a link."""

    language = SelectField(_l("Language of this translation"), default="",
                           choices=[SelectChoice("", _l("(none)")),
                                    *(SelectChoice(k, v) for k, v in LANGUAGE_NAMES.items())],
                           validate_choice=False)
    title = StringField(_l("Title in this language"), validators=[Length(max=5000)])
    summary = TextAreaField(_l("Summary in this language"),
                            description=_l("Markdown, as the summary above."),
                            validators=[Length(max=50000)])
    link = URLField(_l("Link to the page in this language (optional)"),
                    description=_l("Empty: the link above."), validators=[Length(max=5000)])


class ItemWithTranslationsForm(ItemForm):
    """The members' item form with its "add a translation" rows."""

    translations = FieldList(FormField(TranslationRow), min_entries=TRANSLATION_ROWS,
                             max_entries=TRANSLATION_ROWS)

    def translation_inputs(self) -> tuple[list[TranslationInput], list[str]]:
        """The rows that give a translation, and the languages of rows emptied (to
        remove when editing)."""
        given, emptied = [], []
        for row in self.translations:
            d = row.data
            lang = (d["language"] or "").strip()
            if not lang:
                continue
            if not ((d["title"] or "").strip() or (d["summary"] or "").strip()):
                emptied.append(lang)
                continue
            given.append(TranslationInput(lang, d["title"] or "", d["summary"] or "",
                                          d["link"] or ""))
        return given, emptied

    def fill_translations(self, item: NewsItem) -> None:
        for row, t in zip(self.translations, item.translations, strict=False):
            row.form.language.data, row.form.title.data = t.language, t.title
            row.form.summary.data, row.form.link.data = t.summary_md, t.link

    def show_translation_problems(self, fields: dict[str, Any]) -> None:
        """A service's ``translations.<language>.<field>`` messages beside the row."""
        for name, message in fields.items():
            parts = name.split(".")
            if parts[0] != "translations" or len(parts) < 2:
                continue
            for row in self.translations:
                if (row.form.language.data or "") == parts[1]:
                    target = getattr(row.form, parts[2], None) if len(parts) > 2 else None
                    target = target if target is not None else row.form.language
                    text = str(message)
                    target.errors = [*list(target.errors), text[:1].upper() + text[1:]]

    def translation_problems(self) -> list[tuple[str, str]]:
        """(field id, message) of each translation row's problem, for the error summary."""
        return [(f.id, f"{f.label.text}: {' '.join(f.errors)}")
                for row in self.translations for f in row.form if f.errors]
