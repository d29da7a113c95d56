"""The node and edge data and the page, on tiny hand-built graphs with exact answers."""

from __future__ import annotations

import json
import re
from datetime import date

import networkx as nx
import pytest

from graph_service.graphview import build_graph
from graph_service.models import EdgeKind, NodeKind
from tests.factories import org, school, tie
from tests.viz.pages import page_json
from viz import style
from viz.layout import map_span
from viz.render import EdgeRow, ExtraEdge, NodeRow, PageData, Picture, page_data, render_html, vis_options

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def network() -> nx.MultiDiGraph:
    """A trust with two schools, a federation pair, a supported school and an LA-only school."""
    orgs = [
        school(1, "Alpha", ofsted_rating="outstanding", latitude=52.0, longitude=-2.0, pupils=420, capacity=450),
        school(2, "Beta", ofsted_rating="special_measures", latitude=53.0, longitude=-2.0),
        school(3, "Gamma", phase="secondary", latitude=52.0, longitude=-1.0),
        school(4, "Delta", ofsted_rating="requires_improvement"),
        school(5, "Epsilon", status="closed", latitude=52.5, longitude=-1.5),
        org("group-10", NodeKind.TRUST, "Trust T", subtype="multi_academy", group_uid=10),
        org("group-20", NodeKind.FEDERATION, "Fed F", group_uid=20, properties={"governance": "hard_governance"}),
        org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
    ]
    ties = [
        tie("1", "group-10", EdgeKind.MEMBER_OF, role="member"),
        tie("2", "group-10", EdgeKind.MEMBER_OF, role="member"),
        tie("1", "3", EdgeKind.FEDERATED_WITH, level="soft"),
        tie("3", "2", EdgeKind.FEDERATED_WITH, level="loose_collaboration"),
        tie("1", "2", EdgeKind.SUPPORTS, focus="maths", since=date(2024, 9, 1)),
        tie("3", "group-20", EdgeKind.MEMBER_OF, role="member"),
        tie("4", "la-330", EdgeKind.MAINTAINED_BY),
        tie("5", "3", EdgeKind.PREDECESSOR_OF),
    ]
    return build_graph(orgs, ties)


def by_id(rows: list[NodeRow]) -> dict[str, NodeRow]:
    return {row.id: row for row in rows}


def edge_looks(page: PageData) -> dict[tuple[str, str, str], dict]:
    return {(e.source, e.target, e.kind): page.looks[e.look] for e in page.edges}


def test_rows_carry_kind_and_rating_and_the_tables_their_colours_and_shapes() -> None:
    page = page_data(network(), colour="rating")
    nodes = by_id(page.nodes)
    assert (nodes["1"].kind, nodes["1"].rating) == ("school", "outstanding")
    assert (nodes["2"].rating, nodes["4"].rating, nodes["3"].rating) == (
        "special_measures",
        "requires_improvement",
        None,
    )
    assert nodes["group-10"].kind == "trust" and nodes["group-10"].rating is None
    tables = page.as_json()
    assert tables["colour"] == "rating" and page_data(network()).as_json()["colour"] == "kind"
    assert (
        tables["kinds"]["school"]
        == {"shape": "dot", "colour": "#4e79a7"}
        == {
            "shape": style.KIND_SHAPES[NodeKind.SCHOOL],
            "colour": style.KIND_COLOURS[NodeKind.SCHOOL],
        }
    )
    assert tables["kinds"]["trust"] == {"shape": "square", "colour": "#f28e2b"}
    assert tables["kinds"]["local_authority"]["shape"] == "star"
    assert set(tables["kinds"]) == {kind.value for kind in NodeKind}
    assert tables["ratings"]["outstanding"] == "#1a9641" and tables["ratings"]["special_measures"] == "#7f0000"
    assert tables["ratings"]["requires_improvement"] == "#fdae61" and tables["noRating"] == style.NO_RATING_COLOUR
    assert tables["nodeFields"] == NodeRow._fields and tables["edgeFields"] == EdgeRow._fields


def test_size_grows_with_collaboration_ties_only() -> None:
    nodes = by_id(page_data(network()).nodes)
    # 1: trust, federation with 3, supports 2 -> 3 ties; 3: two federations + federation group -> 3 ties.
    assert nodes["1"].size == nodes["3"].size == round(8 + 4 * 3**0.5, 1) == 14.9
    assert nodes["group-10"].size == round(8 + 4 * 2**0.5, 1)
    # maintained_by and predecessor_of are not collaboration.
    assert nodes["4"].size == nodes["la-330"].size == nodes["5"].size == 8.0


