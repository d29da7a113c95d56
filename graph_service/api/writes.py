"""Write endpoints: organisations, ties, file loads, and the audit trail that records them."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from graph_service.api.app import MAX_OFFSET, OrgIdPath, Problem, StoreDep
from graph_service.api.auth import Admin, Editor
from graph_service.api.errors import unprocessable
from graph_service.models import (
    AuditEntry,
    AuditList,
    Day,
    NodeKind,
    OrganisationBase,
    OrganisationPublic,
    TieCreate,
    TiePublic,
)
from graph_service.security import ApiKey, Role
from graph_service.store import WriteBatch

#: Refusals every write may answer, documented so that clients (and schemathesis) expect them.
REFUSALS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body could not be read as JSON (e.g. it is not UTF-8)."},
    404: {"model": Problem, "description": "An organisation or tie named does not exist."},
    409: {"model": Problem, "description": "The write breaks a rule of the graph; nothing was written."},
}
router = APIRouter(tags=["writes"], responses=REFUSALS)

#: Kinds an editor may create or change; GIAS-backed organisations need an admin.
EDITOR_KINDS = frozenset({NodeKind.COMMUNITY_PARTNER, NodeKind.PARTNERSHIP, NodeKind.TEACHING_SCHOOL_ALLIANCE})

TieIdPath = Annotated[
    str,
    PathParam(
        description="Tie id, as POST /ties returned it: kind:source:target[:focus or since].",
        examples=["supports:3:2:maths"],
    ),
]


class TieEnd(BaseModel):
    """When a tie ended."""

    model_config = ConfigDict(extra="forbid")

    until: Day = Field(description="Last day of the tie (YYYY-MM-DD).")


class LoadSummary(BaseModel):
    """What a file load through the API did."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="The loader's summary, as the CLI prints it.")
    rows_read: int = Field(description="Rows read.")
    rows_rejected: int = Field(description="Rows rejected.")
    issues: list[str] = Field(description="Rejected rows: file:line, column: reason (first 200).")


def _entry(key: ApiKey, action: str, target: str, before: str | None, after: str | None) -> AuditEntry:
    return AuditEntry(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        actor=key.name,
        action=action,
        target=target,
        before=before,
        after=after,
    )


@router.put(
    "/organisations/{org_id}",
    response_model=OrganisationPublic,
    responses={201: {"model": OrganisationPublic}},
)
def put_organisation(
    org_id: OrgIdPath, body: OrganisationBase, store: StoreDep, key: Editor, response: Response
) -> OrganisationPublic:
    """Create or replace an organisation (editors: partners and partnerships; admins: any kind)."""
    if body.kind not in EDITOR_KINDS and key.role < Role.ADMIN:
        raise HTTPException(403, f"only an admin may write a {body.kind.value}")
    try:
        org = OrganisationPublic(id=org_id, **body.model_dump())
    except ValueError as exc:
        raise unprocessable(("path", "org_id"), f"invalid organisation id {org_id!r}: {exc}") from None
    before = store.get_organisation(org_id)
    if before is not None and before.kind is not org.kind:
        raise HTTPException(409, f"{org_id!r} is a {before.kind.value}; its kind cannot change")
    if before != org:
        store.apply(
            WriteBatch(
                organisations=[org],
                audit=[
                    _entry(
                        key,
                        "upsert_organisation",
                        org_id,
                        before.model_dump_json() if before else None,
                        org.model_dump_json(),
                    )
                ],
            )
        )
    response.status_code = 201 if before is None else 200
    return org


@router.delete("/organisations/{org_id}", status_code=204)
def delete_organisation(org_id: OrgIdPath, store: StoreDep, key: Admin) -> None:
    """Delete an organisation and every tie it has (admin)."""
    before = store.get_organisation(org_id)
    if before is None:
        raise HTTPException(404, f"no organisation with id {org_id!r}")
    store.apply(
        WriteBatch(
            delete_organisations=[org_id],
            audit=[_entry(key, "delete_organisation", org_id, before.model_dump_json(), None)],
        )
    )


