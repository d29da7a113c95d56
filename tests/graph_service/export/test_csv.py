"""CSV exports: plain, Kumu and neo4j-admin layouts, as a directory or a zip, with their metadata."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from graph_service.export import ATTRIBUTION, CsvFlavour, ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.export.importer import read_export
from graph_service.export.records import AttrType, Schema
from graph_service.export.textformats import csv_files, neo4j_admin_header
from graph_service.models import NodeKind, Organisation
from graph_service.store import EmbeddedStore
from graph_service.store.base import WriteBatch
from tests.factories import school
from tests.graph_service.export.awkward import AWKWARD, NOTES, Listed


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
    assert [p.name for p in written] == ["nodes.csv", "edges.csv", "metadata.json", "codebook.csv", "README.txt"]
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
        assert archive.namelist() == ["nodes.csv", "edges.csv", "metadata.json", "codebook.csv", "README.txt"]
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


def test_formula_cells_are_neutralised_and_read_back(embedded: EmbeddedStore, tmp_path: Path) -> None:
    """Regression (issue 15): =HYPERLINK(...) and +cmd|... reached spreadsheets verbatim."""
    names = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "'=quoted", "'s-Hertogenbosch"]
    embedded.apply(
        WriteBatch(
            organisations=[
                school(n + 1, name, longitude=-1.5, properties={"note": name}) for n, name in enumerate(names)
            ]
        )
    )
    export(embedded, tmp_path / "plain")
    nodes = rows(read(tmp_path / "plain" / "nodes.csv"))
    assert [row["name"] for row in nodes] == [
        '\'=HYPERLINK("http://x","y")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "''=quoted",
        "'s-Hertogenbosch",
    ]
    assert all(row["note"] == row["name"] for row in nodes)
    assert {row["longitude"] for row in nodes} == {"-1.5"}, "numbers are not text: left as they are"
    export(embedded, tmp_path / "kumu", CsvFlavour.KUMU)
    assert rows(read(tmp_path / "kumu" / "elements.csv"))[0]["Label"] == '\'=HYPERLINK("http://x","y")'
    # neo4j-admin stores what it reads: there the values are exact.
    export(embedded, tmp_path / "neo", CsvFlavour.NEO4J_ADMIN)
    assert [row["name"] for row in rows(read(tmp_path / "neo" / "nodes.csv"))] == names
    # The importer takes the added quote off again.
    back = read_export(tmp_path / "plain")
    assert [org.name for org in back.organisations] == names
    assert [org.properties["note"] for org in back.organisations] == names


def test_neo4j_admin_header_never_turns_a_key_into_a_label_column(tmp_path: Path) -> None:
    """Regression (issue 15): a property key ``extra:LABEL`` became a label column."""
    assert neo4j_admin_header("extra:LABEL", AttrType.STRING) == "extra:LABEL:string"
    assert neo4j_admin_header("x:ID", AttrType.INT) == "x:ID:long"
    assert neo4j_admin_header("name", AttrType.STRING) == "name"
    evil = Organisation.model_construct(id="9", kind=NodeKind.SCHOOL, name="S", properties={"extra:LABEL": "Pwned"})
    schema = Schema()
    schema.add_organisations([evil])
    [(_, nodes), _] = csv_files(Listed([evil]), schema.ordered(), CsvFlavour.NEO4J_ADMIN)
    header = next(csv.reader(io.StringIO("".join(nodes()))))
    assert header == ["id:ID", ":LABEL", "kind", "name", "status", "extra:LABEL:string"]
