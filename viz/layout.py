"""Where nodes go on the page: a simple map from the schools' coordinates.

Latitude and longitude are projected onto an equirectangular plane (longitude
shrunk by the cosine of the middle latitude, which is exact enough at the scale
of England) and scaled to pixels. Groups have no address of their own, so an
organisation without a location sits near the ones it is tied to; whatever is
still unplaced goes on a ring around the map, where it cannot hide a school.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable

import networkx as nx

Position = tuple[float, float]

#: How many rings of unlocated neighbours are placed from their placed neighbours.
PLACEMENT_ROUNDS = 3
#: Least distance, in pixels, between a group and the middle of its members.
GROUP_OFFSET_PX = 40.0


def map_span(node_count: int) -> float:
    """Width in pixels of the longer side of the map: more nodes, more room.

    >>> map_span(10), map_span(10_000)
    (1000.0, 4000.0)
    """
    return max(1000.0, 40.0 * math.sqrt(node_count))


def projection(points: Iterable[Position], span: float) -> Callable[[float, float], Position] | None:
    """The map's projection of ``(latitude, longitude)`` to pixels, fitted to ``points``: north up,
    centred on 0, the longer side ``span``; ``None`` without points.

    >>> to_map = projection([(52.0, -2.0), (53.0, -2.0)], span=1000)
    >>> to_map(52.0, -2.0), to_map(52.5, -2.0)
    ((0.0, 500.0), (0.0, 0.0))
    """
    kept = list(points)
    if not kept:
        return None
    lats = [lat for lat, _ in kept]
    lons = [lon for _, lon in kept]
    mid_lat = (min(lats) + max(lats)) / 2
    mid_lon = (min(lons) + max(lons)) / 2
    shrink = math.cos(math.radians(mid_lat))
    extent = max((max(lons) - min(lons)) * shrink, max(lats) - min(lats))
    scale = span / extent if extent > 0 else 1.0

    def to_map(lat: float, lon: float) -> Position:
        return round((lon - mid_lon) * shrink * scale, 2), round((mid_lat - lat) * scale, 2)

    return to_map


def project(points: dict[str, Position], span: float) -> dict[str, Position]:
    """Project ``{id: (latitude, longitude)}`` to pixels, north up, centred on 0, longer side ``span``.

    >>> pos = project({"a": (52.0, -2.0), "b": (53.0, -2.0)}, span=1000)
    >>> pos["a"], pos["b"]
    ((0.0, 500.0), (0.0, -500.0))
    """
    to_map = projection(points.values(), span)
    if to_map is None:
        return {}
    return {key: to_map(lat, lon) for key, (lat, lon) in points.items()}


def located(graph: nx.Graph) -> dict[str, Position]:
    """``{node: (latitude, longitude)}`` of the nodes with a location."""
    points: dict[str, Position] = {}
    for node, data in graph.nodes(data=True):
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if latitude is not None and longitude is not None:
            points[node] = (latitude, longitude)
    return points


def _undirected_neighbours(graph: nx.Graph, node: str) -> Iterable[str]:
    if graph.is_directed():
        yield from graph.succ[node]
        yield from graph.pred[node]
    else:
        yield from graph.adj[node]


#: How far, in pixels, a group is kept from any located organisation (node sizes reach 40).
CLEARANCE_PX = 45.0
#: Up to this many organisations (a served picture's limit) groups are kept clear of every school.
CLEAR_UP_TO = 10_000


class Clearance:
    """The located organisations on a grid of :data:`CLEARANCE_PX` cells, to find a place for a group that
    covers none of them: a place is clear when no organisation of its cell or the eight around it is
    nearer than the clearance.

    >>> free = Clearance([(0.0, 0.0), (40.0, 0.0)])
    >>> x, y = free.beside("t", (20.0, 0.0), 40.0)
    >>> min(math.dist((x, y), p) for p in [(0.0, 0.0), (40.0, 0.0)]) >= CLEARANCE_PX
    True
    """

    def __init__(self, points: Iterable[Position], clearance: float = CLEARANCE_PX) -> None:
        self.clearance = clearance
        self.cells: dict[tuple[int, int], list[Position]] = {}
        for point in points:
            self.cells.setdefault(self._cell(point), []).append(point)

    def _cell(self, point: Position) -> tuple[int, int]:
        return int(point[0] // self.clearance), int(point[1] // self.clearance)

    def clear(self, point: Position) -> bool:
        """Whether every located organisation is at least the clearance away from the point."""
        cx, cy = self._cell(point)
        return not any(
            math.dist(point, other) < self.clearance
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for other in self.cells.get((cx + dx, cy + dy), ())
        )

    def beside(self, node: str, middle: Position, radius: float) -> Position:
        """The first clear place around ``middle`` (12 directions at 1, 1.5 and 2 times ``radius``), turning
        from a direction fixed by the node's id; that first direction when none is clear (a dense map)."""
        start = (zlib.crc32(node.encode()) % 3600) / 3600 * 2 * math.pi
        for ring in (1.0, 1.5, 2.0):
            for step in range(12):
                angle = start + step * math.pi / 6
                place = (middle[0] + ring * radius * math.cos(angle), middle[1] + ring * radius * math.sin(angle))
                if self.clear(place):
                    return place
        return middle[0] + radius * math.cos(start), middle[1] + radius * math.sin(start)


