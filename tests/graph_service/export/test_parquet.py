"""Parquet: typed nodes and ties tables, read with pyarrow and pandas as a researcher would."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from graph_service.export import ATTRIBUTION, ExportFormat, ExportSpec, prepare_export
from graph_service.store import EmbeddedStore
from tests.graph_service.export.awkward import AWKWARD, NOTES, export_file


def test_tables_are_typed_and_carry_their_metadata(awkward: EmbeddedStore, tmp_path: Path) -> None:
    folder = export_file(awkward, ExportFormat.PARQUET, tmp_path / "pq")
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.txt",
        "codebook.csv",
        "edges.parquet",
        "metadata.json",
        "nodes.parquet",
    ]
    nodes = pq.read_table(folder / "nodes.parquet")
    types = {field.name: str(field.type) for field in nodes.schema}
    assert types["id"] == "string" and types["pupils"] == "int64" and types["latitude"] == "double"
    assert types["flagged"] == "bool" and types["opened"] == "date32[day]" and types["count"] == "int64"
    assert nodes.schema.field("name").metadata[b"description"] == b"Official or common name."
    meta = json.loads(nodes.schema.metadata[b"school_graph"])
    assert meta["attribution"] == ATTRIBUTION and meta["sources"]["ties.csv"] == "2025-06-30"
    assert nodes.schema.metadata[b"attribution"].decode() == ATTRIBUTION
    rows = {row["id"]: row for row in nodes.to_pylist()}
    school = rows["100"]
    assert school["name"] == AWKWARD and school["pupils"] == 420 and school["opened"] == date(2010, 9, 1)
    assert school["closed"] is None and rows["300"]["pupils"] is None and school["score"] == 2.5
    edges = {row["id"]: row for row in pq.read_table(folder / "edges.parquet").to_pylist()}
    lead = edges["member_of:100:group-5:2016-09-01"]
    assert (lead["source"], lead["target"], lead["notes"], lead["since"]) == ("100", "group-5", NOTES, date(2016, 9, 1))
    assert edges["supports:100:300:maths"]["hours"] == 40 and edges["collaborates_on:400:la-330:cpd"]["active"] is False


def test_pandas_reads_the_zip_members(awkward: EmbeddedStore, tmp_path: Path) -> None:
    path = tmp_path / "graph.parquet.zip"
    prepared = prepare_export(awkward, ExportSpec(), ExportFormat.PARQUET)
    assert prepared.filename == "school-graph.parquet.zip" and prepared.media_type == "application/zip"
    path.write_bytes(b"".join(prepared.chunks()))
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["nodes.parquet", "edges.parquet", "metadata.json", "codebook.csv", "README.txt"]
        with archive.open("nodes.parquet") as handle:
            nodes = pd.read_parquet(handle, dtype_backend="pyarrow")
        with archive.open("edges.parquet") as handle:
            edges = pd.read_parquet(handle, dtype_backend="pyarrow")
    assert len(nodes) == 6 and len(edges) == 7
    assert str(nodes["pupils"].dtype) == "int64[pyarrow]" and nodes.set_index("id").loc["100", "pupils"] == 420
    assert pd.isna(nodes.set_index("id").loc["300", "pupils"]), "a missing number is missing, not 0"
    assert str(edges["since"].dtype) == "date32[day][pyarrow]"
