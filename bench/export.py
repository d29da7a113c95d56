"""Export benchmark: whole England in every format, with time and peak memory per format.

Loads the July 2025 England establishments and links files into a fresh embedded store in a
temporary folder (or uses ``--db``), then exports the whole graph once per format, each in its
own Python process so that its peak RSS (``resource.getrusage``) is the export's alone. The load
runs in a process of its own too: on Linux a child's ``ru_maxrss`` starts from its parent's size
at the fork, so the parent must stay small. Prints
wall and CPU seconds (CPU is the fairer figure on a busy shared machine), peak RSS and file
size. Targets: under 20 s and under 500 MB for each format.

    python bench/export.py [--db FILE] [--formats graphml,gexf,json,csv,cypher,parquet] [--out DIR]

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gias"
ENGLAND = "edubasealldata20250718_england.csv.gz"
LINKS = "links_edubasealldata20250718_england.csv"
TARGET_SECONDS = 20.0
TARGET_MB = 500.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(db: Path, fmt: ExportFormat, out_dir: Path) -> dict[str, Any]:
    """Export the whole store in one format (run in a fresh process)."""
    store = EmbeddedStore(db)
    store.open()
    try:
        wall, cpu = time.perf_counter(), _cpu()
        prepared = prepare_export(store, ExportSpec(), fmt)
        path = out_dir / prepared.filename
        write_export(prepared, path)
        nodes, edges = prepared.selection.counts
        return {
            "format": fmt.value,
            "seconds": time.perf_counter() - wall,
            "cpu_seconds": _cpu() - cpu,
            "peak_rss_mb": _peak_mb(),
            "megabytes": path.stat().st_size / 1e6,
            "nodes": nodes,
            "edges": edges,
        }
    finally:
        store.close()


def load_england(db: Path) -> None:
    store = EmbeddedStore(db)
    store.open()
    try:
        start = time.perf_counter()
        report = load_gias(store, [DATA / ENGLAND], links=DATA / LINKS)
        seconds = time.perf_counter() - start
        print(f"loaded {report.organisations} organisations and {report.ties} ties in {seconds:.1f} s")
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an embedded store already holding England (skips the load)")
    parser.add_argument("--formats", default=",".join(f.value for f in ExportFormat), help="comma-separated formats")
    parser.add_argument("--out", type=Path, help="folder for the files (default: a temporary folder)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    formats = [ExportFormat(name.strip()) for name in args.formats.split(",") if name.strip()]

    with tempfile.TemporaryDirectory(prefix="export-bench-") as scratch:
        out_dir = args.out or Path(scratch)
        out_dir.mkdir(parents=True, exist_ok=True)
        if args.worker:
            print(json.dumps(worker(args.db, ExportFormat(args.worker), out_dir)))
            return 0
        if args.load_only:
            load_england(args.db)
            return 0
        db = args.db
        if db is None:
            db = Path(scratch) / "england.sqlite3"
            subprocess.run([sys.executable, __file__, "--load-only", "--db", str(db)], check=True)
        results = []
        for fmt in formats:
            command = [sys.executable, __file__, "--worker", fmt.value, "--db", str(db), "--out", str(out_dir)]
            done = subprocess.run(command, check=True, capture_output=True, text=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))

    print(f"{'format':8} {'nodes':>7} {'edges':>7} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'file MB':>8}  target")
    missed = 0
    for row in results:
        ok = row["seconds"] < TARGET_SECONDS and row["peak_rss_mb"] < TARGET_MB
        missed += not ok
        print(
            f"{row['format']:8} {row['nodes']:7d} {row['edges']:7d} {row['seconds']:7.1f} {row['cpu_seconds']:7.1f}"
            f" {row['peak_rss_mb']:8.0f} {row['megabytes']:8.1f}  {'met' if ok else 'MISSED'}"
        )
    print(f"targets: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB peak RSS per format")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
