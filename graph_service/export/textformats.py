"""Node-link JSON, CSV (plain, Kumu, neo4j-admin) and a Cypher script, written record by record."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from graph_service.export.metadata import flat_metadata
from graph_service.export.records import AttrType, Schema, edge_values, formatter, json_converter, node_values
from graph_service.export.source import Selection
from graph_service.models import EdgeKind, NodeKind, Organisation, Tie

#: Rows written to a CSV buffer before it is handed on.
_CSV_FLUSH = 500


def node_link(selection: Selection, schema: Schema, meta: dict[str, Any]) -> Iterator[str]:
    """networkx node-link JSON (``edges="edges"``, multigraph keys are tie ids), one record a line.

    ``graph`` holds the metadata, including ``attribute_types``, which names the
    attributes that are ISO dates.
    """
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    node_json = {name: json_converter(kind) for name, kind in schema.node.items()}
    edge_json = {name: json_converter(kind) for name, kind in schema.edge.items()}
    yield '{"directed": true, "multigraph": true, "graph": ' + dumps(meta) + ',\n "nodes": ['
    separator = "\n  "
    for org in selection.organisations():
        record: dict[str, Any] = {"id": org.id}
        record.update([(name, node_json[name](value)) for name, value in node_values(org)])
        yield separator + dumps(record)
        separator = ",\n  "
    yield '\n ],\n "edges": ['
    separator = "\n  "
    for tie in selection.ties:
        record = {"source": tie.source_id, "target": tie.target_id, "key": tie.id}
        record.update([(name, edge_json[name](value)) for name, value in edge_values(tie)])
        yield separator + dumps(record)
        separator = ",\n  "
    yield "\n ]\n}\n"


class CsvFlavour(StrEnum):
    """Which CSV layout to write."""

    PLAIN = "plain"
    KUMU = "kumu"
    NEO4J_ADMIN = "neo4j-admin"


#: The two files of each flavour: (nodes, edges).
CSV_FILES = {
    CsvFlavour.PLAIN: ("nodes.csv", "edges.csv"),
    CsvFlavour.KUMU: ("elements.csv", "connections.csv"),
    CsvFlavour.NEO4J_ADMIN: ("nodes.csv", "edges.csv"),
}

_NEO4J_TYPES = {
    AttrType.STRING: "",
    AttrType.INT: ":long",
    AttrType.FLOAT: ":double",
    AttrType.BOOL: ":boolean",
    AttrType.DATE: ":date",
}


def _rows(header: list[str], rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % _CSV_FLUSH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class _Columns:
    """Writes a record's values into the cells of fixed columns, empty where a value is missing."""

    def __init__(self, columns: dict[str, AttrType]) -> None:
        self.names = list(columns)
        self._index = {name: index for index, name in enumerate(columns)}
        self._format = [formatter(kind) for kind in columns.values()]

    def __call__(self, values: Iterator[tuple[str, Any]]) -> list[str]:
        cells = [""] * len(self.names)
        index, fmt = self._index, self._format
        for name, value in values:
            if (position := index.get(name)) is not None:
                cells[position] = fmt[position](value)
        return cells


