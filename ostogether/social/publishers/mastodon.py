"""Mastodon: ``POST /api/v1/statuses`` with an ``Idempotency-Key``.

The key is the post's own, kept in the database: if an editor approves a post again
after an unknown outcome, Mastodon returns the status it already made (for an hour)
instead of posting twice.
"""

from __future__ import annotations

from ostogether.errors import PublishRejected, PublishUnknown
from ostogether.social.publishers.base import (
    CONTENT,
    REAUTHORISE,
    Api,
    ApiPublisher,
    Metrics,
    Outgoing,
    Published,
    json_of,
    retry_if_transient,
    unavailable,
)


class MastodonPublisher(ApiPublisher):
    network = "mastodon"

    def publish(self, post: Outgoing) -> Published:
        s = self.settings
        headers = {"Authorization": f"Bearer {s.mastodon_access_token}",
                   "Idempotency-Key": post.idempotency_key}
        body = {"status": post.text, "visibility": "public", "language": post.language}
        with Api(self.network, s.mastodon_url, s) as api:
            response = api.post("/api/v1/statuses", json=body, headers=headers)
        answer = json_of(response)
        if response.status_code == 200:
            if not answer.get("id"):
                raise PublishUnknown("Mastodon answered without a status id; check the "
                                     "account, then mark the post.")
            return Published(str(answer["id"]), str(answer.get("url") or ""))
        retry_if_transient(self.network, response)
        said = str(answer.get("error", response.reason or ""))[:300]
        if response.status_code in (401, 403):
            raise PublishRejected(f"Mastodon refused the token ({response.status_code}): "
                                  f"{said}", "the token needs the write:statuses scope; "
                                  + REAUTHORISE)
        raise PublishRejected(f"Mastodon refused the post ({response.status_code}): {said}",
                              CONTENT)

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
