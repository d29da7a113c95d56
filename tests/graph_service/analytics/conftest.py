"""Real data the analytics tests share."""

from __future__ import annotations

import networkx as nx
import pytest

from graph_service.store import EmbeddedStore
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted
from tests.conftest import SAMPLE


@pytest.fixture(scope="session")
def birmingham_inspected(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    """The real Birmingham sample with its ties and every school's Ofsted inspections (August 2025)."""
    store = EmbeddedStore(tmp_path_factory.mktemp("isolation") / "graph.sqlite3")
    store.open()
    try:
        load_gias(store, [SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"])
        load_gias(
            store,
            [SAMPLE / "edubasealldata20250718_birmingham.csv"],
            links=SAMPLE / "links_edubasealldata20250718_birmingham.csv",
        )
        load_ofsted(store, SAMPLE / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025_birmingham.csv")
        return store.graph()
    finally:
        store.close()
