"""Every eligibility rule, passing and failing. The rules are pure: no database here."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from ostogether.edges.site import Community
from ostogether.registry import rules as r
from ostogether.registry.rules import CheckContext, ProjectRecord

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 21)
CRITERIA = Community(REPO).criteria()

GOOD = ProjectRecord(
    slug="demo", acronym="DEMO", name="Demonstration of open schooling",
    description="Schools and museums work together.", initiative_type="eu-funded-project",
    themes=("open-schooling", "steam"), sdgs=(4, 13), countries=("BE", "GR"),
    programme="Horizon Europe", call="HORIZON-WIDERA-2021-ERA-01-70", grant_number="101058405",
    start_date=dt.date(2024, 1, 1), end_date=dt.date(2027, 12, 31), coordinator="Ecsite",
    website="https://demo.example.org/", contact_email="team@demo.example.org",
    non_commercial=True, coc_version="1.0", coc_accepted_on=dt.date(2026, 11, 1),
)


def ctx(strict: bool = False, others: tuple[ProjectRecord, ...] = ()) -> CheckContext:
    return CheckContext(criteria=CRITERIA, coc_version="1.0", today=TODAY, others=others,
                        strict=strict)


def outcome(rule: r.Rule, rec: ProjectRecord, **kw: object) -> tuple[str, str]:
    res = rule(rec, ctx(**kw))  # type: ignore[arg-type]
    return res.outcome, res.message


def assert_missing_fails_only_applications(rule: r.Rule, missing: ProjectRecord) -> None:
    """An application must give the fact; for a registry entry an unknown fact warns."""
    assert outcome(rule, missing, strict=True)[0] == "fail"
    assert outcome(rule, missing)[0] == "warn"


def test_a_complete_project_passes_every_rule() -> None:
    results = r.check(GOOD, ctx(strict=True))
    assert [x.outcome for x in results] == ["pass"] * len(r.RULES), results
    assert r.worst(results) == "pass"


def test_required_fields() -> None:
    assert outcome(r.required_fields, GOOD)[0] == "pass"
    o, msg = outcome(r.required_fields, replace(GOOD, name="", website=""))
    assert o == "fail" and "full name" in msg and "website" in msg
    # countries are required of applications; for registry entries a missing fact warns
    assert_missing_fails_only_applications(r.required_fields, replace(GOOD, countries=()))
    o, msg = outcome(r.required_fields, replace(GOOD, coordinator=""))
    assert o == "warn" and "coordinator" in msg


def test_topical_fit() -> None:
    assert outcome(r.topical_fit, GOOD)[0] == "pass"
    assert outcome(r.topical_fit, replace(GOOD, themes=()))[0] == "fail"
    o, msg = outcome(r.topical_fit, replace(GOOD, themes=("cooking",)))
    assert o == "fail" and "cooking" in msg


def test_initiative_type() -> None:
    assert outcome(r.initiative_type, GOOD)[0] == "pass"
    school = replace(GOOD, initiative_type="school-led-action")
    assert outcome(r.initiative_type, school)[0] == "pass"
    o, msg = outcome(r.initiative_type, replace(GOOD, initiative_type="other"))
    assert o == "warn" and "editor" in msg
    assert outcome(r.initiative_type, replace(GOOD, initiative_type="company"))[0] == "fail"
    assert outcome(r.initiative_type, replace(GOOD, initiative_type=""))[0] == "fail"


def test_code_of_conduct() -> None:
    o, msg = outcome(r.code_of_conduct, GOOD)
    assert o == "pass" and "1.0" in msg and "2026-11-01" in msg
    not_accepted = replace(GOOD, coc_accepted_on=None, coc_version="")
    assert_missing_fails_only_applications(r.code_of_conduct, not_accepted)
    o, msg = outcome(r.code_of_conduct, replace(GOOD, coc_version="0.9"))
    assert o == "warn" and "0.9" in msg and "current version is 1.0" in msg
    future = replace(GOOD, coc_accepted_on=TODAY + dt.timedelta(1))
    assert outcome(r.code_of_conduct, future)[0] == "fail"


def test_non_commercial() -> None:
    assert outcome(r.non_commercial, GOOD)[0] == "pass"
    assert outcome(r.non_commercial, replace(GOOD, non_commercial=False))[0] == "fail"
    assert_missing_fails_only_applications(r.non_commercial, replace(GOOD, non_commercial=None))


@pytest.mark.parametrize("website, why", [
    ("demo.example.org", "https://"),
    ("ftp://demo.example.org", "https://"),
    ("javascript:alert(1)", "https://"),
    ("https://localhost/", "host name"),
    ("https://user:pw@demo.example.org/", "user name"),
    ("https://demo.exa mple.org/", "spaces"),
    ("https://demo.example.org/\u200b", "invisible"),
])
def test_website_must_be_an_absolute_http_url(website: str, why: str) -> None:
    o, msg = outcome(r.website_and_contact, replace(GOOD, website=website))
    assert o == "fail" and why in msg


def test_contact_email() -> None:
    assert outcome(r.website_and_contact, GOOD)[0] == "pass"
    o, msg = outcome(r.website_and_contact, replace(GOOD, contact_email="team@@example"))
    assert o == "fail" and "contact email" in msg
    assert_missing_fails_only_applications(r.website_and_contact,
                                           replace(GOOD, contact_email=""))


def test_country_and_sdg_codes() -> None:
    assert outcome(r.codes, GOOD)[0] == "pass"
    o, msg = outcome(r.codes, replace(GOOD, countries=("BE", "UK", "XX")))
    assert o == "fail" and "country codes: UK, XX (UK is GB)" in msg
    o, msg = outcome(r.codes, replace(GOOD, sdgs=(4, 18)))
    assert o == "fail" and "18" in msg


def test_funding_programme_and_grant_number() -> None:
    assert outcome(r.funding, GOOD)[0] == "pass"
    o, msg = outcome(r.funding, replace(GOOD, grant_number="GA-12"))
    assert o == "fail" and "not valid" in msg
    assert_missing_fails_only_applications(r.funding, replace(GOOD, grant_number=""))
    # an EU-funded project under a national programme is inconsistent
    o, msg = outcome(r.funding, replace(GOOD, programme="National funding", grant_number=""))
    assert o == "fail" and "EU programme" in msg
    # a national initiative needs no grant number
    national = replace(GOOD, initiative_type="national-initiative", programme="National funding",
                       grant_number="")
    assert outcome(r.funding, national)[0] == "pass"
    assert outcome(r.funding, replace(national, programme="Ministry X"))[0] == "warn"


def test_end_date_not_before_start_date() -> None:
    assert outcome(r.dates, GOOD)[0] == "pass"
    o, msg = outcome(r.dates, replace(GOOD, end_date=dt.date(2023, 12, 31)))
    assert o == "fail" and "before the start date" in msg
    assert outcome(r.dates, replace(GOOD, end_date=None))[0] == "pass"
    assert_missing_fails_only_applications(r.dates, replace(GOOD, start_date=None,
                                                            end_date=None))


def test_duplicates_by_acronym_or_website() -> None:
    other = replace(GOOD, slug="other", acronym="Other", website="https://other.example.org/")
    assert outcome(r.duplicates, GOOD, others=(other,))[0] == "pass"
    same_acronym = replace(other, acronym="d.e.m.o")
    o, msg = outcome(r.duplicates, GOOD, others=(same_acronym,))
    assert o == "fail" and "acronym" in msg and "other" in msg
    same_site = replace(other, website="http://www.demo.example.org")
    o, msg = outcome(r.duplicates, GOOD, others=(same_site,))
    assert o == "fail" and "website" in msg
    # the project itself, and rejected applications, are no duplicates
    assert outcome(r.duplicates, GOOD, others=(GOOD,))[0] == "pass"
    rejected = replace(same_acronym, status="rejected")
    assert outcome(r.duplicates, GOOD, others=(rejected,))[0] == "pass"
    # two projects on the same host but different paths are different projects
    sibling = replace(other, website="https://demo.example.org/other-project")
    assert outcome(r.duplicates, GOOD, others=(sibling,))[0] == "pass"


def test_derived_status_member_then_alumni() -> None:
    running = replace(GOOD, end_date=TODAY)
    ended = replace(GOOD, end_date=TODAY - dt.timedelta(days=1))
    assert r.derived_status(running, TODAY) == "member"
    assert r.derived_status(ended, TODAY) == "alumni"
    assert r.derived_status(replace(GOOD, end_date=None), TODAY) == "member"
    assert r.derived_status(replace(ended, status="applicant"), TODAY) == "applicant"
    o, msg = outcome(r.status, ended)
    assert o == "pass" and "Alumni" in msg
    assert outcome(r.status, replace(GOOD, status="sleeping"))[0] == "fail"



def test_normalised_trims_and_upper_cases_whatever_the_door() -> None:
    raw = replace(GOOD, acronym="  DEMO ", countries=(" be", "gr ", ""),
                  grant_number="101 058 405", website=" https://demo.example.org/ ")
    clean = raw.normalised()
    assert clean.acronym == "DEMO"
    assert clean.countries == ("BE", "GR")
    assert clean.grant_number == "101058405"
    assert clean.website == "https://demo.example.org/"
    assert clean.normalised() == clean
    assert r.check(clean, ctx(strict=True)) == r.check(GOOD, ctx(strict=True))


def test_community_files_are_read_again_only_when_they_change(tmp_path: Path) -> None:
    import shutil

    from ostogether.core.errors import ContentError

    shutil.copytree(REPO / "content", tmp_path / "content")
    community = Community(root=tmp_path)
    first = community.site()
    assert community.site() is first  # unchanged: not parsed again
    path = tmp_path / "content" / "site.toml"
    text = path.read_text()
    path.write_text(text.replace('short_name = "OStogether"', 'short_name = "OStogether!"'))
    assert community.site().short_name == "OStogether!"  # an edit shows at once
    path.write_text(text + "\nnonsense = 1\n")
    with pytest.raises(ContentError, match="unknown field 'social.funding.nonsense'"):
        community.site()
    with pytest.raises(ContentError):  # a broken file is never served from memory
        community.site()
    path.write_text(text)
    assert community.site().short_name == "OStogether"


def test_social_handles_are_checked_in_each_networks_form() -> None:
    good = replace(GOOD, handles={"x": "@ostogether", "mastodon": "@ostogether@mastodon.social",
                                  "bluesky": "ostogether.bsky.social", "linkedin": "12345678",
                                  "facebook": "ostogether.eu"})
    assert outcome(r.handles, good) == ("pass", "5 social handle(s) in their form.")
    bad = replace(GOOD, handles={"x": "@far_too_long_for_x_handles", "mastodon": "@ostogether",
                                 "bluesky": "not a handle", "linkedin": "OStogether",
                                 "facebook": "ok.page"})
    o, message = outcome(r.handles, bad)
    assert o == "fail"
    for network in ("x", "mastodon", "bluesky", "linkedin"):
        assert f"{network} '" in message
    assert "facebook" not in message
    assert "@user@instance" in message
    assert outcome(r.handles, GOOD)[1].startswith("No social handles")
