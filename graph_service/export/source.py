"""Which organisations and ties an export holds: the whole graph, an area, kinds of tie, a date."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from graph_service.models import EdgeKind, Organisation, Tie, covers
from graph_service.store.base import GraphStore, OrganisationFilter

#: Organisations read from the store at a time.
PAGE_SIZE = 2000


class ExportError(ValueError):
    """The export cannot be made as asked; the message says why."""


class ExportTooLarge(ExportError):
    """The export would hold more nodes and edges than allowed."""


@dataclass(frozen=True)
class ExportSpec:
    """What to export.

    ``area`` selects organisations (``None``: the whole graph) and ``hops``
    adds the rings of organisations tied to them, the way
    :meth:`GraphStore.subgraph` does. ``tie_kinds`` keeps only those kinds of
    tie (all kinds when empty); the organisations stay. ``as_at`` keeps the
    ties whose since/until cover that day and the organisations open on it
    (opened on or before it, and not closed before it); a missing date never
    excludes anything.
    """

    area: OrganisationFilter | None = None
    hops: int = 0
    tie_kinds: tuple[EdgeKind, ...] = ()
    as_at: date | None = None

    def describe(self) -> dict[str, Any]:
        """The filters, as plain values for the export's metadata.

        >>> ExportSpec(OrganisationFilter(la_code=330), hops=1, as_at=date(2024, 1, 1)).describe()
        {'la_code': 330, 'hops': 1, 'as_at': '2024-01-01'}
        """
        described: dict[str, Any] = {}
        if self.area is not None:
            for name, value in vars(self.area).items():
                if value is None or (isinstance(value, (tuple, list)) and not value):
                    continue
                if isinstance(value, (tuple, list)):
                    value = [getattr(item, "value", item) for item in value]
                described[name] = value
            described["hops"] = self.hops
        if self.tie_kinds:
            described["tie_kinds"] = [kind.value for kind in self.tie_kinds]
        if self.as_at is not None:
            described["as_at"] = self.as_at.isoformat()
        return described


#: Rings of neighbours an area export takes by default: its trusts, federations, sponsors and LA.
DEFAULT_AREA_HOPS = 1


def build_spec(
    *,
    la_code: int | None = None,
    local_authority: str | None = None,
    district: str | None = None,
    constituency: str | None = None,
    hops: int | None = None,
    tie_kinds: Sequence[EdgeKind] = (),
    as_at: date | None = None,
) -> ExportSpec:
    """An export spec from the CLI's and the API's options; every given area field must match.

    >>> build_spec(la_code=330).hops, build_spec().area is None
    (1, True)
    """
    if la_code is None and local_authority is None and district is None and constituency is None:
        if hops:
            raise ExportError("hops needs an area: give la_code, local_authority, district or constituency")
        return ExportSpec(tie_kinds=tuple(dict.fromkeys(tie_kinds)), as_at=as_at)
    if hops is not None and hops < 0:
        raise ExportError("hops cannot be negative")
    area = OrganisationFilter(
        la_code=la_code, local_authority=local_authority, district=district, constituency=constituency
    )
    return ExportSpec(
        area=area,
        hops=DEFAULT_AREA_HOPS if hops is None else hops,
        tie_kinds=tuple(dict.fromkeys(tie_kinds)),
        as_at=as_at,
    )


def is_open(org: Organisation, day: date) -> bool:
    """Whether the organisation's opened/closed dates say it was open on ``day``."""
    return covers(org.opened, org.closed, day)


@dataclass
class Selection:
    """The node ids and ties of one export, and its organisations as they were when selected."""

    store: GraphStore
    ids: list[str]
    ties: list[Tie]
    #: ``{id: (latitude, longitude)}`` of the located organisations, when the format draws a map (GEXF).
    locations: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: The selected organisations as JSON, in ``ids`` order, kept from the selection: the file is a
    #: snapshot. Read again from the store while a slow download streamed, a delete in between left
    #: ties to organisations the file lacked, and counts that disagreed with it (issue 15).
    frozen: list[bytes] = field(default_factory=list)

    def organisations(self) -> Iterator[Organisation]:
        """The selected organisations, ordered by id, as they were when selected."""
        for data in self.frozen:
            yield Organisation.model_validate_json(data)

    @property
    def counts(self) -> tuple[int, int]:
        return len(self.ids), len(self.ties)


def _pages(store: GraphStore, flt: OrganisationFilter) -> Iterator[list[Organisation]]:
    offset = 0
    while True:
        page, _total = store.list_organisations(flt, offset=offset, limit=PAGE_SIZE)
        if not page:
            return
        yield page
        offset += len(page)


def select(
    store: GraphStore, spec: ExportSpec, on_organisations: Callable[[list[Organisation]], None] | None = None
) -> Selection:
    """Decide what the export holds.

    ``on_organisations`` (if given) sees each page of selected organisations,
    so a caller can learn their attributes in the same pass.
    """
    kinds: Sequence[EdgeKind] = spec.tie_kinds
    frozen: list[bytes] = []
    if spec.area is None:
        ids: list[str] = []
        for page in _pages(store, OrganisationFilter()):
            chosen = [org for org in page if spec.as_at is None or is_open(org, spec.as_at)]
            ids.extend(org.id for org in chosen)
            frozen.extend(org.model_dump_json().encode() for org in chosen)
            if on_organisations is not None:
                on_organisations(chosen)
        ties = store.all_ties(kinds=kinds)
    else:
        sub = store.subgraph(spec.area, as_at=spec.as_at, hops=spec.hops)
        if not sub.organisations:
            raise ExportError(f"no organisation matches the area {_area_text(spec)}")
        chosen = sorted(
            (org for org in sub.organisations if spec.as_at is None or is_open(org, spec.as_at)), key=lambda o: o.id
        )
        ids = [org.id for org in chosen]
        frozen = [org.model_dump_json().encode() for org in chosen]
        if on_organisations is not None:
            on_organisations(chosen)
        ties = [tie for tie in sub.ties if not kinds or tie.kind in kinds]
    members = set(ids)
    ties = [
        tie
        for tie in ties
        if tie.source_id in members
        and tie.target_id in members
        and (spec.as_at is None or covers(tie.since, tie.until, spec.as_at))
    ]
    return Selection(store, ids, ties, frozen=frozen)


def _area_text(spec: ExportSpec) -> str:
    described = spec.describe()
    return ", ".join(f"{key}={value}" for key, value in described.items() if key not in ("hops", "tie_kinds", "as_at"))
