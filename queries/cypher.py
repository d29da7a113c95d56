"""Every Cypher statement the Neo4j store runs, as named constants and small builders.

How the graph is laid out in Neo4j:

- each organisation is one node labelled ``:Organisation`` and its kind's label
  (``NodeKind.label``, e.g. ``:School``), with its full JSON in ``data`` (the source of
  truth when reading back) and the fields that queries filter by as native properties:
  ``id``, ``kind``, ``name``, ``status``, ``phase``, ``subtype``, ``la_code``,
  ``local_authority``, ``district``, ``constituency``, ``ofsted_rating`` (missing values
  absent);
- each tie is one relationship from its source to its target, typed by its kind
  (``EdgeKind.rel_type``, e.g. ``:MEMBER_OF``), with ``id``, ``kind``, ``since``,
  ``until`` (Neo4j dates), ``level``, ``role``, ``focus`` and ``data``;
- ``(:Meta {key, value})`` nodes hold the store's metadata, ``(:Audit {version, n, data})``
  nodes the audit trail of API writes, and one
  ``(:GraphVersion {id: 'graph', version})`` node counts committed writes so that every
  process can tell when its cached networkx graph is stale.

Labels and relationship types only ever come from :class:`~graph_service.models.NodeKind`
and :class:`~graph_service.models.EdgeKind`; every value is a ``$parameter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from graph_service.models import EdgeKind, NodeKind

#: Id of the single :GraphVersion node.
GRAPH_VERSION_ID = "graph"

# -- schema -----------------------------------------------------------------------------

#: Node properties with a range index (the filters of ``/organisations`` and the questions).
INDEXED_ORGANISATION_PROPERTIES = ("kind", "la_code", "local_authority", "phase", "ofsted_rating", "status")


def schema() -> dict[str, str]:
    """Constraints and indexes by name, each statement idempotent (``IF NOT EXISTS``).

    Relationship property uniqueness needs Neo4j Enterprise, so tie ids get a range
    index per relationship type and the store keeps them unique itself.

    >>> statements = schema()
    >>> statements["organisation_id"]
    'CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (n:Organisation) REQUIRE n.id IS UNIQUE'
    >>> statements["tie_member_of_id"]
    'CREATE INDEX tie_member_of_id IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.id)'
    """
    unique = {
        "organisation_id": ("Organisation", "id"),
        "meta_key": ("Meta", "key"),
        "graph_version_id": ("GraphVersion", "id"),
    }
    statements = {
        name: f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
        for name, (label, prop) in unique.items()
    }
    statements["audit_version"] = "CREATE INDEX audit_version IF NOT EXISTS FOR (n:Audit) ON (n.version)"
    # The isolated-schools question starts from the open schools: one seek instead of every school.
    statements["organisation_kind_status"] = (
        "CREATE INDEX organisation_kind_status IF NOT EXISTS FOR (n:Organisation) ON (n.kind, n.status)"
    )
    for prop in INDEXED_ORGANISATION_PROPERTIES:
        statements[f"organisation_{prop}"] = (
            f"CREATE INDEX organisation_{prop} IF NOT EXISTS FOR (n:Organisation) ON (n.{prop})"
        )
    for kind in EdgeKind:
        statements[f"tie_{kind.value}_id"] = (
            f"CREATE INDEX tie_{kind.value}_id IF NOT EXISTS FOR ()-[r:{kind.rel_type}]-() ON (r.id)"
        )
    return statements


#: Names of the indexes present, including those backing constraints (named as the constraint).
INDEX_NAMES = "SHOW INDEXES YIELD name RETURN collect(name) AS names"
AWAIT_INDEXES = "CALL db.awaitIndexes($seconds)"

PING = "RETURN 1 AS ok"

# -- the version counter ----------------------------------------------------------------

#: First statement of every write transaction: bumps the counter and, by locking its node
#: until commit, makes concurrent writers take turns.
BUMP_VERSION = (
    "MERGE (v:GraphVersion {id: $id}) ON CREATE SET v.version = 0"
    " SET v.version = v.version + 1 RETURN v.version AS version"
)
GET_VERSION = "OPTIONAL MATCH (v:GraphVersion {id: $id}) RETURN v.version AS version"
GET_VERSION_STATE = "OPTIONAL MATCH (v:GraphVersion {id: $id}) RETURN v.version AS version, v.loading AS loading"

# -- staged loads: a lease on the version node, and one undo record per stage ------------------

_LEASE = "v.loading AS loading, v.load_owner AS owner, v.load_heartbeat AS heartbeat"
LOAD_LEASE = f"OPTIONAL MATCH (v:GraphVersion {{id: $id}}) RETURN {_LEASE}"
#: The lease, with the version node's write lock held to the end of the transaction.
LOCK_LOAD_LEASE = (
    "MERGE (v:GraphVersion {id: $id}) ON CREATE SET v.version = 0"
    f" SET v.locked = true REMOVE v.locked RETURN v.version AS version, {_LEASE}"
)
SET_LOAD_LEASE = (
    "MATCH (v:GraphVersion {id: $id}) SET v.loading = $load, v.load_owner = $owner, v.load_heartbeat = $now"
)
RENEW_LOAD_LEASE = (
    "MATCH (v:GraphVersion {id: $id}) WHERE v.loading = $load SET v.load_heartbeat = $now RETURN v.version AS version"
)
#: Ends a load (done or undone): a new version, so that every cached graph is read again.
END_LOAD_LEASE = (
    "MATCH (v:GraphVersion {id: $id}) WHERE v.loading = $load"
    " SET v.version = v.version + 1 REMOVE v.loading, v.load_owner, v.load_heartbeat"
)
END_ANY_LOAD_LEASE = "MATCH (v:GraphVersion {id: $id}) REMOVE v.loading, v.load_owner, v.load_heartbeat"
ADD_LOAD_UNDO = "CREATE (:LoadUndo {load: $load, seq: $seq, ops: $ops})"
LOAD_UNDO_STAGES = "MATCH (u:LoadUndo {load: $load}) RETURN u.seq AS seq"
TAKE_LOAD_UNDO = "MATCH (u:LoadUndo {load: $load, seq: $seq}) WITH u, u.ops AS ops DELETE u RETURN ops"
ANY_LOAD_UNDO = "MATCH (u:LoadUndo) RETURN u.load AS load LIMIT 1"
#: Undo records of load ``$load`` (or, when null, of every load but the one under way), a few at a time.
FORGET_LOAD_UNDO = (
    "MATCH (u:LoadUndo) WHERE u.load = $load OR ($load IS NULL AND NOT EXISTS"
    " { MATCH (v:GraphVersion {id: $id}) WHERE v.loading = u.load })"
    " WITH u LIMIT 50 DELETE u RETURN count(u) AS deleted"
)
CLEAR_LOAD_UNDO = "MATCH (u:LoadUndo) DELETE u"

# -- organisations ----------------------------------------------------------------------

# Bulk reads return one record holding a list: the Python driver spends far more time per
# record than per list item, so this reads a whole-England graph several times faster.

#: ``[id, kind, JSON]`` of the organisations among ``$ids`` that exist.
ORGANISATIONS_BY_ID = "UNWIND $ids AS id MATCH (n:Organisation {id: id}) RETURN collect([n.id, n.kind, n.data]) AS rows"
ORGANISATION_BY_ID = "MATCH (n:Organisation {id: $id}) RETURN n.data AS data"


def merge_organisations(kind: NodeKind) -> str:
    """Upsert ``$rows`` (``{id, props}``) of one kind: all properties replaced, labels fixed.

    A node whose kind changed loses its old kind label.

    >>> print(merge_organisations(NodeKind.TRUST))  # doctest: +ELLIPSIS
    UNWIND $rows AS row MERGE (n:Organisation {id: row.id}) SET n = row.props, n:Trust REMOVE n:School:FeCollege:...
    """
    others = ":".join(other.label for other in NodeKind if other is not kind)
    return (
        f"UNWIND $rows AS row MERGE (n:Organisation {{id: row.id}}) SET n = row.props, n:{kind.label} REMOVE n:{others}"
    )


def create_organisations(kind: NodeKind) -> str:
    """Create organisations of one kind a write found absent, ``$rows`` holding their properties.

    Cheaper than :func:`merge_organisations`: no lookup, and nothing read that the ``SET`` could
    change, so Neo4j streams the rows instead of first holding them all (its ``Eager``); the
    unique constraint on ``id`` still refuses a duplicate.

    >>> print(create_organisations(NodeKind.TRUST))
    UNWIND $rows AS props CREATE (n:Organisation:Trust) SET n = props
    """
    return f"UNWIND $rows AS props CREATE (n:Organisation:{kind.label}) SET n = props"


DELETE_ORGANISATIONS = "UNWIND $ids AS id MATCH (n:Organisation {id: id}) DETACH DELETE n RETURN count(n) AS deleted"

#: Clauses of the ``/organisations`` filter, each reading only its own parameter.
_FILTER_CLAUSES = {
    "kinds": "n.kind IN $kinds",
    "phases": "n.phase IN $phases",
    "subtypes": "n.subtype IN $subtypes",
    "statuses": "n.status IN $statuses",
    "ratings": "n.ofsted_rating IN $ratings",
    "ids": "n.id IN $ids",
    "la_code": "n.la_code = $la_code",
    "local_authority": "toLower(n.local_authority) = toLower($local_authority)",
    "district": "toLower(n.district) = toLower($district)",
    "constituency": "toLower(n.constituency) = toLower($constituency)",
    "name": "toLower(n.name) CONTAINS toLower($name)",
}


def organisation_where(params: dict[str, Any]) -> str:
    """The WHERE clause for the filters present in ``params`` (keys of a fixed set).

    >>> organisation_where({"kinds": ["school"], "la_code": 330})
    ' WHERE n.kind IN $kinds AND n.la_code = $la_code'
    >>> organisation_where({})
    ''
    """
    clauses = _clauses(_FILTER_CLAUSES, params, "organisation")
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def _clauses(table: dict[str, str], params: dict[str, Any], what: str) -> list[str]:
    """The clauses of ``table`` for the filters in ``params``, which must all be in it."""
    unknown = params.keys() - table.keys()
    if unknown:
        raise ValueError(f"unknown {what} filters: {sorted(unknown)}")
    return [clause for name, clause in table.items() if name in params]


def count_organisations(where: str) -> str:
    return f"MATCH (n:Organisation){where} RETURN count(n) AS total"


def page_organisations(where: str) -> str:
    return (
        f"MATCH (n:Organisation){where} WITH n ORDER BY n.id SKIP $offset LIMIT $limit RETURN collect(n.data) AS data"
    )


def organisation_ids(where: str) -> str:
    return f"MATCH (n:Organisation){where} RETURN collect(n.id) AS ids"


#: ``[id, JSON]`` of every organisation (Neo4jStore's whole graph, and its in-memory lookups).
ALL_ORGANISATIONS_BY_ID = "MATCH (n:Organisation) RETURN collect([n.id, n.data]) AS rows"
#: ``[id, JSON]`` of every tie.
ALL_TIES_BY_ID = "MATCH (:Organisation)-[r]->(:Organisation) RETURN collect([r.id, r.data]) AS rows"

# -- ties -------------------------------------------------------------------------------

#: True when relationship ``r`` holds on ``$day`` (or ``$day`` is null).
_HOLDS = "($day IS NULL OR ((r.since IS NULL OR r.since <= $day) AND (r.until IS NULL OR r.until >= $day)))"


def _types(kinds: Iterable[EdgeKind]) -> str:
    """``:A|B`` for the given kinds, ``""`` (any type) for none."""
    types = "|".join(kind.rel_type for kind in kinds)
    return f":{types}" if types else ""


def ties_by_id(kind: EdgeKind) -> str:
    """``[id, source id, target id, JSON]`` of the ties of one kind among ``$ids``.

    A range index covers a single relationship type, so finding a tie by id alone takes
    one of these per kind.
    """
    return (
        f"UNWIND $ids AS id MATCH (s:Organisation)-[r:{kind.rel_type} {{id: id}}]->(t:Organisation)"
        " RETURN collect([r.id, s.id, t.id, r.data]) AS rows"
    )


#: Like :func:`ties_by_id` for any kind, by one pass over every relationship: cheaper than
#: seven index seeks per id when many ids are sought.
TIES_BY_ID_SCAN = (
    "MATCH (s:Organisation)-[r]->(t:Organisation) WHERE r.id IN $ids"
    " RETURN collect([r.id, r.kind, s.id, t.id, r.data]) AS rows"
)


def merge_ties(kind: EdgeKind) -> str:
    """Upsert ``$rows`` (``{id, source_id, target_id, props}``) of one kind between existing nodes.

    >>> print(merge_ties(EdgeKind.SUPPORTS))  # doctest: +NORMALIZE_WHITESPACE
    UNWIND $rows AS row MATCH (s:Organisation {id: row.source_id}) MATCH (t:Organisation {id: row.target_id})
    MERGE (s)-[r:SUPPORTS {id: row.id}]->(t) SET r = row.props
    """
    return (
        "UNWIND $rows AS row MATCH (s:Organisation {id: row.source_id}) MATCH (t:Organisation {id: row.target_id})"
        f" MERGE (s)-[r:{kind.rel_type} {{id: row.id}}]->(t) SET r = row.props"
    )


def create_ties(kind: EdgeKind) -> str:
    """Create ties of one kind a write found absent, ``$rows`` being ``[source id, target id, properties]``.

    Cheaper than :func:`merge_ties`: no look at the ties already between the two ends, and
    streamed (no ``Eager``: rows are lists, whose items Neo4j cannot take for properties that
    the ``SET`` might change, as it does ``row.source_id``).

    >>> print(create_ties(EdgeKind.SUPPORTS))  # doctest: +NORMALIZE_WHITESPACE
    UNWIND $rows AS row MATCH (s:Organisation {id: row[0]}) MATCH (t:Organisation {id: row[1]})
    CREATE (s)-[r:SUPPORTS]->(t) SET r = row[2]
    """
    return (
        "UNWIND $rows AS row MATCH (s:Organisation {id: row[0]}) MATCH (t:Organisation {id: row[1]})"
        f" CREATE (s)-[r:{kind.rel_type}]->(t) SET r = row[2]"
    )


def end_ties(kind: EdgeKind) -> str:
    """Set ``until`` and ``data`` of the ties in ``$rows`` (``{id, until, data}``)."""
    return (
        f"UNWIND $rows AS row MATCH ()-[r:{kind.rel_type} {{id: row.id}}]->()"
        " SET r.until = row.until, r.data = row.data"
    )


def delete_ties(kind: EdgeKind) -> str:
    """Delete the ties of one kind among ``$ids``; returns how many went."""
    return f"UNWIND $ids AS id MATCH ()-[r:{kind.rel_type} {{id: id}}]->() DELETE r RETURN count(r) AS deleted"


def tie_by_id() -> str:
    """The JSON of the tie ``$id``, looked up in every type's index."""
    return " UNION ALL ".join(
        f"MATCH ()-[r:{kind.rel_type} {{id: $id}}]->() RETURN r.data AS data" for kind in EdgeKind
    )


