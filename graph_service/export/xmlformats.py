"""GraphML and GEXF, written element by element (no DOM), so memory stays flat at any size.

GraphML has no date type: dates are ISO 8601 strings and their keys say so in
a ``<desc>``. GEXF 1.3 carries time as ``start``/``end`` on nodes (opened,
closed) and edges (since, until) under ``timeformat="date"``, which is what
Gephi's timeline plays; the same dates are also attribute columns, typed
``string`` because neither Gephi's importer nor networkx's reader accepts a
``date`` attribute type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import networkx as nx

from graph_service.export.metadata import ATTRIBUTION, TITLE, flat_metadata
from graph_service.export.records import AttrType, Schema, edge_values, formatter, node_values, text, value_type
from graph_service.export.source import Selection
from viz.layout import geographic_positions
from viz.style import KIND_COLOURS

#: Characters XML 1.0 cannot carry even as references; they become U+FFFD.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Anything escaping would change; most values hold none, and skip the work.
_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]')
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# Parsers turn raw newlines and tabs in attribute values into spaces; references survive.
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)
DATE_NOTE = "date: ISO 8601 calendar date, YYYY-MM-DD"
#: GraphML key id of the ``label`` (name of a node, kind of an edge); ``label`` is never a property's name.
LABEL_KEY = "label"


def xml_text(value: str) -> str:
    """Escape element text.

    >>> xml_text('Tom & "Jerry" <b>')
    'Tom &amp; "Jerry" &lt;b&gt;'
    """
    if not _SPECIAL.search(value):
        return value
    return _ILLEGAL.sub("\ufffd", value).translate(_TEXT)


def xml_attr(value: str) -> str:
    """Escape an attribute value (for double quotes), keeping newlines as references.

    >>> xml_attr('a "b"\\nc')
    'a &quot;b&quot;&#10;c'
    """
    if not _SPECIAL.search(value):
        return value
    return _ILLEGAL.sub("\ufffd", value).translate(_ATTR)


#: GraphML and GEXF share these type names; both lack a usable date type.
_XML_TYPES = {
    AttrType.STRING: "string",
    AttrType.INT: "long",
    AttrType.FLOAT: "double",
    AttrType.BOOL: "boolean",
    AttrType.DATE: "string",
}


def _graphml_key(key_id: str, domain: str, name: str, kind: AttrType, meaning: str = "") -> str:
    """A key, with its codebook meaning (and, for dates, the date note) as its ``<desc>``."""
    head = f'  <key id="{key_id}" for="{domain}" attr.name="{xml_attr(name)}" attr.type="{_XML_TYPES[kind]}"'
    desc = " ".join(part for part in (meaning, DATE_NOTE if kind is AttrType.DATE else "") if part)
    return f"{head}><desc>{xml_text(desc)}</desc></key>\n" if desc else f"{head}/>\n"


def _meanings(meta: dict[str, Any], table: str) -> dict[str, str]:
    return {entry["name"]: entry["meaning"] for entry in meta.get("codebook", ()) if entry["table"] == table}


def graphml(selection: Selection, schema: Schema, meta: dict[str, Any]) -> Iterator[str]:
    """A GraphML document, piece by piece."""
    graph_data = flat_metadata(meta)
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns'
        ' http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    yield f"  <desc>{xml_text(TITLE)}. {xml_text(ATTRIBUTION)}</desc>\n"
    for index, (name, value) in enumerate(graph_data):
        yield _graphml_key(f"g{index}", "graph", name, value_type(value))
    node_keys = {name: f"n{index}" for index, name in enumerate(schema.node)}
    edge_keys = {name: f"e{index}" for index, name in enumerate(schema.edge)}
    node_meanings, edge_meanings = _meanings(meta, "node"), _meanings(meta, "edge")
    for name, key_id in node_keys.items():
        yield _graphml_key(key_id, "node", name, schema.node[name], node_meanings.get(name, ""))
    for name, key_id in edge_keys.items():
        yield _graphml_key(key_id, "edge", name, schema.edge[name], edge_meanings.get(name, ""))
    # Gephi (and Cytoscape's and igraph's readers, as an attribute) take the label from a key named "label".
    yield _graphml_key(LABEL_KEY, "node", "label", AttrType.STRING, "The name again, for Gephi.")
    yield _graphml_key(LABEL_KEY + "e", "edge", "label", AttrType.STRING, "The kind again, for Gephi.")
    yield '  <graph id="G" edgedefault="directed">\n'
    for index, (_name, value) in enumerate(graph_data):
        yield f'    <data key="g{index}">{xml_text(text(value))}</data>\n'
    node_data = _cells(schema.node, node_keys, '<data key="{}">', xml_text)
    for org in selection.organisations():
        cells = "".join([f"{node_data[name][0]}{node_data[name][1](value)}</data>" for name, value in node_values(org)])
        label = f'<data key="{LABEL_KEY}">{xml_text(org.name)}</data>'
        yield f'    <node id="{xml_attr(org.id)}">{cells}{label}</node>\n'
    edge_data = _cells(schema.edge, edge_keys, '<data key="{}">', xml_text)
    for tie in selection.ties:
        cells = "".join([f"{edge_data[name][0]}{edge_data[name][1](value)}</data>" for name, value in edge_values(tie)])
        yield (
            f'    <edge id="{xml_attr(tie.id)}" source="{xml_attr(tie.source_id)}"'
            f' target="{xml_attr(tie.target_id)}">{cells}<data key="{LABEL_KEY}e">{tie.kind.value}</data></edge>\n'
        )
    yield "  </graph>\n</graphml>\n"


def _spell(start: date | None, end: date | None) -> str:
    spell = f' start="{start.isoformat()}"' if start else ""
    return spell + (f' end="{end.isoformat()}"' if end else "")


def _cells(
    types: dict[str, AttrType], ids: dict[str, str], opening: str, escape: Callable[[str], str]
) -> dict[str, tuple[str, Callable[[Any], str]]]:
    """For each attribute, the markup that opens its value and the function that writes the value."""
    return {name: (opening.format(ids[name]), formatter(kind, escape)) for name, kind in types.items()}


def _attvalues(values: Iterator[tuple[str, Any]], cells: dict[str, tuple[str, Callable[[Any], str]]]) -> str:
    return "".join([f'{cells[name][0]}{cells[name][1](value)}"/>' for name, value in values])


def _viz_colour(hex_colour: str) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f'<viz:color r="{red}" g="{green}" b="{blue}"/>'


#: Each kind's colour, as the service's pictures draw it (viz.style).
_KIND_VIZ = {kind: _viz_colour(colour) for kind, colour in KIND_COLOURS.items()}


def _viz_position(position: tuple[float, float]) -> str:
    # The pictures' y grows southwards (screen); Gephi's grows northwards.
    return f'<viz:position x="{position[0]}" y="{-position[1] + 0.0}" z="0.0"/>'


def map_positions(selection: Selection) -> dict[str, tuple[float, float]]:
    """The map layout the service's pictures draw (viz.layout): located organisations where they are,
    groups among their members, the rest on a ring outside the map."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(selection.ids)
    for node_id, (latitude, longitude) in selection.locations.items():
        graph.add_node(node_id, latitude=latitude, longitude=longitude)
    graph.add_edges_from((tie.source_id, tie.target_id) for tie in selection.ties)
    return geographic_positions(graph)


