"""Isolated, weakly connected and remote schools, and area summaries of collaboration."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx
import numpy as np

from graph_service.analytics.geo import EARTH_RADIUS_KM, haversine_km, location
from graph_service.analytics.network import (
    PROVIDER_KINDS,
    CollaborationTimeline,
    SchoolFilter,
    collaboration_graph,
    in_group,
    is_loose,
    iter_partners,
    node_ties,
    selected,
)
from graph_service.analytics.standing import rating_history, rating_on, standing_on
from graph_service.models import RATING_RISK, OfstedRating

#: Risk of a school with no rating: as uncertain as "insufficient evidence".
UNRATED_RISK = RATING_RISK[OfstedRating.INSUFFICIENT_EVIDENCE]
#: Fields of a school copied into each answer.
SCHOOL_FIELDS = (
    "urn",
    "name",
    "kind",
    "phase",
    "subtype",
    "type_name",
    "status",
    "la_code",
    "local_authority",
    "district",
    "constituency",
    "latitude",
    "longitude",
    "ofsted_rating",
    "ofsted_date",
)


_ISOLATED = ("isolated",)
#: Risk points of each rating (by value), for the risk order of the isolated-schools answer.
RISK_POINTS = {rating.value: points for rating, points in RATING_RISK.items()}


def risk(attrs: Mapping[str, Any], day: date | None = None) -> int:
    """Risk of a school from its Ofsted standing on ``day`` (higher is worse; unrated counts as uncertain).

    Examples
    --------
    >>> risk({"ofsted_rating": "special_measures"}), risk({"ofsted_rating": "good"}), risk({})
    (5, 0, 1)
    >>> school = {"ofsted_rating": "good", "inspections": [{"date": date(2022, 1, 5), "kind": "graded", "overall": 4},
    ...                                                    {"date": date(2024, 3, 1), "kind": "graded", "overall": 2}]}
    >>> risk(school, date(2023, 1, 1)), risk(school, date(2025, 1, 1))
    (4, 0)
    """
    return RISK_POINTS.get(rating_on(attrs, day) or "", UNRATED_RISK)


@dataclass(frozen=True, eq=False)
class RiskHistory:
    """Every organisation's :func:`risk` on any day, from its inspections read once per graph.

    Positions are those of a :class:`~graph_service.analytics.network.CollaborationTimeline`.
    Organisations with no judging inspection have one risk whatever the day (``steady``); the
    others' judging inspections are kept in ``days`` and ``points`` (ordinals and risk points,
    each organisation's in date order, from ``starts[i]`` for the organisation at ``owners[i]``),
    so that a day is a few array operations for all of England.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", ofsted_rating="good")
    >>> g.add_node("2", inspections=[{"date": date(2020, 1, 1), "kind": "graded", "overall": 4},
    ...                              {"date": date(2022, 1, 1), "kind": "graded", "overall": 1}])
    >>> from graph_service.analytics.network import collaboration_timeline
    >>> history = risk_history(collaboration_timeline(g))
    >>> [history.on(day).tolist() for day in (date(2019, 1, 1), date(2021, 1, 1), date(2023, 1, 1))]
    [[0, 1], [0, 4], [0, 0]]
    """

    steady: np.ndarray
    owners: np.ndarray
    starts: np.ndarray
    days: np.ndarray
    points: np.ndarray

    def on(self, day: date) -> np.ndarray:
        """Risk points of every organisation on ``day``, by position."""
        found = self.steady.copy()
        if len(self.owners):
            # The last judging inspection on or before the day, per organisation; none yet: unrated.
            seen = np.where(self.days <= day.toordinal(), np.arange(len(self.days)), -1)
            last = np.maximum.reduceat(seen, self.starts)
            found[self.owners] = np.where(last >= self.starts, self.points[np.maximum(last, 0)], UNRATED_RISK)
        return found


_histories: weakref.WeakKeyDictionary[CollaborationTimeline, RiskHistory] = weakref.WeakKeyDictionary()


def risk_history(timeline: CollaborationTimeline) -> RiskHistory:
    """The :class:`RiskHistory` of a timeline's organisations, made on first use and kept with it."""
    known = _histories.get(timeline)
    if known is not None:
        return known
    steady: list[int] = []
    owners: list[int] = []
    starts: list[int] = []
    days: list[int] = []
    points: list[int] = []
    for position, attrs in enumerate(timeline.nodes.values()):
        history = rating_history(attrs)
        if history is None:
            steady.append(RISK_POINTS.get(attrs.get("ofsted_rating") or "", UNRATED_RISK))
            continue
        steady.append(UNRATED_RISK)
        if history:
            owners.append(position)
            starts.append(len(days))
            for day, rating in history:
                days.append(day.toordinal())
                points.append(RISK_POINTS.get(rating or "", UNRATED_RISK))
    known = RiskHistory(
        steady=np.array(steady, dtype=np.int64),
        owners=np.array(owners, dtype=np.int64),
        starts=np.array(starts, dtype=np.int64),
        days=np.array(days, dtype=np.int64),
        points=np.array(points, dtype=np.int64),
    )
    _histories[timeline] = known
    return known


