"""Draw a graph as one self-contained HTML page with pyvis's vis-network.

pyvis's ``Network.add_node``/``add_edge``/``from_nx`` check membership in
Python lists, which is quadratic (8,000 nodes took 27 s). Here the node and edge
dicts are built in one pass each and handed to the ``Network`` whole, so
rendering is linear. The page is written with the project's own template around
the vis-network files that ship inside pyvis, inlined (pyvis's
``cdn_resources="in_line"``), because pyvis's own template still loads
Bootstrap from a CDN and schools' networks often block CDNs.

Every text that comes from the data goes through :func:`html.escape` before it
reaches a tooltip; the JSON holding the nodes is escaped for a ``<script>``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import pyvis
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pyvis.network import Network

from graph_service.models import EdgeKind, GovernanceLevel, NodeKind, Status
from viz import style
from viz.layout import geographic_positions, has_locations

Colour = Literal["kind", "rating"]
Layout = Literal["geo", "force"]

VIS_DIR = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
TEMPLATES = Path(__file__).parent / "templates"
#: Above this many nodes, edges are hidden while dragging or zooming to keep the page responsive.
BIG = 2000
LABEL_CHARS = 40

_COLLABORATION = frozenset(kind.value for kind in EdgeKind if kind.is_collaboration)
_LEVELLED = frozenset({EdgeKind.FEDERATED_WITH.value, EdgeKind.MEMBER_OF.value})
_MEMBER_OF = EdgeKind.MEMBER_OF.value
_TRUST = NodeKind.TRUST.value
_CLOSED = Status.CLOSED.value
_NODE_LOOKS = {kind.value: (style.KIND_SHAPES[kind], style.KIND_COLOURS[kind]) for kind in NodeKind}


@dataclass(frozen=True)
class ExtraEdge:
    """A line that is not a stored tie (e.g. an isolated school's nearest possible partner)."""

    source: str
    target: str
    title: str
    line: style.LineStyle = style.NEAREST_STYLE


@dataclass(frozen=True)
class Picture:
    """What to draw and how."""

    graph: nx.MultiDiGraph
    title: str
    data_date: str | None = None
    note: str = ""
    colour: Colour = "kind"
    layout: Layout = "geo"
    highlight: frozenset[str] = frozenset()
    extra_edges: Sequence[ExtraEdge] = ()
    #: When served by the API, double-clicking a node opens its neighbourhood at this URL prefix.
    link_base: str | None = None
    generated: date = field(default_factory=date.today)


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def _html_lines(lines: list[str], bold_first: bool) -> str:
    """Escape the plain-text lines in one go, then join them with ``<br>``.

    One :func:`html.escape` per tooltip instead of one per field keeps national
    pictures fast. Lines are joined with NUL, which no value needs; line breaks
    inside values become spaces so they cannot split the layout.

    >>> _html_lines(["A & B", "x\\ny <i>"], bold_first=True)
    '<b>A &amp; B</b><br>x y &lt;i&gt;'
    """
    text = html.escape("\0".join(lines).replace("\n", " ").replace("\r", " "))
    if not bold_first:
        return text.replace("\0", "<br>")
    first, _, rest = text.partition("\0")
    return f"<b>{first}</b><br>" + rest.replace("\0", "<br>") if rest else f"<b>{first}</b>"


def node_tooltip(data: dict[str, Any], trust: str | None = None) -> str:
    """HTML tooltip with the facts a broker needs; every value is escaped.

    >>> node_tooltip({"name": "<b>A</b>", "kind": "school", "urn": 1, "ofsted_rating": "good"})
    '<b>&lt;b&gt;A&lt;/b&gt;</b><br>school<br>URN: 1<br>Ofsted: good'
    """
    get = data.get
    kind = _words(get("kind", ""))
    kind_type = get("type_name") or (_words(data["subtype"]) if get("subtype") else None)
    lines = [str(get("name", "")), f"{kind} ({kind_type})" if kind_type else kind]
    if get("urn") is not None:
        lines.append(f"URN: {data['urn']}")
    if get("group_uid") is not None:
        lines.append(f"Group UID: {data['group_uid']}")
    if get("phase"):
        lines.append(f"Phase: {_words(data['phase'])}")
    if get("ofsted_rating"):
        inspected = f" ({data['ofsted_date']})" if get("ofsted_date") else ""
        lines.append(f"Ofsted: {_words(data['ofsted_rating'])}{inspected}")
    if get("pupils") is not None:
        capacity = f" of {data['capacity']} places" if get("capacity") else ""
        lines.append(f"Pupils: {data['pupils']}{capacity}")
    if trust:
        lines.append(f"Trust: {trust}")
    if get("local_authority"):
        lines.append(f"Local authority: {data['local_authority']}")
    if get("status") and data["status"] != Status.OPEN.value:
        lines.append(f"Status: {_words(data['status'])}")
    return _html_lines(lines, bold_first=True)


def edge_tooltip(data: dict[str, Any], source_name: str, target_name: str) -> str:
    """HTML tooltip for a tie: kind, level or role, focus, dates; every value is escaped.

    >>> edge_tooltip({"kind": "federated_with", "level": "soft"}, "A & B", "C")
    'A &amp; B \u2192 C<br>federated with (soft)'
    """
    get = data.get
    kind = _words(get("kind", ""))
    qualifier = get("level") or get("role")
    lines = [f"{source_name} \u2192 {target_name}", f"{kind} ({_words(qualifier)})" if qualifier else kind]
    if get("focus"):
        lines.append(f"Focus: {_words(data['focus'])}")
    if get("since") or get("until"):
        lines.append(f"When: {get('since') or '?'} to {get('until') or 'now'}")
    if get("outcome"):
        lines.append(f"Outcome: {data['outcome']}")
    return _html_lines(lines, bold_first=False)


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "\u2026"


def _level(data: dict[str, Any], target: dict[str, Any]) -> GovernanceLevel | None:
    """Governance level of a federation tie, or of a membership of a GIAS federation."""
    value = data.get("level")
    if value is None and data.get("kind") == EdgeKind.MEMBER_OF.value:
        value = target.get("governance") if target.get("kind") == NodeKind.FEDERATION.value else None
    try:
        return GovernanceLevel(value) if value else None
    except ValueError:
        return None


def _edges(graph: nx.MultiDiGraph) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """``graph.edges(keys=True, data=True)`` without the view's per-edge overhead."""
    for source, neighbours in graph.adjacency():
        for target, keyed in neighbours.items():
            for key, data in keyed.items():
                yield source, target, key, data


def network_data(
    graph: nx.MultiDiGraph,
    *,
    colour: Colour = "kind",
    layout: Layout = "geo",
    highlight: Iterable[str] = (),
    extra_edges: Sequence[ExtraEdge] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """vis-network node and edge dicts for a graph, in one linear pass over each.

    Parameters
    ----------
    graph
        Nodes carry organisation attributes and edges tie attributes
        (:func:`graph_service.graphview.build_graph`).
    colour
        ``"kind"`` or ``"rating"``: the fill used at first (both are in every node, as
        ``kindColour`` and ``ratingColour``, for the page's switch).
    layout
        ``"geo"``: fixed positions from latitude/longitude, physics off; ``"force"``: no
        positions, vis-network's physics lays the graph out.
    highlight
        Nodes drawn with a thick black border (e.g. isolated schools, the centre of a
        neighbourhood).
    extra_edges
        Lines that are not ties.

    Returns
    -------
    tuple
        ``(nodes, edges)``.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", name="A", ofsted_rating="good", latitude=52.0, longitude=-2.0)
    >>> g.add_node("t", kind="trust", name="T")
    >>> g.add_edge("1", "t", key="member_of:1:t", kind="member_of")
    'member_of:1:t'
    >>> nodes, edges = network_data(g, colour="rating")
    >>> [(n["id"], n["color"], n["shape"], n["size"]) for n in nodes]
    [('1', '#a6d96a', 'dot', 12.0), ('t', '#e6e6e6', 'square', 12.0)]
    >>> edges[0]["from"], edges[0]["to"], edges[0]["color"]
    ('1', 't', '#5b7fa6')
    """
    marked = set(highlight)
    nodes_data = graph.nodes
    degree = dict.fromkeys(nodes_data, 0)
    trusts: dict[str, str] = {}
    edges: list[dict[str, Any]] = []
    # Looked up once per (kind, level) rather than built per edge: national graphs have 30,000+ edges.
    looks: dict[tuple[str, GovernanceLevel | None], dict[str, Any]] = {}
    for source, target, key, data in _edges(graph):
        kind = data["kind"]
        source_data, target_data = nodes_data[source], nodes_data[target]
        if kind in _COLLABORATION:
            degree[source] += 1
            degree[target] += 1
        if kind == _MEMBER_OF and target_data.get("kind") == _TRUST:
            trusts[source] = str(target_data.get("name", target))
        level = _level(data, target_data) if kind in _LEVELLED else None
        look = looks.get((kind, level))
        if look is None:
            look = looks[kind, level] = style.edge_style(EdgeKind(kind), level).vis()
        edge = dict(look)
        edge["id"] = str(key)
        edge["from"], edge["to"] = source, target
        edge["title"] = edge_tooltip(data, str(source_data.get("name", source)), str(target_data.get("name", target)))
        edge["kind"] = kind
        edges.append(edge)
    for index, extra in enumerate(extra_edges):
        edge = extra.line.vis()
        edge.update(id=f"extra:{index}:{extra.source}:{extra.target}", title=html.escape(extra.title), kind="extra")
        edge["from"], edge["to"] = extra.source, extra.target
        edges.append(edge)

    geo = layout == "geo"
    positions = geographic_positions(graph) if geo else {}
    by_rating_colour = colour == "rating"
    sizes: dict[int, float] = {}
    nodes: list[dict[str, Any]] = []
    for node_id, data in graph.nodes(data=True):
        kind = data["kind"]
        shape, by_kind = _NODE_LOOKS[kind]
        by_rating = style.rating_colour(data.get("ofsted_rating"))
        fill = by_rating if by_rating_colour else by_kind
        links = degree[node_id]
        size = sizes.get(links)
        if size is None:
            size = sizes[links] = round(style.node_size(links), 1)
        node: dict[str, Any] = {
            "id": node_id,
            "label": _label(str(data.get("name", node_id))),
            "title": node_tooltip(data, trusts.get(node_id)),
            "shape": shape,
            "size": size,
            "color": fill,
            "kindColour": by_kind,
            "ratingColour": by_rating,
            "kind": kind,
        }
        if node_id in marked:
            node["color"] = {"background": fill, "border": style.HIGHLIGHT_BORDER}
            node["borderWidth"] = 3
            node["size"] = max(size, style.HIGHLIGHT_MIN_SIZE)
            node["highlighted"] = True
        if data.get("status") == _CLOSED:
            node["opacity"] = 0.4
        if geo:
            node["x"], node["y"] = positions[node_id]
        nodes.append(node)
    return nodes, edges


def vis_options(layout: Layout, node_count: int) -> dict[str, Any]:
    """vis-network options: physics only for the force layout; lighter drawing for big graphs."""
    big = node_count > BIG
    physics: dict[str, Any] = (
        {"enabled": False}
        if layout == "geo"
        else {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "stabilization": {"enabled": True, "iterations": 150 if big else 300, "updateInterval": 25},
        }
    )
    return {
        # On the map every node stays where its coordinates put it.
        "physics": physics,
        "layout": {"improvedLayout": node_count <= 300},
        "edges": {"smooth": False, "selectionWidth": 2},
        "nodes": {
            "fixed": layout == "geo",
            "font": {"size": 12},
            "borderWidth": 1,
            "scaling": {"label": {"drawThreshold": 9 if big else 5}},
        },
        "interaction": {
            "hover": True,
            "tooltipDelay": 150,
            "hideEdgesOnDrag": big,
            "hideEdgesOnZoom": big,
            "navigationButtons": False,
        },
    }


@cache
def _vis_assets() -> tuple[Markup, Markup]:
    script = (VIS_DIR / "vis-network.min.js").read_text(encoding="utf-8")
    css = (VIS_DIR / "vis-network.css").read_text(encoding="utf-8")
    # Inlined as-is, so the files must not be able to close their own element.
    if "</script" in script.lower() or "</style" in css.lower():
        raise RuntimeError(f"{VIS_DIR} cannot be inlined safely")
    return Markup(script), Markup(css)


@cache
def templates() -> Environment:
    """The page templates, HTML-escaping every value unless marked safe."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


def script_json(value: Any) -> Markup:
    """JSON to place inside a ``<script>`` element (never in an attribute).

    Only ``<`` can end the element (``</script``) or open a comment (``<!--``)
    there, so every ``<`` becomes ``\\u003c``, which JavaScript reads back as ``<``.

    >>> str(script_json({"name": "</script><script>alert(1)</script>"}))
    '{"name":"\\\\u003c/script>\\\\u003cscript>alert(1)\\\\u003c/script>"}'
    """
    # No cycles are possible in these lists of flat dicts; not checking saves a fifth of the time.
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, check_circular=False, default=str)
    return Markup(text.replace("<", "\\u003c"))


def pyvis_network(picture: Picture) -> Network:
    """The pyvis ``Network`` holding the picture's nodes, edges and options (filled in bulk, linear)."""
    layout: Layout = picture.layout if has_locations(picture.graph) else "force"
    nodes, edges = network_data(
        picture.graph,
        colour=picture.colour,
        layout=layout,
        highlight=picture.highlight,
        extra_edges=picture.extra_edges,
    )
    net = Network(height="100%", width="100%", directed=True, heading=picture.title, cdn_resources="in_line")
    # Assigned whole: Network.add_node would scan net.node_ids for every node.
    net.nodes = nodes
    net.edges = edges
    net.node_ids = [node["id"] for node in nodes]
    net.options = vis_options(layout, len(nodes))
    return net


def render_html(picture: Picture) -> str:
    """The whole page as one offline HTML document."""
    net = pyvis_network(picture)
    nodes, edges, heading, _height, _width, _options = net.get_network_data()
    physics = bool(net.options["physics"]["enabled"])
    note = picture.note
    if picture.layout == "geo" and physics:
        note = (note + " " if note else "") + "No organisation here has a location, so the layout is by force."
    script, css = _vis_assets()
    template = templates().get_template("network.html")
    return template.render(
        title=heading,
        note=note,
        data_date=picture.data_date,
        generated=picture.generated.isoformat(),
        node_count=len(nodes),
        tie_count=sum(1 for edge in edges if edge["kind"] != "extra"),
        colour=picture.colour,
        physics=physics,
        legend=style.legend(),
        nodes_json=script_json(nodes),
        edges_json=script_json(edges),
        options_json=script_json(net.options),
        link_base=script_json(picture.link_base),
        linkable=picture.link_base is not None,
        vis_script=script,
        vis_css=css,
    )


def write_html(picture: Picture, path: str | Path) -> Path:
    """Render the picture and write it to ``path`` (UTF-8)."""
    target = Path(path)
    target.write_text(render_html(picture), encoding="utf-8")
    return target
