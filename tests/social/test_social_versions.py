"""The networks' API versions age. The defaults are versions in service, each with its
documented end of life beside it; editors are warned 60 days before (the Social page,
`ostogether config`); and the fake networks, which serve the settings' versions, refuse a
retired one as LinkedIn and Meta do. Every date here is set on the test clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from ostogether.core.errors import PublishRejected
from ostogether.core.settings import Settings, load_settings
from ostogether.social import versions
from ostogether.social.publishers import for_network
from ostogether.social.publishers.base import Outgoing
from tests.conftest import run
from tests.social_fakes import DEFAULTS, FB_VERSION, LI_VERSION, FakeNetworks, env_for

END = {"linkedin": dt.date.fromisoformat(str(DEFAULTS["linkedin_version_end"])),
       "facebook": dt.date.fromisoformat(str(DEFAULTS["facebook_api_version_end"]))}
NAME = {"linkedin": "LinkedIn API", "facebook": "Facebook Graph API"}
VERSION = {"linkedin": LI_VERSION, "facebook": FB_VERSION}
NOON = dt.time(12, tzinfo=dt.UTC)


class Memory:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def load(self, network: str) -> dict[str, Any]:
        return dict(self.data.get(network, {}))

    def save(self, network: str, data: dict[str, Any]) -> None:
        self.data[network] = dict(data)


def outgoing(network: str) -> Outgoing:
    return Outgoing(post_id=1, network=network, text="Open Schooling festival",
                    link="https://example.org/f", title="Festival", description="",
                    idempotency_key=f"key-{network}")


def live(env: dict[str, str], fake: FakeNetworks, **extra: str) -> Settings:
    return load_settings(environ={**env, **env_for(fake.url), **extra,
                                  "OSTOGETHER_SOCIAL_READ_TIMEOUT": "10"})


def test_the_defaults_are_in_service_and_the_fakes_serve_them() -> None:
    """The versions the service sends are the ones the fake expects (read from the same
    settings table), and neither is the version that was retired on 15 October 2026."""
    s = Settings()
    assert (s.linkedin_version, s.facebook_api_version) == (LI_VERSION, FB_VERSION)
    assert s.linkedin_version != "202510" and s.facebook_api_version != "v21.0"
    assert END["linkedin"] > dt.date(2026, 12, 6) + dt.timedelta(days=versions.WARN_DAYS)
    assert END["facebook"] > dt.date(2026, 12, 6) + dt.timedelta(days=versions.WARN_DAYS)


@pytest.mark.parametrize("network", ["linkedin", "facebook"])
def test_a_retired_version_is_refused_as_the_network_refuses_it(
        fake: FakeNetworks, env: dict[str, str], test_clock: Any, network: str) -> None:
    settings = live(env, fake)
    test_clock.set(dt.datetime.combine(END[network] - dt.timedelta(days=1), NOON))
    assert for_network(settings, network, Memory()).publish(outgoing(network)).remote_id
    # The day the version ends, the network no longer serves it, and says so.
    test_clock.set(dt.datetime.combine(END[network], NOON))
    with pytest.raises(PublishRejected) as caught:
        for_network(settings, network, Memory()).publish(outgoing(network))
    key = "LINKEDIN_VERSION" if network == "linkedin" else "FACEBOOK_API_VERSION"
    assert f"OSTOGETHER_{key}" in caught.value.hint
    assert VERSION[network] in str(caught.value)
    assert len(fake.posted(network)) == 1  # only the post of the day before


def test_the_fakes_answer_in_the_documented_shapes(fake: FakeNetworks, env: dict[str, str],
                                                   test_clock: Any) -> None:
    """LinkedIn sunset 202510 on 15 October 2026 (its migrations page); Graph v20.0 went on
    24 September 2026 (the changelog). Configured anyway, both are refused."""
    import requests

    test_clock.set(dt.datetime(2026, 10, 16, 9, tzinfo=dt.UTC))
    r = requests.post(fake.url + "/rest/posts", json={}, timeout=10, headers={
        "LinkedIn-Version": "202510", "X-Restli-Protocol-Version": "2.0.0",
        "Authorization": "Bearer li-token"})
    assert r.status_code == 426
    assert r.json() == {"status": 426, "code": "NONEXISTENT_VERSION",
                        "message": "Requested version 20251001 is not active"}
    r = requests.post(fake.url + "/v20.0/4242/feed", data={"message": "x"}, timeout=10)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "OAuthException" and error["code"] == 2635
    assert "deprecated version" in error["message"]
    settings = live(env, fake, OSTOGETHER_LINKEDIN_VERSION="202510",
                    OSTOGETHER_FACEBOOK_API_VERSION="v20.0")
    for network in ("linkedin", "facebook"):
        with pytest.raises(PublishRejected, match="no longer serves"):
            for_network(settings, network, Memory()).publish(outgoing(network))
    assert fake.posted() == []


@pytest.mark.parametrize("network", ["linkedin", "facebook"])
def test_the_warning_comes_60_days_before_the_end(settings: Settings, network: str) -> None:
    end = END[network]
    assert versions.warning(settings, network, end - dt.timedelta(days=61)) == ""
    warned = versions.warning(settings, network, end - dt.timedelta(days=59))
    assert f"The {NAME[network]} version {VERSION[network]} is retired on " \
           f"{end:%-d %B %Y}, in 59 day(s)" in warned
    gone = versions.warning(settings, network, end + dt.timedelta(days=1))
    assert f"was retired on {end:%-d %B %Y}" in gone
    # An end that is not known warns about nothing.
    key = "linkedin_version_end" if network == "linkedin" else "facebook_api_version_end"
    assert versions.warning(dataclasses.replace(settings, **{key: ""}), network,
                            end + dt.timedelta(days=1)) == ""


@pytest.mark.parametrize("days, shown", [(61, False), (59, True)])
def test_the_social_page_warns_before_linkedins_version_ends(
        editor: Any, test_clock: Any, days: int, shown: bool) -> None:
    test_clock.set(dt.datetime.combine(END["linkedin"] - dt.timedelta(days=days), NOON))
    page = editor.get("/editors/social/").get_data(as_text=True)
    found = f"The LinkedIn API version {LI_VERSION} is retired on" in page
    assert found is shown
    assert ("The Facebook Graph API version" in page) is False  # its end is further off


@pytest.mark.parametrize("days, shown", [(61, False), (59, True)])
def test_config_warns_before_facebooks_version_ends(
        env: dict[str, str], test_clock: Any, days: int, shown: bool) -> None:
    test_clock.set(dt.datetime.combine(END["facebook"] - dt.timedelta(days=days), NOON))
    r = run(env, "config")
    assert r.returncode == 0, r.stderr
    line = f"Warning: The Facebook Graph API version {FB_VERSION} is retired on"
    assert (line in " ".join(r.stdout.split())) is shown
    r = run(env, "config", "--format", "json")
    assert (line in " ".join(r.stderr.split())) is shown  # JSON on stdout stays JSON


def test_a_version_end_that_is_not_a_date_is_refused_at_start(env: dict[str, str]) -> None:
    r = run({**env, "OSTOGETHER_LINKEDIN_VERSION_END": "July 2027"}, "config")
    assert r.returncode != 0
    assert "OSTOGETHER_LINKEDIN_VERSION_END: expected a date like 2026-12-31, got " \
           "'July 2027'." in r.stderr
