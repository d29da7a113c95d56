"""API routes: network pictures (HTML pages drawn with pyvis) and their front page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from graph_service import areas
from graph_service.api.deps import IsoDate, OrgIdPath, Problem, SettingsDep, StoreDep
from graph_service.api.errors import unprocessable
from graph_service.models import MAX_LA_CODE
from graph_service.settings import Settings
from viz import backdrop, national, school, search, views
from viz.front import ListChoice, front_page, isolated_answer, isolated_csv
from viz.render import Colour, Layout, render_html

router = APIRouter(prefix="/viz", tags=["pictures"])

# Errors are JSON although the pages are HTML, so their media type is spelt out (a "model" would be
# filed under text/html). 422s use FastAPI's standard validation shape (graph_service.api.errors).
HTML = {"content": {"text/html": {}}, "description": "A self-contained HTML page (works offline)."}
NOT_FOUND = {
    "description": "Unknown organisation, or nothing in the area.",
    "content": {"application/json": {"schema": Problem.model_json_schema()}},
}
TOO_LARGE = {
    "description": "The picture would hold more organisations than a served page may "
    "(GRAPH_SERVICE_MAX_VIZ_NODES); the message says how to narrow it. `graph-service render` has no limit.",
    "content": {"application/json": {"schema": Problem.model_json_schema()}},
}

ColourQ = Annotated[Colour, Query(description="Fill nodes by organisation kind or by Ofsted rating.")]
LayoutQ = Annotated[Layout, Query(description="geo: map from latitude/longitude (fixed); force: physics layout.")]
AsAtQ = Annotated[IsoDate | None, Query(description="Ties holding on this date (YYYY-MM-DD); default today.")]
ClosedQ = Annotated[bool, Query(description="Also draw closed organisations.")]
LaCodeQ = Annotated[int | None, Query(ge=0, le=MAX_LA_CODE, description="Local authority code, e.g. 330.")]
LaNameQ = Annotated[str | None, Query(max_length=200, description="Local authority name.")]
DistrictQ = Annotated[str | None, Query(max_length=200, description="Administrative district name.")]
ExcludeQ = Annotated[
    list[str] | None, Query(max_length=40, description="School types left out of the list, e.g. nursery_school.")
]
AllTypesQ = Annotated[
    bool, Query(description="Also independent schools and GIAS's other types (overseas, online); default state-funded.")
]


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def max_nodes(settings: Settings) -> int:
    """The most organisations a served picture may hold."""
    return settings.max_viz_nodes


def _draw(
    request: Request,
    store: StoreDep,
    settings: Settings,
    make: Callable[[int], views.View],
    colour: Colour,
    layout: Layout,
    narrow: str,
    command: str,
    invalid_at: tuple[str, ...] = ("query",),
    as_at: date | None = None,
) -> HTMLResponse:
    """Draw ``make(limit)``; ``narrow`` and ``command`` say what to do instead of a picture too large."""
    limit = max_nodes(settings)
    try:
        view = views.within(make(limit), limit)
    except views.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except views.InvalidView as exc:
        raise unprocessable(invalid_at, str(exc)) from None
    except views.TooLarge as exc:
        raise HTTPException(
            413,
            f"{exc} for a served page: {narrow}; or draw it from the command line with"
            f" `graph-service {command} -o FILE.html`, which has no limit",
        ) from None
    link_base = f"{_root(request)}/viz/organisation/"
    picture = views.picture(view, store, colour, layout, link_base=link_base)
    served = replace(picture, home=f"{_root(request)}/viz/", as_at=as_at, years=national.years(store))
    return HTMLResponse(render_html(served))


def _area(la_code: int | None, local_authority: str | None, district: str | None) -> views.Area:
    try:
        return views.Area(la_code=la_code, local_authority=local_authority or None, district=district or None)
    except views.InvalidView as exc:
        raise unprocessable(("query",), str(exc)) from None


def _known(store: StoreDep, where: views.Area) -> views.Area:
    """The area, or a 404 naming the nearest areas when it holds nothing (a misspelt name)."""
    try:
        areas.check_area(store, where.la_code, where.local_authority, where.district)
    except areas.UnknownArea as exc:
        raise HTTPException(404, str(exc)) from None
    return where


@router.get("/", response_class=HTMLResponse, responses={200: HTML})
def viz_front(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    # Text, not int: the page's own form sends an empty la_code when no authority is chosen.
    la_code: Annotated[str | None, Query(max_length=10, description="Local authority code, e.g. 330.")] = None,
    local_authority: LaNameQ = None,
    district: DistrictQ = None,
    exclude: ExcludeQ = None,
    all_types: AllTypesQ = False,
    as_at: AsAtQ = None,
) -> HTMLResponse:
    """Search, the views, an area's isolated schools (state-funded unless asked), and support partners."""
    where = _front_area(la_code, local_authority, district)
    page = front_page(
        store,
        where,
        max_hops=settings.max_hops,
        root=_root(request),
        max_nodes=max_nodes(settings),
        choice=ListChoice(exclude=tuple(exclude or ()), all_types=all_types),
        as_at=as_at,
    )
    return HTMLResponse(page)


