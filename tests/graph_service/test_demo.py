"""The first run: ``bash scripts/demo`` (the README's first command) on its own store file, idempotent,
with /viz/ printed as the place to start and a busy port caught before anything is loaded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from graph_service.cli import demo
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_load_changes_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "demo.sqlite3")
    store.open()
    try:
        first = demo.load_demo(store)
        counts = store.counts()
        again = demo.load_demo(store)
        assert store.counts() == counts
    finally:
        store.close()
    assert sum(result.organisations_created for _, result in first.steps) == sum(
        number for key, number in counts.items() if not key.startswith("tie:")
    )
    assert [result.changed for _, result in again.steps] == [0] * len(again.steps)
    assert again.steps[0][0].startswith("already loaded")
    assert all(", 0 updated; 0 ties created, 0 updated, 0 ended" in line for line in again.lines())


def test_the_demo_has_its_own_store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("GRAPH_SERVICE_DB", raising=False)
    chosen = demo.demo_settings(Settings())
    assert chosen.db_path == tmp_path / "graph-service" / "demo.sqlite3"
    assert Settings().db_path == tmp_path / "graph-service" / "graph.sqlite3"  # the user's own store is left alone
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(tmp_path / "mine.sqlite3"))
    assert demo.demo_settings(Settings()).db_path == tmp_path / "mine.sqlite3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="bash script")
def test_scripts_demo_serves_the_front_page_it_prints(tmp_path: Path) -> None:
    """The README's first command: set-up (skipped when nothing changed), load, serve; twice."""
    port = _free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "PORT": str(port), "HOST": "127.0.0.1"}
    env.pop("GRAPH_SERVICE_DB", None)
    env.pop("GRAPH_SERVICE_STORE", None)
    for run in (1, 2):
        process = subprocess.Popen(
            ["bash", "scripts/demo"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            lines = []
            assert process.stdout is not None
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if line.startswith("from the command line: "):
                    break
            output = "".join(lines)
            assert "warning" not in output.lower()
            assert f"demo store: the embedded store file {tmp_path / 'graph-service' / 'demo.sqlite3'}" in output
            start = f"http://127.0.0.1:{port}/viz/"
            assert f"start here: {start}" in output, output
            if run == 2:
                assert "already loaded" in output and " created, 1" not in output
            page = _get(start, deadline)
            assert "How schools work together" in page and 'id="search-box"' in page
            assert "swagger-ui-bundle.js" in _get(f"http://127.0.0.1:{port}/docs", deadline)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
    demo_db = tmp_path / "graph-service" / "demo.sqlite3"
    assert f"from the command line: GRAPH_SERVICE_DB={demo_db} graph-service isolated --la Birmingham" in output
    # The README's next step without that line: the default store is empty, so the demo's is read, and said.
    asked = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "graph-service"), "isolated", "--la", "Birmingham", "--format", "csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.startswith(f"store: the embedded store file {demo_db}\n       (the demo's: the default store")
    assert asked.stdout.startswith("urn,name,") and len(asked.stdout.splitlines()) > 100
    # A load is never sent elsewhere: it writes the default store, and says so.
    sample = ROOT / "graph_service" / "sample_data" / "edubasealldata20250718_birmingham.csv"
    loaded = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "graph-service"), "load", "gias", str(sample), "--dry-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    default_db = tmp_path / "graph-service" / "graph.sqlite3"
    assert loaded.stdout.startswith(f"store: the embedded store file {default_db}\n")
    assert loaded.stdout.endswith("dry run: nothing was written\n")


def _get(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return str(answer.read().decode("utf-8"))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
