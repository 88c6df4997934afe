"""The JSON API's side of news items: an ``ItemInput`` from a request body, its problems
named by their path in the body, and the item as the API answers it."""

from __future__ import annotations

from typing import Any

from ostogether.core.errors import ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.models import NewsItem
from ostogether.news.validation import ItemInput, Problems, validate

# The API nests an event's details under "event": its field errors are named by that path.
API_PATHS = {"event_start": "event.start", "event_end": "event.end",
             "event_timezone": "event.timezone", "event_location": "event.location",
             "event_online": "event.online", "registration_url": "event.registration_url"}


def for_api(exc: ValidationError) -> ValidationError:
    """The same problems, named by their path in an API body (``event.end``)."""
    p = Problems({API_PATHS.get(k, k): v for k, v in exc.fields.items()})
    try:
        p.raise_if_any()
    except ValidationError as renamed:
        return renamed
    return exc


def input_from_json(body: Any) -> ItemInput:
    """An ItemInput from an API body; wrong shapes become field errors, not crashes.
    Every problem comes at once: those of the body's shape (an unknown field) and those
    of its values, named by their path in the body."""
    if not isinstance(body, dict):
        raise ValidationError(_l("The body must be a JSON object with the item's fields."),
                              {"body": _l("expected a JSON object")})
    p = Problems()
    known = set(ItemInput.__dataclass_fields__) - {
        "event_start", "event_end", "event_timezone", "event_location", "event_online",
        "registration_url"}
    for key in body:
        if key not in known and key not in ("event", "translations"):
            p.add(key, _l("unknown field"))
    event = body.get("event") or {}
    if not isinstance(event, dict):
        p.add("event", _l("must be an object with start, end, timezone, location, online "
                          "and registration_url"))
        event = {}
    for key in event:
        if key not in ("start", "end", "timezone", "location", "online", "registration_url"):
            p.add(f"event.{key}", _l("unknown field"))
    if "event" in body and body.get("kind") != "event":
        p.add("event", _l('only items of kind "event" have event details; set kind to '
                          '"event" or leave event out'))
    values = {k: body[k] for k in known if k in body}
    for name in ("sdgs", "topics", "audiences"):
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    for key in ("start", "end", "timezone", "location", "online", "registration_url"):
        if key in event:
            target = "registration_url" if key == "registration_url" else f"event_{key}"
            values[target] = event[key]
    data = ItemInput(**values)
    if p.fields:  # report the values' problems too, in the same answer
        try:
            validate(data)
        except ValidationError as exc:
            for name, message in exc.fields.items():
                p.add(API_PATHS.get(name, name), message)
        p.raise_if_any()
    return data


def item_dict(item: NewsItem, base_url: str = "") -> dict[str, Any]:
    """The API's view of an item."""
    out: dict[str, Any] = {
        "id": item.id, "status": item.status, "source": item.source, "kind": item.kind,
        "project": item.project.slug, "title": item.title, "summary": item.summary_md,
        "summary_html": item.summary_html, "link": item.link,
        "image_url": item.image_url or None, "image_alt": item.image_alt or None,
        "language": item.language, "sdgs": list(item.sdgs),
        "topics": list(item.topics or []), "audiences": list(item.audiences or []),
        "for_newsletter": item.for_newsletter, "for_social": item.for_social,
        "reject_reason": item.reject_reason or None,
        "created_at": item.created_at.isoformat(),
        "reviewed_at": item.reviewed_at.isoformat() if item.reviewed_at else None,
        "event": None,
        "translations": {t.language: {"title": t.title, "summary": t.summary_md,
                                      "summary_html": t.summary_html, "link": t.link or None}
                         for t in item.translations},
    }
    start = item.local_start() if item.kind == "event" else None
    if start is not None:
        out["event"] = {
            "start": start.isoformat(),
            "end": item.event_end.astimezone(start.tzinfo).isoformat() if item.event_end
            else None,
            "timezone": item.event_timezone, "location": item.event_location or None,
            "online": item.event_online, "registration_url": item.registration_url}
    if base_url:
        out["url"] = f"{base_url}/api/v1/items/{item.id}"
    return out
