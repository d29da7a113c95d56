"""Drive the running API on loopback and report throughput and latency against issues 8 and 16.

Loads the bundled Birmingham sample (January 2025 with Ofsted, then July 2025 over it) into a
fresh store, starts ``graph-service serve [--workers N]`` on a free loopback port in its own
process, and sends a bounded number of GET requests from several client threads. Two mixes:

- ``--mix mixed`` (default, issue 16): per cycle of eight requests, two pages of isolated schools
  (``/questions/isolated`` for Birmingham, a few filters), three support questions
  (``/questions/support/{urn}``) about random open Birmingham schools, two of them as at a random
  date between 2010 and today, two organisation lookups (``/organisations/{id}`` and a filtered
  ``/organisations`` page) and one neighbourhood (``/organisations/{id}/ties``, on a random date
  half the time). Random choices come from a seeded generator (``--seed``), so every backend and
  worker count gets the same requests.
- ``--mix support-isolated`` (issue 8): support for every open Birmingham school in difficulty
  (Special Measures, Serious Weaknesses, Inadequate, Requires improvement), in turn, alternating
  with isolated schools.

It prints requests per second, median, p95 and p99 latency and errors (any answer but 200, or a
broken connection), overall and per endpoint, the CPU seconds of the server (all its workers), of
Neo4j's server when ``--neo4j-pid`` names it, and of this client (all share the machine's cores),
the load average, and verdicts. Targets: issue 8
(embedded, one process): at least 200 requests/s, p99 under 100 ms, zero errors; issue 16 (fresh
mixed workload): Neo4j within 1.5x of the embedded store's throughput with p99 under 250 ms
(``--backend both`` runs the two in turn and compares), and with ``--workers`` 2 or more at least
180 requests/s, p99 under 200 ms, zero errors.

    python bench/api_load.py --fresh [--requests 4000] [--concurrency 8] [--workers 2]
    export NEO4J_URI=$(scripts/neo4j-test-server start)
    python bench/api_load.py --fresh --backend both --clear   # --clear: it wipes that database
    # ... --neo4j-pid "$(cat "$NEO4J_TEST_RUN_DIR/neo4j.pid")" also counts the JVM's CPU

``--fresh`` makes each request a question not asked before (a radius or page size a little
different), which measures the questions themselves rather than the remembered answers (the mix
has few distinct isolated paths). ``--path`` (repeatable) replaces the mix with the given paths.
Not a test: read the figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

BIRMINGHAM = 330
IN_DIFFICULTY = ("special_measures", "serious_weaknesses", "inadequate", "requires_improvement")
ISOLATED_PATHS = [
    f"/questions/isolated?la_code={BIRMINGHAM}",
    f"/questions/isolated?la_code={BIRMINGHAM}&offset=100",
    f"/questions/isolated?la_code={BIRMINGHAM}&phase=primary&limit=50",
    f"/questions/isolated?la_code={BIRMINGHAM}&phase=secondary&limit=50",
    f"/questions/isolated?la_code={BIRMINGHAM}&max_ties=1&loose=true&limit=50",
    f"/questions/isolated?la_code={BIRMINGHAM}&remote_km=2&limit=50",
]
TARGET_RPS = 200.0
TARGET_P99_MS = 100.0
#: Issue 16: Neo4j's throughput at least the embedded store's divided by this, p99 under 250 ms.
NEO4J_RATIO = 1.5
NEO4J_P99_MS = 250.0
#: Issue 16: several workers on 2 cores.
WORKERS_RPS = 180.0
WORKERS_P99_MS = 200.0
FIRST_DAY = date(2010, 1, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if get(port, "/health", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
    raise SystemExit(f"the API did not come up on port {port}; its log ends:\n{tail}")


def in_difficulty(port: int) -> list[str]:
    """URNs of the open Birmingham schools in difficulty, so that support candidates are real work."""
    query = "&".join(f"rating={rating}" for rating in IN_DIFFICULTY)
    status, body = get(port, f"/organisations?la_code={BIRMINGHAM}&kind=school&status=open&{query}&limit=500")
    if status != 200:
        raise SystemExit(f"listing the schools in difficulty answered {status}: {body[:300]!r}")
    urns = [str(item["id"]) for item in json.loads(body)["items"]]
    if not urns:
        raise SystemExit("no open Birmingham school in difficulty: was the January file (with Ofsted) loaded?")
    return urns


def open_schools(port: int) -> list[str]:
    """Ids of every open Birmingham school (paged through the API)."""
    found: list[str] = []
    while True:
        status, body = get(
            port, f"/organisations?la_code={BIRMINGHAM}&kind=school&status=open&limit=500&offset={len(found)}"
        )
        if status != 200:
            raise SystemExit(f"listing the open schools answered {status}: {body[:300]!r}")
        page = json.loads(body)
        found += [str(item["id"]) for item in page["items"]]
        if len(found) >= page["total"] or not page["items"]:
            return found


def mixed(port: int, count: int, seed: int) -> list[tuple[str, str]]:
    """Issue 16's mixed workload: ``count`` requests, cycles of eight (see the module's docstring)."""
    rng = Random(seed)
    schools = open_schools(port)
    span = (date.today() - FIRST_DAY).days

    def day() -> str:
        return (FIRST_DAY + timedelta(days=rng.randrange(span + 1))).isoformat()

    phases = ["primary", "secondary", "nursery", "all_through"]
    cycle = [
        lambda: ("isolated", rng.choice(ISOLATED_PATHS)),
        lambda: ("support (today)", f"/questions/support/{rng.choice(schools)}"),
        lambda: ("organisation", f"/organisations/{rng.choice(schools)}"),
        lambda: ("support (a date)", f"/questions/support/{rng.choice(schools)}?as_at={day()}"),
        lambda: ("isolated", rng.choice(ISOLATED_PATHS)),
        lambda: (
            "organisations page",
            f"/organisations?la_code={BIRMINGHAM}&phase={rng.choice(phases)}&offset={rng.randrange(100)}&limit=20",
        ),
        lambda: ("support (a date)", f"/questions/support/{rng.choice(schools)}?as_at={day()}"),
        lambda: (
            "neighbourhood",
            f"/organisations/{rng.choice(schools)}/ties" + (f"?as_at={day()}" if rng.random() < 0.5 else ""),
        ),
    ]
    return [cycle[n % len(cycle)]() for n in range(count)]


def freshen(group: str, path: str, k: int) -> str:
    """The k-th variant of a path, a question not asked before, so that no answer comes from a cache.

    Support: a radius a ten-thousandth of a km wider per variant (15 km by default). Isolated: a
    page size up to 10 smaller and an offset one later every 11 variants. The work barely changes.
    """
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query))
    if not group.startswith(("support", "isolated")):
        return path  # lookups are never remembered
    if group.startswith("support"):
        query["radius_km"] = f"{float(query.get('radius_km', 15)) + k / 10_000:.4f}"
    else:
        query["limit"] = str(int(query.get("limit", 100)) - k % 11)
        query["offset"] = str(int(query.get("offset", 0)) + k // 11)
    return f"{parts.path}?{urlencode(query)}"


def fresh_mix(mix: list[tuple[str, str]], count: int, seen: Counter[str]) -> list[tuple[str, str]]:
    """``count`` requests walking ``mix``, each path a variant not yet in ``seen`` (updated)."""
    fresh = []
    for n in range(count):
        group, path = mix[n % len(mix)]
        fresh.append((group, freshen(group, path, seen[path])))
        seen[path] += 1
    return fresh


def server_cpu(pid: int) -> float:
    """User + system CPU seconds so far of a process and its descendants (uvicorn's workers; Linux /proc)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(ticks.get(member, 0) for member in tree) / os.sysconf("SC_CLK_TCK")


class Run:
    """Latencies and errors of one drive, per endpoint group."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.errors: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.first_error: str | None = None
        self.seconds = 0.0
        self.client_cpu = 0.0
        self.server_cpu = 0.0
        self.neo4j_cpu: float | None = None


#: Each client thread opens a new connection after this many requests, as many clients would: with
#: a few long-lived connections, which server worker accepted each decides the share of the work.
RECONNECT_EVERY = 20


def drive(
    port: int,
    mix: list[tuple[str, str]],
    requests: int,
    concurrency: int,
    server_pid: int,
    neo4j_pid: int | None = None,
) -> Run:
    run = Run()
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent = 0
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            sent += 1
            if sent % RECONNECT_EVERY == 0:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            group, path = mix[n % len(mix)]
            start = time.perf_counter()
            problem = None
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    problem = f"{response.status} from {path}: {body[:300]!r}"
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                problem, status = f"{type(exc).__name__} on {path}: {exc}", type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                run.latencies.setdefault(group, []).append(elapsed)
                run.statuses[status] += 1
                if problem is not None:
                    run.errors[group] += 1
                    run.first_error = run.first_error or problem
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    server_before, client_before = server_cpu(server_pid), time.process_time()
    neo4j_before = None if neo4j_pid is None else server_cpu(neo4j_pid)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    run.client_cpu = time.process_time() - client_before
    run.server_cpu = server_cpu(server_pid) - server_before
    if neo4j_pid is not None and neo4j_before is not None:
        run.neo4j_cpu = server_cpu(neo4j_pid) - neo4j_before
    return run


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "rps": len(ordered) / seconds,
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": percentile(ordered, 0.95) * 1000,
        "p99_ms": percentile(ordered, 0.99) * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def line(name: str, fig: dict[str, Any]) -> str:
    return (
        f"{name:<22} requests={fig['requests']:<6} errors={fig['errors']:<4} rps={fig['rps']:6.0f}"
        f"  median={fig['median_ms']:6.1f} ms  p95={fig['p95_ms']:6.1f} ms  p99={fig['p99_ms']:6.1f} ms"
        f"  max={fig['max_ms']:6.1f} ms"
    )


def load_store(backend: str, db: Path, clear: bool) -> None:
    from graph_service.cli import load_sample
    from graph_service.settings import Settings
    from graph_service.store import make_store

    store = make_store(Settings(GRAPH_SERVICE_STORE=backend, GRAPH_SERVICE_DB=db))
    store.open()
    try:
        if backend == "neo4j" and store.counts():
            if not clear:
                raise SystemExit(f"the Neo4j database at {os.environ['NEO4J_URI']} is not empty: pass --clear")
            store.clear()
        start = time.perf_counter()
        load_sample(store)
        print(f"loaded the Birmingham sample into {backend} in {time.perf_counter() - start:.1f} s")
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["embedded", "neo4j", "both"], default="embedded")
    parser.add_argument("--mix", choices=["mixed", "support-isolated"], default="mixed")
    parser.add_argument("--requests", type=int, default=4000, help="timed requests (default 4000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="`graph-service serve --workers N` (default 1)")
    parser.add_argument("--seed", type=int, default=16, help="seed of the mixed workload's random choices")
    parser.add_argument(
        "--fresh", action="store_true", help="make every request a question not asked before (no answer cache)"
    )
    parser.add_argument("--clear", action="store_true", help="Neo4j: wipe the database first if not empty")
    parser.add_argument("--path", action="append", help="request only these paths (repeatable)")
    parser.add_argument(
        "--neo4j-pid", type=int, help="pid of the Neo4j server (its launcher or JVM), to count its CPU as well"
    )
    args = parser.parse_args()
    if args.backend != "embedded" and not os.environ.get("NEO4J_URI"):
        parser.error("--backend neo4j or both needs NEO4J_URI (scripts/neo4j-test-server start prints one)")

    backends = ["embedded", "neo4j"] if args.backend == "both" else [args.backend]
    totals: dict[str, dict[str, Any]] = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="bench-api-") as scratch:
            totals[backend] = bench(args, backend, Path(scratch))
    return verdicts(args, totals)


def bench(args: argparse.Namespace, backend: str, folder: Path) -> dict[str, Any]:
    """One backend: load, serve, warm up, drive; prints its figures and returns the overall ones."""
    db = folder / "graph.sqlite3"
    print(f"uptime before the load: {uptime()}")
    load_store(backend, db, args.clear)
    env = {**os.environ, "GRAPH_SERVICE_STORE": backend, "GRAPH_SERVICE_DB": str(db)}
    port = free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "graph_service.cli", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(port, server, log)
        if args.path:
            mix = [("given paths", path) for path in args.path]
        elif args.mix == "mixed":
            mix = mixed(port, args.requests, args.seed)
        else:
            support = [("support/{urn}", f"/questions/support/{urn}") for urn in in_difficulty(port)]
            isolated = [("isolated", path) for path in ISOLATED_PATHS]
            # Alternate the two endpoints; each walks its own list round-robin.
            mix = []
            for n in range(max(len(support), len(isolated))):
                mix += [support[n % len(support)], isolated[n % len(isolated)]]
        print(
            f"backend={backend} mix={args.mix} server processes={args.workers} client threads={args.concurrency}"
            f" distinct paths={len(set(mix))}"
        )
        for group in sorted({group for group, _ in mix}):
            examples = [path for g, path in dict.fromkeys(mix) if g == group]
            print(f"  {group}: {len(examples)} paths, e.g. {examples[0]}")
        # Warm-up: each worker's first questions build its graph and indexes. The mixed workload
        # warms up on a workload of its own (another seed), so the timed requests stay new.
        if args.mix == "mixed" and not args.path:
            warm = mixed(port, max(200, 50 * args.workers), args.seed + 1)
        else:
            warm = list(dict.fromkeys(mix)) * 2
        timed = mix
        if args.fresh:
            seen: Counter[str] = Counter()
            warm, timed = fresh_mix(warm, len(warm), seen), fresh_mix(mix, args.requests, seen)
            print(f"  --fresh: every request a new question, e.g. {timed[0][1]} and {timed[1][1]}")
        drive(port, warm, len(warm), args.concurrency, server.pid)
        load_before = uptime()
        neo4j_pid = args.neo4j_pid if backend == "neo4j" else None
        run = drive(port, timed, args.requests, args.concurrency, server.pid, neo4j_pid)
    finally:
        server.terminate()
        server.wait(timeout=60)

    every = [value for values in run.latencies.values() for value in values]
    total = figures(every, sum(run.errors.values()), run.seconds)
    print(line("all", total))
    for group, values in sorted(run.latencies.items()):
        print(line(group, figures(values, run.errors[group], run.seconds)))
    print(f"statuses: {dict(run.statuses)}")
    if run.first_error:
        print(f"first error: {run.first_error}")
    neo4j = "" if run.neo4j_cpu is None else f", Neo4j {run.neo4j_cpu:.1f} s"
    print(
        f"CPU over {run.seconds:.1f} s of wall time: server {run.server_cpu:.1f} s{neo4j},"
        f" this client {run.client_cpu:.1f} s (of {os.cpu_count()} cores); per request: server"
        f" {run.server_cpu / args.requests * 1000:.2f} ms"
        + ("" if run.neo4j_cpu is None else f", Neo4j {run.neo4j_cpu / args.requests * 1000:.2f} ms")
        + f"; uptime before the timed run: {load_before}; after: {uptime()}"
    )
    return total


def uptime() -> str:
    """The machine's load averages (1, 5, 15 minutes), as `uptime` shows them."""
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def verdicts(args: argparse.Namespace, totals: dict[str, dict[str, Any]]) -> int:
    checks: dict[str, bool] = {}
    if "embedded" in totals and args.workers == 1:
        embedded = totals["embedded"]
        checks[f"issue 8, embedded: at least {TARGET_RPS:.0f} requests/s"] = embedded["rps"] >= TARGET_RPS
        checks[f"issue 8, embedded: p99 under {TARGET_P99_MS:.0f} ms"] = embedded["p99_ms"] < TARGET_P99_MS
    if "neo4j" in totals:
        neo4j = totals["neo4j"]
        if "embedded" in totals:
            ratio = totals["embedded"]["rps"] / neo4j["rps"]
            checks[f"issue 16, neo4j within {NEO4J_RATIO}x of embedded throughput (is {ratio:.2f}x)"] = (
                ratio <= NEO4J_RATIO
            )
        checks[f"issue 16, neo4j p99 under {NEO4J_P99_MS:.0f} ms"] = neo4j["p99_ms"] < NEO4J_P99_MS
    if args.workers >= 2:
        for backend, total in totals.items():
            checks[f"issue 16, {backend} {args.workers} workers: at least {WORKERS_RPS:.0f} requests/s"] = (
                total["rps"] >= WORKERS_RPS
            )
            checks[f"issue 16, {backend} {args.workers} workers: p99 under {WORKERS_P99_MS:.0f} ms"] = (
                total["p99_ms"] < WORKERS_P99_MS
            )
    for backend, total in totals.items():
        checks[f"{backend}: zero errors"] = total["errors"] == 0
    if not args.fresh:
        print("(not --fresh: issue 16's targets are for the fresh workload)")
    print("verdict:")
    for name, ok in checks.items():
        print(f"  {name}: {'met' if ok else 'NOT met'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
