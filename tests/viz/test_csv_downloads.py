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


def test_an_isolated_schools_nearest_possible_partner_is_in_the_api_the_page_and_the_csv(client: TestClient) -> None:
    # Cedar Primary (103) has no partner: the nearest open primary that collaborates is Ash, 1.016 km west.
    answer = client.get("/questions/isolated", params={"la_code": 330}).json()
    cedar = next(item for item in answer["items"] if item["id"] == "103")
    assert cedar["nearest_partner"] == {
        "id": "101",
        "name": "Ash Primary",
        "kind": "school",
        "distance_km": 1.016,
        "via_id": None,
        "via_name": None,
        "possible": True,
    }
    rows = list(csv.DictReader(io.StringIO(client.get("/viz/isolated-list.csv", params={"la_code": 330}).text)))
    row = next(row for row in rows if row["urn"] == "103")
    assert (row["nearest_partner"], row["nearest_partner_kind"], row["km"]) == ("Ash Primary", "school", "1.02")
    page = client.get("/viz/", params={"la_code": 330}).text
    assert '<a href="/viz/school/101">Ash Primary</a> <span class="muted">(school, 1.0 km, possible)</span>' in page


@pytest.mark.parametrize(
    "path", ["/questions/isolated", "/questions/isolated/summary", "/viz/isolated-list.csv", "/viz/isolated"]
)
def test_a_misspelt_area_is_a_404_naming_the_nearest(client: TestClient, path: str) -> None:
    response = client.get(path, params={"local_authority": "Brimingham"})
    assert response.status_code == 404, response.text
    assert response.json()["detail"].endswith("did you mean Birmingham (330)?")


def test_the_isolated_list_as_it_stood_on_a_day(client: TestClient) -> None:
    # On 2020-01-01 Juniper was in Trust One and Larch not open: Cedar, Kestrel, Gorse and Hazel.
    params = {"la_code": 330, "as_at": "2020-01-01"}
    rows = list(csv.DictReader(io.StringIO(client.get("/viz/isolated-list.csv", params=params).text)))
    assert [row["urn"] for row in rows] == ["103", "111", "107", "108"]
    page = client.get("/viz/", params=params).text
    assert "isolated state-funded schools on 2020-01-01" in page and "&as_at=2020-01-01" in page