def gexf(selection: Selection, schema: Schema, meta: dict[str, Any]) -> Iterator[str]:
    """A dynamic GEXF 1.3 document, piece by piece."""
    nodes, edges = selection.counts
    lines = [f"{name}: {value}" for name, value in flat_metadata(meta)]
    lines.extend(
        f"codebook {entry['table']} {entry['name']} ({entry['type']}): {entry['meaning']}"
        for entry in meta.get("codebook", ())
    )
    description = "\n".join(lines)
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gexf xmlns="http://gexf.net/1.3" xmlns:viz="http://gexf.net/1.3/viz"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
        f'  <meta lastmodifieddate="{str(meta["exported_at"])[:10]}">\n'
        f"    <creator>{xml_text(str(meta['generator']))}</creator>\n"
        f"    <keywords>schools, collaboration, England</keywords>\n"
        f"    <description>{xml_text(description)}</description>\n"
        "  </meta>\n"
        '  <graph mode="dynamic" defaultedgetype="directed" timeformat="date" timerepresentation="interval">\n'
    )
    node_ids = {name: f"n{index}" for index, name in enumerate(schema.node)}
    edge_ids = {name: f"e{index}" for index, name in enumerate(schema.edge)}
    for domain, ids, types in (("node", node_ids, schema.node), ("edge", edge_ids, schema.edge)):
        yield f'    <attributes class="{domain}" mode="static">\n'
        for name, attr_id in ids.items():
            yield f'      <attribute id="{attr_id}" title="{xml_attr(name)}" type="{_XML_TYPES[types[name]]}"/>\n'
        yield "    </attributes>\n"
    node_cells = _cells(schema.node, node_ids, '<attvalue for="{}" value="', xml_attr)
    edge_cells = _cells(schema.edge, edge_ids, '<attvalue for="{}" value="', xml_attr)
    yield f'    <nodes count="{nodes}">\n'
    positions = map_positions(selection)
    for org in selection.organisations():
        yield (
            f'      <node id="{xml_attr(org.id)}" label="{xml_attr(org.name)}"{_spell(org.opened, org.closed)}>'
            f"<attvalues>{_attvalues(node_values(org), node_cells)}</attvalues>"
            f"{_KIND_VIZ[org.kind]}{_viz_position(positions[org.id])}</node>\n"
        )
    yield f'    </nodes>\n    <edges count="{edges}">\n'
    for tie in selection.ties:
        yield (
            f'      <edge id="{xml_attr(tie.id)}" source="{xml_attr(tie.source_id)}"'
            f' target="{xml_attr(tie.target_id)}" kind="{tie.kind.value}" label="{tie.kind.value}"'
            f"{_spell(tie.since, tie.until)}>"
            f"<attvalues>{_attvalues(edge_values(tie), edge_cells)}</attvalues></edge>\n"
        )
    yield "    </edges>\n  </graph>\n</gexf>\n"
