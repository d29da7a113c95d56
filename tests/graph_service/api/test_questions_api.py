"""The questions through the API, on the hand-built town, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.analytics.support import SupportWeights
from graph_service.api.app import create_app
from graph_service.settings import Settings, StoreKind
from graph_service.store import GraphStore
from tests.graph_service.analytics.town import town

DAY = "2025-09-01"


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    store.apply(town())
    settings = Settings(db_path=tmp_path / "unused.sqlite3", store=StoreKind.EMBEDDED)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


def ids(body: dict, key: str = "items") -> list[str]:
    return [item["id"] for item in body[key]]


def test_isolated_with_filters_paging_and_as_at(client: TestClient) -> None:
    body = client.get("/questions/isolated", params={"as_at": DAY}).json()
    assert ids(body) == ["110", "103", "107", "112"] and body["total"] == 4 and body["limit"] == 100
    assert body["items"][1]["reasons"][0].startswith("no collaboration tie on 2025-09-01 (maintained by")
    north = client.get("/questions/isolated", params={"as_at": DAY, "district": "North", "phase": "nursery"}).json()
    assert ids(north) == ["107"]
    typed = client.get("/questions/isolated", params=[("as_at", DAY), ("type", "community"), ("type", "Foo")])
    assert ids(typed.json()) == ["103"]
    page = client.get("/questions/isolated", params={"as_at": DAY, "offset": 3, "limit": 1}).json()
    assert (ids(page), page["total"]) == (["112"], 4)
    past = client.get("/questions/isolated", params={"as_at": "2020-01-01"}).json()
    assert ids(past) == ["103", "111", "107", "108"]
    weak = client.get("/questions/isolated", params={"as_at": DAY, "max_ties": 1, "remote_km": 2, "loose": True})
    assert weak.json()["total"] == 10


def test_isolated_summary(client: TestClient) -> None:
    body = client.get("/questions/isolated/summary", params={"as_at": DAY, "group_by": "district"}).json()
    assert [(row["area"], row["schools"], row["isolated"], row["island_sizes"]) for row in body["rows"]] == [
        ("North", 6, 3, [3]),
        ("South", 5, 1, [2]),
    ]
    by_la = client.get("/questions/isolated/summary", params={"as_at": DAY}).json()
    assert [row["area"] for row in by_la["rows"]] == ["Birmingham"] and by_la["group_by"] == "local_authority"


def test_support_with_weights_and_reasons(client: TestClient) -> None:
    body = client.get("/questions/support/104", params={"as_at": DAY}).json()
    assert body["school"]["id"] == "104" and body["in_difficulty"] is True
    assert ids(body, "candidates") == ["group-1", "109", "112", "tsh-x"]
    first = body["candidates"][0]
    assert [school["id"] for school in first["schools"]] == ["102", "101"]
    assert [part["name"] for part in first["parts"]] == [
        "takes_in",
        "footprint",
        "local",
        "distance",
        "fit_distance",
        "phase",
        "growth",
        "capacity",
        "track_record",
        "strength",
        "faith",
        "areas",
        "ties",
        "designation",
    ]
    assert body["rules_applied"] and body["rules"]["faith_first"] is True
    assert first["reasons"] and first["score"] > 0
    weighted = client.get(
        "/questions/support/104",
        params={"as_at": DAY, "weight_designation": 50, "weight_distance": 0, "limit": 2},
    ).json()
    assert weighted["weights"]["designation"] == 50 and weighted["weights"]["distance"] == 0
    assert sorted(ids(weighted, "candidates")) == ["109", "tsh-x"]
    no_hubs = client.get("/questions/support/104", params={"as_at": "2021-08-31", "dated": "true"}).json()
    assert "tsh-x" not in ids(no_hubs, "candidates")  # hubs were designated from September 2021
    undated = client.get("/questions/support/104", params={"as_at": "2021-08-31", "dated": "false"}).json()
    assert "tsh-x" in ids(undated, "candidates")


def test_support_answers_a_good_school_with_a_note(client: TestClient) -> None:
    body = client.get("/questions/support/101", params={"as_at": DAY}).json()
    assert body["in_difficulty"] is False and "not in difficulty" in body["notes"][0]


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/questions/support/999", {}, 404, "no school with URN '999'"),
        ("/questions/support/group-1", {}, 422, "trust, not a school"),
        ("/questions/support/104", {"radius_km": 0}, 422, "radius_km"),
        ("/questions/support/104", {"weight_phase": -1}, 422, "weight_phase"),
        ("/questions/support/104", {**{f"weight_{p}": 0 for p in SupportWeights.model_fields}}, 422,
         "at least one support weight"),
        ("/questions/support/104", {"trust_radius_km": 0}, 422, "trust_radius_km"),
        ("/questions/isolated", {"limit": 501}, 422, "at most 500"),
        ("/questions/isolated", {"phase": "college"}, 422, "phase"),
        ("/questions/isolated", {"as_at": "2025-13-01"}, 422, "as_at"),
        ("/questions/isolated", {"remote_km": 0}, 422, "remote_km"),
        ("/questions/isolated/summary", {"group_by": "colour"}, 422, "group_by"),
        ("/questions/health", {"sort": "charm"}, 422, "sort"),
        ("/questions/health", {"top": 0}, 422, "top"),
        ("/questions/health", {"sample": 1}, 422, "sample"),  # networkx 3.6 answered NaN, found by fuzzing
    ],
)  # fmt: skip
def test_bad_questions_get_4xx_with_a_message(
    client: TestClient, path: str, params: dict, status: int, words: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert words in response.text


def test_health_whole_graph_and_area(client: TestClient) -> None:
    body = client.get("/questions/health", params={"as_at": DAY}).json()
    assert body["filters"] is None and body["summary"]["connected_organisations"] == 5
    assert body["nodes"][0]["betweenness"] >= body["nodes"][-1]["betweenness"]
    area = client.get("/questions/health", params={"as_at": DAY, "district": "North", "sort": "degree"}).json()
    assert area["filters"]["district"] == "North"
    assert ids(area, "nodes") == ["102", "101", "111"]  # schools: the trust is no node of the projection


def test_the_schema_describes_every_answer_field(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("IsolatedAnswer", "IsolatedSchool", "SupportAnswer", "Candidate", "ScorePart", "HealthAnswer"):
        for field, spec in schemas[name]["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"
