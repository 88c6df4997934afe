"""What a post says: a news item or an evergreen entry as a network's text.

A post's text is the community's template ``templates/social/<network>.txt.j2`` rendered
for its content, then fitted to the network by ``ostogether.social.text``, with the EU
funding line where the network's rules want it. Planning (``posts``) and the "issue out"
posts (``issue_out``) write their texts here; the review page shows each network's text
before anything is planned.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import nh3

from ostogether.core.settings import Settings
from ostogether.core.states import NETWORKS
from ostogether.edges import render
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Evergreen
from ostogether.models import NewsItem, Project
from ostogether.social import text as social_text


def measure(settings: Settings, text: str, network: str) -> social_text.Measure:
    return social_text.measure(text, network, social_text.limit_for(settings, network))


def plain(html_text: str) -> str:
    """An item's summary as one paragraph of plain text."""
    bare = html.unescape(nh3.clean(html_text, tags=set()))
    return re.sub(r"\s+", " ", bare).strip()


def mention(project: Project | None, network: str) -> str:
    """How a post on ``network`` names ``project``: its handle there, else its acronym."""
    if project is None:
        return ""
    handle = (project.handles or {}).get(network, "").strip()
    if handle and network in ("x", "mastodon", "bluesky"):
        return "@" + handle.lstrip("@")
    # LinkedIn: the acronym, made a mention of the organisation when published.
    return project.acronym


def _tidy(rendered: str) -> str:
    lines = [line.rstrip() for line in rendered.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Source:
    """What a post is about: a news item or an evergreen entry, ready for a template."""

    kind: str
    title: str
    description: str
    link: str
    project: Project | None
    hashtags: tuple[str, ...]
    start: dt.datetime | None = None
    image_url: str = ""
    image_alt: str = ""
    language: str = "en"
    item: NewsItem | None = None
    evergreen_key: str = ""

    @classmethod
    def of_item(cls, item: NewsItem) -> Source:
        return cls(kind=item.kind, title=item.title, description=plain(item.summary_html),
                   link=item.link, project=item.project,
                   hashtags=tuple(f"SDG{n}" for n in item.sdgs or ()),
                   start=item.local_start() if item.kind == "event" else None,
                   image_url=item.image_url, image_alt=item.image_alt,
                   language=item.language or "en", item=item)

    @classmethod
    def of_evergreen(cls, entry: Evergreen, project: Project | None) -> Source:
        return cls(kind=entry.kind, title=entry.title, description=entry.text,
                   link=entry.link, project=project, hashtags=entry.hashtags,
                   image_url=entry.image_url, image_alt=entry.image_alt,
                   evergreen_key=entry.key)


def compose_text(rt: Runtime, source: Source, network: str,
                 community_tags: Sequence[str]) -> tuple[str, str]:
    """(text, link) for ``network``: its template rendered, then fitted to its limit,
    with the network's EU funding line (content/site.toml [social.funding]): always on
    LinkedIn and Facebook, where room allows on X, Mastodon and Bluesky.
    ``community_tags`` are the hashtags of content/site.toml, read once by the caller."""
    link = social_text.with_utm(source.link, network, rt.settings.social_utm_campaign)
    hashtags = list(dict.fromkeys((*community_tags, *source.hashtags)))
    project = None if source.project is None else {
        "acronym": source.project.acronym, "mention": mention(source.project, network)}
    rendered = render.render(rt.community, f"social/{network}.txt.j2", network=network,
                             kind=source.kind, title=source.title,
                             description=source.description, link=link, start=source.start,
                             project=project, hashtags=hashtags)
    text = unicodedata.normalize("NFC", _tidy(rendered))
    return with_funding(rt.settings, text, network,
                        rt.community.site().social_funding.get(network, "")), link


ALWAYS_CREDITED = ("linkedin", "facebook")


def with_funding(settings: Settings, text: str, network: str, line: str) -> str:
    """``text`` fitted to ``network`` with the funding ``line`` at its end: the text is
    shortened for it on LinkedIn and Facebook, and the line left out elsewhere when it
    does not fit."""
    limit = social_text.limit_for(settings, network)
    line = unicodedata.normalize("NFC", line.strip())
    fitted = social_text.fit(text, network, limit)
    if not line:
        return fitted
    joined = f"{fitted}\n\n{line}"
    if social_text.measure(joined, network, limit).fits:
        return joined
    if network not in ALWAYS_CREDITED:
        return fitted
    room = limit - social_text.measure(f"\n\n{line}", network, limit).length
    return f"{social_text.fit(text, network, room)}\n\n{line}"


def texts_for_item(rt: Runtime, item: NewsItem) -> list[tuple[str, str, social_text.Measure]]:
    """What each network's post of ``item`` would say, with its count (the review page)."""
    out = []
    tags, source = rt.community.site().hashtags, Source.of_item(item)
    for network in NETWORKS:
        text, _ = compose_text(rt, source, network, tags)
        out.append((network, text, measure(rt.settings, text, network)))
    return out
