"""`ostogether organisations import`: Wild Apricot's contacts export makes organisations
and people (members at once); the dry run names every doubtful match and changes
nothing; --apply creates them; a second run creates nothing twice; bad input is named
with file and line, and nothing is half-written."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ostogether import jobs
from ostogether.edges.audit import CLI
from ostogether.edges.runtime import Runtime
from ostogether.models import Organisation, Person
from ostogether.registry import organisations
from ostogether.registry.org_rules import OrgRecord
from tests.conftest import csrf_from, run
from tests.factories import make_user

EXPORT = (
    "User ID,First name,Last name,Organization,Email,Membership level,Membership status,"
    "Country,City,Website\n"
    "1,Ana,Silva,Ciência Viva,ana@cienciaviva.example.pt,Organisation,Active,Portugal,"
    "Lisbon,https://www.cienciaviva.example.pt\n"
    "2,Jan,de Vries,NEMO Science Museum,jan@nemo.example.nl,Organisation,Active,"
    "Netherlands,Amsterdam,nemo.example.nl\n"
    "3,Eva,Jansen,nemo science  museum,eva@nemo.example.nl,Organisation,Active,"
    "Netherlands,Amsterdam,\n"
    "4,Old,Member,Gone School,old@gone.example.org,Organisation,Lapsed,Belgium,Gent,\n"
    "5,Piet,Pan,Science Hub,piet@hub.example.org,Individual,Active,Belgium,Gent,"
    "https://nemo.example.nl/hub\n"
    "6,Tom,Thumb,,tom@example.org,Individual,Active,Ireland,,\n"
)


def count(rt: Runtime, model: type) -> int:
    with rt.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_wild_apricot_export_is_planned_then_applied_once(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    # Already in the registry: the same name in another country is a doubtful match.
    with rt.db.session() as s:
        organisations.add(s, CLI, OrgRecord(name="Ciencia Viva", country="ES",
                                            website="https://cv.example.es"),
                          status="member", source="import")
    make_user(rt, "jan@nemo.example.nl", "member", project="cosmos")  # an account already
    path = tmp_path / "contacts.csv"
    path.write_text(EXPORT, encoding="utf-8")

    table = run(env, "organisations", "import", str(path))
    assert table.returncode == 0 and "Nothing has been changed" in table.stdout
    dry = run(env, "organisations", "import", str(path), "--format", "json")
    text = " ".join(ln["detail"] for ln in json.loads(dry.stdout)["lines"])
    assert "possible duplicate: Ciencia Viva (ciencia-viva), same name, ES" in text
    # Science Hub shares NEMO's website domain: named too.
    assert "possible duplicate: NEMO Science Museum (line 3), same website domain" in text
    assert "membership lapsed" in text
    assert count(rt, Organisation) == 1 and count(rt, Person) == 0

    done = run(env, "organisations", "import", str(path), "--apply", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # NEMO twice in the file (case and spaces aside) is one organisation.
    assert report["created"] == {"organisations": 3, "people": 5, "linked": 0}
    with rt.db.session() as s:
        nemo = s.scalar(select(Organisation).where(Organisation.name == "NEMO Science Museum"))
        assert nemo is not None and nemo.status == "member" and nemo.country == "NL"
        assert nemo.website == "https://nemo.example.nl"
        staff = s.scalars(select(Person).where(Person.organisation_id == nemo.id)).all()
        assert sorted(p.email for p in staff) == ["eva@nemo.example.nl", "jan@nemo.example.nl"]
        assert all(p.status == "member" and p.visibility == {} for p in staff)
        # The account of the same address is the person's now: they see their record.
        assert {p.email: p.user.email if p.user else None for p in staff} == {
            "jan@nemo.example.nl": "jan@nemo.example.nl", "eva@nemo.example.nl": None}
        tom = s.scalar(select(Person).where(Person.email == "tom@example.org"))
        assert tom is not None and tom.organisation_id is None and tom.country == "IE"

    again = run(env, "organisations", "import", str(path), "--apply", "--format", "json")
    assert json.loads(again.stdout)["created"] == {"organisations": 0, "people": 0, "linked": 0}
    assert count(rt, Organisation) == 4 and count(rt, Person) == 5


def test_bad_lines_are_named_and_a_bad_file_writes_nothing(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("Organization,Email,Country\nLab,lab@example.org,Narnia\n"
                    "Lab Two,not-an-address,Belgium\n", encoding="utf-8")
    done = run(env, "organisations", "import", str(path), "--apply", "--format", "json")
    lines = json.loads(done.stdout)["lines"]
    assert lines[0]["detail"] == ("contacts.csv: line 2: Country 'Narnia' is not a "
                                  "country's name or code.")
    assert lines[1]["outcome"] == "invalid" and "line 3: Email" in lines[1]["detail"]
    assert count(rt, Organisation) == 0

    path.write_text("Name,Phone\nx,1\n", encoding="utf-8")
    refused = run(env, "organisations", "import", str(path))
    assert refused.returncode != 0
    assert "contacts.csv has neither an Organization nor an Email column" in refused.stderr
    path.write_text('Organization,Email\n"Lab,lab@example.org\n' + "x" * 70000,
                    encoding="utf-8")
    refused = run(env, "organisations", "import", str(path), "--apply")
    assert refused.returncode != 0 and "contacts.csv: line" in refused.stderr
    assert count(rt, Organisation) == 0 and count(rt, Person) == 0


def uploaded(editor: Any, rt: Runtime, data: bytes) -> int:
    """Upload on the imports page, then play the worker: the dry run. The import's id."""
    token = csrf_from(editor.get("/editors/imports/").get_data(as_text=True))
    r = editor.post("/editors/imports/organisations", content_type="multipart/form-data",
                    data={"organisations-csrf_token": token,
                          "organisations-file": (io.BytesIO(data), "contacts.csv")})
    m = re.search(r"/editors/imports/(\d+)", r.headers["Location"])
    assert m, r.headers["Location"]
    jobs.pick_up(rt)
    return int(m.group(1))