def ties_of(kinds: Sequence[EdgeKind] = ()) -> str:
    """Ties touching ``$id`` (either end) holding on ``$day``, optionally of some kinds only."""
    return f"MATCH (:Organisation {{id: $id}})-[r{_types(kinds)}]-(:Organisation) WHERE {_HOLDS} RETURN r.data AS data"


def all_ties(kinds: Sequence[EdgeKind] = ()) -> str:
    """The JSON of every tie, optionally of some kinds only."""
    return f"MATCH (:Organisation)-[r{_types(kinds)}]->(:Organisation) RETURN collect(r.data) AS data"


#: Ids one tie away from ``$ids`` through ties holding on ``$day``.
NEXT_RING = (
    "UNWIND $ids AS id MATCH (:Organisation {id: id})-[r]-(m:Organisation)"
    f" WHERE {_HOLDS} RETURN collect(DISTINCT m.id) AS ids"
)

#: JSON of the ties with both ends among ``$ids`` that hold on ``$day``.
TIES_AMONG = (
    "UNWIND $ids AS id MATCH (:Organisation {id: id})-[r]->(m:Organisation)"
    f" WHERE m.id IN $ids AND {_HOLDS} RETURN collect(r.data) AS data"
)

# -- the questions ----------------------------------------------------------------------
#
# The database finds what a question is about; graph_service.analytics then scores and
# explains it on that small subgraph, the same code as on the embedded store, so both
# backends give identical answers.

