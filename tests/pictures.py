"""Odd pictures, made with Pillow, and what a kept file may still carry.

``corpus()`` is what members' sites serve in the wild: strips one pixel high or wide,
palettes, CMYK, 16-bit grey, alpha, animations, truncated files, progressive JPEGs, and
files that carry comments, EXIF with a GPS position, XMP, PNG text and an ICC profile
that is not sRGB. ``metadata_in`` reads a file's container (JPEG markers, PNG chunks, GIF
extensions, WebP chunks) and names what is there besides the pixels.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

from PIL import Image, PngImagePlugin

COMMENT = b"SECRET-COMMENT-7f3a"
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + COMMENT + b"</x:xmpmeta>"


def encoded(img: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def two_colours(width: int, height: int) -> Image.Image:
    img = Image.new("RGB", (width, height), (200, 60, 30))
    img.paste((20, 90, 200), (0, 0, max(1, width // 2), max(1, height // 2)))
    return img


def camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (50.0, 50.0, 0.0)}  # GPSInfo: where the photo was taken
    exif[0x010F] = "TestCam"  # Make
    exif[0x0112] = 6  # Orientation: turn 90° to show it upright
    return exif


# --------------------------------------------------------------------- an ICC profile

def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)


# sRGB's primaries, adapted to D50 as ICC profiles give them.
SRGB_RED = (0.4361, 0.2225, 0.0139)
SRGB_GREEN = (0.3851, 0.7169, 0.0971)
SRGB_BLUE = (0.1431, 0.0606, 0.7141)


def icc_rgb(red: tuple[float, float, float], green: tuple[float, float, float],
            blue: tuple[float, float, float], gamma: float = 2.2,
            name: str = "Not sRGB") -> bytes:
    """A minimal ICC v2 RGB display profile: three primaries and one gamma. Debian has
    no ICC files installed here, and Pillow makes only sRGB, Lab and XYZ profiles."""
    text = name.encode() + b"\0"
    desc = (b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8) + bytes(3)
            + bytes(67))
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))
    tags = [(b"desc", desc), (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"rXYZ", _xyz(*red)),
            (b"gXYZ", _xyz(*green)), (b"bXYZ", _xyz(*blue)), (b"rTRC", curve),
            (b"gTRC", curve), (b"bTRC", curve), (b"cprt", b"text" + bytes(4) + b"none\0")]
    start = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += bytes(-(start + len(data)) % 4)
        table += signature + struct.pack(">II", start + len(data), len(body))
        data += body
    data += bytes(-len(data) % 4)
    header = (struct.pack(">I", start + len(data)) + b"lcms" + bytes([2, 0x10, 0, 0])
              + b"mntr" + b"RGB " + b"XYZ " + bytes(12) + b"acsp" + bytes(28)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + bytes(4 + 16 + 28))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


# Red and green swapped: a pixel (255, 0, 0) in this profile is sRGB's pure green.
SWAPPED = icc_rgb(SRGB_GREEN, SRGB_RED, SRGB_BLUE, name="Red and green swapped")


# --------------------------------------------------------------------------- corpus

@dataclass(frozen=True)
class Odd:
    data: bytes
    kept: tuple[int, int] | None  # the kept size, or None: refused
    ext: str = ""  # the kept file's type


def corpus() -> dict[str, Odd]:
    frames = [two_colours(40, 30), Image.new("RGB", (40, 30), (0, 0, 0))]
    png_text = PngImagePlugin.PngInfo()
    png_text.add_text("Comment", COMMENT.decode())
    png_text.add_text("Author", "Someone", zip=True)
    png_text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    whole_png = encoded(two_colours(640, 480), "PNG")
    noise = encoded(Image.effect_noise((640, 480), 50).convert("RGB"), "JPEG")
    grey16 = Image.new("I;16", (64, 48))
    grey16.putdata([i * 21 for i in range(64 * 48)])
    return {
        "1x3000 png": Odd(encoded(two_colours(1, 3000), "PNG"), (1, 3000), "png"),
        "2401x1 png": Odd(encoded(two_colours(2401, 1), "PNG"), (1200, 1), "png"),
        "3000x1 jpeg": Odd(encoded(two_colours(3000, 1), "JPEG"), (1200, 1), "jpg"),
        "1x1 gif": Odd(encoded(Image.new("P", (1, 1)), "GIF"), (1, 1), "gif"),
        "palette png with transparency": Odd(encoded(two_colours(64, 48).convert(
            "P", palette=Image.Palette.ADAPTIVE, colors=8), "PNG", transparency=0),
            (64, 48), "png"),
        "palette gif 2500x3 with a comment": Odd(encoded(
            two_colours(2500, 3).convert("P"), "GIF", comment=COMMENT), (1200, 1), "gif"),
        "cmyk jpeg with a comment": Odd(encoded(two_colours(64, 48).convert("CMYK"), "JPEG",
                                                comment=COMMENT), (64, 48), "jpg"),
        "16-bit grey png": Odd(encoded(grey16, "PNG"), (64, 48), "png"),
        "grey with alpha (LA) png": Odd(encoded(Image.new("LA", (64, 48), (128, 100)),
                                                "PNG"), (64, 48), "png"),
        "RGBA webp 2401x2": Odd(encoded(Image.new("RGBA", (2401, 2), (10, 200, 30, 120)),
                                        "WEBP"), (1200, 1), "webp"),
        "animated gif with a comment": Odd(encoded(
            frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
            comment=COMMENT), (40, 30), "gif"),
        "animated webp": Odd(encoded(frames[0], "WEBP", save_all=True,
                                     append_images=frames[1:], duration=100), (40, 30),
                             "webp"),
        "truncated png": Odd(whole_png[: len(whole_png) // 2], None),
        "truncated jpeg": Odd(noise[: len(noise) // 2], None),
        "progressive jpeg with a comment": Odd(encoded(
            two_colours(1300, 900), "JPEG", progressive=True, comment=COMMENT), (1200, 831),
            "jpg"),
        "jpeg with EXIF, GPS and a turn": Odd(encoded(two_colours(80, 40), "JPEG",
                                                      exif=camera_exif()), (40, 80), "jpg"),
        "png with text, XMP and EXIF": Odd(encoded(two_colours(64, 48), "PNG",
                                                   pnginfo=png_text, exif=camera_exif()),
                                           (48, 64), "png"),
        "webp with EXIF and XMP": Odd(encoded(two_colours(64, 48), "WEBP",
                                              exif=camera_exif(), xmp=XMP), (48, 64), "webp"),
        "jpeg with a profile that is not sRGB": Odd(encoded(
            Image.new("RGB", (8, 8), (255, 0, 0)), "JPEG", icc_profile=SWAPPED, quality=95),
            (8, 8), "jpg"),
        "png with a profile that is not sRGB": Odd(encoded(
            Image.new("RGB", (8, 8), (255, 0, 0)), "PNG", icc_profile=SWAPPED), (8, 8), "png"),
        "png with a damaged profile": Odd(encoded(two_colours(8, 8), "PNG",
                                                  icc_profile=b"not a profile" * 20),
                                          (8, 8), "png"),
        "bmp": Odd(encoded(two_colours(10, 10), "BMP"), None),
        "html": Odd(b"<html><body>not a picture</body></html>", None),
        "empty": Odd(b"", None),
    }


# ------------------------------------------------------------------ what a file carries

def metadata_in(data: bytes) -> list[str]:
    """What ``data`` carries besides its pixels, read from its container: JPEG COM and
    APPn markers but JFIF, PNG chunks but the pixels' own, GIF comment and application
    extensions, WebP chunks but the image's. An empty list: pixels only."""
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(data)
    if data[:4] == b"GIF8":
        return _gif(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise AssertionError(f"not a kept file: {data[:12]!r}")


def _jpeg(data: bytes) -> list[str]:
    found, at = [], 2
    while at + 4 <= len(data):
        marker = data[at + 1]
        if marker == 0xDA:  # start of scan: the pixels follow
            break
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        segment = data[at + 4:at + 2 + length]
        if marker == 0xFE:
            found.append("COM")
        elif 0xE0 <= marker <= 0xEF and not (marker == 0xE0 and segment.startswith(b"JFIF")):
            found.append(f"APP{marker - 0xE0} {segment[:12]!r}")
        at += 2 + length
    return found


def _png(data: bytes) -> list[str]:
    found, at = [], 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind not in (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"):
            found.append(kind.decode("latin-1"))
        at += 12 + length
    return found


def _gif(data: bytes) -> list[str]:
    found = []
    at = 13
    if data[10] & 0x80:  # the global colour table
        at += 3 * 2 ** ((data[10] & 7) + 1)
    while at < len(data):
        block = data[at]
        if block == 0x3B:  # the trailer
            break
        if block == 0x21:  # an extension: its label, then sub-blocks
            label = data[at + 1]
            if label == 0xFE:
                found.append("comment extension")
            elif label == 0xFF:
                found.append("application extension")
            at += 2
        elif block == 0x2C:  # an image: descriptor, local colour table, LZW size
            flags = data[at + 9]
            at += 10 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0) + 1
        else:
            raise AssertionError(f"not a GIF block: {block:#x} at {at}")
        while data[at]:  # sub-blocks, each with its length, up to an empty one
            at += data[at] + 1
        at += 1
    return found


def _webp(data: bytes) -> list[str]:
    found, at = [], 12
    while at + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[at:at + 8])
        if kind not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"):
            found.append(kind.decode("latin-1"))
        at += 8 + length + (length & 1)
    return found
