"""A post's picture and link card: kept when the post is approved, never fetched again.

- **The post's own picture** (an item's or evergreen entry's image) goes through the one
  media pipeline (``ostogether.edges.media``): fetched once through the outbound guard,
  checked, stripped of its metadata and stored by its hash. A picture that cannot be
  kept, or one without a description, stops the approval with the reason.
- **A link card**, for a post with a link and no picture: the page's Open Graph tags
  (``og:title``, ``og:description``, ``og:image``, ``og:image:alt``; ``twitter:`` tags
  and ``<title>`` as fallbacks), read through the guard; the preview image is kept the
  same way. LinkedIn's article thumbnail and Bluesky's external embed are built from it,
  and the calendar shows it. A page without a preview image, or one that cannot be read,
  gives a warning, never a refusal: the post can still go out as text and link.
- **Each network's copy** (``variant``, pure) is re-encoded from the kept file to that
  network's documented limits (``LIMITS``), at publish time, from disk.
"""

from __future__ import annotations

import html.parser
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from PIL import Image

from ostogether.core.errors import OstogetherError, ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import fetch, media
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from ostogether.social import said

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """What a network takes for a post's image, as its documentation gives it."""

    max_bytes: int
    max_pixels: int
    max_side: int
    formats: tuple[str, ...]  # Pillow's names
    source: str


MB = 1024 * 1024
LIMITS: dict[str, Limit] = {
    # docs.x.com, "Media best practices": images up to 5 MB; JPG, PNG, GIF, WEBP.
    "x": Limit(5 * MB, 8192 * 8192, 8192, ("JPEG", "PNG", "GIF", "WEBP"),
               "X: 5 MB, JPEG/PNG/GIF/WebP"),
    # Graph API, Page photos: JPEG, BMP, PNG, GIF, TIFF; under 4 MB is the safe size.
    "facebook": Limit(4 * MB, 8192 * 8192, 8192, ("JPEG", "PNG", "GIF"),
                      "Facebook: 4 MB, JPEG/PNG/GIF"),
    # LinkedIn Images API: JPG, GIF, PNG; fewer than 36,152,320 pixels.
    "linkedin": Limit(8 * MB, 36_152_320, 6012, ("JPEG", "PNG", "GIF"),
                      "LinkedIn: 36,152,320 pixels, JPEG/PNG/GIF (8 MB kept here)"),
    # Mastodon's defaults (instance configuration.media_attachments): 16 MB and
    # 3840×2160 = 8,294,400 pixels; smaller instances may set less, so 8 MB is kept.
    "mastodon": Limit(8 * MB, 8_294_400, 3840, ("JPEG", "PNG", "GIF", "WEBP"),
                      "Mastodon: 8,294,400 pixels, 16 MB by default (8 MB kept here)"),
    # app.bsky.embed.images / external thumb: blob maxSize 1,000,000 bytes; image/*.
    "bluesky": Limit(1_000_000, 2000 * 2000, 2000, ("JPEG", "PNG", "WEBP"),
                     "Bluesky: 1,000,000 bytes per blob, JPEG/PNG/WebP"),
}
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class Variant:
    data: bytes
    mime: str
    width: int
    height: int


def variant(data: bytes, network: str) -> Variant:
    """The kept picture as ``network`` takes it: the same bytes when they are within its
    limits, else re-encoded as JPEG (smaller, then lower quality) until they are.
    ValidationError when the bytes cannot be read or re-encoded."""
    try:
        return _variant(data, network)
    except Exception as exc:  # picture bytes never raise past their step
        raise ValidationError(f"the kept picture cannot be re-encoded for {network} "
                              f"({exc.__class__.__name__})", {"image": "unreadable"}
                              ) from None