def csv_files(
    selection: Selection, schema: Schema, flavour: CsvFlavour
) -> list[tuple[str, Callable[[], Iterator[str]]]]:
    """The CSV files of one flavour: (file name, function producing its text piece by piece)."""
    node_name, edge_name = CSV_FILES[flavour]
    node_cells, edge_cells = _Columns(schema.node), _Columns(schema.edge)

    def plain_nodes() -> Iterator[str]:
        rows = ([org.id, *node_cells(node_values(org))] for org in selection.organisations())
        return _rows(["id", *node_cells.names], rows)

    def plain_edges() -> Iterator[str]:
        rows = ([tie.id, tie.source_id, tie.target_id, *edge_cells(edge_values(tie))] for tie in selection.ties)
        return _rows(["id", "source", "target", *edge_cells.names], rows)

    def kumu_elements() -> Iterator[str]:
        rest = _Columns({name: kind for name, kind in schema.node.items() if name not in ("name", "kind")})
        rows = ([org.id, org.name, org.kind.value, *rest(node_values(org))] for org in selection.organisations())
        return _rows(["ID", "Label", "Type", *rest.names], rows)

    def kumu_connections() -> Iterator[str]:
        rest = _Columns({name: kind for name, kind in schema.edge.items() if name != "kind"})
        rows = (
            [tie.id, tie.source_id, tie.target_id, tie.kind.value, *rest(edge_values(tie))] for tie in selection.ties
        )
        return _rows(["ID", "From", "To", "Type", *rest.names], rows)

    def neo4j_nodes() -> Iterator[str]:
        rows = (
            [org.id, f"Organisation;{org.kind.label}", *node_cells(node_values(org))]
            for org in selection.organisations()
        )
        header = ["id:ID", ":LABEL", *(f"{name}{_NEO4J_TYPES[kind]}" for name, kind in schema.node.items())]
        return _rows(header, rows)

    def neo4j_edges() -> Iterator[str]:
        rows = (
            [tie.source_id, tie.target_id, tie.kind.rel_type, tie.id, *edge_cells(edge_values(tie))]
            for tie in selection.ties
        )
        header = [":START_ID", ":END_ID", ":TYPE", "id", *(f"{n}{_NEO4J_TYPES[k]}" for n, k in schema.edge.items())]
        return _rows(header, rows)

    makers = {
        CsvFlavour.PLAIN: (plain_nodes, plain_edges),
        CsvFlavour.KUMU: (kumu_elements, kumu_connections),
        CsvFlavour.NEO4J_ADMIN: (neo4j_nodes, neo4j_edges),
    }
    nodes, edges = makers[flavour]
    return [(node_name, nodes), (edge_name, edges)]


def csv_readme(meta: dict[str, Any], flavour: CsvFlavour) -> str:
    """A plain-text note that travels with the CSV files."""
    node_name, edge_name = CSV_FILES[flavour]
    how = {
        CsvFlavour.PLAIN: f"{node_name}: one row per organisation; {edge_name}: one row per tie (source -> target).",
        CsvFlavour.KUMU: f"Import {node_name} as elements and {edge_name} as connections; From/To hold element IDs.",
        CsvFlavour.NEO4J_ADMIN: (
            f"neo4j-admin database import full --nodes={node_name} --relationships={edge_name}"
            " --multiline-fields=true neo4j"
        ),
    }[flavour]
    lines = [f"{name}: {value}" for name, value in flat_metadata(meta)]
    return "\n".join(
        [
            str(meta["title"]),
            "",
            str(meta["attribution"]),
            "",
            how,
            "Files are UTF-8. An empty cell is a missing value. Dates are YYYY-MM-DD; the types of all",
            "columns are in metadata.json (attribute_types).",
            "",
            *lines,
            "",
        ]
    )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CYPHER_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CYPHER_SPECIAL = re.compile("[\\\\'\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")
#: Rows per UNWIND statement: big enough to be quick, small enough for any server.
CYPHER_BATCH = 500


def _cypher_escape(match: re.Match[str]) -> str:
    char = match.group()
    return _CYPHER_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def cypher_string(value: str) -> str:
    """A Cypher string literal.

    >>> print(cypher_string("O'Brien \\\\ \\"Co\\"\\nLtd"))
    'O\\'Brien \\\\ "Co"\\nLtd'
    """
    return "'" + _CYPHER_SPECIAL.sub(_cypher_escape, value) + "'"


def cypher_key(name: str) -> str:
    """A property key, back-quoted unless it is a plain identifier.

    >>> cypher_key("la_code"), cypher_key("odd key`")
    ('la_code', '`odd key```')
    """
    return name if _IDENTIFIER.fullmatch(name) else "`" + name.replace("`", "``") + "`"


_NON_FINITE = {"nan": "toFloat('NaN')", "inf": "toFloat('Infinity')", "-inf": "toFloat('-Infinity')"}


def _cypher_float(value: Any) -> str:
    text = repr(float(value))
    return _NON_FINITE.get(text, text)


