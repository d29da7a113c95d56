"""A real ``graph-service load gias`` killed with SIGKILL leaves the embedded store whole or untouched.

The store first holds the January Birmingham file; the killed process loads the July
files (establishments, children's centres, links, hubs) over it. After the kill the file
must pass SQLite's integrity check and hold exactly the January state or exactly the
state a complete July load gives: organisations, ties, counts and the load's metadata.

The child is the real command line (``graph_service.cli.main``) with an observer on its
SQLite connection that prints where the load is, and at some points stops there and
waits, so that the kill is certain to land inside the write transaction (or after the
commit but before the file is closed) rather than only ever before the write starts.
Other cases kill it running, wherever it has got to. Nothing is timed.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph_service.store import EmbeddedStore, OrganisationFilter
from loaders.gias import load_gias

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "graph_service" / "sample_data"
JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
JULY_LOAD = [
    "load",
    "gias",
    str(SAMPLE / "edubasealldata20250718_birmingham.csv"),
    str(SAMPLE / "childrencentres20250727_birmingham.csv"),
    "--links",
    str(SAMPLE / "links_edubasealldata20250718_birmingham.csv"),
    "--hubs",
    str(SAMPLE / "teaching_school_hubs_lead_schools.csv"),
]

#: Runs the real CLI; argv[1] says where to stop ("" = nowhere), the rest is the CLI's argv.
CHILD = r"""
import os, sqlite3, sys, time
from collections import Counter

stop_at, argv = sys.argv[1], sys.argv[2:]
db = os.environ["GRAPH_SERVICE_DB"]
seen = Counter()

def wal():
    try:
        return os.path.getsize(db + "-wal")
    except OSError:
        return 0

def mark(where):
    print(f"{where} wal={wal()}", flush=True)
    if where == stop_at:
        print("stopped", flush=True)
        time.sleep(600)  # until the test kills us

def trace(sql):
    head = " ".join(sql.split()[:3])
    seen[head] += 1
    n = seen[head]
    if head == "BEGIN IMMEDIATE":
        mark("begin")
    elif head == "SELECT id, data" and n == 1:
        mark("reading")
    elif head == "INSERT INTO organisations" and n % 300 == 0:
        mark(f"organisations:{n}")
    elif head == "INSERT INTO ties" and n % 300 == 0:
        mark(f"ties:{n}")
    elif head == "COMMIT":
        mark("commit")  # called before SQLite runs the COMMIT

class Observed(sqlite3.Connection):
    def close(self):
        mark("close")  # committed, not yet checkpointed into the main file
        super().close()

real_connect = sqlite3.connect

def connect(*args, **kwargs):
    conn = real_connect(*args, factory=Observed, **kwargs)
    # A small page cache makes SQLite spill uncommitted pages into the -wal file
    # mid-transaction: the file on disk is then really half written when we kill.
    conn.execute("PRAGMA cache_size=20")
    conn.set_trace_callback(trace)
    return conn

sqlite3.connect = connect
from graph_service.cli import main
raise SystemExit(main(argv))
"""


def state(path: Path) -> dict[str, Any]:
    """Everything a load writes, as comparable values."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    store = EmbeddedStore(path)
    store.open()
    try:
        organisations = store.list_organisations(OrganisationFilter(), limit=100_000)[0]
        return {
            "counts": store.counts(),
            "meta": store.get_meta(),
            "organisations": sorted(org.model_dump_json() for org in organisations),
            "ties": sorted(tie.model_dump_json() for tie in store.all_ties()),
        }
    finally:
        store.close()


@dataclass
class Child:
    process: subprocess.Popen[str]
    lines: list[str]

    def wait_for(self, prefix: str) -> str:
        """Read the child's output up to a line starting with ``prefix``."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(prefix):
                return line.rstrip("\n")
        raise AssertionError(f"the load ended without printing {prefix!r}: {self.lines}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        assert self.process.returncode == -signal.SIGKILL

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_exc: object) -> None:
        # A failed assertion must not leave a child asleep in the middle of a load.
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start(db: Path, stop_at: str) -> Child:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "GRAPH_SERVICE_STORE": "embedded",
        "GRAPH_SERVICE_DB": str(db),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, stop_at, *JULY_LOAD],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    return Child(process, [])


def wal_size(line: str) -> int:
    return int(line.rsplit("wal=", 1)[1])


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The January store file, its state, and the state after a complete July load over it."""
    folder = tmp_path_factory.mktemp("crash")
    january = folder / "january.sqlite3"
    store = EmbeddedStore(january)
    store.open()
    load_gias(store, [JANUARY])
    store.close()
    assert not Path(f"{january}-wal").exists()  # closed cleanly: the main file is the whole state

    complete = folder / "complete.sqlite3"
    shutil.copy(january, complete)
    with start(complete, "") as child:
        out, _ = child.process.communicate(timeout=120)
    assert child.process.returncode == 0, out
    assert "written:" in out and "stopped" not in out
    before, after = state(january), state(complete)
    assert before != after and after["meta"]["data_date"] == "2025-07-18" != before["meta"]["data_date"]
    return january, before, after


@pytest.mark.parametrize(
    ("stop_at", "expected"),
    [
        ("reading", "before"),  # still validating: nothing written yet
        ("organisations:600", "before"),  # half the organisations written, uncommitted
        ("ties:900", "before"),  # organisations and some ties written, uncommitted
        ("commit", "before"),  # everything written, COMMIT not yet run
        ("close", "after"),  # committed into the -wal file, not checkpointed
    ],
)
def test_sigkill_stopped_at_a_known_point_of_the_load(
    tmp_path: Path, states: tuple[Path, dict[str, Any], dict[str, Any]], stop_at: str, expected: str
) -> None:
    january, before, after = states
    db = tmp_path / "graph.sqlite3"
    shutil.copy(january, db)
    with start(db, stop_at) as child:
        begin = 0 if stop_at == "reading" else wal_size(child.wait_for("begin"))
        child.wait_for("stopped")
        where = child.lines[-2]
        assert where.startswith(f"{stop_at} ")
        if stop_at.startswith(("organisations", "ties")):
            # Uncommitted pages are in the -wal file: the kill really hits a half-written file.
            assert wal_size(where) > begin
        child.kill()

    assert state(db) == (before if expected == "before" else after)


@pytest.mark.parametrize("kill_on", ["begin", "organisations:300", "organisations:900", "ties:600", "ties:1200"])
def test_sigkill_of_a_running_load_leaves_it_whole_or_absent(
    tmp_path: Path, states: tuple[Path, dict[str, Any], dict[str, Any]], kill_on: str
) -> None:
    """Killed as soon as it says where it is: it has run on a little, to wherever it got."""
    january, before, after = states
    db = tmp_path / "graph.sqlite3"
    shutil.copy(january, db)
    with start(db, "") as child:
        child.wait_for(kill_on)
        child.kill()

    found = state(db)
    assert found in (before, after), "a partial load survived the kill"
    print(f"killed on {kill_on!r}: the store holds the {'complete' if found == after else 'January'} state")
