"""The networks' API versions age: LinkedIn sunsets each monthly ``LinkedIn-Version`` a
year or so after it came out, and Meta each Graph API version about two years after.
Each version setting has its documented end of life beside it (``linkedin_version_end``,
``facebook_api_version_end``); this says, from the one clock's today, when one is near
or past, so the Social page and ``ostogether config`` can warn before posts start to
fail. Pure.
"""

from __future__ import annotations

import datetime as dt

from ostogether.core.settings import Settings

WARN_DAYS = 60

# (network, what it is called, the version setting, its end-of-life setting)
VERSIONED = (("facebook", "Facebook Graph API", "facebook_api_version",
              "facebook_api_version_end"),
             ("linkedin", "LinkedIn API", "linkedin_version", "linkedin_version_end"))


def warning(settings: Settings, network: str, today: dt.date) -> str:
    """A sentence when ``network``'s API version ends within WARN_DAYS or has ended; ""
    otherwise (or when its end is not known)."""
    for name, label, key, end_key in VERSIONED:
        if name != network or not getattr(settings, end_key):
            continue
        version, end = getattr(settings, key), dt.date.fromisoformat(getattr(settings, end_key))
        left = (end - today).days
        fix = (f"set OSTOGETHER_{key.upper()} to a current version and "
               f"OSTOGETHER_{end_key.upper()} to its end of life (docs/social.md)")
        if left < 0:
            return (f"The {label} version {version} was retired on {end:%-d %B %Y}: posts "
                    f"to {label.split()[0]} fail until you {fix}.")
        if left <= WARN_DAYS:
            return (f"The {label} version {version} is retired on {end:%-d %B %Y}, in {left} "
                    f"day(s): before then, {fix}.")
    return ""


def warnings(settings: Settings, today: dt.date) -> list[str]:
    """Every network's warning, for ``ostogether config``."""
    return [w for network, *_ in VERSIONED if (w := warning(settings, network, today))]
