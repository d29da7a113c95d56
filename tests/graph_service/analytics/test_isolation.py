"""Isolated, weak, loose and remote schools, and area summaries, on the hand-built town."""

from __future__ import annotations

from datetime import date
from typing import Any

import networkx as nx
import pytest

from graph_service.analytics.geo import haversine_km
from graph_service.analytics.isolation import area_summary, isolated, risk, risk_history
from graph_service.analytics.network import (
    COLLABORATION_KINDS,
    SchoolFilter,
    collaboration_graph,
    collaboration_timeline,
    holds,
    was_open,
)
from tests.graph_service.analytics.town import town_graph

TODAY = date(2025, 9, 1)


def listed(*args: Any, **kwargs: Any) -> list[dict]:
    answer = isolated(*args, **kwargs)
    assert answer["total"] == len(answer["rows"])
    return answer["rows"]


def ids(rows: list[dict]) -> list[str]:
    return [row["id"] for row in rows]


def test_a_page_counts_every_school_listed() -> None:
    answer = isolated(town_graph(), TODAY, max_ties=1, offset=2, limit=3)
    assert answer["total"] == 10 and ids(answer["rows"]) == ["110", "103", "111"]


def test_isolated_means_no_collaboration_tie_riskiest_first() -> None:
    rows = listed(town_graph(), TODAY)
    # Juniper (inadequate) left its trust; Cedar (RI) and Gorse are only maintained by the LA;
    # Larch's only tie is to its predecessor. Damson's sole-member trust still counts.
    assert ids(rows) == ["110", "103", "107", "112"]
    assert [row["risk"] for row in rows] == [4, 3, 0, 0]
    assert all(row["criteria"] == ["isolated"] and row["ties"] == [] for row in rows)
    cedar = rows[1]
    assert cedar["reasons"] == [
        "no collaboration tie on 2025-09-01 (maintained by Birmingham: administrative, not counted)"
    ]
    assert cedar["ofsted_rating"] == "requires_improvement"
    # No partner of its own: the nearest open primary that collaborates, Ash (1.0 km west), before
    # Kestrel (1.2 km) and Juniper (isolated too); Gorse has no location, so nothing.
    assert cedar["nearest_partner"] == {
        "id": "101",
        "name": "Ash Primary",
        "kind": "school",
        "distance_km": round(haversine_km(52.48, -1.875, 52.48, -1.89), 3),
        "via_id": None,
        "via_name": None,
        "possible": True,
    }
    assert rows[2]["id"] == "107" and rows[2]["nearest_partner"] is None


def test_as_at_uses_the_ties_and_the_schools_open_on_that_day() -> None:
    # On 2020-01-01 Juniper was in Trust One, Birch did not yet support Kestrel, Hazel was open
    # and Larch had not opened.
    assert ids(listed(town_graph(), date(2020, 1, 1))) == ["103", "111", "107", "108"]
    # The day a tie ends it still holds; the next day it does not.
    assert "110" not in ids(listed(town_graph(), date(2022, 8, 31)))
    assert "110" in ids(listed(town_graph(), date(2022, 9, 1)))


def test_weakly_connected_loose_and_remote() -> None:
    graph = town_graph()
    weak = listed(graph, TODAY, max_ties=1)
    assert ids(weak) == ["104", "106", "110", "103", "111", "101", "105", "107", "109", "112"]
    damson = weak[0]
    assert damson["criteria"] == ["weak"] and damson["tie_count"] == 1
    assert damson["reasons"] == ["1 collaboration tie(s), at most 1: member of Solo Trust (member)"]
    assert [t["other_id"] for t in damson["ties"]] == ["group-2"]

    loose = listed(graph, TODAY, loose=True)
    assert ids(loose) == ["106", "110", "103", "105", "107", "112"]
    assert loose[0]["reasons"] == ["only loose collaboration: federated with Elm Secondary (loose_collaboration)"]

    remote = listed(graph, TODAY, remote_km=2)
    assert ids(remote) == ["104", "106", "110", "103", "105", "107", "109", "112"]
    fir = remote[1]
    km = haversine_km(52.48, -1.7, 52.48, -1.8)
    assert fir["criteria"] == ["remote"]
    assert fir["nearest_partner"]["id"] == "105" and fir["nearest_partner"]["distance_km"] == round(km, 3)
    assert fir["reasons"] == [f"no partner within 2 km (nearest is Elm Secondary at {km:.1f} km)"]
    assert remote[0]["reasons"] == ["no partner within 2 km (no partner with a known location)"]