def _front_area(la_code: str | None, local_authority: str | None, district: str | None) -> views.Area | None:
    code = la_code.strip() if la_code else ""
    if code and not (code.isascii() and code.isdigit()):
        raise unprocessable(("query", "la_code"), f"la_code must be a number, not {la_code!r}")
    number = int(code) if code else None
    return _area(number, local_authority, district) if (code or local_authority or district) else None


CSV = {"content": {"text/csv": {}}, "description": "A CSV file (UTF-8)."}
NO_ANSWER = {
    "description": "No support answer for this organisation (the question's message says why).",
    "content": {"application/json": {"schema": Problem.model_json_schema()}},
}


@router.get("/isolated-list.csv", response_class=Response, responses={200: CSV, 404: NOT_FOUND})
def viz_isolated_csv(
    store: StoreDep,
    # Text, as on the front page whose list this downloads.
    la_code: Annotated[str | None, Query(max_length=10, description="Local authority code, e.g. 330.")] = None,
    local_authority: LaNameQ = None,
    district: DistrictQ = None,
    exclude: ExcludeQ = None,
    all_types: AllTypesQ = False,
    as_at: AsAtQ = None,
) -> Response:
    """The front page's isolated list as CSV: type, rating, ties, nearest partner and reasons of each school."""
    where = _front_area(la_code, local_authority, district)
    if where is None:
        raise unprocessable(("query",), "give an area: la_code, local_authority or district")
    _known(store, where)
    answer = isolated_answer(store, where, ListChoice(exclude=tuple(exclude or ()), all_types=all_types), as_at)
    name = f"isolated-{where.la_code if where.la_code is not None else (where.district or where.local_authority)}.csv"
    return Response(
        isolated_csv(answer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_safe(name)}"'},
    )


def _safe(name: str) -> str:
    """A file name for a header: letters, digits, dot and dash only.

    >>> _safe('isolated-Sutton Coldfield".csv')
    'isolated-Sutton-Coldfield-.csv'
    """
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-") else "-" for ch in name)


@router.get("/search")
def viz_search(
    store: StoreDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=100,
            description="Name (misspelt too), URN, LAESTAB, postcode, its sector (B7 5) or district (B15), or town.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=100, description="Most organisations returned.")] = 10,
    radius_km: Annotated[float, Query(gt=0, le=50, description="Schools near a postcode: within this many km.")] = 3,
) -> JSONResponse:
    """Organisations matching a name, URN, LAESTAB, postcode, sector or district, or town, then names like the
    text (``matched``: ``similar name``, for a misspelling); each with its phase, Ofsted standing and whether it
    is closed. For a postcode also the open schools near it (a full postcode GIAS carries, else the centre of
    its sector's or district's schools)."""
    found = search.index(store)
    body: dict[str, object] = {"q": q, "hits": [hit.as_json() for hit in found.search(q, limit)]}
    near = found.near(q, limit=limit, radius_km=radius_km)
    if near is not None:
        place, hits = near
        body["near"] = {"place": place, "radius_km": radius_km, "hits": [hit.as_json() for hit in hits]}
    return JSONResponse(body)


