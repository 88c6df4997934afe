"""The members' JSON API: submit news with a project token, and follow its review.

Token-authenticated, so it is the one part of the site without CSRF protection (the
token travels in a header that a browser never adds by itself). Every error is JSON
of the shape ``{"error": {"status", "message", "fields"?, "existing"?}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from ostogether import news, ratelimit, tokens
from ostogether.audit import Actor
from ostogether.errors import (
    Busy,
    Duplicate,
    NotAuthenticated,
    NotFound,
    OstogetherError,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from ostogether.states import ITEM_STATUSES, KINDS
from ostogether.web.app import runtime
from ostogether.web.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api")


def error(status: int, message: str, **extra: Any) -> Response:
    resp = jsonify({"error": {"status": status, "message": message, **extra}})
    resp.status_code = status
    return resp


def error_response(e: Exception) -> Response:
    """The JSON answer for any error raised while serving the API."""
    rt = runtime()
    if isinstance(e, ValidationError):
        return error(422, str(e), fields=e.fields)
    if isinstance(e, Duplicate):
        return error(409, str(e), existing={
            "id": e.existing_id, "url": f"{rt.settings.public_url}/api/v1/items/{e.existing_id}"})
    if isinstance(e, NotAuthenticated):
        resp = error(401, str(e))
        resp.headers["WWW-Authenticate"] = 'Bearer realm="news"'
        return resp
    if isinstance(e, PermissionDenied):
        return error(403, str(e))
    if isinstance(e, NotFound):
        return error(404, str(e))
    if isinstance(e, RateLimited | Busy):
        resp = error(429 if isinstance(e, RateLimited) else 503, str(e))
        resp.headers["Retry-After"] = str(e.retry_after)
        return resp
    if isinstance(e, OstogetherError):
        return error(409, str(e))
    if isinstance(e, HTTPException):
        messages = {
            400: "The request could not be read. Send a JSON object with "
                 "Content-Type: application/json.",
            404: "There is no API endpoint at this address; see /api/openapi.json.",
            405: "This endpoint does not accept that method; see /api/openapi.json.",
            413: f"The body is larger than {rt.settings.api_max_body_bytes:,} bytes.",
        }
        resp = error(e.code or 500, messages.get(e.code or 0, e.description or e.name))
        for name, value in e.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405, as RFC 9110 requires
                resp.headers[name] = value
        return resp
    return error(500, "Something went wrong on our side; the error has been logged. "
                      "Try again later.")


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(runtime().settings.public_url))


@bp.before_request
def authenticate() -> None:
    if request.endpoint in (None, "api.openapi"):
        return
    rt = runtime()
    request.max_content_length = rt.settings.api_max_body_bytes
    with rt.db.session() as s:
        token = tokens.authenticate(s, request.headers.get("Authorization"))
        key = [f"token:{token.id}"]
        ratelimit.check(s, "api", key, rt.settings.api_max_per_minute, 60,
                        "Over the limit of requests per minute for this token; wait "
                        "{minutes} minute(s).")
        ratelimit.hit(s, "api", key)
        g.token_id, g.project_id = token.id, token.project_id
        g.actor = Actor(f"token:{token.prefix}…@{token.project.slug}")


@bp.post("/v1/items")
def create_item() -> Any:
    rt = runtime()
    if not request.is_json:
        raise BadRequest()
    body = request.get_json()  # unreadable JSON raises BadRequest → the JSON 400 answer
    if not isinstance(body, dict):
        return error(400, "The body must be a JSON object with the item's fields.")
    data = news.input_from_json(body)
    item = news.submit(rt, g.actor, g.project_id, data, source="api", token_id=g.token_id)
    resp = jsonify(news.item_dict(item, rt.settings.public_url))
    resp.status_code = 201
    resp.headers["Location"] = f"{rt.settings.public_url}/api/v1/items/{item.id}"
    return resp


def _only_params(*names: str) -> None:
    unknown = [k for k in request.args if k not in names]
    if unknown:
        raise ValidationError(f"Unknown query parameter '{unknown[0][:40]}'; this endpoint "
                              f"takes {', '.join(names) or 'none'}.",
                              {k[:40] or "(empty name)": "unknown query parameter"
                               for k in unknown})


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number.", {name: "not a number"}) \
            from None
    if not low <= value <= high:
        raise ValidationError(f"{name} must be from {low} to {high}.",
                              {name: f"from {low} to {high}"})
    return value


@bp.get("/v1/items")
def list_items() -> Any:
    rt = runtime()
    _only_params("status", "kind", "limit", "offset")
    status = request.args.get("status")
    kind = request.args.get("kind")
    if status is not None and status not in ITEM_STATUSES:
        raise ValidationError(f"Unknown status '{status[:30]}'.",
                              {"status": "one of " + ", ".join(ITEM_STATUSES)})
    if kind is not None and kind not in KINDS:
        raise ValidationError(f"Unknown kind '{kind[:30]}'.",
                              {"kind": "one of " + ", ".join(KINDS)})
    limit = _int_arg("limit", 50, 1, 200)
    offset = _int_arg("offset", 0, 0, 10**9)
    filters = news.ItemFilters(status=status or "", kind=kind or "", project_id=g.project_id)
    with rt.db.session() as s:
        rows, total = news.list_items(s, filters, limit=limit, offset=offset,
                                      oldest_first=False)
        data = [news.item_dict(i, rt.settings.public_url) for i in rows]
    return jsonify({"items": data, "total": total, "limit": limit, "offset": offset})


@bp.get("/v1/items/<id:item_id>")
def get_item(item_id: int) -> Any:
    rt = runtime()
    _only_params()
    with rt.db.session() as s:
        item = news.get_item(s, item_id, project_id=g.project_id)
        return jsonify(news.item_dict(item, rt.settings.public_url))
