"""The collector is kept off long-lived graphs and paused while answers are built, without leaks."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service import memory, questions
from graph_service.models import EdgeKind
from graph_service.store import EmbeddedStore, WriteBatch
from tests.factories import school, tie


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    backend = EmbeddedStore(tmp_path / "graph.sqlite3")
    backend.open()
    backend.apply(WriteBatch(organisations=[school(1, "A"), school(2, "B")]))
    yield backend
    backend.close()
    memory.release()


def test_a_store_graph_is_kept_and_the_replaced_one_is_freed(store: EmbeddedStore) -> None:
    memory.release()
    first = store.graph()
    assert memory.kept() > 0  # frozen after the build
    questions.isolated_schools(store)  # prepares a collaboration graph on it as well
    old = weakref.ref(first)
    del first
    store.apply(WriteBatch(ties=[tie("1", "2", EdgeKind.FEDERATED_WITH, level="soft")]))
    second = store.graph()  # released the old graph before building this one
    gc.collect()
    assert old() is None, "the replaced graph must not stay frozen"
    assert second.number_of_edges() == 1 and memory.kept() > 0


def test_pauses_nest_and_overlap_across_threads() -> None:
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def answer() -> None:
        with memory.collector_paused():
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=answer)
    with memory.collector_paused():
        worker.start()
        assert inside.wait(10)
        with memory.collector_paused():
            assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's answer is still being built
    leave.set()
    worker.join(10)
    assert gc.isenabled()


def test_a_pause_never_turns_on_a_collector_that_was_off() -> None:
    gc.disable()
    try:
        with memory.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_questions_run_with_the_collector_paused(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = questions.isolated

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(questions, "isolated", spy)
    answer = questions.isolated_schools(store)
    assert seen == [False] and answer.total == 2 and gc.isenabled()
