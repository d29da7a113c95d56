"""National-view benchmark: how long until England's local authorities are drawn in headless Chromium.

Loads the whole-England GIAS file (and Ofsted's outcomes when present) into an embedded store in a
temporary folder, or uses ``--db`` (a store already loaded), serves the API on a loopback port and
opens ``/viz/national`` in Debian's headless Chromium (driven by Playwright), several times. The page
records ``performance.now()`` when every area is on the map (``window.vizDrawn``): the time from the
start of navigation (request, server answer, transfer, Leaflet, the coast, the areas) until drawn.
The first load, which computes the figures on the day, is reported apart. Target: under 2 s.

    python bench/national.py [--runs 5] [--db england.sqlite3] [--screenshot docs/viz/national.png]

Not a test: run it by hand and read the figures (also written to bench/results/national.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from graph_service.api.app import create_app
from graph_service.settings import Settings, StoreKind
from graph_service.store import EmbeddedStore
from viz.browser import chromium, chromium_path, offline_page, serving

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 2.0


def load_england(db: Path) -> None:
    from loaders.gias import load_gias
    from loaders.ofsted import load_ofsted

    store = EmbeddedStore(db)
    store.open()
    try:
        load_gias(
            store,
            [DATA / "gias" / "edubasealldata20250718_england.csv.gz"],
            links=DATA / "gias" / "links_edubasealldata20250718_england.csv",
        )
        outcomes = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
        if outcomes.is_file():
            load_ofsted(store, outcomes)
    finally:
        store.close()


def draw(page: Any, url: str) -> tuple[float, float, int]:
    """(page-side seconds until drawn, driver wall-clock seconds, areas drawn) for one fresh load."""
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(url)
    drawn: dict[str, Any] = page.wait_for_function("window.vizDrawn", timeout=120_000, polling=10).json_value()
    return drawn["ms"] / 1000, time.perf_counter() - start, int(drawn["areas"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page loads to time (default 5)")
    parser.add_argument("--db", type=Path, help="an embedded store already holding England (default: load one)")
    parser.add_argument("--screenshot", type=Path, help="save a 1400x900 screenshot of the page here")
    args = parser.parse_args()
    if chromium_path() is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-national-") as folder:
        db = args.db
        if db is None:
            db = Path(folder) / "england.sqlite3"
            started = time.perf_counter()
            load_england(db)
            print(f"England loaded in {time.perf_counter() - started:.0f} s")
        app = create_app(Settings(db_path=db, store=StoreKind.EMBEDDED))
        with serving(app) as base, chromium() as browser, offline_page(browser, base) as (page, elsewhere):
            url = f"{base}/viz/national"
            first = draw(page, url)
            runs = [draw(page, url) for _ in range(args.runs)]
            if args.screenshot:
                page.screenshot(path=str(args.screenshot))
            assert elsewhere == [], elsewhere
    drawn = statistics.median(run[0] for run in runs)
    worst = max(run[0] for run in runs)
    wall = statistics.median(run[1] for run in runs)
    print(f"England: {runs[0][2]} local authorities drawn")
    print(f"first load (figures computed on the day): {first[0]:.2f} s page-side, {first[1]:.2f} s wall clock")
    print(f"then: median {drawn:.2f} s, worst {worst:.2f} s page-side of {args.runs}; wall clock median {wall:.2f} s")
    print(f"target < {TARGET_S:.0f} s: {'met' if worst < TARGET_S else 'MISSED'}")
    RESULTS.mkdir(exist_ok=True)
    figures = {
        "areas": runs[0][2],
        "first_load_s": round(first[0], 3),
        "median_s": round(drawn, 3),
        "worst_s": round(worst, 3),
        "wall_median_s": round(wall, 3),
    }
    (RESULTS / "national.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
