"""What readers, visitors and editors read from the service layer comes in the page's
language: the sign-up's problems (our own sentences, never email-validator's English),
the limit on sign-ups, a readers' import report (kept as sentences to word when shown),
the visibility report's periods and problems. The CLI and its JSON stay English."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from tests.conftest import csrf_from, new_client, run


def text(r: Any) -> str:
    # Spaces collapsed, but not the no-break spaces French puts before ":" and ";".
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ",
                                                     r.get_data(as_text=True)))).strip()


def sign_up(client: Any, email: str, **headers: str) -> Any:
    token = csrf_from(client.get("/subscribe", headers=headers).get_data(as_text=True))
    return client.post("/subscribe", headers=headers, data={
        "csrf_token": token, "email": email, "name": "Ana", "language": "nl",
        "consent": "y"})


def test_a_malformed_address_is_refused_in_dutch(client: Any) -> None:
    r = sign_up(client, "juf.ans@school", **{"Accept-Language": "nl"})
    shown = text(r)
    assert r.status_code == 400
    assert ("Het deel na het @-teken is niet geldig: het moet een domeinnaam zijn, zoals "
            "example.org.") in shown
    assert "U bent nog niet geabonneerd" in shown
    assert "@-sign" not in shown and "It should have a period" not in shown
    english = text(sign_up(new_client(client.application), "juf.ans@school"))
    assert ("The part after the @-sign is not valid: it must be a domain name such as "
            "example.org.") in english


def test_too_many_sign_ups_are_told_in_german(app: Any, settings: Any) -> None:
    for n in range(settings.subscribe_max_per_hour):
        assert sign_up(new_client(app), "leser@schule.example").status_code == 302, n
    r = sign_up(new_client(app), "leser@schule.example", **{"Accept-Language": "de"})
    assert r.status_code == 429
    assert re.search(r"Zu viele Anmeldungen von hier oder für diese Adresse\. Versuchen "
                     r"Sie es in \d+ Minuten? erneut\.", text(r)), text(r)
    r = sign_up(new_client(app), "leser@schule.example")
    assert r.status_code == 429 and re.search(
        r"Too many sign-ups from here or for this address\. Try again in (1 minute|\d+ "
        r"minutes)\.", text(r))


BAD_LINES = (b"email,name,language,consent_date,consent_source\r\n"
             b"ana@school.example,Ana,nl,2024-03-01,web\r\n"
             b"not-an-address,Bo,en,2024-03-01,web\r\n"
             b"cas@school.example,Cas,en,2999-01-01,web\r\n"
             b"dea@school.example,Dea,en,2024-03-01,\r\n"
             b"ana@school.example,Ana,nl,2024-03-01,web\r\n"
             b"eli@school.example,Eli,en,2024-03-01,web,extra\r\n")


def upload(client: Any, rt: Runtime, data: bytes, name: str) -> int:
    token = csrf_from(client.get("/editors/imports/").get_data(as_text=True))
    r = client.post("/editors/imports/readers", content_type="multipart/form-data", data={
        "readers-csrf_token": token, "readers-file": (io.BytesIO(data), name)})
    assert r.status_code == 302, text(r)
    jobs.pick_up(rt)  # the worker's dry run: the report is kept, worded when shown
    return int(r.headers["Location"].split("/")[-1].split("?")[0])


def test_a_readers_import_report_in_french(rt: Runtime, editor: Any) -> None:
    import_id = upload(editor, rt, BAD_LINES, "lecteurs.csv")
    french = text(editor.get(f"/editors/imports/{import_id}?lang=fr"))
    for said in ("Une adresse e-mail doit contenir un @.",
                 "consent_date\u00a0: est dans l'avenir",
                 "consent_source\u00a0: indiquez où le consentement a été donné, par exemple "
                 "mailchimp",
                 "répète la ligne 2",
                 "plus de champs que de colonnes"):
        assert said in french, said
    assert "is in the future" not in french and "repeats line" not in french
    english = text(editor.get(f"/editors/imports/{import_id}?lang=en"))
    for said in ("An email address must have an @-sign.", "consent_date: is in the future",
                 "consent_source: say where the consent was given, e.g. mailchimp",
                 "repeats line 2", "more fields than columns"):
        assert said in english, said


def test_a_refused_import_says_why_in_french(rt: Runtime, editor: Any) -> None:
    import_id = upload(editor, rt, b"E-mail,Naam\r\nana@school.example,Ana\r\n", "lijst.csv")
    french = text(editor.get(f"/editors/imports/{import_id}?lang=fr"))
    assert ("lijst.csv\u00a0: la première ligne doit nommer les colonnes email, name, "
            "language") in french
    assert "Nommez-les dans la correspondance des colonnes, par exemple «\u00a0E-mail=email" \
        in french
    english = text(editor.get(f"/editors/imports/{import_id}?lang=en"))
    assert ('Name them in the column map, e.g. "E-mail=email".') in english


def test_the_cli_and_its_json_carry_the_reasons_in_english(
        rt: Runtime, env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "readers.csv"
    path.write_bytes(BAD_LINES)
    r = run(env, "subscribers", "import", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    reasons = {x["line"]: x["reason"] for x in json.loads(r.stdout)["lines"]}
    assert reasons[3] == "An email address must have an @-sign."
    assert reasons[4] == "consent_date: is in the future"
    assert reasons[6] == "repeats line 2"
    r = run(env, "subscribers", "import", str(path))
    assert "line 4: invalid: cas@school.example — consent_date: is in the future" in r.stdout


def test_a_visibility_report_in_spanish(editor: Any) -> None:
    # COSMOS's grant (content/projects/cosmos.toml) ran from January 2022 to December 2024.
    spanish = text(editor.get("/reports/visibility?project=cosmos",
                              headers={"Accept-Language": "es"}))
    assert "Los últimos 12 meses" in spanish
    assert "Toda la subvención (ene 2022 a dic 2024)" in spanish
    assert "Periodo de informe 1 (M1–M18: ene 2022 a jun 2023)" in spanish
    r = editor.get("/reports/visibility?project=cosmos&from=2026-13-01",
                   headers={"Accept-Language": "es"})
    assert r.status_code == 400 and "Las fechas deben tener la forma 2026-01-31." in text(r)
    english = text(editor.get("/reports/visibility?project=cosmos&lang=en"))
    assert "The whole grant (Jan 2022 to Dec 2024)" in english
    assert "Reporting period 1 (M1–M18: Jan 2022 to Jun 2023)" in english