def test_edge_style_by_tie_kind_and_federation_level() -> None:
    page = page_data(network())
    looks = edge_looks(page)
    assert looks["1", "3", "federated_with"] == {"color": "#c0392b", "width": 2.5, "dashes": [8, 4]}  # soft
    assert looks["3", "2", "federated_with"] == {"color": "#c0392b", "width": 1.5, "dashes": [3, 4]}  # loose
    assert looks["3", "group-20", "member_of"] == {"color": "#5b7fa6", "width": 5.0}  # hard governance: solid
    assert looks["1", "group-10", "member_of"] == {"color": "#5b7fa6", "width": 1.5}
    assert looks["1", "2", "supports"] == {"color": "#e67e22", "width": 3.0, "arrows": "to"}
    assert looks["4", "la-330", "maintained_by"] == {"color": "#c8c8c8", "width": 0.5, "dashes": [2, 4]}
    assert looks["5", "3", "predecessor_of"]["arrows"] == "to"
    assert {e.id for e in page.edges if e.kind == "supports"} == {"supports:1:2:maths"}
    # Each look is sent once, however many edges share it.
    assert len(page.looks) == len({json.dumps(look, sort_keys=True) for look in page.looks}) == 7


def test_geographic_positions_are_fixed_and_projected() -> None:
    graph = network()
    nodes = by_id(page_data(graph, layout="geo").nodes)
    span = map_span(graph.number_of_nodes())
    assert span == 1000.0
    # Latitudes 52..53 and longitudes -2..-1 at 52.5N: the north-south extent is the longer.
    assert (nodes["1"].x, nodes["1"].y) == (-304.38, 500.0)
    assert (nodes["2"].x, nodes["2"].y) == (-304.38, -500.0)
    assert (nodes["3"].x, nodes["3"].y) == (304.38, 500.0)
    assert vis_options("geo", len(nodes))["nodes"]["fixed"] is True
    # The trust has no location: it sits between its two members, nudged by 2% of the span.
    trust = nodes["group-10"]
    assert trust.x is not None and trust.y is not None
    assert abs(((trust.x + 304.38) ** 2 + trust.y**2) ** 0.5 - 40) < 0.01  # beside its member, not on it
    # Delta and its LA have no location and no located neighbour: on the ring outside the map.
    for node_id in ("4", "la-330"):
        x, y = nodes[node_id].x, nodes[node_id].y
        assert x is not None and y is not None and round((x**2 + y**2) ** 0.5) == 650
    assert vis_options("geo", len(nodes))["physics"] == {"enabled": False}


def test_force_layout_leaves_positions_to_physics() -> None:
    nodes = page_data(network(), layout="force").nodes
    assert all(node.x is None and node.y is None for node in nodes)
    options = vis_options("force", len(nodes))
    assert options["physics"]["enabled"] is True and options["nodes"]["fixed"] is False


def test_highlight_closed_and_extra_edges() -> None:
    page = page_data(network(), highlight={"4"}, extra_edges=[ExtraEdge("4", "1", "Delta \u2192 Alpha: 3.0 km <b>")])
    node = by_id(page.nodes)
    assert node["4"].highlighted and not node["1"].highlighted
    assert node["4"].size == 12.0  # no ties, but highlighted nodes stay visible
    assert node["5"].closed and not node["1"].closed
    extra = [edge for edge in page.edges if edge.kind == "extra"]
    assert [(e.source, e.target, page.looks[e.look]["dashes"], e.tip) for e in extra] == [
        ("4", "1", [1, 5], ["Delta \u2192 Alpha: 3.0 km <b>"])  # plain text: the page never reads it as HTML
    ]


def test_tooltips_carry_the_brokers_facts() -> None:
    page = page_data(network())
    nodes = by_id(page.nodes)
    assert (nodes["1"].name, nodes["1"].tip) == (
        "Alpha",
        [
            "school",
            "URN: 1",
            "Phase: primary",
            "Ofsted: outstanding",
            "Pupils: 420 of 450 places",
            "Trust: Trust T",
            "Local authority: Birmingham",
        ],
    )
    assert "Status: closed" in nodes["5"].tip
    edges = {e.id: e for e in page.edges}
    assert edges["supports:1:2:maths"].tip == ["supports", "Focus: maths", "When: 2024-09-01 to now"]
    assert edges["federated_with:1:3"].tip == ["federated with (soft)"]
    assert edges["federated_with:2:3"].tip == ["federated with (loose collaboration)"]
    assert edges["member_of:1:group-10"].tip == ["member of (member)"]