@router.post("/ties", response_model=TiePublic, responses={201: {"model": TiePublic}})
def post_tie(body: TieCreate, store: StoreDep, key: Editor, response: Response) -> TiePublic:
    """Create or update a tie; its id is stable (kind, ends, focus), so repeating a request changes nothing."""
    tie = TiePublic(id=body.tie_id, **body.model_dump())
    before = store.get_tie(tie.id)
    for end in (tie.source_id, tie.target_id):
        if store.get_organisation(end) is None:
            raise HTTPException(404, f"no organisation with id {end!r}")
    if before != tie:
        store.apply(
            WriteBatch(
                ties=[tie],
                audit=[
                    _entry(
                        key, "upsert_tie", tie.id, before.model_dump_json() if before else None, tie.model_dump_json()
                    )
                ],
            )
        )
    response.status_code = 201 if before is None else 200
    return tie


@router.get("/ties/{tie_id}", response_model=TiePublic)
def get_tie(tie_id: TieIdPath, store: StoreDep) -> TiePublic:
    """One tie by its id."""
    tie = store.get_tie(tie_id)
    if tie is None:
        raise HTTPException(404, f"no tie with id {tie_id!r}")
    return tie


@router.post("/ties/{tie_id}/end", response_model=TiePublic)
def end_tie(tie_id: TieIdPath, body: TieEnd, store: StoreDep, key: Editor) -> TiePublic:
    """End a tie on a date; it stays in the graph as history."""
    before = store.get_tie(tie_id)
    if before is None:
        raise HTTPException(404, f"no tie with id {tie_id!r}")
    if before.since and body.until < before.since:
        raise unprocessable(("body", "until"), f"until {body.until} is before the tie's since {before.since}")
    after = before.model_copy(update={"until": body.until})
    if before.until != body.until:
        store.apply(
            WriteBatch(
                end_ties=[(tie_id, body.until)],
                audit=[_entry(key, "end_tie", tie_id, before.model_dump_json(), after.model_dump_json())],
            )
        )
    return after


@router.delete("/ties/{tie_id}", status_code=204)
def delete_tie(tie_id: TieIdPath, store: StoreDep, key: Admin) -> None:
    """Delete a tie outright (admin); to record that a tie ended, end it instead."""
    before = store.get_tie(tie_id)
    if before is None:
        raise HTTPException(404, f"no tie with id {tie_id!r}")
    store.apply(
        WriteBatch(delete_ties=[tie_id], audit=[_entry(key, "delete_tie", tie_id, before.model_dump_json(), None)])
    )


@router.get("/audit", response_model=AuditList)
def audit(
    store: StoreDep,
    _key: Admin,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Index of the first entry.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
) -> AuditList:
    """The audit trail of writes, newest first (admin)."""
    items, total = store.list_audit(offset=offset, limit=limit)
    return AuditList(items=items, total=total)


class Loader(StrEnum):
    """The files ``POST /loads/{loader}`` reads."""

    GIAS = "gias"
    TIES = "ties"


@router.post(
    "/loads/{loader}",
    response_model=LoadSummary,
    responses={413: {"description": "File too large."}, 422: {"description": "Bad file or loader."}},
)
async def load_file(
    loader: Annotated[Loader, PathParam(description="Which loader reads the body: gias (establishments) or ties.")],
    request: Request,
    store: StoreDep,
    key: Admin,
    strict: Annotated[bool, Query(description="Refuse the whole file at the first bad row.")] = False,
    dry_run: Annotated[bool, Query(description="Validate and report; write nothing.")] = False,
    filename: Annotated[
        str, Query(pattern=r"^[A-Za-z0-9_.-]{1,100}$", description="File name (its extract date is read from it).")
    ] = "upload.csv",
) -> LoadSummary:
    """Load a file sent as the request body (admin): ``gias`` (establishments) or ``ties`` (CSV or JSON)."""
    from starlette.concurrency import run_in_threadpool

    from loaders.common import LoadError, LoadReport
    from loaders.gias import load_gias

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        with path.open("wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)

        def audit(report: LoadReport) -> AuditEntry:
            return _entry(key, f"load_{loader.value}", filename, None, report.summary())

        try:
            if loader is Loader.GIAS:
                report = await run_in_threadpool(load_gias, store, [path], strict=strict, dry_run=dry_run, audit=audit)
            else:
                from loaders.ties import load_ties

                report = await run_in_threadpool(load_ties, store, path, strict=strict, dry_run=dry_run, audit=audit)
        except LoadError as exc:
            raise unprocessable(("body",), str(exc)) from None
    return LoadSummary(
        summary=report.summary(),
        rows_read=report.rows_read,
        rows_rejected=report.rows_rejected,
        issues=[str(issue) for issue in report.issues[:200]],
    )
