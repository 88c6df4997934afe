"""The members' JSON API: submit news with a project token, and follow its review.

Token-authenticated, so it is the one part of the site without CSRF protection (the
token travels in a header that a browser never adds by itself). Every error is JSON
of the shape ``{"error": {"status", "message", "fields"?, "existing"?}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import BadRequest

from ostogether.accounts import tokens
from ostogether.core.errors import ValidationError
from ostogether.core.inputs import ascii_int
from ostogether.core.states import ITEM_STATUSES, KINDS
from ostogether.core.words import _l
from ostogether.edges import ratelimit
from ostogether.edges.audit import Actor
from ostogether.edges.topics import vocabulary
from ostogether.library import outputs
from ostogether.news import item_api, translations
from ostogether.news import items as news
from ostogether.web.common import json_error, runtime
from ostogether.web.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi() -> Response:
    rt = runtime()
    return jsonify(document(rt.settings.public_url, vocabulary(rt.community)))


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
                        _l("Over the limit of requests per minute for this token; wait a "
                           "minute and try again."))
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
        return json_error(400, "The body must be a JSON object with the item's fields.")
    data = item_api.input_from_json(body)
    given = translations.from_json(body.get("translations"), data.language)
    try:
        item = news.submit(rt, g.actor, g.project_id, data, source="api",
                           token_id=g.token_id, translations=given)
    except ValidationError as exc:
        raise item_api.for_api(exc) from None
    resp = jsonify(item_api.item_dict(item, rt.settings.public_url))
    resp.status_code = 201
    resp.headers["Location"] = f"{rt.settings.public_url}/api/v1/items/{item.id}"
    return resp


@bp.post("/v1/outputs")
def create_output() -> Any:
    """An output of the results library, waiting for an editor (issue 38)."""
    rt = runtime()
    if not request.is_json:
        raise BadRequest()
    body = request.get_json()
    if not isinstance(body, dict):
        return json_error(400, "The body must be a JSON object with the output's fields.")
    output = outputs.submit(rt, g.actor, outputs.input_from_json(body), source="api",
                            project_id=g.project_id, token_id=g.token_id)
    resp = jsonify(outputs.output_dict(output, rt.settings.public_url))
    resp.status_code = 201
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
    value = ascii_int(raw)  # 0-9 only: int() would take "٤٢" or " 4_2 "
    if value is None:
        raise ValidationError(f"{name} must be a whole number.", {name: "not a number"})
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
        data = [item_api.item_dict(i, rt.settings.public_url) for i in rows]
    return jsonify({"items": data, "total": total, "limit": limit, "offset": offset})


@bp.get("/v1/items/<id:item_id>")
def get_item(item_id: int) -> Any:
    rt = runtime()
    _only_params()
    with rt.db.session() as s:
        item = news.get_item(s, item_id, project_id=g.project_id)
        return jsonify(item_api.item_dict(item, rt.settings.public_url))
