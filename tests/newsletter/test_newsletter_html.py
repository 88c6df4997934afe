"""The newsletter's HTML as mail clients and checkers judge it: valid attributes, a light
colour scheme stated with every colour in pairs, and Gmail's clipping size measured on
what is sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ostogether.core import contrast
from ostogether.edges.render import placeholder
from ostogether.edges.runtime import Runtime
from ostogether.mail.message import IssueMessage, Recipient
from ostogether.newsletter import issues as newsletter
from ostogether.newsletter import preflight
from tests.factories import TEST, add_item
from tests.feedserver import FeedServer, Route, picture

KEY = "0123456789abcdef01234567"


def rendered_issue(rt: Runtime, web: FeedServer) -> str:
    """An issue with pictures, an event and a summary with a link, compiled."""
    web.routes["/photo.jpg"] = Route(picture(900, 600, "JPEG"), content_type="image/jpeg")
    for n, (slug, kind) in enumerate((("cosmos", "news"), ("levers", "event"),
                                      ("most", "tool"))):
        add_item(rt, slug, kind, link=web.url(f"/page/{n}"), image_url=web.url("/photo.jpg"),
                 image_alt="Pupils on a boat",
                 summary=f"Read [the report]({web.url('/page/9')}) from **{slug}**.")
    issue = newsletter.compose_next(rt, TEST, now=dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    newsletter.update_details(rt, TEST, issue.id, subject="OStogether #10: boats",
                              preheader="Boats and sensors.",
                              intro_md=f"Editors' word, [a link]({web.url('/page/8')}).")
    report, out = newsletter.run_preflight(rt, issue.id)
    assert out is not None, report.as_dict()
    return out.html


def test_the_html_has_valid_image_heights_and_a_light_colour_scheme(
        rt: Runtime, web: FeedServer) -> None:
    html = rendered_issue(rt, web)
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) >= 4  # three pictures and the EU emblem
    for tag in images:
        height = re.search(r'\sheight="([^"]*)"', tag)
        assert height is None or height.group(1).isdigit(), tag  # a number of pixels, or none
        assert "height:auto" in tag.replace(" ", "") or height is not None, tag
    head = html[:html.index("</head>")]
    assert re.search(r'<meta name="color-scheme" content="light"\s*/?>', head)
    assert re.search(r'<meta name="supported-color-schemes" content="light"\s*/?>', head)
    assert "color-scheme: light" in head


def test_every_text_in_the_issue_has_its_colour_and_background_stated(
        rt: Runtime, web: FeedServer) -> None:
    """Dark-mode safe: no text leaves its colour or its background to the mail client,
    and every pair reads at 4.5:1 or more (links included: their colour is on the link,
    not only in a <style> that clients drop)."""
    html = rendered_issue(rt, web)
    # A link takes its colour from a <style> or the client, not from its parent.
    runs = contrast.runs(html, text=(255, 0, 255), background=(0, 255, 0), link=(0, 0, 238))
    assert any(r.text == "the report" for r in runs) and any(r.text == "a link" for r in runs)
    unstated = [r.text for r in runs if not (r.fg_stated and r.bg_stated)]
    assert unstated == []
    weak = [(r.text, round(r.contrast, 2)) for r in runs if r.contrast < contrast.AA]
    assert weak == []


def message(html: str) -> IssueMessage:
    return IssueMessage(sender="news@example.org", reply_to="", subject="s", html=html,
                        text="t " + placeholder("unsubscribe_url", KEY), placeholder_key=KEY,
                        list_id="l <l.example.org>", bounce_address="b@example.org",
                        secret="s" * 40)


URL = {"unsubscribe_url": "https://example.org/u/abc.def-ghi"}


def test_the_gmail_clip_check_measures_the_part_as_sent() -> None:
    # Under 102 KB as HTML, over it quoted-printable: accented letters and typographic
    # quotes take 6 to 9 bytes each on the wire.
    html = "<p>" + "Zürich — “Science” à l’école. " * 2400 + "</p>"
    part = message(html).html_part(URL)
    assert len(html.encode()) < preflight.GMAIL_CLIP_BYTES < len(part)
    check = preflight.check_size(part, len(html.encode()))
    assert check.status == "fail" and "as sent" in check.details[0]
    small = message("<p>" + "x" * 50_000 + "</p>").html_part(URL)
    assert preflight.check_size(small).status == "pass"
    near = message("<p>" + "x" * 95_000 + "</p>").html_part(URL)
    assert preflight.check_size(near).status == "warn"


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000))
def test_the_measured_part_is_the_html_part_of_the_message(body: str) -> None:
    """What the check counts is, byte for byte, the HTML part of a reader's message."""
    m = message(f"<p>{body}</p><a href=\"{placeholder('unsubscribe_url', KEY)}\">u</a>")
    data = m.render(Recipient(1, "r@example.org", "", URL)).data
    part = m.html_part(URL)
    assert data.count(part) == 1
    assert data.index(part) + len(part) == data.rindex(b"--" + m.boundary.encode() + b"--")


def test_the_preflight_measures_a_readers_copy(rt: Runtime, web: FeedServer,
                                               monkeypatch: Any) -> None:
    seen: list[bytes] = []
    real = preflight.check_size

    def spy(part: bytes, decoded: int = 0) -> preflight.Check:
        seen.append(part)
        return real(part, decoded)

    monkeypatch.setattr(preflight, "check_size", spy)
    rendered_issue(rt, web)
    [part] = seen
    assert part.startswith(b"--=_ostogether_") and b"quoted-printable" in part
    assert b"%%" not in part and b"https://ostogether.test/u/" in part.replace(b"=\r\n", b"")
