"""API routes: the questions (isolated schools, area summaries, support partners, network health)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import ValidationError

from graph_service import areas, questions
from graph_service.api.deps import MAX_OFFSET, IsoDate, LaCodeQuery, Problem, SettingsDep, StoreDep, json_answer
from graph_service.api.errors import unprocessable
from graph_service.models import NodeKind, Phase, Status
from graph_service.questions import (
    AreaFilter,
    AreaSummaryAnswer,
    GroupBy,
    HealthAnswer,
    HealthSort,
    HealthStatus,
    IsolatedAnswer,
    SupportAnswer,
    SupportRules,
    SupportWeights,
)

router = APIRouter(prefix="/questions", tags=["questions"])

AsAt = Annotated[
    IsoDate | None, Query(description="Answer as the network stood on this date (YYYY-MM-DD); today when omitted.")
]


async def area_filter(
    la_code: LaCodeQuery = None,
    local_authority: Annotated[str | None, Query(max_length=200, description="Local authority name.")] = None,
    district: Annotated[str | None, Query(max_length=200, description="Administrative district name.")] = None,
    constituency: Annotated[str | None, Query(max_length=200, description="Parliamentary constituency name.")] = None,
    phase: Annotated[list[Phase] | None, Query(description="Only these phases.")] = None,
    type: Annotated[
        list[str] | None,
        Query(description="Only these school types: subtype (academy_converter) or GIAS name (Academy converter)."),
    ] = None,
    status: Annotated[
        list[Status] | None, Query(description="Only these statuses (default: open on the date).")
    ] = None,
    kind: Annotated[list[NodeKind] | None, Query(description="Kinds covered (default: school).")] = None,
) -> AreaFilter:
    return AreaFilter(
        la_code=la_code,
        local_authority=local_authority,
        district=district,
        constituency=constituency,
        phases=phase or [],
        types=type or [],
        statuses=status or [],
        kinds=kind or [NodeKind.SCHOOL],
    )


AreaDep = Annotated[AreaFilter, Depends(area_filter)]
UNKNOWN_AREA: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "A named area holds nothing; the message suggests the nearest."}
}


def _known_area(store: StoreDep, filters: AreaFilter) -> None:
    """A 404 naming the nearest areas when a named area holds nothing (as the command line and pages say)."""
    try:
        areas.check_area(store, filters.la_code, filters.local_authority, filters.district, filters.constituency)
    except areas.UnknownArea as exc:
        raise HTTPException(404, str(exc)) from None


def _weight(part: str) -> Any:
    return Query(ge=0, le=100, description=f"Weight of the {part} part (see SupportWeights).")


async def support_weights(
    weight_takes_in: Annotated[float | None, _weight("takes_in")] = None,
    weight_footprint: Annotated[float | None, _weight("footprint")] = None,
    weight_local: Annotated[float | None, _weight("local")] = None,
    weight_distance: Annotated[float | None, _weight("distance")] = None,
    weight_fit_distance: Annotated[float | None, _weight("fit_distance")] = None,
    weight_phase: Annotated[float | None, _weight("phase")] = None,
    weight_growth: Annotated[float | None, _weight("growth")] = None,
    weight_capacity: Annotated[float | None, _weight("capacity")] = None,
    weight_track_record: Annotated[float | None, _weight("track_record")] = None,
    weight_strength: Annotated[float | None, _weight("strength")] = None,
    weight_faith: Annotated[float | None, _weight("faith")] = None,
    weight_areas: Annotated[float | None, _weight("areas")] = None,
    weight_ties: Annotated[float | None, _weight("ties")] = None,
    weight_designation: Annotated[float | None, _weight("designation")] = None,
) -> SupportWeights:
    given = {
        "takes_in": weight_takes_in,
        "footprint": weight_footprint,
        "local": weight_local,
        "distance": weight_distance,
        "fit_distance": weight_fit_distance,
        "phase": weight_phase,
        "growth": weight_growth,
        "capacity": weight_capacity,
        "track_record": weight_track_record,
        "strength": weight_strength,
        "faith": weight_faith,
        "areas": weight_areas,
        "ties": weight_ties,
        "designation": weight_designation,
    }
    try:
        return SupportWeights(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as exc:
        raise unprocessable(("query",), "; ".join(error["msg"] for error in exc.errors())) from None


def _rule(field: str) -> Any:
    return Query(description=SupportRules.model_fields[field].description)


async def support_rules(
    state_funded_only: Annotated[bool, _rule("state_funded_only")] = True,
    require_phase: Annotated[bool, _rule("require_phase")] = True,
    same_provision: Annotated[bool, _rule("same_provision")] = True,
    faith_first: Annotated[bool, _rule("faith_first")] = True,
    dated: Annotated[bool, _rule("dated")] = True,
    secondary_trusts: Annotated[bool, _rule("secondary_trusts")] = True,
    count_inherited: Annotated[bool, _rule("count_inherited")] = False,
) -> SupportRules:
    return SupportRules(
        state_funded_only=state_funded_only,
        require_phase=require_phase,
        same_provision=same_provision,
        faith_first=faith_first,
        dated=dated,
        secondary_trusts=secondary_trusts,
        count_inherited=count_inherited,
    )


@contextmanager
def _answering() -> Iterator[None]:
    try:
        yield
    except questions.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except questions.BadQuestion as exc:
        raise unprocessable(("query",), str(exc)) from None
    except questions.Pending as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


#: Longest a health request waits for a report computed in the background: with the rest of the
#: request, under 1 s even on a busy machine (0.92 s measured with 0.8 on a load average of 10).
HEALTH_WAIT = 0.5


# 422s use FastAPI's standard validation shape (graph_service.api.errors), as the schema says.
@router.get("/isolated", response_model=IsolatedAnswer, responses=UNKNOWN_AREA)
def isolated(
    store: StoreDep,
    settings: SettingsDep,
    filters: AreaDep,
    as_at: AsAt = None,
    max_ties: Annotated[
        int, Query(ge=0, le=100, description="Also list schools with at most this many ties (0: isolated only).")
    ] = 0,
    loose: Annotated[bool, Query(description="Also list schools whose ties are all loose collaboration.")] = False,
    remote_km: Annotated[
        float | None, Query(gt=0, le=500, description="Also list schools with no partner within this many km.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Index of the first result.")] = 0,
    limit: Annotated[int, Query(ge=1, description="Page size (at most the service's largest page).")] = 100,
) -> Response:
    """Open schools with no current collaboration tie, riskiest first, each with why.

    ``maintained_by`` a local authority is administrative and never counts. With
    ``max_ties``, ``loose`` or ``remote_km``, weakly connected and remote schools are listed
    too. See docs/questions.md for the rules.
    """
    if limit > settings.max_page_size:
        raise unprocessable(("query", "limit"), f"limit may be at most {settings.max_page_size}")
    _known_area(store, filters)
    with _answering():
        return json_answer(
            questions.isolated_schools(
                store,
                as_at=as_at,
                filters=filters,
                max_ties=max_ties,
                loose=loose,
                remote_km=remote_km,
                offset=offset,
                limit=limit,
            )
        )


@router.get("/isolated/summary", response_model=AreaSummaryAnswer, responses=UNKNOWN_AREA)
def isolated_summary(
    store: StoreDep,
    filters: AreaDep,
    as_at: AsAt = None,
    group_by: Annotated[
        GroupBy, Query(description="One row per local authority, district, constituency, phase, or none.")
    ] = GroupBy.LOCAL_AUTHORITY,
) -> Response:
    """Per area: share of schools in a trust, federation or partnership, isolated schools, islands."""
    _known_area(store, filters)
    with _answering():
        return json_answer(questions.area_summaries(store, as_at=as_at, filters=filters, group_by=group_by))


@router.get(
    "/support/{urn}",
    response_model=SupportAnswer,
    responses={404: {"model": Problem}},
)
def support(
    urn: Annotated[str, Path(max_length=128, description="URN of the school to support.", examples=["103288"])],
    store: StoreDep,
    weights: Annotated[SupportWeights, Depends(support_weights)],
    rules: Annotated[SupportRules, Depends(support_rules)],
    as_at: AsAt = None,
    radius_km: Annotated[
        float, Query(gt=0, le=100, description="Single schools, federations and hub lead schools within this many km.")
    ] = 15.0,
    trust_radius_km: Annotated[
        float, Query(gt=0, le=200, description="Trusts with an open school within this many km.")
    ] = 40.0,
    limit: Annotated[int, Query(ge=1, le=200, description="Candidate lines shown.")] = 10,
) -> Response:
    """Trusts (one line each, with their schools near by), federations, hubs and single schools that could
    support a school in difficulty, ranked by a score shown part by part, with every rule applied.

    Unknown URN: 404. A school not in difficulty is answered all the same, with a note.
    """
    with _answering():
        return json_answer(
            questions.support_partners(
                store,
                urn,
                as_at=as_at,
                radius_km=radius_km,
                trust_radius_km=trust_radius_km,
                limit=limit,
                weights=weights,
                rules=rules,
            )
        )


@router.get("/health", response_model=HealthAnswer, responses={503: {"model": Problem}})
def network_health(
    store: StoreDep,
    filters: AreaDep,
    as_at: AsAt = None,
    sort: Annotated[HealthSort, Query(description="Measure that orders the nodes table.")] = HealthSort.BETWEENNESS,
    top: Annotated[int, Query(ge=1, le=1000, description="Rows of each table.")] = 50,
    # At least 2: one source estimates nothing, and networkx 3.6 answers NaN for it.
    sample: Annotated[
        int | None, Query(ge=2, le=10_000, description="Sources sampled for betweenness (default: exact when small).")
    ] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the sampling and of Leiden.")] = 42,
) -> Response:
    """Degree, betweenness, eigenvector centrality, clustering, communities and brokers.

    With no area filter, the whole graph; with one, the schools it selects and the groups they
    belong to. Reports are computed in the background and kept until the next write: a request
    waits at most a second, and is answered 503 with Retry-After while its report is computed
    (or while this server process computes two others); ``/questions/health/status`` shows them.
    """
    area = filters if filters != AreaFilter() else None
    with _answering():
        return json_answer(
            questions.health(
                store, as_at=as_at, filters=area, sort=sort, top=top, sample=sample, seed=seed, wait=HEALTH_WAIT
            )
        )


@router.get("/health/status", response_model=HealthStatus)
def network_health_status() -> Response:
    """The network-health reports the server process that answers is computing or computed lately."""
    return json_answer(questions.health_status())
