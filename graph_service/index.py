"""The store's whole graph as versions: built once, then patched by each write instead of rebuilt.

A store keeps one :class:`GraphIndex`: a version number, the whole graph (a networkx
``MultiDiGraph`` that nothing changes once made) and each tie's ends. A write made by the
store's own process hands the organisations and ties it wrote, as stored (:class:`Change`), to
:meth:`GraphIndex.patched`, which makes the next version by copy on write: the new graph shares
every node's attributes and adjacency with the previous one except those the write touched,
which are rebuilt in the order a fresh build gives them (ties by id). That costs milliseconds on
all of England where a rebuild from the store costs seconds, and readers holding the previous
version keep answering from it, unchanged, while the next is made.

What the questions derive from a graph (the collaboration timeline, the support index, the
search index) is patched the same way, by the functions registered with :func:`on_patch`: each
gets the :class:`Patch` (the previous and next graphs and what changed) and carries its
structure over for the touched rows only. A write by another process (or a big load) is not
known row by row: the store rebuilds then, as it always did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graph_service.graphview import stored_org_attrs, stored_tie_attrs

#: A write touching more rows than this rebuilds (a load): patching row by row would cost more.
PATCH_LIMIT = 2_000

#: An edge: ``(source, target, tie id, attributes)``.
Edge = tuple[str, str, str, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """What one write left in the store: each organisation and tie it wrote, as stored JSON, or
    None for one it deleted (the ties of a deleted organisation included)."""

    organisations: Mapping[str, str | None] = field(default_factory=dict)
    ties: Mapping[str, str | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.organisations) + len(self.ties)


@dataclass(frozen=True, eq=False)
class Patch:
    """One write as the derived structures see it (see :func:`on_patch`)."""

    old: nx.MultiDiGraph
    new: nx.MultiDiGraph
    #: Organisations written (created, changed or deleted).
    organisations: frozenset[str]
    #: Ties removed from ``old`` (deleted, or replaced by a changed version) and added in ``new``.
    removed: dict[str, Edge]
    added: dict[str, Edge]
    #: Every organisation whose attributes or ties changed (the ends of every tie removed or added).
    touched: frozenset[str]
    #: Organisations created and deleted (the set of ids changed).
    created: frozenset[str]
    deleted: frozenset[str]


_patchers: list[Callable[[Patch], None]] = []
_patchers_lock = threading.Lock()


def on_patch(patcher: Callable[[Patch], None]) -> Callable[[Patch], None]:
    """Register a function that carries a structure derived from ``patch.old`` over to ``patch.new``."""
    with _patchers_lock:
        _patchers.append(patcher)
    return patcher


@dataclass(frozen=True, eq=False)
class GraphIndex:
    """One version of a store's whole graph; never changed once made."""

    version: int
    graph: nx.MultiDiGraph
    #: Tie id -> (source, target), to find a changed tie's previous ends.
    tie_ends: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, graph: nx.MultiDiGraph, version: int = 0) -> GraphIndex:
        """The index of a freshly built graph."""
        return cls(version, graph, {key: (source, target) for source, target, key in graph.edges(keys=True)})

    def patched(self, change: Change) -> GraphIndex | None:
        """The next version with ``change`` applied (None when it is too big to patch: rebuild)."""
        if len(change) > PATCH_LIMIT:
            return None
        patch, tie_ends = _patch_graph(self.graph, self.tie_ends, change)
        with _patchers_lock:
            patchers = list(_patchers)
        for patcher in patchers:
            patcher(patch)
        return GraphIndex(self.version + 1, patch.new, tie_ends)


def retire(graph: nx.Graph) -> None:
    """Let a replaced version be freed by reference counting as soon as its last reader lets go of it.

    networkx caches its views (``edges``, ``adj``...) on the graph, and they point back to it: a
    cycle that only a full collection frees, which a busy server runs rarely (and which costs a
    pass over millions of objects), so every replaced version would stay. Dropping the cached
    views breaks the cycles; a reader still using the graph makes them again as it asks.
    """
    for name in [name for name in vars(graph) if name not in _GRAPH_DATA]:
        vars(graph).pop(name, None)


