"""Every template that makes HTML escapes what it is given, whatever its file name.

Jinja2 decides per template, by its name, when it compiles it: Flask escapes only names
ending in .html (and .htm, .xml, .xhtml, .svg), ``select_autoescape`` only the endings it
lists. So ``subscribe/snippet.html.j2``, the form members paste into their own sites,
was not escaped, and neither would be an ``_footer.j2`` the newsletter includes. Here
every environment the service builds is walked: each of its templates, and names it
does not have yet.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import jinja2
from sqlalchemy import select

from ostogether.edges import render
from ostogether.edges.runtime import Runtime
from ostogether.models import Project
from tests.conftest import csrf_from, login, new_client
from tests.factories import make_user

HOSTILE = "Z --><script>alert(1)</script><!--"
# Names a template could be given: none of them may turn escaping off.
ANY_NAMES = ("page.html", "page.htm", "snippet.html.j2", "footer.j2", "issue.mjml.j2",
             "part.jinja", "part.jinja2", "feed.xml.j2", "chart.svg.j2", "noending",
             "Page.HTML.J2", "_macros.j2")
TEXT_NAMES = ("mail/welcome.txt.j2", "social/x.txt.j2", "subject.txt")


def _escapes(env: jinja2.Environment, name: str) -> bool:
    return bool(env.autoescape(name) if callable(env.autoescape) else env.autoescape)


def environments(app: Any, rt: Runtime) -> dict[str, jinja2.Environment]:
    """Every Jinja2 environment of the service: the web pages', and the one of the
    community's templates/ (the newsletter, the mails, the posts)."""
    return {"web": app.jinja_env, "templates/": render.environment(rt.community)}


def test_every_html_template_of_every_environment_escapes(app: Any, rt: Runtime) -> None:
    unescaped = []
    for where, env in environments(app, rt).items():
        names = env.list_templates()
        assert names, where
        for name in names:
            makes_text = name.endswith(".txt.j2")
            if _escapes(env, name) == makes_text:
                unescaped.append(f"{where}: {name}")
            if makes_text:  # plain text only where plain text is made
                assert where == "templates/" and name.split("/")[0] in (
                    "mail", "social", "newsletter"), name
    assert unescaped == []
    # The web pages are all HTML; the newsletter issue too, and what it includes.
    web = environments(app, rt)["web"]
    assert all(_escapes(web, n) for n in web.list_templates())
    assert _escapes(render.environment(rt.community), render.ISSUE_MJML)


def test_a_template_of_any_name_escapes_and_only_text_ones_do_not(app: Any,
                                                                  rt: Runtime) -> None:
    for where, env in environments(app, rt).items():
        loader = jinja2.DictLoader({n: "<p>{{ v }}</p>" for n in ANY_NAMES + TEXT_NAMES})
        trial = env.overlay(loader=loader)
        for name in ANY_NAMES:
            out = trial.get_template(name).render(v=HOSTILE)
            assert out == "<p>Z --&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--</p>", (
                where, name, out)
        for name in TEXT_NAMES:
            assert trial.get_template(name).render(v=HOSTILE) == f"<p>{HOSTILE}</p>"
        assert "&lt;" in env.from_string("{{ v }}").render(v="<")  # nameless: escaped


def test_an_included_partial_escapes_whatever_its_name(rt: Runtime, home: Any) -> None:
    """The newsletter may include a partial; its escaping is its own name's, so a partial
    called ``_credit.j2`` must escape as the issue does."""
    (home / "templates" / "newsletter" / "_credit.j2").write_text("<b>{{ who }}</b>")
    env = render.environment(rt.community)
    page = env.from_string('{% include "newsletter/_credit.j2" %}').render(who=HOSTILE)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_an_applicants_acronym_never_becomes_script_in_the_members_sign_up_form(
        app: Any, rt: Runtime) -> None:
    """The acronym goes into an HTML comment of the copy-paste form that members put on
    their own sites, where no CSP protects anyone."""
    visitor = new_client(app)
    token = csrf_from(visitor.get("/join").get_data(as_text=True))
    sent = visitor.post("/join", data={
        "csrf_token": token, "acronym": HOSTILE, "name": "Zeta schools",
        "description": "Schools and science centres co-design STEAM activities.",
        "initiative_type": "eu-funded-project", "themes": ["open-schooling", "steam"],
        "sdgs": ["4"], "countries": "be", "programme": "Horizon Europe",
        "grant_number": "101099998", "start_date": "2025-01-01", "end_date": "2027-12-31",
        "coordinator": "Ecsite", "website": "https://zeta.example.org/",
        "contact_name": "Ana", "contact_email": "ana@zeta.example.org",
        "non_commercial": "y", "coc": "y"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with rt.db.session() as s:
        project = s.scalars(select(Project).where(Project.acronym == HOSTILE)).one()
        pid, slug = project.id, project.slug
    make_user(rt, "admin@example.org", "admin")
    admin = new_client(app)
    assert login(admin, "admin@example.org").status_code == 302
    page = admin.get(f"/editors/applications/{pid}").get_data(as_text=True)
    decided = admin.post(f"/editors/applications/{pid}", data={
        "csrf_token": csrf_from(page), "decision": "accept", "reason": ""})
    assert decided.status_code == 302
    make_user(rt, "m@z.example", "member", project=slug)
    member = new_client(app)
    assert login(member, "m@z.example").status_code == 302
    for who in (member, admin):
        page = who.get(f"/registry/{slug}/subscribe-form")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        box = re.search(r"<textarea[^>]*>(.*?)</textarea>", body, re.S)
        assert box
        snippet = htmllib.unescape(box.group(1))  # what the member copies
        assert "<script" not in snippet
        assert "Z --&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--" in snippet
        assert snippet.count("<!--") == 1 and snippet.count("-->") == 1
        assert "<script>alert(1)" not in body  # nor in the preview on the page
