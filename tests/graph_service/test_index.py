"""Writes patch the store's whole graph and what the questions derive from it (graph_service.index):
after a sequence of writes, every structure and every question's answer equals a rebuild's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from random import Random
from typing import Any

import networkx as nx
import numpy as np
import pytest

from graph_service import questions
from graph_service.analytics.isolation import risk_history
from graph_service.analytics.network import collaboration_timeline
from graph_service.analytics.support import support_index
from graph_service.cli import load_sample
from graph_service.derived import patch_risk_history, patch_support_index, patch_timeline
from graph_service.graphview import build_graph_from_stored
from graph_service.index import Change, GraphIndex
from graph_service.models import EdgeKind, NodeKind, Organisation, make_tie
from graph_service.store import EmbeddedStore, GraphStore, WriteBatch
from viz import search
from viz.search import SearchIndex


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Birmingham sample in an embedded store, loaded once and copied by each test."""
    path = tmp_path_factory.mktemp("sample") / "graph.sqlite3"
    store = EmbeddedStore(path)
    store.open()
    load_sample(store)
    store.close()
    return path


@pytest.fixture
def loaded(store: GraphStore, sample_file: Path) -> Iterator[GraphStore]:
    """The sample in each backend."""
    source = EmbeddedStore(sample_file)
    source.open()
    try:
        batch = WriteBatch(
            organisations=source.get_organisations([row[0] for row in source._query("SELECT id FROM organisations")]),
            ties=source.all_ties(),
        )
    finally:
        source.close()
    store.apply(batch)
    yield store


def fresh(store: GraphStore) -> nx.MultiDiGraph:
    """The store's whole graph read afresh (no patch)."""
    if isinstance(store, EmbeddedStore):
        orgs = [row[0] for row in store._query("SELECT data FROM organisations")]
        ties = [row[0] for row in store._query("SELECT data FROM ties")]
        return build_graph_from_stored(orgs, ties)
    from graph_service.store.neo4j import Neo4jStore

    assert isinstance(store, Neo4jStore)
    orgs = [org.model_dump_json() for org in store.list_organisations(_every(), 0, 10**6)[0]]
    return build_graph_from_stored(orgs, [tie.model_dump_json() for tie in store.all_ties()])


def _every() -> Any:
    from graph_service.store import OrganisationFilter

    return OrganisationFilter()


def same_graph(patched: nx.MultiDiGraph, built: nx.MultiDiGraph) -> None:
    assert dict(patched.nodes(data=True)) == dict(built.nodes(data=True))
    for node in built:
        # Neighbours and ties in the order a build gives them (support and timelines read that order).
        assert list(patched._succ[node].items()) == list(built._succ[node].items()), node
        assert {k: list(v) for k, v in patched._pred[node].items()} == {
            k: list(v) for k, v in built._pred[node].items()
        }


def same_fields(patched: Any, built: Any, skip: tuple[str, ...] = ()) -> None:
    for name, value in vars(built).items():
        if name in skip:
            continue
        mine = vars(patched)[name]
        if isinstance(value, np.ndarray):
            assert np.array_equal(mine, value), name
        elif hasattr(value, "_keys"):  # a PointIndex
            for part in ("_keys", "_lats", "_lons"):
                assert np.array_equal(getattr(mine, part), getattr(value, part)), name
        else:
            assert mine == value, name


def writes(rng: Random, graph: nx.MultiDiGraph, n: int) -> WriteBatch:
    """One random write of the kinds editors and admins make."""
    schools = sorted(node for node, attrs in graph.nodes(data=True) if attrs.get("kind") == "school")
    partners = sorted(node for node in graph if node.startswith("partner-"))
    ties = sorted(key for _s, _t, key in graph.edges(keys=True))
    choice = n % 8
    if choice == 0 or not partners:
        org = Organisation(
            id=f"partner-{rng.randrange(6)}",
            kind=NodeKind.COMMUNITY_PARTNER,
            name=rng.choice(["Aston Villa Foundation", "Library", "zoo", "Birmingham Rep"]) + f" {n}",
            latitude=52.4 + rng.random() / 10,
            longitude=-1.9 + rng.random() / 10,
            postcode=rng.choice(["B15 2TT", "B1 1AA", None]),
        )
        return WriteBatch(organisations=[org])
    if choice in (1, 2):
        kind = EdgeKind.SUPPORTS if choice == 1 else EdgeKind.COLLABORATES_ON
        tie = make_tie(
            source_id=rng.choice(partners), target_id=rng.choice(schools), kind=kind, focus=f"f{n}", since="2020-09-01"
        )
        return WriteBatch(ties=[tie])
    if choice == 3:  # a school's support of another (support's own lists)
        first, second = rng.sample(schools, 2)
        return WriteBatch(ties=[make_tie(source_id=first, target_id=second, kind=EdgeKind.SUPPORTS, focus=f"s{n}")])
    if choice == 4:
        return WriteBatch(end_ties=[(rng.choice(ties), date(2025, 7, 31))]) if ties else WriteBatch()
    if choice == 5:  # an admin's change to a school: renamed, moved, rated
        school = rng.choice(schools)
        attrs = graph.nodes[school]
        org = Organisation.model_validate(
            {
                **{key: value for key, value in attrs.items() if key in Organisation.model_fields},
                "id": school,
                "name": f"Renamed {n}",
                "latitude": 52.45,
                "longitude": -1.88,
                "ofsted_rating": "inadequate",
                "inspections": [],
            }
        )
        return WriteBatch(organisations=[org])
    if choice == 6:
        return WriteBatch(delete_ties=[rng.choice(ties)]) if ties else WriteBatch()
    return WriteBatch(delete_organisations=[rng.choice(partners)])


