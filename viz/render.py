"""Draw a graph as one self-contained HTML page with pyvis's vis-network.

pyvis's ``Network.add_node``/``add_edge``/``from_nx`` check membership in
Python lists, which is quadratic (8,000 nodes took 27 s). Here the nodes and
edges are built in one pass each, as compact rows (:class:`PageData`), and the
page's script turns them into vis-network's DataSets, so rendering is linear and
national pages stay small. The page is written with the project's own template
around the vis-network files that ship inside pyvis, inlined (pyvis's
``cdn_resources="in_line"``), because pyvis's own template still loads Bootstrap
from a CDN and schools' networks often block CDNs.

Nothing from the data is ever read as HTML: tooltips are plain-text lines that the
page puts into elements with ``textContent``, and the JSON holding the rows is
escaped for a ``<script>`` (:func:`script_json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import networkx as nx
import pyvis
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from graph_service.models import EdgeKind, GovernanceLevel, NodeKind, OfstedRating, Phase, Status
from viz import style
from viz.backdrop import backdrop
from viz.layout import geographic_positions, has_locations

Colour = Literal["kind", "rating"]
Layout = Literal["geo", "force"]

VIS_DIR = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
TEMPLATES = Path(__file__).parent / "templates"
#: Above this many nodes, edges are hidden while dragging or zooming to keep the page responsive.
BIG = 2000
LABEL_CHARS = 40
#: Labels are drawn only from this zoom in (and always for highlighted and searched-for nodes): on a
#: map of an authority, closer than this is a few streets across, where names no longer overlap much.
LABEL_SCALE = 1.5
#: Up to this many ties every membership line is drawn at first; above, only the selected organisations'.
MEMBERS_SHOWN = 400

_COLLABORATION = frozenset(kind.value for kind in EdgeKind if kind.is_collaboration)
_LEVELLED = frozenset({EdgeKind.FEDERATED_WITH.value, EdgeKind.MEMBER_OF.value})
#: Kinds with an address of their own (the rest are groups placed beside their members).
_LOCATED_KINDS = frozenset({NodeKind.SCHOOL.value, NodeKind.FE_COLLEGE.value, NodeKind.COMMUNITY_PARTNER.value})
_MEMBER_OF = EdgeKind.MEMBER_OF.value
_TRUST = NodeKind.TRUST.value
_FEDERATION = NodeKind.FEDERATION.value
_CLOSED = Status.CLOSED.value
_OPEN = Status.OPEN.value
_LEVELS = {level.value: level for level in GovernanceLevel}
#: Enum values shown in words, looked up instead of rebuilt for every tooltip.
_WORDS = {
    member.value: member.value.replace("_", " ")
    for enum in (NodeKind, EdgeKind, GovernanceLevel, Status, Phase, OfstedRating)
    for member in enum
}
_RATING_COLOURS = {rating.value: colour for rating, colour in style.RATING_COLOURS.items()}
_KIND_LOOKS = {kind.value: {"shape": style.KIND_SHAPES[kind], "colour": style.KIND_COLOURS[kind]} for kind in NodeKind}


@dataclass(frozen=True)
class ExtraEdge:
    """A line that is not a stored tie (e.g. an isolated school's nearest possible partner).

    ``title`` is its tooltip, plain text.
    """

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
    #: When served by the API, the front page's address (the page links back to it).
    home: str | None = None
    generated: date = field(default_factory=date.today)
    #: The day drawn, if not today.
    as_at: date | None = None
    #: When served, the years the page's time slider offers (empty: no slider).
    years: Sequence[int] = ()


def _words(value: Any) -> str:
    words = _WORDS.get(value) if isinstance(value, str) else None
    return words if words is not None else str(value).replace("_", " ")


class NodeRow(NamedTuple):
    """One organisation as the page receives it: a JSON array in this field order.

    The page's script turns rows into vis-network nodes (shape and colours from the
    ``kinds`` and ``ratings`` tables, the label cut to :data:`LABEL_CHARS`) and shows
    ``name`` and ``tip`` as the tooltip, as text, never as HTML.
    """

    id: str
    name: str
    kind: str
    size: float
    x: float | None
    y: float | None
    rating: str | None
    #: Tooltip lines after the name, plain text.
    tip: list[str]
    highlighted: bool
    closed: bool
    #: Phase of education (schools), for the page's filter.
    phase: str | None


class EdgeRow(NamedTuple):
    """One tie (or extra line) as the page receives it: a JSON array in this field order."""

    id: str
    source: str
    target: str
    kind: str
    #: Index into :attr:`PageData.looks`: colour, width, dashes and arrow.
    look: int
    #: Tooltip lines, plain text; a tie's tooltip starts with "source → target" drawn by the page.
    tip: list[str]


@dataclass(frozen=True)
class PageData:
    """Everything the page's script needs to draw a picture, compact enough for national graphs.

    Each node and edge is a row (:class:`NodeRow`, :class:`EdgeRow`); what many rows
    share (a kind's shape and colour, a tie kind's line) is sent once in a table.
    """

    nodes: list[NodeRow]
    edges: list[EdgeRow]
    looks: list[dict[str, Any]]
    colour: Colour
    #: On a map: the coast and the local authorities' approximate areas drawn under it (viz.backdrop).
    backdrop: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """The object the page's script reads."""
        return {
            "nodeFields": NodeRow._fields,
            "edgeFields": EdgeRow._fields,
            "kinds": _KIND_LOOKS,
            "ratings": _RATING_COLOURS,
            "noRating": style.NO_RATING_COLOUR,
            "highlightBorder": style.HIGHLIGHT_BORDER,
            "labelChars": LABEL_CHARS,
            "looks": self.looks,
            "colour": self.colour,
            "nodes": self.nodes,
            "edges": self.edges,
            "backdrop": self.backdrop,
        }


