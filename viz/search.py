"""Finding an organisation the way people name it: name (misspelt too), URN, LAESTAB, postcode,
postcode sector or district, or town, and the schools near a postcode, from the postcodes GIAS itself
carries (a full postcode where a school has it, else the centre of the schools of its sector, e.g.
``B7 5``, or district, e.g. ``B15``).

A misspelt name ("Nechels") is matched word by word with ``rapidfuzz``: each distinctive word of the
query (not "school", "primary", "St"...) must be like a word of the name. The index is built from
the store's whole graph and rebuilt when that graph is (after a write).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import networkx as nx
from rapidfuzz import fuzz, process

from graph_service.index import Patch, on_patch
from graph_service.store import GraphStore
from viz.isolation import distance_km

#: Kinds offered by the search, schools first.
ORDER = {"school": 0, "fe_college": 1, "trust": 2, "federation": 3, "teaching_school_hub": 4}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*([0-9])([A-Z]{2})?)?$")
_WORD = re.compile(r"[a-z0-9]+")
#: Words too common in school names to tell one from another: a misspelt search ignores them.
GENERIC = frozenset(
    [
        "school",
        "schools",
        "primary",
        "secondary",
        "academy",
        "academies",
        "the",
        "and",
        "of",
        "at",
        "st",
        "saint",
        "church",
        "england",
        "ce",
        "cofe",
        "rc",
        "infant",
        "infants",
        "junior",
        "juniors",
        "nursery",
        "college",
        "high",
        "community",
        "catholic",
        "first",
        "middle",
        "trust",
        "learning",
        "multi",
        "centre",
        "centres",
        "education",
        "federation",
    ]
)
#: How alike (0 to 100, rapidfuzz's ratio) a word must be to a word of a name to match it.
FUZZY_CUTOFF = 80.0


@dataclass(frozen=True)
class Postcode:
    """A postcode as searched: its district (``B7``), sector (``B7 5``) and the full postcode, as given."""

    district: str
    sector: str | None
    full: str | None


def postcode_parts(text: str) -> Postcode | None:
    """The parts of a postcode, a postcode sector or a postcode district; ``None`` for other text.

    >>> postcode_parts("b15 2tt")
    Postcode(district='B15', sector='B15 2', full='B15 2TT')
    >>> postcode_parts("B7 5"), postcode_parts("B15"), postcode_parts("Birmingham")
    (Postcode(district='B7', sector='B7 5', full=None), Postcode(district='B15', sector=None, full=None), None)
    """
    found = _POSTCODE.match(" ".join(text.upper().split()))
    if found is None:
        return None
    district, digit, letters = found.groups()
    sector = f"{district} {digit}" if digit else None
    return Postcode(district, sector, f"{sector}{letters}" if letters else None)


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
    phase: str | None = None
    ofsted_rating: str | None = None
    #: Closed (or proposed to open): marked in the results, listed after the open ones.
    closed: bool = False

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
        self.districts: dict[str, list[tuple[float, float]]] = {}  # district or sector -> located points
        self.in_area: dict[str, list[str]] = {}  # postcode district or sector -> ids
        self.ranks: dict[str, tuple[int, int, str]] = {}
        self.words: dict[str, list[str]] = {}  # a word of a name -> ids
        self._rows_at: dict[str, int] | None = None  # see _row_of
        for node, data in graph.nodes(data=True):
            self._add(node, data)
        self.vocabulary = list(self.words)

    def _add(self, node: str, data: dict[str, Any]) -> None:
        """Index one organisation (appended: callers add them in the graph's order)."""
        if data.get("kind") == "local_authority":
            return
        self.rows.append(self._row(node, data))
        for key in _keys(data):
            self.by_key.setdefault(key, []).append(node)
        for area, point in _areas(data):
            self.in_area.setdefault(area, []).append(node)
            if point is not None:
                self.districts.setdefault(area, []).append(point)
        for word in _words(data):
            self.words.setdefault(word, []).append(node)

    def _row(self, node: str, data: dict[str, Any]) -> tuple[tuple[int, int, str], str, str, str, Any, Any, bool]:
        kind = data.get("kind")
        name = str(data.get("name", ""))
        closed = data.get("status") == "closed"
        rank = self.ranks[node] = (1 if closed else 0, ORDER.get(str(kind), 9), name.lower())
        town = str(data.get("town") or "").lower()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        return (rank, node, name.lower(), town, latitude, longitude, kind == "school" and not closed)

    def _row_of(self) -> dict[str, int]:
        """Each organisation's place in ``rows`` (made on the first patch, then carried over)."""
        known = self._rows_at
        if known is None:
            known = self._rows_at = {row[1]: i for i, row in enumerate(self.rows)}
        return known

    def patched(self, graph: nx.MultiDiGraph, changed: frozenset[str]) -> SearchIndex:
        """The index of ``graph``, which differs from this one's only in the organisations ``changed``
        (graph_service.index): the same as ``SearchIndex(graph)``, their rows alone redone (new words
        come last in the vocabulary)."""
        new = object.__new__(SearchIndex)
        new.graph = graph
        new._rows_at = None
        if not changed:  # a tie written: nothing searched changed
            new.__dict__.update(self.__dict__)
            new.graph = graph
            return new
        new.ranks = dict(self.ranks)
        before, after = self.graph.nodes, graph.nodes
        keys: set[str] = set()
        areas: set[str] = set()
        words: set[str] = set()
        for node in changed:
            new.ranks.pop(node, None)
            for attrs in (before.get(node), after.get(node)):
                if attrs is not None and attrs.get("kind") != "local_authority":
                    keys.update(_keys(attrs))
                    areas.update(area for area, _point in _areas(attrs))
                    words.update(_words(attrs))
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
        order: dict[str, int] = {}

        def in_order(listed: list[str]) -> list[str]:
            if len(listed) > 1:
                if not order:
                    order.update((node, i) for i, node in enumerate(graph))
                listed.sort(key=order.__getitem__)
            return listed

        def redo(index: dict[str, list[str]], names: set[str], has: Any) -> dict[str, list[str]]:
            index = dict(index)
            for name in names:
                listed = [node for node in index.get(name, []) if node not in changed]
                listed = in_order(listed + [node for node in present if has(after[node], name)])
                if listed:
                    index[name] = listed
                else:
                    index.pop(name, None)
            return index

        new.by_key = redo(self.by_key, keys, lambda attrs, key: key in _keys(attrs))
        new.in_area = redo(self.in_area, areas, lambda attrs, area: any(a == area for a, _p in _areas(attrs)))
        new.words = redo(self.words, words, lambda attrs, word: word in _words(attrs))
        # The vocabulary in the order a build meets the words: by the graph's order of their first
        # organisation, then as its name's words come (fuzzy matches of equal score keep that order).
        if not order:
            order.update((node, i) for i, node in enumerate(graph))

        def met(word: str) -> tuple[int, int]:
            first = new.words[word][0]
            return order[first], list(_words(after[first])).index(word)

        vocabulary = [word for word in self.vocabulary if word not in words]
        for word in sorted((word for word in words if word in new.words), key=met):
            vocabulary.insert(bisect.bisect_left(vocabulary, met(word), key=met), word)
        new.vocabulary = vocabulary
        new.districts = dict(self.districts)
        for area in areas:
            points = [
                point for node in new.in_area.get(area, []) for a, point in _areas(after[node]) if a == area and point
            ]
            if points:
                new.districts[area] = points
            else:
                new.districts.pop(area, None)
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
            phase=data.get("phase"),
            ofsted_rating=data.get("ofsted_rating"),
            closed=data.get("status") in ("closed", "proposed_to_open"),
        )

    def search(self, text: str, limit: int = 10) -> list[Hit]:
        """Organisations matching ``text``: exact URN, LAESTAB or postcode first, then a postcode
        sector's or district's, then names and towns, then names like it (a misspelling).

        Names starting with the text come before names containing it, then towns; within each,
        open organisations before closed ones, schools before groups, then by name. Names like
        the text come last, the most alike first.
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
        parts = postcode_parts(query)
        if parts is not None and parts.full is None:
            area = parts.sector or parts.district
            within = sorted(self.in_area.get(area, []), key=lambda node: self.ranks[node])
            if within:
                how = "postcode sector" if parts.sector else "postcode district"
                return [self._hit(node, how) for node in within[:limit]]
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
        if len(hits) < limit:
            for node in self.alike(lower, limit + len(seen)):
                if node not in seen and len(hits) < limit:
                    seen.add(node)
                    hits.append(self._hit(node, "similar name"))
        return hits[:limit]

    def alike(self, text: str, limit: int = 10) -> list[str]:
        """Ids of names like ``text`` word by word (a misspelling), the most alike first.

        Every distinctive word of the text (not in :data:`GENERIC`, at least three letters) must be
        like a word of the name (rapidfuzz's ratio at least :data:`FUZZY_CUTOFF`); a name scores
        the sum of its best likeness per word, and a point for each other word of the text it holds.
        """
        words = _WORD.findall(text.lower())
        wanted = [word for word in words if word not in GENERIC and len(word) >= 3] or [w for w in words if len(w) >= 3]
        scores: dict[str, float] | None = None
        for word in wanted:
            found: dict[str, float] = {}
            for match, likeness, _at in process.extract(
                word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=50
            ):
                for node in self.words[match]:
                    found[node] = max(found.get(node, 0.0), likeness)
            scores = (
                found
                if scores is None
                else {node: scores[node] + more for node, more in found.items() if node in scores}
            )
            if not scores:
                return []
        if not scores:
            return []
        # The common words break ties: "harbourne primary" puts Harborne Primary before Harborne Academy.
        common = set(words) - set(wanted)
        ranked = (
            (-score - len(common & set(_WORD.findall(str(self.graph.nodes[node].get("name", "")).lower()))), node)
            for node, score in scores.items()
        )
        return [
            node for _score, node in heapq.nsmallest(limit, ranked, key=lambda item: (item[0], self.ranks[item[1]]))
        ]

    def where(self, text: str) -> tuple[tuple[float, float], str] | None:
        """A postcode's place: a school's own full postcode, else its sector's centre, else its
        district's; with how it was found."""
        parts = postcode_parts(text)
        if parts is None:
            return None
        if parts.full:
            for node in self.by_key.get(_squash(parts.full) or "", []):
                data = self.graph.nodes[node]
                if data.get("latitude") is not None and data.get("longitude") is not None:
                    return (data["latitude"], data["longitude"]), f"postcode {parts.full}"
        for area, what in ((parts.sector, "sector"), (parts.district, "district")):
            points = self.districts.get(area or "")
            if points:
                centre = (sum(lat for lat, _ in points) / len(points), sum(lon for _, lon in points) / len(points))
                return centre, f"centre of the {len(points)} located organisations in {what} {area}"
        return None

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


def _areas(data: dict[str, Any]) -> list[tuple[str, tuple[float, float] | None]]:
    """The postcode district and sector an organisation is in, each with its location if known."""
    parts = postcode_parts(str(data.get("postcode") or ""))
    latitude, longitude = data.get("latitude"), data.get("longitude")
    point = (latitude, longitude) if latitude is not None and longitude is not None else None
    return [(area, point) for area in ((parts.district, parts.sector) if parts else ()) if area is not None]


def _words(data: dict[str, Any]) -> set[str]:
    """The words of an organisation's name, lower case."""
    return set(_WORD.findall(str(data.get("name", "")).lower()))


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
