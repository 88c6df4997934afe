"""What the social domain tells editors about posts, in the page's language.

A refusal raised to a face (a text too long, a time that has passed) is a lazy sentence
(``lazy_gettext``): the page shows it in its language, the CLI and the logs in English.

A post's problem and hint (``social_posts.error`` and ``hint``) and a link card's warning
are kept with the post: they are records, so they are stored in English (``english``),
never in a page's language. A page words them again when it shows them (``shown``): a
stored sentence that is one of ours (the templates below, marked ``N_`` for extraction)
is read back into its parameters and said in the page's language (``edges.wording``,
which also words the guard's, pictures' and feeds' kept sentences); the words a network
gave (``said``) and anything else stay as they were stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.support import LazyProxy
from flask_babel import force_locale, get_locale, pgettext

from ostogether.edges.wording import N_, reword


def english(message: Any) -> str:
    """``message`` (a lazy sentence, an error carrying one, or text) in English: what is
    stored as a record."""
    with force_locale("en"):
        return str(message)


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def moment(value: dt.datetime, english_format: str, skeleton: str) -> Any:
    """A local date and time in the page's language: ``english_format`` (strftime) in
    English, the CLDR ``skeleton`` and the time (HH:MM) in the others."""
    def text() -> str:
        code = _language()
        if code == "en":
            return value.strftime(english_format)
        return f"{format_skeleton(skeleton, value, locale=code)}, {value:%H:%M}"
    return LazyProxy(text, enable_cache=False)


def weekday_date(value: dt.datetime) -> Any:
    """"Sunday 29 March 2026" (a day with its weekday) in the page's language."""
    def text() -> str:
        code = _language()
        return (f"{value:%A %-d %B %Y}" if code == "en" else
                format_date(value.date(), "full", locale=code))
    return LazyProxy(text, enable_cache=False)


# ------------------------------------------------------------------ stored sentences

# A post that cannot be approved (posts.approve, a week's approval, planning with
# social_auto_approve); ``reason`` is one of the refusals below.
NOT_APPROVED = N_("Not approved: %(reason)s.")
EDIT_IMAGE_HINT = N_("edit the post's image, then approve it")
EDIT_HINT = N_("edit the post, then approve it")
NOT_POSTED = N_("An editor checked: it was not posted.")
APPROVE_TO_POST = N_("approve it again to post it")

# Why a text does not fit its network (posts.edit and approval).
TOO_LONG = {"weighted characters": N_("%(network)s counts %(length)d of %(limit)d weighted "
                                      "characters; shorten it by %(over)d."),
            "characters": N_("%(network)s counts %(length)d of %(limit)d characters; "
                             "shorten it by %(over)d."),
            "graphemes": N_("%(network)s counts %(length)d of %(limit)d graphemes; shorten "
                            "it by %(over)d.")}
REFUSED_CHARACTERS = N_("%(network)s refuses this text (it has characters the network "
                        "does not accept).")
# Why a post's picture cannot be kept (social.media.prepare).
NO_DESCRIPTION = N_("it has an image without a description; describe the image for "
                    "people who cannot see it")
IMAGE_UNUSABLE = N_("its image %(url)s cannot be used: %(error)s")

# Publishing (social.publish).
STALE = N_("The publishing process stopped before it recorded the network's answer; the "
           "post may be live.")
CHECK_HINT = N_("check the account: mark it posted (with its address) or not posted")
GAVE_UP = N_("%(error)s Gave up after %(num)d tries.")
TRY_ONCE_MORE = N_("approve it again to try once more")
UNEXPECTED = N_("An unexpected error happened while posting (%(error)s); the post may be "
                "live.")

# What the networks answered, in our words around theirs (``said``).
PICTURE_UNREADABLE = N_("The kept picture %(name)s cannot be read (%(error)s); nothing was "
                        "posted.")
PICTURE_AGAIN = N_("approve the post again: its picture is fetched and kept anew")
NO_CONNECTION = N_("Could not connect to %(network)s: %(error)s.")
NO_ANSWER = N_("%(network)s did not answer in time after the post was sent; it may be "
               "live. Check the account, then mark the post.")
BROKE_AFTER = N_("The connection to %(network)s broke after the post was sent (%(error)s); "
                 "it may be live. Check the account, then mark the post.")
UPLOAD_FAILED = N_("The picture's upload to %(network)s failed (%(error)s); trying again "
                   "later.")
UPLOAD_LATER = N_("%(network)s could not take the picture now (%(code)d); trying again "
                  "later.")
PICTURE_REFUSED = N_("%(network)s refused the picture (%(what)s, %(code)d): %(said)s")
PICTURE_HINT = N_("check the picture and the token's permissions, then approve the post "
                  "again")
RATE_LIMITED = N_("%(network)s limits the rate of posts (429); trying again after its "
                  "reset time.")
