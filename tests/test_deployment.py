"""The deployment's worker setup, run for real: docker-compose's API command with two workers.

No Docker engine runs here, so the compose file's own command and environment are run as a
process on this machine: against the project's test Neo4j instead of the ``neo4j`` service, and
on the embedded store, which ``serve --workers`` serves too. Each worker keeps the graph in
memory; a write through one worker must be seen in the next answer of every worker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import REPO, make_neo4j_store
from tests.graph_service.analytics.town import town
from tests.test_docker_compose import environment, resolved

KEY = "deploy-admin-key-0123456789"
#: Fresh connections per check: each may be accepted by either worker.
ASKS = 24


def compose_api() -> tuple[list[str], dict[str, str]]:
    """The api service's command and environment as compose runs them with no variables set."""
    api = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["api"]
    return [resolved(str(part)) for part in api["command"]], {k: resolved(v) for k, v in environment(api).items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    command, env = compose_api()
    assert command[:2] == ["graph-service", "serve"] and command[command.index("--workers") + 1] == "2"
    port = free_port()
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    command[0] = str(Path(sys.executable).parent / "graph-service")
    env.update(GRAPH_SERVICE_API_KEYS=f"deploy:admin:{KEY}")
    if request.param == "neo4j":
        store = make_neo4j_store()
        env.update(
            NEO4J_URI=os.environ["NEO4J_URI"],
            NEO4J_USER=os.environ.get("NEO4J_USER", "neo4j"),
            NEO4J_PASSWORD=os.environ.get("NEO4J_PASSWORD", ""),
        )
    else:
        from graph_service.store import EmbeddedStore

        env.update(GRAPH_SERVICE_STORE="embedded", GRAPH_SERVICE_DB=str(tmp_path / "graph.sqlite3"))
        store = EmbeddedStore(tmp_path / "graph.sqlite3")
        store.open()
    try:
        store.clear()
        store.apply(town())
    finally:
        store.close()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail(f"the deployment did not answer: {(tmp_path / 'serve.log').read_text()}")
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def each_fresh(url: str, **params: Any) -> list[dict[str, Any]]:
    """The same question on a new connection each time, so that both workers answer some."""
    answers = []
    for _ in range(ASKS):
        response = httpx.get(url, params=params, headers={"Connection": "close"}, timeout=30)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def test_the_compose_command_serves_with_two_workers_that_all_see_a_write(
    deployment: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base, server = deployment
    workers = children_of(server.pid)
    assert len(workers) >= 2, f"worker processes of {server.pid}: {workers}"

    before = each_fresh(f"{base}/questions/isolated", as_at="2025-01-01")
    isolated = [[item["id"] for item in answer["items"]] for answer in before]
    assert all(ids == isolated[0] for ids in isolated) and isolated[0], "every worker gives the same answer"
    lonely = isolated[0][0]
    partner = next(school for school in ("101", "102", "103") if school != lonely)

    tie = {"source_id": partner, "target_id": lonely, "kind": "supports", "focus": "maths", "since": "2024-09-01"}
    written = httpx.post(f"{base}/ties", json=tie, headers={"X-API-Key": KEY}, timeout=30)
    assert written.status_code == 201, written.text

    after = each_fresh(f"{base}/questions/isolated", as_at="2025-01-01")
    assert all(lonely not in [item["id"] for item in answer["items"]] for answer in after)
    assert all(answer["total"] == before[0]["total"] - 1 for answer in after)
    ties = each_fresh(f"{base}/organisations/{lonely}/ties", kind="supports")
    assert all(answer["total"] == 1 and answer["items"][0]["source_id"] == partner for answer in ties)
