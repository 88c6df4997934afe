"""The networks' API versions age: LinkedIn sunsets each monthly ``LinkedIn-Version`` a
year or so after it came out, and Meta each Graph API version about two years after.
Each version setting has its documented end of life beside it (``linkedin_version_end``,
``facebook_api_version_end``); this says, from the one clock's today, when one is near
or past, so the Social page and ``ostogether config`` can warn before posts start to
fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ostogether.core.settings import Settings
from ostogether.core.states import NETWORK_NAMES, NETWORKS
from ostogether.core.words import lazy_gettext as _l
from ostogether.core.words import lazy_ngettext
from ostogether.edges import wording
from ostogether.social.publishers import is_live

WARN_DAYS = 60
LINKEDIN_WARN_DAYS = 7

# (network, what it is called, the version setting, its end-of-life setting)
VERSIONED = (("facebook", "Facebook Graph API", "facebook_api_version",
              "facebook_api_version_end"),
             ("linkedin", "LinkedIn API", "linkedin_version", "linkedin_version_end"))


def warning(settings: Settings, network: str, today: dt.date) -> Any:
    """A sentence (in the reader's language when shown) when ``network``'s API version
    ends within WARN_DAYS or has ended; "" otherwise (or when its end is not known)."""
    for name, label, key, end_key in VERSIONED:
        if name != network or not getattr(settings, end_key):
            continue
        version, end = getattr(settings, key), dt.date.fromisoformat(getattr(settings, end_key))
        left = (end - today).days
        facts = {"api": label, "version": version, "date": wording.day(end),
                 "network": label.split()[0], "setting": f"OSTOGETHER_{key.upper()}",
                 "end_setting": f"OSTOGETHER_{end_key.upper()}"}
        if left < 0:
            return _l("The %(api)s version %(version)s was retired on %(date)s: posts to "
                      "%(network)s fail until you set %(setting)s to a current version and "
                      "%(end_setting)s to its end of life (docs/social.md).", **facts)
        if left <= WARN_DAYS:
            return lazy_ngettext(
                "The %(api)s version %(version)s is retired on %(date)s, in %(num)d day(s): "
                "before then, set %(setting)s to a current version and %(end_setting)s to "
                "its end of life (docs/social.md).",
                "The %(api)s version %(version)s is retired on %(date)s, in %(num)d day(s): "
                "before then, set %(setting)s to a current version and %(end_setting)s to "
                "its end of life (docs/social.md).", left, **facts)
    return ""


def warnings(settings: Settings, today: dt.date) -> list[Any]:
    """Every network's warning, for ``ostogether config``."""
    return [w for network, *_ in VERSIONED if (w := warning(settings, network, today))]


def connections(settings: Settings, today: dt.date) -> list[dict[str, Any]]:
    """Per network: live or dry run, and any warning (an API version near its end of life,
    a LinkedIn token near expiry)."""
    out = []
    for network in NETWORKS:
        token: Any = ""
        if network == "linkedin" and settings.linkedin_token_expires_on:
            expires = dt.date.fromisoformat(settings.linkedin_token_expires_on)
            left = (expires - today).days
            if left < 0:
                token = _l("The LinkedIn token expired on %(date)s; posts to LinkedIn will "
                             "fail until it is renewed (docs/social.md).",
                             date=wording.day(expires))
            elif left <= LINKEDIN_WARN_DAYS:
                token = lazy_ngettext(
                    "The LinkedIn token expires on %(date)s, in %(num)d day(s); renew it "
                    "before then (docs/social.md).",
                    "The LinkedIn token expires on %(date)s, in %(num)d day(s); renew it "
                    "before then (docs/social.md).", left, date=wording.day(expires))
        parts = [w for w in (warning(settings, network, today), token) if w]
        out.append({"network": network, "name": NETWORK_NAMES[network],
                    "live": is_live(settings, network),
                    "warning": wording.joined(" ", parts) if parts else ""})
    return out
