"""Collaboration by area and over time: the school-school projection, area measures and the panel.

Everything that does not depend on the date is worked out once per graph (:class:`Projection`):
which schools count, their memberships with their spans, and every pair of schools that a
shared group or a direct tie could join, with the span over which it could. A date is then
array filters (:meth:`Projection.on`), so a yearly series of every area, or a panel of every
school in every year, costs a few array passes per date rather than a new graph. The measures
are defined, with their references, in docs/questions.md ("Collaboration by area and over time").
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx
import numpy as np

from graph_service.analytics.network import (
    CollaborationTimeline,
    _holding,
    _ordinals,
    collaboration_timeline,
)
from graph_service.analytics.standing import standing_on
from graph_service.models import EdgeKind, NodeKind, SchoolType

#: Groups whose members the projection ties to one another, and direct ties between two schools,
#: with the weight of the tie each gives: a shared governing body or trust board, or support, counts
#: fully; a hub, alliance, partnership or shared project half.
KIND_WEIGHTS: dict[str, float] = {
    NodeKind.TRUST.value: 1.0,
    NodeKind.FEDERATION.value: 1.0,
    NodeKind.TEACHING_SCHOOL_HUB.value: 0.5,
    NodeKind.TEACHING_SCHOOL_ALLIANCE.value: 0.5,
    NodeKind.PARTNERSHIP.value: 0.5,
    EdgeKind.FEDERATED_WITH.value: 1.0,
    EdgeKind.SUPPORTS.value: 1.0,
    EdgeKind.COLLABORATES_ON.value: 0.5,
}
_KINDS = list(KIND_WEIGHTS)
_CODE = {kind: code for code, kind in enumerate(_KINDS)}
_WEIGHT = np.array([KIND_WEIGHTS[kind] for kind in _KINDS])
_TRUST = _CODE[NodeKind.TRUST.value]
_FEDERATION = _CODE[NodeKind.FEDERATION.value]
_FEDERATED_WITH = _CODE[EdgeKind.FEDERATED_WITH.value]
_SCHOOL = NodeKind.SCHOOL.value
#: School types the panel and the area measures leave out: not state-funded (as in areas.NOT_STATE_FUNDED).
_NOT_STATE_FUNDED = frozenset({SchoolType.INDEPENDENT.value, SchoolType.OTHER.value})
#: Groups whose members are tied to one another in the projection.
_GROUPS = frozenset(kind for kind in KIND_WEIGHTS if kind in {k.value for k in NodeKind})
#: Ways of grouping schools into areas, and the school attribute each reads.
AREA_FIELDS = {"la": "la_code", "district": "district", "region": "region"}
_DIGITS = 4


def state_funded(attrs: Mapping[str, Any]) -> bool:
    """Whether an organisation is a state-funded school: what the area measures and the panel count.

    >>> state_funded({"kind": "school", "subtype": "academy_converter"}), state_funded({"kind": "school",
    ...     "subtype": "independent"}), state_funded({"kind": "trust"})
    (True, False, False)
    """
    return attrs.get("kind") == _SCHOOL and attrs.get("subtype") not in _NOT_STATE_FUNDED


@dataclass(frozen=True, eq=False)
class Projection:
    """The date-free part of the school-school projection of a graph (see :func:`projection`).

    Schools are numbered 0..n-1 in id order; groups 0..g-1 in id order.
    """

    timeline: CollaborationTimeline
    #: Each school's position in the timeline, and its id.
    positions: np.ndarray
    ids: list[str]
    #: Memberships of a group by a school: school, group, kind code, span (ordinals, both ends in).
    member_school: np.ndarray
    member_group: np.ndarray
    member_kind: np.ndarray
    member_since: np.ndarray
    member_until: np.ndarray
    group_ids: list[str]
    #: Pairs of schools (``pair_a < pair_b``) a shared group or a direct tie joins, its kind code, span.
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_kind: np.ndarray
    pair_since: np.ndarray
    pair_until: np.ndarray
    #: Collaboration ties (any kind, any other end) of each school, as positions into the timeline's
    #: ties: a school with none holding on a date is isolated (as the isolated-schools question says).
    tie_school: np.ndarray
    tie_index: np.ndarray
    #: Predecessors and successors (ids) of each school, through GIAS's links.
    predecessors: dict[str, list[str]]
    successors: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.ids)

    def on(self, day: date) -> Snapshot:
        """The projection and each school's memberships on ``day``: array filters, no graph."""
        timeline, n = self.timeline, len(self.ids)
        is_open = timeline.open_mask(day)[self.positions]
        held = _holding(self.member_since, self.member_until, day) & is_open[self.member_school]
        schools, groups, kinds = self.member_school[held], self.member_group[held], self.member_kind[held]
        trust = _first_group(schools[kinds == _TRUST], groups[kinds == _TRUST], n)
        federation = _first_group(schools[kinds == _FEDERATION], groups[kinds == _FEDERATION], n)
        tied = _holding(timeline.tie_since[self.tie_index], timeline.tie_until[self.tie_index], day)
        isolated = is_open & (np.bincount(self.tie_school[tied], minlength=n) == 0)
        pairs = _holding(self.pair_since, self.pair_until, day) & is_open[self.pair_a] & is_open[self.pair_b]
        a, b, kind = self.pair_a[pairs], self.pair_b[pairs], self.pair_kind[pairs]
        keys, inverse = np.unique(a * n + b, return_inverse=True)
        weight = np.zeros(len(keys))
        np.maximum.at(weight, inverse, _WEIGHT[kind])
        trust_pair = np.zeros(len(keys), dtype=bool)
        trust_pair[inverse[kind == _TRUST]] = True
        federated = np.zeros(n, dtype=bool)
        federated[a[kind == _FEDERATED_WITH]] = True
        federated[b[kind == _FEDERATED_WITH]] = True
        edge_a, edge_b = keys // n, keys % n
        return Snapshot(
            projection=self,
            day=day,
            open=is_open,
            trust=trust,
            federation=federation,
            in_federation=(federation >= 0) | federated,
            isolated=isolated,
            edge_a=edge_a,
            edge_b=edge_b,
            edge_weight=weight,
            edge_in_trust=trust_pair,
            degree=_count_ends(edge_a, edge_b, n),
            strength=np.bincount(edge_a, weight, minlength=n) + np.bincount(edge_b, weight, minlength=n),
            across=_count_ends(edge_a[~trust_pair], edge_b[~trust_pair], n),
        )


