"""LinkedIn: ``POST /rest/posts`` as an organization, with the ``LinkedIn-Version`` and
``X-Restli-Protocol-Version: 2.0.0`` headers. The commentary is in LinkedIn's "little"
format (reserved characters escaped). The new post's URN comes back in the
``x-restli-id`` header.

LinkedIn's Posts API does not read the linked page: an article shows only what the post
gives it. So a picture goes through the Images API first (``POST
/rest/images?action=initializeUpload`` for the organisation, then a ``PUT`` of the bytes
to the ``uploadUrl`` it answers), and the post carries its ``urn:li:image``:
``content.media`` with ``altText`` for a post with its own picture, or the article's
``thumbnail`` (with ``thumbnailAltText``) for a link post whose page has a preview image.
The image URN is kept for a day, so a retried post does not upload again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from ostogether.core.errors import PublishRejected, PublishUnknown
from ostogether.social import said as ours
from ostogether.social.publishers.base import (
    CONTENT,
    DUPLICATE,
    REAUTHORISE,
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
from ostogether.social.text import linkedin_commentary

IMAGE_LIFETIME = dt.timedelta(hours=24)
# What LinkedIn answers (426) to a LinkedIn-Version it has sunset.
RETIRED = "NONEXISTENT_VERSION"
VERSION_GONE = ours.LINKEDIN_VERSION_HINT


class LinkedInPublisher(ApiPublisher):
    network = "linkedin"

    def publish(self, post: Outgoing) -> Published:
        s = self.settings
        body: dict[str, object] = {
            "author": f"urn:li:organization:{s.linkedin_organization_id}",
            "commentary": linkedin_commentary(post.text, post.mentions),
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        headers = self._headers()
        with Api(self.network, s.linkedin_api_url, s) as api:
            image, thumb = post.image, post.card_image
            if image is not None:
                ref = uploaded(self.uploads, post, image, lambda: self._upload(api, image))
                body["content"] = {"media": {"id": ref["image"], "altText": image.alt[:4086]}}
            elif post.link:
                article: dict[str, str] = {"source": post.link,
                                           "title": post.title or post.link}
                if post.description:
                    article["description"] = post.description[:4000]
                if thumb is not None:
                    ref = uploaded(self.uploads, post, thumb, lambda: self._upload(api, thumb))
                    article["thumbnail"] = ref["image"]
                    if thumb.alt:
                        article["thumbnailAltText"] = thumb.alt[:4086]
                body["content"] = {"article": article}
            response = api.post("/rest/posts", json=body, headers=headers)
        if response.status_code == 201:
            urn = response.headers.get("x-restli-id", "")
            if not urn:
                raise PublishUnknown(ours.LINKEDIN_NO_ID)
            return Published(urn, f"https://www.linkedin.com/feed/update/{quote(urn)}/")
        retry_if_transient(self.network, response)
        said = str(json_of(response).get("message", response.reason or ""))[:300]
        if response.status_code == 426 or json_of(response).get("code") == RETIRED:
            raise PublishRejected(ours.record(ours.LINKEDIN_RETIRED, version=s.linkedin_version,
                                              code=RETIRED, said=said), VERSION_GONE)
        if response.status_code == 401:
            raise PublishRejected(ours.record(ours.TOKEN_REFUSED, network="LinkedIn", code=401,
                                              said=said), REAUTHORISE)
        if response.status_code == 403:
            raise PublishRejected(ours.record(ours.PERMISSION_REFUSED, network="LinkedIn",
                                              said=said), ours.LINKEDIN_PERMISSION_HINT)
        if "duplicate" in said.lower():
            raise PublishRejected(ours.record(ours.DUPLICATE_REFUSED, network="LinkedIn",
                                              said=said), DUPLICATE)
        raise PublishRejected(ours.record(ours.POST_REFUSED, network="LinkedIn",
                                          code=response.status_code, said=said), CONTENT)

    def _headers(self) -> dict[str, str]:
        s = self.settings
        return {"Authorization": f"Bearer {s.linkedin_access_token}",
                "LinkedIn-Version": s.linkedin_version, "X-Restli-Protocol-Version": "2.0.0"}

    def _upload(self, api: Api, picture: Picture) -> tuple[dict[str, Any], dt.timedelta]:
        """The Images API: initialise for the organisation, then PUT the bytes."""
        s = self.settings
        r = api.upload("POST", "/rest/images?action=initializeUpload",
                       headers=self._headers(), json={"initializeUploadRequest": {
                           "owner": f"urn:li:organization:{s.linkedin_organization_id}"}})
        value = json_of(r).get("value") or {}
        if r.status_code != 200 or not value.get("uploadUrl") or not value.get("image"):
            raise upload_failed(self.network, r, "initializeUpload")
        image = picture.for_network(self.network)
        put = api.upload("PUT", str(value["uploadUrl"]), data=image.data, headers={
            "Authorization": f"Bearer {s.linkedin_access_token}",
            "Content-Type": image.mime})
        if put.status_code not in (200, 201):
            raise upload_failed(self.network, put, "image upload")
        return {"image": str(value["image"])}, IMAGE_LIFETIME

    def metrics(self, remote_id: str) -> Metrics:
        """``GET /rest/organizationalEntityShareStatistics`` for the post's URN: the
        organisation's share statistics (needs rw_organization_admin)."""
        s = self.settings
        org = f"urn:li:organization:{s.linkedin_organization_id}"
        kind = "ugcPosts" if ":ugcPost:" in remote_id else "shares"
        query = (f"q=organizationalEntity&organizationalEntity={quote(org, safe='')}"
                 f"&{kind}=List({quote(remote_id, safe='')})")
        headers = {"Authorization": f"Bearer {s.linkedin_access_token}",
                   "LinkedIn-Version": s.linkedin_version,
                   "X-Restli-Protocol-Version": "2.0.0"}
        with Api(self.network, s.linkedin_api_url, s) as api:
            response = api.get(f"/rest/organizationalEntityShareStatistics?{query}",
                               headers=headers)
        if response.status_code != 200:
            return unavailable(self.network, response, s.linkedin_version)
        elements = json_of(response).get("elements") or []
        if not elements:
            return Metrics(False, {}, s.linkedin_version, "LinkedIn has no statistics for "
                                                          "this post")
        stats = elements[0].get("totalShareStatistics") or {}
        keys = {"impressions": "impressionCount", "unique_impressions":
                "uniqueImpressionsCount", "clicks": "clickCount", "likes": "likeCount",
                "comments": "commentCount", "shares": "shareCount"}
        return Metrics(True, {k: int(stats.get(v) or 0) for k, v in keys.items()},
                       s.linkedin_version)
