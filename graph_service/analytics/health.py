"""Network health: centrality, clustering, communities and the brokers between them.

The measures are computed by igraph (C): betweenness, Leiden communities (modularity),
eigenvector centrality and clustering of all of England's collaboration network take about
a second, where networkx took about ten. :func:`network_health` is three steps, so that a
service can run the middle one in another process (igraph holds Python's interpreter lock
while it works): :func:`health_task` (the area, as plain lists), :func:`measure` (igraph) and
:func:`health_report` (the rows).
"""

from __future__ import annotations

import random
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import igraph as ig
import networkx as nx

from graph_service.analytics.network import PROVIDER_KINDS, SchoolFilter, collaboration_graph, node_ties, selected
from graph_service.models import EdgeKind, NodeKind

#: In a component bigger than this, betweenness is estimated from a seeded sample of sources.
EXACT_BETWEENNESS_UP_TO = 2000
DEFAULT_SAMPLE = 500
_DIGITS = 6
#: igraph draws its random numbers from one generator per process.
_rng_lock = threading.Lock()


#: Groups whose member schools the projection ties together, and direct ties between two schools
#: (as analytics.panel's projection: docs/questions.md, "Collaboration by area and over time").
PROJECTION_GROUPS = frozenset(
    {
        NodeKind.TRUST.value,
        NodeKind.FEDERATION.value,
        NodeKind.TEACHING_SCHOOL_HUB.value,
        NodeKind.TEACHING_SCHOOL_ALLIANCE.value,
        NodeKind.PARTNERSHIP.value,
    }
)
DIRECT_TIES = frozenset({EdgeKind.FEDERATED_WITH.value, EdgeKind.SUPPORTS.value, EdgeKind.COLLABORATES_ON.value})


def covered(collab: nx.Graph, flt: SchoolFilter | None = None, as_at: date | None = None) -> list[str]:
    """The organisations a report covers: those the filter selects (open schools by default), in id order.

    Closed organisations are never counted: the default filter keeps only those open on ``as_at``.
    """
    return selected(collab, flt or SchoolFilter(), as_at)


def area_graph(collab: nx.Graph, flt: SchoolFilter | None = None, as_at: date | None = None) -> nx.Graph:
    """The school-school projection of the schools a report covers, without those that have no partner.

    Two of the covered schools (open on the day, see :func:`covered`) are tied when both are
    members of one trust, federation, teaching school hub, alliance or partnership, or joined by a
    direct federation, support or collaboration tie. The star of a trust and its schools becomes
    the clique of its schools, so clustering, communities and brokers say how schools work with
    each other; a school tied only to a group with no other covered member has no partner. Each
    edge keeps in ``ties`` what joins the pair (group ids and tie ids). Node order stays id order.

    Examples
    --------
    >>> c = nx.Graph()
    >>> c.add_nodes_from([("1", {"kind": "school", "status": "open", "la_code": 1}),
    ...                   ("2", {"kind": "school", "status": "open", "la_code": 1}),
    ...                   ("3", {"kind": "school", "status": "closed", "la_code": 1}),
    ...                   ("t", {"kind": "trust"})])
    >>> c.add_edges_from([("1", "t", {"ties": [("a", "1", "t", {"kind": "member_of"})]}),
    ...                   ("2", "t", {"ties": [("b", "2", "t", {"kind": "member_of"})]}),
    ...                   ("3", "t", {"ties": [("c", "3", "t", {"kind": "member_of"})]})])
    >>> area = area_graph(c, SchoolFilter(la_code=1))
    >>> sorted(area.edges(data="ties"))
    [('1', '2', ['t'])]
    """
    schools = covered(collab, flt, as_at)
    inside = set(schools)
    members: dict[str, list[str]] = {}
    joined: dict[tuple[str, str], list[str]] = {}
    for school in schools:
        for other, tie_id, direction, data in node_ties(collab, school):
            kind = data.get("kind")
            if kind in DIRECT_TIES and other in inside and other != school:
                joined.setdefault((min(school, other), max(school, other)), []).append(tie_id)
            elif (
                kind == EdgeKind.MEMBER_OF.value
                and direction == "out"
                and collab.nodes[other].get("kind") in PROJECTION_GROUPS
            ):
                members.setdefault(other, []).append(school)
    for group, found in members.items():
        unique = sorted(set(found))
        for i, first in enumerate(unique):
            for second in unique[i + 1 :]:
                joined.setdefault((first, second), []).append(group)
    area = nx.Graph()
    keep = sorted({node for pair in joined for node in pair})
    area.add_nodes_from((node, collab.nodes[node]) for node in keep)
    # Schools and their ties come in id order, so the edges do too: the same order on either backend.
    area.add_edges_from((a, b, {"ties": via if len(via) == 1 else sorted(set(via))}) for (a, b), via in joined.items())
    return area