def page(editor: Any, import_id: int, **args: str) -> str:
    html = editor.get(f"/editors/imports/{import_id}", query_string=args).get_data(
        as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def press(editor: Any, import_id: int, action: str) -> Any:
    token = csrf_from(editor.get(f"/editors/imports/{import_id}").get_data(as_text=True))
    return editor.post(f"/editors/imports/{import_id}/{action}", data={"csrf_token": token})


def test_the_same_import_on_the_editors_imports_page(rt: Runtime, editor: Any) -> None:
    with rt.db.session() as s:
        organisations.add(s, CLI, OrgRecord(name="Ciencia Viva", country="ES"),
                          status="member", source="import")
    import_id = uploaded(editor, rt, EXPORT.encode())
    shown = page(editor, import_id)
    for said in ("3 new organisations", "5 new people", "possible duplicate: would be "
                 "created", "possible duplicate: Ciencia Viva (ciencia-viva), same name, ES",
                 "membership lapsed"):
        assert said in shown, shown
    # On a Dutch page, in Dutch: why and what are kept as sentences, not as English.
    dutch = page(editor, import_id, lang="nl")
    for said in ("mogelijk dubbel: Ciencia Viva (ciencia-viva), zelfde naam, ES",
                 "lidmaatschap verlopen", "nieuwe organisatie; nieuwe persoon"):
        assert said in dutch, dutch
    assert "new person" not in dutch and "membership lapsed" not in dutch
    page(editor, import_id, lang="en")
    assert count(rt, Person) == 0
    press(editor, import_id, "apply")
    jobs.pick_up(rt)
    shown = page(editor, import_id)
    assert "3 organisations created" in shown and "5 people created" in shown
    assert count(rt, Organisation) == 4 and count(rt, Person) == 5
    again = uploaded(editor, rt, EXPORT.encode())
    press(editor, again, "apply")
    jobs.pick_up(rt)
    assert "0 organisations created" in page(editor, again)
    assert count(rt, Organisation) == 4 and count(rt, Person) == 5
