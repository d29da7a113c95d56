"""The researchers' panel as files: ``panel.csv`` or ``panel.parquet``, with ``codebook.csv`` beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graph_service.analytics.panel import PANEL_COLUMNS
from graph_service.export.metadata import ATTRIBUTION, LICENCE_URL


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
    "degree": pa.int64(),
    "strength": pa.float64(),
    "across_trust": pa.int64(),
}


def panel_table(columns: Mapping[str, Sequence[Any]], as_of: str | None = None) -> pa.Table:
    """The panel's columns as an Arrow table, typed, with the attribution (and data date) in its metadata."""
    arrays = [pa.array(columns[name], type=_TYPES.get(name, pa.string())) for name in PANEL_COLUMNS]
    meta = {"attribution": ATTRIBUTION, "licence": LICENCE_URL, **({"data_as_of": as_of} if as_of else {})}
    return pa.Table.from_arrays(arrays, names=list(PANEL_COLUMNS)).replace_schema_metadata(meta)


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
    columns: Mapping[str, Sequence[Any]], directory: Path, fmt: PanelFormat, as_of: str | None = None
) -> list[Path]:
    """Write ``panel.csv`` or ``panel.parquet`` and ``codebook.csv`` into ``directory`` (made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    table = panel_table(columns, as_of)
    target = directory / f"panel.{fmt.value}"
    if fmt is PanelFormat.PARQUET:
        pq.write_table(table, target)
    else:
        pacsv.write_csv(table, target)
    book = directory / "codebook.csv"
    book.write_text(codebook(), encoding="utf-8")
    return [target, book]


def panel_bytes(columns: Mapping[str, Sequence[Any]], fmt: PanelFormat, as_of: str | None = None) -> bytes:
    """The panel file itself, for an answer over HTTP."""
    table = panel_table(columns, as_of)
    sink = io.BytesIO()
    if fmt is PanelFormat.PARQUET:
        pq.write_table(table, sink)
    else:
        pacsv.write_csv(table, sink)
    return sink.getvalue()


def days_label(days: Sequence[date]) -> str:
    """A file-name-safe label of the days a panel covers.

    >>> days_label([date(2010, 8, 31), date(2025, 8, 31)]), days_label([date(2024, 1, 18)])
    ('2010-08-31_2025-08-31', '2024-01-18')
    """
    first, last = min(days), max(days)
    return first.isoformat() if first == last else f"{first.isoformat()}_{last.isoformat()}"
