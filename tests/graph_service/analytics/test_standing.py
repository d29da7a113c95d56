"""Each standing rule on hand-made inspections, and the inspection in force on a day."""

from __future__ import annotations

from datetime import date
from typing import Any

import networkx as nx
import pytest

from graph_service.analytics.standing import AREAS, GRADED_AREAS, REPORT_CARD_AREAS, rating_on, standing_in, standing_on
from graph_service.graphview import org_attrs, stored_org_attrs
from graph_service.models import GradedJudgement, Inspection, ReportCardArea
from graph_service.store import GraphStore
from graph_service.store.base import WriteBatch
from tests.factories import school

DAY = date(2026, 6, 1)
KEY_FOUR = ("quality_of_education", "behaviour_and_attitudes", "personal_development", "leadership_and_management")


def _graded(**fields: Any) -> dict[str, Any]:
    return {"date": date(2025, 1, 15), "kind": "graded", **fields}


def _card(**fields: Any) -> dict[str, Any]:
    return {"date": date(2025, 12, 9), "kind": "report_card", **fields}


def _rating(inspection: dict[str, Any]) -> str | None:
    return rating_on({"ofsted_rating": "outstanding", "inspections": [inspection]}, DAY)


@pytest.mark.parametrize(
    ("overall", "expected"), [(1, "outstanding"), (2, "good"), (3, "requires_improvement"), (4, "inadequate")]
)
def test_overall_grade(overall: int, expected: str) -> None:
    # The sub-judgements do not count when there is an overall grade.
    assert _rating(_graded(overall=overall, judgements=dict.fromkeys(KEY_FOUR, 1))) == expected


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("SM", "special_measures"),
        ("SWK", "serious_weaknesses"),
        ("RSI", "serious_weaknesses"),
        ("NTI", "serious_weaknesses"),
    ],
)
def test_a_category_of_concern_decides(category: str, expected: str) -> None:
    assert _rating(_graded(overall=4, category=category)) == expected
    assert _rating(_graded(category=category, judgements=dict.fromkeys(KEY_FOUR, 2))) == expected
    assert _rating(_card(category=category, areas={"inclusion": "exceptional"})) == expected


def test_not_judged_reads_the_worst_of_the_four_key_sub_judgements() -> None:
    assert _rating(_graded(judgements=dict.fromkeys(KEY_FOUR, 1))) == "outstanding"
    assert _rating(_graded(judgements={**dict.fromkeys(KEY_FOUR, 1), "personal_development": 2})) == "good"
    assert (
        _rating(_graded(judgements={**dict.fromkeys(KEY_FOUR, 2), "behaviour_and_attitudes": 3}))
        == "requires_improvement"
    )
    assert _rating(_graded(judgements={**dict.fromkeys(KEY_FOUR, 2), "leadership_and_management": 4})) == "inadequate"
    # Early years and sixth form are not among the four: a weak sixth form alone does not decide.
    assert _rating(_graded(judgements={**dict.fromkeys(KEY_FOUR, 2), "sixth_form": 4})) == "good"
    # Ineffective safeguarding: inadequate whatever the sub-judgements.
    assert _rating(_graded(judgements=dict.fromkeys(KEY_FOUR, 1), safeguarding=False)) == "inadequate"
    assert _rating(_graded()) is None  # nothing to go on


def test_report_card_reads_the_worst_area_and_safeguarding() -> None:
    strong = {"inclusion": "exceptional", "curriculum_and_teaching": "strong_standard"}
    assert _rating(_card(areas=strong, safeguarding=True)) == "outstanding"
    assert _rating(_card(areas={**strong, "achievement": "expected_standard"})) == "good"
    assert _rating(_card(areas={**strong, "attendance_and_behaviour": "needs_attention"})) == "requires_improvement"
    assert _rating(_card(areas={**strong, "leadership_and_governance": "urgent_improvement"})) == "inadequate"
    assert _rating(_card(areas=strong, safeguarding=False)) == "inadequate"


def test_a_stated_rating_is_taken_as_stated() -> None:
    gias = _graded(rating="insufficient_evidence", source="gias:edubasealldata20250115.csv")
    standing = standing_on({"inspections": [gias]}, DAY)
    assert standing is not None and standing.rating == "insufficient_evidence"
    assert standing.basis == (
        "graded inspection on 2025-01-15: rated insufficient evidence,"
        " GIAS's Ofsted rating (edubasealldata20250115.csv)"
    )


