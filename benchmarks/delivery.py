"""`make bench`: send one issue to 10k and to 100k subscribers into a local SMTP sink.

The sink is Postfix's `smtp-sink` (C, from Debian's postfix package, unpacked into
var/bench/ with `apt-get download` and `dpkg -x`, never installed), so that the sink is
not the limit; where it cannot be unpacked, an aiosmtpd sink in its own process, with a
note. Each
send runs in a fresh process (SQLite in a temporary folder, the real issue templates,
the default settings: 4 SMTP connections, batches of 200, a reconnect every 100
messages), from `ostogether.newsletter.delivery.send` to the issue marked sent.

Printed: messages per second, seconds per 10k messages at 10k and at 100k subscribers
(linear cost means the two are close), peak RSS of the sending process, and the ceiling:
a minimal smtplib loop (one connection, one pre-built message of the same size, no
database) into the same sink, in the same run. Targets: >= 0.8x the ceiling, <= 150 MB.

Then the same issue (some items translated) to readers spread over six languages, each
getting its language's version, against the same readers all in one language, into the
same sink: the ratio of the two sends' times (target <= 1.1x). ``BENCH_LANGUAGE_READERS``
sets how many readers (default 100000); ``python benchmarks/delivery.py --languages N``
runs only this comparison.

Last, readers' choices (issue 36): the same issue (its 20 items tagged with random topics
of the 12 and audiences of the 4) to readers who chose nothing, then to readers with random
choices over the 12 topics and 4 audiences, each getting only their items (their mail cut
from the compiled issue, once per selection): the rate of the second over the first
(target >= 0.80x). ``BENCH_CHOICE_READERS`` (default 100000); ``--choices N`` runs only it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIZES = tuple(int(x) for x in os.environ.get("BENCH_SIZES", "10000,100000").split(","))
LANGUAGE_READERS = int(os.environ.get("BENCH_LANGUAGE_READERS", "100000"))
CHOICE_READERS = int(os.environ.get("BENCH_CHOICE_READERS", "100000"))
AUDIENCES = ("teachers", "school-heads", "parents", "policy-makers")
LANGUAGES = ("en", "nl", "fr", "de", "es", "it")
CEILING_MESSAGES = 20_000
POSTFIX = REPO / "var" / "bench" / "postfix"


def postfix_tools() -> tuple[Path, Path, dict[str, str]] | None:
    """smtp-sink and smtp-source from Debian's postfix package, unpacked once into
    var/bench/postfix; None when apt-get or dpkg cannot get them here."""
    root = POSTFIX / "root"
    sink_bin, source_bin = root / "usr/sbin/smtp-sink", root / "usr/sbin/smtp-source"
    if not sink_bin.exists():
        POSTFIX.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "postfix"], cwd=POSTFIX, check=True,
                           capture_output=True, timeout=120)
            deb = next(POSTFIX.glob("postfix_*.deb"))
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True,
                           capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError, StopIteration):
            return None
    if not sink_bin.exists():
        return None
    return sink_bin, source_bin, {**os.environ,
                                  "LD_LIBRARY_PATH": str(root / "usr/lib/postfix")}


def postfix_sink(port: int) -> subprocess.Popen[bytes] | None:
    tools = postfix_tools()
    if tools is None:
        return None
    sink_bin, _, env = tools
    proc = subprocess.Popen([str(sink_bin), "-u", "nobody", f"127.0.0.1:{port}", "256"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None


def smtp_source(port: int, size: int, n: int, sessions: int) -> float | None:
    """Postfix's smtp-source (C): n messages of ``size`` bytes over ``sessions``
    connections; messages per second."""
    tools = postfix_tools()
    if tools is None:
        return None
    _, source_bin, env = tools
    started = time.perf_counter()
    done = subprocess.run([str(source_bin), "-s", str(sessions), "-m", str(n), "-l",
                           str(size), "-f", "bounces@example.org", "-t",
                           "reader@readers.example", f"127.0.0.1:{port}"], env=env,
                          capture_output=True, timeout=600)
    if done.returncode != 0:
        return None
    return n / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sink(port: int, count: Any, ready: Any) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += len(envelope.rcpt_tos)
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def setup(home: Path, n: int, database_url: str = "", languages: int = 0,
          choices: int = 0) -> tuple[Any, int]:
    """A database with n confirmed readers and one approved issue of 20 items. With
    ``languages`` (1 to 6), every other item is translated into each language, the readers
    are spread over the first ``languages`` of LANGUAGES, and the issue is frozen in each
    language its readers read, as approval does. With ``choices``, the items carry random
    topics and audiences, and (2) the readers random choices of them."""
    import random
    import secrets

    from sqlalchemy import insert

    from ostogether.core import clock
    from ostogether.edges import db as dbmod
    from ostogether.edges.audit import Actor
    from ostogether.edges.runtime import Runtime
    from ostogether.edges.topics import vocabulary
    from ostogether.models import Issue, IssueSnapshot, NewsItem, Project, Subscriber
    from ostogether.news import items as news
    from ostogether.newsletter import issues as newsletter
    from ostogether.registry import projects

    rt = Runtime(settings_for(home, 0, database_url))
    dbmod.upgrade(rt.db)
    projects.import_content(rt)
    rng = random.Random(36)
    topics = sorted(vocabulary(rt.community).topics)  # the 12 topics
    actor = Actor("bench")
    with rt.db.session() as s:
        ids = [p.id for p in s.query(Project).order_by(Project.id)]
    for i in range(20):
        translated = [{"language": lang, "title": f"Workshop {i} ({lang})",
                       "summary_md": "Lessen en **ervaringen**.",
                       "summary_html": "<p>Lessen en <strong>ervaringen</strong>.</p>\n",
                       "link": ""} for lang in LANGUAGES[1:]] if languages and i % 2 else []
        # With choices, kinds spread over the sections, so that the issue holds more items.
        kind = ("news", "tool", "reading", "opportunity")[i % 4] if choices else "news"
        item = news.submit(rt, actor, ids[i % len(ids)], news.ItemInput(
            kind=kind, title=f"Workshop series {i} on open schooling",
            summary="Teachers and science centres shared **lesson plans** and what worked.",
            link=f"https://example.org/news/{i}"), source="web", translations=translated)
        news.approve(rt, actor, item.id)
        if choices:
            with rt.db.session() as s:
                row = s.get(NewsItem, item.id)
                assert row is not None
                row.topics = rng.sample(topics, rng.randint(1, 2))
                row.audiences = rng.sample(AUDIENCES, rng.randint(0, 1))
    issue = newsletter.compose_next(rt, actor)
    with rt.db.session() as s:  # approved without the link check: example.org is offline
        row = newsletter.get_issue(s, issue.id)
        out = newsletter.render_current(rt, row)
        row.snapshot_subject, row.snapshot_preheader = out.subject, out.preheader
        row.snapshot_html, row.snapshot_text, row.snapshot_sha256 = out.html, out.text, "b"
        row.status = "approved"
        for lang in LANGUAGES[1:languages]:  # one compile per language, as approval does
            version = newsletter.render_current(rt, row, lang)
            row.snapshots.append(IssueSnapshot(
                language=lang, subject=version.subject, preheader=version.preheader,
                html=version.html, text=version.text, sha256="b"))
    spread = LANGUAGES[:max(languages, 1)]
    with rt.db.engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(Subscriber), [
                {"email": f"reader{i}@readers.example", "email_hash": f"h{i}",
                 "name": f"Reader {i}" if i % 3 else "", "language": spread[i % len(spread)],
                 "status": "confirmed", "link_nonce": secrets.token_hex(8),
                 "hard_bounces": 0, "created_at": clock.now(), "updated_at": clock.now(),
                 **({"topics": rng.sample(topics, rng.randint(1, 3)),
                     "audiences": rng.sample(AUDIENCES, rng.randint(0, 2))}
                    if choices == 2 else {})}
                for i in range(start, min(n, start + 10_000))])
    with rt.db.session() as s:
        size = len(s.get(Issue, issue.id).snapshot_html.encode())  # type: ignore[union-attr]
    rt.close()
    return issue.id, size


def settings_for(home: Path, port: int, database_url: str = "") -> Any:
    from ostogether.core.settings import load_settings

    return load_settings(environ={
        "OSTOGETHER_HOME": str(REPO), "OSTOGETHER_VAR_DIR": str(home),
        "OSTOGETHER_DATABASE_URL": database_url or f"sqlite:///{home}/bench.db",
        "OSTOGETHER_SECRET_KEY": "bench-" + "x" * 40, "OSTOGETHER_MAIL_TRANSPORT": "smtp",
        "OSTOGETHER_SMTP_HOST": "127.0.0.1", "OSTOGETHER_SMTP_PORT": str(port or 25),
        "OSTOGETHER_SMTP_SECURITY": "none", "OSTOGETHER_LOG_LEVEL": "WARNING"})


def child(n: int, port: int, languages: int = 0, choices: int = 0) -> None:
    """One send in this process; prints JSON."""
    from ostogether.edges.audit import Actor
    from ostogether.edges.runtime import Runtime
    from ostogether.newsletter import delivery

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        issue_id, size = setup(home, n, languages=languages, choices=choices)
        rt = Runtime(settings_for(home, port))
        started = time.perf_counter()
        st = delivery.send(rt, Actor("bench"), issue_id)
        elapsed = time.perf_counter() - started
        # The sample message, for the ceiling loop to send the same bytes.
        from ostogether.mail.sender import issue_message

        message = issue_message(rt, _issue(rt, issue_id))
        from ostogether.mail.message import Recipient

        sample = message.render(Recipient(1, "reader1@readers.example", "Reader 1", {
            "unsubscribe_url": "https://x/u/" + "t" * 90, "preferences_url": "p",
            "web_url": "w", "choices": ""}))
        (home.parent / f"sample-{os.getpid()}.eml").write_bytes(sample.data)
        with rt.db.session() as s:  # each version's size: the bytes each reader costs
            from sqlalchemy import func, select

            from ostogether.models import Delivery, Issue, IssueItem, IssueSnapshot
            html = {v.language: len(v.html.encode()) for v in s.scalars(
                select(IssueSnapshot).where(IssueSnapshot.issue_id == issue_id))}
            html["en"] = len(s.get(Issue, issue_id).snapshot_html.encode())  # type: ignore[union-attr]
            readers = dict(s.execute(select(Delivery.language, func.count()).where(
                Delivery.issue_id == issue_id).group_by(Delivery.language)).all())
            got = list(s.scalars(select(Delivery.items).where(Delivery.issue_id == issue_id)))
            selections = len(set(got))
            items_per_reader = sum(len([i for i in (g or "").split(",") if i])
                                   for g in got) / max(1, len(got))
            in_issue = s.scalar(select(func.count()).select_from(IssueItem).where(
                IssueItem.issue_id == issue_id))
        mean_html = sum(html[lang] * k for lang, k in readers.items()) / max(1, n)
        print(json.dumps({"n": n, "sent": st.counts["sent"], "status": st.issue_status,
                          "elapsed": elapsed, "html_bytes": size,
                          "message_bytes": len(sample.data), "mean_html_bytes": mean_html,
                          "versions": sorted(readers), "selections": selections,
                          "items_per_reader": items_per_reader, "items": in_issue,
                          "sample": str(home.parent / f"sample-{os.getpid()}.eml"),
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _issue(rt: Any, issue_id: int) -> Any:
    from ostogether.models import Issue

    with rt.db.session() as s:
        return s.get(Issue, issue_id)


def ceiling(port: int, data: bytes, n: int) -> float:
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for i in range(n):
        conn.sendmail("bounces@example.org", [f"reader{i}@readers.example"], data)
    elapsed = time.perf_counter() - started
    conn.quit()
    return n / elapsed


def languages_compared(port: int, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same issue to ``n`` readers in one language, then spread over six: each send's
    figures, in fresh processes, into the sink on ``port``."""
    runs = []
    for languages in (1, len(LANGUAGES)):
        out = subprocess.run([sys.executable, __file__, "--child", str(n), str(port),
                              str(languages)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        assert r["sent"] == n and r["status"] == "sent", r
        runs.append(r)
    return runs[0], runs[1]


def choices_compared(port: int, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same issue to ``n`` readers who chose nothing, then to ``n`` readers with random
    choices: each send's figures, in fresh processes, into the sink on ``port``."""
    runs = []
    for choices in (1, 2):
        out = subprocess.run([sys.executable, __file__, "--child", str(n), str(port), "0",
                              str(choices)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        assert r["sent"] == n and r["status"] == "sent", r
        runs.append(r)
    return runs[0], runs[1]


def print_choices(n: int, everyone: dict[str, Any], chosen: dict[str, Any]) -> None:
    a, b = float(everyone["elapsed"]), float(chosen["elapsed"])
    print(f"choices: {n} readers, one issue of {chosen['items']} items: everyone gets every "
          f"item "
          f"{a:.1f} s ({n / a:.0f} msg/s); random choices over 12 topics and 4 audiences, "
          f"{chosen['items_per_reader']:.1f} items per reader on average, "
          f"{chosen['selections']} different mails cut from the compiled issue, {b:.1f} s "
          f"({n / b:.0f} msg/s): {a / b:.2f}x the rate (target >= 0.80x)")


def only_choices(n: int) -> None:
    """``--choices N``: the choices comparison alone."""
    port = free_port()
    postfix = postfix_sink(port)
    proc = None
    if postfix is None:
        count = multiprocessing.Value("l", 0)
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=sink, args=(port, count, ready), daemon=True)
        proc.start()
        ready.wait(10)
    try:
        everyone, chosen = choices_compared(port, n)
    finally:
        if proc is not None:
            proc.terminate()
        if postfix is not None:
            postfix.terminate()
            postfix.wait(10)
    print("into " + ("Postfix's smtp-sink" if postfix is not None else
                     "a local aiosmtpd sink (Postfix's smtp-sink could not be unpacked)"))
    print_choices(n, everyone, chosen)


def print_languages(n: int, one: dict[str, Any], six: dict[str, Any]) -> None:
    a, b = float(one["elapsed"]), float(six["elapsed"])
    print(f"languages: {n} readers, one issue: all in one language {a:.1f} s "
          f"({n / a:.0f} msg/s); spread over {len(six['versions'])} languages, each getting "
          f"its own version, {b:.1f} s ({n / b:.0f} msg/s): {b / a:.2f}x (target <= 1.10x); "
          f"mean HTML per reader {one['mean_html_bytes'] / 1024:.1f} KB vs "
          f"{six['mean_html_bytes'] / 1024:.1f} KB")


def only_languages(n: int) -> None:
    """``--languages N``: the language comparison alone."""
    port = free_port()
    postfix = postfix_sink(port)
    proc = None
    if postfix is None:
        count = multiprocessing.Value("l", 0)
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=sink, args=(port, count, ready), daemon=True)
        proc.start()
        ready.wait(10)
    try:
        one, six = languages_compared(port, n)
    finally:
        if proc is not None:
            proc.terminate()
        if postfix is not None:
            postfix.terminate()
            postfix.wait(10)
    print("into " + ("Postfix's smtp-sink" if postfix is not None else
                     "a local aiosmtpd sink (Postfix's smtp-sink could not be unpacked)"))
    print_languages(n, one, six)


def main() -> None:
    port = free_port()
    count = multiprocessing.Value("l", 0)
    postfix = postfix_sink(port)
    proc = None
    if postfix is None:
        ready = multiprocessing.Event()
        proc = multiprocessing.Process(target=sink, args=(port, count, ready), daemon=True)
        proc.start()
        ready.wait(10)
    results = []
    sources: dict[int, float | None] = {}
    try:
        for n in SIZES:
            before = count.value
            out = subprocess.run([sys.executable, __file__, "--child", str(n), str(port)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["received"] = count.value - before if proc is not None else "-"
            results.append(r)
        data = Path(results[0]["sample"]).read_bytes()
        limit = ceiling(port, data, CEILING_MESSAGES)
        if postfix is not None:
            sources = {s: smtp_source(port, len(data), CEILING_MESSAGES, s) for s in (1, 4)}
        one, six = languages_compared(port, LANGUAGE_READERS)
        everyone, chosen = choices_compared(port, CHOICE_READERS)
    finally:
        if proc is not None:
            proc.terminate()
        if postfix is not None:
            postfix.terminate()
            postfix.wait(10)
    where = ("Postfix's smtp-sink" if postfix is not None else
             "a local aiosmtpd sink (NOTE: Postfix's smtp-sink could not be unpacked with "
             "apt-get download postfix; aiosmtpd is itself the limit)")
    print(f"delivery: one issue ({results[0]['html_bytes'] / 1024:.0f} KB HTML, "
          f"{results[0]['message_bytes'] / 1024:.0f} KB per message) into {where}")
    print(f"{'subscribers':>12} {'sent':>8} {'received':>9} {'msg/s':>8} {'s per 10k':>10} "
          f"{'peak RSS MB':>12} {'vs smtplib':>11}")
    for r in results:
        rate = r["sent"] / r["elapsed"]
        print(f"{r['n']:>12} {r['sent']:>8} {r['received']:>9} {rate:>8.0f} "
              f"{r['elapsed'] / r['n'] * 10_000:>10.2f} {r['rss_mb']:>12.0f} "
              f"{rate / limit:>10.2f}x")
    print(f"{'smtplib':>12} {CEILING_MESSAGES:>8} {'':>9} {limit:>8.0f}   (one connection, "
          f"same message, no database)")
    for sessions, rate_ in sources.items():
        if rate_:
            best = results[0]["sent"] / results[0]["elapsed"]
            print(f"{'smtp-source':>12} {CEILING_MESSAGES:>8} {'':>9} {rate_:>8.0f}   "
                  f"(Postfix's C client, {sessions} connection(s); the engine at "
                  f"{SIZES[0]} is {best / rate_:.2f}x of it)")
    if len(results) == 2:
        small, big = results
        print(f"linearity: {big['elapsed'] / big['n'] / (small['elapsed'] / small['n']):.2f}x "
              f"the cost per message at 100k as at 10k (1.00 = linear)")
    print("targets: >= 0.80x the ceiling, <= 150 MB peak RSS")
    print_languages(LANGUAGE_READERS, one, six)
    print_choices(CHOICE_READERS, everyone, chosen)


if __name__ == "__main__":
    if len(sys.argv) in (4, 5, 6) and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]), *(int(a) for a in sys.argv[4:]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--languages":
        only_languages(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--choices":
        only_choices(int(sys.argv[2]))
    else:
        main()
