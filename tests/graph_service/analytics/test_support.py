"""Support candidates on the hand-built town: who is a candidate, every part of the score."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from graph_service.analytics.geo import haversine_km
from graph_service.analytics.support import PARTS, SupportWeights, phase_compatibility, stage_fit, support_candidates
from tests.graph_service.analytics.town import SUPPORT_DAY, town_graph

ONLY = dict.fromkeys(PARTS, 0.0)


def only(**weights: float) -> SupportWeights:
    return SupportWeights(**{**ONLY, **weights})


def by_id(answer: dict) -> dict[str, dict]:
    return {row["id"]: row for row in answer["candidates"]}


def parts(row: dict) -> dict[str, float]:
    return {part["name"]: part["value"] for part in row["parts"]}


def test_candidates_are_good_open_schools_of_a_fitting_phase_their_hubs_and_trusts() -> None:
    answer = support_candidates(town_graph(), "104", SUPPORT_DAY)
    assert answer["in_difficulty"] is True and answer["notes"] == []
    # Secondary Elm is the wrong phase; Gorse has no location; Hazel is closed; the rest are in difficulty.
    assert sorted(by_id(answer)) == ["101", "102", "109", "112", "group-1", "tsh-x"]
    assert answer["considered"] == 4 and answer["total"] == 6
    assert [row["rank"] for row in answer["candidates"]] == [1, 2, 3, 4, 5, 6]
    scores = [row["score"] for row in answer["candidates"]]
    assert scores == sorted(scores, reverse=True)
    for row in answer["candidates"]:
        assert row["ofsted_rating"] in ("good", "outstanding")
        assert row["score"] == pytest.approx(sum(part["points"] for part in row["parts"]), abs=0.05)
        assert [part["name"] for part in row["parts"]] == list(PARTS)
        assert row["reasons"]


def test_every_part_of_a_school_candidate() -> None:
    birch = by_id(support_candidates(town_graph(), "104", SUPPORT_DAY))["102"]
    km = haversine_km(52.5, -1.89, 52.489, -1.89)
    years = (SUPPORT_DAY - date(2024, 1, 10)).days / 365.25
    assert birch["distance_km"] == round(km, 3)
    assert parts(birch) == {
        "phase": 1.0,
        "distance": round(1 - km / 15, 4),
        "ties": 0.0,
        "context": round((200 / 400 + (1 - 25 / 30) + 1.0) / 3, 4),
        "capacity": 0.5,  # it already supports Kestrel
        "designation": 0.0,
        "rating": 1.0,
        "recency": round(1 - years / 6, 4),
    }
    reasons = {part["name"]: part["reason"] for part in birch["parts"]}
    assert reasons["capacity"] == "already supports 1 school(s)"
    assert reasons["context"] == "similar context: 400 pupils (vs 200), FSM 20% (vs 45%), both urban"
    assert reasons["ties"] == "no path within 4 steps"


def test_hub_lead_hub_and_trust_candidates() -> None:
    rows = by_id(support_candidates(town_graph(), "104", SUPPORT_DAY))
    assert parts(rows["109"])["designation"] == 1.0
    assert "lead school of Ivy Teaching School Hub" in rows["109"]["reasons"]
    hub = rows["tsh-x"]
    assert (hub["kind"], hub["via_id"], hub["ofsted_rating"]) == ("teaching_school_hub", "109", "outstanding")
    assert parts(hub)["phase"] == 1.0 and parts(hub)["context"] == 0.5 and parts(hub)["designation"] == 1.0
    trust = rows["group-1"]
    assert (trust["kind"], trust["via_id"], trust["via_name"]) == ("trust", "102", "Birch Primary")
    assert trust["distance_km"] == rows["102"]["distance_km"]
    assert "2 good or outstanding member school(s) near by: Birch Primary, Ash Primary" in trust["reasons"]


def test_existing_ties_score_by_path_length() -> None:
    answer = support_candidates(town_graph(), "111", SUPPORT_DAY, weights=only(ties=1))
    scores = {row["id"]: row["score"] for row in answer["candidates"]}
    # Birch supports Kestrel; Trust One is two steps away through Birch; Ash three.
    assert scores == {"102": 100.0, "group-1": 75.0, "101": 50.0, "109": 0.0, "112": 0.0, "tsh-x": 0.0}
    reasons = {row["id"]: row["parts"][2]["reason"] for row in answer["candidates"]}
    assert reasons["102"] == "already tied: supports"
    assert reasons["group-1"] == "linked through Birch Primary"
    assert reasons["101"] == "3 steps apart through the network (from Ash Primary)"


def test_same_trust_counts_as_a_direct_tie_and_a_good_school_gets_a_note() -> None:
    answer = support_candidates(town_graph(), "101", SUPPORT_DAY, weights=only(ties=1))
    assert answer["in_difficulty"] is False
    assert answer["notes"] == ["Ash Primary is rated good, not in difficulty; candidates are listed all the same"]
    birch = by_id(answer)["102"]
    assert birch["score"] == 100.0 and birch["reasons"] == ["same trust: Trust One"]


def test_weights_decide_the_order() -> None:
    answer = support_candidates(town_graph(), "104", SUPPORT_DAY, weights=only(designation=1))
    assert [(row["id"], row["score"]) for row in answer["candidates"][:2]] == [("109", 100.0), ("tsh-x", 100.0)]
    assert {row["score"] for row in answer["candidates"][2:]} == {0.0}
    nearest = support_candidates(town_graph(), "104", SUPPORT_DAY, weights=only(distance=1), limit=1)
    assert [row["id"] for row in nearest["candidates"]] == ["109"]  # 1.1 km, nearer than Birch's 1.2 km
    with pytest.raises(ValidationError, match="at least one support weight"):
        only()


def test_phase_can_be_relaxed_but_difficulty_never() -> None:
    answer = support_candidates(town_graph(), "104", SUPPORT_DAY, require_phase=False)
    rows = by_id(answer)
    assert "105" in rows and parts(rows["105"])["phase"] == 0.0
    assert not {"103", "106", "110", "111"} & rows.keys()


def test_as_at_changes_who_is_open() -> None:
    rows = by_id(support_candidates(town_graph(), "104", date(2020, 1, 1)))
    assert "108" in rows and "112" not in rows


def test_a_school_without_location_draws_on_its_local_authority() -> None:
    answer = support_candidates(town_graph(), "107", SUPPORT_DAY)
    assert answer["notes"][1] == (
        "its location is unknown: candidates come from its local authority and distance scores nothing"
    )
    rows = by_id(answer)
    assert sorted(rows) == ["101", "102", "109", "112", "group-1", "tsh-x"]
    assert all(row["distance_km"] is None and parts(row)["distance"] == 0.0 for row in rows.values())
    assert parts(rows["101"])["phase"] == 0.5  # nursery and primary are compatible


def test_unknown_and_non_school_targets() -> None:
    with pytest.raises(KeyError):
        support_candidates(town_graph(), "999", SUPPORT_DAY)
    with pytest.raises(ValueError, match="group-1 is a trust, not a school"):
        support_candidates(town_graph(), "group-1", SUPPORT_DAY)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("primary", "primary", 1.0),
        ("nursery", "primary", 0.5),
        ("secondary", "all_through", 0.5),
        ("secondary", "16_plus", 0.5),
        ("not_applicable", "not_applicable", 1.0),
        ("not_applicable", "primary", 0.0),
        ("nursery", "secondary", 0.0),
        (None, "primary", 0.0),
    ],
)
def test_phase_compatibility(a: str | None, b: str | None, expected: float) -> None:
    assert phase_compatibility(a, b) == expected
    assert phase_compatibility(b, a) == expected


@pytest.mark.parametrize(
    ("target", "other", "expected"),
    [
        # Phases decide when both have one.
        ({"phase": "primary", "age_low": 4, "age_high": 11}, {"phase": "secondary", "age_low": 11, "age_high": 16}, 0),
        # Without a phase, ages: shared half of the narrower range, some overlap, none, unknown.
        (
            {"phase": "not_applicable", "age_low": 2, "age_high": 11},
            {"phase": "primary", "age_low": 3, "age_high": 11},
            1,
        ),
        (
            {"phase": "not_applicable", "age_low": 3, "age_high": 19},
            {"phase": "primary", "age_low": 4, "age_high": 11},
            1,
        ),
        (
            {"phase": "not_applicable", "age_low": 2, "age_high": 11},
            {"phase": "secondary", "age_low": 9, "age_high": 16},
            0.5,
        ),
        (
            {"phase": "not_applicable", "age_low": 2, "age_high": 11},
            {"phase": "16_plus", "age_low": 16, "age_high": 19},
            0,
        ),
        (
            {"phase": "not_applicable", "age_low": 2, "age_high": 11},
            {"phase": "not_applicable", "age_low": 19, "age_high": 25},
            0,
        ),
        (
            {"phase": "primary", "age_low": 4, "age_high": 11},
            {"phase": "not_applicable", "age_low": 5, "age_high": 11},
            1,
        ),
        ({"phase": "not_applicable"}, {"phase": "not_applicable", "age_low": 5, "age_high": 11}, 0),
    ],
)
def test_stage_fit_uses_ages_when_a_school_has_no_phase(target: dict, other: dict, expected: float) -> None:
    assert stage_fit(target, other)[0] == expected


def test_a_hub_is_a_candidate_whatever_its_lead_schools_phase() -> None:
    rows = by_id(support_candidates(town_graph(), "106", SUPPORT_DAY))
    # Fir (secondary) is 13 km from Ivy (primary, hub lead): Ivy is the wrong phase, its hub is not.
    assert sorted(rows) == ["105", "tsh-x"]
    assert rows["tsh-x"]["via_id"] == "109" and parts(rows["tsh-x"])["phase"] == 1.0
