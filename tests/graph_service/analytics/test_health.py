"""Network health on tiny graphs with known centralities, communities and brokers."""

from __future__ import annotations

from datetime import date

from graph_service.analytics.health import network_health
from graph_service.analytics.network import SchoolFilter
from graph_service.graphview import build_graph
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
    # 16 organisations; 10 have a tie on the day (Juniper's ended, maintained_by never counts).
    assert (summary["organisations"], summary["connected_organisations"], summary["lone_organisations"]) == (16, 10, 6)
    assert (summary["edges"], summary["components"], summary["largest_component"]) == (6, 4, 4)
    nodes = {row["id"]: row for row in report["nodes"]}
    # Path Ash - Trust One - Birch - Kestrel: Trust One and Birch each lie on 2 of 36 pairs.
    assert nodes["group-1"]["betweenness"] == round(2 / 36, 6) == nodes["102"]["betweenness"]
    assert nodes["101"]["betweenness"] == 0.0
    assert all(row["clustering"] == 0.0 for row in report["nodes"])

    north = network_health(town_graph(), TODAY, flt=SchoolFilter(district="North"))
    assert sorted(row["id"] for row in north["nodes"]) == ["101", "102", "111", "group-1"]
    assert (north["summary"]["organisations"], north["summary"]["lone_organisations"]) == (6, 3)


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
