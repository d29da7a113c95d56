"""Turning organisations and ties into networkx graphs, the same way for every backend."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import Enum
from typing import Any

import networkx as nx

from graph_service.models import Organisation, Tie


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def org_attrs(org: Organisation) -> dict[str, Any]:
    """Flat node attributes: missing values are left out, enums become strings."""
    data = org.model_dump(exclude={"id", "properties"}, exclude_none=True)
    attrs = {key: _plain(value) for key, value in data.items()}
    for key, value in org.properties.items():
        if value is not None:
            attrs.setdefault(key, value)
    return attrs


def tie_attrs(tie: Tie) -> dict[str, Any]:
    """Flat edge attributes, with the SLA's fields prefixed ``sla_``."""
    data = tie.model_dump(exclude={"source_id", "target_id", "properties", "sla"}, exclude_none=True)
    attrs = {key: _plain(value) for key, value in data.items()}
    if tie.sla is not None:
        for key, value in tie.sla.model_dump(exclude_none=True).items():
            attrs[f"sla_{key}"] = value
    for key, value in tie.properties.items():
        if value is not None:
            attrs.setdefault(key, value)
    return attrs


def build_graph(organisations: Iterable[Organisation], ties: Iterable[Tie]) -> nx.MultiDiGraph:
    """A directed multigraph keyed by tie id, nodes by organisation id."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from((org.id, org_attrs(org)) for org in organisations)
    graph.add_edges_from(
        (tie.source_id, tie.target_id, tie.id, tie_attrs(tie))
        for tie in ties
        if tie.source_id in graph and tie.target_id in graph
    )
    return graph


def as_at_view(graph: nx.MultiDiGraph, day: date) -> nx.MultiDiGraph:
    """A read-only view of the ties that held on ``day``.

    >>> g = nx.MultiDiGraph()
    >>> g.add_edge("a", "b", key="t1", since=date(2020, 1, 1), until=date(2021, 1, 1))
    't1'
    >>> g.add_edge("a", "c", key="t2", since=date(2022, 1, 1))
    't2'
    >>> sorted(as_at_view(g, date(2020, 6, 1)).edges(keys=True))
    [('a', 'b', 't1')]
    """

    def holds(u: str, v: str, key: str) -> bool:
        data = graph.edges[u, v, key]
        since, until = data.get("since"), data.get("until")
        return (since is None or since <= day) and (until is None or day <= until)

    return nx.subgraph_view(graph, filter_edge=holds)
