"""Organisations and people on the web: what each viewer sees (anonymous visitors no
private field, on the page, in /organisations.json and in the JSON-LD), joining as an
organisation and as a person, the editors' decisions and merges, the map, a person's own
record, and the project page's partners."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from ostogether.edges.audit import history
from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, OrganisationProject, Person
from ostogether.registry import org_rules
from ostogether.registry.org_rules import ORG_DEFAULTS, PERSON_DEFAULTS, visible
from tests.conftest import csrf_from, login, new_client, post
from tests.factories import add_organisation, make_user

SECRET_CITY = "Secretville"
SECRET_SITE = "https://hidden.example.nl"


def private_world(rt: Runtime) -> str:
    """NEMO in COSMOS: its city for members, its website for editors; Ana (linked to a
    member's login) private; Bo, who made her name public."""
    make_user(rt, "ana@cosmos.example.eu", "member", project="cosmos")
    slug = add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu",
                            city=SECRET_CITY, website=SECRET_SITE, type="museum",
                            latitude=52.37, longitude=4.9)
    with rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == slug))
        assert org is not None
        org.visibility = {"city": "members", "website": "editors"}
        s.add(Person(name="Bo Public", email="bo@private.example.org", organisation_id=org.id,
                     status="member", source="import", role="Educator",
                     visibility={"name": "everyone", "role": "everyone"}))
    return slug


def ld_of(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert m, "no JSON-LD"
    return dict(json.loads(m.group(1)))


def test_anonymous_visitors_see_no_private_field(app: Any, rt: Runtime, client: Any,
                                                 editor: Any) -> None:
    slug = private_world(rt)
    private = [SECRET_CITY, SECRET_SITE, "hidden.example.nl", "Ana Member",
               "ana@cosmos.example.eu", "bo@private.example.org"]
    for path in ("/organisations", f"/organisations/{slug}", "/organisations.json",
                 "/registry/cosmos"):
        body = client.get(path).get_data(as_text=True)
        assert [p for p in private if p in body] == [], path
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "NEMO Science Museum" in page and "Bo Public, Educator" in page
    ld = ld_of(page)
    assert ld["@type"] == "Organization" and ld["name"] == "NEMO Science Museum"
    assert ld["url"].endswith(f"/organisations/{slug}") and "sameAs" not in ld
    assert ld["address"] == {"@type": "PostalAddress", "addressCountry": "NL"}
    data = client.get("/organisations.json").get_json()
    [row] = data["organisations"]
    assert row["name"] == "NEMO Science Museum" and row["url"].endswith(f"/{slug}")
    assert "city" not in row and "website" not in row

    member = new_client(app)
    assert login(member, "ana@cosmos.example.eu").status_code == 302
    seen = member.get(f"/organisations/{slug}").get_data(as_text=True)
    assert SECRET_CITY in seen and SECRET_SITE not in seen and "Ana Member" not in seen
    assert SECRET_CITY in json.dumps(ld_of(seen))
    as_editor = editor.get(f"/organisations/{slug}").get_data(as_text=True)
    assert SECRET_SITE in as_editor and ld_of(as_editor)["sameAs"] == SECRET_SITE
    assert "Ana Member" in as_editor


def test_visibility_per_viewer() -> None:
    person = {"name": "Ana", "email": "a@example.org", "role": "Teacher"}
    chosen = {"role": "members", "name": "everyone"}
    assert visible(person, {}, PERSON_DEFAULTS, "everyone") == {}
    assert visible(person, {}, PERSON_DEFAULTS, "members") == {}
    assert visible(person, chosen, PERSON_DEFAULTS, "everyone") == {"name": "Ana"}
    assert visible(person, chosen, PERSON_DEFAULTS, "members") == {"name": "Ana",
                                                                    "role": "Teacher"}
    assert visible(person, chosen, PERSON_DEFAULTS, "editors") == person
    assert visible(person, {}, PERSON_DEFAULTS, "self") == person
    # An unknown field or level is for editors: nothing new leaks by default.
    assert visible({"notes": "x"}, {}, ORG_DEFAULTS, "members") == {}
    assert visible({"city": "x"}, {"city": "world"}, ORG_DEFAULTS, "members") == {}
    assert visible({"name": "N"}, {"name": "editors"}, ORG_DEFAULTS, "everyone",
                   {"name"}) == {"name": "N"}


def test_join_as_an_organisation_then_an_editor_accepts(app: Any, rt: Runtime, client: Any,
                                                         editor: Any) -> None:
    form = {"name": "Science Hub Gent", "type": "science-centre", "country": "BE",
            "city": "Gent", "website": "https://hub.example.be",
            "contact_email": "hub@example.be"}
    refused = post(client, "/join/organisation", "/join/organisation", **form)
    assert refused.status_code == 400
    assert "Accept the code of conduct" in refused.get_data(as_text=True)
    bad = post(client, "/join/organisation", "/join/organisation",
               **{**form, "website": "hub dot be", "coc": "y"})
    assert bad.status_code == 400 and "The website" in bad.get_data(as_text=True)
    sent = post(client, "/join/organisation", "/join/organisation", **form, coc="y")
    assert sent.status_code == 302
    assert "Science Hub Gent has applied" in client.get(sent.headers["Location"]).get_data(
        as_text=True)
    assert "Science Hub Gent" not in client.get("/organisations").get_data(as_text=True)
    assert client.get("/organisations/science-hub-gent").status_code == 404

    assert "Science Hub Gent" in editor.get("/editors/organisations").get_data(as_text=True)
    done = post(editor, "/editors/organisations/science-hub-gent/decide",
                "/editors/organisations", decision="accept")
    assert "Science Hub Gent is now a member" in editor.get(
        done.headers["Location"]).get_data(as_text=True)
    assert "Science Hub Gent" in client.get("/organisations?country=BE&type=science-centre"
                                            ).get_data(as_text=True)
    with rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == "science-hub-gent"))
        assert org is not None and org.status == "member" and org.coc_version
        assert [e.action for e in history(s, org)] == ["organisation.applied",
                                                       "organisation.member"]


