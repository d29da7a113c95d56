"""GET /export: streamed files with the right type and name; 422 and 413 with a message."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.export import ATTRIBUTION
from graph_service.settings import Settings, StoreKind
from graph_service.store import EmbeddedStore
from tests.graph_service.export.awkward import AWKWARD


def client_for(store: EmbeddedStore, tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(
        create_app(Settings(db_path=tmp_path / "unused.sqlite3", store=StoreKind.EMBEDDED, **settings), store=store)
    )


@pytest.fixture
def client(awkward: EmbeddedStore, tmp_path: Path) -> Iterator[TestClient]:
    with client_for(awkward, tmp_path) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("fmt", "media_type", "filename"),
    [
        ("graphml", "application/graphml+xml", "school-graph.graphml"),
        ("gexf", "application/gexf+xml", "school-graph.gexf"),
        ("json", "application/json", "school-graph.json"),
        ("csv", "application/zip", "school-graph.zip"),
        ("cypher", "text/plain; charset=utf-8", "school-graph.cypher"),
        ("parquet", "application/zip", "school-graph.parquet.zip"),
    ],
)
def test_each_format_streams_as_a_named_file(client: TestClient, fmt: str, media_type: str, filename: str) -> None:
    response = client.get("/export", params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    if fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert ATTRIBUTION in archive.read("README.txt").decode("utf-8")
            nodes = csv.DictReader(io.StringIO(archive.read("nodes.csv").decode("utf-8"), newline=""))
            assert {row["id"]: row["name"] for row in nodes}["100"] == AWKWARD
    elif fmt == "parquet":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert ATTRIBUTION in archive.read("README.txt").decode("utf-8")
            table = pq.read_table(io.BytesIO(archive.read("nodes.parquet")))
            assert dict(zip(table["id"].to_pylist(), table["name"].to_pylist(), strict=True))["100"] == AWKWARD
    else:
        assert ATTRIBUTION in response.text


def test_filters_reach_the_file(client: TestClient, tmp_path: Path) -> None:
    params = [("format", "graphml"), ("la_code", "330"), ("hops", "0"), ("as_at", "2019-01-01")]
    response = client.get("/export", params=[*params, ("tie_kind", "maintained_by"), ("tie_kind", "member_of")])
    assert response.headers["content-disposition"] == (
        'attachment; filename="school-graph-la_code-330-tie_kinds-maintained-by-member-of-2019-01-01.graphml"'
    )
    path = tmp_path / "area.graphml"
    path.write_bytes(response.content)
    graph = nx.read_graphml(path, force_multigraph=True)
    # la_code 330 holds schools 100, 200, 300 and the LA; on 2019-01-01 all were open; one maintained_by tie.
    assert sorted(graph.nodes) == ["100", "200", "300", "la-330"]
    assert [key for _, _, key in graph.edges(keys=True)] == ["maintained_by:300:la-330"]
    assert graph.graph["filter:la_code"] == 330 and graph.graph["filter:as_at"] == "2019-01-01"

    kumu = client.get("/export", params={"format": "csv", "csv_flavour": "kumu", "tie_kind": "member_of"})
    with zipfile.ZipFile(io.BytesIO(kumu.content)) as archive:
        assert archive.namelist() == ["elements.csv", "connections.csv", "metadata.json", "codebook.csv", "README.txt"]
        assert json.loads(archive.read("metadata.json"))["filters"] == {"tie_kinds": ["member_of"]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "pdf"}, "format"),
        ({}, "format"),
        ({"format": "json", "as_at": "31/12/2020"}, "as_at"),
        ({"format": "json", "tie_kind": "friends"}, "tie_kind"),
        ({"format": "json", "la_code": "330", "hops": "9"}, "hops may be at most 4"),
        ({"format": "json", "hops": "1"}, "hops needs an area"),
        ({"format": "json", "la_code": "999"}, "no organisation matches the area la_code=999"),
        ({"format": "json", "csv_flavour": "kumu"}, "csv_flavour applies only to format=csv"),
    ],
)
def test_bad_parameters_are_422_with_a_message(client: TestClient, params: dict[str, str], message: str) -> None:
    response = client.get("/export", params=params)
    assert response.status_code == 422
    assert message in response.text


def test_size_limit_is_413_with_a_message(awkward: EmbeddedStore, tmp_path: Path) -> None:
    with client_for(awkward, tmp_path, max_export_items=12) as small_limit:
        response = small_limit.get("/export", params={"format": "gexf"})
        assert response.status_code == 413
        assert "6 organisations and 7 ties (13 in all), more than the limit of 12" in response.json()["detail"]
        assert small_limit.get("/export", params={"format": "gexf", "tie_kind": "member_of"}).status_code == 200
