"""Organisations and people (issue 37), the rest: the directory's unknown filters, the
editors erasing a person, and the mails on applications and decisions."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from ostogether.edges.runtime import Runtime
from ostogether.models import AuditEntry, Person
from tests.conftest import post
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


def test_an_editor_erases_a_persons_record_after_confirming(rt: Runtime,
                                                            editor: Any) -> None:
    add_organisation(rt, project="cosmos", person="ana@cosmos.example.eu")
    with rt.db.session() as s:
        person = s.scalar(select(Person).where(Person.email == "ana@cosmos.example.eu"))
        assert person is not None
        pid = person.id
    page = editor.get("/editors/people").get_data(as_text=True)
    assert "Ana Member" in page and f"/editors/people/{pid}/erase" in page
    unconfirmed = post(editor, f"/editors/people/{pid}/erase", "/editors/people")
    assert unconfirmed.status_code == 302
    assert "Nothing was done" in editor.get("/editors/people").get_data(as_text=True)
    with rt.db.session() as s:
        assert s.get(Person, pid) is not None
    r = post(editor, f"/editors/people/{pid}/erase", "/editors/people", confirm="yes")
    assert r.status_code == 302
    after = editor.get("/editors/people").get_data(as_text=True)
    assert "The record of Ana Member is erased." in after
    with rt.db.session() as s:
        assert s.get(Person, pid) is None
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "person.erased"))
        assert entry is not None and entry.object_id == str(pid)
        assert entry.user_id is not None
    assert post(editor, f"/editors/people/{pid}/erase", "/editors/people",
                confirm="yes").status_code == 404
