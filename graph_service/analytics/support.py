"""Support partners: the trusts (and hubs, federations, schools) a broker would pick, with a score to defend.

The unit of support is the organisation a broker would call: a trust, one line, with its schools
near by listed under it; a federation likewise; a teaching school hub through its lead school;
and a school outside any trust or federation, which can still be a real option. Every line is
scored by the parts in :class:`SupportWeights` (each shown with value, weight and reason), and
the rules in :class:`SupportRules` (each switchable, each named in the answer's ``rules``) say
who may be offered at all.

Nothing here depends on the date but what must: :func:`support_index` prepares, once per graph,
every provider's place, type, faith and memberships with their dates and an index of
providers of any status; a question filters by its date at the edges (open on the day, tie
holding on the day), so a new date costs no rebuild.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_service.analytics.geo import PointIndex, location
from graph_service.analytics.network import COLLABORATION_KINDS, PROVIDER_KINDS, holds, was_open
from graph_service.analytics.standing import rating_history, rating_on, standing_in, standing_on
from graph_service.models import EdgeKind, MemberRole, NodeKind, OfstedRating, Phase

#: Ratings a single school needs to be a candidate, with the points each gives.
GOOD_RATINGS = {OfstedRating.OUTSTANDING.value: 1.0, OfstedRating.GOOD.value: 0.75}
DIFFICULTY = frozenset(rating.value for rating in OfstedRating if rating.in_difficulty)
#: Groups a school is "in" for support: one line each, with its schools under it.
GROUP_KINDS = frozenset({NodeKind.TRUST.value, NodeKind.FEDERATION.value})
#: Phases that can support each other without being the same (either way round).
COMPATIBLE_PHASES = frozenset(
    frozenset(pair)
    for pair in (
        (Phase.NURSERY, Phase.PRIMARY),
        (Phase.PRIMARY, Phase.MIDDLE_DEEMED_PRIMARY),
        (Phase.PRIMARY, Phase.ALL_THROUGH),
        (Phase.MIDDLE_DEEMED_PRIMARY, Phase.MIDDLE_DEEMED_SECONDARY),
        (Phase.MIDDLE_DEEMED_PRIMARY, Phase.ALL_THROUGH),
        (Phase.MIDDLE_DEEMED_SECONDARY, Phase.SECONDARY),
        (Phase.MIDDLE_DEEMED_SECONDARY, Phase.ALL_THROUGH),
        (Phase.SECONDARY, Phase.ALL_THROUGH),
        (Phase.SECONDARY, Phase.SIXTEEN_PLUS),
        (Phase.ALL_THROUGH, Phase.SIXTEEN_PLUS),
    )
)
#: Longest path through the network that still counts as an existing tie, and its points.
PATH_POINTS = {1: 1.0, 2: 0.75, 3: 0.5, 4: 0.25}
#: Schools that joined or opened this many years before the date count as recent growth.
GROWTH_YEARS = 3
#: Teaching school hubs were designated from September 2021; a hub without an opening date
#: is offered from then on.
HUBS_FROM = date(2021, 9, 1)
#: GIAS type groups that are not state-funded (and types within state groups that are not).
NOT_STATE_FUNDED_GROUPS = frozenset({"independent schools", "universities", "other types", "online provider"})
NOT_STATE_FUNDED_TYPES = frozenset({"non-maintained special school"})
#: Distances score ``exp(-km / DISTANCE_SCALE_KM)``: 1 next door, 0.37 at 5 km, 0.02 at 20 km. Brokers
#: pick locally; a straight line to the radius ranked a trust 1 km away barely above one 5 km away.
DISTANCE_SCALE_KM = 5.0
#: A footprint counts each school ``exp(-km / FOOTPRINT_SCALE_KM)``.
FOOTPRINT_SCALE_KM = 10.0
#: Saturation of the counted parts: ``n / (n + HALF)`` is 0.5 at ``n = HALF``.
FOOTPRINT_HALF = 3.0
LOCAL_HALF = 1.0
GROWTH_HALF = 1.0
TRACK_HALF = 2.0
#: How many schools near by are listed under a trust or federation line.
SCHOOLS_LISTED = 10
#: Phases that run secondary education: a secondary school is offered trusts with one of these near by first.
SECONDARY_PHASES = frozenset({Phase.SECONDARY.value, Phase.ALL_THROUGH.value, Phase.MIDDLE_DEEMED_SECONDARY.value})


class SupportWeights(BaseModel):
    """How much each part of the support score counts (relative weights, 0 switches a part off).

    The defaults were fitted on the take-overs before 2019-09-01 only, by conditional logit with
    every weight at least 0 (``graph-service backtest --fit``, Ofsted's August 2025 file loaded):
    a part whose coefficient came out negative beside the others is 0 (``footprint``,
    ``fit_distance``, ``strength``). ``areas``, ``ties`` and ``designation`` never vary among
    the take-overs' lines (no area grades, ties or hubs on record for those cases), so the fit
    cannot weigh them: they keep weights set by judgement.
    """

    model_config = ConfigDict(extra="forbid")

    takes_in: float = Field(
        default=10.01,
        ge=0,
        le=100,
        description="1 for a trust (it can take the school in), 0 for a federation, hub or single school.",
    )
    footprint: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description=f"Its open schools near by, any phase, each counted exp(-km/{FOOTPRINT_SCALE_KM:g}): "
        f"s/(s+{FOOTPRINT_HALF:g}).",
    )
    local: float = Field(
        default=2.16, ge=0, le=100, description="Its open schools in the school's local authority: n/(n+1)."
    )
    distance: float = Field(
        default=2.94,
        ge=0,
        le=100,
        description=f"Its nearest open school, any phase: exp(-km/{DISTANCE_SCALE_KM:g}).",
    )
    fit_distance: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description=f"Its nearest open school of a fitting phase: exp(-km/{DISTANCE_SCALE_KM:g}) (0 when none).",
    )
    phase: float = Field(
        default=1.23,
        ge=0,
        le=100,
        description="Stage fit of its best school near by: 1 same phase and provision, 0.5 compatible "
        "(neighbouring phase, or another provision), 0 otherwise; by statutory ages for schools without a phase. "
        "Off by default: on the take-overs it did not help (trusts take schools of any phase).",
    )
    growth: float = Field(
        default=2.18,
        ge=0,
        le=100,
        description=f"Its schools near by that opened or joined in the {GROWTH_YEARS} years before the date, "
        f"each counted exp(-km/{FOOTPRINT_SCALE_KM:g}): g/(g+1).",
    )
    capacity: float = Field(
        default=2.79,
        ge=0,
        le=100,
        description="A trust or federation: the share of its open schools not in difficulty; a single school "
        "or hub: 1/(1+k) for k schools it already supports.",
    )
    track_record: float = Field(
        default=0.32,
        ge=0,
        le=100,
        description="Its sponsor-led academies (schools that joined it in difficulty) open on the date and "
        "rated Good or better: n/(n+2).",
    )
    strength: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Its schools near by rated Good or Outstanding (Outstanding 1, Good 0.75, mean).",
    )
    faith: float = Field(
        default=3.06,
        ge=0,
        le=100,
        description="Share of its schools near by of the school's religious character (Catholic, Church of "
        "England in the same diocese, other, or none).",
    )
    areas: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="Area by area: where the school's inspection in force grades an area 3 or 4 (on the shared "
        "1-4 scale of analytics.standing), the share of those areas its schools near by grade 1 or 2 "
        "(mean over its schools); 0 when the school has no weak area on record.",
    )
    ties: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="Existing ties: 1 direct, 0.75 two steps through the network, 0.5 three, 0.25 four.",
    )
    designation: float = Field(
        default=0.5, ge=0, le=100, description="1 for a teaching school hub or a hub's lead school."
    )

    @model_validator(mode="after")
    def _some_weight(self) -> SupportWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one support weight must be above 0")
        return self


PARTS = tuple(SupportWeights.model_fields)


class SupportRules(BaseModel):
    """The rules a broker applies before scoring; each can be switched off, and each applied is named."""

    model_config = ConfigDict(extra="forbid")

    state_funded_only: bool = Field(
        default=True, description="Only state-funded partners (independent and non-maintained schools left out)."
    )
    require_phase: bool = Field(
        default=True,
        description="A single school (or hub lead) must be of the same or a compatible phase or ages.",
    )
    same_provision: bool = Field(
        default=True,
        description="Special with special, alternative provision with alternative provision, mainstream with "
        "mainstream: a single school of another provision is left out (trusts keep it, scored as compatible).",
    )
    faith_first: bool = Field(
        default=True,
        description="A Catholic school is offered the lines with Catholic schools near by first; a Church of "
        "England school, the lines with schools of its diocese near by.",
    )
    dated: bool = Field(
        default=True,
        description=f"Organisations only when they existed on the date: trusts and federations with an open "
        f"school and from their opening date when known, hubs from {HUBS_FROM.isoformat()} (or their opening date).",
    )
    secondary_trusts: bool = Field(
        default=True,
        description="A secondary (or all-through, or middle deemed secondary) school is offered first the trusts "
        "that run a secondary or all-through school within the trust radius; the others follow, saying why.",
    )
    count_inherited: bool = Field(
        default=False,
        description="Count a difficulty judgement made on a predecessor school, before the school re-opened, as "
        "the school's own (off: such a school has been re-brokered already and is not counted in difficulty).",
    )


# -- what a provider is -------------------------------------------------------------------------


def provision(attrs: Mapping[str, Any]) -> str:
    """``special``, ``alternative`` (PRUs and alternative provision) or ``mainstream``, from the GIAS type.

    Examples
    --------
    >>> provision({"type_name": "Community special school"}), provision({"type_name": "Pupil referral unit"})
    ('special', 'alternative')
    >>> provision({"type_name": "Academy converter"})
    'mainstream'
    """
    text = f"{attrs.get('type_name') or ''} {attrs.get('subtype') or ''}".lower()
    if "special" in text:
        return "special"
    if "pupil referral" in text or "alternative provision" in text or "alternative_provision" in text:
        return "alternative"
    return "mainstream"


def state_funded(attrs: Mapping[str, Any]) -> bool:
    """Whether a provider is state-funded, by its GIAS type group and type (unknown counts as funded).

    Examples
    --------
    >>> state_funded({"type_group": "Independent schools"}), state_funded({"type_group": "Academies"})
    (False, True)
    """
    group = str(attrs.get("type_group") or "").lower()
    return group not in NOT_STATE_FUNDED_GROUPS and str(attrs.get("type_name") or "").lower() not in (
        NOT_STATE_FUNDED_TYPES
    )


def faith(attrs: Mapping[str, Any]) -> str | None:
    """``catholic``, ``church_of_england``, ``other`` or ``None`` (no religious character).

    Examples
    --------
    >>> faith({"religious_character": "Roman Catholic"}), faith({"religious_character": "Church of England"})
    ('catholic', 'church_of_england')
    >>> faith({"religious_character": "Does not apply"}) is None, faith({"religious_character": "Jewish"})
    (True, 'other')
    """
    text = str(attrs.get("religious_character") or "").lower()
    if text in ("", "none", "does not apply", "not applicable"):
        return None
    if "catholic" in text and "church of england" not in text:
        return "catholic"
    if "church of england" in text or "anglican" in text:
        return "church_of_england"
    return "other"


def _diocese(attrs: Mapping[str, Any]) -> str | None:
    text = attrs.get("diocese")
    return None if not text or str(text).lower() in ("not applicable", "does not apply") else str(text)


def phase_compatibility(a: str | None, b: str | None) -> float:
    """1 for the same phase, 0.5 for compatible phases, 0 otherwise.

    Examples
    --------
    >>> phase_compatibility("primary", "primary"), phase_compatibility("primary", "nursery")
    (1.0, 0.5)
    >>> phase_compatibility("primary", "secondary")
    0.0
    """
    if a is None or b is None:
        return 0.0
    if a == b:
        return 1.0
    return 0.5 if frozenset((Phase(a), Phase(b))) in COMPATIBLE_PHASES else 0.0


def stage_fit(target: Mapping[str, Any], other: Mapping[str, Any]) -> tuple[float, str]:
    """How well another provider's stage and provision fit a school's: 1 same, 0.5 compatible, 0 not.

    By phase; but when either has no phase of its own (special schools, pupil referral units,
    independent and post-16 institutions are "not applicable" in GIAS), by the statutory age
    ranges: 1 when they share at least half of the narrower range, 0.5 when they overlap at
    all, 0 when they do not or either range is unknown. A provider of another provision
    (special, alternative or mainstream) is at best compatible: an all-age special school is
    not "the same" as a mainstream primary.

    Examples
    --------
    >>> stage_fit({"phase": "primary"}, {"phase": "nursery"})
    (0.5, 'compatible phase: nursery')
    >>> stage_fit({"phase": "not_applicable", "age_low": 2, "age_high": 11},
    ...           {"phase": "not_applicable", "age_low": 19, "age_high": 25})
    (0.0, 'different ages: 19 to 25 (vs 2 to 11)')
    >>> stage_fit({"phase": "primary", "age_low": 4, "age_high": 11},
    ...           {"phase": "not_applicable", "type_name": "Community special school", "age_low": 2, "age_high": 19})
    (0.5, 'compatible: same ages: 2 to 19 (vs 4 to 11), but special (vs mainstream)')
    """
    mine, theirs = target.get("phase"), other.get("phase")
    if Phase.NOT_APPLICABLE.value not in (mine, theirs):
        value = phase_compatibility(mine, theirs)
        label = {1.0: "same phase", 0.5: "compatible phase"}.get(value, "different phase")
        words = f"{label}: {_words(theirs or 'unknown')}"
    else:
        low, high = target.get("age_low"), target.get("age_high")
        other_low, other_high = other.get("age_low"), other.get("age_high")
        if low is None or high is None or other_low is None or other_high is None:
            return 0.0, "no phase of education and ages unknown: cannot compare"
        overlap = min(high, other_high) - max(low, other_low)
        narrower = max(1, min(high - low, other_high - other_low))
        value = 0.0 if overlap <= 0 else 1.0 if overlap / narrower >= 0.5 else 0.5
        label = {1.0: "same ages", 0.5: "overlapping ages"}.get(value, "different ages")
        words = f"{label}: {other_low} to {other_high} (vs {low} to {high})"
    mine_provision, their_provision = provision(target), provision(other)
    if value > 0 and mine_provision != their_provision:
        return 0.5, f"compatible: {words}, but {their_provision} (vs {mine_provision})"
    return value, words


def _stage(attrs: Mapping[str, Any]) -> tuple[Any, ...]:
    """What :func:`stage_fit` reads of a provider."""
    return attrs.get("phase"), attrs.get("age_low"), attrs.get("age_high"), provision(attrs)


@functools.lru_cache(maxsize=4096)  # few distinct stages; asked for every school near every question
def _stage_fit_of(mine: tuple[Any, ...], theirs: tuple[Any, ...]) -> tuple[float, str]:
    def attrs(stage: tuple[Any, ...]) -> dict[str, Any]:
        phase, low, high, kind = stage
        type_name = {"special": "special", "alternative": "alternative provision"}.get(kind, "")
        return {"phase": phase, "age_low": low, "age_high": high, "type_name": type_name}

    return stage_fit(attrs(mine), attrs(theirs))


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


# -- the prepared, date-free index ----------------------------------------------------------------


@dataclass
class SupportIndex:
    """What support questions on one graph reuse, whatever their date (see :func:`support_index`)."""

    graph: nx.MultiDiGraph
    #: Located providers of any status and date.
    points: PointIndex
    #: Located providers that were ever members of a trust or federation (the footprints).
    member_points: PointIndex = field(default_factory=lambda: PointIndex(()))
    #: Providers that are not state-funded.
    not_state_funded: frozenset[str] = frozenset()
    #: Node attributes by id (the graph's own dicts: a plain lookup, not networkx's view).
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Provider id -> (first day open, last day open), from :func:`was_open`'s rule.
    spans: dict[str, tuple[date, date]] = field(default_factory=dict)
    #: Provider id -> its stage (phase, ages, provision), filled as questions ask.
    stages: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: Provider id -> its judging inspections' days (ordinals) and ratings
    #: (:func:`~graph_service.analytics.standing.rating_history`), or None with no inspections;
    #: filled as questions ask.
    ratings: dict[str, tuple[list[int], list[str | None]] | None] = field(default_factory=dict)
    #: The same with inherited difficulty judgements counted (``SupportRules.count_inherited``).
    ratings_inherited: dict[str, tuple[list[int], list[str | None]] | None] = field(default_factory=dict)
    #: Provider id -> groups (trusts, federations) it is a member of, with the tie's since/until.
    groups_of: dict[str, list[tuple[str, date | None, date | None]]] = field(default_factory=dict)
    #: Group id -> its members, with the tie's since/until.
    members: dict[str, list[tuple[str, date | None, date | None]]] = field(default_factory=dict)
    #: Lead school id -> the hubs it leads, with the tie's since/until.
    hubs_led: dict[str, list[tuple[str, date | None, date | None]]] = field(default_factory=dict)
    #: Organisation id -> the ids it supports, with the tie's since/until.
    supports: dict[str, list[tuple[str, date | None, date | None]]] = field(default_factory=dict)

    def stage(self, node: str) -> tuple[Any, ...]:
        """What :func:`stage_fit` reads of a provider (kept: it does not depend on the date)."""
        known = self.stages.get(node)
        if known is None:
            known = self.stages[node] = _stage(self.attrs[node])
        return known

    def rating_on(self, node: str, day: date, count_inherited: bool = False) -> str | None:
        """:func:`~graph_service.analytics.standing.rating_on` of an organisation, its inspections read once.

        Examples
        --------
        >>> g = nx.MultiDiGraph()
        >>> g.add_node("1", inspections=[{"date": date(2020, 1, 1), "kind": "graded", "overall": 4},
        ...                              {"date": date(2022, 1, 1), "kind": "graded", "overall": 2}])
        >>> g.add_node("2", ofsted_rating="good")
        >>> index = support_index(g)
        >>> [index.rating_on("1", date(year, 6, 1)) for year in (2019, 2021, 2023)]
        [None, 'inadequate', 'good']
        >>> index.rating_on("2", date(2000, 1, 1))
        'good'
        """
        ratings = self.ratings_inherited if count_inherited else self.ratings
        if node in ratings:
            history = ratings[node]
        else:
            found = rating_history(self.attrs[node], count_inherited=count_inherited)
            history = (
                None if found is None else ([day.toordinal() for day, _ in found], [rating for _, rating in found])
            )
            ratings[node] = history
        if history is None:
            return self.attrs[node].get("ofsted_rating")
        at = bisect_right(history[0], day.toordinal())
        return history[1][at - 1] if at else None

    def open_on(self, node: str, day: date) -> bool:
        """:func:`was_open` for a provider, from its precomputed span."""
        start, end = self.spans[node]
        return start <= day <= end


def support_index(graph: nx.MultiDiGraph) -> SupportIndex:
    """Prepare the date-free parts of every support question on ``graph``: built once per graph.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", latitude=52.0, longitude=-1.0)
    >>> g.add_node("t", kind="trust")
    >>> g.add_edge("1", "t", kind="member_of")
    0
    >>> index = support_index(g)
    >>> index.members["t"], index.groups_of["1"]
    ([('1', None, None)], [('t', None, None)])
    """
    nodes = graph.nodes
    points = []
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") in PROVIDER_KINDS:
            point = location(attrs)
            if point is not None:
                points.append((node, point[0], point[1]))
    index = SupportIndex(graph=graph, points=PointIndex(points))
    for source, target, data in graph.edges(data=True):
        kind = data.get("kind")
        dated = (data.get("since"), data.get("until"))
        if kind == EdgeKind.MEMBER_OF.value:
            group_kind = nodes[target].get("kind")
            if group_kind in GROUP_KINDS:
                index.groups_of.setdefault(source, []).append((target, *dated))
                index.members.setdefault(target, []).append((source, *dated))
            elif group_kind == NodeKind.TEACHING_SCHOOL_HUB.value and data.get("role") == MemberRole.LEAD.value:
                index.hubs_led.setdefault(source, []).append((target, *dated))
        elif kind == EdgeKind.SUPPORTS.value:
            index.supports.setdefault(source, []).append((target, *dated))
    for ends in (index.groups_of, index.members, index.hubs_led, index.supports):
        for listed in ends.values():
            listed.sort(key=lambda end: end[0])
    index.member_points = PointIndex(point for point in points if point[0] in index.groups_of)
    index.attrs = {node: attrs for node, attrs in graph.nodes(data=True)}
    for node, attrs in index.attrs.items():
        if attrs.get("kind") in PROVIDER_KINDS:
            index.spans[node] = _span(attrs)
    index.not_state_funded = frozenset(
        node
        for node, attrs in graph.nodes(data=True)
        if attrs.get("kind") in PROVIDER_KINDS and not state_funded(attrs)
    )
    return index


def _span(attrs: Mapping[str, Any]) -> tuple[date, date]:
    """The days :func:`was_open` says a provider was open on, as one closed range.

    Examples
    --------
    >>> _span({"status": "closed", "opened": date(2001, 9, 1), "closed": date(2021, 8, 31)})
    (datetime.date(2001, 9, 1), datetime.date(2021, 8, 31))
    >>> _span({"status": "closed"})[1] < _span({"status": "closed"})[0]
    True
    """
    start = attrs.get("opened") or date.min
    closed = attrs.get("closed")
    if closed is not None:
        return start, closed
    if was_open({"status": attrs.get("status", "open")}):
        return start, date.max
    return date.max, date.min  # no day


def _holding(ends: Iterable[tuple[str, date | None, date | None]], day: date) -> list[str]:
    return [
        other for other, since, until in ends if (since is None or since <= day) and (until is None or day <= until)
    ]


def _existed(attrs: Mapping[str, Any], day: date, default_start: date | None = None) -> bool:
    """Whether a group or hub existed on ``day`` by its own dates (a hub: from ``default_start`` if undated)."""
    opened = attrs.get("opened") or default_start
    closed = attrs.get("closed")
    return (opened is None or opened <= day) and (closed is None or closed >= day)


def path_steps(graph: nx.MultiDiGraph, start: str, day: date, cutoff: int = max(PATH_POINTS)) -> dict[str, int]:
    """Steps from ``start`` to each organisation through collaboration ties holding on ``day``.

    Providers not open on ``day`` are not walked through (a successor that does not exist yet
    must not tie a school to its future trust).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from(["1", "2", "t"], kind="school")
    >>> g.add_edge("1", "t", kind="member_of")
    0
    >>> g.add_edge("2", "t", kind="member_of", since=date(2030, 1, 1))
    0
    >>> path_steps(g, "1", date(2025, 1, 1))
    {'1': 0, 't': 1}
    """
    nodes = graph.nodes
    steps = {start: 0}
    frontier = [start]
    for step in range(1, cutoff + 1):
        following = []
        for node in frontier:
            for adjacency in (graph.succ[node], graph.pred[node]):
                for other, keyed in adjacency.items():
                    if other in steps:
                        continue
                    attrs = nodes[other]
                    if attrs.get("kind") in PROVIDER_KINDS and not was_open(attrs, day):
                        continue
                    if any(data.get("kind") in COLLABORATION_KINDS and holds(data, day) for data in keyed.values()):
                        steps[other] = step
                        following.append(other)
        frontier = following
    return steps


# -- scoring --------------------------------------------------------------------------------------

RatingOf = Callable[[Mapping[str, Any], date], "str | None"]


def assume_good(attrs: Mapping[str, Any], day: date) -> str | None:
    """The "ratings ignored" condition: every state-funded provider counts as rated Good.

    Examples
    --------
    >>> assume_good({"kind": "school", "type_group": "Academies", "ofsted_rating": "inadequate"}, date(2020, 1, 1))
    'good'
    """
    if attrs.get("kind") in PROVIDER_KINDS and state_funded(attrs):
        return OfstedRating.GOOD.value
    return rating_on(attrs, day)


@dataclass
class Line:
    """One candidate line: a trust, federation, hub or single school, with what it was scored on."""

    id: str
    kind: str
    score: float
    km: float | None
    values: dict[str, tuple[float, str]]
    via: str | None = None
    schools: list[tuple[str, float | None, float, bool]] = field(default_factory=list)
    near_count: int = 0
    first: bool = False
    #: A group line scored with upper bounds (see :func:`_group_line`): its schools near by, to score exactly.
    pending: list[tuple[str, float | None]] | None = None
    #: Why it is put after the lines that fit the school's stage (a trust with no secondary near a
    #: secondary school, or only special schools near a mainstream one); None when it fits.
    demoted: str | None = None


def _saturate(count: float, half: float) -> float:
    return count / (count + half) if count > 0 else 0.0


def _km_part(km: float | None, what: str) -> tuple[float, str]:
    if km is None:
        return 0.0, f"{what}: distance unknown"
    return math.exp(-km / DISTANCE_SCALE_KM), f"{what} {km:.1f} km away"


def _counted(km: float | None) -> float:
    """What a school near by adds to a footprint: less the further it is (a little when unknown)."""
    return math.exp(-(FOOTPRINT_SCALE_KM if km is None else km) / FOOTPRINT_SCALE_KM)


def _score(values: Mapping[str, tuple[float, str]], weight_of: Mapping[str, float]) -> float:
    total = sum(weight_of.values())
    return round(sum(100 * weight * values[name][0] for name, weight in weight_of.items()) / total, 2)


def _parts(
    values: Mapping[str, tuple[float, str]], weight_of: Mapping[str, float]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each part's value, weight, points and reason; and the reasons that scored, biggest first."""
    total = sum(weight_of.values())
    parts = [
        {
            "name": name,
            "value": round(values[name][0], 4),
            "weight": weight_of[name],
            "points": round(100 * weight_of[name] * values[name][0] / total, 2),
            "reason": values[name][1],
        }
        for name in PARTS
    ]
    scoring = [(weight_of[name] * values[name][0], values[name][1]) for name in PARTS]
    ranked = sorted((item for item in scoring if item[0] > 0), key=lambda item: -item[0])
    return parts, [reason for _points, reason in ranked]


@dataclass
class _Question:
    """One question's fixed facts, shared by the scoring of every line."""

    index: SupportIndex
    target: str
    attrs: Mapping[str, Any]
    day: date
    radius: float
    trust_radius: float
    rules: SupportRules
    rating_of: RatingOf
    steps: dict[str, int]
    faith: str | None
    diocese: str | None
    #: The school's weak areas on the day (grade 3 or 4 on the shared scale), by name.
    weak: dict[str, int] = field(default_factory=dict)
    strong: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def name(self, node: str) -> str:
        return str(self.index.attrs[node].get("name", node))

    def strong_in(self, node: str) -> tuple[str, ...]:
        """The school's weak areas that ``node``'s inspection in force grades 1 or 2."""
        known = self.strong.get(node)
        if known is None:
            standing = standing_on(self.index.attrs[node], self.day) if self.weak else None
            areas = standing.areas if standing is not None else {}
            known = tuple(area for area in self.weak if areas.get(area, 9) <= 2)
            self.strong[node] = known
        return known

    def areas_part(self, schools: Sequence[str]) -> tuple[float, str]:
        if not self.weak:
            return 0.0, "no weak area on record to match"
        weak = ", ".join(f"{_words(area)} ({grade})" for area, grade in self.weak.items())
        shares = [len(self.strong_in(node)) / len(self.weak) for node in schools]
        matched = sorted({area for node in schools for area in self.strong_in(node)})
        if not matched:
            return 0.0, f"none strong where the school is weak: {weak}"
        strong_schools = sum(1 for share in shares if share > 0)
        return (
            sum(shares) / len(shares),
            f"{strong_schools} of {len(schools)} strong (1-2) in {', '.join(map(_words, matched))}, "
            f"where the school is weak: {weak}",
        )

    fits: dict[str, tuple[float, str]] = field(default_factory=dict)

    def fit(self, node: str) -> tuple[float, str]:
        known = self.fits.get(node)
        if known is None:
            if self.attrs.get("phase") is None:
                known = (0.5, "phase not compared (unknown)")
            else:
                known = _stage_fit_of(_stage(self.attrs), self.index.stage(node))
            self.fits[node] = known
        return known

    def same_faith(self, other: Mapping[str, Any]) -> bool:
        theirs = faith(other)
        if self.faith == "church_of_england" and self.diocese is not None and theirs == self.faith:
            return _diocese(other) == self.diocese
        return theirs == self.faith

    def faith_words(self) -> str:
        if self.faith is None:
            return "no religious character"
        if self.faith == "church_of_england" and self.diocese:
            return f"Church of England, {self.diocese}"
        return _words(self.faith).replace("catholic", "Catholic").replace("church of england", "Church of England")

    def ties(self, node: str) -> tuple[float, str]:
        length = self.steps.get(node)
        if length is None:
            return 0.0, f"no tie within {max(PATH_POINTS)} steps"
        if length == 1:
            return 1.0, "already tied to the school"
        return PATH_POINTS[length], f"{length} steps apart through the network"

    ratings: dict[str, str | None] = field(default_factory=dict)

    def rating(self, node: str) -> str | None:
        """The standing of ``node`` on the day (asked once per question)."""
        if node not in self.ratings:
            self.ratings[node] = (
                # The standing from inspections, each organisation's read once per graph, not per question.
                self.index.rating_on(node, self.day, self.rules.count_inherited)
                if self.rating_of is rating_on
                else self.rating_of(self.index.attrs[node], self.day)
            )
        return self.ratings[node]

    def rating_value(self, node: str) -> float:
        return GOOD_RATINGS.get(self.rating(node) or "", 0.0)

    def open_members(self, group: str) -> list[str]:
        index, day = self.index, self.day
        return [m for m in _holding(index.members.get(group, ()), day) if index.open_on(m, day)]


def _group_line(question: _Question, group: str, near: list[tuple[str, float | None]], exact: bool = True) -> Line:
    """A trust or federation, scored on its open schools near by (``near``, nearest first).

    Not ``exact``: the parts that read standings (``capacity``, ``track_record``, ``strength``,
    ``areas``) are left at upper bounds, so the line's score is at least its exact score, and
    the line keeps ``near`` in ``pending`` to be scored exactly if it may be shown.
    """
    q = question
    if not exact:
        return _group_bound(q, group, near)
    nodes = q.index.attrs
    radius = q.trust_radius if nodes[group].get("kind") == NodeKind.TRUST.value else q.radius
    la = q.attrs.get("la_code")
    fits = [(m, km, *q.fit(m)) for m, km in near]
    weighted = sum(_counted(km) for _m, km in near)
    local = sum(1 for m, _km in near if la is not None and nodes[m].get("la_code") == la)
    fitting = [(m, km) for m, km, value, _w in fits if value > 0]
    best = max(fits, key=lambda item: (item[2], -(item[1] or 0.0)))
    since = q.day - timedelta(days=round(365.25 * GROWTH_YEARS))
    recent = [(m, km) for m, km in near if (nodes[m].get("opened") or date.min) > since]
    everywhere = q.open_members(group)
    ratings = [q.rating(m) for m in everywhere]
    difficult = sum(1 for rating in ratings if rating in DIFFICULTY)
    size = len(everywhere)
    sponsored = [
        m for m, rating in zip(everywhere, ratings, strict=True)
        if nodes[m].get("subtype") == "academy_sponsor_led" and rating in GOOD_RATINGS
    ]  # fmt: skip
    strength = sum(q.rating_value(m) for m, _km in near) / len(near)
    rated_good = sum(1 for m, _km in near if q.rating_value(m) > 0)
    same_faith = sum(1 for m, _km in near if q.same_faith(nodes[m]))
    nearest_km = near[0][1]
    is_trust = nodes[group].get("kind") == NodeKind.TRUST.value
    values = {
        "takes_in": (1.0, "a trust: it can take the school in") if is_trust else (0.0, "a federation"),
        "footprint": (
            _saturate(weighted, FOOTPRINT_HALF),
            f"{len(near)} open school(s) within {radius:g} km, {len(fitting)} of a fitting phase",
        ),
        "local": (_saturate(local, LOCAL_HALF), f"{local} open school(s) in the school's local authority"),
        "distance": _km_part(nearest_km, f"nearest school {q.name(near[0][0])}"),
        "fit_distance": _km_part(fitting[0][1], f"nearest of a fitting phase {q.name(fitting[0][0])}")
        if fitting
        else (0.0, "no school of a fitting phase near by"),
        "phase": (best[2], f"best fit near by: {q.name(best[0])}, {best[3]}"),
        "growth": (
            _saturate(sum(_counted(km) for _m, km in recent), GROWTH_HALF),
            f"{len(recent)} school(s) near by opened or joined in the {GROWTH_YEARS} years before",
        ),
        "capacity": (
            1 - difficult / size if size else 1.0,
            f"{size} open school(s) in all, {difficult} of them in difficulty",
        ),
        "track_record": (
            _saturate(len(sponsored), TRACK_HALF),
            f"{len(sponsored)} sponsor-led academ{'y' if len(sponsored) == 1 else 'ies'} rated Good or better",
        ),
        "strength": (strength, f"{rated_good} of {len(near)} school(s) near by rated Good or Outstanding"),
        "faith": (same_faith / len(near), f"{same_faith} of {len(near)} school(s) near by: {q.faith_words()}"),
        "areas": q.areas_part([m for m, _km in near]),
        "ties": q.ties(group),
        "designation": (0.0, "no designation"),
    }
    schools = [(m, km, value, nodes[m].get("la_code") == la) for m, km, value, _w in fits[:SCHOOLS_LISTED]]
    first = q.faith in ("catholic", "church_of_england") and same_faith > 0
    line = Line(group, str(nodes[group].get("kind")), 0.0, nearest_km, values, None, schools, len(near), first)
    line.demoted = _demotion(q, group, near)
    return line


def _demotion(q: _Question, group: str, near: Sequence[tuple[str, float | None]]) -> str | None:
    """Why a trust follows the trusts that fit the school's stage, or None when it fits (or the rules are off).

    A secondary school (rule ``secondary_trusts``): the trust runs no secondary or all-through school
    near by. A mainstream school (rule ``same_provision``): its schools near by are all special or
    alternative provision.
    """
    nodes = q.index.attrs
    if nodes[group].get("kind") != NodeKind.TRUST.value:
        return None
    radius = f"{q.trust_radius:g} km"
    secondary = q.rules.secondary_trusts and q.attrs.get("phase") in SECONDARY_PHASES
    if secondary and not any(nodes[m].get("phase") in SECONDARY_PHASES for m, _km in near):
        return f"no open secondary or all-through school within {radius}"
    if q.rules.same_provision and q.index.stage(q.target)[3] == "mainstream":
        kinds = {q.index.stage(m)[3] for m, _km in near}
        if "mainstream" not in kinds:
            return f"no open mainstream school within {radius} (its schools near by are {' or '.join(sorted(kinds))})"
    return None


def _group_bound(q: _Question, group: str, near: list[tuple[str, float | None]]) -> Line:
    """:func:`_group_line` without reading a standing: those parts at their upper bounds."""
    nodes = q.index.attrs
    la = q.attrs.get("la_code")
    fitting = [(m, km) for m, km in near if q.fit(m)[0] > 0]
    since = q.day - timedelta(days=round(365.25 * GROWTH_YEARS))
    recent = sum(_counted(km) for m, km in near if (nodes[m].get("opened") or date.min) > since)
    sponsored = sum(1 for m in q.open_members(group) if nodes[m].get("subtype") == "academy_sponsor_led")
    same_faith = sum(1 for m, _km in near if q.same_faith(nodes[m]))
    bound = (1.0, "")
    values = {
        "takes_in": (1.0 if nodes[group].get("kind") == NodeKind.TRUST.value else 0.0, ""),
        "footprint": (_saturate(sum(_counted(km) for _m, km in near), FOOTPRINT_HALF), ""),
        "local": (
            _saturate(sum(1 for m, _km in near if la is not None and nodes[m].get("la_code") == la), LOCAL_HALF),
            "",
        ),
        "distance": _km_part(near[0][1], ""),
        "fit_distance": _km_part(fitting[0][1], "") if fitting else (0.0, ""),
        "phase": (max(q.fit(m)[0] for m, _km in near), ""),
        "growth": (_saturate(recent, GROWTH_HALF), ""),
        "capacity": bound,
        "track_record": (_saturate(sponsored, TRACK_HALF), ""),
        "strength": bound,
        "faith": (same_faith / len(near), ""),
        "areas": bound if q.weak else (0.0, ""),
        "ties": q.ties(group),
        "designation": (0.0, ""),
    }
    first = q.faith in ("catholic", "church_of_england") and same_faith > 0
    line = Line(group, str(nodes[group].get("kind")), 0.0, near[0][1], values, None, [], len(near), first, near)
    line.demoted = _demotion(q, group, near)
    return line


def _school_values(q: _Question, node: str, km: float | None, fit: tuple[float, str]) -> dict[str, tuple[float, str]]:
    nodes = q.index.attrs
    other = nodes[node]
    la = q.attrs.get("la_code")
    since = q.day - timedelta(days=round(365.25 * GROWTH_YEARS))
    supported = len(_holding(q.index.supports.get(node, ()), q.day))
    rating = q.rating(node)
    in_la = la is not None and other.get("la_code") == la
    recent = (other.get("opened") or date.min) > since
    hubs = _holding(q.index.hubs_led.get(node, ()), q.day)
    alike = q.same_faith(other)
    return {
        "takes_in": (0.0, "a single school: it can support, not take the school in"),
        "footprint": (0.0, "a single school, not in a trust or federation"),
        "local": (0.0, "a single school: counted for trusts and federations only" + (" (same LA)" if in_la else "")),
        "distance": _km_part(km, "it is"),
        "fit_distance": _km_part(km, "it is") if fit[0] > 0 else (0.0, "not of a fitting phase"),
        "phase": fit,
        "growth": (0.0, "a single school" + (" (opened recently)" if recent else "")),
        "capacity": (1 / (1 + supported), f"already supports {supported} school(s)"),
        "track_record": (0.0, "no schools taken on"),
        "strength": (GOOD_RATINGS.get(rating or "", 0.0), f"rated {_words(rating or 'unknown')}"),
        "faith": (1.0 if alike else 0.0, q.faith_words() if alike else f"not {q.faith_words()}"),
        "areas": q.areas_part([node]),
        "ties": q.ties(node),
        "designation": (1.0, f"lead school of {q.name(hubs[0])}") if hubs else (0.0, "no designation"),
    }


def rank_lines(
    graph: nx.MultiDiGraph,
    target: str,
    as_at: date | None = None,
    *,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    weights: SupportWeights | None = None,
    rules: SupportRules | None = None,
    rating_of: RatingOf = rating_on,
    areas: bool = True,
    index: SupportIndex | None = None,
    limit: int | None = None,
) -> tuple[list[Line], list[str], list[str], int, dict[str, Any] | None]:
    """Every candidate line for ``target``, best first, with the notes and the rules applied.

    Returns ``(lines, notes, rules applied, schools considered, its own trust)``; see
    :func:`support_candidates`. The trust or federation the school is in on the day is never a
    line: it is described apart (:func:`_own_group`), with its schools that could support it.
    With a ``limit``, only the first ``limit`` lines are exact (scored and ordered as without
    one); the others are in order of an upper bound of their score.
    """
    day = as_at or date.today()
    weights = weights or SupportWeights()
    rules = rules or SupportRules()
    index = index if index is not None else support_index(graph)
    nodes = index.attrs
    if target not in nodes:
        raise KeyError(target)
    attrs = nodes[target]
    if attrs.get("kind") not in PROVIDER_KINDS:
        raise ValueError(f"{target} is a {_words(attrs.get('kind'))}, not a school: support is for schools")
    notes: list[str] = []
    name = attrs.get("name", target)
    if not was_open(attrs, day):
        opened, closed = attrs.get("opened"), attrs.get("closed")
        if opened is not None and opened > day:
            notes.append(f"{name} was not yet open on {day.isoformat()} (opened {opened.isoformat()})")
        elif closed is not None:
            notes.append(f"{name} was closed on {day.isoformat()} (closed {closed.isoformat()})")
        else:
            notes.append(f"{name} is not open (status {_words(attrs.get('status'))})")
    standing = standing_in(graph, target, day)
    rating = _rating_of(rating_of, rules)(attrs, day)
    if standing is not None and standing.inherited_difficulty and rating_of is rating_on:
        counted = (
            "counted in difficulty all the same (count_inherited)"
            if rules.count_inherited
            else "not counted in difficulty (count_inherited counts it)"
        )
        notes.insert(
            0,
            f"{name} has been re-brokered: {_words(standing.rating)} was {standing.judged_words}; the take-over "
            f"a broker would arrange has happened, so it is {counted}",
        )
    elif rating not in DIFFICULTY:
        state = f"rated {_words(rating)}" if rating else "not rated"
        notes.append(f"{name} is {state}, not in difficulty; candidates are listed all the same")
    if attrs.get("phase") is None:
        notes.append("its phase is unknown: phase is neither required nor scored")
    question = _Question(
        index, target, attrs, day, radius_km, trust_radius_km, rules, rating_of,
        path_steps(graph, target, day), faith(attrs), _diocese(attrs),
    )  # fmt: skip
    if areas and standing is not None:
        question.weak = {area: grade for area, grade in standing.areas.items() if grade >= 3}
    applied = _rules_applied(question)
    point = location(attrs)
    pool: list[tuple[str, float | None]]
    footprint: list[tuple[str, float | None]]
    if point is not None:
        pool = list(index.points.within(point[0], point[1], radius_km))
        footprint = list(index.member_points.within(point[0], point[1], max(radius_km, trust_radius_km)))
    else:
        notes.append("its location is unknown: candidates come from its local authority and distance scores nothing")
        pool = [
            (node, None)
            for node in sorted(nodes)
            if nodes[node].get("kind") in PROVIDER_KINDS and nodes[node].get("la_code") == attrs.get("la_code")
        ]
        footprint = [(node, km) for node, km in pool if node in index.groups_of]
    excluded = index.not_state_funded if rules.state_funded_only else frozenset()
    near_groups: dict[str, list[tuple[str, float | None]]] = {}
    existed: dict[str, bool] = {}
    grouped: set[str] = set()
    own = set(_holding(index.groups_of.get(target, ()), day))
    own_near: dict[str, list[tuple[str, float | None]]] = {group: [] for group in own}
    for node, km in footprint:
        if node == target or node in excluded or not index.open_on(node, day):
            continue
        for group in _holding(index.groups_of[node], day):
            if group not in existed:
                existed[group] = not rules.dated or _existed(nodes[group], day)
            if not existed[group] and group not in own:
                continue
            grouped.add(node)
            limit_km = trust_radius_km if nodes[group].get("kind") == NodeKind.TRUST.value else radius_km
            if km is None or km <= limit_km:
                (own_near if group in own else near_groups).setdefault(group, []).append((node, km))
    lines: list[Line] = []
    considered = 0
    for node, km in pool:
        if node == target or node in excluded or not index.open_on(node, day):
            continue
        other = nodes[node]
        rating = question.rating(node)
        if rating not in GOOD_RATINGS:
            continue
        fit = question.fit(node)
        considered += 1
        hubs = [
            hub
            for hub in _holding(index.hubs_led.get(node, ()), day)
            if not rules.dated or _existed(nodes[hub], day, HUBS_FROM)
        ]
        for hub in hubs:
            # A hub serves every phase, whatever its lead school's.
            values = _school_values(question, node, km, fit)
            supported = len(_holding(index.supports.get(hub, ()), day))
            values.update(
                takes_in=(0.0, "a teaching school hub: it supports, it does not take schools in"),
                local=(0.0, "a hub: counted for trusts and federations only"),
                growth=(0.0, "a hub: counted for trusts and federations only"),
                phase=(1.0, "teaching school hubs serve every phase"),
                footprint=(values["footprint"][0], f"led by {question.name(node)}"),
                capacity=(1 / (1 + supported), f"already supports {supported} school(s)"),
                faith=(0.5, "a hub serves every school (neutral)"),
                ties=question.ties(hub),
                designation=(1.0, "teaching school hub"),
            )
            lines.append(Line(hub, NodeKind.TEACHING_SCHOOL_HUB.value, 0.0, km, values, node))
        if node in grouped:
            continue  # it is listed under its trust or federation
        if rules.require_phase and attrs.get("phase") is not None and fit[0] <= 0:
            continue
        if rules.same_provision and provision(other) != provision(attrs):
            continue
        first = question.faith in ("catholic", "church_of_england") and question.same_faith(other)
        lines.append(
            Line(node, str(other.get("kind")), 0.0, km, _school_values(question, node, km, fit), None, [], 1, first)
        )
    for group, near in near_groups.items():
        lines.append(_group_line(question, group, near, exact=limit is None))
    if not rules.faith_first:
        for line in lines:
            line.first = False
    weight_of = weights.model_dump()
    for line in lines:
        line.score = _score(line.values, weight_of)
    lines.sort(key=lambda line: _order(line, index))
    # With a limit, only the lines that can be shown are scored exactly: a bounded line outside
    # the top can only fall further once exact (its score is at most its bound).
    while limit is not None:
        pending = [at for at, line in enumerate(lines[:limit]) if line.pending is not None]
        if not pending:
            break
        for at in pending:
            exact = _group_line(question, lines[at].id, lines[at].pending or [])
            exact.first = exact.first and rules.faith_first
            exact.score = _score(exact.values, weight_of)
            lines[at] = exact
        lines.sort(key=lambda line: _order(line, index))
    own_group = _own_group(question, own_near) if own_near else None
    return lines, notes, applied, considered, own_group


def _rating_of(rating_of: RatingOf, rules: SupportRules) -> RatingOf:
    """The standing the answer shows: :func:`rating_on` under the rule on inherited judgements."""
    if rating_of is rating_on and rules.count_inherited:
        return functools.partial(rating_on, count_inherited=True)
    return rating_of


def _own_group(q: _Question, own_near: Mapping[str, list[tuple[str, float | None]]]) -> dict[str, Any]:
    """The trust (else federation) the school is in: context, never a line, with its schools that could support.

    Its size, schools near by, schools in difficulty and record (sponsor-led academies rated Good
    or better), and its open schools within the radius rated Good or Outstanding of a fitting phase
    (the trust's own school-improvement route), nearest first.
    """
    nodes = q.index.attrs
    group = min(own_near, key=lambda g: (nodes[g].get("kind") != NodeKind.TRUST.value, g))
    near = sorted(own_near[group], key=lambda item: (item[1] is None, item[1] or 0.0, item[0]))
    everywhere = q.open_members(group)
    ratings = [q.rating(m) for m in everywhere]
    supporters = [
        (m, km, *q.fit(m))
        for m, km in near
        if m != q.target and q.rating(m) in GOOD_RATINGS and (q.attrs.get("phase") is None or q.fit(m)[0] > 0)
    ]
    return {
        "id": group,
        "kind": nodes[group].get("kind"),
        "name": nodes[group].get("name", group),
        "open_schools": len(everywhere),
        "schools_near": len(near),
        "in_difficulty": sum(1 for rating in ratings if rating in DIFFICULTY),
        "sponsor_led_good": sum(
            1
            for m, rating in zip(everywhere, ratings, strict=True)
            if nodes[m].get("subtype") == "academy_sponsor_led" and rating in GOOD_RATINGS
        ),
        "secondary_near": any(nodes[m].get("phase") in SECONDARY_PHASES for m, _km in near),
        "supporters": [
            school_row(nodes[m], m, km, fit, nodes[m].get("la_code") == q.attrs.get("la_code"), q.rating(m))
            for m, km, fit, _words in supporters[:SCHOOLS_LISTED]
        ],
    }


def school_row(
    attrs: Mapping[str, Any], node: str, km: float | None, fit: float, in_la: bool, rating: str | None
) -> dict[str, Any]:
    """One school listed under a line (or its own trust's): who it is, how far, how it fits, its standing.

    Examples
    --------
    >>> school_row({"name": "Ash", "phase": "primary"}, "1", 1.23456, 1.0, True, "good")["distance_km"]
    1.235
    """
    return {
        "id": node,
        "name": attrs.get("name", node),
        "phase": attrs.get("phase"),
        "type_name": attrs.get("type_name"),
        "distance_km": None if km is None else round(km, 3),
        "fit": fit,
        "in_local_authority": in_la,
        "ofsted_rating": rating,
        "opened": attrs.get("opened"),
    }


def _order(line: Line, index: SupportIndex) -> tuple[bool, bool, float, bool, float, str, str]:
    """First by phase (a secondary's trusts without secondaries last), the faith rule, score, nearer, name, id."""
    name = str(index.attrs[line.id].get("name", line.id))
    return line.demoted is not None, not line.first, -line.score, line.km is None, line.km or 0.0, name, line.id


def rescore(lines: Iterable[Line], weights: SupportWeights, index: SupportIndex) -> list[Line]:
    """Score lines with ``weights`` and order them: first by the faith rule, then score, nearer, name, id.

    The ablation of the backtest bench re-scores the same lines with each part switched off.
    """
    weight_of = weights.model_dump()
    scored = [replace(line, score=_score(line.values, weight_of)) for line in lines]
    return sorted(scored, key=lambda line: _order(line, index))


def _rules_applied(q: _Question) -> list[str]:
    rules, applied = q.rules, []
    if rules.state_funded_only:
        applied.append("state-funded partners only: independent and non-maintained schools are left out")
    if rules.require_phase:
        applied.append("a single school must be of the same or a compatible phase (or overlapping ages)")
    if rules.same_provision:
        applied.append(
            f"provision: a {provision(q.attrs)} school is offered {provision(q.attrs)} single schools only; "
            "trusts' schools of another provision count as compatible, not the same"
        )
    if rules.faith_first and q.faith == "catholic":
        applied.append("religious character: Catholic, so lines with Catholic schools near by come first")
    elif rules.faith_first and q.faith == "church_of_england":
        where = f"of the {q.diocese}" if q.diocese else "of the Church of England"
        applied.append(f"religious character: Church of England, so lines with schools {where} near by come first")
    if rules.secondary_trusts and q.attrs.get("phase") in SECONDARY_PHASES:
        applied.append(
            f"phase: a {_words(q.attrs.get('phase'))} school is offered first the trusts that run a secondary or "
            f"all-through school within {q.trust_radius:g} km; the others follow"
        )
    applied.append(
        "its own trust or federation is not a line: it is shown apart, with its schools that could support it"
    )
    if not rules.count_inherited:
        applied.append("a difficulty judgement made on a predecessor, before a school re-opened, is not its own")
    if rules.dated:
        applied.append(
            f"as at {q.day.isoformat()}: schools, trusts and federations open then, memberships holding then, "
            f"teaching school hubs from {HUBS_FROM.isoformat()}"
        )
    applied.append(
        f"trusts within {q.trust_radius:g} km, single schools, federations and hub lead schools within "
        f"{q.radius:g} km; single schools and hub leads rated Good or Outstanding"
    )
    return applied


def support_candidates(
    graph: nx.MultiDiGraph,
    target: str,
    as_at: date | None = None,
    *,
    radius_km: float = 15.0,
    trust_radius_km: float = 40.0,
    weights: SupportWeights | None = None,
    rules: SupportRules | None = None,
    limit: int | None = 10,
    rating_of: RatingOf = rating_on,
    areas: bool = True,
    index: SupportIndex | None = None,
) -> dict[str, Any]:
    """Rank the trusts, federations, teaching school hubs and single schools that could support ``target``.

    A **trust** (within ``trust_radius_km``) or **federation** (within ``radius_km``) is one line,
    scored on its schools open on the date near by (any phase: trusts take over schools of any
    phase near their footprint), listed under it nearest first. A **hub** open on the date is
    scored through its lead school (within ``radius_km``, rated Good or Outstanding); a
    **single school** outside any trust or federation likewise. Each line's score is 100 times
    the weighted mean of the parts in :class:`SupportWeights`, every part with its value,
    weight, points and reason; the :class:`SupportRules` applied are listed in ``rules``.

    Raises ``KeyError`` for an unknown ``target`` and ``ValueError`` when it is not a school.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", name="Weak", phase="primary", ofsted_rating="inadequate",
    ...            latitude=52.48, longitude=-1.89)
    >>> g.add_node("2", kind="school", name="Strong", phase="primary", ofsted_rating="outstanding",
    ...            latitude=52.49, longitude=-1.89)
    >>> g.add_node("3", kind="school", name="Member", phase="secondary", ofsted_rating="good",
    ...            latitude=52.48, longitude=-1.88)
    >>> g.add_node("t", kind="trust", name="Trust")
    >>> g.add_edge("3", "t", kind="member_of")
    0
    >>> answer = support_candidates(g, "1", date(2025, 1, 1))
    >>> [(c["id"], c["kind"], [s["id"] for s in c["schools"]]) for c in answer["candidates"]]
    [('t', 'trust', ['3']), ('2', 'school', [])]
    """
    lines, notes, applied, considered, own_group = rank_lines(
        graph,
        target,
        as_at,
        radius_km=radius_km,
        trust_radius_km=trust_radius_km,
        weights=weights,
        rules=rules,
        rating_of=rating_of,
        areas=areas,
        index=index,
        limit=limit,
    )
    day = as_at or date.today()
    nodes = graph.nodes
    weight_of = (weights or SupportWeights()).model_dump()
    rating_of = _rating_of(rating_of, rules or SupportRules())
    shown = lines if limit is None else lines[:limit]
    candidates = []
    for rank, line in enumerate(shown, start=1):
        parts, reasons = _parts(line.values, weight_of)
        if line.demoted:
            reasons.insert(0, f"still listed, after the trusts that fit the school's stage: {line.demoted}")
        shown_attrs = nodes[line.via] if line.via else nodes[line.id]
        candidates.append(
            {
                "rank": rank,
                "id": line.id,
                "kind": line.kind,
                "name": nodes[line.id].get("name", line.id),
                "phase": nodes[line.id].get("phase"),
                "ofsted_rating": rating_of(shown_attrs, day) if line.kind not in GROUP_KINDS else None,
                "distance_km": None if line.km is None else round(line.km, 3),
                "via_id": line.via,
                "via_name": nodes[line.via].get("name", line.via) if line.via else None,
                "score": line.score,
                "first": line.first,
                "phase_fit": line.demoted is None,
                "schools_near": line.near_count if line.kind in GROUP_KINDS else 0,
                "schools": [
                    school_row(nodes[member], member, km, fit, in_la, rating_of(nodes[member], day))
                    for member, km, fit, in_la in line.schools
                ],
                "parts": parts,
                "reasons": reasons,
            }
        )
    rating = rating_of(nodes[target], day)
    return {
        "target": target,
        "in_difficulty": rating in DIFFICULTY,
        "current_trust": own_group,
        "notes": notes,
        "rules": applied,
        "considered": considered,
        "total": len(lines),
        "candidates": candidates,
    }


def line_reaches(graph: nx.MultiDiGraph, line: Line, trust: str, day: date, index: SupportIndex) -> bool:
    """Whether a candidate line is ``trust``: the trust itself, or a hub or school of it open on ``day``."""
    if line.id == trust:
        return True
    school = line.via or (line.id if line.kind in PROVIDER_KINDS else None)
    return school is not None and trust in _holding(index.groups_of.get(school, ()), day)
