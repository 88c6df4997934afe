"""Pre-flight: the checklist an issue must pass before an editor may approve it.

A failed check blocks approval. A warning needs the editor's explicit acknowledgement.
The checks themselves are pure functions of the rendered issue; only ``probe_links``
talks to the network, concurrently and with explicit timeouts. ``newsletter`` keeps the
day's cache of links that answered and calls these.

A check's label and details are sentences for an editor: lazy strings that come out in
the page's language when shown (English in the CLI), never stored. ``as_dict`` turns
them into text for JSON. A link's stored ``detail`` stays English (the cache keeps it);
``LinkResult.said`` words it when shown.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from ostogether import __version__
from ostogether.core.choices import Choices, Offer
from ostogether.core.choices import select as choose
from ostogether.core.words import _l, _nl
from ostogether.edges import fetch
from ostogether.edges.wording import joined

PASS, WARN, FAIL = "pass", "warn", "fail"
# A link that could not be reached at all (no network, a DNS failure, a timeout): that
# says nothing about the page, so it warns, and approving past it needs a reason.
UNREACHED = "unreached"
# Gmail clips a message whose HTML is over 102 KB and hides the rest, the footer with
# the unsubscribe link included. It counts the part as sent, encoded.
GMAIL_CLIP_BYTES = 102 * 1024
SUBJECT_MAX = 90
# Answers that mean "this site refuses robots", not "this page is gone": an editor checks
# those by hand. 999 is LinkedIn's answer to any client it does not like.
REFUSES_ROBOTS = {401, 403, 429, 999}


def _said(what: Any, detail: Any) -> Any:
    """"what: detail" (a link or a language and what was found), as the page's language
    writes a colon."""
    return _l("%(what)s: %(detail)s", what=what, detail=detail)


@dataclass(frozen=True)
class Check:
    key: str
    label: Any  # a sentence: a lazy string, text when shown
    status: str
    details: tuple[Any, ...] = ()
    needs_reason: bool = False  # acknowledging this warning takes a written reason
    # Advice about the setup rather than the issue (the sending domain's DNS): shown as a
    # warning, never holding up approval.
    advisory: bool = False


@dataclass(frozen=True)
class Group:
    """How one group of checks is named: its heading, the word before each check of it,
    and its count ("2 warnings to tick"), in the page's language when shown."""

    key: str
    heading: Any
    mark: Any
    count: Callable[[int], Any] = field(repr=False, compare=False)

    def counted(self, n: int) -> Any:
        """"1 failed", "2 warnings to tick": the number with the group's words."""
        return self.count(n)


GROUPS = (Group("fail", _l("Failed"), _l("Failed"),
                lambda n: _nl("%(num)d failed", "%(num)d failed", n)),
          Group("warn", _l("Warnings to tick"), _l("Warning"),
                lambda n: _nl("%(num)d warning to tick", "%(num)d warnings to tick", n)),
          Group("advice", _l("Advice"), _l("Advice"),
                lambda n: _nl("%(num)d piece of advice", "%(num)d pieces of advice", n)),
          Group("pass", _l("Passed"), _l("Passed"),
                lambda n: _nl("%(num)d passed", "%(num)d passed", n)))


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARN and not c.advisory]

    @property
    def advice(self) -> list[Check]:
        return [c for c in self.checks if c.status == WARN and c.advisory]

    @property
    def passed(self) -> list[Check]:
        return [c for c in self.checks if c.status == PASS]

    def groups(self, *, empty: bool = False) -> list[tuple[Group, list[Check]]]:
        """The checks as the page and the CLI list them, in the groups the summary
        counts: failed, warnings to tick, advice, passed (the empty ones with ``empty``)."""
        found = ((GROUPS[0], self.failed), (GROUPS[1], self.warnings),
                 (GROUPS[2], self.advice), (GROUPS[3], self.passed))
        return [(g, checks) for g, checks in found if checks or empty]

    def summary(self) -> str:
        """"1 failed, 2 warnings to tick, 1 piece of advice, 9 passed": the count of each
        group as it is listed (an empty group is not listed, and counts 0), so the line
        and the list always agree."""
        return ", ".join(str(g.counted(len(checks)))
                         for g, checks in self.groups(empty=True))

    def blocking(self, acknowledged: Iterable[str] = (),
                 reasons: Mapping[str, str] | None = None) -> list[str]:
        """Why approval is refused: every failure, every warning not acknowledged, and
        every acknowledgment that needs a reason and has none."""
        acked, reasons = set(acknowledged), reasons or {}
        out = [_l("%(check)s: %(details)s", check=c.label, details=joined("; ", c.details))
               if c.details else _l("%(check)s: failed", check=c.label) for c in self.failed]
        out += [_l("%(check)s (warning, not acknowledged): %(details)s", check=c.label,
                   details=joined("; ", c.details))
                for c in self.warnings if c.key not in acked]
        out += [_l("%(check)s: say why you approve although these could not be checked",
                   check=c.label)
                for c in self.warnings
                if c.key in acked and c.needs_reason and not reasons.get(c.key, "").strip()]
        return out

    def as_dict(self) -> dict[str, object]:
        return {"ok": not self.failed, "checks": [
            {"key": c.key, "label": str(c.label), "status": c.status,
             "details": [str(d) for d in c.details],
             "needs_reason": c.needs_reason, "advisory": c.advisory}
            for c in self.checks]}