def test_the_inspection_in_force_on_a_day() -> None:
    history = [
        {"date": date(2016, 5, 10), "kind": "graded", "overall": 4, "category": "SM"},
        {"date": date(2016, 9, 13), "kind": "graded", "overall": 2},
        {"date": date(2021, 10, 13), "kind": "ungraded", "outcome": "School remains Good"},
        {"date": date(2025, 12, 9), "kind": "report_card", "areas": {"inclusion": "needs_attention"}},
    ]
    attrs = {"ofsted_rating": "good", "inspections": history}
    assert rating_on(attrs, date(2016, 5, 9)) is None  # before any inspection: no standing, not today's
    assert rating_on(attrs, date(2016, 5, 10)) == "special_measures"
    assert rating_on(attrs, date(2016, 9, 12)) == "special_measures"  # the previous one, the day before the latest
    assert rating_on(attrs, date(2016, 9, 13)) == "good"
    assert rating_on(attrs, date(2025, 12, 8)) == "good"  # the ungraded inspection gives no standing of its own
    assert rating_on(attrs, date(2025, 12, 9)) == "requires_improvement"
    assert rating_on(attrs) == "requires_improvement"  # today
    standing = standing_on(attrs, date(2022, 1, 1))
    assert standing is not None and standing.inspection is history[1] and standing.areas == {}
    assert standing.basis == "overall grade 2 (Good) on 2016-09-13"
    assert standing.judgements == "overall effectiveness 2"  # what the inspection says, shown beside it


def test_without_inspections_the_flat_rating_stands() -> None:
    assert rating_on({"ofsted_rating": "good"}, date(2000, 1, 1)) == "good"
    assert rating_on({"ofsted_rating": "good", "inspections": []}, DAY) == "good"
    assert rating_on({}, DAY) is None and standing_on({}, DAY) is None


def test_areas_share_one_vocabulary_and_scale() -> None:
    graded = standing_on({"inspections": [_graded(overall=3, judgements=dict.fromkeys(GRADED_AREAS, 3))]}, DAY)
    card = standing_on(
        {"inspections": [_card(areas=dict.fromkeys(REPORT_CARD_AREAS, "needs_attention"))]},
        DAY,
    )
    assert graded is not None and card is not None
    # Every framework's names map into the shared list, and the same weakness reads the same number.
    assert set(graded.areas) <= set(AREAS) and set(card.areas) == set(AREAS)
    assert graded.areas["curriculum_and_teaching"] == card.areas["curriculum_and_teaching"] == 3
    assert graded.areas["attendance_and_behaviour"] == card.areas["attendance_and_behaviour"] == 3
    # Each name Ofsted uses has a place in the shared list.
    assert set(GRADED_AREAS) == {j.value for j in GradedJudgement}
    assert set(REPORT_CARD_AREAS) == {a.value for a in ReportCardArea}


def test_standing_reads_the_same_from_models_and_stored_json() -> None:
    inspections = [
        Inspection(date=date(2019, 3, 5), kind="graded", overall=3, judgements={"quality_of_education": 3}),
        Inspection(date=date(2024, 11, 5), kind="graded", judgements=dict.fromkeys(KEY_FOUR, 2), safeguarding=True),
    ]
    # Given newest first: the model keeps them oldest first, which the bisection needs.
    org = school(1, inspections=list(reversed(inspections)))
    assert [i.date for i in org.inspections] == [date(2019, 3, 5), date(2024, 11, 5)]
    from_model = org_attrs(org)
    _id, from_json = stored_org_attrs(org.model_dump_json())
    assert from_model["inspections"] == from_json["inspections"]
    assert isinstance(from_json["inspections"][0]["date"], date)
    for day in (date(2019, 3, 4), date(2020, 1, 1), DAY):
        assert standing_on(from_model, day) == standing_on(from_json, day)
    assert rating_on(from_json, date(2020, 1, 1)) == "requires_improvement" and rating_on(from_json, DAY) == "good"


# -- the questions read it, the same on both backends --------------------------------------


def test_the_isolated_order_follows_the_standing_on_the_date(store: GraphStore) -> None:
    from graph_service import questions
    from graph_service.store.neo4j import Neo4jStore

    # Three isolated schools. A was inadequate until its 2024 inspection (good); B good until
    # its 2024 inspection (special measures); C has no inspection records, only a flat rating.
    a = school(
        1,
        "A",
        opened=date(2010, 9, 1),
        inspections=[
            Inspection(date=date(2021, 3, 2), kind="graded", overall=4),
            Inspection(date=date(2024, 3, 5), kind="graded", overall=2),
        ],
        ofsted_rating="good",
    )
    b = school(
        2,
        "B",
        opened=date(2010, 9, 1),
        inspections=[
            Inspection(date=date(2019, 6, 4), kind="graded", overall=2),
            Inspection(date=date(2024, 2, 6), kind="graded", overall=4, category="SM"),
        ],
        ofsted_rating="special_measures",
    )
    c = school(3, "C", opened=date(2010, 9, 1), ofsted_rating="requires_improvement")
    store.apply(WriteBatch(organisations=[a, b, c]))

    def order(day: date) -> list[tuple[str, str | None, int]]:
        answer = questions.isolated_schools(store, as_at=day)
        return [(i.id, i.ofsted_rating.value if i.ofsted_rating else None, i.risk) for i in answer.items]

    assert order(date(2023, 1, 1)) == [("1", "inadequate", 4), ("3", "requires_improvement", 3), ("2", "good", 0)]
    assert order(date(2025, 1, 1)) == [("2", "special_measures", 5), ("3", "requires_improvement", 3), ("1", "good", 0)]
    answer = questions.isolated_schools(store, as_at=date(2023, 1, 1))
    assert answer.items[0].ofsted_date == date(2021, 3, 2)  # the inspection in force, not the latest
    assert answer.items[0].standing_basis == "overall grade 4 (Inadequate) on 2021-03-02"
    assert answer.items[0].judgements == "overall effectiveness 4"
    assert answer.items[1].standing_basis == "rated requires improvement (no inspection records)"
    if isinstance(store, Neo4jStore):
        store.questions_in_memory = False  # narrowed down in Cypher: the same answers
        questions.forget_answers()
        assert order(date(2023, 1, 1)) == [("1", "inadequate", 4), ("3", "requires_improvement", 3), ("2", "good", 0)]
        assert order(date(2025, 1, 1))[0] == ("2", "special_measures", 5)


