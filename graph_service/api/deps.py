"""What the API's routers share: the store and settings of the request, parameter types, the error
answer. Its own module, so that the routers do not import the app that imports them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from graph_service.models import MAX_LA_CODE, check_query_day
from graph_service.settings import Settings
from graph_service.store import GraphStore


class Problem(BaseModel):
    """An error answer."""

    detail: str = Field(description="What went wrong, in words.")


# Dependencies that only read or check what the request carries are coroutines: FastAPI runs a
# plain function dependency in a worker thread, and the hop costs more CPU than the work.
async def get_store(request: Request) -> GraphStore:
    store: GraphStore = request.app.state.store
    return store


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def json_answer(model: BaseModel) -> Response:
    """``model`` as a route's JSON answer, serialised once, as FastAPI would (by alias).

    Handed a model, FastAPI validates it again against the route's ``response_model`` (in a
    worker thread, for a plain function route) before serialising it; the model was validated
    when it was built, so the route returns its JSON instead. Its ``response_model`` still
    documents the answer.
    """
    return Response(model.__pydantic_serializer__.to_json(model, by_alias=True), media_type="application/json")


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Paging deeper than this is never useful, and larger integers overflow SQLite.
MAX_OFFSET = 10_000_000
#: Seconds a client is told to wait when the store is busy (a CLI load holds the write lock) or away.
RETRY_AFTER_SECONDS = 5

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _iso_date(value: object) -> object:
    # pydantic alone also reads "0.0" or "1700000000" as a date (seconds since 1970).
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


#: A date in a query: YYYY-MM-DD only, within ``QUERY_DAYS``.
IsoDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(check_query_day)]

#: Query and path parameters shared by the routers, each with its bounds and description.
LaCodeQuery = Annotated[int | None, Query(ge=0, le=MAX_LA_CODE, description="Local authority code, e.g. 330.")]
OrgIdPath = Annotated[
    str, Path(description="Organisation id: a URN, 'group-<Group UID>', 'la-<code>' or a slug.", examples=["103120"])
]
