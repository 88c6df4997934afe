"""X: tweepy's ``Client.create_tweet`` (POST /2/tweets) with OAuth 1.0a user context.

tweepy always calls https://api.twitter.com; a transport adapter sends its requests to
``x_api_url`` instead (the signature stays the one for the documented URL) and applies
the settings' timeouts. ``wait_on_rate_limit`` stays off: a 429 becomes a retry at the
reset time, and the worker never sleeps inside a request.

A picture goes first to the v2 media endpoint, ``POST /2/media/upload`` (multipart
``media`` with ``media_category=tweet_image``; tweepy 4 only has the v1.1 one, which X
is retiring), signed with the same OAuth 1.0a keys through requests-oauthlib; its
description goes to ``POST /2/media/metadata`` as ``alt_text``. The media id is kept
for ``expires_after_secs`` (a day), so a retried post does not upload again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

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
    Picture,
    Published,
    json_of,
    sorted_failure,
    upload_failed,
    uploaded,
)

TWEEPY_HOST = "https://api.twitter.com"


class _Rebase(HTTPAdapter):
    def __init__(self, base: str, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.base, self.timeout = base.rstrip("/"), timeout

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        if request.url and request.url.startswith(TWEEPY_HOST):
            request.url = self.base + request.url[len(TWEEPY_HOST):]
        return super().send(request, stream=stream, timeout=self.timeout, verify=verify,
                            cert=cert, proxies=proxies)


class XPublisher(ApiPublisher):
    network = "x"

    def _client(self) -> tweepy.Client:
        s = self.settings
        client = tweepy.Client(consumer_key=s.x_consumer_key,
                               consumer_secret=s.x_consumer_secret,
                               access_token=s.x_access_token,
                               access_token_secret=s.x_access_token_secret,
                               wait_on_rate_limit=False)
        adapter = _Rebase(s.x_api_url, (s.social_connect_timeout, s.social_read_timeout))
        session = requests.Session()
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        client.session = session
        return client

    def metrics(self, remote_id: str) -> Metrics:
        return _metrics(self._client(), remote_id)

    def _upload(self, picture: Picture) -> tuple[dict[str, Any], dt.timedelta]:
        s = self.settings
        image = picture.for_network(self.network)
        auth = OAuth1(s.x_consumer_key, s.x_consumer_secret, s.x_access_token,
                      s.x_access_token_secret)
        with Api(self.network, s.x_api_url, s) as api:
            r = api.upload("POST", "/2/media/upload", auth=auth,
                           data={"media_category": "tweet_image"},
                           files={"media": (picture.name, image.data, image.mime)})
            data = json_of(r).get("data") or {}
            if r.status_code not in (200, 201) or not data.get("id"):
                raise upload_failed(self.network, r, "media upload")
            media_id = str(data["id"])
            if picture.alt:
                m = api.upload("POST", "/2/media/metadata", auth=auth, json={
                    "id": media_id, "metadata": {"alt_text": {"text": picture.alt[:1000]}}})
                if m.status_code not in (200, 201):
                    raise upload_failed(self.network, m, "image description")
        lifetime = int(data.get("expires_after_secs") or 86400)
        return {"media_id": media_id}, dt.timedelta(seconds=max(60, lifetime - 600))

    def publish(self, post: Outgoing) -> Published:
        media_ids = None
        image = post.image
        if image is not None:
            ref = uploaded(self.uploads, post, image, lambda: self._upload(image))
            media_ids = [ref["media_id"]]
        client = self._client()
        try:
            response = client.create_tweet(text=post.text, media_ids=media_ids,
                                           user_auth=True)
        except tweepy.TooManyRequests as exc:
            at = (dt.datetime.fromtimestamp(exc.reset_time, dt.UTC)
                  if exc.reset_time is not None else None)
            raise PublishRetry(ours.record(ours.RATE_LIMITED, network="X"), at) from exc
        except tweepy.TwitterServerError as exc:
            raise PublishRetry(ours.record(ours.SERVER_ERROR, network="X",
                                           code=exc.response.status_code)) from exc
        except tweepy.Unauthorized as exc:
            raise PublishRejected(ours.record(ours.X_CREDENTIALS, said=_said(exc)),
                                  REAUTHORISE) from exc
        except tweepy.Forbidden as exc:
            said = _said(exc)
            if "duplicate" in said.lower():
                raise PublishRejected(ours.record(ours.DUPLICATE_REFUSED, network="X",
                                                  said=said), DUPLICATE) from exc
            raise PublishRejected(ours.record(ours.POST_REFUSED, network="X", code=403,
                                              said=said), ours.X_PERMISSION) from exc
        except tweepy.HTTPException as exc:
            raise PublishRejected(ours.record(ours.POST_REFUSED, network="X",
                                              code=exc.response.status_code,
                                              said=_said(exc)), CONTENT) from exc
        except requests.RequestException as exc:
            raise sorted_failure(self.network, exc) from exc
        finally:
            client.session.close()
        data: dict[str, Any] = response.data or {}
        tweet_id = str(data.get("id", ""))
        if not tweet_id:
            raise PublishUnknown(ours.X_NO_ID)
        return Published(tweet_id, f"https://x.com/i/web/status/{tweet_id}")


def _said(exc: tweepy.HTTPException) -> str:
    parts = list(exc.api_messages) or [exc.response.reason or ""]
    return "; ".join(str(p) for p in parts)[:300]


def _metrics(client: tweepy.Client, remote_id: str) -> Metrics:
    """``GET /2/tweets/:id`` with ``tweet.fields=public_metrics`` (user context)."""
    try:
        response = client.get_tweet(remote_id, tweet_fields=["public_metrics"], user_auth=True)
    except tweepy.TooManyRequests as exc:
        raise PublishRetry("X limits the rate of reads (429); the figures are taken at the "
                           "next run.") from exc
    except tweepy.TwitterServerError as exc:
        raise PublishRetry(f"X had a server error ({_said(exc)}).") from exc
    except (tweepy.Forbidden, tweepy.Unauthorized, tweepy.NotFound) as exc:
        return Metrics(False, {}, "2", f"{exc.response.status_code}: {_said(exc)}"[:300])
    except requests.RequestException as exc:
        raise PublishRetry(f"Could not read from X: {exc.__class__.__name__}.") from exc
    data = response.data
    found = (data.data if hasattr(data, "data") else data) or {}
    public = found.get("public_metrics") if isinstance(found, dict) else None
    if not isinstance(public, dict):
        return Metrics(False, {}, "2", "X gave no public metrics for this post")
    return Metrics(True, {k.removesuffix("_count"): int(v or 0) for k, v in public.items()},
                   "2")
