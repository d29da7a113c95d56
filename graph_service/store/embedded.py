"""The embedded default store: a graph in one SQLite file, no server needed.

SQLite gives the durability the service needs: every :meth:`EmbeddedStore.apply`
is one transaction in WAL mode with full sync, so a crash mid-load leaves the
file as it was before the load.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx

from graph_service import memory
from graph_service.analytics.network import SchoolFilter
from graph_service.graphview import build_graph_from_stored
from graph_service.index import PATCH_LIMIT, Change, GraphIndex, retire
from graph_service.models import (
    STORED,
    AuditEntry,
    EdgeKind,
    NodeKind,
    Organisation,
    Tie,
    check_endpoints,
)
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
)

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    status TEXT,
    phase TEXT,
    subtype TEXT,
    la_code INTEGER,
    local_authority TEXT,
    district TEXT,
    constituency TEXT,
    rating TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS organisations_kind ON organisations(kind);
CREATE INDEX IF NOT EXISTS organisations_la ON organisations(la_code);
CREATE INDEX IF NOT EXISTS organisations_la_name ON organisations(local_authority);
CREATE INDEX IF NOT EXISTS organisations_phase ON organisations(phase);
CREATE INDEX IF NOT EXISTS organisations_rating ON organisations(rating);
CREATE INDEX IF NOT EXISTS organisations_status ON organisations(status);
CREATE TABLE IF NOT EXISTS ties (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES organisations(id),
    target_id TEXT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    since TEXT,
    until TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ties_source ON ties(source_id);
CREATE INDEX IF NOT EXISTS ties_target ON ties(target_id);
CREATE INDEX IF NOT EXISTS ties_kind ON ties(kind);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
"""

_ORG_COLUMNS = "id, data"
_TIE_COLUMNS = "id, data"
#: SQLite's default limit on bound parameters is 999 in old builds; stay under it.
_CHUNK = 900


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _org_from_row(row: sqlite3.Row | tuple[str, str]) -> Organisation:
    # Written by apply from a validated model: its character scans are not repeated (models.STORED).
    return Organisation.model_validate_json(row[1], context=STORED)


def _tie_from_row(row: sqlite3.Row | tuple[str, str]) -> Tie:
    return Tie.model_validate_json(row[1], context=STORED)  # as _org_from_row


def _as_at_sql(as_at: date | None, alias: str = "") -> tuple[str, list[str]]:
    if as_at is None:
        return "", []
    day = as_at.isoformat()
    return (
        f" AND ({alias}since IS NULL OR {alias}since <= ?) AND ({alias}until IS NULL OR {alias}until >= ?)",
        [day, day],
    )


