"""Drive the running API on loopback and report throughput and latency.

Starts ``graph-service serve`` on a free loopback port with the Birmingham sample
(embedded by default; ``--backend neo4j`` uses NEO4J_URI), then sends a bounded
number of requests from several client threads at the given paths and prints
requests per second, median, p95 and p99 latency and the error count.
Targets (embedded): at least 200 requests/s, p99 under 100 ms, zero errors.

    python bench/api_load.py --requests 4000 --concurrency 8
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEFAULT_PATHS = [
    "/questions/isolated?la_code=330",
    "/questions/support/{urn}",
    "/organisations?la_code=330&kind=school&limit=50",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the API did not come up")


def pick_urn(port: int) -> str:
    """A Birmingham school in difficulty, so that support candidates are real work."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/organisations?rating=special_measures&rating=inadequate&status=open&limit=1")
    items = json.loads(conn.getresponse().read())["items"]
    return str(items[0]["id"]) if items else "103120"


def drive(port: int, paths: list[str], requests: int, concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            path = paths[n % len(paths)]
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["embedded", "neo4j"], default="embedded")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--path", action="append", help="path to request (repeatable)")
    args = parser.parse_args()

    folder = tempfile.mkdtemp()
    env = {**os.environ, "GRAPH_SERVICE_STORE": args.backend, "GRAPH_SERVICE_DB": str(Path(folder) / "g.sqlite3")}
    from graph_service.cli import load_sample
    from graph_service.settings import Settings
    from graph_service.store import make_store

    store = make_store(Settings(GRAPH_SERVICE_STORE=args.backend, GRAPH_SERVICE_DB=env["GRAPH_SERVICE_DB"]))
    store.open()
    if args.backend == "neo4j":
        store.clear()
    load_sample(store)
    store.close()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "graph_service.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        urn = pick_urn(port)
        paths = [p.replace("{urn}", urn) for p in (args.path or DEFAULT_PATHS)]
        drive(port, paths, min(200, args.requests), args.concurrency)  # warm caches
        latencies, errors, seconds = drive(port, paths, args.requests, args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"backend={args.backend} paths={paths}")
    print(
        f"requests={len(latencies)} errors={errors} rps={len(latencies) / seconds:.0f} "
        f"median={statistics.median(latencies) * 1000:.1f}ms p95={p(0.95):.1f}ms p99={p(0.99):.1f}ms"
    )


if __name__ == "__main__":
    main()
