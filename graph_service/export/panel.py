"""The researchers' panel as files: ``panel.csv`` or ``panel.parquet``, with ``codebook.csv`` beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graph_service.analytics.panel import PANEL_COLUMNS
from graph_service.export.metadata import ATTRIBUTION, LICENCE_URL

#: Rows per Parquet row group, and its compression (read by pandas, polars, DuckDB and R's arrow).
ROW_GROUP = 150_000
PARQUET_COMPRESSION = "zstd"
#: Panel columns by name: lists, or a day's arrays (analytics.panel.panel_days).
Columns = Mapping[str, Any]


class PanelFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


#: Each column's Arrow type (the rest are text).
_TYPES: dict[str, pa.DataType] = {
    "as_at": pa.date32(),
    "la_code": pa.int64(),
    "opened": pa.date32(),
    "closed": pa.date32(),
    "isolated": pa.bool_(),
    "inherited": pa.bool_(),
    "degree": pa.int64(),
    "strength": pa.float64(),
    "across_trust": pa.int64(),
}


def panel_schema(as_of: str | None = None) -> pa.Schema:
    """The panel's Arrow schema, with the attribution (and the data's date) in its metadata."""
    meta = {"attribution": ATTRIBUTION, "licence": LICENCE_URL, **({"data_as_of": as_of} if as_of else {})}
    return pa.schema([(name, _TYPES.get(name, pa.string())) for name in PANEL_COLUMNS], metadata=meta)


def panel_table(columns: Columns, schema: pa.Schema) -> pa.Table:
    """Panel columns (a day's, or several days') as an Arrow table of ``schema``."""
    return pa.Table.from_arrays([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)


def codebook() -> str:
    """``codebook.csv``: each column, its type and what it holds; the attribution last.

    >>> codebook().splitlines()[:2]
    ['column,type,meaning', 'as_at,date,the day the row describes (YYYY-MM-DD)']
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["column", "type", "meaning"])
    names = {"date32[day]": "date", "int64": "integer", "double": "number", "bool": "true/false"}
    for name, meaning in PANEL_COLUMNS.items():
        kind = str(_TYPES.get(name, pa.string()))
        writer.writerow([name, names.get(kind, "text"), meaning])
    writer.writerow(["(licence)", "", f"{ATTRIBUTION} {LICENCE_URL}"])
    return out.getvalue()


def write_panel(
    days: Iterable[Columns], directory: Path, fmt: PanelFormat, as_of: str | None = None
) -> tuple[list[Path], int]:
    """Write ``panel.csv`` or ``panel.parquet`` (a day at a time) and ``codebook.csv`` into ``directory``.

    Returns the files written and the rows.
    """
    directory.mkdir(parents=True, exist_ok=True)
    schema = panel_schema(as_of)
    target = directory / f"panel.{fmt.value}"
    rows = 0
    tables = (panel_table(day, schema) for day in days)
    if fmt is PanelFormat.PARQUET:
        with pq.ParquetWriter(target, schema, compression=PARQUET_COMPRESSION) as parquet:
            for group in _row_groups(tables):
                parquet.write_table(group)
                rows += group.num_rows
    else:
        with pacsv.CSVWriter(target, schema) as writer:
            for table in tables:
                writer.write_table(table)
                rows += table.num_rows
    book = directory / "codebook.csv"
    book.write_text(codebook(), encoding="utf-8")
    return [target, book], rows


def panel_stream(days: Iterable[Columns], fmt: PanelFormat, as_of: str | None = None) -> Iterator[bytes]:
    """The panel file for an answer over HTTP: CSV a day at a time, Parquet whole (it is small)."""
    schema = panel_schema(as_of)
    sink = io.BytesIO()
    if fmt is PanelFormat.PARQUET:
        with pq.ParquetWriter(sink, schema, compression=PARQUET_COMPRESSION) as writer:
            for group in _row_groups(panel_table(day, schema) for day in days):
                writer.write_table(group)
        yield sink.getvalue()
        return
    header = True
    for day in days:
        sink = io.BytesIO()
        pacsv.write_csv(panel_table(day, schema), sink, pacsv.WriteOptions(include_header=header))
        header = False
        yield sink.getvalue()
    if header:  # no day at all: the header alone
        pacsv.write_csv(panel_table({name: [] for name in PANEL_COLUMNS}, schema), sink)
        yield sink.getvalue()


def _row_groups(tables: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """Days' tables joined into row groups of about :data:`ROW_GROUP` rows.

    A row group per day (22,000 schools) repeats each dictionary of names every day: England's
    panel was 14 MB so, and 5 MB in row groups of this size (zstd).
    """
    held: list[pa.Table] = []
    count = 0
    for table in tables:
        held.append(table)
        count += table.num_rows
        if count >= ROW_GROUP:
            yield pa.concat_tables(held).combine_chunks()
            held, count = [], 0
    if held:
        yield pa.concat_tables(held).combine_chunks()


def days_label(days: Sequence[date]) -> str:
    """A file-name-safe label of the days a panel covers.

    >>> days_label([date(2010, 8, 31), date(2025, 8, 31)]), days_label([date(2024, 1, 18)])
    ('2010-08-31_2025-08-31', '2024-01-18')
    """
    first, last = min(days), max(days)
    return first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"