def node_tip(data: dict[str, Any], trust: str | None = None) -> list[str]:
    """Tooltip lines after the name: the facts a broker needs, as plain text.

    >>> node_tip({"name": "A", "kind": "school", "urn": 1, "ofsted_rating": "good", "status": "closed"})
    ['school', 'URN: 1', 'Ofsted: good', 'Status: closed']
    """
    get = data.get
    kind = _words(get("kind", ""))
    kind_type = get("type_name") or (_words(data["subtype"]) if get("subtype") else None)
    lines = [f"{kind} ({kind_type})" if kind_type else kind]
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
    if get("status") and data["status"] != _OPEN:
        lines.append(f"Status: {_words(data['status'])}")
    return lines


def edge_tip(data: dict[str, Any]) -> list[str]:
    """Tooltip lines for a tie: kind with its level or role, focus, dates, outcome; plain text.

    >>> edge_tip({"kind": "federated_with", "level": "soft", "since": date(2024, 9, 1)})
    ['federated with (soft)', 'When: 2024-09-01 to now']
    """
    get = data.get
    kind = _words(get("kind", ""))
    qualifier = get("level") or get("role")
    lines = [f"{kind} ({_words(qualifier)})" if qualifier else kind]
    if get("focus"):
        lines.append(f"Focus: {_words(data['focus'])}")
    if get("since") or get("until"):
        lines.append(f"When: {get('since') or '?'} to {get('until') or 'now'}")
    if get("outcome"):
        lines.append(f"Outcome: {data['outcome']}")
    return lines


def _level(data: dict[str, Any], target: dict[str, Any]) -> GovernanceLevel | None:
    """Governance level of a federation tie, or of a membership of a GIAS federation."""
    value = data.get("level")
    if value is None and data.get("kind") == _MEMBER_OF:
        value = target.get("governance") if target.get("kind") == _FEDERATION else None
    return _LEVELS.get(value) if isinstance(value, str) else None


def page_data(
    graph: nx.MultiDiGraph,
    *,
    colour: Colour = "kind",
    layout: Layout = "geo",
    highlight: Iterable[str] = (),
    extra_edges: Sequence[ExtraEdge] = (),
) -> PageData:
    """The rows and tables the page draws a graph from, in one linear pass over nodes and edges.

    Parameters
    ----------
    graph
        Nodes carry organisation attributes and edges tie attributes
        (:func:`graph_service.graphview.build_graph`).
    colour
        ``"kind"`` or ``"rating"``: the fill used at first (the page's switch changes it).
    layout
        ``"geo"``: fixed positions from latitude/longitude, physics off; ``"force"``: no
        positions (``x`` and ``y`` are ``None``), vis-network's physics lays the graph out.
    highlight
        Nodes drawn with a thick black border (e.g. isolated schools, the centre of a
        neighbourhood), at least :data:`viz.style.HIGHLIGHT_MIN_SIZE` big.
    extra_edges
        Lines that are not ties (kind ``"extra"``).

    Returns
    -------
    PageData

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", name="A", ofsted_rating="good", latitude=52.0, longitude=-2.0)
    >>> g.add_node("t", kind="trust", name="T")
    >>> g.add_edge("1", "t", key="member_of:1:t", kind="member_of")
    'member_of:1:t'
    >>> page = page_data(g, colour="rating")
    >>> [(n.id, n.kind, n.size, n.rating, n.tip) for n in page.nodes]
    [('t', 'trust', 12.0, None, ['trust']), ('1', 'school', 12.0, 'good', ['school', 'Ofsted: good', 'Trust: T'])]
    >>> edge = page.edges[0]
    >>> edge.source, edge.target, edge.tip, page.looks[edge.look]
    ('1', 't', ['member of'], {'color': '#5b7fa6', 'width': 1.5})
    """
    marked = set(highlight)
    # A plain dict: NodeView lookups cost more than the rest of the edge loop.
    nodes_data: dict[str, dict[str, Any]] = dict(graph.nodes(data=True))
    degree = dict.fromkeys(nodes_data, 0)
    trusts: dict[str, str] = {}
    edges: list[EdgeRow] = []
    looks: list[dict[str, Any]] = []
    # One look per (kind, level) in a table, rather than a copy in every edge.
    look_index: dict[tuple[str, GovernanceLevel | None], int] = {}
    for source, neighbours in graph.adjacency():
        for target, keyed in neighbours.items():
            target_data = nodes_data[target]
            for key, data in keyed.items():
                kind = data["kind"]
                if kind in _COLLABORATION:
                    degree[source] += 1
                    degree[target] += 1
                if kind == _MEMBER_OF and target_data.get("kind") == _TRUST:
                    trusts[source] = str(target_data.get("name", target))
                level = _level(data, target_data) if kind in _LEVELLED else None
                look = look_index.get((kind, level))
                if look is None:
                    look = look_index[kind, level] = len(looks)
                    looks.append(style.edge_style(EdgeKind(kind), level).vis())
                edges.append(EdgeRow(str(key), source, target, kind, look, edge_tip(data)))
    for extra in extra_edges:
        looks.append(extra.line.vis())
        edges.append(
            EdgeRow(
                f"extra:{len(edges)}:{extra.source}:{extra.target}",
                extra.source,
                extra.target,
                "extra",
                len(looks) - 1,
                [extra.title],
            )
        )

    positions = geographic_positions(graph) if layout == "geo" else {}
    sizes: dict[int, float] = {}
    nodes: list[NodeRow] = []
    for node_id, data in nodes_data.items():
        links = degree[node_id]
        size = sizes.get(links)
        if size is None:
            size = sizes[links] = round(style.node_size(links), 1)
        marked_node = node_id in marked
        if marked_node:
            size = max(size, style.HIGHLIGHT_MIN_SIZE)
        x, y = positions.get(node_id, (None, None))
        nodes.append(
            NodeRow(
                node_id,
                str(data.get("name", node_id)),
                data["kind"],
                size,
                x,
                y,
                data.get("ofsted_rating"),
                node_tip(data, trusts.get(node_id)),
                marked_node,
                data.get("status") == _CLOSED,
                data.get("phase"),
            )
        )
    # Groups first: vis-network draws in this order, so schools are drawn over their trusts, not under.
    nodes.sort(key=lambda row: row.kind in _LOCATED_KINDS)
    return PageData(nodes, edges, looks, colour, backdrop(graph) if layout == "geo" else None)


