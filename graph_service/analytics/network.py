"""The collaboration graph: who works with whom on a date, and which schools a question covers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

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


@dataclass(frozen=True)
class CollaborationTimeline:
    """What :func:`collaboration_graph` needs of a graph whatever the date, computed once."""

    #: Every organisation and its attribute dict (``graph``'s own), in id order.
    nodes: dict[str, dict[str, Any]]
    #: Every organisation's ``(id, kind, opened, closed, status is current)``, in id order (see :func:`was_open`).
    spans: list[tuple[str, str, date | None, date | None, bool]]
    #: Collaboration ties as ``(pair, tie id, source, target, tie attributes)``, by pair then tie id.
    ties: list[tuple[tuple[str, str], str, str, str, dict[str, Any]]]
    #: ``maintained_by`` ties as ``(school, local authority's name, tie attributes)``.
    maintained: list[tuple[str, str, dict[str, Any]]]
    #: Each tied node's ``(other end, tie id, 'out' or 'in', tie attributes)``, in id order.
    ends: dict[str, list[tuple[str, str, str, dict[str, Any]]]]


def collaboration_timeline(graph: nx.MultiDiGraph) -> CollaborationTimeline:
    """The date-free part of :func:`collaboration_graph`: nodes in order, ties sorted and sorted out."""
    ties = []
    maintained = []
    for source, target, key, data in graph.edges(keys=True, data=True):
        kind = data.get("kind")
        if kind in COLLABORATION_KINDS:
            pair = (source, target) if source <= target else (target, source)
            ties.append((pair, key, source, target, data))
        elif kind == EdgeKind.MAINTAINED_BY.value:
            maintained.append((source, str(graph.nodes[target].get("name", target)), data))
    ties.sort(key=lambda tie: (tie[0], tie[1]))
    ends: dict[str, list[tuple[str, str, str, dict[str, Any]]]] = {}
    for _pair, tie_id, source, target, data in ties:
        ends.setdefault(source, []).append((target, tie_id, "out", data))
        ends.setdefault(target, []).append((source, tie_id, "in", data))
    for node_ends in ends.values():
        node_ends.sort(key=lambda end: (end[0], end[1]))
    nodes = dict(sorted(graph.nodes(data=True), key=lambda item: item[0]))
    spans = [
        (
            node,
            str(attrs.get("kind")),
            attrs.get("opened"),
            attrs.get("closed"),
            attrs.get("status", Status.OPEN.value) in _CURRENT,
        )
        for node, attrs in nodes.items()
    ]
    return CollaborationTimeline(nodes, spans, ties, maintained, ends)


def collaboration_graph(
    graph: nx.MultiDiGraph, as_at: date | None = None, *, timeline: CollaborationTimeline | None = None
) -> nx.Graph:
    """Organisations joined by the collaboration ties that hold on ``as_at`` (today when omitted).

    Every organisation of ``graph`` is a node, with its attributes. ``maintained_by``
    (administrative) and ``predecessor_of`` (history) are left out. Each edge keeps the ties
    behind it in ``ties``: a list of ``(tie id, source id, target id, tie attributes)``.
    Nodes and edges are added in id order, so every node's neighbours come in id order and
    seeded algorithms (Leiden, sampled betweenness) give the same answer whichever backend
    built ``graph``.

    ``timeline`` (from :func:`collaboration_timeline`) is what does not depend on the date; a
    caller that asks about many dates of one unchanging graph computes it once, so a new date
    costs a pass over the ties instead of a new graph. Node attribute dicts are shared with
    ``graph``'s, not copied: the questions only read them.

    Graph attributes hold what the questions look up again and again: ``as_at`` (the
    argument) and ``day`` (the day used); ``ties_of``, each tied node's
    ``(other end, tie id, 'out' or 'in', tie attributes)`` in id order; ``open``, the ids of
    the organisations open on ``as_at`` per kind (see :func:`was_open`); and
    ``administrative``, the names of the local authorities that maintain each school (shown,
    never counted).

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
    """
    timeline = timeline or collaboration_timeline(graph)
    day = as_at or date.today()
    administrative: dict[str, list[str]] = {}
    opened: dict[str, list[str]] = {}
    collab = nx.Graph(as_at=as_at, day=day, administrative=administrative, open=opened)
    # Filled as add_nodes_from would, without copying every attribute dict (most of the time).
    collab._node.update(timeline.nodes)
    collab._adj.update({node: {} for node in timeline.nodes})
    for node, kind, opened_on, closed_on, current in timeline.spans:
        # was_open, from the spans: no attribute looked up per date.
        if as_at is None or opened_on is None or opened_on <= as_at:
            is_open = current if as_at is None or closed_on is None else closed_on >= as_at
            if is_open:
                opened.setdefault(kind, []).append(node)
    for source, name, data in timeline.maintained:
        if holds(data, day):
            administrative.setdefault(source, []).append(name)
    adj = collab._adj
    for (first, second), tie_id, source, target, data in timeline.ties:
        if not holds(data, day):
            continue
        edge = adj[first].get(second)
        if edge is None:
            edge = adj[first][second] = adj[second][first] = {"ties": []}
        edge["ties"].append((tie_id, source, target, data))
    # Filtering keeps the timeline's order, so nothing is sorted per date.
    ties_of = {}
    for node, node_ends in timeline.ends.items():
        holding = [end for end in node_ends if holds(end[3], day)]
        if holding:
            ties_of[node] = holding
    collab.graph["ties_of"] = ties_of
    return collab


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
            if str(attrs.get("subtype", "")).lower() not in wanted_types and (
                str(attrs.get("type_name", "")).lower() not in wanted_types
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
    found = [node for kind in flt.kinds for node in kept.get(kind, ())]
    if len(flt.kinds) > 1:
        found.sort()
    if not flt.by_place:
        return found
    nodes = collab.nodes
    return [node for node in found if flt.matches_place(nodes[node])]


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
