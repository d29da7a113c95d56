"""Parquet: a typed nodes table and a typed ties table, for pandas, polars and DuckDB.

Columns have the types of :class:`records.AttrType` (text, 64-bit integers,
doubles, booleans, and dates as Parquet dates), missing values are nulls, and
each column's codebook meaning is its field metadata (``description``). The
export's metadata (sources, filters, attribution...) is the schema's
``school_graph`` metadata as JSON, and the attribution also stands alone
under ``attribution``, so a table that leaves its bundle still says where it
came from.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from graph_service.export.metadata import bundle_readme
from graph_service.export.records import AttrType, Schema, edge_values, node_values, text
from graph_service.export.source import Selection

#: Rows gathered before a row group is written.
ROW_GROUP = 10_000

_ARROW_TYPES = {
    AttrType.STRING: pa.string(),
    AttrType.INT: pa.int64(),
    AttrType.FLOAT: pa.float64(),
    AttrType.BOOL: pa.bool_(),
    AttrType.DATE: pa.date32(),
}


def _converter(kind: AttrType) -> Callable[[Any], Any]:
    """A column's value from an attribute value (a widened property's values take the column's type)."""
    if kind is AttrType.STRING:
        return lambda value: value if value.__class__ is str else text(value)
    if kind is AttrType.FLOAT:
        return float
    return lambda value: value


def _table_schema(
    fixed: list[str], types: dict[str, AttrType], meanings: dict[str, str], meta: dict[str, Any]
) -> pa.Schema:
    fields = [
        pa.field(name, pa.string(), nullable=False, metadata={"description": meanings.get(name, "")}) for name in fixed
    ]
    fields.extend(
        pa.field(name, _ARROW_TYPES[kind], metadata={"description": meanings.get(name, "")})
        for name, kind in types.items()
    )
    header = {"school_graph": json.dumps(meta, ensure_ascii=False), "attribution": str(meta["attribution"])}
    return pa.schema(fields, metadata=header)


def _table(
    rows: Iterator[tuple[list[str], Iterator[tuple[str, Any]]]],
    fixed: list[str],
    types: dict[str, AttrType],
    table: str,
    meta: dict[str, Any],
) -> bytes:
    meanings = {entry["name"]: entry["meaning"] for entry in meta.get("codebook", ()) if entry["table"] == table}
    schema = _table_schema(fixed, types, meanings, meta)
    names = [*fixed, *types]
    index = {name: position for position, name in enumerate(names)}
    convert = [None] * len(fixed) + [_converter(kind) for kind in types.values()]
    sink = io.BytesIO()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        columns: list[list[Any]] = [[] for _ in names]

        def flush() -> None:
            writer.write_batch(pa.record_batch(columns, schema=schema))
            for column in columns:
                column.clear()

        for count, (head, values) in enumerate(rows, 1):
            for position, value in enumerate(head):
                columns[position].append(value)
            filled = len(fixed)
            for position in range(filled, len(names)):
                columns[position].append(None)
            for name, value in values:
                position = index[name]
                columns[position][-1] = convert[position](value)  # type: ignore[misc]
            if count % ROW_GROUP == 0:
                flush()
        if columns[0]:
            flush()
    return sink.getvalue()


def nodes_table(selection: Selection, schema: Schema, meta: dict[str, Any]) -> bytes:
    """nodes.parquet: ``id`` and the organisations' attributes."""
    rows = (([org.id], node_values(org)) for org in selection.organisations())
    return _table(rows, ["id"], schema.node, "node", meta)


def edges_table(selection: Selection, schema: Schema, meta: dict[str, Any]) -> bytes:
    """edges.parquet: ``id``, ``source``, ``target`` and the ties' attributes."""
    rows = (([tie.id, tie.source_id, tie.target_id], edge_values(tie)) for tie in selection.ties)
    return _table(rows, ["id", "source", "target"], schema.edge, "edge", meta)


def parquet_readme(meta: dict[str, Any]) -> str:
    """A plain-text note that travels with the Parquet files."""
    return bundle_readme(
        meta,
        [
            "nodes.parquet: one row per organisation (id first); edges.parquet: one row per tie (id, source, target).",
            "pandas: pd.read_parquet('nodes.parquet'); polars: pl.read_parquet(...); DuckDB: FROM 'nodes.parquet'.",
            "Columns are typed (text, 64-bit integers, doubles, booleans, dates); a missing value is empty (NA).",
            "codebook.csv says what each column is, its type and source; each column's Parquet field metadata",
            "holds its meaning, and each file's schema metadata the export's metadata (school_graph, JSON).",
        ],
    )