def geographic_positions(graph: nx.Graph, span: float | None = None) -> dict[str, Position]:
    """Pixel positions for every node: located nodes on the map, the rest near their neighbours or on a ring.

    Parameters
    ----------
    graph
        Nodes may carry ``latitude`` and ``longitude``.
    span
        Longer side of the map in pixels (default: :func:`map_span` of the node count).

    Returns
    -------
    dict
        ``{node: (x, y)}`` for every node of the graph.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("s1", latitude=52.0, longitude=-2.0)
    >>> g.add_node("s2", latitude=53.0, longitude=-2.0)
    >>> g.add_edge("s1", "t", key="m1"); g.add_edge("s2", "t", key="m2")
    'm1'
    'm2'
    >>> g.add_node("alone")
    >>> pos = geographic_positions(g, span=1000)
    >>> pos["s1"], pos["s2"]
    ((0.0, 500.0), (0.0, -500.0))
    >>> round(math.dist(pos["t"], (0.0, 0.0)))  # between its members, set aside by 4% of the span
    40
    >>> round(math.dist(pos["alone"], (0.0, 0.0)))  # on the ring outside the map
    650
    """
    span = span if span is not None else map_span(graph.number_of_nodes())
    placed = project(located(graph), span)
    # Finding clear places costs about a second on whole England; its map (the command line's) keeps the
    # first direction, as dense as it is.
    free = Clearance(placed.values() if graph.number_of_nodes() <= CLEAR_UP_TO else ())
    unplaced = [node for node in graph if node not in placed]
    for _ in range(PLACEMENT_ROUNDS):
        newly: dict[str, Position] = {}
        for node in unplaced:
            near = [placed[other] for other in _undirected_neighbours(graph, node) if other in placed]
            if near:
                # Beside its members rather than on top of them, nor on any other school: the first
                # place around their middle that is clear, turning from a direction fixed by its id.
                middle = (sum(x for x, _ in near) / len(near), sum(y for _, y in near) / len(near))
                x, y = free.beside(node, middle, max(GROUP_OFFSET_PX, span * 0.04))
                newly[node] = (round(x, 2), round(y, 2))
        if not newly:
            break
        placed.update(newly)
        unplaced = [node for node in unplaced if node not in newly]
    rest = sorted(unplaced)
    # The map is centred on the origin and spans at most span/2 each way, so this ring lies outside it.
    radius = span * 0.65
    for index, node in enumerate(rest):
        angle = 2 * math.pi * index / len(rest)
        placed[node] = (round(radius * math.cos(angle), 2), round(radius * math.sin(angle), 2))
    return placed


def has_locations(graph: nx.Graph) -> bool:
    """Whether any node has a latitude and longitude (else a map makes no sense).

    >>> g = nx.Graph(); g.add_node("a"); has_locations(g)
    False
    """
    return any(data.get("latitude") is not None for _, data in graph.nodes(data=True))


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The convex hull of points, counter-clockwise from the lowest (monotone chain).

    >>> convex_hull([(0, 0), (1, 1), (2, 0), (1, 0.5), (0, 2), (2, 2)])
    [(0, 0), (2, 0), (2, 2), (0, 2)]
    >>> convex_hull([(1, 1), (1, 1)])
    [(1, 1)]
    """
    unique = sorted(set(points))
    if len(unique) <= 2:
        return unique

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for point in unique:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    upper: list[tuple[float, float]] = []
    for point in reversed(unique):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    return lower[:-1] + upper[:-1]
