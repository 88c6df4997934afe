"""OAI-PMH 2.0 at /oai, harvested with Sickle (a harvester from PyPI) over HTTP from a
served process, and its errors checked against the protocol's codes."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sickle import Sickle, oaiexceptions

from ostogether.core import clock
from ostogether.edges.audit import Actor
from ostogether.edges.runtime import Runtime
from ostogether.library import oai, outputs
from tests.browser import Live
from tests.conftest import REPO, child_env, finish, free_port, wait_for
from tests.factories import add_output

NS = {"o": oai.OAI, "dc": oai.DC}


def _xml(client: Any, query: str, method: str = "get") -> Any:
    r = (client.get(f"/oai?{query}") if method == "get" else
         client.post("/oai", data=query, content_type="application/x-www-form-urlencoded"))
    assert r.status_code == 200 and r.mimetype == "text/xml"
    return etree.fromstring(r.get_data())


def _error(client: Any, query: str) -> str:
    doc = _xml(client, query)
    [error] = doc.findall("o:error", NS)
    return str(error.get("code"))


@pytest.mark.parametrize(("query", "code"), [
    ("", "badVerb"), ("verb=Dance", "badVerb"), ("verb=Identify&verb=Identify", "badVerb"),
    ("verb=Identify&colour=red", "badArgument"),
    ("verb=ListRecords", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-01-01T00:00:00Z",
     "badArgument"),
    ("verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-02&until=2030-01-01", "badArgument"),
    ("verb=ListRecords&resumptionToken=abc&metadataPrefix=oai_dc", "badArgument"),
    ("verb=ListRecords&resumptionToken=not-ours", "badResumptionToken"),
    ("verb=ListSets&resumptionToken=x", "badResumptionToken"),
    ("verb=ListRecords&metadataPrefix=marc21", "cannotDisseminateFormat"),
    ("verb=GetRecord&metadataPrefix=marc21&identifier=oai:ostogether.test:library/1",
     "cannotDisseminateFormat"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ostogether.test:library/999999",
     "idDoesNotExist"),
    ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere:1", "idDoesNotExist"),
    ("verb=ListMetadataFormats&identifier=nope", "idDoesNotExist"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2099-01-01", "noRecordsMatch"),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=project:nobody", "noRecordsMatch"),
])
def test_each_error_has_its_oai_code(client: Any, rt: Runtime, query: str, code: str) -> None:
    add_output(rt, "otter", title="Outdoor map", type="map")
    assert _error(client, query) == code


def test_the_six_verbs_with_get_and_post(client: Any, rt: Runtime) -> None:
    public = add_output(rt, "otter", title="Outdoor map", type="map", licence="CC-BY-4.0",
                        languages=["en", "hu"], keywords=["outdoors"])
    add_output(rt, "connect", title="Waiting", approve=False)
    identify = _xml(client, "verb=Identify", "post")
    assert identify.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:Identify/o:protocolVersion", namespaces=NS) == "2.0"
    formats = _xml(client, "verb=ListMetadataFormats")
    assert formats.findtext("o:ListMetadataFormats/o:metadataFormat/o:metadataPrefix",
                            namespaces=NS) == "oai_dc"
    sets = _xml(client, "verb=ListSets")
    assert {s.text for s in sets.iterfind("o:ListSets/o:set/o:setSpec", NS)} == {
        "project:otter", "type:map"}
    ident = f"oai:ostogether.test:library/{public}"
    record = _xml(client, f"verb=GetRecord&metadataPrefix=oai_dc&identifier={ident}")
    assert record.findtext(".//dc:title", namespaces=NS) == "Outdoor map"
    assert record.findtext(".//dc:rights", namespaces=NS) == \
        "https://spdx.org/licenses/CC-BY-4.0.html"
    assert [e.text for e in record.iterfind(".//dc:language", NS)] == ["en", "hu"]
    listed = _xml(client, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=type:map",
                  "post")
    assert [e.text for e in listed.iterfind(".//o:header/o:identifier", NS)] == [ident]
    assert _error(client, "verb=ListIdentifiers&metadataPrefix=oai_dc&set=type:toolkit") == \
        "noRecordsMatch"  # the waiting toolkit is not harvested


def test_from_and_until_select_by_datestamp(client: Any, rt: Runtime,
                                             test_clock: clock.FakeClock) -> None:
    add_output(rt, "otter", title="Older")
    between = oai._stamp(clock.now() + dt.timedelta(days=20))
    test_clock.advance(days=40)
    add_output(rt, "otter", title="Newer")
    query = "verb=ListRecords&metadataPrefix=oai_dc"
    assert [e.text for e in _xml(client, f"{query}&from={between}").iterfind(
        ".//dc:title", NS)] == ["Newer"]
    assert [e.text for e in _xml(client, f"{query}&until={between}").iterfind(
        ".//dc:title", NS)] == ["Older"]
    day = between[:10]
    assert [e.text for e in _xml(client, f"{query}&from={day}&until={day}").iterfind(
        ".//dc:title", NS)] == []


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oai, "PAGE_SIZE", 4)


def test_sickle_harvests_through_resumption_tokens(live: Live, small_pages: None) -> None:
    rt = live.rt
    made = [add_output(rt, "otter" if n % 2 else "connect", title=f"Output number {n}")
            for n in range(10)]
    add_output(rt, "otter", title="Never approved", approve=False)
    outputs.withdraw(rt, Actor("test"), made[3])
    harvester = Sickle(f"{live.url}/oai", max_retries=0, timeout=30)
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    assert len(records) == 10  # three pages of four, through two resumption tokens
    deleted = [r for r in records if r.header.deleted]
    assert [r.header.identifier.rsplit("/", 1)[1] for r in deleted] == [str(made[3])]
    titles = {r.metadata["title"][0] for r in records if not r.header.deleted}
    assert titles == {f"Output number {n}" for n in range(10)} - {"Output number 3"}
    identifiers = list(harvester.ListIdentifiers(metadataPrefix="oai_dc",
                                                 set="project:otter", ignore_deleted=True))
    assert len(identifiers) == 4  # 1, 5, 7, 9 (3 is deleted)
    post = Sickle(f"{live.url}/oai", http_method="POST", max_retries=0, timeout=30)
    assert len(list(post.ListRecords(metadataPrefix="oai_dc", ignore_deleted=True))) == 9
    with pytest.raises(oaiexceptions.NoRecordsMatch):
        list(post.ListRecords(metadataPrefix="oai_dc", set="type:dataset"))


# ----------------------------------------------- the served process, on make run's defaults

def _ostogether(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ostogether", *args], cwd=cwd,
                            env=child_env(env), text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`ostogether init` in a copy of the community's folders, then `ostogether serve`."""
    home = tmp_path / "community"
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, home / folder)
    init = _ostogether(home, {}, "init")
    out, err = finish(init, 120)
    assert init.returncode == 0, out + err
    port = free_port()
    proc = _ostogether(home, {}, "serve", "--port", str(port), "--no-worker")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(base + "/library", timeout=2).ok, 60)
        yield base, home
    finally:
        proc.terminate()
        finish(proc, 30)


def test_sickle_harvests_every_public_output_of_a_served_library(
        served: tuple[str, Path]) -> None:
    base, home = served
    listing = requests.get(f"{base}/library.json", timeout=10).json()
    assert listing["total"] == 11  # the seeds of content/library/
    white_book = next(o for o in listing["outputs"] if o["title"] == "MULTIPLIERS White Book")
    withdrawn = _ostogether(home, {}, "library", "withdraw", str(white_book["id"]))
    out, err = finish(withdrawn, 60)
    assert withdrawn.returncode == 0, out + err
    public = requests.get(f"{base}/library.json", timeout=10).json()
    harvester = Sickle(f"{base}/oai", max_retries=0, timeout=30)
    assert harvester.Identify().deletedRecord == "persistent"
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    alive = [r for r in records if not r.header.deleted]
    assert len(alive) == public["total"] == 10
    assert {r.metadata["title"][0] for r in alive} == {o["title"] for o in public["outputs"]}
    [gone] = [r for r in records if r.header.deleted]
    assert gone.header.identifier.endswith(f"/{white_book['id']}")
    record = harvester.GetRecord(identifier=gone.header.identifier, metadataPrefix="oai_dc")
    assert record.header.deleted
