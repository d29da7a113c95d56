"""API routes: research export (GraphML, GEXF, node-link JSON, CSV zip, Cypher), streamed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from graph_service.api.deps import IsoDate, LaCodeQuery, Problem, SettingsDep, StoreDep
from graph_service.api.errors import unprocessable
from graph_service.export import (
    MEDIA_TYPES,
    CsvFlavour,
    ExportError,
    ExportFormat,
    ExportTooLarge,
    build_spec,
    prepare_export,
)
from graph_service.models import EdgeKind

router = APIRouter(tags=["export"])

FILE = {
    "content": {media_type: {} for media_type in dict.fromkeys(MEDIA_TYPES.values())},
    "description": "The export as a file download (CSV and Parquet: a zip of the tables, metadata.json, codebook.csv"
    " and README.txt).",
}


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: FILE,
        413: {"model": Problem, "description": "The export would hold more than the configured limit."},
    },
)
def export_graph(
    store: StoreDep,
    settings: SettingsDep,
    fmt: Annotated[
        ExportFormat,
        Query(
            alias="format",
            description="graphml, gexf (dynamic, for Gephi's timeline), json (node-link), "
            "csv (zip of nodes and edges), cypher (a cypher-shell script for an empty Neo4j) "
            "or parquet (zip of typed nodes and edges tables).",
        ),
    ],
    la_code: LaCodeQuery = None,
    local_authority: Annotated[str | None, Query(max_length=200, description="Area: local authority name.")] = None,
    district: Annotated[str | None, Query(max_length=200, description="Area: administrative district.")] = None,
    constituency: Annotated[str | None, Query(max_length=200, description="Area: parliamentary constituency.")] = None,
    hops: Annotated[
        int | None,
        Query(ge=0, description="With an area: rings of tied organisations to add (default 1: trusts, LA...)."),
    ] = None,
    tie_kind: Annotated[list[EdgeKind] | None, Query(description="Only these kinds of tie (default all).")] = None,
    as_at: Annotated[
        IsoDate | None,
        Query(description="The graph as it stood on this date (YYYY-MM-DD): ties and open organisations."),
    ] = None,
    csv_flavour: Annotated[
        CsvFlavour, Query(description="CSV layout: plain, kumu (elements/connections) or neo4j-admin (typed headers).")
    ] = CsvFlavour.PLAIN,
) -> StreamingResponse:
    """The whole graph, an area, some kinds of tie, or the graph as at a date, as a file.

    Every file carries its metadata: source files and dates, export date,
    filters and the Open Government Licence attribution.
    """
    if hops is not None and hops > settings.max_hops:
        raise unprocessable(("query", "hops"), f"hops may be at most {settings.max_hops}")
    if csv_flavour is not CsvFlavour.PLAIN and fmt is not ExportFormat.CSV:
        raise unprocessable(("query", "csv_flavour"), "csv_flavour applies only to format=csv")
    try:
        spec = build_spec(
            la_code=la_code,
            local_authority=local_authority,
            district=district,
            constituency=constituency,
            hops=hops,
            tie_kinds=tie_kind or (),
            as_at=as_at,
        )
        prepared = prepare_export(store, spec, fmt, csv_flavour, max_items=settings.max_export_items)
    except ExportTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except ExportError as exc:
        raise unprocessable(("query",), str(exc)) from None
    return StreamingResponse(
        prepared.chunks(),
        media_type=prepared.media_type,
        headers={"Content-Disposition": f'attachment; filename="{prepared.filename}"'},
    )
