"""Support partners: who could help a school in difficulty, with a score a broker can defend."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_service.analytics.geo import GridIndex, location
from graph_service.analytics.network import (
    MEMBERSHIP_GROUPS,
    PROVIDER_KINDS,
    collaboration_graph,
    node_ties,
    was_open,
)
from graph_service.models import EdgeKind, MemberRole, NodeKind, OfstedRating, Phase

#: Ratings a school needs to be a candidate, with the points each gives.
GOOD_RATINGS = {OfstedRating.OUTSTANDING.value: 1.0, OfstedRating.GOOD.value: 0.75}
DIFFICULTY = frozenset(rating.value for rating in OfstedRating if rating.in_difficulty)
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
#: Ofsted inspections older than this many years score nothing for recency.
RECENCY_YEARS = 6.0
#: FSM percentages this far apart (points) score nothing for similar context.
FSM_SPREAD = 30.0


class SupportWeights(BaseModel):
    """How much each part of the support score counts (relative weights, 0 switches a part off)."""

    model_config = ConfigDict(extra="forbid")

    phase: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="Same (1) or compatible (0.5) phase of education; for schools without a phase "
        "(special, PRU, independent, post-16) the same (1) or overlapping (0.5) statutory age range.",
    )
    distance: float = Field(default=3.0, ge=0, le=100, description="Nearer is better: 1 at 0 km, 0 at the radius.")
    ties: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="Existing ties: 1 for a direct tie or the same trust, federation or partnership, "
        "0.75 for two steps through another organisation, 0.5 for three, 0.25 for four.",
    )
    context: float = Field(
        default=1.0, ge=0, le=100, description="Similar pupil numbers, FSM percentage and urban/rural setting."
    )
    capacity: float = Field(
        default=1.0, ge=0, le=100, description="Spare capacity: 1/(1+n) for n schools it already supports."
    )
    designation: float = Field(
        default=1.0, ge=0, le=100, description="1 for a teaching school hub or a hub's lead school."
    )
    rating: float = Field(default=2.0, ge=0, le=100, description="Its own Ofsted rating: Outstanding 1, Good 0.75.")
    recency: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description=f"How recent its inspection is: 1 when new, 0 after {RECENCY_YEARS:g} years or unknown.",
    )

    @model_validator(mode="after")
    def _some_weight(self) -> SupportWeights:
        if sum(self.model_dump().values()) <= 0:
            raise ValueError("at least one support weight must be above 0")
        return self


PARTS = tuple(SupportWeights.model_fields)


@functools.lru_cache(maxsize=256)  # a pure function of two phase names, asked for every candidate
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
    """How well another provider's stage of education fits a school's: 1 same, 0.5 compatible, 0 not.

    By phase; but when either has no phase of its own (special schools, pupil referral units,
    independent and post-16 institutions are "not applicable" in GIAS), by the statutory age
    ranges: 1 when they share at least half of the narrower range, 0.5 when they overlap at
    all, 0 when they do not or either range is unknown. Without this a special school for
    2 to 11 year olds would be offered a college for 19 to 25 year olds as "the same phase".

    Examples
    --------
    >>> stage_fit({"phase": "primary"}, {"phase": "nursery"})
    (0.5, 'compatible phase: nursery')
    >>> stage_fit({"phase": "not_applicable", "age_low": 2, "age_high": 11},
    ...           {"phase": "primary", "age_low": 4, "age_high": 11})
    (1.0, 'same ages: 4 to 11 (vs 2 to 11)')
    >>> stage_fit({"phase": "not_applicable", "age_low": 2, "age_high": 11},
    ...           {"phase": "not_applicable", "age_low": 19, "age_high": 25})
    (0.0, 'different ages: 19 to 25 (vs 2 to 11)')
    """
    mine, theirs = target.get("phase"), other.get("phase")
    if Phase.NOT_APPLICABLE.value not in (mine, theirs):
        value = phase_compatibility(mine, theirs)
        label = {1.0: "same phase", 0.5: "compatible phase"}.get(value, "different phase")
        return value, f"{label}: {_words(theirs or 'unknown')}"
    low, high = target.get("age_low"), target.get("age_high")
    other_low, other_high = other.get("age_low"), other.get("age_high")
    if low is None or high is None or other_low is None or other_high is None:
        return 0.0, "no phase of education and ages unknown: cannot compare"
    overlap = min(high, other_high) - max(low, other_low)
    narrower = max(1, min(high - low, other_high - other_low))
    value = 0.0 if overlap <= 0 else 1.0 if overlap / narrower >= 0.5 else 0.5
    label = {1.0: "same ages", 0.5: "overlapping ages"}.get(value, "different ages")
    return value, f"{label}: {other_low} to {other_high} (vs {low} to {high})"


def eligible(attrs: Mapping[str, Any], as_at: date | None = None) -> bool:
    """Whether an organisation can be a candidate school: an open provider rated Good or Outstanding."""
    return attrs.get("kind") in PROVIDER_KINDS and attrs.get("ofsted_rating") in GOOD_RATINGS and was_open(attrs, as_at)


def candidate_index(collab: nx.Graph, as_at: date | None = None) -> GridIndex:
    """A grid index of the located schools that :func:`eligible` accepts."""
    points = []
    for node, attrs in collab.nodes(data=True):
        if eligible(attrs, as_at):
            point = location(attrs)
            if point is not None:
                points.append((node, point[0], point[1]))
    return GridIndex(points)


def _words(value: Any) -> str:
    return str(value).replace("_", " ")


def _context(target: Mapping[str, Any], other: Mapping[str, Any]) -> tuple[float, str]:
    parts: list[float] = []
    words: list[str] = []
    pa, pb = target.get("pupils"), other.get("pupils")
    if pa and pb:
        parts.append(min(pa, pb) / max(pa, pb))
        words.append(f"{pb} pupils (vs {pa})")
    fa, fb = target.get("fsm_pct"), other.get("fsm_pct")
    if fa is not None and fb is not None:
        parts.append(max(0.0, 1 - abs(fa - fb) / FSM_SPREAD))
        words.append(f"FSM {fb:g}% (vs {fa:g}%)")
    ua, ub = _setting(target.get("urban_rural")), _setting(other.get("urban_rural"))
    if ua and ub:
        parts.append(1.0 if ua == ub else 0.0)
        words.append(f"both {ua}" if ua == ub else f"{ub} (vs {ua})")
    if not parts:
        return 0.5, "no context to compare (neutral)"
    return sum(parts) / len(parts), "similar context: " + ", ".join(words)


def _setting(text: Any) -> str | None:
    lowered = str(text or "").lower()
    if "rural" in lowered:
        return "rural"
    if "urban" in lowered:
        return "urban"
    return None


def _recency(attrs: Mapping[str, Any], day: date) -> tuple[float, str]:
    inspected = attrs.get("ofsted_date")
    if inspected is None:
        return 0.0, "inspection date unknown"
    years = (day - inspected).days / 365.25
    if years < 0:
        return 1.0, f"inspected {inspected.isoformat()}, after {day.isoformat()}"
    return max(0.0, 1 - years / RECENCY_YEARS), f"inspected {inspected.isoformat()} ({years:.1f} years before)"


def _supports_count(collab: nx.Graph, node: str) -> int:
    return sum(
        1
        for _o, _t, direction, data in node_ties(collab, node)
        if direction == "out" and data.get("kind") == EdgeKind.SUPPORTS.value
    )


def _hubs_led(collab: nx.Graph, node: str) -> list[str]:
    return [
        other
        for other, _t, direction, data in node_ties(collab, node)
        if direction == "out"
        and data.get("kind") == EdgeKind.MEMBER_OF.value
        and data.get("role") == MemberRole.LEAD.value
        and collab.nodes[other].get("kind") == NodeKind.TEACHING_SCHOOL_HUB.value
    ]


def _path_part(collab: nx.Graph, target: str, node: str, steps: Mapping[str, int]) -> tuple[float, str]:
    length = steps.get(node)
    name = collab.nodes[node].get("name", node)
    if length is None:
        return 0.0, f"no path within {max(PATH_POINTS)} steps"
    if length == 1:
        kinds = sorted({_words(tie[3].get("kind")) for tie in collab[target][node]["ties"]})
        return 1.0, f"already tied: {', '.join(kinds)}"
    if length == 2:
        shared = [
            other
            for other in collab[target]
            if other in collab[node] and collab.nodes[other].get("kind") in MEMBERSHIP_GROUPS
        ]
        if shared:
            group = collab.nodes[shared[0]]
            return 1.0, f"same {_words(group.get('kind'))}: {group.get('name', shared[0])}"
        via = next(other for other in collab[target] if other in collab[node])
        return PATH_POINTS[2], f"linked through {collab.nodes[via].get('name', via)}"
    return PATH_POINTS[length], f"{length} steps apart through the network (from {name})"


def _parts(
    values: Mapping[str, tuple[float, str]], weight_of: Mapping[str, float]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each part's value, weight, points and reason; and the reasons that scored, biggest first."""
    total = sum(weight_of.values())
    parts = []
    for name in PARTS:
        value, reason = values[name]
        parts.append(
            {
                "name": name,
                "value": round(value, 4),
                "weight": weight_of[name],
                "points": round(100 * weight_of[name] * value / total, 2),
                "reason": reason,
            }
        )
    scoring = [(weight_of[name] * values[name][0], values[name][1]) for name in PARTS]
    ranked = sorted((item for item in scoring if item[0] > 0), key=lambda item: -item[0])
    return parts, [reason for _points, reason in ranked]


