"""Support partners on tiny hand-built graphs: each rule and each part pinned with exact answers."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import networkx as nx
import pytest
from pydantic import ValidationError

from graph_service.analytics.standing import rating_on
from graph_service.analytics.support import (
    DISTANCE_SCALE_KM,
    HUBS_FROM,
    PARTS,
    SupportRules,
    SupportWeights,
    assume_good,
    faith,
    path_steps,
    phase_compatibility,
    provision,
    stage_fit,
    support_candidates,
    support_index,
)
from graph_service.graphview import build_graph
from graph_service.models import EdgeKind, NodeKind
from tests.factories import org, school, tie
from tests.graph_service.analytics.town import SUPPORT_DAY, town_graph

DAY = date(2024, 1, 15)
#: The school in difficulty sits here; 0.01 degree of latitude is 1.11 km.
LAT, LON = 52.5, -1.9


def weak(urn: int = 1, **fields: Any) -> Any:
    return school(urn, "Weak Primary", ofsted_rating="inadequate", latitude=LAT, longitude=LON, **fields)


def near(urn: int, north_km: float, **fields: Any) -> Any:
    fields.setdefault("ofsted_rating", "good")
    return school(urn, fields.pop("name", f"School {urn}"), latitude=LAT + north_km / 111.2, longitude=LON, **fields)


def member(urn: int, trust: str, **fields: Any) -> Any:
    return tie(str(urn), trust, EdgeKind.MEMBER_OF, role="member", **fields)


def graph(orgs: list[Any], ties: list[Any] = ()) -> nx.MultiDiGraph:  # type: ignore[assignment]
    return build_graph(orgs, list(ties))


def ask(g: nx.MultiDiGraph, target: str = "1", day: date = DAY, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("limit", None)
    return support_candidates(g, target, day, **kwargs)


def by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in answer["candidates"]}


def values(row: dict[str, Any]) -> dict[str, float]:
    return {part["name"]: part["value"] for part in row["parts"]}


def reasons(row: dict[str, Any]) -> dict[str, str]:
    return {part["name"]: part["reason"] for part in row["parts"]}


# -- trusts as the unit of support -----------------------------------------------------------------


def two_trusts() -> nx.MultiDiGraph:
    """Big Trust: three primaries 2, 3 and 5 km north; Small Trust: one primary 1 km north."""
    return graph(
        [
            weak(),
            near(2, 2.0),
            near(3, 3.0),
            near(4, 5.0),
            near(5, 1.0),
            org("group-big", NodeKind.TRUST, "Big Trust"),
            org("group-small", NodeKind.TRUST, "Small Trust"),
        ],
        [member(2, "group-big"), member(3, "group-big"), member(4, "group-big"), member(5, "group-small")],
    )


def test_a_trust_is_one_line_with_its_schools_near_by_listed_nearest_first() -> None:
    answer = ask(two_trusts())
    assert [(row["id"], row["kind"]) for row in answer["candidates"]] == [
        ("group-big", "trust"),
        ("group-small", "trust"),
    ]
    big = by_id(answer)["group-big"]
    assert [s["id"] for s in big["schools"]] == ["2", "3", "4"] and big["schools_near"] == 3
    assert [s["distance_km"] for s in big["schools"]] == pytest.approx([2.0, 3.0, 5.0], abs=0.01)
    assert big["distance_km"] == pytest.approx(2.0, abs=0.01)
    assert big["ofsted_rating"] is None and big["via_id"] is None
    for row in answer["candidates"]:
        assert [part["name"] for part in row["parts"]] == list(PARTS)
        assert row["score"] == pytest.approx(sum(part["points"] for part in row["parts"]), abs=0.05)


def test_footprint_counts_every_school_near_by_weighted_by_distance() -> None:
    rows = by_id(ask(two_trusts()))
    expected = sum(math.exp(-km / 10) for km in (2.0, 3.0, 5.0))
    assert values(rows["group-big"])["footprint"] == pytest.approx(expected / (expected + 3), abs=1e-3)
    one = math.exp(-1 / 10)
    assert values(rows["group-small"])["footprint"] == pytest.approx(one / (one + 3), abs=1e-3)
    assert reasons(rows["group-big"])["footprint"] == "3 open school(s) within 40 km, 3 of a fitting phase"
    # Distance alone would put the small trust first; its footprint alone, the big one.
    assert [row["id"] for row in ask(two_trusts(), weights=SupportWeights(**zeros(distance=1)))["candidates"]] == [
        "group-small",
        "group-big",
    ]
    footprint_first = ask(two_trusts(), weights=SupportWeights(**zeros(footprint=1)))
    assert [row["id"] for row in footprint_first["candidates"]] == ["group-big", "group-small"]


def zeros(**weights: float) -> dict[str, float]:
    return {**dict.fromkeys(PARTS, 0.0), **weights}


def test_distance_local_and_capacity_of_a_trust() -> None:
    g = graph(
        [
            weak(),
            near(2, 4.0, la_code=331, local_authority="Sandwell"),
            near(3, 6.0, ofsted_rating="special_measures"),
            org("group-t", NodeKind.TRUST, "T"),
        ],
        [member(2, "group-t"), member(3, "group-t")],
    )
    row = by_id(ask(g))["group-t"]
    assert values(row)["distance"] == pytest.approx(round(math.exp(-4.0 / DISTANCE_SCALE_KM), 4), abs=1e-3)
    assert values(row)["local"] == 0.5 and reasons(row)["local"] == "1 open school(s) in the school's local authority"
    assert values(row)["capacity"] == 0.5
    assert reasons(row)["capacity"] == "2 open school(s) in all, 1 of them in difficulty"
    assert values(row)["strength"] == pytest.approx(0.375)
    assert [s["in_local_authority"] for s in row["schools"]] == [False, True]


def test_a_trust_is_offered_through_a_school_of_any_phase() -> None:
    """A trust whose secondary is 1 km away and whose nearest primary is 13 km away, for a primary."""
    g = graph(
        [
            weak(),
            near(2, 1.0, phase="secondary", name="Near Secondary"),
            near(3, 13.0, name="Far Primary"),
            near(4, 3.0, name="Other Primary"),
            org("group-t", NodeKind.TRUST, "Mixed Trust"),
            org("group-p", NodeKind.TRUST, "Primary Trust"),
        ],
        [member(2, "group-t"), member(3, "group-t"), member(4, "group-p")],
    )
    rows = by_id(ask(g))
    mixed = rows["group-t"]
    assert values(mixed)["distance"] == pytest.approx(round(math.exp(-1.0 / DISTANCE_SCALE_KM), 4), abs=1e-3)
    assert values(mixed)["fit_distance"] == pytest.approx(round(math.exp(-13.0 / DISTANCE_SCALE_KM), 4), abs=1e-3)
    assert reasons(mixed)["fit_distance"] == "nearest of a fitting phase Far Primary 13.0 km away"
    assert [(s["id"], s["fit"]) for s in mixed["schools"]] == [("2", 0.0), ("3", 1.0)]
    assert mixed["rank"] == 1  # its nearest school, of any phase, counts most


def test_growth_and_track_record() -> None:
    g = graph(
        [
            weak(),
            near(2, 2.0, opened=date(2022, 9, 1), subtype="academy_sponsor_led"),
            near(3, 2.0, opened=date(2015, 9, 1), subtype="academy_sponsor_led"),
            near(4, 2.0, opened=date(2016, 9, 1), subtype="academy_converter"),
            org("group-t", NodeKind.TRUST, "T"),
        ],
        [member(2, "group-t"), member(3, "group-t"), member(4, "group-t")],
    )
    row = by_id(ask(g))["group-t"]
    recent = math.exp(-2 / 10)
    assert values(row)["growth"] == pytest.approx(round(recent / (recent + 1), 4), abs=1e-4)
    assert reasons(row)["growth"] == "1 school(s) near by opened or joined in the 3 years before"
    assert values(row)["track_record"] == 0.5  # two sponsor-led academies rated good: 2 / (2 + 2)
    # Three years earlier none had opened recently, and only one sponsor-led academy was open.
    earlier = by_id(ask(g, day=date(2016, 1, 1)))["group-t"]
    assert values(earlier)["growth"] == pytest.approx(round(recent / (recent + 1), 4), abs=1e-4)
    assert [s["id"] for s in earlier["schools"]] == ["3"]
    assert values(earlier)["track_record"] == pytest.approx(round(1 / 3, 4))


def test_memberships_and_schools_count_only_on_their_dates() -> None:
    """The town: Juniper left Trust One in 2022; Larch opened in 2023."""
    answer = support_candidates(town_graph(), "104", SUPPORT_DAY, limit=None)
    rows = by_id(answer)
    assert [s["id"] for s in rows["group-1"]["schools"]] == ["102", "101"]
    assert "110" not in rows and "112" in rows  # Juniper is in difficulty; Larch is a single school now
    before = by_id(support_candidates(town_graph(), "104", date(2020, 1, 1), limit=None))
    assert "112" not in before  # not open yet
    assert [s["id"] for s in before["group-1"]["schools"]] == ["102", "110", "101"]


def test_single_schools_outside_any_trust_are_lines_of_their_own() -> None:
    answer = support_candidates(town_graph(), "104", SUPPORT_DAY, limit=None)
    assert sorted(by_id(answer)) == ["109", "112", "group-1", "tsh-x"]
    # Ash and Birch are listed under Trust One, not twice; the hub through its lead school.
    hub = by_id(answer)["tsh-x"]
    assert hub["via_id"] == "109" and values(hub)["designation"] == 1.0 and values(hub)["phase"] == 1.0
    single = by_id(answer)["109"]
    assert values(single)["takes_in"] == 0.0 and values(single)["designation"] == 1.0
    assert values(by_id(answer)["group-1"])["takes_in"] == 1.0
    assert answer["considered"] == 5 and answer["total"] == 4


def test_existing_ties() -> None:
    """Kestrel is supported by Birch (in Trust One): Trust One is two steps away, through Birch."""
    rows = by_id(support_candidates(town_graph(), "111", SUPPORT_DAY, limit=None))
    assert values(rows["group-1"])["ties"] == 0.75
    assert reasons(rows["group-1"])["ties"] == "2 steps apart through the network"
    day = date(2025, 1, 1)
    assert path_steps(town_graph(), "111", day) == {"111": 0, "102": 1, "group-1": 2, "101": 3}
    assert path_steps(town_graph(), "111", date(2024, 8, 31)) == {"111": 0}  # before the support began


def test_a_school_not_yet_open_is_not_walked_through() -> None:
    g = graph(
        [weak(), near(2, 1.0, opened=date(2030, 9, 1)), org("group-t", NodeKind.TRUST, "T")],
        [member(2, "group-t"), tie("1", "2", EdgeKind.COLLABORATES_ON, focus="maths")],
    )
    assert path_steps(g, "1", DAY) == {"1": 0}


# -- the broker's rules ------------------------------------------------------------------------


def test_independent_schools_are_left_out_unless_asked() -> None:
    g = graph(
        [
            weak(),
            near(2, 1.0, name="Fee Paying", properties={"type_group": "Independent schools"}),
            near(3, 2.0, name="State", properties={"type_group": "Local authority maintained schools"}),
        ]
    )
    answer = ask(g)
    assert list(by_id(answer)) == ["3"]
    assert any("state-funded partners only" in rule for rule in answer["rules"])
    everyone = ask(g, rules=SupportRules(state_funded_only=False))
    assert list(by_id(everyone)) == ["2", "3"]
    assert not any("state-funded" in rule for rule in everyone["rules"])


def test_special_with_special_and_mainstream_with_mainstream() -> None:
    special = {
        "phase": "not_applicable",
        "type_name": "Community special school",
        "properties": {"age_low": 3, "age_high": 19},
    }
    primary = {"properties": {"age_low": 4, "age_high": 11}}
    g = graph(
        [
            school(1, "Weak Special", ofsted_rating="special_measures", latitude=LAT, longitude=LON, **special),
            near(2, 1.0, name="Mainstream Primary", **primary),
            near(3, 4.0, name="Outstanding Special", ofsted_rating="outstanding", **special),
            near(4, 2.0, name="Mainstream Primary Two", **primary),
        ]
    )
    assert list(by_id(ask(g))) == ["3"]
    loose = ask(g, rules=SupportRules(same_provision=False))
    assert list(by_id(loose)) == ["2", "4", "3"]
    mainstream = values(by_id(loose)["2"])
    assert mainstream["phase"] == 0.5
    assert (
        reasons(by_id(loose)["2"])["phase"]
        == "compatible: same ages: 4 to 11 (vs 3 to 19), but mainstream (vs special)"
    )
    # And the other way: an all-age special school is compatible with a mainstream primary, not "the same".
    all_age = {"phase": "not_applicable", "type_name": "Community special school", "age_low": 2, "age_high": 19}
    assert stage_fit({"phase": "primary", "age_low": 4, "age_high": 11}, all_age)[0] == 0.5


def catholic_town(**first_rules: Any) -> dict[str, Any]:
    catholic = {"properties": {"religious_character": "Roman Catholic"}}
    g = graph(
        [
            weak(**catholic),
            near(2, 1.0, name="Near Community"),
            near(3, 1.5, name="Near Community Two"),
            near(4, 20.0, name="St Mary's", la_code=331, local_authority="Sandwell", **catholic),
            org("group-c", NodeKind.TRUST, "Catholic Trust"),
            org("group-n", NodeKind.TRUST, "Nearby Trust"),
        ],
        [member(2, "group-n"), member(3, "group-n"), member(4, "group-c")],
    )
    return ask(g, rules=SupportRules(**first_rules))


def test_a_catholic_school_is_offered_catholic_trusts_first() -> None:
    answer = catholic_town()
    assert [(row["id"], row["first"]) for row in answer["candidates"]] == [("group-c", True), ("group-n", False)]
    assert answer["candidates"][0]["score"] < answer["candidates"][1]["score"]
    assert values(answer["candidates"][0])["faith"] == 1.0
    assert any("Catholic, so lines with Catholic schools near by come first" in rule for rule in answer["rules"])
    by_score = catholic_town(faith_first=False)
    assert [row["id"] for row in by_score["candidates"]] == ["group-n", "group-c"]


def test_a_church_of_england_school_is_offered_its_diocese_first() -> None:
    def cofe(diocese: str) -> dict[str, Any]:
        return {"properties": {"religious_character": "Church of England", "diocese": diocese}}

    g = graph(
        [
            weak(**cofe("Diocese of Birmingham")),
            near(2, 1.0, name="Other Diocese", **cofe("Diocese of Lichfield")),
            near(3, 9.0, name="Same Diocese", **cofe("Diocese of Birmingham")),
            org("group-l", NodeKind.TRUST, "Lichfield Trust"),
            org("group-b", NodeKind.TRUST, "Birmingham Diocesan Trust"),
        ],
        [member(2, "group-l"), member(3, "group-b")],
    )
    answer = ask(g)
    assert [row["id"] for row in answer["candidates"]] == ["group-b", "group-l"]
    assert (
        reasons(answer["candidates"][0])["faith"]
        == "1 of 1 school(s) near by: Church of England, Diocese of Birmingham"
    )
    assert values(by_id(answer)["group-l"])["faith"] == 0.0


def hub_town() -> nx.MultiDiGraph:
    return graph(
        [weak(), near(2, 1.0, ofsted_rating="outstanding"), org("tsh-a", NodeKind.TEACHING_SCHOOL_HUB, "Hub A")],
        [tie("2", "tsh-a", EdgeKind.MEMBER_OF, role="lead")],
    )


def test_teaching_school_hubs_only_from_when_they_existed() -> None:
    assert "tsh-a" not in by_id(ask(hub_town(), day=date(2021, 8, 31)))
    assert "tsh-a" in by_id(ask(hub_town(), day=HUBS_FROM))
    assert "tsh-a" in by_id(ask(hub_town(), day=date(2021, 8, 31), rules=SupportRules(dated=False)))


def test_trusts_only_from_their_opening_date_when_known() -> None:
    g = graph(
        [weak(), near(2, 1.0), org("group-t", NodeKind.TRUST, "New Trust", opened=date(2024, 6, 1))],
        [member(2, "group-t")],
    )
    assert "group-t" not in by_id(ask(g))
    assert "group-t" in by_id(ask(g, day=date(2024, 6, 1)))


def test_a_note_when_the_school_was_closed_or_not_yet_open() -> None:
    closed = graph([weak(status="closed", opened=date(2000, 9, 1), closed=date(2020, 8, 31)), near(2, 1.0)])
    assert ask(closed)["notes"][0] == "Weak Primary was closed on 2024-01-15 (closed 2020-08-31)"
    future = graph([weak(opened=date(2025, 9, 1)), near(2, 1.0)])
    assert ask(future)["notes"][0] == "Weak Primary was not yet open on 2024-01-15 (opened 2025-09-01)"
    assert ask(future, day=date(2025, 9, 1))["notes"] == []


def test_ratings_ignored_treats_every_state_funded_school_as_good() -> None:
    g = graph([weak(), near(2, 1.0, ofsted_rating=None)])
    assert by_id(ask(g)) == {}  # unrated: not a candidate
    assert list(by_id(ask(g, rating_of=assume_good))) == ["2"]


def test_a_good_school_is_answered_with_a_note_and_bad_targets_are_refused() -> None:
    answer = support_candidates(town_graph(), "101", SUPPORT_DAY)
    assert answer["in_difficulty"] is False and "not in difficulty" in answer["notes"][0]
    with pytest.raises(KeyError):
        support_candidates(town_graph(), "999", SUPPORT_DAY)
    with pytest.raises(ValueError, match="trust, not a school"):
        support_candidates(town_graph(), "group-1", SUPPORT_DAY)


def test_one_index_answers_every_date() -> None:
    g = town_graph()
    index = support_index(g)
    for day in (date(2020, 1, 1), SUPPORT_DAY):
        assert support_candidates(g, "104", day, index=index) == support_candidates(g, "104", day)


# -- small pieces ------------------------------------------------------------------------------


def test_weights_validate() -> None:
    with pytest.raises(ValidationError, match="at least one support weight"):
        SupportWeights(**zeros())
    with pytest.raises(ValidationError):
        SupportWeights(distance=-1)
    with pytest.raises(ValidationError):
        SupportWeights(charm=1)  # type: ignore[call-arg]


def test_phase_and_provision_and_faith_words() -> None:
    assert phase_compatibility("secondary", "16_plus") == 0.5
    assert provision({"type_name": "Academy alternative provision sponsor led"}) == "alternative"
    assert faith({"religious_character": "Church of England/Methodist"}) == "church_of_england"
    assert faith({"religious_character": "Muslim"}) == "other"


def test_area_by_area_candidates_strong_where_the_school_is_weak_score_higher() -> None:
    """Weak in attendance and behaviour (a report card); one trust strong there (graded 1), one not (3)."""
    g = graph(
        [
            weak(),
            near(2, 2.0, name="Strong Behaviour"),
            near(3, 2.0, name="Weak Behaviour"),
            org("group-s", NodeKind.TRUST, "S"),
            org("group-w", NodeKind.TRUST, "W"),
        ],
        [member(2, "group-s"), member(3, "group-w")],
    )

    def graded(behaviour: int) -> list[dict[str, Any]]:
        return [
            {
                "date": date(2023, 3, 1),
                "kind": "graded",
                "overall": 2,
                "judgements": {"quality_of_education": 2, "behaviour_and_attitudes": behaviour},
            }
        ]

    g.nodes["1"]["inspections"] = [
        {
            "date": date(2023, 11, 20),
            "kind": "report_card",
            "areas": {"attendance_and_behaviour": "needs_attention", "curriculum_and_teaching": "expected_standard"},
            "safeguarding": True,
        }
    ]
    g.nodes["2"]["inspections"] = graded(1)
    g.nodes["3"]["inspections"] = graded(3)
    rows = by_id(ask(g))
    assert values(rows["group-s"])["areas"] == 1.0 and values(rows["group-w"])["areas"] == 0.0
    assert reasons(rows["group-s"])["areas"] == (
        "1 of 1 strong (1-2) in attendance and behaviour, where the school is weak: attendance and behaviour (3)"
    )
    assert [row["id"] for row in ask(g)["candidates"]] == ["group-s", "group-w"]
    # Before the report card the school had no weak area on record; with areas off, none is read.
    assert reasons(by_id(ask(g, day=date(2023, 11, 1)))["group-s"])["areas"] == "no weak area on record to match"
    assert values(by_id(ask(g, areas=False))["group-s"])["areas"] == 0.0


def test_a_limit_shows_exactly_the_first_lines_of_the_whole_ranking() -> None:
    """With a limit only the lines that can be shown are scored in full: the same lines, the same figures."""
    g = town_graph()
    index = support_index(g)
    for target in ("104", "111", "101", "106", "109"):
        for day in (date(2020, 1, 1), SUPPORT_DAY):
            whole = support_candidates(g, target, day, limit=None, index=index)
            for limit in (1, 2, 3):
                shown = support_candidates(g, target, day, limit=limit, index=index)
                assert shown["candidates"] == whole["candidates"][:limit]
                assert shown["total"] == whole["total"]


@pytest.mark.parametrize(
    "day", [date(2012, 3, 1), date(2016, 9, 1), date(2019, 9, 1), date(2023, 1, 1), date(2025, 9, 1)]
)
def test_the_index_reads_each_standing_as_rating_on_does(day: date, birmingham_inspected: nx.MultiDiGraph) -> None:
    index = support_index(birmingham_inspected)
    found = {node: index.rating_on(node, day) for node in birmingham_inspected}
    assert found == {node: rating_on(attrs, day) for node, attrs in birmingham_inspected.nodes(data=True)}
    assert len(set(found.values())) > 3  # real ratings, and none yet, to tell apart on this day


# -- today's answers: inherited judgements, the school's own trust, secondaries ----------------------

#: A special-measures judgement made on the predecessor (URN 9) before the academy (URN 1) opened.
INHERITED_SM = [
    {
        "date": date(2023, 3, 7),
        "kind": "graded",
        "overall": 4,
        "category": "SM",
        "urn_at_inspection": 9,
        "name_at_inspection": "Old Weak Primary",
    }
]


#: After the academy re-opened.
TODAY = date(2025, 1, 15)


def rebrokered_town() -> nx.MultiDiGraph:
    """Academy 1 re-opened on 2024-04-01 in Own Trust (with 2, 3 km north, Good); Other Trust has 5, 1 km north."""
    return graph(
        [
            school(
                1,
                "Weak Primary",
                latitude=LAT,
                longitude=LON,
                opened=date(2024, 4, 1),
                inspections=INHERITED_SM,
            ),
            near(2, 3.0),
            near(5, 1.0),
            org("group-own", NodeKind.TRUST, "Own Trust"),
            org("group-other", NodeKind.TRUST, "Other Trust"),
        ],
        [member(1, "group-own"), member(2, "group-own"), member(5, "group-other")],
    )


def test_a_school_judged_before_it_re_opened_is_said_re_brokered_not_in_difficulty() -> None:
    answer = ask(rebrokered_town(), day=TODAY)
    assert answer["in_difficulty"] is False
    assert answer["notes"][0] == (
        "Weak Primary has been re-brokered: special measures was judged as Old Weak Primary (URN 9) on 2023-03-07, "
        "before it re-opened in Own Trust on 2024-04-01; the take-over a broker would arrange has happened, "
        "so it is not counted in difficulty (count_inherited counts it)"
    )
    counted = ask(rebrokered_town(), day=TODAY, rules=SupportRules(count_inherited=True))
    assert counted["in_difficulty"] is True
    assert "so it is counted in difficulty all the same" in counted["notes"][0]


def test_the_school_s_own_trust_is_context_never_a_line() -> None:
    answer = ask(rebrokered_town(), day=TODAY)
    assert [row["id"] for row in answer["candidates"]] == ["group-other"]
    own = answer["current_trust"]
    assert (own["id"], own["open_schools"], own["schools_near"], own["in_difficulty"]) == ("group-own", 2, 1, 0)
    assert [(s["id"], s["distance_km"]) for s in own["supporters"]] == [("2", pytest.approx(3.0, abs=0.01))]
    # With the inherited judgement counted, the school is one of its trust's schools in difficulty.
    counted = ask(rebrokered_town(), day=TODAY, rules=SupportRules(count_inherited=True))
    assert counted["current_trust"]["in_difficulty"] == 1
    # A school in no trust has none.
    assert ask(two_trusts())["current_trust"] is None


def secondary_town() -> nx.MultiDiGraph:
    """A weak secondary; Primary Trust: three primaries 1-2 km away; Secondary Trust: one secondary 8 km away."""
    return graph(
        [
            weak(phase="secondary"),
            near(2, 1.0),
            near(3, 1.5),
            near(4, 2.0),
            near(6, 8.0, phase="secondary"),
            org("group-primary", NodeKind.TRUST, "Primary Trust"),
            org("group-secondary", NodeKind.TRUST, "Secondary Trust"),
        ],
        [
            member(2, "group-primary"),
            member(3, "group-primary"),
            member(4, "group-primary"),
            member(6, "group-secondary"),
        ],
    )


def test_a_secondary_school_is_offered_the_trusts_that_run_secondaries_first() -> None:
    g = secondary_town()
    answer = by_id(ask(g))
    primary, secondary = answer["group-primary"], answer["group-secondary"]
    assert primary["score"] > secondary["score"]  # nearer and bigger: it would lead on its score alone
    assert (secondary["rank"], primary["rank"]) == (1, 2)
    assert (secondary["phase_fit"], primary["phase_fit"]) == (True, False)
    assert primary["reasons"][0] == (
        "still listed, after the trusts that run one: no open secondary or all-through school within 40 km"
    )
    off = by_id(ask(g, rules=SupportRules(secondary_trusts=False)))
    assert (off["group-primary"]["rank"], off["group-secondary"]["rank"]) == (1, 2)
    # A primary school is not concerned by the rule.
    assert by_id(ask(g, target="2"))["group-secondary"]["phase_fit"] is True
