"""API routes: every area's collaboration measures on a day or as series, and the researchers' panel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from graph_service import area_questions
from graph_service.analytics.panel import AREA_MEASURES
from graph_service.api.deps import IsoDate, Problem, StoreDep, json_answer
from graph_service.api.errors import unprocessable
from graph_service.area_questions import AreaBy, AreaSeries, AreaTable, Step
from graph_service.export.panel import PanelFormat, days_label, panel_stream
from graph_service.questions import BadQuestion
from viz import areas as areas_view
from viz.areas import DEFAULT_MEASURE

router = APIRouter(tags=["areas"])

By = Annotated[AreaBy, Query(description="Areas: local authorities (la), districts or regions.")]
From = Annotated[IsoDate, Query(alias="from", description="First day of the series (YYYY-MM-DD), e.g. 2010-08-31.")]
To = Annotated[IsoDate, Query(alias="to", description="Last day of the series (YYYY-MM-DD), e.g. 2025-08-31.")]
Every = Annotated[Step, Query(description="Step between the days of the series: year (default) or month.")]


@contextmanager
def _asking() -> Iterator[None]:
    try:
        yield
    except BadQuestion as exc:
        raise unprocessable(("query",), str(exc)) from None


@router.get("/questions/areas", response_model=AreaTable)
def areas(
    store: StoreDep,
    by: By = AreaBy.LA,
    as_at: Annotated[IsoDate | None, Query(description="The day measured (YYYY-MM-DD); today when omitted.")] = None,
) -> Response:
    """Every area side by side on a day: open state-funded schools, shares in a trust, in a federation and
    isolated, trusts and their concentration, ties across trusts, fragmentation (docs/questions.md)."""
    return json_answer(area_questions.area_table(store, as_at, by))


@router.get("/questions/areas/series", response_model=AreaSeries)
def area_series(
    store: StoreDep,
    start: From,
    end: To,
    every: Every = Step.YEAR,
    by: By = AreaBy.LA,
    area: Annotated[
        str | None, Query(max_length=200, description="Only this area: an LA code (330) or an area's name.")
    ] = None,
) -> Response:
    """Each area's measures on every day from ``from`` to ``to`` (every year by default), for small line charts."""
    with _asking():
        return json_answer(area_questions.area_trends(store, start, end, every, by, area))


@router.get(
    "/export/panel",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
            "description": "One row per open state-funded school per day (the codebook: docs/questions.md).",
        },
    },
)
def export_panel(
    store: StoreDep,
    start: Annotated[IsoDate | None, Query(alias="from", description="First day of a series (YYYY-MM-DD).")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Last day of a series (YYYY-MM-DD).")] = None,
    every: Every = Step.YEAR,
    on: Annotated[
        list[IsoDate] | None, Query(description="A day (repeatable), as well as or instead of a series.")
    ] = None,
    format: Annotated[PanelFormat, Query(description="csv or parquet.")] = PanelFormat.CSV,
) -> Response:
    """The researchers' panel: one row per open state-funded school per day, as CSV or Parquet."""
    with _asking():
        if (start is None) != (end is None):
            raise BadQuestion("a series needs both 'from' and 'to'")
        days: list[date] = list(on or ())
        if start is not None and end is not None:
            days += area_questions.series_days(start, end, every)
        if not days:
            raise BadQuestion("give 'from' and 'to' (a series) or 'on' (a day, repeatable)")
        rows = area_questions.panel_by_day(store, days)
    media = "text/csv; charset=utf-8" if format is PanelFormat.CSV else "application/vnd.apache.parquet"
    name = f"panel-{days_label(days)}.{format.value}"
    # CSV a day at a time: England's 16 years are 83 MB, never all in memory at once.
    return StreamingResponse(
        panel_stream(rows, format, store.get_meta().get("data_date")),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- pages ---------------------------------------------------------------------------------------

HTML_PAGE = {"content": {"text/html": {}}, "description": "A self-contained HTML page (works offline)."}
CSV_FILE = {"content": {"text/csv": {}}, "description": "A CSV file (UTF-8)."}
Measure = Annotated[str, Query(max_length=40, description="The measure charted beside each area.")]
Year = Annotated[int | None, Query(ge=1900, le=2100, description="A year: its 31 August.")]


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/viz/areas", response_class=HTMLResponse, responses={200: HTML_PAGE})
def areas_page(
    request: Request,
    store: StoreDep,
    by: By = AreaBy.LA,
    as_at: Annotated[IsoDate | None, Query(description="The day of the table; the data's date when omitted.")] = None,
    measure: Measure = DEFAULT_MEASURE,
    start: Year = None,
    end: Year = None,
) -> HTMLResponse:
    """Every area side by side on a day, sortable, each with a small chart of one measure over the years."""
    if measure not in AREA_MEASURES:
        raise unprocessable(("query", "measure"), f"measure is one of {', '.join(AREA_MEASURES)}")
    with _asking():
        return HTMLResponse(areas_view.table_page(store, as_at, by, measure, start, end, root=_root(request)))


@router.get("/viz/areas.csv", response_class=Response, responses={200: CSV_FILE})
def areas_csv(
    store: StoreDep,
    by: By = AreaBy.LA,
    as_at: Annotated[IsoDate | None, Query(description="The day; the data's date when omitted.")] = None,
) -> Response:
    """The area table as CSV."""
    return Response(
        areas_view.table_csv(store, as_at, by),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="areas.csv"'},
    )


@router.get("/viz/areas/series.csv", response_class=Response, responses={200: CSV_FILE})
def areas_series_csv(
    store: StoreDep,
    by: By = AreaBy.LA,
    area: Annotated[str | None, Query(max_length=200, description="Only this area.")] = None,
    start: Year = None,
    end: Year = None,
) -> Response:
    """Every area's (or one area's) measures on 31 August each year, as CSV."""
    first, last = areas_view.series_span(store, start, end)
    with _asking():
        series = area_questions.area_trends(store, first, last, by=by, area=area)
    return Response(
        areas_view.series_csv(series),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="area-series.csv"'},
    )


@router.get(
    "/viz/areas/{area}",
    response_class=HTMLResponse,
    responses={
        200: HTML_PAGE,
        404: {
            "description": "No such area had open state-funded schools in those years.",
            "content": {"application/json": {"schema": Problem.model_json_schema()}},
        },
    },
)
def area_page(
    request: Request,
    store: StoreDep,
    area: Annotated[str, Path(max_length=200, description="An LA code (330), or a district or region name.")],
    by: By = AreaBy.LA,
    start: Year = None,
    end: Year = None,
) -> HTMLResponse:
    """One area's measures as small line charts, 31 August each year, with the figures."""
    try:
        return HTMLResponse(areas_view.area_page(store, area, by, start, end, root=_root(request)))
    except BadQuestion as exc:
        raise HTTPException(404, str(exc)) from None
