"""A member project proposes its social handles; an editor confirms them (into the
database, which holds the registry) or declines them with a reason the member sees."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from ostogether.core.errors import ValidationError
from ostogether.edges.runtime import Runtime
from ostogether.models import Project
from ostogether.registry import handles, projects
from ostogether.social import wording
from tests.conftest import login, new_client, post
from tests.factories import make_user


def cosmos(rt: Runtime) -> Project:
    with rt.db.session() as s:
        p = s.scalar(select(Project).where(Project.slug == "cosmos"))
        assert p is not None
        s.expunge(p)
    return p


def member(app: Any, rt: Runtime) -> Any:
    make_user(rt, "ana@cosmos.example", "member", project="cosmos")
    c = new_client(app)
    assert login(c, "ana@cosmos.example").status_code == 302
    return c


def test_a_member_proposes_and_an_editor_confirms_into_the_database(
        app: Any, rt: Runtime, editor: Any) -> None:
    ana = member(app, rt)
    page = ana.get("/members/handles").get_data(as_text=True)
    assert "mentions your project by its account" in page
    bad = post(ana, "/members/handles", "/members/handles", x="not a handle!",
               mastodon="cosmos", bluesky="", linkedin="", facebook="")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Nothing was sent" in text
    assert "X: should be 1 to 15 letters" in text and "Mastodon: should be @user@instance" in text
    assert 'value="not a handle!"' in text  # what was typed is kept
    assert cosmos(rt).proposed_handles is None

    ok = post(ana, "/members/handles", "/members/handles", x="@cosmos_eu",
              mastodon="cosmos@mastodon.social", bluesky="@COSMOS.bsky.social",
              linkedin="urn:li:organization:4242", facebook="cosmos.eu")
    assert ok.status_code == 302
    assert cosmos(rt).proposed_handles == {
        "x": "cosmos_eu", "mastodon": "@cosmos@mastodon.social",
        "bluesky": "cosmos.bsky.social", "linkedin": "4242", "facebook": "cosmos.eu"}
    assert cosmos(rt).handles == {}  # not used before an editor confirms
    assert "waiting for an editor" in ana.get("/members/handles").get_data(as_text=True)

    assert "<strong>1</strong> project with social handles to confirm" in editor.get(
        "/editors/").get_data(as_text=True)
    queue = editor.get("/editors/handles").get_data(as_text=True)
    assert "COSMOS" in queue and "cosmos.bsky.social" in queue
    r = post(editor, "/editors/handles/cosmos", "/editors/handles", action="confirm")
    assert r.status_code == 302
    assert cosmos(rt).handles["bluesky"] == "cosmos.bsky.social"
    assert cosmos(rt).proposed_handles is None
    # The database holds them; the project's file on the server is not touched, and a
    # re-import of the file (which has no handles) reports the conflict and keeps them.
    path = rt.community.projects_dir / "cosmos.toml"
    assert "handles" not in tomllib.loads(path.read_text(encoding="utf-8"))
    report = projects.import_content(rt)
    assert [c.field for c in report.conflicts["cosmos"]] == ["handles"]
    assert cosmos(rt).handles["x"] == "cosmos_eu"
    assert wording.mention(cosmos(rt), "x") == "@cosmos_eu"


def test_an_editor_declines_with_a_reason_the_member_sees(app: Any, rt: Runtime,
                                                          editor: Any) -> None:
    ana = member(app, rt)
    post(ana, "/members/handles", "/members/handles", x="cosmos_fake", mastodon="",
         bluesky="", linkedin="", facebook="")
    no_reason = post(editor, "/editors/handles/cosmos", "/editors/handles", action="decline")
    assert no_reason.status_code == 302 and cosmos(rt).proposed_handles is not None
    post(editor, "/editors/handles/cosmos", "/editors/handles", action="decline",
         reason="That X account belongs to another project.")
    assert cosmos(rt).proposed_handles is None and cosmos(rt).handles == {}
    page = ana.get("/members/handles").get_data(as_text=True)
    assert "An editor declined your last proposal" in page
    assert "That X account belongs to another project." in page
    again = post(ana, "/members/handles", "/members/handles", x="", mastodon="",
                 bluesky="", linkedin="", facebook="")
    assert again.status_code == 200
    assert "already uses; nothing was sent" in again.get_data(as_text=True)


@pytest.mark.parametrize("network, given, kept", [
    ("x", "https://x.com/ecsite", "ecsite"),
    ("x", "https://twitter.com/ecsite?lang=en", "ecsite"),
    ("x", "x.com/ecsite/", "ecsite"),
    ("x", "@ecsite", "ecsite"),
    ("linkedin", "https://www.linkedin.com/company/12345678/", "12345678"),
    ("linkedin", "https://www.linkedin.com/company/12345678/admin/dashboard/", "12345678"),
    ("mastodon", "https://mastodon.social/@ecsite", "@ecsite@mastodon.social"),
    ("mastodon", "https://mastodon.social/users/ecsite", "@ecsite@mastodon.social"),
    ("mastodon", "https://mastodon.social/@ecsite@fediscience.org",
     "@ecsite@fediscience.org"),
    ("mastodon", "@ecsite@mastodon.social", "@ecsite@mastodon.social"),
    ("bluesky", "https://bsky.app/profile/ecsite.bsky.social", "ecsite.bsky.social"),
    ("bluesky", "@Ecsite.bsky.social", "ecsite.bsky.social"),
    ("facebook", "https://www.facebook.com/ecsite", "ecsite"),
    ("facebook", "https://m.facebook.com/ecsite/?ref=bookmarks", "ecsite"),
    ("facebook", "https://www.facebook.com/profile.php?id=100064123456789",
     "100064123456789"),
    ("facebook", "@ecsite", "ecsite"),
])
def test_a_pasted_profile_address_or_a_leading_at_becomes_the_handle(
        network: str, given: str, kept: str) -> None:
    assert handles.cleaned({network: given}) == {network: kept}


@pytest.mark.parametrize("network, given, says", [
    ("linkedin", "https://www.linkedin.com/company/ecsite/",
     "LinkedIn: mentions need the organisation's number, not its name in the address "
     "('ecsite')"),
    ("facebook", "https://x.com/ecsite", "Facebook: x.com is not Facebook's address"),
    ("bluesky", "https://bsky.app/profile/did:plc:abc123",
     "Bluesky: the address names the account by its DID"),
    ("mastodon", "https://mastodon.social/about", "Mastodon: give the profile's address"),
    ("x", "https://x.com/", "X: that address is not a profile's"),
])
def test_an_address_that_names_no_handle_says_what_to_give(network: str, given: str,
                                                           says: str) -> None:
    with pytest.raises(ValidationError) as exc:
        handles.cleaned({network: given})
    assert exc.value.fields[network].startswith(says)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=15),
       st.sampled_from(["https://x.com/", "http://twitter.com/", "https://mobile.x.com/",
                        "x.com/@", "@"]))
def test_any_x_handle_survives_being_pasted_as_an_address(name: str, prefix: str) -> None:
    assert handles.cleaned({"x": prefix + name}) == {"x": name}


def test_a_member_pastes_addresses_in_the_handles_form(app: Any, rt: Runtime) -> None:
    ana = member(app, rt)
    ok = post(ana, "/members/handles", "/members/handles", x="https://x.com/cosmos_eu",
              mastodon="https://mastodon.social/@cosmos", bluesky="", linkedin="",
              facebook="https://www.facebook.com/cosmos.eu")
    assert ok.status_code == 302
    assert cosmos(rt).proposed_handles == {"x": "cosmos_eu",
                                           "mastodon": "@cosmos@mastodon.social",
                                           "facebook": "cosmos.eu"}
