"""Each network's publisher against a loopback server that checks the documented request
shape: success, 429 with reset, 5xx, a timeout after the post was made, a dropped
connection, duplicate content, an expired token, and no server at all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ostogether.core import clock
from ostogether.core.errors import PublishRejected, PublishRetry, PublishUnknown
from ostogether.core.settings import Settings, load_settings
from ostogether.social.publishers import dryrun, for_network
from ostogether.social.publishers.base import DUPLICATE, REAUTHORISE, Outgoing
from ostogether.social.publishers.bluesky import BlueskyPublisher
from tests.conftest import free_port
from tests.social_fakes import BSKY_DID, FakeNetworks, env_for

NETWORKS = ("x", "facebook", "linkedin", "mastodon", "bluesky")
TEXT = {
    "x": "Open Schooling festival (Brussels) https://example.org/f #OpenSchooling",
    "facebook": "Open Schooling festival\n\nRead more: https://example.org/f",
    "linkedin": "Open Schooling festival (Brussels) *free* #OpenSchooling https://example.org/f",
    "mastodon": "Open Schooling festival https://example.org/f #OpenSchooling",
    "bluesky": "Voilà: the festival 🎉 https://example.org/festival/2027/programme #OpenSchooling",
}


class Memory:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def load(self, network: str) -> dict[str, Any]:
        return dict(self.data.get(network, {}))

    def save(self, network: str, data: dict[str, Any]) -> None:
        self.data[network] = dict(data)


# A prompt answer gets 10 s: a loaded CI machine once took over 1 s to answer a loopback
# post, and the test saw a timeout. Only the tests of a fake "timeout" fault, whose answer
# never comes, give up sooner.
def settings_for(env: dict[str, str], base: str, read_timeout: float = 10.0,
                 **extra: str) -> Settings:
    return load_settings(environ={**env, **env_for(base),
                                  "OSTOGETHER_SOCIAL_READ_TIMEOUT": str(read_timeout),
                                  "OSTOGETHER_SOCIAL_CONNECT_TIMEOUT": "5", **extra})


def outgoing(network: str, n: int = 1) -> Outgoing:
    return Outgoing(post_id=n, network=network, text=TEXT[network],
                    link="https://example.org/f?utm_source=" + network,
                    title="Open Schooling festival", description="Two days of workshops.",
                    idempotency_key=f"key-{network}-{n}")


@pytest.mark.parametrize("network", NETWORKS)
def test_a_post_is_made_with_the_documented_request(fake: FakeNetworks, env: dict[str, str],
                                                    network: str) -> None:
    settings = settings_for(env, fake.url)
    result = for_network(settings, network, Memory()).publish(outgoing(network))
    [made] = fake.posted(network)
    assert result.remote_id == made.remote_id
    if network == "x":
        assert made.body == {"text": TEXT["x"]}
        assert result.url == f"https://x.com/i/web/status/{made.remote_id}"
    elif network == "facebook":
        assert made.body["message"] == TEXT["facebook"]
        assert made.body["link"] == "https://example.org/f?utm_source=facebook"
        assert result.url == f"https://www.facebook.com/{made.remote_id}"
    elif network == "linkedin":
        assert made.body["commentary"] == ("Open Schooling festival \\(Brussels\\) \\*free\\* "
                                           "{hashtag|\\#|OpenSchooling} https://example.org/f")
        assert made.body["content"]["article"] == {
            "source": "https://example.org/f?utm_source=linkedin",
            "title": "Open Schooling festival", "description": "Two days of workshops."}
        assert made.remote_id.startswith("urn:li:share:")
        urn = made.remote_id.replace(":", "%3A")
        assert result.url == f"https://www.linkedin.com/feed/update/{urn}/"
    elif network == "mastodon":
        assert made.body == {"status": TEXT["mastodon"], "visibility": "public",
                             "language": "en"}
        path, headers, _ = fake.requests[-1]
        assert headers["idempotency-key"] == "key-mastodon-1"
    else:
        record = made.body["record"]
        assert record["text"] == "Voilà: the festival 🎉 example.org/festival/2027/p... " \
                                 "#OpenSchooling"
        link = record["facets"][0]
        assert link["features"][0]["uri"] == "https://example.org/festival/2027/programme"
        raw = record["text"].encode()
        assert raw[link["index"]["byteStart"]:link["index"]["byteEnd"]].decode() == \
            "example.org/festival/2027/p..."
        assert record["embed"]["external"]["uri"] == "https://example.org/f?utm_source=bluesky"
        assert record["langs"] == ["en"]
        rkey = made.remote_id.rsplit("/", 1)[1]
        assert result.url == f"https://bsky.app/profile/{BSKY_DID}/post/{rkey}"


@pytest.mark.parametrize("network", NETWORKS)
def test_429_is_retried_at_the_networks_reset_time(fake: FakeNetworks, env: dict[str, str],
                                                   network: str) -> None:
    fake.faults[network] = ["429"]
    settings = settings_for(env, fake.url)
    with pytest.raises(PublishRetry) as caught:
        for_network(settings, network, Memory()).publish(outgoing(network))
    assert fake.posted() == []
    if network != "facebook":  # Graph gives no reset time; the usual backoff applies
        assert caught.value.retry_at is not None
        assert abs((caught.value.retry_at - clock.now()).total_seconds() - 90) < 5


@pytest.mark.parametrize("network", NETWORKS)
def test_5xx_is_a_retry(fake: FakeNetworks, env: dict[str, str], network: str) -> None:
    fake.faults[network] = ["500"]
    with pytest.raises(PublishRetry, match="server error|temporary"):
        for_network(settings_for(env, fake.url), network, Memory()).publish(outgoing(network))
    assert fake.posted() == []


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("fault", ["timeout", "drop"])
def test_no_answer_after_the_post_was_made_is_unknown(fake: FakeNetworks, env: dict[str, str],
                                                      network: str, fault: str) -> None:
    fake.faults[network] = [fault]
    with pytest.raises(PublishUnknown, match="may be live"):
        for_network(settings_for(env, fake.url, read_timeout=1), network,
                     Memory()).publish(outgoing(network))
    assert len(fake.posted(network)) == 1  # it was made: retrying would double it


@pytest.mark.parametrize("network", ["x", "facebook", "linkedin"])
def test_duplicate_content_fails_with_a_hint(fake: FakeNetworks, env: dict[str, str],
                                             network: str) -> None:
    fake.faults[network] = ["duplicate"]
    with pytest.raises(PublishRejected, match="duplicate") as caught:
        for_network(settings_for(env, fake.url), network, Memory()).publish(outgoing(network))
    assert caught.value.hint == DUPLICATE


@pytest.mark.parametrize("network", ["x", "facebook", "linkedin", "mastodon"])
def test_expired_token_asks_to_reauthorise(fake: FakeNetworks, env: dict[str, str],
                                           network: str) -> None:
    fake.faults[network] = ["expired"]
    with pytest.raises(PublishRejected) as caught:
        for_network(settings_for(env, fake.url), network, Memory()).publish(outgoing(network))
    assert REAUTHORISE in caught.value.hint
    assert fake.posted() == []


def test_bluesky_session_is_reused_refreshed_and_renewed(fake: FakeNetworks,
                                                         env: dict[str, str]) -> None:
    sessions = Memory()
    settings = settings_for(env, fake.url)
    publisher = BlueskyPublisher(settings, sessions)
    publisher.publish(outgoing("bluesky", 1))
    publisher.publish(outgoing("bluesky", 2))
    BlueskyPublisher(settings, sessions).publish(outgoing("bluesky", 3))  # a later run
    assert fake.logins == 1 and fake.refreshes == 0
    # The server expires the access token: the post is refused, refreshed, then made.
    fake.tokens[sessions.data["bluesky"]["accessJwt"]] = ("access", clock.timestamp() - 1)
    publisher.publish(outgoing("bluesky", 4))
    assert fake.refreshes == 1 and fake.logins == 1
    # An access token about to expire is refreshed before posting.
    fake.access_ttl = 30
    fake.tokens.clear()
    sessions.data.clear()
    publisher.publish(outgoing("bluesky", 5))  # logs in, gets a 30 s token
    publisher.publish(outgoing("bluesky", 6))  # refreshes first (under 60 s left)
    assert fake.logins == 2 and fake.refreshes == 2
    assert len(fake.posted("bluesky")) == 6


def test_bluesky_refused_app_password_asks_to_reauthorise(fake: FakeNetworks,
                                                          env: dict[str, str]) -> None:
    settings = settings_for(env, fake.url, OSTOGETHER_BLUESKY_APP_PASSWORD="wrong")
    with pytest.raises(PublishRejected, match="refused the login") as caught:
        BlueskyPublisher(settings, Memory()).publish(outgoing("bluesky"))
    assert "app password" in caught.value.hint


@pytest.mark.parametrize("network", NETWORKS)
def test_no_server_is_a_retry_not_unknown(env: dict[str, str], network: str) -> None:
    settings = settings_for(env, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(PublishRetry, match="Could not connect"):
        for_network(settings, network, Memory()).publish(outgoing(network))


def test_without_credentials_a_network_is_dry_run_into_the_outbox(settings: Settings) -> None:
    publisher = for_network(settings, "bluesky", Memory())
    assert isinstance(publisher, dryrun.DryRun)
    result = publisher.publish(outgoing("bluesky", 7))
    written = json.loads((settings.outbox_path / "social" / "000007-bluesky.json").read_text())
    assert result.remote_id == "dryrun:000007-bluesky.json"
    assert written["text"] == TEXT["bluesky"] and written["fits"] is True
    assert written["facets"][0]["features"][0]["uri"].startswith("https://example.org/")


def test_dry_run_setting_wins_over_credentials(fake: FakeNetworks, env: dict[str, str]) -> None:
    settings = settings_for(env, fake.url, OSTOGETHER_SOCIAL_DRY_RUN="true")
    assert isinstance(for_network(settings, "x", Memory()), dryrun.DryRun)