#: sqlite3 error names (Python 3.11+) that mean another connection holds the lock.
_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """sqlite3's exceptions become store errors, so callers (and the API) see one vocabulary."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(f"the embedded store refused the write: {exc}") from exc
    except sqlite3.OperationalError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(_BUSY) or "locked" in str(exc):
            # Still locked after the busy timeout: typically a CLI load is writing.
            raise StoreUnavailable(
                f"the embedded store at {path} is busy (another process, such as a load, is writing); try again shortly"
            ) from exc
        raise StoreError(f"the embedded store at {path} failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"the embedded store at {path} failed: {exc}") from exc
    except OverflowError as exc:
        raise StoreError(f"a number is too large for the embedded store (64-bit integers only): {exc}") from exc


def _no_progress(done: int, total: int) -> None:
    return None


class EmbeddedStore:
    """A :class:`~graph_service.store.base.GraphStore` in one SQLite file."""

    backend = "embedded"

    def __init__(self, path: str | Path, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        #: Seconds a write waits for another connection's lock before StoreUnavailable.
        self.busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        #: The whole graph's current version (graph_service.index), and SQLite's data_version it was
        #: read at: a commit by another connection (a CLI load, another worker) changes the latter.
        self._index: GraphIndex | None = None
        self._graph_version: int | None = None
        #: One rebuild at a time, outside ``_lock``: /health and lookups do not wait for it.
        self._build_lock = threading.Lock()
        #: Writes patch the graph one at a time, in the order they committed.
        self._patch_lock = threading.Lock()
        #: Writes by this store object: a graph read before one is not installed after it.
        self._writes = 0

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> None:
        with self._lock:
            if self._conn is not None:
                return
            if str(self.path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(
                    str(self.path), check_same_thread=False, isolation_level=None, timeout=self.busy_timeout
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.executescript(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise StoreUnavailable(f"cannot open the embedded store at {self.path}: {exc}") from exc
            self._conn = conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def ping(self) -> None:
        with self._lock, _translated(self.path):
            self._db().execute("SELECT 1").fetchone()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable("the embedded store is not open")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._db()
        with _translated(self.path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # a failed COMMIT must not leave the transaction open
                    conn.execute("ROLLBACK")
                raise

    # -- writes ------------------------------------------------------------
    def apply(self, batch: WriteBatch, progress: WriteProgress | None = None) -> WriteResult:
        with self._lock:
            held = self._index
            change = None
            with self._transaction() as conn:
                result = self._apply(conn, batch, progress or _no_progress)
                if held is not None and len(batch) <= PATCH_LIMIT:
                    change = self._change(conn, batch)
            self._writes += 1
            if change is None:
                self._index = None  # a big load: read afresh by the next question
                return result
            # Taken before the store's lock is let go, so that writes patch in the order they committed,
            # while /health and lookups go on.
            self._patch_lock.acquire()
        try:
            # The next version patched from the one held; until it is in place readers answer from
            # the previous one (this write has not answered yet).
            try:
                patched = held.patched(change) if held is not None else None
            except Exception:  # never a stale graph: the next question reads it afresh
                log.exception("patching the whole graph after a write failed; it will be read afresh")
                patched = None
            with self._lock:
                if self._index is held:
                    self._index = patched
        finally:
            self._patch_lock.release()
        if held is not None:
            retire(held.graph)
        return result

    def _change(self, conn: sqlite3.Connection, batch: WriteBatch) -> Change:
        """The rows ``batch`` wrote, as now stored (None for those deleted), read in its transaction."""
        org_ids = [org.id for org in batch.organisations] + batch.delete_organisations
        tie_ids = [tie.id for tie in batch.ties] + [tie_id for tie_id, _ in batch.end_ties] + batch.delete_ties
        orgs = self._existing(conn, "organisations", org_ids)
        ties = self._existing(conn, "ties", tie_ids)
        return Change(
            {org_id: orgs.get(org_id) for org_id in org_ids}, {tie_id: ties.get(tie_id) for tie_id in tie_ids}
        )

    def _existing(self, conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for part in _chunks(list(ids)):
            marks = ",".join("?" * len(part))
            for row in conn.execute(f"SELECT id, data FROM {table} WHERE id IN ({marks})", part):
                found[row[0]] = row[1]
        return found

    def _kinds(self, conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, NodeKind]:
        kinds: dict[str, NodeKind] = {}
        id_list = list(ids)
        for part in _chunks(id_list):
            marks = ",".join("?" * len(part))
            for row in conn.execute(f"SELECT id, kind FROM organisations WHERE id IN ({marks})", part):
                kinds[row[0]] = NodeKind(row[1])
        return kinds

    def _apply(self, conn: sqlite3.Connection, batch: WriteBatch, progress: WriteProgress) -> WriteResult:
        created = updated = ties_created = ties_updated = ended = deleted = 0

        orgs = {org.id: org for org in batch.organisations}
        existing = self._existing(conn, "organisations", list(orgs))
        org_rows = []
        for org in orgs.values():
            data = org.model_dump_json()
            if existing.get(org.id) == data:
                continue
            if org.id in existing:
                updated += 1
            else:
                created += 1
            org_rows.append(
                (
                    org.id,
                    org.kind.value,
                    org.name,
                    org.name.lower(),
                    org.status.value,
                    org.phase.value if org.phase else None,
                    org.subtype,
                    org.la_code,
                    org.local_authority,
                    org.district,
                    org.constituency,
                    org.ofsted_rating.value if org.ofsted_rating else None,
                    data,
                )
            )
        conn.executemany(
            "INSERT INTO organisations (id, kind, name, name_lc, status, phase, subtype, la_code,"
            " local_authority, district, constituency, rating, data)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, name=excluded.name,"
            " name_lc=excluded.name_lc, status=excluded.status, phase=excluded.phase,"
            " subtype=excluded.subtype, la_code=excluded.la_code,"
            " local_authority=excluded.local_authority, district=excluded.district,"
            " constituency=excluded.constituency, rating=excluded.rating, data=excluded.data",
            org_rows,
        )
        progress(len(batch.organisations), len(batch.organisations) + len(batch.ties))

        ties = {tie.id: tie for tie in batch.ties}
        if ties:
            ends = {tie.source_id for tie in ties.values()} | {tie.target_id for tie in ties.values()}
            kinds = {org_id: org.kind for org_id, org in orgs.items()}
            kinds.update(self._kinds(conn, ends - kinds.keys()))
            for tie in ties.values():
                for end in (tie.source_id, tie.target_id):
                    if end not in kinds:
                        raise IntegrityError(f"tie {tie.id}: unknown organisation {end!r}")
                reason = check_endpoints(tie, kinds[tie.source_id], kinds[tie.target_id])
                if reason:
                    raise IntegrityError(f"tie {tie.id}: {reason}")
        existing_ties = self._existing(conn, "ties", list(ties))
        tie_rows = []
        for tie in ties.values():
            data = tie.model_dump_json()
            if existing_ties.get(tie.id) == data:
                continue
            if tie.id in existing_ties:
                ties_updated += 1
            else:
                ties_created += 1
            tie_rows.append(
                (
                    tie.id,
                    tie.source_id,
                    tie.target_id,
                    tie.kind.value,
                    tie.since.isoformat() if tie.since else None,
                    tie.until.isoformat() if tie.until else None,
                    data,
                )
            )
        conn.executemany(
            "INSERT INTO ties (id, source_id, target_id, kind, since, until, data)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET source_id=excluded.source_id,"
            " target_id=excluded.target_id, kind=excluded.kind, since=excluded.since,"
            " until=excluded.until, data=excluded.data",
            tie_rows,
        )
        progress(len(batch.organisations) + len(batch.ties), len(batch.organisations) + len(batch.ties))

        if batch.end_ties:
            current = self._existing(conn, "ties", [tie_id for tie_id, _ in batch.end_ties])
            for tie_id, until in batch.end_ties:
                if tie_id not in current:
                    raise IntegrityError(f"cannot end unknown tie {tie_id!r}")
                tie = Tie.model_validate_json(current[tie_id])
                if tie.until == until:
                    continue
                ended_tie = tie.model_copy(update={"until": until})
                Tie.model_validate(ended_tie.model_dump())  # until must not precede since
                conn.execute(
                    "UPDATE ties SET until = ?, data = ? WHERE id = ?",
                    (until.isoformat(), ended_tie.model_dump_json(), tie_id),
                )
                ended += 1

        for part in _chunks(batch.delete_ties):
            marks = ",".join("?" * len(part))
            deleted += conn.execute(f"DELETE FROM ties WHERE id IN ({marks})", part).rowcount
        for part in _chunks(batch.delete_organisations):
            marks = ",".join("?" * len(part))
            conn.execute(
                f"DELETE FROM ties WHERE source_id IN ({marks}) OR target_id IN ({marks})",
                [*part, *part],
            )
            deleted += conn.execute(f"DELETE FROM organisations WHERE id IN ({marks})", part).rowcount

        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            sorted(batch.meta.items()),
        )
        conn.executemany("INSERT INTO audit (data) VALUES (?)", [(e.model_dump_json(),) for e in batch.audit])
        return WriteResult(created, updated, ties_created, ties_updated, ended, deleted)

    def clear(self) -> None:
        with self._lock, self._transaction() as conn:
            conn.execute("DELETE FROM ties")
            conn.execute("DELETE FROM organisations")
            conn.execute("DELETE FROM meta")
            conn.execute("DELETE FROM audit")
            self._index = None
            self._writes += 1

    # -- reads -------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, _translated(self.path):
            return self._db().execute(sql, params).fetchall()

    def get_organisation(self, org_id: str) -> Organisation | None:
        rows = self._query(f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id = ?", (org_id,))
        return _org_from_row(rows[0]) if rows else None

    def get_organisations(self, ids: Sequence[str]) -> list[Organisation]:
        found: dict[str, Organisation] = {}
        for part in _chunks(list(ids)):
            marks = ",".join("?" * len(part))
            for row in self._query(f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id IN ({marks})", part):
                found[row[0]] = _org_from_row(row)
        return [found[i] for i in ids if i in found]

    @staticmethod
    def _where(flt: OrganisationFilter) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Sequence[Any]) -> None:
            if values:
                clauses.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(values)

        any_of("kind", [kind.value for kind in flt.kinds])
        any_of("phase", [phase.value for phase in flt.phases])
        any_of("subtype", list(flt.subtypes))
        any_of("status", [status.value for status in flt.statuses])
        any_of("rating", [rating.value for rating in flt.ratings])
        if flt.ids is not None:
            if not flt.ids:
                clauses.append("0")
            any_of("id", list(flt.ids))
        for column, value in (
            ("la_code", flt.la_code),
            ("local_authority", flt.local_authority),
            ("district", flt.district),
            ("constituency", flt.constituency),
        ):
            if value is not None:
                clauses.append(f"{column} = ?" if column == "la_code" else f"lower({column}) = lower(?)")
                params.append(value)
        if flt.name_contains:
            clauses.append("instr(name_lc, ?) > 0")
            params.append(flt.name_contains.lower())
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def list_organisations(
        self, flt: OrganisationFilter, offset: int = 0, limit: int = 50
    ) -> tuple[list[Organisation], int]:
        where, params = self._where(flt)
        total = self._query(f"SELECT count(*) FROM organisations{where}", params)[0][0]
        rows = self._query(
            f"SELECT {_ORG_COLUMNS} FROM organisations{where} ORDER BY id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_org_from_row(row) for row in rows], int(total)

    def get_tie(self, tie_id: str) -> Tie | None:
        rows = self._query(f"SELECT {_TIE_COLUMNS} FROM ties WHERE id = ?", (tie_id,))
        return _tie_from_row(rows[0]) if rows else None

    def ties_of(self, org_id: str, as_at: date | None = None, kinds: Sequence[EdgeKind] = ()) -> list[Tie]:
        when, when_params = _as_at_sql(as_at)
        kind_sql = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        rows = self._query(
            f"SELECT {_TIE_COLUMNS} FROM ties WHERE (source_id = ? OR target_id = ?){when}{kind_sql} ORDER BY id",
            [org_id, org_id, *when_params, *(kind.value for kind in kinds)],
        )
        return [_tie_from_row(row) for row in rows]

    def all_ties(self, kinds: Sequence[EdgeKind] = ()) -> list[Tie]:
        kind_sql = f" WHERE kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        rows = self._query(f"SELECT {_TIE_COLUMNS} FROM ties{kind_sql} ORDER BY id", [k.value for k in kinds])
        return [_tie_from_row(row) for row in rows]

    def _ties_among(self, ids: set[str], as_at: date | None) -> list[Tie]:
        when, when_params = _as_at_sql(as_at)
        found: dict[str, Tie] = {}
        id_list = sorted(ids)
        for part in _chunks(id_list, 400):
            marks = ",".join("?" * len(part))
            rows = self._query(
                f"SELECT {_TIE_COLUMNS} FROM ties WHERE (source_id IN ({marks}) OR target_id IN ({marks})){when}",
                [*part, *part, *when_params],
            )
            for row in rows:
                tie = _tie_from_row(row)
                if tie.source_id in ids and tie.target_id in ids:
                    found[tie.id] = tie
        return [found[key] for key in sorted(found)]

    def _expand(self, ids: set[str], hops: int, as_at: date | None) -> set[str]:
        seen = set(ids)
        frontier = set(ids)
        when, when_params = _as_at_sql(as_at)
        for _ in range(hops):
            nxt: set[str] = set()
            for part in _chunks(sorted(frontier), 400):
                marks = ",".join("?" * len(part))
                rows = self._query(
                    f"SELECT source_id, target_id FROM ties WHERE (source_id IN ({marks})"
                    f" OR target_id IN ({marks})){when}",
                    [*part, *part, *when_params],
                )
                for source_id, target_id in rows:
                    nxt.update((source_id, target_id))
            frontier = nxt - seen
            if not frontier:
                break
            seen |= frontier
        return seen

    def neighbours(self, org_id: str, hops: int = 1, as_at: date | None = None) -> Subgraph:
        if self.get_organisation(org_id) is None:
            return Subgraph([], [])
        ids = self._expand({org_id}, hops, as_at)
        return Subgraph(self.get_organisations(sorted(ids)), self._ties_among(ids, as_at))

    def subgraph(self, flt: OrganisationFilter, as_at: date | None = None, hops: int = 0) -> Subgraph:
        where, params = self._where(flt)
        ids = {row[0] for row in self._query(f"SELECT id FROM organisations{where}", params)}
        ids = self._expand(ids, hops, as_at)
        return Subgraph(self.get_organisations(sorted(ids)), self._ties_among(ids, as_at))

    def counts(self) -> dict[str, int]:
        result = {row[0]: int(row[1]) for row in self._query("SELECT kind, count(*) FROM organisations GROUP BY kind")}
        for kind, number in self._query("SELECT kind, count(*) FROM ties GROUP BY kind"):
            result[f"tie:{kind}"] = int(number)
        return result

    def get_meta(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._query("SELECT key, value FROM meta ORDER BY key")}

    def list_audit(self, offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
        total = self._query("SELECT count(*) FROM audit")[0][0]
        rows = self._query("SELECT data FROM audit ORDER BY seq DESC LIMIT ? OFFSET ?", (limit, offset))
        return [AuditEntry.model_validate_json(row[0]) for row in rows], int(total)

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
        # SQLite has no graph queries to narrow it down; the cached whole graph answers at memory speed.
        return IsolationScope(self.graph())

    def support_graph(self, urn: str, as_at: date | None, radius_km: float) -> nx.MultiDiGraph:
        return self.graph()

    def graph(self) -> nx.MultiDiGraph:
        return self.graph_index().graph

    def graph_index(self) -> GraphIndex:
        """The current version of the whole graph: patched by this process's writes, read afresh
        after another connection's (SQLite's data_version tells)."""
        with self._lock, _translated(self.path):
            version = self._data_version()
            held = self._index
            if held is not None and self._graph_version == version:
                return held
        with self._build_lock:
            with self._lock, _translated(self.path):
                version = self._data_version()
                held = self._index
                if held is not None and self._graph_version == version:
                    return held
                orgs = [row[0] for row in self._db().execute("SELECT data FROM organisations")]
                ties = [row[0] for row in self._db().execute("SELECT data FROM ties")]
                writes = self._writes
            # Built outside the store's lock: lookups and /health go on meanwhile.
            graph = memory.rebuild_long_lived(lambda: build_graph_from_stored(orgs, ties))
            built = GraphIndex.of(graph, 0 if held is None else held.version + 1)
            with self._lock:
                if self._data_version() == version and self._writes == writes:
                    self._index, self._graph_version = built, version
            return built

    def _data_version(self) -> int:
        # data_version changes when another connection (a CLI load, another worker) commits.
        return int(self._db().execute("PRAGMA data_version").fetchone()[0])
