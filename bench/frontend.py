"""Front-end benchmark: search, the school page and the start page's isolated list, on the
Birmingham sample and (``--england``) on the whole-England GIAS file, in an embedded store in a
temporary folder.

Times, in one run: building the search index from the store's graph (once per write), a search
by name, by URN, by postcode and the schools near a postcode (median of ``--runs``), a school
page with its support partners (an isolated school in difficulty), its partners' CSV, and the
start page with an area's isolated list (Birmingham), each through the API's test client, so the
figures include routing and rendering. There is no target in the issue; figures are for
information and for later comparison.

    python bench/frontend.py [--runs 20] [--england]

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from graph_service import areas, questions
from graph_service.api.app import create_app
from graph_service.cli import load_sample
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore
from viz import search

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gias"


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, worst) of ``runs`` calls, in ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def measure(store: EmbeddedStore, label: str, runs: int) -> None:
    print(f"== {label}: {sum(n for k, n in store.counts().items() if not k.startswith('tie:')):,} organisations")
    graph = store.graph()
    start = time.perf_counter()
    index = search.SearchIndex(graph)
    print(f"search index built from the graph: {(time.perf_counter() - start) * 1000:.0f} ms")
    listed = questions.isolated_schools(
        store, filters=questions.AreaFilter(la_code=330, types=areas.default_types())
    ).items
    # A school in difficulty where ratings are loaded (the England file has none: then the first listed).
    target = next((item for item in listed if item.ofsted_rating and item.ofsted_rating.in_difficulty), listed[0])
    postcode = next(org.postcode for org in store.get_organisations([item.id for item in listed]) if org.postcode)
    settings = Settings(GRAPH_SERVICE_DB=store.path, GRAPH_SERVICE_STORE="embedded")
    with TestClient(create_app(settings)) as client:
        client.get("/viz/search?q=warm")  # the service builds its own index once
        cases: list[tuple[str, Callable[[], object]]] = [
            ("search by name ('Primary')", lambda: index.search("Primary", 10)),
            (f"search by URN ({target.id})", lambda: index.search(target.id, 10)),
            (f"schools within 3 km of {postcode}", lambda: index.near(postcode or "", 25, 3.0)),
            ("GET /viz/search?q=Primary", lambda: client.get("/viz/search?q=Primary")),
            (f"GET /viz/search?q={postcode} (with schools near)", lambda: client.get(f"/viz/search?q={postcode}")),
            (f"GET /viz/school/{target.id} (with support partners)", lambda: client.get(f"/viz/school/{target.id}")),
            (f"GET /viz/school/{target.id}/partners.csv", lambda: client.get(f"/viz/school/{target.id}/partners.csv")),
            ("GET /viz/?la_code=330 (isolated list)", lambda: client.get("/viz/?la_code=330")),
            ("GET /viz/isolated-list.csv?la_code=330", lambda: client.get("/viz/isolated-list.csv?la_code=330")),
        ]
        for name, action in cases:
            median, worst = timed(action, runs)
            print(f"{name}: median {median:.1f} ms, worst {worst:.1f} ms ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--england", action="store_true", help="also the whole-England GIAS file")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        store = EmbeddedStore(Path(folder) / "sample.sqlite3")
        store.open()
        load_sample(store)
        measure(store, "Birmingham sample", args.runs)
        store.close()
        if args.england:
            from loaders.gias import load_gias

            england = EmbeddedStore(Path(folder) / "england.sqlite3")
            england.open()
            load_gias(
                england,
                [DATA / "edubasealldata20250718_england.csv.gz"],
                links=DATA / "links_edubasealldata20250718_england.csv",
            )
            measure(england, "England (GIAS 2025-07-18)", args.runs)
            england.close()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
