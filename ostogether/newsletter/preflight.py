"""Pre-flight: the checklist an issue must pass before an editor may approve it.

A failed check blocks approval. A warning needs the editor's explicit acknowledgement.
The checks themselves are pure functions of the rendered issue; only ``probe_links``
talks to the network, concurrently and with explicit timeouts. ``newsletter`` keeps the
day's cache of links that answered and calls these.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from ostogether import __version__
from ostogether.core.choices import Choices, Offer
from ostogether.core.choices import select as choose
from ostogether.edges import fetch

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


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    status: str
    details: tuple[str, ...] = ()
    needs_reason: bool = False  # acknowledging this warning takes a written reason
    # Advice about the setup rather than the issue (the sending domain's DNS): shown as a
    # warning, never holding up approval.
    advisory: bool = False


@dataclass(frozen=True)
class Group:
    """How one group of checks is named: its heading, the word before each check of it,
    and the count's words for one and for more."""

    key: str
    heading: str
    mark: str
    one: str
    many: str

    def counted(self, n: int) -> str:
        return self.one if n == 1 else self.many


GROUPS = (Group("fail", "Failed", "Failed", "failed", "failed"),
          Group("warn", "Warnings to tick", "Warning", "warning to tick", "warnings to tick"),
          Group("advice", "Advice", "Advice", "piece of advice", "pieces of advice"),
          Group("pass", "Passed", "Passed", "passed", "passed"))


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
        return ", ".join(f"{len(checks)} {g.counted(len(checks))}"
                         for g, checks in self.groups(empty=True))

    def blocking(self, acknowledged: Iterable[str] = (),
                 reasons: Mapping[str, str] | None = None) -> list[str]:
        """Why approval is refused: every failure, every warning not acknowledged, and
        every acknowledgment that needs a reason and has none."""
        acked, reasons = set(acknowledged), reasons or {}
        out = [f"{c.label}: {'; '.join(c.details) or 'failed'}" for c in self.failed]
        out += [f"{c.label} (warning, not acknowledged): {'; '.join(c.details)}"
                for c in self.warnings if c.key not in acked]
        out += [f"{c.label}: say why you approve although these could not be checked"
                for c in self.warnings
                if c.key in acked and c.needs_reason and not reasons.get(c.key, "").strip()]
        return out

    def as_dict(self) -> dict[str, object]:
        return {"ok": not self.failed, "checks": [
            {"key": c.key, "label": c.label, "status": c.status, "details": list(c.details),
             "needs_reason": c.needs_reason, "advisory": c.advisory}
            for c in self.checks]}


@dataclass(frozen=True)
class LinkResult:
    url: str
    outcome: str  # pass, warn, fail
    status_code: int | None = None
    detail: str = ""


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
    label = "Every link answers"
    bad = [r for r in results if r.outcome == FAIL]
    unreached = [r for r in results if r.outcome == UNREACHED]
    shy = [r for r in results if r.outcome == WARN]
    details = [f"{r.url}: {r.detail}" for r in bad + unreached + shy]
    if own:
        details.append(f"{own} link(s) to this service itself not tried")
    if bad:
        return Check("links", label, FAIL, tuple(details))
    if unreached or shy:
        return Check("links", label, WARN, tuple(details), needs_reason=bool(unreached))
    return Check("links", label, PASS, (f"{len(results)} link(s) answered", *details))


def check_alt_text(html: str) -> Check:
    label = "Every image has alt text"
    missing, empty = [], []
    for src, alt in scan(html).images:
        if alt is None:
            missing.append(src)
        elif not alt.strip():
            empty.append(src)
    if missing:
        return Check("alt", label, FAIL, tuple(f"no alt attribute: {s}" for s in missing))
    if empty:
        return Check("alt", label, WARN, tuple(
            f"empty alt (fine only if the image is decorative): {s}" for s in empty))
    return Check("alt", label, PASS)


