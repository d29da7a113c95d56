"""The command line's answers to the mistakes of issue 14, each with its message and exit code, on the
Birmingham sample: unknown areas, the area option's two spellings, files that cannot be written, a busy
demo port, and tables that fit a terminal with their reasons whole."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service import areas, questions
from graph_service.cli import load_sample, main
from graph_service.store import EmbeddedStore
from graph_service.tables import percent

WIDTH = 100


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-mistakes") / "sample.sqlite3"
    store = EmbeddedStore(path)
    store.open()
    load_sample(store)
    store.close()
    return path


@pytest.fixture
def db(sample_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(sample_db))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: tables still keep to 100 columns
    return sample_db


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    # A command that opens the store first says which (tests/graph_service/test_cli.py checks the line).
    err = captured.err
    if err.startswith("store: "):
        err = err.partition("\n")[2]
    return code, captured.out, err


@pytest.mark.parametrize(
    "argv",
    [
        ["isolated", "--la", "Brimingham"],
        ["health", "--la", "Brimingham"],
        ["render", "area", "--la", "Brimingham", "-o", "{tmp}/area.html"],
        ["export", "--format", "json", "--la", "Brimingham", "-o", "{tmp}/out.json"],
    ],
)
def test_an_unknown_area_is_an_error_with_the_nearest_name(
    argv: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([part.format(tmp=tmp_path) for part in argv], capsys)
    assert code == 1
    assert out == ""
    assert err.strip().endswith("no local authority named 'Brimingham' in the store; did you mean Birmingham (330)?")
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_an_unknown_code_and_district_name_what_is_there(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["isolated", "--la", "999"], capsys)
    assert (code, err) == (
        1,
        "error: no local authority with code 999 in the store; it holds 1, e.g. Birmingham (330)\n",
    )
    code, _out, err = run(["health", "--district", "Solihul"], capsys)
    assert (code, err) == (1, "error: no district named 'Solihul' in the store; did you mean Solihull?\n")


@pytest.mark.parametrize("option", ["--la", "--la-code"])
def test_one_area_option_name_across_commands(
    option: str, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--la everywhere (a code or a name); --la-code, the old spelling of render and export, everywhere too."""
    assert run(["isolated", option, "330", "--format", "csv"], capsys)[0] == 0
    assert run(["health", option, "Birmingham", "--table", "summary"], capsys)[0] == 0
    code, out, _err = run(["render", "area", option, "330", "-o", str(tmp_path / "a.html")], capsys)
    assert code == 0 and "Birmingham (LA 330)" in out
    code, out, _err = run(["export", "--format", "json", option, "Birmingham", "-o", str(tmp_path / "a.json")], capsys)
    assert code == 0 and out.startswith("exported ")


def test_export_into_a_missing_folder_is_one_line(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "out.json"
    code, _out, err = run(["export", "--format", "json", "--la", "330", "-o", str(target)], capsys)
    assert code == 1
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "missing" in err


def test_render_into_a_missing_folder_is_one_line(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["render", "area", "--la", "330", "-o", str(tmp_path / "no" / "a.html")], capsys)
    assert (code, err) == (2, f"graph-service render: folder {tmp_path / 'no'} does not exist\n")


def test_isolated_table_fits_100_columns_with_every_reason_whole(
    db: Path, sample_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(["isolated", "--la", "330"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[0].split()[:4] == ["URN", "school", "type", "phase"]
    store = EmbeddedStore(sample_db)
    store.open()
    try:
        filters = questions.AreaFilter(la_code=330, types=["community", "foundation"])
        answer = questions.isolated_schools(store, filters=filters)
    finally:
        store.close()
    flat = " ".join(" ".join(lines).split())
    for item in answer.items:
        # Each reason, wrapped but whole: its words in order in the printed text.
        for reason in item.reasons:
            assert " ".join(reason.split()) in flat
    assert "special_measures" not in out and "requires_improvement" not in out


def test_isolated_leaves_independent_schools_out_unless_asked(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def listed(*extra: str) -> list[dict[str, str]]:
        import csv
        import io

        code, out, _err = run(["isolated", "--la", "330", "--format", "csv", *extra], capsys)
        assert code == 0
        return list(csv.DictReader(io.StringIO(out)))

    default = listed()
    everything = listed("--all-types")
    assert {row["subtype"] for row in default} & {"independent", "other"} == set()
    independents = [row for row in everything if row["subtype"] == "independent"]
    assert independents and len(everything) == len(default) + len(independents) + sum(
        1 for row in everything if row["subtype"] == "other"
    )
    no_nursery = listed("--exclude-type", "nursery_school")
    assert [row for row in default if row["subtype"] != "nursery_school"] == no_nursery


def test_shares_print_as_percentages(db: Path, sample_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["isolated", "--la", "330", "--summary"], capsys)
    assert code == 0
    store = EmbeddedStore(sample_db)
    store.open()
    try:
        filters = questions.AreaFilter(la_code=330, types=areas.default_types())
        (row,) = questions.area_summaries(store, filters=filters).rows
    finally:
        store.close()
    line = next(line for line in out.splitlines() if line.startswith(row.area))
    cells = line.split()
    assert percent(row.in_group_share) in cells and percent(row.isolated_share) in cells
    assert str(round(row.in_group_share, 4)) not in out
    assert max(len(line) for line in out.splitlines()) <= WIDTH


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield int(listener.getsockname()[1])


def test_demo_on_a_busy_port_fails_before_loading(
    busy_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("GRAPH_SERVICE_DB", raising=False)
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    code, out, err = run(["demo", "--port", str(busy_port)], capsys)
    assert code == 1 and out == ""
    assert err.startswith(f"error: 127.0.0.1:{busy_port} is in use")
    assert f"PORT={busy_port + 1} bash scripts/demo" in err
    assert not (tmp_path / "graph-service").exists()  # nothing loaded, no store file made