@dataclass(frozen=True)
class LinkResult:
    url: str
    outcome: str  # pass, warn, fail
    status_code: int | None = None
    detail: str = ""  # in English: what the day's cache of links keeps
    # The same in the page's language when shown; None for one read from the cache (an
    # answer, "HTTP 200", the same in every language).
    words: Any = field(default=None, compare=False)

    @property
    def said(self) -> Any:
        return self.detail if self.words is None else self.words


# ------------------------------------------------------------------ reading the HTML

class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.images: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        elif tag == "img":
            self.images.append((a.get("src") or "", a.get("alt")))


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    s.close()
    return s


def checkable_urls(html: str, own_url: str = "") -> tuple[list[str], int]:
    """The distinct http(s) links and image sources to try, in order of appearance, and
    how many point at this service (served from the package, so not tried)."""
    s = scan(html)
    seen: dict[str, None] = {}
    own = 0
    for url in [*s.links, *(src for src, _ in s.images)]:
        if urlsplit(url).scheme not in ("http", "https"):
            continue  # mailto:, and the placeholders the delivery fills in
        if own_url and url.startswith(own_url.rstrip("/") + "/"):
            own += 1
            continue
        seen.setdefault(url, None)
    return list(seen), own


# -------------------------------------------------------------------- the checks

def check_links(results: Sequence[LinkResult], own: int = 0) -> Check:
    """A page that is gone (404, 410, 5xx) fails. A site that refuses robots, or a link
    that could not be reached at all (offline, DNS, timeout), warns: the second only with
    a reason, which the approval records."""
    label = _l("Every link answers")
    bad = [r for r in results if r.outcome == FAIL]
    unreached = [r for r in results if r.outcome == UNREACHED]
    shy = [r for r in results if r.outcome == WARN]
    details = [_said(r.url, r.said) for r in bad + unreached + shy]
    if own:
        details.append(_nl("%(num)d link to this service itself not tried",
                           "%(num)d links to this service itself not tried", own))
    if bad:
        return Check("links", label, FAIL, tuple(details))
    if unreached or shy:
        return Check("links", label, WARN, tuple(details), needs_reason=bool(unreached))
    return Check("links", label, PASS, (_nl("%(num)d link answered", "%(num)d links answered",
                                            len(results)), *details))


def check_alt_text(html: str) -> Check:
    label = _l("Every image has alt text")
    missing, empty = [], []
    for src, alt in scan(html).images:
        if alt is None:
            missing.append(src)
        elif not alt.strip():
            empty.append(src)
    if missing:
        return Check("alt", label, FAIL, tuple(_l("no alt attribute: %(src)s", src=s)
                                               for s in missing))
    if empty:
        return Check("alt", label, WARN, tuple(
            _l("empty alt (fine only if the image is decorative): %(src)s", src=s)
            for s in empty))
    return Check("alt", label, PASS)


