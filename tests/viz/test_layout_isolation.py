"""Map layout and the isolated-schools helper, on tiny graphs with exact answers."""

from __future__ import annotations

import math
from datetime import date

import networkx as nx

from graph_service.graphview import build_graph
from graph_service.models import EdgeKind, NodeKind
from tests.factories import org, school, tie
from viz.isolation import distance_km, nearest_partners
from viz.layout import geographic_positions, map_span, project


def test_projection_shrinks_longitude_by_the_cosine_of_the_middle_latitude() -> None:
    pos = project({"w": (60.0, -4.0), "e": (60.0, 0.0), "n": (61.0, -2.0)}, span=600)
    # At 60.5N, 4 degrees of longitude are 4 * cos(60.5) = 1.97 degrees of latitude: the longer side.
    scale = 600 / (4 * math.cos(math.radians(60.5)))
    assert pos["w"][0] == -300.0 and pos["e"][0] == 300.0 and pos["n"][0] == 0.0
    assert math.isclose(pos["n"][1], -0.5 * scale, abs_tol=0.01)  # north is up (negative y)
    assert math.isclose(pos["w"][1], 0.5 * scale, abs_tol=0.01) and pos["w"][1] == pos["e"][1]


def test_unlocated_nodes_follow_their_neighbours_over_several_rings() -> None:
    graph = build_graph(
        [
            school(1, latitude=52.0, longitude=-2.0),
            school(2, latitude=52.0, longitude=-1.0),
            org("group-10", NodeKind.TRUST, "T"),
            org("sponsor-s", NodeKind.SPONSOR, "S"),
            org("group-11", NodeKind.TRUST, "Lonely trust"),
        ],
        [
            tie("1", "group-10", EdgeKind.MEMBER_OF),
            tie("2", "group-10", EdgeKind.MEMBER_OF),
            tie("group-10", "sponsor-s", EdgeKind.SPONSORED_BY),
        ],
    )
    pos = geographic_positions(graph, span=1000)
    assert pos["1"] == (-500.0, 0.0) and pos["2"] == (500.0, 0.0)
    # Between its members, set aside by 4% of the span; the sponsor as far beside its trust.
    assert math.isclose(math.dist(pos["group-10"], (0.0, 0.0)), 40, abs_tol=0.01)
    assert math.isclose(math.dist(pos["sponsor-s"], pos["group-10"]), 40, abs_tol=0.01)
    assert math.isclose(math.dist(pos["group-11"], (0.0, 0.0)), 650, abs_tol=0.01)  # ring, outside the map
    assert set(pos) == set(graph.nodes)


def test_map_span_grows_with_the_square_root_of_the_node_count() -> None:
    assert map_span(1) == map_span(625) == 1000.0 and map_span(2500) == 2000.0


def _graph() -> nx.MultiDiGraph:
    return build_graph(
        [
            school(1, "Lonely LA school", latitude=52.00, longitude=-2.0),
            school(2, "Ex-member", latitude=52.01, longitude=-2.0),
            school(3, "Successor", latitude=52.20, longitude=-2.0),
            school(4, "Closed", status="closed", latitude=52.0, longitude=-2.0),
            school(5, "Trust primary", latitude=52.05, longitude=-2.0),
            school(6, "Trust secondary", phase="secondary", latitude=52.001, longitude=-2.0),
            school(7, "No location"),
            org("fe", NodeKind.FE_COLLEGE, "College", latitude=52.0, longitude=-2.0),
            org("group-10", NodeKind.TRUST, "Trust"),
            org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
        ],
        [
            tie("1", "la-330", EdgeKind.MAINTAINED_BY),
            tie("2", "group-10", EdgeKind.MEMBER_OF, since=date(2019, 1, 1), until=date(2022, 8, 31)),
            tie("4", "3", EdgeKind.PREDECESSOR_OF),
            tie("5", "group-10", EdgeKind.MEMBER_OF),
            tie("6", "group-10", EdgeKind.MEMBER_OF),
        ],
    )


def test_nearest_partners_prefer_the_same_phase_and_skip_unlocated_schools() -> None:
    pairs = nearest_partners(_graph(), ["1", "3", "7"], per_school=2, as_at=date(2025, 7, 18))
    assert [(school, partner) for school, partner, _ in pairs] == [("1", "5"), ("3", "5")]
    assert math.isclose(pairs[0][2], distance_km((52.0, -2.0), (52.05, -2.0)))
    # With no primary partner at all, another phase is better than none.
    graph = _graph()
    graph.remove_node("5")
    assert [(s, p) for s, p, _ in nearest_partners(graph, ["1"], as_at=date(2025, 7, 18))] == [("1", "6")]


def test_distance_is_great_circle_km() -> None:
    assert round(distance_km((51.5007, -0.1246), (52.4862, -1.8904)), 0) == 163.0


def test_a_group_is_placed_clear_of_every_school() -> None:
    """A trust beside its members, on no school: not its members, nor a school in its way."""
    import math

    from viz.layout import CLEARANCE_PX, geographic_positions

    g = nx.MultiDiGraph()
    g.add_node("a", latitude=52.0, longitude=-2.0)
    g.add_node("b", latitude=52.0, longitude=-1.99)
    # A ring of schools 30 px around the members' middle (2,000 px a degree here), where a trust would
    # otherwise go: the first clear place is twice as far out.
    for i in range(24):
        angle = i * math.pi / 12
        g.add_node(f"r{i}", latitude=52.0 + 0.015 * math.sin(angle), longitude=-1.995 + 0.0245 * math.cos(angle))
    g.add_node("far", latitude=52.5, longitude=-1.5)
    g.add_edge("a", "t", key="1", kind="member_of")
    g.add_edge("b", "t", key="2", kind="member_of")
    pos = geographic_positions(g, span=1000)
    schools = [pos[node] for node in g if node != "t"]
    assert min(math.dist(pos["t"], school) for school in schools) >= CLEARANCE_PX
    middle = ((pos["a"][0] + pos["b"][0]) / 2, (pos["a"][1] + pos["b"][1]) / 2)
    assert round(math.dist(pos["t"], middle)) == 80  # 2 x 40 px: the nearer rings are not clear
