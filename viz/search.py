"""Finding an organisation the way people name it: name, URN, LAESTAB, postcode or town, and the
schools near a postcode, from the postcodes GIAS itself carries (a full postcode where a school has
it, else the centre of the schools of its district, e.g. ``B15``).

The index is built from the store's whole graph and rebuilt when that graph is (after a write).
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph_service.index import Patch, on_patch
from graph_service.store import GraphStore
from viz.isolation import distance_km

#: Kinds offered by the search, schools first.
ORDER = {"school": 0, "fe_college": 1, "trust": 2, "federation": 3, "teaching_school_hub": 4}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})?$")


def postcode_parts(text: str) -> tuple[str, str | None] | None:
    """``(district, full postcode or None)`` when the text is a postcode or a postcode district.

    >>> postcode_parts("b15 2tt"), postcode_parts("B15"), postcode_parts("Birmingham")
    (('B15', 'B15 2TT'), ('B15', None), None)
    """
    found = _POSTCODE.match(" ".join(text.upper().split()))
    if found is None:
        return None
    district, inward = found.groups()
    return district, f"{district} {inward}" if inward else None


@dataclass(frozen=True)
class Hit:
    """One organisation found, with what matched."""

    id: str
    name: str
    kind: str
    type: str | None
    postcode: str | None
    town: str | None
    local_authority: str | None
    status: str | None
    matched: str
    distance_km: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


class SearchIndex:
    """Organisations by the words people search with, built once per graph.

    Each row keeps what a search compares (lower-case name and town, the order of results, the
    location), so that a search is one pass of string tests over plain tuples and a heap of the best.
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        #: (rank key, id, lower-case name, lower-case town, latitude, longitude, open school?)
        self.rows: list[tuple[tuple[int, int, str], str, str, str, float | None, float | None, bool]] = []
        self.by_key: dict[str, list[str]] = {}  # URN, LAESTAB, postcode (no space) -> ids
        self.districts: dict[str, list[tuple[float, float]]] = {}
        self.ranks: dict[str, tuple[int, int, str]] = {}
        self._rows_at: dict[str, int] | None = None  # see _row_of
        for node, data in graph.nodes(data=True):
            self._add(node, data)

    def _add(self, node: str, data: dict[str, Any]) -> None:
        """Index one organisation (appended: callers add them in the graph's order)."""
        kind = data.get("kind")
        if kind == "local_authority":
            return
        self.rows.append(self._row(node, data))
        for key in _keys(data):
            self.by_key.setdefault(key, []).append(node)
        district = _district(data)
        if district is not None:
            self.districts.setdefault(district, []).append((data["latitude"], data["longitude"]))

    def _row(self, node: str, data: dict[str, Any]) -> tuple[tuple[int, int, str], str, str, str, Any, Any, bool]:
        kind = data.get("kind")
        name = str(data.get("name", ""))
        closed = data.get("status") == "closed"
        rank = self.ranks[node] = (1 if closed else 0, ORDER.get(str(kind), 9), name.lower())
        town = str(data.get("town") or "").lower()
        return (
            rank,
            node,
            name.lower(),
            town,
            data.get("latitude"),
            data.get("longitude"),
            kind == "school" and not closed,
        )

    def _row_of(self) -> dict[str, int]:
        """Each organisation's place in ``rows`` (made on the first patch, then carried over)."""
        known = self._rows_at
        if known is None:
            known = self._rows_at = {row[1]: i for i, row in enumerate(self.rows)}
        return known

    def patched(self, graph: nx.MultiDiGraph, changed: frozenset[str]) -> SearchIndex:
        """The index of ``graph``, which differs from this one's only in the organisations ``changed``
        (graph_service.index): the same as ``SearchIndex(graph)``, their rows alone redone."""
        new = object.__new__(SearchIndex)
        new.graph = graph
        new._rows_at = None
        if not changed:  # a tie written: nothing searched changed
            new.rows, new.by_key, new.districts, new.ranks = self.rows, self.by_key, self.districts, self.ranks
            new._rows_at = self._rows_at
            return new
        new.ranks = dict(self.ranks)
        before, after = self.graph.nodes, graph.nodes
        keys: set[str] = set()
        districts: set[str] = set()
        for node in changed:
            new.ranks.pop(node, None)
            for attrs in (before.get(node), after.get(node)):
                if attrs is not None and attrs.get("kind") != "local_authority":
                    keys.update(_keys(attrs))
                    if (district := _district(attrs)) is not None:
                        districts.add(district)
        present = [node for node in changed if node in after and after[node].get("kind") != "local_authority"]
        # Rows in the graph's order: a changed organisation keeps its place, a new one comes last.
        rows = list(self.rows)
        row_of = self._row_of()
        at = {node: row_of[node] for node in changed if node in row_of}
        made = {node for node in present if node not in before}
        if any(node not in at and node not in made for node in present):
            return SearchIndex(graph)  # an organisation that was a local authority: not worth patching
        for node in present:
            if node in at:
                rows[at[node]] = new._row(node, after[node])
        if len(at) > len(present) - len(made):  # some left the index
            kept = set(present)
            rows = [row for row in rows if row[1] not in changed or row[1] in kept]
        last = list(itertools.islice(reversed(graph._node), len(made)))[::-1]
        rows += [new._row(node, after[node]) for node in last if node in made]
        if len(at) == len(present) - len(made):  # nothing left: the places of the others stand
            new._rows_at = dict(row_of) if made else row_of
            for i in range(len(rows) - len(made), len(rows)):
                new._rows_at[rows[i][1]] = i
        new.rows = rows
        new.by_key = dict(self.by_key)
        order: dict[str, int] | None = None
        for key in keys:
            listed = [node for node in self.by_key.get(key, []) if node not in changed]
            listed += [node for node in present if key in _keys(after[node])]
            if len(listed) > 1:
                order = order or {node: i for i, node in enumerate(graph)}
                listed.sort(key=order.__getitem__)
            if listed:
                new.by_key[key] = listed
            else:
                new.by_key.pop(key, None)
        new.districts = dict(self.districts)
        for district in districts:
            points = [
                (data["latitude"], data["longitude"])
                for data in graph._node.values()
                if data.get("kind") != "local_authority" and _district(data) == district
            ]
            if points:
                new.districts[district] = points
            else:
                new.districts.pop(district, None)
        return new

    def _hit(self, node: str, matched: str, km: float | None = None) -> Hit:
        data = self.graph.nodes[node]
        return Hit(
            id=node,
            name=str(data.get("name", node)),
            kind=str(data.get("kind", "")),
            type=data.get("type_name") or data.get("subtype"),
            postcode=data.get("postcode"),
            town=data.get("town"),
            local_authority=data.get("local_authority"),
            status=data.get("status"),
            matched=matched,
            distance_km=km,
        )

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        """Organisations matching ``text``: exact URN, LAESTAB or postcode first, then names and towns.

        Names starting with the text come before names containing it, then towns; within each,
        open organisations before closed ones, schools before groups, then by name.
        """
        query = " ".join(text.split())
        if not query:
            return []
        keyed = sorted(self.by_key.get(_squash(query) or "", []), key=lambda node: self.ranks[node])
        exact = [self._hit(node, "id") for node in keyed]
        if query in self.graph and not any(hit.id == query for hit in exact):
            exact.insert(0, self._hit(query, "id"))
        if exact and any(ch.isdigit() for ch in query):
            return exact[:limit]  # a URN, LAESTAB or postcode found: no name holds it
        lower = query.lower()
        starts: list[tuple[tuple[int, int, str], str]] = []
        contains: list[tuple[tuple[int, int, str], str]] = []
        towns: list[tuple[tuple[int, int, str], str]] = []
        for rank, node, name, town, *_rest in self.rows:
            if lower in name:
                (starts if name.startswith(lower) else contains).append((rank, node))
            elif lower == town:
                towns.append((rank, node))
        seen = {hit.id for hit in exact}
        hits = list(exact)
        for group, how in ((starts, "name"), (contains, "name"), (towns, "town")):
            if len(hits) >= limit:
                break
            for _rank, node in heapq.nsmallest(limit + len(seen), group):
                if node not in seen and len(hits) < limit:
                    seen.add(node)
                    hits.append(self._hit(node, how))
        return hits[:limit]

    def where(self, text: str) -> tuple[tuple[float, float], str] | None:
        """A postcode's place: a school's own full postcode, else its district's centre; with how it was found."""
        parts = postcode_parts(text)
        if parts is None:
            return None
        district, full = parts
        if full:
            for node in self.by_key.get(_squash(full) or "", []):
                data = self.graph.nodes[node]
                if data.get("latitude") is not None and data.get("longitude") is not None:
                    return (data["latitude"], data["longitude"]), f"postcode {full}"
        points = self.districts.get(district)
        if not points:
            return None
        centre = (sum(lat for lat, _ in points) / len(points), sum(lon for _, lon in points) / len(points))
        return centre, f"centre of the {len(points)} located organisations in district {district}"

    def near(self, text: str, limit: int = 20, radius_km: float = 5.0) -> tuple[str, list[Hit]] | None:
        """Open schools within ``radius_km`` of a postcode, nearest first, and how the place was found."""
        place = self.where(text)
        if place is None:
            return None
        point, how = place
        # A box around the point first (a degree of latitude is 111 km), then the exact distance.
        dlat = radius_km / 111.0
        dlon = radius_km / (111.0 * max(0.1, math.cos(math.radians(point[0]))))
        found = []
        for _rank, node, _name, _town, latitude, longitude, open_school in self.rows:
            if not open_school or latitude is None or longitude is None:
                continue
            if abs(latitude - point[0]) > dlat or abs(longitude - point[1]) > dlon:
                continue
            km = distance_km(point, (latitude, longitude))
            if km <= radius_km:
                found.append((km, node))
        found.sort()
        return how, [self._hit(node, "near", round(km, 2)) for km, node in found[:limit]]


