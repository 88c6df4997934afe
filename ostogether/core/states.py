"""The state machines of section 3 of the design, and the words they are spoken in.

Each machine maps a state to the states it may move to. The flow is one way; anything
not listed here is refused by ``audit.transition``. The vocabularies (item kinds and
sources, roles, networks) live here too, so that services, the content checker and the
faces all name the same things without importing one another. Pure: no I/O.
"""

from __future__ import annotations

from ostogether.core.words import _l

PROJECT = {
    "applicant": {"member", "rejected"},
    "member": {"alumni"},
    "alumni": set(),
    "rejected": set(),
}

NEWS_ITEM = {
    "submitted": {"approved", "rejected", "withdrawn"},
    "approved": {"published", "rejected", "submitted"},  # submitted: back to review
    "rejected": set(),
    "withdrawn": set(),
    "published": set(),
}

ISSUE = {
    "draft": {"in_review", "cancelled"},
    "in_review": {"approved", "draft", "cancelled"},
    "approved": {"in_review", "sending", "cancelled"},
    "sending": {"sent", "cancelled"},  # cancelled: stopped before anyone got it
    "sent": set(),
    "cancelled": set(),
}

# held: found in ``sending`` after a crash, kept for an editor to release or cancel.
DELIVERY = {
    "queued": {"sending", "cancelled"},
    "sending": {"sent", "failed", "bounced", "queued", "held", "cancelled"},
    "held": {"queued", "cancelled"},
    "sent": {"bounced"},
    "failed": set(),
    "bounced": set(),
    "cancelled": set(),
}

SOCIAL_POST = {
    "planned": {"approved", "skipped"},
    "approved": {"publishing", "planned", "skipped"},
    "publishing": {"published", "failed", "unknown", "approved"},
    "published": set(),
    "failed": {"approved", "skipped"},
    "unknown": {"published", "failed"},
    "skipped": set(),
}

SUBSCRIBER = {
    "pending": {"confirmed", "erased"},
    "confirmed": {"unsubscribed", "bounced", "erased"},
    "unsubscribed": {"confirmed", "erased"},
    "bounced": {"erased"},
    "erased": set(),
}

# An import uploaded on the editors' page: the worker checks it (the dry run: checked,
# or refused when the file cannot be imported), "Apply" queues it, the worker runs it. A
# failed one may be applied again (the imports are idempotent); one never applied is
# discarded, by an editor or after a while.
IMPORT = {
    "checking": {"checked", "refused", "discarded"},
    "checked": {"checking", "queued", "discarded"},
    "refused": set(),
    "queued": {"running"},
    "running": {"done", "failed"},
    "failed": {"checking", "queued", "discarded"},
    "done": set(),
    "discarded": set(),
}

# An output of the results library: reviewed like a news item. Withdrawn is kept (not
# deleted), so that a harvester that saw it public learns it is gone (OAI-PMH "deleted").
OUTPUT = {
    "submitted": {"approved", "rejected", "withdrawn"},
    "approved": {"withdrawn"},
    "rejected": set(),
    "withdrawn": set(),
}
OUTPUT_STATUSES = tuple(OUTPUT)
# An organisation or a person of the community (issue 37): one who applied on the Join
# page waits for an editor; an import (an editor's act) makes members at once. A member
# may be rejected later (it leaves the directory); a rejected one may be accepted after all.
MEMBER_RECORD = {
    "applied": {"member", "rejected"},
    "member": {"rejected"},
    "rejected": {"member"},
}

# ------------------------------------------------------------------ vocabularies