@dataclass(frozen=True)
class HealthTask:
    """An area's network as plain lists: what :func:`measure` needs, cheap to send to another process.

    Nodes are numbered in id order; ``edges`` are pairs of those numbers, in order.
    """

    nodes: int
    edges: list[tuple[int, int]]
    sample: int | None = None
    seed: int = 42
    resolution: float = 1.0


@dataclass
class Measures:
    """What igraph found, one value per node in the task's order."""

    betweenness: list[float]
    #: Sources sampled for betweenness in the biggest sampled component (None: exact everywhere).
    betweenness_sample: int | None
    eigenvector: list[float] | None
    clustering: list[float]
    membership: list[int]
    modularity: float
    notes: list[str] = field(default_factory=list)


def health_task(
    collab: nx.Graph,
    flt: SchoolFilter | None = None,
    as_at: date | None = None,
    *,
    sample: int | None = None,
    seed: int = 42,
    resolution: float = 1.0,
) -> tuple[nx.Graph, HealthTask]:
    """The area a report covers (:func:`area_graph`) and the task that measures it.

    Examples
    --------
    >>> c = nx.Graph()  # nodes in id order, as collaboration_graph makes them
    >>> c.add_nodes_from((n, {"kind": "school"}) for n in "abc")
    >>> c.add_edge("a", "b", ties=[("x", "a", "b", {"kind": "supports"})])
    >>> c.add_edge("b", "c", ties=[("y", "b", "c", {"kind": "collaborates_on"})])
    >>> area, task = health_task(c)
    >>> list(area), task.nodes, task.edges
    (['a', 'b', 'c'], 3, [(0, 1), (1, 2)])
    """
    area = area_graph(collab, flt, as_at)
    number = {node: n for n, node in enumerate(area)}
    edges = sorted((min(number[u], number[v]), max(number[u], number[v])) for u, v in area.edges())
    return area, HealthTask(len(number), edges, sample=sample, seed=seed, resolution=resolution)


def measure(task: HealthTask) -> Measures:
    """Betweenness, eigenvector centrality, clustering and Leiden communities of the task's network.

    Betweenness is normalised over the whole area (pairs of organisations), exact in
    components of up to ``EXACT_BETWEENNESS_UP_TO`` organisations and estimated in bigger
    ones from ``sample`` (default ``DEFAULT_SAMPLE``) sources drawn with ``seed``; a
    ``sample`` smaller than a component forces sampling there. Leiden optimises modularity
    until stable, its random choices seeded by ``seed``, so answers repeat. Eigenvector
    centrality is scaled to unit length (as networkx does).

    Examples
    --------
    >>> found = measure(HealthTask(4, [(0, 1), (1, 2), (2, 3)]))
    >>> [round(b, 4) for b in found.betweenness], found.clustering, found.betweenness_sample
    ([0.0, 0.6667, 0.6667, 0.0], [0.0, 0.0, 0.0, 0.0], None)
    """
    with _rng_lock:
        # igraph draws from the random module unless told otherwise (Leiden's choices, ARPACK's start
        # vector): one generator seeded for this call makes every answer repeat, in any process.
        ig.set_random_number_generator(random.Random(task.seed))
        try:
            return _measure(task)
        finally:
            ig.set_random_number_generator(random)


