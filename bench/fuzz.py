"""Long schemathesis run against the app's own OpenAPI schema, on the embedded store and on Neo4j.

The short run in CI is tests/graph_service/api/test_fuzz.py; this runs its ``fuzz`` helper (the
same checks: no 5xx, every response matches the schema, no write without a key) with many more
examples, in the same three runs per backend:

- ``admin``: valid requests with an admin key (``--examples`` per operation);
- ``admin-invalid``: invalid requests (wrong types, out-of-range numbers, missing fields) with an
  admin key, which must be refused with a documented 4xx (half as many examples);
- ``no-key``: valid requests with no key, which may read and never write (half as many).

The store holds the tests' small network (``--sample``: the Birmingham sample instead), and the
admin run's writes change it as the run goes. Prints, per run and operation, the cases run and
the HTTP statuses answered, then every failure. Exit status 1 if any operation failed.

    python bench/fuzz.py --examples 200                  # embedded, and Neo4j if NEO4J_URI is set
    python bench/fuzz.py --backend neo4j --clear         # --clear: it wipes that Neo4j database

Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the CI run's helper lives in tests/, which is not installed

import schemathesis  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from graph_service.api.app import create_app  # noqa: E402
from graph_service.store import EmbeddedStore, GraphStore  # noqa: E402
from tests.factories import small_network  # noqa: E402
from tests.graph_service.api.test_fuzz import fuzz  # noqa: E402
from tests.graph_service.api.test_writes import ADMIN, make_settings  # noqa: E402

RUNS: list[tuple[str, dict[str, str], GenerationMode, int]] = [
    # (name, headers, mode, divisor of --examples), as test_fuzz.py parametrizes them.
    ("admin", ADMIN, GenerationMode.POSITIVE, 1),
    ("admin-invalid", ADMIN, GenerationMode.NEGATIVE, 2),
    ("no-key", {}, GenerationMode.POSITIVE, 2),
]


class Tally:
    """Cases and statuses per (run, operation), counted by wrapping schemathesis' Case.

    ``fuzz`` returns only failures; counting inside Case keeps the helper unchanged.
    """

    def __init__(self) -> None:
        self.run = ""
        self.cases: Counter[tuple[str, str]] = Counter()
        self.statuses: dict[tuple[str, str], Counter[int]] = {}
        case_class: Any = schemathesis.Case
        call_and_validate: Callable[..., Any] = case_class.call_and_validate
        call: Callable[..., Any] = case_class.call
        tally = self

        def counted_case(case: Any, *args: Any, **kwargs: Any) -> Any:
            tally.cases[tally.run, case.operation.label] += 1
            return call_and_validate(case, *args, **kwargs)

        def counted_call(case: Any, *args: Any, **kwargs: Any) -> Any:
            response = call(case, *args, **kwargs)
            key = (tally.run, case.operation.label)
            tally.statuses.setdefault(key, Counter())[response.status_code] += 1
            return response

        case_class.call_and_validate = counted_case
        case_class.call = counted_call


def make_store(backend: str, folder: Path) -> GraphStore:
    if backend == "embedded":
        store: GraphStore = EmbeddedStore(folder / "fuzz.sqlite3")
    else:
        from graph_service.store.neo4j import Neo4jStore

        store = Neo4jStore(
            os.environ["NEO4J_URI"],
            os.environ.get("NEO4J_USER", "neo4j"),
            os.environ.get("NEO4J_PASSWORD", ""),
            database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
    store.open()
    return store


def fuzz_backend(backend: str, args: argparse.Namespace, tally: Tally) -> dict[str, dict[str, str]]:
    """The three runs on one backend; failures by run and operation."""
    failures: dict[str, dict[str, str]] = {}
    if backend == "neo4j" and not args.clear:
        with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as scratch:
            store = make_store(backend, Path(scratch))
            try:
                if store.counts():
                    raise SystemExit(f"the Neo4j database at {os.environ['NEO4J_URI']} is not empty: pass --clear")
            finally:
                store.close()
    for name, headers, mode, divisor in RUNS:
        run = f"{backend}/{name}"
        with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as scratch:
            folder = Path(scratch)
            store = make_store(backend, folder)
            try:
                store.clear()  # each run starts from the same data, as the CI test's fixture does
                if args.sample:
                    from graph_service.cli import load_sample

                    load_sample(store)
                else:
                    store.apply(small_network())
                app = create_app(make_settings(folder), store=store)
                tally.run = run
                examples = max(1, args.examples // divisor)
                start = time.perf_counter()
                try:
                    found = fuzz(app, examples, headers, mode)
                except AssertionError as exc:  # the helper's own sanity checks (operations present)
                    found = {"(schema)": f"AssertionError: {exc}"}
                except BaseException as exc:  # Unsatisfiable and the like: report, keep going
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    found = {"(run)": f"{type(exc).__name__}: {exc}"[:2000]}
                seconds = time.perf_counter() - start
            finally:
                store.close()
        cases = sum(count for (r, _), count in tally.cases.items() if r == run)
        print(
            f"{run}: {examples} examples per operation asked, {cases} cases run in {seconds:.0f} s,"
            f" {len(found)} operations failed",
            flush=True,
        )
        failures[run] = found
    return failures


def show(tally: Tally, failures: dict[str, dict[str, str]]) -> None:
    runs = list(failures)
    operations = sorted({operation for _, operation in tally.cases}, key=lambda op: (op.split(" ", 1)[1], op))
    width = max(len(op) for op in operations) if operations else 10
    print("\ncases per operation (statuses answered, over every request the checks made):")
    for run in runs:
        print(f"\n[{run}]")
        for operation in operations:
            cases = tally.cases.get((run, operation), 0)
            statuses = tally.statuses.get((run, operation), Counter())
            answered = " ".join(f"{status}x{count}" for status, count in sorted(statuses.items()))
            mark = "  FAILED" if operation in failures[run] else ""
            print(f"  {operation:<{width}} {cases:6d}  {answered}{mark}")
    total = sum(len(found) for found in failures.values())
    print(f"\nfailures: {total}")
    for run, found in failures.items():
        for operation, message in found.items():
            print(f"\n--- {run}: {operation}\n{message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200, help="examples per operation, valid run (default 200)")
    parser.add_argument(
        "--backend",
        choices=["embedded", "neo4j", "both"],
        help="default: embedded, and neo4j too when NEO4J_URI is set",
    )
    parser.add_argument("--clear", action="store_true", help="Neo4j: wipe the database even if not empty")
    parser.add_argument("--sample", action="store_true", help="fuzz the Birmingham sample, not the small network")
    args = parser.parse_args()
    uri = os.environ.get("NEO4J_URI")
    backends = {"embedded": ["embedded"], "neo4j": ["neo4j"], "both": ["embedded", "neo4j"]}.get(
        args.backend or "", ["embedded", "neo4j"] if uri else ["embedded"]
    )
    if "neo4j" in backends and not uri:
        parser.error("Neo4j needs NEO4J_URI (scripts/neo4j-test-server start prints one)")
    if "neo4j" not in backends:
        print("NEO4J_URI not set: fuzzing the embedded store only")

    tally = Tally()
    failures: dict[str, dict[str, str]] = {}
    began = time.perf_counter()
    for backend in backends:
        failures.update(fuzz_backend(backend, args, tally))
    show(tally, failures)
    cases = sum(tally.cases.values())
    print(f"\n{cases} cases on {', '.join(backends)} in {time.perf_counter() - began:.0f} s")
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