@pytest.mark.parametrize("name", [SCRIPT, IMG])
def test_names_cannot_inject_html(name: str) -> None:
    graph = build_graph(
        [
            school(1, name, type_name=name, latitude=52.0, longitude=-2.0),
            org("group-10", NodeKind.TRUST, name, group_uid=10),
        ],
        [tie("1", "group-10", EdgeKind.MEMBER_OF, role="member", focus=name, outcome=name)],
    )
    page = render_html(Picture(graph, title=f"Network of {name}", data_date="2025-07-18"))
    benign = render_html(Picture(graph.copy(), title="Network of X", data_date="2025-07-18"))
    # Not one extra element from the name: count tags against a page drawn without it in the title,
    # and check the data holds the name only inside JSON strings, with no "<" that could close the script.
    assert page.count("<script") == benign.count("<script")
    assert page.count("<img") == benign.count("<img") == 0
    data = page_json(page)
    fields = data["nodeFields"]
    school_row = dict(zip(fields, next(row for row in data["nodes"] if row[0] == "1"), strict=True))
    assert school_row["name"] == name and f"school ({name})" in school_row["tip"]
    assert f"Trust: {name}" in school_row["tip"]
    assert data["edges"][0][data["edgeFields"].index("tip")] == [
        "member of (member)",
        f"Focus: {name}",
        f"Outcome: {name}",
    ]
    # The page shows tooltips with textContent only.
    assert "innerHTML" not in page.split("var pageData = ", 1)[1]
    assert f"<title>Network of {name}" not in page
    assert "<title>Network of &lt;script&gt;" in page or "<title>Network of &#34;&gt;&lt;img" in page


def test_page_is_offline_titled_and_dated() -> None:
    page = render_html(Picture(network(), title="Trust T and friends", data_date="2025-07-18", note="a note"))
    assert "<title>Trust T and friends</title>" in page and "<h1>Trust T and friends</h1>" in page
    assert "data as of 2025-07-18" in page and "a note" in page
    assert "8 organisations, 8 ties" in page
    # Nothing is fetched from elsewhere: no remote script, style sheet, image or font.
    assert re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page) is None
    assert re.search(r"@import|url\((['\"])?https?:", page) is None
    assert "vis.Network" in page and "afterDrawing" in page
    # The legend lists every kind, every rating and every tie kind.
    for kind in NodeKind:
        assert kind.value.replace("_", " ") in page
    for line in style.EDGE_STYLES.values():
        assert line.label in page


def test_a_graph_without_locations_falls_back_to_force() -> None:
    graph = build_graph([org("group-10", NodeKind.TRUST, "Trust T")], [])
    page = render_html(Picture(graph, title="T"))
    assert '"physics":{"enabled":true' in page and "layout is by force" in page


def test_a_map_is_drawn_over_the_coast_and_the_areas_of_its_authorities() -> None:
    graph = network()
    on_map = page_data(graph, layout="geo")
    assert on_map.backdrop is not None and on_map.as_json()["backdrop"] == on_map.backdrop
    # Birmingham is inland: no coast; its located schools' outline, in the nodes' own pixels.
    assert on_map.backdrop["coast"] == []
    (area,) = on_map.backdrop["areas"]
    assert area["name"] == "Birmingham"
    corners = {(x, y) for x, y in zip(area["outline"][::2], area["outline"][1::2], strict=True)}
    placed = {(row.x, row.y) for row in on_map.nodes if row.kind == "school" and row.x is not None}
    assert corners <= {(round(x, 1), round(y, 1)) for x, y in placed}
    assert page_data(graph, layout="force").backdrop is None
    # By the sea, the coast near the organisations is drawn.
    seaside = nx.MultiDiGraph()
    for n, (lat, lon) in enumerate([(51.13, 1.31), (51.28, 1.08), (51.2, 0.9)]):  # Dover, Canterbury, Ashford
        seaside.add_node(str(n), kind="school", name=str(n), latitude=lat, longitude=lon, local_authority="Kent")
    drawn = page_data(seaside, layout="geo").backdrop
    assert drawn is not None and sum(len(run) // 2 for run in drawn["coast"]) > 20
