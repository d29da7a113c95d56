"""Neo4j's lookups (organisations, ties, neighbourhoods) from the cached graph, and the shared version checks.

With ``questions_in_memory`` (the default) the store answers lookups from its whole graph, checked
against the database's version: the answers must be Cypher's (``questions_in_memory=False``).
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.models import EdgeKind
from graph_service.settings import Settings
from graph_service.store.neo4j import Neo4jStore, SharedChecks, VersionState
from loaders.gias import load_gias
from tests.conftest import SAMPLE
from tests.factories import small_network
from tests.graph_service.analytics.town import town
from tests.graph_service.store.test_version_check import write_from_another_process

JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
DAYS = [None, date(2012, 9, 1), date(2021, 1, 1), date(2025, 1, 15)]

# -- the shared checks (no database: a counted read stands for it) -----------------------------


class Reads:
    """A read of the version state that counts its calls and, when told, waits until let go."""

    def __init__(self) -> None:
        self.calls = 0
        self.version = 1
        self.hold: threading.Event | None = None
        self.began = threading.Event()
        self.fail = False

    def __call__(self) -> VersionState:
        self.calls += 1
        version = self.version  # what the database holds when the query arrives
        self.began.set()
        if self.hold is not None:
            self.hold.wait(10)
        if self.fail:
            raise RuntimeError("the database went away")
        return version, None


def test_a_check_begun_after_the_request_arrived_answers_it() -> None:
    reads = Reads()
    checks = SharedChecks(reads)
    arrived = time.monotonic()
    assert checks.state(arrived) == (1, None) and reads.calls == 1
    reads.version = 2
    # Arrived before that check began: it answers, with no query.
    assert checks.state(arrived) == (1, None) and reads.calls == 1
    # Arrived after it began: a write since may be missed, so a new check.
    assert checks.state(time.monotonic()) == (2, None) and reads.calls == 2


def test_requests_waiting_for_a_check_under_way_share_it() -> None:
    reads = Reads()
    reads.hold = threading.Event()
    checks = SharedChecks(reads)
    arrived = time.monotonic()
    found: list[VersionState] = []
    first = threading.Thread(target=lambda: found.append(checks.state(arrived)))
    first.start()
    assert reads.began.wait(10)
    reads.version = 2  # what a later check would see; the one under way answers 1
    second = threading.Thread(target=lambda: found.append(checks.state(arrived)))
    second.start()
    time.sleep(0.05)
    reads.hold.set()
    first.join(10)
    second.join(10)
    assert found == [(1, None), (1, None)] and reads.calls == 1


def test_a_failed_check_is_not_shared() -> None:
    reads = Reads()
    reads.hold, reads.fail = threading.Event(), True
    checks = SharedChecks(reads)
    arrived = time.monotonic()
    errors: list[str] = []

    def ask() -> None:
        try:
            checks.state(arrived)
        except RuntimeError as exc:
            errors.append(str(exc))

    first = threading.Thread(target=ask)
    first.start()
    assert reads.began.wait(10)
    second = threading.Thread(target=ask)
    second.start()
    time.sleep(0.05)
    reads.hold.set()
    first.join(10)
    second.join(10)
    # Each request got its own error from its own read.
    assert errors == ["the database went away"] * 2 and reads.calls == 2
    reads.fail = False
    assert checks.state(arrived) == (1, None) and reads.calls == 3


def test_own_writes_and_rebuilds_move_the_checks_on() -> None:
    reads = Reads()
    checks = SharedChecks(reads)
    arrived = time.monotonic()
    checks.state(arrived)
    checks.floor = time.monotonic()  # this process wrote: checks begun before do not count
    reads.version = 2
    assert checks.state(arrived) == (2, None) and reads.calls == 2
    # A rebuild read the state in its own transaction: offered, it answers who arrived before it began.
    checks.offer(time.monotonic(), (3, None))
    assert checks.state(arrived) == (3, None) and reads.calls == 2


# -- lookups from memory, against Cypher -----------------------------------------------------


@pytest.fixture
def neo4j(neo4j_store: Neo4jStore) -> Neo4jStore:
    return neo4j_store


def lookups(store: Neo4jStore, ids: list[str], neighbourhoods: list[str]) -> list[Any]:
    """Every lookup of the given organisations, on every day of DAYS, as plain data."""
    answers: list[Any] = []
    for org_id in [*ids, "missing"]:
        found = store.get_organisation(org_id)
        answers.append(None if found is None else found.model_dump())
        for day in DAYS:
            answers.append([tie.model_dump() for tie in store.ties_of(org_id, as_at=day)])
        kinds = [EdgeKind.MEMBER_OF, EdgeKind.FEDERATED_WITH]
        answers.append([tie.model_dump() for tie in store.ties_of(org_id, as_at=DAYS[-1], kinds=kinds)])
    for org_id in [*neighbourhoods, "missing"]:
        for hops in (1, 2, 3):
            for day in DAYS[::2]:
                sub = store.neighbours(org_id, hops=hops, as_at=day)
                answers.append(([o.model_dump() for o in sub.organisations], [t.model_dump() for t in sub.ties]))
    return answers


def in_memory_and_cypher(store: Neo4jStore, ids: list[str], neighbourhoods: list[str]) -> tuple[list[Any], list[Any]]:
    assert store.questions_in_memory
    kept_graph = store.graph()  # lookups use the graph a question built; they never build it
    kept = lookups(store, ids, neighbourhoods)
    assert store.graph() is kept_graph
    store.questions_in_memory = False
    try:
        return kept, lookups(store, ids, neighbourhoods)
    finally:
        store.questions_in_memory = True


@pytest.mark.neo4j
def test_lookups_in_memory_are_cyphers_on_a_small_network(neo4j: Neo4jStore) -> None:
    neo4j.apply(small_network())
    ids = ["1", "2", "3", "4", "group-10", "la-330"]
    kept, cypher = in_memory_and_cypher(neo4j, ids, ids)
    assert kept == cypher
    # The trust's ties on each day (its second member left in 2022): the days differ.
    trust = ids.index("group-10") * 6
    assert [len(ties) for ties in kept[trust + 1 : trust + 5]] == [2, 0, 2, 1]


@pytest.mark.neo4j
def test_lookups_in_memory_are_cyphers_on_birmingham(neo4j: Neo4jStore) -> None:
    load_gias(neo4j, [JANUARY])
    ids = sorted(neo4j.graph().nodes)
    with_ties = [org_id for org_id in ids if neo4j.graph().degree(org_id)][::25]
    kept, cypher = in_memory_and_cypher(neo4j, ids, with_ties)
    assert kept == cypher
    assert len(ids) > 500 and sum(len(answer) for answer in kept if isinstance(answer, list)) > 1000


@pytest.mark.neo4j
def test_a_lookup_sees_a_write_by_another_process(neo4j: Neo4jStore) -> None:
    neo4j.apply(town())
    kept = neo4j.graph()
    assert [tie.target_id for tie in neo4j.ties_of("103")] == ["la-330"]
    write_from_another_process(neo4j)
    # The graph held is stale: answered by Cypher, and the graph is left for the next question to rebuild.
    assert [tie.target_id for tie in neo4j.ties_of("103")] == ["102", "la-330"]
    assert neo4j._graph_cache is not None and neo4j._graph_cache.graph is kept
    assert neo4j.graph() is not kept
    assert [tie.target_id for tie in neo4j.ties_of("103")] == ["102", "la-330"]


@pytest.mark.neo4j
def test_a_lookup_does_not_build_the_graph(neo4j: Neo4jStore) -> None:
    neo4j.apply(town())  # a write drops the graph held
    assert neo4j.get_organisation("103") is not None and [t.target_id for t in neo4j.ties_of("103")] == ["la-330"]
    assert neo4j._graph_cache is None


@pytest.mark.neo4j
def test_one_version_check_per_request_and_a_write_before_it_is_seen(neo4j: Neo4jStore) -> None:
    neo4j.apply(town())
    checks: list[float] = []
    read = neo4j._read_version_state

    def counted() -> VersionState:
        checks.append(time.monotonic())
        return read()

    neo4j._checks = SharedChecks(counted)
    settings = Settings(GRAPH_SERVICE_STORE="neo4j")
    with TestClient(create_app(settings, neo4j)) as client:
        neo4j.graph()  # as a question would have
        checks.clear()
        assert client.get("/organisations/103/ties").json()["total"] == 1
        assert len(checks) == 1  # the lookup of 103 and its ties: one check between them
        write_from_another_process(neo4j)
        ties = client.get("/organisations/103/ties").json()["items"]
        assert [tie["target_id"] for tie in ties] == ["102", "la-330"] and len(checks) == 2
