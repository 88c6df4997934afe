"""The one error tree of the service.

Every failure a user can cause or meet is an ``OstogetherError`` whose message is a
sentence saying what was wrong and what to do. The faces (CLI, web, scheduler) catch
this one base class and show the message; anything else is a bug and is logged.

    OstogetherError
    ├── ConfigError          a setting or config file is invalid
    ├── ContentError         a file under content/, templates/ or schedules/ is invalid
    ├── ValidationError      user input is invalid; carries per-field messages
    ├── NotFound             the object asked for does not exist
    ├── PermissionDenied     the actor may not do this
    │   └── NotAuthenticated   no valid credentials were given (HTTP 401)
    ├── Conflict             a state change that is not allowed now
    │   ├── Duplicate          the same thing exists already; carries its id
    │   └── Blocked            checks that must pass do not; carries each reason
    ├── RateLimited          too many attempts; carries the seconds to wait
    ├── Busy                 the database is held by a long task; nothing was saved
    ├── MailError            the mail transport could not send
    │   ├── MailDeferred       the server said "try later" (4xx) or the connection broke
    │   ├── MailRejected       the server refused this message for good (5xx)
    │   └── MailUnreachable    the server cannot be reached at all
    └── PublishError         a social network did not take a post
        ├── PublishRetry       a clear failure before the network took it (5xx, 429, no
        │                      connection): try again at ``retry_at``
        ├── PublishUnknown     the request went out and no answer came back: the post may
        │                      be live, so it is never retried automatically
        └── PublishRejected    refused for good; ``hint`` says what an editor should do
"""

from __future__ import annotations

import datetime as dt


class OstogetherError(Exception):
    """Base of every error a user may see. ``str(error)`` is the sentence to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # A message may be a lazy gettext string: it becomes the reader's language here.
        return str(self.message)


class ConfigError(OstogetherError):
    """A setting has a bad value, or the config file cannot be read."""


class ContentError(OstogetherError):
    """One or more community files are invalid. ``problems`` lists each with file and line."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        full = message if not self.problems else message + "\n" + "\n".join(
            f"  - {p}" for p in self.problems
        )
        super().__init__(full)


class ValidationError(OstogetherError):
    """Input was rejected. ``fields`` maps a field name to the reason."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(OstogetherError):
    """The object that was asked for does not exist."""


class PermissionDenied(OstogetherError):
    """The actor is not allowed to do this."""


class NotAuthenticated(PermissionDenied):
    """No credentials, or credentials that are unknown, expired or revoked."""


class Conflict(OstogetherError):
    """The action clashes with existing data or the object's current state."""


class Duplicate(Conflict):
    """The object exists already; ``existing_id`` names the one that is kept."""

    def __init__(self, message: str, existing_id: int) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class Blocked(Conflict):
    """Checks that must pass do not (an issue's pre-flight); ``reasons`` lists each, and
    ``detail`` holds the full result of the checks for a face to show."""

    def __init__(self, message: str, reasons: list[str], detail: object = None) -> None:
        self.reasons = reasons
        self.detail = detail
        super().__init__(message + "".join(f"\n  - {r}" for r in reasons))


class RateLimited(OstogetherError):
    """Too many attempts in the window; ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(OstogetherError):
    """The database is held by a long task for longer than ``database_timeout``: nothing
    was saved; try again after ``retry_after`` seconds (HTTP 503)."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MailError(OstogetherError):
    """A message could not be handed to the mail transport."""


class MailDeferred(MailError):
    """A 4xx reply, or a connection lost during one message: the message may be tried
    again later. ``code`` is the SMTP reply code (0 when the connection broke)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class MailRejected(MailError):
    """A 5xx reply: the server refused this message for good. ``reply`` is its text."""

    def __init__(self, message: str, code: int, reply: str) -> None:
        super().__init__(message)
        self.code, self.reply = code, reply


class MailUnreachable(MailError):
    """The mail server cannot be reached (refused, no route, timed out): nothing can be
    sent until it can."""


class PublishError(OstogetherError):
    """A social network did not take a post."""


class PublishRetry(PublishError):
    """A clear failure before the network accepted the post: a 5xx, a 429, or no
    connection at all. ``retry_at`` (UTC, or None for the usual backoff) is the earliest
    time to try again, from the network's rate-limit reset when it gave one."""

    def __init__(self, message: str, retry_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class PublishUnknown(PublishError):
    """The request was sent and no clear answer came back (a read timeout, a connection
    dropped mid-response). The post may be live: an editor must check, never a retry."""


class PublishRejected(PublishError):
    """The network refused the post for good. ``hint`` is what an editor should do:
    re-authorise, change the text, or nothing for a duplicate."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint
