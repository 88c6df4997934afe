"""The Flask application factory, and the cross-cutting parts of the web face.

Security defaults live here: CSRF on every form (Flask-WTF), login (Flask-Login),
security headers on every response, and friendly error pages that never show a
traceback. The blueprints only translate HTTP to service calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, render_template, request, session, url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import LoginManager, user_accessed
from flask_login.config import COOKIE_NAME
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ostogether.accounts import users
from ostogether.core import words
from ostogether.core.errors import Busy, NotFound, OstogetherError, PermissionDenied, RateLimited
from ostogether.core.sanitize import autoescape, stored_markup
from ostogether.core.settings import Settings, load_settings
from ostogether.core.states import NETWORK_NAMES
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges.runtime import Runtime, ensure_var, secret_key
from ostogether.edges.translations import compile_catalogues
from ostogether.models import User
from ostogether.web import (
    announcements,
    api,
    auth,
    chrome,
    editors,
    editors_orgs,
    editors_projects,
    i18n,
    imports,
    issues,
    library,
    members,
    oai,
    organisations,
    public,
    readers,
    reports,
    schedule,
    social,
    subscribe,
)
from ostogether.web.cache import PageCache
from ostogether.web.common import (
    CSP,
    AsciiIntConverter,
    IdConverter,
    IssueConverter,
    country_name,
    has_cookie,
    host_of,
    json_error,
    json_error_response,
    outcome_badge,
    post_html,
    remembered_url_for,
    request_site,
)

log = logging.getLogger(__name__)

# The pages base.html links to (as links['…']), besides the style sheet.
BASE_LINKS = ("public.home", "public.registry_list", "public.archive", "public.join",
              "public.code_of_conduct", "public.registry_json", "auth.login", "auth.logout",
              "editors.index", "editors.items", "issues.index", "readers.index",
              "social.index", "schedule.index", "members.index", "library.index",
              "organisations.directory")

class HouseHeaders:
    """The headers every response carries, added where it leaves the application (error
    pages too): ``always`` replace a page's own, ``unless_set`` only where a page set none
    (its own CSP or framing). As plain WSGI tuples of constants: a Werkzeug header list
    checks every value it is given, which cost an anonymous page more than its view."""

    def __init__(self, app: Any, always: list[tuple[str, str]],
                 unless_set: list[tuple[str, str]]) -> None:
        self.app, self.always, self.unless_set = app, always, unless_set
        self.names = {name.lower() for name, _ in always}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            have = {name.lower() for name, _ in headers}
            if have & self.names:
                headers = [h for h in headers if h[0].lower() not in self.names]
            headers = [*headers, *self.always,
                       *(h for h in self.unless_set if h[0].lower() not in have)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class Json(DefaultJSONProvider):
    """Flask's JSON, which also writes a lazy sentence (core/words.py) as its text in the
    request's language."""

    @staticmethod
    def default(o: Any) -> Any:
        if words.is_lazy(o):
            return str(o)
        return DefaultJSONProvider.default(o)


class App(Flask):
    """Flask, with the check whether a view or hook is a coroutine made once per function
    instead of on every call (Flask asks it nine times per page, ~5 % of a page), and
    every template escaped whatever its name (``sanitize.autoescape``)."""

    json_provider_class = Json

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Any, Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync[func]
        except KeyError:
            made = self._sync[func] = super().ensure_sync(func)
            return made
        except TypeError:  # not hashable
            return super().ensure_sync(func)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        # Flask escapes only names ending in .html, .htm, .xml, .xhtml or .svg: the
        # members' copy-paste form, snippet.html.j2, was not escaped. Every page escapes.
        return autoescape(filename)


