"""The five networks' picture uploads, for the loopback fake in ``social_fakes``.

Each endpoint checks the shape its platform documents and that what it receives is a
real picture within the network's limits; every upload is recorded in ``uploads``, and
a post may only refer to an upload the fake made (a media id, image URN or blob), with
its description:

- X: ``POST /2/media/upload`` (multipart ``media``, ``media_category=tweet_image``,
  OAuth 1.0a signed), ``POST /2/media/metadata`` (``alt_text``); the tweet's
  ``media.media_ids``.
- Facebook: ``POST /{version}/{page}/photos`` (multipart ``source``, ``message``).
- LinkedIn: ``POST /rest/images?action=initializeUpload`` then ``PUT`` to the
  ``uploadUrl``; the post's ``content.media`` (``id``, ``altText``) or article
  ``thumbnail``.
- Mastodon: ``POST /api/v2/media`` (multipart ``file``, ``description``) answers 202;
  ``GET /api/v1/media/:id`` answers 206 once, then 200; the status's ``media_ids``.
- Bluesky: ``com.atproto.repo.uploadBlob`` (raw bytes, ≤ 1,000,000); the record's
  ``app.bsky.embed.images`` (``alt``, ``aspectRatio``) or external ``thumb``.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image


class Bad(Exception):
    """A request that breaks the documented shape."""


@dataclass
class Upload:
    network: str
    ref: str
    size: int
    mime: str
    width: int
    height: int
    alt: str = ""
    ready: bool = False
    asked: int = 0


def multipart(headers: dict[str, str], raw: bytes) -> dict[str, tuple[bytes, str]]:
    """name → (bytes, content type) of a multipart/form-data body."""
    kind = headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise Bad(f"the body must be multipart/form-data, not {kind!r}")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {kind}\r\n\r\n".encode() + raw)
    parts: dict[str, tuple[bytes, str]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = (part.get_payload(decode=True) or b"", part.get_content_type())
    return parts


def picture(data: bytes, max_bytes: int) -> tuple[int, int, str]:
    if not data:
        raise Bad("the picture is empty")
    if len(data) > max_bytes:
        raise Bad(f"the picture is {len(data)} bytes, over {max_bytes}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
            return img.size[0], img.size[1], img.format or ""
    except Exception as exc:
        raise Bad(f"not a picture: {exc}") from None


class MediaFakes:
    """Mixed into ``FakeNetworks``: needs ``lock``, ``ids`` and ``url``."""

    def _init_media(self) -> None:
        self.uploads: dict[str, Upload] = {}
        self.upload_log: list[Upload] = []
        self.linkedin_pending: dict[str, str] = {}  # upload path -> image URN
        self.mastodon_processing = 1  # how many times a new picture answers 206

    def _record(self, upload: Upload) -> None:
        with self.lock:  # type: ignore[attr-defined]
            self.uploads[upload.ref] = upload
            self.upload_log.append(upload)

    def uploaded(self, network: str | None = None) -> list[Upload]:
        with self.lock:  # type: ignore[attr-defined]
            return [u for u in self.upload_log if network in (None, u.network)]

    def _known(self, ref: str, network: str) -> Upload:
        with self.lock:  # type: ignore[attr-defined]
            found = self.uploads.get(ref)
        if found is None or found.network != network:
            raise Bad(f"{ref!r} is not an upload of this account")
        return found

    def _next(self) -> int:
        with self.lock:  # type: ignore[attr-defined]
            return next(self.ids)  # type: ignore[attr-defined]

    # -- X
    def x_media_upload(self, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        parts = multipart(headers, raw)
        if parts.get("media_category", (b"",))[0] != b"tweet_image":
            raise Bad("media_category=tweet_image is needed")
        data, mime = parts.get("media", (b"", ""))
        w, h, _ = picture(data, 5 * 1024 * 1024)
        media_id = str(1_900_000_000_000 + self._next())
        self._record(Upload("x", media_id, len(data), mime, w, h))
        return 200, {"data": {"id": media_id, "media_key": f"3_{media_id}",
                              "expires_after_secs": 86400, "size": len(data)}}

    def x_media_metadata(self, body: dict[str, Any]) -> tuple[int, Any]:
        upload = self._known(str(body.get("id", "")), "x")
        text = (body.get("metadata") or {}).get("alt_text", {}).get("text", "")
        if not isinstance(text, str) or not 0 < len(text) <= 1000:
            raise Bad("metadata.alt_text.text must be 1–1000 characters")
        upload.alt = text
        return 200, {"data": {"id": upload.ref, "associated_metadata": {
            "alt_text": {"text": text}}}}

    def x_tweet_media(self, body: dict[str, Any]) -> None:
        media = body.get("media")
        if media is None:
            return
        ids = media.get("media_ids") if isinstance(media, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
            raise Bad("media.media_ids must list 1–4 ids")
        for media_id in ids:
            if not self._known(str(media_id), "x").alt:
                raise Bad(f"media {media_id} has no alt text")

    # -- Facebook
    def facebook_photo(self, headers: dict[str, str], raw: bytes, token: str
                       ) -> tuple[str, dict[str, str]]:
        parts = multipart(headers, raw)
        form = {k: v.decode() for k, (v, kind) in parts.items() if k != "source"}
        if form.get("access_token") != token:
            raise Bad("a Page access token is needed")
        data, mime = parts.get("source", (b"", ""))
        w, h, _ = picture(data, 4 * 1024 * 1024)
        photo = str(self._next())
        self._record(Upload("facebook", photo, len(data), mime, w, h, ready=True))
        return photo, form

    # -- LinkedIn
    def linkedin_init(self, body: dict[str, Any], org: str) -> tuple[int, Any]:
        owner = (body.get("initializeUploadRequest") or {}).get("owner")
        if owner != f"urn:li:organization:{org}":
            raise Bad(f"initializeUploadRequest.owner is {owner!r}")
        n = self._next()
        urn, path = f"urn:li:image:C4D{n}", f"/dms-uploads/{n}"
        with self.lock:  # type: ignore[attr-defined]
            self.linkedin_pending[path] = urn
        return 200, {"value": {"uploadUrlExpiresAt": 1_900_000_000_000,
                               "uploadUrl": f"{self.url}{path}", "image": urn}}  # type: ignore[attr-defined]

    def linkedin_put(self, path: str, headers: dict[str, str], raw: bytes,
                     token: str) -> int:
        if headers.get("authorization") != f"Bearer {token}":
            raise Bad("the upload needs Authorization: Bearer <token>")
        with self.lock:  # type: ignore[attr-defined]
            urn = self.linkedin_pending.pop(path, None)
        if urn is None:
            raise Bad(f"no upload was initialised at {path}")
        w, h, _ = picture(raw, 36_152_320 * 4)
        if w * h > 36_152_320:
            raise Bad("the image is over 36,152,320 pixels")
        self._record(Upload("linkedin", urn, len(raw), headers.get("content-type", ""), w, h,
                            ready=True))
        return 201

    def linkedin_content(self, body: dict[str, Any]) -> None:
        content = body.get("content") or {}
        if "media" in content:
            media = content["media"]
            self._known(str(media.get("id", "")), "linkedin")
            if not str(media.get("altText", "")).strip():
                raise Bad("content.media.altText is needed for an image")
        thumb = (content.get("article") or {}).get("thumbnail")
        if thumb is not None:
            self._known(str(thumb), "linkedin")

    # -- Mastodon
    def mastodon_media(self, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        parts = multipart(headers, raw)
        data, mime = parts.get("file", (b"", ""))
        w, h, _ = picture(data, 16 * 1024 * 1024)
        description = parts.get("description", (b"", ""))[0].decode()
        media_id = str(self._next())
        self._record(Upload("mastodon", media_id, len(data), mime, w, h, alt=description))
        return 202, {"id": media_id, "type": "image", "url": None,
                     "description": description or None}

    def mastodon_media_status(self, media_id: str) -> tuple[int, Any]:
        upload = self._known(media_id, "mastodon")
        upload.asked += 1  # 206 while it is processing: the first ``mastodon_processing``
        was_ready = upload.ready = upload.ready or upload.asked > self.mastodon_processing
        return (200 if was_ready else 206), {
            "id": media_id, "type": "image", "description": upload.alt or None,
            "url": f"https://masto.test/media/{media_id}.jpg" if was_ready else None}

    def mastodon_status_media(self, body: dict[str, Any]) -> None:
        for media_id in body.get("media_ids") or []:
            upload = self._known(str(media_id), "mastodon")
            if not upload.ready:
                raise Bad(f"media {media_id} is still processing (422 in Mastodon)")
            if not upload.alt:
                raise Bad(f"media {media_id} has no description")

    # -- Bluesky
    def bluesky_blob(self, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        mime = headers.get("content-type", "")
        if not mime.startswith("image/"):
            raise Bad(f"uploadBlob needs the picture's type, not {mime!r}")
        w, h, _ = picture(raw, 1_000_000)
        cid = f"bafkrei{self._next()}"
        self._record(Upload("bluesky", cid, len(raw), mime, w, h, ready=True))
        return 200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                              "size": len(raw)}}

    def bluesky_embed(self, embed: dict[str, Any]) -> None:
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = embed.get("images") or []
            if not 1 <= len(images) <= 4:
                raise Bad("app.bsky.embed.images takes 1–4 images")
            for image in images:
                self._blob(image.get("image"))
                if not isinstance(image.get("alt"), str) or not image["alt"].strip():
                    raise Bad("each image needs its alt text")
                ratio = image.get("aspectRatio") or {}
                if not (isinstance(ratio.get("width"), int) and ratio["width"] > 0
                        and isinstance(ratio.get("height"), int) and ratio["height"] > 0):
                    raise Bad("aspectRatio needs positive width and height")
        elif kind == "app.bsky.embed.external":
            external = embed.get("external") or {}
            if not external.get("uri") or "title" not in external \
                    or "description" not in external:
                raise Bad("external needs uri, title and description")
            if "thumb" in external:
                self._blob(external["thumb"])
        else:
            raise Bad(f"unexpected embed {kind!r}")

    def _blob(self, blob: Any) -> None:
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            raise Bad("an image must be a blob reference ($type blob)")
        upload = self._known(str((blob.get("ref") or {}).get("$link", "")), "bluesky")
        if blob.get("mimeType") != upload.mime or blob.get("size") != upload.size:
            raise Bad("the blob reference does not match the upload")
