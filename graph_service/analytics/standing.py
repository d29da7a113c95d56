"""A school's Ofsted standing on a date: the one place the questions read inspection outcomes from.

Every question (who is in difficulty, who can support, the isolated list's order) asks
:func:`rating_on` for an organisation's node attributes and a day, never ``ofsted_rating``
directly, so that inspection history (``inspections``, oldest first, loaded by
``loaders.ofsted`` and ``loaders.gias``) decides what held on that day.

The standing comes from the inspection in force on the day: the latest graded inspection or
report card dated on or before it (ungraded inspections confirm a grade, they do not give one).
The rules, in order (the table in ``docs/questions.md``):

1. a category of concern: ``SM`` special measures; ``SWK``, ``RSI`` and the old ``NTI``
   serious weaknesses;
2. a rating the source stated outright (GIAS's ``OfstedRating`` column) as it is;
3. a graded inspection's overall grade: 1 outstanding, 2 good, 3 requires improvement,
   4 inadequate;
4. ineffective safeguarding (graded) or standards not met (report card): inadequate;
5. otherwise the worst of the areas on the common scale below (a "Not judged" graded
   inspection's four key sub-judgements; a report card's areas): 1 outstanding, 2 good,
   3 requires improvement, 4 inadequate.

Areas are put on one scale, 1 best to 4 worst, under one shared vocabulary (:data:`AREAS`),
so that a graded school's "3 in quality of education" and a report card's "Needs attention in
curriculum and teaching" compare: graded sub-judgements keep their 1-4; report-card words are
Exceptional 1, Strong standard 1, Expected standard 2, Needs attention 3, Urgent improvement 4.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

#: The shared area vocabulary, and the names each framework gives those areas.
AREAS = (
    "curriculum_and_teaching",
    "attendance_and_behaviour",
    "personal_development_and_wellbeing",
    "leadership_and_governance",
    "inclusion",
    "achievement",
    "early_years",
    "sixth_form",
)
#: Graded sub-judgement -> shared area.
GRADED_AREAS = {
    "quality_of_education": "curriculum_and_teaching",
    "behaviour_and_attitudes": "attendance_and_behaviour",
    "personal_development": "personal_development_and_wellbeing",
    "leadership_and_management": "leadership_and_governance",
    "early_years": "early_years",
    "sixth_form": "sixth_form",
}
#: Report-card area -> shared area.
REPORT_CARD_AREAS = {
    "inclusion": "inclusion",
    "curriculum_and_teaching": "curriculum_and_teaching",
    "achievement": "achievement",
    "attendance_and_behaviour": "attendance_and_behaviour",
    "personal_development_and_wellbeing": "personal_development_and_wellbeing",
    "early_years": "early_years",
    "post_16": "sixth_form",
    "leadership_and_governance": "leadership_and_governance",
}
#: Report-card grade word -> strength on the common scale (1 best, 4 worst).
REPORT_CARD_SCALE = {
    "exceptional": 1,
    "strong_standard": 1,
    "expected_standard": 2,
    "needs_attention": 3,
    "urgent_improvement": 4,
}
#: The sub-judgements a "Not judged" graded inspection is read from (every school has them).
KEY_JUDGEMENTS = (
    "quality_of_education",
    "behaviour_and_attitudes",
    "personal_development",
    "leadership_and_management",
)
#: Grade on the common scale -> standing.
GRADE_RATING = {1: "outstanding", 2: "good", 3: "requires_improvement", 4: "inadequate"}
#: Category of concern -> standing.
CATEGORY_RATING = {
    "SM": "special_measures",
    "SWK": "serious_weaknesses",
    "RSI": "serious_weaknesses",
    "NTI": "serious_weaknesses",
}
#: Inspection kinds that give a standing.
JUDGING = frozenset({"graded", "report_card"})
#: Standings that put a school in difficulty (``OfstedRating.in_difficulty``).
DIFFICULTY = frozenset({"special_measures", "serious_weaknesses", "inadequate", "requires_improvement"})

_GRADE_WORDS = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}


@dataclass(frozen=True)
class Standing:
    """A school's standing on a day, with the inspection it comes from and why.

    ``judgements`` is what the inspection says, in words (:func:`judgement_words`), to show
    beside the standing.
    """

    rating: str | None
    inspection: Mapping[str, Any] | None
    basis: str
    areas: dict[str, int] = field(default_factory=dict)
    judgements: str = ""
    #: The URN the inspection in force judged: the school's own, or a predecessor's (None: unknown).
    judged_urn: str | None = None
    #: The predecessor's name when it was judged, when the judgement was made on another school.
    judged_name: str | None = None
    #: Judged before the school it is now opened (on a predecessor): the take-over has happened since.
    inherited: bool = False
    #: The day the school (re-)opened, when the judgement is inherited.
    reopened: date | None = None
    #: The trust or federation it re-opened in (id, name), when known (:func:`standing_in`).
    reopened_in: tuple[str, str] | None = None

    @property
    def inherited_difficulty(self) -> bool:
        """In difficulty only by a predecessor's judgement: not counted as in difficulty by default."""
        return self.inherited and self.rating in DIFFICULTY

    @property
    def judged_words(self) -> str:
        """On which school the standing was judged, in words (empty when judged as itself)."""
        if not self.inherited or self.inspection is None:
            return ""
        who = self.judged_name or "a predecessor school"
        urn = f" (URN {self.judged_urn})" if self.judged_urn else ""
        on = _day(self.inspection["date"]).isoformat()
        words = f"judged as {who}{urn} on {on}, before it re-opened"
        if self.reopened_in is not None:
            words += f" in {self.reopened_in[1]}"
        if self.reopened is not None:
            words += f" on {self.reopened.isoformat()}"
        return words


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _in_force(inspections: Sequence[Mapping[str, Any]], day: date) -> Mapping[str, Any] | None:
    """The latest judging inspection dated on or before ``day`` (inspections sorted by date)."""
    at = bisect_right(inspections, day, key=lambda inspection: _day(inspection["date"]))
    for index in range(at - 1, -1, -1):
        if inspections[index]["kind"] in JUDGING:
            return inspections[index]
    return None


