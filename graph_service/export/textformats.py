"""Node-link JSON, CSV (plain, Kumu, neo4j-admin) and a Cypher script, written record by record."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import Any

from graph_service.export.metadata import bundle_readme, flat_metadata
from graph_service.export.records import (
    NODE_FIELD_NAMES,
    SLA_FIELD_NAMES,
    TIE_FIELD_NAMES,
    AttrType,
    Schema,
    edge_values,
    formatter,
    json_converter,
    node_values,
)
from graph_service.export.source import Selection
from graph_service.models import EdgeKind, NodeKind
from graph_service.spreadsheet import neutralise

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
    """Writes a record's values into the cells of fixed columns, empty where a value is missing.

    With ``spreadsheet``, text cells go through :func:`neutralise` (numbers, such as a
    negative longitude, are left as they are: a spreadsheet reads them as numbers).
    """

    def __init__(self, columns: dict[str, AttrType], spreadsheet: bool = False) -> None:
        self.names = list(columns)
        self._index = {name: index for index, name in enumerate(columns)}
        self._format = [
            formatter(kind, neutralise if spreadsheet and kind is AttrType.STRING else None)
            for kind in columns.values()
        ]

    def __call__(self, values: Iterator[tuple[str, Any]]) -> list[str]:
        cells = [""] * len(self.names)
        index, fmt = self._index, self._format
        for name, value in values:
            if (position := index.get(name)) is not None:
                cells[position] = fmt[position](value)
        return cells


def neo4j_admin_header(name: str, kind: AttrType) -> str:
    """A neo4j-admin header field for a property: its name, then always a ``:type`` when the name holds a colon.

    neo4j-admin reads the type after the last colon, so ``extra:LABEL`` alone
    would be a label column; ``extra:LABEL:string`` is a property of that name.

    >>> neo4j_admin_header("pupils", AttrType.INT), neo4j_admin_header("name", AttrType.STRING)
    ('pupils:long', 'name')
    >>> neo4j_admin_header("extra:LABEL", AttrType.STRING), neo4j_admin_header("a:ID", AttrType.INT)
    ('extra:LABEL:string', 'a:ID:long')
    """
    return f"{name}{_NEO4J_TYPES[kind] or (':string' if ':' in name else '')}"


def csv_files(
    selection: Selection, schema: Schema, flavour: CsvFlavour
) -> list[tuple[str, Callable[[], Iterator[str]]]]:
    """The CSV files of one flavour: (file name, function producing its text piece by piece)."""
    node_name, edge_name = CSV_FILES[flavour]
    # neo4j-admin files are read by neo4j-admin, which would store the quote: no neutralising there.
    spreadsheet = flavour is not CsvFlavour.NEO4J_ADMIN
    node_cells, edge_cells = _Columns(schema.node, spreadsheet), _Columns(schema.edge, spreadsheet)

    def plain_nodes() -> Iterator[str]:
        rows = ([org.id, *node_cells(node_values(org))] for org in selection.organisations())
        return _rows(["id", *node_cells.names], rows)

    def plain_edges() -> Iterator[str]:
        rows = ([tie.id, tie.source_id, tie.target_id, *edge_cells(edge_values(tie))] for tie in selection.ties)
        return _rows(["id", "source", "target", *edge_cells.names], rows)

    def kumu_elements() -> Iterator[str]:
        rest = _Columns({name: kind for name, kind in schema.node.items() if name not in ("name", "kind")}, True)
        rows = (
            [org.id, neutralise(org.name), org.kind.value, *rest(node_values(org))] for org in selection.organisations()
        )
        return _rows(["ID", "Label", "Type", *rest.names], rows)

    def kumu_connections() -> Iterator[str]:
        rest = _Columns({name: kind for name, kind in schema.edge.items() if name != "kind"}, True)
        rows = (
            [tie.id, tie.source_id, tie.target_id, tie.kind.value, *rest(edge_values(tie))] for tie in selection.ties
        )
        return _rows(["ID", "From", "To", "Type", *rest.names], rows)

    def neo4j_nodes() -> Iterator[str]:
        rows = (
            [org.id, f"Organisation;{org.kind.label}", *node_cells(node_values(org))]
            for org in selection.organisations()
        )
        header = ["id:ID", ":LABEL", *(neo4j_admin_header(name, kind) for name, kind in schema.node.items())]
        return _rows(header, rows)

    def neo4j_edges() -> Iterator[str]:
        rows = (
            [tie.source_id, tie.target_id, tie.kind.rel_type, tie.id, *edge_cells(edge_values(tie))]
            for tie in selection.ties
        )
        header = [":START_ID", ":END_ID", ":TYPE", "id", *(neo4j_admin_header(n, k) for n, k in schema.edge.items())]
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
    return bundle_readme(
        meta,
        [
            how,
            "Files are UTF-8. An empty cell is a missing value. Dates are YYYY-MM-DD. codebook.csv says what",
            "each column is, its type and source; metadata.json has the types too (attribute_types).",
            "Text cells starting with = + - @ tab or CR have a ' put before them, so that a spreadsheet",
            "shows them as text (neo4j-admin files excepted); a value already starting with ' before one",
            "of those gets one more.",
        ],
    )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CYPHER_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CYPHER_SPECIAL = re.compile("[\\\\'\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
#: What could end a ``//`` comment or start an escape in it; Neo4j decodes ``\uXXXX`` anywhere in a query.
_COMMENT_SPECIAL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
#: Rows per ``:param`` block (one statement text for all, planned once). cypher-shell parses a block in more than
#: linear time: on England 250 rows took it 35 s of CPU and Neo4j 20 s, 1,000 rows 50 s and 15 s (bench/README.md).
CYPHER_BATCH = 250


def _cypher_escape(match: re.Match[str]) -> str:
    char = match.group()
    return _CYPHER_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def cypher_string(value: str) -> str:
    r"""A Cypher string literal.

    Backslashes are doubled, so ``\u0027`` in a value stays text (Neo4j decodes
    a ``\u`` escape only after an even number of backslashes).

    >>> print(cypher_string("O'Brien \\ \"Co\"\nLtd"))
    'O\'Brien \\ "Co"\nLtd'
    """
    return "'" + _CYPHER_SPECIAL.sub(_cypher_escape, value) + "'"


def cypher_comment(text: str) -> str:
    r"""Text that stays inside one ``//`` comment line.

    Line breaks and control characters become spaces, and a backslash is
    written ``\u005c`` (what Neo4j decodes it to is a plain backslash, which
    starts nothing), so ``\u000a`` in a file name cannot end the comment.

    >>> cypher_comment("a.csv\nMATCH (n) DETACH DELETE n"), cypher_comment("x\\u000aMATCH")
    ('a.csv MATCH (n) DETACH DELETE n', 'x\\u005cu000aMATCH')
    """
    return _COMMENT_SPECIAL.sub(" ", text).replace("\\", "\\u005c")


def is_identifier(name: str) -> bool:
    r"""Whether a name is letters, digits and ``_`` (not starting with a digit): quoting it needs no escape.

    >>> is_identifier("la_code"), is_identifier("odd key"), is_identifier("a\u0060b")
    (True, False, False)
    """
    return _IDENTIFIER.fullmatch(name) is not None


_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def _cypher_float(value: Any) -> str:
    return repr(float(value))


def cypher_literal(kind: AttrType) -> Callable[[Any], str]:
    """A function writing values of this attribute type as Cypher literals a ``:param`` block holds.

    Only plain literals, which cypher-shell reads itself: dates are ISO text
    (the statement turns them into dates) and a float that is not finite is
    never given here (see :func:`cypher`).

    >>> cypher_literal(AttrType.BOOL)(True), cypher_literal(AttrType.FLOAT)(3), cypher_literal(AttrType.STRING)(7)
    ('true', '3.0', "'7'")
    >>> from datetime import date
    >>> cypher_literal(AttrType.DATE)(date(2020, 9, 1))
    "'2020-09-01'"
    """
    if kind is AttrType.DATE:
        return lambda value: f"'{value.isoformat()}'"
    if kind is AttrType.FLOAT:
        return _cypher_float
    return formatter(kind, cypher_string) if kind is AttrType.STRING else formatter(kind)


#: Exported names of the models' fields: the only names written bare in a ``:param`` map.
_MODEL_NAMES = frozenset(NODE_FIELD_NAMES) | frozenset(TIE_FIELD_NAMES) | frozenset(SLA_FIELD_NAMES)


def _is_finite(value: Any) -> bool:
    return value.__class__ is not float or math.isfinite(value)


class _CypherRows:
    r"""Writes a record as one row of a ``:param rows`` list.

    ``p`` maps names made of letters, digits and ``_`` to plain literals (the
    model's fields bare, free properties back-quoted); any other name (``my
    key``, ``a\u0060b``) goes in ``x`` as a ``[name, value]`` pair, a string
    literal escaped like every other string, and non-finite floats in ``f`` as
    ``[name, 'NaN']``. So no name needing an escape is ever written as a Cypher
    identifier, where Neo4j would decode a ``\u0060`` into a closing backtick.
    """

    def __init__(self, types: dict[str, AttrType]) -> None:
        self._literal = {name: cypher_literal(kind) for name, kind in types.items()}
        # Model fields bare; other plain names back-quoted (a keyword such as MATCH is then a name too). With
        # no backslash or backtick inside, cypher-shell and Neo4j read a quoted name the same way.
        self._key = {
            name: (name if name in _MODEL_NAMES else f"`{name}`") if is_identifier(name) else None for name in types
        }
        self._float = {name: kind is AttrType.FLOAT for name, kind in types.items()}

    def __call__(self, head: list[str], values: Iterator[tuple[str, Any]]) -> str:
        plain: list[str] = []
        odd: list[str] = []
        floats: list[str] = []
        for name, value in values:
            if self._float[name] and not _is_finite(value):
                floats.append(f"[{cypher_string(name)}, '{_NON_FINITE[repr(float(value))]}']")
            elif (key := self._key[name]) is not None:
                plain.append(f"{key}: {self._literal[name](value)}")
            else:
                odd.append(f"[{cypher_string(name)}, {self._literal[name](value)}]")
        parts = [*head, "p: {" + ", ".join(plain) + "}"]
        if odd:
            parts.append("x: [" + ", ".join(odd) + "]")
        if floats:
            parts.append("f: [" + ", ".join(floats) + "]")
        return "{" + ", ".join(parts) + "}"


def _settings(var: str, types: dict[str, AttrType]) -> str:
    """The SET and FOREACH clauses shared by node and relationship statements.

    Date names come from the models only (free properties hold no dates), so
    they are plain identifiers.
    """
    dates = ", ".join(f"{var}.{name} = date({var}.{name})" for name, kind in types.items() if kind is AttrType.DATE)
    return (
        f" SET {var} += row.p"
        + (f" SET {dates}" if dates else "")
        + f" FOREACH (kv IN coalesce(row.x, []) | SET {var}[kv[0]] = kv[1])"
        + f" FOREACH (kv IN coalesce(row.f, []) | SET {var}[kv[0]] = toFloat(kv[1]))"
    )


def _node_statement(kind: NodeKind, types: dict[str, AttrType]) -> str:
    # Labels come from the NodeKind enum only, never from data.
    return f"UNWIND $rows AS row MERGE (n:Organisation {{id: row.id}}) SET n:{kind.label}{_settings('n', types)};\n"


def _edge_statement(kind: EdgeKind, types: dict[str, AttrType]) -> str:
    # Relationship types come from the EdgeKind enum only, never from data.
    return (
        "UNWIND $rows AS row MATCH (a:Organisation {id: row.s}) MATCH (b:Organisation {id: row.t})"
        f" MERGE (a)-[r:{kind.rel_type} {{id: row.id}}]->(b){_settings('r', types)};\n"
    )


def _param_block(rows: list[str]) -> str:
    return ":param rows => [" + ", ".join(rows) + "];\n"


def cypher(selection: Selection, schema: Schema, meta: dict[str, Any]) -> Iterator[str]:
    """A cypher-shell script that recreates the selection in an empty Neo4j 5.

    The uniqueness constraint comes first. Then, for each batch of up to
    :data:`CYPHER_BATCH` organisations of one kind (ties of one kind), a
    ``:param rows => [...]`` block of plain literals, which cypher-shell reads
    itself and sends as a parameter, and the statement that merges them,
    whose text is the same for every batch of that kind, so Neo4j plans it
    once. Labels and relationship types come only from the enums, property
    names only from string literals (see :class:`_CypherRows`).
    """
    header = [
        f"// {cypher_comment(name)}: {cypher_comment(' '.join(str(value).split()))}"
        for name, value in flat_metadata(meta)
    ]
    header.extend(
        f"// codebook {entry['table']} {cypher_comment(entry['name'])} ({entry['type']}):"
        f" {cypher_comment(entry['meaning'])}"
        for entry in meta.get("codebook", ())
    )
    yield "\n".join(header) + "\n"
    yield "CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (n:Organisation) REQUIRE n.id IS UNIQUE;\n"
    node_row, edge_row = _CypherRows(schema.node), _CypherRows(schema.edge)
    node_statements = {kind: _node_statement(kind, schema.node) for kind in NodeKind}
    edge_statements = {kind: _edge_statement(kind, schema.edge) for kind in EdgeKind}
    pending: dict[NodeKind, list[str]] = {}
    for org in selection.organisations():
        rows = pending.setdefault(org.kind, [])
        rows.append(node_row([f"id: {cypher_string(org.id)}"], node_values(org)))
        if len(rows) >= CYPHER_BATCH:
            yield _param_block(rows) + node_statements[org.kind]
            rows.clear()
    for node_kind, rows in pending.items():
        if rows:
            yield _param_block(rows) + node_statements[node_kind]
    edges: dict[EdgeKind, list[str]] = {}
    for tie in selection.ties:
        rows = edges.setdefault(tie.kind, [])
        ends = [
            f"id: {cypher_string(tie.id)}",
            f"s: {cypher_string(tie.source_id)}",
            f"t: {cypher_string(tie.target_id)}",
        ]
        rows.append(edge_row(ends, edge_values(tie)))
        if len(rows) >= CYPHER_BATCH:
            yield _param_block(rows) + edge_statements[tie.kind]
            rows.clear()
    for edge_kind, rows in edges.items():
        if rows:
            yield _param_block(rows) + edge_statements[edge_kind]
