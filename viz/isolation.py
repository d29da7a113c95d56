"""Isolated schools' nearest possible partners, for the pictures.

Which schools are isolated is the questions' answer (``graph_service.questions.isolated_schools``,
through :func:`viz.views.isolated_answer`), so the picture and the list always agree; this module
finds, for each, the nearest open schools that do collaborate.
"""

from __future__ import annotations

import math
from datetime import date

import networkx as nx

from graph_service.models import EdgeKind, NodeKind, Status, covers

EARTH_RADIUS_KM = 6371.0


def _current_school(data: dict[str, object]) -> bool:
    return data.get("kind") == NodeKind.SCHOOL.value and Status(str(data.get("status", "open"))).is_current


def _collaborates(data: dict[str, object], day: date) -> bool:
    since, until = data.get("since"), data.get("until")
    return EdgeKind(str(data["kind"])).is_collaboration and covers(
        since if isinstance(since, date) else None, until if isinstance(until, date) else None, day
    )


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points, in km.

    >>> round(distance_km((52.0, -2.0), (53.0, -2.0)), 1)
    111.2
    """
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def nearest_partners(
    graph: nx.MultiDiGraph, isolated: list[str], per_school: int = 3, as_at: date | None = None
) -> list[tuple[str, str, float]]:
    """For each located isolated school, the nearest open schools that do collaborate.

    A partner of the same phase is preferred; other phases are used only when
    no school of that phase collaborates. Schools without a location get none.

    Returns
    -------
    list
        ``(isolated school, partner, distance in km)``, nearest first per school.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("i", kind="school", status="open", phase="primary", latitude=52.0, longitude=-2.0)
    >>> g.add_node("near", kind="school", status="open", phase="secondary", latitude=52.01, longitude=-2.0)
    >>> g.add_node("far", kind="school", status="open", phase="primary", latitude=52.1, longitude=-2.0)
    >>> g.add_node("t", kind="trust", status="open")
    >>> g.add_edge("near", "t", key="a", kind="member_of"); g.add_edge("far", "t", key="b", kind="member_of")
    'a'
    'b'
    >>> [(i, p, round(km, 1)) for i, p, km in nearest_partners(g, ["i"], per_school=1)]
    [('i', 'far', 11.1)]
    """
    connected = _connected(graph, as_at or date.today()) - set(isolated)
    candidates = [
        (node, data.get("phase"), (float(data["latitude"]), float(data["longitude"])))
        for node, data in graph.nodes(data=True)
        if node in connected
        and _current_school(data)
        and data.get("latitude") is not None
        and data.get("longitude") is not None
    ]
    found: list[tuple[str, str, float]] = []
    for school in isolated:
        data = graph.nodes[school]
        if data.get("latitude") is None or data.get("longitude") is None:
            continue
        here = (float(data["latitude"]), float(data["longitude"]))
        same = [c for c in candidates if c[1] == data.get("phase")] or candidates
        ranked = sorted((distance_km(here, where), node) for node, _, where in same)
        found.extend((school, node, km) for km, node in ranked[:per_school])
    return found


def _connected(graph: nx.MultiDiGraph, day: date) -> set[str]:
    """Nodes with at least one collaboration tie holding on ``day``."""
    connected: set[str] = set()
    for source, target, data in graph.edges(data=True):
        if _collaborates(data, day):
            connected.update((source, target))
    return connected
