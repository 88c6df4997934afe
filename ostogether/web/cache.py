"""A short-lived copy of the public pages for anonymous visitors, in each web process.

The public pages (home, registry, archive, feeds) are the same for every visitor who is
not logged in, and they are what crowds load. Each process keeps the rendered response
of such a page for ``public_cache_seconds`` (10 by default; 0 turns it off) and sends
``Cache-Control: public, max-age=…`` so that a proxy may keep it too. Logged-in users
always get the live page, and so do requests that carry a session. Pages with forms are
never cached (their CSRF token belongs to one visitor).

Apart from that copy, which may be seconds old, ``fragment`` keeps the part of a page that
is the same for everyone (the registry's filters and cards, the home page's figures) for
as long as what it shows is unchanged, with no clock: its key holds the database's stamp
of what it shows, and the content files it shows are compared by identity (a file read
again is a new object). Logged-in users get it too; only the page around it, with their
menu, is rendered for each request.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response, request
from flask_login import current_user
from markupsafe import Markup

from ostogether.core import clock
from ostogether.web.common import has_cookie
from ostogether.web.i18n import page_language

MAX_ENTRIES = 512
MAX_FRAGMENTS = 512

_FRAGMENTS: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Markup]] = OrderedDict()
_FRAGMENTS_LOCK = threading.Lock()


def fragment(key: tuple[Any, ...], sources: tuple[Any, ...],
             render: Callable[[], str]) -> Markup:
    """``render()``, once per ``key`` (which must name everything the fragment shows that
    may change; the script root of its links and the page's language are added) while
    ``sources`` are the same objects.
    """
    key = (*key, request.script_root, page_language())
    found = _FRAGMENTS.get(key)  # one lookup needs no lock; a change of several steps does
    if found is not None and len(found[0]) == len(sources) and all(
            map(operator.is_, found[0], sources)):
        return found[1]
    # What ``render`` returns is a template's output, escaped as it was made (every
    # template escapes), so it is shown as it is, not escaped a second time.
    html = Markup(render())
    with _FRAGMENTS_LOCK:
        _FRAGMENTS[key] = (sources, html)
        _FRAGMENTS.move_to_end(key)
        while len(_FRAGMENTS) > MAX_FRAGMENTS:
            _FRAGMENTS.popitem(last=False)
    return html


class PageCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, tuple[float, bytes, int, list[tuple[str, str]]]] = \
            OrderedDict()

    def get(self, key: str) -> Response | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] < clock.timestamp():
                return None
            self.entries.move_to_end(key)
        _, body, status, headers = entry
        return Response(body, status=status, headers=headers)

    def put(self, key: str, response: Response) -> None:
        with self.lock:
            self.entries[key] = (clock.timestamp() + self.seconds, response.get_data(),
                                 response.status_code, list(response.headers.items()))
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)


def public_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view`` from the cache for anonymous visitors."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cache: PageCache | None = current_app.extensions.get("page_cache")
        anonymous = not current_user.is_authenticated and not has_cookie(
            current_app.config.get("SESSION_COOKIE_NAME", "session"))
        if cache is None or not anonymous or request.method != "GET":
            return view(*args, **kwargs)
        # Per language: a Dutch page is never the copy an English visitor gets.
        key = f"{page_language()} {request.full_path}"
        hit = cache.get(key)
        if hit is not None:
            return hit
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and "Set-Cookie" not in response.headers:
            response.headers["Cache-Control"] = f"public, max-age={int(cache.seconds)}"
            cache.put(key, response)
        return response

    return wrapper
