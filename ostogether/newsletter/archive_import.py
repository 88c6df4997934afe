"""The archive continues: past issues sent before the service, imported from a folder of
HTML files (Mailchimp's "Export as HTML") and an ``issues.toml`` that lists them::

    [[issue]]
    number = 1
    sent_on = 2021-03-15
    subject = "OStogether newsletter #1"
    file = "issue1.html"

Each file's Mailchimp machinery is taken out before the project's cleaner
(``sanitize.clean_email_html``) keeps the rest:

- merge tags (``*|FNAME|*``, ``*|UNSUB|*``, ``*|LIST:…|*``, conditionals…) are removed, or
  filled where the community has the value (its name, its address, the year, the subject);
- "view in browser", "forward", "add us to your address book" and the Mailchimp badge go,
  with their text; unsubscribe and preferences links point at the service's own page;
- tracking links (``list-manage.com/track/click``) lose their link and keep their text, and
  the open pixel is removed: nothing in the archive reports to Mailchimp.

Links to the service itself (unsubscribe, preferences, the issue's own page) are stored
under ``SERVICE``, an address that can never be reached (``.invalid``, RFC 2606), and
``served`` turns them into the service's address when the page is shown: the copy kept
does not depend on the address the service had on the day of the import. Every link or
picture the import takes out is listed in its outcome, with the reason.

An imported issue is a sent issue like any other (``/archive``, ``/archive/N``,
``/archive.atom``), marked by ``imported_from``; new issues are numbered after the
highest. Importing the same files again changes nothing; a number that is taken by an
issue composed here, or by an import with other content, is refused, and nothing is
written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.errors import ContentError
from ostogether.core.sanitize import clean_email_html, html_to_text
from ostogether.core.words import _l
from ostogether.edges.audit import Actor, record
from ostogether.edges.runtime import Runtime
from ostogether.edges.tomlcheck import check_table, line_of, read_toml
from ostogether.models import Issue

MANIFEST = "issues.toml"
SPEC = {"number": "int", "sent_on": "date", "subject": "str", "file": "str",
        "preheader": "str", "recipients": "int"}
FILE_MAX_BYTES = 5 * 1024 * 1024
# All the files of one import are cleaned before anything is written (all or nothing), so
# together they are bounded too, as is the manifest: memory stays bounded whatever the
# folder holds. An archive of 50 MB is hundreds of issues; a bigger one goes in parts.
TOTAL_MAX_BYTES = 50 * 1024 * 1024
MANIFEST_MAX_BYTES = 1024 * 1024
SUBJECT_MAX = 300

_MERGE = re.compile(r"\*\|([^|*]{0,80})\|\*")
_SPACED_MERGE = re.compile(r"(\s*)\*\|([^|*]{0,80})\|\*(?=([,.;:!?]?))")
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.I | re.S)
_HREF = re.compile(r"""\bhref\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_SRC = re.compile(r"""\bsrc\s*=\s*(["'])(.*?)\1""", re.I | re.S)
_PREVIEW = re.compile(r"""<span\b[^>]*class=["'][^"']*mcnPreviewText[^"']*["'][^>]*>(.*?)"""
                      r"</span\s*>", re.I | re.S)
_BODY = re.compile(r"<body\b[^>]*>(.*)</body\s*>", re.I | re.S)
_GONE_TAGS = ("FORWARD", "VCARD", "REWARDS", "MC:SHARE", "MC:TOC")
_MANAGE_TAGS = ("UNSUB", "UPDATE_PROFILE", "EMAIL_PREFS")
_BROWSER = re.compile(r"\b(browser|web version|online version)\b", re.I)
# Where links to the service itself point in the stored copy: resolved by ``served``.
SERVICE = "https://service.invalid"


@dataclass(frozen=True)
class Entry:
    number: int
    sent_on: dt.date
    subject: str
    file: str
    preheader: str = ""
    recipients: int = 0


@dataclass(frozen=True)
class Outcome:
    number: int
    file: str
    outcome: str  # imported, replaced, refreshed (cleaned again, same file), unchanged
    subject: str
    dropped: tuple[Any, ...] = ()  # each link or picture taken out, and why (sentences)


