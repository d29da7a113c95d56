"""The collaboration graph on any date from one date-free timeline, checked against a plain rebuild."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph_service import questions
from graph_service.analytics import network
from graph_service.analytics.isolation import isolated
from graph_service.analytics.network import (
    COLLABORATION_KINDS,
    collaboration_graph,
    collaboration_timeline,
    holds,
    was_open,
)
from graph_service.graphview import build_graph
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias
from tests.conftest import SAMPLE
from tests.graph_service.analytics.town import town, town_graph

DATES = [None, date(2010, 1, 1), date(2019, 9, 1), date(2021, 8, 31), date(2022, 9, 1), date(2025, 9, 1)]


def plain(graph: nx.MultiDiGraph, as_at: date | None) -> dict[str, Any]:
    """What the collaboration graph on a date must hold, worked out the obvious way."""
    day = as_at or date.today()
    pairs: dict[tuple[str, str], list[str]] = {}
    ends: dict[str, list[tuple[str, str, str]]] = {}
    for source, target, key, data in graph.edges(keys=True, data=True):
        if data.get("kind") in COLLABORATION_KINDS and holds(data, day):
            pairs.setdefault((min(source, target), max(source, target)), []).append(key)
            ends.setdefault(source, []).append((target, key, "out"))
            ends.setdefault(target, []).append((source, key, "in"))
    opened: dict[str, list[str]] = {}
    for node in sorted(graph):
        if was_open(graph.nodes[node], as_at):
            opened.setdefault(str(graph.nodes[node].get("kind")), []).append(node)
    return {
        "nodes": sorted(graph),
        "edges": {pair: sorted(keys) for pair, keys in sorted(pairs.items())},
        "ends": {node: sorted(found) for node, found in ends.items()},
        "open": opened,
    }


def seen(collab: nx.Graph) -> dict[str, Any]:
    return {
        "nodes": list(collab),
        "edges": {
            (min(u, v), max(u, v)): [tie[0] for tie in data["ties"]]
            for u, v, data in sorted(collab.edges(data=True), key=lambda edge: (min(edge[:2]), max(edge[:2])))
        },
        "ends": {node: [end[:3] for end in found] for node, found in collab.graph["ties_of"].items()},
        "open": collab.graph["open"],
    }


@pytest.fixture(scope="module")
def birmingham(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    store = EmbeddedStore(tmp_path_factory.mktemp("network") / "graph.sqlite3")
    store.open()
    load_gias(store, [SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"])
    load_gias(
        store,
        [SAMPLE / "edubasealldata20250718_birmingham.csv"],
        links=SAMPLE / "links_edubasealldata20250718_birmingham.csv",
    )
    try:
        return store.graph()
    finally:
        store.close()


@pytest.mark.parametrize("as_at", DATES)
def test_any_date_from_one_timeline_is_the_plain_collaboration_graph(
    as_at: date | None, birmingham: nx.MultiDiGraph
) -> None:
    for graph in (town_graph(), birmingham):
        timeline = collaboration_timeline(graph)
        collab = collaboration_graph(graph, as_at, timeline=timeline)
        assert seen(collab) == plain(graph, as_at)
        assert collab.graph["day"] == (as_at or date.today()) and collab.graph["as_at"] == as_at
        # The same as without a timeline, down to adjacency order (seeded algorithms depend on it).
        again = collaboration_graph(graph, as_at)
        assert [list(collab[node]) for node in collab] == [list(again[node]) for node in again]
        assert collab.graph["administrative"] == again.graph["administrative"]
        assert dict(collab.nodes(data=True)) == dict(graph.nodes(data=True))
    assert any(seen(collaboration_graph(birmingham, day))["edges"] for day in DATES)


def test_the_questions_prepare_the_timeline_once_per_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    store.open()
    store.apply(town())
    made: list[int] = []
    original = network.collaboration_timeline

    def counted(graph: nx.MultiDiGraph) -> Any:
        made.append(id(graph))
        return original(graph)

    monkeypatch.setattr(questions, "collaboration_timeline", counted)
    try:
        graph = store.graph()
        for as_at in DATES:
            answer = questions.isolated_schools(store, as_at=as_at)
            want = isolated(build_graph(town().organisations, town().ties), as_at)
            assert [item.id for item in answer.items] == [row["id"] for row in want["rows"]]
        assert made == [id(graph)]
    finally:
        store.close()


@pytest.mark.parametrize("as_at", DATES)
def test_a_date_is_counted_from_the_timeline_as_a_plain_count_would(
    as_at: date | None, birmingham: nx.MultiDiGraph
) -> None:
    timeline = collaboration_timeline(birmingham)
    collab = collaboration_graph(birmingham, as_at, timeline=timeline)
    want = {node: len(found) for node, found in plain(birmingham, as_at)["ends"].items()}
    counts = collab.graph["tie_counts"].tolist()
    assert {node: counts[timeline.position[node]] for node in birmingham if counts[timeline.position[node]]} == want


def test_the_isolated_question_on_a_new_date_never_fills_the_adjacency(birmingham: nx.MultiDiGraph) -> None:
    timeline = collaboration_timeline(birmingham)
    for as_at in DATES:
        collab = collaboration_graph(birmingham, as_at, timeline=timeline)
        answer = isolated(birmingham, as_at, collab=collab)
        assert collab._fill is not None  # the date was applied without building the adjacency
        assert answer == isolated(birmingham, as_at)  # and gave what a graph built for it gives
        assert answer["total"] > 0
        assert collab.number_of_edges() == len(plain(birmingham, as_at)["edges"])
        assert collab._fill is None  # filled on first use


def test_the_adjacency_is_filled_once_when_threads_ask_at_once(birmingham: nx.MultiDiGraph) -> None:
    collab = collaboration_graph(birmingham, date(2022, 9, 1))
    filled: list[int] = []
    fill = collab._fill
    assert fill is not None

    def counted(adj: dict[str, dict[str, Any]]) -> None:
        filled.append(1)
        fill(adj)

    collab._fill = counted
    with ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(lambda _: collab.number_of_edges(), range(32)))
    assert filled == [1]
    assert set(sizes) == {len(plain(birmingham, date(2022, 9, 1))["edges"])}


def test_ties_held_on_a_day_read_like_the_dict_they_replace() -> None:
    graph = town_graph()
    collab = collaboration_graph(graph, date(2022, 9, 1))
    ties_of = collab.graph["ties_of"]
    eager = dict(ties_of.items())
    assert eager and all(ties_of[node] == found for node, found in eager.items())
    untied = next(node for node in graph if node not in eager)
    assert ties_of.get(untied) is None and ties_of.get(untied, []) == [] and untied not in ties_of
    with pytest.raises(KeyError):
        ties_of[untied]
    assert len(ties_of) == len(eager)
