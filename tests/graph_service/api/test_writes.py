"""Writes, keys, roles, limits and the audit trail, on both backends."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from neo4j import Driver, GraphDatabase

from graph_service.api.app import create_app
from graph_service.models import NodeKind
from graph_service.security import hash_key
from graph_service.settings import Settings
from graph_service.store import GraphStore
from graph_service.store.neo4j import Neo4jStore
from queries import cypher
from tests.conftest import make_neo4j_store
from tests.factories import small_network

EDITOR = {"X-API-Key": "editor-key-0123456789"}
ADMIN = {"X-API-Key": "admin-key-0123456789"}
READER = {"X-API-Key": "reader-key-0123456789"}


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    keys_file = tmp_path / "keys"
    # The admin key is given as a digest: the secret itself is never on disk.
    keys_file.write_text(f"# keys\nops:admin:sha256:{hash_key('admin-key-0123456789').hex()}\n")
    values: dict[str, object] = {
        "GRAPH_SERVICE_DB": tmp_path / "unused.sqlite3",
        "GRAPH_SERVICE_API_KEYS": "ed:editor:editor-key-0123456789,rd:reader:reader-key-0123456789",
        "GRAPH_SERVICE_KEYS_FILE": keys_file,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    store.apply(small_network())
    with TestClient(create_app(make_settings(tmp_path), store=store)) as test_client:
        yield test_client


def test_writes_need_a_key_with_the_right_role(client: TestClient) -> None:
    partner = {"kind": "community_partner", "name": "Aston Villa Foundation", "subtype": "sports_club"}
    missing = client.put("/organisations/avf", json=partner)
    assert missing.status_code == 401 and "editor" in missing.json()["detail"]
    wrong = client.put("/organisations/avf", json=partner, headers={"X-API-Key": "not-a-key-at-all-0000"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "the API key is not valid"
    weak = client.put("/organisations/avf", json=partner, headers=READER)
    assert weak.status_code == 403 and "reader role" in weak.json()["detail"]
    created = client.put("/organisations/avf", json=partner, headers=EDITOR)
    assert created.status_code == 201 and created.json()["id"] == "avf"
    again = client.put("/organisations/avf", json=partner, headers=EDITOR)
    assert again.status_code == 200
    school = client.put("/organisations/99", json={"kind": "school", "name": "New"}, headers=EDITOR)
    assert school.status_code == 403 and "only an admin" in school.json()["detail"]
    assert client.put("/organisations/99", json={"kind": "school", "name": "New"}, headers=ADMIN).status_code == 201


def test_ties_create_end_delete_and_audit(client: TestClient) -> None:
    body = {"source_id": "3", "target_id": "2", "kind": "supports", "focus": "maths", "since": "2024-09-01"}
    first = client.post("/ties", json=body, headers=EDITOR)
    assert first.status_code == 201
    tie_id = first.json()["id"]
    assert tie_id == "supports:3:2:maths"
    assert client.post("/ties", json=body, headers=EDITOR).status_code == 200
    assert client.get("/organisations/2/ties", params={"kind": "supports"}).json()["total"] == 1
    early = client.post(f"/ties/{tie_id}/end", json={"until": "2023-01-01"}, headers=EDITOR)
    assert early.status_code == 422 and "before" in early.json()["detail"][0]["msg"]
    ended = client.post(f"/ties/{tie_id}/end", json={"until": "2025-07-31"}, headers=EDITOR)
    assert ended.status_code == 200 and ended.json()["until"] == "2025-07-31"
    assert client.get(f"/ties/{tie_id}").json()["until"] == "2025-07-31"
    assert client.delete(f"/ties/{tie_id}", headers=EDITOR).status_code == 403
    assert client.delete(f"/ties/{tie_id}", headers=ADMIN).status_code == 204
    assert client.get(f"/ties/{tie_id}").status_code == 404
    trail = client.get("/audit", headers=ADMIN).json()
    assert [e["action"] for e in trail["items"]] == ["delete_tie", "end_tie", "upsert_tie"]
    assert {e["actor"] for e in trail["items"]} == {"ed", "ops"}
    assert trail["items"][1]["before"] is not None and '"until":"2025-07-31"' in trail["items"][1]["after"]
    assert client.get("/audit", headers=EDITOR).status_code == 403


def test_bad_writes_are_4xx_with_messages_and_change_nothing(client: TestClient) -> None:
    before = client.get("/health").json()["counts"]
    unknown = client.post("/ties", json={"source_id": "3", "target_id": "404", "kind": "supports"}, headers=EDITOR)
    assert unknown.status_code == 404 and "'404'" in unknown.json()["detail"]
    wrong_kind = client.post(  # maintained_by is GIAS's: only an admin may write one at all
        "/ties", json={"source_id": "1", "target_id": "2", "kind": "maintained_by"}, headers=ADMIN
    )
    assert wrong_kind.status_code == 409 and "cannot end at a school" in wrong_kind.json()["detail"]
    loop = client.post("/ties", json={"source_id": "1", "target_id": "1", "kind": "supports"}, headers=EDITOR)
    assert loop.status_code == 422 and "itself" in loop.text
    extra = client.post(
        "/ties", json={"source_id": "1", "target_id": "2", "kind": "supports", "colour": "red"}, headers=EDITOR
    )
    assert extra.status_code == 422
    kind_change = client.put("/organisations/1", json={"kind": "partnership", "name": "X"}, headers=ADMIN)
    assert kind_change.status_code == 409
    assert client.delete("/organisations/nope", headers=ADMIN).status_code == 404
    assert client.get("/health").json()["counts"] == before


def test_injection_is_stored_as_text(client: TestClient, store: GraphStore) -> None:
    nasty = "x'}) DETACH DELETE n; DROP TABLE organisations; -- <script>alert(1)</script>"
    response = client.put(
        "/organisations/nasty", json={"kind": "partnership", "name": nasty, "properties": {"n": nasty}}, headers=EDITOR
    )
    assert response.status_code == 201
    assert client.get("/organisations/nasty").json()["name"] == nasty
    found = client.get("/organisations", params={"q": "DETACH DELETE"}).json()
    assert [o["id"] for o in found["items"]] == ["nasty"]
    assert store.counts()["school"] == 4
    weird_id = client.get("/organisations/1' OR '1'='1")
    assert weird_id.status_code == 404


def test_delete_organisation_removes_its_ties(client: TestClient, store: GraphStore) -> None:
    assert client.delete("/organisations/1", headers=ADMIN).status_code == 204
    assert store.get_organisation("1") is None
    assert all("1" not in (t.source_id, t.target_id) for t in store.all_ties())


def test_private_deployment_needs_a_reader_key(store: GraphStore, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, GRAPH_SERVICE_PUBLIC_READ=False), store=store)) as client:
        assert client.get("/organisations").status_code == 401
        assert client.get("/organisations", headers=READER).status_code == 200


def test_oversized_bodies_are_413(store: GraphStore, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, GRAPH_SERVICE_MAX_BODY_BYTES=1000)
    with TestClient(create_app(settings, store=store)) as client:
        big = {"kind": "partnership", "name": "P", "properties": {"blob": "x" * 5000}}
        response = client.put("/organisations/p", json=big, headers=EDITOR)
        assert response.status_code == 413 and "1000 bytes" in response.json()["detail"]


def test_cors_is_off_by_default_and_configurable(store: GraphStore, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        response = client.get("/health", headers={"Origin": "https://example.org"})
        assert "access-control-allow-origin" not in response.headers
    settings = make_settings(tmp_path, GRAPH_SERVICE_CORS_ORIGINS="https://example.org")
    with TestClient(create_app(settings, store=store)) as client:
        response = client.get("/health", headers={"Origin": "https://example.org"})
        assert response.headers["access-control-allow-origin"] == "https://example.org"


def test_admin_loads_a_gias_file_through_the_api(client: TestClient) -> None:
    csv_text = (
        "URN,EstablishmentName,TypeOfEstablishment (name),EstablishmentStatus (name),LA (code),LA (name)\n"
        "700001,Upload Primary,Community school,Open,330,Birmingham\n"
        "bad,Broken,Community school,Open,330,Birmingham\n"
    )
    assert client.post("/loads/gias", content=csv_text, headers=EDITOR).status_code == 403
    response = client.post("/loads/gias", content=csv_text, headers=ADMIN, params={"filename": "edubase.csv"})
    assert response.status_code == 200
    body = response.json()
    assert body["rows_rejected"] == 1 and "malformed URN 'bad'" in body["issues"][0]
    assert client.get("/organisations/700001").json()["name"] == "Upload Primary"
    (entry,) = [e for e in client.get("/audit", headers=ADMIN).json()["items"] if e["action"] == "load_gias"]
    assert entry["target"] == "edubase.csv" and "rows read: 2, rejected: 1" in entry["after"]
    dry = client.post("/loads/gias", content=csv_text, headers=ADMIN, params={"dry_run": True})
    assert dry.status_code == 200  # a dry run writes nothing, not even an audit entry
    assert [e["action"] for e in client.get("/audit", headers=ADMIN).json()["items"]].count("load_gias") == 1
    empty = client.post("/loads/gias", content=b"", headers=ADMIN)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"][0]["msg"]
    unknown = client.post("/loads/nothing", content=csv_text, headers=ADMIN)
    assert unknown.status_code == 422 and "gias" in unknown.text


@pytest.mark.neo4j
def test_a_write_neo4j_keeps_failing_for_a_deadlock_is_503_not_a_conflict(tmp_path: Path) -> None:
    store = make_neo4j_store()
    assert isinstance(store, Neo4jStore)
    store.clear()
    store.apply(small_network())
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    lock_school = f"MATCH (n:{NodeKind.SCHOOL.label} {{id: '1'}}) SET n.locked_by_test = true"
    answer: list[httpx.Response] = []
    driver = GraphDatabase.driver(store.uri, auth=(store.user, os.environ.get("NEO4J_PASSWORD", "")))
    try:
        with (
            TestClient(create_app(make_settings(tmp_path), store=store)) as client,
            driver.session(database=database) as session,
        ):
            writer = threading.Thread(
                target=lambda: answer.append(
                    client.put("/organisations/1", json={"kind": "school", "name": "Renamed"}, headers=ADMIN)
                )
            )
            blocker = session.begin_transaction()
            blocker.run(lock_school).consume()
            writer.start()
            # Each round: the write takes the graph version, then waits for school 1, which the older
            # blocker holds; the blocker asks for the version, and Neo4j breaks the deadlock by failing
            # the younger transaction, the write. The driver retries it (max_transaction_retry_time)
            # against a fresh blocker each time, then gives up with the TransientError.
            while writer.is_alive():
                waited = 0
                while writer.is_alive() and not blocked(driver, database) and waited < 600:
                    time.sleep(0.05)
                    waited += 1
                if not writer.is_alive():
                    break
                blocker.run(cypher.BUMP_VERSION, id=cypher.GRAPH_VERSION_ID).consume()
                blocker.rollback()
                blocker = session.begin_transaction()
                blocker.run(lock_school).consume()
            blocker.rollback()
            writer.join()
            assert client.get("/organisations/1").json()["name"] != "Renamed"
    finally:
        driver.close()
        store.close()
    assert answer[0].status_code == 503, answer[0].text
    assert "busy" in answer[0].json()["detail"] and answer[0].headers["Retry-After"] == "5"


def blocked(driver: Driver, database: str) -> bool:
    """Whether a transaction waits for a lock."""
    query = "SHOW TRANSACTIONS YIELD status WHERE status STARTS WITH 'Blocked' RETURN count(*) AS n"
    records, _, _ = driver.execute_query(query, database_=database)
    return bool(records[0]["n"])
