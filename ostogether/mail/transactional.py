"""Transactional mail: one message to one person, from a template in templates/mail/."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostogether.core.errors import ConfigError, ContentError, MailError
from ostogether.core.states import EDITOR_ROLES
from ostogether.edges.render import mail_template, render_mail
from ostogether.edges.runtime import Runtime
from ostogether.mail.message import address, build
from ostogether.mail.transports import make_transport
from ostogether.models import User

log = logging.getLogger(__name__)


def editors(s: Session) -> list[tuple[str, str]]:
    """The active editors and admins, each as (address, language): told about
    applications and issues, in the language they use the site in."""
    return [(email, language) for email, language in s.execute(
        select(User.email, User.language).where(
            User.active.is_(True), User.role.in_(EDITOR_ROLES)).order_by(User.email))]


def editor_addresses(s: Session) -> list[str]:
    """The addresses of the active editors and admins (offered test sends)."""
    return [email for email, _language in editors(s)]


def send(rt: Runtime, template: str, to: str, *, language: str = "", **context: Any) -> None:
    """Render ``templates/mail/<template>.txt.j2`` (``templates/mail/<language>/…`` when
    the community gives it in the person's language) and hand it to the configured
    transport. The template sees ``lang``, the language it is written in."""
    site = rt.community.site()
    name = mail_template(rt.community, f"{template}.txt.j2", language)
    lang = name.split("/")[1] if name.count("/") == 2 else "en"
    subject, body = render_mail(rt.community, name, site=site.in_language(lang), lang=lang,
                                base_url=rt.settings.public_url, **context)
    sender = rt.settings.mail_from or address(site.sender_name, site.sender_email)
    reply_to = rt.settings.mail_reply_to or site.contact_email
    message = build(sender=sender, to=to, subject=subject, text=body, reply_to=reply_to)
    with make_transport(rt.settings) as transport:
        transport.send(message)


def send_after_commit(rt: Runtime, template: str, to: str, **context: Any) -> bool:
    """Tell someone about data that is already stored. A mail failure (or nobody to tell)
    is logged and never undoes or hides the stored change. True when the mail went out,
    so that a page says "told" only when someone was."""
    if not to:
        log.info("mail %s not sent: nobody to tell", template)
        return False
    try:
        send(rt, template, to, **context)
    except (MailError, ContentError, ConfigError) as exc:  # ConfigError: a broken DKIM key
        log.error("mail %s to %s not sent: %s", template, to, exc)
        return False
    return True