def areas_of(inspection: Mapping[str, Any]) -> dict[str, int]:
    """Strength per shared area, 1 best to 4 worst, of one inspection.

    Examples
    --------
    >>> areas_of({"kind": "graded", "judgements": {"quality_of_education": 3, "sixth_form": 2}})
    {'curriculum_and_teaching': 3, 'sixth_form': 2}
    >>> areas_of({"kind": "report_card",
    ...           "areas": {"attendance_and_behaviour": "needs_attention", "post_16": "exceptional"}})
    {'attendance_and_behaviour': 3, 'sixth_form': 1}
    """
    strengths = {GRADED_AREAS[name]: grade for name, grade in (inspection.get("judgements") or {}).items()}
    for name, word in (inspection.get("areas") or {}).items():
        strengths[REPORT_CARD_AREAS[name]] = REPORT_CARD_SCALE[word]
    return strengths


def judge(inspection: Mapping[str, Any]) -> tuple[str | None, str]:
    """The standing one graded inspection or report card gives, and the rule that gave it, in words.

    Examples
    --------
    >>> judge({"date": "2023-05-10", "kind": "graded", "overall": 2})
    ('good', 'overall grade 2 (Good) on 2023-05-10')
    >>> judge({"date": "2024-11-05", "kind": "graded", "judgements": {"quality_of_education": 3,
    ...        "behaviour_and_attitudes": 2, "personal_development": 2, "leadership_and_management": 2}})
    ('requires_improvement', 'Not judged on 2024-11-05: from sub-judgements, the worst is 3 (quality of education)')
    >>> judge({"date": "2025-12-09", "kind": "report_card", "category": "SM",
    ...        "areas": {"inclusion": "needs_attention"}})
    ('special_measures', 'report card on 2025-12-09: category of concern SM')
    """
    on = _day(inspection["date"]).isoformat()
    report_card = inspection["kind"] == "report_card"
    what = f"report card on {on}" if report_card else f"graded inspection on {on}"
    category = inspection.get("category")
    if category in CATEGORY_RATING:
        return CATEGORY_RATING[category], f"{what}: category of concern {category}"
    if inspection.get("rating"):
        source = str(inspection.get("source") or "")
        said = f"GIAS's Ofsted rating ({source.removeprefix('gias:')})" if source.startswith("gias:") else "as stated"
        return inspection["rating"], f"{what}: rated {inspection['rating'].replace('_', ' ')}, {said}"
    overall = inspection.get("overall")
    if overall in GRADE_RATING:
        return GRADE_RATING[overall], f"overall grade {overall} ({_GRADE_WORDS[overall]}) on {on}"
    if inspection.get("safeguarding") is False:
        said = "safeguarding standards not met" if report_card else "safeguarding not effective"
        return "inadequate", f"{what}: {said}"
    if report_card:
        grades = {name: REPORT_CARD_SCALE[word] for name, word in (inspection.get("areas") or {}).items()}
    else:
        judgements = inspection.get("judgements") or {}
        grades = {name: judgements[name] for name in KEY_JUDGEMENTS if name in judgements}
    if not grades:
        return None, f"{what}: no overall grade and no graded areas"
    worst = max(grades.values())
    names = ", ".join(name.replace("_", " ") for name, grade in grades.items() if grade == worst)
    if report_card:
        return GRADE_RATING[worst], f"{what}: from the area grades, the worst is {worst} ({names})"
    return GRADE_RATING[worst], f"Not judged on {on}: from sub-judgements, the worst is {worst} ({names})"