def test_nearest_partner_counts_fellow_members_of_a_group() -> None:
    rows = listed(town_graph(), TODAY, max_ties=1, flt=SchoolFilter(phases=("primary",), district="North"))
    ash = next(row for row in rows if row["id"] == "101")
    assert ash["nearest_partner"] == {
        "id": "102",
        "name": "Birch Primary",
        "kind": "school",
        "distance_km": round(haversine_km(52.48, -1.89, 52.489, -1.89), 3),
        "via_id": "group-1",
        "via_name": "Trust One",
    }


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (SchoolFilter(phases=("secondary",)), []),
        (SchoolFilter(district="north"), ["110", "103", "107"]),
        (SchoolFilter(types=("academy_converter",)), ["112"]),
        (SchoolFilter(types=("Community",)), ["103"]),
        (SchoolFilter(la_code=999), []),
        (SchoolFilter(local_authority="BIRMINGHAM", phases=("nursery",)), ["107"]),
        (SchoolFilter(statuses=("closed",)), ["108"]),
    ],
)
def test_filters(flt: SchoolFilter, expected: list[str]) -> None:
    assert ids(listed(town_graph(), TODAY, flt=flt)) == expected


def test_area_summary_by_district_and_overall() -> None:
    rows = area_summary(town_graph(), TODAY, group_by="district")
    assert rows == [
        {
            "area": "North",
            "schools": 6,
            "in_group": 2,
            "in_group_share": 0.3333,
            "isolated": 3,
            "isolated_share": 0.5,
            "islands": 1,
            "largest_island": 3,
            "island_sizes": [3],
            "single_school_islands": 3,
        },
        {
            "area": "South",
            "schools": 5,
            "in_group": 3,
            "in_group_share": 0.6,
            "isolated": 1,
            "isolated_share": 0.2,
            "islands": 1,
            "largest_island": 2,
            "island_sizes": [2],
            "single_school_islands": 3,
        },
    ]
    (overall,) = area_summary(town_graph(), TODAY, group_by=None)
    assert (overall["area"], overall["schools"], overall["in_group"], overall["isolated"]) == ("all", 11, 5, 4)
    assert overall["island_sizes"] == [3, 2] and overall["single_school_islands"] == 6


def test_islands_do_not_cross_schools_outside_the_area() -> None:
    # Birch (North) ties Ash to Kestrel; without Birch in the area they are two single islands.
    rows = area_summary(town_graph(), TODAY, group_by=None, flt=SchoolFilter(types=("community",)))
    assert rows[0]["schools"] == 1
    graph = town_graph()
    graph.nodes["102"]["district"] = "Elsewhere"
    north = next(row for row in area_summary(graph, TODAY, group_by="district") if row["area"] == "North")
    assert north["islands"] == 0 and north["single_school_islands"] == 5


def test_collaboration_graph_keeps_only_collaboration_that_holds() -> None:
    collab = collaboration_graph(town_graph(), TODAY)
    assert sorted(collab.edges()) == [
        ("101", "group-1"),
        ("102", "111"),
        ("102", "group-1"),
        ("104", "group-2"),
        ("105", "106"),
        ("109", "tsh-x"),
    ]
    assert collab.graph["administrative"] == {"103": ["Birmingham"], "107": ["Birmingham"]}


def test_unknown_group_by_is_refused() -> None:
    with pytest.raises(ValueError, match="group_by"):
        area_summary(town_graph(), TODAY, group_by="colour")


DAYS = [date(2012, 3, 1), date(2016, 9, 1), date(2019, 9, 1), date(2023, 1, 1), date(2025, 9, 1)]


@pytest.mark.parametrize("day", DAYS)
def test_risk_on_any_day_from_the_history_is_risk_of_each_school(
    day: date, birmingham_inspected: nx.MultiDiGraph
) -> None:
    timeline = collaboration_timeline(birmingham_inspected)
    found = risk_history(timeline).on(day).tolist()
    assert found == [risk(attrs, day) for attrs in timeline.nodes.values()]
    assert len(set(found)) > 2  # the history has real ratings to tell apart on this day


@pytest.mark.parametrize("day", DAYS)
def test_isolated_lists_what_the_plain_rule_lists_in_its_order(
    day: date, birmingham_inspected: nx.MultiDiGraph
) -> None:
    graph = birmingham_inspected
    collab = collaboration_graph(graph, day)
    want = sorted(
        (
            node
            for node, attrs in graph.nodes(data=True)
            if attrs.get("kind") == "school"
            and was_open(attrs, day)
            and not any(
                data.get("kind") in COLLABORATION_KINDS and holds(data, day)
                for _u, _v, data in [*graph.out_edges(node, data=True), *graph.in_edges(node, data=True)]
            )
        ),
        key=lambda node: (-risk(graph.nodes[node], day), str(graph.nodes[node].get("name", node)).lower(), node),
    )
    answer = isolated(graph, day, collab=collab)
    assert answer["total"] == len(want) > 0
    assert [row["id"] for row in answer["rows"]] == want
    assert [row["risk"] for row in answer["rows"]] == [risk(graph.nodes[node], day) for node in want]
    assert [row["id"] for row in isolated(graph, day, collab=collab, offset=5, limit=7)["rows"]] == want[5:12]
