"""Finding an organisation the way people name it: name, URN, LAESTAB, postcode or town, and the
schools near a postcode, from the postcodes GIAS itself carries (a full postcode where a school has
it, else the centre of the schools of its district, e.g. ``B15``).

The index is built from the store's whole graph and rebuilt when that graph is (after a write).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import networkx as nx

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
    """Organisations by the words people search with, built once per graph."""

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self.rows: list[tuple[str, str, dict[str, Any]]] = []  # (id, lower-case name, attributes)
        self.by_key: dict[str, list[str]] = {}  # URN, LAESTAB, postcode (no space) -> ids
        self.districts: dict[str, list[tuple[float, float]]] = {}
        for node, data in graph.nodes(data=True):
            if data.get("kind") in ("local_authority",):
                continue
            self.rows.append((node, str(data.get("name", "")).lower(), data))
            for key in (data.get("urn"), data.get("laestab"), _squash(data.get("postcode"))):
                if key:
                    self.by_key.setdefault(str(key), []).append(node)
            parts = postcode_parts(str(data.get("postcode") or ""))
            if parts and data.get("latitude") is not None and data.get("longitude") is not None:
                self.districts.setdefault(parts[0], []).append((data["latitude"], data["longitude"]))

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

        Open organisations come before closed ones, schools before groups, then by name.
        """
        query = " ".join(text.split())
        if not query:
            return []
        exact = [self._hit(node, "id") for node in self.by_key.get(_squash(query) or "", [])]
        if query in self.graph and not any(hit.id == query for hit in exact):
            exact.insert(0, self._hit(query, "id"))
        lower = query.lower()
        named = []
        for node, name, data in self.rows:
            if lower in name:
                named.append((0 if name.startswith(lower) else 1, node, "name"))
            elif lower == str(data.get("town") or "").lower():
                named.append((2, node, "town"))
        named.sort(key=lambda item: (item[0], *self._rank(item[1])))
        seen = {hit.id for hit in exact}
        hits = exact + [self._hit(node, how) for _, node, how in named if node not in seen]
        return hits[:limit]

    def _rank(self, node: str) -> tuple[int, int, str]:
        data = self.graph.nodes[node]
        closed = 1 if data.get("status") == "closed" else 0
        return closed, ORDER.get(str(data.get("kind")), 9), str(data.get("name", "")).lower()

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
        found = []
        for node, _name, data in self.rows:
            if data.get("kind") != "school" or data.get("status") == "closed" or data.get("latitude") is None:
                continue
            km = distance_km(point, (data["latitude"], data["longitude"]))
            if km <= radius_km:
                found.append((km, node))
        found.sort()
        return how, [self._hit(node, "near", round(km, 2)) for km, node in found[:limit]]


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
