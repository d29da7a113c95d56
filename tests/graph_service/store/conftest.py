"""Fixtures of the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph_service.store.neo4j import Neo4jStore
from tests.conftest import make_neo4j_store


@pytest.fixture
def neo4j_store() -> Iterator[Neo4jStore]:
    """A real Neo4j store, emptied (a failure under CI=true when Neo4j is missing)."""
    store = make_neo4j_store()
    assert isinstance(store, Neo4jStore)
    store.clear()
    try:
        yield store
    finally:
        store.close()