def _score(values: Mapping[str, tuple[float, str]], weight_of: Mapping[str, float]) -> float:
    total = sum(weight_of.values())
    return round(sum(100 * weight * values[name][0] for name, weight in weight_of.items()) / total, 2)


def support_candidates(
    graph: nx.MultiDiGraph,
    target: str,
    as_at: date | None = None,
    *,
    radius_km: float = 15.0,
    weights: SupportWeights | None = None,
    limit: int | None = 10,
    require_phase: bool = True,
    collab: nx.Graph | None = None,
    index: GridIndex | None = None,
) -> dict[str, Any]:
    """Rank the schools, teaching school hubs and trusts that could support ``target``.

    Candidates are open schools rated Good or Outstanding within ``radius_km`` (of a
    compatible phase unless ``require_phase`` is off), the teaching school hubs whose lead
    school is such a school of any phase, and the open trusts that have one of a fitting
    phase as a member (scored through their nearest such school). Schools in difficulty
    are never candidates. Each candidate's score is 100 times the weighted mean of the
    parts in :class:`SupportWeights`, every part shown with its value, weight, points and
    reason. When ``target`` has no location, candidates come from its local authority and
    distance scores nothing.

    Raises ``KeyError`` for an unknown ``target`` and ``ValueError`` when it is not a school.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", name="Weak", phase="primary", ofsted_rating="inadequate",
    ...            latitude=52.48, longitude=-1.89)
    >>> g.add_node("2", kind="school", name="Strong", phase="primary", ofsted_rating="outstanding",
    ...            latitude=52.49, longitude=-1.89)
    >>> g.add_node("3", kind="school", name="Secondary", phase="secondary", ofsted_rating="good",
    ...            latitude=52.48, longitude=-1.88)
    >>> answer = support_candidates(g, "1", date(2025, 1, 1))
    >>> [(c["id"], c["score"]) for c in answer["candidates"]]
    [('2', 63.67)]
    """
    day = as_at or date.today()
    collab = collab if collab is not None else collaboration_graph(graph, as_at)
    weights = weights or SupportWeights()
    attrs = collab.nodes[target]
    if attrs.get("kind") not in PROVIDER_KINDS:
        raise ValueError(f"{target} is a {_words(attrs.get('kind'))}, not a school: support is for schools")
    notes: list[str] = []
    rating = attrs.get("ofsted_rating")
    in_difficulty = rating in DIFFICULTY
    if not in_difficulty:
        state = f"rated {_words(rating)}" if rating else "not rated"
        notes.append(f"{attrs.get('name', target)} is {state}, not in difficulty; candidates are listed all the same")
    phase = attrs.get("phase")
    if phase is None:
        notes.append("its phase is unknown: phase is neither required nor scored")
    point = location(attrs)
    if point is not None:
        index = index if index is not None else candidate_index(collab, as_at)
        pool: Iterable[tuple[str, float | None]] = index.within(point[0], point[1], radius_km)
    else:
        notes.append("its location is unknown: candidates come from its local authority and distance scores nothing")
        pool = [
            (node, None)
            for node, other in collab.nodes(data=True)
            if other.get("la_code") == attrs.get("la_code") and eligible(other, as_at)
        ]
    steps = nx.single_source_shortest_path_length(collab, target, cutoff=max(PATH_POINTS))

    def phase_part(other: Mapping[str, Any]) -> tuple[float, str]:
        if phase is None:
            return 0.5, "phase not compared (unknown)"
        return stage_fit(attrs, other)

    def distance_part(km: float | None) -> tuple[float, str]:
        if km is None:
            return 0.0, "distance unknown"
        return max(0.0, 1 - km / radius_km), f"{km:.1f} km away"

    def school_values(
        node: str, km: float | None, fit: tuple[float, str] | None = None
    ) -> dict[str, tuple[float, str]]:
        other = collab.nodes[node]
        supported = _supports_count(collab, node)
        hubs = _hubs_led(collab, node)
        return {
            "phase": phase_part(other) if fit is None else fit,
            "distance": distance_part(km),
            "ties": _path_part(collab, target, node, steps),
            "context": _context(attrs, other),
            "capacity": (1 / (1 + supported), f"already supports {supported} school(s)"),
            "designation": (1.0, f"lead school of {collab.nodes[hubs[0]].get('name', hubs[0])}")
            if hubs
            else (0.0, "no designation"),
            "rating": (GOOD_RATINGS[other["ofsted_rating"]], f"rated {_words(other['ofsted_rating'])}"),
            "recency": _recency(other, day),
        }

    weight_of = weights.model_dump()
    # (score, candidate id, km, values, via, extra reason): parts are spelt out for those shown only.
    scored: list[tuple[float, str, float | None, dict[str, tuple[float, str]], str | None, str | None]] = []
    nearby: dict[str, list[tuple[str, float | None]]] = {}
    considered = 0
    for node, km in pool:
        if node == target:
            continue
        fit = stage_fit(attrs, collab.nodes[node]) if phase is not None else None
        fits = not require_phase or fit is None or fit[0] > 0
        if not fits and not _hubs_led(collab, node):
            continue
        values = school_values(node, km, fit)  # also the base of its hub's values, whatever its phase
        if fits:
            considered += 1
            scored.append((_score(values, weight_of), node, km, values, None, None))
        for group, _t, direction, data in node_ties(collab, node):
            if direction != "out" or data.get("kind") != EdgeKind.MEMBER_OF.value:
                continue
            group_kind = collab.nodes[group].get("kind")
            if fits and group_kind == NodeKind.TRUST.value and was_open(collab.nodes[group], as_at):
                nearby.setdefault(group, []).append((node, km))
            elif group_kind == NodeKind.TEACHING_SCHOOL_HUB.value and data.get("role") == MemberRole.LEAD.value:
                # A hub serves every phase, whatever its lead school's.
                supported = _supports_count(collab, group)
                hub_values = {
                    **values,
                    "phase": (1.0, "teaching school hubs serve every phase"),
                    "ties": _path_part(collab, target, group, steps),
                    "context": (0.5, "context not compared for a hub (neutral)"),
                    "capacity": (1 / (1 + supported), f"already supports {supported} school(s)"),
                    "designation": (1.0, "teaching school hub"),
                }
                scored.append((_score(hub_values, weight_of), group, km, hub_values, node, None))
    for trust, members in nearby.items():
        node, km = members[0]  # the pool is nearest first
        supported = _supports_count(collab, trust)
        trust_values = {
            **school_values(node, km),
            "ties": _path_part(collab, target, trust, steps),
            "capacity": (1 / (1 + supported), f"already supports {supported} school(s)"),
            "designation": (0.0, "no designation"),
        }
        names = ", ".join(str(collab.nodes[m].get("name", m)) for m, _ in members[:3])
        extra = f"{len(members)} good or outstanding member school(s) near by: {names}"
        scored.append((_score(trust_values, weight_of), trust, km, trust_values, node, extra))

    def order(item: tuple[float, str, float | None, Any, Any, Any]) -> tuple[float, bool, float, str, str]:
        score, node, km = item[0], item[1], item[2]
        return -score, km is None, km or 0.0, str(collab.nodes[node].get("name", node)), node

    scored.sort(key=order)
    shown = scored if limit is None else scored[:limit]
    candidates = []
    for rank, (score, org, org_km, values, via, members_note) in enumerate(shown, start=1):
        parts, reasons = _parts(values, weight_of)
        if members_note:
            reasons.append(members_note)
        attrs_shown = collab.nodes[via] if via else collab.nodes[org]
        candidates.append(
            {
                "rank": rank,
                "id": org,
                "kind": collab.nodes[org].get("kind"),
                "name": collab.nodes[org].get("name", org),
                "phase": collab.nodes[org].get("phase"),
                "ofsted_rating": attrs_shown.get("ofsted_rating"),
                "ofsted_date": attrs_shown.get("ofsted_date"),
                "distance_km": None if org_km is None else round(org_km, 3),
                "via_id": via,
                "via_name": attrs_shown.get("name", via) if via else None,
                "score": score,
                "parts": parts,
                "reasons": reasons,
            }
        )
    return {
        "target": target,
        "in_difficulty": in_difficulty,
        "notes": notes,
        "considered": considered,
        "total": len(scored),
        "candidates": candidates,
    }
