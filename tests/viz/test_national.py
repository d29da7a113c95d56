"""The national view: local authorities as areas coloured by their shares, with the map's files served
by the service (no page fetches anything from elsewhere)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service import questions
from graph_service.api.app import create_app
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore
from tests.factories import school
from tests.graph_service.analytics.town import town
from viz import national

DAY = date(2025, 9, 1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    batch = town()
    # A second authority: one open school in difficulty, alone; one closed school (left out).
    elsewhere = [
        school(201, "Far Primary", la_code=331, local_authority="Coventry", ofsted_rating="inadequate",
               latitude=52.40, longitude=-1.50),
        school(202, "Gone Primary", la_code=331, local_authority="Coventry", status="closed",
               closed=date(2020, 8, 31), latitude=52.41, longitude=-1.51),
    ]  # fmt: skip
    backend = EmbeddedStore(tmp_path / "graph.sqlite3")
    backend.open()
    backend.apply(replace(batch, organisations=[*batch.organisations, *elsewhere]))
    try:
        yield backend
    finally:
        backend.close()


def test_each_authority_has_its_counts_shares_and_outline(store: EmbeddedStore) -> None:
    rows = {row.name: row for row in national.national_rows(store, DAY)}
    assert list(rows) == ["Birmingham", "Coventry"]
    birmingham = rows["Birmingham"]
    # Eleven schools open on the day (Hazel closed in 2021); the isolated four of the question.
    listed = questions.isolated_schools(store, as_at=DAY, filters=questions.AreaFilter(la_code=330))
    assert (birmingham.schools, birmingham.isolated) == (11, listed.total) == (11, 4)
    summary = questions.area_summaries(store, as_at=DAY).rows[0]
    assert (birmingham.in_group, birmingham.in_group_share) == (summary.in_group, summary.in_group_share)
    # In difficulty on the day: Damson (special measures), Fir and Juniper (inadequate), Cedar and Kestrel (RI).
    assert (birmingham.difficulty, birmingham.difficulty_share) == (5, round(5 / 11, 4))
    assert birmingham.la_code == 330 and birmingham.outline == [
        (52.48, -1.89),
        (52.485, -1.895),
        (52.52, -1.89),
        (52.48, -1.7),
    ]
    coventry = rows["Coventry"]
    assert (coventry.la_code, coventry.schools, coventry.isolated, coventry.difficulty) == (331, 1, 1, 1)
    assert coventry.outline == [(52.4, -1.5)] and coventry.centre == (52.4, -1.5)
    # In 2019 the closed school was open too.
    assert {row.name: row.schools for row in national.national_rows(store, date(2019, 9, 1))}["Coventry"] == 2


@pytest.fixture
def client(store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(GRAPH_SERVICE_DB=store.path, GRAPH_SERVICE_STORE="embedded"))) as test:
        yield test


def test_the_page_loads_only_what_the_service_serves(client: TestClient) -> None:
    page = client.get("/viz/national", params={"measure": "difficulty_share", "as_at": "2025-09-01"})
    assert page.status_code == 200, page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r'fetch\((?:data\.root \+ )?"([^"]+)"', page.text
    )
    assert "/viz/static/leaflet/leaflet.js" in sources and "/viz/static/geo/great-britain.json" in sources
    for source in sources:
        if source.startswith("data:"):
            continue
        assert source.startswith("/"), source
        assert client.get(source).status_code == 200, source
    assert "tileLayer(data.tiles" in page.text and '"tiles":null' in page.text  # no tile layer unless asked
    figures = client.get("/viz/national.json", params={"as_at": "2025-09-01"}).json()
    assert [(row["name"], row["schools"], row["difficulty"]) for row in figures] == [
        ("Birmingham", 11, 5),
        ("Coventry", 1, 1),
    ]
    assert client.get("/viz/static/../national.py").status_code == 404
    assert client.get("/viz/national", params={"measure": "nope"}).status_code == 422


def test_an_online_tile_layer_only_when_set(store: EmbeddedStore) -> None:
    settings = Settings(
        GRAPH_SERVICE_DB=store.path, GRAPH_SERVICE_STORE="embedded", GRAPH_SERVICE_TILES_URL="/tiles/{z}/{x}/{y}.png"
    )
    with TestClient(create_app(settings)) as test:
        assert '"tiles":"/tiles/{z}/{x}/{y}.png"' in test.get("/viz/national").text
