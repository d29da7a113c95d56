"""Write endpoints: organisations, ties, file loads, and the audit trail that records them."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from graph_service.api.auth import Admin, Editor
from graph_service.api.deps import MAX_OFFSET, OrgIdPath, Problem, StoreDep
from graph_service.api.errors import unprocessable
from graph_service.models import (
    AuditEntry,
    AuditList,
    Day,
    EdgeKind,
    NodeKind,
    OrganisationBase,
    OrganisationPublic,
    TieBase,
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
#: Tie kinds only GIAS states (or an admin): who maintains, sponsors or succeeded a school.
ADMIN_TIE_KINDS = frozenset({EdgeKind.MAINTAINED_BY, EdgeKind.SPONSORED_BY, EdgeKind.PREDECESSOR_OF})
#: Sources the loaders write ("gias:<file>", "dfe:<file>", "ofsted:<file>", "ties:<file>"): records so
#: marked are a load's, which only an admin or a load may change, and which no editor may claim to be.
LOADED_SOURCES = ("gias:", "dfe:", "ofsted:", "ties:")
#: Id shapes the loads give (a URN, ``la-<code>``, ``group-<Group UID>``, ``sponsor-<name>``,
#: ``tsh-<region>``), in any case or padding: reserved for loads and admins, or a later load would
#: turn an editor's record into the official one, keeping the editor's ties.
OFFICIAL_ID = re.compile(r"(\d+|(la|group|sponsor|tsh)-.*)", re.IGNORECASE)
#: The same shapes as the loads spell them: anything else of an official shape only looks like one.
CANONICAL_ID = re.compile(r"[1-9]\d*|(la|group)-[1-9]\d*|(sponsor|tsh)-[a-z0-9]+(-[a-z0-9]+)*")

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


def look_alike(org_id: str) -> str | None:
    """The official id ``org_id`` spells another way (in another case, or padded with zeros), if any.

    >>> look_alike("LA-330"), look_alike("0103120"), look_alike("GROUP-02044"), look_alike("la-330"), look_alike("p1")
    ('la-330', '103120', 'group-2044', None, None)
    """
    if not OFFICIAL_ID.fullmatch(org_id):
        return None
    prefix, dash, rest = org_id.lower().rpartition("-") if not org_id.isdigit() else ("", "", org_id)
    spelt = f"{prefix}{dash}{rest.lstrip('0') if rest.isdigit() else rest}"
    return spelt if spelt != org_id and CANONICAL_ID.fullmatch(spelt) else None


def _loaded(source: str | None) -> bool:
    return (source or "").startswith(LOADED_SOURCES)


def _editor_may_write_organisation(
    key: ApiKey, body: OrganisationBase, before: OrganisationPublic | None, org_id: str
) -> None:
    """403 unless the key may write this organisation: editors only partners they (not a load) made."""
    official = look_alike(org_id)
    if official is not None and before is None:
        raise unprocessable(("path", "org_id"), f"{org_id!r} looks like the official id {official!r}; use that")
    if key.role >= Role.ADMIN:
        return
    if OFFICIAL_ID.fullmatch(org_id) and before is None:
        shapes = "a URN, la-, group-, sponsor- or tsh-"
        raise HTTPException(403, f"{org_id!r} has the shape of an official id ({shapes}): only loads and admins may")
    if body.kind not in EDITOR_KINDS:
        raise HTTPException(403, f"only an admin may write a {body.kind.value}")
    if before is not None and (before.kind not in EDITOR_KINDS or _loaded(before.source)):
        raise HTTPException(403, f"{org_id!r} comes from official data ({before.source}); only an admin may change it")
    if body.urn is not None or body.group_uid is not None or _loaded(body.source):
        raise HTTPException(403, "only an admin may give a URN, a Group UID or an official data source")


def _editor_may_write_tie(key: ApiKey, tie: TieBase, before: TiePublic | None, target_kind: NodeKind | None) -> None:
    """403 unless the key may write this tie: editors only collaboration ties no load made."""
    if key.role >= Role.ADMIN:
        return
    if tie.kind in ADMIN_TIE_KINDS:
        raise HTTPException(403, f"only an admin may write a {tie.kind.value} tie (GIAS states these)")
    if before is not None and _loaded(before.source):
        raise HTTPException(
            403, f"tie {before.id!r} comes from official data ({before.source}); only an admin may change it"
        )
    if _loaded(tie.source):
        raise HTTPException(403, "only an admin may give an official data source")
    if tie.kind is EdgeKind.MEMBER_OF and target_kind is not None and target_kind not in EDITOR_KINDS:
        raise HTTPException(403, f"only an admin may write a membership of a {target_kind.value} (GIAS states these)")


@router.put(
    "/organisations/{org_id}",
    response_model=OrganisationPublic,
    responses={201: {"model": OrganisationPublic}},
)
def put_organisation(
    org_id: OrgIdPath, body: OrganisationBase, store: StoreDep, key: Editor, response: Response
) -> OrganisationPublic:
    """Create or replace an organisation (editors: partners and partnerships they made; admins: any)."""
    if body.kind not in EDITOR_KINDS and key.role < Role.ADMIN:
        raise HTTPException(403, f"only an admin may write a {body.kind.value}")
    try:
        # The id is checked as given, never stripped: the record read below is the one written.
        org = OrganisationPublic(id=org_id, **body.model_dump())
    except ValueError as exc:
        raise unprocessable(("path", "org_id"), f"invalid organisation id {org_id!r}: {exc}") from None
    before = store.get_organisation(org.id)
    _editor_may_write_organisation(key, body, before, org.id)
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
    """Delete an organisation and every tie it has (admin); each tie deleted gets its own audit entry."""
    before = store.get_organisation(org_id)
    if before is None:
        raise HTTPException(404, f"no organisation with id {org_id!r}")
    ties = store.ties_of(org_id)
    store.apply(
        WriteBatch(
            delete_ties=[tie.id for tie in ties],
            delete_organisations=[org_id],
            audit=[
                *(_entry(key, "delete_tie", tie.id, tie.model_dump_json(), None) for tie in ties),
                _entry(key, "delete_organisation", org_id, before.model_dump_json(), None),
            ],
        )
    )


@router.post("/ties", response_model=TiePublic, responses={201: {"model": TiePublic}})
def post_tie(body: TieCreate, store: StoreDep, key: Editor, response: Response) -> TiePublic:
    """Create or update a tie; its id is stable (kind, ends, focus), so repeating a request changes nothing."""
    tie = TiePublic(id=body.tie_id, **body.model_dump())
    before = store.get_tie(tie.id)
    ends = []
    for end in (tie.source_id, tie.target_id):
        found = store.get_organisation(end)
        if found is None:
            raise HTTPException(404, f"no organisation with id {end!r}")
        ends.append(found)
    _editor_may_write_tie(key, tie, before, ends[1].kind)
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
    _editor_may_write_tie(key, before, before, None)
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
    OFSTED = "ofsted"


@router.post(
    "/loads/{loader}",
    response_model=LoadSummary,
    responses={
        413: {"description": "File too large."},
        422: {"description": "Bad file or loader."},
        507: {"model": Problem, "description": "The server has no room to receive the file."},
    },
)
async def load_file(
    loader: Annotated[
        Loader,
        PathParam(description="Which loader reads the body: gias (establishments), ties, or ofsted (inspections)."),
    ],
    request: Request,
    store: StoreDep,
    key: Admin,
    strict: Annotated[bool, Query(description="Refuse the whole file at the first bad row.")] = False,
    dry_run: Annotated[bool, Query(description="Validate and report; write nothing.")] = False,
    filename: Annotated[
        str,
        Query(
            # Starts with a letter or digit: never "." or "..", which name a folder.
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
            description="File name; a date in it (edubasealldata20250718.csv) must agree with its LastChangedDate.",
        ),
    ] = "upload.csv",
) -> LoadSummary:
    """Load a file sent as the request body (admin): ``gias`` (establishments), ``ties`` (CSV or JSON) or
    ``ofsted`` (Ofsted's inspections and outcomes, graded or report-card layout)."""
    from starlette.concurrency import run_in_threadpool

    from loaders.common import LoadError, LoadReport, expanded_limit
    from loaders.gias import load_gias

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / filename
        try:
            with path.open("wb") as handle:
                async for chunk in request.stream():
                    handle.write(chunk)
        except OSError as exc:  # a full disk, a quota: the server's trouble, said without its paths
            raise HTTPException(507, f"the server has no room to receive this file ({exc.strerror})") from None

        def hide(text: str) -> str:
            # Messages name the file as the client did, never the server's temporary folder.
            return text.replace(str(path), filename).replace(folder, "")

        def audit(report: LoadReport) -> AuditEntry:
            return _entry(key, f"load_{loader.value}", filename, None, hide(report.summary()))

        limit = request.app.state.settings.max_expanded_bytes

        def load() -> LoadReport:
            with expanded_limit(limit):  # a gzip bomb stops at the limit, not at the memory's end
                if loader is Loader.GIAS:
                    return load_gias(store, [path], strict=strict, dry_run=dry_run, audit=audit)
                if loader is Loader.OFSTED:
                    from loaders.ofsted import load_ofsted

                    return load_ofsted(store, path, strict=strict, dry_run=dry_run, audit=audit)
                from loaders.ties import load_ties

                return load_ties(store, path, strict=strict, dry_run=dry_run, audit=audit)

        try:
            report = await run_in_threadpool(load)
        except LoadError as exc:
            raise unprocessable(("body",), hide(str(exc))) from None
        return LoadSummary(
            summary=hide(report.summary()),
            rows_read=report.rows_read,
            rows_rejected=report.rows_rejected,
            issues=[hide(str(issue)) for issue in report.issues[:200]],
        )