def check_size(html_part: bytes, decoded: int = 0) -> Check:
    """The HTML part of a reader's copy as it goes on the wire (``IssueMessage.html_part``:
    quoted-printable, with the part's own lines), not the decoded HTML (``decoded`` bytes,
    shown beside it)."""
    size = len(html_part)
    label = "The HTML is under 102 KB as sent, so Gmail shows it whole"
    detail = (f"{size / 1024:.1f} KB as sent" + (f" ({decoded / 1024:.1f} KB decoded)"
                                                 if decoded else ""),)
    if size >= GMAIL_CLIP_BYTES:
        return Check("size", label, FAIL, (f"{size / 1024:.1f} KB as sent: Gmail will clip "
                                           f"it and hide the footer; drop items or shorten "
                                           f"them",))
    if size >= GMAIL_CLIP_BYTES * 0.9:
        return Check("size", label, WARN, (f"{size / 1024:.1f} KB as sent: close to the "
                                           f"limit",))
    return Check("size", label, PASS, detail)


def check_sizes(parts: Sequence[tuple[str, bytes, int]]) -> Check:
    """``check_size`` for every language version of the issue (name, its reader's HTML
    part as sent, its decoded size): the worst of them, each version named."""
    if len(parts) == 1:
        return check_size(parts[0][1], parts[0][2])
    checks = [(name, check_size(part, decoded)) for name, part, decoded in parts]
    worst = next((o for o in (FAIL, WARN) if any(c.status == o for _, c in checks)), PASS)
    return Check("size", "The HTML of every language is under 102 KB as sent, so Gmail "
                 "shows it whole", worst, tuple(f"{name}: {c.details[0]}" for name, c in checks
                                                if worst == PASS or c.status != PASS))


def check_subject(subject: str, preheader: str) -> Check:
    label = f"The subject has 1-{SUBJECT_MAX} characters and there is a preheader"
    problems = []
    if not subject.strip():
        problems.append("the subject is empty")
    elif len(subject) > SUBJECT_MAX:
        problems.append(f"the subject has {len(subject)} characters; shorten it to "
                        f"{SUBJECT_MAX}")
    if not preheader.strip():
        problems.append("there is no preheader (the line inboxes show after the subject)")
    return Check("subject", label, FAIL if problems else PASS, tuple(problems))


def check_blocks(html: str, text: str, statement: str, credits: Sequence[str],
                 unsubscribe_mark: str) -> Check:
    """The unsubscribe link in both parts, the EU funding statement, every credit line.
    ``unsubscribe_mark`` is the issue's own placeholder for the reader's link."""
    label = "The unsubscribe and funding-credit blocks are present"
    problems = []
    for part, body in (("HTML", html), ("text", text)):
        if unsubscribe_mark not in body:
            problems.append(f"the {part} part has no unsubscribe link (the template's "
                            f"{{{{ unsubscribe_url }}}})")
    if statement not in html:
        problems.append(f"the HTML part lacks the funding statement '{statement}'")
    if "eu-emblem" not in html:
        problems.append("the HTML part lacks the EU emblem")
    for credit in credits:
        if credit not in text:
            problems.append(f"missing credit line: {credit}")
    return Check("blocks", label, FAIL if problems else PASS, tuple(problems))


def check_credit_facts(missing: Sequence[str]) -> Check:
    label = "Every featured project's grant is known"
    if missing:
        return Check("grants", label, WARN, tuple(
            f"{a} has no grant number on record; its credit line names no grant"
            for a in missing))
    return Check("grants", label, PASS)


def check_domain(status: str | None, age_days: int, findings: Sequence[str]) -> Check:
    """The last DNS check of the sending domain (``mail check-domain``)."""
    label = "The sending domain's SPF, DKIM and DMARC"
    if status is None:
        return Check("domain", label, WARN, ("not checked yet: check it on the sending "
                                             "domain page",), advisory=True)
    when = "today" if age_days == 0 else f"{age_days} day(s) ago"
    if status != PASS:
        return Check("domain", label, WARN, (f"checked {when}", *findings), advisory=True)
    return Check("domain", label, PASS, (f"checked {when}: all in order",), advisory=True)