def _keys(data: dict[str, Any]) -> list[str]:
    """The exact keys an organisation is found by: URN, LAESTAB, postcode without its space."""
    return [str(key) for key in (data.get("urn"), data.get("laestab"), _squash(data.get("postcode"))) if key]


def _district(data: dict[str, Any]) -> str | None:
    """The postcode district of a located organisation (None when it has no location or postcode)."""
    parts = postcode_parts(str(data.get("postcode") or ""))
    if parts and data.get("latitude") is not None and data.get("longitude") is not None:
        return parts[0]
    return None


def _squash(value: object) -> str | None:
    """A key without spaces, upper case (postcodes, URNs)."""
    return "".join(str(value).split()).upper() if value else None


_lock = threading.Lock()
_cache: dict[int, tuple[nx.MultiDiGraph, SearchIndex]] = {}


def index(store: GraphStore) -> SearchIndex:
    """The store's search index, rebuilt when its graph object changes (after a write)."""
    graph = store.graph()
    with _lock:
        kept = _cache.get(id(store))
        if kept is None or kept[0] is not graph:
            kept = (graph, SearchIndex(graph))
            _cache[id(store)] = kept
        return kept[1]


@on_patch
def _carry_over(patch: Patch) -> None:
    """After a write by this process, the index of the new graph from the old one's (graph_service.index)."""
    with _lock:
        for store, (graph, found) in list(_cache.items()):
            if graph is patch.old:
                _cache[store] = (patch.new, found.patched(patch.new, patch.organisations))