def _measure(task: HealthTask) -> Measures:
    graph = ig.Graph(n=task.nodes, edges=task.edges, directed=False)
    n = task.nodes
    betweenness, used = _betweenness(graph, task.sample, task.seed)
    notes: list[str] = []
    eigenvector: list[float] | None = None
    if n:
        try:
            with warnings.catch_warnings():
                # igraph warns that a disconnected network has near-zero values: England's is thousands
                # of islands, and like networkx's the values then mostly measure the biggest one.
                warnings.simplefilter("ignore", RuntimeWarning)
                values = graph.eigenvector_centrality()
            norm = sum(value * value for value in values) ** 0.5
            eigenvector = [abs(value) / norm if norm else 0.0 for value in values]
        except ig.InternalError as exc:
            notes.append(f"eigenvector centrality could not be computed ({exc}); left empty")
    clustering = graph.transitivity_local_undirected(mode="zero") if n else []
    membership: list[int] = []
    modularity = 0.0
    if n:
        found = graph.community_leiden(objective_function="modularity", resolution=task.resolution, n_iterations=-1)
        membership = list(found.membership)
        if task.edges:
            modularity = graph.modularity(membership, resolution=task.resolution)
    return Measures(betweenness, used, eigenvector, clustering, membership, modularity, notes)


def _betweenness(graph: ig.Graph, sample: int | None, seed: int) -> tuple[list[float], int | None]:
    """Normalised betweenness over the whole graph, and the largest sample used (None: exact)."""
    n = graph.vcount()
    scale = 2 / ((n - 1) * (n - 2)) if n > 2 else 0.0
    values = [0.0] * n
    exact: list[int] = []
    used = None
    for component in graph.connected_components():
        size = len(component)
        if size < 3:
            continue
        if size <= EXACT_BETWEENNESS_UP_TO and (sample is None or sample >= size):
            exact += component
            continue
        k = min(size, sample or DEFAULT_SAMPLE)
        used = max(used or 0, k)
        part = graph.subgraph(component)  # vertices keep their order
        sources = sorted(random.Random(seed).sample(range(size), k))
        # Shortest paths from k of the component's sources, scaled up to all of them.
        for vertex, value in zip(component, part.betweenness(directed=False, sources=sources), strict=True):
            values[vertex] = value * size / k * scale
    if exact:
        # No shortest path crosses two components: their exact values are computed at once.
        part = graph.subgraph(exact)
        for vertex, value in zip(sorted(exact), part.betweenness(directed=False), strict=True):
            values[vertex] = value * scale
    return values, used


