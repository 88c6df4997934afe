"""The parts every page shows around its own (the header with the menu and the language
switcher, the ``hreflang`` alternates), kept as rendered.

For a visitor who is not logged in, these depend only on the page's language and address
(the switcher's links keep the page's other arguments) and on the community's site.toml;
each is rendered once per such key and kept, at most ``KEEP`` of them, so that an uncached
public page renders only its own part and the footer. A logged-in person's header (their
menu, the log-out form's CSRF token) is rendered every time.
"""

from __future__ import annotations

from typing import Any

from flask import request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

KEEP = 2048  # (language × address) pairs; a crawler's endless queries cannot grow it past

_kept: dict[tuple[Any, ...], tuple[Any, Markup]] = {}


def _render(context: Context, template: str) -> Markup:
    return Markup(context.environment.get_template(template).render(context.get_all()))


@pass_context
def page_part(context: Context, template: str) -> Markup:
    """``template`` rendered with the page's context; kept for visitors (see above)."""
    user = context.get("current_user")
    if user is None or user.is_authenticated:
        return _render(context, template)
    environ = request.environ
    site = context.get("site")  # the same object while site.toml is unchanged
    key = (template, environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""),
           environ.get("QUERY_STRING", ""), context.get("page_lang"))
    hit = _kept.get(key)  # one lookup needs no lock
    if hit is None or hit[0] is not site:
        hit = (site, _render(context, template))
        if len(_kept) >= KEEP:
            _kept.clear()
        _kept[key] = hit
    return hit[1]
