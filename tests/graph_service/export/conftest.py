"""Fixtures of the export tests."""

from __future__ import annotations

import pytest

from graph_service.store import EmbeddedStore
from tests.graph_service.export.awkward import awkward_network


@pytest.fixture
def awkward(embedded: EmbeddedStore) -> EmbeddedStore:
    """The awkward network in an embedded store."""
    embedded.apply(awkward_network())
    return embedded
