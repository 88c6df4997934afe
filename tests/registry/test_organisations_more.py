"""Organisations and people (issue 37), the rest: the directory's unknown filters, the
editors erasing a person, and the mails on applications and decisions."""

from __future__ import annotations

import html
from typing import Any

from ostogether.edges.runtime import Runtime
from tests.factories import add_organisation


def test_an_unknown_filter_is_named_and_left_out_not_no_results(rt: Runtime,
                                                                client: Any) -> None:
    add_organisation(rt, "NEMO", type="museum", project="cosmos")
    add_organisation(rt, "Ciência Viva", country="PT", type="science-centre")
    for query, said in (("type=spaceport", "There is no type of organisation 'spaceport'"),
                        ("country=ZZ", "No member organisation is in 'ZZ'"),
                        ("project=nope", "No member organisation took part in a project "
                                         "'nope'")):
        r = client.get(f"/organisations?{query}")
        page = html.unescape(r.get_data(as_text=True))
        assert r.status_code == 400, query
        assert said in page and 'role="alert"' in page, query
        assert "NEMO" in page and "Ciência Viva" in page, query  # every member shown
        assert "2 organisations" in page
    r = client.get("/organisations?country=PT&type=spaceport")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "1 organisation." in page and "NEMO</a>" not in page
    ok = client.get("/organisations?country=NL&project=cosmos")
    assert ok.status_code == 200 and "1 organisation." in ok.get_data(as_text=True)
