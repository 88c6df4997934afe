"""The editors' subscriber and import pages in the editor's language: an editor whose
browser asks for Dutch (or who picks Italian with ?lang=it) reads the subscribers' list,
a subscriber's page, the imports page and an import's report, with their headings,
buttons, form labels and the flash messages of their actions, in it; English stays the
default (docs/translations.md). What the service's imports write (a line's reason) stays
English."""

from __future__ import annotations

from typing import Any

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from tests.conftest import post
from tests.factories import add_readers
from tests.i18n.test_editors_social_schedule import dutch, html_lang
from tests.imports.test_imports_web import mailchimp_zip, page, press, text, upload


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

    r = upload(editor, "readers", mailchimp_zip(), "members_export_7f3e2a.zip")
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
    # A line's reason is the service's own sentence: it stays English.
    assert "An email address must have an @-sign" in shown

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
