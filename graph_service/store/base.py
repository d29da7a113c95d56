"""The storage contract every backend fulfils, and the values it passes around."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

import networkx as nx

from graph_service.analytics.network import SchoolFilter
from graph_service.models import (
    AuditEntry,
    EdgeKind,
    NodeKind,
    OfstedRating,
    Organisation,
    Phase,
    Status,
    Tie,
)

#: When the request being answered arrived (``time.monotonic()``), set by the API for each request:
#: a check of the database's version that began after it is as good as the request's own (a write
#: committed before the request arrived is seen by it), so concurrent requests may share one.
#: Unset (a command, a test), only checks that begin after the call count.
asked_at: ContextVar[float | None] = ContextVar("asked_at", default=None)


class StoreError(Exception):
    """A store refused a write; nothing of the write was kept."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now."""


class IntegrityError(StoreError):
    """A write broke a rule of the graph (unknown end, wrong kinds...)."""


@dataclass(frozen=True)
class OrganisationFilter:
    """Filters for listing organisations; every set field must match."""

    kinds: Sequence[NodeKind] = ()
    la_code: int | None = None
    local_authority: str | None = None
    district: str | None = None
    constituency: str | None = None
    phases: Sequence[Phase] = ()
    subtypes: Sequence[str] = ()
    statuses: Sequence[Status] = ()
    ratings: Sequence[OfstedRating] = ()
    name_contains: str | None = None
    ids: Sequence[str] | None = None


@dataclass
class WriteBatch:
    """Everything one load or request writes, applied in one transaction."""

    organisations: list[Organisation] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)
    #: (tie id, until) pairs: ties that ended (kept as history, not deleted).
    end_ties: list[tuple[str, date]] = field(default_factory=list)
    delete_ties: list[str] = field(default_factory=list)
    delete_organisations: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    #: Audit entries recorded in the same transaction as the change they describe.
    audit: list[AuditEntry] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.organisations)
            + len(self.ties)
            + len(self.end_ties)
            + len(self.delete_ties)
            + len(self.delete_organisations)
        )


@dataclass(frozen=True)
class WriteResult:
    """What a write changed."""

    organisations_created: int = 0
    organisations_updated: int = 0
    ties_created: int = 0
    ties_updated: int = 0
    ties_ended: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return (
            self.organisations_created
            + self.organisations_updated
            + self.ties_created
            + self.ties_updated
            + self.ties_ended
            + self.deleted
        )


@dataclass(frozen=True)
class Subgraph:
    organisations: list[Organisation]
    ties: list[Tie]


#: Told ``(rows written, rows to write)`` while a batch is written.
WriteProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class IsolationScope:
    """A graph to answer the isolated-schools question on, and which of its schools it may list.

    ``only`` None: whichever schools the filter covers. With ``total`` set, the store has
    already counted and sorted the listed schools, and ``only`` is the page asked for.
    The graph holds at least those schools, their ties, the organisations within two
    collaboration ties of them and those maintaining them (it may be the store's whole graph).
    """

    graph: nx.MultiDiGraph
    only: frozenset[str] | None = None
    total: int | None = None


@runtime_checkable
class GraphStore(Protocol):
    """A graph of organisations and ties. Constructors do no I/O; ``open`` does."""

    backend: str

    def open(self) -> None:
        """Connect and set up the schema (idempotent)."""

    def close(self) -> None:
        """Release connections."""

    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the database does not answer."""

    def apply(self, batch: WriteBatch, progress: WriteProgress | None = None) -> WriteResult:
        """Apply a batch in one transaction: all of it or none of it.

        Ties whose ends are neither in the store nor in the batch, or whose
        kinds do not fit the tie kind, raise :class:`IntegrityError`. ``progress``
        is told ``(rows written, rows to write)`` as the write goes on (a load's progress bar).
        """
        ...

    def get_organisation(self, org_id: str) -> Organisation | None: ...

    def get_organisations(self, ids: Sequence[str]) -> list[Organisation]: ...

    def list_organisations(
        self, flt: OrganisationFilter, offset: int = 0, limit: int = 50
    ) -> tuple[list[Organisation], int]:
        """A page of organisations ordered by id, and the total matching."""
        ...

    def get_tie(self, tie_id: str) -> Tie | None: ...

    def ties_of(
        self,
        org_id: str,
        as_at: date | None = None,
        kinds: Sequence[EdgeKind] = (),
    ) -> list[Tie]:
        """Ties touching an organisation (either end), optionally those holding on a date."""
        ...

    def all_ties(self, kinds: Sequence[EdgeKind] = ()) -> list[Tie]: ...

    def neighbours(self, org_id: str, hops: int = 1, as_at: date | None = None) -> Subgraph:
        """The organisation, those within ``hops`` ties of it, and the ties among them."""
        ...

    def subgraph(self, flt: OrganisationFilter, as_at: date | None = None, hops: int = 0) -> Subgraph:
        """Organisations matching the filter (plus ``hops`` rings of neighbours) and their ties."""
        ...

    def counts(self) -> dict[str, int]:
        """Number of organisations per kind and ties per kind ("tie:<kind>")."""
        ...

    def get_meta(self) -> dict[str, str]: ...

    def list_audit(self, offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
        """The audit trail, newest first, and its length."""
        ...

    def graph(self) -> nx.MultiDiGraph:
        """The whole graph for analytics; cached, rebuilt after any write."""
        ...

    def isolation_graph(
        self,
        flt: SchoolFilter,
        as_at: date | None,
        *,
        max_ties: int,
        every: bool,
        offset: int = 0,
        limit: int | None = None,
    ) -> IsolationScope:
        """What the isolated-schools question needs (see :class:`IsolationScope`).

        The schools it can list are those ``flt`` covers (open on ``as_at``) with at most
        ``max_ties`` collaboration ties holding on ``as_at`` (today when omitted), or all it
        covers when ``every`` (loose and remote need more than a count to judge).
        """
        ...

    def support_graph(self, urn: str, as_at: date | None, radius_km: float) -> nx.MultiDiGraph:
        """What the support-partners question about ``urn`` needs (an empty graph for an unknown URN).

        It holds the school, everything within four collaboration ties of it, the schools rated
        Good or Outstanding within ``radius_km`` (of its local authority when it has no
        location), their collaboration partners (trusts, hubs...), and whom those support.
        """
        ...

    def clear(self) -> None:
        """Delete everything (tests and re-imports)."""