#: Relationship types that count as collaboration (not ``maintained_by``, not ``predecessor_of``).
COLLABORATION_TYPES = _types(kind for kind in EdgeKind if kind.is_collaboration)

#: ``$day`` here is never null: ties are judged on the question's day (today by default).
_HOLDS_ON_DAY = "(r.since IS NULL OR r.since <= $day) AND (r.until IS NULL OR r.until >= $day)"

#: Open as :func:`graph_service.analytics.network.was_open` judges it, or of the statuses asked:
#: by ``$statuses`` when some are asked, by ``$current`` today, by the dates on ``$as_at``. One
#: plain clause per case rather than one CASE, so that the planner can use the status index.
_OPEN = {
    "statuses": "coalesce(s.status, 'open') IN $statuses",
    "today": "s.status IN $current",
    "as_at": (
        "CASE WHEN s.opened IS NOT NULL AND s.opened > $as_at THEN false"
        " WHEN s.closed IS NOT NULL THEN s.closed >= $as_at"
        " ELSE s.status IN $current END"
    ),
}

#: Clauses of a question's area filter (:class:`~graph_service.analytics.network.SchoolFilter`).
_AREA_CLAUSES = {
    "kinds": "s.kind IN $kinds",
    "la_code": "s.la_code = $la_code",
    "local_authority": "toLower(coalesce(s.local_authority, '')) = toLower($local_authority)",
    "district": "toLower(coalesce(s.district, '')) = toLower($district)",
    "constituency": "toLower(coalesce(s.constituency, '')) = toLower($constituency)",
    "phases": "s.phase IN $phases",
    # A missing subtype compares as '' (a school made by hand); a missing type name matches nothing.
    "types": "(toLower(coalesce(s.subtype, '')) IN $types OR toLower(s.type_name) IN $types)",
}


