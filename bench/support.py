"""Support benchmark: the backtest against real take-overs (both conditions, ablation) and support speed.

Loads GIAS July 2025 for England with its links and the teaching school hubs into a fresh
embedded store in a temporary folder (or reuses ``--db``), optionally Ofsted's national file
over it (``--ofsted FILE``), and:

- runs ``questions.support_backtest`` in the "ratings ignored" condition (every state-funded
  school rated Good) and, with Ofsted loaded, with the ratings in force on each case's date;
  prints hit@1/3/10 and MRR for the support question and both baselines, tuning (before
  2019-09-01) and held out, and the wall and CPU time of the whole backtest (target: under
  2 minutes for the 2,395 cases);
- with ``--ablation``, the backtest again with each part's weight set to 0 and each rule off
  (held-out and tuning hit@10 and MRR; ratings ignored);
- with ``--timing N``, N support questions about open schools at N random dates between
  2012 and 2025 (seeded), each asked afresh (``questions.forget_answers()``): median and p95
  of wall and CPU time (target p95 under 100 ms embedded). With NEO4J_URI and
  ``--neo4j-clear`` (it deletes everything in that database) the same files are loaded into
  Neo4j and the same questions timed there (target p95 under 300 ms).

    python bench/support.py [--db FILE] [--ofsted FILE] [--ablation] [--timing 200] [--neo4j-clear]

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from graph_service import questions
from graph_service.analytics.backtest import HELD_OUT_FROM, run_backtest, takeover_cases
from graph_service.analytics.support import (
    PARTS,
    SupportRules,
    SupportWeights,
    assume_good,
    line_reaches,
    rank_lines,
    rescore,
    support_index,
)
from graph_service.store import EmbeddedStore, GraphStore
from loaders.gias import load_gias

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = Path(__file__).resolve().parents[1] / "graph_service" / "sample_data"
ENGLAND = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
HUBS = SAMPLE / "teaching_school_hubs_lead_schools.csv"
OFSTED = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"


def load(store: GraphStore, ofsted: Path | None) -> None:
    start = time.perf_counter()
    load_gias(store, [ENGLAND], links=LINKS, hubs=HUBS)
    print(f"GIAS loaded in {time.perf_counter() - start:.1f} s")
    if ofsted is not None:
        from loaders.ofsted import load_ofsted

        start = time.perf_counter()
        report = load_ofsted(store, ofsted)
        print(f"Ofsted loaded in {time.perf_counter() - start:.1f} s: {report.rows_read} rows")


def figures(answer: questions.BacktestAnswer, label: str) -> None:
    print(f"\n{label}: {answer.all.cases} cases ({answer.skipped} skipped)")
    print(f"{'cases':<28}{'n':>6}  {'method':<15}{'hit@1':>7}{'hit@3':>7}{'hit@10':>8}{'MRR':>8}")
    for name, table in (("all", answer.all), ("tuning (< 2019-09-01)", answer.tuning), ("held out", answer.held_out)):
        for method in ("support", "nearest_trust", "most_in_la"):
            hits = getattr(table, method)
            print(
                f"{name:<28}{table.cases:>6}  {method:<15}{hits.hit_1:>7.1%}{hits.hit_3:>7.1%}"
                f"{hits.hit_10:>8.1%}{hits.mrr:>8.3f}"
            )


def by_year_and_phase(answer: questions.BacktestAnswer) -> None:
    print(f"\n{'group':<28}{'n':>6}{'support@10':>12}{'nearest@10':>12}{'in LA@10':>10}{'MRR':>8}")
    for name, table in answer.tables()[3:]:
        print(
            f"{name:<28}{table.cases:>6}{table.support.hit_10:>12.1%}{table.nearest_trust.hit_10:>12.1%}"
            f"{table.most_in_la.hit_10:>10.1%}{table.support.mrr:>8.3f}"
        )


def backtest(
    store: GraphStore, ignore_ratings: bool, **kwargs: object
) -> tuple[questions.BacktestAnswer, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    answer = questions.support_backtest(store, ignore_ratings=ignore_ratings, **kwargs)  # type: ignore[arg-type]
    return answer, time.perf_counter() - wall, time.process_time() - cpu


def ablation(store: GraphStore, rules_step: int) -> None:
    """Each part off in turn (the same lines re-scored), then each rule off (the backtest run again)."""
    graph = store.graph()
    index = support_index(graph)
    cases = [case for case in takeover_cases(graph) if not index.open_on(case.successor, case.day)]
    defaults = SupportWeights()
    weights = defaults.model_dump()
    variants = [("defaults", defaults, True)]
    variants += [
        (f"without {part} (w={weights[part]:g})", SupportWeights(**{**weights, part: 0.0}), True)
        for part in PARTS
        if weights[part] > 0
    ]
    variants.append(("rule off: faith_first", defaults, False))
    ranks: dict[str, list[tuple[bool, int | None]]] = {label: [] for label, _w, _f in variants}
    start = time.perf_counter()
    for case in cases:
        lines, *_ = rank_lines(graph, case.school, case.day, rating_of=assume_good, areas=False, index=index)
        for label, variant, faith_first in variants:
            shown = lines if faith_first else [replace(line, first=False) for line in lines]
            ordered = rescore(shown, variant, index)
            rank = next(
                (r for r, line in enumerate(ordered, 1) if line_reaches(graph, line, case.trust, case.day, index)),
                None,
            )
            ranks[label].append((case.taken_over >= HELD_OUT_FROM, rank))
    print(f"\nablation, ratings ignored, all {len(cases)} cases ({time.perf_counter() - start:.0f} s):")
    print(f"{'':<40}{'tuning@10':>10}{'tuning MRR':>11}{'held@10':>9}{'held MRR':>9}")

    def row(label: str, tuning: list[int | None], held: list[int | None]) -> None:
        def hit(values: list[int | None]) -> float:
            return sum(1 for r in values if r is not None and r <= 10) / len(values)

        def mrr(values: list[int | None]) -> float:
            return sum(1 / r for r in values if r) / len(values)

        print(f"{label:<40}{hit(tuning):>10.1%}{mrr(tuning):>11.3f}{hit(held):>9.1%}{mrr(held):>9.3f}")

    for label, found in ranks.items():
        row(label, [r for held, r in found if not held], [r for held, r in found if held])
    sample = cases[::rules_step]
    if rules_step > 1:
        base = run_backtest(graph, cases=sample, ignore_ratings=True, index=index)
        row(
            f"defaults (every {rules_step}th case)",
            [r["support_rank"] for r in base if not r["held_out"]],
            [r["support_rank"] for r in base if r["held_out"]],
        )
    for rule in ("same_provision", "require_phase", "state_funded_only", "dated"):
        rows = run_backtest(graph, cases=sample, ignore_ratings=True, rules=SupportRules(**{rule: False}), index=index)
        row(
            f"rule off: {rule}" + (f" (every {rules_step}th case)" if rules_step > 1 else ""),
            [r["support_rank"] for r in rows if not r["held_out"]],
            [r["support_rank"] for r in rows if r["held_out"]],
        )


def timing(store: GraphStore, label: str, count: int, seed: int) -> None:
    graph = store.graph()
    schools = sorted(
        node
        for node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == "school" and attrs.get("status") == "open" and attrs.get("latitude") is not None
    )
    rng = random.Random(seed)
    asked = [(rng.choice(schools), date(2012, 1, 1) + timedelta(days=rng.randrange(14 * 365))) for _ in range(count)]
    start = time.perf_counter()
    questions.support_partners(store, asked[0][0], as_at=asked[0][1])
    first = time.perf_counter() - start
    print(f"\n{label}: first support question (builds the store's graph and the index) {first:.2f} s")
    walls, cpus = [], []
    for urn, day in asked:
        questions.forget_answers()
        wall, cpu = time.perf_counter(), time.process_time()
        questions.support_partners(store, urn, as_at=day)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(
        f"{label}: {count} support questions, each school at its own random date: wall median "
        f"{1000 * statistics.median(walls):.1f} ms, p95 {1000 * p95(walls):.1f} ms; CPU median "
        f"{1000 * statistics.median(cpus):.1f} ms, p95 {1000 * p95(cpus):.1f} ms"
    )


def run(store: GraphStore, args: argparse.Namespace, label: str) -> None:
    if not args.skip_ignored:
        answer, wall, cpu = backtest(store, True)
        figures(answer, f"{label}, ratings ignored")
        print(f"whole backtest: {wall:.1f} s wall, {cpu:.1f} s CPU (includes preparing the index)")
        by_year_and_phase(answer)
    if args.ofsted is not None:
        rated, wall, cpu = backtest(store, False)
        figures(rated, f"{label}, Ofsted's August 2025 file loaded (standing in force on each case's date)")
        print(f"whole backtest: {wall:.1f} s wall, {cpu:.1f} s CPU")
    if args.ablation:
        ablation(store, args.rules_step)
    if args.timing:
        timing(store, label, args.timing, args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="reuse this embedded store (already loaded) instead of loading")
    parser.add_argument(
        "--ofsted", type=Path, nargs="?", const=OFSTED, help="also load Ofsted's file (default national)"
    )
    parser.add_argument("--skip-ignored", action="store_true", help="no ratings-ignored backtest run")
    parser.add_argument("--ablation", action="store_true", help="each part and rule switched off in turn")
    parser.add_argument("--rules-step", type=int, default=1, help="rules ablation on every Nth case (default all)")
    parser.add_argument("--timing", type=int, default=0, help="time this many support questions (random dates)")
    parser.add_argument("--seed", type=int, default=7, help="seed for the timed questions")
    parser.add_argument("--neo4j-clear", action="store_true", help="also load into NEO4J_URI (deletes its data)")
    parser.add_argument("--neo4j-reuse", action="store_true", help="time NEO4J_URI as loaded (no clear, no load)")
    parser.add_argument("--skip-embedded", action="store_true", help="Neo4j only")
    args = parser.parse_args(argv)
    if not args.skip_embedded:
        with tempfile.TemporaryDirectory(prefix="bench-support-") as folder:
            store = EmbeddedStore(args.db or Path(folder) / "graph.sqlite3")
            store.open()
            try:
                if args.db is None:
                    load(store, args.ofsted)
                run(store, args, "embedded")
            finally:
                store.close()
    uri = os.environ.get("NEO4J_URI")
    if uri and (args.neo4j_clear or args.neo4j_reuse):
        from graph_service.store.neo4j import Neo4jStore

        neo4j = Neo4jStore(
            uri,
            os.environ.get("NEO4J_USER", "neo4j"),
            os.environ.get("NEO4J_PASSWORD", ""),
            database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
        neo4j.open()
        try:
            if args.neo4j_clear:
                neo4j.clear()
                load(neo4j, args.ofsted)
            timing(neo4j, "neo4j", args.timing or 100, args.seed)
        finally:
            neo4j.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
