"""Issue 16 on whole England: any date as fast, health off the request path, a worker's memory.

Loads the January 2025 Birmingham file (the one with Ofsted ratings), then the July 2025 England
file with its links and teaching school hubs, into a temporary embedded store (or reuses one given
with ``--db``), and prints:

- the isolated-schools question (first page of 100, answers forgotten before each call) on 20
  random dates between 2010 and today, each asked for the first time and then at once again
  (its prepared graph kept): issue 16 asks that a new date cost what a repeated one does;
- support candidates for 100 random open schools, each on its own random date (p50, p95; the
  issue's target is p95 under 100 ms);
- whole-England network health as the API computes it: the area and rows in this process,
  igraph's measures in a child process; the seconds of each part, and of the old in-process
  networkx computation it replaced is not timed here (bench/README.md has the earlier figures);
- the resident memory of this process with the graph, its prepared dates and the support index.

    python bench/serving.py [--db /tmp/england.sqlite3]

Figures, not a test; the machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from graph_service import questions
from graph_service.analytics.health import health_report, health_task
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gias"
FIRST_DAY = date(2010, 1, 1)


def load(store: EmbeddedStore) -> None:
    start = time.perf_counter()
    load_gias(store, [DATA / "edubasealldata20250115_birmingham_with_ofsted.csv"])
    load_gias(
        store,
        [DATA / "edubasealldata20250718_england.csv.gz"],
        links=DATA / "links_edubasealldata20250718_england.csv",
        hubs=DATA / "teaching_school_hubs_lead_schools.csv",
    )
    print(f"loaded England in {time.perf_counter() - start:.1f} s")


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    median, top = statistics.median(ordered) * 1000, ordered[-1] * 1000
    return f"median {median:7.1f} ms, p95 {p95 * 1000:7.1f} ms, max {top:7.1f} ms"


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an embedded store already holding England (else loaded afresh)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as scratch:
        store = EmbeddedStore(args.db or Path(scratch) / "graph.sqlite3")
        store.open()
        try:
            if args.db is None:
                load(store)
            return run(store, random.Random(args.seed))
        finally:
            store.close()


def run(store: EmbeddedStore, rng: random.Random) -> int:
    print(f"load average before: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    start = time.perf_counter()
    graph = store.graph()
    print(f"whole graph read: {time.perf_counter() - start:.1f} s, {graph.number_of_nodes():,} organisations")
    span = (date.today() - FIRST_DAY).days

    def day() -> date:
        return FIRST_DAY + timedelta(days=rng.randrange(span + 1))

    questions.isolated_schools(store, limit=100)  # the date-free timeline, built once per graph
    first, again = [], []
    for as_at in (day() for _ in range(20)):
        for timings in (first, again):  # a new date, then the same date repeated
            questions.forget_answers()
            start = time.perf_counter()
            questions.isolated_schools(store, as_at=as_at, limit=100)
            timings.append(time.perf_counter() - start)
    print(f"isolated, 20 random dates, first time: {ms(first)}")
    print(f"isolated, each date repeated at once: {ms(again)}")

    schools = [
        node
        for node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == "school" and attrs.get("status") == "open"
    ]
    questions.support_partners(store, schools[0])  # the date-free support index
    support = []
    for urn in rng.sample(schools, 100):
        start = time.perf_counter()
        questions.support_partners(store, urn, as_at=day())
        support.append(time.perf_counter() - start)
    print(f"support, 100 random schools and dates: {ms(support)}")

    collab = questions._prepared(store, None)[1].collab
    start = time.perf_counter()
    area, task = health_task(collab)
    prepared = time.perf_counter() - start
    start = time.perf_counter()
    found = questions._measure_elsewhere(task)  # the child process starts here (spawn)
    first_measure = time.perf_counter() - start
    start = time.perf_counter()
    found = questions._measure_elsewhere(task)
    measured = time.perf_counter() - start
    start = time.perf_counter()
    report = health_report(collab, area, task, found)
    assembled = time.perf_counter() - start
    print(
        f"whole-England health: area {prepared:.2f} s, igraph in the child process {measured:.2f} s"
        f" (first call, starting it: {first_measure:.2f} s), rows {assembled:.2f} s;"
        f" {task.nodes:,} organisations, {len(task.edges):,} tied pairs,"
        f" {report['summary']['communities']:,} communities"
    )
    print(f"resident memory of this process: {resident_mb():.0f} MB")
    print(f"load average after: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