def _tie_row(collab: nx.Graph, other: str, tie_id: str, direction: str, data: Mapping[str, Any]) -> dict[str, Any]:
    other_attrs = collab.nodes[other]
    return {
        "id": tie_id,
        "kind": data.get("kind"),
        "direction": direction,
        "other_id": other,
        "other_name": other_attrs.get("name", other),
        "other_kind": other_attrs.get("kind"),
        "level": data.get("level"),
        "role": data.get("role"),
        "focus": data.get("focus"),
        "since": data.get("since"),
        "until": data.get("until"),
    }


def nearest_partner(collab: nx.Graph, node: str, within_km: float | None = None) -> dict[str, Any] | None:
    """The nearest located partner of a node (see :func:`~graph_service.analytics.network.iter_partners`), or ``None``.

    With ``within_km``, stop at the first partner that close (any such partner answers
    "is there a partner within D km?"; the caller wants the exact nearest only otherwise).
    """
    here = location(collab.nodes[node])
    if here is None:
        return None
    best: tuple[float, str, str | None] | None = None
    for partner, via in iter_partners(collab, node):
        there = location(collab.nodes[partner])
        if there is None:
            continue
        km = haversine_km(here[0], here[1], there[0], there[1])
        if best is not None and km >= best[0]:
            continue
        best = (km, partner, via)
        if within_km is not None and km <= within_km:
            break
    if best is None:
        return None
    km, partner, via = best
    return {
        "id": partner,
        "name": collab.nodes[partner].get("name", partner),
        "kind": collab.nodes[partner].get("kind"),
        "distance_km": round(km, 3),
        "via_id": via,
        "via_name": collab.nodes[via].get("name", via) if via else None,
    }


def _partner_table(collab: nx.Graph) -> dict[str | None, tuple[list[str], np.ndarray]]:
    """Open located schools that collaborate on the collaboration graph's day, by phase (``None``: every phase).

    Made once per collaboration graph and kept in it: each value is ``(ids, radians array of shape (n, 2))``.
    """
    kept: dict[str | None, tuple[list[str], np.ndarray]] | None = collab.graph.get("possible_partners")
    if kept is not None:
        return kept
    nodes = collab.nodes
    by_phase: dict[str | None, list[tuple[str, tuple[float, float]]]] = defaultdict(list)
    for node in selected(collab, SchoolFilter(), collab.graph.get("as_at")):
        here = location(nodes[node])
        if here is not None and node_ties(collab, node):
            by_phase[nodes[node].get("phase")].append((node, here))
            by_phase[None].append((node, here))
    kept = {
        phase: ([node for node, _ in rows], np.radians(np.array([point for _, point in rows], dtype=np.float64)))
        for phase, rows in by_phase.items()
    }
    collab.graph["possible_partners"] = kept
    return kept


