"""The Neo4j store: the same :class:`~graph_service.store.base.GraphStore` on a Neo4j server.

One driver per store, made in :meth:`Neo4jStore.open` and closed in
:meth:`Neo4jStore.close`. Every :meth:`Neo4jStore.apply` is one transaction: it first
bumps a version counter in Neo4j (which also makes concurrent writers take turns), reads
what it needs, checks every tie, and only then writes, so a refused or failed batch leaves
nothing behind. A batch of more than ``STAGE_ROWS`` rows (a load) is written in stages
instead, all or nothing all the same (:meth:`Neo4jStore._apply_in_stages`). The Cypher
lives in :mod:`queries.cypher`.

When Neo4j cannot be reached every call raises
:class:`~graph_service.store.base.StoreUnavailable` (the API answers 503); the driver
reconnects by itself once Neo4j is back, and a schema that could not be set up at
start is set up on the first call that reaches the server.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

import networkx as nx
from neo4j import READ_ACCESS, WRITE_ACCESS, Driver, GraphDatabase, ManagedTransaction, RoutingControl, Session
from neo4j.exceptions import (
    AuthError,
    ConfigurationError,
    ConnectionPoolError,
    ConstraintError,
    DatabaseUnavailable,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph_service import memory
from graph_service.analytics.isolation import RISK_POINTS, UNRATED_RISK
from graph_service.analytics.network import PROVIDER_KINDS, SchoolFilter, holds
from graph_service.graphview import build_graph_from_stored
from graph_service.index import PATCH_LIMIT, Change, GraphIndex, retire
from graph_service.models import STORED, AuditEntry, EdgeKind, NodeKind, Organisation, Status, Tie, check_endpoints
from graph_service.store.base import (
    IntegrityError,
    IsolationScope,
    OrganisationFilter,
    StoreError,
    StoreUnavailable,
    Subgraph,
    WriteBatch,
    WriteProgress,
    WriteResult,
    asked_at,
)
from queries import cypher

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Rows per UNWIND: big enough to keep round trips few, small enough for modest messages.
CHUNK = 5000
#: Fail fast when Neo4j is away, so the API answers 503 within a few seconds.
CONNECTION_TIMEOUT = 5.0
#: How long a read or write is retried (on a lost connection, a deadlock...) before giving up:
#: long enough to replace the dead pooled connections of a restarted server, short enough
#: that a request answers 503 promptly while Neo4j is down.
RETRY_TIME = 1.0
#: Above this many tie ids of unknown kind, one relationship scan beats an index seek per kind.
SCAN_THRESHOLD = 1000
#: Said of a write whose fate Neo4j could not confirm (the caller must check before retrying).
MAYBE_SAVED = "may or may not be saved"
#: Seconds open() waits for freshly created indexes to come online.
INDEX_WAIT = 60
#: A batch of more rows than this (a load) is written in stages of at most this many rows, each
#: its own transaction, so that Neo4j's heap holds one stage at a time (see _apply_in_stages).
STAGE_ROWS = 5000
#: A staged load from another host whose lease was not renewed for this many seconds (stages renew
#: it; reading what a whole-England load will replace takes up to a minute) is taken as abandoned.
LEASE_TIMEOUT = 600.0

_MERGE_ORGANISATIONS = {kind: cypher.merge_organisations(kind) for kind in NodeKind}
#: By (kind, new): new organisations are created, known ones merged (likewise ties below).
_WRITE_ORGANISATIONS = {
    (kind, new): cypher.create_organisations(kind) if new else _MERGE_ORGANISATIONS[kind]
    for kind in NodeKind
    for new in (True, False)
}
_MERGE_TIES = {kind: cypher.merge_ties(kind) for kind in EdgeKind}
_WRITE_TIES = {
    (kind, new): cypher.create_ties(kind) if new else _MERGE_TIES[kind] for kind in EdgeKind for new in (True, False)
}
_END_TIES = {kind: cypher.end_ties(kind) for kind in EdgeKind}
_DELETE_TIES = {kind: cypher.delete_ties(kind) for kind in EdgeKind}
_TIES_BY_ID = {kind: cypher.ties_by_id(kind) for kind in EdgeKind}
_TIE_BY_ID = cypher.tie_by_id()
_EDGE_KIND_VALUES = frozenset(kind.value for kind in EdgeKind)
_COUNTS = cypher.counts()
#: Transactions Neo4j stopped (terminated, or past db.transaction.timeout): the driver makes
#: these client errors, since retrying at once would not help, but the request did nothing wrong.
_STOPPED = frozenset(
    {
        "Neo.ClientError.Transaction.Terminated",
        "Neo.ClientError.Transaction.LockClientStopped",
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    }
)
_PROVIDERS = sorted(PROVIDER_KINDS)
_CURRENT_STATUSES = [status.value for status in Status if status.is_current]


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_chunks(
    tx: ManagedTransaction,
    query: str,
    name: str,
    items: Sequence[Any],
    on_chunk: Callable[[int], None] | None = None,
    **params: Any,
) -> int:
    """Run ``query`` once per chunk of ``items`` (as ``$<name>``); returns the sum of its ``deleted`` column.

    ``on_chunk`` is told the size of each chunk once it is written.
    """
    deleted = 0
    for part in _chunks(items):
        for record in tx.run(query, {**params, name: list(part)}):
            deleted += record["deleted"]
        if on_chunk is not None:
            on_chunk(len(part))
    return deleted


@dataclass
class _Step:
    """One write of a batch: ``query`` run on ``items`` (as ``$<name>``), with one undo op per item."""

    query: str
    name: str
    items: list[Any]
    undo: list[list[Any]]
    #: Counted in the progress reported (organisations and ties written).
    counted: bool = False


@dataclass
class _Plan:
    """A checked batch: its writes in order, what they will change, and the rows progress counts."""

    steps: list[_Step] = field(default_factory=list)
    result: WriteResult = field(default_factory=WriteResult)
    to_write: int = 0


def _undo(tx: ManagedTransaction, ops: list[list[Any]]) -> None:
    """Put back what one stage of a load replaced: its ops from the last, consecutive ones of a kind together.

    Ops: ``["delete_org", id]``, ``["put_org", kind, JSON]``, ``["delete_tie", kind, id]``,
    ``["put_tie", kind, source id, target id, JSON]`` or ``["nothing"]``.
    """
    groups: list[tuple[tuple[str, str], list[list[Any]]]] = []
    for op in reversed(ops):
        if op[0] == "nothing":
            continue
        key = (op[0], "" if op[0] == "delete_org" else op[1])
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(op)
    for (what, kind), items in groups:
        if what == "delete_org":
            _write_chunks(tx, cypher.DELETE_ORGANISATIONS, "ids", [op[1] for op in items])
        elif what == "put_org":
            rows = []
            for op in items:
                org = Organisation.model_validate_json(op[2])
                rows.append({"id": org.id, "props": _org_props(org, op[2])})
            _write_chunks(tx, _MERGE_ORGANISATIONS[NodeKind(kind)], "rows", rows)
        elif what == "delete_tie":
            _write_chunks(tx, _DELETE_TIES[EdgeKind(kind)], "ids", [op[2] for op in items])
        else:
            rows = []
            for op in items:
                tie = Tie.model_validate_json(op[4])
                rows.append({"id": tie.id, "source_id": op[2], "target_id": op[3], "props": _tie_props(tie, op[4])})
            _write_chunks(tx, _MERGE_TIES[EdgeKind(kind)], "rows", rows)


def _owner() -> str:
    """Who holds a load's lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


