"""The area measures on the real Birmingham sample agree with the questions that count the same things."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from graph_service.analytics.health import area_graph
from graph_service.analytics.isolation import isolated
from graph_service.analytics.network import SchoolFilter, collaboration_graph, in_group, node_ties, selected
from graph_service.analytics.panel import area_rows, panel_columns, projection, state_funded
from graph_service.areas import default_types

DAYS = [date(2012, 8, 31), date(2018, 8, 31), date(2025, 7, 18)]


@pytest.mark.parametrize("day", DAYS)
def test_birmingham_counts_agree_with_the_isolated_question(birmingham_inspected: nx.MultiDiGraph, day: date) -> None:
    row = next(r for r in area_rows(projection(birmingham_inspected).on(day)) if r["area"] == 330)
    flt = SchoolFilter(la_code=330, types=tuple(default_types()))
    collab = collaboration_graph(birmingham_inspected, day)
    schools = [node for node in selected(collab, flt, day) if state_funded(collab.nodes[node])]
    assert row["schools"] == len(schools) > 400
    alone = isolated(birmingham_inspected, day, flt=flt)["total"]
    assert round(row["isolated_share"] * row["schools"]) == alone
    # Nothing closed on the day is counted: every school counted was open by its own dates.
    for node in schools:
        attrs = collab.nodes[node]
        assert attrs.get("closed") is None or attrs["closed"] >= day
    trusts = sum(1 for node in schools if any(collab.nodes[o].get("kind") == "trust" for o in collab[node]))
    assert round(row["in_trust_share"] * row["schools"]) == trusts
    assert round(row["in_trust_share"] * row["schools"]) <= sum(1 for node in schools if in_group(collab, node))


def test_birmingham_panel_follows_schools_that_changed_urn(birmingham_inspected: nx.MultiDiGraph) -> None:
    columns = panel_columns(projection(birmingham_inspected), [date(2012, 8, 31), date(2025, 7, 18)])
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    later = {row["urn"]: row for row in rows if row["as_at"] == date(2025, 7, 18)}
    earlier = {row["urn"]: row for row in rows if row["as_at"] == date(2012, 8, 31)}
    # Converters: the maintained school's row in 2012 names its academy, which names it back in 2025.
    followed = [
        (urn, successor)
        for urn, row in earlier.items()
        for successor in row["successor_urns"].split(";")
        if successor in later and urn in later[successor]["predecessor_urns"].split(";")
    ]
    assert len(followed) > 100
    assert all(later[successor]["type_group"] in ("Academies", "Free Schools") for _urn, successor in followed[:20])
    assert {row["standing"] for row in later.values()} >= {"good", "outstanding", "requires_improvement"}


@pytest.mark.parametrize("day", DAYS)
def test_birmingham_projection_agrees_with_the_health_questions_own(
    birmingham_inspected: nx.MultiDiGraph, day: date
) -> None:
    """Two implementations of the projection, arrays (panel) and node by node (health), agree on real data."""
    p = projection(birmingham_inspected)
    snap = p.on(day)
    row = next(r for r in area_rows(snap) if r["area"] == 330)
    collab = collaboration_graph(birmingham_inspected, day)
    area = area_graph(collab, SchoolFilter(la_code=330, types=tuple(default_types())), day)
    number = {node: i for i, node in enumerate(p.ids)}
    assert {node: int(snap.degree[number[node]]) for node in area} == dict(area.degree())
    assert round(row["no_partner_share"] * row["schools"]) == row["schools"] - area.number_of_nodes()
    components = list(nx.connected_components(area))
    assert row["components"] == len(components) + row["schools"] - area.number_of_nodes()
    assert round(row["largest_component_share"] * row["schools"]) == max(map(len, components))
    trusts = {node for node, attrs in collab.nodes(data=True) if attrs.get("kind") == "trust"}
    across = sum(2 for _a, _b, ties in area.edges(data="ties") if not trusts & set(ties))
    assert round(row["across_trust_per_school"] * row["schools"]) == across
    assert row["mean_degree"] * row["schools"] == pytest.approx(2 * area.number_of_edges(), abs=0.5)
    # The Herfindahl index from each school's trust, counted here.
    by_trust: dict[str, int] = {}
    for node in area_schools(collab, day):
        mine = sorted(other for other in collab[node] if other in trusts)
        if mine:
            by_trust[mine[0]] = by_trust.get(mine[0], 0) + 1
    total = sum(by_trust.values())
    federated = sum(
        1
        for node in area_schools(collab, day)
        if any(
            data.get("kind") == "federated_with"
            or (data.get("kind") == "member_of" and collab.nodes[other].get("kind") == "federation")
            for other, _tie, _direction, data in node_ties(collab, node)
        )
    )
    assert round(row["in_federation_share"] * row["schools"]) == federated > 0
    assert row["trusts"] == len(by_trust)
    assert row["trust_hhi"] == round(sum((n / total) ** 2 for n in by_trust.values()), 4)


def area_schools(collab: nx.Graph, day: date) -> list[str]:
    flt = SchoolFilter(la_code=330, types=tuple(default_types()))
    return [node for node in selected(collab, flt, day) if state_funded(collab.nodes[node])]
