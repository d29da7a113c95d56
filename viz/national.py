"""The national view: every local authority as an area on a map of Great Britain, coloured by its
share of isolated schools, of schools in a trust, federation or partnership, or of schools in
difficulty, on any day the data covers.

There is no boundary file in the package registries under a licence we may bundle, so each area is
approximate: the outline (convex hull) of its own schools' locations, and the page says so. The coast
is Natural Earth's (public domain, vendored by ``scripts/vendor-map``); the map's files are Leaflet's,
served by the service (``viz/static``), so nothing is fetched from elsewhere unless an online tile
layer is set (``GRAPH_SERVICE_TILES_URL``).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import networkx as nx

from graph_service import areas, questions
from graph_service.analytics.standing import rating_on
from graph_service.models import DIFFICULTY_RATINGS
from graph_service.store import GraphStore
from viz.layout import convex_hull
from viz.render import script_json, templates

#: The measures an area can be coloured by: (field, words).
MEASURES = (
    ("isolated_share", "share of isolated schools"),
    ("in_group_share", "share of schools in a trust, federation or partnership"),
    ("difficulty_share", "share of schools in difficulty (Ofsted)"),
)
_DIFFICULTY = frozenset(rating.value for rating in DIFFICULTY_RATINGS)
#: The first year the time slider offers: GIAS's membership dates start with the first academies.
FIRST_YEAR = 2002


@dataclass(frozen=True)
class AreaRow:
    """One local authority on the national map."""

    name: str
    la_code: int | None
    schools: int
    isolated: int
    isolated_share: float
    in_group: int
    in_group_share: float
    difficulty: int
    difficulty_share: float
    #: Mean latitude and longitude of its located schools.
    centre: tuple[float, float] | None
    #: The outline of its located schools, ``[latitude, longitude]`` pairs (approximate area).
    outline: list[tuple[float, float]]


_kept: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[date | None, list[AreaRow]]] = weakref.WeakKeyDictionary()


def national_rows(store: GraphStore, as_at: date | None = None) -> list[AreaRow]:
    """Every local authority's state-funded schools open on the day: counts, shares and outline, by name.

    The shares of isolated schools and of schools in groups are the isolated-schools question's area
    summary (:func:`graph_service.questions.area_summaries`); in difficulty means an Ofsted standing on
    the day of special measures, serious weaknesses, inadequate or requires improvement.
    """
    graph = store.graph()
    kept = _kept.setdefault(graph, {})
    if as_at in kept:
        return kept[as_at]
    filters = questions.AreaFilter(types=areas.default_types())
    summary = {row.area: row for row in questions.area_summaries(store, as_at=as_at, filters=filters).rows}
    flt = filters.to_filter()
    day = as_at or date.today()
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    codes: dict[str, int | None] = {}
    difficulty: dict[str, int] = defaultdict(int)
    for _node, attrs in graph.nodes(data=True):
        if attrs.get("kind") != "school" or not flt.matches(attrs, as_at):
            continue
        name = str(attrs.get("local_authority") or "(unknown)")
        codes.setdefault(name, attrs.get("la_code"))
        if rating_on(attrs, day) in _DIFFICULTY:
            difficulty[name] += 1
        if attrs.get("latitude") is not None and attrs.get("longitude") is not None:
            points[name].append((round(float(attrs["latitude"]), 4), round(float(attrs["longitude"]), 4)))
    rows = []
    for name, row in sorted(summary.items()):
        located = points.get(name, [])
        centre = (
            (round(sum(p[0] for p in located) / len(located), 4), round(sum(p[1] for p in located) / len(located), 4))
            if located
            else None
        )
        rows.append(
            AreaRow(
                name=name,
                la_code=codes.get(name),
                schools=row.schools,
                isolated=row.isolated,
                isolated_share=row.isolated_share,
                in_group=row.in_group,
                in_group_share=row.in_group_share,
                difficulty=difficulty[name],
                difficulty_share=round(difficulty[name] / row.schools, 4) if row.schools else 0.0,
                centre=centre,
                outline=convex_hull(located),
            )
        )
    kept[as_at] = rows
    return rows


def years(store: GraphStore) -> list[int]:
    """The years the time slider offers: from :data:`FIRST_YEAR` to the data's own year."""
    data_date = store.get_meta().get("data_date") or date.today().isoformat()
    last = int(data_date[:4])
    return list(range(min(FIRST_YEAR, last), last + 1))


def national_page(
    store: GraphStore,
    as_at: date | None = None,
    measure: str = "isolated_share",
    root: str = "",
    tiles_url: str | None = None,
) -> str:
    """The national view as an HTML page (its scripts and the coast are served by the service)."""
    rows = national_rows(store, as_at)
    data = {
        "rows": [asdict(row) for row in rows],
        "measures": dict(MEASURES),
        "measure": measure,
        "root": root,
        "tiles": tiles_url,
        "asAt": as_at.isoformat() if as_at else None,
        "dataDate": store.get_meta().get("data_date"),
    }
    return (
        templates()
        .get_template("national.html")
        .render(
            root=root,
            data_json=script_json(data),
            measures=MEASURES,
            measure=measure,
            as_at=as_at,
            years=years(store),
            data_date=store.get_meta().get("data_date"),
            schools=sum(row.schools for row in rows),
            areas=len(rows),
            tiles=tiles_url,
        )
    )


def national_json(store: GraphStore, as_at: date | None = None) -> list[dict[str, Any]]:
    """The rows as plain data (the API's ``/viz/national.json``)."""
    return [asdict(row) for row in national_rows(store, as_at)]
