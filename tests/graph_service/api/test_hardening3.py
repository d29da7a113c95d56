"""Issue 23's probes of the API's writes, each a regression test, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.store import GraphStore
from loaders.ties import load_ties
from tests.factories import small_network
from tests.graph_service.api.test_writes import ADMIN, EDITOR, make_settings

PARTNER = {"kind": "community_partner", "name": "Aston Villa Foundation", "subtype": "sports_club"}


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    store.apply(small_network())
    with TestClient(create_app(make_settings(tmp_path), store=store)) as test_client:
        yield test_client


@pytest.mark.parametrize("org_id", ["100002", "la-201", "group-2044", "sponsor-ark", "tsh-nw1", "la-201-b"])
def test_editors_cannot_create_ids_of_the_official_shapes(client: TestClient, store: GraphStore, org_id: str) -> None:
    # Item 7: an editor's "100002" or "la-201" became the official school or LA at the next load, with its ties.
    before = store.counts()
    answer = client.put(f"/organisations/{org_id}", json=PARTNER, headers=EDITOR)
    assert answer.status_code == 403, answer.text
    assert "official id" in answer.json()["detail"]
    assert store.counts() == before and store.get_organisation(org_id) is None


@pytest.mark.parametrize(
    ("org_id", "official"),
    [("LA-330", "la-330"), ("GROUP-2044", "group-2044"), ("0103120", "103120"), ("Tsh-NW1", "tsh-nw1")],
)
@pytest.mark.parametrize("key", [ADMIN, EDITOR], ids=["admin", "editor"])
def test_look_alikes_of_official_ids_are_refused_even_to_admins(
    client: TestClient, store: GraphStore, org_id: str, official: str, key: dict[str, str]
) -> None:
    answer = client.put(f"/organisations/{org_id}", json=PARTNER, headers=key)
    assert answer.status_code == 422, answer.text
    assert f"looks like the official id '{official}'" in answer.text
    assert store.get_organisation(org_id) is None


def test_admins_may_still_write_official_ids_and_editors_their_own(client: TestClient) -> None:
    assert client.put("/organisations/la-201", json=PARTNER | {"kind": "local_authority", "name": "X"}, headers=ADMIN)
    assert client.put("/organisations/avf", json=PARTNER, headers=EDITOR).status_code == 201
    assert client.put("/organisations/villa-100002", json=PARTNER, headers=EDITOR).status_code == 201


def test_editors_cannot_change_or_end_what_a_ties_load_wrote(
    client: TestClient, store: GraphStore, tmp_path: Path
) -> None:
    # Item 12: only gias:, dfe: and ofsted: sources were protected; the README says anything a load wrote.
    ties = tmp_path / "ties.csv"
    ties.write_text(
        "source_id,target_id,kind,focus,source_kind,source_name,partner_type\n"
        "kh-club,1,collaborates_on,sport,community_partner,Kings Heath Club,sports_club\n"
    )
    load_ties(store, ties)
    tie = next(t for t in store.ties_of("kh-club"))
    assert tie.source == "ties:ties.csv"
    renamed = client.put("/organisations/kh-club", json=PARTNER | {"name": "Renamed"}, headers=EDITOR)
    assert renamed.status_code == 403 and "ties:ties.csv" in renamed.json()["detail"]
    ended = client.post(f"/ties/{tie.id}/end", json={"until": "2025-01-01"}, headers=EDITOR)
    assert ended.status_code == 403 and "ties:ties.csv" in ended.json()["detail"]
    claimed = client.post(
        "/ties", json={"source_id": "3", "target_id": "2", "kind": "supports", "source": "ties:x.csv"}, headers=EDITOR
    )
    assert claimed.status_code == 403
    partner = store.get_organisation("kh-club")
    assert partner is not None and partner.name == "Kings Heath Club"
    assert store.get_tie(tie.id) == tie
    assert client.post(f"/ties/{tie.id}/end", json={"until": "2025-01-01"}, headers=ADMIN).status_code == 200


async def _send_and_stall(app: object, chunks: list[bytes], path: str = "/organisations/p1") -> list[dict[str, object]]:
    """Send a JSON body in ``chunks`` without a Content-Length, then nothing more: what does the app answer?"""
    import asyncio

    pending = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]

    async def receive() -> dict[str, object]:
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # a client that stalls
        raise AssertionError("unreachable")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"x-api-key", EDITOR["X-API-Key"].encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await asyncio.wait_for(app(scope, receive, send), 10)  # type: ignore[operator]
    return sent


def _status(sent: list[dict[str, object]]) -> int:
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    return int(starts[0]["status"])  # type: ignore[call-overload]


def test_a_stalled_json_body_is_a_408_and_an_oversized_chunked_one_a_413(store: GraphStore, tmp_path: Path) -> None:
    # Item 10: a stalled request body answered 400 (FastAPI's "error parsing the body"); the README says 408.
    import asyncio

    store.apply(small_network())
    settings = make_settings(tmp_path, GRAPH_SERVICE_BODY_TIMEOUT=0.3, GRAPH_SERVICE_MAX_BODY_BYTES=1000)
    app = create_app(settings, store=store)
    stalled = asyncio.run(_send_and_stall(app, [b'{"kind": "partnership",']))
    assert _status(stalled) == 408
    assert b"stalled" in b"".join(m.get("body", b"") for m in stalled)  # type: ignore[misc]
    oversized = asyncio.run(_send_and_stall(app, [b'{"name": "' + b"x" * 600, b"y" * 600]))
    assert _status(oversized) == 413
    assert store.get_organisation("p1") is None


def test_a_load_never_turns_an_api_record_into_an_official_one(
    client: TestClient, store: GraphStore, tmp_path: Path
) -> None:
    # Item 7: an id of an official shape made through the API (by an editor before ids were reserved,
    # or by an admin) became the official school at the next load, keeping its ties; now the load is
    # refused, naming it, and changes nothing.
    import csv

    from loaders.common import LoadError
    from loaders.gias import load_gias

    sample = Path(__file__).resolve().parents[3] / "graph_service" / "sample_data"
    july = sample / "edubasealldata20250718_birmingham.csv"
    urn = next(csv.DictReader(july.open(encoding="utf-8-sig")))["URN"]
    assert client.put(f"/organisations/{urn}", json=PARTNER, headers=ADMIN).status_code == 201
    assert client.post("/ties", json={"source_id": urn, "target_id": "1", "kind": "supports"}, headers=EDITOR)
    before = store.counts()
    with pytest.raises(LoadError, match=rf"{urn} \(community_partner, source none\)"):
        load_gias(store, [july])
    assert store.counts() == before
    partner = store.get_organisation(urn)
    assert partner is not None and partner.name == PARTNER["name"]
