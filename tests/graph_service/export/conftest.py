"""Fixtures of the export tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_service.store import EmbeddedStore
from tests.conftest import neo4j_uri
from tests.graph_service.export.awkward import awkward_network

READERS = Path(__file__).resolve().parents[3] / "scripts" / "readers" / "run"


@pytest.fixture
def awkward(embedded: EmbeddedStore) -> EmbeddedStore:
    """The awkward network in an embedded store."""
    embedded.apply(awkward_network())
    return embedded


def cypher_shell(uri: str, path: Path) -> None:
    """Run a script with the real cypher-shell (from Maven Central, via scripts/readers/run)."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but java or mvn is missing: cypher-shell cannot run")
        pytest.skip("java and mvn are needed to run cypher-shell")
    auth = ["-u", os.environ.get("NEO4J_USER", "neo4j"), "-p", os.environ.get("NEO4J_PASSWORD", "") or "x"]
    database = ["-d", os.environ.get("NEO4J_DATABASE", "neo4j")]
    done = subprocess.run(
        [str(READERS), "cypher-shell", "-a", uri, *auth, *database, "--format", "plain", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture
def neo4j_session() -> Iterator[tuple[str, Any]]:
    """The test Neo4j's URI and a session on its database, without organisations before and after.

    Only what the script creates is deleted: the store's own bookkeeping nodes stay.
    """
    uri = neo4j_uri()
    if uri is None:
        pytest.skip("NEO4J_URI not set: Neo4j tests skipped (they fail instead under CI=true)")
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    with (
        GraphDatabase.driver(uri, auth=auth) as driver,
        driver.session(database=os.environ.get("NEO4J_DATABASE", "neo4j")) as session,
    ):
        clear = "MATCH (n) WHERE n:Organisation OR n:Pwned CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS"
        session.run(clear).consume()
        try:
            yield uri, session
        finally:
            session.run(clear).consume()


def one(session: Any, query: str) -> Any:
    return session.run(query).single(strict=True)[0]
