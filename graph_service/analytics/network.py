"""The collaboration graph: who works with whom on a date, and which schools a question covers."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx
import numpy as np

from graph_service.models import EdgeKind, GovernanceLevel, NodeKind, Status

#: Organisations a school can be "in": the groups the strategists' share counts.
MEMBERSHIP_GROUPS = frozenset({NodeKind.TRUST.value, NodeKind.FEDERATION.value, NodeKind.PARTNERSHIP.value})
PROVIDER_KINDS = frozenset({NodeKind.SCHOOL.value, NodeKind.FE_COLLEGE.value})
COLLABORATION_KINDS = frozenset(kind.value for kind in EdgeKind if kind.is_collaboration)
_CURRENT = frozenset({Status.OPEN.value, Status.OPEN_PROPOSED_TO_CLOSE.value})


def holds(data: Mapping[str, Any], day: date) -> bool:
    """Whether a tie's ``since``/``until`` cover ``day`` (open ends are unbounded).

    Examples
    --------
    >>> holds({"since": date(2020, 1, 1), "until": date(2021, 8, 31)}, date(2021, 8, 31))
    True
    >>> holds({"until": date(2021, 8, 31)}, date(2021, 9, 1))
    False
    """
    since, until = data.get("since"), data.get("until")
    return (since is None or since <= day) and (until is None or day <= until)


#: Day ordinals standing for an open start (before every day) and an open end (after every day).
_NO_START = -1
_NO_END = 2**31 - 1

#: A tied node's ``(other end, tie id, 'out' or 'in', tie attributes)``.
End = tuple[str, str, str, dict[str, Any]]


def _ordinals(days: Sequence[date | None], default: int) -> np.ndarray:
    return np.fromiter((default if day is None else day.toordinal() for day in days), dtype=np.int64, count=len(days))


def _holding(since: np.ndarray, until: np.ndarray, day: date) -> np.ndarray:
    """Which of the spans ``since[i]..until[i]`` (ordinals, both ends in) cover ``day``: :func:`holds` at once."""
    ordinal = day.toordinal()
    return (since <= ordinal) & (until >= ordinal)


@dataclass(frozen=True, eq=False)
class CollaborationTimeline:
    """What :func:`collaboration_graph` needs of a graph whatever the date, computed once per graph.

    A date is then applied as filters: array comparisons for which organisations are open and
    how many ties each has, and each node's ties or its adjacency filtered when first asked.
    """

    #: Every organisation and its attribute dict (``graph``'s own), in id order.
    nodes: dict[str, dict[str, Any]]
    #: The ids in that order, as an array (indexed by the masks below).
    ids: np.ndarray
    #: Each organisation's kind name, and its code in ``kinds`` per organisation.
    kinds: list[str]
    kind_codes: np.ndarray
    #: Opening and closing days as ordinals (open ends as ``_NO_START`` / ``_NO_END``), whether a
    #: closing day is known, and whether the status is current (see :func:`was_open`).
    opened: np.ndarray
    closed: np.ndarray
    closed_known: np.ndarray
    current: np.ndarray
    #: Collaboration ties as ``(pair, tie id, source, target, tie attributes)``, by pair then tie id,
    #: with their spans as ordinals and the positions of their ends in ``ids``.
    ties: list[tuple[tuple[str, str], str, str, str, dict[str, Any]]]
    tie_since: np.ndarray
    tie_until: np.ndarray
    tie_sources: np.ndarray
    tie_targets: np.ndarray
    #: Each tied node's ends (:data:`End`), in id order.
    ends: dict[str, list[End]]
    #: ``maintained_by`` ties per school: ``(local authority's name, tie attributes)``.
    maintained: dict[str, list[tuple[str, dict[str, Any]]]]
    #: Each organisation's position in ``ids``.
    position: dict[str, int]
    #: Each organisation's place in the order of names (any case), then ids (the questions'
    #: tiebreak), by position.
    ranks: np.ndarray

    def open_mask(self, as_at: date | None) -> np.ndarray:
        """Which organisations were open on ``as_at`` (:func:`was_open` of each, at once)."""
        if as_at is None:
            return self.current
        ordinal = as_at.toordinal()
        return (self.opened <= ordinal) & np.where(self.closed_known, self.closed >= ordinal, self.current)


def collaboration_timeline(graph: nx.MultiDiGraph) -> CollaborationTimeline:
    """The date-free part of :func:`collaboration_graph`: nodes in order, ties sorted and sorted out."""
    ties = []
    maintained: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for source, target, key, data in graph.edges(keys=True, data=True):
        kind = data.get("kind")
        if kind in COLLABORATION_KINDS:
            pair = (source, target) if source <= target else (target, source)
            ties.append((pair, key, source, target, data))
        elif kind == EdgeKind.MAINTAINED_BY.value:
            maintained.setdefault(source, []).append((str(graph.nodes[target].get("name", target)), data))
    ties.sort(key=lambda tie: (tie[0], tie[1]))
    ends: dict[str, list[End]] = {}
    for _pair, tie_id, source, target, data in ties:
        ends.setdefault(source, []).append((target, tie_id, "out", data))
        ends.setdefault(target, []).append((source, tie_id, "in", data))
    for node_ends in ends.values():
        node_ends.sort(key=lambda end: (end[0], end[1]))
    nodes = dict(sorted(graph.nodes(data=True), key=lambda item: item[0]))
    position = {node: i for i, node in enumerate(nodes)}
    kinds: dict[str, int] = {}
    kind_codes = [kinds.setdefault(str(attrs.get("kind")), len(kinds)) for attrs in nodes.values()]
    by_name = sorted(nodes, key=lambda node: (str(nodes[node].get("name", node)).lower(), node))
    order = {node: rank for rank, node in enumerate(by_name)}
    return CollaborationTimeline(
        nodes=nodes,
        ids=np.array(list(nodes), dtype=object),
        kinds=list(kinds),
        kind_codes=np.array(kind_codes, dtype=np.int32),
        opened=_ordinals([attrs.get("opened") for attrs in nodes.values()], _NO_START),
        closed=_ordinals([attrs.get("closed") for attrs in nodes.values()], _NO_END),
        closed_known=np.array([attrs.get("closed") is not None for attrs in nodes.values()], dtype=bool),
        current=np.array([attrs.get("status", Status.OPEN.value) in _CURRENT for attrs in nodes.values()], dtype=bool),
        ties=ties,
        tie_since=_ordinals([tie[4].get("since") for tie in ties], _NO_START),
        tie_until=_ordinals([tie[4].get("until") for tie in ties], _NO_END),
        tie_sources=np.array([position[tie[2]] for tie in ties], dtype=np.int64),
        tie_targets=np.array([position[tie[3]] for tie in ties], dtype=np.int64),
        ends=ends,
        maintained=maintained,
        position=position,
        ranks=np.fromiter((order[node] for node in nodes), dtype=np.int64, count=len(nodes)),
    )


class _Holding(Mapping[str, list[Any]]):
    """Per node, the items of ``every[node]`` whose tie holds on ``day`` (through ``show``): filtered
    on first ask, then kept.

    Nodes with none are absent, as in a dict built eagerly. Safe to share between threads: two
    threads filtering one node at once make equal lists, and either is kept.
    """

    def __init__(
        self,
        every: Mapping[str, list[Any]],
        day: date,
        *,
        data: Callable[[Any], Mapping[str, Any]],
        show: Callable[[Any], Any] | None = None,
    ) -> None:
        self._every = every
        self._day = day
        self._data = data
        self._show = show
        self._found: dict[str, list[Any]] = {}

    def get(self, node: str, default: Any = None) -> Any:
        found = self._found.get(node)
        if found is None:
            items = self._every.get(node)
            if items is None:
                return default
            day, data = self._day, self._data
            found = [item for item in items if holds(data(item), day)]
            if self._show is not None:
                found = [self._show(item) for item in found]
            self._found[node] = found
        return found or default

    def __getitem__(self, node: str) -> list[Any]:
        found = self.get(node)
        if found is None:
            raise KeyError(node)
        return found

    def __iter__(self) -> Iterator[str]:
        return (node for node in self._every if self.get(node))

    def __len__(self) -> int:
        return sum(1 for _node in self)


class CollaborationGraph(nx.Graph):
    """A collaboration graph on one date whose adjacency is filled on first use.

    The isolated-schools and support questions read only each node's ties (``ties_of``), so a
    new date costs them a few array comparisons; the whole-graph analytics (islands, health)
    touch the adjacency, which is then filled once from the timeline for that date.
    """

    def __init__(self, incoming_graph_data: Any = None, **attr: Any) -> None:
        self._fill: Callable[[dict[str, dict[str, Any]]], None] | None = None
        self._fill_lock = threading.Lock()
        super().__init__(incoming_graph_data, **attr)

    @property
    def _adj(self) -> dict[str, dict[str, Any]]:
        if self._fill is not None:
            with self._fill_lock:
                if self._fill is not None:
                    self._fill(self._adjacency)
                    self._fill = None
        return self._adjacency

    @_adj.setter
    def _adj(self, value: dict[str, dict[str, Any]]) -> None:
        self._adjacency = value


def collaboration_graph(
    graph: nx.MultiDiGraph, as_at: date | None = None, *, timeline: CollaborationTimeline | None = None
) -> CollaborationGraph:
    """Organisations joined by the collaboration ties that hold on ``as_at`` (today when omitted).

    Every organisation of ``graph`` is a node, with its attributes. ``maintained_by``
    (administrative) and ``predecessor_of`` (history) are left out. Each edge keeps the ties
    behind it in ``ties``: a list of ``(tie id, source id, target id, tie attributes)``.
    Nodes and edges are added in id order, so every node's neighbours come in id order and
    seeded algorithms (Leiden, sampled betweenness) give the same answer whichever backend
    built ``graph``.

    ``timeline`` (from :func:`collaboration_timeline`) is what does not depend on the date; a
    caller that asks about many dates of one unchanging graph computes it once, and a new date
    then costs a few array comparisons: each node's ties, and the adjacency as a whole, are
    filtered for the date when first read (see :class:`CollaborationGraph`). The nodes and their
    attribute dicts are shared with the timeline and ``graph``, not copied: the questions only
    read them, and nothing may change them.

    Graph attributes hold what the questions look up again and again: ``as_at`` (the
    argument) and ``day`` (the day used); ``ties_of``, each tied node's
    ``(other end, tie id, 'out' or 'in', tie attributes)`` in id order; ``tie_counts``, how many
    ties every node has, by its position in ``timeline`` (the timeline used); ``open``, the ids
    of the organisations open on ``as_at`` per kind (see :func:`was_open`); and ``administrative``,
    the names of the local authorities that maintain each school (shown, never counted).

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from(["1", "2", "la-330"])
    >>> g.add_edge("1", "2", key="f", kind="federated_with", level="soft")
    'f'
    >>> g.add_edge("1", "la-330", key="m", kind="maintained_by")
    'm'
    >>> g.add_edge("2", "1", key="old", kind="supports", until=date(2020, 1, 1))
    'old'
    >>> c = collaboration_graph(g, date(2024, 1, 1))
    >>> sorted(c.edges()), [t[0] for t in c["1"]["2"]["ties"]]
    ([('1', '2')], ['f'])
    >>> [(other, tie_id, direction) for other, tie_id, direction, _ in c.graph["ties_of"]["2"]]
    [('1', 'f', 'in')]
    >>> c.graph["tie_counts"].tolist(), collaboration_graph(g, date(2019, 1, 1)).graph["tie_counts"].tolist()
    ([1, 1, 0], [2, 2, 0])
    """
    timeline = timeline or collaboration_timeline(graph)
    day = as_at or date.today()
    is_open = timeline.open_mask(as_at)
    opened = {
        kind: timeline.ids[is_open & (timeline.kind_codes == code)].tolist() for code, kind in enumerate(timeline.kinds)
    }
    holding = _holding(timeline.tie_since, timeline.tie_until, day)
    size = len(timeline.ids)
    # Each holding tie counts once at either end (twice for a tie from a node to itself, as its ends do).
    counts = np.bincount(timeline.tie_sources[holding], minlength=size) + np.bincount(
        timeline.tie_targets[holding], minlength=size
    )
    collab = CollaborationGraph(
        as_at=as_at,
        day=day,
        open={kind: ids for kind, ids in opened.items() if ids},
        tie_counts=counts,
        timeline=timeline,
        ties_of=_Holding(timeline.ends, day, data=_end_data),
        administrative=_Holding(timeline.maintained, day, data=_maintainer_data, show=_maintainer_name),
    )
    # The timeline's own dict, shared by every date's graph: the questions only read it.
    collab._node = timeline.nodes

    def fill(adj: dict[str, dict[str, Any]]) -> None:
        adj.update({node: {} for node in timeline.nodes})
        ties = timeline.ties
        # Filtering keeps the timeline's order, so nothing is sorted per date.
        for position in np.flatnonzero(holding).tolist():
            (first, second), tie_id, source, target, data = ties[position]
            edge = adj[first].get(second)
            if edge is None:
                edge = adj[first][second] = adj[second][first] = {"ties": []}
            edge["ties"].append((tie_id, source, target, data))

    collab._fill = fill
    return collab


def _end_data(end: End) -> Mapping[str, Any]:
    return end[3]


def _maintainer_data(maintainer: tuple[str, dict[str, Any]]) -> Mapping[str, Any]:
    return maintainer[1]


def _maintainer_name(maintainer: tuple[str, dict[str, Any]]) -> str:
    return maintainer[0]


def was_open(attrs: Mapping[str, Any], day: date | None = None) -> bool:
    """Whether an organisation was open on ``day``; with no day, whether its status is current.

    GIAS keeps only the present status, so a past day is judged by the opening and closing
    dates: a school closed since then was open if it had opened and not yet closed.

    Examples
    --------
    >>> was_open({"status": "open"})
    True
    >>> was_open({"status": "closed", "opened": date(2001, 9, 1), "closed": date(2021, 8, 31)}, date(2020, 1, 1))
    True
    >>> was_open({"status": "open", "opened": date(2023, 9, 1)}, date(2020, 1, 1))
    False
    """
    status = attrs.get("status", Status.OPEN.value)
    if day is None:
        return status in _CURRENT
    opened, closed = attrs.get("opened"), attrs.get("closed")
    if opened is not None and opened > day:
        return False
    if closed is not None:
        return bool(closed >= day)
    return status in _CURRENT


@dataclass(frozen=True)
class SchoolFilter:
    """Which organisations a question covers; every given field must match.

    ``statuses`` empty means "open": a current status today, or open on ``as_at``
    (see :func:`was_open`). ``types`` match the subtype (``academy_converter``) or the
    GIAS type name (``Academy converter``), any case. Names match in any case.

    Examples
    --------
    >>> flt = SchoolFilter(la_code=330, phases=("primary",))
    >>> flt.matches({"kind": "school", "status": "open", "la_code": 330, "phase": "primary"})
    True
    >>> flt.matches({"kind": "school", "status": "closed", "la_code": 330, "phase": "primary"})
    False
    """

    kinds: Sequence[str] = (NodeKind.SCHOOL.value,)
    la_code: int | None = None
    local_authority: str | None = None
    district: str | None = None
    constituency: str | None = None
    phases: Sequence[str] = ()
    types: Sequence[str] = ()
    statuses: Sequence[str] = ()

    def matches(self, attrs: Mapping[str, Any], as_at: date | None = None) -> bool:
        if self.kinds and attrs.get("kind") not in self.kinds:
            return False
        if self.statuses:
            if attrs.get("status", Status.OPEN.value) not in self.statuses:
                return False
        elif not was_open(attrs, as_at):
            return False
        return self.matches_place(attrs)

    def matches_place(self, attrs: Mapping[str, Any]) -> bool:
        """Every condition but kind and status."""
        if self.la_code is not None and attrs.get("la_code") != self.la_code:
            return False
        for field, wanted in (
            ("local_authority", self.local_authority),
            ("district", self.district),
            ("constituency", self.constituency),
        ):
            if wanted is not None and str(attrs.get(field, "")).lower() != wanted.lower():
                return False
        if self.phases and attrs.get("phase") not in self.phases:
            return False
        if self.types:
            wanted_types = {t.lower() for t in self.types}
            type_name = attrs.get("type_name")
            # A missing subtype compares as "" (a school made by hand); a missing type name matches nothing.
            if str(attrs.get("subtype", "")).lower() not in wanted_types and (
                type_name is None or str(type_name).lower() not in wanted_types
            ):
                return False
        return True

    @property
    def by_place(self) -> bool:
        return any(
            value is not None for value in (self.la_code, self.local_authority, self.district, self.constituency)
        ) or bool(self.phases or self.types)


def selected(collab: nx.Graph, flt: SchoolFilter, as_at: date | None = None) -> list[str]:
    """Ids of the organisations the filter covers, in id order.

    Open organisations come from the list :func:`collaboration_graph` keeps, when it was
    built for the same ``as_at``; otherwise every node is checked.
    """
    kept = collab.graph.get("open")
    if flt.statuses or not flt.kinds or kept is None or collab.graph.get("as_at") != as_at:
        return [node for node, attrs in collab.nodes(data=True) if flt.matches(attrs, as_at)]
    timeline = collab.graph.get("timeline")
    try:
        hash(flt)
    except TypeError:  # a filter made with lists: not kept
        timeline = None
    # Kept per timeline and date (graph_service.derived carries them over a write): always id order.
    known = None if timeline is None else selections(timeline).get((flt, as_at))
    if known is not None:
        return list(known)
    found = [node for kind in flt.kinds for node in kept.get(kind, ())]
    if len(flt.kinds) > 1:
        found.sort()
    if flt.by_place:
        nodes = collab.nodes
        found = [node for node in found if flt.matches_place(nodes[node])]
    if timeline is not None:
        kept_selections = selections(timeline)
        if len(kept_selections) >= _KEPT_SELECTIONS:
            kept_selections.pop(next(iter(kept_selections)))
        kept_selections[(flt, as_at)] = tuple(found)
    return found


#: Selections kept per timeline (areas asked about, by date).
_KEPT_SELECTIONS = 64
_selections: weakref.WeakKeyDictionary[
    CollaborationTimeline, dict[tuple[SchoolFilter, date | None], tuple[str, ...]]
] = weakref.WeakKeyDictionary()


def selections(timeline: CollaborationTimeline) -> dict[tuple[SchoolFilter, date | None], tuple[str, ...]]:
    """What :func:`selected` found on a timeline, by filter and date (ids in order)."""
    known = _selections.get(timeline)
    if known is None:
        known = _selections.setdefault(timeline, {})
    return known


def node_ties(collab: nx.Graph, node: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """``(other end, tie id, 'out' or 'in', tie attributes)`` of a node's ties, in id order."""
    kept = collab.graph.get("ties_of")
    if kept is not None:
        return kept.get(node, [])
    found = [
        (other, tie_id, "out" if source == node else "in", data)
        for other, edge in collab[node].items()
        for tie_id, source, _target, data in edge["ties"]
    ]
    return sorted(found, key=lambda end: (end[0], end[1]))