def _variant(data: bytes, network: str) -> Variant:
    limit = LIMITS[network]
    with Image.open(io.BytesIO(data)) as img:
        fmt, (w, h) = img.format or "", img.size
        if (fmt in limit.formats and len(data) <= limit.max_bytes
                and w * h <= limit.max_pixels and max(w, h) <= limit.max_side):
            return Variant(data, MIME[fmt], w, h)
        img.load()
        frame = img.convert("RGBA") if img.mode in ("RGBA", "LA", "P") else img.convert("RGB")
    if frame.mode == "RGBA":  # JPEG has no transparency: flatten on white
        white = Image.new("RGB", frame.size, (255, 255, 255))
        white.paste(frame, mask=frame.getchannel("A"))
        frame = white
    scale = min(1.0, limit.max_side / max(w, h), (limit.max_pixels / (w * h)) ** 0.5)
    for quality in (85, 75, 65, 55, 45):
        size = (max(1, int(w * scale)), max(1, int(h * scale)))
        resized = frame if size == frame.size else frame.resize(size, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
        if out.tell() <= limit.max_bytes:
            return Variant(out.getvalue(), "image/jpeg", *size)
        scale *= 0.8
    return Variant(out.getvalue(), "image/jpeg", *size)  # as small as it goes


# ------------------------------------------------------------------------ link cards

CARD_MAX_BYTES = 1_000_000
NO_IMAGE = said.CARD_NO_IMAGE  # a card's warning is kept with the post, in English


class _Head(html.parser.HTMLParser):
    """The ``<meta>`` tags and ``<title>`` of a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").strip().lower()
            if key and key not in self.meta and a.get("content", "").strip():
                self.meta[key] = a["content"].strip()
        elif tag == "title":
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = data.strip()


def parse_card(page: str, base_url: str) -> dict[str, str]:
    """The card a page asks for (pure): title, description, image address and its alt."""
    head = _Head()
    for chunk in re.split(r"(?=<body)", page, maxsplit=1, flags=re.I)[:1]:
        head.feed(chunk)
    m = head.meta
    image = m.get("og:image:secure_url") or m.get("og:image") or m.get("og:image:url") \
        or m.get("twitter:image") or m.get("twitter:image:src") or ""
    image = urljoin(base_url, image) if image else ""
    if image and not image.startswith(("http://", "https://")):
        image = ""
    return {"title": (m.get("og:title") or m.get("twitter:title") or head.title)[:300],
            "description": (m.get("og:description") or m.get("twitter:description")
                            or m.get("description") or "")[:1000],
            "image_url": image[:2000],
            "image_alt": (m.get("og:image:alt") or m.get("twitter:image:alt") or "")[:1000]}


def page_address(link: str) -> str:
    """The page a post links to, without the service's own campaign parameters."""
    try:
        parts = urlsplit(link)
    except ValueError:  # not a URL at all: the guard says why when it is fetched
        return link
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def read_card(rt: Runtime, link: str) -> dict[str, str]:
    """The link's card, read through the guard, its image kept. Never raises: what went
    wrong is the card's ``warning``."""
    st = rt.settings
    url = page_address(link)
    card = {"url": url, "title": "", "description": "", "image": "", "image_alt": "",
            "warning": ""}
    headers = {"User-Agent": fetch.user_agent(st.public_url, "link preview"),
               "Accept": "text/html,application/xhtml+xml"}
    try:
        r = fetch.get(url, fetch.parse_allow(st.fetch_allow), st.link_limits(CARD_MAX_BYTES),
                      headers=headers)
    except fetch.FetchError as exc:
        card["warning"] = said.record(said.CARD_UNREADABLE, error=exc)
        return card
    kind = r.headers.get("content-type", "").split(";")[0].strip().lower()
    if r.status != 200 or kind not in ("text/html", "application/xhtml+xml"):
        card["warning"] = (said.record(said.CARD_NOT_A_PAGE, status=r.status, kind=kind)
                           if kind else said.record(said.CARD_NOT_A_PAGE_UNTYPED,
                                                    status=r.status))
        return card
    try:
        found = parse_card(decoded(r.body, r.headers.get("content-type", "")), url)
    except Exception as exc:  # outside bytes never raise past their step
        log.info("card of %s: %s", url[:200], exc.__class__.__name__)
        card["warning"] = said.record(said.CARD_DAMAGED, error=exc.__class__.__name__)
        return card
    card.update(title=found["title"], description=found["description"],
                image_alt=found["image_alt"])
    if not found["image_url"]:
        card["warning"] = NO_IMAGE
        return card
    try:
        card["image"] = media.store(rt, found["image_url"]).name
    except OstogetherError as exc:  # ValidationError, FetchError
        card["warning"] = said.record(said.CARD_IMAGE_UNUSABLE, url=found["image_url"],
                                      error=exc)
    return card


# Codecs Python finds by these names that decode something other than a web page.
NOT_FOR_PAGES = frozenset({"idna", "punycode", "raw_unicode_escape", "raw-unicode-escape",
                           "unicode_escape", "unicode-escape", "undefined"})


def decoded(body: bytes, content_type: str) -> str:
    """A page's text in the charset its Content-Type names, or UTF-8 (with replacement
    characters) when that charset is unknown, bogus, or one of Python's codecs that is
    not for documents: ``idna`` and ``punycode`` refuse "replace" and raise on any
    non-ASCII byte, ``base64`` and ``rot13`` are not text encodings at all."""
    m = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    if m and m.group(1).lower() not in NOT_FOR_PAGES:
        try:
            return body.decode(m.group(1), errors="replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            pass
    return body.decode("utf-8", errors="replace")



@dataclass(frozen=True)
class Prepared:
    """What approval keeps of a post: its picture's stored name, or its link's card."""

    media_name: str = ""
    card: dict[str, str] | None = None


def prepare(rt: Runtime, *, image_url: str, image_alt: str, link: str,
            cards: dict[str, dict[str, str]] | None = None) -> Prepared:
    """Keep the post's picture (ValidationError when it has no description or cannot be
    kept), or read its link's card (``cards`` shares them between a content's posts)."""
    if image_url:
        if not image_alt.strip():
            raise ValidationError(_l(said.NO_DESCRIPTION),
                                  {"image_alt": _l("describe the image")})
        try:
            return Prepared(media_name=media.store(rt, image_url).name)
        except OstogetherError as exc:  # ValidationError, FetchError
            raise ValidationError(_l(said.IMAGE_UNUSABLE, url=image_url, error=exc),
                                  {"image_url": exc.message}) from None
    if not link:
        return Prepared()
    key = page_address(link)
    if cards is None or key not in cards:
        card = read_card(rt, link)
        if cards is None:
            return Prepared(card=card)
        cards[key] = card
    return Prepared(card=cards[key])


def keep_for(rt: Runtime, posts: Sequence[SocialPost]
             ) -> tuple[dict[int, Prepared], dict[int, ValidationError]]:
    """Each post's kept picture or link card (a post prepared before keeps its own), and
    why each post that cannot be approved cannot (its id → the refusal). One post's
    picture never stops another's."""
    cards: dict[str, dict[str, str]] = {}
    kept, refused = {}, {}
    for post in posts:
        on_disk = post.media_name and (rt.settings.media_path / post.media_name).is_file()
        if on_disk or (post.card is not None and not post.image_url):
            continue
        try:
            kept[post.id] = prepare(rt, image_url=post.image_url, image_alt=post.image_alt,
                                    link=post.link, cards=cards)
        except ValidationError as exc:
            refused[post.id] = exc
    return kept, refused


# ------------------------------------------------------------------------- preview

CARD_BUILDERS = {
    "x": _l("X builds the card from the page's own tags when it shows the post."),
    "facebook": _l("Facebook builds the card from the page's own tags when it shows the "
                   "post."),
    "mastodon": _l("Mastodon builds the card from the page's own tags when it shows the "
                   "post."),
    "linkedin": _l("LinkedIn shows only what the post gives it: this card, with its picture "
                   "uploaded as the article's thumbnail."),
    "bluesky": _l("Bluesky shows only what the post gives it: this card, with its picture "
                  "uploaded as the embed's thumbnail."),
}


@dataclass(frozen=True)
class Appearance:
    """How a post will show on its network (pure): its picture or its link's card."""

    kind: str  # "picture", "card" or "text"
    picture: str = ""  # the kept file's name, to show from /media/
    alt: str = ""
    pending: bool = False  # not kept or read yet: that happens at approval
    card: dict[str, str] | None = None
    note: Any = ""  # a sentence, shown in the page's language
    warning: str = ""  # the card's stored warning (``said.shown`` words it)


def appearance(post: SocialPost) -> Appearance:
    """How ``post`` will show on its network, for the post page and ``social preview``."""
    network, media_name, image_url = post.network, post.media_name, post.image_url
    image_alt, link, card = post.image_alt, post.link, post.card
    title, description = post.title, post.description
    if image_url or media_name:
        note = (_l("The picture is posted as a photo with the text as its caption, with its "
                   "description; the link stays in the text.") if network == "facebook" else
                _l("The picture is uploaded with the post, with its description; the link "
                   "stays in the text."))
        return Appearance("picture", picture=media_name, alt=image_alt,
                          pending=not media_name, note=note)
    if not link:
        return Appearance("text")
    shown = dict(card or {})
    shown["title"] = shown.get("title") or title
    shown["description"] = shown.get("description") or description
    shown["host"] = urlsplit(link).netloc
    return Appearance("card", picture=shown.get("image", ""), alt=shown.get("image_alt", ""),
                      pending=card is None, card=shown, note=CARD_BUILDERS[network],
                      warning=shown.get("warning", ""))