MeasureQ = Annotated[
    Literal["isolated_share", "in_group_share", "difficulty_share"],
    Query(description="Colour the areas by share of isolated schools, of schools in groups, or in difficulty."),
]


@router.get("/national", response_class=HTMLResponse, responses={200: HTML})
def viz_national(
    request: Request, store: StoreDep, settings: SettingsDep, as_at: AsAtQ = None, measure: MeasureQ = "isolated_share"
) -> HTMLResponse:
    """England's local authorities on a map, coloured by a share of their schools, each clickable; a time slider."""
    return HTMLResponse(
        national.national_page(store, as_at=as_at, measure=measure, root=_root(request), tiles_url=settings.tiles_url)
    )


@router.get("/national.json")
def viz_national_json(store: StoreDep, as_at: AsAtQ = None) -> JSONResponse:
    """The national view's figures: per local authority, schools, isolated, in groups, in difficulty, outline."""
    return JSONResponse(national.national_json(store, as_at=as_at))


#: The map's files (Leaflet, the coast), by the path the pages use; nothing else is served from the folder.
STATIC_FILES = {
    str(path.relative_to(backdrop.STATIC)): path
    for path in backdrop.STATIC.rglob("*")
    if path.is_file() and path.suffix in (".js", ".css", ".png", ".json")
}


@router.get("/static/{name:path}", include_in_schema=False)
def viz_static(name: str) -> FileResponse:
    path = STATIC_FILES.get(name)
    if path is None:
        raise HTTPException(404, f"no file {name!r}")
    return FileResponse(path, headers={"Cache-Control": "max-age=86400"})


@router.get("/school/{org_id}", response_class=HTMLResponse, responses={200: HTML, 404: NOT_FOUND})
def viz_school(org_id: OrgIdPath, request: Request, store: StoreDep, as_at: AsAtQ = None) -> HTMLResponse:
    """A school's page: facts, inspections, ties over time, isolation, support partners with every reason."""
    try:
        return HTMLResponse(school.school_page(store, org_id, root=_root(request), as_at=as_at))
    except school.NoSuchSchool as exc:
        raise HTTPException(404, str(exc)) from None


def _support(store: StoreDep, org_id: str) -> dict[str, object]:
    org = store.get_organisation(org_id)
    if org is None:
        raise HTTPException(404, f"no organisation with id {org_id!r}")
    answer, problem = school.support(store, org)
    if answer is None:
        raise HTTPException(404 if org.urn is None else 422, problem or "no answer")
    return answer


