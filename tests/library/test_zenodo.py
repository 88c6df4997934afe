"""Zenodo: the deposit metadata, and one deposit per output through a loopback fake of the
documented deposit API that checks each request's shape, however often the command runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from tests.conftest import run
from tests.factories import add_output

TOKEN = "zenodo-test-token"
UPLOAD_TYPES = {"publication", "poster", "presentation", "dataset", "image", "video",
                "software", "lesson", "physicalobject", "other"}


class FakeZenodo:
    """Zenodo's deposit API (developers.zenodo.org, "Depositions"), on loopback."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.depositions: dict[int, dict[str, Any]] = {}
        self.fail_publish = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length", 0)))

            def _check_auth(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    fake.problems.append(f"{self.command} {self.path}: no bearer token")
                    self._answer(401, {"status": 401, "message": "Unauthorized"})
                    return False
                return True

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                fake.requests.append(("POST", self.path))
                if not self._check_auth():
                    return
                body = self._body()
                if self.path == "/api/deposit/depositions":
                    if self.headers.get("Content-Type") != "application/json" or \
                            json.loads(body or b"null") != {}:
                        fake.problems.append("create: not an empty JSON object")
                    n = 1000 + len(fake.depositions)
                    fake.depositions[n] = {"files": [], "metadata": None, "published": False}
                    self._answer(201, {"id": n, "files": [], "links": {
                        "bucket": f"http://{self.headers['Host']}/api/files/bucket-{n}"}})
                    return
                n = int(self.path.split("/")[4])
                if self.path.endswith("/actions/publish"):
                    dep = fake.depositions[n]
                    if fake.fail_publish:
                        fake.fail_publish -= 1
                        self._answer(500, {"status": 500, "message": "Internal error"})
                        return
                    if dep["metadata"] is None or not dep["files"]:
                        fake.problems.append(f"publish {n} without metadata or files")
                        self._answer(400, {"status": 400, "message": "Missing"})
                        return
                    dep["published"] = True
                    self._answer(202, {"id": n, "doi": f"10.5281/zenodo.{n}",
                                       "submitted": True})
                    return
                fake.problems.append(f"unexpected POST {self.path}")
                self._answer(404, {"status": 404, "message": "Not found"})

            def do_PUT(self) -> None:  # noqa: N802 - the stdlib's name
                fake.requests.append(("PUT", self.path))
                if not self._check_auth():
                    return
                body = self._body()
                if self.path.startswith("/api/files/bucket-"):
                    n = int(self.path.split("/")[3].removeprefix("bucket-"))
                    if self.headers.get("Content-Type") != "application/octet-stream":
                        fake.problems.append("file upload is not application/octet-stream")
                    fake.depositions[n]["files"].append(json.loads(body))
                    self._answer(201, {"key": self.path.rsplit("/", 1)[1]})
                    return
                n = int(self.path.split("/")[4])
                data = json.loads(body)
                meta = data.get("metadata", {})
                for key in ("upload_type", "title", "creators", "description"):
                    if not meta.get(key):
                        fake.problems.append(f"metadata without {key}")
                if meta.get("upload_type") not in UPLOAD_TYPES:
                    fake.problems.append(f"bad upload_type {meta.get('upload_type')}")
                if not all(isinstance(c, dict) and c.get("name") for c in
                           meta.get("creators", [])):
                    fake.problems.append("a creator without a name")
                fake.depositions[n]["metadata"] = meta
                self._answer(200, {"id": n, "files": fake.depositions[n]["files"],
                                   "links": {"bucket": f"http://{self.headers['Host']}"
                                                       f"/api/files/bucket-{n}"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def zenodo_fake() -> Iterator[FakeZenodo]:
    fake = FakeZenodo()
    yield fake
    fake.close()
    assert fake.problems == []


def test_the_metadata_names_the_grant_and_the_licence(rt: Runtime, env: dict[str, str]
                                                      ) -> None:
    oid = add_output(rt, "multipliers", title="Forest toolkit", licence="CC-BY-4.0",
                     keywords=["forest", "biodiversity"], organisations=["University of Bonn"],
                     description="Activities <for> schools.")
    printed = run({**env, "OSTOGETHER_ZENODO_COMMUNITY": "ostogether"},
                  "library", "zenodo", str(oid))
    assert printed.returncode == 0, printed.stderr
    meta = json.loads(printed.stdout)["metadata"]
    assert meta["upload_type"] == "lesson" and meta["title"] == "Forest toolkit"
    assert meta["grants"] == [{"id": "10.13039/501100000780::101006255"}]
    assert meta["license"] == "cc-by-4.0" and meta["keywords"] == ["forest", "biodiversity"]
    assert meta["communities"] == [{"identifier": "ostogether"}]
    assert {"name": "University of Bonn"} in meta["creators"]
    assert meta["creators"][0]["name"].startswith("Multiplayers")
    assert "&lt;for&gt;" in meta["description"]


def test_one_deposit_per_output_however_often_it_runs(rt: Runtime, env: dict[str, str],
                                                      zenodo_fake: FakeZenodo) -> None:
    oid = add_output(rt, "otter", title="Outdoor map", type="map", licence="CC-BY-SA-4.0")
    live = {**env, "OSTOGETHER_ZENODO_TOKEN": TOKEN,
            "OSTOGETHER_ZENODO_BASE_URL": zenodo_fake.url}
    zenodo_fake.fail_publish = 1
    failed = run(live, "library", "zenodo", str(oid))
    assert failed.returncode != 0 and "HTTP 500" in failed.stderr
    assert "Traceback" not in failed.stderr
    first = run(live, "library", "zenodo", str(oid))
    assert first.returncode == 0, first.stderr
    assert "DOI 10.5281/zenodo.1000" in first.stderr
    for _ in range(2):
        again = run(live, "library", "zenodo", str(oid))
        assert again.returncode == 0 and "nothing was sent" in again.stderr
    creations = [r for r in zenodo_fake.requests if r == ("POST", "/api/deposit/depositions")]
    assert len(creations) == 1 and len(zenodo_fake.depositions) == 1
    [dep] = zenodo_fake.depositions.values()
    assert dep["published"] and len(dep["files"]) == 1
    assert dep["metadata"]["grants"] == [{"id": "10.13039/501100000780::101006482"}]
    with rt.db.session() as s:
        output = outputs.get(s, oid)
        assert (output.doi, output.zenodo_id) == ("10.5281/zenodo.1000", "1000")


def test_what_is_never_deposited(rt: Runtime, env: dict[str, str],
                                 zenodo_fake: FakeZenodo) -> None:
    live = {**env, "OSTOGETHER_ZENODO_TOKEN": TOKEN,
            "OSTOGETHER_ZENODO_BASE_URL": zenodo_fake.url}
    no_licence = add_output(rt, "otter", title="No licence")
    waiting = add_output(rt, "otter", title="Waiting", licence="CC0-1.0", approve=False)
    has_doi = add_output(rt, "otter", title="Has a DOI", licence="CC0-1.0",
                         doi="10.1234/elsewhere.1")
    for oid, why in ((no_licence, "no licence"), (waiting, "submitted"),
                     (has_doi, "already has the DOI")):
        r = run(live, "library", "zenodo", str(oid))
        assert r.returncode != 0 and why in r.stderr, r.stderr
    assert zenodo_fake.requests == []


def test_a_claimed_output_is_not_deposited_again_until_released(
        rt: Runtime, env: dict[str, str], zenodo_fake: FakeZenodo) -> None:
    oid = add_output(rt, "otter", title="Outdoor map", type="map", licence="CC-BY-4.0")
    with rt.db.session() as s:  # as a run that stopped before Zenodo answered leaves it
        outputs.get(s, oid).zenodo_id = "claimed"
    live = {**env, "OSTOGETHER_ZENODO_TOKEN": TOKEN,
            "OSTOGETHER_ZENODO_BASE_URL": zenodo_fake.url}
    stuck = run(live, "library", "zenodo", str(oid))
    assert stuck.returncode != 0 and "--release" in stuck.stderr
    assert zenodo_fake.requests == []
    assert run(live, "library", "zenodo", str(oid), "--release").returncode == 0
    done = run(live, "library", "zenodo", str(oid))
    assert done.returncode == 0 and len(zenodo_fake.depositions) == 1
