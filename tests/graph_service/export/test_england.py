"""Whole England through the Cypher script into the test Neo4j with cypher-shell (slow), and Parquet with pandas.

The time it takes is a figure for bench/readers.py; here the counts and a sample of fields are checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias
from tests.graph_service.export.conftest import cypher_shell, one

GIAS = Path(__file__).resolve().parents[4] / "shared" / "data" / "gias"
ENGLAND = GIAS / "edubasealldata20250718_england.csv.gz"
LINKS = GIAS / "links_edubasealldata20250718_england.csv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def england(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    if not ENGLAND.exists():
        pytest.skip(f"{ENGLAND} is not here")
    store = EmbeddedStore(tmp_path_factory.mktemp("england") / "graph.sqlite3")
    store.open()
    load_gias(store, [ENGLAND], links=LINKS)
    yield store
    store.close()


def sample(store: EmbeddedStore, prepared: Any) -> tuple[list[Any], list[Any]]:
    ids = prepared.selection.ids
    ties = prepared.selection.ties
    return store.get_organisations(ids[:: len(ids) // 40]), ties[:: len(ties) // 40]


@pytest.mark.neo4j
def test_cypher_script_builds_england_in_neo4j(
    england: EmbeddedStore, neo4j_session: tuple[str, Any], tmp_path: Path
) -> None:
    uri, session = neo4j_session
    prepared = prepare_export(england, ExportSpec(), ExportFormat.CYPHER)
    path = tmp_path / "england.cypher"
    write_export(prepared, path)
    cypher_shell(uri, path)
    nodes, edges = prepared.selection.counts
    assert nodes > 50_000 and edges > 60_000
    assert one(session, "MATCH (n:Organisation) RETURN count(n)") == nodes
    assert one(session, "MATCH (:Organisation)-[r]->(:Organisation) RETURN count(r)") == edges
    orgs, ties = sample(england, prepared)
    found = {
        record["id"]: dict(record["n"])
        for record in session.run(
            "MATCH (n:Organisation) WHERE n.id IN $ids RETURN n.id AS id, n", ids=[o.id for o in orgs]
        )
    }
    for org in orgs:
        got = found[org.id]
        assert got["name"] == org.name and got["kind"] == org.kind.value, org.id
        assert got.get("urn") == org.urn and got.get("pupils") == org.pupils and got.get("latitude") == org.latitude
        assert (got["opened"].to_native() if "opened" in got else None) == org.opened, org.id
        assert type(got.get("pupils", 0)) is int and type(got.get("latitude", 0.0)) is float
    kinds = {
        record["id"]: (record["t"], record["since"])
        for record in session.run(
            "MATCH ()-[r]->() WHERE r.id IN $ids RETURN r.id AS id, type(r) AS t, r.since AS since",
            ids=[t.id for t in ties],
        )
    }
    for tie in ties:
        rel_type, since = kinds[tie.id]
        assert rel_type == tie.kind.rel_type and (since.to_native() if since else None) == tie.since, tie.id
    assert one(session, "MATCH (n:Organisation) WHERE n.opened = date('1900-01-01') RETURN count(n)") == 0


def test_pandas_reads_england_from_parquet(england: EmbeddedStore, tmp_path: Path) -> None:
    prepared = prepare_export(england, ExportSpec(), ExportFormat.PARQUET)
    write_export(prepared, tmp_path / "pq")
    nodes = pd.read_parquet(tmp_path / "pq" / "nodes.parquet", dtype_backend="pyarrow").set_index("id")
    edges = pd.read_parquet(tmp_path / "pq" / "edges.parquet", dtype_backend="pyarrow").set_index("id")
    assert (len(nodes), len(edges)) == prepared.selection.counts
    assert str(nodes["pupils"].dtype) == "int64[pyarrow]" and str(nodes["opened"].dtype) == "date32[day][pyarrow]"
    orgs, ties = sample(england, prepared)
    for org in orgs:
        row = nodes.loc[org.id]
        assert row["name"] == org.name and (None if pd.isna(row["pupils"]) else row["pupils"]) == org.pupils
        assert (None if pd.isna(row["opened"]) else row["opened"]) == org.opened
    for tie in ties:
        row = edges.loc[tie.id]
        assert (row["source"], row["target"], row["kind"]) == (tie.source_id, tie.target_id, tie.kind.value)
