"""The API skeleton through FastAPI's test client, on the embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore
from tests.factories import small_network


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    seeded = EmbeddedStore(tmp_path / "graph.sqlite3")
    seeded.open()
    seeded.apply(small_network())
    seeded.close()
    settings = Settings(GRAPH_SERVICE_DB=tmp_path / "graph.sqlite3", GRAPH_SERVICE_STORE="embedded")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_health_reports_backend_and_counts(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["backend"] == "embedded"
    assert body["counts"]["school"] == 4 and body["counts"]["tie:member_of"] == 2


def test_list_filters_and_pages(client: TestClient) -> None:
    body = client.get("/organisations", params={"kind": "school", "limit": 2, "offset": 1}).json()
    assert body["total"] == 4 and [o["id"] for o in body["items"]] == ["2", "3"]
    rated = client.get("/organisations", params=[("rating", "good"), ("rating", "outstanding")]).json()
    assert sorted(o["id"] for o in rated["items"]) == ["1", "3"]
    assert client.get("/organisations", params={"q": "gamma"}).json()["items"][0]["name"] == "Gamma Secondary"
    assert client.get("/organisations", params={"phase": "nursery"}).json()["total"] == 1


def test_bad_filters_are_422_with_a_message(client: TestClient) -> None:
    response = client.get("/organisations", params={"kind": "castle"})
    assert response.status_code == 422
    assert "kind" in response.text
    assert client.get("/organisations", params={"limit": 0}).status_code == 422
    too_big = client.get("/organisations", params={"limit": 4000})
    assert too_big.status_code == 422 and "500" in too_big.text


@pytest.mark.parametrize("path", ["/organisations", "/questions/isolated"])
def test_an_offset_past_any_real_page_is_422_not_an_overflow(client: TestClient, path: str) -> None:
    # Found by schemathesis: 2**63 overflowed SQLite's INTEGER and answered 500.
    response = client.get(path, params={"offset": 2**63})
    assert response.status_code == 422 and "offset" in response.text


def test_one_organisation_and_its_ties(client: TestClient) -> None:
    assert client.get("/organisations/group-10").json()["name"] == "Trust T"
    missing = client.get("/organisations/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    ties = client.get("/organisations/group-10/ties").json()
    assert ties["total"] == 2
    now = client.get("/organisations/group-10/ties", params={"as_at": "2024-01-01"}).json()
    assert [t["source_id"] for t in now["items"]] == ["1"]
    assert client.get("/organisations/nope/ties").status_code == 404
    assert client.get("/organisations/1/ties", params={"as_at": "yesterday"}).status_code == 422


def test_openapi_describes_every_field(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for name in ("OrganisationPublic", "TiePublic", "OrganisationList", "Health"):
        properties = schema["components"]["schemas"][name]["properties"]
        undocumented = [
            field
            for field, spec in properties.items()
            if "description" not in spec and not any("description" in s for s in spec.get("allOf", []))
        ]
        assert undocumented == [], f"{name}: {undocumented}"
    assert client.get("/docs").status_code == 200
