"""Graphs read straight from stored JSON equal those built from validated models."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path

import networkx as nx
import pytest

from graph_service.cli import load_sample
from graph_service.graphview import (
    ORGANISATION_DATES,
    SLA_DATES,
    TIE_DATES,
    build_graph,
    build_graph_from_stored,
    org_attrs,
    stored_org_attrs,
    stored_tie_attrs,
    tie_attrs,
)
from graph_service.models import EdgeKind, NodeKind, Organisation, ServiceLevelAgreement, Tie, make_tie
from graph_service.store import EmbeddedStore
from tests.factories import org, school


def mentions_date(annotation: object) -> bool:
    return annotation is date or any(mentions_date(arg) for arg in typing.get_args(annotation))


def date_fields(model: type) -> set[str]:
    fields = model.model_fields  # type: ignore[attr-defined]
    return {name for name, info in fields.items() if mentions_date(info.annotation)}


def test_the_date_fields_named_are_the_models_date_fields() -> None:
    # A new date field must be named there, or graphs read from JSON would hold it as text.
    assert set(ORGANISATION_DATES) == date_fields(Organisation) and ORGANISATION_DATES
    assert set(TIE_DATES) == date_fields(Tie) and TIE_DATES
    assert set(SLA_DATES) == date_fields(ServiceLevelAgreement)


def test_every_field_kind_reads_back_as_the_model_gives_it() -> None:
    full = school(
        7,
        "Seven & <Co>",
        ofsted_rating="good",
        ofsted_date=date(2023, 5, 4),
        opened=date(2001, 9, 1),
        latitude=52.5,
        longitude=-1.9,
        pupils=300,
        fsm_pct=12.0,
        properties={"gender": "mixed", "name": "not the name", "religious": True, "empty": None, "beds": 3},
    )
    bare = org("group-1", NodeKind.TRUST, "T", group_uid=1)
    for organisation in (full, bare):
        assert stored_org_attrs(organisation.model_dump_json()) == (organisation.id, org_attrs(organisation))
        assert list(stored_org_attrs(organisation.model_dump_json())[1]) == list(org_attrs(organisation))
    tie = make_tie(
        source_id="7",
        target_id="group-1",
        kind=EdgeKind.SUPPORTS,
        focus="maths",
        since=date(2024, 9, 1),
        until=date(2025, 7, 31),
        sla=ServiceLevelAgreement(who_pays="the LA", lead_partner="7"),
        properties={"hours": 12, "none": None},
    )
    assert stored_tie_attrs(tie.model_dump_json()) == (tie.source_id, tie.target_id, tie.id, tie_attrs(tie))
    assert list(stored_tie_attrs(tie.model_dump_json())[3]) == list(tie_attrs(tie))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    store = EmbeddedStore(Path(tmp_path_factory.mktemp("graphview")) / "graph.sqlite3")
    store.open()
    load_sample(store)
    return store


def test_the_birmingham_sample_reads_back_exactly(sample: EmbeddedStore) -> None:
    graph = sample.graph()
    orgs = sample.get_organisations(sorted(graph))
    ties = [tie for node in sorted(graph) for tie in sample.ties_of(node) if tie.source_id == node]
    from_models = build_graph(orgs, ties)
    from_json = build_graph_from_stored([o.model_dump_json() for o in orgs], [t.model_dump_json() for t in ties])
    assert from_models.number_of_nodes() > 1000 and from_models.number_of_edges() > 1000
    assert dict(from_json.nodes(data=True)) == dict(from_models.nodes(data=True))
    assert sorted(from_json.edges(keys=True, data=True)) == sorted(from_models.edges(keys=True, data=True))
    assert nx.utils.graphs_equal(from_json, from_models)