KINDS = {
    "news": "News",
    "event": "Event",
    "reading": "Recommended reading",
    "tool": "Practical tip or tool for educators",
    "opportunity": "Opportunity (call, vacancy)",
}
# The Sustainable Development Goals' English names, as the UN writes them.
SDG_NAMES = {
    1: "No Poverty", 2: "Zero Hunger", 3: "Good Health and Well-being",
    4: "Quality Education", 5: "Gender Equality", 6: "Clean Water and Sanitation",
    7: "Affordable and Clean Energy", 8: "Decent Work and Economic Growth",
    9: "Industry, Innovation and Infrastructure", 10: "Reduced Inequalities",
    11: "Sustainable Cities and Communities", 12: "Responsible Consumption and Production",
    13: "Climate Action", 14: "Life Below Water", 15: "Life on Land",
    16: "Peace, Justice and Strong Institutions", 17: "Partnerships for the Goals",
}
# The same goals by the names the UN gives them in each language (the official
# translations are in the catalogues), for pages: lazy, worded when shown.
SDG_LABELS = {
    1: _l("No Poverty"), 2: _l("Zero Hunger"), 3: _l("Good Health and Well-being"),
    4: _l("Quality Education"), 5: _l("Gender Equality"),
    6: _l("Clean Water and Sanitation"), 7: _l("Affordable and Clean Energy"),
    8: _l("Decent Work and Economic Growth"),
    9: _l("Industry, Innovation and Infrastructure"), 10: _l("Reduced Inequalities"),
    11: _l("Sustainable Cities and Communities"),
    12: _l("Responsible Consumption and Production"), 13: _l("Climate Action"),
    14: _l("Life Below Water"), 15: _l("Life on Land"),
    16: _l("Peace, Justice and Strong Institutions"), 17: _l("Partnerships for the Goals"),
}
SOURCES = ("web", "api", "feed")
# Projects that may submit news. Alumni keep theirs: most projects of the community have
# ended, and their tools and results are exactly what the newsletter passes on.
SUBMITTING_STATUSES = ("member", "alumni")
ITEM_STATUSES = tuple(NEWS_ITEM)
ISSUE_STATUSES = tuple(ISSUE)
POST_STATUSES = tuple(SOCIAL_POST)
SUBSCRIBER_STATUSES = tuple(SUBSCRIBER)
PROJECT_STATUSES = tuple(PROJECT)
ROLES = ("admin", "editor", "member")
# The roles that may do what an editor does: an admin can do everything an editor can,
# on every route and in every query. ``User.is_editor`` is the one check.
EDITOR_ROLES = ("editor", "admin")
NETWORKS = ("x", "facebook", "linkedin", "mastodon", "bluesky")
NETWORK_NAMES = {"x": "X", "facebook": "Facebook", "linkedin": "LinkedIn",
                 "mastodon": "Mastodon", "bluesky": "Bluesky"}

MACHINES: dict[str, dict[str, set[str]]] = {
    "project": PROJECT,
    "news_item": NEWS_ITEM,
    "issue": ISSUE,
    "delivery": DELIVERY,
    "social_post": SOCIAL_POST,
    "subscriber": SUBSCRIBER,
    "import": IMPORT,
    "output": OUTPUT,
    "organisation": MEMBER_RECORD,
    "person": MEMBER_RECORD,
}


def allowed(machine: str, current: str, target: str) -> bool:
    return target in MACHINES[machine].get(current, set())

# The languages a member picks for an item, each in its own name: the EU's 24 official
# languages first, then others spoken across the community's 32 countries. The API and
# feeds may use any ISO 639-1 code; this is the form's list.
ITEM_LANGUAGES = {
    "bg": "български", "cs": "čeština", "da": "dansk", "de": "Deutsch", "el": "Ελληνικά",
    "en": "English", "es": "español", "et": "eesti", "fi": "suomi", "fr": "français",
    "ga": "Gaeilge", "hr": "hrvatski", "hu": "magyar", "it": "italiano", "lt": "lietuvių",
    "lv": "latviešu", "mt": "Malti", "nl": "Nederlands", "pl": "polski", "pt": "português",
    "ro": "română", "sk": "slovenčina", "sl": "slovenščina", "sv": "svenska",
    "ca": "català", "eu": "euskara", "gl": "galego", "is": "íslenska", "no": "norsk",
    "sq": "shqip", "mk": "македонски", "sr": "српски", "bs": "bosanski", "tr": "Türkçe",
    "uk": "українська", "he": "עברית", "ar": "العربية",
}


# The words for a project's status and an item's kind, in the reader's language when shown
# (the codes above are what is stored).
STATUS_LABELS = {"applicant": _l("applicant"), "member": _l("member"),
                 "alumni": _l("alumni"), "rejected": _l("rejected")}
KIND_LABELS = {"news": _l("News"), "event": _l("Event"), "reading": _l("Recommended reading"),
               "tool": _l("Practical tip or tool for educators"),
               "opportunity": _l("Opportunity (call, vacancy)")}
