"""Load benchmark: whole-England GIAS establishments plus links into a fresh embedded store.

Prints the seconds of the first load, the input rows (establishments + links)
per second, how much of the time the store's write (``apply``) took, the
process's CPU time (the fairer figure on a busy shared machine), and the
seconds of loading the same files again over it (which must change nothing).
Target: the first load under 15 s on a 2-core machine.

    python bench/load_embedded.py [--data DIR] [--profile]

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from graph_service.store import EmbeddedStore, WriteBatch, WriteResult
from graph_service.store.base import WriteProgress
from loaders.gias import load_gias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gias"
ESTABLISHMENTS = "edubasealldata20250718_england.csv.gz"
LINKS = "links_edubasealldata20250718_england.csv"
TARGET_SECONDS = 15.0


class TimedEmbeddedStore(EmbeddedStore):
    """An embedded store that adds up the time spent in ``apply``."""

    apply_seconds = 0.0

    def apply(self, batch: WriteBatch, progress: WriteProgress | None = None) -> WriteResult:
        start = time.perf_counter()
        try:
            return super().apply(batch, progress)
        finally:
            self.apply_seconds += time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder holding the England files")
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest calls of the first load")
    args = parser.parse_args(argv)
    establishments, links = args.data / ESTABLISHMENTS, args.data / LINKS
    for path in (establishments, links):
        if not path.is_file():
            print(f"missing {path}", file=sys.stderr)
            return 2

    with tempfile.TemporaryDirectory(prefix="bench-embedded-") as folder:
        store = TimedEmbeddedStore(Path(folder) / "graph.sqlite3")
        store.open()
        profiler = cProfile.Profile() if args.profile else None
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        report = load_gias(store, [establishments], links=links)
        if profiler is not None:
            profiler.disable()
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        apply_seconds = store.apply_seconds

        again_start = time.perf_counter()
        again = load_gias(store, [establishments], links=links)
        again_seconds = time.perf_counter() - again_start
        counts = store.counts()
        store.close()

    result = report.result
    assert result is not None and again.result is not None
    print(f"files: {establishments.name} + {links.name}")
    print(f"rows read: {report.rows_read} ({report.rows_rejected} rejected)")
    print(
        f"written: {result.organisations_created} organisations, {result.ties_created} ties"
        f" ({sum(v for k, v in counts.items() if not k.startswith('tie:'))} organisations in the store)"
    )
    print(f"first load: {seconds:.2f} s, {report.rows_read / seconds:,.0f} rows/s (target < {TARGET_SECONDS:.0f} s)")
    print(f"  of which the store's apply: {apply_seconds:.2f} s; CPU time of this process: {cpu_seconds:.2f} s")
    print(f"second load of the same files: {again_seconds:.2f} s, {again.result.changed} changes")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0 if seconds < TARGET_SECONDS and again.result.changed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
