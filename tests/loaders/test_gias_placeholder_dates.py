"""GIAS's 01-01-1900 placeholder dates, on the real Birmingham rows: loaded as unknown, never as 1900."""

from __future__ import annotations

import csv
from pathlib import Path

from graph_service.export import ExportFormat, ExportSpec, prepare_export
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias

SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"
JULY = SAMPLE / "edubasealldata20250718_birmingham.csv"
PLACEHOLDER = "01-01-1900"


def placeholder_urns(column: str) -> list[str]:
    """URNs whose ``column`` holds the placeholder, read with the csv module alone."""
    with JULY.open(encoding="cp1252", newline="") as handle:
        return [row["URN"] for row in csv.DictReader(handle) if row[column] == PLACEHOLDER]


def test_placeholder_dates_load_as_unknown(embedded: EmbeddedStore) -> None:
    opened, closed = placeholder_urns("OpenDate"), placeholder_urns("CloseDate")
    assert len(opened) >= 30, "the Birmingham file has dozens of 01-01-1900 opening dates"
    load_gias(embedded, [JULY])
    for org in embedded.get_organisations(opened):
        assert org.opened is None, org.id
    for org in embedded.get_organisations(closed):
        assert org.closed is None, org.id
    # Real dates of the same file are kept: a school whose OpenDate is a real day has it.
    with JULY.open(encoding="cp1252", newline="") as handle:
        dated = next(row for row in csv.DictReader(handle) if row["OpenDate"] not in ("", PLACEHOLDER))
    [school] = embedded.get_organisations([dated["URN"]])
    assert school.opened is not None and school.opened.strftime("%d-%m-%Y") == dated["OpenDate"]
    # Gephi's timeline no longer starts in 1900.
    gexf = b"".join(prepare_export(embedded, ExportSpec(), ExportFormat.GEXF).chunks()).decode("utf-8")
    assert 'start="1900-01-01"' not in gexf and 'end="1900-01-01"' not in gexf
