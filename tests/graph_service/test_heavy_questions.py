"""Network health off the request path: computed in the background, capped per process, with a status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service import questions
from graph_service.analytics.health import health_task, measure
from graph_service.analytics.network import collaboration_graph
from graph_service.api.app import create_app
from graph_service.graphview import build_graph
from graph_service.settings import Settings, StoreKind
from graph_service.store import EmbeddedStore
from tests.graph_service.analytics.town import town, two_triangles

DAY = date(2025, 9, 1)


@pytest.fixture
def blocked() -> Iterator[threading.Event]:
    """The background worker held busy until the event is set, so that jobs stay queued."""
    release = threading.Event()
    questions._background.submit(release.wait)
    try:
        yield release
    finally:
        release.set()


@pytest.fixture
def triangles(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    store.open()
    store.apply(two_triangles())
    try:
        yield store
    finally:
        store.close()


def test_a_background_report_is_the_same_answer(triangles: EmbeddedStore) -> None:
    here = questions.health(triangles, as_at=DAY, seed=3)
    questions.forget_answers()
    background = questions.health(triangles, as_at=DAY, seed=4, wait=30)
    assert background.model_dump(exclude={"summary"}) == here.model_dump(exclude={"summary"})
    assert background.summary.seed == 4 and background.summary.communities == here.summary.communities == 2
    jobs = questions.health_status().jobs
    assert jobs[0].state == "ready" and "seed 4" in jobs[0].area and jobs[0].seconds is not None


def test_a_report_not_ready_is_pending_and_the_process_takes_two_at_most(
    triangles: EmbeddedStore, blocked: threading.Event
) -> None:
    with pytest.raises(questions.Pending, match="being computed in the background") as first:
        questions.health(triangles, as_at=DAY, seed=11, wait=0)
    assert first.value.retry_after > 0
    with pytest.raises(questions.Pending, match="being computed in the background"):
        questions.health(triangles, as_at=DAY, seed=12, wait=0)
    # Asking again for a report on its way queues nothing more.
    with pytest.raises(questions.Pending, match="being computed in the background"):
        questions.health(triangles, as_at=DAY, seed=11, wait=0)
    with pytest.raises(questions.Pending, match="2 network-health reports are being computed"):
        questions.health(triangles, as_at=DAY, seed=13, wait=0)
    states = [(job.area.split("seed ")[1], job.state) for job in questions.health_status().jobs[:2]]
    assert states == [("12)", "queued"), ("11)", "queued")]
    blocked.set()
    answer = questions.health(triangles, as_at=DAY, seed=11, wait=30)
    assert [c.members for c in answer.communities] == [["201", "202", "203"], ["204", "205", "206"]]
    assert questions.health(triangles, as_at=DAY, seed=13, wait=30).summary.seed == 13


def test_measured_in_a_child_process_as_here() -> None:
    graph = build_graph(town().organisations, town().ties)
    _area, task = health_task(collaboration_graph(graph, DAY), as_at=DAY)
    assert questions._measure_elsewhere(task) == measure(task)


def test_the_api_answers_503_while_computing_and_shows_the_status(
    triangles: EmbeddedStore, blocked: threading.Event, tmp_path: Path
) -> None:
    settings = Settings(db_path=tmp_path / "unused.sqlite3", store=StoreKind.EMBEDDED)
    with TestClient(create_app(settings, store=triangles)) as client:
        waiting = client.get("/questions/health", params={"as_at": DAY.isoformat(), "seed": 21})
        assert waiting.status_code == 503 and int(waiting.headers["Retry-After"]) > 0
        assert "being computed in the background" in waiting.json()["detail"]
        status = client.get("/questions/health/status").json()
        assert status["limit"] == questions.HEAVY_LIMIT and status["jobs"][0]["state"] == "queued"
        blocked.set()
        questions._background.submit(lambda: None).result(timeout=30)  # the queue has run
        ready = client.get("/questions/health", params={"as_at": DAY.isoformat(), "seed": 21})
        assert ready.status_code == 200 and ready.json()["summary"]["communities"] == 2
        assert client.get("/questions/health/status").json()["jobs"][0]["state"] == "ready"
