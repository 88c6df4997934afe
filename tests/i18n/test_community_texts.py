"""The community's own texts per language: site.toml's [languages.<code>] (checked as
strictly as the rest of the file), the code of conduct and the privacy notice beside
their English (content/<name>.<code>.md); pages follow the visitor's language and mark
with ``lang`` a text that falls back to English."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ostogether.core.errors import ContentError
from ostogether.core.languages import LANGUAGES
from ostogether.edges.runtime import Runtime
from ostogether.edges.site import Community
from ostogether.models import ConsentEvent, Subscriber
from tests.conftest import REPO, csrf_from


@pytest.fixture
def community(tmp_path: Path) -> Community:
    shutil.copytree(REPO / "content", tmp_path / "content")
    return Community(root=tmp_path)


def test_the_shipped_texts_come_in_every_language() -> None:
    shipped = Community(root=REPO)
    site = shipped.site()
    for code in LANGUAGES:
        if code == "en":
            continue
        seen = site.in_language(code)
        assert seen.translated >= {"tagline", "about", "funding_statement",
                                   "funding_credit", "funding_disclaimer"}, code
        assert seen.tagline != site.tagline and seen.lang_of("tagline") == code
        for document in (shipped.code_of_conduct(code), shipped.privacy_notice(code)):
            assert document.language == code
        assert shipped.privacy_notice(code).version == shipped.privacy_notice().version
    assert "Gefinancierd door de Europese Unie" == site.in_language("nl").funding_statement
    assert site.in_language("en") is site.in_language("en")  # one copy per language


def test_site_toml_languages_are_checked_with_file_and_line(community: Community) -> None:
    path = community.content / "site.toml"
    text = path.read_text()
    head, rest = text.split("[languages.nl]", 1)
    path.write_text(head + '[languages.sv]\ntagline = "Hej"\n\n[languages.nl]'
                    + rest.replace('funding_statement = "Gefinancierd',
                                   'slogan = "Samen"\nfunding_statement = "Gefinancierd', 1)
                    .replace("[languages.fr]", "[languages.fr]\nname = 3", 1))
    with pytest.raises(ContentError) as exc:
        community.site()
    problems = exc.value.problems
    lines = path.read_text().splitlines()
    sv = lines.index("[languages.sv]") + 1
    slogan = lines.index('slogan = "Samen"') + 1
    about = lines.index("name = 3") + 1
    assert f"{path}:{sv}: unknown language 'sv'" in "\n".join(problems)
    assert any(p.startswith(f"{path}:{slogan}: unknown text 'languages.nl.slogan'")
               for p in problems), problems
    assert any(p.startswith(f"{path}:{about}: 'languages.fr.name' must be text")
               for p in problems), problems
    # The base language is the text outside [languages]: giving it again is a mistake.
    path.write_text(text.replace("[languages.nl]", "[languages.en]", 1))
    with pytest.raises(ContentError, match="unknown language 'en'"):
        community.site()
    # A language that gives only some texts: the others in English, marked so.
    path.write_text(re.sub(r'(\[languages\.nl\]\n)tagline = "[^"]*"\n', r"\1", text))
    nl = community.site().in_language("nl")
    assert nl.lang_of("tagline") == "en" and nl.lang_of("about") == "nl"
    assert nl.tagline == community.site().tagline


def test_documents_per_language_with_english_as_the_fallback(community: Community) -> None:
    assert community.code_of_conduct("de").markdown.startswith("OStogether ist eine")
    assert community.code_of_conduct("en").language == "en"
    assert community.code_of_conduct("sv").language == "en"
    (community.content / "code-of-conduct.de.md").unlink()
    assert community.code_of_conduct("de").language == "en"
    # An out-of-date translation is never shown: the English one is.
    path = community.content / "privacy.fr.md"
    path.write_text(path.read_text().replace('version = "1.2"', 'version = "1.1"'))
    assert community.privacy_notice("fr").language == "en"
    assert community.privacy_notice("it").language == "it"


def test_pages_show_the_community_texts_in_the_visitors_language(
        rt: Runtime, client: Any, tmp_path: Path) -> None:
    home = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert '<p class="lead">Een gemeenschap die projecten' in home
    assert "is een gemeenschap, van onderop gegroeid" in home
    # The name is not given in Dutch: it stays English, and says so.
    assert '<h1 lang="en">Open Schooling together</h1>' in home
    assert '<p class="lead">Een' in home and '<div>' in home.split('id="about"')[1]
    coc = client.get("/code-of-conduct?lang=fr").get_data(as_text=True)
    assert "Soyez honnête sur votre identité." in coc and '<div lang="en">' not in coc
    privacy = client.get("/privacy?lang=de").get_data(as_text=True)
    assert "Rechtsgrundlage ist Ihre Einwilligung" in privacy
    english = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "there is no tracking pixel" in english


def test_a_text_that_falls_back_is_marked_english(app: Any, rt: Runtime, client: Any
                                                   ) -> None:
    content = rt.community.content
    backup = (content / "code-of-conduct.it.md").read_bytes()
    try:
        (content / "code-of-conduct.it.md").unlink()
        coc = client.get("/code-of-conduct?lang=it").get_data(as_text=True)
        assert '<html lang="it"' in coc and "Codice di condotta" in coc
        assert '<div lang="en">' in coc and "Be honest about who you are." in coc
    finally:
        (content / "code-of-conduct.it.md").write_bytes(backup)


def test_the_consent_log_keeps_the_notice_shown(client: Any, rt: Runtime) -> None:
    page = client.get("/subscribe?lang=es").get_data(as_text=True)
    r = client.post("/subscribe", data={"csrf_token": csrf_from(page),
                                        "email": "profe@escuela.example", "name": "",
                                        "language": "es", "consent": "y"})
    assert r.status_code == 302
    with rt.db.session() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "profe@escuela.example"))
        assert sub is not None
        [event] = s.scalars(select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id))
        assert event.consent_version == rt.community.privacy_notice().version
        assert event.detail["notice_language"] == "es"
