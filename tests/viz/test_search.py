"""Search by name, URN, LAESTAB, postcode or town, and schools near a postcode (both backends)."""

from __future__ import annotations

import pytest

from graph_service.models import NodeKind
from graph_service.store import GraphStore, WriteBatch
from tests.factories import org, school
from viz import search
from viz.isolation import distance_km


@pytest.fixture
def seeded(store: GraphStore) -> GraphStore:
    store.apply(
        WriteBatch(
            organisations=[
                school(
                    1,
                    "Alpha Primary",
                    postcode="B15 2TT",
                    latitude=52.450,
                    longitude=-1.930,
                    properties={"town": "Birmingham", "laestab": "3302000"},
                ),
                school(
                    2,
                    "Beta Academy",
                    postcode="B15 3AA",
                    latitude=52.460,
                    longitude=-1.930,
                    properties={"town": "Birmingham"},
                ),
                school(
                    3,
                    "Alphabet Nursery",
                    postcode="B99 1ZZ",
                    latitude=52.600,
                    longitude=-1.800,
                    properties={"town": "Sutton Coldfield"},
                ),
                school(4, "Old Alpha", status="closed", postcode="B15 2TT", latitude=52.450, longitude=-1.930),
                org("group-9", NodeKind.TRUST, "Alpha Learning Trust", group_uid=9),
            ]
        )  # fmt: skip
    )
    return store


def ids(hits: list[search.Hit]) -> list[str]:
    return [hit.id for hit in hits]


def test_by_name_open_schools_first_then_groups_then_closed(seeded: GraphStore) -> None:
    found = search.index(seeded).search("alpha")
    # Names starting with the words first; within those open before closed, schools before trusts.
    assert ids(found) == ["1", "3", "group-9", "4"]
    assert {hit.matched for hit in found} == {"name"}


def test_by_urn_laestab_postcode_and_town(seeded: GraphStore) -> None:
    index = search.index(seeded)
    assert [(hit.id, hit.matched) for hit in index.search("2")] == [("2", "id")]
    assert ids(index.search("3302000")) == ["1"]
    assert ids(index.search("b152tt")) == ["1", "4"]  # a postcode in any case and spacing
    assert ids(index.search("Sutton Coldfield")) == ["3"] and index.search("sutton coldfield")[0].matched == "town"
    assert index.search("nothing like it") == [] and index.search("  ") == []


def test_schools_near_a_full_postcode_and_a_district(seeded: GraphStore) -> None:
    index = search.index(seeded)
    place, near = index.near("b15 2tt", radius_km=5) or ("", [])
    assert place == "postcode B15 2TT"
    # Open schools only, nearest first; Beta is 1.1 km north.
    assert ids(near) == ["1", "2"]
    assert near[1].distance_km == round(distance_km((52.45, -1.93), (52.46, -1.93)), 2)
    # An unknown full postcode in a known district: the centre of the district's located organisations.
    place, near = index.near("B15 9XX", radius_km=5) or ("", [])
    assert place == "centre of the 3 located organisations in district B15"
    assert ids(near) == ["1", "2"]
    assert index.near("ZZ9 9ZZ") is None and index.near("Birmingham") is None


def test_the_index_follows_writes(seeded: GraphStore) -> None:
    assert search.index(seeded).search("Gamma") == []
    seeded.apply(WriteBatch(organisations=[school(5, "Gamma School")]))
    assert ids(search.index(seeded).search("Gamma")) == ["5"]


def test_a_misspelt_name_finds_the_names_like_it(seeded: GraphStore) -> None:
    index = search.index(seeded)
    # "Alpa" is no substring of any name: the names with a word like it ("Alpha", not "Alphabet"), the one
    # also holding "primary" first, then open before closed.
    found = index.search("alpa primary")
    assert ids(found) == ["1", "group-9", "4"] and {hit.matched for hit in found} == {"similar name"}
    assert ids(index.search("Betta Acadmy")) == ["2"]  # "Acadmy" is a common word: it only breaks ties
    assert index.search("Gamma") == []  # nothing like it


def test_a_postcode_sector_or_district_lists_its_organisations(seeded: GraphStore) -> None:
    index = search.index(seeded)
    assert [(hit.id, hit.matched) for hit in index.search("b15 2")] == [
        ("1", "postcode sector"),
        ("4", "postcode sector"),
    ]
    assert ids(index.search("B15")) == ["1", "2", "4"]
    place, near = index.near("B15 3", radius_km=5) or ("", [])
    assert place == "centre of the 1 located organisations in sector B15 3" and ids(near) == ["2", "1"]


def test_hits_carry_phase_rating_and_closed(seeded: GraphStore) -> None:
    alpha, *_rest, old = search.index(seeded).search("alpha")
    assert (alpha.phase, alpha.ofsted_rating, alpha.closed) == ("primary", None, False)
    assert old.id == "4" and old.closed is True
    assert old.as_json()["closed"] is True


def test_the_api_answers_the_same(seeded: GraphStore) -> None:
    from fastapi.testclient import TestClient

    from graph_service.api.app import create_app, get_store

    app = create_app()
    app.dependency_overrides[get_store] = lambda: seeded
    with TestClient(app) as client:
        body = client.get("/viz/search", params={"q": "alpa primary", "limit": 2}).json()
    assert [(hit["id"], hit["matched"], hit.get("phase"), hit["closed"]) for hit in body["hits"]] == [
        ("1", "similar name", "primary", False),
        ("group-9", "similar name", None, False),
    ]