def cypher_literal(kind: AttrType) -> Callable[[Any], str]:
    """A function writing values of this attribute type as Cypher literals.

    >>> cypher_literal(AttrType.BOOL)(True), cypher_literal(AttrType.FLOAT)(3), cypher_literal(AttrType.STRING)(7)
    ('true', '3.0', "'7'")
    >>> from datetime import date
    >>> cypher_literal(AttrType.DATE)(date(2020, 9, 1)), cypher_literal(AttrType.FLOAT)(float("nan"))
    ("date('2020-09-01')", "toFloat('NaN')")
    """
    if kind is AttrType.DATE:
        return lambda value: f"date('{value.isoformat()}')"
    if kind is AttrType.FLOAT:
        return _cypher_float
    return formatter(kind, cypher_string) if kind is AttrType.STRING else formatter(kind)


def _cypher_entries(types: dict[str, AttrType]) -> dict[str, tuple[str, Callable[[Any], str]]]:
    return {name: (f"{cypher_key(name)}: ", cypher_literal(kind)) for name, kind in types.items()}


def _literal_map(record_id: str, values: Iterator[tuple[str, Any]], entries: dict[str, Any]) -> str:
    pairs = [f"id: {cypher_string(record_id)}"]
    pairs.extend([entries[name][0] + entries[name][1](value) for name, value in values])
    return "{" + ", ".join(pairs) + "}"


def _node_literal(org: Organisation, entries: dict[str, Any]) -> str:
    return _literal_map(org.id, node_values(org), entries)


def _edge_literal(tie: Tie, entries: dict[str, Any]) -> str:
    props = _literal_map(tie.id, edge_values(tie), entries)
    return f"{{s: {cypher_string(tie.source_id)}, t: {cypher_string(tie.target_id)}, p: {props}}}"


def _node_statement(kind: NodeKind, rows: list[str]) -> str:
    # Labels come from the NodeKind enum only, never from data.
    return f"UNWIND [{', '.join(rows)}] AS row MERGE (n:Organisation {{id: row.id}}) SET n:{kind.label}, n += row;\n"


def _edge_statement(kind: EdgeKind, rows: list[str]) -> str:
    # Relationship types come from the EdgeKind enum only, never from data.
    return (
        f"UNWIND [{', '.join(rows)}] AS row MATCH (a:Organisation {{id: row.s}}) MATCH (b:Organisation {{id: row.t}})"
        f" MERGE (a)-[r:{kind.rel_type} {{id: row.p.id}}]->(b) SET r += row.p;\n"
    )


def cypher(selection: Selection, schema: Schema, meta: dict[str, Any]) -> Iterator[str]:
    """A Cypher script that recreates the selection in an empty Neo4j.

    Each statement is one line ending in ``;`` (string literals never hold a
    raw line break), so a client can run it line by line; cypher-shell runs
    the whole file. Values are escaped literals because a script has no
    parameters; labels and types come only from the enums.
    """
    header = [f"// {name}: {' '.join(str(value).split())}" for name, value in flat_metadata(meta)]
    yield "\n".join(header) + "\n"
    yield "CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (n:Organisation) REQUIRE n.id IS UNIQUE;\n"
    node_entries, edge_entries = _cypher_entries(schema.node), _cypher_entries(schema.edge)
    pending: dict[NodeKind, list[str]] = {}
    for org in selection.organisations():
        rows = pending.setdefault(org.kind, [])
        rows.append(_node_literal(org, node_entries))
        if len(rows) >= CYPHER_BATCH:
            yield _node_statement(org.kind, rows)
            rows.clear()
    for node_kind, rows in pending.items():
        if rows:
            yield _node_statement(node_kind, rows)
    edges: dict[EdgeKind, list[str]] = {}
    for tie in selection.ties:
        rows = edges.setdefault(tie.kind, [])
        rows.append(_edge_literal(tie, edge_entries))
        if len(rows) >= CYPHER_BATCH:
            yield _edge_statement(tie.kind, rows)
            rows.clear()
    for edge_kind, rows in edges.items():
        if rows:
            yield _edge_statement(edge_kind, rows)
