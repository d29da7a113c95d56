"""Load benchmark: the whole-England GIAS file into Neo4j and into the embedded store.

Prints, for each store, the seconds of a first load into an empty store, the input rows
(establishments + links) per second, the CPU time of this process (parsing and the
driver; Neo4j's own work runs in the server), the organisations and ties written per
second of the store's own write (``apply``), and the seconds of loading the same files
again (which must change nothing), with the machine's load average before and after.
Given the server's process id (``--server-pid``, a server on this machine), also the CPU
seconds Neo4j spent on each load. Target (issue 16): the Neo4j first load under 30 s on a
warm server with a 1 GB heap, on 2 cores.

The load is written in stages of at most 5,000 rows (one transaction each), so the test
server's default 1 GB heap is enough; run the bench once first to warm the server's JVM.

    export NEO4J_URI=$(NEO4J_TEST_RUN_DIR=/tmp/neo4j-bench scripts/neo4j-test-server start)
    python bench/load_neo4j.py --clear --server-pid "$(cat /tmp/neo4j-bench/neo4j.pid)"

``--clear`` is required when the Neo4j database is not empty: the benchmark deletes
everything in it. Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from api_load import server_cpu  # bench/ is on the path of a bench run

from graph_service.store import EmbeddedStore, GraphStore, WriteBatch, WriteResult
from graph_service.store.base import WriteProgress
from graph_service.store.neo4j import Neo4jStore
from loaders.gias import load_gias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gias"
ESTABLISHMENTS = "edubasealldata20250718_england.csv.gz"
LINKS = "links_edubasealldata20250718_england.csv"


def process_cpu(pid: int | None) -> float:
    """CPU seconds the server ``pid`` (and any process it started) has used so far; 0 when none is given."""
    return 0.0 if pid is None else server_cpu(pid)


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


@dataclass
class Figures:
    backend: str
    seconds: float
    cpu_seconds: float
    apply_seconds: float
    rows: int
    written: int
    again_seconds: float
    again_changed: int
    #: CPU seconds of the Neo4j server during the first load and the second (None: not measured).
    server_cpu: tuple[float, float] | None = None


def measure(store: GraphStore, data: Path, server_pid: int | None = None) -> Figures:
    establishments, links = [data / ESTABLISHMENTS], data / LINKS
    timed = TimedStore(store)
    server_start = process_cpu(server_pid)
    start, cpu_start = time.perf_counter(), time.process_time()
    report = load_gias(cast(GraphStore, timed), establishments, links=links)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    server_first = process_cpu(server_pid) - server_start
    assert report.result is not None
    written = report.result.organisations_created + report.result.ties_created
    server_start = process_cpu(server_pid)
    start = time.perf_counter()
    again = load_gias(store, establishments, links=links)
    again_seconds = time.perf_counter() - start
    server_again = process_cpu(server_pid) - server_start
    assert again.result is not None
    return Figures(
        store.backend,
        seconds,
        cpu_seconds,
        timed.apply_seconds,
        report.rows_read,
        written,
        again_seconds,
        again.result.changed,
        (server_first, server_again) if server_pid is not None else None,
    )


def show(fig: Figures) -> None:
    print(
        f"{fig.backend:>8}: first load {fig.seconds:6.1f} s ({fig.rows / fig.seconds:7.0f} input rows/s,"
        f" this process's CPU {fig.cpu_seconds:5.1f} s);"
        f" store write {fig.apply_seconds:5.1f} s ({fig.written / fig.apply_seconds:7.0f} organisations+ties/s);"
        f" same files again {fig.again_seconds:5.1f} s, {fig.again_changed} changes"
        + (f"; Neo4j's CPU {fig.server_cpu[0]:5.1f} s, again {fig.server_cpu[1]:5.1f} s" if fig.server_cpu else "")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder holding the England GIAS files")
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI"), help="Bolt URI (default $NEO4J_URI)")
    parser.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    parser.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD", ""))
    parser.add_argument("--database", default=os.environ.get("NEO4J_DATABASE", "neo4j"))
    parser.add_argument("--clear", action="store_true", help="delete everything in the Neo4j database first")
    parser.add_argument("--skip-embedded", action="store_true", help="measure Neo4j only")
    parser.add_argument("--server-pid", type=int, help="the Neo4j server's process id, to report its CPU time")
    args = parser.parse_args()
    if not args.uri:
        parser.error("give --uri or set NEO4J_URI (scripts/neo4j-test-server start prints one)")

    neo4j = Neo4jStore(args.uri, args.user, args.password, database=args.database)
    neo4j.open()
    try:
        if neo4j.counts():
            if not args.clear:
                parser.error(f"the Neo4j database at {args.uri} is not empty: pass --clear to wipe it")
            neo4j.clear()
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        figures = [measure(neo4j, args.data, args.server_pid)]
        print(f"neo4j counts: {neo4j.counts()}")
    finally:
        neo4j.close()

    if not args.skip_embedded:
        with tempfile.TemporaryDirectory() as tmp:
            embedded = EmbeddedStore(Path(tmp) / "bench.sqlite3")
            embedded.open()
            try:
                figures.append(measure(embedded, args.data))
            finally:
                embedded.close()

    print(f"whole-England GIAS: {figures[0].rows} input rows, {figures[0].written} organisations+ties written")
    for fig in figures:
        show(fig)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
