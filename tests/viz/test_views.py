"""The views read from a store (both backends): which organisations and ties each picture holds."""

from __future__ import annotations

from datetime import date

import pytest

from graph_service.models import EdgeKind, NodeKind
from graph_service.store import GraphStore, WriteBatch
from tests.factories import org, school, tie
from viz import views

DAY = date(2025, 7, 18)


def batch() -> WriteBatch:
    """Birmingham schools 1-4 (4 only maintained, 2 left the trust in 2022), a closed predecessor,
    and school 6 in Coventry in the same trust."""
    return WriteBatch(
        organisations=[
            school(1, "Alpha", ofsted_rating="good", latitude=52.48, longitude=-1.89, district="Edgbaston"),
            school(2, "Beta", ofsted_rating="special_measures", latitude=52.49, longitude=-1.88),
            school(3, "Gamma", phase="secondary", ofsted_rating="outstanding", latitude=52.50, longitude=-1.87),
            school(4, "Delta", phase="nursery", ofsted_rating="requires_improvement", latitude=52.47, longitude=-1.90),
            school(5, "Old Alpha", status="closed", latitude=52.48, longitude=-1.89),
            school(6, "Elsewhere", la_code=331, local_authority="Coventry", latitude=52.40, longitude=-1.50),
            org("group-10", NodeKind.TRUST, "Trust T", subtype="multi_academy", group_uid=10),
            org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330, local_authority="Birmingham"),
        ],
        ties=[
            tie("1", "group-10", EdgeKind.MEMBER_OF, role="member", since=date(2019, 9, 1)),
            tie("2", "group-10", EdgeKind.MEMBER_OF, role="member", since=date(2019, 9, 1), until=date(2022, 8, 31)),
            tie("6", "group-10", EdgeKind.MEMBER_OF, role="member"),
            tie("3", "1", EdgeKind.FEDERATED_WITH, level="soft"),
            tie("4", "la-330", EdgeKind.MAINTAINED_BY),
            tie("5", "1", EdgeKind.PREDECESSOR_OF),
        ],
        meta={"data_date": "2025-07-18"},
    )


@pytest.fixture
def seeded(store: GraphStore) -> GraphStore:
    store.apply(batch())
    return store


def nodes(view: views.View) -> set[str]:
    return set(view.graph.nodes)


def edges(view: views.View) -> set[tuple[str, str, str]]:
    return {(u, v, kind) for u, v, kind in view.graph.edges(data="kind")}


def test_neighbourhood_by_hops_and_date(seeded: GraphStore) -> None:
    one = views.neighbourhood(seeded, "1", hops=1, as_at=DAY)
    assert nodes(one) == {"1", "3", "group-10"} and one.highlight == {"1"}
    assert one.title == "Alpha and its network within 1 tie on 2025-07-18"
    with_closed = views.neighbourhood(seeded, "1", hops=1, as_at=DAY, include_closed=True)
    assert nodes(with_closed) == {"1", "3", "5", "group-10"}
    assert nodes(views.neighbourhood(seeded, "1", hops=2, as_at=DAY)) == {"1", "3", "6", "group-10"}
    # In 2020 Beta was still in the trust.
    assert nodes(views.neighbourhood(seeded, "1", hops=2, as_at=date(2020, 1, 1))) == {"1", "2", "3", "6", "group-10"}
    # A closed organisation can still be the centre of its own picture.
    assert nodes(views.neighbourhood(seeded, "5", as_at=DAY)) == {"5", "1"}
    with pytest.raises(views.NotFound, match="nope"):
        views.neighbourhood(seeded, "nope")
    with pytest.raises(views.InvalidView):
        views.neighbourhood(seeded, "1", hops=0)


def test_neighbourhood_leaves_administrative_ties_out_unless_asked(seeded: GraphStore) -> None:
    """A maintained school's local authority is no neighbour of a broker's interest; asked for, it is."""
    alone = views.neighbourhood(seeded, "4", hops=2, as_at=DAY)
    # Isolated, it is not left a single dot: no nursery school collaborates, so the nearest open schools
    # of any phase that do (Alpha, then Gamma), and Alpha's trust, joined by dotted lines.
    assert [(edge.source, edge.target) for edge in alone.extra_edges] == [("4", "1"), ("4", "3")]
    assert nodes(alone) == {"4", "1", "3", "group-10"} and "left out" in alone.note
    asked = views.neighbourhood(seeded, "4", hops=2, as_at=DAY, admin=True)
    assert nodes(asked) == {"4", "la-330", "1", "3", "group-10"}
    assert ("4", "la-330", "maintained_by") in edges(asked)
    assert asked.note.startswith("It has no collaboration tie")
    # The authority's own picture shows the schools it maintains.
    assert nodes(views.neighbourhood(seeded, "la-330", as_at=DAY)) == {"la-330", "4"}
    # Collaboration is walked as before: two rings from Alpha reach the trust's other member.
    assert edges(views.neighbourhood(seeded, "1", hops=2, as_at=DAY)) == {
        ("1", "group-10", "member_of"),
        ("6", "group-10", "member_of"),
        ("3", "1", "federated_with"),
    }


def test_area_holds_its_open_organisations_and_their_groups(seeded: GraphStore) -> None:
    view = views.area(seeded, views.Area(la_code=330), as_at=DAY)
    assert nodes(view) == {"1", "2", "3", "4", "la-330", "group-10"}
    assert edges(view) == {
        ("1", "group-10", "member_of"),
        ("3", "1", "federated_with"),
        ("4", "la-330", "maintained_by"),
    }
    assert view.title == "Birmingham (LA 330): organisations and their ties on 2025-07-18"
    district = views.area(seeded, views.Area(district="edgbaston"), as_at=DAY)
    assert nodes(district) == {"1", "3", "group-10"}
    with pytest.raises(views.NotFound, match="LA 999"):
        views.area(seeded, views.Area(la_code=999))
    with pytest.raises(views.InvalidView, match="give an area"):
        views.Area()


