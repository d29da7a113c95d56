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
from viz import style
from viz.layout import map_span
from viz.render import ExtraEdge, Picture, network_data, render_html, vis_options

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


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


def test_colours_follow_kind_or_rating_and_both_are_kept_for_the_switch() -> None:
    nodes, _ = network_data(network(), colour="kind")
    kind = by_id(nodes)
    assert kind["1"]["color"] == style.KIND_COLOURS[NodeKind.SCHOOL] == "#4e79a7"
    assert kind["group-10"]["color"] == "#f28e2b" and kind["group-10"]["shape"] == "square"
    assert kind["la-330"]["shape"] == "star"
    rated = by_id(network_data(network(), colour="rating")[0])
    assert rated["1"]["color"] == "#1a9641"  # outstanding
    assert rated["2"]["color"] == "#7f0000"  # special measures
    assert rated["4"]["color"] == "#fdae61"  # requires improvement
    assert rated["3"]["color"] == rated["group-10"]["color"] == style.NO_RATING_COLOUR
    for node in nodes:
        assert node["kindColour"] == kind[node["id"]]["color"]
        assert node["ratingColour"] == rated[node["id"]]["color"]


def test_size_grows_with_collaboration_ties_only() -> None:
    nodes = by_id(network_data(network())[0])
    # 1: trust, federation with 3, supports 2 -> 3 ties; 3: two federations + federation group -> 3 ties.
    assert nodes["1"]["size"] == nodes["3"]["size"] == round(8 + 4 * 3**0.5, 1) == 14.9
    assert nodes["group-10"]["size"] == round(8 + 4 * 2**0.5, 1)
    # maintained_by and predecessor_of are not collaboration.
    assert nodes["4"]["size"] == nodes["la-330"]["size"] == nodes["5"]["size"] == 8.0


def test_edge_style_by_tie_kind_and_federation_level() -> None:
    edges = {(e["from"], e["to"], e["kind"]): e for e in network_data(network())[1]}
    soft = edges["1", "3", "federated_with"]
    loose = edges["3", "2", "federated_with"]
    assert (soft["width"], soft["dashes"]) == (2.5, [8, 4])
    assert (loose["width"], loose["dashes"]) == (1.5, [3, 4])
    hard_member = edges["3", "group-20", "member_of"]
    assert hard_member["width"] == 5.0 and "dashes" not in hard_member  # solid
    trust_member = edges["1", "group-10", "member_of"]
    assert (trust_member["width"], trust_member["color"]) == (1.5, "#5b7fa6") and "dashes" not in trust_member
    assert edges["1", "2", "supports"]["arrows"] == "to" and "arrows" not in trust_member
    assert edges["4", "la-330", "maintained_by"]["dashes"] == [2, 4]
    assert edges["5", "3", "predecessor_of"]["arrows"] == "to"
    assert edges["1", "2", "supports"]["id"] == "supports:1:2:maths"


def test_geographic_positions_are_fixed_and_projected() -> None:
    graph = network()
    nodes = by_id(network_data(graph, layout="geo")[0])
    span = map_span(graph.number_of_nodes())
    assert span == 1000.0
    # Latitudes 52..53 and longitudes -2..-1 at 52.5N: the north-south extent is the longer.
    assert (nodes["1"]["x"], nodes["1"]["y"]) == (-304.38, 500.0)
    assert (nodes["2"]["x"], nodes["2"]["y"]) == (-304.38, -500.0)
    assert (nodes["3"]["x"], nodes["3"]["y"]) == (304.38, 500.0)
    assert vis_options("geo", len(nodes))["nodes"]["fixed"] is True
    # The trust has no location: it sits between its two members, nudged by 2% of the span.
    assert abs(((nodes["group-10"]["x"] + 304.38) ** 2 + nodes["group-10"]["y"] ** 2) ** 0.5 - 20) < 0.01
    # Delta and its LA have no location and no located neighbour: on the ring outside the map.
    for node_id in ("4", "la-330"):
        assert round((nodes[node_id]["x"] ** 2 + nodes[node_id]["y"] ** 2) ** 0.5) == 650
    assert vis_options("geo", len(nodes))["physics"] == {"enabled": False}


def test_force_layout_leaves_positions_to_physics() -> None:
    nodes, _ = network_data(network(), layout="force")
    assert not any("x" in node for node in nodes)
    options = vis_options("force", len(nodes))
    assert options["physics"]["enabled"] is True and options["nodes"]["fixed"] is False


def test_highlight_closed_and_extra_edges() -> None:
    nodes, edges = network_data(
        network(), highlight={"4"}, extra_edges=[ExtraEdge("4", "1", "Delta \u2192 Alpha: 3.0 km <b>")]
    )
    node = by_id(nodes)
    assert node["4"]["color"] == {"background": "#4e79a7", "border": "#000000"} and node["4"]["borderWidth"] == 3
    assert node["4"]["size"] == 12.0  # no ties, but highlighted nodes stay visible
    assert "borderWidth" not in node["1"] and node["5"]["opacity"] == 0.4
    extra = [edge for edge in edges if edge["kind"] == "extra"]
    assert [(e["from"], e["to"], e["dashes"], e["title"]) for e in extra] == [
        ("4", "1", [1, 5], "Delta \u2192 Alpha: 3.0 km &lt;b&gt;")
    ]


def test_tooltips_carry_the_brokers_facts() -> None:
    nodes = by_id(network_data(network())[0])
    assert nodes["1"]["title"] == (
        "<b>Alpha</b><br>school<br>URN: 1<br>Phase: primary<br>Ofsted: outstanding<br>"
        "Pupils: 420 of 450 places<br>Trust: Trust T<br>Local authority: Birmingham"
    )
    assert "Status: closed" in nodes["5"]["title"]
    edges = {e["id"]: e for e in network_data(network())[1]}
    assert edges["supports:1:2:maths"]["title"] == (
        "Alpha \u2192 Beta<br>supports<br>Focus: maths<br>When: 2024-09-01 to now"
    )


@pytest.mark.parametrize("name", [SCRIPT, IMG])
def test_names_cannot_inject_html(name: str) -> None:
    graph = build_graph(
        [
            school(1, name, type_name=name, latitude=52.0, longitude=-2.0),
            org("group-10", NodeKind.TRUST, name, group_uid=10),
        ],
        [tie("1", "group-10", EdgeKind.MEMBER_OF, role="member", focus=name, outcome=name)],
    )
    nodes, edges = network_data(graph)
    for item in [*nodes, *edges]:
        assert "<script" not in item["title"] and "<img" not in item["title"]
        assert "&lt;" in item["title"] or "&quot;&gt;&lt;img" in item["title"]
    assert nodes[0]["title"].startswith("<b>" + name.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
    # The label is drawn on the canvas as text; it stays the name itself.
    assert nodes[0]["label"] == name[:39] + "\u2026" if len(name) > 40 else nodes[0]["label"] == name

    page = render_html(Picture(graph, title=f"Network of {name}", data_date="2025-07-18"))
    benign = render_html(Picture(graph.copy(), title="Network of X", data_date="2025-07-18"))
    # Not one extra element from the name: count tags against a page drawn without it in the title,
    # and check the data holds the name only in escaped forms.
    assert page.count("<script") == benign.count("<script")
    assert page.count("<img") == benign.count("<img") == 0
    data = re.search(r"new vis\.DataSet\((.*?)\);\n", page)
    assert data is not None and "<" not in data.group(1)
    assert json.loads(data.group(1))[0]["label"] == nodes[0]["label"]
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
