"""The one table of settings, and how they are loaded.

Each field of ``Settings`` is a row of the table: its name, its type (the annotation),
its default and its help (the metadata). Values are loaded in this order, each layer
overriding the one before:

1. the defaults below,
2. an optional TOML file (``--config`` or ``OSTOGETHER_CONFIG``),
3. ``OSTOGETHER_<NAME>`` environment variables.

Secrets may only come from the environment, so they never end up in a file that is
copied around. A bad value stops the program at start with one line naming the setting
and what it expects. This module is pure apart from reading the file and the
environment it is handed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ostogether.core.errors import ConfigError
from ostogether.core.fetch_rules import Limits, parse_allow

ENV_PREFIX = "OSTOGETHER_"
# Environment names that start with the prefix but are not settings.
ENV_NOT_SETTINGS = {"OSTOGETHER_CONFIG", "OSTOGETHER_TEST_DATABASE_URL"}


def _s(help: str, *, secret: bool = False, choices: tuple[str, ...] = (),
       min: float | None = None, max: float | None = None) -> dict[str, Any]:
    return {"help": help, "secret": secret, "choices": choices, "min": min, "max": max}


@dataclass(frozen=True)
class Settings:
    """Every setting of the service. Read ``docs/configuration.md`` for the same table."""

    # -- where things live
    home: Path = field(default=Path("."), metadata=_s(
        "Folder holding the community's content/, templates/ and schedules/. "
        "Relative paths in other settings are resolved against it."))
    var_dir: Path = field(default=Path("var"), metadata=_s(
        "Folder for runtime state: the SQLite database, the outbox, the generated secret key."))
    env: str = field(default="development", metadata=_s(
        "development or production. Production refuses to start without an explicit "
        "secret key and marks cookies Secure.", choices=("development", "production")))
    log_level: str = field(default="INFO", metadata=_s(
        "Lowest level of log lines written.", choices=("DEBUG", "INFO", "WARNING", "ERROR")))
    log_format: str = field(default="text", metadata=_s(
        "text for people, or json: one JSON object per line (time, level, logger, message "
        "and the event's fields) for a log collector.", choices=("text", "json")))

    # -- database
    database_url: str = field(default="sqlite:///var/ostogether.db", metadata=_s(
        "SQLAlchemy URL of the database. SQLite paths are relative to `home`; "
        "PostgreSQL looks like postgresql+psycopg://user@host:5432/dbname."))
    database_timeout: float = field(default=10.0, metadata=_s(
        "Seconds to wait for a locked SQLite database or a PostgreSQL connection.",
        min=0.1, max=300))

    # -- web
    host: str = field(default="127.0.0.1", metadata=_s("Address `ostogether serve` listens on."))
    port: int = field(default=8000, metadata=_s(
        "Port `ostogether serve` listens on.", min=1, max=65535))
    base_url: str = field(default="", metadata=_s(
        "Public address of the site, used in links inside mails. Set it in production. "
        "When it is not set, the address `serve` listens on (recorded in var/served_url, "
        "so the CLI and the worker use it too), else http://HOST:PORT."))
    secret_key: str = field(default="", metadata=_s(
        "Signs sessions, CSRF tokens and mail links. In development it is generated once "
        "into var/secret_key (mode 0600); production requires it.", secret=True))
    public_cache_seconds: float = field(default=10.0, metadata=_s(
        "How long each web process keeps a copy of a public page (home, registry, archive, "
        "feeds) for visitors who are not logged in; 0 turns it off. Editors always see "
        "live pages.", min=0, max=3600))
    max_request_bytes: int = field(default=1_000_000, metadata=_s(
        "Largest request body accepted, in bytes.", min=1024, max=100_000_000))
    login_max_failures: int = field(default=5, metadata=_s(
        "Failed logins allowed for one account from one IP address before each further "
        "try must wait (30 s, doubling); ten times as many from one address across "
        "accounts. An account is never locked from everywhere.", min=1, max=1000))
    login_window_seconds: int = field(default=900, metadata=_s(
        "The longest wait between failed logins, in seconds.", min=1, max=86400))
    trusted_proxies: int = field(default=0, metadata=_s(
        "Reverse proxies in front of the service (nginx: 1). Their X-Forwarded-For and "
        "X-Forwarded-Proto headers then give each visitor's own address, which the rate "
        "limits use; with 0 those headers are ignored, as anyone can send them.",
        min=0, max=5))
    ratelimit_ipv6_prefix: int = field(default=64, metadata=_s(
        "Every rate limit counts an IPv6 client by its network of this many bits (a /64 "
        "is one household's or one machine's, which may use any address in it); an IPv4 "
        "client by its address.", min=32, max=128))
    application_max_per_hour: int = field(default=10, metadata=_s(
        "Project applications accepted per client (an IPv4 address, an IPv6 network: "
        "ratelimit_ipv6_prefix) and hour.", min=1, max=10000))

    # -- news, API and feeds
    api_max_per_minute: int = field(default=60, metadata=_s(
        "API requests allowed per token and minute.", min=1, max=100000))
    api_max_body_bytes: int = field(default=65536, metadata=_s(
        "Largest JSON body the API accepts, in bytes.", min=1024, max=10_000_000))
    invite_max_age_hours: int = field(default=168, metadata=_s(
        "How long an invitation or password link in a mail stays valid, in hours.",
        min=1, max=2160))
    fetch_allow: str = field(default="", metadata=_s(
        "Addresses that member-given URLs may reach although they are not public: a "
        "comma-separated list of host, host:port or CIDR ranges (intranet.example:8080, "
        "10.1.0.0/16). Empty: only public internet addresses are fetched. See "
        "docs/operations.md#the-outbound-guard."))
    fetch_max_redirects: int = field(default=5, metadata=_s(
        "Redirects followed when fetching a member-given URL; each target is checked "
        "again.", min=0, max=20))
    feed_connect_timeout: float = field(default=5.0, metadata=_s(
        "Seconds to wait for a feed's server to accept the connection.", min=0.1, max=120))
    feed_read_timeout: float = field(default=10.0, metadata=_s(
        "Seconds to wait for each read from a feed's server, and at most twice that for "
        "the whole body.", min=0.1, max=300))
    feed_max_bytes: int = field(default=5_000_000, metadata=_s(
        "Largest feed body fetched, in bytes; a bigger feed fails as too big.",
        min=10_000, max=500_000_000))
    feed_concurrency: int = field(default=16, metadata=_s(
        "Feeds fetched at the same time during a poll.", min=1, max=128))
    feed_max_failures: int = field(default=5, metadata=_s(
        "Failed polls in a row after which a feed is paused until an editor resumes it.",
        min=1, max=1000))
    feed_max_entries: int = field(default=50, metadata=_s(
        "Newest entries taken from a feed per poll; older ones are ignored.",
        min=1, max=10000))
    feed_max_age_days: int = field(default=60, metadata=_s(
        "Entries published longer ago than this are not taken, so that adding a feed does "
        "not flood the review queue with old news.", min=1, max=3650))

    # -- imports (readers, member contacts)
    import_max_line_chars: int = field(default=65536, metadata=_s(
        "Longest line (one record) an imported CSV may have, in characters; a longer one "
        "is refused with the file and line, so that memory does not grow with the file.",
        min=1024, max=10_000_000))
    import_max_fields: int = field(default=200, metadata=_s(
        "Most fields (columns) a line of an imported CSV may have; more is refused with "
        "the file and line.", min=10, max=100_000))
    import_max_upload_bytes: int = field(default=20_000_000, metadata=_s(
        "Largest file an editor may upload on the imports page (Editors → Imports), in "
        "bytes: Mailchimp's export zip, a zip of past issues, Wild Apricot's contacts. A "
        "bigger one is refused before it is read; split it, or import it with the CLI.",
        min=10_000, max=2_000_000_000))

    # -- subscribers
    subscribe_confirm_hours: int = field(default=48, metadata=_s(
        "How long the link in a sign-up confirmation mail stays valid, in hours.",
        min=1, max=720))
    subscribe_max_per_hour: int = field(default=5, metadata=_s(
        "Sign-ups accepted per hour from one client (an IPv4 address, an IPv6 network: "
        "ratelimit_ipv6_prefix), and for one mailbox (the address without its +tag).",
        min=1, max=10000))
    pending_days: int = field(default=14, metadata=_s(
        "Sign-ups not confirmed after this many days are deleted (the purge_pending job).",
        min=1, max=365))
    embed_min_seconds: int = field(default=3, metadata=_s(
        "The least time, in seconds, between showing the sign-up step of a member site's "
        "form and a submission of it that lacks the hidden honeypot field (which a browser "
        "always sends, empty); quicker is asked again. A browser's quick press goes "
        "through.", min=0, max=600))
    embed_form_days: int = field(default=365, metadata=_s(
        "How long, in days, a copy of a member site's sign-up form sends a filled-in, "
        "consented sign-up straight through (the confirmation mail follows); an older "
        "copy leads to the sign-up step first, and still credits the project.",
        min=1, max=3650))

    click_counting: bool = field(default=True, metadata=_s(
        "Count clicks on each item's link in sent issues (per issue, item and day, never "
        "per reader) and views of the archive's issues. false: links go straight to the "
        "items, and nothing is counted."))

    # -- newsletter pre-flight
    link_check_timeout: float = field(default=8.0, metadata=_s(
        "Seconds the pre-flight link check waits for each link (to connect, and for each "
        "read).", min=0.1, max=120))
    link_check_concurrency: int = field(default=8, metadata=_s(
        "Links the pre-flight check tries at the same time.", min=1, max=64))
    link_check_cache_hours: int = field(default=24, metadata=_s(
        "How long a link that answered stays checked; failed links are tried again on "
        "every run, so a fix shows at once.", min=0, max=720))
    test_send_max_per_hour: int = field(default=20, metadata=_s(
        "Test messages of an issue one editor may send in an hour, counting each address "
        "(an editor's or one typed in) as one message.", min=1, max=1000))

    # -- mail
    mail_transport: str = field(default="outbox", metadata=_s(
        "How mail leaves: `outbox` writes each message into the Maildir `outbox_dir` "
        "(new/), `smtp` sends.",
        choices=("outbox", "smtp")))
    mail_from: str = field(default="", metadata=_s(
        "From address of every mail (default: the sender in content/site.toml)."))
    mail_reply_to: str = field(default="", metadata=_s(
        "Reply-To address (default: the contact address in content/site.toml)."))
    outbox_dir: Path = field(default=Path("var/outbox"), metadata=_s(
        "Maildir the `outbox` transport writes into."))
    smtp_host: str = field(default="localhost", metadata=_s("SMTP server name."))
    smtp_port: int = field(default=587, metadata=_s("SMTP server port.", min=1, max=65535))
    smtp_username: str = field(default="", metadata=_s(
        "SMTP AUTH user name; empty means no AUTH."))
    smtp_password: str = field(default="", metadata=_s("SMTP AUTH password.", secret=True))
    smtp_security: str = field(default="starttls", metadata=_s(
        "none, starttls (upgrade a plain connection) or tls (implicit TLS, usually port 465).",
        choices=("none", "starttls", "tls")))
    smtp_timeout: float = field(default=30.0, metadata=_s(
        "Seconds for connecting to and every reply from the SMTP server.", min=0.1, max=600))
    smtp_ca_file: str = field(default="", metadata=_s(
        "PEM file of CA certificates to trust for SMTP TLS (default: the system's)."))
    smtp_messages_per_connection: int = field(default=100, metadata=_s(
        "Messages sent over one SMTP connection before a bulk send reconnects; many "
        "servers limit this.", min=1, max=100000))
    bounce_address: str = field(default="", metadata=_s(
        "Envelope sender of newsletter mail. Each message goes out as "
        "local+TOKEN@domain (VERP), so a bounce names its delivery; the mailbox must "
        "accept plus-addresses (default: bounces@ the sender's domain)."))
    list_id: str = field(default="", metadata=_s(
        "List-Id header of the newsletter (default: the site name and "
        "newsletter.<sender's domain>)."))
    dns_nameserver: str = field(default="", metadata=_s(
        "Name server that `mail check-domain` asks, as host or host:port (default: the "
        "system's resolver)."))
    dns_timeout: float = field(default=5.0, metadata=_s(
        "Seconds to wait for the name server's answer.", min=0.1, max=60))
    dkim_selector: str = field(default="", metadata=_s(
        "DKIM selector; with a domain and a key, every mail the service sends is signed."))
    dkim_domain: str = field(default="", metadata=_s(
        "DKIM signing domain (d=), normally the From address's domain."))
    dkim_key_file: str = field(default="", metadata=_s(
        "PEM file holding the DKIM private key (readable by the service only)."))
    dkim_private_key: str = field(default="", metadata=_s(
        "The DKIM private key itself, as PEM, instead of a file.", secret=True))

    # -- delivery of newsletter issues
    delivery_concurrency: int = field(default=4, metadata=_s(
        "SMTP connections one sending process keeps open at once.", min=1, max=64))
    delivery_rate: float = field(default=0.0, metadata=_s(
        "Most messages per second one sending process hands over; 0 means no limit.",
        min=0, max=100000))
    delivery_batch_size: int = field(default=200, metadata=_s(
        "Recipients a sending process claims at a time. Claimed rows are 'sending', so "
        "this bounds how many could arrive twice after a crash.", min=1, max=10000))
    delivery_max_attempts: int = field(default=5, metadata=_s(
        "Tries per recipient after 4xx replies or broken connections before the row is "
        "'failed'.", min=1, max=100))
    delivery_retry_seconds: float = field(default=60.0, metadata=_s(
        "Wait before the first retry of a deferred message; it doubles with each try.",
        min=0.01, max=86400))
    delivery_pause_seconds: float = field(default=300.0, metadata=_s(
        "When the SMTP server cannot be reached, the send pauses and is tried again after "
        "this many seconds.", min=0.1, max=86400))
    delivery_resend_interrupted: bool = field(default=True, metadata=_s(
        "After a crash, rows left 'sending' are sent again (at most one batch per process "
        "may arrive twice). false holds them for an editor to release or cancel."))
    delivery_worker_stale_seconds: int = field(default=120, metadata=_s(
        "A sending process whose heartbeat is older than this is taken for dead, and its "
        "rows are recovered. A dead process on the same host is seen at once.",
        min=5, max=86400))
    bounce_hard_limit: int = field(default=3, metadata=_s(
        "Hard bounces after which a subscriber is marked bounced and suppressed; a "
        "'no such user' reply (5.1.1) suppresses at once.", min=1, max=100))

    # -- scheduler
    scheduler_lease_seconds: int = field(default=60, metadata=_s(
        "The scheduling worker renews its lease every third of this; a standby worker "
        "takes over once the lease is this old.", min=5, max=3600))
    worker_poll_seconds: float = field(default=5.0, metadata=_s(
        "How often the scheduling worker looks for work asked for on the web pages: a "
        "\"Send now\", a \"Run now\" or a post's \"Publish now\" starts within this many "
        "seconds.", min=0.2, max=3600))
    scheduler_grace_hours: float = field(default=6.0, metadata=_s(
        "A job missed while no worker ran still runs if the worker is back within this "
        "many hours (once, however many times it was missed).", min=0.01, max=168))
    bounce_maildir: str = field(default="", metadata=_s(
        "Maildir of the bounce mailbox that the scheduler processes every 15 minutes; "
        "empty skips the job."))

    # -- social publishing
    social_dry_run: bool = field(default=False, metadata=_s(
        "Write every post to var/outbox/social/ instead of publishing, even for networks "
        "with credentials (a staging server). A network without credentials is always "
        "dry-run."))
    social_auto_approve: bool = field(default=False, metadata=_s(
        "Planned posts are approved at once, without an editor's review."))
    social_utm_campaign: str = field(default="ostogether", metadata=_s(
        "utm_campaign added to links in posts, with utm_source=<network> and "
        "utm_medium=social; empty adds no UTM parameters."))
    social_max_attempts: int = field(default=5, metadata=_s(
        "Tries of a post after clear failures (5xx, 429, no connection) before it is "
        "marked failed.", min=1, max=50))
    social_retry_seconds: float = field(default=60.0, metadata=_s(
        "Wait before the second try of a post; it doubles at each try, unless the network "
        "gives its own reset time.", min=0.1, max=86400))
    social_connect_timeout: float = field(default=5.0, metadata=_s(
        "Seconds to wait for a network's API to accept the connection.", min=0.1, max=120))
    social_read_timeout: float = field(default=30.0, metadata=_s(
        "Seconds to wait for a network's answer once a post was sent. A post that times "
        "out here ends 'unknown' and an editor checks it.", min=0.1, max=600))
    social_stale_seconds: int = field(default=900, metadata=_s(
        "A post left 'publishing' this long (its process died) is marked 'unknown'.",
        min=30, max=86400))
    x_api_url: str = field(default="https://api.twitter.com", metadata=_s(
        "Base URL of the X API v2."))
    x_consumer_key: str = field(default="", metadata=_s(
        "X app's API key (OAuth 1.0a consumer key)."))
    x_consumer_secret: str = field(default="", metadata=_s(
        "X app's API key secret.", secret=True))
    x_access_token: str = field(default="", metadata=_s(
        "X access token of the posting account (OAuth 1.0a user context).", secret=True))
    x_access_token_secret: str = field(default="", metadata=_s(
        "X access token secret of the posting account.", secret=True))
    facebook_graph_url: str = field(default="https://graph.facebook.com", metadata=_s(
        "Base URL of the Facebook Graph API."))
    facebook_api_version: str = field(default="v25.0", metadata=_s(
        "Graph API version in the path, e.g. v25.0. Meta keeps a version about two years."))
    facebook_api_version_end: str = field(default="2028-07-29", metadata=_s(
        "Date (YYYY-MM-DD) Meta retires facebook_api_version (\"Available until\" in the "
        "Graph API changelog); editors are warned 60 days before. Empty: not known."))
    facebook_page_id: str = field(default="", metadata=_s("Id of the Facebook Page."))
    facebook_page_token: str = field(default="", metadata=_s(
        "Page access token with pages_manage_posts.", secret=True))
    linkedin_api_url: str = field(default="https://api.linkedin.com", metadata=_s(
        "Base URL of the LinkedIn REST API."))
    linkedin_version: str = field(default="202607", metadata=_s(
        "LinkedIn-Version header (YYYYMM) of the Posts API. LinkedIn keeps a version at "
        "least a year."))
    linkedin_version_end: str = field(default="2027-07-01", metadata=_s(
        "Date (YYYY-MM-DD) LinkedIn sunsets linkedin_version (its Marketing API migrations "
        "page); editors are warned 60 days before. Empty: not known."))
    linkedin_organization_id: str = field(default="", metadata=_s(
        "Numeric id of the LinkedIn Page (organization) that posts."))
    linkedin_access_token: str = field(default="", metadata=_s(
        "LinkedIn member access token with w_organization_social.", secret=True))
    linkedin_token_expires_on: str = field(default="", metadata=_s(
        "Date (YYYY-MM-DD) the LinkedIn token expires (60 days after it was made). "
        "Editors are warned 7 days before."))
    mastodon_url: str = field(default="", metadata=_s(
        "Base URL of the Mastodon instance, e.g. https://mastodon.social."))
    mastodon_access_token: str = field(default="", metadata=_s(
        "Mastodon access token with the write:statuses scope.", secret=True))
    mastodon_max_chars: int = field(default=500, metadata=_s(
        "The instance's post length limit.", min=100, max=100000))
    bluesky_url: str = field(default="https://bsky.social", metadata=_s(
        "Base URL of the Bluesky PDS (XRPC)."))
    bluesky_handle: str = field(default="", metadata=_s(
        "Bluesky handle of the posting account, e.g. ostogether.bsky.social."))
    bluesky_app_password: str = field(default="", metadata=_s(
        "A Bluesky app password of that account (never the main password).", secret=True))
    zenodo_base_url: str = field(default="https://zenodo.org", metadata=_s(
        "Zenodo, for `library zenodo` (timeouts: social_connect/read_timeout)."))
    zenodo_token: str = field(default="", metadata=_s(
        "Zenodo token (deposit:write, deposit:actions); empty: print only.", secret=True))
    zenodo_community: str = field(default="", metadata=_s(
        "The Zenodo community's identifier that deposits are submitted to."))

    # -- media
    media_dir: Path = field(default=Path("var/media"), metadata=_s(
        "Where the service keeps the images it fetched once (items' pictures for the "
        "newsletter), each under its SHA-256, served at /media/<hash>.<ext>."))
    media_max_bytes: int = field(default=10_000_000, metadata=_s(
        "The largest image the service fetches, in bytes.", min=10_000, max=50_000_000))
    media_max_pixels: int = field(default=40_000_000, metadata=_s(
        "The most pixels (width × height) an image may have; a larger one is refused, "
        "which also stops decompression bombs.", min=10_000, max=200_000_000))

    # -- derived helpers (not settings). ``load_settings`` made every path absolute.
    @property
    def var_path(self) -> Path:
        return self.var_dir

    @property
    def outbox_path(self) -> Path:
        return self.outbox_dir

    @property
    def media_path(self) -> Path:
        return self.media_dir

    def link_limits(self, max_bytes: int) -> Limits:
        """How long and how much when the service fetches a member's page or picture:
        the link check's timeouts (``link_check_timeout``) and redirect limit."""
        t = self.link_check_timeout
        return Limits(deadline=3 * t, connect_timeout=t, read_timeout=t, max_bytes=max_bytes,
                      max_redirects=self.fetch_max_redirects)

    @property
    def public_url(self) -> str:
        """Where links in mails and pages point: ``base_url`` when it is set; else the
        address ``serve`` last listened on (recorded in var/, so that the CLI and the
        worker build the same links); else http://HOST:PORT."""
        if self.base_url:
            return self.base_url.rstrip("/")
        served = served_url(self.var_path / SERVED_URL_FILE)
        return (served or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL (a SQLite path in it was made absolute when loading)."""
        return self.database_url


@dataclass(frozen=True)
class SettingInfo:
    """One row of the table, for docs, `ostogether config` and validation."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool
    choices: tuple[str, ...]
    min: float | None
    max: float | None

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.name.upper()


def table() -> list[SettingInfo]:
    hints = get_type_hints(Settings)
    rows = []
    for f in dataclasses.fields(Settings):
        m = f.metadata
        rows.append(SettingInfo(f.name, hints[f.name], f.default, m["help"], m["secret"],
                                m["choices"], m["min"], m["max"]))
    return rows


def _expectation(info: SettingInfo) -> str:
    if info.choices:
        return "one of " + ", ".join(info.choices)
    if info.type is int:
        what = "a whole number"
    elif info.type is float:
        what = "a number"
    elif info.type is bool:
        return "true or false"
    elif info.type is Path:
        return "a folder or file path"
    else:
        return "text"
    if info.min is not None and info.max is not None:
        return f"{what} from {info.min:g} to {info.max:g}"
    return what


def _convert(info: SettingInfo, raw: Any, where: str) -> Any:
    def bad() -> ConfigError:
        shown = raw if isinstance(raw, str) else repr(raw)
        return ConfigError(f"{where}: expected {_expectation(info)}, got '{shown}'.")

    value: Any
    if info.type is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "on"):
            value = True
        elif isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "off"):
            value = False
        else:
            raise bad()
    elif info.type is int:
        if isinstance(raw, bool):
            raise bad()
        try:
            value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        except (TypeError, ValueError):
            raise bad() from None
        if isinstance(raw, float) and raw != value:
            raise bad()
    elif info.type is float:
        if isinstance(raw, bool):
            raise bad()
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise bad() from None
    elif info.type is Path:
        if not isinstance(raw, str) or not raw.strip():
            raise bad()
        value = Path(raw.strip()).expanduser()
    else:
        if not isinstance(raw, str):
            raise bad()
        value = raw.strip()
    if info.choices and value not in info.choices:
        raise bad()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (info.min is not None and value < info.min) or (
                info.max is not None and value > info.max):
            raise bad()
    return value


