"""Areas and panel benchmark: every local authority's measures over 2010-2025, and England's panel.

Loads GIAS England (July 2025, with its links and the teaching school hubs) and Ofsted's
August 2025 outcomes into a fresh embedded store in a temporary folder (or uses ``--db``), and
times what the API and the CLI call (graph_service.area_questions):

- the first series of every local authority, 31 August 2010 to 31 August 2025, which reads the
  store's graph and makes the projection (a fresh command pays this; a server once per write);
- the same series again with the graph in memory (the finished series forgotten first, so the
  work is timed, not the memory), and one day's area table;
- the panel of England 2010-2025 (16 days, about 350,000 rows) made and written as CSV and
  as Parquet with its codebook.

Targets (issue 25): the area table and series for all of England's LAs over 2010-2025 under 5 s
on each backend; the panel written in under 30 s. With NEO4J_URI set and ``--neo4j-clear`` (it
deletes everything in that database) the same files are loaded into Neo4j and timed there.

    python bench/areas.py [--db FILE] [--neo4j-clear] [--skip-embedded]

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from graph_service import area_questions
from graph_service.export.panel import PanelFormat, write_panel
from graph_service.store import EmbeddedStore, GraphStore
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GIAS = SHARED / "gias"
ENGLAND = GIAS / "edubasealldata20250718_england.csv.gz"
LINKS = GIAS / "links_edubasealldata20250718_england.csv"
HUBS = GIAS / "teaching_school_hubs_lead_schools.csv"
OFSTED = SHARED / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
START, END = date(2010, 8, 31), date(2025, 8, 31)


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def show(label: str, wall: float, cpu: float, target: float | None = None, extra: str = "") -> None:
    verdict = "" if target is None else (" (met)" if wall < target else f" (over {target:g} s)")
    print(f"{label:<48} {wall:7.2f} s wall {cpu:7.2f} s CPU{verdict}{extra}")


def load(store: GraphStore) -> None:
    wall, cpu, _ = timed(lambda: load_gias(store, [ENGLAND], links=LINKS, hubs=HUBS))
    show("load GIAS England", wall, cpu)
    wall, cpu, _ = timed(lambda: load_ofsted(store, OFSTED))
    show("load Ofsted August 2025", wall, cpu)


def bench_store(store: GraphStore, name: str, out: Path) -> None:
    print(f"-- {name}")
    wall, cpu, first = timed(lambda: area_questions.area_trends(store, START, END))
    show("series 2010-2025, every LA, first (graph read)", wall, cpu, 5.0, f"  {len(first.areas)} LAs")
    for attempt in (1, 2, 3):
        area_questions._series.clear()  # time the work, not the finished series kept in memory
        wall, cpu, _ = timed(lambda: area_questions.area_trends(store, START, END))
        show(f"series 2010-2025, every LA, graph in memory ({attempt})", wall, cpu, 5.0)
    wall, cpu, table = timed(lambda: area_questions.area_table(store, date(2024, 1, 18)))
    show("area table on one day", wall, cpu, 5.0, f"  {len(table.rows)} LAs")
    days = area_questions.series_days(START, END)
    wall, cpu, columns = timed(lambda: area_questions.panel(store, days))
    show("panel 2010-2025 made, as columns", wall, cpu, None, f"  {len(columns['urn']):,} rows")
    del columns
    for fmt in PanelFormat:
        # What the command and the API do: made and written a day at a time.
        wall, cpu, (written, rows) = timed(
            lambda fmt=fmt: write_panel(area_questions.panel_by_day(store, days), out / fmt.value, fmt)
        )
        size = written[0].stat().st_size / 1e6
        show(f"panel 2010-2025 made and written as {fmt.value}", wall, cpu, 30.0, f"  {rows:,} rows, {size:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an embedded store with England loaded already")
    parser.add_argument("--neo4j-clear", action="store_true", help="load into NEO4J_URI (deletes its data)")
    parser.add_argument("--skip-embedded", action="store_true", help="measure Neo4j only")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        if not args.skip_embedded:
            store = EmbeddedStore(args.db or out / "graph.sqlite3")
            store.open()
            try:
                if args.db is None:
                    load(store)
                bench_store(store, "embedded", out)
            finally:
                store.close()
        uri = os.environ.get("NEO4J_URI")
        if uri and args.neo4j_clear:
            from graph_service.store.neo4j import Neo4jStore

            neo4j = Neo4jStore(
                uri,
                os.environ.get("NEO4J_USER", "neo4j"),
                os.environ.get("NEO4J_PASSWORD", ""),
                database=os.environ.get("NEO4J_DATABASE", "neo4j"),
            )
            neo4j.open()
            try:
                neo4j.clear()
                load(neo4j)
                bench_store(neo4j, "neo4j", out)
            finally:
                neo4j.close()
        elif uri:
            print("NEO4J_URI is set but --neo4j-clear is not: Neo4j not measured (the bench empties the database)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
