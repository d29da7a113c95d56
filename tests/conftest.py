"""Shared fixtures: one store fixture that runs every test on both backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service.store import EmbeddedStore, GraphStore

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "graph_service" / "sample_data"
SHARED = REPO.parent / "shared" / "data" / "gias"


def neo4j_uri() -> str | None:
    """The test Neo4j, or None. In CI a missing Neo4j is a failure, never a skip."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        return uri
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI=true but NEO4J_URI is not set: start scripts/neo4j-test-server first")
    return None


def make_neo4j_store() -> GraphStore:
    uri = neo4j_uri()
    if uri is None:
        pytest.skip("NEO4J_URI not set: Neo4j tests skipped (they fail instead under CI=true)")
    from graph_service.store.neo4j import Neo4jStore

    store = Neo4jStore(
        uri,
        os.environ.get("NEO4J_USER", "neo4j"),
        os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE", "neo4j"),
    )
    store.open()
    return store


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty, open store of each backend."""
    if request.param == "embedded":
        backend: GraphStore = EmbeddedStore(tmp_path / "graph.sqlite3")
        backend.open()
    else:
        backend = make_neo4j_store()
    backend.clear()
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    backend = EmbeddedStore(tmp_path / "graph.sqlite3")
    backend.open()
    try:
        yield backend
    finally:
        backend.close()