def test_join_as_a_person_who_is_private_until_they_choose(app: Any, rt: Runtime,
                                                            client: Any, editor: Any) -> None:
    slug = add_organisation(rt)
    form = {"name": "Carla Teacher", "email": "carla@school.example.it",
            "organisation": slug, "country": "IT", "role": "Teacher"}
    assert post(client, "/join/person", "/join/person", **form).status_code == 400
    assert post(client, "/join/person", "/join/person", **form, coc="y").status_code == 302
    again = post(client, "/join/person", "/join/person", **form, coc="y")
    assert again.status_code == 400 and "Joined already." in again.get_data(as_text=True)
    waiting = editor.get("/editors/people").get_data(as_text=True)
    assert "carla@school.example.it" in waiting
    with rt.db.session() as s:
        person = s.scalar(select(Person).where(Person.email == "carla@school.example.it"))
        assert person is not None and person.status == "applied"
        pid = person.id
    post(editor, f"/editors/people/{pid}/decide", "/editors/people", decision="accept")
    page = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Carla" not in page and "carla@" not in page


def test_the_map_shows_the_counts_and_the_points(rt: Runtime, client: Any) -> None:
    add_organisation(rt, "NEMO", latitude=52.37, longitude=4.9)
    add_organisation(rt, "Naturalis", city="Leiden")
    add_organisation(rt, "Ciência Viva", country="PT")
    page = client.get("/organisations").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'data-country="NL" data-count="2"' in svg
    assert "<title>Netherlands: 2 members</title>" in svg
    assert "<title>Portugal: 1 member</title>" in svg
    assert 'data-country="FR" data-count="0"' in svg
    assert re.search(r'<circle cx="[\d.]+" cy="[\d.]+" r="3.5"[^>]*><title>NEMO</title>', svg)
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_topojson_arcs_decode_and_join() -> None:
    from ostogether.registry import europe_map

    topology = {"transform": {"scale": [1, 1], "translate": [10, 20]},
                "arcs": [[[0, 0], [1, 0], [0, 1]], [[1, 1], [-1, 0], [0, -1]]]}
    arcs = europe_map.decode_arcs(topology)
    assert arcs == [[(10, 20), (11, 20), (11, 21)], [(11, 21), (10, 21), (10, 20)]]
    ring = europe_map.arcs_to_rings([[0, 1]], arcs)[0]
    assert ring == [(10, 20), (11, 20), (11, 21), (10, 21), (10, 20)]
    assert europe_map.arcs_to_rings([[~1]], arcs)[0] == arcs[1][::-1]


