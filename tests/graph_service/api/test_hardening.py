"""Issue 15's probes of the API, each a regression test, on both backends where a store is involved."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.models import EdgeKind, NodeKind, make_tie
from graph_service.store import GraphStore, WriteBatch
from graph_service.store.neo4j import Neo4jStore
from tests.conftest import REPO
from tests.factories import org, small_network, tie
from tests.graph_service.api.test_writes import ADMIN, EDITOR, READER, make_settings


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    batch = small_network()
    # A university GIAS lists (a community partner with a URN), and a GIAS-sourced maintained_by tie.
    batch.organisations.append(
        org(
            "133784",
            NodeKind.COMMUNITY_PARTNER,
            "Uni",
            subtype="university",
            urn=133784,
            source="gias:e.csv",
        )
    )
    batch.ties[3] = make_tie(source_id="4", target_id="la-330", kind=EdgeKind.MAINTAINED_BY, source="gias:e.csv")
    store.apply(batch)
    with TestClient(create_app(make_settings(tmp_path), store=store)) as test_client:
        yield test_client


HIJACK = {"kind": "community_partner", "name": "Hijacked", "subtype": "other"}


@pytest.mark.parametrize("padded", ["1%20", "%201", "la-330%20", "1%0A", "1%09"])
def test_a_padded_id_is_refused_not_read_as_another(client: TestClient, store: GraphStore, padded: str) -> None:
    # Item 1: the check read "1 " (nothing there), the write stripped it and replaced school 1.
    for key in (EDITOR, ADMIN):
        response = client.put(f"/organisations/{padded}", json=HIJACK, headers=key)
        assert response.status_code == 422, response.text
    school = store.get_organisation("1")
    authority = store.get_organisation("la-330")
    assert school is not None and school.kind is NodeKind.SCHOOL and school.urn == 1
    assert authority is not None and authority.kind is NodeKind.LOCAL_AUTHORITY
    assert client.get("/audit", headers=ADMIN).json()["total"] == 0


@pytest.mark.parametrize("path", ["/organisations/1%252F", "/organisations/1/", "/ties/"])
def test_a_write_is_never_redirected_to_another_id(client: TestClient, store: GraphStore, path: str) -> None:
    # The id "1/" (%2F, decoded twice by the test client) ended in "/": Starlette redirected the PUT
    # to /organisations/1, and a client following redirects replaced school 1.
    for key in (EDITOR, ADMIN):
        response = client.put(path, json=HIJACK, headers=key, follow_redirects=True)
        assert response.status_code == 404, response.text
        assert client.delete(path, headers=ADMIN, follow_redirects=True).status_code == 404
    school = store.get_organisation("1")
    assert school is not None and school.kind is NodeKind.SCHOOL and school.urn == 1
    assert client.get("/audit", headers=ADMIN).json()["total"] == 0
    assert client.get("/viz", follow_redirects=True).status_code == 200  # reads still find their page


def test_ids_in_bodies_are_not_stripped_either(client: TestClient, store: GraphStore) -> None:
    body = {"source_id": "3 ", "target_id": "2", "kind": "supports", "focus": "maths"}
    assert client.post("/ties", json=body, headers=EDITOR).status_code == 422
    assert store.ties_of("3", kinds=[EdgeKind.SUPPORTS]) == []


def test_editors_cannot_rewrite_official_records(client: TestClient, store: GraphStore) -> None:
    # Item 2: a GIAS university is a community partner, but GIAS's, not the editor's.
    university = {"kind": "community_partner", "name": "Renamed", "subtype": "university"}
    refused = client.put("/organisations/133784", json=university, headers=EDITOR)
    assert refused.status_code == 403 and "only an admin" in refused.json()["detail"]
    stored = store.get_organisation("133784")
    assert stored is not None and stored.urn == 133784 and stored.name == "Uni"
    maintained = "maintained_by:4:la-330"
    assert client.post(f"/ties/{maintained}/end", json={"until": "2025-01-01"}, headers=EDITOR).status_code == 403
    ended = store.get_tie(maintained)
    assert ended is not None and ended.until is None
    # Nor may an editor claim to be a load, state GIAS's tie kinds, or join schools to a trust.
    claims = [
        ("/organisations/new-partner", {**HIJACK, "source": "gias:forged.csv"}),
        ("/organisations/new-partner", {**HIJACK, "urn": 999999}),
    ]
    for path, body in claims:
        assert client.put(path, json=body, headers=EDITOR).status_code == 403
    for body in (
        {"source_id": "1", "target_id": "la-330", "kind": "maintained_by"},
        {"source_id": "3", "target_id": "group-10", "kind": "member_of"},
        {"source_id": "3", "target_id": "2", "kind": "supports", "source": "gias:forged.csv"},
    ):
        assert client.post("/ties", json=body, headers=EDITOR).status_code == 403, body
    assert client.get("/audit", headers=ADMIN).json()["total"] == 0
    # An admin may do all of it.
    assert client.put("/organisations/133784", json=university, headers=ADMIN).status_code == 200
    assert client.post(f"/ties/{maintained}/end", json={"until": "2025-01-01"}, headers=ADMIN).status_code == 200


def test_a_tie_id_cannot_be_forged_from_an_organisation_id(client: TestClient, store: GraphStore) -> None:
    # Item 2: a partnership called "group-10:2019-09-01" gave school 1's membership tie's id.
    real = "member_of:1:group-10:2019-09-01"
    original = store.get_tie(real)
    assert original is not None
    partnership = {"kind": "partnership", "name": "Lookalike", "subtype": "network"}
    # (Ids shaped like official ones are an admin's since issue 23.)
    assert client.put("/organisations/group-10:2019-09-01", json=partnership, headers=ADMIN).status_code == 201
    made = client.post(
        "/ties", json={"source_id": "1", "target_id": "group-10:2019-09-01", "kind": "member_of"}, headers=EDITOR
    )
    assert made.status_code == 201, made.text
    assert made.json()["id"] == "member_of:1:group-10~3A2019-09-01"
    assert store.get_tie(real) == original
    assert client.get(f"/ties/{quote(made.json()['id'], safe='')}").json()["target_id"] == "group-10:2019-09-01"


def test_a_tie_whose_focus_holds_a_slash_can_be_read_ended_and_deleted(client: TestClient, store: GraphStore) -> None:
    made = client.post(
        "/ties", json={"source_id": "3", "target_id": "2", "kind": "supports", "focus": "KS2/KS3"}, headers=EDITOR
    )
    assert made.status_code == 201
    tie_id = made.json()["id"]
    assert tie_id == "supports:3:2:ks2~2Fks3" and "/" not in tie_id and "%" not in tie_id
    segment = quote(tie_id, safe="")
    assert client.get(f"/ties/{segment}").json()["focus"] == "ks2/ks3"
    assert (
        client.post(f"/ties/{segment}/end", json={"until": "2025-07-31"}, headers=EDITOR).json()["until"]
        == "2025-07-31"
    )
    assert client.delete(f"/ties/{segment}", headers=ADMIN).status_code == 204
    assert store.get_tie(tie_id) is None


@pytest.mark.parametrize(
    "properties",
    [
        {"x\\u0060": 1},
        {"a`b": 1},
        {"extra:LABEL": "x"},
        {"with space": 1},
        {"": 1},
        {"k": 2**64},
        {"k": -(2**63) - 1},
        {"k": "bell\u0007"},
    ],
)
def test_unsafe_property_keys_and_values_are_refused(client: TestClient, store: GraphStore, properties: dict) -> None:
    body = {"kind": "partnership", "name": "P", "properties": properties}
    response = client.put("/organisations/p1", json=body, headers=EDITOR)
    assert response.status_code == 422, response.text
    assert store.get_organisation("p1") is None


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_numbers_json_cannot_carry_are_refused_not_stored_as_null(
    client: TestClient, store: GraphStore, number: str
) -> None:
    raw = '{"kind": "partnership", "name": "P", "properties": {"score": ' + number + "}}"
    response = client.put("/organisations/p1", content=raw, headers={**EDITOR, "content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert store.get_organisation("p1") is None


@pytest.mark.parametrize("name", ["Evil\u001b[2J", "Bell\u0007", "Nul\u0000", "Two\nlines", "Flip\u202egnp.exe"])
def test_control_characters_are_refused_in_names(client: TestClient, store: GraphStore, name: str) -> None:
    response = client.put("/organisations/p1", json={"kind": "partnership", "name": name}, headers=EDITOR)
    assert response.status_code == 422 and "control or invisible character" in response.text
    assert store.get_organisation("p1") is None


def test_a_lone_surrogate_is_a_422_not_a_500(client: TestClient) -> None:
    raw = b'{"source_id": "\\ud800", "target_id": "2", "kind": "supports"}'
    response = client.post("/ties", content=raw, headers={**EDITOR, "content-type": "application/json"})
    assert response.status_code == 422
    assert "\ufffd" in response.json()["detail"][0]["input"]
    named = client.put(
        "/organisations/p1",
        content=b'{"kind": "partnership", "name": "a\\udc80b"}',
        headers={**EDITOR, "content-type": "application/json"},
    )
    assert named.status_code == 422


def test_deleting_an_organisation_audits_each_tie_it_takes(client: TestClient, store: GraphStore) -> None:
    ties = {t.id for t in store.ties_of("1")}
    assert len(ties) == 2  # its membership of the trust, and the federation with 3
    assert client.delete("/organisations/1", headers=ADMIN).status_code == 204
    entries = client.get("/audit", headers=ADMIN).json()["items"]
    assert {e["target"] for e in entries if e["action"] == "delete_tie"} == ties
    assert all(e["before"] and e["actor"] == "ops" for e in entries)
    assert [e["target"] for e in entries if e["action"] == "delete_organisation"] == ["1"]


def test_load_file_names_cannot_name_a_folder(client: TestClient) -> None:
    for name in ("..", ".", ".hidden"):
        response = client.post("/loads/gias", params={"filename": name}, content=b"URN\n1\n", headers=ADMIN)
        assert response.status_code == 422, name


def test_load_answers_never_show_server_paths(client: TestClient) -> None:
    empty = client.post("/loads/ties", params={"filename": "ties.csv"}, content=b"   ", headers=ADMIN)
    assert empty.status_code == 422
    assert "/tmp" not in empty.text and "ties.csv" in empty.text
    loaded = client.post(
        "/loads/ties",
        params={"filename": "ties.csv", "dry_run": True},
        content=b"source_id,target_id,kind,focus\n3,2,supports,maths\n",
        headers=ADMIN,
    )
    assert loaded.status_code == 200 and "/tmp" not in loaded.text and "files: ties.csv" in loaded.json()["summary"]


def test_a_gzip_bomb_sent_to_a_load_is_a_422(store: GraphStore, tmp_path: Path) -> None:
    # Item 6: 64 MiB of zeros in 64 kB; with a 16 MiB limit it is refused while it expands.
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    settings = make_settings(tmp_path, GRAPH_SERVICE_MAX_EXPANDED_BYTES=16 * 1024 * 1024)
    with TestClient(create_app(settings, store=store)) as client:
        response = client.post("/loads/gias", params={"filename": "e.csv.gz"}, content=bomb, headers=ADMIN)
        assert response.status_code == 422
        assert "larger than 16,777,216 bytes once decompressed" in response.json()["detail"][0]["msg"]
        assert not any(store.counts().values())


def test_api_pages_need_a_key_when_reads_are_not_public(store: GraphStore, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, GRAPH_SERVICE_PUBLIC_READ=False)
    with TestClient(create_app(settings, store=store)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401
            assert client.get(path, headers=READER).status_code == 200, path
    with TestClient(create_app(make_settings(tmp_path), store=store)) as public:
        assert public.get("/openapi.json").status_code == 200


def test_an_anonymous_503_does_not_show_the_database_address(tmp_path: Path) -> None:
    # A real driver to a port nothing listens on: the service starts and answers 503.
    store = Neo4jStore("bolt://127.0.0.1:9", "neo4j", "secret-password")
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        anonymous = client.get("/organisations/1")
        keyed = client.get("/organisations/1", headers=READER)
    assert anonymous.status_code == keyed.status_code == 503
    assert "bolt://" not in anonymous.text and "127.0.0.1" not in anonymous.text
    assert "bolt://127.0.0.1:9" in keyed.text


def test_questions_wait_their_turn(store: GraphStore, tmp_path: Path) -> None:
    """With one turn and no time to wait, a question asked while another holds the turn is a 503."""
    import asyncio

    from graph_service.api.auth import QuestionGate

    store.apply(small_network())
    settings = make_settings(tmp_path, GRAPH_SERVICE_MAX_CONCURRENT_QUESTIONS=1, GRAPH_SERVICE_QUESTION_WAIT=0.01)
    app = create_app(settings, store=store)
    with TestClient(app) as client:
        assert client.get("/questions/isolated").status_code == 200
        gate = _find(app.middleware_stack, QuestionGate)
        assert gate is not None
        asyncio.run(gate.turns.acquire())  # another question holds the only turn
        busy = client.get("/questions/isolated")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert client.get("/organisations/1").status_code == 200  # other requests are not held up
        assert client.get("/questions/health/status").status_code == 200  # nor the health reports' status
        gate.turns.release()
        assert client.get("/questions/isolated").status_code == 200


def _find(app: object, kind: type) -> object | None:
    while app is not None:
        if isinstance(app, kind):
            return app
        app = getattr(app, "app", None)
    return None


def test_ties_json_and_dates_round_trip_for_the_hand_built_ids(store: GraphStore) -> None:
    """Ids of ordinary GIAS ties are as before the escaping came in (stored ids stay readable)."""
    store.apply(WriteBatch(organisations=small_network().organisations))
    made = tie("1", "group-10", EdgeKind.MEMBER_OF, since=date(2019, 9, 1))
    assert made.id == "member_of:1:group-10:2019-09-01"
    assert json.loads(made.model_dump_json())["id"] == made.id


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """``graph-service serve`` in its own process: 1 s header timeout, room for three connections."""
    port = _free_port()
    env = {
        **os.environ,
        "GRAPH_SERVICE_STORE": "embedded",
        "GRAPH_SERVICE_DB": str(tmp_path / "served.sqlite3"),
        "GRAPH_SERVICE_HEADER_TIMEOUT": "1",
        "GRAPH_SERVICE_MAX_CONNECTIONS": "3",
    }
    command = [sys.executable, "-c", "import sys; from graph_service.cli import main; sys.exit(main(sys.argv[1:]))"]
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("graph-service serve did not start")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_half_sent_headers_are_cut_off_and_normal_requests_recover(served: int) -> None:
    """Slow clients used to hold their connections for ever; now they are closed and others are served."""
    slow = []
    for _ in range(3):
        client = socket.create_connection(("127.0.0.1", served))
        client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        slow.append(client)
    time.sleep(0.3)
    # The connection cap answers at once rather than letting the request wait behind them.
    assert httpx.get(f"http://127.0.0.1:{served}/health", timeout=5).status_code == 503
    for client in slow:
        client.settimeout(10)
        assert client.recv(1024) == b""  # closed by the server after the header timeout
        client.close()
    assert httpx.get(f"http://127.0.0.1:{served}/health", timeout=5).status_code == 200


def test_an_export_is_a_snapshot_of_when_it_was_selected(store: GraphStore, tmp_path: Path) -> None:
    """A delete while an export streams used to leave dangling edges and counts that disagreed."""
    from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export

    store.apply(small_network())
    prepared = prepare_export(store, ExportSpec(), ExportFormat.JSON)
    # ... and while it is being written, an admin deletes school 1 and its two ties.
    store.apply(WriteBatch(delete_organisations=["1"], delete_ties=[t.id for t in store.ties_of("1")]))
    path = tmp_path / "graph.json"
    write_export(prepared, path)
    graph = json.loads(path.read_text())
    nodes = {node["id"] for node in graph["nodes"]}
    assert "1" in nodes and len(nodes) == 6
    assert all(edge["source"] in nodes and edge["target"] in nodes for edge in graph["edges"])
    assert len(graph["edges"]) == 4