def served(html: str, base: str) -> str:
    """A stored past issue with its links to the service pointing at ``base``."""
    return html.replace(f'href="{SERVICE}/', f'href="{escape(base.rstrip("/"))}/')


def _link_kind(href: str) -> str:
    """What a Mailchimp link is: gone (with its text), manage (our page), unwrap
    (tracking: text only), or keep."""
    tags = [m.upper() for m in _MERGE.findall(href)]
    if any(t.startswith(_GONE_TAGS) for t in tags):
        return "gone"
    if any(t.startswith(_MANAGE_TAGS) for t in tags):
        return "manage"
    if any(t.startswith("ARCHIVE") for t in tags):
        return "archive"
    if tags:
        return "unwrap"
    parts = urlsplit(href.strip())
    host, path = (parts.hostname or "").lower(), parts.path.lower()
    if host.endswith("list-manage.com"):
        if path.startswith(("/unsubscribe", "/profile")):
            return "manage"
        if path.startswith(("/track/", "/subscribe")):
            return "unwrap"
        return "gone"  # vcard, about, forward
    if host.endswith(("forward-to-friend.com", "mailchi.mp", "campaign-archive.com",
                      "eepurl.com")):
        return "gone"
    if host.endswith("mailchimp.com") and ("monkey-rewards" in path or "referral" in path
                                           or parts.query.find("utm_source=freemium") >= 0):
        return "gone"
    return "keep"


def _label(inner: str) -> str:
    text = " ".join(html_to_text(inner).split())
    return f"'{text[:60]}'" if text else _l("(no text)")


def strip_mailchimp(html: str, values: dict[str, str], manage_url: str,
                    archive_url: str = "", dropped: list[Any] | None = None
                    ) -> tuple[str, str]:
    """The body of an exported issue without Mailchimp's links, pixels and merge tags, and
    its preview text. What is taken out is added to ``dropped``."""
    dropped = [] if dropped is None else dropped
    preview = ""
    if m := _PREVIEW.search(html):
        preview = "" if _MERGE.search(m.group(1)) else html_to_text(m.group(1)).strip()
    html = _PREVIEW.sub("", html)
    if m := _BODY.search(html):
        html = m.group(1)

    def anchor(m: re.Match[str]) -> str:
        attrs, inner = m.group(1), m.group(2)
        href = _HREF.search(attrs)
        kind = _link_kind(href.group(2)) if href else "keep"
        if kind == "archive":  # "view in browser" means nothing in the archive itself
            kind = "gone" if _BROWSER.search(html_to_text(inner)) or not archive_url else kind
            if kind == "archive":
                return f'<a href="{archive_url}">{inner}</a>'
        if kind == "gone":
            dropped.append(_l("link %(label)s (%(url)s) taken out with its text: Mailchimp's "
                              "own (view in browser, forward, address book, badge)",
                              label=_label(inner),
                              url=unescape(href.group(2))[:80] if href else ""))
            return ""
        if kind == "manage":
            return f'<a href="{manage_url}">{inner}</a>'
        if kind == "unwrap":
            dropped.append(_l("link %(label)s: a Mailchimp tracking link or merge tag "
                              "(%(url)s); the text is kept without the link, whose target "
                              "the export does not hold", label=_label(inner),
                              url=unescape(href.group(2))[:80] if href else ""))
            return inner
        return m.group(0)

    def image(m: re.Match[str]) -> str:
        src = _SRC.search(m.group(0))
        url = src.group(2) if src else ""
        host = (urlsplit(url).hostname or "").lower()
        if _MERGE.search(url) or host.endswith("list-manage.com") or "/track/open" in url:
            dropped.append(_l("picture %(url)s: Mailchimp's open-tracking pixel or a merge "
                              "tag", url=unescape(url)[:80]))
            return ""
        tag = m.group(0)
        return tag if re.search(r"\balt\s*=", tag, re.I) else tag[:4] + ' alt=""' + tag[4:]

    html = _ANCHOR.sub(anchor, html)
    html = _IMG.sub(image, html)

    def merge(m: re.Match[str]) -> str:
        value = values.get(m.group(2).strip().upper(), "")
        if not value and m.group(3):  # "Hello *|FNAME|*," → "Hello,"
            return ""
        return m.group(1) + value

    return _SPACED_MERGE.sub(merge, html), _SPACED_MERGE.sub(merge, preview)