#: Staged loads being written by this process (by any of its stores).
_running_loads: set[str] = set()


def _abandoned(load: str, owner: str | None, heartbeat: float | None) -> bool:
    """Whether a load's lease is abandoned: its process (on this host) is gone, or it stopped renewing it."""
    host, _, pid_text = (owner or "").rpartition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return load not in _running_loads  # this process's, but no longer being written
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False  # alive on this host: still writing (its plan may take a while)
    return heartbeat is None or time.time() - float(heartbeat) > LEASE_TIMEOUT


def _busy_loading(lease: Any) -> str:
    return (
        f"a load is being written to Neo4j (by {lease['owner']}); other writes wait until it has finished"
        f" (or, if its process died, until its lease is {LEASE_TIMEOUT:.0f} s old and it is undone)"
    )


def _rows(tx: ManagedTransaction, query: str, **params: Any) -> list[Any]:
    """The list a bulk query returns in its single record."""
    return list(tx.run(query, params).single(strict=True)["rows"])


def _ids_from(tx: ManagedTransaction, query: str, ids: Iterable[str], **params: Any) -> set[str]:
    """The ``ids`` a bulk query returns, run once per chunk of its ``$ids``."""
    found: set[str] = set()
    for part in _chunks(sorted(ids)):
        found.update(tx.run(query, {**params, "ids": list(part)}).single(strict=True)["ids"])
    return found


def _rings(hops: int, as_at: date | None) -> list[tuple[str, dict[str, Any]]]:
    """``hops`` rings through ties of any kind holding on ``as_at`` (any day when None)."""
    return [(cypher.NEXT_RING, {"day": as_at})] * hops


def _collaboration_rings(day: date, groups_only: Sequence[bool]) -> list[tuple[str, dict[str, Any]]]:
    """A ring through collaboration ties holding on ``day`` per flag; a flag says whether that ring
    steps only out of groups (organisations other than schools and colleges)."""
    return [
        (cypher.NEXT_COLLABORATION_RING, {"day": day, "groups_only": only, "providers": _PROVIDERS})
        for only in groups_only
    ]


def _holds(tie: dict[str, Any], day: date | None) -> bool:
    """Whether a tie (its edge's attributes) holds on ``day``, any day when None: Cypher's ``_HOLDS``.

    >>> _holds({"since": date(2020, 9, 1)}, date(2020, 8, 31)), _holds({"until": date(2021, 1, 1)}, date(2021, 1, 1))
    (False, True)
    """
    return day is None or holds(tie, day)


#: The graph's version and the staged load under way (None when none is), as a check reads them.
VersionState = tuple[int | None, str | None]


@dataclass
class _Check:
    """One read of the version state: when it began, and once ``done``, what it found (or that it failed)."""

    began: float
    done: threading.Event = field(default_factory=threading.Event)
    state: VersionState = (None, None)
    failed: bool = False


