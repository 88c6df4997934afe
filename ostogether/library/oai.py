"""OAI-PMH 2.0 (https://www.openarchives.org/OAI/openarchivesprotocol.html) over the
library, so that Scientix, OpenAIRE and Europeana-style aggregators can harvest it.

The six verbs with ``oai_dc``; sets by project (``project:<slug>``) and by type
(``type:<key>``); resumption tokens of ``PAGE_SIZE`` records; an output that was public and
is withdrawn stays as a deleted record (``deletedRecord`` is ``persistent``), one never
public is never mentioned. The datestamp is the output's ``updated_at`` in UTC, to the
second. ``respond`` takes the request's arguments (every value of each, so that a
repeated argument is the badArgument it is) and gives the XML document; it never raises.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from ostogether.core import clock
from ostogether.edges.runtime import Runtime
from ostogether.library.content import Vocabulary, vocabulary
from ostogether.library.finding import licence_url, page_url
from ostogether.models import Output, Project

PAGE_SIZE = 100
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_XSD = f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_XSD = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
FORMATS = {"oai_dc": (OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")}
VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
EARLIEST = dt.datetime(2020, 12, 1, tzinfo=dt.UTC)  # the community began in December 2020


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    el = etree.SubElement(parent, f"{{{OAI}}}{tag}", {k: v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


def _identifier_prefix(rt: Runtime) -> str:
    host = urlsplit(rt.settings.public_url).hostname or "localhost"
    return f"oai:{host}:library/"


def _parse_time(value: str, name: str, *, end: bool) -> tuple[dt.datetime, str]:
    if SECOND.fullmatch(value):
        try:
            return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=dt.UTC), "second"
        except ValueError:
            pass
    elif DAY.fullmatch(value):
        try:
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        except ValueError:
            pass
        else:
            return (day + dt.timedelta(days=1, seconds=-1) if end else day), "day"
    raise OaiError("badArgument", f"{name} must be a UTC datestamp such as 2024-01-31 or "
                                  f"2024-01-31T12:00:00Z, got '{value[:40]}'.")


def _visible() -> Any:
    """What the repository holds: approved outputs, and withdrawn ones that were public."""
    return or_(Output.status == "approved",
               and_(Output.status == "withdrawn", Output.published_at.is_not(None)))


def _sets(s: Session, vocab: Vocabulary) -> list[tuple[str, str]]:
    rows = list(s.scalars(select(Output).options(selectinload(Output.projects))
                          .where(Output.status == "approved")))
    projects = sorted({(p.slug, p.acronym) for o in rows for p in o.projects})
    types = sorted({o.type for o in rows})
    return ([(f"project:{slug}", f"Outputs of {acronym}") for slug, acronym in projects]
            + [(f"type:{t}", vocab.types.get(t, t)) for t in types])


def _header(parent: Any, rt: Runtime, output: Output) -> None:
    deleted = output.status != "approved"
    header = _sub(parent, "header", **({"status": "deleted"} if deleted else {}))
    _sub(header, "identifier", _identifier_prefix(rt) + str(output.id))
    _sub(header, "datestamp", _stamp(output.updated_at))
    for project in output.projects:
        _sub(header, "setSpec", f"project:{project.slug}")
    _sub(header, "setSpec", f"type:{output.type}")


def _dc(parent: Any, rt: Runtime, output: Output, vocab: Vocabulary) -> None:
    metadata = _sub(parent, "metadata")
    dc = etree.SubElement(metadata, f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC,
                                                               "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", OAI_DC_XSD)

    def add(tag: str, text: str) -> None:
        if text:
            etree.SubElement(dc, f"{{{DC}}}{tag}").text = text

    add("title", output.title)
    for project in output.projects:
        add("creator", f"{project.name} ({project.acronym})" if project.name
            else project.acronym)
    for organisation in output.organisations:
        add("contributor", organisation)
    for subject in output.subjects:
        add("subject", vocab.subjects.get(subject, subject))
    for keyword in output.keywords:
        add("subject", keyword)
    for n in output.sdgs:
        add("subject", f"SDG {n}: {vocab.sdgs.get(n, '')}")
    add("description", output.description)
    add("publisher", rt.community.site().name)
    add("date", output.date.isoformat() if output.date else
        (output.published_at or output.created_at).date().isoformat())
    add("type", vocab.types.get(output.type, output.type))
    add("identifier", output.url)
    add("identifier", page_url(rt, output))
    if output.doi:
        add("identifier", f"https://doi.org/{output.doi}")
    for language in output.languages:
        add("language", language)
    if output.licence:
        add("rights", licence_url(output.licence))
    if output.archived_url:
        add("relation", output.archived_url)


def _token(args: dict[str, str], offset: int) -> str:
    data = {"m": args["metadataPrefix"], "f": args.get("from", ""), "u": args.get("until", ""),
            "s": args.get("set", ""), "o": offset}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _untoken(token: str) -> tuple[dict[str, str], int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        args = {"metadataPrefix": str(data["m"])}
        for key, name in (("f", "from"), ("u", "until"), ("s", "set")):
            if data[key]:
                args[name] = str(data[key])
        offset = data["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
    except (ValueError, KeyError, TypeError, UnicodeError, AttributeError):
        raise OaiError("badResumptionToken", "The resumptionToken is not one this repository "
                                             "gave; start the list again.") from None
    return args, offset


def _list(root: Any, rt: Runtime, s: Session, verb: str, args: dict[str, str]) -> None:
    offset = 0
    if "resumptionToken" in args:
        args, offset = _untoken(args["resumptionToken"])
    if args["metadataPrefix"] not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"Only oai_dc is offered, not "
                                                  f"'{args['metadataPrefix'][:40]}'.")
    statement = select(Output).options(selectinload(Output.projects)).where(_visible())
    grains = set()
    if "from" in args:
        start, grain = _parse_time(args["from"], "from", end=False)
        grains.add(grain)
        statement = statement.where(Output.updated_at >= start)
    if "until" in args:
        stop, grain = _parse_time(args["until"], "until", end=True)
        grains.add(grain)
        statement = statement.where(Output.updated_at <= stop)
    if len(grains) > 1:
        raise OaiError("badArgument", "from and until must have the same granularity.")
    if "from" in args and "until" in args and start > stop:
        raise OaiError("badArgument", "from is later than until.")
    if spec := args.get("set"):
        kind, _, value = spec.partition(":")
        if kind == "project":
            statement = statement.where(Output.projects.any(Project.slug == value))
        elif kind == "type":
            statement = statement.where(Output.type == value)
        else:
            raise OaiError("noRecordsMatch", f"There is no set '{spec[:60]}'.")
    rows = list(s.scalars(statement.order_by(Output.updated_at, Output.id)))
    if not rows or offset >= len(rows):
        if offset and offset >= len(rows):
            raise OaiError("badResumptionToken", "The resumptionToken is past the end of the "
                                                 "list; start the list again.")
        raise OaiError("noRecordsMatch", "No record matches these arguments.")
    vocab = vocabulary(rt.community)
    out = _sub(root, verb)
    for output in rows[offset:offset + PAGE_SIZE]:
        if verb == "ListIdentifiers":
            _header(out, rt, output)
        else:
            record = _sub(out, "record")
            _header(record, rt, output)
            if output.status == "approved":
                _dc(record, rt, output, vocab)
    following = offset + PAGE_SIZE
    if offset or following < len(rows):
        attrs = {"completeListSize": str(len(rows)), "cursor": str(offset)}
        _sub(out, "resumptionToken", _token(args, following) if following < len(rows) else "",
             **attrs)


def _output_of(rt: Runtime, s: Session, identifier: str) -> Output:
    prefix = _identifier_prefix(rt)
    number = identifier[len(prefix):] if identifier.startswith(prefix) else ""
    output = None
    if number.isascii() and number.isdigit() and 0 < int(number) < 2**31:
        output = s.scalar(select(Output).options(selectinload(Output.projects)).where(
            Output.id == int(number), _visible()))
    if output is None:
        raise OaiError("idDoesNotExist", f"There is no record '{identifier[:80]}'.")
    return output


def _answer(root: Any, rt: Runtime, verb: str, args: dict[str, str]) -> None:
    with rt.db.session() as s:
        if verb == "Identify":
            site = rt.community.site()
            out = _sub(root, "Identify")
            _sub(out, "repositoryName", f"{site.name}: library")
            _sub(out, "baseURL", f"{rt.settings.public_url.rstrip('/')}/oai")
            _sub(out, "protocolVersion", "2.0")
            _sub(out, "adminEmail", site.contact_email)
            first = s.scalar(select(Output.updated_at).where(_visible()).order_by(
                Output.updated_at).limit(1))
            _sub(out, "earliestDatestamp", _stamp(min(first, EARLIEST) if first else EARLIEST))
            _sub(out, "deletedRecord", "persistent")
            _sub(out, "granularity", "YYYY-MM-DDThh:mm:ssZ")
        elif verb == "ListMetadataFormats":
            if "identifier" in args:
                _output_of(rt, s, args["identifier"])
            out = _sub(root, "ListMetadataFormats")
            for prefix, (namespace, schema) in FORMATS.items():
                fmt = _sub(out, "metadataFormat")
                _sub(fmt, "metadataPrefix", prefix)
                _sub(fmt, "schema", schema)
                _sub(fmt, "metadataNamespace", namespace)
        elif verb == "ListSets":
            if "resumptionToken" in args:
                raise OaiError("badResumptionToken", "The list of sets comes in one piece; "
                                                     "ask without a resumptionToken.")
            out = _sub(root, "ListSets")
            for spec, name in _sets(s, vocabulary(rt.community)):
                one = _sub(out, "set")
                _sub(one, "setSpec", spec)
                _sub(one, "setName", name)
        elif verb == "GetRecord":
            if args["metadataPrefix"] not in FORMATS:
                raise OaiError("cannotDisseminateFormat", "Only oai_dc is offered.")
            output = _output_of(rt, s, args["identifier"])
            record = _sub(_sub(root, "GetRecord"), "record")
            _header(record, rt, output)
            if output.status == "approved":
                _dc(record, rt, output, vocabulary(rt.community))
        else:
            _list(root, rt, s, verb, args)


def _check(given: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    verbs = list(given.get("verb", []))
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "verb is missing, repeated or not one of "
                                  f"{', '.join(VERBS)}.")
    verb = verbs[0]
    required, optional = VERBS[verb]
    args: dict[str, str] = {}
    for name, values in given.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise OaiError("badArgument", f"{verb} does not take '{name[:40]}'.")
        if len(values) != 1:
            raise OaiError("badArgument", f"'{name}' is given more than once.")
        args[name] = values[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument.")
        return verb, args
    missing = required - set(args)
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}.")
    return verb, args


def respond(rt: Runtime, given: Mapping[str, Sequence[str]]) -> bytes:
    """The OAI-PMH answer to a request with the arguments ``given`` (name → every value)."""
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", OAI_XSD)
    _sub(root, "responseDate", _stamp(clock.now()))
    request = _sub(root, "request", f"{rt.settings.public_url.rstrip('/')}/oai")
    try:
        verb, args = _check(given)
        request.set("verb", verb)
        for name, value in args.items():
            request.set(name, value)
        _answer(root, rt, verb, args)
    except OaiError as exc:
        _sub(root, "error", exc.message, code=exc.code)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def records_count(rt: Runtime) -> dict[str, Any]:
    """How many records a full harvest gives: public ones, and deleted ones."""
    with rt.db.session() as s:
        rows = list(s.scalars(select(Output.status).where(_visible())))
    return {"public": rows.count("approved"), "deleted": rows.count("withdrawn")}
