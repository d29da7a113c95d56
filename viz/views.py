"""The pictures people ask for, read from any :class:`~graph_service.store.GraphStore`.

Each view returns a :class:`View` (a title, a networkx graph, what to highlight);
:func:`picture` adds the colour and layout choices and the data date. The API
(``/viz/...``) and the CLI (``graph-service render``) both draw through here.
Ties are those holding on ``as_at`` (today by default); closed organisations are
left out unless asked for, except the one a neighbourhood is centred on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from graph_service import areas, questions
from graph_service.graphview import build_graph
from graph_service.models import (
    GROUPS,
    MAX_LA_CODE,
    EdgeKind,
    NodeKind,
    Organisation,
    Status,
    Tie,
    la_id,
)
from graph_service.store import GraphStore, OrganisationFilter, Subgraph
from viz.isolation import nearest_partners
from viz.render import Colour, ExtraEdge, Layout, Picture

CURRENT = (Status.OPEN, Status.OPEN_PROPOSED_TO_CLOSE)
#: Kinds whose members make a "group" picture.
GROUP_KINDS = GROUPS | {NodeKind.SPONSOR}
#: Ties that make an organisation a member of a group (or sponsored by a sponsor).
MEMBERSHIP = frozenset({EdgeKind.MEMBER_OF.value, EdgeKind.SPONSORED_BY.value})


class ViewError(Exception):
    """A view cannot be drawn as asked."""


class NotFound(ViewError):
    """The organisation or area asked for is not in the store."""


class InvalidView(ViewError):
    """The request makes no sense (no area given, not a group...)."""


class TooLarge(ViewError):
    """The picture would hold more organisations than the caller allows (the API's limit)."""

    def __init__(self, count: int, limit: int) -> None:
        self.count, self.limit = count, limit
        super().__init__(f"the picture would hold {count:,} organisations, more than the limit of {limit:,}")


def within(view: View, max_nodes: int | None) -> View:
    """The view, or :class:`TooLarge` when it holds more than ``max_nodes`` organisations (None: no limit)."""
    count = view.graph.number_of_nodes()
    if max_nodes is not None and count > max_nodes:
        raise TooLarge(count, max_nodes)
    return view


@dataclass(frozen=True)
class View:
    """A graph to draw, with its title."""

    title: str
    graph: nx.MultiDiGraph
    note: str = ""
    highlight: frozenset[str] = frozenset()
    extra_edges: tuple[ExtraEdge, ...] = field(default=())


@dataclass(frozen=True)
class Area:
    """A local authority (by code or name) or an administrative district."""

    la_code: int | None = None
    local_authority: str | None = None
    district: str | None = None

    def __post_init__(self) -> None:
        if self.la_code is None and not self.local_authority and not self.district:
            raise InvalidView("give an area: a local authority code or name, or a district")
        if self.la_code is not None and not 0 <= self.la_code <= MAX_LA_CODE:
            raise InvalidView(f"la_code must be between 0 and {MAX_LA_CODE}, not {self.la_code}")

    def filter(self, kinds: tuple[NodeKind, ...] = (), include_closed: bool = False) -> OrganisationFilter:
        return OrganisationFilter(
            kinds=kinds,
            la_code=self.la_code,
            local_authority=self.local_authority,
            district=self.district,
            statuses=() if include_closed else CURRENT,
        )

    def contains(self, data: dict[str, object]) -> bool:
        """Whether a node's attributes place it in the area (names compared in any case)."""

        def same(value: object, wanted: str | None) -> bool:
            return wanted is None or str(value or "").lower() == wanted.lower()

        return (
            (self.la_code is None or data.get("la_code") == self.la_code)
            and same(data.get("local_authority"), self.local_authority)
            and same(data.get("district"), self.district)
        )

    def describe(self, la_name: str | None = None) -> str:
        """The area in words, e.g. ``Birmingham (LA 330)``.

        >>> Area(la_code=330).describe("Birmingham"), Area(district="Solihull").describe()
        ('Birmingham (LA 330)', 'Solihull district')
        """
        name = self.local_authority or la_name
        code = f"LA {self.la_code}" if self.la_code is not None else ""
        authority = f"{name} ({code})" if name and code else name or code
        if not self.district:
            return authority
        return f"{self.district} district" + (f", {authority}" if authority else "")


def area_name(store: GraphStore, where: Area) -> str:
    """:meth:`Area.describe`, with the local authority's name looked up when only its code was given."""
    la = store.get_organisation(la_id(where.la_code)) if where.la_code is not None else None
    return where.describe(la.name if la is not None else None)


def _day(as_at: date | None) -> date:
    return as_at or date.today()


def _graph(sub: Subgraph, include_closed: bool, keep: Collection[str] = ()) -> nx.MultiDiGraph:
    orgs = [org for org in sub.organisations if include_closed or org.status is not Status.CLOSED or org.id in keep]
    return build_graph(orgs, sub.ties)


def _when(as_at: date | None) -> str:
    return f" on {as_at.isoformat()}" if as_at else ""


#: Ties drawn in a neighbourhood only when asked: a local authority maintaining its schools links
#: hundreds of them without any collaboration, which means nothing to a broker.
ADMINISTRATIVE = frozenset({EdgeKind.MAINTAINED_BY})


def neighbourhood(
    store: GraphStore,
    org_id: str,
    hops: int = 1,
    as_at: date | None = None,
    include_closed: bool = False,
    admin: bool = False,
) -> View:
    """One organisation and everything within ``hops`` ties of it.

    Administrative ties (:data:`ADMINISTRATIVE`) are left out, and not walked, unless ``admin`` is set
    or the organisation is a local authority.
    """
    if hops < 1:
        raise InvalidView("hops must be at least 1")
    centre = store.get_organisation(org_id)
    if centre is None:
        raise NotFound(f"no organisation with id {org_id!r}")
    day = _day(as_at)
    if admin or centre.kind is NodeKind.LOCAL_AUTHORITY:
        sub = store.neighbours(org_id, hops=hops, as_at=day)
    else:
        sub = _without_admin(store, org_id, hops, day)
    graph = _graph(sub, include_closed, keep=(org_id,))
    ring = "tie" if hops == 1 else "ties"
    note = "" if admin else "Administrative ties (a local authority maintaining a school) are left out."
    extra: tuple[ExtraEdge, ...] = ()
    open_school = centre.kind is NodeKind.SCHOOL and centre.status.is_current
    if open_school and centre.la_code is not None and not _collaborating(graph, org_id, day):
        # An isolated school's network would be a single dot: show whom it could turn to instead.
        graph, extra = _with_possible_partners(store, graph, org_id, centre.la_code, day)
        note = (note + " " if note else "") + (
            f"It has no collaboration tie: dotted lines join it to the {len(extra)} nearest open schools of its"
            " phase in its local authority that do collaborate."
        )
    return View(
        title=f"{centre.name} and its network within {hops} {ring}{_when(as_at)}",
        graph=graph,
        highlight=frozenset({org_id}),
        note=note,
        extra_edges=extra,
    )


def _collaborating(graph: nx.MultiDiGraph, node: str, day: date) -> bool:
    """Whether a node has a collaboration tie in the picture."""
    ends = list(graph.out_edges(node, data="kind")) + list(graph.in_edges(node, data="kind"))
    return any(EdgeKind(kind).is_collaboration for _source, _target, kind in ends)


def _with_possible_partners(
    store: GraphStore, graph: nx.MultiDiGraph, school: str, la_code: int, day: date, count: int = 3
) -> tuple[nx.MultiDiGraph, tuple[ExtraEdge, ...]]:
    """The picture with the school's ``count`` nearest possible partners (and their trusts), dotted lines to them."""
    around = store.subgraph(Area(la_code=la_code).filter(kinds=(NodeKind.SCHOOL,)), as_at=day, hops=1)
    area = _graph(around, include_closed=False, keep=(school,))
    if school not in area:
        return graph, ()
    pairs = nearest_partners(area, [school], per_school=count, as_at=day)
    shown = {partner for _, partner, _ in pairs}
    shown |= {
        target for partner in shown for _, target, kind in area.out_edges(partner, data="kind") if kind in MEMBERSHIP
    }
    joined = nx.compose(graph, area.subgraph(shown).copy())
    names = joined.nodes
    extra = tuple(
        ExtraEdge(school, partner, f"{names[school]['name']} \u2192 {names[partner]['name']}: {km:.1f} km")
        for school, partner, km in pairs
    )
    return joined, extra


def _without_admin(store: GraphStore, org_id: str, hops: int, day: date) -> Subgraph:
    """Ring by ring from ``org_id`` along ties that are not administrative."""
    orgs: dict[str, Organisation] = {}
    ties: dict[str, Tie] = {}
    fetched: dict[str, Tie] = {}
    frontier = {org_id}
    seen = {org_id}
    for _ring in range(hops):
        reached: set[str] = set()
        for node in sorted(frontier):
            sub = store.neighbours(node, hops=1, as_at=day)
            by_id = {org.id: org for org in sub.organisations}
            if node in by_id:
                orgs[node] = by_id[node]
            for tie in sub.ties:
                if tie.kind in ADMINISTRATIVE:
                    continue
                fetched[tie.id] = tie
                if node not in (tie.source_id, tie.target_id):
                    continue
                other = tie.target_id if tie.source_id == node else tie.source_id
                if other not in by_id:
                    continue
                ties[tie.id] = tie
                orgs[other] = by_id[other]
                if other not in seen:
                    reached.add(other)
        seen |= reached
        frontier = reached
        if not frontier:
            break
    # Also the ties the store returned between organisations of the picture that were not walked.
    ties.update({key: tie for key, tie in fetched.items() if tie.source_id in orgs and tie.target_id in orgs})
    return Subgraph(organisations=list(orgs.values()), ties=list(ties.values()))


def area(store: GraphStore, where: Area, as_at: date | None = None, include_closed: bool = False) -> View:
    """The organisations of an area, with the trusts, hubs and groups they belong to."""
    sub = store.subgraph(where.filter(include_closed=include_closed), as_at=_day(as_at), hops=1)
    if not sub.organisations:
        raise NotFound(f"no {'' if include_closed else 'open '}organisation in {area_name(store, where)}")
    return View(
        title=f"{area_name(store, where)}: organisations and their ties{_when(as_at)}",
        graph=_graph(sub, include_closed),
    )


def group(store: GraphStore, org_id: str, as_at: date | None = None, include_closed: bool = False) -> View:
    """A trust, federation, hub, partnership or sponsor with its members."""
    org = store.get_organisation(org_id)
    if org is None:
        raise NotFound(f"no organisation with id {org_id!r}")
    if org.kind not in GROUP_KINDS:
        kinds = ", ".join(sorted(kind.value for kind in GROUP_KINDS))
        raise InvalidView(f"{org_id!r} is a {org.kind.value}, not a group ({kinds}); use the organisation view")
    graph = _graph(store.neighbours(org_id, hops=1, as_at=_day(as_at)), include_closed, keep=(org_id,))
    joined = {source for source, _, kind in graph.in_edges(org_id, data="kind") if kind in MEMBERSHIP}
    members = f"the {len(joined)} it sponsors" if org.kind is NodeKind.SPONSOR else f"its {len(joined)} members"
    return View(
        title=f"{org.name} ({org.kind.value.replace('_', ' ')}) and {members}{_when(as_at)}",
        graph=graph,
        highlight=frozenset({org_id}),
    )


@dataclass(frozen=True)
class ListChoice:
    """What the isolated list covers: the area, types left out, and whether to include every type."""

    exclude: tuple[str, ...] = ()
    all_types: bool = False


#: The list a strategist sees first: state-funded schools, no type left out.
STATE_FUNDED = ListChoice()


def isolated_answer(
    store: GraphStore, where: Area, choice: ListChoice = STATE_FUNDED, as_at: date | None = None
) -> questions.IsolatedAnswer:
    """The area's isolated schools as the questions answer them (riskiest first): the list and the picture.

    State-funded schools only unless ``choice.all_types`` (``graph_service.areas.default_types``),
    less the types in ``choice.exclude``.
    """
    filters = questions.AreaFilter(
        la_code=where.la_code,
        local_authority=where.local_authority,
        district=where.district,
        types=areas.default_types(choice.exclude, everything=choice.all_types),
    )
    return questions.isolated_schools(store, as_at=as_at, filters=filters)


def _isolated_in(
    store: GraphStore, where: Area, as_at: date | None, all_types: bool = False
) -> tuple[nx.MultiDiGraph, list[str]]:
    """The area's schools with their neighbours, and which of them are isolated (:func:`isolated_answer`)."""
    # On a past day a school closed since may have been open, and isolated, then.
    sub = store.subgraph(
        where.filter(kinds=(NodeKind.SCHOOL,), include_closed=as_at is not None), as_at=_day(as_at), hops=1
    )
    if not sub.organisations:
        raise NotFound(f"no open school in {area_name(store, where)}")
    lonely = [item.id for item in isolated_answer(store, where, ListChoice(all_types=all_types), as_at).items]
    return _graph(sub, include_closed=False, keep=lonely), lonely


def isolated(
    store: GraphStore, where: Area, partners: int = 3, as_at: date | None = None, all_types: bool = False
) -> View:
    """An area's isolated schools against the nearest open schools of their phase that do collaborate."""
    if partners < 1:
        raise InvalidView("partners must be at least 1")
    day = _day(as_at)
    graph, lonely = _isolated_in(store, where, as_at, all_types)
    pairs = nearest_partners(graph, lonely, per_school=partners, as_at=day)
    shown = set(lonely) | {partner for _, partner, _ in pairs}
    # The partners' trusts and groups tell a broker who else stands behind them.
    shown |= {
        target
        for _, partner, _ in pairs
        for _, target, kind in graph.out_edges(partner, data="kind")
        if kind == "member_of"
    }
    names = graph.nodes
    extra = tuple(
        ExtraEdge(school, partner, f"{names[school]['name']} \u2192 {names[partner]['name']}: {km:.1f} km")
        for school, partner, km in pairs
    )
    unlocated = sum(1 for node in lonely if names[node].get("latitude") is None)
    funded = "" if all_types else "state-funded "
    note = (
        f"{len(lonely)} isolated {funded}schools (open, no current tie but to their local authority or predecessors), "
        f"with black borders; dotted lines join each to its {partners} nearest open schools of the same phase "
        "that do collaborate."
    )
    if unlocated:
        note += f" {unlocated} isolated schools have no location, so no nearest partner."
    return View(
        title=f"{area_name(store, where)}: isolated schools and their nearest possible partners{_when(as_at)}",
        graph=graph.subgraph(shown).copy(),
        note=note,
        highlight=frozenset(lonely),
        extra_edges=extra,
    )


def whole(
    store: GraphStore, as_at: date | None = None, include_closed: bool = False, max_nodes: int | None = None
) -> View:
    """Every (open) organisation and the ties among them; :class:`TooLarge` before reading more than ``max_nodes``."""
    day = _day(as_at)
    flt = OrganisationFilter(statuses=() if include_closed else CURRENT)
    # One listing and one pass over the ties: a national subgraph() query would fetch each tie twice.
    _first, total = store.list_organisations(flt, limit=1)
    if max_nodes is not None and total > max_nodes:
        # Refused on the count alone, so a national store is never read for a page it may not serve.
        raise TooLarge(total, max_nodes)
    orgs, _total = store.list_organisations(flt, limit=max(total, 1))
    ties = [tie for tie in store.all_ties() if tie.is_current(day)]
    return View(title=f"The whole graph{_when(as_at)}", graph=build_graph(orgs, ties))


def picture(
    view: View,
    store: GraphStore,
    colour: Colour = "kind",
    layout: Layout = "geo",
    link_base: str | None = None,
) -> Picture:
    """A view with the drawing choices and the store's data date."""
    return Picture(
        graph=view.graph,
        title=view.title,
        data_date=store.get_meta().get("data_date"),
        note=view.note,
        colour=colour,
        layout=layout,
        highlight=view.highlight,
        extra_edges=view.extra_edges,
        link_base=link_base,
    )
