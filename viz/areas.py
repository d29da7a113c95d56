"""Areas side by side and over time: the area table (sortable, CSV) and one area's small line charts.

The figures are :mod:`graph_service.area_questions`' answers (the same as ``/questions/areas``,
``/questions/areas/series`` and ``graph-service areas``); the charts are drawn here as inline SVG,
so the pages need no script from anywhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from graph_service import area_questions
from graph_service.analytics.panel import AREA_MEASURES
from graph_service.area_questions import YEAR_END, AreaBy, AreaSeries
from graph_service.spreadsheet import safe_rows
from graph_service.store import GraphStore
from graph_service.tables import cell, header
from viz.render import templates

FIRST_YEAR = 2010
#: The measure drawn beside each area in the table unless another is chosen.
DEFAULT_MEASURE = "in_trust_share"


def series_span(store: GraphStore, start: int | None = None, end: int | None = None) -> tuple[date, date]:
    """31 August of ``start`` (2010) to 31 August of ``end`` (the data's year, or this year)."""
    data_date = store.get_meta().get("data_date")
    last = int(data_date[:4]) if data_date else date.today().year
    return date(start or FIRST_YEAR, *YEAR_END), date(end or last, *YEAR_END)


def data_day(store: GraphStore) -> date:
    """The day the data describes (the store's data date), or today."""
    data_date = store.get_meta().get("data_date")
    return date.fromisoformat(data_date) if data_date else date.today()


def sparkline(values: Sequence[float | int | None], width: int = 120, height: int = 32, label: str = "") -> str:
    """A small line chart of a series as inline SVG (gaps where a value is missing).

    >>> svg = sparkline([0.1, 0.5, None, 0.9], label="in trust")
    >>> svg.count("<polyline"), svg.count("<circle"), 'aria-label="in trust' in svg  # a lone point is a dot
    (1, 1, True)
    >>> sparkline([None, None]).count("<polyline")
    0
    """
    known = [float(v) for v in values if v is not None]
    title = ", ".join("" if v is None else f"{v:g}" for v in values)
    parts = [
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{label}: {title}"><title>{label}: {title}</title>'
    ]
    if known:
        low, high = min(known), max(known)
        span = (high - low) or 1.0
        step = (width - 4) / max(len(values) - 1, 1)
        run: list[str] = []
        runs: list[list[str]] = []
        for i, value in enumerate(values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            # A flat series is drawn across the middle.
            y = height / 2 if high == low else height - 3 - (float(value) - low) / span * (height - 6)
            run.append(f"{2 + i * step:.1f},{y:.1f}")
        if run:
            runs.append(run)
        for points in runs:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="#1f5fa8"/>')
            else:
                parts.append(f'<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="{" ".join(points)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def table_page(
    store: GraphStore,
    as_at: date | None,
    by: AreaBy,
    measure: str = DEFAULT_MEASURE,
    start: int | None = None,
    end: int | None = None,
    root: str = "",
) -> str:
    """Every area on a day, each with a small chart of one measure over the years, sortable, with CSV."""
    first, last = series_span(store, start, end)
    day = as_at or data_day(store)
    table = area_questions.area_table(store, day, by)
    series = area_questions.area_trends(store, first, last, by=by)
    trends = {trend.area: trend.values.get(measure, []) for trend in series.areas}
    rows = [
        {
            "area": row.area,
            "name": row.name,
            "cells": [(m, cell(m, getattr(row, m)), getattr(row, m)) for m in AREA_MEASURES],
            "chart": sparkline(trends.get(row.area, []), label=f"{row.name}, {header(measure)}"),
        }
        for row in table.rows
    ]
    return (
        templates()
        .get_template("areas.html")
        .render(
            root=root,
            as_at=table.as_at,
            by=by.value,
            bys=[b.value for b in AreaBy],
            measure=measure,
            measures=AREA_MEASURES,
            headers={m: header(m) for m in AREA_MEASURES},
            rows=rows,
            first=first,
            last=last,
            data_date=store.get_meta().get("data_date"),
        )
    )


def area_page(
    store: GraphStore, area: str, by: AreaBy, start: int | None = None, end: int | None = None, root: str = ""
) -> str:
    """One area's measures as small line charts, year by year, with the figures as a table and CSV."""
    first, last = series_span(store, start, end)
    series = area_questions.area_trends(store, first, last, by=by, area=area)
    trend = series.areas[0]
    charts = [
        {
            "measure": measure,
            "title": header(measure),
            "meaning": meaning,
            "first": cell(measure, _first(trend.values[measure])),
            "last": cell(measure, _first(trend.values[measure][::-1])),
            "svg": sparkline(trend.values[measure], width=260, height=70, label=header(measure)),
        }
        for measure, meaning in AREA_MEASURES.items()
    ]
    years = [
        {"day": day, "cells": [cell(m, trend.values[m][i]) for m in AREA_MEASURES]} for i, day in enumerate(series.days)
    ]
    return (
        templates()
        .get_template("area.html")
        .render(
            root=root,
            trend=trend,
            by=by.value,
            charts=charts,
            headers=[header(m) for m in AREA_MEASURES],
            years=years,
            first=first,
            last=last,
            data_date=store.get_meta().get("data_date"),
        )
    )


def _first(values: Sequence[float | int | None]) -> float | int | None:
    return next((value for value in values if value is not None), None)


def table_csv(store: GraphStore, as_at: date | None, by: AreaBy) -> str:
    """The area table of a day as CSV (shares as fractions, as the API gives them)."""
    table = area_questions.area_table(store, as_at or data_day(store), by)
    return _csv([{"as_at": table.as_at, **row.model_dump()} for row in table.rows])


def series_csv(series: AreaSeries) -> str:
    """A series as CSV: one row per area per day."""
    rows = [
        {"as_at": day, "area": trend.area, "name": trend.name} | {m: v[i] for m, v in trend.values.items()}
        for trend in series.areas
        for i, day in enumerate(series.days)
        if trend.values["schools"][i] is not None
    ]
    return _csv(rows)


def _csv(rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    columns = ["as_at", "area", "name", *AREA_MEASURES]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_rows(rows))
    return out.getvalue()
