"""Facebook Page: Graph API ``POST /{version}/{page-id}/feed`` with a Page token.

A post without a picture is a message with a link (Facebook builds the card from the
page's Open Graph tags). A post with a picture is a photo post, ``POST
/{version}/{page-id}/photos`` with the picture as the multipart ``source`` and the text
as its ``message`` and the picture's description as ``alt_text_custom`` (the Photo
node's field for custom alt text): one request, so there is no separate upload to keep.
Errors come as ``{"error": {"code", "error_subcode", "message"}}``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.social import said as ours
from ostogether.social.publishers.base import (
    CONTENT,
    DUPLICATE,
    REAUTHORISE,
    Api,
    ApiPublisher,
    Metrics,
    Outgoing,
    Published,
    json_of,
    reset_time,
    unavailable,
)

RATE_LIMIT_CODES = {4, 17, 32, 613, 80001}
TRANSIENT_CODES = {1, 2}
AUTH_CODES = {102, 190}
PERMISSION_CODES = {10, 200}
DUPLICATE_CODE = 506
RETIRED_CODE = 2635  # "(#2635) You are calling a deprecated version of the … API"


class FacebookPublisher(ApiPublisher):
    network = "facebook"

    def publish(self, post: Outgoing) -> Published:
        s = self.settings
        body = {"message": post.text, "access_token": s.facebook_page_token}
        files = None
        if post.image is not None:
            path = f"/{s.facebook_api_version}/{s.facebook_page_id}/photos"
            image = post.image.for_network(self.network)
            files = {"source": (post.image.name, image.data, image.mime)}
            body["published"] = "true"
            if post.image.alt:
                body["alt_text_custom"] = post.image.alt[:1000]
        else:
            path = f"/{s.facebook_api_version}/{s.facebook_page_id}/feed"
            if post.link:
                body["link"] = post.link
        with Api(self.network, s.facebook_graph_url, s) as api:
            response = api.post(path, data=body, files=files)
        answer = json_of(response)
        # A photo post answers with the photo's id and the feed post's ``post_id``.
        post_id = str(answer.get("post_id") or answer.get("id") or "")
        if response.status_code == 200 and post_id:
            return Published(post_id, f"https://www.facebook.com/{post_id}")
        raw = answer.get("error")
        error = raw if isinstance(raw, dict) else {}
        code = error.get("code")
        said = str(error.get("message", response.reason or ""))[:300]
        if code in RATE_LIMIT_CODES or response.status_code == 429:
            raise PublishRetry(ours.record(ours.FACEBOOK_RATE, code=str(code), said=said),
                               reset_time(response) or _regain_at(response))
        if code in TRANSIENT_CODES or (response.status_code >= 500 and code is None):
            raise PublishRetry(ours.record(ours.FACEBOOK_TEMPORARY,
                                           code=response.status_code, said=said))
        if code in AUTH_CODES:
            raise PublishRejected(ours.record(ours.FACEBOOK_TOKEN, said=said), REAUTHORISE)
        if code in PERMISSION_CODES:
            raise PublishRejected(ours.record(ours.FACEBOOK_PERMISSION, said=said),
                                  ours.FACEBOOK_PERMISSION_HINT)
        if code == DUPLICATE_CODE:
            raise PublishRejected(ours.record(ours.DUPLICATE_REFUSED, network="Facebook",
                                              said=said), DUPLICATE)
        if code == RETIRED_CODE or "deprecated version" in said.lower():
            raise PublishRejected(ours.record(ours.FACEBOOK_RETIRED,
                                              version=s.facebook_api_version, said=said),
                                  ours.FACEBOOK_VERSION_HINT)
        if response.status_code == 200:
            raise PublishUnknown(ours.FACEBOOK_NO_ID)
        raise PublishRejected(ours.record(ours.FACEBOOK_REFUSED, status=response.status_code,
                                          code=str(code), said=said), CONTENT)


    def metrics(self, remote_id: str) -> Metrics:
        """``GET /{post-id}`` with the reactions' and comments' summaries and the shares
        (needs pages_read_engagement)."""
        s = self.settings
        fields = ("reactions.summary(total_count).limit(0),"
                  "comments.summary(total_count).limit(0),shares")
        with Api(self.network, s.facebook_graph_url, s) as api:
            response = api.get(f"/{s.facebook_api_version}/{remote_id}",
                               params={"fields": fields, "access_token": s.facebook_page_token})
        answer = json_of(response)
        if response.status_code != 200:
            raw = answer.get("error")
            error: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if error.get("code") in RATE_LIMIT_CODES or error.get("code") in TRANSIENT_CODES:
                raise PublishRetry(f"Facebook could not give the figures now: "
                                   f"{error.get('message', '')}"[:300])
            return unavailable(self.network, response, s.facebook_api_version,
                               str(error.get("message", "")))

        def total(key: str) -> int:
            part = answer.get(key)
            return int(part.get("summary", {}).get("total_count") or 0) if isinstance(
                part, dict) else 0

        shares = answer.get("shares")
        return Metrics(True, {"reactions": total("reactions"), "comments": total("comments"),
                              "shares": int(shares.get("count") or 0)
                              if isinstance(shares, dict) else 0}, s.facebook_api_version)


def _regain_at(response: object) -> dt.datetime | None:
    """Facebook's Business Use Case header gives minutes until access is regained."""
    header = getattr(response, "headers", {}).get("X-Business-Use-Case-Usage", "")
    try:
        usage = json.loads(header) if header else {}
        minutes = max(int(entry.get("estimated_time_to_regain_access", 0))
                      for entries in usage.values() for entry in entries)
    except (ValueError, TypeError, AttributeError):
        return None
    return clock.now() + dt.timedelta(minutes=minutes) if minutes else None