def test_group_holds_its_members(seeded: GraphStore) -> None:
    view = views.group(seeded, "group-10", as_at=DAY)
    assert nodes(view) == {"group-10", "1", "6"} and view.highlight == {"group-10"}
    assert view.title == "Trust T (trust) and its 2 members on 2025-07-18"
    with pytest.raises(views.InvalidView, match="local_authority"):
        views.group(seeded, "la-330")
    with pytest.raises(views.NotFound):
        views.group(seeded, "group-99")


def test_isolated_schools_against_their_nearest_partners(seeded: GraphStore) -> None:
    where = views.Area(la_code=330)
    seeded.apply(WriteBatch(organisations=[school(8, "Indie", subtype="independent", latitude=52.47, longitude=-1.89)]))
    view = views.isolated(seeded, where, partners=1, as_at=DAY)
    assert view.highlight == {"2", "4"}  # the independent school only when asked for
    assert views.isolated(seeded, where, partners=1, as_at=DAY, all_types=True).highlight == {"2", "4", "8"}
    # Beta's nearest collaborating primary is Alpha; no nursery collaborates, so Delta gets Alpha too.
    assert [(e.source, e.target) for e in view.extra_edges] == [("2", "1"), ("4", "1")]
    assert view.extra_edges[0].title.startswith("Beta \u2192 Alpha: 1.3 km")
    assert nodes(view) == {"1", "2", "4", "group-10"}  # with Alpha's trust
    with pytest.raises(views.NotFound):
        views.isolated(seeded, views.Area(la_code=999))


def test_the_isolated_picture_shows_the_list_the_question_gives_on_any_day(seeded: GraphStore) -> None:
    seeded.apply(
        WriteBatch(
            organisations=[
                school(9, "Closed Since", status="closed", opened=date(2010, 9, 1), closed=date(2024, 8, 31),
                       latitude=52.46, longitude=-1.88),
                school(10, "Opened Later", opened=date(2024, 9, 1), latitude=52.45, longitude=-1.88),
            ]
        )
    )  # fmt: skip
    where = views.Area(la_code=330)
    for day in (date(2023, 1, 1), DAY, None):
        listed = [item.id for item in views.isolated_answer(seeded, where, as_at=day).items]
        assert views.isolated(seeded, where, partners=1, as_at=day).highlight == set(listed)
        # Beta left its trust in 2022; 9 was open and alone until 2024, 10 opened after.
        assert ("9" in listed, "10" in listed, "2" in listed) == (
            day == date(2023, 1, 1),
            day != date(2023, 1, 1),
            True,
        )


def test_whole_graph_is_open_organisations_and_current_ties(seeded: GraphStore) -> None:
    view = views.whole(seeded, as_at=DAY)
    assert nodes(view) == {"1", "2", "3", "4", "6", "group-10", "la-330"}
    assert edges(view) == {
        ("1", "group-10", "member_of"),
        ("6", "group-10", "member_of"),
        ("3", "1", "federated_with"),
        ("4", "la-330", "maintained_by"),
    }
    assert len(views.whole(seeded, as_at=DAY, include_closed=True).graph) == 8


class NoTies:
    """A store that fails the test if its ties are read."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> object:
        if name == "all_ties":
            raise AssertionError("the ties were read for a picture that is refused")
        return getattr(self._store, name)


def test_a_limit_refuses_a_picture_too_large(seeded: GraphStore) -> None:
    # The whole graph is refused on the count of organisations, before anything else is read.
    with pytest.raises(views.TooLarge, match="would hold 7 organisations, more than the limit of 6") as refused:
        views.whole(NoTies(seeded), as_at=DAY, max_nodes=6)  # type: ignore[arg-type]
    assert (refused.value.count, refused.value.limit) == (7, 6)
    assert len(views.whole(seeded, as_at=DAY, max_nodes=7).graph) == 7
    area = views.area(seeded, views.Area(la_code=330), as_at=DAY)
    assert views.within(area, 6) is area and views.within(area, None) is area
    with pytest.raises(views.TooLarge, match="would hold 6 organisations, more than the limit of 5"):
        views.within(area, 5)


def test_picture_carries_the_data_date_and_choices(seeded: GraphStore) -> None:
    picture = views.picture(views.whole(seeded, as_at=DAY), seeded, colour="rating", layout="force")
    assert (picture.data_date, picture.colour, picture.layout) == ("2025-07-18", "rating", "force")


def test_an_isolated_schools_network_shows_its_nearest_possible_partners(store: GraphStore) -> None:
    from tests.graph_service.analytics.town import town

    store.apply(town())
    day = date(2025, 9, 1)
    view = views.neighbourhood(store, "103", hops=2, as_at=day)
    # Cedar has no collaboration tie: its three nearest open primaries that collaborate, and Trust One behind two.
    assert [(edge.source, edge.target) for edge in view.extra_edges] == [("103", "101"), ("103", "111"), ("103", "102")]
    assert set(view.graph) == {"103", "101", "111", "102", "group-1"}
    assert "no collaboration tie" in view.note
    assert views.neighbourhood(store, "101", as_at=day).extra_edges == ()  # a trust member is not isolated