def test_editors_merge_duplicates(rt: Runtime, editor: Any) -> None:
    keep = add_organisation(rt, "NEMO Science Museum", project="cosmos", role="coordinator")
    drop = add_organisation(rt, "Nemo science museum", project="levers",
                            website="https://nemo.example.nl")
    with rt.db.session() as s:
        gone = s.scalar(select(Organisation).where(Organisation.slug == drop))
        assert gone is not None
        s.add(Person(name="Jan", email="jan@nemo.example.nl", organisation_id=gone.id,
                     status="member", source="import", visibility={}))
    page = "/editors/organisations"
    unconfirmed = post(editor, "/editors/organisations/merge", page, keep=keep, drop=drop)
    assert "Nothing was done" in editor.get(unconfirmed.headers["Location"]).get_data(
        as_text=True)
    post(editor, "/editors/organisations/merge", page, keep=keep, drop=drop, confirm="yes")
    with rt.db.session() as s:
        kept = s.scalar(select(Organisation).where(Organisation.slug == keep))
        assert kept is not None and kept.website == "https://nemo.example.nl"
        assert s.scalar(select(Organisation).where(Organisation.slug == drop)) is None
        roles = {lp.project.slug: lp.role for lp in s.scalars(
            select(OrganisationProject).where(OrganisationProject.organisation_id == kept.id))}
        assert roles == {"cosmos": "coordinator", "levers": "partner"}
        jan = s.scalar(select(Person).where(Person.email == "jan@nemo.example.nl"))
        assert jan is not None and jan.organisation_id == kept.id
        merged = [e for e in history(s, kept) if e.action == "organisation.merged"]
        assert merged and merged[0].detail["merged"] == drop
        assert merged[0].actor == "editor:editor@example.org"


def test_a_person_sees_changes_downloads_and_erases_their_record(app: Any, rt: Runtime,
                                                                 client: Any) -> None:
    slug = private_world(rt)
    ana = new_client(app)
    assert login(ana, "ana@cosmos.example.eu").status_code == 302
    form = ana.get("/account/record").get_data(as_text=True)
    assert "Ana Member" in form
    r = ana.post("/account/record", data={
        "csrf_token": csrf_from(form), "name": "Ana Silva", "email": "ana@cosmos.example.eu",
        "organisation": slug, "country": "NL", "role": "Coordinator", "interests": "",
        "show_name": "everyone", "show_role": "members", "show_email": "editors"})
    assert r.status_code == 302
    public = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Ana Silva" in public and "Coordinator" not in public
    data = json.loads(ana.get("/account/record.json").get_data(as_text=True))
    assert data["name"] == "Ana Silva" and data["visibility"]["role"] == "members"
    assert data["visibility"]["interests"] == "editors"
    erase = ana.post("/account/record/erase", data={
        "csrf_token": csrf_from(ana.get("/account/record").get_data(as_text=True)),
        "confirm": "yes"})
    assert erase.status_code == 302
    assert ana.get("/account/record").status_code == 404
    assert "Ana Silva" not in client.get(f"/organisations/{slug}").get_data(as_text=True)
    with rt.db.session() as s:
        assert s.scalar(select(Person).where(Person.email == "ana@cosmos.example.eu")) is None


def test_a_project_page_lists_its_organisations(rt: Runtime, client: Any) -> None:
    slug = add_organisation(rt, project="cosmos", role="coordinator")
    add_organisation(rt, "Applied Only", project="cosmos", status="applied")
    page = client.get("/registry/cosmos").get_data(as_text=True)
    assert f'href="/organisations/{slug}">NEMO Science Museum</a> (coordinator)' in page
    assert "Applied Only" not in page


def test_country_names_become_codes() -> None:
    assert org_rules.country_code("Netherlands") == "NL"
    assert org_rules.country_code("netherlands") == "NL"
    assert org_rules.country_code("Czech Republic") == "CZ"
    assert org_rules.country_code("UK") == "GB"
    assert org_rules.country_code("Narnia") == ""


