"""Posts with their pictures and cards: the picture kept at approval (never fetched again),
uploaded natively with its description on all five networks, link cards from the page's
Open Graph tags for LinkedIn and Bluesky, each network's re-encoding limits, and uploads
that a retry does not repeat."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.errors import ValidationError
from ostogether.core.settings import load_settings
from ostogether.edges import media
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost, SocialUpload
from ostogether.social import media as social_media
from ostogether.social import posts as social
from ostogether.social import publish, wording
from ostogether.social.publishers import mastodon
from tests.conftest import post, run, social_posts
from tests.factories import TEST, add_item
from tests.feedserver import FeedServer, Route, picture
from tests.social_fakes import FakeNetworks

NOW = dt.datetime(2026, 11, 23, 9, 0, 5, tzinfo=dt.UTC)
NETWORKS = ("x", "facebook", "linkedin", "mastodon", "bluesky")
ALT = "Pupils measuring the air quality outside their school"


@pytest.fixture(autouse=True)
def _at_now(test_clock: clock.FakeClock) -> None:
    test_clock.set(NOW)




def page(title: str = "Air quality week", image: str = "", alt: str = "") -> bytes:
    tags = [f'<meta property="og:title" content="{title}">',
            '<meta property="og:description" content="Schools measure the air.">']
    if image:
        tags.append(f'<meta property="og:image" content="{image}">')
    if alt:
        tags.append(f'<meta property="og:image:alt" content="{alt}">')
    return (f"<!doctype html><html><head><title>Fallback</title>{''.join(tags)}</head>"
            f"<body><h1>{title}</h1></body></html>").encode()


def planned(rt: Runtime, networks: tuple[str, ...] = NETWORKS, *, link: str,
            image_url: str = "", image_alt: str = "") -> list[int]:
    ids = []
    with rt.db.session() as s:
        for i, network in enumerate(networks):
            post = SocialPost(
                network=network, status="planned", kind="reading",
                slot_at=NOW - dt.timedelta(minutes=30 - i), evergreen_key="test",
                title="Air quality week", description="Schools measure the air.",
                link=f"{link}?utm_source={network}", text=f"Air quality week {link}",
                image_url=image_url, image_alt=image_alt, idempotency_key=uuid.uuid4().hex)
            s.add(post)
            s.flush()
            ids.append(post.id)
    return ids


# --------------------------------------------------------------------- pure parts

def test_each_network_gets_the_picture_within_its_documented_limits() -> None:
    noisy = Image.effect_noise((1100, 1100), 120).convert("RGB")  # hard to compress
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big_png = out.getvalue()
    assert len(big_png) > 1_000_000
    bsky = social_media.variant(big_png, "bluesky")
    assert bsky.mime == "image/jpeg" and len(bsky.data) <= 1_000_000
    assert Image.open(io.BytesIO(bsky.data)).size == (bsky.width, bsky.height)
    # X takes the same bytes when they are within its 5 MB.
    assert social_media.variant(big_png, "x").data == big_png
    # LinkedIn takes no WebP: it becomes a JPEG.
    webp = picture(300, 200, "WEBP")
    assert social_media.variant(webp, "linkedin").mime == "image/jpeg"
    assert social_media.variant(webp, "mastodon").data == webp
    # A transparent PNG re-encoded to JPEG is flattened on white, not black.
    clear = Image.new("RGBA", (3000, 3000), (0, 0, 0, 0))
    out = io.BytesIO()
    clear.save(out, "PNG")
    flat = social_media.variant(out.getvalue(), "bluesky")
    assert max(flat.width, flat.height) <= 2000
    assert Image.open(io.BytesIO(flat.data)).convert("RGB").getpixel((5, 5)) > (250, 250, 250)


def test_the_card_is_read_from_open_graph_with_fallbacks() -> None:
    card = social_media.parse_card(
        '<html><head><meta property="og:title" content="OG title">'
        '<meta name="description" content="Plain description">'
        '<meta property="og:image" content="/img/card.png">'
        '<meta property="og:image:alt" content="A card"></head>'
        '<body><meta property="og:title" content="not this"></body></html>',
        "https://project.example/news/1")
    assert card == {"title": "OG title", "description": "Plain description",
                    "image_url": "https://project.example/img/card.png",
                    "image_alt": "A card"}
    bare = social_media.parse_card("<title>Just a title</title><p>text",
                                   "https://project.example/")
    assert bare["title"] == "Just a title" and bare["image_url"] == ""
    assert social_media.parse_card('<meta property="og:image" content="javascript:x">',
                                   "https://p.example/")["image_url"] == ""
    assert social_media.page_address("https://p.example/a?x=1&utm_source=x&utm_medium=s") \
        == "https://p.example/a?x=1"


# --------------------------------------------------------------------- approval

def test_an_image_post_keeps_its_picture_once_and_shows_on_all_five_networks(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer) -> None:
    web.routes["/photo.jpg"] = Route(picture(2400, 1600, "JPEG", exif_gps=True),
                                     content_type="image/jpeg")
    ids = planned(live_rt, link=web.url("/page/1"), image_url=web.url("/photo.jpg"),
                  image_alt=ALT)
    assert social.approve(live_rt, TEST, ids) == 5
    kept = {p.media_name for p in social_posts(live_rt).values()}
    assert len(kept) == 1 and "" not in kept  # one kept copy, for every network
    assert len(web.hits("/photo.jpg")) == 1
    report = publish.publish_due(live_rt, now=NOW)
    assert report.outcomes["published"] == 5, report.lines
    assert len(web.hits("/photo.jpg")) == 1  # publishing never fetched it again

    [tweet] = fake.posted("x")
    [x_upload] = fake.uploaded("x")
    assert tweet.body["media"] == {"media_ids": [x_upload.ref]} and x_upload.alt == ALT
    [fb] = fake.posted("facebook")
    assert fb.body["photo"] and fb.text.startswith("Air quality week")  # a photo post
    assert fb.body["alt_text_custom"] == ALT
    [li] = fake.posted("linkedin")
    [li_upload] = fake.uploaded("linkedin")
    assert li.body["content"] == {"media": {"id": li_upload.ref, "altText": ALT}}
    [masto] = fake.posted("mastodon")
    [m_upload] = fake.uploaded("mastodon")
    assert masto.body["media_ids"] == [m_upload.ref] and m_upload.alt == ALT
    [bsky] = fake.posted("bluesky")
    [image] = bsky.body["record"]["embed"]["images"]
    assert bsky.body["record"]["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == ALT and image["image"]["ref"]["$link"] == \
        fake.uploaded("bluesky")[0].ref
    assert image["aspectRatio"] == {"width": 1200, "height": 800}
    assert all(u.size <= 1_000_000 for u in fake.uploaded("bluesky"))


def test_a_post_with_an_image_and_no_description_cannot_be_approved(
        live_rt: Runtime, web: FeedServer) -> None:
    web.routes["/photo.png"] = Route(picture(), content_type="image/png")
    [post_id] = planned(live_rt, ("x",), link=web.url("/page/1"),
                        image_url=web.url("/photo.png"), image_alt="")
    with pytest.raises(ValidationError, match=r"post \d+ \(X\): it has an image without a "
                                              r"description; describe the image"):
        social.approve(live_rt, TEST, [post_id])
    assert social_posts(live_rt)[post_id].status == "planned"
    assert web.hits("/photo.png") == []  # refused before anything was fetched


def test_an_image_that_cannot_be_kept_stops_the_approval_with_the_reason(
        live_rt: Runtime, web: FeedServer) -> None:
    web.routes["/photo.jpg"] = Route(b"<html>moved</html>", content_type="text/html")
    ids = planned(live_rt, ("x", "bluesky"), link=web.url("/page/1"),
                  image_url=web.url("/photo.jpg"), image_alt=ALT)
    with pytest.raises(ValidationError, match="Nothing was approved: .*its image .* cannot "
                                              "be used: it is not a picture"):
        social.approve(live_rt, TEST, ids)
    assert {p.status for p in social_posts(live_rt).values()} == {"planned"}


def test_a_link_post_gets_its_card_with_the_pages_picture_on_linkedin_and_bluesky(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer) -> None:
    web.routes["/card.png"] = Route(picture(1200, 630), content_type="image/png")
    web.routes["/news"] = Route(page(image="/card.png", alt="The project's logo"),
                                content_type="text/html; charset=utf-8")
    ids = planned(live_rt, link=web.url("/news"))
    social.approve(live_rt, TEST, ids)
    assert len(web.hits("/news")) == 1  # one read for the five networks' posts
    card = social_posts(live_rt)[ids[0]].card
    assert card is not None and card["title"] == "Air quality week"
    assert card["image"].endswith(".png") and card["warning"] == ""
    publish.publish_due(live_rt, now=NOW)
    [li] = fake.posted("linkedin")
    article = li.body["content"]["article"]
    assert article["thumbnail"] == fake.uploaded("linkedin")[0].ref
    assert article["thumbnailAltText"] == "The project's logo"
    assert article["source"].startswith(web.url("/news"))
    [bsky] = fake.posted("bluesky")
    external = bsky.body["record"]["embed"]["external"]
    assert external["thumb"]["ref"]["$link"] == fake.uploaded("bluesky")[0].ref
    assert external["title"] == "Air quality week"
    # X, Facebook and Mastodon read the page themselves: no upload, a link.
    assert fake.uploaded("x") == fake.uploaded("mastodon") == []
    assert fake.posted("facebook")[0].body["link"].startswith(web.url("/news"))


def test_a_page_without_a_preview_image_warns_and_still_posts(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer) -> None:
    web.routes["/plain"] = Route(page(), content_type="text/html")
    ids = planned(live_rt, ("linkedin", "bluesky"), link=web.url("/plain"))
    social.approve(live_rt, TEST, ids)
    card = social_posts(live_rt)[ids[0]].card
    assert card is not None and card["warning"] == social_media.NO_IMAGE
    assert publish.publish_due(live_rt, now=NOW).outcomes["published"] == 2
    assert "thumbnail" not in fake.posted("linkedin")[0].body["content"]["article"]
    assert "thumb" not in fake.posted("bluesky")[0].body["record"]["embed"]["external"]


def test_a_page_that_cannot_be_read_warns_with_the_reason(live_rt: Runtime,
                                                          web: FeedServer) -> None:
    web.routes["/gone"] = Route(b"no", status=404, content_type="text/html")
    [post_id] = planned(live_rt, ("linkedin",), link=web.url("/gone"))
    social.approve(live_rt, TEST, [post_id])
    card = social_posts(live_rt)[post_id].card
    assert card is not None and "answered 404" in card["warning"]


# --------------------------------------------------------------------- once only

def test_a_retried_post_uses_the_upload_it_made_before(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer,
        test_clock: clock.FakeClock) -> None:
    web.routes["/photo.jpg"] = Route(picture(800, 600, "JPEG"), content_type="image/jpeg")
    ids = planned(live_rt, ("x", "linkedin", "mastodon", "bluesky"),
                  link=web.url("/page/1"), image_url=web.url("/photo.jpg"), image_alt=ALT)
    social.approve(live_rt, TEST, ids)
    for network in ("x", "linkedin", "mastodon", "bluesky"):
        fake.faults[network] = ["500"]  # the post fails after its picture was taken
    first = publish.publish_due(live_rt, now=NOW)
    assert first.outcomes["retry"] == 4
    with live_rt.db.session() as s:
        assert len(list(s.scalars(select(SocialUpload)))) == 4
    test_clock.advance(minutes=10)
    second = publish.publish_due(live_rt, now=clock.now())
    assert second.outcomes["published"] == 4, second.lines
    # One upload per network: the retry used the media id, URN and blob it kept.
    assert sorted(u.network for u in fake.uploaded()) == ["bluesky", "linkedin",
                                                          "mastodon", "x"]


def test_an_expired_upload_is_made_again(live_rt: Runtime, fake: FakeNetworks,
                                         web: FeedServer,
                                         test_clock: clock.FakeClock) -> None:
    web.routes["/photo.jpg"] = Route(picture(800, 600, "JPEG"), content_type="image/jpeg")
    [post_id] = planned(live_rt, ("bluesky",), link=web.url("/page/1"),
                        image_url=web.url("/photo.jpg"), image_alt=ALT)
    social.approve(live_rt, TEST, [post_id])
    fake.faults["bluesky"] = ["500"]
    publish.publish_due(live_rt, now=NOW)
    test_clock.advance(hours=2)  # past a blob's life on the server when no post uses it
    assert publish.publish_due(live_rt, now=clock.now()).outcomes["published"] == 1
    blobs = [u.ref for u in fake.uploaded("bluesky")]
    assert len(blobs) == 2
    embed = fake.posted("bluesky")[0].body["record"]["embed"]
    assert embed["images"][0]["image"]["ref"]["$link"] == blobs[1]


def test_a_failed_upload_is_retried_and_nothing_is_posted(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer) -> None:
    web.routes["/photo.jpg"] = Route(picture(800, 600, "JPEG"), content_type="image/jpeg")
    ids = planned(live_rt, ("x", "mastodon"), link=web.url("/page/1"),
                  image_url=web.url("/photo.jpg"), image_alt=ALT)
    social.approve(live_rt, TEST, ids)
    fake.faults["upload:x"] = ["500"]
    fake.faults["upload:mastodon"] = ["429"]
    report = publish.publish_due(live_rt, now=NOW)
    assert report.outcomes["retry"] == 2 and fake.posted() == []
    assert all("could not take the picture" in p.error for p in social_posts(live_rt).values())


def test_the_dry_run_shows_what_each_network_would_get(rt: Runtime, web: FeedServer) -> None:
    noisy = Image.effect_noise((1200, 1200), 120).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    web.routes["/big.png"] = Route(out.getvalue(), content_type="image/png")
    ids = planned(rt, ("x", "bluesky"), link=web.url("/page/1"),
                  image_url=web.url("/big.png"), image_alt=ALT)
    social.approve(rt, TEST, ids)
    publish.publish_due(rt, now=NOW)
    folder = rt.settings.outbox_path / "social"
    sent = {p.name.split("-")[1].removesuffix(".json"): json.loads(p.read_text())
            for p in folder.glob("*.json")}
    assert sent["x"]["image"]["type"] == "image/png"
    assert sent["bluesky"]["image"]["type"] == "image/jpeg"
    assert sent["bluesky"]["image"]["bytes"] <= 1_000_000
    assert sent["bluesky"]["image"]["alt"] == ALT


# --------------------------------------------------------------------- the calendar

def test_the_post_page_shows_the_picture_or_card_as_it_will_appear(
        editor: Any, rt: Runtime, web: FeedServer) -> None:
    web.routes["/photo.jpg"] = Route(picture(900, 600, "JPEG"), content_type="image/jpeg")
    web.routes["/plain"] = Route(page(title="Air quality week"), content_type="text/html")
    [with_image] = planned(rt, ("x",), link=web.url("/page/1"),
                           image_url=web.url("/photo.jpg"), image_alt=ALT)
    [link_only] = planned(rt, ("linkedin",), link=web.url("/plain"))
    before = editor.get(f"/editors/social/{with_image}").get_data(as_text=True)
    assert "kept when the post is approved" in before and web.hits("/photo.jpg") == []
    social.approve(rt, TEST, [with_image])
    shown = editor.get(f"/editors/social/{with_image}").get_data(as_text=True)
    name = social_posts(rt)[with_image].media_name
    assert f'src="/media/{name}" alt="{ALT}"' in shown  # the kept copy, never the site
    assert web.url("/photo.jpg") not in shown.split("Image address")[0]

    card_page = editor.get(f"/editors/social/{link_only}").get_data(as_text=True)
    assert "Read the card now" in card_page and web.hits("/plain") == []
    r = post(editor, f"/editors/social/{link_only}/card", f"/editors/social/{link_only}")
    assert r.status_code == 302
    read = editor.get(f"/editors/social/{link_only}").get_data(as_text=True)
    assert "No picture in the card." in read and "og:image" in read
    assert "LinkedIn shows only what the post gives it" in read
    assert social_posts(rt)[link_only].status == "planned"  # reading the card approves nothing


# --------------------------------------------------------------------- funding credit

def test_the_funding_line_is_always_on_linkedin_and_facebook_and_on_x_when_it_fits(
        rt: Runtime) -> None:
    site = rt.community.site()
    assert site.social_funding["x"] == "#EUfunded"
    short = "A short post https://example.org/a"
    assert wording.with_funding(rt.settings, short, "x", "#EUfunded").endswith("\n\n#EUfunded")
    long_x = "word " * 60 + "https://example.org/a"
    out = wording.with_funding(rt.settings, long_x, "x", "#EUfunded")
    assert "#EUfunded" not in out and wording.measure(rt.settings, out, "x").fits
    line = site.social_funding["linkedin"]
    long_li = "word " * 700 + "https://example.org/a"
    out = wording.with_funding(rt.settings, long_li, "linkedin", line)
    assert out.endswith(line) and wording.measure(rt.settings, out, "linkedin").fits
    assert "https://example.org/a" in out  # shortened, the link kept


def test_planned_posts_carry_each_networks_funding_line(rt: Runtime) -> None:
    add_item(rt, "cosmos", "news", link="https://example.org/n")
    social.plan_week(rt, TEST, now=NOW)
    site = rt.community.site()
    posts = social_posts(rt).values()
    for network in ("linkedin", "facebook"):
        mine = [p.text for p in posts if p.network == network]
        assert mine and all(t.endswith(site.social_funding[network]) for t in mine)
    # X, Mastodon and Bluesky carry it where it fits, and never break their limit for it.
    assert any(p.text.endswith(site.social_funding[p.network]) for p in posts
               if p.network in ("x", "mastodon", "bluesky"))
    assert all(wording.measure(rt.settings, p.text, p.network).fits for p in posts)


def test_a_strict_check_elsewhere_does_not_change_what_a_network_gets() -> None:
    """Pillow's pixel guard is process-wide: the media check must not lower it for the
    publishers in other threads (it did, and a post became 'unknown')."""
    with pytest.raises(ValidationError, match="more than 10,000"):
        media.checked(picture(200, 100), 10_000)
    assert social_media.variant(picture(640, 480, "JPEG"), "x").width == 640


def test_the_command_line_says_why_a_post_is_not_approved_and_shows_its_card(
        env: dict[str, str], rt: Runtime, web: FeedServer) -> None:
    web.routes["/photo.png"] = Route(picture(), content_type="image/png")
    web.routes["/plain"] = Route(page(), content_type="text/html")
    [no_alt] = planned(rt, ("x",), link=web.url("/page/1"), image_url=web.url("/photo.png"))
    r = run(env, "social", "approve", str(no_alt))
    assert r.returncode == 1 and "it has an image without a description" in r.stderr
    assert "Traceback" not in r.stderr
    [card] = planned(rt, ("bluesky",), link=web.url("/plain"))
    assert run(env, "social", "approve", str(card)).returncode == 0
    shown = run(env, "social", "preview", str(card)).stdout
    assert "card: Air quality week (127.0.0.1:" in shown and "no picture" in shown
    assert "warning: The page has no preview image" in shown


def test_a_picture_mastodon_is_still_processing_waits_for_the_next_run(
        live_rt: Runtime, fake: FakeNetworks, web: FeedServer,
        monkeypatch: pytest.MonkeyPatch, test_clock: clock.FakeClock) -> None:
    monkeypatch.setattr(mastodon, "WAITS", (0.01, 0.01))
    fake.mastodon_processing = 5  # longer than this run asks
    web.routes["/photo.jpg"] = Route(picture(800, 600, "JPEG"), content_type="image/jpeg")
    [post_id] = planned(live_rt, ("mastodon",), link=web.url("/page/1"),
                        image_url=web.url("/photo.jpg"), image_alt=ALT)
    social.approve(live_rt, TEST, [post_id])
    first = publish.publish_due(live_rt, now=NOW)
    assert first.outcomes["retry"] == 1 and fake.posted() == []
    assert "still processing the picture" in social_posts(live_rt)[post_id].error
    test_clock.advance(minutes=5)
    assert publish.publish_due(live_rt, now=clock.now()).outcomes["published"] == 1
    assert len(fake.uploaded("mastodon")) == 1  # the same upload, not a second one


def test_planning_with_auto_approve_keeps_pictures_and_leaves_a_bad_one_for_an_editor(
        env: dict[str, str], fill_database: Any, web: FeedServer) -> None:
    fill_database("imported")
    rt = Runtime(load_settings(environ={**env, "OSTOGETHER_SOCIAL_AUTO_APPROVE": "true"}))
    try:
        web.routes["/photo.jpg"] = Route(picture(640, 480, "JPEG"),
                                         content_type="image/jpeg")
        add_item(rt, "cosmos", "reading", link=web.url("/page/1"),
                 image_url=web.url("/photo.jpg"), image_alt=ALT)
        add_item(rt, "otter", "reading", link=web.url("/page/2"),
                 image_url=web.url("/gone.jpg"), image_alt=ALT)
        social.plan_week(rt, TEST, now=NOW)
        by_item: dict[str, set[str]] = {}
        for p in social_posts(rt).values():
            if p.image_url:
                by_item.setdefault(p.image_url.rsplit("/", 1)[1], set()).add(
                    p.status + (":kept" if p.media_name else ""))
        assert by_item["photo.jpg"] == {"approved:kept"}
        assert by_item["gone.jpg"] == {"planned"}  # back to an editor, with the reason
        assert all("Not approved: its image" in p.error for p in social_posts(rt).values()
                   if p.image_url.endswith("gone.jpg"))
    finally:
        rt.close()


# ------------------------------------------------------ outside bytes, one post alone

def test_a_card_picture_of_3000_by_1_is_kept_one_pixel_high(rt: Runtime,
                                                            web: FeedServer) -> None:
    web.routes["/strip.png"] = Route(picture(3000, 1), content_type="image/png")
    web.routes["/news"] = Route(page(image="/strip.png", alt="A ribbon"),
                                content_type="text/html")
    card = social_media.read_card(rt, web.url("/news"))
    assert card["warning"] == "" and card["image"].endswith(".png")
    kept = media.known(rt, [web.url("/strip.png")])[web.url("/strip.png")]
    assert (kept.width, kept.height) == (media.MAIL_WIDTH, 1)


@pytest.mark.parametrize("charset", ["idna", "punycode"])
def test_a_page_in_a_charset_no_page_uses_still_gives_its_card(
        rt: Runtime, web: FeedServer, editor: Any, charset: str) -> None:
    """Python knows these names, but they decode host names, not pages: with a non-ASCII
    byte they raised UnicodeError, and the card page answered 500. Read as UTF-8."""
    web.routes["/odd"] = Route(page(title="Qualité de l’air"),
                               content_type=f"text/html; charset={charset}")
    card = social_media.read_card(rt, web.url("/odd"))
    assert card["title"] == "Qualité de l’air"
    assert card["description"] == "Schools measure the air."
    [post_id] = planned(rt, ("linkedin",), link=web.url("/odd"))
    here = f"/editors/social/{post_id}"
    assert post(editor, f"{here}/card", here).status_code == 302
    assert "Qualité de l’air" in editor.get(here).get_data(as_text=True)


def test_a_post_whose_picture_is_2401_by_1_is_approved_from_its_page(
        rt: Runtime, web: FeedServer, editor: Any) -> None:
    web.routes["/strip.png"] = Route(picture(2401, 1), content_type="image/png")
    [post_id] = planned(rt, ("x",), link=web.url("/page/1"),
                        image_url=web.url("/strip.png"), image_alt=ALT)
    here = f"/editors/social/{post_id}"
    assert post(editor, f"{here}/approve", here).status_code == 302
    assert social_posts(rt)[post_id].status == "approved"


def test_approving_the_week_approves_what_it_can_and_says_why_beside_the_others(
        rt: Runtime, web: FeedServer, editor: Any) -> None:
    web.routes["/strip.png"] = Route(picture(2401, 1), content_type="image/png")
    web.routes["/moved.jpg"] = Route(b"<html>moved</html>", content_type="text/html")
    good = planned(rt, ("x", "mastodon"), link=web.url("/page/1"),
                   image_url=web.url("/strip.png"), image_alt=ALT)
    bad = planned(rt, ("linkedin", "bluesky"), link=web.url("/page/2"),
                  image_url=web.url("/moved.jpg"), image_alt=ALT)
    week = social.week_label(*social.week_of(NOW.date()))
    r = post(editor, "/editors/social/approve-week", f"/editors/social/?week={week}",
             week=week)
    assert r.status_code == 302
    posts = social_posts(rt)
    assert [posts[i].status for i in good] == ["approved", "approved"]
    assert [posts[i].status for i in bad] == ["planned", "planned"]
    html = editor.get(r.headers["Location"]).get_data(as_text=True)
    assert "2 post(s) approved" in html
    assert "2 post(s) could not be approved: the reason is beside each one." in html
    why = f"Not approved: its image {web.url('/moved.jpg')} cannot be used: it is not a picture"
    assert html.count(f'<p class="error">{why}') == 2
    # Once the picture is fixed, the same button approves them, and the reason goes.
    web.routes["/moved.jpg"] = Route(picture(64, 48, "JPEG"), content_type="image/jpeg")
    post(editor, "/editors/social/approve-week", f"/editors/social/?week={week}", week=week)
    assert {p.status for p in social_posts(rt).values()} == {"approved"}
    assert {p.error for p in social_posts(rt).values()} == {""}
