"""Images the service fetches once and keeps, so that readers never load anything from a
member's site and a picture cannot change after the editors approved the issue.

An item's image is fetched through the outbound guard (``fetch``), checked with Pillow
(a real JPEG, PNG, GIF or WebP, within ``media_max_bytes`` and ``media_max_pixels``),
re-encoded without its metadata (a camera's GPS position, say) and at most
``MAIL_WIDTH`` wide (twice the newsletter's column, for sharp screens), and stored under
``media_dir`` by the SHA-256 of the stored bytes. ``/media/<sha256>.<ext>`` serves it,
cacheable for ever: the name changes when the content does. A picture sent from
someone's computer (a project's logo) is checked and kept the same way (``store_upload``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import requests
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ostogether import fetch
from ostogether.errors import NotFound, ValidationError
from ostogether.models import MediaFile
from ostogether.runtime import Runtime

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
    """The image re-encoded without metadata, at most ``MAIL_WIDTH`` wide; or
    ValidationError saying what is wrong with it."""
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
            raise ValidationError(f"it is a {fmt or 'unknown'} file, not a JPEG, PNG, GIF or "
                                  f"WebP picture", {"image": "type"})
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ValidationError(f"it is {width}×{height} pixels, more than "
                                      f"{max_pixels:,}", {"image": "too large"})
            img.load()
            frame = img.copy()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"it is not a picture that can be read ({exc})"[:300],
                              {"image": "unreadable"}) from None
    if frame.width > MAIL_WIDTH:
        frame = frame.resize((MAIL_WIDTH, round(frame.height * MAIL_WIDTH / frame.width)),
                             Image.Resampling.LANCZOS)
    ext = FORMATS[fmt]
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


def store(rt: Runtime, url: str) -> Stored:
    """The kept copy of the image at ``url``, fetching it the first time. Raises
    ValidationError (what is wrong with the image) or fetch.FetchError (why it could not
    be fetched)."""
    found = known(rt, [url]).get(url)
    if found is not None and (rt.settings.media_path / found.name).is_file():
        return found
    st = rt.settings
    headers = {"User-Agent": fetch.user_agent(st.public_url, "newsletter image"),
               "Accept": "image/*"}
    r = fetch.get(url, fetch.parse_allow(st.fetch_allow), st.link_limits(st.media_max_bytes),
                  headers=headers)
    if r.status != 200:
        raise fetch.FetchError(f"the address answered {r.status} {r.reason}", "answer")
    return _keep(rt, r.body, url)


def store_upload(rt: Runtime, data: bytes) -> Stored:
    """The kept copy of a picture sent from someone's computer: checked, re-encoded and
    stored as a fetched one is. Raises ValidationError saying what is wrong with it."""
    cap = rt.settings.media_max_bytes
    if len(data) > cap:
        raise ValidationError(f"it is {len(data):,} bytes, more than {cap:,}",
                              {"image": "too large"})
    return _keep(rt, data, "upload:" + hashlib.sha256(data).hexdigest())


def _keep(rt: Runtime, raw: bytes, source: str) -> Stored:
    """Check, re-encode and store ``raw``; remember it under ``source`` (its address)."""
    st = rt.settings
    data, ext, width, height = checked(raw, st.media_max_pixels)
    digest = hashlib.sha256(data).hexdigest()
    folder = st.media_path
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
    """Keep each picture; what could not be kept, as "address: why"."""
    problems = []
    for url in sorted({u for u in urls if u}):
        try:
            store(rt, url)
        except (ValidationError, fetch.FetchError) as exc:
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
                return [], (f"the service did not answer at {rt.settings.public_url} "
                            f"({type(exc).__name__}), so no picture was asked for as a "
                            f"reader would; open {address} in a browser")
            kind = r.headers.get("Content-Type", "")
            if r.status_code != 200 or not kind.startswith("image/"):
                problems.append(f"{source}: kept, but {address} answers {r.status_code} "
                                f"{kind or 'with no type'} instead of the picture")
    return problems, ""


def file_for(rt: Runtime, name: str) -> tuple[Path, str]:
    """The stored file called ``name`` and its type, or NotFound."""
    m = NAME.match(name)
    path = rt.settings.media_path / name if m else None
    if path is None or not path.is_file():
        raise NotFound("There is no such picture here.")
    return path, TYPES[m.group(2)]  # type: ignore[union-attr]