def _isolation_match(params: dict[str, Any], open_on: str) -> str:
    clauses = [*_clauses(_AREA_CLAUSES, params, "area"), _OPEN[open_on]]
    return (
        "MATCH (s:Organisation) WHERE " + " AND ".join(clauses) + f" OPTIONAL MATCH (s)-[r{COLLABORATION_TYPES}]-"
        f"(:Organisation) WHERE {_HOLDS_ON_DAY} WITH s, count(r) AS ties WHERE $every OR ties <= $max_ties"
    )


def open_on(statuses: Sequence[str], as_at: date | None) -> str:
    """Which test of "open" a question needs (a key of the clauses the statements pick from).

    >>> open_on([], None), open_on(["closed"], None), open_on([], date(2020, 1, 1))
    ('today', 'statuses', 'as_at')
    """
    return "statuses" if statuses else "today" if as_at is None else "as_at"


def isolation_candidates(params: dict[str, Any], open_test: str = "today") -> str:
    """Ids of the schools in an area, open on ``$as_at``, with at most ``$max_ties`` collaboration
    ties holding on ``$day`` (all of them when ``$every``): the only schools the isolated-schools
    question can list.

    ``params`` says which area filters are set (keys of a fixed set) and ``open_test`` how "open"
    is judged (:func:`open_on`); the statement reads ``$current``, ``$day``, ``$max_ties``,
    ``$every``, and ``$statuses`` or ``$as_at`` for those tests.

    >>> print(isolation_candidates({"la_code": 330}))  # doctest: +ELLIPSIS
    MATCH (s:Organisation) WHERE s.la_code = $la_code AND s.status IN $current OPTIONAL MATCH (s)-[r:MEMBER_OF|...
    """
    return _isolation_match(params, open_test) + " RETURN collect(s.id) AS ids"


