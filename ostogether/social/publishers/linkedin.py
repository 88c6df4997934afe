"""LinkedIn: ``POST /rest/posts`` as an organization, with the ``LinkedIn-Version`` and
``X-Restli-Protocol-Version: 2.0.0`` headers. The commentary is in LinkedIn's "little"
format (reserved characters escaped); the link becomes an article card. The new post's
URN comes back in the ``x-restli-id`` header.
"""

from __future__ import annotations

from urllib.parse import quote

from ostogether.errors import PublishRejected, PublishUnknown
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
    retry_if_transient,
    unavailable,
)
from ostogether.social.text import linkedin_commentary


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
        if post.link:
            article = {"source": post.link, "title": post.title or post.link}
            if post.description:
                article["description"] = post.description[:4000]
            body["content"] = {"article": article}
        headers = {"Authorization": f"Bearer {s.linkedin_access_token}",
                   "LinkedIn-Version": s.linkedin_version,
                   "X-Restli-Protocol-Version": "2.0.0"}
        with Api(self.network, s.linkedin_api_url, s) as api:
            response = api.post("/rest/posts", json=body, headers=headers)
        if response.status_code == 201:
            urn = response.headers.get("x-restli-id", "")
            if not urn:
                raise PublishUnknown("LinkedIn answered without the post's id; check the "
                                     "Page, then mark the post.")
            return Published(urn, f"https://www.linkedin.com/feed/update/{quote(urn)}/")
        retry_if_transient(self.network, response)
        said = str(json_of(response).get("message", response.reason or ""))[:300]
        if response.status_code == 401:
            raise PublishRejected(f"LinkedIn refused the token (401): {said}", REAUTHORISE)
        if response.status_code == 403:
            raise PublishRejected(f"LinkedIn refused the permission (403): {said}",
                                  "the token needs w_organization_social and an admin of "
                                  "the Page; " + REAUTHORISE)
        if "duplicate" in said.lower():
            raise PublishRejected(f"LinkedIn refused a duplicate post: {said}", DUPLICATE)
        raise PublishRejected(f"LinkedIn refused the post ({response.status_code}): {said}",
                              CONTENT)

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
