"""The FastAPI application: ``create_app()`` builds it with its settings and store."""
# No "from __future__ import annotations": routes use limits from settings, evaluated in create_app.

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from graph_service import __version__
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
from graph_service.store import GraphStore, OrganisationFilter, StoreError, StoreUnavailable, make_store


class Health(BaseModel):
    """Whether the service and its store answer."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(description="'ok' when the store answers.")
    backend: str = Field(description="Store backend: embedded or neo4j.")
    version: str = Field(description="Service version.")
    counts: dict[str, int] = Field(description="Organisations per kind and ties per kind ('tie:<kind>').")
    data_date: str | None = Field(default=None, description="Date of the newest data loaded.")


class Problem(BaseModel):
    """An error answer."""

    detail: str = Field(description="What went wrong, in words.")


def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Paging deeper than this is never useful, and larger integers overflow SQLite.
MAX_OFFSET = 10_000_000


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the service. The store is opened when the app starts and closed when it stops."""
    settings = settings or Settings()
    from graph_service.api.auth import BodyLimit, require

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
        responses={
            401: {"model": Problem, "description": "No API key, or a key that is not valid."},
            403: {"model": Problem, "description": "The key's role may not do this."},
            503: {"model": Problem, "description": "The database is unavailable."},
        },
        # Reads are open unless GRAPH_SERVICE_PUBLIC_READ=false; writes check their own role.
        dependencies=[] if settings.public_read else [Depends(require(Role.READER))],
    )
    app.state.settings = settings
    app.state.keys = keys
    if store is not None:
        # A given store serves even clients that skip the lifespan (schemathesis' ASGI calls).
        app.state.store = store
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )

    @app.exception_handler(StoreUnavailable)
    async def unavailable(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"database unavailable: {exc}"})

    @app.exception_handler(StoreError)
    async def refused(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.get("/health", response_model=Health, tags=["service"])
    def health(store: StoreDep) -> Health:
        """The service is up and its store answers."""
        store.ping()
        return Health(
            status="ok",
            backend=store.backend,
            version=__version__,
            counts=store.counts(),
            data_date=store.get_meta().get("data_date"),
        )

    @app.get("/organisations", response_model=OrganisationList, tags=["organisations"])
    def list_organisations(
        store: StoreDep,
        kind: Annotated[list[NodeKind] | None, Query(description="Only these kinds.")] = None,
        la_code: Annotated[int | None, Query(description="Local authority code, e.g. 330.")] = None,
        local_authority: Annotated[str | None, Query(description="Local authority name.")] = None,
        district: Annotated[str | None, Query(description="Administrative district name.")] = None,
        constituency: Annotated[str | None, Query(description="Parliamentary constituency name.")] = None,
        phase: Annotated[list[Phase] | None, Query(description="Only these phases.")] = None,
        subtype: Annotated[list[str] | None, Query(description="Only these subtypes (school type...).")] = None,
        status: Annotated[list[Status] | None, Query(description="Only these statuses.")] = None,
        rating: Annotated[list[OfstedRating] | None, Query(description="Only these Ofsted ratings.")] = None,
        q: Annotated[str | None, Query(max_length=200, description="Name contains (any case).")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Index of the first result.")] = 0,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size, description="Page size.")] = 50,
    ) -> OrganisationList:
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
        return OrganisationList(items=items, total=total, offset=offset, limit=limit)

    @app.get(
        "/organisations/{org_id}",
        response_model=OrganisationPublic,
        responses={404: {"model": Problem}},
        tags=["organisations"],
    )
    def get_organisation(org_id: str, store: StoreDep) -> OrganisationPublic:
        """One organisation by id (URN, group-<UID>, la-<code> or slug)."""
        org = store.get_organisation(org_id)
        if org is None:
            raise HTTPException(404, f"no organisation with id {org_id!r}")
        return org

    @app.get(
        "/organisations/{org_id}/ties",
        response_model=TieList,
        responses={404: {"model": Problem}},
        tags=["organisations"],
    )
    def organisation_ties(
        org_id: str,
        store: StoreDep,
        as_at: Annotated[date | None, Query(description="Only ties holding on this date (YYYY-MM-DD).")] = None,
        kind: Annotated[list[EdgeKind] | None, Query(description="Only these tie kinds.")] = None,
    ) -> TieList:
        """Every tie of an organisation, either end, optionally as the network stood on a date."""
        if store.get_organisation(org_id) is None:
            raise HTTPException(404, f"no organisation with id {org_id!r}")
        ties = store.ties_of(org_id, as_at=as_at, kinds=kind or ())
        return TieList(items=ties, total=len(ties))

    from graph_service.api import export, questions, viz, writes

    for module in (writes, questions, export, viz):
        app.include_router(module.router)
    return app
