"""Writes under a running server (issue 22): memory and read latency after each API write.

Serves a store that holds England (GIAS July 2025 with links, then Ofsted's August 2025 outcomes;
loaded once into ``--db`` when it is empty), warms the server up with a search, an isolated page
and a support question, then makes ``--writes`` API writes, a mix of an editor's work (create or
rename a community partner, add a ``supports`` or ``collaborates_on`` tie from one to a school,
end such a tie), each followed by the three reads. It prints the server's resident memory before
and after (and every 100 writes), the write and read latencies (median, p95, max), and whether
the last answers equal those of a fresh server started on the same store afterwards.

    python bench/writes.py [--db /tmp/england.sqlite3] [--writes 1000] [--backend embedded|neo4j]
    # Neo4j: NEO4J_URI (scripts/neo4j-test-server start prints one); England is loaded into it when empty

Not a test: read the figures (bench/README.md records them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from random import Random
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import free_port, wait_until_up  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
GIAS = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
OFSTED = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
KEY = "bench-editor-key-0123456789"
#: Cornwall: a large rural area (the issue's isolated question); schools to support and to tie.
LA = "Cornwall"
SEARCHES = ["st mary", "academy", "penzance", "TR1", "primary", "truro", "community", "school"]


def request(port: int, method: str, path: str, body: Any = None) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    start = time.perf_counter()
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, data, time.perf_counter() - start


def resident_mb(pid: int) -> float:
    """Resident memory of the server process and its children (a worker pool), in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(child) for child in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def load_england(backend: str, db: Path) -> None:
    env = {**os.environ, "GRAPH_SERVICE_STORE": backend, "GRAPH_SERVICE_DB": str(db)}
    check = subprocess.run(
        [sys.executable, "-c", "from graph_service.cli import main; main()", "isolated", "--la", LA, "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
    )
    if check.returncode == 0 and check.stdout.count("\n") > 5:
        return
    with tempfile.TemporaryDirectory() as scratch:
        for command in (
            ["load", "gias", str(GIAS), "--links", str(LINKS), "--report", f"{scratch}/gias.csv"],
            ["load", "ofsted", str(OFSTED), "--report", f"{scratch}/ofsted.csv"],
        ):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "graph_service.cli", *command], env=env, check=True)
            print(f"{' '.join(command[:2])}: {time.perf_counter() - start:.1f} s")


def reads(port: int, rng: Random, schools: list[str]) -> dict[str, tuple[int, bytes, float]]:
    return {
        "search": request(port, "GET", f"/viz/search?q={rng.choice(SEARCHES).replace(' ', '+')}"),
        "isolated": request(port, "GET", f"/questions/isolated?local_authority={LA}&limit=50"),
        "support": request(port, "GET", f"/questions/support/{rng.choice(schools)}"),
    }


def write(port: int, n: int, rng: Random, schools: list[str], ties: list[str]) -> tuple[int, float]:
    """One editor's write: a partner, a tie, or the end of a tie."""
    choice = n % 4
    if choice == 0 or not ties:
        body = {"kind": "community_partner", "name": f"Bench partner {n}", "local_authority": LA}
        status, _data, took = request(port, "PUT", f"/organisations/bench-{n % 50}", body)
        return status, took
    if choice in (1, 2):
        body = {
            "source_id": f"bench-{rng.randrange(min(n, 50))}",
            "target_id": rng.choice(schools),
            "kind": "supports" if choice == 1 else "collaborates_on",
            "focus": f"f{n}",
            "since": "2024-09-01",
        }
        status, data, took = request(port, "POST", "/ties", body)
        if status in (200, 201):
            ties.append(json.loads(data)["id"])
        return status, took
    tie = ties.pop(rng.randrange(len(ties)))
    status, _data, took = request(port, "POST", f"/ties/{tie}/end", {"until": "2025-07-31"})
    return status, took


def serve(env: dict[str, str], folder: Path, name: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "graph_service.cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return server, port, log


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench-writes-england.sqlite3")
    parser.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    load_england(args.backend, args.db)
    env = {
        **os.environ,
        "GRAPH_SERVICE_STORE": args.backend,
        "GRAPH_SERVICE_DB": str(args.db),
        "GRAPH_SERVICE_API_KEYS": f"bench:editor:{KEY}",
    }
    rng = Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-writes-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        server, port, log = serve(env, folder, "server")
        try:
            wait_until_up(port, server, log)
            up = time.perf_counter() - started
            status, data, took = request(port, "GET", f"/questions/isolated?local_authority={LA}&limit=50")
            first = time.perf_counter() - started
            print(f"serve: /health after {up:.2f} s, first isolated answer after {first:.2f} s ({took:.2f} s)")
            listed = request(port, "GET", f"/organisations?local_authority={LA}&kind=school&status=open&limit=500")
            schools = [item["id"] for item in json.loads(listed[1])["items"]]
            status, data, took = request(port, "GET", f"/questions/support/{schools[0]}")
            print(f"first support answer {took:.2f} s; memory after the first answers {resident_mb(server.pid):.0f} MB")
            reads(port, rng, schools)
            before = resident_mb(server.pid)
            print(f"memory before the writes (warm): {before:.0f} MB")
            writes: list[float] = []
            timings: dict[str, list[float]] = {"search": [], "isolated": [], "support": []}
            errors = 0
            ties: list[str] = []
            for n in range(args.writes):
                status, took = write(port, n, rng, schools, ties)
                errors += status >= 400
                writes.append(took)
                for name, (status, _data, took) in reads(port, rng, schools).items():
                    errors += status != 200
                    timings[name].append(took)
                if (n + 1) % 100 == 0:
                    print(f"  after {n + 1} writes: {resident_mb(server.pid):.0f} MB")
            after = resident_mb(server.pid)
            final = {name: data for name, (_s, data, _t) in reads(port, Random(1), schools).items()}
        finally:
            server.terminate()
            server.wait(timeout=60)
        every = [value for values in timings.values() for value in values]
        print(f"{args.writes} writes ({errors} errors): {ms(writes)}")
        for name, values in timings.items():
            print(f"  {name} right after a write: {ms(values)}")
        print(f"  every read right after a write: {ms(every)}")
        print(f"memory: {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)")
        fresh, port, log = serve(env, folder, "fresh")
        try:
            wait_until_up(port, fresh, log)
            again = {name: data for name, (_s, data, _t) in reads(port, Random(1), schools).items()}
        finally:
            fresh.terminate()
            fresh.wait(timeout=60)
        same = [name for name in final if final[name] == again[name]]
        print(f"answers equal a fresh server's: {', '.join(same) or 'none'} of {', '.join(final)}")
        return 0 if len(same) == len(final) and errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
