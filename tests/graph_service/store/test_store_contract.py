"""The GraphStore contract, run against every backend with the same expected answers."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from graph_service.models import EdgeKind, NodeKind, OfstedRating, Phase, Status
from graph_service.store import GraphStore, IntegrityError, OrganisationFilter, WriteBatch
from tests.factories import org, school, small_network, tie


def test_round_trip_keeps_every_field(store: GraphStore) -> None:
    alpha = school(
        1,
        'Alpha & Ômega "Primary" — École',  # names are one line: no control characters (issue 15)
        ofsted_rating="good",
        ofsted_date=date(2023, 11, 8),
        latitude=52.478,
        longitude=-1.8127,
        pupils=210,
        capacity=240,
        fsm_pct=45.3,
        postcode="B33 8QB",
        properties={"age_low": 4, "gender": "Mixed", "boarding": False},
    )
    store.apply(WriteBatch(organisations=[alpha]))
    assert store.get_organisation("1") == alpha
    assert store.get_organisation("missing") is None


def test_upsert_counts_created_updated_and_unchanged(store: GraphStore) -> None:
    batch = small_network()
    first = store.apply(batch)
    assert (first.organisations_created, first.ties_created) == (6, 4)
    again = store.apply(small_network())
    assert again.changed == 0
    renamed = school(1, "Alpha Primary (renamed)", ofsted_rating="good", latitude=52.48, longitude=-1.89)
    third = store.apply(WriteBatch(organisations=[renamed]))
    assert (third.organisations_created, third.organisations_updated) == (0, 1)
    assert store.get_organisation("1").name == "Alpha Primary (renamed)"  # type: ignore[union-attr]


def test_list_filters_and_paging(store: GraphStore) -> None:
    store.apply(small_network())
    page, total = store.list_organisations(OrganisationFilter(kinds=[NodeKind.SCHOOL]), offset=0, limit=2)
    assert total == 4
    assert [o.id for o in page] == ["1", "2"]
    page2, _ = store.list_organisations(OrganisationFilter(kinds=[NodeKind.SCHOOL]), offset=2, limit=2)
    assert [o.id for o in page2] == ["3", "4"]
    rated, total = store.list_organisations(
        OrganisationFilter(ratings=[OfstedRating.SPECIAL_MEASURES, OfstedRating.REQUIRES_IMPROVEMENT])
    )
    assert (total, sorted(o.id for o in rated)) == (2, ["2", "4"])
    phased, _ = store.list_organisations(OrganisationFilter(phases=[Phase.SECONDARY]))
    assert [o.id for o in phased] == ["3"]
    named, _ = store.list_organisations(OrganisationFilter(name_contains="PRIMARY"))
    assert [o.id for o in named] == ["1", "2"]
    local, total = store.list_organisations(OrganisationFilter(la_code=330, kinds=[NodeKind.SCHOOL]))
    assert total == 4
    by_ids, _ = store.list_organisations(OrganisationFilter(ids=["3", "la-330", "nope"]))
    assert [o.id for o in by_ids] == ["3", "la-330"]
    closed, total = store.list_organisations(OrganisationFilter(statuses=[Status.CLOSED]))
    assert (closed, total) == ([], 0)


def test_ties_of_and_as_at(store: GraphStore) -> None:
    store.apply(small_network())
    assert [t.id for t in store.ties_of("1")] == ["federated_with:1:3", "member_of:1:group-10:2019-09-01"]
    trust_now = store.ties_of("group-10", as_at=date(2024, 1, 1))
    assert [t.source_id for t in trust_now] == ["1"]
    trust_then = store.ties_of("group-10", as_at=date(2021, 1, 1))
    assert sorted(t.source_id for t in trust_then) == ["1", "2"]
    assert store.ties_of("group-10", as_at=date(2010, 1, 1)) == []
    only = store.ties_of("1", kinds=[EdgeKind.FEDERATED_WITH])
    assert [t.level.value for t in only if t.level] == ["soft"]


def test_neighbours_and_subgraph(store: GraphStore) -> None:
    store.apply(small_network())
    one_hop = store.neighbours("3", hops=1)
    assert sorted(o.id for o in one_hop.organisations) == ["1", "3"]
    two_hops = store.neighbours("3", hops=2)
    assert sorted(o.id for o in two_hops.organisations) == ["1", "3", "group-10"]
    assert sorted(t.id for t in two_hops.ties) == ["federated_with:1:3", "member_of:1:group-10:2019-09-01"]
    past = store.neighbours("3", hops=3, as_at=date(2021, 1, 1))
    assert sorted(o.id for o in past.organisations) == ["1", "2", "3", "group-10"]
    assert store.neighbours("missing").organisations == []
    area = store.subgraph(OrganisationFilter(kinds=[NodeKind.SCHOOL]))
    assert sorted(o.id for o in area.organisations) == ["1", "2", "3", "4"]
    assert [t.id for t in area.ties] == ["federated_with:1:3"]
    grown = store.subgraph(OrganisationFilter(ids=["4"]), hops=1)
    assert sorted(o.id for o in grown.organisations) == ["4", "la-330"]


def test_tie_to_unknown_or_wrong_kind_is_refused_and_nothing_written(store: GraphStore) -> None:
    store.apply(small_network())
    before = store.counts()
    bad = WriteBatch(
        organisations=[school(9, "New School")],
        ties=[tie("9", "group-10", EdgeKind.MEMBER_OF), tie("9", "999", EdgeKind.SUPPORTS)],
    )
    with pytest.raises(IntegrityError, match="unknown organisation '999'"):
        store.apply(bad)
    assert store.counts() == before
    assert store.get_organisation("9") is None
    wrong_kind = WriteBatch(ties=[tie("1", "2", EdgeKind.MAINTAINED_BY)])
    with pytest.raises(IntegrityError, match="cannot end at a school"):
        store.apply(wrong_kind)
    assert store.counts() == before


def test_end_and_delete(store: GraphStore) -> None:
    store.apply(small_network())
    result = store.apply(WriteBatch(end_ties=[("federated_with:1:3", date(2024, 7, 31))]))
    assert result.ties_ended == 1
    ended = store.get_tie("federated_with:1:3")
    assert ended is not None and ended.until == date(2024, 7, 31)
    with pytest.raises(IntegrityError):
        store.apply(WriteBatch(end_ties=[("no-such-tie", date(2024, 7, 31))]))
    store.apply(WriteBatch(delete_organisations=["1"]))
    assert store.get_organisation("1") is None
    assert store.get_tie("federated_with:1:3") is None
    assert store.ties_of("group-10") != [] and all(t.source_id != "1" for t in store.ties_of("group-10"))


def test_graph_view_is_cached_and_rebuilt_after_writes(store: GraphStore) -> None:
    store.apply(small_network())
    graph = store.graph()
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_nodes() == 6 and graph.number_of_edges() == 4
    assert graph.nodes["2"]["ofsted_rating"] == "special_measures"
    assert graph.edges["3", "1", "federated_with:1:3"]["level"] == "soft"
    assert store.graph() is graph
    store.apply(WriteBatch(organisations=[org("bep", NodeKind.PARTNERSHIP, "BEP")]))
    rebuilt = store.graph()
    assert rebuilt is not graph and "bep" in rebuilt


def test_counts_and_meta(store: GraphStore) -> None:
    store.apply(small_network())
    store.apply(WriteBatch(meta={"data_date": "2025-07-18"}))
    counts = store.counts()
    assert counts["school"] == 4 and counts["tie:member_of"] == 2 and counts["tie:maintained_by"] == 1
    assert store.get_meta()["data_date"] == "2025-07-18"
    store.clear()
    assert store.counts() == {}


def test_apply_reports_its_progress_up_to_the_whole_batch(store: GraphStore) -> None:
    # A load's progress bar follows this; it must end at "all written" and never go back.
    batch = small_network()
    seen: list[tuple[int, int]] = []
    store.apply(batch, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (len(batch), len(batch))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
