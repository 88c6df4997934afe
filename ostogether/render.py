"""The Jinja2 environment for the community's templates/ folder.

Templates are the community's own, so an error in one is reported with the template
name and line, never as a traceback.
"""

from __future__ import annotations

from typing import Any

import jinja2

from ostogether.errors import ContentError
from ostogether.site import Community


def environment(community: Community) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(community.templates)),
        autoescape=jinja2.select_autoescape(["html", "mjml", "html.j2", "mjml.j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(community: Community, name: str, **context: Any) -> str:
    env = environment(community)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise ContentError(f"Template {community.templates / name} not found.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ContentError(f"{community.templates / (exc.name or name)}:{exc.lineno}: "
                           f"template syntax error: {exc.message}.") from None
    except jinja2.UndefinedError as exc:
        raise ContentError(f"{community.templates / name}: {exc.message}; the template uses "
                           f"a name that is not available.") from None


def render_mail(community: Community, name: str, **context: Any) -> tuple[str, str]:
    """Render a transactional mail template whose first line is ``Subject: ...``."""
    text = render(community, name, **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ContentError(f"{community.templates / name}:1: a mail template must start "
                           f"with a 'Subject: ...' line.")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")
