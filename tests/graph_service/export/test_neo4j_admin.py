"""The neo4j-admin CSV flavour, imported by the real neo4j-admin 5.26 and opened by Neo4j."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from graph_service.export.records import Schema
from graph_service.export.textformats import CsvFlavour, csv_files
from graph_service.models import NodeKind, Organisation
from tests.graph_service.export.awkward import Listed
from tests.graph_service.export.conftest import READERS

NEO4J_CACHE = Path(os.environ.get("NEO4J_TEST_CACHE_DIR", READERS.parents[2] / ".cache" / "neo4j"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.neo4j
def test_a_key_with_a_colon_stays_a_property(tmp_path: Path) -> None:
    """Regression (issue 15): a property key ``extra:LABEL`` became a label column of the import."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but java or mvn is missing: neo4j-admin cannot run")
        pytest.skip("java and mvn are needed to run neo4j-admin")
    evil = Organisation.model_construct(
        id="9", kind=NodeKind.SCHOOL, name="S", properties={"extra:LABEL": "Pwned", "a:ID": 5}
    )
    schema = Schema()
    schema.add_organisations([evil])
    for name, produce in csv_files(Listed([evil]), schema.ordered(), CsvFlavour.NEO4J_ADMIN):
        (tmp_path / name).write_text("".join(produce()), encoding="utf-8")
    home = tmp_path / "home"
    done = subprocess.run(
        [str(READERS), "neo4j-admin", str(home), "database", "import", "full"]
        + [f"--nodes={tmp_path / 'nodes.csv'}", f"--relationships={tmp_path / 'edges.csv'}"]
        + ["--multiline-fields=true", "neo4j"],
        cwd=tmp_path,  # neo4j-admin writes its import.report where it runs
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    classpath = f"{NEO4J_CACHE / 'launcher-target' / 'classes'}:{(NEO4J_CACHE / 'classpath.txt').read_text().strip()}"
    port = _free_port()
    server = subprocess.Popen(
        ["java", "-Xmx512m", "-cp", classpath, "graphservice.neo4jlauncher.Main", "--home", str(home)]
        + ["--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert any("NEO4J_TEST_SERVER_READY" in line for line in server.stdout), "Neo4j did not start"
        from neo4j import GraphDatabase

        with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "x")) as driver, driver.session() as s:
            [record] = s.run("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props").data()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert sorted(record["labels"]) == ["Organisation", "School"]
    assert record["props"] == {
        "id": "9",
        "kind": "school",
        "name": "S",
        "status": "open",
        "extra:LABEL": "Pwned",
        "a:ID": 5,
    }
