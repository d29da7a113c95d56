"""Export, then read back: into a store with our importer, and with networkx's own readers."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from networkx.readwrite import json_graph
from pydantic import BaseModel

from graph_service.export import ATTRIBUTION, CsvFlavour, ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.export.importer import ImportFileError, import_export, read_export
from graph_service.store import EmbeddedStore, GraphStore
from tests.graph_service.export.awkward import AWKWARD, META, NOTES, awkward_network, export_file

GEXF = "{http://gexf.net/1.3}"

#: Every format the importer reads, as (format, file or folder name): CSV as a folder and as a zip.
IMPORTABLE = [
    (ExportFormat.JSON, "graph.json"),
    (ExportFormat.GRAPHML, "graph.graphml"),
    (ExportFormat.GEXF, "graph.gexf"),
    (ExportFormat.CSV, "csv-folder"),
    (ExportFormat.CSV, "graph.zip"),
]


def typed(value: Any) -> Any:
    """A value with the type of every part spelt out: ``7 == 7.0 == True`` would hide a lost type."""
    if isinstance(value, BaseModel):
        return typed(value.model_dump())
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return type(value).__name__, value


@pytest.mark.parametrize(("fmt", "name"), IMPORTABLE, ids=[name for _, name in IMPORTABLE])
def test_export_then_import_gives_the_same_graph(
    store: GraphStore, tmp_path: Path, fmt: ExportFormat, name: str
) -> None:
    """Every organisation, tie, attribute (with its type) and source date survives, from either backend."""
    batch = awkward_network()
    store.apply(batch)
    path = export_file(store, fmt, tmp_path / name)
    copy = EmbeddedStore(tmp_path / "copy.sqlite3")
    copy.open()
    try:
        result = import_export(copy, path)
        assert (result.organisations_created, result.ties_created) == (6, 7)
        organisations = copy.get_organisations(sorted(o.id for o in batch.organisations))
        assert typed(organisations) == typed(sorted(batch.organisations, key=lambda o: o.id))
        assert typed(copy.all_ties()) == typed(sorted(batch.ties, key=lambda t: t.id))
        school = organisations[0]
        assert school.id == "100" and school.name == AWKWARD
        assert isinstance(school.opened, date) and school.closed is None and school.group_uid is None
        assert type(school.pupils) is int and type(school.latitude) is float
        assert school.properties["count"] == 7 and type(school.properties["count"]) is int
        assert school.properties["flagged"] is True and type(school.properties["score"]) is float
        lead = next(t for t in copy.all_ties() if t.id == "member_of:100:group-5:2016-09-01")
        assert lead.notes == NOTES and lead.since == date(2016, 9, 1) and lead.until is None
        assert copy.get_meta() == META
        # A second import changes nothing: ids are kept, so it is an upsert of equal data.
        assert import_export(copy, path).changed == 0
    finally:
        copy.close()


def test_networkx_reads_graphml_with_types(awkward: EmbeddedStore, tmp_path: Path) -> None:
    graph = nx.read_graphml(export_file(awkward, ExportFormat.GRAPHML, tmp_path / "g.graphml"), force_multigraph=True)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (6, 7)
    school = graph.nodes["100"]
    assert school["name"] == AWKWARD
    assert (school["pupils"], school["latitude"], school["fsm_pct"], school["ukprn"]) == (420, 52.5, 23.5, 10012345)
    assert type(school["pupils"]) is int and type(school["latitude"]) is float
    assert school["flagged"] is True and school["score"] == 2.5 and school["count"] == 7
    assert school["property_name"] == "a property called name" and school["property_property_x"] == "already prefixed"
    assert school["opened"] == "2010-09-01" and school["data_source"] == "gias:edubasealldata20250718.csv"
    assert "closed" not in school and "group_uid" not in school, "missing values must be left out"
    lead = graph.edges["100", "group-5", "member_of:100:group-5:2016-09-01"]
    assert lead["notes"] == NOTES and lead["since"] == "2016-09-01" and "until" not in lead
    support = graph.edges["100", "300", "supports:100:300:maths"]
    assert support["sla_who_pays"] == "LA & trust" and support["weight"] == 1.5 and support["hours"] == 40
    assert graph.edges["400", "la-330", "collaborates_on:400:la-330:cpd"]["active"] is False
    assert graph.graph["attribution"] == ATTRIBUTION and graph.graph["data_date"] == "2025-07-18"
    assert graph.graph["source:ties.csv"] == "2025-06-30" and graph.graph["nodes"] == 6


def test_graphml_has_labels_for_gephi(awkward: EmbeddedStore, tmp_path: Path) -> None:
    """Gephi shows a key named "label": without it every node was labelled by its id."""
    graph = nx.read_graphml(export_file(awkward, ExportFormat.GRAPHML, tmp_path / "g.graphml"), force_multigraph=True)
    assert graph.nodes["100"]["label"] == AWKWARD and graph.nodes["group-5"]["label"] == "Trust <5> & Co"
    assert graph.edges["300", "400", "federated_with:300:400"]["label"] == "federated_with"
    assert all(data["label"] == data["name"] for _, data in graph.nodes(data=True))


def test_gexf_carries_the_map_layout_and_kind_colours(awkward: EmbeddedStore, tmp_path: Path) -> None:
    graph = nx.read_gexf(export_file(awkward, ExportFormat.GEXF, tmp_path / "g.gexf"))
    viz = {node: data["viz"] for node, data in graph.nodes(data=True)}
    assert set(viz) == {"100", "200", "300", "400", "group-5", "la-330"}
    assert viz["100"]["color"] == {"r": 78, "g": 121, "b": 167, "a": 1.0}  # KIND_COLOURS[SCHOOL] #4e79a7
    assert viz["group-5"]["color"] == {"r": 242, "g": 142, "b": 43, "a": 1.0}  # trust #f28e2b
    # School 100 is the only located one: it sits at the centre of the map; the others are placed near
    # what they are tied to, ring by ring (its trust and school 300 first, then 300's college and LA).
    assert (viz["100"]["position"]["x"], viz["100"]["position"]["y"]) == (0.0, 0.0)
    for node in ("group-5", "300", "400", "la-330", "200"):
        position = viz[node]["position"]
        assert 0 < (position["x"] ** 2 + position["y"] ** 2) ** 0.5 < 100, node


def test_graphml_declares_dates(awkward: EmbeddedStore, tmp_path: Path) -> None:
    root = ET.parse(export_file(awkward, ExportFormat.GRAPHML, tmp_path / "g.graphml")).getroot()
    keys = {(k.get("for"), k.get("attr.name")): k for k in root.iter("{http://graphml.graphdrawing.org/xmlns}key")}
    opened = keys["node", "opened"]
    assert opened.get("attr.type") == "string" and "YYYY-MM-DD" in "".join(opened.itertext())
    assert keys["node", "pupils"].get("attr.type") == "long" and keys["node", "latitude"].get("attr.type") == "double"
    assert keys["node", "flagged"].get("attr.type") == "boolean"


def test_networkx_reads_dynamic_gexf(awkward: EmbeddedStore, tmp_path: Path) -> None:
    path = export_file(awkward, ExportFormat.GEXF, tmp_path / "g.gexf")
    graph = nx.read_gexf(path)
    assert graph.graph["mode"] == "dynamic" and (graph.number_of_nodes(), graph.number_of_edges()) == (6, 7)
    school = graph.nodes["100"]
    assert school["label"] == AWKWARD == school["name"]
    assert school["start"] == "2010-09-01" and "end" not in school
    assert type(school["pupils"]) is int and type(school["fsm_pct"]) is float and school["flagged"] is True
    closed = graph.nodes["200"]
    assert (closed["start"], closed["end"]) == ("2001-01-01", "2020-08-31")
    left = graph.edges["200", "group-5"]
    assert (left["start"], left["end"], left["since"], left["until"]) == ("2016-09-01", "2020-08-31") * 2
    assert graph.edges["100", "group-5"]["notes"] == NOTES
    assert graph.edges["400", "la-330"]["active"] is False

    root = ET.parse(path).getroot()
    assert root.get("version") == "1.3"
    graph_xml = root.find(f"{GEXF}graph")
    assert graph_xml is not None
    assert (graph_xml.get("mode"), graph_xml.get("timeformat")) == ("dynamic", "date")
    description = root.findtext(f"{GEXF}meta/{GEXF}description") or ""
    assert ATTRIBUTION in description and "source:edubasealldata20250718.csv: 2025-07-18" in description
    kinds = {edge.get("id"): edge.get("kind") for edge in root.iter(f"{GEXF}edge")}
    assert kinds["federated_with:300:400"] == "federated_with"


def test_networkx_reads_node_link_json(awkward: EmbeddedStore, tmp_path: Path) -> None:
    path = export_file(awkward, ExportFormat.JSON, tmp_path / "g.json")
    graph = json_graph.node_link_graph(json.loads(path.read_text(encoding="utf-8")))
    assert isinstance(graph, nx.MultiDiGraph) and (graph.number_of_nodes(), graph.number_of_edges()) == (6, 7)
    school = graph.nodes["100"]
    assert school["name"] == AWKWARD and school["opened"] == "2010-09-01"
    assert type(school["pupils"]) is int and type(school["latitude"]) is float and school["flagged"] is True
    support = graph.edges["100", "300", "supports:100:300:maths"]
    assert "data_source" not in support and "until" not in support
    assert support["weight"] == 1.5 and support["sla_lead_partner"] == "100"
    meta = graph.graph
    assert meta["attribution"] == ATTRIBUTION and meta["sources"]["ties.csv"] == "2025-06-30"
    assert meta["attribute_types"]["node"]["opened"] == "date" and meta["attribute_types"]["edge"]["hours"] == "int"
    assert meta["filters"] == {} and meta["nodes"] == 6 and meta["edges"] == 7


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_no_format_writes_none_for_a_missing_value(awkward: EmbeddedStore, tmp_path: Path, fmt: ExportFormat) -> None:
    path = export_file(awkward, fmt, tmp_path / f"g.{fmt.value}")
    if fmt in (ExportFormat.CSV, ExportFormat.PARQUET):
        # Parquet's own nulls are real nulls: its text members are checked here, its tables in test_parquet.
        texts = [p.read_text(encoding="utf-8") for p in path.iterdir() if p.suffix != ".parquet"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    assert all("None" not in text and "null" not in text for text in texts)


def test_bad_files_are_refused_with_the_reason(tmp_path: Path, embedded: EmbeddedStore) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"nodes": [{"id": "1", "kind": "castle", "name": "X"}], "edges": []}', encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"broken.json: node '1': kind"):
        import_export(embedded, broken)
    truncated = tmp_path / "cut.graphml"
    truncated.write_text("<graphml><graph><node id='1'>", encoding="utf-8")
    with pytest.raises(ImportFileError, match="not well-formed"):
        read_export(truncated)
    with pytest.raises(ImportFileError, match=r"\.json \(node-link\), \.graphml, \.gexf and plain CSV"):
        read_export(tmp_path / "graph.cypher")
    gexf = tmp_path / "odd.gexf"
    gexf.write_text(
        '<gexf xmlns="http://gexf.net/1.3"><graph><nodes><node id="1"><attvalues>'
        '<attvalue for="n9" value="x"/></attvalues></node></nodes></graph></gexf>',
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError, match=r"odd.gexf: a value for an undeclared attribute \('node', 'n9'\)"):
        import_export(embedded, gexf)
    assert embedded.counts() == {}, "a refused file writes nothing"


def test_bad_csv_exports_are_refused_with_file_row_and_field(awkward: EmbeddedStore, tmp_path: Path) -> None:
    folder = export_file(awkward, ExportFormat.CSV, tmp_path / "csv")
    nodes = folder / "nodes.csv"
    with nodes.open(encoding="utf-8", newline="") as handle:
        text = handle.read()
    # School 300 is the third data row, on line 4 of the file (school 100's name holds a line break).
    with nodes.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text.replace("Plain Primary,", "Plain Primary,extra,", 1))
    copy = EmbeddedStore(tmp_path / "copy.sqlite3")
    copy.open()
    try:
        with pytest.raises(ImportFileError, match=r"nodes.csv row 4: \d+ cells, the header has \d+"):
            import_export(copy, folder)
        header, _, rest = text.partition("\r\n")
        columns = header.split(",")
        cells = ["" for _ in columns]
        cells[:3] = ["999", "school", "Broken School"]
        cells[columns.index("pupils")] = "lots"
        with nodes.open("w", encoding="utf-8", newline="") as handle:
            handle.write(header + "\r\n" + rest + ",".join(cells) + "\r\n")
        with pytest.raises(ImportFileError, match=r"nodes.csv row 8, field pupils: 'lots' is not a valid int"):
            import_export(copy, folder)
        (folder / "metadata.json").unlink()
        with pytest.raises(ImportFileError, match=r"csv: no metadata.json in the folder"):
            import_export(copy, folder)
        kumu = tmp_path / "kumu.zip"
        write_export(prepare_export(awkward, ExportSpec(), ExportFormat.CSV, CsvFlavour.KUMU), kumu)
        with pytest.raises(ImportFileError, match=r"kumu.zip: a kumu CSV export; only the plain layout"):
            import_export(copy, kumu)
        assert copy.counts() == {}, "a refused file writes nothing"
    finally:
        copy.close()


def test_a_csv_zip_of_the_export_folder_reads_back(awkward: EmbeddedStore, tmp_path: Path) -> None:
    """Someone zips the exported folder again: the files sit one folder down in the archive."""
    folder = export_file(awkward, ExportFormat.CSV, tmp_path / "export")
    archive = Path(shutil.make_archive(str(tmp_path / "again"), "zip", tmp_path, "export"))
    with zipfile.ZipFile(archive) as opened:
        assert "export/nodes.csv" in opened.namelist()
    graph = read_export(archive)
    assert len(graph.organisations) == 6 and len(graph.ties) == 7 and graph.meta == META
    assert folder.is_dir()
