"""Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``.

The key is the post's own, kept in the database: if an editor approves a post again
after an unknown outcome, Mastodon returns the status it already made (for an hour)
instead of posting twice.

A picture goes first to ``POST /api/v2/media`` (multipart ``file`` with its
``description``). Mastodon answers 200 when it is ready, or 202 while it is still
processing; then ``GET /api/v1/media/:id`` answers 206 until it is ready. The wait is
short (``WAITS``); a picture still processing after it makes the post a retry at the
next run, with the media id kept, so the picture is not uploaded again. An unattached
upload is removed by Mastodon after a day; the id is kept for less.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.social import said as ours
from ostogether.social.publishers.base import (
    CONTENT,
    Api,
    ApiPublisher,
    Metrics,
    Outgoing,
    Picture,
    Published,
    json_of,
    retry_if_transient,
    unavailable,
    upload_failed,
    uploaded,
)

WAITS = (0.2, 0.5, 1.0, 2.0)  # seconds between asking whether the picture is ready
MEDIA_LIFETIME = dt.timedelta(hours=20)


class MastodonPublisher(ApiPublisher):
    network = "mastodon"

    def publish(self, post: Outgoing) -> Published:
        s = self.settings
        headers = {"Authorization": f"Bearer {s.mastodon_access_token}",
                   "Idempotency-Key": post.idempotency_key}
        body: dict[str, Any] = {"status": post.text, "visibility": "public",
                                "language": post.language}
        with Api(self.network, s.mastodon_url, s) as api:
            image = post.image
            if image is not None:
                ref = uploaded(self.uploads, post, image, lambda: self._upload(api, image))
                if not ref.get("ready"):
                    self._wait_ready(api, ref["id"])
                body["media_ids"] = [ref["id"]]
            response = api.post("/api/v1/statuses", json=body, headers=headers)
        answer = json_of(response)
        if response.status_code == 200:
            if not answer.get("id"):
                raise PublishUnknown(ours.MASTODON_NO_ID)
            return Published(str(answer["id"]), str(answer.get("url") or ""))
        retry_if_transient(self.network, response)
        said = str(answer.get("error", response.reason or ""))[:300]
        if response.status_code in (401, 403):
            raise PublishRejected(ours.record(ours.TOKEN_REFUSED, network="Mastodon",
                                              code=response.status_code, said=said),
                                  ours.MASTODON_SCOPES)
        raise PublishRejected(ours.record(ours.POST_REFUSED, network="Mastodon",
                                          code=response.status_code, said=said), CONTENT)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.mastodon_access_token}"}

    def _upload(self, api: Api, picture: Picture) -> tuple[dict[str, Any], dt.timedelta]:
        image = picture.for_network(self.network)
        r = api.upload("POST", "/api/v2/media", headers=self._auth(),
                       data={"description": picture.alt[:1500]},
                       files={"file": (picture.name, image.data, image.mime)})
        answer = json_of(r)
        if r.status_code not in (200, 202) or not answer.get("id"):
            raise upload_failed(self.network, r, "media upload")
        return {"id": str(answer["id"]), "ready": r.status_code == 200}, MEDIA_LIFETIME

    def _wait_ready(self, api: Api, media_id: str) -> None:
        """Until ``GET /api/v1/media/:id`` answers 200 (206: still processing)."""
        for wait in (0.0, *WAITS):
            if wait:
                clock.sleep(wait)
            r = api.get(f"/api/v1/media/{media_id}", headers=self._auth())
            if r.status_code == 200:
                return
            if r.status_code != 206:
                raise upload_failed(self.network, r, "media status")
        raise PublishRetry(ours.MASTODON_PROCESSING)

    def metrics(self, remote_id: str) -> Metrics:
        """``GET /api/v1/statuses/:id``: favourites, reblogs and replies."""
        s = self.settings
        with Api(self.network, s.mastodon_url, s) as api:
            response = api.get(f"/api/v1/statuses/{remote_id}",
                               headers={"Authorization": f"Bearer {s.mastodon_access_token}"})
        if response.status_code != 200:
            return unavailable(self.network, response, "v1")
        a = json_of(response)
        return Metrics(True, {k: int(a.get(f"{k}_count") or 0)
                              for k in ("favourites", "reblogs", "replies")}, "v1")