def test_the_dashboard_counts_organisations_by_type_and_country(rt: Runtime,
                                                                editor: Any) -> None:
    add_organisation(rt, "NEMO", type="museum")
    add_organisation(rt, "Naturalis", type="museum")
    add_organisation(rt, "Ciência Viva", country="PT", type="science-centre")
    add_organisation(rt, "Waiting School", country="BE", type="school", status="applied")
    page = editor.get("/editors/").get_data(as_text=True)
    assert "Organisations: 3 members" in page
    types = page[page.index('id="table-org-types"'):]
    assert "<th scope=\"row\">Museum</th><td>2</td>" in types
    assert "<th scope=\"row\">Science centre</th><td>1</td>" in types
    countries = page[page.index('id="table-org-countries"'):]
    assert "<th scope=\"row\">Netherlands</th><td>2</td>" in countries
    assert "Belgium" not in countries[:countries.index("</table>")]
    assert "<strong>1</strong> organisation and <strong>0</strong> people waiting" in page


def test_only_an_import_or_the_login_itself_links_a_person_to_an_account(
        app: Any, rt: Runtime, client: Any) -> None:
    make_user(rt, "carla@school.example.it", "member", project="cosmos")
    make_user(rt, "dan@school.example.it", "member", project="cosmos")
    form = {"name": "Carla?", "email": "carla@school.example.it", "country": "IT", "coc": "y"}
    assert post(client, "/join/person", "/join/person", **form).status_code == 302
    dan = new_client(app)
    assert login(dan, "dan@school.example.it").status_code == 302
    assert post(dan, "/join/person", "/join/person", name="Dan", email="dan@school.example.it",
                coc="y").status_code == 302
    with rt.db.session() as s:
        linked = {p.name: (p.user.email if p.user else None) for p in s.scalars(select(Person))}
    # A stranger typing Carla's address does not become Carla's record.
    assert linked == {"Carla?": None, "Dan": "dan@school.example.it"}
    assert dan.get("/account/record").status_code == 200


def test_an_editor_gives_an_organisation_a_logo_kept_like_pictures(
        rt: Runtime, editor: Any, client: Any) -> None:
    import io

    from tests.feedserver import picture

    slug = add_organisation(rt)
    page = f"/editors/organisations/{slug}"
    token = csrf_from(editor.get(page).get_data(as_text=True))
    r = editor.post(f"{page}/logo", data={"csrf_token": token, "logo_file": (
        io.BytesIO(picture(200, 100, exif_gps=True)), "logo.png")})
    assert r.status_code == 302
    with rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == slug))
        assert org is not None and re.fullmatch(r"[0-9a-f]{64}\.png", org.logo)
        logo = org.logo
    public = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert f'src="/media/{logo}"' in public and ld_of(public)["logo"].endswith(logo)
    assert client.get(f"/media/{logo}").status_code == 200
    bad = editor.post(f"{page}/logo", data={"csrf_token": token, "logo_file": (
        io.BytesIO(b"not a picture"), "logo.png")})
    assert "The logo was not kept" in editor.get(bad.headers["Location"]).get_data(
        as_text=True)
    post(editor, f"{page}/logo", page, remove="yes", confirm="yes")
    assert "/media/" not in client.get(f"/organisations/{slug}").get_data(as_text=True)


def test_an_editor_changes_an_organisation_and_who_sees_each_field(
        rt: Runtime, editor: Any, client: Any) -> None:
    slug = add_organisation(rt, city="Amsterdam", website="https://nemo.example.nl")
    page = f"/editors/organisations/{slug}"
    fields = {"name": "NEMO", "type": "museum", "country": "NL", "city": "Amsterdam",
              "website": "https://nemo.example.nl", "latitude": "", "longitude": "",
              "description": "Science museum.", "show_city": "members",
              "show_website": "everyone"}
    bad = post(editor, page, page, **{**fields, "website": "nemo dot nl"})
    assert bad.status_code == 400 and "The website" in bad.get_data(as_text=True)
    assert "Amsterdam" in client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert post(editor, page, page, **fields).status_code == 302
    shown = client.get(f"/organisations/{slug}").get_data(as_text=True)
    assert "Amsterdam" not in shown and "Science museum." in shown
    assert post(editor, page, page, project="levers", role="associated",
                years="2024").status_code == 302
    assert "(associated partner)" in client.get("/registry/levers").get_data(as_text=True)
    with rt.db.session() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == slug))
        assert org is not None and org.visibility == {"city": "members",
                                                      "website": "everyone"}
        assert [e.action for e in history(s, org)][-2:] == ["organisation.edited",
                                                            "organisation.project"]