SERVER_ERROR = N_("%(network)s had a server error (%(code)d); trying again later.")
POST_REFUSED = N_("%(network)s refused the post (%(code)d): %(said)s")
TOKEN_REFUSED = N_("%(network)s refused the token (%(code)d): %(said)s")
DUPLICATE_REFUSED = N_("%(network)s refused a duplicate post: %(said)s")
PERMISSION_REFUSED = N_("%(network)s refused the permission (403): %(said)s")
REAUTHORISE = N_("re-authorise: make a new token and set it in the settings")
DUPLICATE = N_("the network already has this text; edit the text or skip the post")
CONTENT = N_("the network refused the content; edit the post and approve it again")
BLUESKY_LOGIN = N_("Bluesky refused the login (%(code)d): %(said)s")
BLUESKY_LOGIN_HINT = N_("check bluesky_handle and make a new app password; re-authorise: "
                        "make a new token and set it in the settings")
BLUESKY_SESSION = N_("Bluesky refused the session (401): %(said)s")
BLUESKY_NO_URI = N_("Bluesky answered without the post's URI; check the account, then "
                    "mark the post.")
MASTODON_NO_ID = N_("Mastodon answered without a status id; check the account, then mark "
                    "the post.")
MASTODON_SCOPES = N_("the token needs the write:statuses and write:media scopes; "
                     "re-authorise: make a new token and set it in the settings")
MASTODON_PROCESSING = N_("Mastodon is still processing the picture; the post goes out at "
                         "the next run, with the same upload.")
X_CREDENTIALS = N_("X refused the credentials (401): %(said)s")
X_PERMISSION = N_("check that the X app has Read and Write permission, then re-authorise: "
                  "make a new token and set it in the settings")
X_NO_ID = N_("X answered without a post id; check the account, then mark the post.")
FACEBOOK_RATE = N_("Facebook limits the rate of posts (%(code)s): %(said)s")
FACEBOOK_TEMPORARY = N_("Facebook had a temporary error (%(code)d): %(said)s")
FACEBOOK_TOKEN = N_("Facebook refused the Page token: %(said)s")
FACEBOOK_PERMISSION = N_("Facebook refused the permission: %(said)s")
FACEBOOK_PERMISSION_HINT = N_("the token needs pages_manage_posts on this Page; "
                              "re-authorise: make a new token and set it in the settings")
FACEBOOK_RETIRED = N_("Facebook no longer serves Graph API %(version)s: %(said)s")
FACEBOOK_VERSION_HINT = N_("set OSTOGETHER_FACEBOOK_API_VERSION to a current version and "
                           "OSTOGETHER_FACEBOOK_API_VERSION_END to its end (docs/social.md), "
                           "then approve the post again")
FACEBOOK_NO_ID = N_("Facebook answered without a post id; check the Page, then mark the "
                    "post.")
FACEBOOK_REFUSED = N_("Facebook refused the post (%(status)d, code %(code)s): %(said)s")
LINKEDIN_RETIRED = N_("LinkedIn no longer serves API version %(version)s (426 %(code)s): "
                      "%(said)s")
LINKEDIN_VERSION_HINT = N_("set OSTOGETHER_LINKEDIN_VERSION to a current version and "
                           "OSTOGETHER_LINKEDIN_VERSION_END to its end (docs/social.md), "
                           "then approve the post again")
LINKEDIN_PERMISSION_HINT = N_("the token needs w_organization_social and an admin of the "
                              "Page; re-authorise: make a new token and set it in the "
                              "settings")
LINKEDIN_NO_ID = N_("LinkedIn answered without the post's id; check the Page, then mark "
                    "the post.")

# A link card's warning (social.media.read_card), kept in the post's card.
CARD_UNREADABLE = N_("The page could not be read for its card (%(error)s); LinkedIn and "
                     "Bluesky show the post's title without a picture.")
CARD_NOT_A_PAGE = N_("The page answered %(status)d %(kind)s, not a web page; the card "
                     "shows the post's title without a picture.")
CARD_NOT_A_PAGE_UNTYPED = N_("The page answered %(status)d without a type, not a web "
                             "page; the card shows the post's title without a picture.")
CARD_DAMAGED = N_("The page could not be read for its card (its HTML is damaged: "
                  "%(error)s); the card shows the post's title without a picture.")
CARD_NO_IMAGE = N_("The page has no preview image (og:image): LinkedIn and Bluesky show "
                   "the card without a picture, and X, Facebook and Mastodon may show none. "
                   "Give the post an image, or ask the project to add og:image to the page.")
CARD_IMAGE_UNUSABLE = N_("The page's preview image %(url)s cannot be used (%(error)s); the "
                         "card shows without a picture.")

STORED = tuple(v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str)
               ) + tuple(TOO_LONG.values())


def record(template: str, **params: Any) -> str:
    """A stored sentence in English: ``template`` with ``params`` (each in English)."""
    return template % {k: english(v) if not isinstance(v, int) else v
                       for k, v in params.items()}


def shown(stored: str | None) -> str:
    """A stored problem, hint or warning in the page's language when it is one of ours;
    otherwise as stored."""
    return reword(stored) if stored else ""


def status(code: str) -> Any:
    """A post's state by its name in the page's language (the calendar's words)."""
    return LazyProxy(lambda: pgettext("social post", code), enable_cache=False)
