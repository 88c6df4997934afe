"""The OpenAPI 3.1 description of the members' JSON API, served at /api/openapi.json.

Written by hand, next to the views it describes, and checked against them by the
schemathesis test: a request the document allows must never get a 5xx, and every
answer must match the document.
"""

from __future__ import annotations

from typing import Any

from ostogether import __version__
from ostogether.core.inputs import URL_MAX
from ostogether.core.languages import NEWSLETTER
from ostogether.core.states import ITEM_STATUSES, KINDS
from ostogether.edges.topics import Vocabulary
from ostogether.library import outputs as library
from ostogether.models import MAX_ID
from ostogether.news import item_topics
from ostogether.news.items import ALT_MAX, LOCATION_MAX, SUMMARY_MAX, TITLE_MAX


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _library() -> tuple[dict[str, Any], dict[str, Any]]:
    """The results library's output, as sent (OutputInput) and as answered (Output)."""
    words = {"type": "array", "items": {"type": "string"}, "maxItems": library.LIST_MAX}
    output_in = {
        "type": "object", "additionalProperties": False, "required": ["title", "type", "url"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": library.TITLE_MAX},
            "description": {"type": "string", "maxLength": library.DESCRIPTION_MAX},
            "type": {"type": "string", "example": "toolkit", "description": "A key of "
                     "[types] in the community's content/library.toml: toolkit, lesson-plan, "
                     "best-practice-collection, guide, video, online-course, platform, map, "
                     "dataset, policy-brief."},
            "projects": {**words, "description": "Other projects that made it (slugs); the "
                         "token's own project is always one."},
            "organisations": {**words, "description": "Names of the organisations."},
            "languages": {**words, "description": "ISO 639-1 codes; default [\"en\"]."},
            "licence": {"type": "string", "example": "CC-BY-4.0",
                        "description": "An SPDX identifier listed in content/library.toml."},
            "age_ranges": {**words, "description": "Keys of [age_ranges]."},
            "subjects": {**words, "description": "Keys of [subjects]."},
            "sdgs": {"type": "array", "items": {"type": "integer", "minimum": 1,
                                                "maximum": 17}},
            "keywords": words,
            "url": {"type": "string", "format": "uri", "pattern": "^https?://",
                    "maxLength": URL_MAX},
            "doi": {"type": "string", "example": "10.5281/zenodo.1234567"},
            "date": {"type": ["string", "null"], "format": "date"},
            "image_url": {"type": "string", "pattern": "^$|^https?://", "maxLength": URL_MAX},
            "image_alt": {"type": "string", "maxLength": library.ALT_MAX},
            "archived_url": {"type": "string", "pattern": "^$|^https?://",
                             "maxLength": URL_MAX},
        }}
    text_or_null = {"type": ["string", "null"]}
    output_out = {
        "type": "object",
        "required": ["id", "slug", "status", "title", "type", "projects", "url"],
        "properties": {
            "id": {"type": "integer"}, "slug": {"type": "string"},
            "status": {"type": "string", "enum": ["submitted", "approved", "rejected",
                                                  "withdrawn"]},
            "title": {"type": "string"}, "description": {"type": "string"},
            "type": {"type": "string"}, "projects": words, "organisations": words,
            "languages": words, "licence": text_or_null, "age_ranges": words,
            "subjects": words, "sdgs": {"type": "array", "items": {"type": "integer"}},
            "keywords": words, "url": {"type": "string"}, "doi": text_or_null,
            "date": text_or_null, "image_url": text_or_null, "image_alt": text_or_null,
            "archived_url": text_or_null, "reject_reason": text_or_null,
            "page": {**text_or_null, "description": "The library's page, once approved."},
            "created_at": {"type": "string", "format": "date-time"}}}
    return output_in, output_out


