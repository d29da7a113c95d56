"""Issue 23, item 9: ``graph-service export -o`` writes through what is not a regular file, never replaces it."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from graph_service.cli import main
from graph_service.store import EmbeddedStore
from tests.factories import small_network


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    store = EmbeddedStore(path)
    store.open()
    store.apply(small_network())
    store.close()
    return path


def test_a_link_to_a_file_stays_a_link(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["export", "--format", "json", "-o", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert len(json.loads(target.read_text())["nodes"]) == 6


def test_a_fifo_is_written_through(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["export", "--format", "json", "-o", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(json.loads(received[0])["nodes"]) == 6


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_device_is_an_error_and_stays_a_device(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The probe's "-o /dev/full" as root replaced the device node and exited 0; a link to it shows the
    # same without risking the machine's own /dev/full should this ever regress.
    link = tmp_path / "full"
    link.symlink_to("/dev/full")
    assert main(["export", "--format", "json", "-o", str(link)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert link.is_symlink() and stat.S_ISCHR(Path("/dev/full").stat().st_mode)


def test_a_directory_is_refused_for_a_single_file_format(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", "json", "-o", str(tmp_path)]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_dash_writes_to_standard_output(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "json", "-o", "-"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 6
