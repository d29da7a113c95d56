"""graph-service export, on the embedded store."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from graph_service.cli import main
from graph_service.store import EmbeddedStore
from tests.graph_service.export.awkward import awkward_network


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    store = EmbeddedStore(path)
    store.open()
    store.apply(awkward_network())
    store.close()
    return path


def test_export_writes_the_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "area.json"
    assert (
        main(["export", "--format", "json", "--la-code", "330", "--hops", "0", "--as-at", "2021-06-01", "-o", str(out)])
        == 0
    )
    assert "exported 3 organisations and 2 ties" in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    # School 200 closed in 2020; 300 is maintained by the LA and was succeeded from 200 (gone).
    assert [node["id"] for node in data["nodes"]] == ["100", "300", "la-330"]
    assert data["graph"]["filters"] == {"la_code": 330, "hops": 0, "as_at": "2021-06-01"}
    assert not list(tmp_path.glob(".*partial*")), "no temporary file is left behind"


def test_export_csv_flavours_and_stdout(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["export", "-f", "csv", "--csv-flavour", "neo4j-admin", "--tie-kind", "member_of", "-o"]
    assert main([*argv, str(tmp_path / "neo")]) == 0
    assert sorted(p.name for p in (tmp_path / "neo").iterdir()) == [
        "README.txt",
        "codebook.csv",
        "edges.csv",
        "metadata.json",
        "nodes.csv",
    ]
    assert main(["export", "-f", "cypher", "-o", "-"]) == 0
    assert "MERGE (n:Organisation {id: row.id})" in capsys.readouterr().out


def test_export_errors_say_why(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "-f", "json", "--la-code", "999", "-o", str(tmp_path / "x.json")]) == 1
    assert "no local authority with code 999 in the store" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    assert main(["export", "-f", "json", "--csv-flavour", "kumu", "-o", str(tmp_path / "x.json")]) == 2
    assert main(["export", "-f", "csv", "-o", "-"]) == 2
    assert "give a directory or a .zip path" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "-f", "json", "--as-at", "2021-13-01", "-o", str(tmp_path / "x.json")])
    assert "is not a date" in capsys.readouterr().err


# -- issue 23, item 9: -o writes through what is not a regular file, never replaces it ----------------


def _nodes(db: Path, tmp_path: Path) -> int:
    """Organisations in a plain export to a regular file, to compare the others with."""
    plain = tmp_path / "plain.json"
    assert main(["export", "--format", "json", "-o", str(plain)]) == 0
    return len(json.loads(plain.read_text())["nodes"])


def test_a_link_to_a_file_stays_a_link(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["export", "--format", "json", "-o", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert len(json.loads(target.read_text())["nodes"]) == _nodes(db, tmp_path)


def test_a_fifo_is_written_through(db: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["export", "--format", "json", "-o", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert len(json.loads(received[0])["nodes"]) == _nodes(db, tmp_path)


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


def test_dash_writes_to_standard_output(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--format", "json", "-o", "-"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == _nodes(db, tmp_path)
