"""Small server-rendered SVG bar charts. Pure: no I/O, no JavaScript, no CDN.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in
words what the chart shows (its text alternative); the page next to it links to the
same figures as a table. Colours have at least 3:1 contrast against white, as WCAG 2.1
asks of graphical objects, and every series is also named in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

# Brand-compatible colours, each ≥ 3:1 against white.
PALETTE = ("#00506b", "#b3541e", "#5b6b00", "#7a3b8f", "#a4133c", "#3b5bdb")
WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 64


def nice_max(value: float) -> int:
    """A round axis maximum at or above ``value`` that splits into 4 whole-number steps
    of 1, 2 or 5 (or 25) times a power of ten: 4, 8, 20, 40, 100, 200…"""
    power = 1
    while True:
        steps = (1, 2, 5) if power == 1 else (1, 2, 2.5, 5)
        for step in steps:
            if 4 * step * power >= value:
                return int(4 * step * power)
        power *= 10


# The sentences of a chart's description; a caller gives them in the page's language, with
# the same named placeholders.
WORDS = {"none": "%(series)s: none",
         "total": "%(series)s: %(total)s in all, most in %(top)s (%(value)s)",
         "span": "from %(first)s to %(last)s", "empty": "no data"}


def describe(categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
             words: Mapping[str, str] = WORDS) -> str:
    """The chart in words: totals per series, and the largest category of each."""
    parts = []
    for name, values in series:
        total = sum(values)
        if not values or total == 0:
            parts.append(words["none"] % {"series": name})
            continue
        top = max(range(len(values)), key=lambda i: values[i])
        parts.append(words["total"] % {"series": name, "total": total,
                                       "top": categories[top], "value": values[top]})
    span = (words["span"] % {"first": categories[0], "last": categories[-1]} if categories
            else words["empty"])
    return f"{span}. " + "; ".join(parts) + "."


def bar_chart(chart_id: str, title: str, categories: Sequence[str],
              series: Sequence[tuple[str, Sequence[int]]], *, stacked: bool = False,
              words: Mapping[str, str] = WORDS) -> Markup:
    """A grouped (or stacked) bar chart as SVG, safe to embed in HTML: every text in it
    (title, categories, series names) is escaped here, so it is marked safe here."""
    n = max(1, len(categories))
    totals = ([sum(vals[i] for _, vals in series) for i in range(len(categories))]
              if stacked else [max((vals[i] for _, vals in series), default=0)
                               for i in range(len(categories))])
    top = nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / n
    bars_per_band = 1 if stacked else max(1, len(series))
    bar_w = max(2.0, band * 0.8 / bars_per_band)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart">',
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(describe(categories, series, words))}</desc>']
    # Grid and axis labels.
    for k in range(5):
        value = top * k / 4
        y = TOP + plot_h - plot_h * k / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#d0d5db" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
                   f'fill="#333">{value:g}</text>')
    # Label as many categories as fit side by side (about 7 px per character).
    widest = max((len(c) for c in categories), default=1) * 7 + 8
    label_every = max(1, math.ceil(n * widest / plot_w))
    for i, category in enumerate(categories):
        x0 = LEFT + band * i + band * 0.1
        base: float = TOP + plot_h
        for j, (name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * value / top
            colour = PALETTE[j % len(PALETTE)]
            if stacked:
                x, y = x0, base - h
                base -= h
            else:
                x, y = x0 + j * bar_w, TOP + plot_h - h
            if value:
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                           f'height="{h:.1f}" fill="{colour}"><title>{escape(name)}, '
                           f'{escape(category)}: {value}</title></rect>')
        if i % label_every == 0:
            cx = LEFT + band * i + band / 2
            out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                       f'font-size="12" fill="#333">{escape(category)}</text>')
    # Legend.
    x = LEFT
    for j, (name, _) in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        out.append(f'<rect x="{x}" y="{HEIGHT - 24}" width="12" height="12" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{HEIGHT - 14}" font-size="12" fill="#333">'
                   f'{escape(name)}</text>')
        x += 24 + 8 * len(name)
    out.append("</svg>")
    return Markup("".join(out))
