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

from ostogether.core.errors import Blocked, ValidationError
from ostogether.edges import media
from ostogether.edges.runtime import Runtime
from ostogether.newsletter import issues as newsletter
from tests.conftest import post
from tests.factories import TEST, add_item
from tests.feedserver import FeedServer, Route, picture
from tests.pictures import COMMENT, corpus, metadata_in


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


# ------------------------------------------------------------------- odd pictures

ODD = corpus()


@pytest.mark.parametrize("name", ODD)
def test_every_odd_picture_is_kept_or_refused_with_a_reason(name: str) -> None:
    odd = ODD[name]
    if odd.kept is None:
        with pytest.raises(ValidationError, match=r"^it (is|cannot)") as caught:
            media.checked(odd.data, 50_000_000)
        assert caught.value.fields == {"image": caught.value.fields["image"]}
        return
    data, ext, width, height = media.checked(odd.data, 50_000_000)
    assert (ext, (width, height)) == (odd.ext, odd.kept)
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.size == odd.kept
        assert kept.format == {v: k for k, v in media.FORMATS.items()}[ext]
        kept.load()


@pytest.mark.parametrize("name", [n for n, odd in ODD.items() if odd.kept])
def test_a_kept_picture_carries_nothing_but_its_pixels(name: str) -> None:
    data, *_ = media.checked(ODD[name].data, 50_000_000)
    assert metadata_in(data) == []
    assert COMMENT not in data and b"TestCam" not in data and b"xmpmeta" not in data
    with Image.open(io.BytesIO(data)) as kept:
        assert not kept.getexif() and "icc_profile" not in kept.info
        assert not {"comment", "exif", "xmp", "Comment", "Author"} & set(kept.info)


def test_the_corpus_does_carry_what_the_service_strips() -> None:
    """The check above reads real containers: the originals fail it."""
    assert "COM" in metadata_in(ODD["progressive jpeg with a comment"].data)
    assert "comment extension" in metadata_in(ODD["animated gif with a comment"].data)
    assert {"tEXt", "zTXt", "iTXt", "eXIf"} <= set(
        metadata_in(ODD["png with text, XMP and EXIF"].data))
    assert {"EXIF", "XMP "} <= set(metadata_in(ODD["webp with EXIF and XMP"].data))
    assert "iCCP" in metadata_in(ODD["png with a profile that is not sRGB"].data)


@pytest.mark.parametrize("name", ["jpeg with a profile that is not sRGB",
                                  "png with a profile that is not sRGB"])
def test_colours_are_moved_to_srgb_from_the_pictures_own_profile(name: str) -> None:
    """A pixel (255, 0, 0) in a profile whose red is sRGB's green is green: the kept
    file, which has no profile and so is read as sRGB, shows it green."""
    data, *_ = media.checked(ODD[name].data, 50_000_000)
    with Image.open(io.BytesIO(data)) as kept:
        red, green, blue = kept.convert("RGB").getpixel((4, 4))  # type: ignore[misc]
    assert green > 240 and red < 15 and blue < 15


def test_a_photo_taken_sideways_is_kept_upright() -> None:
    data, _, width, height = media.checked(ODD["jpeg with EXIF, GPS and a turn"].data,
                                           50_000_000)
    assert (width, height) == (40, 80)  # 80×40 as stored, turned as its EXIF said


def test_a_strip_one_pixel_high_goes_through_the_preflight_and_approval(
        rt: Runtime, web: FeedServer, editor: Any) -> None:
    """2401×1 resized to a height of 0 and raised outside every try: the pre-flight page
    and the approval answered 500. It is kept 1200×1; a picture that is not one is named
    on the page beside its item."""
    strip = served(web, "/strip.png", ODD["2401x1 png"].data, "image/png")
    broken = served(web, "/broken.png", ODD["truncated png"].data, "image/png")
    add_item(rt, "cosmos", "news", link=web.url("/page/0"), image_url=strip, image_alt="A")
    bad = add_item(rt, "otter", "news", link=web.url("/page/1"), image_url=broken,
                   image_alt="B")
    issue = newsletter.compose_next(rt, TEST)
    page = f"/editors/issues/{issue.number}/preflight"
    r = editor.get(page)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f"{broken}: it is not a picture that can be read" in html
    assert f'<a href="/editors/items/{bad}">fix item {bad}</a>' in html
    assert strip + ":" not in html
    r = post(editor, page, page)
    assert r.status_code == 409 and "Every picture is kept and served by the service" in r.get_data(
        as_text=True)
    with pytest.raises(Blocked) as caught:
        newsletter.approve(rt, TEST, issue.id)
    assert any("Every picture is kept" in why for why in caught.value.reasons)
    assert media.known(rt, [strip])[strip].height == 1


def test_a_16_bit_grey_picture_is_scaled_to_8_bits_not_clipped() -> None:
    data, *_ = media.checked(ODD["16-bit grey png"].data, 50_000_000)
    with Image.open(io.BytesIO(data)) as kept:
        assert kept.mode == "L" and kept.getextrema() == (0, 250)  # 64,491 / 257
