"""End to end on the real Birmingham sample: every format holds the whole store and reads back equal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
from networkx.readwrite import json_graph

from graph_service.cli import load_sample
from graph_service.export import ExportFormat, build_spec
from graph_service.export.importer import import_export
from graph_service.models import EdgeKind, covers
from graph_service.store import EmbeddedStore, OrganisationFilter
from tests.graph_service.export.awkward import export_file


@pytest.fixture(scope="module")
def birmingham(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("birmingham") / "graph.sqlite3")
    store.open()
    load_sample(store)
    yield store
    store.close()


def totals(store: EmbeddedStore) -> tuple[int, int]:
    counts = store.counts()
    ties = sum(n for key, n in counts.items() if key.startswith("tie:"))
    return sum(counts.values()) - ties, ties


def test_every_reader_sees_the_whole_store(birmingham: EmbeddedStore, tmp_path: Path) -> None:
    expected = totals(birmingham)
    assert expected[0] > 1000 and expected[1] > 1000
    graphml = nx.read_graphml(export_file(birmingham, ExportFormat.GRAPHML, tmp_path / "b.graphml"))
    gexf = nx.read_gexf(export_file(birmingham, ExportFormat.GEXF, tmp_path / "b.gexf"))
    data = json.loads(export_file(birmingham, ExportFormat.JSON, tmp_path / "b.json").read_text(encoding="utf-8"))
    for graph in (graphml, gexf, json_graph.node_link_graph(data)):
        assert (graph.number_of_nodes(), graph.number_of_edges()) == expected
    assert data["graph"]["sources"]["edubasealldata20250718_birmingham.csv"] == "2025-07-18"
    assert data["graph"]["data_date"] == "2025-07-18"


@pytest.mark.parametrize("name", ["b.json", "b.graphml", "b.gexf", "b.zip"])
def test_every_importable_format_reads_back_into_an_equal_store(
    birmingham: EmbeddedStore, tmp_path: Path, name: str
) -> None:
    fmt = ExportFormat.CSV if name.endswith(".zip") else ExportFormat(name.partition(".")[2])
    path = export_file(birmingham, fmt, tmp_path / name)
    copy = EmbeddedStore(tmp_path / "copy.sqlite3")
    copy.open()
    try:
        import_export(copy, path)
        assert copy.counts() == birmingham.counts()
        ids = [org.id for org in birmingham.list_organisations(OrganisationFilter(), limit=10_000)[0]]
        assert copy.get_organisations(ids) == birmingham.get_organisations(ids)
        assert copy.all_ties() == birmingham.all_ties()
    finally:
        copy.close()


def test_as_at_and_kind_on_real_data(birmingham: EmbeddedStore, tmp_path: Path) -> None:
    day = date(2015, 9, 1)
    spec = build_spec(tie_kinds=[EdgeKind.PREDECESSOR_OF, EdgeKind.MEMBER_OF], as_at=day)
    path = export_file(birmingham, ExportFormat.GRAPHML, tmp_path / "b.graphml", spec)
    graph = nx.read_graphml(path, force_multigraph=True)
    for node, attrs in graph.nodes(data=True):
        assert attrs.get("opened", "0000") <= day.isoformat() <= attrs.get("closed", "9999"), node
    kinds = {attrs["kind"] for _, _, attrs in graph.edges(data=True)}
    assert kinds <= {"predecessor_of", "member_of"} and kinds
    open_ids = set(graph.nodes)
    expected = {
        tie.id
        for tie in birmingham.all_ties(kinds=[EdgeKind.PREDECESSOR_OF, EdgeKind.MEMBER_OF])
        if covers(tie.since, tie.until, day) and tie.source_id in open_ids and tie.target_id in open_ids
    }
    assert {key for _, _, key in graph.edges(keys=True)} == expected
