"""Support today: the schools Ofsted has in special measures or serious weaknesses, asked as a broker would.

Over an embedded store holding GIAS July 2025 for England with its links and Ofsted's file as at
31 August 2025 (``--db``; built in a temporary folder when not given), asks the support question
as at 2025-09-01 about each school the file puts in a category of concern (261), and prints:

- how many were judged on another URN (Ofsted: "No" under "relates to the URN of the current
  school") and whether ``judged_urn`` matches Ofsted's URN at the time for every one;
- how many answers rank the school's own trust (target 0) and how many show it as context;
- the share of the top-3 trust lines offered to secondary schools that hold an open secondary or
  all-through school within 40 km (target at least 90%), counted here from the graph alone;
- the wall time of all 261 answers (target under a minute).

    python bench/support_today.py [--db FILE]

Not a test: run it by hand and read the figures (tests/loaders/test_ofsted_real.py asserts the same rules).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import tempfile
import time
from datetime import date
from pathlib import Path

import networkx as nx

from graph_service import questions
from graph_service.analytics.geo import haversine_km, location
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ENGLAND = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
OFSTED = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
DAY = date(2025, 9, 1)
SECONDARY = ("secondary", "all_through", "middle_deemed_secondary")


def concern_rows() -> list[dict[str, str]]:
    with gzip.open(OFSTED) as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="cp1252", newline=""))
        return [row for row in rows if row["Category of concern"] in ("SM", "SWK")]


def runs_secondary_near(graph: nx.MultiDiGraph, trust: str, school: str, km: float = 40.0) -> bool:
    """Whether ``trust`` has an open secondary or all-through school within ``km`` of ``school``: the plain rule
    the answers are judged by, apart from the support code (tests/loaders/test_ofsted_real.py uses it too)."""
    here = location(graph.nodes[school])
    for member, _trust, data in graph.in_edges(trust, data=True):
        attrs = graph.nodes[member]
        if data.get("kind") != "member_of" or data.get("until") is not None:
            continue
        if attrs.get("status") not in ("open", "open_proposed_to_close") or attrs.get("phase") not in SECONDARY:
            continue
        there = location(attrs)
        if here is not None and there is not None and haversine_km(*here, *there) <= km:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="an embedded store with England and Ofsted loaded (else built)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    store = EmbeddedStore(args.db or Path(folder.name) / "graph.sqlite3")
    store.open()
    if args.db is None:
        load_gias(store, [ENGLAND], links=LINKS)
        load_ofsted(store, OFSTED)
    graph = store.graph()
    rows = [row for row in concern_rows() if row["URN"] in graph]
    inherited = matched = own_ranked = own_shown = in_trust = 0
    secondary_lines = secondary_fit = 0
    started = time.perf_counter()
    answers = [questions.support_partners(store, row["URN"], as_at=DAY) for row in rows]
    elapsed = time.perf_counter() - started
    for row, answer in zip(rows, answers, strict=True):
        urn = row["URN"]
        other = row["Does the latest graded inspection relate to the URN of the current school?"] == "No"
        inherited += other
        expected = row["URN at time of latest graded inspection"] if other else urn
        matched += answer.school.judged_urn == expected
        own = {
            group
            for _s, group, data in graph.out_edges(urn, data=True)
            if data.get("kind") == "member_of"
            and graph.nodes[group].get("kind") == "trust"
            and data.get("until") is None
        }
        in_trust += bool(own)
        own_ranked += any(candidate.id in own for candidate in answer.candidates)
        own_shown += answer.current_trust is not None and answer.current_trust.id in own
        if answer.school.phase in SECONDARY:
            for candidate in [c for c in answer.candidates if c.kind == "trust"][:3]:
                secondary_lines += 1
                secondary_fit += runs_secondary_near(graph, candidate.id, urn)
    print(f"schools in a category of concern: {len(rows)}; judged on another URN: {inherited}")
    print(f"judged_urn equal to Ofsted's URN at the time: {matched} of {len(rows)}")
    print(
        f"in a trust: {in_trust}; answers ranking the school's own trust: {own_ranked}; "
        f"showing it as context: {own_shown}"
    )
    share = secondary_fit / secondary_lines if secondary_lines else 0.0
    print(
        "secondary schools' top-3 trust lines with an open secondary within 40 km: "
        f"{secondary_fit} of {secondary_lines} ({share:.1%})"
    )
    print(f"all {len(rows)} answered in {elapsed:.1f} s ({1000 * elapsed / max(1, len(rows)):.0f} ms each)")
    store.close()


if __name__ == "__main__":
    main()