def _kb(size: int) -> str:
    return f"{size / 1024:.1f}"


def check_size(html_part: bytes, decoded: int = 0) -> Check:
    """The HTML part of a reader's copy as it goes on the wire (``IssueMessage.html_part``:
    quoted-printable, with the part's own lines), not the decoded HTML (``decoded`` bytes,
    shown beside it)."""
    size = len(html_part)
    label = _l("The HTML is under 102 KB as sent, so Gmail shows it whole")
    detail = (_l("%(size)s KB as sent (%(decoded)s KB decoded)", size=_kb(size),
                 decoded=_kb(decoded)) if decoded
              else _l("%(size)s KB as sent", size=_kb(size)),)
    if size >= GMAIL_CLIP_BYTES:
        return Check("size", label, FAIL, (_l(
            "%(size)s KB as sent: Gmail will clip it and hide the footer; drop items or "
            "shorten them", size=_kb(size)),))
    if size >= GMAIL_CLIP_BYTES * 0.9:
        return Check("size", label, WARN, (_l("%(size)s KB as sent: close to the limit",
                                              size=_kb(size)),))
    return Check("size", label, PASS, detail)


def check_sizes(parts: Sequence[tuple[str, bytes, int]]) -> Check:
    """``check_size`` for every language version of the issue (name, its reader's HTML
    part as sent, its decoded size): the worst of them, each version named."""
    if len(parts) == 1:
        return check_size(parts[0][1], parts[0][2])
    checks = [(name, check_size(part, decoded)) for name, part, decoded in parts]
    worst = next((o for o in (FAIL, WARN) if any(c.status == o for _, c in checks)), PASS)
    return Check("size", _l("The HTML of every language is under 102 KB as sent, so Gmail "
                            "shows it whole"), worst,
                 tuple(_said(name, c.details[0]) for name, c in checks
                       if worst == PASS or c.status != PASS))


def check_subject(subject: str, preheader: str) -> Check:
    label = _l("The subject has 1-%(max)d characters and there is a preheader",
               max=SUBJECT_MAX)
    problems = []
    if not subject.strip():
        problems.append(_l("the subject is empty"))
    elif len(subject) > SUBJECT_MAX:
        problems.append(_l("the subject has %(num)d characters; shorten it to %(max)d",
                           num=len(subject), max=SUBJECT_MAX))
    if not preheader.strip():
        problems.append(_l("there is no preheader (the line inboxes show after the subject)"))
    return Check("subject", label, FAIL if problems else PASS, tuple(problems))


def check_blocks(html: str, text: str, statement: str, credits: Sequence[str],
                 unsubscribe_mark: str) -> Check:
    """The unsubscribe link in both parts, the EU funding statement, every credit line.
    ``unsubscribe_mark`` is the issue's own placeholder for the reader's link."""
    label = _l("The unsubscribe and funding-credit blocks are present")
    problems = []
    if unsubscribe_mark not in html:
        problems.append(_l("the HTML part has no unsubscribe link (the template's "
                           "%(placeholder)s)", placeholder="{{ unsubscribe_url }}"))
    if unsubscribe_mark not in text:
        problems.append(_l("the text part has no unsubscribe link (the template's "
                           "%(placeholder)s)", placeholder="{{ unsubscribe_url }}"))
    if statement not in html:
        problems.append(_l("the HTML part lacks the funding statement '%(statement)s'",
                           statement=statement))
    if "eu-emblem" not in html:
        problems.append(_l("the HTML part lacks the EU emblem"))
    for credit in credits:
        if credit not in text:
            problems.append(_l("missing credit line: %(credit)s", credit=credit))
    return Check("blocks", label, FAIL if problems else PASS, tuple(problems))


