"""Turning organisations and ties into networkx graphs, the same way for every backend."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from enum import Enum
from typing import Any

import networkx as nx

from graph_service.models import Organisation, Tie

#: Fields held as dates; stored JSON has them as ISO text (tests check these against the models).
ORGANISATION_DATES = ("ofsted_date", "opened", "closed")
TIE_DATES = ("since", "until")
SLA_DATES: tuple[str, ...] = ()
#: Fields of an inspection held as dates (``analytics.standing`` compares them with days).
INSPECTION_DATES = ("date", "published")


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def org_attrs(org: Organisation) -> dict[str, Any]:
    """Flat node attributes: missing values are left out, enums become strings."""
    data = org.model_dump(exclude={"id", "properties", "inspections"}, exclude_none=True)
    attrs = {key: _plain(value) for key, value in data.items()}
    if org.inspections:
        attrs["inspections"] = [
            _present(inspection.model_dump(mode="json", exclude_none=True), INSPECTION_DATES)
            for inspection in org.inspections
        ]
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


def _present(data: dict[str, Any], dates: tuple[str, ...]) -> dict[str, Any]:
    attrs = {key: value for key, value in data.items() if value is not None}
    for key in dates:
        value = attrs.get(key)
        if value is not None:
            attrs[key] = date.fromisoformat(value)
    return attrs


def stored_org_attrs(text: str) -> tuple[str, dict[str, Any]]:
    """Id and node attributes from an organisation's JSON as a store wrote it (``model_dump_json``).

    The same as :func:`org_attrs` of ``Organisation.model_validate_json(text)``, without building
    the model: stores wrote only validated organisations, and reading them back this way is about
    three times faster, which is what whole-England graphs and per-question subgraphs spend.

    >>> stored_org_attrs('{"kind":"school","name":"A","opened":"2020-09-01","urn":null,"id":"1",'
    ...                  '"properties":{"name":"not this","gender":"mixed"}}')
    ('1', {'kind': 'school', 'name': 'A', 'opened': datetime.date(2020, 9, 1), 'gender': 'mixed'})
    """
    data = json.loads(text)
    org_id = data.pop("id")
    properties = data.pop("properties", None) or {}
    inspections = data.pop("inspections", None)
    attrs = _present(data, ORGANISATION_DATES)
    if inspections:
        attrs["inspections"] = [_present(inspection, INSPECTION_DATES) for inspection in inspections]
    for key, value in properties.items():
        if value is not None:
            attrs.setdefault(key, value)
    return org_id, attrs


def stored_tie_attrs(text: str) -> tuple[str, str, str, dict[str, Any]]:
    """Source, target, id and edge attributes from a tie's stored JSON; as :func:`tie_attrs` gives.

    >>> stored_tie_attrs('{"source_id":"1","target_id":"2","kind":"supports","since":"2024-09-01",'
    ...                  '"sla":{"who_pays":"LA","lead_partner":null},"id":"t","properties":{}}')
    ('1', '2', 't', {'kind': 'supports', 'since': datetime.date(2024, 9, 1), 'id': 't', 'sla_who_pays': 'LA'})
    """
    data = json.loads(text)
    source, target = data.pop("source_id"), data.pop("target_id")
    properties = data.pop("properties", None) or {}
    sla = data.pop("sla", None)
    attrs = _present(data, TIE_DATES)
    if sla is not None:
        for key, value in _present(sla, SLA_DATES).items():
            attrs[f"sla_{key}"] = value
    for key, value in properties.items():
        if value is not None:
            attrs.setdefault(key, value)
    return source, target, attrs["id"], attrs


def build_graph_from_stored(organisations: Iterable[str], ties: Iterable[str]) -> nx.MultiDiGraph:
    """:func:`build_graph` from the stored JSON of organisations and ties (see :func:`stored_org_attrs`).

    Ties are added in order of their ids, so that both backends build the same graph whatever
    order their database returned.
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(stored_org_attrs(text) for text in organisations)
    edges = sorted((stored_tie_attrs(text) for text in ties), key=lambda edge: edge[2])
    graph.add_edges_from(edge for edge in edges if edge[0] in graph and edge[1] in graph)
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
