"""OAI-PMH 2.0 at /oai, GET and POST (``library.oai`` answers; this only hands over the
arguments, every value of each, and sends the XML back)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ostogether.library import oai
from ostogether.web.common import runtime

bp = Blueprint("oai", __name__)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Any:
    # POST carries the arguments as application/x-www-form-urlencoded (OAI-PMH 3.1.1.2).
    given = request.form if request.method == "POST" else request.args
    body = oai.respond(runtime(), {name: given.getlist(name) for name in given})
    return Response(body, mimetype="text/xml", content_type="text/xml; charset=utf-8")
