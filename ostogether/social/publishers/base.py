"""The one small interface every network's publisher implements, and the HTTP edge they
share: timeouts from settings, and sorting every failure into retry, unknown or rejected.

A publisher either returns ``Published`` or raises one of:

- ``PublishRetry``: the network did not take the post and said so clearly (5xx, 429), or
  no connection was made. Safe to try again.
- ``PublishUnknown``: the request went out and no clear answer came back. The post may be
  live; an editor checks.
- ``PublishRejected``: refused for good, with a hint for the editor.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown, ValidationError
from ostogether.core.inputs import ascii_int
from ostogether.core.settings import Settings
from ostogether.core.states import NETWORK_NAMES
from ostogether.social import said as ours
from ostogether.social.media import Variant, variant

# The hints a refusal carries, stored with the post in English (``ours.shown`` words them).
REAUTHORISE = ours.REAUTHORISE
DUPLICATE = ours.DUPLICATE
CONTENT = ours.CONTENT


@dataclass(frozen=True)
class Picture:
    """A picture the service kept (``ostogether.edges.media``), read from disk at publish
    time: publishing never fetches from a member's site."""

    name: str  # "<sha256>.<ext>", the key of its uploads
    path: Path
    alt: str = ""

    def for_network(self, network: str) -> Variant:
        """The picture re-encoded to ``network``'s limits; PublishRejected (nothing was
        sent) when the kept file is gone or damaged."""
        try:
            return variant(self.path.read_bytes(), network)
        except (OSError, ValueError, ValidationError) as exc:
            raise PublishRejected(
                ours.record(ours.PICTURE_UNREADABLE, name=self.name,
                            error=exc.__class__.__name__),
                ours.record(ours.PICTURE_AGAIN)) from exc


@dataclass(frozen=True)
class Outgoing:
    """What a publisher needs of a post."""

    post_id: int
    network: str
    text: str
    link: str = ""
    title: str = ""
    description: str = ""
    language: str = "en"
    idempotency_key: str = ""
    # (the text as written, the network's target): LinkedIn's organisation URN for the
    # project's acronym, Bluesky's handle for "@handle" (its DID is looked up).
    mentions: tuple[tuple[str, str], ...] = ()
    image: Picture | None = None  # the post's own picture, with its description
    card_image: Picture | None = None  # the link card's preview image (no own picture)


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


@dataclass(frozen=True)
class Metrics:
    """A post's public counts as the network gave them. ``available`` is False when the
    account lacks the permission or the network keeps no such figure: "not available",
    never 0."""

    available: bool
    counts: dict[str, int]
    api_version: str
    note: str = ""


def unavailable(network: str, response: requests.Response, api_version: str,
                why: str = "") -> Metrics:
    """A refusal of the metrics (a missing permission): not available, with the reason;
    a transient failure raises ``PublishRetry`` instead, to be tried at the next run."""
    retry_if_transient(network, response)
    said = why or str(json_of(response).get("message") or json_of(response).get("error")
                      or response.reason or response.status_code)
    return Metrics(False, {}, api_version, f"{response.status_code}: {said}"[:300])


class Publisher(Protocol):
    network: str

    def publish(self, post: Outgoing) -> Published: ...

    def metrics(self, remote_id: str) -> Metrics: ...


class UploadStore(Protocol):
    """Where a publisher keeps what a network gave for an uploaded picture (a media id,
    an image URN, a blob), so that a retried post does not upload it again. ``get``
    gives nothing once the network may have forgotten an unused upload."""

    def get(self, post_id: int, media_name: str) -> dict[str, Any] | None: ...

    def keep(self, post_id: int, media_name: str, ref: dict[str, Any],
             expires_at: dt.datetime) -> None: ...


class MemoryUploads:
    """An ``UploadStore`` for one process (tests, and a publisher made on its own)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[int, str], tuple[dict[str, Any], dt.datetime]] = {}

    def get(self, post_id: int, media_name: str) -> dict[str, Any] | None:
        found = self.kept.get((post_id, media_name))
        return found[0] if found and found[1] > clock.now() else None

    def keep(self, post_id: int, media_name: str, ref: dict[str, Any],
             expires_at: dt.datetime) -> None:
        self.kept[(post_id, media_name)] = (ref, expires_at)


def uploaded(store: UploadStore, post: Outgoing, picture: Picture,
             upload: Callable[[], tuple[dict[str, Any], dt.timedelta]]) -> dict[str, Any]:
    """The network's reference to ``picture`` for ``post``: the kept one while the
    network still holds it, else a new upload (kept at once, before the post is made)."""
    ref = store.get(post.post_id, picture.name)
    if ref is None:
        ref, lifetime = upload()
        store.keep(post.post_id, picture.name, ref, clock.now() + lifetime)
    return ref


class ApiPublisher:
    """A publisher configured by the settings alone (every network but Bluesky, which
    also keeps a session)."""

    network = ""

    def __init__(self, settings: Settings, uploads: UploadStore | None = None) -> None:
        self.settings = settings
        self.uploads: UploadStore = uploads or MemoryUploads()


class SessionStore(Protocol):
    """Where a publisher keeps a login between runs (the database)."""

    def load(self, network: str) -> dict[str, Any]: ...

    def save(self, network: str, data: dict[str, Any]) -> None: ...


def _never_connected(exc: BaseException) -> bool:
    """True when the request cannot have reached the server: the connection itself
    failed (refused, unresolvable, timed out while connecting)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError | NameResolutionError | ConnectTimeoutError
                      | requests.ConnectTimeout | ConnectionRefusedError):
            return True
        stack += [getattr(e, "reason", None), e.__cause__, e.__context__]
        stack += [a for a in e.args if isinstance(a, BaseException)]
    return False


