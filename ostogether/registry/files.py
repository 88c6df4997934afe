"""The registry written back as files: ``ostogether registry export DIR``.

The database holds the registry; ``content/projects/*.toml`` is a door in and out, for
communities that keep their registry in git. Export writes one file per member or alumni
project, in the layout and with the fields that ``registry.load_project_files`` reads, so
that importing what was exported changes nothing.

The files are written by hand rather than by a TOML library: the schema is fixed and
flat (strings, lists, dates, one ``[handles]`` table), and the files should read like the
hand-written ones, grouped as docs/registry.md shows them. ``toml_string`` escapes what
TOML's basic strings require; a property test reads its output back with ``tomllib``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ostogether.core.errors import ContentError
from ostogether.core.states import NETWORKS
from ostogether.edges.runtime import Runtime
from ostogether.models import Project
from ostogether.registry.rules import ProjectRecord

# The groups of a project's file, separated by a blank line, as docs/registry.md has them.
GROUPS = (
    ("acronym", "name", "description", "initiative_type", "themes", "sdgs", "countries"),
    ("programme", "call", "grant_number", "start_date", "end_date", "coordinator"),
    ("website", "feed_url", "contact_name", "contact_email", "logo"),
    ("status", "non_commercial", "coc_version", "coc_accepted_on", "notes"),
)
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
            "\f": "\\f"}


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters
    escaped, everything else as it is (UTF-8 files)."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return toml_string(str(value))


def project_toml(rec: ProjectRecord) -> str:
    """The project's file, as ``registry.load_project_files`` reads it. Pure."""
    lines = [f"# {rec.acronym}. Written by `ostogether registry export`; edit it, or edit the "
             f"project on its page under Editors → Projects."]
    for group in GROUPS:
        lines.append("")
        for name in group:
            value = getattr(rec, name)
            if value is None:  # an unknown date or declaration is left out, not invented
                continue
            lines.append(f"{name} = {_value(value)}")
    given = [(n, rec.handles[n]) for n in NETWORKS if rec.handles.get(n)]
    if given:
        lines += ["", "[handles]"] + [f"{n} = {toml_string(v)}" for n, v in given]
    feeds = [(code, url) for code, url in sorted(rec.feeds.items()) if url]
    if feeds:
        lines += ["", "[feeds]"] + [f"{code} = {toml_string(url)}" for code, url in feeds]
    return "\n".join(lines) + "\n"


@dataclass
class ExportReport:
    folder: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def export(rt: Runtime, folder: Path) -> ExportReport:
    """Write every member and alumni project to ``folder``/<slug>.toml. A file that would
    not change is left alone (its time too), so that git sees only real changes."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ContentError(f"Nothing was exported: the folder {folder} cannot be made "
                           f"({exc.strerror or exc}).") from None
    with rt.db.session() as s:
        records = [ProjectRecord.from_object(p) for p in s.scalars(
            select(Project).where(Project.status.in_(("member", "alumni")))
            .order_by(Project.slug))]
    report = ExportReport(folder)
    for rec in records:
        path = folder / f"{rec.slug}.toml"
        text = project_toml(rec)
        try:
            before = path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            before = None  # unreadable as it is: written again
        if before == text:
            report.unchanged.append(rec.slug)
            continue
        try:
            tmp = path.with_suffix(f".toml.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise ContentError(f"{path} could not be written ({exc}); the files before it "
                               f"were: {', '.join(report.written) or 'none'}.") from None
        report.written.append(rec.slug)
    return report