def isolated_page(params: dict[str, Any], open_test: str = "today") -> str:
    """Like :func:`isolation_candidates`, when the tie count alone decides who is listed: their
    number (``total``) and the ids from ``$offset`` to ``$end`` (null: to the last) in the answer's
    order, riskiest first (``$risk`` maps a rating to its points, ``$unrated`` the rest), then
    name in any case, then id.
    """
    return (
        _isolation_match(params, open_test)
        + " WITH s ORDER BY coalesce($risk[s.ofsted_rating], $unrated) DESC, toLower(s.name), s.id"
        " WITH collect(s.id) AS ids"
        " RETURN size(ids) AS total, CASE WHEN $end IS NULL THEN ids[$offset..] ELSE ids[$offset..$end] END AS page"
    )


#: Ids one collaboration tie (holding on ``$day``) away from ``$ids``; only from organisations
#: other than schools and colleges when ``$groups_only`` (the second step of "partners through a group").
NEXT_COLLABORATION_RING = (
    "UNWIND $ids AS id MATCH (a:Organisation {id: id})"
    f"-[r{COLLABORATION_TYPES}]-(m:Organisation) WHERE {_HOLDS_ON_DAY}"
    " AND (NOT $groups_only OR NOT a.kind IN $providers) RETURN collect(DISTINCT m.id) AS ids"
)

