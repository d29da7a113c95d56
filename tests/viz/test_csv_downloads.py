"""The pages' CSV downloads are spreadsheet-safe: a formula in a name arrives as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore
from tests.graph_service.analytics.town import town

FORMULAS = {"107": '=HYPERLINK("http://evil.example","x")', "group-1": "+cmd|' /C calc'!A0"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    batch = town()
    renamed = [
        org.model_copy(update={"name": FORMULAS[org.id]}) if org.id in FORMULAS else org for org in batch.organisations
    ]
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    store.open()
    store.apply(replace(batch, organisations=renamed))
    store.close()
    settings = Settings(store="embedded", db_path=tmp_path / "graph.sqlite3")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _cells(text: str) -> list[str]:
    rows = csv.reader(line for line in io.StringIO(text) if not line.startswith("#"))
    return [value for row in rows for value in row]


def test_isolated_list_csv_neutralises_formula_names(client: TestClient) -> None:
    response = client.get("/viz/isolated-list.csv", params={"la_code": 330, "as_at": "2025-09-01"})
    assert response.status_code == 200, response.text
    cells = _cells(response.text)
    assert "'" + FORMULAS["107"] in cells  # the isolated nursery, its name as text
    assert not any(value.startswith(("=", "+", "@")) for value in cells)


def test_partners_csv_neutralises_formula_names(client: TestClient) -> None:
    response = client.get("/viz/school/104/partners.csv")
    assert response.status_code == 200, response.text
    cells = _cells(response.text)
    assert "'" + FORMULAS["group-1"] in cells  # the trust line's name, as text
    assert not any(value.startswith(("=", "+", "@")) for value in cells)