def test_patched_structures_equal_a_rebuild(embedded: EmbeddedStore, sample_file: Path) -> None:
    """Field by field: the graph, the timeline, the support and search indexes after 40 writes."""
    embedded.close()
    embedded.path.write_bytes(sample_file.read_bytes())
    embedded.open()
    rng = Random(22)
    held = embedded.graph_index()
    timeline = collaboration_timeline(held.graph)
    history = risk_history(timeline)
    support = support_index(held.graph)
    found = SearchIndex(held.graph)
    for n in range(40):
        batch = writes(rng, held.graph, n)
        embedded.apply(batch)
        change = _change(embedded, batch)
        patched = held.patched(change)
        assert patched is not None and patched.version == held.version + 1
        index = embedded.graph_index()
        assert index.version == patched.version
        built = fresh(embedded)
        same_graph(patched.graph, built)
        same_graph(index.graph, built)
        # Each structure patched from the last, compared with one built from a fresh graph.
        from graph_service.index import _patch_graph

        patch, _ends = _patch_graph(held.graph, held.tie_ends, change)
        previous, timeline = timeline, patch_timeline(timeline, patch)
        rebuilt = collaboration_timeline(built)
        same_fields(timeline, rebuilt, skip=("ties", "ends", "maintained", "nodes", "kinds", "kind_codes"))
        # Kind codes may be numbered in another order; they name the same kinds.
        assert (
            np.array(timeline.kinds)[timeline.kind_codes].tolist()
            == np.array(rebuilt.kinds)[rebuilt.kind_codes].tolist()
        )
        history = patch_risk_history(history, previous, timeline, patch)
        same_fields(history, risk_history(rebuilt))
        assert [tie[:4] for tie in timeline.ties] == [tie[:4] for tie in collaboration_timeline(built).ties]
        assert {k: [e[:3] for e in v] for k, v in timeline.ends.items()} == {
            k: [e[:3] for e in v] for k, v in collaboration_timeline(built).ends.items()
        }
        assert timeline.maintained == collaboration_timeline(built).maintained
        assert list(timeline.nodes) == list(collaboration_timeline(built).nodes)
        support = patch_support_index(support, patch)
        same_fields(support, support_index(built), skip=("graph", "stages", "ratings", "ratings_inherited"))
        found = found.patched(patch.new, patch.organisations)
        same_fields(found, SearchIndex(built), skip=("graph", "_rows_at"))
        assert found._row_of() == {row[1]: i for i, row in enumerate(found.rows)}
        held = patched


def _change(store: EmbeddedStore, batch: WriteBatch) -> Change:
    with store._lock:
        return store._change(store._db(), batch)


ASKED = [
    {"filters": questions.AreaFilter(la_code=330), "max_ties": 1, "loose": True},
    {"filters": questions.AreaFilter(la_code=330, phases=["primary"]), "remote_km": 2.0},
    {"filters": questions.AreaFilter(la_code=330), "as_at": date(2019, 9, 1)},
]


def answers(store: GraphStore) -> dict[str, Any]:
    """Every question's answer on the store (the questions' caches dropped first)."""
    questions.forget_answers()
    graph = store.graph()
    found: dict[str, Any] = {}
    for n, asked in enumerate(ASKED):
        found[f"isolated {n}"] = questions.isolated_schools(store, **asked).model_dump(mode="json")
    found["areas"] = questions.area_summaries(store, group_by=questions.GroupBy.DISTRICT).model_dump(mode="json")
    urns = sorted(node for node, attrs in graph.nodes(data=True) if attrs.get("kind") == "school")[::40]
    for urn in urns:
        for day in (None, date(2018, 1, 1)):
            found[f"support {urn} {day}"] = questions.support_partners(store, urn, as_at=day).model_dump(mode="json")
    found["health"] = questions.health(store, filters=questions.AreaFilter(la_code=330), top=20).model_dump(mode="json")
    index = search.index(store)
    for text in ("st", "academy", "B15 2TT", "partner", "Renamed", "library"):
        found[f"search {text}"] = [hit.as_json() for hit in index.search(text, 20)]
    found["near"] = index.near("B15 2TT")
    return found