@router.get(
    "/school/{org_id}/partners.csv", response_class=Response, responses={200: CSV, 404: NOT_FOUND, 422: NO_ANSWER}
)
def viz_school_csv(org_id: OrgIdPath, store: StoreDep) -> Response:
    """The school's support partners as CSV: one row per candidate, every part's points and reason."""
    return Response(
        school.candidates_csv(_support(store, org_id)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="support-{_safe(org_id)}.csv"'},
    )


@router.get("/school/{org_id}/partners.json", responses={404: NOT_FOUND, 422: NO_ANSWER})
def viz_school_json(org_id: OrgIdPath, store: StoreDep) -> JSONResponse:
    """The school's support partners as JSON (the support question's answer, as /questions/support gives it)."""
    return JSONResponse(
        _support(store, org_id), headers={"Content-Disposition": f'inline; filename="support-{_safe(org_id)}.json"'}
    )


@router.get(
    "/organisation/{org_id}", response_class=HTMLResponse, responses={200: HTML, 404: NOT_FOUND, 413: TOO_LARGE}
)
def viz_organisation(
    org_id: OrgIdPath,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    hops: Annotated[int, Query(ge=1, description="How many ties out from the organisation.")] = 1,
    colour: ColourQ = "kind",
    layout: LayoutQ = "geo",
    as_at: AsAtQ = None,
    include_closed: ClosedQ = False,
    admin: Annotated[
        bool, Query(description="Also walk administrative ties (a local authority maintaining a school).")
    ] = False,
) -> HTMLResponse:
    """One organisation's neighbourhood within ``hops`` ties (administrative ties only when asked)."""
    if hops > settings.max_hops:
        raise unprocessable(("query", "hops"), f"hops may be at most {settings.max_hops}")
    return _draw(
        request,
        store,
        settings,
        lambda _limit: views.neighbourhood(
            store, org_id, hops=hops, as_at=as_at, include_closed=include_closed, admin=admin
        ),
        colour,
        layout,
        narrow="ask for fewer hops",
        command=f"render organisation ID --hops {hops}",
        as_at=as_at,
    )


@router.get("/area", response_class=HTMLResponse, responses={200: HTML, 404: NOT_FOUND, 413: TOO_LARGE})
def viz_area(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    la_code: LaCodeQ = None,
    local_authority: LaNameQ = None,
    district: DistrictQ = None,
    colour: ColourQ = "kind",
    layout: LayoutQ = "geo",
    as_at: AsAtQ = None,
    include_closed: ClosedQ = False,
) -> HTMLResponse:
    """A local authority or district: its organisations with their trusts, hubs and groups."""
    where = _known(store, _area(la_code, local_authority, district))
    return _draw(
        request,
        store,
        settings,
        lambda _limit: views.area(store, where, as_at=as_at, include_closed=include_closed),
        colour,
        layout,
        narrow="choose a district (district=...), or one organisation's neighbourhood or group",
        command="render area --la-code N",
        as_at=as_at,
    )


@router.get("/group/{org_id}", response_class=HTMLResponse, responses={200: HTML, 404: NOT_FOUND, 413: TOO_LARGE})
def viz_group(
    org_id: Annotated[
        str, Path(description="Id of a trust, federation, hub, partnership or sponsor.", examples=["group-2044"])
    ],
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    colour: ColourQ = "kind",
    layout: LayoutQ = "geo",
    as_at: AsAtQ = None,
    include_closed: ClosedQ = False,
) -> HTMLResponse:
    """A trust, federation, teaching school hub, partnership or sponsor and its members."""
    return _draw(
        request,
        store,
        settings,
        lambda _limit: views.group(store, org_id, as_at=as_at, include_closed=include_closed),
        colour,
        layout,
        narrow="look at one member's neighbourhood (/viz/organisation/{id})",
        command="render group ID",
        as_at=as_at,
        invalid_at=("path", "org_id"),
    )


@router.get("/isolated", response_class=HTMLResponse, responses={200: HTML, 404: NOT_FOUND, 413: TOO_LARGE})
def viz_isolated(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    la_code: LaCodeQ = None,
    local_authority: LaNameQ = None,
    district: DistrictQ = None,
    partners: Annotated[int, Query(ge=1, le=10, description="Nearest partners drawn per isolated school.")] = 3,
    colour: ColourQ = "rating",
    layout: LayoutQ = "geo",
    as_at: AsAtQ = None,
    all_types: AllTypesQ = False,
) -> HTMLResponse:
    """An area's isolated schools against the nearest open schools of their phase that do collaborate."""
    where = _known(store, _area(la_code, local_authority, district))
    return _draw(
        request,
        store,
        settings,
        lambda _limit: views.isolated(store, where, partners=partners, as_at=as_at, all_types=all_types),
        colour,
        layout,
        narrow="choose a district (district=...) or fewer partners",
        command=f"render isolated --la-code N --partners {partners}",
        as_at=as_at,
    )


@router.get("/graph", response_class=HTMLResponse, responses={200: HTML, 413: TOO_LARGE})
def viz_graph(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    colour: ColourQ = "kind",
    layout: LayoutQ = "geo",
    as_at: AsAtQ = None,
    include_closed: ClosedQ = False,
) -> HTMLResponse:
    """The whole graph: every open organisation and its current ties (refused, 413, above the picture limit)."""
    return _draw(
        request,
        store,
        settings,
        lambda limit: views.whole(store, as_at=as_at, include_closed=include_closed, max_nodes=limit),
        colour,
        layout,
        narrow="choose an area (/viz/area?la_code=330), a group or one organisation's neighbourhood",
        command="render graph",
        as_at=as_at,
    )
