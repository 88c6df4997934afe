"""Pictures the service keeps: fetched once through the guard, checked with Pillow,
re-encoded without metadata, stored by hash, served from /media/ for ever, and what the
approved newsletter points at."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ostogether import media, newsletter
from ostogether.errors import ValidationError
from ostogether.runtime import Runtime
from tests.factories import TEST, add_item
from tests.feedserver import FeedServer, Route, picture


def served(web: FeedServer, path: str, body: bytes, kind: str = "image/jpeg") -> str:
    web.routes[path] = Route(body, content_type=kind)
    return web.url(path)


def test_the_newsletter_shows_the_kept_copy_never_the_members_site(
        rt: Runtime, web: FeedServer, client: Any) -> None:
    url = served(web, "/photo.jpg", picture(2400, 1600, "JPEG", exif_gps=True))
    add_item(rt, "cosmos", "news", link=web.url("/page/0"), image_url=url,
             image_alt="Pupils measuring air quality")
    issue = newsletter.compose_next(rt, TEST)
    approved, report = newsletter.approve(rt, TEST, issue.id)
    # Kept; nothing serves https://ostogether.test here, so whether readers get it is
    # advice (test_served_defaults asks a served process and passes).
    [images] = [c for c in report.checks if c.key == "images"]
    assert images.status == "warn" and images.advisory
    assert "did not answer at https://ostogether.test" in images.details[0]
    assert url not in approved.snapshot_html
    [name] = {n for n in approved.snapshot_html.split('"') if "/media/" in n}
    assert name.startswith("https://ostogether.test/media/") and name.endswith(".jpg")
    r = client.get(name.removeprefix("https://ostogether.test"))
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert hashlib.sha256(r.data).hexdigest() in name  # the name is the content's hash
    kept = Image.open(io.BytesIO(r.data))
    assert kept.size == (media.MAIL_WIDTH, 800)  # at most twice the column, sharp enough
    assert not kept.getexif()  # the camera's position and make are gone
    # Fetched once: checking again does not go back to the member's site.
    assert len(web.hits("/photo.jpg")) == 1
    assert media.store(rt, url).name in name
    newsletter.run_preflight(rt, approved.id)
    assert len(web.hits("/photo.jpg")) == 1


@pytest.mark.parametrize("body, kind, message", [
    (b"<html>not a picture</html>", "text/html", "not a picture that can be read"),
    (picture(10, 10, "BMP"), "image/bmp", "it is a BMP file, not a JPEG, PNG, GIF or WebP"),
    (picture(64, 48, "PNG")[:60], "image/png", "not a picture that can be read"),
])
def test_what_is_not_a_usable_picture_blocks_approval_with_the_reason(
        rt: Runtime, web: FeedServer, body: bytes, kind: str, message: str) -> None:
    url = served(web, "/bad", body, kind)
    add_item(rt, "cosmos", "news", link=web.url("/page/0"), image_url=url, image_alt="x")
    issue = newsletter.compose_next(rt, TEST)
    report, _ = newsletter.run_preflight(rt, issue.id)
    [check] = [c for c in report.checks if c.key == "images"]
    assert check.status == "fail" and check.details[0].startswith(f"{url}: ")
    assert message in check.details[0]


def test_a_decompression_bomb_and_an_unreachable_picture_are_refused(
        rt: Runtime, web: FeedServer) -> None:
    with pytest.raises(ValidationError, match="more than 10,000"):
        media.checked(picture(200, 100), 10_000)
    url = served(web, "/gone.png", b"", "image/png")
    web.routes["/gone.png"] = Route(b"nope", status=404, content_type="text/plain")
    assert "404" in media.keep_all(rt, [url])[0]
    # The outbound guard refuses a private address.
    [refused] = media.keep_all(rt, ["http://10.0.0.1/x.png"])
    assert refused.startswith("http://10.0.0.1/x.png: ") and "private" in refused


def test_only_stored_names_are_served(client: Any, rt: Runtime, tmp_path: Path) -> None:
    for name in ("../secret.png", "abc.png", "a" * 64 + ".exe", "a" * 64 + ".png"):
        assert client.get(f"/media/{name}").status_code == 404


def test_a_picture_kept_but_not_served_blocks_approval(
        rt: Runtime, web: FeedServer, settings: Any) -> None:
    """What readers' mail clients load is the service's own address: a web process that
    cannot serve what the worker kept fails the pre-flight, not only a failed fetch."""
    url = served(web, "/photo.jpg", picture(300, 200, "JPEG"))
    add_item(rt, "cosmos", "news", link=web.url("/page/0"), image_url=url, image_alt="x")
    issue = newsletter.compose_next(rt, TEST)
    rt.settings = replace(settings, base_url=web.url("/service"))  # answers 404 to /media/
    report, _ = newsletter.run_preflight(rt, issue.id)
    [images] = [c for c in report.checks if c.key == "images"]
    assert images.status == "fail" and not images.advisory
    assert f"{url}: kept, but {web.url('/service/media/')}" in images.details[0]
    assert "answers 404" in images.details[0]
    assert "check the media_dir setting" in images.details[-1]
