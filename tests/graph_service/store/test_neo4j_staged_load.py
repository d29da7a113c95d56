"""Big Neo4j loads in stages of bounded size: the same result as one transaction, or nothing at all.

Real Birmingham files (January 2025, then July 2025 over it: creates, updates, ended and deleted
memberships), written in stages of 150 rows so that a load has dozens of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from neo4j import GraphDatabase

from graph_service.store import EmbeddedStore, GraphStore, OrganisationFilter, StoreUnavailable, WriteBatch
from graph_service.store.neo4j import Neo4jStore
from loaders.gias import load_gias
from queries import cypher
from tests.conftest import REPO, SAMPLE, make_neo4j_store
from tests.factories import school

pytestmark = pytest.mark.neo4j

JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
JULY = [SAMPLE / "edubasealldata20250718_birmingham.csv", SAMPLE / "childrencentres20250727_birmingham.csv"]
LINKS = SAMPLE / "links_edubasealldata20250718_birmingham.csv"
HUBS = SAMPLE / "teaching_school_hubs_lead_schools.csv"
STAGE = 150


def load_july(store: GraphStore) -> Any:
    return load_gias(store, JULY, links=LINKS, hubs=HUBS)


@pytest.fixture
def neo4j(neo4j_store: Neo4jStore) -> Neo4jStore:
    neo4j_store.stage_rows = STAGE
    return neo4j_store


def snapshot(store: GraphStore) -> dict[str, Any]:
    """Everything a reader can see: organisations, ties, meta data, the audit trail."""
    orgs, total = store.list_organisations(OrganisationFilter(), limit=1_000_000)
    audit, entries = store.list_audit(limit=1_000)
    return {
        "organisations": [org.model_dump_json() for org in orgs],
        "total": total,
        "ties": [tie.model_dump_json() for tie in store.all_ties()],
        "meta": store.get_meta(),
        "audit": (entries, [(entry.action, entry.target) for entry in audit]),
    }


def leftovers(store: Neo4jStore) -> tuple[int, Any]:
    """Undo records and the lease left in the database."""
    with GraphDatabase.driver(store.uri, auth=(store.user, os.environ.get("NEO4J_PASSWORD", ""))) as driver:
        undo = driver.execute_query("MATCH (u:LoadUndo) RETURN count(u) AS n", database_=store.database)[0][0]["n"]
        lease = driver.execute_query(cypher.LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, database_=store.database)
    return int(undo), lease[0][0]["loading"]


def test_a_staged_load_writes_what_one_transaction_writes(neo4j: Neo4jStore, tmp_path: Path) -> None:
    embedded = EmbeddedStore(tmp_path / "graph.sqlite3")
    embedded.open()
    try:
        reports = []
        for store in (embedded, neo4j):
            first = load_gias(store, [JANUARY])
            second = load_july(store)
            reports.append((first.result, second.result))
        assert reports[0] == reports[1]
        first_result, second_result = reports[1]
        assert first_result is not None and first_result.organisations_created > 5 * STAGE
        assert second_result is not None and second_result.ties_ended + second_result.deleted > 0
        assert snapshot(neo4j) == snapshot(embedded)
    finally:
        embedded.close()
    assert leftovers(neo4j) == (0, None)


def test_a_failed_staged_load_is_undone_and_other_writes_wait_meanwhile(neo4j: Neo4jStore) -> None:
    load_gias(neo4j, [JANUARY])
    before, version = snapshot(neo4j), neo4j.version()
    other = make_neo4j_store()
    refused: list[str] = []

    class Stop(Exception):
        pass

    original = neo4j.apply

    def failing(batch: WriteBatch, progress: Any = None) -> Any:
        def halfway(done: int, total: int) -> None:
            if done * 2 >= total:
                try:
                    other.apply(WriteBatch(organisations=[school(999_999, "Meanwhile Primary")]))
                except StoreUnavailable as exc:
                    refused.append(str(exc))
                raise Stop

        return original(batch, progress=halfway)

    neo4j.apply = failing  # type: ignore[method-assign]
    try:
        with pytest.raises(Stop):
            load_july(neo4j)
    finally:
        neo4j.apply = original  # type: ignore[method-assign]
        other.close()
    assert refused and "a load is being written" in refused[0]
    assert snapshot(neo4j) == before
    assert leftovers(neo4j) == (0, None) and (neo4j.version() or 0) > (version or 0)


#: Run in another process: the July load in stages, killed (SIGKILL) once half its rows are written.
KILLED_LOADER = """
import os, signal, sys
from pathlib import Path
from graph_service.store.neo4j import Neo4jStore
from loaders.gias import load_gias

store = Neo4jStore(sys.argv[1], sys.argv[2], sys.argv[3], database=sys.argv[4])
store.open()
store.stage_rows = int(sys.argv[5])
original = store.apply

def apply(batch, progress=None):
    def halfway(done, total):
        if done * 2 >= total:
            os.kill(os.getpid(), signal.SIGKILL)
    return original(batch, progress=halfway)

store.apply = apply
load_gias(store, [Path(name) for name in sys.argv[6:-2]], links=Path(sys.argv[-2]), hubs=Path(sys.argv[-1]))
"""


def test_a_load_killed_midway_is_undone_by_the_next_store_to_open(neo4j: Neo4jStore) -> None:
    load_gias(neo4j, [JANUARY])
    before, version = snapshot(neo4j), neo4j.version()
    password = os.environ.get("NEO4J_PASSWORD", "")
    args = [neo4j.uri, neo4j.user, password, neo4j.database, str(STAGE), *map(str, JULY), str(LINKS), str(HUBS)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run([sys.executable, "-c", KILLED_LOADER, *args], cwd=REPO, env=env, timeout=300)
    assert killed.returncode == -9
    undo, lease = leftovers(neo4j)
    assert undo > 1 and lease is not None  # killed halfway: stages written, the load unfinished
    reopened = make_neo4j_store()  # its process is gone: undone on open
    try:
        assert snapshot(reopened) == before
        assert leftovers(reopened) == (0, None) and (reopened.version() or 0) > (version or 0)
    finally:
        reopened.close()