def _check_database_url(url: str, where: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"{where}: expected a database URL such as sqlite:///var/ostogether.db or "
            f"postgresql+psycopg://user@host/dbname, got '{url}'.") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"{where}: the database must be sqlite or postgresql, got '{backend}'.")


def _check_address(value: str, where: str) -> None:
    _, addr = parseaddr(value)
    try:
        validate_email(addr, check_deliverability=False)
    except EmailNotValidError:
        raise ConfigError(
            f"{where}: expected an address like 'Name <name@example.org>', got '{value}'."
        ) from None


SERVED_URL_FILE = "served_url"


def served_url(path: Path) -> str:
    """The address recorded by ``serve`` in ``path``, or "" (read again only when the
    file changes)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return ""
    return _read_served_url(str(path), stamp)


@functools.lru_cache(maxsize=8)
def _read_served_url(path: str, stamp: int) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else ""


def _check_base_url(value: str, where: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: expected an absolute http(s) URL, got '{value}'.")


def load_settings(config_file: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build the effective settings from defaults, an optional TOML file and the environment.

    Raises ``ConfigError`` with one line naming the setting and what it expects.
    """
    env = os.environ if environ is None else environ
    rows = {info.name: info for info in table()}
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}

    path = config_file or env.get("OSTOGETHER_CONFIG")
    if path:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Config file {p} does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {p} cannot be read: {exc}.") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {p} is not valid TOML: {exc}.") from None
        for key, raw in data.items():
            if key not in rows:
                raise ConfigError(f"{p}: unknown setting '{key}'. "
                                  f"Run `ostogether config` to list the settings.")
            info = rows[key]
            if info.secret:
                raise ConfigError(f"{p}: '{key}' is a secret and may only be set in the "
                                  f"environment as {info.env_name}.")
            values[key] = _convert(info, raw, f"{p}: {key}")
            origin[key] = str(p)

    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS:
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in rows:
            raise ConfigError(f"{name}: unknown setting. "
                              f"Run `ostogether config` to list the settings.")
        values[key] = _convert(rows[key], raw, name)
        origin[key] = "environment"

    def where(key: str) -> str:
        return rows[key].env_name if origin.get(key) == "environment" else (
            f"{origin[key]}: {key}" if key in origin else key)

    _check_database_url(values.get("database_url", Settings.database_url),
                        where("database_url"))
    settings = absolute(Settings(**values))
    parse_allow(settings.fetch_allow, where("fetch_allow"))
    for key in ("mail_from", "mail_reply_to", "bounce_address"):
        if getattr(settings, key):
            _check_address(getattr(settings, key), where(key))
    for key in ("base_url", "x_api_url", "facebook_graph_url", "linkedin_api_url",
                "mastodon_url", "bluesky_url"):
        if getattr(settings, key):
            _check_base_url(getattr(settings, key), where(key))
    for key in ("linkedin_token_expires_on", "linkedin_version_end",
                "facebook_api_version_end"):
        if getattr(settings, key):
            try:
                dt.date.fromisoformat(getattr(settings, key))
            except ValueError:
                raise ConfigError(f"{where(key)}: expected a date like 2026-12-31, got "
                                  f"'{getattr(settings, key)}'.") from None
    if not re.fullmatch(r"v[0-9]+\.[0-9]+", settings.facebook_api_version):
        raise ConfigError(f"{where('facebook_api_version')}: expected a Graph API version "
                          f"like v25.0, got '{settings.facebook_api_version}'.")
    if not re.fullmatch(r"20[0-9]{4}", settings.linkedin_version):
        raise ConfigError(f"{where('linkedin_version')}: expected a LinkedIn-Version like "
                          f"202607 (YYYYMM), got '{settings.linkedin_version}'.")
    if settings.bounce_address and ("<" in settings.bounce_address
                                    or "+" in settings.bounce_address):
        raise ConfigError(f"{where('bounce_address')}: expected a bare address without '+' "
                          f"such as bounces@example.org, got '{settings.bounce_address}'.")
    if settings.env == "production" and not settings.secret_key:
        raise ConfigError("OSTOGETHER_SECRET_KEY: production needs a secret key of at least "
                          "32 characters; generate one with `python3 -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))'`.")
    if settings.secret_key and len(settings.secret_key) < 32:
        raise ConfigError("OSTOGETHER_SECRET_KEY: expected at least 32 characters.")
    return settings


# Path settings held as text, where empty means "not set".
TEXT_PATHS = ("smtp_ca_file", "dkim_key_file", "bounce_maildir")


def absolute(settings: Settings) -> Settings:
    """``settings`` with ``home`` made absolute against the working directory, and every
    other path setting (and a SQLite database's file) made absolute against ``home``.

    This happens once, when settings load, so that no later step (``send_file`` resolving
    against the web package, a worker started from another folder) can read a relative
    path against the wrong folder.
    """
    home = settings.home.expanduser().resolve()
    changes: dict[str, Any] = {"home": home}
    hints = get_type_hints(Settings)
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        if f.name != "home" and hints[f.name] is Path:
            changes[f.name] = home / value.expanduser()
        elif f.name in TEXT_PATHS and value:
            changes[f.name] = str(home / Path(value).expanduser())
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        changes["database_url"] = url.set(
            database=str(home / Path(url.database or "").expanduser())
        ).render_as_string(hide_password=False)
    return dataclasses.replace(settings, **changes)