class Logins(LoginManager):
    """Flask-Login, with the plain anonymous visitor (an empty session, no remember
    cookie) told apart before any lookup: its loader hashed the visitor's address and
    browser for session protection and looked for a login header (we set no header
    loader) on every page, to end at the anonymous user all the same."""

    def _load_user(self) -> Any:
        if not session and not has_cookie(current_app.config.get("REMEMBER_COOKIE_NAME",
                                                                 COOKIE_NAME)):
            user_accessed.send(current_app._get_current_object())  # type: ignore[attr-defined]
            return self._update_request_context_with_user()
        return super()._load_user()

    def _update_remember_cookie(self, response: Any) -> Any:
        # With an empty session there is nothing to set or clear, unless every request
        # is to refresh the cookie (we do not ask that).
        if not session and not current_app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            return response
        return super()._update_remember_cookie(response)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with the signing serializer made once per set of
    keys instead of on every request (building it is most of an anonymous request's
    session work)."""

    _made: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        # No cookie, a new session: asked before Werkzeug's .get(), which raises and
        # catches an exception for a missing key.
        if not has_cookie(self.get_cookie_name(app), request):
            return None if self.get_signing_serializer(app) is None else self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        # An empty session that stayed empty sets no cookie: Flask's answer too, after
        # reading seven cookie settings.
        if not session and not session.modified:
            if session.accessed:  # Vary: Cookie, without parsing a Vary that is not there
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:
                    response.headers["Vary"] = "Cookie"
            return
        super().save_session(app, session, response)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    var = ensure_var(settings)
    rt = Runtime(settings)
    app = App(__name__)
    app.session_interface = SessionCookies()
    if settings.trusted_proxies:
        # Behind nginx every request comes from the proxy; the proxy's headers name the
        # visitor. Only as many hops as are configured are believed.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.url_map.converters["int"] = AsciiIntConverter
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["issue"] = IssueConverter
    app.extensions["ostogether"] = rt
    if settings.public_cache_seconds > 0:
        app.extensions["page_cache"] = PageCache(settings.public_cache_seconds)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        REMEMBER_COOKIE_SECURE=settings.env == "production",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, on the methods that change things
        PREFERRED_URL_SCHEME="https" if settings.public_url.startswith("https") else "http",
    )
    i18n.init_app(app, str(compile_catalogues(var)), settings.public_url)
    csrf = CSRFProtect(app)
    unsafe = frozenset(app.config["WTF_CSRF_METHODS"])

    @app.before_request
    def csrf_protect() -> None:
        # Flask-WTF's own hook looks up the view's exemptions before it looks at the
        # method; a GET, which it never checks, paid for that on every page.
        if request.method in unsafe:
            # A form that takes a file may be as large as its setting says (a picture's,
            # an import's); set before the CSRF check reads the body.
            limit = getattr(app.view_functions.get(request.endpoint or ""), "takes_uploads",
                            None)
            if limit:
                request.max_content_length = getattr(settings, limit) + \
                    settings.max_request_bytes
            csrf.protect(apply_exemptions=True)

    login = Logins(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please log in to see that page.")
    login.login_message_category = "info"

    @login.user_loader
    def load_user(session_id: str) -> User | None:
        return users.user_for_session(rt, session_id)

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(editors.bp)
    app.register_blueprint(editors_projects.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(issues.bp)
    app.register_blueprint(announcements.bp)
    app.register_blueprint(readers.bp)
    app.register_blueprint(social.bp)
    app.register_blueprint(schedule.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(subscribe.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(oai.bp)
    app.register_blueprint(organisations.bp)
    app.register_blueprint(editors_orgs.bp)
    csrf.exempt(api.bp)  # token in a header, never sent by a browser on its own
    csrf.exempt(oai.bp)  # harvesters POST; it only reads the public library
    csrf.exempt(subscribe.unsubscribe)  # RFC 8058: mail clients POST; the signed link is the key
    # Member sites' forms post here cross-site, and the home page (kept in the page cache
    # for every visitor) holds no session's token: a sign-up acts for no session, and the
    # confirmation mail is its check (subscribe.quick says more).
    csrf.exempt(subscribe.from_site)
    csrf.exempt(subscribe.quick)

    @app.before_request
    def refuse_nul() -> Any:
        # A NUL character is never meaningful in an address or a form, and PostgreSQL
        # cannot store it: refuse it at the door, with a sentence, whatever the page. (The
        # API checks every parameter and field itself, with its documented 422.)
        if _is_api():
            return None
        environ = request.environ  # read as it came: the request's properties cost more
        values = [environ.get("PATH_INFO", "")]
        query = environ.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:  # else no value can hold one
            values += [*request.args.keys(), *request.args.values()]
        if environ["REQUEST_METHOD"] == "POST" and request.mimetype != "application/json":
            values += [*request.form.keys(), *request.form.values()]
        if any("\x00" in v for v in values):
            return _error(400, _("That did not work"), _(
                "The address or the form contains a NUL character (%00), which is never "
                "valid; remove it and try again."))
        return None

    links_by_root: dict[str, dict[str, str]] = {}

    @app.context_processor
    def inject() -> dict[str, Any]:
        # The addresses in every page's header and footer, built once per script root.
        links = links_by_root.get(request.script_root)
        if links is None:
            links = {e: url_for(e) for e in BASE_LINKS}
            links["style.css"] = url_for("static", filename="style.css")
            links["forms.js"] = url_for("static", filename="forms.js")
            if len(links_by_root) > 16:
                links_by_root.clear()
            links_by_root[request.script_root] = links
        return {"site": request_site(), "network_names": NETWORK_NAMES, "links": links}

    app.jinja_env.globals["url_for"] = remembered_url_for(app)
    app.jinja_env.globals["page_part"] = chrome.page_part
    app.add_template_filter(country_name, "country")
    app.add_template_filter(outcome_badge, "outcome")
    app.add_template_filter(post_html, "post_html")
    app.add_template_filter(host_of, "host")
    app.add_template_filter(stored_markup, "stored_html")  # never |safe on stored HTML

    # The same on every response, so made once; a page may set its own CSP or framing.
    always = [("X-Content-Type-Options", "nosniff"),
              ("Referrer-Policy", "strict-origin-when-cross-origin"),
              ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    if settings.env == "production":
        always.append(("Strict-Transport-Security", "max-age=31536000"))
    unless_set = [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY")]
    app.wsgi_app = HouseHeaders(app.wsgi_app, always, unless_set)  # type: ignore[method-assign]

    _register_errors(app)
    return app


def _error(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


def _is_api() -> bool:
    # The path as it came (below the script root, like request.path), without decoding it.
    return str(request.environ.get("PATH_INFO", "")).startswith("/api/")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf(e: CSRFError) -> Any:
        return _error(400, _("The form has expired"),
                      _("For your safety, forms are only valid for a while. Go back, reload "
                        "the page and send the form again."))

    @app.errorhandler(NotFound)
    def not_found_error(e: NotFound) -> Any:
        if _is_api():
            return json_error_response(e)
        return _error(404, _("Page not found"), str(e))

    @app.errorhandler(PermissionDenied)
    def denied(e: PermissionDenied) -> Any:
        if _is_api():
            return json_error_response(e)
        return _error(403, _("Not allowed"), str(e))

    @app.errorhandler(RateLimited)
    @app.errorhandler(Busy)
    def try_later(e: RateLimited | Busy) -> Any:
        """Too many attempts (429), or a database held by a long task (503): both say
        when to try again."""
        if _is_api():
            return json_error_response(e)
        status, title = ((429, _("Too many attempts")) if isinstance(e, RateLimited)
                         else (503, _("Busy for a moment")))
        body, status = _error(status, title, str(e))
        return body, status, {"Retry-After": str(e.retry_after)}

    @app.errorhandler(OstogetherError)
    def ostogether_error(e: OstogetherError) -> Any:
        if _is_api():
            return json_error_response(e)
        log.warning("request failed: %s", e)
        return _error(400, _("That did not work"), str(e))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Any:
        if _is_api():
            return json_error_response(e)
        titles = {404: (_("Page not found"), _("There is no page at this address. Check the "
                                                 "link, or start again from the home page.")),
                  405: (_("Not allowed"), _("This page cannot be used that way.")),
                  413: (_("Too large"), _("What you sent is too large. Shorten it and try "
                                          "again."))}
        title, message = titles.get(e.code or 500, (e.name, e.description or ""))
        return _error(e.code or 500, title, message)

    @app.errorhandler(RecursionError)
    def too_deep(e: RecursionError) -> Any:
        # JSON nested thousands of levels deep: the parser gives up, and so do we.
        if _is_api():
            return json_error(400, "The JSON body is nested too deeply; send the item's fields "
                              "as one flat object.")
        return _error(400, _("That did not work"), _("What you sent is nested too deeply."))

    @app.errorhandler(Exception)
    def crash(e: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return json_error_response(e)
        return _error(500, _("Something went wrong on our side"),
                      _("The error has been logged. Please try again in a few minutes; if it "
                        "happens again, write to the editors."))
