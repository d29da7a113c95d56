"""Cold starts (issue 22): one-shot CLI questions and ``serve`` to its first answers, wall clock and peak memory.

Each command runs in a fresh process on a store that holds England (``bench/writes.py`` loads it
into ``--db`` when empty), three times; the peak resident memory is the child's (``ru_maxrss``).
Then ``graph-service serve`` is started and timed to ``/health``, to its first isolated answer and
to its first support answer, and its resident memory after them is read.

    python bench/coldstart.py [--db /tmp/bench-writes-england.sqlite3] [--runs 3]

Not a test: read the figures (bench/README.md records them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import free_port, get, wait_until_up  # noqa: E402
from writes import LA, load_england, resident_mb  # noqa: E402

CLI = "import sys; from graph_service.cli import main; sys.exit(main(sys.argv[1:]))"
COMMANDS = [
    ["--help"],
    ["isolated", "--la", LA],
    ["support", "136193"],
    ["health", "--la", LA],
]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak MB and exit code of one fresh process running ``graph-service <command>``."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, child.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "bench-writes-england.sqlite3")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_england("embedded", args.db)
    env = {**os.environ, "GRAPH_SERVICE_STORE": "embedded", "GRAPH_SERVICE_DB": str(args.db)}
    print(f"load average before: {os.getloadavg()}")
    for command in COMMANDS:
        runs = [timed(command, env) for _ in range(args.runs)]
        walls = ", ".join(f"{wall:.2f}" for wall, _peak, _code in runs)
        codes = {code for _wall, _peak, code in runs}
        peaks = ", ".join(f"{peak:.0f}" for _wall, peak, _code in runs)
        print(f"graph-service {' '.join(command)}: {walls} s; peak {peaks} MB; exit {codes}")
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as scratch:
        port = free_port()
        log = Path(scratch) / "serve.log"
        start = time.perf_counter()
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "graph_service.cli", "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_up(port, server, log)
            up = time.perf_counter() - start
            status, _body = get(port, f"/questions/isolated?local_authority={LA}&limit=50", timeout=120)
            isolated = time.perf_counter() - start
            status2, _body = get(port, "/questions/support/136193", timeout=120)
            support = time.perf_counter() - start
            print(
                f"serve: /health after {up:.2f} s, first isolated answer ({status}) after {isolated:.2f} s,"
                f" first support answer ({status2}) after {support:.2f} s; memory {resident_mb(server.pid):.0f} MB"
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
