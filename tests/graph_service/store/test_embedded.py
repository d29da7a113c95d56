"""What only the embedded store promises: a file that survives restarts and failed writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_service.models import EdgeKind
from graph_service.store import EmbeddedStore, IntegrityError, WriteBatch
from tests.factories import school, small_network, tie


def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "graph.sqlite3"
    first = EmbeddedStore(path)
    assert not path.exists()  # the constructor does no I/O
    first.open()
    first.apply(small_network())
    first.close()
    second = EmbeddedStore(path)
    second.open()
    assert second.counts()["school"] == 4
    assert second.get_organisation("2").ofsted_rating.value == "special_measures"  # type: ignore[union-attr]
    second.close()


def test_a_failed_batch_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    store = EmbeddedStore(path)
    store.open()
    store.apply(small_network())
    big = [school(1000 + n) for n in range(2000)]
    with pytest.raises(IntegrityError):
        store.apply(WriteBatch(organisations=big, ties=[tie("1000", "nowhere", EdgeKind.SUPPORTS)]))
    store.close()
    reopened = EmbeddedStore(path)
    reopened.open()
    assert reopened.counts()["school"] == 4
    reopened.close()


def test_graph_cache_sees_writes_from_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    reader, writer = EmbeddedStore(path), EmbeddedStore(path)
    reader.open()
    writer.open()
    assert reader.graph().number_of_nodes() == 0
    writer.apply(small_network())
    assert reader.graph().number_of_nodes() == 6
    reader.close()
    writer.close()
