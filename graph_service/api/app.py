"""The FastAPI application: ``create_app()`` builds it with its settings and store."""
# No "from __future__ import annotations": routes use limits from settings, evaluated in create_app.

import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from graph_service import __version__

# The routers' shared dependencies live in deps; the names stay importable from here too.
from graph_service.api.deps import (
    MAX_OFFSET,
    RETRY_AFTER_SECONDS,
    IsoDate,
    LaCodeQuery,
    OrgIdPath,
    Problem,
    SettingsDep,
    StoreDep,
    get_settings,
    get_store,
    json_answer,
)
from graph_service.models import (
    EdgeKind,
    NodeKind,
    OfstedRating,
    OrganisationList,
    OrganisationPublic,
    Phase,
    Status,
    TieList,
)
from graph_service.security import KeyRing, Role
from graph_service.settings import Settings
from graph_service.store import (
    GraphStore,
    IntegrityError,
    OrganisationFilter,
    StoreError,
    StoreUnavailable,
    make_store,
)
from graph_service.store.base import asked_at

__all__ = [
    "MAX_OFFSET",
    "RETRY_AFTER_SECONDS",
    "IsoDate",
    "LaCodeQuery",
    "OrgIdPath",
    "Problem",
    "SettingsDep",
    "StoreDep",
    "create_app",
    "get_settings",
    "get_store",
    "json_answer",
]


class Health(BaseModel):
    """Whether the service and its store answer."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="'ok' when the store answers.")
    backend: str = Field(description="Store backend: embedded or neo4j.")
    version: str = Field(description="Service version.")
    counts: dict[str, int] = Field(description="Organisations per kind and ties per kind ('tie:<kind>').")
    data_date: str | None = Field(default=None, description="Date of the newest data loaded.")


def _finite(value: object) -> object:
    """``value`` with NaN and infinities spelt as text, which JSON can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {_finite(key): _finite(item) for key, item in value.items()}
    if isinstance(value, str):
        # A lone surrogate ("\ud800" in a JSON body) cannot be encoded as UTF-8: shown as U+FFFD.
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