def test_every_answer_after_writes_equals_a_rebuild(loaded: GraphStore) -> None:
    """Both backends: answers on the patched versions equal those of a store object reading afresh."""
    rng = Random(7)
    answers(loaded)  # the derived structures exist, so the writes patch them
    for n in range(24):
        before = held(loaded)
        loaded.apply(writes(rng, loaded.graph(), n))
        after = held(loaded)
        # Patched, not read afresh: what the write did not touch is shared with the previous version.
        assert after.version == before.version + 1 and after.graph.nodes["la-330"] is before.graph.nodes["la-330"]
        if n % 8 == 7:
            patched = answers(loaded)
            rebuilt = type(loaded)(**_arguments(loaded))  # another store object, reading afresh
            rebuilt.open()
            try:
                assert answers(rebuilt) == patched
            finally:
                rebuilt.close()


def held(store: GraphStore) -> GraphIndex:
    """The version of the whole graph the store holds (not read afresh: a rebuild restarts at 0)."""
    if isinstance(store, EmbeddedStore):
        assert store._index is not None
        return store._index
    memory = store._graph_cache  # type: ignore[attr-defined]
    assert memory is not None and memory.index is not None
    return memory.index  # type: ignore[no-any-return]


def _arguments(store: GraphStore) -> dict[str, Any]:
    if isinstance(store, EmbeddedStore):
        return {"path": store.path}
    return {
        "uri": store.uri,  # type: ignore[attr-defined]
        "user": store.user,  # type: ignore[attr-defined]
        "password": store._password,  # type: ignore[attr-defined]
        "database": store.database,  # type: ignore[attr-defined]
    }


def test_old_versions_are_freed(embedded: EmbeddedStore, sample_file: Path) -> None:
    """A write's previous version, and what was derived from it, are freed once nobody holds them."""
    import weakref

    embedded.close()
    embedded.path.write_bytes(sample_file.read_bytes())
    embedded.open()
    answers(embedded)
    versions = [weakref.ref(embedded.graph())]
    rng = Random(3)
    for n in range(3):
        embedded.apply(writes(rng, embedded.graph(), n))
        answers(embedded)
        versions.append(weakref.ref(embedded.graph()))
    # Freed by reference counting: no collection needed (the server runs full ones rarely).
    assert [version() is None for version in versions] == [True, True, True, False]
    current = embedded.graph()
    assert current in questions._support and current in questions._timelines


def test_big_writes_rebuild() -> None:
    index = GraphIndex.of(nx.MultiDiGraph())
    assert index.patched(Change({str(n): None for n in range(3000)})) is None


def test_a_failed_patch_reads_afresh(embedded: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write stands and the next question sees it, read from the store, if patching fails."""
    embedded.apply(WriteBatch(organisations=[Organisation(id="a", kind=NodeKind.COMMUNITY_PARTNER, name="A")]))
    assert "a" in embedded.graph()

    def broken(self: GraphIndex, change: Change) -> GraphIndex:
        raise RuntimeError("a bug")

    monkeypatch.setattr(GraphIndex, "patched", broken)
    embedded.apply(WriteBatch(organisations=[Organisation(id="b", kind=NodeKind.COMMUNITY_PARTNER, name="B")]))
    assert sorted(embedded.graph()) == ["a", "b"]


def test_the_table_of_possible_partners_is_carried_over(embedded: EmbeddedStore, sample_file: Path) -> None:
    """The isolated question's nearest collaborating schools, patched per write, equal a fresh table."""
    from graph_service.analytics.isolation import _partner_table
    from graph_service.analytics.network import collaboration_graph

    embedded.close()
    embedded.path.write_bytes(sample_file.read_bytes())
    embedded.open()
    rng = Random(11)
    for n in range(16):
        answers(embedded)  # the table exists for today's graph
        embedded.apply(writes(rng, embedded.graph(), n))
        graph = embedded.graph()
        days = questions._cache[graph]
        carried = next(prepared.collab for (as_at, _day), prepared in days.items() if as_at is None)
        table = carried.graph["possible_partners"]
        fresh_table = _partner_table(collaboration_graph(fresh(embedded), None))
        assert table.keys() == fresh_table.keys()
        for phase, (ids, points) in fresh_table.items():
            assert table[phase][0] == ids and np.array_equal(table[phase][1], points), phase