def is_loose(collab: nx.Graph, other: str, data: Mapping[str, Any]) -> bool:
    """Whether a tie is loose collaboration: its level, or the governance of the group it joins."""
    loose = GovernanceLevel.LOOSE_COLLABORATION.value
    if data.get("level") == loose:
        return True
    return data.get("kind") == EdgeKind.MEMBER_OF.value and collab.nodes[other].get("governance") == loose


def groups_of(collab: nx.Graph, node: str) -> list[str]:
    """Trusts, federations and partnerships a node is a member of (``member_of`` out of it)."""
    found = []
    for other, _tie_id, direction, data in node_ties(collab, node):
        if (
            direction == "out"
            and data.get("kind") == EdgeKind.MEMBER_OF.value
            and collab.nodes[other].get("kind") in MEMBERSHIP_GROUPS
            and other not in found
        ):
            found.append(other)
    return found


def in_group(collab: nx.Graph, node: str) -> bool:
    """In a trust, federation or partnership: a membership, or a federation tie to another provider."""
    for other, _tie_id, direction, data in node_ties(collab, node):
        kind = data.get("kind")
        if kind == EdgeKind.FEDERATED_WITH.value:
            return True
        if (
            kind == EdgeKind.MEMBER_OF.value
            and direction == "out"
            and collab.nodes[other].get("kind") in MEMBERSHIP_GROUPS
        ):
            return True
    return False


