"""The pictures' front page: the views, an area's isolated schools, a support-partner search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from graph_service.models import NodeKind
from graph_service.store import GraphStore, OrganisationFilter
from viz.render import script_json, templates
from viz.views import Area, NotFound, area_name, isolated_list

#: (path, name, what it shows) for the list of views.
VIEWS = (
    ("organisation/{id}", "Neighbourhood", "one organisation and everything within k ties of it"),
    ("area", "Area", "a local authority or district: its organisations, trusts, hubs and groups"),
    ("group/{id}", "Group", "a trust, federation, hub, partnership or sponsor and its members"),
    ("isolated", "Isolated schools", "an area's isolated schools against their nearest possible partners"),
    ("graph", "Whole graph", "every open organisation and its current ties"),
)


@dataclass(frozen=True)
class AreaChoice:
    la_code: int
    name: str


def local_authorities(store: GraphStore) -> list[AreaChoice]:
    """The local authorities in the store, by name."""
    flt = OrganisationFilter(kinds=(NodeKind.LOCAL_AUTHORITY,))
    _first, total = store.list_organisations(flt, limit=1)
    orgs, _total = store.list_organisations(flt, limit=max(total, 1))
    return sorted(
        (AreaChoice(org.la_code, org.name) for org in orgs if org.la_code is not None),
        key=lambda choice: choice.name.lower(),
    )


def front_page(
    store: GraphStore,
    where: Area | None,
    max_hops: int,
    root: str = "",
    as_at: date | None = None,
    max_nodes: int | None = None,
) -> str:
    """The front page as HTML; ``root`` is the API's root path (for links behind a proxy).

    ``max_nodes`` is the most organisations a served picture may hold, if there is a limit.
    """
    areas = local_authorities(store)
    if where is None and len(areas) == 1:
        where = Area(la_code=areas[0].la_code)
    isolated = None
    problem = None
    if where is not None:
        try:
            isolated = isolated_list(store, where, as_at=as_at)
        except NotFound as exc:
            problem = str(exc)
    counts = store.counts()
    return (
        templates()
        .get_template("front.html")
        .render(
            root=root,
            views=VIEWS,
            data_date=store.get_meta().get("data_date"),
            organisations=sum(number for key, number in counts.items() if not key.startswith("tie:")),
            ties=sum(number for key, number in counts.items() if key.startswith("tie:")),
            areas=areas,
            where=where,
            where_name=area_name(store, where) if where is not None else None,
            isolated=isolated,
            problem=problem,
            hops=range(1, max_hops + 1),
            max_nodes=max_nodes,
            root_json=script_json(root),
        )
    )
