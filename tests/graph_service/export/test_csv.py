"""CSV exports: plain, Kumu and neo4j-admin layouts, as a directory or a zip, with their metadata."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from graph_service.export import ATTRIBUTION, CsvFlavour, ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.store import EmbeddedStore
from tests.graph_service.export.awkward import AWKWARD, NOTES


def read(path: Path) -> str:
    """The file's text exactly (no newline translation: values hold CR LF)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def export(store: EmbeddedStore, path: Path, flavour: CsvFlavour = CsvFlavour.PLAIN) -> list[Path]:
    return write_export(prepare_export(store, ExportSpec(), ExportFormat.CSV, flavour), path)


def test_plain_csv_directory(awkward: EmbeddedStore, tmp_path: Path) -> None:
    written = export(awkward, tmp_path / "out")
    assert [p.name for p in written] == ["nodes.csv", "edges.csv", "metadata.json", "README.txt"]
    nodes = {row["id"]: row for row in rows(read(tmp_path / "out" / "nodes.csv"))}
    assert nodes["100"]["name"] == AWKWARD and nodes["100"]["pupils"] == "420" and nodes["100"]["flagged"] == "true"
    assert nodes["100"]["opened"] == "2010-09-01" and nodes["300"]["opened"] == "" and nodes["300"]["pupils"] == ""
    assert nodes["100"]["note"] == "a;b|c,d" and nodes["100"]["property_name"] == "a property called name"
    edges = {row["id"]: row for row in rows(read(tmp_path / "out" / "edges.csv"))}
    lead = edges["member_of:100:group-5:2016-09-01"]
    assert (lead["source"], lead["target"], lead["kind"], lead["notes"]) == ("100", "group-5", "member_of", NOTES)
    assert edges["supports:100:300:maths"]["weight"] == "1.5"
    meta = json.loads(read(tmp_path / "out" / "metadata.json"))
    assert meta["attribution"] == ATTRIBUTION and meta["sources"]["ties.csv"] == "2025-06-30"
    assert meta["attribute_types"]["node"]["opened"] == "date" and meta["csv_flavour"] == "plain"
    assert ATTRIBUTION in (tmp_path / "out" / "README.txt").read_text(encoding="utf-8")


def test_zip_holds_the_same_files(awkward: EmbeddedStore, tmp_path: Path) -> None:
    export(awkward, tmp_path / "out")
    [archive_path] = export(awkward, tmp_path / "graph.zip")
    with zipfile.ZipFile(archive_path) as archive:
        assert archive.namelist() == ["nodes.csv", "edges.csv", "metadata.json", "README.txt"]
        for name in ("nodes.csv", "edges.csv"):
            assert archive.read(name) == (tmp_path / "out" / name).read_bytes()


def test_kumu_elements_and_connections(awkward: EmbeddedStore, tmp_path: Path) -> None:
    export(awkward, tmp_path / "kumu", CsvFlavour.KUMU)
    text = read(tmp_path / "kumu" / "elements.csv")
    assert text.startswith("ID,Label,Type,")
    elements = {row["ID"]: row for row in rows(text)}
    assert elements["100"]["Label"] == AWKWARD and elements["group-5"]["Type"] == "trust"
    connections = rows(read(tmp_path / "kumu" / "connections.csv"))
    assert list(connections[0])[:4] == ["ID", "From", "To", "Type"]
    assert {(c["From"], c["To"], c["Type"]) for c in connections} >= {("300", "400", "federated_with")}
    assert len(connections) == 7


def test_neo4j_admin_headers(awkward: EmbeddedStore, tmp_path: Path) -> None:
    export(awkward, tmp_path / "neo", CsvFlavour.NEO4J_ADMIN)
    nodes_text = read(tmp_path / "neo" / "nodes.csv")
    header = next(csv.reader(io.StringIO(nodes_text)))
    assert header[:3] == ["id:ID", ":LABEL", "kind"]
    assert {"pupils:long", "latitude:double", "opened:date", "flagged:boolean", "name"} <= set(header)
    nodes = {row["id:ID"]: row for row in rows(nodes_text)}
    assert nodes["group-5"][":LABEL"] == "Organisation;Trust" and nodes["400"][":LABEL"] == "Organisation;FeCollege"
    edges_text = read(tmp_path / "neo" / "edges.csv")
    assert next(csv.reader(io.StringIO(edges_text)))[:4] == [":START_ID", ":END_ID", ":TYPE", "id"]
    edges = {row["id"]: row for row in rows(edges_text)}
    assert edges["federated_with:300:400"][":TYPE"] == "FEDERATED_WITH"
    assert edges["member_of:200:group-5:2016-09-01"]["until:date"] == "2020-08-31"
    assert "--multiline-fields=true" in (tmp_path / "neo" / "README.txt").read_text(encoding="utf-8")