def check_credit_facts(missing: Sequence[str]) -> Check:
    label = _l("Every featured project's grant is known")
    if missing:
        return Check("grants", label, WARN, tuple(
            _l("%(project)s has no grant number on record; its credit line names no grant",
               project=a) for a in missing))
    return Check("grants", label, PASS)


def check_domain(status: str | None, age_days: int, findings: Sequence[Any]) -> Check:
    """The last DNS check of the sending domain (``mail check-domain``)."""
    label = _l("The sending domain's SPF, DKIM and DMARC")
    if status is None:
        return Check("domain", label, WARN, (_l("not checked yet: check it on the sending "
                                                "domain page"),), advisory=True)
    if status != PASS:
        when = (_l("checked today") if age_days == 0 else
                _nl("checked %(num)d day ago", "checked %(num)d days ago", age_days))
        return Check("domain", label, WARN, (when, *findings), advisory=True)
    return Check("domain", label, PASS, (
        _l("checked today: all in order") if age_days == 0 else
        _nl("checked %(num)d day ago: all in order", "checked %(num)d days ago: all in order",
            age_days),), advisory=True)


def check_images(problems: Sequence[Any], unserved: Sequence[Any] = (),
                 unasked: Any = "") -> Check:
    """Each item's picture, fetched once and kept by the service (``media``), and served
    by it at its public address: readers never load it from the member's site.
    ``unasked`` says why the service could not be asked for the kept copies; that warns
    without blocking, as the pictures may well be served to readers."""
    label = _l("Every picture is kept and served by the service")
    if problems:
        return Check("images", label, FAIL, (*problems, *unserved, _l(
            "fix the picture's address or remove the picture from the item")))
    if unserved:
        return Check("images", label, FAIL, (*unserved, _l(
            "the pictures are stored but the web process cannot serve them: check the "
            "media_dir setting and the server's log")))
    if unasked:
        return Check("images", label, WARN, (unasked,), advisory=True)
    return Check("images", label, PASS)


def check_segment(total: int, by_language: dict[str, int], described: Any,
                  unknown_country: int = 0) -> Check:
    """An announcement's segment: whom it reaches, by language; reaching nobody fails."""
    label = _l("The announcement's segment reaches readers")
    langs = joined(", ", [_l("%(num)d in %(language)s", num=n, language=code or "?")
                          for code, n in by_language.items()])
    details: list[Any] = [
        _nl("%(num)d confirmed reader (%(languages)s): %(segment)s",
            "%(num)d confirmed readers (%(languages)s): %(segment)s", total,
            languages=langs, segment=described) if by_language else
        _nl("%(num)d confirmed reader: %(segment)s", "%(num)d confirmed readers: %(segment)s",
            total, segment=described)]
    if unknown_country:
        details.append(_nl("%(num)d reader with no known country is left out",
                           "%(num)d readers with no known country are left out",
                           unknown_country))
    if total < 1:
        return Check("segment", label, FAIL, (_l("no confirmed reader is in the segment; "
                                                 "widen it, or cancel the announcement"),
                                              *details))
    return Check("segment", label, PASS, tuple(details))


def check_has_items(count: int) -> Check:
    label = _l("The issue has at least one item")
    if count < 1:
        return Check("items", label, FAIL, (_l("add items, or cancel the issue"),))
    return Check("items", label, PASS, (_nl("%(num)d item", "%(num)d items", count),))


def check_not_rejected(unusable: Sequence[tuple[int, str, str]]) -> Check:
    """``unusable``: (item id, title, status) of items that are no longer approved."""
    label = _l("No item was rejected or withdrawn after it was composed")
    if unusable:
        return Check("rejected", label, FAIL, tuple(
            _l("item %(id)d '%(title)s' is now %(state)s: drop it from the issue", id=i,
               title=t, state=ITEM_STATES.get(st, st)) for i, t, st in unusable))
    return Check("rejected", label, PASS)


