"""Readers benchmark: whole England exported once per format and opened in the tools researchers use.

For each reader the counts of organisations and ties, and the fields of a sample of organisations
and ties (name, URN, pupils, latitude, opened; kind, since), with their types, are compared with
the store the export came from. Prints one row per reader: seconds, counts, sample matches, and
what the reader did differently (its quirks).

    python bench/readers.py [--db FILE] [--out DIR] [--readers networkx,igraph,pandas,gephi,cypher-shell,neo4j-admin]

cypher-shell needs a running Neo4j (NEO4J_URI, e.g. from scripts/neo4j-test-server); its
organisations and ties are deleted first. neo4j-admin imports into a fresh database folder and
starts a Neo4j of its own on it. Gephi, cypher-shell and neo4j-admin come from Maven Central
through scripts/readers/run (java 17 and mvn). Not a test: run it by hand and read the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.models import Organisation, Tie
from graph_service.store import EmbeddedStore

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "gias"
READERS = REPO / "scripts" / "readers" / "run"
SAMPLE = 25


@dataclass
class Expected:
    """What every reader should find: counts, and sample organisations and ties from the store."""

    nodes: int
    edges: int
    orgs: list[Organisation]
    ties: list[Tie]
    timed_nodes: int
    timed_edges: int
    inf_names: int


@dataclass
class Row:
    reader: str
    fmt: str
    seconds: float
    nodes: int
    edges: int
    matched: int = 0
    checked: int = 0
    notes: list[str] = field(default_factory=list)


def expected_from(store: EmbeddedStore, prepared: Any) -> Expected:
    ids = prepared.selection.ids
    step = max(1, len(ids) // SAMPLE)
    orgs = store.get_organisations(ids[::step][:SAMPLE])
    ties = prepared.selection.ties[:: max(1, len(prepared.selection.ties) // SAMPLE)][:SAMPLE]
    timed_nodes = inf = 0
    for org in prepared.selection.organisations():
        timed_nodes += org.opened is not None or org.closed is not None
        inf += "INF" in org.name
    timed_edges = sum(tie.since is not None or tie.until is not None for tie in prepared.selection.ties)
    return Expected(len(ids), len(prepared.selection.ties), orgs, ties, timed_nodes, timed_edges, inf)


def _same(value: Any, wanted: Any, exact_type: bool = True) -> bool:
    if wanted is None:
        return value is None or (isinstance(value, float) and math.isnan(value))
    if exact_type and type(value) is not type(wanted):
        return False
    return bool(value == wanted)


def org_checks(org: Organisation) -> list[tuple[str, Any]]:
    """(attribute, value as the export declares it) of the sample fields."""
    return [
        ("name", org.name),
        ("urn", org.urn),
        ("pupils", org.pupils),
        ("latitude", org.latitude),
        ("opened", org.opened.isoformat() if org.opened else None),
    ]


def compare_nodes(row: Row, expected: Expected, attrs_of: Callable[[str], dict[str, Any] | None], **kw: Any) -> None:
    for org in expected.orgs:
        attrs = attrs_of(org.id)
        row.checked += 1
        if attrs is not None and all(_same(attrs.get(name), value, **kw) for name, value in org_checks(org)):
            row.matched += 1


def compare_edges(row: Row, expected: Expected, attrs_of: Callable[[Tie], dict[str, Any] | None]) -> None:
    for tie in expected.ties:
        attrs = attrs_of(tie)
        row.checked += 1
        since = tie.since.isoformat() if tie.since else None
        if attrs is not None and attrs.get("kind") == tie.kind.value and _same(attrs.get("since"), since):
            row.matched += 1


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------- readers


def networkx_readers(files: dict[str, Path], expected: Expected) -> list[Row]:
    import networkx as nx
    from networkx.readwrite import json_graph

    rows = []
    for fmt, read in (
        ("graphml", lambda: nx.read_graphml(files["graphml"], force_multigraph=True)),
        ("gexf", lambda: nx.read_gexf(files["gexf"])),
        ("json", lambda: json_graph.node_link_graph(json.loads(files["json"].read_text(encoding="utf-8")))),
    ):
        graph, seconds = timed(read)
        row = Row("networkx", fmt, seconds, graph.number_of_nodes(), graph.number_of_edges())
        nodes = dict(graph.nodes(data=True))
        compare_nodes(row, expected, nodes.get)
        # networkx's GEXF reader keys parallel edges by number; the tie id is the edge's "id" there.
        if graph.is_multigraph():
            by_id = {data.get("id", key): data for _, _, key, data in graph.edges(keys=True, data=True)}
        else:
            by_id = {data.get("id"): data for _, _, data in graph.edges(data=True)}
            row.notes.append("read as a simple DiGraph (networkx does so when no two edges share both ends)")
        compare_edges(row, expected, lambda tie, by_id=by_id: by_id.get(tie.id))
        rows.append(row)
    return rows


def igraph_reader(files: dict[str, Path], expected: Expected) -> list[Row]:
    import igraph

    graph, seconds = timed(lambda: igraph.Graph.Read_GraphML(str(files["graphml"])))
    row = Row("igraph", "graphml", seconds, graph.vcount(), graph.ecount())
    index = {vertex["id"]: vertex.index for vertex in graph.vs}
    whole = 0
    for org in expected.orgs:
        found = graph.vs[index[org.id]].attributes() if org.id in index else None
        row.checked += 1
        if found is None:
            continue
        # igraph gives a missing text attribute as '' (a missing number as NaN).
        attrs = {name: None if value == "" else value for name, value in found.items()}
        # igraph reads GraphML's long as a float: compare the numbers, and count the type change.
        if isinstance(attrs.get("urn"), float):
            whole += 1
        pairs = org_checks(org)
        if all(_same(attrs.get(name), value, exact_type=False) for name, value in pairs):
            row.matched += 1
    edge_ids = set(graph.es["id"]) if "id" in graph.es.attributes() else set()
    ties = {(graph.vs[e.source]["id"], graph.vs[e.target]["id"], e["kind"], e["since"] or None) for e in graph.es}
    for tie in expected.ties:
        row.checked += 1
        since = tie.since.isoformat() if tie.since else None
        row.matched += (tie.source_id, tie.target_id, tie.kind.value, since) in ties
    row.notes.append(f"whole numbers read as float ({whole}/{len(expected.orgs)} sample URNs)")
    if not edge_ids & {tie.id for tie in expected.ties}:
        row.notes.append("edge 'id' holds no tie id (igraph fills it from the vertex ids)")
    return [row]


def pandas_reader(files: dict[str, Path], expected: Expected) -> list[Row]:
    import pandas as pd

    def read() -> tuple[Any, Any]:
        return (
            pd.read_parquet(files["parquet"] / "nodes.parquet", dtype_backend="pyarrow"),
            pd.read_parquet(files["parquet"] / "edges.parquet", dtype_backend="pyarrow"),
        )

    (nodes, edges), seconds = timed(read)
    row = Row("pandas", "parquet", seconds, len(nodes), len(edges))
    by_id = nodes.set_index("id")
    for org in expected.orgs:
        row.checked += 1
        record = by_id.loc[org.id]
        values = {
            "name": record["name"],
            "urn": None if pd.isna(record["urn"]) else int(record["urn"]),
            "pupils": None if pd.isna(record["pupils"]) else int(record["pupils"]),
            "latitude": None if pd.isna(record["latitude"]) else float(record["latitude"]),
            "opened": None if pd.isna(record["opened"]) else record["opened"].isoformat(),
        }
        row.matched += all(_same(values[name], value) for name, value in org_checks(org))
    edge_by_id = edges.set_index("id")
    for tie in expected.ties:
        row.checked += 1
        record = edge_by_id.loc[tie.id]
        since = None if pd.isna(record["since"]) else record["since"]
        row.matched += record["kind"] == tie.kind.value and since == tie.since
    row.notes.append(f"dtypes: pupils {nodes['pupils'].dtype}, opened {nodes['opened'].dtype}")
    return [row]


def gephi_reader(files: dict[str, Path], expected: Expected) -> list[Row]:
    args = [str(files["gexf"]), str(files["graphml"])]
    for org in expected.orgs:
        args += ["--node", org.id]
    for tie in expected.ties:
        args += ["--edge", tie.id]
    done = subprocess.run([str(READERS), "gephi", *args], capture_output=True, text=True, check=True)
    rows = []
    for line in done.stdout.splitlines():
        report = json.loads(line)
        fmt = report["file"].rsplit(".", 1)[1]
        row = Row("Gephi Toolkit 0.10.1", fmt, report["seconds"], report["nodes"], report["edges"])
        rewritten = 0
        for org in expected.orgs:
            attrs = report["sample_nodes"].get(org.id)
            row.checked += 1
            if attrs is None:
                continue
            got = {name: text.partition(":")[2] for name, text in attrs.items() if name != "label"}
            types = {name: text.partition(":")[0] for name, text in attrs.items() if name != "label"}
            ok = attrs["label"] == org.name and got.get("name") == org.name
            ok = ok and (org.urn is None or (types.get("urn") == "Long" and got["urn"] == str(org.urn)))
            ok = ok and (org.pupils is None or (types.get("pupils") == "Long" and got["pupils"] == str(org.pupils)))
            ok = ok and (org.latitude is None or types.get("latitude") == "Double")
            rewritten += got.get("name") != org.name and "INF" in org.name
            row.matched += ok
        for tie in expected.ties:
            attrs = report["sample_edges"].get(tie.id)
            row.checked += 1
            row.matched += attrs is not None and attrs.get("kind") == f"String:{tie.kind.value}"
        row.notes.append(f"{report['issues']} import issues {report['first_issues'][:1]}")
        if fmt == "gexf":
            row.notes.append(
                f"time intervals on {report['timed_nodes']}/{expected.timed_nodes} dated nodes,"
                f" {report['timed_edges']}/{expected.timed_edges} dated edges;"
                f" {report['placed_nodes']} placed, {report['coloured_nodes']} coloured"
            )
        row.notes.append(f"{expected.inf_names} names hold 'INF' (Gephi rewrites it to 'Infinity' in values)")
        rows.append(row)
    return rows


def _neo4j_check(uri: str, expected: Expected, row: Row) -> None:
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "") or "x")
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session() as session:
        row.nodes = session.run("MATCH (n:Organisation) RETURN count(n)").single(strict=True)[0]
        row.edges = session.run("MATCH (:Organisation)-[r]->(:Organisation) RETURN count(r)").single(strict=True)[0]
        found = {
            record["id"]: dict(record["n"])
            for record in session.run(
                "MATCH (n:Organisation) WHERE n.id IN $ids RETURN n.id AS id, n", ids=[o.id for o in expected.orgs]
            )
        }
        for org in expected.orgs:
            row.checked += 1
            attrs = found.get(org.id)
            if attrs is None:
                continue
            opened = attrs.get("opened")
            values = {**attrs, "opened": opened.iso_format() if opened is not None else None}
            row.matched += all(_same(values.get(name), value) for name, value in org_checks(org))
        ties = {
            record["id"]: (record["t"], record["since"])
            for record in session.run(
                "MATCH ()-[r]->() WHERE r.id IN $ids RETURN r.id AS id, type(r) AS t, r.since AS since",
                ids=[t.id for t in expected.ties],
            )
        }
        for tie in expected.ties:
            row.checked += 1
            kind, since = ties.get(tie.id, (None, None))
            row.matched += kind == tie.kind.rel_type and (since.to_native() if since else None) == tie.since


def cypher_shell_reader(files: dict[str, Path], expected: Expected) -> list[Row]:
    from neo4j import GraphDatabase

    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "") or "x")
    with GraphDatabase.driver(uri, auth=auth) as driver, driver.session() as session:
        session.run("MATCH (n:Organisation) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
    server_cpu = _server_cpu()
    command = [str(READERS), "cypher-shell", "-a", uri, "-u", auth[0], "-p", auth[1], "--format", "plain"]
    before = os.times()
    _, seconds = timed(lambda: subprocess.run([*command, "-f", str(files["cypher"])], check=True))
    after = os.times()
    row = Row("cypher-shell 5.26 + Neo4j 5.26 (1 GB heap)", "cypher", seconds, 0, 0)
    _neo4j_check(uri, expected, row)
    client = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    row.notes.append(f"cypher-shell CPU {client:.0f} s")
    if server_cpu is not None and (now := _server_cpu()) is not None:
        row.notes.append(f"Neo4j server CPU {now - server_cpu:.0f} s")
    return [row]


def _server_cpu() -> float | None:
    """CPU seconds of the test Neo4j (scripts/neo4j-test-server's pid file), if it is found."""
    run_dir = Path(os.environ.get("NEO4J_TEST_RUN_DIR", REPO / ".cache" / "neo4j" / "run"))
    try:
        pid = (run_dir / "neo4j.pid").read_text().strip()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def neo4j_admin_reader(files: dict[str, Path], expected: Expected) -> list[Row]:
    home = Path(tempfile.mkdtemp(prefix="neo4j-admin-bench-"))
    folder = files["neo4j-admin"]
    command = [
        str(READERS),
        "neo4j-admin",
        str(home),
        "database",
        "import",
        "full",
        f"--nodes={folder / 'nodes.csv'}",
        f"--relationships={folder / 'edges.csv'}",
        "--multiline-fields=true",
        "neo4j",
    ]
    _, seconds = timed(lambda: subprocess.run(command, check=True, capture_output=True))
    row = Row("neo4j-admin import 5.26", "csv neo4j-admin", seconds, 0, 0)
    cache = REPO / ".cache" / "neo4j"
    classpath = f"{cache / 'launcher-target' / 'classes'}:{(cache / 'classpath.txt').read_text().strip()}"
    port = _free_port()
    server = subprocess.Popen(
        [
            "java",
            "-Xmx1g",
            "-cp",
            classpath,
            "graphservice.neo4jlauncher.Main",
            "--home",
            str(home),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "NEO4J_TEST_SERVER_READY" in line:
                break
        _neo4j_check(f"bolt://127.0.0.1:{port}", expected, row)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    return [row]


READER_FUNCTIONS = {
    "networkx": networkx_readers,
    "igraph": igraph_reader,
    "pandas": pandas_reader,
    "gephi": gephi_reader,
    "cypher-shell": cypher_shell_reader,
    "neo4j-admin": neo4j_admin_reader,
}


def export_all(store: EmbeddedStore, out: Path, reuse: bool = False) -> tuple[dict[str, Path], Expected]:
    from graph_service.export import CsvFlavour

    files: dict[str, Path] = {}
    expected = None
    for fmt, name, flavour in (
        (ExportFormat.GRAPHML, "england.graphml", CsvFlavour.PLAIN),
        (ExportFormat.GEXF, "england.gexf", CsvFlavour.PLAIN),
        (ExportFormat.JSON, "england.json", CsvFlavour.PLAIN),
        (ExportFormat.CYPHER, "england.cypher", CsvFlavour.PLAIN),
        (ExportFormat.PARQUET, "parquet", CsvFlavour.PLAIN),
        (ExportFormat.CSV, "neo4j-admin", CsvFlavour.NEO4J_ADMIN),
    ):
        prepared = prepare_export(store, ExportSpec(), fmt, flavour)
        if expected is None:
            expected = expected_from(store, prepared)
        files["neo4j-admin" if fmt is ExportFormat.CSV else fmt.value] = out / name
        if reuse and (out / name).exists():
            continue
        _, seconds = timed(lambda prepared=prepared, name=name: write_export(prepared, out / name))
        print(f"exported {fmt.value:8} {flavour.value if fmt is ExportFormat.CSV else '':12} in {seconds:5.1f} s")
    assert expected is not None
    return files, expected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an embedded store holding England (default: load it)")
    parser.add_argument("--out", type=Path, help="folder for the files (default: a temporary folder)")
    parser.add_argument("--readers", default=",".join(READER_FUNCTIONS), help="comma-separated readers")
    parser.add_argument("--reuse", action="store_true", help="keep the files already in --out (export the rest)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="readers-bench-") as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        db = args.db or out / "england.sqlite3"
        if args.db is None:
            subprocess.run(
                [sys.executable, str(REPO / "bench" / "export.py"), "--load-only", "--db", str(db)], check=True
            )
        store = EmbeddedStore(db)
        store.open()
        try:
            files, expected = export_all(store, out, args.reuse)
        finally:
            store.close()
        print(f"England: {expected.nodes} organisations, {expected.edges} ties; sample {SAMPLE} of each")
        rows: list[Row] = []
        for name in args.readers.split(","):
            try:
                found = READER_FUNCTIONS[name.strip()](files, expected)
            except Exception as exc:  # a reader that cannot run is reported, the others still run
                print(f"{name}: could not run: {exc!r}")
                continue
            for row in found:
                same = (row.nodes == expected.nodes, row.edges == expected.edges)
                print(
                    f"{row.reader:44} {row.fmt:16} {row.seconds:7.1f} s  nodes {row.nodes} ({same[0]})"
                    f"  edges {row.edges} ({same[1]})  sample {row.matched}/{row.checked}"
                )
                for note in row.notes:
                    print(f"{'':46}{note}")
                rows.append(row)
    failed = [row for row in rows if (row.nodes, row.edges) != (expected.nodes, expected.edges)]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
