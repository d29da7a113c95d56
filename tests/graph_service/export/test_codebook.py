"""The codebook: generated from the models, complete, its sources real, and the same in docs/export.md."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from graph_service.export import CsvFlavour, ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.export.codebook import PROPERTY_SOURCES, SOURCES, as_markdown, entries
from graph_service.export.records import EDGE_FIELDS, NODE_FIELDS
from graph_service.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "graph_service" / "sample_data"
START, END = "<!-- codebook: start -->\n", "<!-- codebook: end -->"


def header(path: Path) -> set[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="cp1252", newline="") as handle:  # type: ignore[operator]
        return set(next(csv.reader(handle)))


def test_every_model_field_has_a_source_and_a_meaning() -> None:
    assert set(SOURCES["node"]) == {export for _, export, _ in NODE_FIELDS}
    assert set(SOURCES["edge"]) == {export for _, export, _ in EDGE_FIELDS}
    assert all(entry.meaning and entry.type and entry.source for entry in entries())


def test_gias_columns_named_are_in_the_real_files() -> None:
    columns = (
        header(SAMPLE / "edubasealldata20250718_birmingham.csv")
        | header(SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv")  # GIAS dropped Ofsted's in 2025
        | header(SAMPLE / "links_edubasealldata20250718_birmingham.csv")
    )
    named = {
        column
        for table in SOURCES.values()
        for pairs in table.values()
        for file, column in pairs
        if file in ("GIAS establishments", "GIAS links") and column
    }
    named |= {column for _, file, column, _ in PROPERTY_SOURCES.values() if file == "GIAS establishments"}
    assert named and named <= columns, sorted(named - columns)


def test_docs_hold_the_generated_codebook() -> None:
    """docs/export.md's table is the generated one: regenerate it with
    ``python -c "from graph_service.export.codebook import *; print(as_markdown(entries()))"``."""
    text = (REPO / "docs" / "export.md").read_text(encoding="utf-8")
    assert START in text and END in text
    assert text.split(START, 1)[1].split(END, 1)[0] == as_markdown(entries())


def test_each_bundle_ships_the_codebook_of_what_it_holds(awkward: EmbeddedStore, tmp_path: Path) -> None:
    [*_, book_path, _readme] = write_export(
        prepare_export(awkward, ExportSpec(), ExportFormat.CSV, CsvFlavour.PLAIN), tmp_path / "csv"
    )
    assert book_path.name == "codebook.csv"
    book = list(csv.DictReader(io.StringIO(book_path.read_text(encoding="utf-8"))))
    nodes_header = next(csv.reader(io.StringIO((tmp_path / "csv" / "nodes.csv").read_text(encoding="utf-8"))))
    assert [row["name"] for row in book if row["table"] == "node"] == nodes_header
    flagged = next(row for row in book if row["name"] == "flagged")
    assert flagged["type"] == "true/false" and "free property" in flagged["source"]
    pupils = next(row for row in book if row["name"] == "pupils")
    assert (pupils["type"], pupils["source"]) == ("integer (64-bit)", "GIAS establishments: NumberOfPupils")
    assert not any(row["name"] == "urban_rural" for row in book), "only the attributes the export holds"
