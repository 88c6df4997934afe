"""`make bench`: compose and render a 60-item newsletter issue.

18 projects and 200 approved items in SQLite; sections allow 12 items each, so composing
places 60. Timed, each as the median of many runs:

* compose: the pure composer over the 200 candidates;
* render: the issue's context from the database objects, Jinja2 to MJML, mjml-python
  to HTML, and the plain-text part;
* personalise: filling one reader's links into the compiled HTML and text.

The peer is the reference MJML compiler, the npm `mjml` package on Node.js, compiling the
same MJML in one warm process, when npm can install it here. Target: compose + render
<= 20 ms median.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from ostogether.core import clock, compose  # noqa: E402
from ostogether.core.sanitize import markdown_to_html  # noqa: E402
from ostogether.core.settings import load_settings  # noqa: E402
from ostogether.edges import db as dbmod  # noqa: E402
from ostogether.edges.audit import Actor  # noqa: E402
from ostogether.edges.render import ISSUE_MJML, compile_mjml, personalise, render  # noqa: E402
from ostogether.edges.runtime import Runtime  # noqa: E402
from ostogether.models import NewsItem, Project  # noqa: E402
from ostogether.newsletter import issues as newsletter  # noqa: E402
from ostogether.registry import projects  # noqa: E402

ITEMS, RUNS = 200, 40
KINDS = ["news", "event", "tool", "reading", "opportunity"]
SUMMARY = ("The project ran **{n} workshops** with teachers and science centres, and shares "
           "the [lesson plans](https://example.org/plans/{n}) and a short report on what "
           "worked in classrooms across Europe.")
NODE_BENCH = r"""
const mjml2html = require('mjml');
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
for (let i = 0; i < 5; i++) mjml2html(src, {validationLevel: 'skip'});
const times = [];
for (let i = 0; i < Number(process.argv[3]); i++) {
  const t = process.hrtime.bigint();
  mjml2html(src, {validationLevel: 'skip'});
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({median: times[Math.floor(times.length / 2)]}));
"""


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    fn()  # warm: templates compiled, caches filled
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def seed(rt: Runtime) -> None:
    projects.import_content(rt)
    now = clock.now()
    with rt.db.session() as s:
        ids = list(s.scalars(select(Project.id).order_by(Project.id)))
        for n in range(ITEMS):
            kind = KINDS[n % len(KINDS)]
            summary = SUMMARY.format(n=n)
            item = NewsItem(project_id=ids[n % len(ids)], status="approved", source="api",
                            kind=kind, title=f"Open schooling story number {n}",
                            summary_md=summary, summary_html=markdown_to_html(summary),
                            link=f"https://example.org/story/{n}",
                            reviewed_at=now - dt.timedelta(hours=n))
            if n % 7 == 0:
                item.image_url = f"https://example.org/img/{n}.jpg"
                item.image_alt = f"Pupils presenting project {n}"
            if kind == "event":
                item.event_start = now + dt.timedelta(days=60 + n)
                item.event_timezone = "Europe/Brussels"
                item.event_location = "Brussels"
            s.add(item)


def npm_mjml(source: str, cache: Path) -> float | None:
    """The npm mjml compiler's median on the same MJML, or None if npm cannot get it."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "node_modules" / "mjml").is_dir():
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                            "mjml@4"], cwd=cache, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print(f"(npm could not install mjml: {r.stderr.strip()[:200]})")
            return None
    (cache / "issue.mjml").write_text(source, encoding="utf-8")
    (cache / "bench.js").write_text(NODE_BENCH, encoding="utf-8")
    r = subprocess.run(["node", "bench.js", "issue.mjml", str(RUNS)], cwd=cache,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print(f"(node failed: {r.stderr.strip()[:200]})")
        return None
    return float(json.loads(r.stdout)["median"])


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ostogether-bench-"))
    for folder in ("content", "templates", "schedules"):
        shutil.copytree(REPO / folder, tmp / folder)
    toml = tmp / "content" / "newsletter.toml"
    toml.write_text(toml.read_text().replace("max_items = 4", "max_items = 12")
                    .replace("max_items = 5", "max_items = 12")
                    .replace("max_items = 3", "max_items = 12")
                    .replace("max_items_per_project = 2", "max_items_per_project = 4"))
    settings = load_settings(environ={"OSTOGETHER_HOME": str(tmp),
                                      "OSTOGETHER_SECRET_KEY": "b" * 40,
                                      "OSTOGETHER_LOG_LEVEL": "ERROR"})
    rt = Runtime(settings)
    try:
        dbmod.upgrade(rt.db)
        seed(rt)
        t0 = time.perf_counter()
        issue = newsletter.compose_next(rt, Actor("bench"))
        t_compose_db = (time.perf_counter() - t0) * 1000
        rules = rt.community.newsletter()
        with rt.db.session() as s:
            cands = [newsletter.as_candidate(i) for i in newsletter.candidates(s)]
            loaded = newsletter.get_issue(s, issue.id)
            count = len(loaded.entries)
            t_compose = median_ms(lambda: compose.compose(cands, rules, loaded.send_at))
            t_render = median_ms(lambda: newsletter.render_current(rt, loaded))
            ctx = newsletter.context(rt, loaded)
            t_context = median_ms(lambda: newsletter.context(rt, loaded))
            source = render(rt.community, ISSUE_MJML, **ctx)
            t_jinja = median_ms(lambda: render(rt.community, ISSUE_MJML, **ctx))
            t_mjml = median_ms(lambda: compile_mjml(source))
            out = newsletter.render_current(rt, loaded)
            key = newsletter.issue_key(rt, loaded)
        values = {"web_url": "https://ostogether.eu/archive/10",
                  "preferences_url": "https://ostogether.eu/p/" + "t" * 40,
                  "unsubscribe_url": "https://ostogether.eu/u/" + "t" * 40}
        t_person = median_ms(lambda: (personalise(out.html, values, key, is_html=True),
                                      personalise(out.text, values, key, is_html=False)), 200)
        t_node = npm_mjml(source, REPO / "var" / "bench-mjml")
    finally:
        rt.close()
        shutil.rmtree(tmp, ignore_errors=True)

    total = t_compose + t_render
    print(f"\nNewsletter: {ITEMS} approved items from 18 projects, issue of {count} items, "
          f"HTML {len(out.html) / 1024:.1f} KB, median of {RUNS} runs\n")
    print(f"{'step':<44}{'ms':>9}")
    print(f"{'compose (pure, 200 candidates)':<44}{t_compose:>9.2f}")
    print(f"{'render (context + Jinja2 + MJML + text)':<44}{t_render:>9.2f}")
    print(f"{'  of which: context from the database rows':<44}{t_context:>9.2f}")
    print(f"{'  of which: Jinja2 to MJML':<44}{t_jinja:>9.2f}")
    print(f"{'  of which: mjml-python to HTML':<44}{t_mjml:>9.2f}")
    print(f"{'compose + render (target 20)':<44}{total:>9.2f}")
    print(f"{'personalise one reader (HTML + text)':<44}{t_person:>9.3f}")
    print(f"{'compose_next once (SQLite, with writes)':<44}{t_compose_db:>9.2f}")
    if t_node is not None:
        print(f"{'peer: npm mjml 4 on Node, same MJML, warm':<44}{t_node:>9.2f}")
        print(f"\nmjml-python compiles in {t_mjml / t_node:.2f}x the time of the npm "
              f"compiler ({t_node / t_mjml:.1f}x faster).")
    else:
        print("\nThe npm mjml peer was not measured (npm or the registry is not reachable).")
    print(f"Personalising 100,000 readers would take {t_person * 100:.0f} s of CPU in total.")
    print("Target met." if total <= 20 else "TARGET MISSED.")


if __name__ == "__main__":
    main()
