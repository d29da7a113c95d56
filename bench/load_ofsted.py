"""Load benchmark: Ofsted's national outcomes file over GIAS July 2025 for England.

For each store: GIAS England (establishments and links) is loaded first (not timed for the
target), then the Ofsted file; prints the seconds of the Ofsted load, this process's CPU time,
the store's own write (``apply``), the rows, inspections and schools written, and the seconds
of loading the same file again (which must change nothing). Then, from the store's graph, the
share of open state-funded schools with a standing today and the schools in special measures
or serious weaknesses. Targets (issue 13): under 5 s embedded, under 30 s on Neo4j.

    export NEO4J_URI=$(NEO4J_TEST_HEAP=2g scripts/neo4j-test-server start)
    python bench/load_ofsted.py --runs 3 --clear

``--clear`` is required when the Neo4j database is not empty: the benchmark deletes everything
in it. Without ``NEO4J_URI`` only the embedded store is measured. Not a test: read the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import cast

from graph_service.analytics.standing import rating_on
from graph_service.store import EmbeddedStore, GraphStore, WriteBatch, WriteResult
from graph_service.store.base import WriteProgress
from graph_service.store.neo4j import Neo4jStore
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ESTABLISHMENTS = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
OUTCOMES = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
#: GIAS establishment type groups that are state-funded schools (what Ofsted's file covers).
STATE_FUNDED = {"Local authority maintained schools", "Academies", "Free Schools", "Special schools"}


class TimedStore:
    """Measures the time spent in the wrapped store's ``apply``, the store's share of a load."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.apply_seconds = 0.0

    def apply(self, batch: WriteBatch, progress: WriteProgress | None = None) -> WriteResult:
        start = time.perf_counter()
        try:
            return self.store.apply(batch, progress)
        finally:
            self.apply_seconds += time.perf_counter() - start

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def one_run(store: GraphStore, label: str) -> None:
    timed = TimedStore(store)
    load_average = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    report = load_ofsted(cast(GraphStore, timed), OUTCOMES)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert report.result is not None
    start = time.perf_counter()
    again = load_ofsted(store, OUTCOMES)
    again_seconds = time.perf_counter() - start
    assert again.result is not None
    print(
        f"{label}: {seconds:.2f} s (CPU {cpu:.2f} s, apply {timed.apply_seconds:.2f} s, load avg. {load_average:.2f});"
        f" {report.rows_read:,} rows, {report.rows_rejected} rejected, {report.organisations:,} schools written;"
        f" again {again_seconds:.2f} s, {again.result.organisations_updated} changed"
    )


def coverage(store: GraphStore) -> None:
    graph = store.graph()
    open_schools = [
        attrs
        for _node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == "school"
        and attrs.get("status") in ("open", "open_proposed_to_close")
        and attrs.get("type_group") in STATE_FUNDED
    ]
    rated = Counter(rating_on(attrs) for attrs in open_schools)
    with_standing = len(open_schools) - rated[None]
    print(
        f"open state-funded schools: {len(open_schools):,}, with a standing today: {with_standing:,}"
        f" ({100 * with_standing / len(open_schools):.1f}%);"
        f" special measures {rated['special_measures']}, serious weaknesses {rated['serious_weaknesses']}"
    )


def prepare(store: GraphStore) -> None:
    start = time.perf_counter()
    report = load_gias(store, [ESTABLISHMENTS], links=LINKS)
    assert report.result is not None
    print(f"  (GIAS England loaded first in {time.perf_counter() - start:.1f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="first loads measured per store (default 3)")
    parser.add_argument("--clear", action="store_true", help="allow deleting everything in the Neo4j database")
    parser.add_argument("--neo4j-runs", type=int, default=None, help="runs on Neo4j (default: --runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.sqlite3"
        store = EmbeddedStore(base)
        store.open()
        print("embedded")
        prepare(store)
        store.close()
        for run in range(args.runs):
            copy = Path(folder) / f"run{run}.sqlite3"
            shutil.copy(base, copy)
            store = EmbeddedStore(copy)
            store.open()
            one_run(store, f"  run {run + 1}")
            if run == args.runs - 1:
                coverage(store)
            store.close()
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        print("neo4j: NEO4J_URI not set, skipped")
        return 0
    neo = Neo4jStore(uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    neo.open()
    try:
        if sum(neo.counts().values()) and not args.clear:
            print("neo4j: the database is not empty; give --clear to let the benchmark delete it", file=sys.stderr)
            return 1
        print("neo4j")
        runs = args.runs if args.neo4j_runs is None else args.neo4j_runs
        for run in range(runs):
            neo.clear()
            prepare(neo)
            one_run(neo, f"  run {run + 1}")
        coverage(neo)
    finally:
        neo.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