def health_report(
    collab: nx.Graph,
    area: nx.Graph,
    task: HealthTask,
    found: Measures,
    flt: SchoolFilter | None = None,
    as_at: date | None = None,
) -> dict[str, Any]:
    """The report :func:`network_health` returns, from the area and what :func:`measure` found."""
    day = as_at or date.today()
    n = area.number_of_nodes()
    schools = covered(collab, flt, as_at)
    order = list(area)
    # Communities largest first, then by their first member; numbered from 1.
    groups: dict[int, list[str]] = {}
    for node, label in zip(order, found.membership, strict=True):
        groups.setdefault(label, []).append(node)
    communities = sorted(groups.values(), key=lambda members: (-len(members), members[0]))
    community_of = {node: number for number, members in enumerate(communities, start=1) for node in members}
    eigenvector = found.eigenvector

    def name(node: str) -> str:
        return str(area.nodes[node].get("name", node))

    nodes = [
        {
            "id": node,
            "name": name(node),
            "kind": area.nodes[node].get("kind"),
            "degree": area.degree(node),
            "betweenness": round(found.betweenness[i], _DIGITS),
            "eigenvector": None if eigenvector is None else round(eigenvector[i], _DIGITS),
            "clustering": round(found.clustering[i], _DIGITS),
            "community": community_of[node],
        }
        for i, node in enumerate(order)
    ]
    brokers = []
    for row in nodes:
        others = {community_of[other] for other in area[row["id"]]} - {row["community"]}
        if others:
            brokers.append({**row, "bridges": len(others), "bridged_communities": sorted(others)})
    brokers.sort(key=lambda row: (-row["bridges"], -row["betweenness"], row["id"]))
    community_rows = []
    for number, members in enumerate(communities, start=1):
        kinds = Counter(area.nodes[m].get("kind") for m in members)
        authorities = Counter(
            area.nodes[m].get("local_authority") for m in members if area.nodes[m].get("local_authority")
        )
        central = sorted(members, key=lambda m: (-area.degree(m), m))[:3]
        community_rows.append(
            {
                "community": number,
                "size": len(members),
                "schools": sum(count for kind, count in kinds.items() if kind in PROVIDER_KINDS),
                "kinds": dict(sorted(kinds.items(), key=lambda item: str(item[0]))),
                "central": [name(m) for m in central],
                "local_authorities": [la for la, _ in authorities.most_common(3)],
                "members": members,
            }
        )
    components = [len(c) for c in nx.connected_components(area)]
    summary = {
        "as_at": day,
        "organisations": len(schools),
        "lone_organisations": sum(1 for node in schools if node not in area),
        "connected_organisations": n,
        "edges": area.number_of_edges(),
        "ties": sum(len(data["ties"]) for _u, _v, data in area.edges(data=True)),
        "density": round(nx.density(area), _DIGITS) if n > 1 else 0.0,
        "components": len(components),
        "largest_component": max(components, default=0),
        "average_clustering": round(sum(found.clustering) / n, _DIGITS) if n else 0.0,
        "communities": len(communities),
        "modularity": round(found.modularity, _DIGITS),
        "betweenness_sample": found.betweenness_sample,
        "seed": task.seed,
        "notes": list(found.notes),
    }
    return {"summary": summary, "nodes": nodes, "communities": community_rows, "brokers": brokers}


def network_health(
    graph: nx.MultiDiGraph,
    as_at: date | None = None,
    *,
    flt: SchoolFilter | None = None,
    sample: int | None = None,
    seed: int = 42,
    resolution: float = 1.0,
    collab: nx.Graph | None = None,
) -> dict[str, Any]:
    """Degree, betweenness, eigenvector centrality, clustering and Leiden communities of an area.

    Measures are computed on :func:`area_graph` (organisations as nodes, one edge per tied
    pair) by :func:`measure` (see there for sampling and seeds). A broker is an organisation
    tied to communities other than its own; ``bridges`` counts them.

    Returns ``{"summary": {...}, "nodes": [...], "communities": [...], "brokers": [...]}``,
    nodes in id order, communities largest first (numbered from 1), brokers by bridges then
    betweenness.

    Examples
    --------
    >>> g = nx.MultiDiGraph()
    >>> for n in ("a1", "a2", "a3", "b1", "b2", "b3"):
    ...     g.add_node(n, kind="school", name=n)
    >>> for u, v in (("a1", "a2"), ("a2", "a3"), ("a1", "a3"), ("b1", "b2"), ("b2", "b3"), ("b1", "b3"), ("a3", "b1")):
    ...     _ = g.add_edge(u, v, key=u + v, kind="collaborates_on")
    >>> report = network_health(g, date(2025, 1, 1))
    >>> [sorted(c["members"]) for c in report["communities"]]
    [['a1', 'a2', 'a3'], ['b1', 'b2', 'b3']]
    >>> [(b["id"], b["bridges"]) for b in report["brokers"]]
    [('a3', 1), ('b1', 1)]
    """
    collab = collab if collab is not None else collaboration_graph(graph, as_at)
    area, task = health_task(collab, flt, as_at, sample=sample, seed=seed, resolution=resolution)
    return health_report(collab, area, task, measure(task), flt, as_at)
