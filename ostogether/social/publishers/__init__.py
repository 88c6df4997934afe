"""One publisher per network behind one interface (``base.Publisher``), and the choice
between a real publisher and the dry run."""

from __future__ import annotations

from pathlib import Path

from ostogether.core.settings import Settings
from ostogether.social.publishers import bluesky, dryrun, facebook, linkedin, mastodon, x
from ostogether.social.publishers.base import Publisher, SessionStore, UploadStore

CREDENTIALS = {
    "x": ("x_consumer_key", "x_consumer_secret", "x_access_token", "x_access_token_secret"),
    "facebook": ("facebook_page_id", "facebook_page_token"),
    "linkedin": ("linkedin_organization_id", "linkedin_access_token"),
    "mastodon": ("mastodon_url", "mastodon_access_token"),
    "bluesky": ("bluesky_handle", "bluesky_app_password"),
}


def configured(settings: Settings, network: str) -> bool:
    """True when every credential of ``network`` is set."""
    return all(getattr(settings, name) for name in CREDENTIALS[network])


def is_live(settings: Settings, network: str) -> bool:
    return configured(settings, network) and not settings.social_dry_run


def for_network(settings: Settings, network: str, sessions: SessionStore,
                uploads: UploadStore | None = None, outbox: Path | None = None) -> Publisher:
    """The publisher of ``network``: the real one when its credentials are set and dry
    run is off, else the dry run into var/outbox/social/. ``uploads`` keeps what a
    network gave for a picture, so a retry does not upload it again."""
    if not is_live(settings, network):
        return dryrun.DryRun(network, outbox or settings.outbox_path / "social", settings)
    if network == "x":
        return x.XPublisher(settings, uploads)
    if network == "facebook":
        return facebook.FacebookPublisher(settings, uploads)
    if network == "linkedin":
        return linkedin.LinkedInPublisher(settings, uploads)
    if network == "mastodon":
        return mastodon.MastodonPublisher(settings, uploads)
    return bluesky.BlueskyPublisher(settings, sessions, uploads)
