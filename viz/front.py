"""The front page: search, the views, an area's isolated schools (state-funded unless asked), support partners."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from graph_service import areas, questions
from graph_service.models import NodeKind
from graph_service.spreadsheet import cell
from graph_service.store import GraphStore, OrganisationFilter
from graph_service.tables import words
from viz.national import years
from viz.render import script_json, templates
from viz.views import STATE_FUNDED, Area, ListChoice, NotFound, area_name, isolated_answer

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


#: School types a strategist may leave out of the isolated list (beyond the default: not state-funded).
EXCLUDABLE = (
    ("nursery_school", "nursery schools"),
    ("special", "special schools"),
    ("pupil_referral_unit", "pupil referral units"),
    ("alternative_provision", "alternative provision"),
)


def isolated_csv(answer: questions.IsolatedAnswer) -> str:
    """The list as CSV: one row per school with its type, rating, nearest partner and reasons."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["urn", "name", "type", "phase", "ofsted_rating", "ofsted_date", "ties"]
        + ["nearest_partner", "nearest_partner_kind", "km", "reasons"]
    )
    for item in answer.items:
        partner = item.nearest_partner
        writer.writerow(
            cell(value)
            for value in [
                item.urn,
                item.name,
                item.type_name or item.subtype or "",
                item.phase.value if item.phase else "",
                item.ofsted_rating.value if item.ofsted_rating else "",
                item.ofsted_date or "",
                item.tie_count,
                partner.name if partner else "",
                partner.kind.value if partner and partner.kind else "",
                f"{partner.distance_km:.2f}" if partner else "",
                "; ".join(item.reasons),
            ]
        )
    return out.getvalue()


def front_page(
    store: GraphStore,
    where: Area | None,
    max_hops: int,
    root: str = "",
    as_at: date | None = None,
    max_nodes: int | None = None,
    choice: ListChoice = STATE_FUNDED,
) -> str:
    """The front page as HTML; ``root`` is the API's root path (for links behind a proxy).

    ``max_nodes`` is the most organisations a served picture may hold, if there is a limit.
    """
    areas_here = local_authorities(store)
    if where is None and len(areas_here) == 1:
        where = Area(la_code=areas_here[0].la_code)
    answer = None
    problem = None
    if where is not None:
        try:
            areas.check_area(store, where.la_code, where.local_authority, where.district)
            answer = isolated_answer(store, where, choice, as_at=as_at)
        except (NotFound, areas.UnknownArea, questions.QuestionError) as exc:
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
            areas=areas_here,
            where=where,
            where_name=area_name(store, where) if where is not None else None,
            answer=answer,
            choice=choice,
            excludable=EXCLUDABLE,
            problem=problem,
            hops=range(1, max_hops + 1),
            as_at=as_at,
            years=years(store),
            max_nodes=max_nodes,
            root_json=script_json(root),
            words=words,
        )
    )
