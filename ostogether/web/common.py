"""What every blueprint of the web face shares: the runtime, the access guards, the
error answers, the security headers and the template filters.

Blueprints import from here and never from ``app.py``, which imports every blueprint
(the rule of Flask's own tutorial): so the web face has no import cycle.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, flash, g, has_app_context, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, IntegerConverter, Map
from werkzeug.routing import ValidationError as RoutingValidationError

from ostogether import jobs
from ostogether.core.errors import (
    Busy,
    Duplicate,
    NotAuthenticated,
    NotFound,
    OstogetherError,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from ostogether.edges.runtime import Runtime
from ostogether.models import id_or_none
from ostogether.newsletter import issues as newsletter
from ostogether.registry import rules as registry


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ostogether"]
    return rt


def request_site() -> Any:
    """content/site.toml as this request sees it, in the page's language (its
    [languages.<code>] texts, the base language's where it gives none): checked on disk
    once per request, so a page and its templates show the same version."""
    if "site" not in g:
        locale = get_locale()
        site = runtime().community.site()
        g.site = site.in_language(locale.language if locale is not None else site.language)
    return g.site


def has_cookie(name: str, req: Any = request) -> bool:
    """Whether the request carries cookie ``name``. With no Cookie header at all, as on a
    first visit, Werkzeug's cookie parse (~5 us, even of nothing) is not needed."""
    return "HTTP_COOKIE" in req.environ and name in req.cookies


def warn_if_no_worker(rt: Runtime) -> None:
    """Work queued on a page waits for the worker; say so when none is running."""
    if not jobs.health(rt)["ok"]:
        flash(_("No worker is running, so this waits until one starts: `ostogether serve` "
                "runs one, or start `ostogether worker`."), "error")


# ------------------------------------------------------------------ access

def editor_required() -> None:
    if not current_user.is_authenticated or not current_user.is_editor:
        raise PermissionDenied("This page is for editors. Log in with an editor account.")


def editors_only(bp: Any) -> None:
    """Every page of ``bp`` needs a logged-in editor (anonymous visitors go to the login
    page; members get 403)."""

    @bp.before_request
    @login_required
    def _guard() -> None:
        editor_required()


# ------------------------------------------------------------------ answers

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

# An issue's own HTML, in the editors' preview frame or as the public web version: no
# scripts, no plugins; images and inline styles are what mail HTML is made of.
MAIL_CSP = ("default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}")


def mail_html_response(html: str, *, framable: bool) -> Response:
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = MAIL_CSP.format(
        ancestors="'self'" if framable else "'none'")
    resp.headers["X-Frame-Options"] = "SAMEORIGIN" if framable else "DENY"
    return resp


class IdConverter(BaseConverter):
    """``<id:name>`` in every route that takes a row's id or an issue's number: digits
    only, and a number no row can have (above 2**31 - 1) is "not found", not an error of
    the database."""

    regex = r"[0-9]{1,19}"  # ASCII: \d would take "٤٢" as 42

    def to_python(self, value: str) -> int:
        number = int(value)
        if id_or_none(number) is None:
            raise RoutingValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class AsciiIntConverter(IntegerConverter):
    """Werkzeug's ``<int:…>``, with ASCII digits: its ``\\d+`` took "٤٢" for 42."""

    regex = r"[0-9]+"


class IssueConverter(BaseConverter):
    """``<issue:issue_id>`` in the editors' issue pages: the address says the issue's
    number (/editors/issues/10 is issue #10), the view gets its id. A cancelled issue,
    which gave its number back, is "c" and its id; an announcement "a" and its own number
    (/editors/issues/a3 is announcement A3)."""

    regex = r"[ac]?[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        if not has_app_context():  # matching a path outside a request: the shape is enough
            return 0
        issue_id = newsletter.issue_id_for(runtime(), value)
        if issue_id is None:
            raise RoutingValidationError()
        return issue_id

    def to_url(self, value: Any) -> str:
        # A page links the same issue many times: look its number up once per request.
        refs: dict[int, str] = g.setdefault("issue_refs", {})
        issue_id = int(value)
        if issue_id not in refs:
            refs[issue_id] = newsletter.issue_ref(runtime(), issue_id)
        return refs[issue_id]


# The API's errors, also used by the app-wide handlers for paths under /api/.
def json_error(status: int, message: str, **extra: Any) -> Response:
    if isinstance(extra.get("fields"), dict):  # a field's problem may be a lazy sentence
        extra["fields"] = {k: str(v) for k, v in extra["fields"].items()}
    resp = jsonify({"error": {"status": status, "message": message, **extra}})
    resp.status_code = status
    return resp


