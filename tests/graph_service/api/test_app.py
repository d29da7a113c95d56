"""The API skeleton through FastAPI's test client, on the embedded store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore
from tests.factories import small_network
from tests.graph_service.api.test_writes import ADMIN, EDITOR, make_settings

HUGE = 2**70  # past SQLite's and Neo4j's 64-bit integers


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


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/organisations", {"la_code": HUGE}),
        ("/export", {"format": "json", "la_code": HUGE}),
        ("/questions/isolated", {"la_code": HUGE}),
        ("/questions/isolated/summary", {"la_code": HUGE}),
        ("/questions/health", {"la_code": HUGE}),
        ("/questions/health", {"seed": HUGE}),
        ("/viz/area", {"la_code": HUGE}),
        ("/viz/isolated", {"la_code": HUGE}),
        ("/organisations", {"la_code": -1}),
    ],
)
def test_integers_past_any_real_value_are_422_not_an_overflow(
    client: TestClient, path: str, params: dict[str, object]
) -> None:
    # Found by review: la_code=2**70 reached SQLite (OverflowError) and answered 500.
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert next(iter(params.keys() - {"format"})) in response.text


@pytest.mark.parametrize("field", ["la_code", "urn", "group_uid", "ukprn", "pupils", "capacity"])
def test_integers_in_a_body_past_any_real_value_are_422(tmp_path: Path, field: str) -> None:
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        body = {"kind": "partnership", "name": "P", field: HUGE}
        response = client.put("/organisations/p", json=body, headers=ADMIN)
        assert response.status_code == 422 and field in response.text
        assert client.get("/organisations/p").status_code == 404


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_a_number_json_cannot_carry_is_422_not_500(tmp_path: Path, number: str) -> None:
    # Python's JSON reads NaN; echoing it in the 422 made FastAPI's handler fail with a 500.
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        body = f'{{"kind": "partnership", "name": "P", "latitude": {number}}}'
        response = client.put("/organisations/p", content=body, headers={**ADMIN, "Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "latitude"]


def test_a_store_locked_by_a_load_answers_503_with_retry_after(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    store = EmbeddedStore(path, busy_timeout=0.2)
    store.open()
    store.apply(small_network())
    # Another process holding the write lock, as `graph-service load` does for a whole load.
    loader = sqlite3.connect(path, isolation_level=None)
    loader.execute("BEGIN IMMEDIATE")
    try:
        with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
            partner = {"kind": "partnership", "name": "P"}
            busy = client.put("/organisations/p", json=partner, headers=EDITOR)
            assert busy.status_code == 503, busy.text
            assert "busy" in busy.json()["detail"] and busy.headers["Retry-After"] == "5"
            # WAL: reads go on while the load writes.
            assert client.get("/organisations/1").status_code == 200
            loader.execute("ROLLBACK")
            assert client.put("/organisations/p", json=partner, headers=EDITOR).status_code == 201
    finally:
        loader.close()


def test_other_database_errors_are_503_not_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    store = EmbeddedStore(path)
    store.open()
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        vandal = sqlite3.connect(path, isolation_level=None)
        vandal.execute("DROP TABLE audit")
        vandal.close()
        broken = client.get("/audit", headers=ADMIN)
        assert broken.status_code == 503 and "no such table: audit" in broken.json()["detail"]
        assert "Retry-After" not in broken.headers  # retrying will not mend it


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
    bare = [
        f"{method.upper()} {path} {parameter['in']}:{parameter['name']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert bare == []
    assert client.get("/docs").status_code == 200
