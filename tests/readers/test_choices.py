"""Readers choose what they receive (issue 36): at sign-up, on the preferences page from
the link in every mail, in the readers' CSV (export then import), and from Mailchimp's
tags with --map-tags. Every change is in the consent log; one-click unsubscribe still
stops everything."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from ostogether.core import csvout
from ostogether.edges.runtime import Runtime
from ostogether.models import ConsentEvent, Subscriber
from ostogether.readers import readers_import, subscribers
from tests.conftest import csrf_from, link_in, outbox, run

UA = "Mozilla/5.0 (test)"
BASE = ["Email Address", "First Name", "Last Name", "OPTIN_TIME", "CONFIRM_TIME", "CC",
        "LAST_CHANGED", "TAGS"]


def sign_up(client: Any, email: str = "reader@example.org", **extra: Any) -> Any:
    token = csrf_from(client.get("/subscribe").get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "name": "Ana", "language": "en",
            "consent": "y", **extra}
    return client.post("/subscribe", data=data, headers={"User-Agent": UA})


def mc_csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    """A Mailchimp export's CSV, quoted as Mailchimp quotes it."""
    out = io.StringIO()
    w = csv.DictWriter(out, header, lineterminator="\r\n", quoting=csv.QUOTE_ALL,
                       extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()

CHOSEN = {"topics": ["steam", "sdg-13"], "kinds": ["event"], "audiences": ["teachers"],
          "projects": ["connect"], "country": "BE"}


def reader(rt: Runtime, email: str = "reader@example.org") -> Subscriber:
    with rt.db.session() as s:
        sub = s.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        s.expunge(sub)
    return sub


def consent(rt: Runtime, action: str) -> list[ConsentEvent]:
    with rt.db.session() as s:
        found = list(s.scalars(select(ConsentEvent).where(ConsentEvent.action == action)
                               .order_by(ConsentEvent.id)))
        s.expunge_all()
    return found


def confirmed_reader(client: Any, settings: Any, **chosen: Any) -> str:
    """Sign up (with ``chosen``) and confirm; the /p/ path from the welcome mail."""
    sign_up(client, **chosen)
    confirm = link_in(outbox(settings)[-1], "/subscribe/confirm/")
    page = client.get(confirm)
    client.post(confirm, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    return link_in(outbox(settings)[-1], "/p/")


def test_the_sign_up_offers_the_choices_folded_and_keeps_them_with_its_consent(
        client: Any, rt: Runtime) -> None:
    page = client.get("/subscribe").get_data(as_text=True)
    assert "What would you like to receive?" in page
    assert '<details class="choices">' in page  # closed: everything unless opened
    for name, value in (("topics", "steam"), ("topics", "sdg-13"), ("kinds", "event"),
                        ("audiences", "school-heads"), ("projects", "connect")):
        assert f'name="{name}" type="checkbox" value="{value}"' in page
    assert "checked" not in page  # nothing chosen: everything
    assert '<option selected value="">' in page  # no country unless given

    r = sign_up(client, **CHOSEN)
    assert r.status_code == 302, r.get_data(as_text=True)
    sub = reader(rt)
    assert (sorted(sub.topics), sub.kinds, sub.audiences, sub.projects, sub.country) == (
        ["sdg-13", "steam"], ["event"], ["teachers"], ["connect"], "BE")
    [event] = consent(rt, "subscribe")
    assert event.detail["choices"] == {"topics": ["sdg-13", "steam"], "kinds": ["event"],
                                       "audiences": ["teachers"], "projects": ["connect"],
                                       "country": "BE"}
    # Nothing chosen is everything, and the consent record says so.
    assert sign_up(client, "other@example.org").status_code == 302
    other = reader(rt, "other@example.org")
    assert (other.topics, other.kinds, other.audiences, other.projects, other.country) == (
        [], [], [], [], "")
    assert consent(rt, "subscribe")[-1].detail["choices"]["topics"] == []


def test_an_unknown_choice_at_sign_up_subscribes_nobody(client: Any, rt: Runtime) -> None:
    r = sign_up(client, topics=["steam", "knitting"])
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "knitting is not one of the choices" in page
    assert "<details class=\"choices\" open>" in page  # opened where the problem is
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_the_preferences_page_saves_choices_with_the_consent_log_before_and_after(
        client: Any, rt: Runtime, settings: Any) -> None:
    prefs = confirmed_reader(client, settings, topics=["steam"])
    page = client.get(prefs).get_data(as_text=True)
    # Every choice is a checkbox whose value is its key; the stored one is ticked.
    assert 'checked id="topics-1" name="topics" type="checkbox" value="steam"' in page
    assert 'name="projects" type="checkbox" value="connect"' in page
    assert "An item reaches you when it comes from a project you follow" in page
    assert "Download everything we keep about you" in page
    r = client.post(prefs, data={"csrf_token": csrf_from(page), "name": "Ana",
                                 "language": "en", "topics": ["sdg-13", "citizen-science"],
                                 "audiences": "parents", "country": "PT"},
                    headers={"User-Agent": UA})
    assert r.status_code == 200 and "Saved." in r.get_data(as_text=True)
    sub = reader(rt)
    assert (sorted(sub.topics), sub.audiences, sub.country) == (
        ["citizen-science", "sdg-13"], ["parents"], "PT")
    [event] = consent(rt, "preferences")
    assert (event.source, event.user_agent) == ("link", UA)
    assert event.detail["before"] == {"topics": ["steam"], "kinds": [], "audiences": [],
                                      "projects": [], "country": ""}
    assert event.detail["after"] == {"topics": ["citizen-science", "sdg-13"], "kinds": [],
                                     "audiences": ["parents"], "projects": [],
                                     "country": "PT"}
    assert sorted(event.detail["changed"]) == ["audiences", "country", "topics"]
    # The data download holds the choices and the country.
    data = json.loads(client.get(prefs + "/data.json").get_data(as_text=True))
    assert data["choices"]["topics"] == ["citizen-science", "sdg-13"]
    assert data["country"] == "PT"
    # Unticking every box is "everything" again, and logged as such.
    page = client.get(prefs).get_data(as_text=True)
    client.post(prefs, data={"csrf_token": csrf_from(page), "name": "Ana", "language": "en",
                             "country": "PT"})
    assert reader(rt).topics == [] and reader(rt).audiences == []
    assert consent(rt, "preferences")[-1].detail["after"]["topics"] == []
    # One-click unsubscribe still stops everything, whatever was chosen.
    page = client.get(prefs).get_data(as_text=True)
    client.post(prefs, data={"csrf_token": csrf_from(page), "name": "Ana", "language": "en",
                             "topics": "steam", "projects": "connect"})
    assert reader(rt).projects == ["connect"]
    r = client.post(prefs.replace("/p/", "/u/"), data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and reader(rt).status == "unsubscribed"


def test_an_unknown_key_on_the_preferences_page_writes_nothing(
        client: Any, rt: Runtime, settings: Any) -> None:
    prefs = confirmed_reader(client, settings, topics=["steam"])
    page = client.get(prefs).get_data(as_text=True)
    r = client.post(prefs, data={"csrf_token": csrf_from(page), "name": "Ana B.",
                                 "language": "en", "topics": ["sdg-13", "knitting"],
                                 "projects": "no-such-project"})
    assert r.status_code == 400
    shown = r.get_data(as_text=True)
    assert "Nothing was saved" in shown
    assert "knitting is not one of the choices" in shown
    assert "no-such-project is not one of the choices" in shown
    sub = reader(rt)
    assert (sub.topics, sub.projects, sub.name) == (["steam"], [], "Ana")
    assert consent(rt, "preferences") == []
    r = client.post(prefs, data={"csrf_token": csrf_from(page), "name": "Ana",
                                 "language": "en", "country": "XX"})
    assert r.status_code == 400 and "Choose a country from the list" in r.get_data(
        as_text=True)
    assert reader(rt).country == "" and consent(rt, "preferences") == []


def _csv(rows: list[list[str]]) -> bytes:
    return csvout.to_csv(rows).encode()


def test_the_readers_csv_round_trips_the_choices(rt: Runtime, tmp_path: Path) -> None:
    rows = [list(subscribers.COLUMNS),
            ["ana@example.org", "Ana", "fr", "2024-01-09T10:00:00+01:00", "fair",
             "steam;sdg-13", "event;news", "teachers", "connect", "be"],
            ["ben@example.org", "Ben", "en", "2024-01-09", "fair", "", "", "", "", ""]]
    report = readers_import.import_readers(rt, [("in.csv", _csv(rows))], apply=True)
    assert report.counts["new"] == 2, list(report.lines)
    report.spool.close()
    exported = subscribers.export_rows(rt)
    assert exported[0][-5:] == ["topics", "kinds", "audiences", "projects", "country"]
    assert ["ana@example.org", "Ana", "fr", "2024-01-09T10:00:00+01:00", "fair",
            "sdg-13;steam", "event;news", "teachers", "connect", "BE"] in exported
    # Another instance: the same readers, nothing else; the export goes in again.
    with rt.db.session() as s:
        s.execute(delete(ConsentEvent))
        s.execute(delete(Subscriber))
    path = tmp_path / "out.csv"
    path.write_text(csvout.to_csv(exported), encoding="utf-8")
    report = readers_import.import_readers(rt, [("out.csv", path)], apply=True)
    assert report.counts["new"] == 2
    report.spool.close()
    assert subscribers.export_rows(rt) == exported
    ana = reader(rt, "ana@example.org")
    assert (sorted(ana.topics), ana.kinds, ana.projects, ana.country) == (
        ["sdg-13", "steam"], ["event", "news"], ["connect"], "BE")
    [event] = [e for e in consent(rt, "import") if e.subscriber_id == ana.id]
    assert event.detail["choices"]["audiences"] == ["teachers"]


def test_an_unknown_value_in_the_csv_is_a_line_error_naming_it(rt: Runtime) -> None:
    rows = [list(subscribers.COLUMNS),
            ["ana@example.org", "", "en", "2024-01-09", "fair", "steam;knitting", "", "",
             "", ""],
            ["ben@example.org", "", "en", "2024-01-09", "fair", "", "podcast", "", "", ""],
            ["cleo@example.org", "", "en", "2024-01-09", "fair", "", "", "", "atlantis",
             "ZZ"],
            ["dan@example.org", "", "en", "2024-01-09", "fair", "steam", "", "", "", ""]]
    report = readers_import.import_readers(rt, [("in.csv", _csv(rows))], apply=True)
    try:
        bad = {x.email: x.reason for x in report.of("invalid")}
        assert report.counts["new"] == 1
    finally:
        report.spool.close()
    assert "topics: unknown topic 'knitting'; use open-schooling, steam" in bad[
        "ana@example.org"]
    assert "sdg-13" in bad["ana@example.org"]
    assert "kinds: unknown kind 'podcast'; use news, event" in bad["ben@example.org"]
    assert "projects: unknown project 'atlantis'; use " in bad["cleo@example.org"]
    assert "connect" in bad["cleo@example.org"]
    assert "country: 'ZZ' is not a country code" in bad["cleo@example.org"]
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber.email)).all() == ["dan@example.org"]


TAGGED = [
    {"Email Address": "t1@example.org", "OPTIN_TIME": "2021-03-01 09:00:00",
     "TAGS": '"STEM teachers","Spain"', "Interests": "Climate, Robots"},
    {"Email Address": "t2@example.org", "OPTIN_TIME": "2021-03-01 09:00:00",
     "TAGS": '"STEM teachers"'},
    {"Email Address": "t3@example.org", "OPTIN_TIME": "2021-03-01 09:00:00", "TAGS": ""},
]


def test_map_tags_dry_run_shows_each_tag_then_apply_gives_topics(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "subscribed_members_export_1.csv"
    path.write_bytes(mc_csv([*BASE, "Interests"], TAGGED))
    mapping = "STEM teachers=steam,Climate=sdg-13"
    r = run(env, "subscribers", "import", str(path), "--map-tags", mapping)
    assert r.returncode == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "Tag 'STEM teachers' → topic steam: 2 new reader(s)." in out
    assert "Tag 'Climate' → topic sdg-13: 1 new reader(s)." in out  # a group's value
    assert "Tags left unmapped (new readers): 'Spain' (1)." in out
    assert "Robots" not in out  # a group value nobody mapped is not a tag
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []  # a dry run writes nothing

    # The same from a mapping file (TOML), applied.
    toml = tmp_path / "tags.toml"
    toml.write_text('[tags]\n"STEM teachers" = "steam"\n"Climate" = "sdg-13"\n',
                    encoding="utf-8")
    r = run(env, "subscribers", "import", str(path), "--map-tags", str(toml), "--apply")
    assert r.returncode == 0, r.stderr
    assert sorted(reader(rt, "t1@example.org").topics) == ["sdg-13", "steam"]
    assert reader(rt, "t2@example.org").topics == ["steam"]
    assert reader(rt, "t3@example.org").topics == []  # no tag: everything
    [event] = [e for e in consent(rt, "import")
               if e.subscriber_id == reader(rt, "t1@example.org").id]
    assert event.detail["topics_from_tags"] == ["steam", "sdg-13"]


def test_map_tags_with_an_unknown_topic_writes_nothing(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "subscribed_members_export_1.csv"
    path.write_bytes(mc_csv([*BASE, "Interests"], TAGGED))
    mapping = tmp_path / "tags.csv"
    mapping.write_text("tag,topic\nSTEM teachers,steam\nClimate,climate\n", encoding="utf-8")
    r = run(env, "subscribers", "import", str(path), "--map-tags", str(mapping), "--apply")
    assert r.returncode != 0
    assert ('"climate" (for "Climate") is not a topic; use one of open-schooling, steam'
            in " ".join(r.stderr.split()))
    with rt.db.session() as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_the_editors_see_a_readers_choices(editor: Any, rt: Runtime, client: Any,
                                           settings: Any) -> None:
    confirmed_reader(client, settings, topics=["steam"], projects="connect", country="BE")
    page = editor.get(f"/editors/subscribers/{reader(rt).id}").get_data(as_text=True)
    assert "STE(A)M" in page and "CONNECT" in page.upper() and "Belgium" in page
    assert "the items that match their choices" in page


def test_the_export_keeps_choices_in_columns(rt: Runtime, client: Any,
                                             settings: Any) -> None:
    confirmed_reader(client, settings, **CHOSEN)
    rows = list(csv.reader(io.StringIO(csvout.to_csv(subscribers.export_rows(rt)))))
    assert rows[1][5:] == ["sdg-13;steam", "event", "teachers", "connect", "BE"]