def json_error_response(e: Exception) -> Response:
    """The JSON answer for any error raised while serving the API."""
    rt = runtime()
    if isinstance(e, ValidationError):
        return json_error(422, str(e), fields=e.fields)
    if isinstance(e, Duplicate):
        return json_error(409, str(e), existing={
            "id": e.existing_id, "url": f"{rt.settings.public_url}/api/v1/items/{e.existing_id}"})
    if isinstance(e, NotAuthenticated):
        resp = json_error(401, str(e))
        resp.headers["WWW-Authenticate"] = 'Bearer realm="news"'
        return resp
    if isinstance(e, PermissionDenied):
        return json_error(403, str(e))
    if isinstance(e, NotFound):
        return json_error(404, str(e))
    if isinstance(e, RateLimited | Busy):
        resp = json_error(429 if isinstance(e, RateLimited) else 503, str(e))
        resp.headers["Retry-After"] = str(e.retry_after)
        return resp
    if isinstance(e, OstogetherError):
        return json_error(409, str(e))
    if isinstance(e, HTTPException):
        messages = {
            400: "The request could not be read. Send a JSON object with "
                 "Content-Type: application/json.",
            404: "There is no API endpoint at this address; see /api/openapi.json.",
            405: "This endpoint does not accept that method; see /api/openapi.json.",
            413: f"The body is larger than {rt.settings.api_max_body_bytes:,} bytes.",
        }
        resp = json_error(e.code or 500, messages.get(e.code or 0, e.description or e.name))
        for name, value in e.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405, as RFC 9110 requires
                resp.headers[name] = value
        return resp
    return json_error(500, "Something went wrong on our side; the error has been logged. "
                      "Try again later.")


# ------------------------------------------------------------------ template filters

@functools.lru_cache(maxsize=512)
def remembered_url_for(app: Flask, limit: int = 4096) -> Any:
    """Flask's ``url_for`` for the templates, which build the same dozen addresses on every
    page: each address is built once per app, endpoint, values and script root (the
    prefix a proxy may mount the site under). Blueprint-relative or special
    (``_external``, ``_anchor``…) calls, unhashable values, and the addresses whose
    converter reads the database (an issue's address says its current number) go to
    ``url_for`` itself."""
    built: dict[tuple[Any, ...], str] = {}
    stateful: set[str] = set()  # endpoints with a converter of the app's own (issue, id)

    def template_url_for(endpoint: str, **values: Any) -> str:
        if not stateful:
            stateful.update({r.endpoint for r in app.url_map.iter_rules()
                             if set(re.findall(r"<(\w+):", r.rule)) - set(
                                 Map.default_converters)} or {""})
        if endpoint in stateful or endpoint[0] == "." or values and any(
                k[0] == "_" for k in values):
            return url_for(endpoint, **values)
        try:  # a template passes its values in the same order each time
            key = (endpoint, request.script_root, *values.items())
            found = built.get(key)
        except TypeError:
            return url_for(endpoint, **values)
        if found is None:
            found = url_for(endpoint, **values)
            if len(built) >= limit:
                built.clear()
            built[key] = found
        return found

    return template_url_for


@functools.lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The country's common name (pycountry's lookup, once per code and process)."""
    return registry.country_name(code)


def outcome_badge(outcome: str) -> Markup:
    label = {"pass": _("Pass"), "warn": _("Check"), "fail": _("Fail")}.get(outcome, outcome)
    return Markup('<span class="badge badge-{0}">{1}</span>').format(outcome, label)


_POST_TOKENS = re.compile(r"(https?://[^\s]+)|(#\w+)")


def post_html(text: str) -> Markup:
    """A post's text as the networks show it: links clickable and shortened (scheme
    dropped, 30 characters at most), hashtags marked; everything else escaped."""
    out, last = [], 0
    for m in _POST_TOKENS.finditer(text):
        out.append(escape(text[last:m.start()]))
        if m.group(1):
            url = m.group(1)
            shown = url.split("://", 1)[1]
            shown = shown if len(shown) <= 30 else shown[:29] + "…"
            out.append(Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, shown))
        else:
            out.append(Markup('<span class="hashtag">{}</span>').format(m.group(2)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def host_of(url: str) -> str:
    """The site a link card names: the host without www."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


def confirmed(sentence: str) -> bool:
    """Whether a destructive form was confirmed (``confirm=yes``, sent by the button that
    the ``confirm_form`` macro shows after asking); if not, say that nothing was done
    (``sentence``: "Nothing was done: confirm that you want to …", in the page's
    language)."""
    if request.form.get("confirm") == "yes":
        return True
    flash(sentence, "error")
    return False


F = TypeVar("F", bound=Callable[..., Any])


def takes_uploads(view: F | None = None, *, limit: str = "media_max_bytes") -> Any:
    """Mark a view whose form may carry a file: its requests may be as large as the
    setting ``limit`` (a picture's ``media_max_bytes`` unless said) beyond the usual
    ``max_request_bytes`` (app.py applies it). ``@takes_uploads`` or
    ``@takes_uploads(limit="import_max_upload_bytes")``."""
    def mark(v: F) -> F:
        v.takes_uploads = limit  # type: ignore[attr-defined]
        return v

    return mark(view) if view is not None else mark