_TAG_ATTR = {"a": _HREF, "img": _SRC}


def _targets(html: str, tag: str) -> list[tuple[str, str]]:
    """(address, label) of each <a> (or <img>) in ``html`` that has one."""
    found = []
    pattern = _ANCHOR if tag == "a" else _IMG
    for m in pattern.finditer(html):
        attr = _TAG_ATTR[tag].search(m.group(1) if tag == "a" else m.group(0))
        if attr and attr.group(2).strip():
            found.append((unescape(attr.group(2)).strip(), _label(m.group(2))
                          if tag == "a" else ""))
    return found


def _why_refused(url: str) -> Any:
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if url.startswith("#"):
        return _l("a jump within the page, which the cleaned copy does not keep")
    if not scheme:
        return _l("not a full address (no https://), so it leads nowhere outside Mailchimp")
    if scheme not in ("http", "https", "mailto"):
        return _l("a %(scheme)s: address; only http, https and mailto are kept",
                  scheme=scheme)
    return _l("not a valid address")


def refused_by_cleaner(before: str, after: str) -> list[Any]:
    """The links and pictures of ``before`` that the cleaner took out of ``after``."""
    out = []
    for tag in ("a", "img"):
        kept = Counter(url for url, _ in _targets(after, tag))
        for url, label in _targets(before, tag):
            if kept[url] > 0:
                kept[url] -= 1
                continue
            out.append(_l("link %(label)s (%(url)s) dropped: %(why)s (the text is kept)",
                          label=label, url=url[:80], why=_why_refused(url)) if tag == "a"
                       else _l("picture (%(url)s) dropped: %(why)s", url=url[:80],
                               why=_why_refused(url)))
    return out


# ------------------------------------------------------------------------- the manifest

def read_manifest(folder: Path) -> list[Entry]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ContentError(f"{folder}: no such folder.")
    if not path.is_file():
        raise ContentError(f"{path}: file not found. Write one [[issue]] table per past "
                           f"issue, with number, sent_on, subject and file.")
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        raise ContentError(f"{path} is over {MANIFEST_MAX_BYTES // 2**20} MB; is it the "
                           f"list of issues? Split the import into parts.")
    data, text = read_toml(path)
    problems: list[str] = []
    total = 0
    unknown = [k for k in data if k != "issue"]
    if unknown:
        problems.append(f"{path}: unknown key(s) {', '.join(unknown)}; write [[issue]] "
                        f"tables.")
    tables = data.get("issue", [])
    if not isinstance(tables, list) or not tables:
        raise ContentError(f"{path}: no [[issue]] table; write one per past issue.",
                           problems)
    entries: list[Entry] = []
    seen: dict[int, int] = {}
    files = folder.resolve()
    for i, t in enumerate(tables, 1):
        where = f"{path}, issue {i}"
        if not isinstance(t, dict):
            problems.append(f"{where}: must be a table.")
            continue
        bad = check_table(t, SPEC, path, text, prefix="issue.")
        missing = [k for k in ("number", "sent_on", "subject", "file") if k not in t]
        if missing:
            bad.append(f"{where}: missing {', '.join(missing)}.")
        if bad:
            problems += bad
            continue
        number, subject = t["number"], " ".join(t["subject"].split())
        if number < 1:
            problems.append(f"{where}: number must be 1 or more.")
        elif number in seen:
            problems.append(f"{where}: number {number} is also issue {seen[number]}'s.")
        seen.setdefault(number, i)
        if not subject or len(subject) > SUBJECT_MAX:
            problems.append(f"{where}: subject must be 1 to {SUBJECT_MAX} characters.")
        if t["sent_on"] > clock.now().date():
            problems.append(f"{where}: sent_on {t['sent_on']} is in the future.")
        target = (folder / t["file"]).resolve()
        if not target.is_relative_to(files):
            problems.append(f"{where}: file {t['file']} is outside the folder.")
        elif not target.is_file():
            problems.append(f"{where}: file {t['file']} not found in {folder}.")
        elif target.stat().st_size > FILE_MAX_BYTES:
            problems.append(f"{where}: file {t['file']} is over "
                            f"{FILE_MAX_BYTES // 2**20} MB.")
        else:
            total += target.stat().st_size
        entries.append(Entry(number, t["sent_on"], subject, t["file"],
                             " ".join(t.get("preheader", "").split())[:SUBJECT_MAX],
                             t.get("recipients", 0)))
    if total > TOTAL_MAX_BYTES:
        problems.append(f"{path}: the files it lists add up to {total / 2**20:.0f} MB; "
                        f"import them in parts of at most {TOTAL_MAX_BYTES // 2**20} MB "
                        f"(one manifest per part).")
    if problems:
        line = line_of(text, "issue")
        raise ContentError(f"Nothing was imported: {len(problems)} problem(s) in {path}"
                           + (f" (from line {line})" if line else "") + ".", problems)
    return entries