class SharedChecks:
    """Reads of the graph's version state, each shared by the requests that arrived before it began.

    A check that began after a request arrived sees every write committed before the request
    arrived, so it is as good as the request's own: concurrent requests in one process take the
    newest such check, finished or under way, instead of each sending a query. Checks that began
    before ``floor`` (set when this process's own write ends) never answer.
    """

    def __init__(self, read: Callable[[], VersionState]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._newest: _Check | None = None
        self.floor = float("-inf")

    def state(self, since: float) -> VersionState:
        """The state as a check that began after ``since`` (a ``time.monotonic()`` reading) found it."""
        since = max(since, self.floor)
        with self._lock:
            check = self._newest
            own = check is None or check.began <= since or check.failed
            if own:
                check = self._newest = _Check(time.monotonic())
        assert check is not None
        if not own:
            check.done.wait()
            # A failed check's error belongs to its own request: this one tries for itself.
            return self._read() if check.failed else check.state
        try:
            check.state = self._read()
        except BaseException:
            check.failed = True
            raise
        finally:
            check.done.set()
        return check.state

    def offer(self, began: float, state: VersionState) -> None:
        """A state read elsewhere by a query that began at ``began`` (a rebuild of the cached graph)."""
        with self._lock:
            if self._newest is None or self._newest.began < began:
                check = self._newest = _Check(began, state=state)
                check.done.set()


@dataclass(frozen=True)
class _Memory:
    """The whole graph read in one transaction, the version it holds and the staged load under way
    then (None when none was); with the stored JSON of every organisation and tie by id when the
    store answers lookups from memory (``questions_in_memory``)."""

    graph: nx.MultiDiGraph
    version: int | None
    loading: str | None
    organisations: dict[str, str] = field(default_factory=dict)
    ties: dict[str, str] = field(default_factory=dict)
    #: The graph's version in this process (graph_service.index): patched by this process's writes.
    index: GraphIndex | None = None

    def patched(self, change: Change, version: int) -> _Memory | None:
        """The graph at ``version`` after ``change``, this process's write that made it (None: rebuild)."""
        if self.index is None or self.loading is not None or self.version is None or version != self.version + 1:
            return None
        index = self.index.patched(change)
        if index is None:
            return None
        organisations, ties = self.organisations, self.ties
        if organisations or ties:  # lookups are answered from memory: their JSON follows
            organisations, ties = dict(organisations), dict(ties)
            for org_id, text in change.organisations.items():
                if text is None:
                    organisations.pop(org_id, None)
                    if org_id in self.graph:  # its ties went with it
                        for _source, _target, tie_id in (
                            *self.graph.out_edges(org_id, keys=True),
                            *self.graph.in_edges(org_id, keys=True),
                        ):
                            ties.pop(tie_id, None)
                else:
                    organisations[org_id] = text
            for tie_id, text in change.ties.items():
                if text is None:
                    ties.pop(tie_id, None)
                else:
                    ties[tie_id] = text
        return _Memory(index.graph, version, None, organisations, ties, index)


def _org_props(org: Organisation, data: str) -> dict[str, Any]:
    """Native node properties: the full JSON and what Cypher filters by.

    Kept to the filters because a whole-England load is one transaction, and Neo4j holds
    every property of it in memory until the commit.
    """
    props: dict[str, Any] = {
        "id": org.id,
        "kind": org.kind.value,
        "name": org.name,
        "status": org.status.value,
        "phase": org.phase.value if org.phase else None,
        "subtype": org.subtype,
        "la_code": org.la_code,
        "local_authority": org.local_authority,
        "district": org.district,
        "constituency": org.constituency,
        "ofsted_rating": org.ofsted_rating.value if org.ofsted_rating else None,
        "type_name": org.type_name,
        "opened": org.opened,
        "closed": org.closed,
        "latitude": org.latitude,
        "longitude": org.longitude,
        "data": data,
    }
    return {key: value for key, value in props.items() if value is not None}


def _tie_props(tie: Tie, data: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": tie.id,
        "kind": tie.kind.value,
        "since": tie.since,
        "until": tie.until,
        "level": tie.level.value if tie.level else None,
        "role": tie.role.value if tie.role else None,
        "focus": tie.focus,
        "data": data,
    }
    return {key: value for key, value in props.items() if value is not None}


def _filter_params(flt: OrganisationFilter) -> dict[str, Any]:
    """Query parameters for the filters that are set (names as in :func:`cypher.organisation_where`)."""
    params: dict[str, Any] = {}
    for name, values in (
        ("kinds", flt.kinds),
        ("phases", flt.phases),
        ("subtypes", flt.subtypes),
        ("statuses", flt.statuses),
        ("ratings", flt.ratings),
    ):
        if values:
            params[name] = [str(value) for value in values]
    if flt.ids is not None:
        params["ids"] = list(flt.ids)
    params.update(_place_params(flt))
    if flt.name_contains:
        params["name"] = flt.name_contains
    return params


def _place_params(flt: OrganisationFilter | SchoolFilter) -> dict[str, Any]:
    """Parameters of the place filters that are set, the same in both kinds of filter."""
    params: dict[str, Any] = {} if flt.la_code is None else {"la_code": int(flt.la_code)}
    for name in ("local_authority", "district", "constituency"):
        value = getattr(flt, name)
        if value is not None:
            params[name] = value
    return params


def _area_params(flt: SchoolFilter) -> dict[str, Any]:
    """Parameters of the area filters that are set (names as in :func:`cypher.isolation_candidates`)."""
    params: dict[str, Any] = {}
    if flt.kinds:
        params["kinds"] = list(flt.kinds)
    params.update(_place_params(flt))
    if flt.phases:
        params["phases"] = list(flt.phases)
    if flt.types:
        params["types"] = [name.lower() for name in flt.types]
    return params


class Neo4jStore:
    """A :class:`~graph_service.store.base.GraphStore` on a Neo4j server, over Bolt."""

    backend = "neo4j"
    #: An isolated-schools question listing more schools than this answers on the cached whole
    #: graph instead of fetching their networks (the same answers: the parity tests set it to 0).
    whole_graph_above = 2000

    def __init__(
        self, uri: str, user: str, password: str, database: str = "neo4j", *, questions_in_memory: bool = True
    ) -> None:
        self.uri = uri
        self.user = user
        self.database = database
        self._password = password
        #: Answer the questions, organisation lookups, ties and neighbourhoods on the cached whole
        #: graph (one version check per request, shared by concurrent ones; rebuilt after any write,
        #: by any process); False narrows each down in Cypher instead, for a graph too big for this
        #: process's memory.
        self.questions_in_memory = questions_in_memory
        self._driver: Driver | None = None
        self._schema_ready = False
        self._lock = threading.RLock()
        self._graph_lock = threading.Lock()
        #: Replaced as one value, so readers never see a mix.
        self._graph_cache: _Memory | None = None
        self._checks = SharedChecks(self._read_version_state)
        #: Rows per stage of a big batch (tests make stages small).
        self.stage_rows = STAGE_ROWS

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> None:
        """Make the driver and set up the schema; a server that is down now is retried on first use."""
        with self._lock:
            if self._driver is None:
                try:
                    self._driver = GraphDatabase.driver(
                        self.uri,
                        auth=(self.user, self._password),
                        connection_timeout=CONNECTION_TIMEOUT,
                        max_transaction_retry_time=RETRY_TIME,
                        # The store's queries name every kind's label, including kinds not loaded yet.
                        notifications_disabled_classifications=["UNRECOGNIZED"],
                    )
                except (ConfigurationError, ValueError) as exc:
                    raise StoreError(f"invalid Neo4j settings for {self.uri!r}: {exc}") from exc
        try:
            self._ensure_schema()
            self._recover()  # a staged load whose process died is undone before anything else
        except StoreUnavailable as exc:
            # The service starts anyway and answers 503 until Neo4j is reachable (or a load has finished).
            log.warning("Neo4j not ready yet (will retry on first use): %s", exc)

    def close(self) -> None:
        with self._lock:
            if self._driver is not None:
                self._driver.close()
                self._driver = None
            self._schema_ready = False
        self._graph_cache = None

    def ping(self) -> None:
        self._read(cypher.PING)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            driver = self._open_driver()
            with self._translate():
                # Checking first keeps open() to one query when the schema is in place.
                records, _, _ = driver.execute_query(cypher.INDEX_NAMES, database_=self.database)
                missing = [statement for name, statement in cypher.schema().items() if name not in records[0]["names"]]
                for statement in missing:
                    driver.execute_query(statement, database_=self.database)
                if missing:
                    driver.execute_query(cypher.AWAIT_INDEXES, {"seconds": INDEX_WAIT}, database_=self.database)
            self._schema_ready = True

    def _open_driver(self) -> Driver:
        if self._driver is None:
            raise StoreUnavailable("the Neo4j store is not open")
        return self._driver

    def _ready(self) -> Driver:
        driver = self._open_driver()
        self._ensure_schema()
        return driver

    @contextmanager
    def _translate(self) -> Iterator[None]:
        """Driver errors become store errors, so callers (and the API) see one vocabulary."""
        try:
            yield
        except IncompleteCommit as exc:
            raise StoreUnavailable(
                f"lost the connection to Neo4j at {self.uri} while committing; the write {MAYBE_SAVED}"
            ) from exc
        except (ServiceUnavailable, SessionExpired, ConnectionPoolError, DatabaseUnavailable, OSError) as exc:
            raise StoreUnavailable(f"cannot reach Neo4j at {self.uri}: {exc}") from exc
        except AuthError as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} refused the credentials of user {self.user!r}") from exc
        except ConstraintError as exc:
            raise IntegrityError(f"Neo4j refused the write: {exc.message or exc.code}") from exc
        except Neo4jError as exc:
            code = exc.code or ""
            if code.endswith("MemoryPoolOutOfMemoryError"):  # a TransientError, but retrying will not help
                raise StoreError(
                    "the write is too big for Neo4j's transaction memory (dbms.memory.transaction.total.max,"
                    " 70% of the heap by default): give Neo4j a bigger heap (a whole-England load needs about"
                    f" 1.5 GB) or load less at once. Neo4j said: {exc.message}"
                ) from exc
            if isinstance(exc, TransientError) or code in _STOPPED:
                # Deadlocks, lock timeouts, a stopped transaction: still failing after the driver's retries.
                raise StoreUnavailable(f"Neo4j at {self.uri} is busy; try again shortly ({code})") from exc
            raise StoreError(f"Neo4j error: {exc.message or code}") from exc
        except DriverError as exc:
            raise StoreError(f"Neo4j driver error: {exc}") from exc
        except OverflowError as exc:  # the driver sends 64-bit integers only
            raise StoreError(f"a number is too large for Neo4j (64-bit integers only): {exc}") from exc

    def _session(self, driver: Driver, mode: str) -> Session:
        return driver.session(
            database=self.database,
            default_access_mode=mode,
            bookmark_manager=driver.execute_query_bookmark_manager,
        )

    def _read(self, query: str, **params: Any) -> list[Any]:
        driver = self._ready()
        with self._translate():
            records, _, _ = driver.execute_query(query, params, routing_=RoutingControl.READ, database_=self.database)
        return list(records)

    def _read_tx(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Several reads in one read transaction, so they see one state of the graph."""
        driver = self._ready()
        with self._translate(), self._session(driver, READ_ACCESS) as session:
            return session.execute_read(work)

    def _write_tx(self, work: Callable[[ManagedTransaction], T], *, keep_cache: bool = False) -> T:
        """One write transaction; ``keep_cache``: it changes no data a reader may see as final (a load's stage)."""
        driver = self._ready()
        began = False

        def attempt(tx: ManagedTransaction) -> T:
            nonlocal began
            began = True
            return work(tx)

        try:
            with self._translate(), self._session(driver, WRITE_ACCESS) as session:
                return session.execute_write(attempt)
        except StoreUnavailable as exc:
            # Once a transaction has begun, a lost connection (even on a retry, or after the
            # commit) cannot tell whether an earlier attempt committed: never say "not saved".
            if began and MAYBE_SAVED not in str(exc):
                raise StoreUnavailable(f"{exc}; the write may or may not be saved") from exc.__cause__
            raise
        finally:
            if not keep_cache:
                self._graph_cache = None
                # Checks of the version that began before this write ended may have missed it.
                self._checks.floor = time.monotonic()

    # -- writes ------------------------------------------------------------
    def apply(self, batch: WriteBatch, progress: WriteProgress | None = None) -> WriteResult:
        if len(batch) > self.stage_rows and not batch.delete_organisations:
            return self._apply_in_stages(batch, progress)
        self._recover()
        held = self._graph_cache
        wrote: dict[str, Any] = {}

        def work(tx: ManagedTransaction) -> WriteResult:
            result = self._apply(tx, batch, progress)
            if held is not None and held.index is not None and len(batch) <= PATCH_LIMIT:
                wrote["change"] = self._change(tx, batch)
                wrote["version"] = int(tx.run(cypher.GET_VERSION, id=cypher.GRAPH_VERSION_ID).single(strict=True)[0])
            return result

        result = self._write_tx(work)
        if "change" in wrote and held is not None:
            try:
                patched = held.patched(wrote["change"], wrote["version"])
            except Exception:  # never a stale graph: the next question reads it afresh
                log.exception("patching the whole graph after a write failed; it will be read afresh")
                patched = None
            if patched is not None:
                with self._graph_lock:
                    if self._graph_cache is None:
                        self._graph_cache = patched
            retire(held.graph)
        return result

    def _change(self, tx: ManagedTransaction, batch: WriteBatch) -> Change:
        """The rows ``batch`` wrote, as now stored (None for those deleted), read in its transaction."""
        org_ids = [org.id for org in batch.organisations] + batch.delete_organisations
        tie_ids = [tie.id for tie in batch.ties] + [tie_id for tie_id, _ in batch.end_ties] + batch.delete_ties
        orgs = {org_id: data for org_id, (_kind, data) in self._stored_organisations(tx, org_ids).items()}
        ties = {tie_id: found[3] for tie_id, found in self._stored_ties(tx, tie_ids).items()}
        return Change(
            {org_id: orgs.get(org_id) for org_id in org_ids}, {tie_id: ties.get(tie_id) for tie_id in tie_ids}
        )

    @staticmethod
    def _bump_version(tx: ManagedTransaction) -> int:
        return int(tx.run(cypher.BUMP_VERSION, id=cypher.GRAPH_VERSION_ID).single(strict=True)["version"])

    @staticmethod
    def _stored_organisations(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, tuple[NodeKind, str]]:
        found: dict[str, tuple[NodeKind, str]] = {}
        for part in _chunks(ids):
            for org_id, kind, data in _rows(tx, cypher.ORGANISATIONS_BY_ID, ids=list(part)):
                found[org_id] = (NodeKind(kind), data)
        return found

    @staticmethod
    def _stored_ties(tx: ManagedTransaction, ids: Sequence[str]) -> dict[str, tuple[EdgeKind, str, str, str]]:
        """Tie id -> (kind, source id, target id, JSON) of the stored ties among ``ids``.

        Ties made by :func:`~graph_service.models.make_tie` start their id with their kind,
        so each id is first sought under that kind alone; only ids not found there are
        sought under every kind.
        """
        found: dict[str, tuple[EdgeKind, str, str, str]] = {}
        hinted: dict[EdgeKind, list[str]] = defaultdict(list)
        for tie_id in ids:
            prefix = tie_id.partition(":")[0]
            if prefix in _EDGE_KIND_VALUES:
                hinted[EdgeKind(prefix)].append(tie_id)
        for kind, kind_ids in hinted.items():
            for part in _chunks(kind_ids):
                for tie_id, source_id, target_id, data in _rows(tx, _TIES_BY_ID[kind], ids=list(part)):
                    found[tie_id] = (kind, source_id, target_id, data)
        missing = [tie_id for tie_id in ids if tie_id not in found]
        if len(missing) > SCAN_THRESHOLD:
            for tie_id, kind_value, source_id, target_id, data in _rows(tx, cypher.TIES_BY_ID_SCAN, ids=missing):
                found[tie_id] = (EdgeKind(kind_value), source_id, target_id, data)
        elif missing:
            for kind, query in _TIES_BY_ID.items():
                for tie_id, source_id, target_id, data in _rows(tx, query, ids=missing):
                    found[tie_id] = (kind, source_id, target_id, data)
        return found

    def _apply(self, tx: ManagedTransaction, batch: WriteBatch, progress: WriteProgress | None) -> WriteResult:
        """The whole batch in one transaction (the version bump first makes writers take turns)."""
        version = self._bump_version(tx)
        lease = tx.run(cypher.LOAD_LEASE, id=cypher.GRAPH_VERSION_ID).single(strict=True)
        if lease["loading"] is not None:
            raise StoreUnavailable(_busy_loading(lease))
        plan = self._plan(tx, batch)
        written = 0

        def wrote(rows: int) -> None:
            nonlocal written
            written += rows
            if progress is not None:
                progress(written, plan.to_write)

        deleted = 0
        for step in plan.steps:
            deleted += _write_chunks(tx, step.query, step.name, step.items, wrote if step.counted else None)
        self._write_meta_and_audit(tx, batch, version)
        return replace(plan.result, deleted=deleted)

    @staticmethod
    def _write_meta_and_audit(tx: ManagedTransaction, batch: WriteBatch, version: int) -> None:
        meta_rows = [{"key": key, "value": value} for key, value in sorted(batch.meta.items())]
        _write_chunks(tx, cypher.SET_META, "rows", meta_rows)
        audit_rows = [{"n": n, "data": entry.model_dump_json()} for n, entry in enumerate(batch.audit)]
        _write_chunks(tx, cypher.ADD_AUDIT, "rows", audit_rows, version=version)

    def _plan(self, tx: ManagedTransaction, batch: WriteBatch) -> _Plan:
        """Read what the checks need, check everything, and list the writes with what each replaces."""
        created = updated = ties_created = ties_updated = ended = 0
        orgs = {org.id: org for org in batch.organisations}
        ties = {tie.id: tie for tie in batch.ties}
        ends = {tie.source_id for tie in ties.values()} | {tie.target_id for tie in ties.values()}
        stored = self._stored_organisations(tx, sorted(orgs.keys() | ends))

        # New organisations and ties (none stored: this transaction, or the load's lease, keeps it so) are
        # created, the rest merged; keyed by (kind, new).
        org_rows: dict[tuple[NodeKind, bool], list[Any]] = defaultdict(list)
        org_undo: dict[tuple[NodeKind, bool], list[list[Any]]] = defaultdict(list)
        for org in orgs.values():
            data = org.model_dump_json()
            before = stored.get(org.id)
            if before is None:
                created += 1
                org_rows[org.kind, True].append(_org_props(org, data))
                org_undo[org.kind, True].append(["delete_org", org.id])
            elif before[1] != data:
                updated += 1
                org_rows[org.kind, False].append({"id": org.id, "props": _org_props(org, data)})
                org_undo[org.kind, False].append(["put_org", before[0], before[1]])

        if ties:
            kinds = {org_id: kind for org_id, (kind, _) in stored.items()}
            kinds.update({org_id: org.kind for org_id, org in orgs.items()})
            for tie in ties.values():
                for end in (tie.source_id, tie.target_id):
                    if end not in kinds:
                        raise IntegrityError(f"tie {tie.id}: unknown organisation {end!r}")
                reason = check_endpoints(tie, kinds[tie.source_id], kinds[tie.target_id])
                if reason:
                    raise IntegrityError(f"tie {tie.id}: {reason}")

        wanted = ties.keys() | {tie_id for tie_id, _ in batch.end_ties} | set(batch.delete_ties)
        stored_ties = self._stored_ties(tx, sorted(wanted))

        def put_back(tie_id: str) -> list[Any]:
            kind, source, target, data = stored_ties[tie_id]
            return ["put_tie", kind, source, target, data]

        tie_rows: dict[tuple[EdgeKind, bool], list[Any]] = defaultdict(list)
        tie_undo: dict[tuple[EdgeKind, bool], list[list[Any]]] = defaultdict(list)
        moved: dict[EdgeKind, list[str]] = defaultdict(list)
        for tie in ties.values():
            data = tie.model_dump_json()
            before_tie = stored_ties.get(tie.id)
            if before_tie is None:
                ties_created += 1
                tie_rows[tie.kind, True].append([tie.source_id, tie.target_id, _tie_props(tie, data)])
                tie_undo[tie.kind, True].append(["delete_tie", tie.kind, tie.id])
                continue
            if before_tie[3] == data:
                continue
            ties_updated += 1
            old_kind, old_source, old_target, _ = before_tie
            if (old_kind, old_source, old_target) != (tie.kind, tie.source_id, tie.target_id):
                # A relationship cannot change its type or ends: replace it.
                moved[old_kind].append(tie.id)
                tie_undo[tie.kind, False].append(["delete_tie", tie.kind, tie.id])
            else:
                tie_undo[tie.kind, False].append(put_back(tie.id))
            tie_rows[tie.kind, False].append(
                {"id": tie.id, "source_id": tie.source_id, "target_id": tie.target_id, "props": _tie_props(tie, data)}
            )

        end_rows: dict[EdgeKind, list[dict[str, Any]]] = defaultdict(list)
        end_undo: dict[EdgeKind, list[list[Any]]] = defaultdict(list)
        if batch.end_ties:
            current = {tie_id: Tie.model_validate_json(row[3]) for tie_id, row in stored_ties.items()}
            current.update(ties)
            for tie_id, until in batch.end_ties:
                if tie_id not in current:
                    raise IntegrityError(f"cannot end unknown tie {tie_id!r}")
                tie = current[tie_id]
                if tie.until == until:
                    continue
                ended_tie = tie.model_copy(update={"until": until})
                Tie.model_validate(ended_tie.model_dump())  # until must not precede since
                end_rows[tie.kind].append({"id": tie_id, "until": until, "data": ended_tie.model_dump_json()})
                # A tie new in this batch is undone by deleting it; one stored before is put back as it was.
                end_undo[tie.kind].append(put_back(tie_id) if tie_id in stored_ties else ["nothing"])
                ended += 1

        # Writes, in the embedded store's order.
        steps = [
            _Step(_WRITE_ORGANISATIONS[key], "rows", rows, org_undo[key], counted=True)
            for key, rows in org_rows.items()
        ]
        steps += [
            _Step(_DELETE_TIES[kind], "ids", ids, [put_back(tie_id) for tie_id in ids]) for kind, ids in moved.items()
        ]
        steps += [_Step(_WRITE_TIES[key], "rows", rows, tie_undo[key], counted=True) for key, rows in tie_rows.items()]
        steps += [_Step(_END_TIES[kind], "rows", rows, end_undo[kind]) for kind, rows in end_rows.items()]
        if batch.delete_ties:
            doomed = sorted(set(batch.delete_ties))
            for edge_kind in EdgeKind:
                undo = [
                    put_back(tie_id) if tie_id in stored_ties and stored_ties[tie_id][0] is edge_kind else ["nothing"]
                    for tie_id in doomed
                ]
                steps.append(_Step(_DELETE_TIES[edge_kind], "ids", doomed, undo))
        if batch.delete_organisations:
            doomed = sorted(set(batch.delete_organisations))
            # Only the single-transaction path deletes organisations (nothing records their ties to undo it).
            steps.append(_Step(cypher.DELETE_ORGANISATIONS, "ids", doomed, [["nothing"]] * len(doomed)))
        to_write = sum(map(len, org_rows.values())) + sum(map(len, tie_rows.values()))
        return _Plan(steps, WriteResult(created, updated, ties_created, ties_updated, ended, 0), to_write)

    # -- staged loads ------------------------------------------------------
    def _apply_in_stages(self, batch: WriteBatch, progress: WriteProgress | None) -> WriteResult:
        """A big batch in transactions of at most ``stage_rows`` rows, all or nothing all the same.

        The load first takes a lease on the version node (other writers answer busy meanwhile).
        Each stage writes its rows with an undo record of what they replaced, in one transaction;
        the last transaction writes the meta data and audit entry, bumps the version and ends
        the lease, which is when the load counts as done. A load that fails is undone at once;
        one whose process died is undone by the next write, or the next start of a store, once
        its lease is abandoned (its process gone, or not renewed for ``LEASE_TIMEOUT`` s).
        Readers may see a load's stages as they are written, as they would a series of writes;
        answers from memory keep the graph from before the load until it ends.
        """
        self._recover()
        load = uuid.uuid4().hex
        owner = _owner()

        def take(tx: ManagedTransaction) -> None:
            lease = tx.run(cypher.LOCK_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID).single(strict=True)
            if lease["loading"] is not None:
                raise StoreUnavailable(_busy_loading(lease))
            tx.run(cypher.SET_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, load=load, owner=owner, now=time.time()).consume()

        self._write_tx(take, keep_cache=True)
        _running_loads.add(load)
        try:
            plan = self._read_tx(lambda tx: self._plan(tx, batch))
            written = deleted = 0
            seq = 0
            for step in plan.steps:
                for start in range(0, len(step.items), self.stage_rows):
                    seq += 1
                    work = functools.partial(self._stage, load=load, seq=seq, step=step, start=start)
                    deleted += self._write_tx(work, keep_cache=True)
                    if step.counted:
                        written += len(step.items[start : start + self.stage_rows])
                        if progress is not None:
                            progress(written, plan.to_write)

            def finish(tx: ManagedTransaction) -> None:
                version = self._renew(tx, load) + 1
                self._write_meta_and_audit(tx, batch, version)
                tx.run(cypher.END_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, load=load).consume()

            self._write_tx(finish)
        except BaseException as exc:
            try:
                self._roll_back(load)
            except Exception as undo_failed:  # Neo4j away: the next write or start undoes it
                raise StoreUnavailable(
                    f"the load was interrupted ({exc}) and could not be undone yet ({undo_failed}); its partial"
                    " writes will be undone by the next write or start of the service"
                ) from exc
            raise
        finally:
            _running_loads.discard(load)
        self._forget_undo(load)
        return replace(plan.result, deleted=deleted)

    def _stage(self, tx: ManagedTransaction, *, load: str, seq: int, step: _Step, start: int) -> int:
        """One stage of a load: its rows and the record of what they replace, in one transaction."""
        end = start + self.stage_rows
        self._renew(tx, load)
        tx.run(cypher.ADD_LOAD_UNDO, load=load, seq=seq, ops=json.dumps(step.undo[start:end])).consume()
        return _write_chunks(tx, step.query, step.name, step.items[start:end])

    def _renew(self, tx: ManagedTransaction, load: str) -> int:
        """Renew this load's lease (taking the version node's lock); the version, or an error if it was taken."""
        record = tx.run(cypher.RENEW_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, load=load, now=time.time()).single()
        if record is None:
            raise StoreError(f"load {load} lost its lease (another process took it as abandoned and undid it)")
        return int(record["version"])

    def _recover(self) -> None:
        """Undo an abandoned staged load; remove what a finished one left. Busy while one is written."""
        record = self._read(cypher.LOAD_LEASE, id=cypher.GRAPH_VERSION_ID)
        lease = record[0] if record else None
        if lease is None or lease["loading"] is None:
            if self._read(cypher.ANY_LOAD_UNDO):
                self._forget_undo(None)
            return
        if not _abandoned(lease["loading"], lease["owner"], lease["heartbeat"]):
            raise StoreUnavailable(_busy_loading(lease))
        log.warning("undoing load %s, abandoned by %s", lease["loading"], lease["owner"])
        self._roll_back(lease["loading"])

    def _roll_back(self, load: str) -> None:
        """Undo a staged load, stage by stage from the last (each undone stage's record goes with it)."""
        owner = _owner()

        def take_over(tx: ManagedTransaction) -> list[int]:
            lease = tx.run(cypher.LOCK_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID).single(strict=True)
            if lease["loading"] != load:
                return []
            tx.run(cypher.SET_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, load=load, owner=owner, now=time.time()).consume()
            return sorted((record["seq"] for record in tx.run(cypher.LOAD_UNDO_STAGES, load=load)), reverse=True)

        stages = self._write_tx(take_over, keep_cache=True)
        for n in stages:

            def undo(tx: ManagedTransaction, n: int = n) -> None:
                self._renew(tx, load)
                ops = json.loads(tx.run(cypher.TAKE_LOAD_UNDO, load=load, seq=n).single(strict=True)["ops"])
                _undo(tx, ops)

            self._write_tx(undo, keep_cache=True)
        self._write_tx(lambda tx: tx.run(cypher.END_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID, load=load).consume())

    def _forget_undo(self, load: str | None) -> None:
        """Delete the undo records of a finished load (every load's but a running one's when None)."""
        while True:

            def work(tx: ManagedTransaction) -> int:
                record = tx.run(cypher.FORGET_LOAD_UNDO, id=cypher.GRAPH_VERSION_ID, load=load).single(strict=True)
                return int(record["deleted"])

            if not self._write_tx(work, keep_cache=True):
                return

    def clear(self) -> None:
        def work(tx: ManagedTransaction) -> None:
            self._bump_version(tx)
            tx.run(cypher.CLEAR_ORGANISATIONS).consume()
            tx.run(cypher.CLEAR_META).consume()
            tx.run(cypher.CLEAR_AUDIT).consume()
            tx.run(cypher.CLEAR_LOAD_UNDO).consume()
            tx.run(cypher.END_ANY_LOAD_LEASE, id=cypher.GRAPH_VERSION_ID).consume()

        self._write_tx(work)

    # -- reads -------------------------------------------------------------
    def _held(self) -> _Memory | None:
        """The cached whole graph when it is held and current (one shared version check), else None.

        A lookup never builds it: right after a write (which drops it) the next API write would
        otherwise wait for the whole graph to read its one organisation; the next question rebuilds it.
        """
        cached = self._graph_cache
        if not self.questions_in_memory or cached is None:
            return None
        return cached if self._current(cached, *self._version_state()) else None

    def get_organisation(self, org_id: str) -> Organisation | None:
        held = self._held()
        if held is not None:
            data = held.organisations.get(org_id)
        else:
            records = self._read(cypher.ORGANISATION_BY_ID, id=org_id)
            data = records[0]["data"] if records else None
        # Written by apply from validated models (models.STORED).
        return None if data is None else Organisation.model_validate_json(data, context=STORED)

    def get_organisations(self, ids: Sequence[str]) -> list[Organisation]:
        def work(tx: ManagedTransaction) -> dict[str, str]:
            return {org_id: data for org_id, (_, data) in self._stored_organisations(tx, list(ids)).items()}

        # Written by apply from validated models: their character scans are not repeated (models.STORED).
        stored = self._read_tx(work)
        found = {org_id: Organisation.model_validate_json(data, context=STORED) for org_id, data in stored.items()}
        return [found[i] for i in ids if i in found]

    def list_organisations(
        self, flt: OrganisationFilter, offset: int = 0, limit: int = 50
    ) -> tuple[list[Organisation], int]:
        params = _filter_params(flt)
        where = cypher.organisation_where(params)

        def work(tx: ManagedTransaction) -> tuple[list[str], int]:
            total = tx.run(cypher.count_organisations(where), params).single(strict=True)["total"]
            page = tx.run(cypher.page_organisations(where), {**params, "offset": offset, "limit": limit})
            return page.single(strict=True)["data"], int(total)

        page, total = self._read_tx(work)
        return [Organisation.model_validate_json(data) for data in page], total

    def get_tie(self, tie_id: str) -> Tie | None:
        records = self._read(_TIE_BY_ID, id=tie_id)
        return Tie.model_validate_json(records[0]["data"]) if records else None

    @staticmethod
    def _ties(data: Sequence[str]) -> list[Tie]:
        # Written by apply from validated models (models.STORED).
        return sorted((Tie.model_validate_json(item, context=STORED) for item in data), key=lambda tie: tie.id)

    def ties_of(self, org_id: str, as_at: date | None = None, kinds: Sequence[EdgeKind] = ()) -> list[Tie]:
        whole = self._held()
        if whole is not None:
            wanted = {kind.value for kind in kinds}
            return self._ties(
                [
                    whole.ties[tie_id]
                    for tie_id, _other, attrs in self._ties_at(whole.graph, org_id, as_at)
                    if not wanted or attrs["kind"] in wanted
                ]
            )
        return self._ties([record["data"] for record in self._read(cypher.ties_of(kinds), id=org_id, day=as_at)])

    @staticmethod
    def _ties_at(graph: nx.MultiDiGraph, org_id: str, day: date | None) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Id, other end and attributes of each tie of ``org_id`` holding on ``day`` (any day when None)."""
        if org_id not in graph:
            return
        for edges in (graph.out_edges(org_id, keys=True, data=True), graph.in_edges(org_id, keys=True, data=True)):
            for source, target, tie_id, attrs in edges:
                if _holds(attrs, day):
                    yield tie_id, (target if source == org_id else source), attrs

    def all_ties(self, kinds: Sequence[EdgeKind] = ()) -> list[Tie]:
        return self._ties(self._read(cypher.all_ties(kinds))[0]["data"])

    @staticmethod
    def _expand(tx: ManagedTransaction, ids: Iterable[str], rings: Sequence[tuple[str, dict[str, Any]]]) -> set[str]:
        """``ids`` and a ring of neighbours per ``(query, params)``, one query per ring and chunk
        (cost grows with the rings, not with paths); each query reads ``$ids`` and returns ``ids``."""
        seen = set(ids)
        frontier = set(seen)
        for query, params in rings:
            frontier = _ids_from(tx, query, frontier, **params) - seen
            if not frontier:
                break
            seen |= frontier
        return seen

    def _subgraph_of(self, tx: ManagedTransaction, ids: set[str], as_at: date | None) -> Subgraph:
        ordered = sorted(ids)
        stored = self._stored_organisations(tx, ordered)
        orgs = [Organisation.model_validate_json(stored[i][1]) for i in ordered if i in stored]
        ties = self._ties(tx.run(cypher.TIES_AMONG, ids=ordered, day=as_at).single(strict=True)["data"])
        return Subgraph(orgs, ties)

    def neighbours(self, org_id: str, hops: int = 1, as_at: date | None = None) -> Subgraph:
        held = self._held()
        if held is not None:
            return self._neighbours_in_memory(held, org_id, hops, as_at)

        def work(tx: ManagedTransaction) -> Subgraph:
            if tx.run(cypher.ORGANISATION_BY_ID, id=org_id).single() is None:
                return Subgraph([], [])
            return self._subgraph_of(tx, self._expand(tx, {org_id}, _rings(hops, as_at)), as_at)

        return self._read_tx(work)

    def _neighbours_in_memory(self, whole: _Memory, org_id: str, hops: int, as_at: date | None) -> Subgraph:
        """:meth:`neighbours` on the cached graph: rings through ties holding on ``as_at``, as Cypher's."""
        graph = whole.graph
        if org_id not in whole.organisations:
            return Subgraph([], [])
        seen, frontier = {org_id}, {org_id}
        for _ in range(hops):
            frontier = {other for member in frontier for _, other, _ in self._ties_at(graph, member, as_at)} - seen
            if not frontier:
                break
            seen |= frontier
        ordered = sorted(seen)
        orgs = [Organisation.model_validate_json(whole.organisations[i], context=STORED) for i in ordered]
        among = [
            whole.ties[tie_id]
            for source, target, tie_id, attrs in graph.out_edges(ordered, keys=True, data=True)
            if target in seen and _holds(attrs, as_at)
        ]
        return Subgraph(orgs, self._ties(among))

    def subgraph(self, flt: OrganisationFilter, as_at: date | None = None, hops: int = 0) -> Subgraph:
        params = _filter_params(flt)
        query = cypher.organisation_ids(cypher.organisation_where(params))

        def work(tx: ManagedTransaction) -> Subgraph:
            ids = set(tx.run(query, params).single(strict=True)["ids"])
            return self._subgraph_of(tx, self._expand(tx, ids, _rings(hops, as_at)), as_at)

        return self._read_tx(work)

    def counts(self) -> dict[str, int]:
        row = self._read(_COUNTS)[0]
        result = {kind.value: int(row[f"n_{kind.value}"]) for kind in NodeKind}
        result.update({f"tie:{kind.value}": int(row[f"t_{kind.value}"]) for kind in EdgeKind})
        return {key: number for key, number in result.items() if number}

    def get_meta(self) -> dict[str, str]:
        return {record["key"]: record["value"] for record in self._read(cypher.GET_META)}

    def list_audit(self, offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
        def work(tx: ManagedTransaction) -> tuple[list[str], int]:
            total = tx.run(cypher.COUNT_AUDIT).single(strict=True)["total"]
            page = tx.run(cypher.PAGE_AUDIT, offset=offset, limit=limit).single(strict=True)["data"]
            return page, int(total)

        page, total = self._read_tx(work)
        return [AuditEntry.model_validate_json(data) for data in page], total

    def _graph_of(self, tx: ManagedTransaction, ids: set[str]) -> nx.MultiDiGraph:
        """The organisations ``ids`` and every tie among them (any day: the analytics judge dates)."""
        ordered = sorted(ids)
        stored = self._stored_organisations(tx, ordered)
        ties = tx.run(cypher.TIES_AMONG, ids=ordered, day=None).single(strict=True)["data"]
        # Straight from the stored JSON: validating a model per organisation was most of an answer's time.
        return build_graph_from_stored((stored[i][1] for i in ordered if i in stored), ties)

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
        if self.questions_in_memory:
            return IsolationScope(self.graph())
        area = _area_params(flt)
        params = {
            **area,
            "statuses": list(flt.statuses),
            "as_at": as_at,
            "current": _CURRENT_STATUSES,
            "day": as_at or date.today(),
            "max_ties": max_ties,
            "every": every,
        }

        open_test = cypher.open_on(flt.statuses, as_at)
        day = params["day"]

        def network(tx: ManagedTransaction, listed: list[str]) -> nx.MultiDiGraph:
            """The listed schools, their ties and partners through a group (for reasons and nearest partners)."""
            ids = self._expand(tx, listed, _collaboration_rings(day, (False, True)))
            ids |= _ids_from(tx, cypher.MAINTAINERS, listed, day=day)
            return self._graph_of(tx, ids)

        def work(tx: ManagedTransaction) -> tuple[list[str], int | None, int | None, nx.MultiDiGraph | None]:
            # On a past day the order comes from each school's inspection in force then, which the
            # analytics read from its history (analytics.standing); Cypher knows only the latest rating.
            if every or as_at is not None:
                listed = tx.run(cypher.isolation_candidates(area, open_test), params).single(strict=True)["ids"]
                total = None
            else:
                # The tie count decides alone: Neo4j counts, sorts and pages, and only the page is fetched.
                end = None if limit is None else offset + limit
                record = tx.run(
                    cypher.isolated_page(area, open_test),
                    params,
                    risk=RISK_POINTS,
                    unrated=UNRATED_RISK,
                    offset=offset,
                    end=end,
                ).single(strict=True)
                listed, total = record["page"], record["total"]
            if len(listed) > self.whole_graph_above:
                version = tx.run(cypher.GET_VERSION, id=cypher.GRAPH_VERSION_ID).single(strict=True)["version"]
                return listed, total, version, None
            return listed, total, None, network(tx, listed)

        listed, total, version, graph = self._read_tx(work)
        if graph is None:
            # Thousands of schools' networks cost more through the driver than the whole graph,
            # which is kept until the next write; used when it holds the data the listing saw.
            whole = self._cached_graph()
            graph = whole.graph if whole.version == version else self._read_tx(lambda tx: network(tx, listed))
        return IsolationScope(graph, frozenset(listed), total)

    def support_graph(self, urn: str, as_at: date | None, radius_km: float) -> nx.MultiDiGraph:
        # Support ranks trusts by their schools up to 40 km around and their sizes across England:
        # the cached whole graph (checked against the version counter) answers that identically to
        # the embedded store, with one date-free index for every date.
        return self.graph()

    def graph(self) -> nx.MultiDiGraph:
        return self._cached_graph().graph

    def version(self) -> int | None:
        """The version counter every write bumps (None before the first write)."""
        return self._read_version_state()[0]

    def _read_version_state(self) -> VersionState:
        """The version, and the staged load under way (None when none is), read now."""
        driver = self._ready()
        try:
            # An auto-commit read costs a third less CPU than execute_query's managed transaction,
            # and every request that does not share a check makes one.
            with self._translate(), self._session(driver, READ_ACCESS) as session:
                record = session.run(cypher.GET_VERSION_STATE, id=cypher.GRAPH_VERSION_ID).single(strict=True)
        except StoreUnavailable:
            # It is not retried: a dead pooled connection (a restarted server) gets the managed read's retries.
            record = self._read(cypher.GET_VERSION_STATE, id=cypher.GRAPH_VERSION_ID)[0]
        return (None if record["version"] is None else int(record["version"])), record["loading"]

    def _version_state(self) -> VersionState:
        """The version state as a check begun since the request arrived (or since this call) found it."""
        arrived = asked_at.get()
        return self._checks.state(time.monotonic() if arrived is None else arrived)

    @staticmethod
    def _current(cached: _Memory | None, version: int | None, loading: str | None) -> bool:
        """Whether a cached graph holds the data now: the same version, and the same load under way, or
        none under way when it was read (a load's stages do not count until it ends, with a new version).
        """
        return (
            cached is not None and cached.version == version and (cached.loading == loading or cached.loading is None)
        )

    def _cached_graph(self) -> _Memory:
        """The whole graph (and the JSON by id), rebuilt when the version counter moved.

        Every apply() bumps the counter, so writes by other processes are seen by the next request.
        The check is one short read outside the lock (shared by concurrent requests), so that
        requests do not queue behind it.
        """
        version, loading = self._version_state()
        cached = self._graph_cache
        if cached is not None and self._current(cached, version, loading):
            return cached
        with self._graph_lock:
            cached = self._graph_cache
            if cached is not None and self._current(cached, version, loading):
                return cached
            self._graph_cache = cached = None

            def work(tx: ManagedTransaction) -> tuple[Any, list[Any], list[Any]]:
                # The version in the same transaction as the data, so the pair is exact.
                state = tx.run(cypher.GET_VERSION_STATE, id=cypher.GRAPH_VERSION_ID).single(strict=True)
                orgs = tx.run(cypher.ALL_ORGANISATIONS_BY_ID).single(strict=True)["rows"]
                ties = tx.run(cypher.ALL_TIES_BY_ID).single(strict=True)["rows"]
                return state, orgs, ties

            began = time.monotonic()
            state, orgs, ties = self._read_tx(work)
            held = None if state["version"] is None else int(state["version"])
            self._checks.offer(began, (held, state["loading"]))
            org_json, tie_json = dict(orgs), dict(ties)
            graph = memory.rebuild_long_lived(lambda: build_graph_from_stored(org_json.values(), tie_json.values()))
            index = GraphIndex.of(graph, held or 0)
            if self.questions_in_memory:  # the JSON by id answers lookups too
                cached = _Memory(graph, held, state["loading"], org_json, tie_json, index)
            else:
                cached = _Memory(graph, held, state["loading"], index=index)
            self._graph_cache = cached
            return cached