# An item's state as a check's detail says it ("is now rejected").
ITEM_STATES = {"submitted": _l("submitted"), "rejected": _l("rejected"),
               "withdrawn": _l("withdrawn"), "approved": _l("approved"),
               "published": _l("published")}


def check_marks(items: Iterable[int], in_html: Iterable[int], in_text: Iterable[int]
                ) -> Check:
    """Every item's block is marked in both parts, so each reader's mail can be cut for
    their choices (the templates' ``item.begin`` and ``item.end``)."""
    label = _l("Each item's block is marked, so readers get only the items they chose")
    missing = sorted(set(items) - (set(in_html) & set(in_text)))
    if missing:
        return Check("marks", label, WARN, (_l(
            "item %(ids)s: the templates do not mark its block (item.begin and item.end in "
            "issue.mjml.j2 and issue.txt.j2), so every reader will get every item, whatever "
            "they chose", ids=", ".join(map(str, missing))),))
    return Check("marks", label, PASS)


def render_failed(message: Any, problems: Sequence[Any]) -> Check:
    return Check("render", _l("The templates render"), FAIL, (message, *problems))


# -------------------------------------------------------------------- readers' choices

FEW_ITEMS = 3  # a reader who gets fewer is counted for the editor


@dataclass(frozen=True)
class Effect:
    """What readers' choices do to an issue: how many readers get each item, how many
    get fewer than ``FEW_ITEMS`` items, how many get none of their own choosing."""

    readers: int
    per_item: dict[int, int]
    few: int
    nothing: int


def effect(offers: Sequence[Offer], readers: Mapping[Choices, int]) -> Effect:
    """The effect of ``readers`` (each distinct set of choices and how many readers made
    it) on an issue's ``offers``."""
    per_item = {o.id: 0 for o in offers}
    few = nothing = 0
    for choices, n in readers.items():
        got = set(choose(offers, choices))
        for i in got:
            per_item[i] += n
        if len(got) < FEW_ITEMS:
            few += n
        if not choices.everything and not any(o.id in got and not o.for_everyone
                                               for o in offers):
            nothing += n
    return Effect(sum(readers.values()), per_item, few, nothing)


# -------------------------------------------------------------------- the network

def probe(url: str, allow: fetch.Allow, limits: fetch.Limits) -> LinkResult:
    """Ask one URL whether it answers, through the outbound guard: HEAD, then GET for
    servers that refuse HEAD. Only the status is kept, never the body."""
    headers = {"User-Agent": f"ostogether/{__version__} (newsletter link check)"}
    try:
        r = fetch.get(url, allow, limits, method="HEAD", headers=headers)
        if r.status in (400, 403, 404, 405, 501) or r.status >= 500:
            r = fetch.get(url, allow, limits, headers=headers, read_body=False)
    except fetch.FetchError as exc:
        if exc.kind == "timeout":
            seconds = f"{limits.read_timeout:g}"
            return LinkResult(url, UNREACHED, None, f"no answer within {seconds} s",
                              _l("no answer within %(seconds)s s", seconds=seconds))
        if exc.kind == "refused":
            return LinkResult(url, FAIL, None, f"not checked: {exc}",
                              _l("not checked: %(why)s", why=exc))
        return LinkResult(url, UNREACHED, None, f"cannot connect ({exc})",
                          _l("cannot connect (%(why)s)", why=exc))
    code = r.status
    if code < 400:
        return LinkResult(url, PASS, code, f"HTTP {code}")
    if code in REFUSES_ROBOTS:
        return LinkResult(url, WARN, code, f"HTTP {code}: the site refuses automatic "
                                           f"checks; open it by hand",
                          _l("HTTP %(code)d: the site refuses automatic checks; open it "
                             "by hand", code=code))
    return LinkResult(url, FAIL, code, f"HTTP {code}")


def probe_links(urls: Sequence[str], allow: fetch.Allow, limits: fetch.Limits,
                concurrency: int) -> list[LinkResult]:
    """Every URL probed, ``concurrency`` at a time; results in the order of ``urls``."""
    if not urls:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda u: probe(u, allow, limits), urls))
