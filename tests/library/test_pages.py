"""The public library: /library with search, facets and pages, a page per output with its
LearningResource JSON-LD, /library.atom and /library.json."""

from __future__ import annotations

import json
import re
from typing import Any

import feedparser
from lxml import html as lxml_html

from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from tests.factories import add_output

CARD_TITLES = '//li[@class="card"]/h2/a'


def test_the_seeded_library_with_facets_and_search(client: Any, rt: Runtime) -> None:
    outputs.seed(rt)
    page = client.get("/library")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.get_data(as_text=True))
    options = {o.get("value"): o.text for o in doc.xpath('//select[@id="facet-type"]/option')}
    assert options["platform"] == "Platform (4)" and options["toolkit"] == "Toolkit (1)"
    assert {o.text for o in doc.xpath('//select[@id="facet-project"]/option')} >= {
        "CONNECT (4)", "MULTIPLIERS (3)", "OTTER (4)"}
    maps = lxml_html.fromstring(client.get("/library?type=map").get_data(as_text=True))
    assert [a.text for a in maps.xpath(CARD_TITLES)] == [
        "A map of EOC places for practice"]
    found = lxml_html.fromstring(client.get("/library?q=white+book").get_data(as_text=True))
    assert [a.text for a in found.xpath(CARD_TITLES)] == ["MULTIPLIERS White Book"]
    otter = lxml_html.fromstring(client.get("/library?project=otter&q=outside"
                                            ).get_data(as_text=True))
    assert len(otter.xpath(CARD_TITLES)) == 4  # every OTTER output is about EOC
    connect = lxml_html.fromstring(client.get("/library?project=connect&q=outside"
                                              ).get_data(as_text=True))
    assert connect.xpath(CARD_TITLES) == []
    assert client.get("/library?page=0").status_code == 400


def test_pages_of_twenty_keep_the_query(client: Any, rt: Runtime) -> None:
    for n in range(25):
        add_output(rt, "otter", title=f"Pond lesson {n}", type="lesson-plan")
    first = client.get("/library?q=pond").get_data(as_text=True)
    assert first.count('class="card"') == 20 and "page 1 of 2" in first
    [next_link] = re.findall(r'rel="next" href="([^"]+)"', first)
    second = client.get(next_link.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('class="card"') == 5 and "q=pond" in next_link


def test_an_output_page_carries_learning_resource_json_ld(client: Any, rt: Runtime) -> None:
    add_output(rt, "multipliers", title="Clean water </script> toolkit", type="toolkit",
               description="Sanitation activities.", languages=["en", "it"],
               licence="CC-BY-4.0", age_ranges=["lower-secondary"], subjects=["chemistry"],
               sdgs=[6])
    page = client.get("/library/clean-water-script-toolkit")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.get_data(as_text=True))
    [script] = doc.xpath('//script[@type="application/ld+json"]')
    data = json.loads(script.text)
    assert data["@context"] == "https://schema.org" and data["@type"] == "LearningResource"
    assert data["name"] == "Clean water </script> toolkit"
    assert data["learningResourceType"] == "Toolkit"
    assert data["educationalLevel"] == ["Lower secondary (11 to 14)"]
    assert data["inLanguage"] == ["en", "it"]
    assert data["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert "Chemistry" in data["about"] and data["url"].startswith("https://example.org/")
    assert data["description"] == "Sanitation activities."
    by_id = client.get(f"/library/{data['@id'].rsplit('/', 1)[1]}")
    assert by_id.status_code == 200


def test_the_atom_feed_and_the_json_listing(client: Any, rt: Runtime) -> None:
    outputs.seed(rt)
    add_output(rt, "otter", title="Hidden", approve=False)
    feed = feedparser.parse(client.get("/library.atom").get_data())
    assert feed.version == "atom10" and len(feed.entries) == 11
    assert "Hidden" not in {e.title for e in feed.entries}
    everything = client.get("/library.json").get_json()
    assert everything["total"] == 11
    sample = everything["outputs"][0]
    assert {"title", "type", "url"} <= set(sample)
    assert sample["url"].startswith("https://ostogether.test/library/")
    toolkits = client.get("/library.json?type=toolkit").get_json()
    assert [o["type"] for o in toolkits["outputs"]] == ["toolkit"]
    otter_platforms = client.get("/library.json?project=otter&type=platform").get_json()
    assert {o["title"] for o in otter_platforms["outputs"]} == {
        "EOC Learning Platform", "The OTTER Hub"}
    bad = client.get("/library.json?colour=red")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {
        "colour": "unknown parameter"}