def nearest_possible_partner(collab: nx.Graph, node: str) -> dict[str, Any] | None:
    """The nearest open school that collaborates on the day, of the school's phase (any phase when none does).

    What an isolated school's "nearest partner" is: it has no partner of its own, so the nearest
    school it could turn to (the maps draw the same lines). ``None`` for a school without a location.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("i", kind="school", name="I", status="open", phase="primary", latitude=52.0, longitude=-2.0)
    >>> g.add_node("s", kind="school", name="S", status="open", phase="secondary", latitude=52.01, longitude=-2.0)
    >>> g.add_node("p", kind="school", name="P", status="open", phase="primary", latitude=52.1, longitude=-2.0)
    >>> g.add_node("t", kind="trust", name="T", status="open")
    >>> g.add_edges_from([("s", "t", "a", {"kind": "member_of"}), ("p", "t", "b", {"kind": "member_of"})])
    ['a', 'b']
    >>> found = nearest_possible_partner(collaboration_graph(g, date(2025, 1, 1)), "i")
    >>> found["name"], found["kind"], found["distance_km"], found["possible"]
    ('P', 'school', 11.12, True)
    """
    attrs = collab.nodes[node]
    here = location(attrs)
    if here is None:
        return None
    table = _partner_table(collab)
    ids, points = table.get(attrs.get("phase")) or table.get(None) or ([], np.empty((0, 2)))
    if not ids:
        return None
    lat, lon = np.radians(here[0]), np.radians(here[1])
    # Haversine against every candidate at once: a whole-England list stays a few milliseconds a school.
    lats, lons = points[:, 0], points[:, 1]
    h = np.sin((lats - lat) / 2) ** 2 + np.cos(lat) * np.cos(lats) * np.sin((lons - lon) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    if ids[int(np.argmin(km))] == node:
        km[int(np.argmin(km))] = np.inf
    best = int(np.argmin(km))
    if not np.isfinite(km[best]):
        return None
    partner = ids[best]
    return {
        "id": partner,
        "name": collab.nodes[partner].get("name", partner),
        "kind": collab.nodes[partner].get("kind"),
        "distance_km": round(float(km[best]), 3),
        "via_id": None,
        "via_name": None,
        "possible": True,
    }


def isolated(
    graph: nx.MultiDiGraph,
    as_at: date | None = None,
    *,
    flt: SchoolFilter | None = None,
    max_ties: int = 0,
    loose: bool = False,
    remote_km: float | None = None,
    offset: int = 0,
    limit: int | None = None,
    collab: nx.Graph | None = None,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Schools with no current collaboration tie, and optionally weakly connected or remote ones.

    A school is listed when one of these holds on ``as_at`` (today when omitted):

    - ``isolated``: no collaboration tie at all (``maintained_by`` does not count);
    - ``weak``: at most ``max_ties`` ties (when ``max_ties`` > 0);
    - ``loose``: every tie is loose collaboration (when ``loose``);
    - ``remote``: no partner within ``remote_km`` km (when given).

    Membership of a trust counts as a tie even when the school is the trust's only member.
    Schools are sorted by risk (worst Ofsted rating first), then name and id. Returns
    ``{"total": number listed, "rows": [...]}`` with the rows from ``offset`` (at most
    ``limit``), each saying why the school is listed, with its ties and nearest partner
    (rows are spelt out for the page only, so a first page of England is quick). Pass
    ``collab`` (the :func:`collaboration_graph` of ``graph`` on ``as_at``) to reuse one, and
    ``only`` to consider no schools but these (a database's pre-selection on a subgraph).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", name="A", status="open", ofsted_rating="good")
    >>> g.add_node("2", kind="school", name="B", status="open", ofsted_rating="inadequate")
    >>> g.add_node("3", kind="school", name="C", status="open")
    >>> g.add_node("la-1", kind="local_authority", name="LA")
    >>> g.add_edge("1", "3", key="f", kind="federated_with", level="soft")
    'f'
    >>> g.add_edge("2", "la-1", key="m", kind="maintained_by")
    'm'
    >>> answer = isolated(g, date(2025, 1, 1))
    >>> answer["total"], [(row["id"], row["criteria"]) for row in answer["rows"]]
    (1, [('2', ['isolated'])])
    >>> [row["id"] for row in isolated(g, date(2025, 1, 1), max_ties=1)["rows"]]
    ['2', '3', '1']
    """
    collab = collab if collab is not None else collaboration_graph(graph, as_at)
    day = collab.graph.get("day") or as_at or date.today()
    nodes = collab.nodes
    timeline: CollaborationTimeline = collab.graph["timeline"]
    candidates = selected(collab, flt or SchoolFilter(), as_at)
    if only is not None:
        candidates = [node for node in candidates if node in only]
    positions = np.fromiter((timeline.position[node] for node in candidates), dtype=np.int64, count=len(candidates))
    untied = collab.graph["tie_counts"][positions] == 0
    criteria_of: dict[str, tuple[str, ...]] = {}
    nearest_of: dict[str, dict[str, Any] | None] = {}
    if max_ties or loose or remote_km is not None:
        # Tied schools listed for another criterion: their ties are read; the rest are not.
        listed = untied.copy()
        for at in np.flatnonzero(~untied).tolist():
            node = candidates[at]
            ties = node_ties(collab, node)
            found = []
            if max_ties and len(ties) <= max_ties:
                found.append("weak")
            if loose and all(is_loose(collab, other, data) for other, _id, _dir, data in ties):
                found.append("loose")
            if remote_km is not None:
                nearest = nearest_of[node] = nearest_partner(collab, node, within_km=remote_km)
                if nearest is None or nearest["distance_km"] > remote_km:
                    found.append("remote")
            if found:
                listed[at] = True
                criteria_of[node] = tuple(found)
        positions = positions[listed]
    else:
        positions = positions[untied]
    every_risk = risk_history(timeline).on(day)
    # Worst risk first, then by name and id.
    ranked = positions[np.lexsort((timeline.ranks[positions], -every_risk[positions]))]
    page = ranked[offset:] if limit is None else ranked[offset : offset + limit]
    rows = []
    for node, node_points in zip(timeline.ids[page].tolist(), every_risk[page].tolist(), strict=True):
        criteria = criteria_of.get(node, _ISOLATED)
        nearest = nearest_of.get(node)
        ties = node_ties(collab, node)
        if ties and "remote" not in criteria:
            # The remote check stops at the first partner close enough; the answer shows the nearest.
            nearest = nearest_partner(collab, node)
        elif not ties and only is None:
            # Not on a narrowed graph (a database's pre-selection): it lacks the schools to choose from.
            nearest = nearest_possible_partner(collab, node)
        attrs = nodes[node]
        row = {"id": node, **{field: attrs.get(field) for field in SCHOOL_FIELDS}}
        standing = standing_on(attrs, day)
        inspection = standing.inspection if standing is not None else None
        row.update(
            # The standing in force on the day, not the latest known (analytics.standing).
            ofsted_rating=standing.rating if standing is not None else None,
            ofsted_date=inspection["date"] if inspection is not None else row["ofsted_date"] if standing else None,
            standing_basis=standing.basis if standing is not None else None,
            judgements=(standing.judgements or None) if standing is not None else None,
            judged_urn=standing.judged_urn if standing is not None else None,
            inherited=standing.inherited if standing is not None else False,
            name=attrs.get("name", node),
            risk=node_points,
            tie_count=len(ties),
            ties=[_tie_row(collab, other, tie_id, direction, data) for other, tie_id, direction, data in ties],
            nearest_partner=nearest,
            criteria=list(criteria),
            reasons=_reasons(collab, node, ties, criteria, nearest, day, max_ties, remote_km),
        )
        rows.append(row)
    return {"total": len(ranked), "rows": rows}


def _reasons(
    collab: nx.Graph,
    node: str,
    ties: list[tuple[str, str, str, dict[str, Any]]],
    criteria: tuple[str, ...],
    nearest: Mapping[str, Any] | None,
    day: date,
    max_ties: int,
    remote_km: float | None,
) -> list[str]:
    reasons = []
    if "isolated" in criteria:
        reasons.append(f"no collaboration tie on {day.isoformat()}" + _administrative(collab, node))
    if "weak" in criteria:
        reasons.append(f"{len(ties)} collaboration tie(s), at most {max_ties}: {_tie_words(collab, ties)}")
    if "loose" in criteria:
        reasons.append(f"only loose collaboration: {_tie_words(collab, ties)}")
    if "remote" in criteria:
        where = (
            f"nearest is {nearest['name']} at {nearest['distance_km']:.1f} km"
            if nearest
            else "no partner with a known location"
        )
        reasons.append(f"no partner within {remote_km:g} km ({where})")
    return reasons


def _administrative(collab: nx.Graph, node: str) -> str:
    """The administrative ties a school has, in words, to show they were seen and not counted."""
    names = collab.graph.get("administrative", {}).get(node)
    return f" (maintained by {', '.join(sorted(names))}: administrative, not counted)" if names else ""


def _tie_words(collab: nx.Graph, ties: list[tuple[str, str, str, dict[str, Any]]]) -> str:
    words = []
    for other, _tie_id, _direction, data in ties:
        detail = data.get("level") or data.get("role") or data.get("focus")
        kind = str(data.get("kind", "")).replace("_", " ")
        name = collab.nodes[other].get("name", other)
        words.append(f"{kind} {name}" + (f" ({detail})" if detail else ""))
    return "; ".join(words)


#: Attributes an area summary may group by.
GROUP_BY = ("local_authority", "district", "constituency", "phase")


def area_summary(
    graph: nx.MultiDiGraph,
    as_at: date | None = None,
    *,
    group_by: str | None = "local_authority",
    flt: SchoolFilter | None = None,
    collab: nx.Graph | None = None,
) -> list[dict[str, Any]]:
    """Per area: schools, share in a trust, federation or partnership, isolated, islands.

    An island is a set of the area's schools joined through the area's schools and
    organisations that are not providers (trusts, federations, hubs, sponsors...), never
    through a school outside the area. ``islands`` counts those of two or more schools;
    ``single_school_islands`` counts the schools that share an island with no other school
    of the area (isolated schools, and schools whose partners are all elsewhere).
    With ``group_by=None`` the whole filtered set is one area, ``"all"``.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for n in "123":
    ...     g.add_node(n, kind="school", name=n, status="open", local_authority="X")
    >>> g.add_node("t", kind="trust", name="T")
    >>> g.add_edge("1", "t", key="a", kind="member_of")
    'a'
    >>> g.add_edge("2", "t", key="b", kind="member_of")
    'b'
    >>> row = area_summary(g, date(2025, 1, 1))[0]
    >>> row["schools"], row["in_group"], row["isolated"], row["island_sizes"]
    (3, 2, 1, [2])
    """
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY} or None, not {group_by!r}")
    collab = collab if collab is not None else collaboration_graph(graph, as_at)
    areas: dict[str, list[str]] = defaultdict(list)
    for node in selected(collab, flt or SchoolFilter(), as_at):
        key = "all" if group_by is None else collab.nodes[node].get(group_by)
        areas[str(key) if key is not None else "(unknown)"].append(node)
    rows = []
    for area in sorted(areas):
        schools = areas[area]
        sizes = _island_sizes(collab, set(schools))
        grouped = sum(1 for node in schools if in_group(collab, node))
        alone = sum(1 for node in schools if not node_ties(collab, node))
        rows.append(
            {
                "area": area,
                "schools": len(schools),
                "in_group": grouped,
                "in_group_share": round(grouped / len(schools), 4),
                "isolated": alone,
                "isolated_share": round(alone / len(schools), 4),
                "islands": sum(1 for size in sizes if size > 1),
                "largest_island": sizes[0] if sizes else 0,
                "island_sizes": [size for size in sizes if size > 1],
                "single_school_islands": sum(1 for size in sizes if size == 1),
            }
        )
    return rows


def _island_sizes(collab: nx.Graph, schools: set[str]) -> list[int]:
    """Numbers of area schools per island, largest first."""
    seen: set[str] = set()
    sizes = []
    for start in sorted(schools):
        if start in seen:
            continue
        seen.add(start)
        stack, count = [start], 0
        while stack:
            node = stack.pop()
            if node in schools:
                count += 1
            for other in collab[node]:
                if other in seen:
                    continue
                if other in schools or collab.nodes[other].get("kind") not in PROVIDER_KINDS:
                    seen.add(other)
                    stack.append(other)
        sizes.append(count)
    return sorted(sizes, reverse=True)