def check_images(problems: Sequence[str], unserved: Sequence[str] = (),
                 unasked: str = "") -> Check:
    """Each item's picture, fetched once and kept by the service (``media``), and served
    by it at its public address: readers never load it from the member's site.
    ``unasked`` says why the service could not be asked for the kept copies; that warns
    without blocking, as the pictures may well be served to readers."""
    label = "Every picture is kept and served by the service"
    if problems:
        return Check("images", label, FAIL, (*problems, *unserved, "fix the picture's "
                                             "address or remove the picture from the item"))
    if unserved:
        return Check("images", label, FAIL, (*unserved, "the pictures are stored but the "
                                             "web process cannot serve them: check the "
                                             "media_dir setting and the server's log"))
    if unasked:
        return Check("images", label, WARN, (unasked,), advisory=True)
    return Check("images", label, PASS)


def check_segment(total: int, by_language: dict[str, int], described: str,
                  unknown_country: int = 0) -> Check:
    """An announcement's segment: whom it reaches, by language; reaching nobody fails."""
    label = "The announcement's segment reaches readers"
    langs = ", ".join(f"{n} in {code or '?'}" for code, n in by_language.items())
    details = [f"{total} confirmed reader{'' if total == 1 else 's'}"
               + (f" ({langs})" if langs else "") + f": {described}"]
    if unknown_country:
        details.append(f"{unknown_country} reader(s) with no known country are left out")
    if total < 1:
        return Check("segment", label, FAIL, ("no confirmed reader is in the segment; widen "
                                              "it, or cancel the announcement", *details))
    return Check("segment", label, PASS, tuple(details))


def check_has_items(count: int) -> Check:
    label = "The issue has at least one item"
    if count < 1:
        return Check("items", label, FAIL, ("add items, or cancel the issue",))
    return Check("items", label, PASS, (f"{count} item(s)",))


def check_not_rejected(unusable: Sequence[tuple[int, str, str]]) -> Check:
    """``unusable``: (item id, title, status) of items that are no longer approved."""
    label = "No item was rejected or withdrawn after it was composed"
    if unusable:
        return Check("rejected", label, FAIL, tuple(
            f"item {i} '{t}' is now {s}: drop it from the issue" for i, t, s in unusable))
    return Check("rejected", label, PASS)


def check_marks(items: Iterable[int], in_html: Iterable[int], in_text: Iterable[int]
                ) -> Check:
    """Every item's block is marked in both parts, so each reader's mail can be cut for
    their choices (the templates' ``item.begin`` and ``item.end``)."""
    label = "Each item's block is marked, so readers get only the items they chose"
    missing = sorted(set(items) - (set(in_html) & set(in_text)))
    if missing:
        return Check("marks", label, WARN, (
            f"item {', '.join(map(str, missing))}: the templates do not mark its block "
            f"(item.begin and item.end in issue.mjml.j2 and issue.txt.j2), so every reader "
            f"will get every item, whatever they chose",))
    return Check("marks", label, PASS)


def render_failed(message: str, problems: Sequence[str]) -> Check:
    return Check("render", "The templates render", FAIL, (message, *problems))


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
            return LinkResult(url, UNREACHED, None,
                              f"no answer within {limits.read_timeout:g} s")
        if exc.kind == "refused":
            return LinkResult(url, FAIL, None, f"not checked: {exc}")
        return LinkResult(url, UNREACHED, None, f"cannot connect ({exc})")
    code = r.status
    if code < 400:
        return LinkResult(url, PASS, code, f"HTTP {code}")
    if code in REFUSES_ROBOTS:
        return LinkResult(url, WARN, code, f"HTTP {code}: the site refuses automatic "
                                           f"checks; open it by hand")
    return LinkResult(url, FAIL, code, f"HTTP {code}")


def probe_links(urls: Sequence[str], allow: fetch.Allow, limits: fetch.Limits,
                concurrency: int) -> list[LinkResult]:
    """Every URL probed, ``concurrency`` at a time; results in the order of ``urls``."""
    if not urls:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda u: probe(u, allow, limits), urls))