def _read(folder: Path, entry: Entry) -> str:
    raw = (folder / entry.file).read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ContentError(f"{folder / entry.file}: not UTF-8 text; save it as UTF-8.")


# ------------------------------------------------------------------------- importing

def import_folder(rt: Runtime, actor: Actor, folder: Path, *, apply: bool = True,
                  replace: bool = False, replace_hint: str = "run again with --replace",
                  progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """Import the past issues the folder lists: all of them, or none. ``replace_hint``
    says how the face asks for ``replace``; ``progress`` is told after each issue is
    cleaned (they are all written at the end, in one transaction)."""
    entries = read_manifest(folder)
    site = rt.community.site()
    prepared = []
    for n, e in enumerate(entries, 1):
        source = _read(folder, e)
        digest = hashlib.sha256(source.encode()).hexdigest()
        values = {"LIST:COMPANY": site.name, "LIST:NAME": f"{site.short_name} newsletter",
                  "LIST:ADDRESSLINE": site.postal_address,
                  "HTML:LIST_ADDRESS_HTML": site.postal_address,
                  "LIST:ADDRESS": site.postal_address, "CURRENT_YEAR": str(e.sent_on.year),
                  "DATE:Y": str(e.sent_on.year), "MC:SUBJECT": e.subject}
        dropped: list[Any] = []
        body, preview = strip_mailchimp(source, values, f"{SERVICE}/newsletter/manage",
                                        f"{SERVICE}/archive/{e.number}", dropped)
        html = clean_email_html(body).strip()
        dropped += refused_by_cleaner(body, html)
        if not html_to_text(html).strip():
            raise ContentError(f"Nothing was imported: {folder / e.file} has no text once "
                               f"cleaned. Is it the issue's HTML?")
        prepared.append((e, digest, html, e.preheader or preview, tuple(dropped)))
        if progress:
            progress(n, len(entries))
    outcomes: list[Outcome] = []
    with rt.db.session() as s:
        taken = {i.number: i for i in s.scalars(select(Issue).where(
            Issue.number.in_([e.number for e in entries])))}
        clashes = []
        for e, digest, *_ in prepared:
            old = taken.get(e.number)
            if old is None:
                continue
            if not old.imported_from:
                clashes.append(f"#{e.number} ({e.file}) is taken by an issue composed here "
                               f"({old.status}): give the past issue its own number.")
            elif old.snapshot_sha256 != digest or old.snapshot_subject != e.subject:
                if not replace:
                    clashes.append(f"#{e.number} was imported before from "
                                   f"{old.imported_from} with other content; "
                                   f"{replace_hint} to replace it.")
        if clashes:
            raise ContentError(f"Nothing was imported: {len(clashes)} number(s) clash.",
                               clashes)
        for e, digest, html, preheader, removed in prepared:
            old = taken.get(e.number)
            same = old is not None and old.snapshot_sha256 == digest and (
                old.snapshot_subject == e.subject)
            if same and old is not None and old.snapshot_html == html:
                outcomes.append(Outcome(e.number, e.file, "unchanged", e.subject, removed))
                continue
            sent = dt.datetime.combine(e.sent_on, dt.time(12), tzinfo=dt.UTC)
            issue = old or Issue(number=e.number)
            issue.status, issue.send_state = "sent", "done"
            issue.subject = issue.snapshot_subject = e.subject
            issue.preheader = issue.snapshot_preheader = preheader
            issue.snapshot_html, issue.snapshot_text = html, html_to_text(html)
            issue.snapshot_sha256, issue.imported_from = digest, e.file
            issue.send_at = issue.sent_at = issue.approved_at = sent
            issue.approved_by_label = "imported from the old archive"
            issue.send_recipients = e.recipients
            if old is None:
                s.add(issue)
            s.flush()
            # The same file cleaned again by a newer service (its links to the service
            # stored as SERVICE, say) is refreshed without --replace: nothing of the
            # editor's changed.
            outcomes.append(Outcome(e.number, e.file, "refreshed" if same else
                                    "replaced" if old else "imported", e.subject, removed))
            record(s, actor, "issue.imported", issue, number=e.number, file=e.file,
                   sha256=digest, replaced=old is not None)
        if not apply:
            s.rollback()
    return outcomes


# ------------------------------------------------------------------------- a zip of it

def import_zip(rt: Runtime, actor: Actor, upload: Path, *, name: str, workdir: Path,
               apply: bool = True, replace: bool = False,
               replace_hint: str = "run again with --replace",
               progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    """``import_folder`` on a zip of the folder (``issues.toml`` and the HTML files, at the
    zip's top or in one folder of it), unpacked under ``workdir`` for the time of the
    import. Messages name the zip (``name``) and the file in it, never where it was
    unpacked."""
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="archive-") as tmp:
        folder = _unpack(upload, Path(tmp), name)
        try:
            return import_folder(rt, actor, folder, apply=apply, replace=replace,
                                 replace_hint=replace_hint, progress=progress)
        except ContentError as exc:
            raise _relabelled(exc, folder, name) from None


def _damaged(name: str, why: object) -> ContentError:
    return ContentError(f"{name} is a damaged zip ({why}). Zip the folder again and "
                        f"upload that.")


def _unpack(upload: Path, into: Path, name: str) -> Path:
    """The HTML files and the manifest of the zip, written under ``into``, each within
    the import's limits; anything else in the zip (pictures, a Mac's __MACOSX) is left."""
    if not zipfile.is_zipfile(upload):
        raise ContentError(f"{name} is not a zip. Put {MANIFEST} and the issues' HTML "
                           f"files in one folder, zip it, and upload the zip.")
    try:
        with zipfile.ZipFile(upload) as zf:
            members = [i for i in zf.infolist() if not i.is_dir()
                       and not i.filename.startswith("__MACOSX/")]
            manifests = [i for i in members if PurePosixPath(i.filename).name == MANIFEST]
            if not manifests:
                raise ContentError(f"{name} has no {MANIFEST}. Write the list of past issues "
                                   f"(one [[issue]] table each: number, sent_on, subject, "
                                   f"file) beside the HTML files, and zip them together.")
            if len(manifests) > 1:
                raise ContentError(f"{name} holds {len(manifests)} files called {MANIFEST}; "
                                   f"import one folder at a time.")
            root = PurePosixPath(manifests[0].filename).parent
            total = 0
            for info in members:
                path = PurePosixPath(info.filename.replace("\\", "/"))
                if not path.is_relative_to(root) or ".." in path.parts or path.is_absolute():
                    continue
                rel = path.relative_to(root)
                if rel.suffix.lower() not in (".html", ".htm", ".toml"):
                    continue
                limit = MANIFEST_MAX_BYTES if rel.name == MANIFEST else FILE_MAX_BYTES
                total += info.file_size
                if info.file_size > limit or total > TOTAL_MAX_BYTES + MANIFEST_MAX_BYTES:
                    raise ContentError(
                        f"{name}: {rel} is over {limit // 2**20} MB" if info.file_size > limit
                        else f"{name} unpacks to more than {TOTAL_MAX_BYTES // 2**20} MB; "
                             f"import the archive in parts (one zip and manifest each).")
                target = into.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)  # zipfile stops at the declared size
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, OSError) as exc:
        raise _damaged(name, exc) from None
    return into


def _relabelled(exc: ContentError, folder: Path, name: str) -> ContentError:
    """``exc`` with the unpacked folder's path replaced by the zip's name."""
    def said(text: str) -> str:
        return text.replace(f"{folder}/", f"{name}: ").replace(str(folder), name)

    tail = "".join(f"\n  - {p}" for p in exc.problems)
    head = exc.message[:len(exc.message) - len(tail)] if tail else exc.message
    return ContentError(said(head), [said(p) for p in exc.problems])
