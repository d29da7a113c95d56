"""Loader for collaboration ties: what partnerships record and GIAS does not know.

The format (CSV or JSON) is documented in ``docs/ties-format.md``; the
template and an example are in ``examples/``. Every row is checked before
anything is written: bad rows are reported with file, line, column and reason,
then the good ones are written in one transaction (``strict`` refuses the whole
file instead). Ties have stable ids, so loading the same file again changes
nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from graph_service.models import (
    EdgeKind,
    GovernanceLevel,
    MemberRole,
    NodeKind,
    Organisation,
    OrgId,
    ServiceLevelAgreement,
    Tie,
    check_endpoints,
    group_id,
    make_tie,
    slugify,
)
from graph_service.store.base import GraphStore, WriteBatch
from loaders.common import (
    WRONG_LENGTH,
    AuditOf,
    LoadError,
    LoadIssue,
    LoadReport,
    StrictModeError,
    duplicated_names,
    parse_date,
    read_csv,
    read_text,
    write_load,
)

ENDS = ("source", "target")
REQUIRED = ("source_id", "target_id", "kind")
COLUMNS = (
    *REQUIRED,
    "level",
    "role",
    "since",
    "until",
    "focus",
    "outcome",
    "notes",
    "source",
    "sla_lead_partner",
    "sla_who_pays",
    "sla_withdrawal_terms",
    "source_kind",
    "source_name",
    "target_kind",
    "target_name",
    "partner_type",
)
SLA_FIELDS = ("lead_partner", "who_pays", "withdrawal_terms")
#: Kinds a ties file may create; schools, trusts and the rest come from GIAS, so a typo cannot invent one.
CREATABLE = (NodeKind.COMMUNITY_PARTNER, NodeKind.PARTNERSHIP, NodeKind.TEACHING_SCHOOL_ALLIANCE)
_URN = re.compile(r"^\d{1,7}$")
#: What spreadsheets make of a URN: 103120.0, 1.0312E+05, "103 120".
_NUMBERISH = re.compile(r"^\d[\d.,\s]*(?:[Ee][+-]?\d+)?$")
_ORG_ID: TypeAdapter[str] = TypeAdapter(OrgId)


def column_name(header: str) -> str:
    """The canonical name of a column as people type it.

    >>> column_name(" Source ID "), column_name("sla-who-pays")
    ('source_id', 'sla_who_pays')
    """
    return re.sub(r"[\s-]+", "_", header.strip().lower())


@dataclass
class _Record:
    """One row of a ties file, its fields as text, and what is wrong with it."""

    line: int
    values: dict[str, str]
    #: Column as the file spells it, for messages.
    shown: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: Ends whose organisation the row asked to create but could not; already reported.
    failed_ends: set[str] = field(default_factory=set)
    #: Not a row at all (a JSON value that is not an object): nothing more to check.
    unreadable: bool = False

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def bad(self, column: str, reason: str) -> None:
        self.problems.append((self.shown.get(column, column), reason))


@dataclass
class _Declared:
    """An organisation a row names by kind and name so that the load may create it."""

    line: int
    organisation: Organisation


def _csv_records(path: Path) -> list[_Record]:
    header, rows = read_csv(path, (), "a ties file")
    names = [column_name(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    if unknown:
        raise LoadError(
            f"{path}: wrong header for a ties file: unknown column(s) {', '.join(repr(u) for u in unknown)}"
            f" (expected {', '.join(COLUMNS)})"
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        shown = ", ".join(repr(m) for m in missing)
        raise LoadError(f"{path}: wrong header for a ties file: missing column(s) {shown}")
    doubled = duplicated_names(names)
    if doubled:
        raise LoadError(f"{path}: duplicated column(s) in header: {', '.join(doubled)}")
    spelt = dict(zip(names, header, strict=True))
    rename = dict(zip(header, names, strict=True))
    records: list[_Record] = []
    for line, row in rows:
        if len(records) == MAX_TIE_ROWS:
            raise LoadError(f"{path}: more than {MAX_TIE_ROWS:,} ties in one file; split it")
        wrong_length = row.pop(WRONG_LENGTH, None)
        record = _Record(line, {rename[k]: v.strip() for k, v in row.items()}, spelt)
        if wrong_length:
            record.bad("", wrong_length)
        records.append(record)
    return records


#: A ties file nests a list (or {"ties": [...]}), its objects and an "sla" object: deeper is not a ties file,
#: and checking (then validating) deeper values would recurse without bound.
MAX_DEPTH = 8


def _too_deep(data: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels (checked without recursion).

    >>> _too_deep([{"sla": {"who_pays": "LA"}}], 3), _too_deep([[[[1]]]], 3)
    (False, True)
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


#: Most rows a ties file may hold (England's whole graph has about 70,000 ties): what a load holds in
#: memory grows with its rows, so a file within the byte limits cannot hold gigabytes of them.
MAX_TIE_ROWS = 100_000
_JSON_START = re.compile(r'\s*(\[|\{\s*"ties"\s*:\s*\[)')
_SPACE = re.compile(r"\s*")


def _json_items(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """The ties of a JSON file with the line each starts on, decoded one at a time.

    Never the whole document at once: its objects would take many times the file's size in memory.
    """
    start = _JSON_START.match(text)
    if start is None:
        raise LoadError(f'{path}: a JSON ties file is a list of ties, or an object {{"ties": [...]}}')
    wrapped = start[1] != "["
    position, line, counted, count = start.end(), 1, 0, 0
    decoder = json.JSONDecoder()

    def broken(at: int, what: str) -> LoadError:
        error = json.JSONDecodeError(what, text, min(at, len(text)))
        return LoadError(f"{path}:{error.lineno}: not valid JSON ({what} at column {error.colno})")

    position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
    while text[position : position + 1] != "]":
        line += text.count("\n", counted, position)
        counted = position
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise LoadError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise LoadError(
                f"{path}: JSON nested too deeply to read (a ties file nests {MAX_DEPTH} levels at most)"
            ) from None
        if _too_deep(item, MAX_DEPTH - (2 if wrapped else 1)):
            raise LoadError(f"{path}: JSON nested deeper than a ties file does ({MAX_DEPTH} levels at most)")
        count += 1
        if count > MAX_TIE_ROWS:
            raise LoadError(f"{path}: more than {MAX_TIE_ROWS:,} ties in one file; split it")
        yield line, item
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        if text[position : position + 1] == ",":
            position = _SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
            if text[position : position + 1] == "]":
                raise broken(position, "Illegal trailing comma before end of array")
        elif text[position : position + 1] != "]":
            raise broken(position, "Expecting ',' delimiter")
    end = _SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
    if wrapped:
        if text[end : end + 1] != "}":
            raise LoadError(f'{path}: a JSON ties file is a list of ties, or an object {{"ties": [...]}}')
        end = _SPACE.match(text, end + 1).end()  # type: ignore[union-attr]
    if end != len(text):
        raise broken(end, "Extra data")


def _json_records(path: Path) -> list[_Record]:
    records = []
    for line, item in _json_items(path, read_text(path)):
        record = _Record(line, {}, {})
        if not isinstance(item, dict):
            record.bad("", "a tie must be a JSON object")
            record.unreadable = True
            records.append(record)
            continue
        flat = dict(item)
        sla = flat.pop("sla", None)
        if isinstance(sla, dict):
            flat.update({f"sla_{key}": value for key, value in sla.items()})
        elif sla is not None:
            record.bad("sla", 'must be an object {"lead_partner": ..., "who_pays": ..., "withdrawal_terms": ...}')
        for key, value in flat.items():
            name = column_name(str(key))
            record.shown[name] = str(key)
            if name not in COLUMNS:
                record.bad(name, "unknown field")
            elif value is None:
                continue
            elif isinstance(value, str):
                record.values[name] = value.strip()
            elif isinstance(value, int | float) and not isinstance(value, bool):
                record.values[name] = str(value)
            else:
                record.bad(name, f"must be text or a number, not {type(value).__name__}")
        records.append(record)
    return records


def read_records(path: Path) -> list[_Record]:
    """The rows of a ties file, CSV or JSON (chosen by the ``.json`` suffix or a leading ``[``/``{``)."""
    is_json = path.suffix.lower() == ".json" or path.name.lower().endswith(".json.gz")
    if not is_json and path.suffix.lower() not in (".csv", ".gz"):
        is_json = read_text(path).lstrip()[:1] in ("[", "{")
    records = _json_records(path) if is_json else _csv_records(path)
    if not records:
        raise LoadError(f"{path}: no ties in the file")
    return records


class _Resolver:
    """Turns the ids people type into store ids, knowing what the store and the file hold."""

    def __init__(self, store: GraphStore, records: list[_Record]) -> None:
        wanted: set[str] = set()
        for record in records:
            for column in ("source_id", "target_id", "sla_lead_partner"):
                value = record.get(column)
                if _URN.match(value):
                    wanted.update((str(int(value)), group_id(value)))
                elif value:
                    wanted.add(value)
        self.kinds = {org.id: org.kind for org in store.get_organisations(sorted(wanted))}
        self.declared: dict[str, _Declared] = {}

    def stored_kind(self, value: str) -> NodeKind | None:
        """The kind of the stored organisation a cell names, if any."""
        if _URN.match(value):
            return self.kinds.get(str(int(value))) or self.kinds.get(group_id(value))
        return self.kinds.get(value)

    def kind(self, org_id: str) -> NodeKind | None:
        if org_id in self.kinds:
            return self.kinds[org_id]
        declared = self.declared.get(org_id)
        return declared.organisation.kind if declared else None

    def resolve(self, record: _Record, column: str, hint: str = "") -> str | None:
        """The store id a cell names, or ``None`` after reporting why it names none."""
        value = record.get(column)
        if not value:
            record.bad(column, "is empty")
            return None
        if value.isascii() and value.isdigit():
            if not _URN.match(value) or int(value) == 0:
                record.bad(column, f"malformed URN {value!r} (a URN or Group UID has 1 to 7 digits)")
                return None
            number = str(int(value))
            for candidate in (number, group_id(number)):
                if candidate in self.kinds:
                    return candidate
            record.bad(
                column,
                f"unknown organisation {value!r}: no establishment with URN {number} and no group"
                f" with Group UID {number} in the store",
            )
            return None
        if _NUMBERISH.match(value):
            record.bad(column, f"malformed URN {value!r} (expected digits only, e.g. 103120)")
            return None
        try:
            _ORG_ID.validate_python(value)
        except ValidationError:
            record.bad(column, f"malformed id {value!r} (expected a URN, a Group UID or an id such as 'la-330')")
            return None
        if self.kind(value) is None:
            record.bad(column, f"unknown organisation {value!r}{hint}")
            return None
        return value


def _declare(record: _Record, end: str, resolver: _Resolver, source: str) -> None:
    """Note the organisation a row asks to create at one end (``<end>_kind`` and ``<end>_name``).

    An end that is already in the store only has its kind checked; its name is
    there for the reader of the file and changes nothing.
    """
    kind_text, name, org_id = record.get(f"{end}_kind"), record.get(f"{end}_name"), record.get(f"{end}_id")
    if not org_id or not (kind_text or name):
        return  # an empty id is reported when the tie is built
    reported = len(record.problems)
    _check_declaration(record, end, resolver, source, kind_text, name, org_id)
    if len(record.problems) > reported:
        record.failed_ends.add(end)


def _check_declaration(
    record: _Record, end: str, resolver: _Resolver, source: str, kind_text: str, name: str, org_id: str
) -> None:
    kind = _choice(record, f"{end}_kind", NodeKind) if kind_text else None
    stored = resolver.stored_kind(org_id)
    if stored is not None:
        if kind is not None and kind is not stored:
            record.bad(f"{end}_kind", f"{org_id!r} is a {stored.value}, not a {kind.value}")
        return
    if kind is None:
        if not kind_text:
            record.bad(f"{end}_kind", f"is empty: say what kind of organisation {org_id!r} is to create it")
        return
    if kind not in CREATABLE:
        record.bad(
            f"{end}_kind",
            f"a ties file cannot create a {kind.value} (only {', '.join(CREATABLE)}); {kind.value}s come from GIAS",
        )
        return
    if not name:
        record.bad(f"{end}_name", f"is empty: a new {kind.value} needs a name")
        return
    if _NUMBERISH.match(org_id):
        record.bad(f"{end}_id", f"a new {kind.value} needs an id that is not a number (numbers are URNs)")
        return
    try:
        _ORG_ID.validate_python(org_id)
    except ValidationError:
        record.bad(
            f"{end}_id",
            f"malformed id {org_id!r} for a new {kind.value} (use letters, digits and '-', e.g. {slugify(org_id)!r})",
        )
        return
    try:
        organisation = Organisation(
            id=org_id, kind=kind, name=name, subtype=column_name(record.get("partner_type")) or None, source=source
        )
    except ValidationError as exc:
        for error in exc.errors():
            column = {"id": f"{end}_id", "name": f"{end}_name"}.get(str(error["loc"][0]) if error["loc"] else "")
            record.bad(column or "partner_type", error["msg"].removeprefix("Value error, "))
        return
    earlier = resolver.declared.get(org_id)
    if earlier is None:
        resolver.declared[org_id] = _Declared(record.line, organisation)
        return
    first = earlier.organisation
    if (first.kind, first.name) != (kind, name) or (
        first.subtype and organisation.subtype and first.subtype != organisation.subtype
    ):
        described = f"{first.kind.value} {first.name!r}" + (f" ({first.subtype})" if first.subtype else "")
        record.bad(f"{end}_name", f"{org_id!r} was declared on line {earlier.line} as {described}")
    elif organisation.subtype and not first.subtype:
        earlier.organisation = organisation


def _choice(record: _Record, column: str, enum: Any) -> Any:
    value = record.get(column)
    if not value:
        return None
    try:
        return enum(column_name(value))  # "Hard governance" is hard_governance
    except ValueError:
        record.bad(column, f"unknown {column} {value!r} (expected one of {', '.join(enum)})")
        return None


def _day(record: _Record, column: str) -> date | None:
    try:
        return parse_date(record.get(column))
    except ValueError as exc:
        record.bad(column, str(exc))
        return None


def _build_tie(record: _Record, resolver: _Resolver, default_source: str) -> Tie | None:
    """The row's tie, or ``None`` after reporting every problem found in it."""
    kind = _choice(record, "kind", EdgeKind)
    if not record.get("kind"):
        record.bad("kind", "is empty")
    level = _choice(record, "level", GovernanceLevel)
    role = _choice(record, "role", MemberRole)
    since, until = _day(record, "since"), _day(record, "until")
    ends = [
        None
        if end in record.failed_ends
        else resolver.resolve(record, f"{end}_id", f" (give {end}_kind and {end}_name to create it)")
        for end in ENDS
    ]
    lead = resolver.resolve(record, "sla_lead_partner") if record.get("sla_lead_partner") else None
    if kind is not None:
        if level is not None and kind is not EdgeKind.FEDERATED_WITH:
            record.bad("level", f"level is only for federated_with ties, not {kind.value}")
        if kind is EdgeKind.FEDERATED_WITH and level is None and not record.get("level"):
            record.bad("level", f"federated_with needs a level (one of {', '.join(GovernanceLevel)})")
        if role is not None and kind is not EdgeKind.MEMBER_OF:
            record.bad("role", f"role is only for member_of ties, not {kind.value}")
    if since and until and until < since:
        record.bad("until", f"{until.isoformat()} is before since ({since.isoformat()})")
    source_id, target_id = ends
    if source_id is not None and source_id == target_id:
        record.bad("target_id", "a tie cannot join an organisation to itself")
    if record.problems or kind is None or source_id is None or target_id is None:
        return None
    sla = {name: record.get(f"sla_{name}") or None for name in SLA_FIELDS}
    sla["lead_partner"] = lead
    try:
        tie = make_tie(
            source_id=source_id,
            target_id=target_id,
            kind=kind,
            level=level,
            role=role,
            since=since,
            until=until,
            focus=record.get("focus") or None,
            outcome=record.get("outcome") or None,
            notes=record.get("notes") or None,
            source=record.get("source") or default_source,
            sla=ServiceLevelAgreement(**sla) if any(sla.values()) else None,
        )
    except ValidationError as exc:
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else ""
            record.bad(column, error["msg"].removeprefix("Value error, "))
        return None
    source_kind, target_kind = resolver.kind(source_id), resolver.kind(target_id)
    assert source_kind is not None and target_kind is not None  # resolve() checked both
    reason = check_endpoints(tie, source_kind, target_kind)
    if reason:
        record.bad("kind", reason)
        return None
    return tie


def load_ties(
    store: GraphStore, path: Path, *, strict: bool = False, dry_run: bool = False, audit: AuditOf | None = None
) -> LoadReport:
    """Check a ties file (CSV or JSON), then write its good rows in one transaction.

    ``strict`` refuses the whole file at its first bad row (in file order);
    ``dry_run`` checks and reports without writing.
    """
    report = LoadReport(files=[str(path)], dry_run=dry_run)
    records = read_records(path)
    resolver = _Resolver(store, records)
    source = f"ties:{path.name}"
    readable = [record for record in records if not record.unreadable]
    for record in readable:
        for end in ENDS:
            _declare(record, end, resolver, source)
    seen: dict[str, int] = {}
    ties: list[Tie] = []
    for record in readable:
        tie = _build_tie(record, resolver, source)
        if tie is not None and tie.id in seen:
            record.bad("", f"duplicate of the tie on line {seen[tie.id]} (same kind, ends, focus and since)")
        elif tie is not None:
            seen[tie.id] = record.line
            ties.append(tie)
    report.rows_read = len(records)
    issues = [LoadIssue(path.name, r.line, column, reason) for r in records for column, reason in r.problems]
    if strict and issues:
        raise StrictModeError(issues[0])
    report.issues = issues
    report.rows_rejected = sum(1 for r in records if r.problems)
    used = {end for tie in ties for end in (tie.source_id, tie.target_id)}
    organisations = [d.organisation for org_id, d in resolver.declared.items() if org_id in used]
    report.organisations, report.ties = len(organisations), len(ties)
    if not dry_run:
        write_load(store, WriteBatch(organisations=organisations, ties=ties), report, audit)
    return report
