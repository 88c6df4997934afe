"""The social domain's sentences in the page's language: a post's problem and hint (stored
in English as records, worded when shown), refusals, card notes and the calendar's
warnings; English stays as it was, and the JSON of the commands still serialises."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any

import pytest
from babel.dates import format_date
from flask_babel import gettext
from sqlalchemy import select

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.models import SocialPost
from ostogether.social import posts as social
from ostogether.social import publish, said
from tests.conftest import post, run, social_posts
from tests.factories import TEST


def words(html: str) -> str:
    """A page's text, as a reader sees it (no tags, entities read, spaces collapsed)."""
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", "", html)))


def two_refused_posts(rt: Runtime) -> tuple[SocialPost, SocialPost, str]:
    """Next week planned, with an X post too long and a Mastodon post whose picture has
    no description: (the X post, the Mastodon post, the week)."""
    social.plan_week(rt, TEST)
    planned = sorted(social_posts(rt).values(), key=lambda p: (p.slot_at, p.id))
    x = next(p for p in planned if p.network == "x")
    mastodon = next(p for p in planned if p.network == "mastodon")
    with rt.db.session() as s:
        s.get(SocialPost, x.id).text = "a" * 290  # type: ignore[union-attr]
        one = s.get(SocialPost, mastodon.id)
        assert one is not None
        one.image_url, one.image_alt = "https://cosmosproject.eu/p.jpg", ""
    week = social.week_label(*social.week_of(x.slot_at.astimezone(
        rt.community.schedule().zone).date()))
    return x, mastodon, week


def test_a_posts_problem_and_hint_are_shown_in_the_pages_language_and_kept_in_english(
        editor: Any, rt: Runtime) -> None:
    x, mastodon, week = two_refused_posts(rt)
    # The week's approval from a Dutch page: the reasons are kept in English, as records.
    r = post(editor, "/editors/social/approve-week?lang=nl", "/editors/social/?lang=nl",
             week=week)
    assert r.status_code == 302
    kept = social_posts(rt)
    assert kept[x.id].status == "planned"
    assert kept[x.id].error == ("Not approved: X counts 290 of 280 weighted characters; "
                                "shorten it by 10.")
    assert kept[x.id].hint == "edit the post, then approve it"
    assert kept[mastodon.id].error == (
        "Not approved: it has an image without a description; describe the image for "
        "people who cannot see it.")

    page = words(editor.get(f"/editors/social/{x.id}?lang=nl").get_data(as_text=True))
    assert ("Niet goedgekeurd: X telt 290 van 280 gewogen tekens; maak de tekst 10 korter. "
            "— bewerk het bericht en keur het dan goed") in page
    page = words(editor.get(f"/editors/social/{mastodon.id}").get_data(as_text=True))
    assert ("Niet goedgekeurd: het heeft een afbeelding zonder beschrijving; beschrijf de "
            "afbeelding voor wie haar niet kan zien. — bewerk het bericht en keur het dan "
            "goed") in page  # the language is kept in the cookie
    # The calendar beside each planned post, in Dutch too.
    page = words(editor.get(f"/editors/social/?week={week}").get_data(as_text=True))
    assert "Niet goedgekeurd: X telt 290 van 280 gewogen tekens" in page

    # In English, as it always read.
    page = words(editor.get(f"/editors/social/{x.id}?lang=en").get_data(as_text=True))
    assert ("Not approved: X counts 290 of 280 weighted characters; shorten it by 10. — "
            "edit the post, then approve it") in page
    page = words(editor.get(f"/editors/social/{mastodon.id}").get_data(as_text=True))
    assert "Not approved: it has an image without a description; describe the image" in page


def test_a_refused_edit_and_move_speak_the_pages_language(editor: Any, rt: Runtime) -> None:
    x, _, _ = two_refused_posts(rt)
    page = f"/editors/social/{x.id}?lang=nl"
    r = post(editor, page, page, text="b" * 291)
    assert r.status_code == 400
    html = words(r.get_data(as_text=True))
    assert ("Het bericht is niet gewijzigd: X telt 291 van 280 gewogen tekens; maak de "
            "tekst 11 korter.") in html
    assert social_posts(rt)[x.id].text == "a" * 290
    r = post(editor, f"/editors/social/{x.id}/move?lang=de", page, at="2020-01-08T10:00")
    assert r.status_code == 400
    html = words(r.get_data(as_text=True))
    assert "Mi., 8. Jan. 2020, 10:00 (CET) ist vorbei; wählen Sie einen Zeitpunkt in der " \
           "Zukunft oder veröffentlichen Sie ihn jetzt." in html
    r = post(editor, f"/editors/social/{x.id}/move?lang=en", page, at="2020-01-08T10:00")
    assert "Wed 8 Jan 2020, 10:00 (CET) has passed; pick a time in the future, or " \
           "publish it now." in words(r.get_data(as_text=True))


