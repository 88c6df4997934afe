"""Zenodo: an output's deposit metadata, and its deposit through Zenodo's documented
REST API (https://developers.zenodo.org/#depositions), once.

``metadata`` is pure: the deposit's JSON (upload type, title, creators, description,
licence, keywords, the community, and each project's EU grant as
``10.13039/501100000780::<grant number>``, the funder DOI Zenodo knows the European
Commission by). ``deposit`` makes the deposition (POST /api/deposit/depositions), puts the
metadata (PUT .../depositions/<id>), adds the record as a small file (Zenodo publishes
nothing without a file), publishes it (POST .../actions/publish) and keeps the DOI as the
output's. The deposition's id is stored as soon as Zenodo gives it, under a guarded
UPDATE, so that a second run, even a concurrent one, never makes a second deposition: it
finishes the first, or says it is done. Zenodo is the operator's endpoint (a setting),
not a member's URL, so it is reached with requests rather than the outbound guard.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import pycountry
import requests
from sqlalchemy import update

from ostogether.core.errors import Conflict, OstogetherError, ValidationError
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.library import outputs
from ostogether.library.content import DOI
from ostogether.library.finding import page_url
from ostogether.models import Output

EC_FUNDER = "10.13039/501100000780"
CLAIMED = "claimed"  # zenodo_id while the deposition is being made
# The library's types as Zenodo's upload_type (and publication_type for publications).
UPLOAD_TYPES: dict[str, tuple[str, str]] = {
    "toolkit": ("lesson", ""), "lesson-plan": ("lesson", ""),
    "online-course": ("lesson", ""), "best-practice-collection": ("publication", "report"),
    "guide": ("publication", "report"), "policy-brief": ("publication", "report"),
    "video": ("video", ""), "dataset": ("dataset", ""), "map": ("other", ""),
    "platform": ("other", ""),
}


class ZenodoError(OstogetherError):
    """Zenodo refused or did not answer; nothing is lost, the command may run again."""


def metadata(rt: Runtime, output: Output) -> dict[str, Any]:
    """The deposit metadata of ``output`` (with its projects loaded), as Zenodo takes it."""
    upload_type, publication_type = UPLOAD_TYPES.get(output.type, ("other", ""))
    description = html.escape(output.description or output.title)
    description += (f'<p>Online at <a href="{html.escape(output.url)}">'
                    f"{html.escape(output.url)}</a>; in the {html.escape(rt.community.site().name)}"
                    f' library at <a href="{html.escape(page_url(rt, output))}">'
                    f"{html.escape(page_url(rt, output))}</a>.</p>")
    data: dict[str, Any] = {
        "upload_type": upload_type, "title": output.title,
        "creators": [{"name": p.name or p.acronym} for p in output.projects]
        + [{"name": name} for name in output.organisations],
        "description": description, "access_right": "open",
        "keywords": list(output.keywords),
        "grants": [{"id": f"{EC_FUNDER}::{p.grant_number}"} for p in output.projects
                   if p.grant_number],
        "related_identifiers": [{"identifier": output.url, "relation": "isAlternateIdentifier"}],
    }
    if publication_type:
        data["publication_type"] = publication_type
    if output.licence:
        data["license"] = output.licence.lower()
    if rt.settings.zenodo_community:
        data["communities"] = [{"identifier": rt.settings.zenodo_community}]
    if output.date:
        data["publication_date"] = output.date.isoformat()
    if output.languages and (lang := pycountry.languages.get(alpha_2=output.languages[0])):
        data["language"] = getattr(lang, "alpha_3", "")
    return {"metadata": {k: v for k, v in data.items() if v not in ("", [], None)}}


@dataclass(frozen=True)
class Deposited:
    output_id: int
    deposition_id: str
    doi: str
    new: bool  # False: it was deposited before, nothing was sent


class _Api:
    def __init__(self, rt: Runtime) -> None:
        st = rt.settings
        self.base = st.zenodo_base_url.rstrip("/") + "/api/deposit/depositions"
        self.timeout = (st.social_connect_timeout, st.social_read_timeout)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {st.zenodo_token}"

    def call(self, method: str, url: str, expect: tuple[int, ...], **kwargs: Any
             ) -> dict[str, Any]:
        try:
            r = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ZenodoError(f"Zenodo did not answer ({type(exc).__name__}); nothing is "
                              f"lost: run the command again later.") from None
        if r.status_code not in expect:
            try:
                why = str(r.json().get("message", ""))[:300]
            except ValueError:
                why = r.text[:200]
            raise ZenodoError(f"Zenodo answered HTTP {r.status_code} to {method} "
                              f"{url.removeprefix(self.base) or '/'}: {why}. Run the command "
                              f"again once fixed; the deposition is not made twice.")
        try:
            body = r.json()
        except ValueError:
            raise ZenodoError(f"Zenodo's answer to {method} was not JSON.") from None
        return body if isinstance(body, dict) else {}


def deposit(rt: Runtime, actor: Actor, output_id: int) -> Deposited:
    """Deposit the approved output on Zenodo once, and keep the DOI it gets."""
    if not rt.settings.zenodo_token:
        raise ValidationError("No Zenodo token is set (OSTOGETHER_ZENODO_TOKEN); the "
                              "metadata was only printed.", {"zenodo_token": "not set"})
    with rt.db.session() as s:
        output = outputs.get(s, output_id)
        if output.zenodo_id not in ("", CLAIMED) and output.doi:
            return Deposited(output.id, output.zenodo_id, output.doi, new=False)
        if output.status != "approved":
            raise Conflict(f"Output {output_id} is {output.status}; only an approved output "
                           "is deposited.")
        if not output.licence:
            raise ValidationError(f"Output {output_id} states no licence; record its licence "
                                  "first: a deposit is public under it.",
                                  {"licence": "required to deposit"})
        if output.doi and not output.zenodo_id:
            raise Conflict(f"Output {output_id} already has the DOI {output.doi}; it is kept "
                           "in a repository already and is not deposited again.")
        body = metadata(rt, output)
        record_json = json.dumps(outputs.output_dict(output, rt.settings.public_url),
                                 ensure_ascii=False, indent=1).encode()
        existing = output.zenodo_id
    api = _Api(rt)
    if not existing:
        with rt.db.session() as s:  # the claim: only one run makes the deposition
            claimed = s.execute(update(Output).where(Output.id == output_id,
                                                     Output.zenodo_id == "")
                                .values(zenodo_id=CLAIMED, updated_at=Output.updated_at))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"Output {output_id} is being deposited by another run; wait for it.")
        try:
            made = api.call("POST", api.base, (201,), json={})
        except ZenodoError:
            _set_id(rt, output_id, "")
            raise
        existing = str(made.get("id", ""))
        if not existing.isdigit():
            _set_id(rt, output_id, "")
            raise ZenodoError("Zenodo's new deposition has no id; nothing was kept.")
        _set_id(rt, output_id, existing)
    elif existing == CLAIMED:
        raise Conflict(f"Output {output_id} is being deposited by another run, or a run "
                       "stopped before Zenodo answered. Check your uploads on Zenodo; if no "
                       f"draft was made, run `ostogether library zenodo {output_id} "
                       "--release` and then the command again.")
    url = f"{api.base}/{existing}"
    current = api.call("PUT", url, (200,), json=body)
    bucket = (current.get("links") or {}).get("bucket")
    if bucket and not current.get("files"):
        api.call("PUT", f"{bucket}/output-{output_id}.json", (200, 201), data=record_json,
                 headers={"Content-Type": "application/octet-stream"})
    published = api.call("POST", f"{url}/actions/publish", (202,))
    doi = str(published.get("doi", ""))
    if not DOI.fullmatch(doi):
        raise ZenodoError(f"Zenodo published deposition {existing} without a DOI we can "
                          f"read ('{doi[:60]}'); check it on Zenodo.")
    with rt.db.session() as s:
        output = outputs.get(s, output_id)
        output.doi = doi
        record(s, actor, "output.deposited", output, zenodo_id=existing, doi=doi)
    return Deposited(output_id, existing, doi, new=True)


def release(rt: Runtime, actor: Actor, output_id: int) -> bool:
    """Clear a claim left by a run that stopped before Zenodo answered; True if one was."""
    with rt.db.session() as s:
        output = outputs.get(s, output_id)
        if output.zenodo_id != CLAIMED:
            return False
        record(s, actor, "output.zenodo_released", output)
    _set_id(rt, output_id, "")
    return True


def _set_id(rt: Runtime, output_id: int, value: str) -> None:
    with rt.db.session() as s:
        s.execute(update(Output).where(Output.id == output_id).values(
            zenodo_id=value, updated_at=Output.updated_at))
