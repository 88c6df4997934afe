"""A loopback HTTP server that speaks the five networks' posting APIs.

The social networks cannot be reached from here, so this stands in for them. It checks
each request's shape as the platforms' documentation gives it (method, path, headers,
body, auth), records every post it accepts, and can be told to fail in the ways real
networks fail: 429 with a reset time, 5xx, an answer that never comes after the post was
made, a connection dropped mid-response, duplicate content, and an expired token.

Requests that break the documented shape are answered 400 and listed in ``problems``,
which every test asserts is empty.

The API versions it serves are the service's own defaults, read from the settings table,
and it refuses a version that is retired on the test clock's day (the version's end from
the settings, or the networks' published end-of-life tables) as the networks do:
LinkedIn with 426 ``NONEXISTENT_VERSION``, Graph with an OAuthException (#2635).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import itertools
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import regex
from oauthlib.oauth1.rfc5849 import signature

from ostogether.core import clock
from ostogether.core.settings import table
from tests.social_uploads import Bad, MediaFakes

DEFAULTS = {info.name: info.default for info in table()}
X_KEY, X_SECRET, X_TOKEN, X_TOKEN_SECRET = "ck", "cs", "at", "ats"
FB_PAGE, FB_TOKEN = "4242", "page-token"
FB_VERSION = str(DEFAULTS["facebook_api_version"])
LI_ORG, LI_TOKEN = "777", "li-token"
LI_VERSION = str(DEFAULTS["linkedin_version"])
MASTO_TOKEN = "masto-token"
BSKY_HANDLE, BSKY_PASSWORD, BSKY_DID = "ostogether.test", "app-pass-word", "did:plc:ostogether"
# When each version stops being served: the networks' published tables (LinkedIn's
# Marketing API migrations page; the Graph API changelog's "Available until"), and the
# end the settings give the default version.
LI_SUNSETS = {"202510": dt.date(2026, 10, 15), "202511": dt.date(2026, 11, 16),
              "202601": dt.date(2027, 1, 15), "202602": dt.date(2027, 2, 15),
              "202603": dt.date(2027, 3, 16),
              LI_VERSION: dt.date.fromisoformat(str(DEFAULTS["linkedin_version_end"]))}
FB_EXPIRIES = {"v19.0": dt.date(2026, 5, 21), "v20.0": dt.date(2026, 9, 24),
               "v21.0": dt.date(2027, 1, 21), "v22.0": dt.date(2027, 5, 20),
               "v23.0": dt.date(2027, 10, 8), "v24.0": dt.date(2028, 2, 18),
               FB_VERSION: dt.date.fromisoformat(str(DEFAULTS["facebook_api_version_end"]))}
_FB_PATH = regex.compile(r"/(v\d+\.\d+)/" + FB_PAGE + r"/(feed|photos)")

POST_PATHS = {"/2/tweets": "x", f"/{FB_VERSION}/{FB_PAGE}/feed": "facebook",
              f"/{FB_VERSION}/{FB_PAGE}/photos": "facebook", "/rest/posts": "linkedin",
              "/api/v1/statuses": "mastodon", "/xrpc/com.atproto.repo.createRecord": "bluesky"}


def retired(network: str, version: str) -> tuple[int, dict[str, Any]] | None:
    """The network's answer to a version it no longer serves on the test clock's day."""
    today = clock.now().date()
    if network == "linkedin" and version in LI_SUNSETS and today >= LI_SUNSETS[version]:
        return 426, {"status": 426, "code": "NONEXISTENT_VERSION",
                     "message": f"Requested version {version}01 is not active"}
    if network == "facebook" and version in FB_EXPIRIES and today >= FB_EXPIRIES[version]:
        return 400, {"error": {"message": f"(#2635) You are calling a deprecated version of "
                                          f"the Graph API. Please update to the latest "
                                          f"version: {FB_VERSION}.",
                               "type": "OAuthException", "code": 2635,
                               "fbtrace_id": "AbCdEf"}}
    return None
# Faults for uploads are queued under "upload:<network>".
UPLOAD_PATHS = {"/2/media/upload": "x", "/2/media/metadata": "x", "/rest/images": "linkedin",
                "/api/v2/media": "mastodon", "/xrpc/com.atproto.repo.uploadBlob": "bluesky"}


def env_for(base: str) -> dict[str, str]:
    """Settings that point every network at the fake, with its credentials."""
    return {
        "OSTOGETHER_X_API_URL": base, "OSTOGETHER_X_CONSUMER_KEY": X_KEY,
        "OSTOGETHER_X_CONSUMER_SECRET": X_SECRET, "OSTOGETHER_X_ACCESS_TOKEN": X_TOKEN,
        "OSTOGETHER_X_ACCESS_TOKEN_SECRET": X_TOKEN_SECRET,
        "OSTOGETHER_FACEBOOK_GRAPH_URL": base, "OSTOGETHER_FACEBOOK_PAGE_ID": FB_PAGE,
        "OSTOGETHER_FACEBOOK_PAGE_TOKEN": FB_TOKEN,
        "OSTOGETHER_LINKEDIN_API_URL": base, "OSTOGETHER_LINKEDIN_ORGANIZATION_ID": LI_ORG,
        "OSTOGETHER_LINKEDIN_ACCESS_TOKEN": LI_TOKEN,
        "OSTOGETHER_MASTODON_URL": base, "OSTOGETHER_MASTODON_ACCESS_TOKEN": MASTO_TOKEN,
        "OSTOGETHER_BLUESKY_URL": base, "OSTOGETHER_BLUESKY_HANDLE": BSKY_HANDLE,
        "OSTOGETHER_BLUESKY_APP_PASSWORD": BSKY_PASSWORD,
    }


def jwt(kind: str, n: int, ttl: float) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    exp = int(clock.timestamp() + ttl)
    return f"{part({'alg': 'ES256K'})}.{part({'scope': kind, 'exp': exp, 'n': n})}.sig"


@dataclass
class Accepted:
    network: str
    remote_id: str
    text: str
    body: dict[str, Any]


@dataclass
class FakeNetworks(MediaFakes):
    # A "timeout" fault holds its answer until the fake closes, or this long at most: the
    # client always gives up first, however slow the machine.
    hang_seconds: float = 30.0
    access_ttl: float = 7200.0
    posts: list[Accepted] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    # Faults for the next post requests, per network, used in order.
    faults: dict[str, list[str]] = field(default_factory=dict)
    # Or a function that picks a fault (or None) for every post request.
    chooser: Callable[[str], str | None] | None = None
    logins: int = 0
    refreshes: int = 0
    metric_asks: dict[str, int] = field(default_factory=dict)
    bluesky_dids: dict[str, str] = field(default_factory=dict)  # handle -> DID

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.ids = itertools.count(1000)
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (kind, expires)
        self.idempotent: dict[str, dict[str, Any]] = {}
        self._init_media()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                fake.handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake.handle_get(self)

            def do_PUT(self) -> None:  # noqa: N802
                fake.handle_put(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeNetworks:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def posted(self, network: str | None = None) -> list[Accepted]:
        with self.lock:
            return [p for p in self.posts if network in (None, p.network)]

    # ------------------------------------------------------------------ plumbing
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(h.path)
        path, query = split.path, dict(urllib.parse.parse_qsl(split.query))
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append((path, headers, raw))
        network = POST_PATHS.get(path) or ("facebook" if _FB_PATH.fullmatch(path) else None)
        asked = (headers.get("linkedin-version", "") if network == "linkedin" or
                 path == "/rest/images" else m.group(1) if (m := _FB_PATH.fullmatch(path))
                 else "")
        if (refusal := retired("facebook" if network == "facebook" else "linkedin", asked)
                if asked else None):
            self._send(h, refusal[0], {}, refusal[1])
            return
        if network == "facebook" and asked != FB_VERSION:
            with self.lock:
                self.problems.append(f"{path}: Graph API version {asked}, not {FB_VERSION}")
        fault = None
        if network:
            with self.lock:
                queue = self.faults.get(network)
                fault = queue.pop(0) if queue else (self.chooser(network) if self.chooser
                                                    else None)
        elif path in UPLOAD_PATHS:
            with self.lock:
                queue = self.faults.get("upload:" + UPLOAD_PATHS[path])
                fault = queue.pop(0) if queue else None
        if fault == "drop-before":
            self._drop(h)
            return
        if fault in ("429", "500", "duplicate", "expired"):
            self._fail(h, network or UPLOAD_PATHS.get(path, ""), fault)
            return
        try:
            status, out_headers, body = self.route(path, headers, raw, network, query)
        except (_Bad, Bad) as bad:
            with self.lock:
                self.problems.append(f"{path}: {bad}")
            status, out_headers, body = 400, {}, {"error": "BadShape", "message": str(bad)}
        if fault == "timeout":
            self.released.wait(self.hang_seconds)
        if fault == "drop":
            self._drop(h)
            return
        self._send(h, status, out_headers, body)

    def _send(self, h: BaseHTTPRequestHandler, status: int, headers: dict[str, str],
              body: dict[str, Any] | None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting

    def _drop(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _fail(self, h: BaseHTTPRequestHandler, network: str, fault: str) -> None:
        reset = int(clock.timestamp()) + 90
        if fault == "429":
            headers = {"x": {"x-rate-limit-reset": str(reset)},
                       "mastodon": {"X-RateLimit-Reset": dt.datetime.fromtimestamp(
                           reset, dt.UTC).isoformat().replace("+00:00", "Z")},
                       "bluesky": {"ratelimit-reset": str(reset)},
                       "linkedin": {"Retry-After": "90"},
                       "facebook": {}}[network]
            if network == "facebook":  # Graph sends rate limits as error code 32, 400
                self._send(h, 400, {}, {"error": {"message": "Page request limit reached",
                                                  "type": "OAuthException", "code": 32}})
            else:
                self._send(h, 429, headers, {"error": "RateLimitExceeded",
                                             "title": "Too Many Requests"})
        elif fault == "500":
            self._send(h, 503, {}, {"error": "InternalServerError"})
        elif fault == "duplicate":
            body = {"x": (403, {"detail": "You are not allowed to create a Tweet with "
                                          "duplicate content.", "title": "Forbidden",
                                "status": 403, "type": "about:blank"}),
                    "facebook": (400, {"error": {"message": "(#506) Duplicate status "
                                                            "message", "code": 506,
                                                 "type": "OAuthException"}}),
                    "linkedin": (422, {"message": "Content is a duplicate of "
                                                  "urn:li:share:6999", "status": 422}),
                    "mastodon": (422, {"error": "Validation failed: Text has already been "
                                                "posted"}),
                    "bluesky": (400, {"error": "InvalidRequest",
                                      "message": "Duplicate record"})}[network]
            self._send(h, body[0], {}, body[1])
        elif fault == "expired":
            body = {"x": (401, {"title": "Unauthorized", "detail": "Unauthorized",
                                "status": 401, "type": "about:blank"}),
                    "facebook": (400, {"error": {"message": "Error validating access token:"
                                                            " Session has expired",
                                                 "type": "OAuthException", "code": 190,
                                                 "error_subcode": 463}}),
                    "linkedin": (401, {"message": "The token used in the request has "
                                                  "expired", "serviceErrorCode": 65601,
                                       "status": 401}),
                    "mastodon": (401, {"error": "The access token is invalid"}),
                    "bluesky": (401, {"error": "AuthenticationRequired",
                                      "message": "Invalid identifier or password"})}[network]
            self._send(h, body[0], {}, body[1])

    def handle_put(self, h: BaseHTTPRequestHandler) -> None:
        """LinkedIn's upload URL: the picture's bytes."""
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append(("PUT " + h.path, headers, b""))
        try:
            status = self.linkedin_put(h.path, headers, raw, LI_TOKEN)
        except Bad as bad:
            with self.lock:
                self.problems.append(f"PUT {h.path}: {bad}")
            status = 400
        self._send(h, status, {}, None)

    # ------------------------------------------------------------------ metrics (GET)
    def handle_get(self, h: BaseHTTPRequestHandler) -> None:
        """The documented shapes of each network's public counts of one post. Counts
        grow each time a post is asked about, as a post's do over days."""
        split = urllib.parse.urlsplit(h.path)
        path, query = split.path, dict(urllib.parse.parse_qsl(split.query))
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self.lock:
            self.requests.append((h.path, headers, b""))
        network = ("x" if path.startswith("/2/tweets/") else
                   "facebook" if regex.match(r"/v\d+\.\d+/", path) else
                   "linkedin" if path == "/rest/organizationalEntityShareStatistics" else
                   "mastodon" if path.startswith("/api/v1/statuses/") else
                   "bluesky" if path in ("/xrpc/app.bsky.feed.getPosts",
                                         "/xrpc/com.atproto.identity.resolveHandle") else "")
        asked = (headers.get("linkedin-version", "") if network == "linkedin" else
                 path.split("/")[1] if network == "facebook" else "")
        if asked and (refusal := retired(network, asked)):
            self._send(h, refusal[0], {}, refusal[1])
            return
        if network == "facebook" and asked != FB_VERSION:
            with self.lock:
                self.problems.append(f"GET {path}: Graph API version {asked}, not {FB_VERSION}")
        with self.lock:
            queue = self.faults.get("metrics:" + network)
            fault = queue.pop(0) if queue else None
        if fault in ("429", "500"):
            self._fail(h, network, fault)
            return
        try:
            if path.startswith("/api/v1/media/"):
                if headers.get("authorization") != f"Bearer {MASTO_TOKEN}":
                    raise _Bad("Authorization: Bearer <token> is needed")
                status, body = self.mastodon_media_status(path.rsplit("/", 1)[1])
            else:
                status, body = self.metrics(network, path, query, headers, fault)
        except (_Bad, Bad) as bad:
            with self.lock:
                self.problems.append(f"GET {path}: {bad}")
            status, body = 400, {"error": "BadShape", "message": str(bad)}
        self._send(h, status, {}, body)

    def _asked(self, key: str) -> int:
        with self.lock:
            self.metric_asks[key] = self.metric_asks.get(key, 0) + 1
            return self.metric_asks[key]

    def metrics(self, network: str, path: str, query: dict[str, str],
                headers: dict[str, str], fault: str | None) -> tuple[int, Any]:
        if network == "x":
            auth = headers.get("authorization", "")
            if not auth.startswith("OAuth ") or f'oauth_consumer_key="{X_KEY}"' not in auth:
                raise _Bad("X needs OAuth 1.0a user context")
            if query.get("tweet.fields") != "public_metrics":
                raise _Bad("tweet.fields=public_metrics is needed")
            if fault == "403":
                return 403, {"title": "Forbidden", "detail": "Forbidden", "status": 403,
                             "type": "about:blank"}
            rid, n = path.rsplit("/", 1)[1], self._asked(path)
            return 200, {"data": {"id": rid, "text": "…", "edit_history_tweet_ids": [rid],
                                  "public_metrics": {
                                      "retweet_count": n, "reply_count": 0,
                                      "like_count": 3 * n, "quote_count": 0,
                                      "bookmark_count": 1, "impression_count": 100 * n}}}
        if network == "facebook":
            if query.get("access_token") != FB_TOKEN:
                raise _Bad("a Page access token is needed")
            if query.get("fields") != ("reactions.summary(total_count).limit(0),"
                                       "comments.summary(total_count).limit(0),shares"):
                raise _Bad(f"fields are {query.get('fields')!r}")
            if fault == "403":
                return 400, {"error": {"message": "(#10) This endpoint requires the "
                                                  "'pages_read_engagement' permission",
                                       "type": "OAuthException", "code": 10}}
            n = self._asked(path)
            return 200, {"id": path.rsplit("/", 1)[1],
                         "reactions": {"data": [], "summary": {"total_count": 4 * n}},
                         "comments": {"data": [], "summary": {"total_count": n,
                                                              "order": "ranked"}},
                         "shares": {"count": n}}
        if network == "linkedin":
            if headers.get("authorization") != f"Bearer {LI_TOKEN}" or headers.get(
                    "linkedin-version") != LI_VERSION or headers.get(
                    "x-restli-protocol-version") != "2.0.0":
                raise _Bad("Authorization, LinkedIn-Version and X-Restli-Protocol-Version "
                           "are needed")
            if query.get("q") != "organizationalEntity" or query.get(
                    "organizationalEntity") != f"urn:li:organization:{LI_ORG}":
                raise _Bad(f"q/organizationalEntity are {query}")
            shares = query.get("shares", "")
            if not (shares.startswith("List(urn:li:share:") and shares.endswith(")")):
                raise _Bad(f"shares must be List(urn), got {shares!r}")
            if fault == "403":
                return 403, {"message": "Not enough permissions to access: "
                                        "organizationalEntityShareStatistics",
                             "serviceErrorCode": 100, "status": 403}
            n = self._asked(shares)
            return 200, {"paging": {"count": 10, "start": 0}, "elements": [{
                "share": shares[5:-1], "organizationalEntity": f"urn:li:organization:{LI_ORG}",
                "totalShareStatistics": {
                    "uniqueImpressionsCount": 50 * n, "shareCount": n, "engagement": 0.05,
                    "clickCount": 5 * n, "likeCount": 2 * n, "impressionCount": 80 * n,
                    "commentCount": n}}]}
        if network == "mastodon":
            if headers.get("authorization") != f"Bearer {MASTO_TOKEN}":
                raise _Bad("Authorization: Bearer <token> is needed")
            n = self._asked(path)
            return 200, {"id": path.rsplit("/", 1)[1], "favourites_count": 2 * n,
                         "reblogs_count": n, "replies_count": 0}
        if network == "bluesky" and path.endswith("resolveHandle"):
            handle = query.get("handle", "")
            with self.lock:
                did = self.bluesky_dids.get(handle)
            if did is None:
                return 400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}
            return 200, {"did": did}
        if network == "bluesky":
            ok, why = self._token(headers, "access")
            if not ok:
                return 400, {"error": why, "message": "Token has expired"}
            uri = query.get("uris", "")
            if not uri.startswith(f"at://{BSKY_DID}/app.bsky.feed.post/"):
                raise _Bad(f"uris is {uri!r}")
            n = self._asked(uri)
            return 200, {"posts": [{"uri": uri, "cid": "bafy", "author": {"did": BSKY_DID},
                                    "record": {}, "likeCount": 5 * n, "repostCount": n,
                                    "replyCount": 0, "quoteCount": 0,
                                    "indexedAt": "2026-01-01T00:00:00Z"}]}
        raise _Bad(f"no such endpoint {path}")

    # ------------------------------------------------------------------ the APIs
    def route(self, path: str, headers: dict[str, str], raw: bytes, network: str | None,
              query: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any] | None]:
        if network == "x":
            return self.x(headers, raw)
        if network == "facebook" and path.endswith("/photos"):
            photo, form = self.facebook_photo(headers, raw, FB_TOKEN)
            if not form.get("message"):
                raise _Bad("message (the caption) is empty")
            if not form.get("alt_text_custom"):
                raise _Bad("alt_text_custom (the picture's description) is empty")
            rid = self._accept("facebook", form["message"], {**form, "photo": photo},
                               f"{FB_PAGE}_{next(self.ids)}")
            return 200, {}, {"id": photo, "post_id": rid}
        if network == "facebook":
            return self.facebook(headers, raw)
        if network == "linkedin":
            return self.linkedin(headers, raw)
        if network == "mastodon":
            return self.mastodon(headers, raw)
        if network == "bluesky":
            return self.bluesky_post(headers, raw)
        if path in ("/2/media/upload", "/2/media/metadata"):
            self._x_signed(headers, self.url + path)
            if path == "/2/media/upload":
                return (*self._pair(self.x_media_upload(headers, raw)),)
            if not headers.get("content-type", "").startswith("application/json"):
                raise _Bad("the metadata must be JSON")
            return (*self._pair(self.x_media_metadata(json.loads(raw))),)
        if path == "/rest/images":
            self._linkedin_headers(headers)
            if query.get("action") != "initializeUpload":
                raise _Bad("POST /rest/images needs ?action=initializeUpload")
            return (*self._pair(self.linkedin_init(json.loads(raw), LI_ORG)),)
        if path == "/api/v2/media":
            if headers.get("authorization") != f"Bearer {MASTO_TOKEN}":
                raise _Bad("Authorization: Bearer <token> is needed")
            return (*self._pair(self.mastodon_media(headers, raw)),)
        if path == "/xrpc/com.atproto.repo.uploadBlob":
            ok, why = self._token(headers, "access")
            if not ok:
                return 400, {}, {"error": why, "message": "Token has expired"}
            return (*self._pair(self.bluesky_blob(headers, raw)),)
        if path == "/xrpc/com.atproto.server.createSession":
            return self.bluesky_login(raw)
        if path == "/xrpc/com.atproto.server.refreshSession":
            return self.bluesky_refresh(headers)
        raise _Bad(f"no such endpoint {path}")

    @staticmethod
    def _pair(answer: tuple[int, Any]) -> tuple[int, dict[str, str], Any]:
        return answer[0], {}, answer[1]

    def _x_signed(self, headers: dict[str, str], url: str) -> None:
        """OAuth 1.0a user context, signed for ``url`` with the app's and user's keys."""
        auth = headers.get("authorization", "")
        if not auth.startswith("OAuth "):
            raise _Bad("X needs OAuth 1.0a user context")
        params = dict(signature.collect_parameters(headers={"Authorization": auth},
                                                   exclude_oauth_signature=False))
        for key, want in (("oauth_consumer_key", X_KEY), ("oauth_token", X_TOKEN),
                          ("oauth_signature_method", "HMAC-SHA1"), ("oauth_version", "1.0")):
            if params.get(key) != want:
                raise _Bad(f"{key} is {params.get(key)!r}")
        signed = signature.collect_parameters(headers={"Authorization": auth},
                                              exclude_oauth_signature=True)
        base = signature.signature_base_string(
            "POST", signature.base_string_uri(url), signature.normalize_parameters(signed))
        quote = urllib.parse.quote
        key = f"{quote(X_SECRET, safe='')}&{quote(X_TOKEN_SECRET, safe='')}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), "sha1").digest())
        if expected.decode() != params.get("oauth_signature"):
            raise _Bad("the OAuth signature does not match")

    @staticmethod
    def _linkedin_headers(headers: dict[str, str]) -> None:
        if headers.get("authorization") != f"Bearer {LI_TOKEN}":
            raise _Bad("Authorization: Bearer <token> is needed")
        if headers.get("linkedin-version") != LI_VERSION:
            raise _Bad("LinkedIn-Version header is needed")
        if headers.get("x-restli-protocol-version") != "2.0.0":
            raise _Bad("X-Restli-Protocol-Version: 2.0.0 is needed")

    def _accept(self, network: str, text: str, body: dict[str, Any],
                remote_id: str | None = None) -> str:
        with self.lock:
            rid = remote_id or str(next(self.ids))
            self.posts.append(Accepted(network, rid, text, body))
        return rid

    def x(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        self._x_signed(headers, "https://api.twitter.com/2/tweets")  # tweepy's own URL
        if not headers.get("content-type", "").startswith("application/json"):
            raise _Bad("the body must be JSON")
        body = json.loads(raw)
        if not set(body) <= {"text", "media"} or not isinstance(body.get("text"), str):
            raise _Bad(f"unexpected body {body}")
        self.x_tweet_media(body)
        rid = self._accept("x", body["text"], body)
        return 201, {}, {"data": {"id": rid, "text": body["text"],
                                  "edit_history_tweet_ids": [rid]}}

    def facebook(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise _Bad("Graph takes form fields")
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if form.get("access_token") != FB_TOKEN:
            raise _Bad("a Page access token is needed")
        if not form.get("message"):
            raise _Bad("message is empty")
        rid = self._accept("facebook", form["message"], form,
                           f"{FB_PAGE}_{next(self.ids)}")
        return 200, {}, {"id": rid}

    def linkedin(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        self._linkedin_headers(headers)
        body = json.loads(raw)
        self.linkedin_content(body)
        want = {"author": f"urn:li:organization:{LI_ORG}", "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False,
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []}}
        for key, value in want.items():
            if body.get(key) != value:
                raise _Bad(f"{key} is {body.get(key)!r}")
        commentary = body.get("commentary", "")
        # Reserved characters must come escaped (outside URLs and hashtag templates).
        bare = regex.sub(r"https?://\S+|\{hashtag\|\\#\|[^}]*\}|\\.|"
                         r"@\[(?:[^\]\\]|\\.)*\]\(urn:li:organization:\d+\)", "", commentary)
        if any(c in bare for c in "|{}@[]()<>#*_~"):
            raise _Bad(f"unescaped reserved character in {commentary!r}")
        article = body.get("content", {}).get("article")
        if article is not None and not article.get("source", "").startswith("http"):
            raise _Bad("article.source must be the link")
        urn = f"urn:li:share:{next(self.ids)}"
        self._accept("linkedin", commentary, body, urn)
        return 201, {"x-restli-id": urn}, None

    def mastodon(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Bearer {MASTO_TOKEN}":
            raise _Bad("Authorization: Bearer <token> is needed")
        key = headers.get("idempotency-key", "")
        if not key:
            raise _Bad("Idempotency-Key is needed")
        body = json.loads(raw)
        if not body.get("status") or body.get("visibility") != "public":
            raise _Bad(f"unexpected body {body}")
        self.mastodon_status_media(body)
        with self.lock:
            if key in self.idempotent:  # Mastodon returns the status it made already
                return 200, {}, self.idempotent[key]
        rid = self._accept("mastodon", body["status"], body)
        status = {"id": rid, "url": f"https://masto.test/@ostogether/{rid}",
                  "content": body["status"]}
        with self.lock:
            self.idempotent[key] = status
        return 200, {}, status

    def _token(self, headers: dict[str, str], kind: str) -> tuple[bool, str]:
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        with self.lock:
            known = self.tokens.get(token)
        if known is None or known[0] != kind:
            return False, "InvalidToken"
        if known[1] < clock.timestamp():
            return False, "ExpiredToken"
        return True, ""

    def _new_session(self) -> dict[str, Any]:
        with self.lock:
            n = next(self.ids)
            access, refresh = jwt("access", n, self.access_ttl), jwt("refresh", n, 86400 * 60)
            self.tokens[access] = ("access", clock.timestamp() + self.access_ttl)
            self.tokens[refresh] = ("refresh", clock.timestamp() + 86400 * 60)
        return {"accessJwt": access, "refreshJwt": refresh, "did": BSKY_DID,
                "handle": BSKY_HANDLE, "active": True}

    def bluesky_login(self, raw: bytes) -> tuple[int, dict[str, str], Any]:
        body = json.loads(raw)
        if body != {"identifier": BSKY_HANDLE, "password": BSKY_PASSWORD}:
            return 401, {}, {"error": "AuthenticationRequired",
                             "message": "Invalid identifier or password"}
        with self.lock:
            self.logins += 1
        return 200, {}, self._new_session()

    def bluesky_refresh(self, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        ok, why = self._token(headers, "refresh")
        if not ok:
            return 400, {}, {"error": why, "message": "Token is invalid or expired"}
        with self.lock:
            self.refreshes += 1
        return 200, {}, self._new_session()

    def bluesky_post(self, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str],
                                                                         Any]:
        ok, why = self._token(headers, "access")
        if not ok:
            return 400, {}, {"error": why, "message": "Token has expired"}
        body = json.loads(raw)
        if body.get("repo") != BSKY_DID or body.get("collection") != "app.bsky.feed.post":
            raise _Bad(f"repo/collection are {body.get('repo')}/{body.get('collection')}")
        record = body.get("record", {})
        if record.get("$type") != "app.bsky.feed.post" or not record.get("createdAt"):
            raise _Bad("record needs $type app.bsky.feed.post and createdAt")
        text = record.get("text", "")
        if len(regex.findall(r"\X", text)) > 300 or len(text.encode()) > 3000:
            raise _Bad("text is over 300 graphemes or 3000 bytes")
        data = text.encode()
        for facet in record.get("facets", []):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            try:
                data[start:end].decode()
            except UnicodeDecodeError:
                raise _Bad("a facet does not fall on character boundaries") from None
            if not 0 <= start < end <= len(data):
                raise _Bad("a facet is outside the text")
            for feature in facet.get("features", []):
                if feature.get("$type") == "app.bsky.richtext.facet#mention" and not str(
                        feature.get("did", "")).startswith("did:"):
                    raise _Bad("a mention facet needs the account's DID")
        if record.get("embed") is not None:
            self.bluesky_embed(record["embed"])
        rkey = f"3k{next(self.ids)}"
        uri = f"at://{BSKY_DID}/app.bsky.feed.post/{rkey}"
        self._accept("bluesky", text, body, uri)
        return 200, {}, {"uri": uri, "cid": "bafyrei" + rkey}


class _Bad(Exception):
    pass