#: Ofsted's names of the areas, for words.
_AREA_WORDS = {
    "quality_of_education": "quality of education",
    "behaviour_and_attitudes": "behaviour and attitudes",
    "personal_development": "personal development",
    "leadership_and_management": "leadership and management",
    "early_years": "early years",
    "sixth_form": "sixth form",
    "post_16": "post-16",
}


def judgement_words(inspection: Mapping[str, Any]) -> str:
    """What one inspection says, in Ofsted's words: grades by area, safeguarding, category.

    Examples
    --------
    >>> judgement_words({"kind": "graded", "overall": 2, "judgements": {"quality_of_education": 2,
    ...                  "leadership_and_management": 2}, "safeguarding": True})
    'overall effectiveness 2, quality of education 2, leadership and management 2, safeguarding effective'
    >>> judgement_words({"kind": "report_card", "areas": {"attendance_and_behaviour": "needs_attention"},
    ...                  "safeguarding": True, "category": "SM"})
    'attendance and behaviour: Needs attention, safeguarding standards met, category of concern SM'
    >>> judgement_words({"kind": "ungraded", "outcome": "School remains Good"})
    'School remains Good'
    """
    words = []
    if inspection.get("overall") is not None:
        words.append(f"overall effectiveness {inspection['overall']}")
    elif inspection["kind"] == "graded" and inspection.get("judgements"):
        words.append("overall effectiveness not judged")
    if inspection.get("rating"):
        words.append(f"rated {str(inspection['rating']).replace('_', ' ')}")
    for name, grade in (inspection.get("judgements") or {}).items():
        words.append(f"{_AREA_WORDS.get(name, name)} {grade}")
    for name, word in (inspection.get("areas") or {}).items():
        words.append(f"{_AREA_WORDS.get(name, name.replace('_', ' '))}: {str(word).replace('_', ' ').capitalize()}")
    safeguarding = inspection.get("safeguarding")
    if safeguarding is not None:
        if inspection["kind"] == "report_card":
            words.append(f"safeguarding standards {'met' if safeguarding else 'not met'}")
        else:
            words.append(f"safeguarding {'effective' if safeguarding else 'not effective'}")
    if inspection.get("category"):
        words.append(f"category of concern {inspection['category']}")
    if inspection.get("outcome"):
        words.append(str(inspection["outcome"]))
    return ", ".join(words)


def inherited(inspection: Mapping[str, Any], attrs: Mapping[str, Any]) -> bool:
    """Whether ``inspection`` judged another school than the one ``attrs`` is now: a predecessor.

    Ofsted says so (``urn_at_inspection``, another URN); or the inspection is dated before the
    school opened (GIAS's opening date of its URN: no URN is inspected before it exists).

    Examples
    --------
    >>> school = {"urn": 150650, "opened": date(2024, 4, 1)}
    >>> inherited({"date": date(2023, 3, 7), "urn_at_inspection": 105529}, school)
    True
    >>> inherited({"date": date(2023, 3, 7)}, school), inherited({"date": date(2024, 9, 1)}, school)
    (True, False)
    """
    judged = inspection.get("urn_at_inspection")
    if judged is not None and str(judged) != str(attrs.get("urn", judged)):
        return True
    opened = attrs.get("opened")
    return opened is not None and _day(inspection["date"]) < _day(opened)