def sorted_failure(network: str, exc: requests.RequestException) -> Exception:
    """The publish error that a ``requests`` failure means."""
    name = network_name(network)
    if _never_connected(exc):
        return PublishRetry(ours.record(ours.NO_CONNECTION, network=name,
                                        error=exc.__class__.__name__))
    if isinstance(exc, requests.ReadTimeout):
        return PublishUnknown(ours.record(ours.NO_ANSWER, network=name))
    return PublishUnknown(ours.record(ours.BROKE_AFTER, network=name,
                                      error=exc.__class__.__name__))


def network_name(network: str) -> str:
    return NETWORK_NAMES.get(network, network)


def reset_time(response: requests.Response, now: dt.datetime | None = None
               ) -> dt.datetime | None:
    """When a 429 says to come back: Retry-After, or the network's reset header (epoch
    seconds on X and Bluesky, an ISO time on Mastodon)."""
    now = now or clock.now()
    h = response.headers
    if h.get("Retry-After"):
        value = h["Retry-After"].strip()
        if (seconds := ascii_int(value)) is not None:
            return now + dt.timedelta(seconds=seconds)
        try:
            return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    for name in ("x-rate-limit-reset", "ratelimit-reset", "X-RateLimit-Reset"):
        value = h.get(name, "").strip()
        if not value:
            continue
        if (stamp := ascii_int(value)) is not None:
            return dt.datetime.fromtimestamp(stamp, dt.UTC)
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
        except ValueError:
            continue
    return None


class Api:
    """A requests session for one publish, with the settings' timeouts.

    A fresh session per publish means no kept-alive connection that the server closed
    in between, which would fail in a way that looks like a lost answer.
    """

    def __init__(self, network: str, base_url: str, settings: Settings) -> None:
        self.network = network
        self.base = base_url.rstrip("/")
        self.timeout = (settings.social_connect_timeout, settings.social_read_timeout)
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "ostogether-social/1"

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.post(self.base + path, timeout=self.timeout,
                                     allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise sorted_failure(self.network, exc) from exc

    def upload(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A picture's upload (or a step of it): nothing is posted yet, so a failure of
        any kind is a retry. ``path`` may be the absolute address the network gave
        (LinkedIn's upload URL)."""
        url = path if path.startswith(("http://", "https://")) else self.base + path
        try:
            return self.session.request(method, url, timeout=self.timeout,
                                        allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise PublishRetry(ours.record(ours.UPLOAD_FAILED,
                                           network=network_name(self.network),
                                           error=exc.__class__.__name__)) from exc

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.get(self.base + path, timeout=self.timeout,
                                    allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            if _never_connected(exc) or isinstance(exc, requests.Timeout):
                raise PublishRetry(f"Could not read from {network_name(self.network)}: "
                                   f"{exc.__class__.__name__}.") from exc
            raise PublishRetry(f"The connection to {network_name(self.network)} broke "
                               f"({exc.__class__.__name__}).") from exc

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def upload_failed(network: str, response: requests.Response, what: str) -> Exception:
    """The error of a refused upload. Nothing was posted, so anything unclear is a
    retry; a 4xx (the picture or the permission) is for the editor."""
    name = network_name(network)
    if response.status_code == 429 or response.status_code >= 500:
        return PublishRetry(ours.record(ours.UPLOAD_LATER, network=name,
                                        code=response.status_code),
                            reset_time(response) if response.status_code == 429 else None)
    body = json_of(response)
    said = str(body.get("message") or body.get("error") or body.get("detail")
               or response.reason or "")[:300]
    return PublishRejected(ours.record(ours.PICTURE_REFUSED, network=name, what=what,
                                  code=response.status_code, said=said),
                           ours.record(ours.PICTURE_HINT))


def retry_if_transient(network: str, response: requests.Response) -> None:
    """Raise ``PublishRetry`` for a 429 (at its reset time) or a 5xx."""
    name = network_name(network)
    if response.status_code == 429:
        raise PublishRetry(ours.record(ours.RATE_LIMITED, network=name), reset_time(response))
    if response.status_code >= 500:
        raise PublishRetry(ours.record(ours.SERVER_ERROR, network=name,
                                       code=response.status_code))


def json_of(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
