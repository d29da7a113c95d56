"""CSV answers of the command line are spreadsheet-safe: a formula in a name is shown as text."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import pytest

from graph_service.analytics.backtest import to_csv
from graph_service.cli import main
from graph_service.store import EmbeddedStore
from graph_service.store.base import WriteBatch
from tests.graph_service.analytics.town import town

FORMULA = '=HYPERLINK("http://evil.example","Gorse")'


def _hostile_town() -> WriteBatch:
    batch = town()
    renamed = [org.model_copy(update={"name": FORMULA}) if org.id == "107" else org for org in batch.organisations]
    return replace(batch, organisations=renamed)


def test_isolated_csv_neutralises_formula_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    store.open()
    store.apply(_hostile_town())
    store.close()
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(tmp_path / "graph.sqlite3"))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    assert main(["isolated", "--as-at", "2025-09-01", "--la", "330", "--phase", "nursery", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["urn"] for row in rows] == ["107"]
    assert rows[0]["name"] == "'" + FORMULA  # shown as text, the value readable after the quote


def test_backtest_csv_neutralises_text_cells() -> None:
    text = to_csv([{"urn": 1, "name": "+cmd|' /C calc'!A0", "support_rank": None, "held_out": True}])
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"] == "'+cmd|' /C calc'!A0" and row["support_rank"] == "" and row["urn"] == "1"