class StampArrival:
    """ASGI middleware: note when each request arrived (``store.base.asked_at``).

    A store may answer it from a check of the database's version that began after that, shared
    with the other requests answered meanwhile (Neo4j: one query instead of one per request).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = asked_at.set(time.monotonic())
        try:
            await self.app(scope, receive, send)
        finally:
            asked_at.reset(token)


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the service. The store is opened when the app starts and closed when it stops."""
    settings = settings or Settings()
    from graph_service.api.auth import BodyLimit, DocsGuard, NoWriteRedirect, QuestionGate, require

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or make_store(settings)
        app.state.store.open()
        try:
            yield
        finally:
            app.state.store.close()

    keys = KeyRing.from_settings(settings.api_keys, settings.keys_file)

    app = FastAPI(
        title="School collaboration graph",
        version=__version__,
        description="How schools in England work together: trusts, federations, partnerships "
        "and support ties, for brokers, strategists and researchers. Contains public sector "
        "information licensed under the Open Government Licence v3.0.",
        lifespan=lifespan,
        # /docs and /redoc are served offline by graph_service.api.pages (FastAPI's own load from a CDN).
        docs_url=None,
        redoc_url=None,
        responses={
            401: {"model": Problem, "description": "No API key, or a key that is not valid."},
            403: {"model": Problem, "description": "The key's role may not do this."},
            503: {
                "model": Problem,
                "description": "The database is unavailable or busy, or could not complete the request.",
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait before trying again; sent when the database is "
                        "unreachable or busy, not when retrying would not help.",
                        "schema": {"type": "integer"},
                    }
                },
            },
        },
        # Reads are open unless GRAPH_SERVICE_PUBLIC_READ=false; writes check their own role.
        dependencies=[] if settings.public_read else [Depends(require(Role.READER))],
    )
    app.state.settings = settings
    app.state.keys = keys
    if store is not None:
        # A given store serves even clients that skip the lifespan (schemathesis' ASGI calls).
        app.state.store = store
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        timeout=settings.body_timeout_seconds,
    )
    app.add_middleware(QuestionGate, limit=settings.max_concurrent_questions, wait=settings.question_wait_seconds)
    app.add_middleware(NoWriteRedirect)
    if not settings.public_read:
        app.add_middleware(DocsGuard, keys=keys)
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422, except that a body's NaN or Infinity (Python's JSON reads them) is
        # echoed as text: JSON cannot carry it, and FastAPI's handler would fail with a 500.
        return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})

    # Starlette picks the handler of the most specific class, so IntegrityError and
    # StoreUnavailable never reach the StoreError one.
    @app.exception_handler(IntegrityError)
    async def conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    from graph_service.api.errors import store_detail

    @app.exception_handler(StoreUnavailable)
    async def unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(
            status_code=503,
            content={"detail": store_detail(request, "database unavailable", exc)},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StoreError)
    async def failed(request: Request, exc: StoreError) -> JSONResponse:
        # The database answered but could not do it (too big a write, an internal error):
        # neither the client's fault nor a conflict, and retrying as is will not help.
        return JSONResponse(
            status_code=503, content={"detail": store_detail(request, "the database could not do this", exc)}
        )

    @app.get("/health", response_model=Health, tags=["service"])
    def health(store: StoreDep) -> Response:
        """The service is up and its store answers."""
        store.ping()
        return json_answer(
            Health(
                status="ok",
                backend=store.backend,
                version=__version__,
                counts=store.counts(),
                data_date=store.get_meta().get("data_date"),
            )
        )

    @app.get("/organisations", response_model=OrganisationList, tags=["organisations"])
    def list_organisations(
        store: StoreDep,
        kind: Annotated[list[NodeKind] | None, Query(description="Only these kinds.")] = None,
        la_code: LaCodeQuery = None,
        local_authority: Annotated[str | None, Query(max_length=200, description="Local authority name.")] = None,
        district: Annotated[str | None, Query(max_length=200, description="Administrative district name.")] = None,
        constituency: Annotated[
            str | None, Query(max_length=200, description="Parliamentary constituency name.")
        ] = None,
        phase: Annotated[list[Phase] | None, Query(description="Only these phases.")] = None,
        subtype: Annotated[list[str] | None, Query(description="Only these subtypes (school type...).")] = None,
        status: Annotated[list[Status] | None, Query(description="Only these statuses.")] = None,
        rating: Annotated[list[OfstedRating] | None, Query(description="Only these Ofsted ratings.")] = None,
        q: Annotated[str | None, Query(max_length=200, description="Name contains (any case).")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Index of the first result.")] = 0,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size, description="Page size.")] = 50,
    ) -> Response:
        """Organisations, filtered and paged, ordered by id."""
        flt = OrganisationFilter(
            kinds=kind or (),
            la_code=la_code,
            local_authority=local_authority,
            district=district,
            constituency=constituency,
            phases=phase or (),
            subtypes=subtype or (),
            statuses=status or (),
            ratings=rating or (),
            name_contains=q,
        )
        items, total = store.list_organisations(flt, offset=offset, limit=limit)
        return json_answer(OrganisationList(items=items, total=total, offset=offset, limit=limit))

    @app.get(
        "/organisations/{org_id}",
        response_model=OrganisationPublic,
        responses={404: {"model": Problem}},
        tags=["organisations"],
    )
    def get_organisation(org_id: OrgIdPath, store: StoreDep) -> Response:
        """One organisation by id (URN, group-<UID>, la-<code> or slug)."""
        org = store.get_organisation(org_id)
        if org is None:
            raise HTTPException(404, f"no organisation with id {org_id!r}")
        return json_answer(org)

    @app.get(
        "/organisations/{org_id}/ties",
        response_model=TieList,
        responses={404: {"model": Problem}},
        tags=["organisations"],
    )
    def organisation_ties(
        org_id: OrgIdPath,
        store: StoreDep,
        as_at: Annotated[IsoDate | None, Query(description="Only ties holding on this date (YYYY-MM-DD).")] = None,
        kind: Annotated[list[EdgeKind] | None, Query(description="Only these tie kinds.")] = None,
    ) -> Response:
        """Every tie of an organisation, either end, optionally as the network stood on a date."""
        if store.get_organisation(org_id) is None:
            raise HTTPException(404, f"no organisation with id {org_id!r}")
        ties = store.ties_of(org_id, as_at=as_at, kinds=kind or ())
        return json_answer(TieList(items=ties, total=len(ties)))

    from graph_service.api import areas, export, questions, viz, writes

    for module in (writes, questions, areas, export, viz):
        app.include_router(module.router)
    from graph_service.api import pages

    pages.install(app)
    app.add_middleware(StampArrival)  # added last: the outermost of the app's own, so stamped first
    return app
