"""`make bench`, on PostgreSQL: does a second sending process add speed?

Run through `.ci/with-postgres` (a throwaway cluster; `make bench` does it when
PostgreSQL is installed). For 1 and then 2 processes, a fresh database gets 20k readers
and one approved issue; the send is started once, then that many processes run
`delivery.run` at the same moment into Postfix's smtp-sink (aiosmtpd when it cannot be
unpacked); in turns 1, 2, 2, 1, and the ratio is of the mean rates. Each process claims
its own batches (FOR UPDATE SKIP LOCKED). The clock starts when every process has
started Python and imported the service (~1.3 s each, which is not sending), and stops
when the last one ends. Printed: messages per second
for each, the CPU each part used (senders, PostgreSQL, smtp-sink), the ratio, and the
machine's bound on it: all cores divided by the cores one process's send keeps busy.
Target: 2 processes >= 1.6x one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import delivery as bench  # benchmarks/delivery.py: the same setup and sinks
from sqlalchemy import create_engine, text

N = int(os.environ.get("BENCH_PG_READERS", "20000"))
# In turns, as the page bench does: a shared machine whose speed drifts during the run
# slows both sides of the ratio alike.
TURNS = (1, 2, 2, 1)


def database(base: str, name: str) -> str:
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def cpu_seconds(names: tuple[str, ...]) -> float:
    """CPU time of every process with one of these program names, with the children it
    has reaped (PostgreSQL's backends end with their connection): Linux's /proc."""
    total = 0
    for pid in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text() if pid.isdigit() else ""
        except OSError:
            continue
        if stat and stat[stat.index("(") + 1:stat.rindex(")")] in names:
            total += sum(int(v) for v in stat[stat.rindex(")") + 2:].split()[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def child(url: str, issue_id: int, port: int) -> None:
    from ostogether.edges.runtime import Runtime
    from ostogether.newsletter import delivery

    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime(bench.settings_for(Path(tmp), port, url))
        print("ready", flush=True)  # started and imported: wait for the others
        sys.stdin.readline()
        st = delivery.run(rt, issue_id)
        print(json.dumps({"sent": st.counts["sent"], "status": st.issue_status}))


def main() -> None:
    base = os.environ.get("OSTOGETHER_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        print("delivery on PostgreSQL: skipped (run it through .ci/with-postgres)")
        return
    from ostogether.edges.audit import Actor
    from ostogether.edges.runtime import Runtime
    from ostogether.newsletter import delivery

    port = bench.free_port()
    sink = bench.postfix_sink(port)
    if sink is None:
        print("delivery on PostgreSQL: skipped (Postfix's smtp-sink could not be unpacked)")
        return
    rates: dict[int, list[float]] = {1: [], 2: []}
    busy: list[float] = []  # cores that one process's send kept busy, all parts counted
    try:
        for turn, procs in enumerate(TURNS):
            url = database(base, f"ostogether_bench_{turn}")
            with tempfile.TemporaryDirectory() as tmp:
                issue_id, _ = bench.setup(Path(tmp), N, url)
                rt = Runtime(bench.settings_for(Path(tmp), port, url))
                delivery.start(rt, Actor("bench"), issue_id)
                rt.close()
            runs = [subprocess.Popen([sys.executable, __file__, "--child", url,
                                      str(issue_id), str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
                    for _ in range(procs)]
            for r in runs:  # each has started Python and imported the service
                assert r.stdout is not None and r.stdout.readline().strip() == "ready"
            cpu = (os.times(), cpu_seconds(("postgres",)), cpu_seconds(("smtp-sink",)))
            started = time.perf_counter()
            for r in runs:
                assert r.stdin is not None
                r.stdin.write("go\n")
                r.stdin.flush()
            outs = [json.loads(r.communicate()[0].strip().splitlines()[-1]) for r in runs]
            elapsed = time.perf_counter() - started
            sent = sum(o["sent"] for o in outs[-1:])  # the status counts the whole send
            rates[procs].append(sent / elapsed)
            now = os.times()
            senders = (now.children_user + now.children_system
                       - cpu[0].children_user - cpu[0].children_system)
            pg = cpu_seconds(("postgres",)) - cpu[1]
            sink_cpu = cpu_seconds(("smtp-sink",)) - cpu[2]
            if procs == 1:
                busy.append((senders + pg + sink_cpu) / elapsed)
            print(f"  {procs} process(es): {sent} sent in {elapsed:.1f} s, "
                  f"{sent / elapsed:.0f} msg/s; CPU s: senders {senders:.1f}, PostgreSQL "
                  f"{pg:.1f}, smtp-sink {sink_cpu:.1f}")
    finally:
        sink.terminate()
    ratio = sum(rates[2]) / len(rates[2]) / (sum(rates[1]) / len(rates[1]))
    print(f"delivery on PostgreSQL into smtp-sink, {N} readers, runs in turns "
          f"{'-'.join(map(str, TURNS))}: 2 processes are {ratio:.2f}x one "
          f"(target >= 1.6x: {'met' if ratio >= 1.6 else 'NOT met'})")
    cores, one = os.cpu_count() or 1, sum(busy) / len(busy)
    bound = min(2.0, cores / one)
    print(f"  the machine's bound: one process's send keeps {one:.2f} of {cores} cores busy "
          f"(itself, PostgreSQL and the sink), so two can be at most {bound:.2f}x one here; "
          f"they reached {ratio / bound:.0%} of that")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
