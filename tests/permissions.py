"""The permission table: every GET page of the app, and what each role gets when it asks
for it. tests/web/test_security.py checks that the app answers so (and that no page is
missing from the table); tests/web/test_phone.py opens each page, as the role that may see
it, at a phone's width. A new route goes here, once, and both cover it.
"""

from __future__ import annotations

from typing import Any

ROLES = ("visitor", "other", "member", "editor")

# visitor, member of another project, member (of COSMOS), editor
PUBLIC = (200, 200, 200, 200)
EDITORS = (302, 403, 403, 200)
MEMBERS = (302, 200, 200, 403)
TABLE: list[tuple[str, tuple[int, int, int, int]]] = [
    ("/", PUBLIC), ("/registry", PUBLIC), ("/registry/cosmos", PUBLIC),
    ("/registry.json", PUBLIC), ("/join", PUBLIC), ("/code-of-conduct", PUBLIC),
    ("/archive", PUBLIC), ("/archive.atom", PUBLIC), ("/archive/{number}", PUBLIC),
    ("/archive/{number}?lang=nl", PUBLIC), ("/archive.atom?lang=nl", PUBLIC),
    ("/events.ics", PUBLIC), ("/subscribe", PUBLIC), ("/subscribe/sent", PUBLIC),
    ("/subscribe/from/cosmos", PUBLIC), ("/subscribe/from/nope", (404, 404, 404, 404)),
    ("/registry/cosmos/subscribe-form", (302, 403, 200, 200)),
    ("/privacy", PUBLIC), ("/login", PUBLIC), ("/account/reset", PUBLIC),
    ("/newsletter/manage", PUBLIC), ("/api/openapi.json", PUBLIC),
    ("/healthz", (503, 503, 503, 503)),  # no worker in this test
    ("/p/{preferences}", PUBLIC), ("/u/{unsubscribe}", PUBLIC),
    ("/p/not-a-token", (404, 404, 404, 404)),
    ("/media/" + "a" * 64 + ".png", (404, 404, 404, 404)),  # a name no picture has
    ("/api/v1/items", (401, 401, 401, 401)),  # the API takes tokens, never sessions
    ("/members/", MEMBERS), ("/members/items/new", MEMBERS), ("/members/tokens", MEMBERS),
    ("/members/handles", MEMBERS), ("/editors/handles", EDITORS),
    ("/members/items/{item}", (302, 404, 200, 403)),
    ("/members/items/{item}/edit", (302, 404, 200, 403)),
    ("/reports/visibility", (302, 200, 200, 200)),
    ("/reports/visibility?project=cosmos", (302, 403, 200, 200)),
    ("/reports/visibility.csv?project=cosmos", (302, 403, 200, 200)),
    ("/reports/visibility.zip?project=cosmos", (302, 403, 200, 200)),
    ("/editors/", EDITORS), ("/editors/applications", EDITORS), ("/editors/feeds", EDITORS),
    ("/editors/projects/", EDITORS), ("/editors/projects/cosmos", EDITORS),
    ("/editors/projects/nope", (302, 403, 403, 404)),
    ("/editors/applications/{project}", EDITORS),
    ("/editors/items", EDITORS), ("/editors/items/{item}", EDITORS),
    ("/editors/members", EDITORS), ("/editors/issues/", EDITORS),
    ("/editors/issues/{issue}", EDITORS), ("/editors/issues/{issue}/preview", EDITORS),
    ("/editors/issues/{issue}/preview.html", EDITORS),
    ("/editors/issues/{issue}/preview?version=nl", EDITORS),
    ("/editors/issues/{issue}/preview?topics=steam&audiences=teachers", EDITORS),
    ("/editors/issues/{issue}/preview.html?projects=cosmos", EDITORS),
    ("/editors/issues/{issue}?version=fr", EDITORS),
    ("/editors/issues/{issue}/preflight", EDITORS),
    # Announcements to a segment (issue 36): the new one's page, and one's own.
    ("/editors/announcements/new", EDITORS), ("/editors/issues/{announcement}", EDITORS),
    ("/archive/announcements/1", PUBLIC), ("/archive/announcements/1?lang=nl", PUBLIC),
    ("/editors/issues/{announcement}/preflight", EDITORS),
    ("/editors/subscribers/", EDITORS), ("/editors/subscribers/{reader}", EDITORS),
    ("/editors/subscribers/{reader}/data.json", EDITORS),
    ("/editors/subscribers/export.csv", EDITORS), ("/editors/social/", EDITORS),
    ("/editors/social/{post}", EDITORS), ("/editors/schedule/", EDITORS),
    ("/editors/sending-domain", EDITORS),
    ("/editors/imports/", EDITORS), ("/editors/imports/{upload}", EDITORS),
    ("/editors/imports/{upload}?show=matched&page=1", EDITORS),
    # The results library (issue 38): public pages, the harvest, members' and editors' pages.
    ("/library", PUBLIC), ("/library?q=air&type=toolkit&project=cosmos", PUBLIC),
    ("/library?page=x", (400, 400, 400, 400)), ("/library/{output}", PUBLIC),
    ("/library/nope", (404, 404, 404, 404)), ("/library.atom", PUBLIC),
    ("/library.json", PUBLIC), ("/library.json?type=toolkit", PUBLIC),
    ("/oai?verb=Identify", PUBLIC),
    ("/members/library", MEMBERS), ("/members/library/new", MEMBERS),
    ("/editors/library", EDITORS),
    ("/organisations", PUBLIC), ("/organisations?type=museum&country=NL&page=2", PUBLIC),
    ("/organisations.json", PUBLIC), ("/organisations/{organisation}", PUBLIC),
    ("/organisations/nope", (404, 404, 404, 404)),
    ("/join/organisation", PUBLIC), ("/join/person", PUBLIC),
    ("/join/thanks", (302, 302, 302, 302)),
    ("/account/record", (302, 404, 200, 404)), ("/account/record.json", (302, 404, 200, 404)),
    ("/editors/organisations", EDITORS), ("/editors/organisations/{organisation}", EDITORS),
    ("/editors/people", EDITORS),
]


def fill(path: str, world: dict[str, Any]) -> str:
    return path.format(number=world["issue"].number, issue=world["issue"].number,
                       project=world["project"],
                       item=world["item"], reader=world["reader"], post=world["post"],
                       upload=world["upload"], output=world.get("output", ""),
                       announcement=world.get("announcement", "a2"),
                       organisation=world.get(
                           "organisation", "nemo-science-museum"),
                       preferences=world["links"]["preferences_url"].split("/p/")[1],
                       unsubscribe=world["links"]["unsubscribe_url"].split("/u/")[1])
