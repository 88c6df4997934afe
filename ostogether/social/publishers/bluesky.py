"""Bluesky: ``com.atproto.server.createSession`` once, kept in the database and
refreshed with ``refreshSession``; then ``com.atproto.repo.createRecord`` of an
``app.bsky.feed.post`` with link, tag and mention facets (UTF-8 byte offsets).

Bluesky's cards are built by the client from the record alone. A post with its own
picture uploads it with ``com.atproto.repo.uploadBlob`` and embeds it as
``app.bsky.embed.images`` with its ``alt`` and ``aspectRatio``; a link post embeds
``app.bsky.embed.external`` with the page's title and description and, when the page
has a preview image, its blob as ``thumb``. A blob that no record references is
removed by the server after a while, so it is kept for less than an hour.

Bluesky limits logins (createSession) per day, so the session is reused across runs.
An access token about to expire is refreshed before posting; one that the server calls
expired is refreshed and the post is tried once more (an expired token is refused
before anything is posted, so this cannot double a post).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.core.settings import Settings
from ostogether.social import said as ours
from ostogether.social.publishers.base import (
    CONTENT,
    REAUTHORISE,
    Api,
    MemoryUploads,
    Metrics,
    Outgoing,
    Picture,
    Published,
    SessionStore,
    UploadStore,
    json_of,
    retry_if_transient,
    unavailable,
    upload_failed,
    uploaded,
)
from ostogether.social.text import bluesky_richtext

EARLY_REFRESH = dt.timedelta(seconds=60)
BLOB_LIFETIME = dt.timedelta(minutes=45)


def _expires(jwt: str) -> dt.datetime | None:
    """The ``exp`` of a JWT, read without checking the signature (only to refresh
    early; the server decides)."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class BlueskyPublisher:
    network = "bluesky"

    def __init__(self, settings: Settings, sessions: SessionStore,
                 uploads: UploadStore | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self.uploads: UploadStore = uploads or MemoryUploads()

    # -- session
    def _login(self, api: Api) -> dict[str, Any]:
        s = self.settings
        response = api.post("/xrpc/com.atproto.server.createSession",
                            json={"identifier": s.bluesky_handle,
                                  "password": s.bluesky_app_password})
        retry_if_transient(self.network, response)
        answer = json_of(response)
        if response.status_code != 200 or not answer.get("accessJwt"):
            raise PublishRejected(ours.record(
                ours.BLUESKY_LOGIN, code=response.status_code,
                said=str(answer.get('message') or answer.get('error') or '')),
                ours.BLUESKY_LOGIN_HINT)
        return self._keep(answer)

    def _refresh(self, api: Api, session: dict[str, Any]) -> dict[str, Any]:
        response = api.post("/xrpc/com.atproto.server.refreshSession",
                            headers={"Authorization": f"Bearer {session['refreshJwt']}"})
        retry_if_transient(self.network, response)
        answer = json_of(response)
        if response.status_code != 200 or not answer.get("accessJwt"):
            return self._login(api)  # the refresh token expired or was revoked
        return self._keep(answer)

    def _keep(self, answer: dict[str, Any]) -> dict[str, Any]:
        session = {k: answer.get(k) for k in ("accessJwt", "refreshJwt", "did", "handle")}
        self.sessions.save(self.network, session)
        return session

    def _session(self, api: Api) -> dict[str, Any]:
        session = self.sessions.load(self.network)
        handle = str(session.get("handle") or "").casefold()
        if not session.get("accessJwt") or handle != self.settings.bluesky_handle.casefold():
            return self._login(api)  # never logged in, or the account changed
        expires = _expires(str(session["accessJwt"]))
        if expires is not None and expires - EARLY_REFRESH <= clock.now():
            return self._refresh(api, session)
        return session

    # -- post
    def dids(self, api: Api | None, session: dict[str, Any],
             handles: list[str]) -> dict[str, str]:
        """handle → DID, from ``com.atproto.identity.resolveHandle``, kept between runs.
        A handle that does not resolve is left as text (no mention facet)."""
        known: dict[str, str] = dict(self.sessions.load("bluesky-dids"))
        missing = [h for h in handles if h not in known]
        if missing and api is not None:
            for handle in missing:
                try:
                    r = api.get("/xrpc/com.atproto.identity.resolveHandle",
                                params={"handle": handle},
                                headers={"Authorization": f"Bearer {session['accessJwt']}"})
                except PublishRetry:
                    continue
                did = str(json_of(r).get("did", "")) if r.status_code == 200 else ""
                if did.startswith("did:"):
                    known[handle] = did
            self.sessions.save("bluesky-dids", known)
        return {h: known[h] for h in handles if h in known}

    def record(self, post: Outgoing, now: dt.datetime | None = None,
               dids: dict[str, str] | None = None,
               blobs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The post's record; ``blobs`` maps a picture's name to its uploaded blob
        (with ``width`` and ``height``)."""
        text, facets = bluesky_richtext(post.text, dids)
        when = (now or clock.now()).isoformat(timespec="milliseconds")
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post", "text": text,
            "createdAt": when.replace("+00:00", "Z"), "langs": [post.language or "en"]}
        if facets:
            record["facets"] = facets
        blobs = blobs or {}
        if post.image is not None and post.image.name in blobs:
            ref = blobs[post.image.name]
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [{
                "alt": post.image.alt[:2000], "image": ref["blob"],
                "aspectRatio": {"width": ref["width"], "height": ref["height"]}}]}
        elif post.link:
            external: dict[str, Any] = {"uri": post.link, "title": post.title or post.link,
                                        "description": post.description[:300]}
            if post.card_image is not None and post.card_image.name in blobs:
                external["thumb"] = blobs[post.card_image.name]["blob"]
            record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        return record

    def _upload(self, api: Api, session: dict[str, Any], picture: Picture
                ) -> tuple[dict[str, Any], dt.timedelta]:
        image = picture.for_network(self.network)

        def send(session: dict[str, Any]) -> Any:
            return api.upload("POST", "/xrpc/com.atproto.repo.uploadBlob", data=image.data,
                              headers={"Authorization": f"Bearer {session['accessJwt']}",
                                       "Content-Type": image.mime})

        r = send(session)
        if r.status_code in (400, 401) and json_of(r).get("error") in (
                "ExpiredToken", "InvalidToken"):
            r = send(self._refresh(api, session))
        blob = json_of(r).get("blob")
        if r.status_code != 200 or not isinstance(blob, dict):
            raise upload_failed(self.network, r, "uploadBlob")
        return ({"blob": blob, "width": image.width, "height": image.height},
                BLOB_LIFETIME)

    def publish(self, post: Outgoing) -> Published:
        with Api(self.network, self.settings.bluesky_url, self.settings) as api:
            session = self._session(api)
            blobs = {}
            for picture in (post.image, post.card_image if post.image is None else None):
                if picture is not None:
                    blobs[picture.name] = uploaded(
                        self.uploads, post, picture,
                        lambda p=picture: self._upload(api, session, p))  # type: ignore[misc]
            session = self.sessions.load(self.network) or session  # refreshed by an upload
            record = self.record(post, blobs=blobs, dids=self.dids(
                api, session, [handle for _, handle in post.mentions]))
            response = self._create(api, session, record)
            if response.status_code in (400, 401) and json_of(response).get("error") in (
                    "ExpiredToken", "InvalidToken"):
                session = self._refresh(api, session)
                response = self._create(api, session, record)
        answer = json_of(response)
        if response.status_code == 200:
            uri = str(answer.get("uri", ""))
            if not uri.startswith("at://"):
                raise PublishUnknown(ours.BLUESKY_NO_URI)
            did, _, rkey = uri[len("at://"):].partition("/app.bsky.feed.post/")
            return Published(uri, f"https://bsky.app/profile/{did}/post/{rkey}")
        retry_if_transient(self.network, response)
        said = str(answer.get("message") or answer.get("error") or response.reason)[:300]
        if response.status_code == 401:
            raise PublishRejected(ours.record(ours.BLUESKY_SESSION, said=said), REAUTHORISE)
        raise PublishRejected(ours.record(ours.POST_REFUSED, network="Bluesky",
                                          code=response.status_code, said=said), CONTENT)

    def metrics(self, remote_id: str) -> Metrics:
        """``app.bsky.feed.getPosts``: likes, reposts, replies and quotes."""
        with Api(self.network, self.settings.bluesky_url, self.settings) as api:
            session = self._session(api)

            def read(session: dict[str, Any]) -> Any:
                return api.get("/xrpc/app.bsky.feed.getPosts", params={"uris": remote_id},
                               headers={"Authorization": f"Bearer {session['accessJwt']}"})

            response = read(session)
            if response.status_code in (400, 401) and json_of(response).get("error") in (
                    "ExpiredToken", "InvalidToken"):
                response = read(self._refresh(api, session))
        if response.status_code != 200:
            return unavailable(self.network, response, "app.bsky.feed.getPosts")
        posts = json_of(response).get("posts") or []
        if not posts:
            return Metrics(False, {}, "app.bsky.feed.getPosts", "the post is gone")
        p = posts[0]
        return Metrics(True, {k: int(p.get(f"{k}Count") or 0)
                              for k in ("like", "repost", "reply", "quote")},
                       "app.bsky.feed.getPosts")

    def _create(self, api: Api, session: dict[str, Any], record: dict[str, Any]) -> Any:
        return api.post("/xrpc/com.atproto.repo.createRecord",
                        headers={"Authorization": f"Bearer {session['accessJwt']}"},
                        json={"repo": session["did"], "collection": "app.bsky.feed.post",
                              "record": record})