#: Ids of the organisations that maintain ``$ids`` (local authorities: named in the answers, never counted).
MAINTAINERS = (
    f"UNWIND $ids AS id MATCH (:Organisation {{id: id}})-[r{_types([EdgeKind.MAINTAINED_BY])}]->(m:Organisation)"
    f" WHERE {_HOLDS_ON_DAY} RETURN collect(DISTINCT m.id) AS ids"
)

# -- counts, meta, clearing -------------------------------------------------------------


def counts() -> str:
    """One row: organisations per kind (``n_<kind>``) and ties per kind (``t_<kind>``).

    Each count is a single-label or single-type count, which Neo4j answers from its
    count store without touching the data.
    """
    parts = [f"CALL () {{ MATCH (n:{kind.label}) RETURN count(n) AS n_{kind.value} }}" for kind in NodeKind]
    parts += [f"CALL () {{ MATCH ()-[r:{kind.rel_type}]->() RETURN count(r) AS t_{kind.value} }}" for kind in EdgeKind]
    columns = [f"n_{kind.value}" for kind in NodeKind] + [f"t_{kind.value}" for kind in EdgeKind]
    return " ".join(parts) + " RETURN " + ", ".join(columns)


SET_META = "UNWIND $rows AS row MERGE (m:Meta {key: row.key}) SET m.value = row.value"
GET_META = "MATCH (m:Meta) RETURN m.key AS key, m.value AS value ORDER BY key"

#: Audit entries of one write: ``$version`` (the write's version) and their order ``n`` within it
#: sort the trail, since writes take turns and the version only grows.
ADD_AUDIT = "UNWIND $rows AS row CREATE (:Audit {version: $version, n: row.n, data: row.data})"
COUNT_AUDIT = "MATCH (a:Audit) RETURN count(a) AS total"
PAGE_AUDIT = (
    "MATCH (a:Audit) WITH a ORDER BY a.version DESC, a.n DESC SKIP $offset LIMIT $limit RETURN collect(a.data) AS data"
)

CLEAR_ORGANISATIONS = "MATCH (n:Organisation) DETACH DELETE n"
CLEAR_META = "MATCH (m:Meta) DELETE m"
CLEAR_AUDIT = "MATCH (a:Audit) DELETE a"