def _counted(
    rating: str | None, inspection: Mapping[str, Any], attrs: Mapping[str, Any], count_inherited: bool
) -> str | None:
    """A rating as the questions count it: an inherited difficulty judgement is no standing of the school's own."""
    if not count_inherited and rating in DIFFICULTY and inherited(inspection, attrs):
        return None
    return rating


def rating_on(attrs: Mapping[str, Any], day: date | None = None, *, count_inherited: bool = False) -> str | None:
    """The standing (an ``OfstedRating`` value) of an organisation on ``day`` (today when omitted).

    From the graded inspection or report card in force on ``day``; ``attrs["ofsted_rating"]``
    when the organisation has no inspections at all; ``None`` when it had none yet on ``day``.
    A difficulty judgement made on a predecessor, before the school re-opened (:func:`inherited`),
    counts as no standing (``None``): the take-over it called for has happened; ``count_inherited``
    counts it as before.

    Examples
    --------
    >>> school = {"ofsted_rating": "good", "inspections": [
    ...     {"date": date(2019, 3, 5), "kind": "graded", "overall": 3},
    ...     {"date": date(2023, 5, 10), "kind": "graded", "overall": 2},
    ...     {"date": date(2024, 6, 1), "kind": "ungraded", "outcome": "School remains Good"}]}
    >>> rating_on(school, date(2023, 5, 9)), rating_on(school, date(2023, 5, 10)), rating_on(school)
    ('requires_improvement', 'good', 'good')
    >>> rating_on(school, date(2018, 1, 1)) is None, rating_on({"ofsted_rating": "good"}), rating_on({})
    (True, 'good', None)
    >>> academy = {"urn": 2, "opened": date(2024, 4, 1), "inspections": [
    ...     {"date": date(2023, 3, 7), "kind": "graded", "overall": 4, "category": "SM", "urn_at_inspection": 1}]}
    >>> rating_on(academy, date(2025, 1, 1)), rating_on(academy, date(2025, 1, 1), count_inherited=True)
    (None, 'special_measures')
    """
    inspections = attrs.get("inspections")
    if not inspections:
        return attrs.get("ofsted_rating")
    inspection = _in_force(inspections, day or date.today())
    if inspection is None:
        return None
    return _counted(judge(inspection)[0], inspection, attrs, count_inherited)


def rating_history(attrs: Mapping[str, Any], *, count_inherited: bool = False) -> list[tuple[date, str | None]] | None:
    """What :func:`rating_on` reads, for every day at once: each judging inspection's day and rating.

    In date order; :func:`rating_on` on a day is the rating of the last one on or before it
    (``None`` before the first). ``None`` when the organisation has no inspections at all: then
    ``attrs["ofsted_rating"]`` stands whatever the day.

    Examples
    --------
    >>> school = {"inspections": [{"date": date(2019, 3, 5), "kind": "graded", "overall": 3},
    ...     {"date": date(2024, 6, 1), "kind": "ungraded", "outcome": "School remains Good"}]}
    >>> rating_history(school), rating_history({"ofsted_rating": "good"})
    ([(datetime.date(2019, 3, 5), 'requires_improvement')], None)
    """
    inspections = attrs.get("inspections")
    if not inspections:
        return None
    return [
        (_day(inspection["date"]), _counted(judge(inspection)[0], inspection, attrs, count_inherited))
        for inspection in inspections
        if inspection["kind"] in JUDGING
    ]