# -- judgements made on a predecessor ----------------------------------------------------------------


def test_the_standing_says_on_which_urn_it_was_judged() -> None:
    own = {
        "urn": 5,
        "opened": date(2010, 9, 1),
        "inspections": [{"date": date(2022, 1, 5), "kind": "graded", "overall": 2}],
    }
    standing = standing_on(own, date(2025, 1, 1))
    assert (standing.judged_urn, standing.inherited, standing.judged_words) == ("5", False, "")

    # Ofsted's file names the URN at the time: inherited whatever GIAS's links say.
    academy = {
        "urn": 2,
        "name": "New Academy",
        "opened": date(2024, 4, 1),
        "inspections": [
            {"date": date(2023, 3, 7), "kind": "graded", "overall": 4, "category": "SM", "urn_at_inspection": 1,
             "name_at_inspection": "Old School"}
        ],
    }  # fmt: skip
    standing = standing_on(academy, date(2025, 1, 1))
    assert (standing.rating, standing.judged_urn, standing.inherited, standing.reopened) == (
        "special_measures", "1", True, date(2024, 4, 1)
    )  # fmt: skip
    assert standing.basis == (
        "graded inspection on 2023-03-07: category of concern SM; "
        "judged as Old School (URN 1) on 2023-03-07, before it re-opened on 2024-04-01"
    )
    assert rating_on(academy, date(2025, 1, 1)) is None
    assert rating_on(academy, date(2025, 1, 1), count_inherited=True) == "special_measures"

    # Ofsted silent (GIAS's own rating columns): the links name the predecessor open on the day.
    g = nx.MultiDiGraph()
    g.add_node("1", urn=1, name="Old School", opened=date(1990, 9, 1), closed=date(2024, 3, 31))
    g.add_node("0", urn=0, name="Older School", opened=date(1950, 9, 1), closed=date(1990, 8, 31))
    silent = {**academy, "inspections": [{"date": date(2023, 3, 7), "kind": "graded", "rating": "inadequate"}]}
    g.add_node("2", **silent)
    g.add_node("t", kind="trust", name="The Trust")
    g.add_edge("0", "1", kind="predecessor_of")
    g.add_edge("1", "2", kind="predecessor_of")
    g.add_edge("2", "t", kind="member_of")
    assert standing_on(silent, date(2025, 1, 1)).judged_urn is None
    standing = standing_in(g, "2", date(2025, 1, 1))
    assert (standing.judged_urn, standing.judged_name, standing.reopened_in) == ("1", "Old School", ("t", "The Trust"))
    assert standing.basis.endswith(
        "; judged as Old School (URN 1) on 2023-03-07, before it re-opened in The Trust on 2024-04-01"
    )
    # A good judgement inherited by a converter still counts: only difficulty is discounted.
    converter = {**academy, "inspections": [{**academy["inspections"][0], "overall": 2, "category": None}]}
    assert rating_on(converter, date(2025, 1, 1)) == "good"


def test_gias_links_name_the_same_predecessor_as_ofsted_on_the_real_sample(
    birmingham_inspected: nx.MultiDiGraph,
) -> None:
    """Where Ofsted names the URN at the time, GIAS's links alone (Ofsted's columns taken away) agree."""
    graph = birmingham_inspected.copy()
    day = date(2025, 9, 1)
    compared = 0
    for node, attrs in graph.nodes(data=True):
        standing = standing_on(attrs, day)
        if attrs.get("status") not in ("open", "open_proposed_to_close") or standing is None:
            continue
        if not standing.inherited:
            assert standing.judged_urn == str(attrs["urn"])
            continue
        compared += 1
        said = standing_in(graph, node, day)
        assert said.reopened_in is not None and said.judged_name and said.basis.endswith(said.judged_words)
        attrs["inspections"] = [
            {key: value for key, value in inspection.items() if not key.endswith("_at_inspection")}
            for inspection in attrs["inspections"]
        ]
        assert standing_in(graph, node, day).judged_urn == standing.judged_urn, node
    assert compared >= 30  # 35 of Birmingham's open academies carry a predecessor's judgement