def _first_group(schools: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Per school, the first (lowest numbered, so first by id) group it is in, or -1."""
    found = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(found, schools, groups)
    found[found == np.iinfo(np.int64).max] = -1
    return found


def _count_ends(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(a, minlength=n) + np.bincount(b, minlength=n)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The projection on one day. Arrays are per school (in :class:`Projection` order) or per edge."""

    projection: Projection
    day: date
    open: np.ndarray
    #: The first trust and federation (group numbers) each school is a member of, or -1.
    trust: np.ndarray
    federation: np.ndarray
    #: In a federation: a membership, or a federation tie to another school.
    in_federation: np.ndarray
    #: Open and without any collaboration tie (the isolated-schools question's rule).
    isolated: np.ndarray
    #: The projection's edges (``edge_a < edge_b``), the strongest kind's weight, whether they share a trust.
    edge_a: np.ndarray
    edge_b: np.ndarray
    edge_weight: np.ndarray
    edge_in_trust: np.ndarray
    #: Per school: partners in the projection, their summed weights, and partners outside its trust.
    degree: np.ndarray
    strength: np.ndarray
    across: np.ndarray

    def components(self, area: np.ndarray) -> np.ndarray:
        """Component labels of the projection kept within areas (ties between two areas cut).

        Each school's label is the lowest school number it reaches: labels are lowered across
        edges and followed to their own labels until nothing changes, a few array passes for
        England (components are trusts and their partners, a few steps across).
        """
        same = area[self.edge_a] == area[self.edge_b]
        return _components(len(area), self.edge_a[same], self.edge_b[same])


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The lowest node each node is connected to, for the undirected edges ``a[i]-b[i]``.

    >>> _components(5, np.array([0, 3, 1]), np.array([1, 4, 2])).tolist()
    [0, 0, 0, 3, 3]
    """
    labels = np.arange(n, dtype=np.int64)
    while True:
        before = labels.copy()
        low = np.minimum(labels[a], labels[b])
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        while True:  # follow each label to its own label: a chain of length k takes log k steps
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


#: Per graph (a projection holds its timeline, which holds nothing of the graph object itself: keyed by
#: the timeline, an entry would keep its own key alive and never drop out).
_projections: weakref.WeakKeyDictionary[nx.MultiDiGraph, Projection] = weakref.WeakKeyDictionary()


def projection(graph: nx.MultiDiGraph, timeline: CollaborationTimeline | None = None) -> Projection:
    """The school-school projection of ``graph`` for every date at once; kept while the graph lives.

    Two state-funded schools are tied on a day when both are open and members of one trust,
    federation, teaching school hub, alliance or partnership then, or joined by a direct
    federation, support or collaboration tie that holds then (:data:`KIND_WEIGHTS`).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for urn in "123":
    ...     g.add_node(urn, kind="school", subtype="community", name=urn)
    >>> g.add_node("t", kind="trust", name="T")
    >>> _ = g.add_edge("1", "t", key="a", kind="member_of")
    >>> _ = g.add_edge("2", "t", key="b", kind="member_of", since=date(2020, 9, 1))
    >>> _ = g.add_edge("3", "2", key="c", kind="supports")
    >>> p = projection(g)
    >>> snap = p.on(date(2021, 1, 1))
    >>> snap.degree.tolist(), snap.across.tolist(), p.on(date(2019, 1, 1)).degree.tolist()
    ([1, 2, 1], [0, 1, 1], [0, 1, 1])
    """
    known = _projections.get(graph)
    if known is not None:
        return known
    timeline = timeline or collaboration_timeline(graph)
    nodes = timeline.nodes
    ids = [node for node, attrs in nodes.items() if state_funded(attrs)]
    number = {node: i for i, node in enumerate(ids)}
    group_ids = sorted(node for node, attrs in nodes.items() if attrs.get("kind") in _GROUPS)
    group_number = {node: i for i, node in enumerate(group_ids)}
    members: list[tuple[int, int, int, dict[str, Any]]] = []
    direct: list[tuple[int, int, int, dict[str, Any]]] = []
    tie_school: list[int] = []
    tie_index: list[int] = []
    for index, ((_first, _second), _tie_id, source, target, data) in enumerate(timeline.ties):
        kind = data.get("kind")
        for end in (source, target):
            if end in number:
                tie_school.append(number[end])
                tie_index.append(index)
        if kind == EdgeKind.MEMBER_OF.value and source in number and target in group_number:
            members.append((number[source], group_number[target], _CODE[nodes[target]["kind"]], data))
        elif kind in _CODE and source in number and target in number and source != target:
            a, b = sorted((number[source], number[target]))
            direct.append((a, b, _CODE[kind], data))
    member_since = _ordinals([data.get("since") for *_rest, data in members], -1)
    member_until = _ordinals([data.get("until") for *_rest, data in members], 2**31 - 1)
    pairs = _group_pairs(members, member_since, member_until)
    pair_parts = [
        pairs,
        (
            np.array([t[0] for t in direct], dtype=np.int64),
            np.array([t[1] for t in direct], dtype=np.int64),
            np.array([t[2] for t in direct], dtype=np.int64),
            _ordinals([t[3].get("since") for t in direct], -1),
            _ordinals([t[3].get("until") for t in direct], 2**31 - 1),
        ),
    ]
    predecessors: dict[str, list[str]] = {}
    successors: dict[str, list[str]] = {}
    for source, target, data in graph.edges(data=True):
        if data.get("kind") == EdgeKind.PREDECESSOR_OF.value:
            successors.setdefault(source, []).append(target)
            predecessors.setdefault(target, []).append(source)
    made = Projection(
        timeline=timeline,
        positions=np.array([timeline.position[node] for node in ids], dtype=np.int64),
        ids=ids,
        member_school=np.array([m[0] for m in members], dtype=np.int64),
        member_group=np.array([m[1] for m in members], dtype=np.int64),
        member_kind=np.array([m[2] for m in members], dtype=np.int64),
        member_since=member_since,
        member_until=member_until,
        group_ids=group_ids,
        pair_a=np.concatenate([part[0] for part in pair_parts]),
        pair_b=np.concatenate([part[1] for part in pair_parts]),
        pair_kind=np.concatenate([part[2] for part in pair_parts]),
        pair_since=np.concatenate([part[3] for part in pair_parts]),
        pair_until=np.concatenate([part[4] for part in pair_parts]),
        tie_school=np.array(tie_school, dtype=np.int64),
        tie_index=np.array(tie_index, dtype=np.int64),
        predecessors={node: found if len(found) == 1 else sorted(found) for node, found in predecessors.items()},
        successors={node: found if len(found) == 1 else sorted(found) for node, found in successors.items()},
    )
    _projections[graph] = made
    return made


def _group_pairs(
    members: Sequence[tuple[int, int, int, Any]], since: np.ndarray, until: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Every pair of memberships of one group by two schools, with the span both hold (empty spans dropped)."""
    by_group: dict[int, list[int]] = {}
    for index, (_school, group, _kind, _data) in enumerate(members):
        by_group.setdefault(group, []).append(index)
    school = np.array([m[0] for m in members], dtype=np.int64)
    kind = np.array([m[2] for m in members], dtype=np.int64)
    firsts, seconds = [], []
    for indices in by_group.values():
        if len(indices) < 2:
            continue
        first, second = np.triu_indices(len(indices), 1)
        chosen = np.array(indices, dtype=np.int64)
        firsts.append(chosen[first])
        seconds.append(chosen[second])
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty, empty
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    keep = school[i] != school[j]
    i, j = i[keep], j[keep]
    low, high = np.minimum(school[i], school[j]), np.maximum(school[i], school[j])
    start, end = np.maximum(since[i], since[j]), np.minimum(until[i], until[j])
    live = start <= end
    return low[live], high[live], kind[i][live], start[live], end[live]


# -- areas -------------------------------------------------------------------------------------

#: The measures of an area's row, in the order tables show them, with what each is.
AREA_MEASURES: dict[str, str] = {
    "schools": "open state-funded schools",
    "in_trust_share": "share of them in a trust",
    "in_federation_share": "share in a federation (a membership or a federation tie)",
    "isolated_share": "share with no collaboration tie at all",
    "no_partner_share": "share with no partner school in the projection",
    "trusts": "trusts with at least one of the area's open schools",
    "trust_hhi": "Herfindahl index of the area's trust schools by trust (1: one trust holds them all)",
    "mean_degree": "partner schools per school in the projection",
    "across_trust_per_school": "ties crossing trust boundaries per school",
    "components": "components of the projection within the area (a lone school is one)",
    "largest_component_share": "share of the area's schools in its largest component",
}


def _area_keys(p: Projection, by: str) -> tuple[np.ndarray, list[Any], list[str]]:
    """Each school's area as a code, the areas' keys and names (local authorities by code)."""
    if by not in AREA_FIELDS:
        raise ValueError(f"areas are grouped by one of {sorted(AREA_FIELDS)}, not {by!r}")
    nodes = p.timeline.nodes
    field = AREA_FIELDS[by]
    values = [nodes[node].get(field) for node in p.ids]
    keys = sorted({value for value in values if value is not None}, key=lambda v: (str(type(v)), v))
    code = {key: i for i, key in enumerate(keys)}
    names: dict[Any, Any] = {}
    if by == "la":
        for node in p.ids:
            attrs = nodes[node]
            names.setdefault(attrs.get("la_code"), attrs.get("local_authority"))
    return (
        np.array([code.get(value, -1) for value in values], dtype=np.int64),
        keys,
        [str(names.get(key) or key) for key in keys],
    )


def area_rows(
    snap: Snapshot, by: str = "la", areas: tuple[np.ndarray, list[Any], list[str]] | None = None
) -> list[dict[str, Any]]:
    """One row per area with open schools on the snapshot's day: :data:`AREA_MEASURES`.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for urn, la in (("1", 1), ("2", 1), ("3", 1), ("4", 2)):
    ...     g.add_node(urn, kind="school", subtype="community", la_code=la, local_authority=f"LA{la}")
    >>> g.add_nodes_from([("t", {"kind": "trust"}), ("u", {"kind": "trust"})])
    >>> for key, (school, trust) in enumerate((("1", "t"), ("2", "t"), ("4", "u"))):
    ...     _ = g.add_edge(school, trust, key=str(key), kind="member_of")
    >>> _ = g.add_edge("2", "3", key="s", kind="supports")
    >>> first = area_rows(projection(g).on(date(2024, 1, 18)))[0]
    >>> first["schools"], first["in_trust_share"], first["trusts"], first["trust_hhi"], first["components"]
    (3, 0.6667, 1, 1.0, 1)
    >>> first["across_trust_per_school"], first["mean_degree"], first["no_partner_share"]
    (0.6667, 1.3333, 0.0)
    """
    p = snap.projection
    code, keys, names = areas if areas is not None else _area_keys(p, by)
    count = len(keys)
    live = snap.open & (code >= 0)
    where = code[live]
    schools = np.bincount(where, minlength=count)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(where, values[live].astype(float), minlength=count)

    in_trust = total(snap.trust >= 0)
    in_federation, isolated = total(snap.in_federation), total(snap.isolated)
    alone, degree, across = total(snap.degree == 0), total(snap.degree), total(snap.across)
    # Trusts per area: distinct (area, trust) pairs of open schools; the index sums squared shares.
    trusted = live & (snap.trust >= 0)
    pairs, per_pair = np.unique(np.column_stack((code[trusted], snap.trust[trusted])), axis=0, return_counts=True)
    trusts = np.bincount(pairs[:, 0], minlength=count) if len(pairs) else np.zeros(count, dtype=np.int64)
    squares = np.bincount(pairs[:, 0], per_pair.astype(float) ** 2, minlength=count) if len(pairs) else np.zeros(count)
    labels = snap.components(code)
    comp, comp_size = np.unique(np.column_stack((where, labels[live])), axis=0, return_counts=True)
    components = np.bincount(comp[:, 0], minlength=count) if len(comp) else np.zeros(count, dtype=np.int64)
    largest = np.zeros(count, dtype=np.int64)
    if len(comp):
        np.maximum.at(largest, comp[:, 0], comp_size)
    rows = []

    def share(values: np.ndarray, i: int) -> float:
        return round(float(values[i]) / int(schools[i]), _DIGITS)

    for i in np.flatnonzero(schools).tolist():
        n = int(schools[i])
        rows.append(
            {
                "area": keys[i],
                "name": names[i],
                "schools": n,
                "in_trust_share": share(in_trust, i),
                "in_federation_share": share(in_federation, i),
                "isolated_share": share(isolated, i),
                "no_partner_share": share(alone, i),
                "trusts": int(trusts[i]),
                "trust_hhi": round(float(squares[i] / in_trust[i] ** 2), _DIGITS) if in_trust[i] else None,
                "mean_degree": share(degree, i),
                "across_trust_per_school": share(across, i),
                "components": int(components[i]),
                "largest_component_share": share(largest, i),
            }
        )
    return rows


def yearly(start: date, end: date, step: str = "year") -> list[date]:
    """The days of a series: ``start``, then every year (or ``month``) after it, up to ``end``.

    >>> yearly(date(2010, 8, 31), date(2012, 9, 1))
    [datetime.date(2010, 8, 31), datetime.date(2011, 8, 31), datetime.date(2012, 8, 31)]
    >>> yearly(date(2024, 1, 31), date(2024, 3, 31), "month")
    [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29), datetime.date(2024, 3, 31)]
    """
    if step not in ("year", "month"):
        raise ValueError(f"a series steps by year or month, not {step!r}")
    if end < start:
        raise ValueError(f"a series ends on or after it starts ({end} is before {start})")
    days: list[date] = []
    months = 12 if step == "year" else 1
    index = 0
    while True:
        month = start.month - 1 + index * months
        year, month = start.year + month // 12, month % 12 + 1
        day = min(start.day, _month_length(year, month))
        found = date(year, month, day)
        if found > end:
            return days
        days.append(found)
        index += 1


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def area_series(p: Projection, days: Iterable[date], by: str = "la") -> list[dict[str, Any]]:
    """:func:`area_rows` on each day, each row with its ``as_at``, days in order."""
    areas = _area_keys(p, by)
    return [{"as_at": day, **row} for day in days for row in area_rows(p.on(day), by, areas)]


# -- the panel ---------------------------------------------------------------------------------

#: The panel's columns and what each holds (written as the codebook).
PANEL_COLUMNS: dict[str, str] = {
    "as_at": "the day the row describes (YYYY-MM-DD)",
    "urn": "GIAS Unique Reference Number",
    "laestab": "DfE number: local authority code and establishment number",
    "name": "establishment name (GIAS, as now)",
    "la_code": "local authority code",
    "local_authority": "local authority name",
    "region": "government office region (GIAS GOR)",
    "phase": "phase of education (GIAS PhaseOfEducation)",
    "type_group": "GIAS EstablishmentTypeGroup, in GIAS's words",
    "type_name": "GIAS TypeOfEstablishment, in GIAS's words (a change of type is a new URN, so as on the day)",
    "status": "status on the day: open (the panel holds only schools open on the day) or open_proposed_to_close",
    "opened": "date the school opened (GIAS OpenDate)",
    "closed": "date the school closed (GIAS CloseDate), if it has",
    "trust_id": "trust the school was a member of on the day ('group-<Group UID>'), if any",
    "federation_id": "federation the school was a member of on the day, if any",
    "standing": "Ofsted standing on the day (the judgement in force), if any",
    "standing_basis": "how the standing was read: the inspection in force and the rule (and, when it was judged on "
    "a predecessor, on which school and before which re-opening)",
    "judged_urn": "URN the standing was judged on: the school's own, or a predecessor's (empty: not known)",
    "inherited": "the standing was judged on a predecessor before the school opened (not counted in difficulty)",
    "isolated": "no collaboration tie at all on the day (the isolated-schools question)",
    "degree": "partner schools in the school-school projection on the day",
    "strength": "partner schools weighted by the strongest kind of tie to each",
    "across_trust": "partner schools outside the school's trust (partnerships, hubs, federations, support...)",
    "predecessor_urns": "URNs this school succeeded (GIAS links), separated by ';'",
    "successor_urns": "URNs that succeeded this school (GIAS links), separated by ';'",
}


def panel_columns(p: Projection, days: Iterable[date]) -> dict[str, list[Any]]:
    """One row per open state-funded school per day, as columns (:data:`PANEL_COLUMNS`): :func:`panel_days`
    joined.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_node("1", kind="school", subtype="community", name="A", opened=date(2015, 9, 1))
    >>> g.add_node("2", kind="school", subtype="academy_converter", name="B")
    >>> g.add_node("t", kind="trust")
    >>> _ = g.add_edge("2", "t", key="m", kind="member_of")
    >>> _ = g.add_edge("1", "2", key="p", kind="predecessor_of")
    >>> table = panel_columns(projection(g), [date(2014, 8, 31), date(2016, 8, 31)])
    >>> table["urn"], table["trust_id"], table["successor_urns"]
    (['2', '1', '2'], ['t', None, 't'], ['', '2', ''])
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in PANEL_COLUMNS}
    for day in panel_days(p, days):
        for name, values in day.items():
            parts[name].append(values)
    return {name: np.concatenate(found).tolist() if found else [] for name, found in parts.items()}


def panel_days(p: Projection, days: Iterable[date]) -> Iterator[dict[str, np.ndarray]]:
    """The panel a day at a time: per day, its rows' columns as arrays (URN order), made as asked for."""
    nodes = p.timeline.nodes
    # What does not change with the day, per school, as arrays the days' rows are taken from.
    every = [nodes[node] for node in p.ids]
    fixed: dict[str, list[Any]] = {
        "urn": [str(attrs.get("urn", node)) for node, attrs in zip(p.ids, every, strict=True)],
        **{name: [attrs.get(name) for attrs in every] for name in _FIXED},
        "status": [
            "open_proposed_to_close"
            if attrs.get("status") == "open_proposed_to_close" and attrs.get("closed") is None
            else "open"
            for attrs in every
        ],
        "predecessor_urns": [";".join(p.predecessors.get(node, ())) for node in p.ids],
        "successor_urns": [";".join(p.successors.get(node, ())) for node in p.ids],
    }
    taken = {name: _objects(values) for name, values in fixed.items()}
    groups = _objects([*p.group_ids, None])  # -1, no group, takes the last: None
    judged: dict[int, tuple[str | None, str, str | None, bool]] = {}
    for day in days:
        snap = p.on(day)
        rows = np.flatnonzero(snap.open)
        found = {name: values[rows] for name, values in taken.items()}
        found["as_at"] = _objects([day] * len(rows))
        found["trust_id"] = groups[snap.trust[rows]]
        found["federation_id"] = groups[snap.federation[rows]]
        found["isolated"] = snap.isolated[rows]
        found["degree"] = snap.degree[rows]
        found["strength"] = snap.strength[rows]
        found["across_trust"] = snap.across[rows]
        ratings, bases, judged_urns, inherited = [], [], [], []
        for i in rows.tolist():
            standing = standing_on(every[i], day)
            if standing is None:
                read: tuple[str | None, str, str | None, bool] = (None, "", None, False)
            elif standing.inspection is None:  # a flat rating with no inspection records
                read = (standing.rating, standing.basis, None, False)
            else:
                # One school's inspection is read on many days: its words are kept once.
                read = judged.setdefault(
                    id(standing.inspection),
                    (standing.rating, standing.basis, standing.judged_urn, standing.inherited),
                )
            ratings.append(read[0])
            bases.append(read[1])
            judged_urns.append(read[2])
            inherited.append(read[3])
        found["standing"] = _objects(ratings)
        found["standing_basis"] = _objects(bases)
        found["judged_urn"] = _objects(judged_urns)
        found["inherited"] = np.array(inherited, dtype=bool)
        yield {name: found[name] for name in PANEL_COLUMNS}


#: Panel columns read as they are from each school's attributes.
_FIXED = (
    "laestab",
    "name",
    "la_code",
    "local_authority",
    "region",
    "phase",
    "type_group",
    "type_name",
    "opened",
    "closed",
)


def _objects(values: Sequence[Any]) -> np.ndarray:
    """Values as a one-dimensional array of Python objects (never split into a second dimension)."""
    found = np.empty(len(values), dtype=object)
    found[:] = values
    return found


#: How DfE's "Schools, pupils and their characteristics" counts state-funded schools by phase
#: (GIAS type names, any case): special schools by type, the others by phase.
SPECIAL_TYPES = frozenset(
    {
        "community special school",
        "foundation special school",
        "academy special converter",
        "academy special sponsor led",
        "free schools special",
    }
)
MAINTAINED_TYPES = frozenset(
    {"community school", "foundation school", "voluntary aided school", "voluntary controlled school"}
)
ACADEMY_GROUPS = frozenset({"academies", "free schools"})
DFE_PHASES = {
    "primary": "primary",
    "middle_deemed_primary": "primary",
    "secondary": "secondary",
    "middle_deemed_secondary": "secondary",
    "all_through": "secondary",
}


def dfe_phase(phase: str | None, type_group: str | None, type_name: str | None) -> str | None:
    """The phase DfE counts a school in (primary, secondary, special), or None if it counts it in none.

    >>> dfe_phase("primary", "Academies", "Academy converter"), dfe_phase("not_applicable", "Special schools",
    ...     "Community special school"), dfe_phase("16_plus", "Free Schools", "Free schools 16 to 19")
    ('primary', 'special', None)
    """
    name, group = (type_name or "").lower(), (type_group or "").lower()
    if name in SPECIAL_TYPES:
        return "special"
    if group in ACADEMY_GROUPS or name in MAINTAINED_TYPES:
        return DFE_PHASES.get(phase or "")
    return None


def academy_shares(columns: Mapping[str, Sequence[Any]]) -> dict[str, dict[str, float | int]]:
    """Per DfE phase: state-funded schools, academies and free schools among them, and their share.

    ``columns`` is a panel (:func:`panel_columns`) of one day.

    >>> academy_shares({"phase": ["primary", "primary", "secondary"], "type_group": ["Academies",
    ...     "Local authority maintained schools", "Free Schools"], "type_name": ["Academy converter",
    ...     "Community school", "Free schools"]})["primary"]
    {'schools': 2, 'academies': 1, 'share': 0.5}
    """
    found: dict[str, dict[str, float | int]] = {}
    for phase, group, name in zip(columns["phase"], columns["type_group"], columns["type_name"], strict=True):
        counted = dfe_phase(phase, group, name)
        if counted is None:
            continue
        row = found.setdefault(counted, {"schools": 0, "academies": 0})
        row["schools"] += 1
        row["academies"] += (group or "").lower() in ACADEMY_GROUPS
    for row in found.values():
        row["share"] = round(row["academies"] / row["schools"], _DIGITS)
    return dict(sorted(found.items()))