def _filters(data: PageData) -> dict[str, list[tuple[str, str]]]:
    """The kinds, phases and ratings present, as (value, words), for the page's filter boxes.

    >>> g = nx.MultiDiGraph(); g.add_node("1", kind="school", phase="primary", ofsted_rating="good")
    >>> _filters(page_data(g))
    {'kind': [('school', 'school')], 'phase': [('primary', 'primary')], 'rating': [('good', 'good')]}
    """
    present: dict[str, set[str]] = {"kind": set(), "phase": set(), "rating": set()}
    for row in data.nodes:
        present["kind"].add(row.kind)
        if row.phase:
            present["phase"].add(row.phase)
        if row.rating:
            present["rating"].add(row.rating)
    return {name: [(value, _words(value)) for value in sorted(values)] for name, values in present.items()}


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
    # ASCII output (non-ASCII as \u escapes) encodes twice as fast: the text stays one byte per character.
    text = json.dumps(value, separators=(",", ":"), check_circular=False, default=str)
    return Markup(text.replace("<", "\\u003c"))


def render_html(picture: Picture) -> str:
    """The whole page as one offline HTML document."""
    layout: Layout = picture.layout if has_locations(picture.graph) else "force"
    data = page_data(
        picture.graph,
        colour=picture.colour,
        layout=layout,
        highlight=picture.highlight,
        extra_edges=picture.extra_edges,
    )
    options = vis_options(layout, len(data.nodes))
    physics = bool(options["physics"]["enabled"])
    note = picture.note
    if picture.layout == "geo" and physics:
        note = (note + " " if note else "") + "No organisation here has a location, so the layout is by force."
    script, css = _vis_assets()
    template = templates().get_template("network.html")
    return template.render(
        title=picture.title,
        note=note,
        data_date=picture.data_date,
        generated=picture.generated.isoformat(),
        node_count=len(data.nodes),
        tie_count=sum(1 for edge in data.edges if edge.kind != "extra"),
        colour=picture.colour,
        physics=physics,
        legend=style.legend(),
        legend_json=script_json(style.legend()),
        backdrop=data.backdrop is not None,
        members_shown=MEMBERS_SHOWN,
        as_at=picture.as_at,
        years=list(picture.years),
        data_json=script_json(data.as_json()),
        options_json=script_json(options),
        link_base=script_json(picture.link_base),
        linkable=picture.link_base is not None,
        home=picture.home,
        home_json=script_json(picture.home),
        label_scale=LABEL_SCALE,
        filters=_filters(data),
        vis_script=script,
        vis_css=css,
    )


def write_html(picture: Picture, path: str | Path) -> Path:
    """Render the picture and write it to ``path`` (UTF-8)."""
    target = Path(path)
    target.write_text(render_html(picture), encoding="utf-8")
    return target
