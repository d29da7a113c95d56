"""Network health: centrality, clustering, communities and the brokers between them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import networkx as nx

from graph_service.analytics.network import PROVIDER_KINDS, SchoolFilter, collaboration_graph, selected

#: In a component bigger than this, betweenness is estimated from a seeded sample of sources.
EXACT_BETWEENNESS_UP_TO = 2000
DEFAULT_SAMPLE = 500
_DIGITS = 6


def area_graph(collab: nx.Graph, flt: SchoolFilter | None = None, as_at: date | None = None) -> nx.Graph:
    """The part of the collaboration graph a health report covers, without lone organisations.

    With no filter, every organisation that has a tie. With a filter, the schools it selects
    and the organisations that are not providers (trusts, federations, hubs...) they are tied
    to, with the ties among them. Node order stays id order.

    Examples
    --------
    >>> c = nx.Graph()
    >>> c.add_nodes_from([("1", {"kind": "school", "status": "open", "la_code": 1}),
    ...                   ("2", {"kind": "school", "status": "open", "la_code": 2}),
    ...                   ("t", {"kind": "trust"}), ("x", {"kind": "school"})])
    >>> c.add_edges_from([("1", "t"), ("2", "t")])
    >>> sorted(area_graph(c, SchoolFilter(la_code=1)))
    ['1', 't']
    >>> sorted(area_graph(c))
    ['1', '2', 't']
    """
    if flt is None:
        keep = {node for node in collab if collab.degree(node) > 0}
    else:
        schools = set(selected(collab, flt, as_at))
        keep = set(schools)
        for node in schools:
            keep.update(other for other in collab[node] if collab.nodes[other].get("kind") not in PROVIDER_KINDS)
        keep = {node for node in keep if any(other in keep for other in collab[node])}
    return nx.Graph(collab.subgraph(sorted(keep)))


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
    """Degree, betweenness, eigenvector centrality, clustering and Louvain communities of an area.

    Measures are computed on :func:`area_graph` (organisations as nodes, one edge per tied
    pair). Betweenness is computed component by component (no shortest path crosses two),
    normalised over the whole area: exact in components of up to ``EXACT_BETWEENNESS_UP_TO``
    organisations, estimated in bigger ones from ``sample`` (default ``DEFAULT_SAMPLE``)
    sources drawn with ``seed``; ``sample`` smaller than a component forces sampling there.
    Louvain uses ``seed`` too, so answers repeat. A broker is an organisation tied to
    communities other than its own; ``bridges`` counts them.

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
    day = as_at or date.today()
    collab = collab if collab is not None else collaboration_graph(graph, as_at)
    area = area_graph(collab, flt, as_at)
    n = area.number_of_nodes()
    covered = list(collab) if flt is None else selected(collab, flt, as_at)
    betweenness, k = _betweenness(area, sample, seed)
    notes = []
    try:
        eigenvector: dict[str, float | None] = dict(nx.eigenvector_centrality(area, max_iter=1000)) if n else {}
    except nx.PowerIterationFailedConvergence:
        notes.append("eigenvector centrality did not converge in 1000 iterations; left empty")
        eigenvector = dict.fromkeys(area)
    clustering = nx.clustering(area) if n else {}
    found = nx.community.louvain_communities(area, seed=seed, resolution=resolution) if n else []
    communities = sorted((sorted(c) for c in found), key=lambda members: (-len(members), members[0]))
    community_of = {node: number for number, members in enumerate(communities, start=1) for node in members}

    def name(node: str) -> str:
        return str(area.nodes[node].get("name", node))

    nodes = [
        {
            "id": node,
            "name": name(node),
            "kind": area.nodes[node].get("kind"),
            "degree": area.degree(node),
            "betweenness": round(betweenness[node], _DIGITS),
            "eigenvector": None if eigenvector[node] is None else round(float(eigenvector[node] or 0.0), _DIGITS),
            "clustering": round(clustering[node], _DIGITS),
            "community": community_of[node],
        }
        for node in area
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
        "organisations": len(covered),
        "lone_organisations": sum(1 for node in covered if node not in area),
        "connected_organisations": n,
        "edges": area.number_of_edges(),
        "ties": sum(len(data["ties"]) for _u, _v, data in area.edges(data=True)),
        "density": round(nx.density(area), _DIGITS) if n > 1 else 0.0,
        "components": len(components),
        "largest_component": max(components, default=0),
        "average_clustering": round(sum(clustering.values()) / n, _DIGITS) if n else 0.0,
        "communities": len(communities),
        "modularity": round(nx.community.modularity(area, found), _DIGITS) if area.number_of_edges() else 0.0,
        "betweenness_sample": k,
        "seed": seed,
        "notes": notes,
    }
    return {"summary": summary, "nodes": nodes, "communities": community_rows, "brokers": brokers}


def _betweenness(area: nx.Graph, sample: int | None, seed: int) -> tuple[dict[str, float], int | None]:
    """Normalised betweenness over the whole area, and the sample size used (None: exact).

    Summing per component is exact and avoids networkx's per-source set-up over every node
    of a large, fragmented network (England's is thousands of small islands).
    """
    n = area.number_of_nodes()
    scale = 2 / ((n - 1) * (n - 2)) if n > 2 else 0.0
    values = dict.fromkeys(area, 0.0)
    used = None
    for component in nx.connected_components(area):
        if len(component) < 3:
            continue
        part = area.subgraph(sorted(component))
        k = None
        if len(component) > EXACT_BETWEENNESS_UP_TO or (sample is not None and sample < len(component)):
            k = min(len(component), sample or DEFAULT_SAMPLE)
            used = max(used or 0, k)
        for node, value in nx.betweenness_centrality(part, k=k, normalized=False, seed=seed).items():
            values[node] = value * scale
    return values, used
