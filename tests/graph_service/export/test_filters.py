"""Whole graph, area, kinds of tie and as-at dates select exactly the expected subsets, on both backends."""

from __future__ import annotations

from datetime import date

import pytest

from graph_service.export import ExportError, ExportSpec, build_spec
from graph_service.export.source import select
from graph_service.models import EdgeKind
from graph_service.store import GraphStore, OrganisationFilter
from graph_service.store.base import WriteBatch
from tests.factories import school, small_network, tie

MEMBER_1 = "member_of:1:group-10:2019-09-01"
MEMBER_2 = "member_of:2:group-10:2019-09-01"
FEDERATED = "federated_with:1:3"
MAINTAINED = "maintained_by:4:la-330"
ALL_IDS = ["1", "2", "3", "4", "group-10", "la-330"]


def chosen(store: GraphStore, spec: ExportSpec) -> tuple[list[str], list[str]]:
    selection = select(store, spec)
    return [org.id for org in selection.organisations()], [t.id for t in selection.ties]


@pytest.fixture
def small(store: GraphStore) -> GraphStore:
    store.apply(small_network())
    return store


def test_whole_graph(small: GraphStore) -> None:
    assert chosen(small, ExportSpec()) == (ALL_IDS, [FEDERATED, MAINTAINED, MEMBER_1, MEMBER_2])


def test_as_at_keeps_the_ties_holding_on_the_day(small: GraphStore) -> None:
    assert chosen(small, ExportSpec(as_at=date(2022, 8, 31))) == (ALL_IDS, [FEDERATED, MAINTAINED, MEMBER_1, MEMBER_2])
    assert chosen(small, ExportSpec(as_at=date(2022, 9, 1))) == (ALL_IDS, [FEDERATED, MAINTAINED, MEMBER_1])
    # Before the trust existed only the undated ties hold.
    assert chosen(small, ExportSpec(as_at=date(2019, 8, 31)))[1] == [FEDERATED, MAINTAINED]


def test_kind_of_tie_keeps_every_organisation(small: GraphStore) -> None:
    spec = build_spec(tie_kinds=[EdgeKind.MEMBER_OF])
    assert chosen(small, spec) == (ALL_IDS, [MEMBER_1, MEMBER_2])
    both = build_spec(tie_kinds=[EdgeKind.MEMBER_OF, EdgeKind.MAINTAINED_BY, EdgeKind.MEMBER_OF])
    assert chosen(small, both)[1] == [MAINTAINED, MEMBER_1, MEMBER_2]


def test_area_with_and_without_its_neighbours(small: GraphStore) -> None:
    # la_code 330: the four schools and the LA itself; the trust has no la_code.
    assert chosen(small, build_spec(la_code=330, hops=0)) == (["1", "2", "3", "4", "la-330"], [FEDERATED, MAINTAINED])
    assert chosen(small, build_spec(la_code=330)) == (ALL_IDS, [FEDERATED, MAINTAINED, MEMBER_1, MEMBER_2])
    # The LA's own node carries its code but not a local_authority name.
    assert chosen(small, build_spec(local_authority="BIRMINGHAM", hops=0))[0] == ["1", "2", "3", "4"]


def test_area_as_at_and_kind_together(small: GraphStore) -> None:
    spec = build_spec(la_code=330, as_at=date(2023, 1, 1), tie_kinds=[EdgeKind.MEMBER_OF])
    assert chosen(small, spec) == (ALL_IDS, [MEMBER_1])
    # Hops follow only the ties holding on the day: school 2 left the trust in 2022.
    around_2 = OrganisationFilter(ids=["2"])
    assert chosen(small, ExportSpec(area=around_2, hops=1)) == (["2", "group-10"], [MEMBER_2])
    assert chosen(small, ExportSpec(area=around_2, hops=1, as_at=date(2023, 1, 1))) == (["2"], [])


def test_as_at_keeps_organisations_open_on_the_day(small: GraphStore) -> None:
    small.apply(
        WriteBatch(
            organisations=[school(5, "Old School", status="closed", opened=date(1990, 9, 1), closed=date(2019, 8, 31))],
            ties=[tie("5", "1", EdgeKind.PREDECESSOR_OF, since=date(2019, 9, 1))],
        )
    )
    before = chosen(small, ExportSpec(as_at=date(2018, 1, 1)))
    assert "5" in before[0] and "predecessor_of:5:1" not in before[1]
    assert chosen(small, ExportSpec(as_at=date(2019, 8, 31)))[0] == ["1", "2", "3", "4", "5", "group-10", "la-330"]
    after = chosen(small, ExportSpec(as_at=date(2020, 1, 1)))
    # The predecessor link holds from 2019-09-01, but its old end had closed: no dangling edge.
    assert after == (ALL_IDS, [FEDERATED, MAINTAINED, MEMBER_1, MEMBER_2])
    assert chosen(small, ExportSpec(as_at=date(1985, 1, 1)))[0] == ALL_IDS


def test_bad_areas_say_why(small: GraphStore) -> None:
    with pytest.raises(ExportError, match="no organisation matches the area la_code=999"):
        select(small, build_spec(la_code=999))
    with pytest.raises(ExportError, match="hops needs an area"):
        build_spec(hops=2)
    with pytest.raises(ExportError, match="negative"):
        build_spec(district="Ladywood", hops=-1)


def test_describe_lists_only_the_filters_used() -> None:
    spec = build_spec(district="Ladywood", tie_kinds=[EdgeKind.SUPPORTS], as_at=date(2024, 9, 1))
    assert spec.describe() == {"district": "Ladywood", "hops": 1, "tie_kinds": ["supports"], "as_at": "2024-09-01"}
