"""The registry on the web: the public registry's country filter is in the order of the
names; a project's page shows its recent news."""

from __future__ import annotations

import re
from typing import Any

from ostogether import news
from ostogether.audit import Actor
from ostogether.runtime import Runtime
from tests.factories import add_item


def test_the_country_filter_is_in_the_order_of_the_names(client: Any) -> None:
    page = client.get("/registry").get_data(as_text=True)
    select_html = re.search(r'<select id="country".*?</select>', page, re.S)
    assert select_html is not None
    options = re.findall(r'<option value="([A-Z]{2})"[^>]*>([^<]+)</option>',
                         select_html.group(0))
    names = [name for _, name in options]
    assert len(names) > 10
    assert names == sorted(names, key=str.casefold)
    codes = [code for code, _ in options]
    assert codes != sorted(codes)  # the codes' order is not the names' (GB, HR…)
    assert ("GB", "United Kingdom") in options


def test_a_project_page_shows_its_recent_news_newest_first(rt: Runtime, client: Any,
                                                           test_clock: Any) -> None:
    import datetime as dt

    ids = []
    for n in range(7):
        ids.append(add_item(rt, "otter", link=f"https://otter.example.org/news/{n}",
                            title=f"OTTER news number {n}"))
        test_clock.advance(dt.timedelta(hours=1))
    waiting = add_item(rt, "otter", link="https://otter.example.org/waiting",
                       title="OTTER item still in review", approve=False)
    rejected = add_item(rt, "otter", link="https://otter.example.org/no",
                        title="OTTER item that was rejected", approve=False)
    news.reject(rt, Actor("test"), rejected, "Not news.")
    add_item(rt, "cosmos", link="https://cosmos.example.org/1", title="COSMOS news")
    page = client.get("/registry/otter").get_data(as_text=True)
    shown = re.findall(r'<a href="(https://otter\.example\.org/news/[0-9])"[^>]*>'
                       r'(OTTER news number [0-9])</a>', page)
    assert [title for _, title in shown] == [f"OTTER news number {n}" for n in (6, 5, 4, 3, 2)]
    assert shown[0][0] == "https://otter.example.org/news/6"
    for absent in ("still in review", "that was rejected", "COSMOS news"):
        assert absent not in page
    assert waiting and "No news from" in client.get("/registry/most").get_data(as_text=True)
