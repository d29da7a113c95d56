"""Several server processes on one store: a write by another process is seen by the next answer.

Each process keeps the whole graph in memory and rebuilds it only when the store's version moved
(SQLite's data_version, Neo4j's version counter); the writer here is a real second process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

from graph_service import questions
from graph_service.store import EmbeddedStore, GraphStore
from tests.conftest import REPO
from tests.graph_service.analytics.town import town

DAY = date(2025, 9, 1)

#: Run in another process: open the same store and add one tie that ends Cedar's (103) isolation.
WRITER = """
import sys
from graph_service.models import EdgeKind
from graph_service.store import EmbeddedStore, WriteBatch
from tests.factories import tie

if sys.argv[1] == "embedded":
    store = EmbeddedStore(sys.argv[2])
else:
    from graph_service.store.neo4j import Neo4jStore

    store = Neo4jStore(sys.argv[2], sys.argv[3], sys.argv[4], database=sys.argv[5])
store.open()
store.apply(WriteBatch(ties=[tie("103", "102", EdgeKind.COLLABORATES_ON, focus="reading")]))
store.close()
"""


def write_from_another_process(store: GraphStore) -> None:
    if isinstance(store, EmbeddedStore):
        args = ["embedded", str(store.path)]
    else:
        uri, user, database = (getattr(store, name) for name in ("uri", "user", "database"))
        args = ["neo4j", uri, user, os.environ.get("NEO4J_PASSWORD", ""), database]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", WRITER, *args], cwd=REPO, env=env, check=True, timeout=120)


def isolated_ids(store: GraphStore) -> list[str]:
    return [item.id for item in questions.isolated_schools(store, as_at=DAY).items]


def test_the_next_answer_sees_a_write_by_another_process(store: GraphStore) -> None:
    store.apply(town())
    assert isolated_ids(store) == ["110", "103", "107", "112"]
    kept = store.graph()
    assert store.graph() is kept  # no write: no rebuild
    write_from_another_process(store)
    assert isolated_ids(store) == ["110", "107", "112"]
    rebuilt = store.graph()
    assert rebuilt is not kept and store.graph() is rebuilt
    assert [other for other, *_ in questions._prepared(store, DAY)[1].collab.graph["ties_of"]["103"]] == ["102"]