def iter_partners(collab: nx.Graph, node: str) -> Iterator[tuple[str, str | None]]:
    """Organisations a node works with, as ``(partner id, id of the group shared or None)``.

    Direct collaboration ties come first, then providers reached through one organisation
    that is not a provider (fellow members of a trust, schools of the same sponsor or hub),
    each partner once. Lazy, so "is any partner within D km?" can stop early.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> g.add_nodes_from([("1", {"kind": "school"}), ("2", {"kind": "school"}), ("t", {"kind": "trust"})])
    >>> g.add_edges_from([("1", "t", "a", {"kind": "member_of"}), ("2", "t", "b", {"kind": "member_of"})])
    ['a', 'b']
    >>> list(iter_partners(collaboration_graph(g, date(2025, 1, 1)), "1"))
    [('t', None), ('2', 't')]
    """
    nodes = collab.nodes
    direct = [other for other, _tie, _direction, _data in node_ties(collab, node)]
    seen = {node, *direct}
    for other in dict.fromkeys(direct):
        yield other, None
    for group in dict.fromkeys(direct):
        if nodes[group].get("kind") in PROVIDER_KINDS:
            continue
        for peer, _tie, _direction, _data in node_ties(collab, group):
            if peer not in seen and nodes[peer].get("kind") in PROVIDER_KINDS:
                seen.add(peer)
                yield peer, group
