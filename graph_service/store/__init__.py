"""Graph stores: the protocol and its backends."""

from __future__ import annotations

from graph_service.settings import Settings, StoreKind
from graph_service.store.base import (
    GraphStore,
    IntegrityError,
    OrganisationFilter,
    StoreError,
    StoreUnavailable,
    Subgraph,
    WriteBatch,
    WriteResult,
)
from graph_service.store.embedded import EmbeddedStore

__all__ = [
    "EmbeddedStore",
    "GraphStore",
    "IntegrityError",
    "OrganisationFilter",
    "StoreError",
    "StoreUnavailable",
    "Subgraph",
    "WriteBatch",
    "WriteResult",
    "make_store",
]


def make_store(settings: Settings) -> GraphStore:
    """The backend the settings choose; not yet opened."""
    if settings.store is StoreKind.NEO4J:
        from graph_service.store.neo4j import Neo4jStore

        return Neo4jStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password,
            database=settings.neo4j_database,
            questions_in_memory=settings.neo4j_in_memory,
        )
    return EmbeddedStore(settings.db_path, busy_timeout=settings.busy_timeout)
