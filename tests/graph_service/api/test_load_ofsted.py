"""POST /loads/ofsted: an admin loads Ofsted's report-card rows through the API, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.store import GraphStore
from graph_service.store.base import WriteBatch
from tests.factories import school
from tests.graph_service.api.test_writes import ADMIN, EDITOR, make_settings

CARDS = Path(__file__).resolve().parents[2] / "loaders" / "data" / "ofsted_report_card_sample.csv"


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    # Two of the three URNs of the sample rows; 116430 is not in the store.
    store.apply(WriteBatch(organisations=[school(100977), school(103519)]))
    with TestClient(create_app(make_settings(tmp_path), store=store)) as test_client:
        yield test_client


def test_admin_loads_an_ofsted_file(client: TestClient) -> None:
    body = CARDS.read_bytes()
    assert client.post("/loads/ofsted", content=body, headers=EDITOR).status_code == 403
    response = client.post("/loads/ofsted", content=body, headers=ADMIN, params={"filename": "cards.csv"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["rows_read"] == 3 and answer["rows_rejected"] == 1
    assert answer["issues"] == [
        "cards.csv:4, column 'URN': no school with URN 116430 in the store (load the GIAS establishments first);"
        " not created"
    ]
    moseley = client.get("/organisations/103519").json()
    # The report card of 09/12/2025 (SM) and the ungraded inspection of 29/09/2021.
    assert moseley["ofsted_rating"] == "special_measures" and moseley["ofsted_date"] == "2025-12-09"
    assert [(i["date"], i["kind"]) for i in moseley["inspections"]] == [
        ("2021-09-29", "ungraded"),
        ("2025-12-09", "report_card"),
    ]
    assert moseley["inspections"][1]["areas"]["curriculum_and_teaching"] == "urgent_improvement"
    assert client.get("/organisations/116430").status_code == 404
    listed = client.get("/organisations", params={"rating": "special_measures"}).json()
    assert [item["id"] for item in listed["items"]] == ["103519"]
    (entry,) = [e for e in client.get("/audit", headers=ADMIN).json()["items"] if e["action"] == "load_ofsted"]
    assert entry["target"] == "cards.csv"
    wrong = client.post("/loads/ofsted", content=b"URN,Name\n1,A\n", headers=ADMIN)
    assert wrong.status_code == 422 and "not an Ofsted inspections file" in wrong.text
