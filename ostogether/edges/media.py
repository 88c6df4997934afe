"""Images the service fetches once and keeps, so that readers never load anything from a
member's site and a picture cannot change after the editors approved the issue.

An item's image is fetched through the outbound guard (``fetch``), checked with Pillow
(a real JPEG, PNG, GIF or WebP, within ``media_max_bytes`` and ``media_max_pixels``),
re-encoded with nothing but its pixels (no EXIF with a camera's GPS position, no XMP, no
JPEG or GIF comment, no PNG text; colours moved to sRGB from any other ICC profile) and
at most ``MAIL_WIDTH`` wide (twice the newsletter's column, for sharp screens), and
stored under ``media_dir`` by the SHA-256 of the stored bytes. ``/media/<sha256>.<ext>``
serves it, cacheable for ever: the name changes when the content does.

Whatever the bytes are, a picture is kept or refused with a reason: ValidationError for
the picture, FetchError when it cannot be fetched, nothing else; so one bad picture
never stops a page or another item. A picture sent from someone's computer (an item's
picture, a project's logo) is checked and kept the same way (``store_upload``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ostogether.core.errors import NotFound, OstogetherError, ValidationError
from ostogether.core.words import lazy_gettext as _l
from ostogether.edges import fetch
from ostogether.edges.runtime import Runtime
from ostogether.edges.wording import N_, say
from ostogether.models import MediaFile

log = logging.getLogger(__name__)
MAIL_WIDTH = 1200
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|png|gif|webp)$")


@dataclass(frozen=True)
class Stored:
    sha256: str
    ext: str
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{self.sha256}.{self.ext}"


def url_of(rt: Runtime, stored: Stored) -> str:
    return f"{rt.settings.public_url.rstrip('/')}/media/{stored.name}"


def _source_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def known(rt: Runtime, urls: list[str]) -> dict[str, Stored]:
    """The stored copies of the addresses fetched before."""
    if not urls:
        return {}
    with rt.db.session() as s:
        rows = list(s.scalars(select(MediaFile).where(
            MediaFile.source_hash.in_([_source_hash(u) for u in urls]))))
        return {r.source_url: Stored(r.sha256, r.ext, r.width, r.height) for r in rows}


def checked(data: bytes, max_pixels: int) -> tuple[bytes, str, int, int]:
    """The image re-encoded with its pixels only, at most ``MAIL_WIDTH`` wide; or
    ValidationError saying what is wrong with it. Whatever the bytes, nothing else is
    raised: a picture is kept or refused with a reason."""
    with warnings.catch_warnings():
        # Pillow's own guard (a process-wide limit, left at its default: it is shared by
        # every thread) warns above 89 million pixels and refuses twice that; the check
        # below refuses anything over ``max_pixels`` before decoding instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return _checked(data, max_pixels)


def _checked(data: bytes, max_pixels: int) -> tuple[bytes, str, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format or ""
            probe.verify()  # a truncated or forged file fails here
        if fmt not in FORMATS:
            raise ValidationError(
                say(N_("it is a %(format)s file, not a JPEG, PNG, GIF or WebP picture"),
                    format=fmt) if fmt else
                N_("it is an unknown file, not a JPEG, PNG, GIF or WebP picture"),
                {"image": "type"})
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ValidationError(say(N_("it is %(width)d×%(height)d pixels, more than "
                                             "%(limit)s"), width=width, height=height,
                                          limit=f"{max_pixels:,}"), {"image": "too large"})
            img.load()  # the first frame of an animation: mail clients show little else
            frame = img.copy()
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:
        raise ValidationError(say(N_("it is not a picture that can be read (%(why)s)"),
                                  why=str(exc)[:260]),
                              {"image": "unreadable"}) from None
    except Exception as exc:  # Pillow meets damaged data in many ways; none may escape
        log.info("picture refused: %s: %s", exc.__class__.__name__, exc)
        raise ValidationError(say(N_("it is not a picture that can be read (its data is "
                                     "damaged: %(error)s)"), error=exc.__class__.__name__),
                              {"image": "unreadable"}) from None
    try:
        return _encoded(frame, FORMATS[fmt])
    except Exception as exc:
        log.info("picture refused while re-encoding: %s: %s", exc.__class__.__name__, exc)
        raise ValidationError(say(N_("it cannot be re-encoded as a %(format)s picture "
                                     "(%(error)s); save it again as an ordinary JPEG or "
                                     "PNG"), format=fmt, error=exc.__class__.__name__),
                              {"image": "unreadable"}) from None


def _encoded(frame: Image.Image, ext: str) -> tuple[bytes, str, int, int]:
    """``frame`` as the kept file: its pixels only, at most ``MAIL_WIDTH`` wide."""
    frame = pixels_only(frame)
    if frame.width > MAIL_WIDTH:  # a 2401×1 strip stays 1 pixel high, never 0
        frame = frame.resize((MAIL_WIDTH, max(1, round(frame.height * MAIL_WIDTH
                                                         / frame.width))),
                             Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if ext == "jpg":
        frame.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif ext == "gif":
        frame.save(out, "GIF")  # the first frame: mail clients show little else anyway
    elif ext == "png":
        frame.save(out, "PNG", optimize=True)
    else:
        frame.save(out, "WEBP", quality=85)
    return out.getvalue(), ext, frame.width, frame.height


def pixels_only(frame: Image.Image) -> Image.Image:
    """The picture's pixels and nothing else: turned upright as its EXIF says, in sRGB
    when it came with another colour profile, 8 bits a channel, and without any metadata
    (EXIF with a camera's GPS position, XMP, JPEG and GIF comments, PNG text chunks, the
    ICC profile itself). Only what is part of the pixels stays: a palette's transparency.
    """
    frame = ImageOps.exif_transpose(frame) or frame
    if frame.mode.startswith("I"):  # 16-bit grey (PNG): scaled to 8 bits, not clipped
        frame = frame.convert("I").point(lambda v: v / 257).convert("L")
    icc = frame.info.get("icc_profile")
    if icc:
        frame = _to_srgb(frame, icc)
    frame.info = {k: v for k, v in frame.info.items() if k == "transparency"}
    return frame


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(frame: Image.Image, icc: bytes) -> Image.Image:
    """``frame``'s colours moved from its own profile to sRGB, which is what browsers and
    mail clients assume of a picture without one. A profile that cannot be read or used
    is dropped: the pixels are then taken as sRGB already."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = {"RGB": "RGB", "CMYK": "CMYK", "GRAY": "L"}.get(
            source.profile.xcolor_space.strip())
        if mode is None:  # Lab, XYZ...: not worth the trouble for a newsletter picture
            return frame
        if frame.mode == "P":
            frame = frame.convert("RGBA" if "transparency" in frame.info else "RGB")
        alpha = frame.getchannel("A") if frame.mode in ("RGBA", "LA") else None
        base = frame if frame.mode == mode else frame.convert(mode)
        out = ImageCms.profileToProfile(base, source, _srgb(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return frame
    assert out is not None  # inPlace=False always gives the new image
    if mode == "L":
        out = out.convert("L")
    if alpha is not None:
        out.putalpha(alpha)
    return out


def store(rt: Runtime, url: str) -> Stored:
    """The kept copy of the image at ``url``, fetching it the first time. Raises
    ValidationError (what is wrong with the image) or fetch.FetchError (why it could not
    be fetched)."""
    found = known(rt, [url]).get(url) or _own(rt, url)
    if found is not None and (rt.settings.media_path / found.name).is_file():
        return found
    st = rt.settings
    headers = {"User-Agent": fetch.user_agent(st.public_url, "newsletter image"),
               "Accept": "image/*"}
    r = fetch.get(url, fetch.parse_allow(st.fetch_allow), st.link_limits(st.media_max_bytes),
                  headers=headers)
    if r.status != 200:
        raise fetch.FetchError(say(N_("the address answered %(status)d %(reason)s"),
                                   status=r.status, reason=r.reason), "answer")
    return _keep(rt, r.body, url)


def _own(rt: Runtime, url: str) -> Stored | None:
    """A copy this service keeps, named in ``url`` (``…/media/<sha256>.<ext>``): the
    name is the hash of the bytes, so whatever host the address names, the file here is
    that picture (an upload, or an address from before ``base_url`` changed)."""
    m = NAME.match(url.rsplit("/", 1)[-1])
    if m is None:
        return None
    with rt.db.session() as s:
        row = s.scalars(select(MediaFile).where(MediaFile.sha256 == m.group(1),
                                                MediaFile.ext == m.group(2))).first()
        return Stored(row.sha256, row.ext, row.width, row.height) if row else None


def store_upload(rt: Runtime, data: bytes) -> Stored:
    """The kept copy of a picture sent from someone's computer: checked, re-encoded and
    stored as a fetched one is. Raises ValidationError saying what is wrong with it."""
    cap = rt.settings.media_max_bytes
    if len(data) > cap:
        raise ValidationError(say(N_("it is %(size)s bytes, more than %(limit)s"),
                                  size=f"{len(data):,}", limit=f"{cap:,}"),
                              {"image": "too large"})
    return _keep(rt, data, "upload:" + hashlib.sha256(data).hexdigest())


def keep_upload(rt: Runtime, data: bytes) -> str:
    """``store_upload``, as the address of the kept copy at this service, which an item
    can carry as its picture (``store`` knows it without fetching)."""
    return url_of(rt, store_upload(rt, data))


def _keep(rt: Runtime, raw: bytes, source: str) -> Stored:
    """Check, re-encode and store ``raw``; remember it under ``source`` (its address)."""
    data, ext, width, height = checked(raw, rt.settings.media_max_pixels)
    digest = hashlib.sha256(data).hexdigest()
    folder = rt.settings.media_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.{ext}"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    stored = Stored(digest, ext, width, height)
    try:
        with rt.db.session() as s:
            row = s.scalar(select(MediaFile).where(
                MediaFile.source_hash == _source_hash(source)))
            if row is None:
                s.add(MediaFile(source_hash=_source_hash(source), source_url=source[:2000],
                                sha256=digest, ext=ext, width=width, height=height,
                                size=len(data)))
    except IntegrityError:  # stored by another process at the same moment
        pass
    return stored


def keep_all(rt: Runtime, urls: list[str]) -> list[str]:
    """Keep each picture; what could not be kept, as "address: why". One picture's
    failure never stops the others."""
    problems = []
    for url in sorted({u for u in urls if u}):
        try:
            store(rt, url)
        except OstogetherError as exc:  # ValidationError, FetchError
            problems.append(f"{url}: {exc}")
    return problems


def unserved(rt: Runtime, urls: list[str]) -> tuple[list[str], str]:
    """Ask the service itself, at its public address, for the kept copy of each picture
    of ``urls``, as a reader's mail client will: (each picture the service does not
    serve, as "address: why"; why the service could not be asked at all, or "").

    A picture on disk that the web process cannot serve (a path read against the wrong
    folder, say) is as broken for readers as a picture never kept. The address is the
    operator's own (``base_url``, or where ``serve`` listens), a setting rather than
    outside input, so it is asked directly, not through the outbound guard (which
    refuses loopback).
    """
    kept = known(rt, urls)
    problems: list[str] = []
    with requests.Session() as http:
        for source in sorted(kept):
            address = url_of(rt, kept[source])
            try:
                r = http.get(address, timeout=rt.settings.link_check_timeout,
                             allow_redirects=False, stream=True)
                r.close()
            except requests.RequestException as exc:
                return [], say(N_("the service did not answer at %(url)s (%(error)s), so no "
                                  "picture was asked for as a reader would; open "
                                  "%(address)s in a browser"), url=rt.settings.public_url,
                               error=type(exc).__name__, address=address)
            kind = r.headers.get("Content-Type", "")
            if r.status_code != 200 or not kind.startswith("image/"):
                problems.append(say(N_("%(source)s: kept, but %(address)s answers "
                                       "%(status)d %(type)s instead of the picture"),
                                    source=source, address=address, status=r.status_code,
                                    type=kind) if kind else
                                say(N_("%(source)s: kept, but %(address)s answers "
                                       "%(status)d with no type instead of the picture"),
                                    source=source, address=address, status=r.status_code))
    return problems, ""


def file_for(rt: Runtime, name: str) -> tuple[Path, str]:
    """The stored file called ``name`` and its type, or NotFound."""
    m = NAME.match(name)
    path = rt.settings.media_path / name if m else None
    if path is None or not path.is_file():
        raise NotFound(_l("There is no such picture here."))
    return path, TYPES[m.group(2)]  # type: ignore[union-attr]
