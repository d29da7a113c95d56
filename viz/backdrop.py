"""What a map picture is drawn over: Great Britain's coast (Natural Earth, public domain, vendored
in ``viz/static/geo``) near the organisations drawn, and each local authority's approximate area
(the outline of its schools), in the picture's own pixels (:func:`viz.layout.projection`)."""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx

from viz.layout import Position, convex_hull, located, map_span, projection

#: The maps' files, served by the service at /viz/static (viz/static/README.md).
STATIC = Path(__file__).parent / "static"
COAST = STATIC / "geo" / "great-britain.json"
#: How far beyond the organisations drawn the coast is kept, as a share of their extent (at least 0.2 degrees).
MARGIN = 0.25


@cache
def coast_rings() -> list[list[Position]]:
    """Great Britain's coast as rings of ``(latitude, longitude)``."""
    features = json.loads(COAST.read_text(encoding="utf-8"))["features"]
    return [
        [(lat, lon) for lon, lat in ring]
        for feature in features
        for polygon in feature["geometry"]["coordinates"]
        for ring in polygon
    ]


def backdrop(graph: nx.Graph, span: float | None = None) -> dict[str, Any] | None:
    """The coast near the located organisations, as runs of points, and each local authority's area.

    ``coast``: flat ``[x, y, x, y, ...]`` runs of the coastline inside the organisations' extent (plus
    :data:`MARGIN`); ``areas``: ``{"name", "outline": [x, y, ...], "x", "y"}`` for each local authority
    with three or more located schools, the outline of its schools and its middle. ``None`` when
    nothing is located. ``span`` is the picture's (:func:`viz.layout.map_span` by default).

    Examples
    --------
    >>> g = nx.Graph()
    >>> for n, (lat, lon) in enumerate([(52.4, -1.9), (52.5, -1.9), (52.5, -1.8), (52.45, -1.85)]):
    ...     g.add_node(n, kind="school", latitude=lat, longitude=lon, local_authority="Birmingham")
    >>> drawn = backdrop(g, span=1000)
    >>> drawn["coast"], [(area["name"], len(area["outline"]) // 2) for area in drawn["areas"]]
    ([], [('Birmingham', 3)])
    """
    points = located(graph)
    to_map = projection(points.values(), span if span is not None else map_span(graph.number_of_nodes()))
    if to_map is None:
        return None
    lats = [lat for lat, _ in points.values()]
    lons = [lon for _, lon in points.values()]
    pad_lat = max(0.2, MARGIN * (max(lats) - min(lats)))
    pad_lon = max(0.2, MARGIN * (max(lons) - min(lons)))
    south, north, west, east = min(lats) - pad_lat, max(lats) + pad_lat, min(lons) - pad_lon, max(lons) + pad_lon
    runs: list[list[float]] = []
    for ring in coast_rings():
        run: list[float] = []
        for lat, lon in ring:
            if south <= lat <= north and west <= lon <= east:
                x, y = to_map(lat, lon)
                run.extend((round(x, 1), round(y, 1)))
            elif run:
                if len(run) >= 4:
                    runs.append(run)
                run = []
        if len(run) >= 4:
            runs.append(run)
    schools: dict[str, list[Position]] = defaultdict(list)
    for node, (lat, lon) in points.items():
        data = graph.nodes[node]
        if data.get("kind") == "school" and data.get("local_authority"):
            schools[str(data["local_authority"])].append(to_map(lat, lon))
    areas = []
    for name, placed in sorted(schools.items()):
        outline = convex_hull(placed)
        if len(outline) < 3:
            continue
        areas.append(
            {
                "name": name,
                "outline": [round(value, 1) for point in outline for value in point],
                "x": round(sum(x for x, _ in placed) / len(placed), 1),
                "y": round(sum(y for _, y in placed) / len(placed), 1),
            }
        )
    return {"coast": runs, "areas": areas}