def test_the_calendar_in_french_words_a_networks_refusal_and_the_version_warning(
        editor: Any, rt: Runtime, env: dict[str, str], fake: Any,
        test_clock: clock.FakeClock) -> None:
    from ostogether.core.settings import load_settings
    from tests.social_fakes import env_for

    social.plan_week(rt, TEST)
    one = min((p for p in social_posts(rt).values() if p.network == "mastodon"),
              key=lambda p: (p.slot_at, p.id))
    social.approve(rt, TEST, [one.id])
    test_clock.set(one.slot_at + dt.timedelta(minutes=1))
    fake.faults["mastodon"] = ["duplicate"]
    live = Runtime(load_settings(environ={**env, **env_for(fake.url)}))
    try:
        publish.publish_due(live)
    finally:
        live.close()
    failed = social_posts(rt)[one.id]
    assert failed.status == "failed"
    assert failed.error == ("Mastodon refused the post (422): Validation failed: Text has "
                            "already been posted")

    end = dt.date.fromisoformat(rt.settings.linkedin_version_end)
    test_clock.set(dt.datetime.combine(end - dt.timedelta(days=59), dt.time(12),
                                       tzinfo=dt.UTC))
    page = words(editor.get("/editors/social/?lang=fr").get_data(as_text=True))
    assert ("Mastodon a refusé la publication (422)\u00a0: Validation failed: Text has "
            "already been posted (le réseau a refusé le contenu\u00a0; modifiez la "
            "publication et approuvez-la à nouveau)") in page
    assert (f"La version {rt.settings.linkedin_version} de la LinkedIn API sera retirée le "
            f"{format_date(end, 'long', locale='fr')}, dans 59 jours") in page
    page = words(editor.get("/editors/social/?lang=en").get_data(as_text=True))
    assert ("Mastodon refused the post (422): Validation failed: Text has already been "
            "posted (the network refused the content; edit the post and approve it "
            "again)") in page
    assert (f"The LinkedIn API version {rt.settings.linkedin_version} is retired on "
            f"{end:%-d %B %Y}, in 59 day(s)") in page


def test_the_status_command_writes_its_warnings_in_json_in_english(
        env: dict[str, str], rt: Runtime, test_clock: clock.FakeClock) -> None:
    end = dt.date.fromisoformat(rt.settings.linkedin_version_end)
    test_clock.set(dt.datetime.combine(end - dt.timedelta(days=59), dt.time(12),
                                       tzinfo=dt.UTC))
    r = run({**env, "OSTOGETHER_LINKEDIN_TOKEN_EXPIRES_ON":
             (end - dt.timedelta(days=57)).isoformat()}, "social", "status", "--format", "json")
    assert r.returncode == 0, r.stderr
    warning = {n["network"]: n["warning"] for n in json.loads(r.stdout)["networks"]}
    assert warning["linkedin"] == (
        f"The LinkedIn API version {rt.settings.linkedin_version} is retired on "
        f"{end:%-d %B %Y}, in 59 day(s): before then, set OSTOGETHER_LINKEDIN_VERSION to a "
        f"current version and OSTOGETHER_LINKEDIN_VERSION_END to its end of life "
        f"(docs/social.md). The LinkedIn token expires on "
        f"{end - dt.timedelta(days=57):%-d %B %Y}, in 2 day(s); renew it before then "
        f"(docs/social.md).")
    assert warning["x"] == ""


def _sample(template: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, kind in re.findall(r"%\((\w+)\)([sd])", template):
        params[name] = (7 if kind == "d" else "Mastodon" if name == "network" else
                        f"<{name} of the network>")
    return params


@pytest.mark.parametrize("template", sorted(set(said.STORED)))
def test_each_stored_sentence_is_read_back_and_worded_in_the_pages_language(
        app: Any, template: str) -> None:
    params = _sample(template)
    stored = said.record(template, **params)
    with app.test_request_context("/?lang=fr"):
        assert said.shown(stored) == gettext(template, **params)
        assert said.shown(stored) != stored or template == gettext(template)
    with app.test_request_context("/?lang=en"):
        assert said.shown(stored) == stored
    assert said.shown("The network's own words (500): nothing of ours.") == \
        "The network's own words (500): nothing of ours."


def test_the_visibility_report_names_each_networks_figures_in_the_pages_language(
        editor: Any, rt: Runtime) -> None:
    from ostogether.models import PostMetric, Project

    at = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
    with rt.db.session() as s:
        cosmos = s.scalars(select(Project).where(Project.slug == "cosmos")).one()
        one = SocialPost(network="bluesky", status="published", kind="news", slot_at=at,
                         published_at=at, project_id=cosmos.id, title="Inquiry with pupils",
                         idempotency_key="k-words", remote_url="https://bsky.app/p/1")
        s.add(one)
        s.flush()
        s.add(PostMetric(post_id=one.id, age="48h", taken_at=at + dt.timedelta(hours=48),
                         api_version="app.bsky.feed.getPosts", available=True,
                         counts={"like": 3, "repost": 1, "reply": 0, "quote": 2}, note=""))
    page = "/reports/visibility?project=cosmos&from=2026-01-01&to=2026-12-31"
    html = words(editor.get(page + "&lang=fr").get_data(as_text=True))
    assert "j’aime 3, republications 1, réponses 0, citations 2" in html
    html = words(editor.get(page + "&lang=en").get_data(as_text=True))
    assert "like 3, repost 1, reply 0, quote 2" in html


def test_why_a_slot_stays_empty_in_french_and_in_the_plan_commands_json(
        editor: Any, rt: Runtime, env: dict[str, str]) -> None:
    week = social.week_label(*social.next_week(rt))
    r = run(env, "social", "plan", "--week", week, "--format", "json")
    assert r.returncode == 0, r.stderr
    why = [u["why"] for u in json.loads(r.stdout)["unfilled"]]
    assert why and why[0].startswith("nothing of the kinds ")
    assert why[0].startswith("nothing of the kinds Event, News, ")  # the kinds by name
    weeks = rt.community.schedule().social.evergreen_repeat_weeks
    assert why[0].endswith(" is waiting, and every evergreen entry of those kinds was "
                           f"posted within {weeks} weeks")
    r = post(editor, "/editors/social/plan?lang=fr", "/editors/social/?lang=fr", week=week)
    html = words(editor.get(r.headers["Location"]).get_data(as_text=True))
    assert "reste vide\u00a0: rien des types " in html
    assert "rien des types Événement, Actualité, " in html  # the kinds' names in French
    assert "n’est en attente, et chaque entrée intemporelle de ces types a été publiée il " \
           "y a moins de " in html
