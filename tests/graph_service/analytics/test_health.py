"""Network health on tiny graphs with known centralities, communities and brokers."""

from __future__ import annotations

from datetime import date

from graph_service.analytics.health import network_health
from graph_service.analytics.network import SchoolFilter
from graph_service.graphview import build_graph
from graph_service.models import EdgeKind, NodeKind
from tests.factories import org, school, tie
from tests.graph_service.analytics.town import town_graph, two_triangles

TODAY = date(2025, 9, 1)


def test_two_triangles_make_two_communities_and_two_brokers() -> None:
    batch = two_triangles()
    report = network_health(build_graph(batch.organisations, batch.ties), TODAY)
    assert [c["members"] for c in report["communities"]] == [["201", "202", "203"], ["204", "205", "206"]]
    assert [(b["id"], b["bridges"], b["bridged_communities"]) for b in report["brokers"]] == [
        ("203", 1, [2]),
        ("204", 1, [1]),
    ]
    nodes = {row["id"]: row for row in report["nodes"]}
    # 203 lies on every shortest path from 201 and 202 to the other triangle: 6 of 10 pairs.
    assert nodes["203"]["betweenness"] == 0.6 and nodes["201"]["betweenness"] == 0.0
    assert nodes["201"]["clustering"] == 1.0 and nodes["203"]["clustering"] == round(1 / 3, 6)
    assert nodes["203"]["degree"] == 3
    assert nodes["203"]["eigenvector"] > nodes["201"]["eigenvector"] > 0
    summary = report["summary"]
    assert (summary["components"], summary["largest_component"], summary["communities"]) == (1, 6, 2)
    assert (summary["edges"], summary["ties"], summary["density"]) == (7, 7, round(7 / 15, 6))
    assert summary["betweenness_sample"] is None and summary["modularity"] > 0.3


def test_town_whole_graph_and_an_area() -> None:
    report = network_health(town_graph(), TODAY)
    summary = report["summary"]
    # 11 schools open on the day (Hazel closed in 2021, never counted); 5 have a partner school:
    # Ash - Birch (Trust One), Birch - Kestrel (support), Elm - Fir (federation). Damson is alone in
    # Solo Trust and Ivy alone in the hub: no partner; Juniper's membership ended.
    assert (summary["organisations"], summary["connected_organisations"], summary["lone_organisations"]) == (11, 5, 6)
    assert (summary["edges"], summary["components"], summary["largest_component"]) == (3, 2, 3)
    nodes = {row["id"]: row for row in report["nodes"]}
    assert set(nodes) == {"101", "102", "105", "106", "111"}  # schools only: the trust is not a node
    # Birch lies on the path Ash - Birch - Kestrel: 1 of the 6 pairs of the other 4 schools.
    assert nodes["102"]["betweenness"] == round(1 / 6, 6) and nodes["101"]["betweenness"] == 0.0

    north = network_health(town_graph(), TODAY, flt=SchoolFilter(district="North"))
    assert sorted(row["id"] for row in north["nodes"]) == ["101", "102", "111"]
    assert (north["summary"]["organisations"], north["summary"]["lone_organisations"]) == (6, 3)


def test_trusts_are_cliques_and_a_hub_bridges_them() -> None:
    """Trust T (1, 2, 3 and 7, closed in 2020), trust U (4, 5, 6); the hub's members 3 and 4.

    On the graph of organisations these were two stars and a path: clustering 0 everywhere, and
    communities the components. On the projection each trust is a triangle and the hub joins them.
    """
    orgs = [school(n) for n in range(1, 7)] + [school(7, status="closed", closed=date(2020, 8, 31))]
    orgs += [org("group-1", NodeKind.TRUST), org("group-2", NodeKind.TRUST), org("tsh-1", NodeKind.TEACHING_SCHOOL_HUB)]
    ties = [tie(str(n), "group-1", EdgeKind.MEMBER_OF) for n in (1, 2, 3)]
    ties += [tie("7", "group-1", EdgeKind.MEMBER_OF, until=date(2020, 8, 31))]
    ties += [tie(str(n), "group-2", EdgeKind.MEMBER_OF) for n in (4, 5, 6)]
    ties += [tie("3", "tsh-1", EdgeKind.MEMBER_OF), tie("4", "tsh-1", EdgeKind.MEMBER_OF, role="lead")]
    report = network_health(build_graph(orgs, ties), TODAY)
    summary = report["summary"]
    assert (summary["organisations"], summary["lone_organisations"], summary["edges"]) == (6, 0, 7)
    assert (summary["components"], summary["communities"]) == (1, 2)
    assert [c["members"] for c in report["communities"]] == [["1", "2", "3"], ["4", "5", "6"]]
    nodes = {row["id"]: row for row in report["nodes"]}
    assert nodes["1"]["clustering"] == 1.0 and nodes["3"]["clustering"] == round(1 / 3, 6)
    assert [(b["id"], b["bridges"]) for b in report["brokers"]] == [("3", 1), ("4", 1)]
    # 3 lies on the shortest paths from 1 and 2 to 4, 5 and 6: 6 of the 10 pairs of the other 5 schools.
    assert nodes["3"]["betweenness"] == 0.6 == nodes["4"]["betweenness"] and nodes["1"]["betweenness"] == 0.0


def test_big_graphs_sample_betweenness_with_a_seed() -> None:
    batch = two_triangles()
    graph = build_graph(batch.organisations, batch.ties)
    first = network_health(graph, TODAY, sample=3, seed=7)
    assert first["summary"]["betweenness_sample"] == 3
    assert first == network_health(graph, TODAY, sample=3, seed=7)


def test_an_empty_area_is_answered() -> None:
    report = network_health(town_graph(), TODAY, flt=SchoolFilter(la_code=1))
    assert report["nodes"] == [] and report["communities"] == [] and report["brokers"] == []
    assert report["summary"]["organisations"] == 0 and report["summary"]["density"] == 0.0
