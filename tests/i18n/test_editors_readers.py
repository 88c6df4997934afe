"""The editors' subscriber and import pages in the editor's language: an editor whose
browser asks for Dutch (or who picks Italian with ?lang=it) reads the subscribers' list,
a subscriber's page, the imports page and an import's report, with their headings,
buttons, form labels and the flash messages of their actions, in it; English stays the
default (docs/translations.md). What the service's imports write (a line's reason) stays
English."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html import unescape
from typing import Any

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from tests.conftest import csrf_from, post
from tests.factories import add_readers


def dutch(client: Any) -> Any:
    """The client's every request says Accept-Language: nl, as a Dutch browser does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9,en;q=0.5"
    return client


def html_lang(r: Any) -> str:
    m = re.search(r'<html lang="([a-z]+)"', r.get_data(as_text=True))
    assert m
    return m.group(1)


def text(r: Any) -> str:
    """The page's text as a reader sees it: tags out, entities read, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", r.get_data(as_text=True))).split())


def mailchimp_zip() -> bytes:
    """A small Mailchimp audience export: two subscribed readers, one line without an
    address, one unsubscribed and one cleaned address."""
    def sheet(rows: list[dict[str, str]], *more: str) -> str:
        out = io.StringIO()
        w = csv.DictWriter(out, ["Email Address", "First Name", "OPTIN_TIME", "CONFIRM_TIME",
                                 "LAST_CHANGED", *more],
                           lineterminator="\r\n", quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
        return out.getvalue()
    subscribed = [{"Email Address": f"teacher{n}@school.example", "First Name": f"T{n}",
                   "OPTIN_TIME": "2021-03-01 09:00:00", "CONFIRM_TIME": "2021-03-01 09:05:00",
                   "LAST_CHANGED": "2023-06-01 12:00:00"} for n in range(2)]
    subscribed.append({"Email Address": "not an address", "LAST_CHANGED": "2020-05-05 10:00:00"})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("subscribed_members_export_7f3e2a.csv", sheet(subscribed))
        zf.writestr("unsubscribed_members_export_7f3e2a.csv", sheet([{
            "Email Address": "left@example.fr", "UNSUB_TIME": "2024-02-03 18:30:00",
            "LAST_CHANGED": "2024-02-03 18:30:00"}], "UNSUB_TIME"))
        zf.writestr("cleaned_members_export_7f3e2a.csv", sheet([{
            "Email Address": "gone@old-school.example", "CLEAN_TIME": "2023-09-09 07:00:00",
            "LAST_CHANGED": "2023-09-09 07:00:00"}], "CLEAN_TIME"))
    return buf.getvalue()


def upload(client: Any, data: bytes, name: str) -> Any:
    token = csrf_from(client.get("/editors/imports/").get_data(as_text=True))
    return client.post("/editors/imports/readers", content_type="multipart/form-data", data={
        "readers-csrf_token": token, "readers-file": (io.BytesIO(data), name)})


def page(client: Any, import_id: int) -> str:
    r = client.get(f"/editors/imports/{import_id}")
    assert r.status_code == 200
    return text(r)


def press(client: Any, import_id: int, action: str, **form: Any) -> Any:
    token = csrf_from(client.get(f"/editors/imports/{import_id}").get_data(as_text=True))
    return client.post(f"/editors/imports/{import_id}/{action}",
                       data={"csrf_token": token, **form})


def test_the_subscribers_list_and_a_subscribers_page_in_dutch(editor: Any,
                                                               rt: Runtime) -> None:
    [sid, _] = add_readers(rt, 2)
    add_readers(rt, 1, status="unsubscribed", domain="left.test")
    r = dutch(editor).get("/editors/subscribers/")
    assert html_lang(r) == "nl"
    shown = text(r)
    for said in ("Abonnees", "Adres of naam bevat", "Zoeken", "3 abonnees.",
                 "De bevestigde abonnees exporteren als CSV", "bevestigd : 2",
                 "afgemeld : 1", "Harde bounces", "Sinds"):
        assert said in shown, said
    assert "1 abonnee gevonden." in text(editor.get("/editors/subscribers/?q=left.test"))

    here = f"/editors/subscribers/{sid}"
    shown = text(editor.get(here))
    for said in ("← Abonnees", "Toestemmingslogboek", "Aangemeld", "Ontvangt",
                 "alles (koos niets)", "Gevolgde projecten", "Op verzoek van de lezer",
                 "Download de gegevens (JSON)", "Het adres, de naam en de netwerkgegevens "
                 "definitief wissen.", "Deze abonnee wissen"):
        assert said in shown, said
    assert "Consent log" not in shown and "Erase this subscriber" not in shown

    post(editor, f"{here}/erase", here)  # without ticking the box
    assert "Vink het vakje aan om het wissen te bevestigen; er is niets gewist." in text(
        editor.get(here))
    post(editor, f"{here}/erase", here, confirm="yes")
    shown = text(editor.get(here))
    assert f"Abonnee {sid} is gewist: het adres, de naam en de netwerkgegevens zijn weg" \
        in shown and f"Gewiste abonnee #{sid}" in shown


def test_the_imports_page_and_an_import_report_in_dutch(editor: Any, rt: Runtime) -> None:
    r = dutch(editor).get("/editors/imports/")
    assert html_lang(r) == "nl"
    shown = text(r)
    for said in ("Importen", "Lezers uit Mailchimp", "Eerdere nummers",
                 "Ledenaccounts uit Wild Apricot", "Elk bestand wordt eerst gecontroleerd",
                 "De export van Mailchimp (de zip) of een CSV",
                 "Kolomindeling (alleen voor de CSV van een ander programma)",
                 "Bestand controleren", "Recente importen", "Nog niets geïmporteerd."):
        assert said in shown, said
    assert "Check the file" not in shown

    r = upload(editor, mailchimp_zip(), "members_export_7f3e2a.zip")
    assert r.status_code == 302, text(r)
    waiting = text(editor.get(r.headers["Location"]))
    assert "Het bestand wordt gecontroleerd" in waiting and "Stoppen met vernieuwen" in waiting
    jobs.pick_up(rt)
    import_id = int(r.headers["Location"].split("/")[-1].split("?")[0])
    shown = page(editor, import_id)
    for said in ("← Importen", "Geüpload door editor@example.org", "gecontroleerd, niet toegepast",
                 "Wat het zou doen", "Er is nog niets gewijzigd.", "2 nieuw: zou worden toegevoegd",
                 "2 naar de blokkeerlijst", "Bestanden", "Opgevat als",
                 "Alle regels die niet gewoon nieuw zijn", "Resultaat", "Waarom",
                 "Toepassen", "Opnieuw controleren met andere opties", "Verwerpen"):
        assert said in shown, said
    # A line's reason is kept as a sentence to word: it is shown in Dutch too.
    assert "Een e-mailadres moet een @-teken bevatten." in shown
    assert "An email address must have an @-sign" not in shown

    r = press(editor, import_id, "discard", confirm="yes")
    assert r.status_code == 302
    shown = text(editor.get(r.headers["Location"]))
    assert "members_export_7f3e2a.zip is verworpen: het bestand en het rapport ervan zijn " \
        "verwijderd." in shown and "verworpen" in shown


def test_italian_by_the_lang_parameter_and_english_by_default(editor: Any,
                                                              rt: Runtime) -> None:
    [sid] = add_readers(rt, 1)
    shown = text(editor.get("/editors/imports/?lang=it"))
    assert "Importazioni" in shown and "Verifica il file" in shown
    assert "Lettori da Mailchimp" in shown and "Importazioni recenti" in shown
    shown = text(editor.get(f"/editors/subscribers/{sid}?lang=it"))
    assert "Registro dei consensi" in shown and "Cancella questo iscritto" in shown
    # The words of _imports.html are read for each page, not kept from the first one.
    shown = text(editor.get("/editors/imports/?lang=en"))
    assert "Readers from Mailchimp" in shown and "Check the file" in shown
    assert "Lettori da Mailchimp" not in shown
