"""Issue 15's exhaustion probes, timed: what a hostile file costs the loaders now.

- a header of 300,000 duplicate columns (was a quadratic check: 52 s before its 422);
- a gzip bomb (a 3 GiB expansion) refused at the decompressed-size limit: time and peak memory;
- England's establishments file read through the streamed, limited decompression, against
  ``gzip.decompress`` of the whole file at once (the code before), so the limit costs no speed.

    python bench/hardening.py [--bomb-gib 3] [--england PATH]

Not a test: run it by hand and read the figures. Each figure runs in its own process, so one
figure's peak memory is not another's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ENGLAND = REPO.parent / "shared" / "data" / "gias" / "edubasealldata20250718_england.csv.gz"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _duplicate_header(folder: str, queue: multiprocessing.Queue) -> None:
    from loaders.common import LoadError, read_csv

    path = Path(folder) / "dup.csv"
    path.write_text("URN," + ",".join(["X"] * 300_000) + "\n1," + ",".join(["a"] * 300_000) + "\n")
    start = time.perf_counter()
    try:
        read_csv(path, ("URN",), "a test file")
        outcome = "read"
    except LoadError as exc:
        outcome = str(exc)[-60:]
    queue.put({"seconds": time.perf_counter() - start, "outcome": outcome, "peak_mib": _peak_mib()})


def _bomb(path: str, queue: multiprocessing.Queue) -> None:
    from loaders.common import LoadError, max_expanded_bytes, read_bytes

    start = time.perf_counter()
    try:
        read_bytes(Path(path))
        outcome = "read"
    except LoadError as exc:
        outcome = str(exc).split(": ", 1)[1]
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "outcome": outcome,
            "limit": max_expanded_bytes(),
            "peak_mib": _peak_mib(),
        }
    )


def _england(path: str, streamed: bool, queue: multiprocessing.Queue) -> None:
    from loaders.common import read_bytes

    start = time.perf_counter()
    size = len(read_bytes(Path(path))) if streamed else len(gzip.decompress(Path(path).read_bytes()))
    queue.put({"seconds": time.perf_counter() - start, "bytes": size, "peak_mib": _peak_mib()})


def _run(target: object, *args: object) -> dict[str, object]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, queue))  # type: ignore[arg-type]
    process.start()
    result = queue.get()
    process.join()
    return result  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bomb-gib", type=float, default=3.0, help="the bomb's expanded size (default 3 GiB)")
    parser.add_argument("--england", type=Path, default=ENGLAND, help="England's establishments file (gzipped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("duplicate header (300,000 columns):", json.dumps(_run(_duplicate_header, folder)))
        bomb = Path(folder) / "bomb.csv.gz"
        chunk = b"0" * (1 << 24)
        with gzip.open(bomb, "wb", compresslevel=9) as handle:
            for _ in range(int(args.bomb_gib * 64)):
                handle.write(chunk)
        print(
            f"gzip bomb: {bomb.stat().st_size:,} bytes expanding to {args.bomb_gib:g} GiB:",
            json.dumps(_run(_bomb, str(bomb))),
        )
    if args.england.exists():
        for streamed in (True, False):
            label = "streamed, limited (now)" if streamed else "gzip.decompress whole (before)"
            print(f"England {args.england.name}, {label}:", json.dumps(_run(_england, str(args.england), streamed)))


if __name__ == "__main__":
    main()
