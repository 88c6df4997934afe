"""The directory's map: an SVG of Europe drawn on the server from Natural Earth's
boundaries (``data/countries-110m.json``, world-atlas 2.0.2, public domain; see
``data/README.md``), with the members per country as a shade and a ``<title>``, and a
point where an organisation's position is known. No tiles, no scripts.

``arcs_to_rings`` decodes TopoJSON (quantised, delta-encoded arcs) and ``project`` is an
equirectangular projection with the scale of 52°N, cropped to Europe. Pure but for
reading the data file once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache, lru_cache
from html import escape
from pathlib import Path
from typing import Any

import pycountry
from babel import Locale

DATA = Path(__file__).resolve().parent / "data" / "countries-110m.json"
# Europe and its neighbours: west, south, east, north (degrees).
BOX = (-25.0, 34.0, 45.0, 71.5)
WIDTH = 640.0
K = math.cos(math.radians(52))
SCALE = WIDTH / ((BOX[2] - BOX[0]) * K)
HEIGHT = round((BOX[3] - BOX[1]) * SCALE, 1)
# Shades for 0, 1, 2–4, 5–9 and 10 or more members (light to dark; the darkest two
# keep a white outline distinct).
SHADES = ("#e8ecef", "#b9d7ea", "#7fb3d5", "#3b83bd", "#1d4f91")
NAMES = {"Kosovo": "XK", "N. Cyprus": "CY"}


def shade(n: int) -> str:
    return SHADES[0 if n <= 0 else 1 if n == 1 else 2 if n < 5 else 3 if n < 10 else 4]


def project(lon: float, lat: float) -> tuple[float, float]:
    """Degrees to the SVG's coordinates (y down)."""
    return (round((lon - BOX[0]) * K * SCALE, 1), round((BOX[3] - lat) * SCALE, 1))


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Every arc of a quantised TopoJSON topology as (longitude, latitude) points."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def arcs_to_rings(indexes: Sequence[Sequence[int]],
                  arcs: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
    """A polygon's rings: each a list of arc indexes, ``~i`` meaning arc i reversed; the
    shared end point of consecutive arcs is kept once."""
    rings = []
    for ring in indexes:
        points: list[tuple[float, float]] = []
        for i in ring:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc[1:] if points else arc)
        rings.append(points)
    return rings


def _code(geometry: dict[str, Any]) -> str:
    name = geometry.get("properties", {}).get("name", "")
    if geometry.get("id") is None:
        return NAMES.get(name, "")
    found = pycountry.countries.get(numeric=geometry["id"])
    return str(found.alpha_2) if found else ""


def _unwrapped(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring across the antimeridian (Russia's far east) kept in one piece, east of
    180°, instead of a line across the whole map."""
    if any(lon > 150 for lon, _ in ring) and any(lon < -150 for lon, _ in ring):
        return [(lon + 360 if lon < 0 else lon, lat) for lon, lat in ring]
    return ring


def _near(points: list[tuple[float, float]]) -> bool:
    return any(BOX[0] - 10 <= lon <= BOX[2] + 10 and BOX[1] - 5 <= lat <= BOX[3] + 5
               for lon, lat in points)


def _path(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in rings:
        xy = [project(lon, lat) for lon, lat in ring]
        parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in xy) + "Z")
    return "".join(parts)


@cache
def countries() -> tuple[tuple[str, str, str], ...]:
    """(ISO code, name, SVG path) of every country with land in the box, read once."""
    topology = json.loads(DATA.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    found = []
    for g in topology["objects"]["countries"]["geometries"]:
        polygons = ([g["arcs"]] if g.get("type") == "Polygon"
                    else g.get("arcs", []) if g.get("type") == "MultiPolygon" else [])
        rings = [_unwrapped(r) for p in polygons for r in arcs_to_rings(p, arcs)]
        rings = [r for r in rings if _near(r)]
        if rings:
            found.append((_code(g), g.get("properties", {}).get("name", ""), _path(rings)))
    return tuple(found)


@lru_cache(maxsize=32)
def draw(counts: tuple[tuple[str, int], ...],
         points: tuple[tuple[float, float, str], ...], title: str = "Members by country",
         language: str = "en", words: tuple[str, str] = ("%(name)s: 1 member",
                                                         "%(name)s: %(num)d members")) -> str:
    """The map as SVG markup. Kept per data (the counts and points are its stamp): the
    same directory draws it once per process and language. ``words`` says "a country: 1
    member" and "…: n members" in the page's language; countries are named in it too."""
    by_code = dict(counts)
    territories = Locale.parse(language).territories if language != "en" else {}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
           f'class="europe-map" role="img" aria-labelledby="map-title">'
           f'<title id="map-title">{escape(title)}</title>'
           f'<rect width="{WIDTH:g}" height="{HEIGHT:g}" fill="#f7fbff"/>']
    for code, name, path in countries():
        n = by_code.get(code, 0)
        label = words[n != 1] % {"name": territories.get(code, name), "num": n}
        out.append(f'<path d="{path}" fill="{shade(n)}" stroke="#ffffff" '
                   f'stroke-width="0.6" data-country="{escape(code)}" data-count="{n}">'
                   f'<title>{escape(label)}</title></path>')
    for lat, lon, name in points:
        x, y = project(lon, lat)
        if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
            out.append(f'<circle cx="{x:g}" cy="{y:g}" r="3.5" fill="#c0392b" '
                       f'stroke="#ffffff" stroke-width="1"><title>{escape(name)}</title>'
                       f'</circle>')
    out.append("</svg>")
    return "".join(out)