def _words(vocab: Vocabulary | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """An item's topics and audiences as sent: lists of the vocabulary's keys (enums when
    the community's vocabulary is known)."""
    def words(name: str, what: str) -> dict[str, Any]:
        keys = list(vocab.group(name)) if vocab is not None else []
        return {"type": "array", "uniqueItems": True, "maxItems": item_topics.KEYS_MAX,
                "items": {"type": "string", **({"enum": keys} if keys else {})},
                "description": what + (f" The words: {', '.join(keys)}." if keys else ""),
                **({"example": keys[:1]} if keys else {})}
    return (words("topics", "Keys of the community's topics (content/topics.toml: the "
                  "registry's themes and the goals it names, such as sdg-13). None given: "
                  "the project's themes. An unknown key is refused (422) with the words to "
                  "use."),
            words("audiences", "Keys of the audiences the item is for (content/topics.toml "
                  "[audiences]). None given: for every audience. An unknown key is refused "
                  "(422) with the words to use."))


def document(public_url: str, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """The document; ``vocab`` (the community's vocabulary) gives the enums of topics and
    audiences."""
    url = {"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": URL_MAX}
    optional_url = {"type": "string", "pattern": "^$|^https?://", "maxLength": URL_MAX,
                    "description": "Empty means none."}
    nullable_url = {"type": ["string", "null"], "format": "uri", "maxLength": URL_MAX}
    event_in = {
        "type": "object", "additionalProperties": False, "required": ["start"],
        "properties": {
            "start": {"type": "string", "description": "ISO 8601 date and time; without an "
                      "offset it is read in `timezone`.", "example": "2027-03-15T14:30"},
            "end": {"type": ["string", "null"], "example": "2027-03-15T17:00"},
            "timezone": {"type": "string", "example": "Europe/Brussels",
                         "description": "IANA name; default: the community's timezone."},
            "location": {"type": "string", "maxLength": LOCATION_MAX},
            "online": {"type": "boolean", "default": False},
            "registration_url": {**optional_url, "description": "Default: the item's link."},
        }}
    translation_in = {
        "type": "object", "additionalProperties": False, "required": ["title", "summary"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX,
                      "description": "Plain text, no HTML."},
            "summary": {"type": "string", "minLength": 1, "maxLength": SUMMARY_MAX,
                        "description": "Markdown; no raw HTML; absolute links only."},
            "link": {**optional_url, "description": "The page in this language, if it "
                     "exists; empty or left out means the item's own link."},
        }}
    translations_in = {
        "type": "object", "propertyNames": {"enum": list(NEWSLETTER)},
        "additionalProperties": translation_in,
        "description": "The item in other languages readers receive the newsletter in, "
                       "keyed by language code (" + ", ".join(NEWSLETTER) + "), such as "
                       '{"nl": {"title": "…", "summary": "…", "link": "…"}}. Each is checked '
                       "as the item's own title, summary and link are. The item's own "
                       "language, or another code, is refused (422). Reviewed and approved "
                       "with the item; a reader gets the item in their language when it "
                       "has it.",
        "example": {"nl": {"title": "Ouders als wetenschappers",
                           "summary": "Een nieuwe gids voor scholen.",
                           "link": "https://example.org/nl/gids"}}}
    translation_out = {
        "type": "object", "required": ["title", "summary", "summary_html", "link"],
        "properties": {"title": {"type": "string"}, "summary": {"type": "string"},
                       "summary_html": {"type": "string"},
                       "link": {"type": ["string", "null"], "description": "Null: the "
                                "item's own link."}}}
    topics_in, audiences_in = _words(vocab)
    item_in = {
        "type": "object", "additionalProperties": False,
        "required": ["title", "summary", "link"],
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS), "default": "news"},
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX,
                      "description": "Plain text, no HTML."},
            "summary": {"type": "string", "minLength": 1, "maxLength": SUMMARY_MAX,
                        "description": "Markdown; no raw HTML; absolute links only."},
            "link": {**url, "description": "Absolute http(s) address of the full story."},
            "image_url": optional_url,
            "image_alt": {"type": "string", "maxLength": ALT_MAX,
                          "description": "Required when image_url is given."},
            "language": {"type": "string", "minLength": 2, "maxLength": 2, "default": "en"},
            "sdgs": {"type": "array", "items": {"type": "integer", "minimum": 1,
                                                "maximum": 17}, "uniqueItems": True},
            "for_newsletter": {"type": "boolean", "default": True},
            "for_social": {"type": "boolean", "default": True},
            "topics": topics_in, "audiences": audiences_in,
            "event": {**event_in, "description": "Required when kind is event."},
            "translations": translations_in,
        }}
    event_out = {
        "type": ["object", "null"],
        "required": ["start", "end", "timezone", "location", "online", "registration_url"],
        "properties": {
            "start": {"type": "string"}, "end": {"type": ["string", "null"]},
            "timezone": {"type": "string"}, "location": {"type": ["string", "null"]},
            "online": {"type": "boolean"}, "registration_url": url}}
    item_out = {
        "type": "object",
        "required": ["id", "status", "source", "kind", "project", "title", "summary",
                     "summary_html", "link", "language", "sdgs", "topics", "audiences",
                     "for_newsletter", "for_social", "created_at", "event", "translations", "url"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(ITEM_STATUSES)},
            "source": {"type": "string", "enum": ["web", "api", "feed"]},
            "kind": {"type": "string", "enum": list(KINDS)},
            "project": {"type": "string", "description": "The project's slug."},
            "title": {"type": "string"}, "summary": {"type": "string"},
            "summary_html": {"type": "string", "description": "The sanitised HTML."},
            "link": url, "image_url": nullable_url,
            "image_alt": {"type": ["string", "null"]},
            "language": {"type": "string"},
            "sdgs": {"type": "array", "items": {"type": "integer"}},
            "topics": {"type": "array", "items": {"type": "string"},
                       "description": "The topics' keys (the project's themes when none "
                                      "were given)."},
            "audiences": {"type": "array", "items": {"type": "string"},
                          "description": "The audiences' keys; empty: for every audience."},
            "for_newsletter": {"type": "boolean"}, "for_social": {"type": "boolean"},
            "reject_reason": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "reviewed_at": {"type": ["string", "null"], "format": "date-time"},
            "event": event_out,
            "translations": {"type": "object", "additionalProperties": translation_out,
                             "description": "The item in other languages, by code."},
            "url": {"type": "string", "format": "uri"},
        }}
    output_in, output_out = _library()
    common = {"401": _error("No token, or an unknown or revoked token."),
              "403": _error("The token's project may not submit news."),
              "429": {**_error("Over the per-token rate limit."), "headers": {
                  "Retry-After": {"schema": {"type": "integer"},
                                  "description": "Seconds to wait."}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "News submission API", "version": __version__,
                 "description": "Member projects send news items for review. Every request "
                                "carries the project's token: `Authorization: Bearer ost_...`."},
        "servers": [{"url": public_url}],
        "security": [{"token": []}],
        "paths": {
            "/api/v1/items": {
                "post": {
                    "operationId": "createItem", "summary": "Submit a news item for review",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ItemInput"}}}},
                    "responses": {
                        "201": {"description": "Stored as submitted.",
                                "headers": {"Location": {"schema": {"type": "string"}}},
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/Item"}}}},
                        "400": _error("The body is not a JSON object."),
                        "409": _error("The project already sent this link; `existing` "
                                      "points at that item."),
                        "413": _error("The body is over the size cap."),
                        "422": _error("One or more fields are invalid; see `fields`."),
                        **common}},
                "get": {
                    "operationId": "listItems", "summary": "The project's items, newest first",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {
                            "type": "string", "enum": list(ITEM_STATUSES)}},
                        {"name": "kind", "in": "query", "schema": {
                            "type": "string", "enum": list(KINDS)}},
                        {"name": "limit", "in": "query", "schema": {
                            "type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                        {"name": "offset", "in": "query", "schema": {
                            "type": "integer", "minimum": 0, "default": 0}}],
                    "responses": {
                        "200": {"description": "A page of items.", "content": {
                            "application/json": {"schema": {
                                "$ref": "#/components/schemas/ItemList"}}}},
                        "422": _error("A query parameter is invalid."), **common}}},
            "/api/v1/outputs": {
                "post": {
                    "operationId": "createOutput",
                    "summary": "Add an output to the results library, for review",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OutputInput"}}}},
                    "responses": {
                        "201": {"description": "Stored, waiting for an editor.",
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/Output"}}}},
                        "400": _error("The body is not a JSON object."),
                        "413": _error("The body is over the size cap."),
                        "422": _error("One or more fields are invalid; see `fields`."),
                        **common}}},
            "/api/v1/items/{id}": {
                "get": {
                    "operationId": "getItem", "summary": "One of the project's items",
                    "parameters": [{"name": "id", "in": "path", "required": True,
                                    "schema": {"type": "integer", "minimum": 1,
                                               "maximum": MAX_ID}}],
                    "responses": {
                        "200": {"description": "The item with its review state.", "content": {
                            "application/json": {"schema": {
                                "$ref": "#/components/schemas/Item"}}}},
                        "404": _error("No such item in this project."), **common}}},
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "A project token, shown once when "
                                                         "created."}},
            "schemas": {
                "ItemInput": item_in,
                "OutputInput": output_in,
                "Output": output_out,
                "Item": item_out,
                "ItemList": {"type": "object", "required": ["items", "total", "limit", "offset"],
                             "properties": {"items": {"type": "array", "items": {
                                 "$ref": "#/components/schemas/Item"}},
                                 "total": {"type": "integer"}, "limit": {"type": "integer"},
                                 "offset": {"type": "integer"}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "message"], "properties": {
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "fields": {"type": "object",
                                   "additionalProperties": {"type": "string"}},
                        "existing": {"type": "object", "properties": {
                            "id": {"type": "integer"}, "url": {"type": "string"}}}}}}},
            }},
    }
