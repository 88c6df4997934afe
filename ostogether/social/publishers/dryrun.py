"""The embedded default: instead of posting, write what would be posted (the text as
the network would count and receive it) to ``var/outbox/social/``, one JSON file per
post."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ostogether.core import clock
from ostogether.core.settings import Settings
from ostogether.social import text as social_text
from ostogether.social.publishers.base import Metrics, Outgoing, Picture, Published


class DryRun:
    def __init__(self, network: str, folder: Path, settings: Settings) -> None:
        self.network, self.folder, self.settings = network, folder, settings

    def publish(self, post: Outgoing) -> Published:
        measured = social_text.measure(post.text, self.network,
                                       social_text.limit_for(self.settings, self.network))
        body: dict[str, Any] = {
            "network": self.network, "post_id": post.post_id, "text": post.text,
            "length": measured.length, "limit": measured.limit, "fits": measured.fits,
            "link": post.link, "title": post.title, "description": post.description,
            "image": _picture(post.image, self.network),
            "card_image": _picture(post.card_image, self.network),
            "language": post.language,
            "written_at": clock.now().isoformat(timespec="seconds"),
            **social_text.as_sent(post.text, self.network)}
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{post.post_id:06d}-{self.network}.json"
        tmp = self.folder / (name + ".tmp")
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", "utf-8")
        os.replace(tmp, self.folder / name)
        return Published(f"dryrun:{name}", "")

    def metrics(self, remote_id: str) -> Metrics:
        return Metrics(False, {}, "dry run", "a dry run: nothing was posted")


def _picture(picture: Picture | None, network: str) -> dict[str, Any] | None:
    """What the network would receive of a picture: the kept file, re-encoded to its
    limits, and the description."""
    if picture is None:
        return None
    image = picture.for_network(network)
    return {"file": picture.name, "alt": picture.alt, "type": image.mime,
            "bytes": len(image.data), "width": image.width, "height": image.height}
