"""Collaboration by area and over time, asked of a store: the area table, its yearly series, the panel.

The measures are :mod:`graph_service.analytics.panel`'s, on the store's whole graph; its projection
is made once per graph (kept until the next write replaces the graph), so each date is array filters.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Any

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from graph_service.analytics.panel import (
    AREA_MEASURES,
    Projection,
    area_rows,
    area_series,
    panel_columns,
    panel_days,
    projection,
)
from graph_service.analytics.panel import yearly as _yearly
from graph_service.questions import BadQuestion, _timeline_of
from graph_service.store import GraphStore

#: Most days one series or panel may cover (a monthly series of 30 years is 360).
MAX_DAYS = 400
#: The day of the year a year stands for: the end of the school year, as DfE's series take it.
YEAR_END = (8, 31)


class AreaBy(StrEnum):
    """How schools are grouped into areas."""

    LA = "la"
    DISTRICT = "district"
    REGION = "region"


class Step(StrEnum):
    """How far apart the days of a series are."""

    YEAR = "year"
    MONTH = "month"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreaMeasures(_Model):
    """One area on one day (docs/questions.md, "Collaboration by area and over time")."""

    area: str = Field(description="The area: a local authority code (330), a district or a region name.")
    name: str = Field(description="The area's name.")
    schools: int = Field(description=AREA_MEASURES["schools"])
    in_trust_share: float = Field(description=AREA_MEASURES["in_trust_share"])
    in_federation_share: float = Field(description=AREA_MEASURES["in_federation_share"])
    isolated_share: float = Field(description=AREA_MEASURES["isolated_share"])
    no_partner_share: float = Field(description=AREA_MEASURES["no_partner_share"])
    trusts: int = Field(description=AREA_MEASURES["trusts"])
    trust_hhi: float | None = Field(description=AREA_MEASURES["trust_hhi"] + "; none when no school is in a trust")
    mean_degree: float = Field(description=AREA_MEASURES["mean_degree"])
    across_trust_per_school: float = Field(description=AREA_MEASURES["across_trust_per_school"])
    components: int = Field(description=AREA_MEASURES["components"])
    largest_component_share: float = Field(description=AREA_MEASURES["largest_component_share"])


class AreaTable(_Model):
    """Every area's measures on one day."""

    as_at: date = Field(description="The day measured.")
    by: AreaBy = Field(description="How schools are grouped into areas.")
    rows: list[AreaMeasures] = Field(description="One row per area with open state-funded schools, by area.")


class AreaTrend(_Model):
    """One area's measures on each day of a series."""

    area: str = Field(description="The area: a local authority code, a district or a region name.")
    name: str = Field(description="The area's name.")
    values: dict[str, list[float | int | None]] = Field(
        description="Per measure, its value on each day of the series (none when the area had no open school)."
    )


class AreaSeries(_Model):
    """Every area's measures as a series of days."""

    by: AreaBy = Field(description="How schools are grouped into areas.")
    days: list[date] = Field(description="The days of the series, in order.")
    measures: dict[str, str] = Field(description="Each measure and what it is.")
    areas: list[AreaTrend] = Field(description="One entry per area that had open schools on any day, by area.")


def year_or_day(text: str) -> date:
    """A year (``2010``: its 31 August, the end of the school year) or a day (``2010-08-31``).

    >>> year_or_day("2010"), year_or_day("2024-01-18")
    (datetime.date(2010, 8, 31), datetime.date(2024, 1, 18))
    """
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) == 4:
        return date(int(value), *YEAR_END)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is neither a year (2010) nor a date (YYYY-MM-DD)") from None


def series_days(start: date, end: date, step: Step = Step.YEAR) -> list[date]:
    """The days from ``start`` to ``end`` every ``step``; :class:`BadQuestion` when they make no series."""
    try:
        days = _yearly(start, end, step.value)
    except ValueError as exc:
        raise BadQuestion(str(exc)) from None
    if len(days) > MAX_DAYS:
        raise BadQuestion(f"a series holds at most {MAX_DAYS} days; {start} to {end} every {step.value} is {len(days)}")
    return days


_lock = threading.Lock()
#: Finished series per store graph, by question (a write replaces the graph, and they drop out).
_series: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[tuple[Any, ...], AreaSeries]] = weakref.WeakKeyDictionary()
_KEPT_SERIES = 16


def _projection(store: GraphStore) -> tuple[nx.MultiDiGraph, Projection]:
    graph = store.graph()
    return graph, projection(graph, _timeline_of(graph))


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "area": str(row["area"])} for row in rows]


def area_table(store: GraphStore, as_at: date | None = None, by: AreaBy = AreaBy.LA) -> AreaTable:
    """Every area's measures on ``as_at`` (today when omitted)."""
    _graph, found = _projection(store)
    day = as_at or date.today()
    rows = _rows(area_rows(found.on(day), by.value))
    return AreaTable.model_validate({"as_at": day, "by": by, "rows": rows})


def area_trends(
    store: GraphStore,
    start: date,
    end: date,
    step: Step = Step.YEAR,
    by: AreaBy = AreaBy.LA,
    area: str | None = None,
) -> AreaSeries:
    """Every area's measures (or one ``area``'s) on each day from ``start`` to ``end``, every ``step``."""
    days = series_days(start, end, step)
    graph, found = _projection(store)
    key = (start, end, step, by)
    with _lock:
        whole = _series.get(graph, {}).get(key)
    if whole is None:
        index = {day: i for i, day in enumerate(days)}
        trends: dict[str, dict[str, Any]] = {}
        for row in _rows(area_series(found, days, by.value)):
            trend = trends.setdefault(
                row["area"],
                {"area": row["area"], "name": row["name"], "values": {m: [None] * len(days) for m in AREA_MEASURES}},
            )
            for measure in AREA_MEASURES:
                trend["values"][measure][index[row["as_at"]]] = row[measure]
        whole = AreaSeries.model_validate(
            {"by": by, "days": days, "measures": AREA_MEASURES, "areas": list(trends.values())}
        )
        with _lock:
            kept = _series.setdefault(graph, {})
            kept[key] = whole
            while len(kept) > _KEPT_SERIES:
                kept.pop(next(iter(kept)))
    if area is None:
        return whole
    chosen = [trend for trend in whole.areas if trend.area == area or trend.name.lower() == area.lower()]
    if not chosen:
        raise BadQuestion(f"no {by.value} {area!r} had open state-funded schools from {start} to {end}")
    return whole.model_copy(update={"areas": chosen})


def panel(store: GraphStore, days: list[date]) -> dict[str, list[Any]]:
    """One row per open state-funded school per day, as columns (analytics.panel.PANEL_COLUMNS)."""
    return panel_columns(*_panel_days(store, days))


def panel_by_day(store: GraphStore, days: list[date]) -> Iterator[dict[str, np.ndarray]]:
    """The same a day at a time (for writing it out); the days are checked now, the rows made as read."""
    return panel_days(*_panel_days(store, days))


def _panel_days(store: GraphStore, days: list[date]) -> tuple[Projection, list[date]]:
    if not days:
        raise BadQuestion("a panel needs at least one day")
    if len(days) > MAX_DAYS:
        raise BadQuestion(f"a panel holds at most {MAX_DAYS} days, not {len(days)}")
    _graph, found = _projection(store)
    return found, sorted(set(days))
