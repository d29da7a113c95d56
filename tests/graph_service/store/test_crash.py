"""A load killed with SIGKILL mid-write leaves the embedded store whole or untouched."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph_service.store import EmbeddedStore

WRITER = """
import sys
from graph_service.models import NodeKind, Organisation
from graph_service.store import EmbeddedStore, WriteBatch

store = EmbeddedStore(sys.argv[1])
store.open()
batch = WriteBatch(organisations=[
    Organisation(id=str(100000 + n), kind=NodeKind.SCHOOL, name=f"School {n}", urn=100000 + n)
    for n in range({n})
])
print("writing", flush=True)
store.apply(batch)
print("done", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5])
def test_sigkill_during_a_load(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "graph.sqlite3"
    rows = 40_000
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER.replace("{n}", str(rows)), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "writing"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    store = EmbeddedStore(path)
    store.open()
    count = store.counts().get("school", 0)
    store.close()
    print(f"delay {delay}: {count} of {rows} rows after the kill")
    assert count in (0, rows), f"a partial load survived: {count} of {rows}"