def standing_on(attrs: Mapping[str, Any], day: date | None = None) -> Standing | None:
    """The standing on ``day`` with the inspection in force, the rule in words and the area strengths.

    ``None`` when there is nothing to go on (no inspection by then, and no flat rating).

    Examples
    --------
    >>> school = {"inspections": [{"date": date(2025, 12, 9), "kind": "report_card",
    ...     "areas": {"curriculum_and_teaching": "expected_standard", "attendance_and_behaviour": "needs_attention"},
    ...     "safeguarding": True}]}
    >>> standing = standing_on(school, date(2026, 1, 1))
    >>> standing.rating, standing.areas
    ('requires_improvement', {'curriculum_and_teaching': 2, 'attendance_and_behaviour': 3})
    >>> standing.basis
    'report card on 2025-12-09: from the area grades, the worst is 3 (attendance and behaviour)'
    >>> standing_on({"ofsted_rating": "good"}).basis, standing_on({}, date(2026, 1, 1))
    ('rated good (no inspection records)', None)
    """
    inspections = attrs.get("inspections")
    if not inspections:
        rating = attrs.get("ofsted_rating")
        if rating is None:
            return None
        return Standing(rating, None, f"rated {rating.replace('_', ' ')} (no inspection records)")
    inspection = _in_force(inspections, day or date.today())
    if inspection is None:
        return None
    rating, basis = judge(inspection)
    own = None if attrs.get("urn") is None else str(attrs["urn"])
    if not inherited(inspection, attrs):
        return Standing(rating, inspection, basis, areas_of(inspection), judgement_words(inspection), own)
    judged = inspection.get("urn_at_inspection")
    found = Standing(
        rating,
        inspection,
        basis,
        areas_of(inspection),
        judgement_words(inspection),
        judged_urn=None if judged is None else str(judged),
        judged_name=inspection.get("name_at_inspection"),
        inherited=True,
        reopened=attrs.get("opened"),
    )
    return replace(found, basis=f"{basis}; {found.judged_words}")


def standing_in(graph: Any, node: str, day: date | None = None) -> Standing | None:
    """:func:`standing_on` of ``node`` in ``graph``, with what only the network knows of an inherited judgement.

    Where Ofsted's file is silent on the URN judged (GIAS's own Ofsted columns), GIAS's links
    (``predecessor_of`` ties) name the predecessor open on the inspection's day; and the trust or
    federation the school re-opened in is its membership holding on the day it opened (or its
    first one).

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", urn=1, name="Old School", opened=date(1990, 9, 1), closed=date(2024, 3, 31))
    >>> g.add_node("2", urn=2, name="New Academy", opened=date(2024, 4, 1), inspections=[
    ...     {"date": date(2023, 3, 7), "kind": "graded", "overall": 4}])
    >>> g.add_node("t", kind="trust", name="The Trust")
    >>> _ = g.add_edge("1", "2", kind="predecessor_of"); _ = g.add_edge("2", "t", kind="member_of")
    >>> standing = standing_in(g, "2", date(2025, 1, 1))
    >>> standing.judged_urn, standing.inherited, standing.rating
    ('1', True, 'inadequate')
    >>> standing.judged_words
    'judged as Old School (URN 1) on 2023-03-07, before it re-opened in The Trust on 2024-04-01'
    """
    attrs = graph.nodes[node]
    standing = standing_on(attrs, day)
    if standing is None or not standing.inherited or standing.inspection is None:
        return standing
    judged_on = _day(standing.inspection["date"])
    judged_urn, judged_name = standing.judged_urn, standing.judged_name
    if judged_urn is None or judged_name is None:
        for before, _me, data in graph.in_edges(node, data=True):
            if data.get("kind") != "predecessor_of":
                continue
            other = graph.nodes[before]
            if judged_urn is not None and str(other.get("urn", before)) != judged_urn:
                continue
            opened, closed = other.get("opened"), other.get("closed")
            if (opened is None or _day(opened) <= judged_on) and (closed is None or judged_on <= _day(closed)):
                judged_urn, judged_name = str(other.get("urn", before)), other.get("name")
                break
    groups = sorted(
        (data.get("since") or date.min, group)
        for _me, group, data in graph.out_edges(node, data=True)
        if data.get("kind") == "member_of" and graph.nodes[group].get("kind") in ("trust", "federation")
    )
    reopened = standing.reopened
    holding = [group for since, group in groups if reopened is None or since <= reopened] or [g for _s, g in groups]
    reopened_in = (holding[-1], str(graph.nodes[holding[-1]].get("name", holding[-1]))) if holding else None
    found = replace(standing, judged_urn=judged_urn, judged_name=judged_name, reopened_in=reopened_in)
    basis, _sep, _old = standing.basis.partition("; judged as ")
    return replace(found, basis=f"{basis}; {found.judged_words}")
