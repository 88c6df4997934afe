"""What the services say to a visitor, reader or applicant comes in the page's language:
the application checks (registry/rules.py, org_rules.py), the person form's problems, the
readers' sign-up messages. Outside a request (the CLI, the import) they stay English."""

from __future__ import annotations

from typing import Any

from ostogether.edges.runtime import Runtime
from ostogether.registry import rules
from tests.conftest import csrf_from, post


def application(token: str, **changes: Any) -> dict[str, Any]:
    form = {
        "csrf_token": token, "acronym": "EDUCHAIN", "name": "Education chain reaction",
        "description": "Schools and science centres co-design STEAM activities.",
        "initiative_type": "eu-funded-project", "themes": ["open-schooling", "steam"],
        "sdgs": ["4"], "countries": "be, gr", "programme": "Horizon Europe",
        "grant_number": "101099999", "start_date": "2025-01-01", "end_date": "2027-12-31",
        "coordinator": "Ecsite", "website": "https://educhain.example.org/",
        "contact_name": "Ana", "contact_email": "ana@educhain.example.org",
        "non_commercial": "y", "coc": "y", **changes}
    return {k: v for k, v in form.items() if v is not None}


def test_a_failing_application_in_dutch(client: Any, rt: Runtime) -> None:
    token = csrf_from(client.get("/join?lang=nl").get_data(as_text=True))
    resp = client.post("/join", data=application(
        token, coc=None, grant_number="GA-1", end_date="2020-01-01", acronym="LEVERS"))
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "De gedragscode is niet aanvaard." in html
    assert "Subsidieovereenkomstnummer &#39;GA-1&#39; is ongeldig" in html
    assert "De einddatum 2020-01-01 ligt vóór de begindatum 2025-01-01." in html
    assert "acroniem LEVERS wordt al gebruikt door levers" in html
    assert "The code of conduct has not been accepted." not in html


def test_an_organisations_checks_in_german(client: Any) -> None:
    client.get("/?lang=de")
    form = {"name": "Science Hub Gent", "type": "science-centre", "country": "BE",
            "city": "Gent", "website": "hub dot be", "contact_email": "hub@example.be",
            "latitude": "51", "coc": "y"}
    bad = post(client, "/join/organisation", "/join/organisation", **form)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Geben Sie Breiten- und Längengrad an oder keines von beiden." in html
    assert "Die Website:" in html


def test_the_readers_messages_in_french(client: Any) -> None:
    client.get("/?lang=fr")
    gone = client.get("/subscribe/confirm/nonsense")
    assert gone.status_code == 404
    assert "Ce lien n&#39;est pas valide." in gone.get_data(as_text=True)


def test_outside_a_request_the_rules_speak_english(rt: Runtime) -> None:
    ctx = rules.CheckContext(rt.community.criteria(), "1.0", rt.today(), strict=True)
    result = rules.dates(rules.ProjectRecord(slug="x"), ctx)
    assert result.message == "No start date."