#: A networkx graph's own data; everything else in its ``__dict__`` is a cached view.
_GRAPH_DATA = frozenset(
    {"graph", "_node", "_adj", "_succ", "_pred", "__networkx_cache__", "_adjacency", "_fill", "_fill_lock"}
)


def _patch_graph(
    old: nx.MultiDiGraph, old_ends: dict[str, tuple[str, str]], change: Change
) -> tuple[Patch, dict[str, tuple[str, str]]]:
    """The next graph by copy on write, and the tie ends it has."""
    nodes: dict[str, dict[str, Any]] = dict(old._node)
    succ: dict[str, dict[str, Any]] = dict(old._succ)
    pred: dict[str, dict[str, Any]] = dict(old._pred)
    tie_ends = dict(old_ends)
    removed: dict[str, Edge] = {}
    added: dict[str, Edge] = {}
    created: set[str] = set()
    deleted: set[str] = set()

    def remove_tie(tie_id: str) -> None:
        ends = tie_ends.pop(tie_id, None)
        if ends is not None:
            source, target = ends
            removed[tie_id] = (source, target, tie_id, old._succ[source][target][tie_id])

    for org_id, text in change.organisations.items():
        if text is None:
            if org_id in nodes:
                deleted.add(org_id)
                for edges in (old._succ[org_id], old._pred[org_id]):
                    for keys in edges.values():
                        for tie_id in keys:
                            remove_tie(tie_id)
                del nodes[org_id], succ[org_id], pred[org_id]
        else:
            _id, attrs = stored_org_attrs(text)
            if org_id not in nodes:
                created.add(org_id)
                succ[org_id], pred[org_id] = {}, {}
            nodes[org_id] = attrs
    for tie_id, text in change.ties.items():
        remove_tie(tie_id)
        if text is not None:
            source, target, _id, attrs = stored_tie_attrs(text)
            if source in nodes and target in nodes:  # as build_graph_from_stored
                added[tie_id] = (source, target, tie_id, attrs)
                tie_ends[tie_id] = (source, target)
    touched = set(change.organisations) | {end for edge in (*removed.values(), *added.values()) for end in edge[:2]}
    touched -= deleted
    # Each touched node's adjacency as a fresh build makes it: neighbours in the order of their
    # first tie's id, ties by id (build_graph_from_stored adds ties in id order).
    out_edges: dict[str, list[Edge]] = {node: [] for node in touched}
    in_edges: dict[str, list[Edge]] = {node: [] for node in touched}
    for node in touched:
        if node in created:
            continue
        for target, keys in old._succ[node].items():
            for tie_id, attrs in keys.items():
                if tie_id not in removed:
                    out_edges[node].append((node, target, tie_id, attrs))
        for source, keys in old._pred[node].items():
            for tie_id, attrs in keys.items():
                if tie_id not in removed:
                    in_edges[node].append((source, node, tie_id, attrs))
    for edge in added.values():
        if edge[0] in out_edges:
            out_edges[edge[0]].append(edge)
        if edge[1] in in_edges:
            in_edges[edge[1]].append(edge)
    for node in touched:
        succ[node] = _adjacency(out_edges[node], 1)
        pred[node] = _adjacency(in_edges[node], 0)
    new = nx.MultiDiGraph()
    new._node = nodes
    new._succ = new._adj = succ
    new._pred = pred
    patch = Patch(
        old=old,
        new=new,
        organisations=frozenset(change.organisations),
        removed=removed,
        added=added,
        touched=frozenset(touched),
        created=frozenset(created),
        deleted=frozenset(deleted),
    )
    return patch, tie_ends


def _adjacency(edges: Iterable[Edge], other: int) -> dict[str, dict[str, dict[str, Any]]]:
    """``{other end: {tie id: attributes}}`` in the order a build adding ties by id gives."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for source, target, tie_id, attrs in sorted(edges, key=lambda edge: edge[2]):
        found.setdefault(target if other else source, {})[tie_id] = attrs
    return found
