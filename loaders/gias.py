"""Loader for DfE "Get Information about Schools" (GIAS) downloads.

Reads the establishments file (``edubasealldata*.csv``, plain or gzipped,
UTF-8 or cp1252), optionally the establishment links file, GIAS's groups files
(``allgroupsdata.csv``, ``alllinksdata.csv``), children's centres files and the
teaching school hubs list. Everything is validated first; then the whole load
is written in one transaction, so a failed load leaves the store as it was.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph_service.models import (
    CollegeType,
    EdgeKind,
    MemberRole,
    NodeKind,
    OfstedRating,
    Organisation,
    PartnerType,
    Phase,
    SchoolType,
    Status,
    Tie,
    TrustType,
    check_endpoints,
    group_id,
    la_id,
    slugify,
    tie_key,
)
from graph_service.store.base import GraphStore, WriteBatch
from loaders.common import (
    AuditOf,
    CheckedRow,
    IssueCollector,
    LoadError,
    LoadReport,
    Progress,
    parse_date,
    read_csv,
    write_load,
)
from loaders.ofsted import merge_inspections, with_inspections

ESTABLISHMENT_COLUMNS = (
    "URN",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
)
LINK_COLUMNS = ("URN", "LinkURN", "LinkType")
GROUP_COLUMNS = ("Group UID", "Group Name", "Group Type")
GROUP_LINK_COLUMNS = ("URN", "Group UID")
HUB_COLUMNS = ("tsh_region_code", "lead_school_urn", "teaching_school_hub_name (as in source comment)")

STATUSES = {
    "open": Status.OPEN,
    "closed": Status.CLOSED,
    "proposed to open": Status.PROPOSED_TO_OPEN,
    "open, but proposed to close": Status.OPEN_PROPOSED_TO_CLOSE,
}
PHASES = {
    "nursery": Phase.NURSERY,
    "primary": Phase.PRIMARY,
    "middle deemed primary": Phase.MIDDLE_DEEMED_PRIMARY,
    "middle deemed secondary": Phase.MIDDLE_DEEMED_SECONDARY,
    "secondary": Phase.SECONDARY,
    "all-through": Phase.ALL_THROUGH,
    "16 plus": Phase.SIXTEEN_PLUS,
    "not applicable": Phase.NOT_APPLICABLE,
}
RATINGS = {rating.value.replace("_", " "): rating for rating in OfstedRating}


def _laestab(la_code: str, number: str) -> str | None:
    """The DfE number, LA code and establishment number together: ``_laestab("330", "2000")`` is ``'3302000'``.

    Only a search key, so an odd value is left out rather than rejecting the row.
    """
    if not (la_code.isdigit() and number.isdigit() and len(number) <= 4):
        return None
    return f"{int(la_code)}{int(number):04d}"


#: GIAS TypeOfEstablishment (name) -> (kind, subtype). Unlisted types are "other" schools.
TYPES: dict[str, tuple[NodeKind, str]] = {
    "community school": (NodeKind.SCHOOL, SchoolType.COMMUNITY),
    "voluntary aided school": (NodeKind.SCHOOL, SchoolType.VOLUNTARY_AIDED),
    "voluntary controlled school": (NodeKind.SCHOOL, SchoolType.VOLUNTARY_CONTROLLED),
    "foundation school": (NodeKind.SCHOOL, SchoolType.FOUNDATION),
    "local authority nursery school": (NodeKind.SCHOOL, SchoolType.NURSERY_SCHOOL),
    "community special school": (NodeKind.SCHOOL, SchoolType.SPECIAL),
    "foundation special school": (NodeKind.SCHOOL, SchoolType.SPECIAL),
    "non-maintained special school": (NodeKind.SCHOOL, SchoolType.SPECIAL),
    "other independent special school": (NodeKind.SCHOOL, SchoolType.INDEPENDENT),
    "other independent school": (NodeKind.SCHOOL, SchoolType.INDEPENDENT),
    "pupil referral unit": (NodeKind.SCHOOL, SchoolType.PUPIL_REFERRAL_UNIT),
    "academy converter": (NodeKind.SCHOOL, SchoolType.ACADEMY_CONVERTER),
    "academy special converter": (NodeKind.SCHOOL, SchoolType.ACADEMY_CONVERTER),
    "academy alternative provision converter": (NodeKind.SCHOOL, SchoolType.ALTERNATIVE_PROVISION),
    "academy 16-19 converter": (NodeKind.SCHOOL, SchoolType.ACADEMY_CONVERTER),
    "academy sponsor led": (NodeKind.SCHOOL, SchoolType.ACADEMY_SPONSOR_LED),
    "academy special sponsor led": (NodeKind.SCHOOL, SchoolType.ACADEMY_SPONSOR_LED),
    "academy alternative provision sponsor led": (NodeKind.SCHOOL, SchoolType.ALTERNATIVE_PROVISION),
    "academy 16 to 19 sponsor led": (NodeKind.SCHOOL, SchoolType.ACADEMY_SPONSOR_LED),
    "academy secure 16 to 19": (NodeKind.SCHOOL, SchoolType.ACADEMY_SPONSOR_LED),
    "free schools": (NodeKind.SCHOOL, SchoolType.FREE_SCHOOL),
    "free schools special": (NodeKind.SCHOOL, SchoolType.FREE_SCHOOL),
    "free schools alternative provision": (NodeKind.SCHOOL, SchoolType.ALTERNATIVE_PROVISION),
    "free schools 16 to 19": (NodeKind.SCHOOL, SchoolType.FREE_SCHOOL),
    "studio schools": (NodeKind.SCHOOL, SchoolType.STUDIO_SCHOOL),
    "university technical college": (NodeKind.SCHOOL, SchoolType.UTC),
    "city technology college": (NodeKind.SCHOOL, SchoolType.CITY_TECHNOLOGY_COLLEGE),
    "further education": (NodeKind.FE_COLLEGE, CollegeType.FURTHER_EDUCATION),
    "sixth form centres": (NodeKind.FE_COLLEGE, CollegeType.SIXTH_FORM_COLLEGE),
    "special post 16 institution": (NodeKind.FE_COLLEGE, CollegeType.SPECIAL_POST_16),
    "higher education institutions": (NodeKind.COMMUNITY_PARTNER, PartnerType.UNIVERSITY),
    "children's centre": (NodeKind.COMMUNITY_PARTNER, PartnerType.CHILDRENS_CENTRE),
    "children's centre linked site": (NodeKind.COMMUNITY_PARTNER, PartnerType.CHILDRENS_CENTRE),
}
#: Types a local authority maintains (administrative tie, not collaboration).
MAINTAINED = frozenset(
    {
        "community school",
        "voluntary aided school",
        "voluntary controlled school",
        "foundation school",
        "local authority nursery school",
        "community special school",
        "foundation special school",
        "pupil referral unit",
    }
)
TRUST_FLAGS = {
    "3": TrustType.MULTI_ACADEMY,
    "5": TrustType.SINGLE_ACADEMY,
    "1": TrustType.FOUNDATION,
    "2": None,
}
#: GIAS Group Type (code) -> (kind, subtype) for allgroupsdata.csv and alllinksdata.csv.
GROUP_TYPES: dict[str, tuple[NodeKind, str | None]] = {
    "01": (NodeKind.FEDERATION, None),
    "02": (NodeKind.TRUST, TrustType.FOUNDATION),
    "05": (NodeKind.SPONSOR, None),
    "06": (NodeKind.TRUST, TrustType.MULTI_ACADEMY),
    "07": (NodeKind.TRUST, TrustType.UMBRELLA),
    "10": (NodeKind.TRUST, TrustType.SINGLE_ACADEMY),
    "11": (NodeKind.TRUST, TrustType.SECURE_SINGLE_ACADEMY),
}
GROUP_TYPE_NAMES = {
    "federation": "01",
    "trust": "02",
    "school sponsor": "05",
    "multi-academy trust": "06",
    "umbrella trust": "07",
    "single-academy trust": "10",
    "secure single-academy trust": "11",
}
#: Tie kinds that say which group a school belongs to; GIAS loads end them when a school leaves.
MEMBERSHIPS = (EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY)
#: The establishments file's columns that state memberships; without them a file states none.
MEMBERSHIP_COLUMNS = (
    "Trusts (code)",
    "Trusts (name)",
    "Federations (code)",
    "Federations (name)",
    "SchoolSponsors (name)",
)
#: Columns some GIAS downloads lack -> the fields they fill.
OPTIONAL_COLUMNS = {"OfstedRating (name)": "ofsted_rating", "OfstedLastInsp": "ofsted_date"}
#: GIAS's placeholder for a date it does not know.
GIAS_NO_DATE = date(1900, 1, 1)
#: GIAS joins several groups in one cell with "~" (e.g. a school in two federations).
MULTI_SEPARATOR = "~"
_FILE_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")
#: GIAS's column of the day each record last changed: a record's own date, whatever the file is called.
CHANGED = "LastChangedDate"
#: The properties a loaded establishment keeps its record's date and its extract's in: an older record
#: (by ``LastChangedDate``, then by extract) never overwrites a newer one, whatever the files are called.
RECORD_DATE = "last_changed"
EXTRACT_DATE = "extracted"
#: The property naming the kinds of membership (trust, federation, sponsor) a record's file left unknown.
UNKNOWN_MEMBERSHIPS = "memberships_unknown"
_URN = re.compile(r"^\d{1,7}$")


def file_date(path: Path) -> date | None:
    """The extract date in a GIAS file name, e.g. ``edubasealldata20250718.csv``.

    >>> file_date(Path("edubasealldata20250718_birmingham.csv"))
    datetime.date(2025, 7, 18)
    """
    match = _FILE_DATE.search(path.name)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _to_latlon(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """British National Grid (EPSG:27700) to WGS84 (lat, lon), with pyproj."""
    from pyproj import Transformer

    if not points:
        return []
    transformer = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lons, lats = transformer.transform([p[0] for p in points], [p[1] for p in points])
    return list(zip(lats, lons, strict=True))


@dataclass
class GiasParse:
    """Validated organisations and ties from GIAS files, ready to write."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    ties: dict[str, Tie] = field(default_factory=dict)
    #: Providers whose GIAS memberships this load states in full (for ending old ones).
    described: set[str] = field(default_factory=set)
    #: Kinds of membership ("trust", "federation", "sponsor") the files leave unknown, for every
    #: establishment (a column blank in every row) or for one (a row whose flag contradicts its column).
    unknown: set[str] = field(default_factory=set)
    unknown_of: dict[str, frozenset[str]] = field(default_factory=dict)
    #: Records older than the stored ones: their own dates (``_keep_newer``).
    older: dict[str, tuple[date, date]] = field(default_factory=dict)
    #: Fields a file did not carry, to be kept from the store rather than erased.
    keep_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Groups and authorities built from another file's columns: stored facts they lack are kept.
    derived: set[str] = field(default_factory=set)
    #: Kinds of organisations already in the store that the files refer to.
    stored_kinds: dict[str, NodeKind] = field(default_factory=dict)
    #: Ids looked up in the store (found or not), so each is asked about once.
    looked_up: set[str] = field(default_factory=set)

    def add_org(self, org: Organisation) -> None:
        self.organisations[org.id] = org

    def add_tie(self, tie: Tie) -> None:
        self.ties[tie.id] = tie

    def look_up(self, store: GraphStore, ids: Iterable[str]) -> None:
        """Learn the kinds of ids the load does not define, in one store query."""
        missing = sorted({i for i in ids if i not in self.organisations and i not in self.looked_up})
        if missing:
            for org in store.get_organisations(missing):
                self.stored_kinds[org.id] = org.kind
            self.looked_up.update(missing)

    def kind(self, org_id: str) -> NodeKind | None:
        org = self.organisations.get(org_id)
        return org.kind if org is not None else self.stored_kinds.get(org_id)


class _Row(CheckedRow):
    """Typed access to one CSV row, reporting bad fields to the collector."""

    def get(self, column: str) -> str:
        return self.row.get(column, "").strip()

    def text(self, column: str) -> str | None:
        return self.get(column) or None

    def integer(self, column: str, *, required: bool = False) -> int | None:
        value = self.get(column)
        if not value:
            if required:
                self.bad(column, "is empty")
            return None
        try:
            return int(value)
        except ValueError:
            self.bad(column, f"{value!r} is not a whole number")
            return None

    def integers(self, column: str) -> list[int]:
        """A cell that may join several whole numbers with ``~``."""
        value = self.get(column)
        if not value:
            return []
        try:
            return [int(part) for part in value.split(MULTI_SEPARATOR)]
        except ValueError:
            self.bad(column, f"{value!r} is not a whole number (or several joined by {MULTI_SEPARATOR!r})")
            return []

    def number(self, column: str) -> float | None:
        value = self.get(column)
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            self.bad(column, f"{value!r} is not a number")
            return None

    def day(self, column: str) -> date | None:
        try:
            found = parse_date(self.get(column))
        except ValueError as exc:
            self.bad(column, str(exc))
            return None
        # GIAS writes 01-01-1900 where it has no date (1,328 opening dates in England): unknown, not 1900.
        return None if found == GIAS_NO_DATE else found

    def urn(self, column: str = "URN") -> int | None:
        value = self.get(column)
        if not _URN.match(value) or int(value) == 0:
            self.bad(column, f"malformed URN {value!r} (expected digits)")
            return None
        return int(value)


def _validated(row: _Row, build: Any, *args: Any, **fields: Any) -> Any:
    try:
        return build(*args, **fields)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"]) or "row"
            row.bad(column, error["msg"])
        return None


@dataclass
class _Groups:
    """The trust, federation and sponsor columns of one establishment row."""

    trusts: list[tuple[int, str]]
    trust_flag: str | None
    federations: list[tuple[int, str]]
    sponsors: list[str]
    #: Kinds of membership the row's flag states but its column leaves blank: unknown, not none.
    unknown: frozenset[str] = frozenset()


_NO_GROUPS = _Groups([], None, [], [])
#: Each kind of membership: the column naming the groups, and the flag column's values saying there is one.
MEMBERSHIP_KINDS = {
    "trust": ("Trusts (code)", "TrustSchoolFlag (code)", frozenset({"1", "3", "5"})),
    "federation": ("Federations (code)", "FederationFlag (name)", frozenset({"supported by a federation"})),
    "sponsor": ("SchoolSponsors (name)", "SchoolSponsorFlag (name)", frozenset({"linked to a sponsor"})),
}


def _contradicted(row: _Row) -> frozenset[str]:
    """Kinds of membership whose flag says the establishment has one while the column names none."""
    return frozenset(
        kind
        for kind, (column, flag, says_so) in MEMBERSHIP_KINDS.items()
        if not row.get(column) and row.get(flag).lower() in says_so
    )


def _group_columns(row: _Row) -> _Groups:
    if not (row.get("Trusts (code)") or row.get("Federations (code)") or row.get("SchoolSponsors (name)")):
        unknown = _contradicted(row)
        return _Groups([], None, [], [], unknown) if unknown else _NO_GROUPS  # most rows: a quick way past

    def paired(code_column: str, name_column: str) -> list[tuple[int, str]]:
        codes = row.integers(code_column)
        names = (row.text(name_column) or "").split(MULTI_SEPARATOR)
        if len(names) != len(codes):
            names = [names[0]] * len(codes)
        return [(code, name.strip()) for code, name in zip(codes, names, strict=True) if code and name.strip()]

    sponsors = [name.strip() for name in (row.text("SchoolSponsors (name)") or "").split(MULTI_SEPARATOR)]
    return _Groups(
        trusts=paired("Trusts (code)", "Trusts (name)"),
        trust_flag=row.text("TrustSchoolFlag (code)"),
        federations=paired("Federations (code)", "Federations (name)"),
        sponsors=[name for name in sponsors if name],
        unknown=_contradicted(row),
    )


@dataclass
class _Establishments:
    """An establishments file read but not yet checked, and the day its newest record changed."""

    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    newest: date | None


def read_establishments(path: Path) -> _Establishments:
    """Read an establishments file and find its newest ``LastChangedDate`` (bad dates are left to the rows)."""
    header, rows = read_csv(path, ESTABLISHMENT_COLUMNS, "a GIAS establishments file")
    all_rows = list(rows)
    if not all_rows:
        raise LoadError(f"{path}: no establishments after the header")
    newest = None
    if CHANGED in header:
        today = date.today()
        for _, raw in all_rows:
            try:
                changed = parse_date(raw.get(CHANGED, ""))
            except ValueError:
                continue
            if changed is not None and changed <= today and (newest is None or changed > newest):
                newest = changed
    return _Establishments(path, header, all_rows, newest)


def extract_day(paths: Sequence[Path], files: Sequence[_Establishments], as_of: date | None) -> tuple[date, str]:
    """The day a load's files describe, and where it came from: the records' own dates, never a name alone.

    A name (or ``as_of``) earlier than the file's newest record or later than today contradicts
    the content: the load is refused, naming both dates. A name later than the newest record is
    an extract of a quiet time (a small file's newest record may be months old); each record is
    dated by its own ``LastChangedDate`` anyway.
    """
    today = date.today()
    newest = max((f.newest for f in files if f.newest is not None), default=None)
    for path in paths:
        named = file_date(path)
        if named is not None and named > today:
            raise LoadError(f"{path}: its name dates it {named}, after today ({today}); rename the file")
    if as_of is not None:
        if as_of > today:
            raise LoadError(f"--as-of {as_of} is after today ({today})")
        if newest is not None and as_of < newest:
            raise LoadError(f"--as-of {as_of} is before the newest record's {CHANGED} ({newest}) in the file")
        return as_of, "--as-of"
    for f in files:
        named = file_date(f.path)
        if named is None or f.newest is None:
            continue
        if named < f.newest:
            raise LoadError(
                f"{f.path}: its name dates it {named}, but its newest record changed on {f.newest} ({CHANGED}):"
                " the name contradicts the content; rename the file (or drop the date from its name)"
            )
    named = next((d for d in map(file_date, paths) if d), None)
    if named is not None:
        return named, "file name"
    if newest is not None:
        return newest, f"newest {CHANGED}"
    return today, "today (no date in the file name and no LastChangedDate column)"


def parse_establishments(
    read: _Establishments,
    parse: GiasParse,
    issues: IssueCollector,
    report: LoadReport,
    as_of: date,
    *,
    with_groups: bool = True,
) -> None:
    """Establishments, local authorities, and (``with_groups``) trusts, federations and sponsors.

    Each record is dated by its ``LastChangedDate`` (else ``as_of``), kept as its ``last_changed``
    property: a later load of an older record leaves it as it is (``_keep_newer``).
    """
    path, header, all_rows = read.path, read.header, read.rows
    source = f"gias:{path.name}"
    today = date.today()
    # A file without the membership columns says nothing about memberships ("unknown", not "none"):
    # it adds none and ends none, as a file without the Ofsted columns keeps the ratings.
    absent = [column for column in MEMBERSHIP_COLUMNS if column not in header]
    describe = not (with_groups and absent)
    if with_groups and absent:
        with_groups = False
        report.notes.append(
            f"{path.name}: no {', '.join(repr(c) for c in absent)} column(s): memberships are unknown in this file,"
            " so none were read and the stored ones were kept"
        )
    # GIAS dropped the Ofsted columns in 2025: a file without them must not erase known ratings;
    # and no GIAS file erases the inspection history (loaders.ofsted adds to it).
    keeps = (*(f for column, f in OPTIONAL_COLUMNS.items() if column not in header), "inspections")
    parsed: list[tuple[Organisation, tuple[float, float] | None, _Groups]] = []
    seen: dict[int, int] = {}
    progress = Progress(f"reading {path.name}", len(all_rows))
    outside = 0
    for number, (line, raw) in enumerate(all_rows):
        progress.update(number)
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn()
        type_name = row.text("TypeOfEstablishment (name)") or ""
        status_name = row.text("EstablishmentStatus (name)") or ""
        status = STATUSES.get(status_name.lower())
        if status is None:
            row.bad("EstablishmentStatus (name)", f"unknown status {status_name!r}")
        phase_name = row.text("PhaseOfEducation (name)") or ""
        phase = PHASES.get(phase_name.lower()) if phase_name else None
        if phase_name and phase is None:
            row.bad("PhaseOfEducation (name)", f"unknown phase {phase_name!r}")
        inspected = row.day("OfstedLastInsp")
        if inspected is not None and inspected > as_of:
            row.bad("OfstedLastInsp", f"{inspected} is after the file's date ({as_of})")
        changed = row.day(CHANGED)
        if changed is not None and changed > today:
            row.bad(CHANGED, f"{changed} is after today ({today})")
        rating_name = row.text("OfstedRating (name)") or ""
        rating = RATINGS.get(rating_name.lower()) if rating_name else None
        if rating_name and rating is None:
            row.bad("OfstedRating (name)", f"unknown Ofsted rating {rating_name!r}")
        kind, subtype = TYPES.get(type_name.lower(), (NodeKind.SCHOOL, SchoolType.OTHER))
        if (
            kind is NodeKind.FE_COLLEGE
            and "sixth form college" in (row.text("FurtherEducationType (name)") or "").lower()
        ):
            subtype = CollegeType.SIXTH_FORM_COLLEGE
        easting, northing = row.number("Easting"), row.number("Northing")
        # Blank or 0 means GIAS does not know where it is, not a point off Cornwall.
        point = (easting, northing) if easting and northing else None
        fields: dict[str, Any] = {
            "kind": kind,
            "subtype": subtype,
            "name": row.text("EstablishmentName") or "",
            "status": status or Status.OPEN,
            "urn": urn,
            "ukprn": row.integer("UKPRN"),
            "phase": phase,
            "type_name": type_name or None,
            "la_code": row.integer("LA (code)"),
            "local_authority": row.text("LA (name)"),
            "district": row.text("DistrictAdministrative (name)"),
            "constituency": row.text("ParliamentaryConstituency (name)"),
            "postcode": row.text("Postcode"),
            "pupils": row.integer("NumberOfPupils"),
            "capacity": row.integer("SchoolCapacity"),
            "fsm_pct": row.number("PercentageFSM"),
            "urban_rural": row.text("UrbanRural (name)"),
            "ofsted_rating": rating,
            "ofsted_date": inspected,
            # GIAS's rating and date join the history the standing is read from (analytics.standing).
            "inspections": [{"date": inspected, "kind": "graded", "rating": rating, "source": source}]
            if rating is not None and inspected is not None
            else [],
            "opened": row.day("OpenDate"),
            "closed": row.day("CloseDate"),
            "source": source,
            "properties": {
                key: value
                for key, value in {
                    "age_low": row.integer("StatutoryLowAge"),
                    "age_high": row.integer("StatutoryHighAge"),
                    "gender": row.text("Gender (name)"),
                    "religious_character": row.text("ReligiousCharacter (name)"),
                    "diocese": row.text("Diocese (name)"),
                    "ward": row.text("AdministrativeWard (name)"),
                    "region": row.text("GOR (name)"),
                    "type_group": row.text("EstablishmentTypeGroup (name)"),
                    # Searched by the front end (viz.search): the town, and the DfE number (LAESTAB).
                    "town": row.text("Town"),
                    "laestab": _laestab(row.get("LA (code)"), row.get("EstablishmentNumber")),
                    RECORD_DATE: (changed or as_of).isoformat(),
                    EXTRACT_DATE: as_of.isoformat(),
                }.items()
                if value is not None
            },
        }
        groups = _group_columns(row)
        if urn is not None and urn in seen:
            row.bad("URN", f"duplicate URN {urn} (first on line {seen[urn]})")
        # Validated here, in file order, so that --strict stops at the file's first bad row.
        org = _validated(row, Organisation, id=str(urn), **fields) if row.ok and urn is not None else None
        if org is None or urn is None:
            report.rows_rejected += 1
            continue
        seen[urn] = line
        parsed.append((org, point, groups))
    progress.done()

    if with_groups:
        _unknown_memberships(path, header, parsed, parse, report)
    unknown = frozenset(MEMBERSHIP_KINDS) if not describe else frozenset(parse.unknown)
    for org, _, groups in parsed:
        kinds = unknown | groups.unknown
        if kinds:
            # Kept with the record: a load of an older one, after it, must not read "unknown" as "left".
            org.properties[UNKNOWN_MEMBERSHIPS] = ",".join(sorted(kinds))
    located = iter(_to_latlon([point for _, point, _ in parsed if point is not None]))
    for org, point, groups in parsed:
        if point is not None:
            lat, lon = next(located)
            if 49 <= lat <= 61 and -9 <= lon <= 3:
                org.latitude, org.longitude = round(lat, 6), round(lon, 6)
            else:
                outside += 1
        parse.add_org(org)
        parse.keep_fields[org.id] = keeps
        _establishment_ties(org, groups if with_groups else None, parse, source, as_of, describe=describe)
    if outside:
        report.notes.append(f"{path.name}: {outside} Easting/Northing pair(s) outside Great Britain; location unknown")


def _unknown_memberships(
    path: Path,
    header: list[str],
    parsed: list[tuple[Organisation, tuple[float, float] | None, _Groups]],
    parse: GiasParse,
    report: LoadReport,
) -> None:
    """Note the kinds of membership the file leaves unknown: blank in every row, or contradicted by a row's flag.

    Either way the stored memberships of that kind are kept, not ended (a blanked column is not
    every school leaving its trust).
    """
    for kind, (column, flag, _) in MEMBERSHIP_KINDS.items():
        if column in header and parsed and not any(_stated(groups, kind) for _, _, groups in parsed):
            parse.unknown.add(kind)
            report.notes.append(
                f"warning: {path.name}: {column!r} is blank in every row: {kind} memberships are unknown in this file,"
                " so the stored ones were kept"
            )
            continue
        contradicted = [org.id for org, _, groups in parsed if kind in groups.unknown]
        if contradicted:
            report.notes.append(
                f"warning: {path.name}: {len(contradicted)} row(s) with {flag!r} saying so but {column!r} blank"
                f" (URN {', '.join(contradicted[:5])}{'...' if len(contradicted) > 5 else ''}):"
                f" their {kind} memberships are unknown, so the stored ones were kept"
            )
    for org, _, groups in parsed:
        if groups.unknown:
            parse.unknown_of[org.id] = groups.unknown


def _stated(groups: _Groups, kind: str) -> bool:
    return bool(groups.trusts if kind == "trust" else groups.federations if kind == "federation" else groups.sponsors)


def _establishment_ties(
    org: Organisation, groups: _Groups | None, parse: GiasParse, source: str, as_of: date, *, describe: bool = True
) -> None:
    """The establishment's local authority tie and (``groups``) trust, federation and sponsor ties.

    ``describe``: the load states this establishment's memberships in full (so it may end old ones).
    """
    if org.kind not in (NodeKind.SCHOOL, NodeKind.FE_COLLEGE):
        return
    # A closed school's ties end when it closed; they stay as history.
    until = (org.closed or as_of) if org.status is Status.CLOSED else None
    if describe:
        parse.described.add(org.id)
    if org.la_code is not None and org.local_authority:
        la = la_id(org.la_code)
        if la not in parse.organisations:
            parse.add_org(
                Organisation(
                    id=la,
                    kind=NodeKind.LOCAL_AUTHORITY,
                    name=org.local_authority,
                    la_code=org.la_code,
                    local_authority=org.local_authority,
                    source=source,
                )
            )
            parse.derived.add(la)
        if (org.type_name or "").lower() in MAINTAINED:
            parse.add_tie(_tie(source_id=org.id, target_id=la, kind=EdgeKind.MAINTAINED_BY, until=until, source=source))
    if groups is None:
        return
    for code, name in groups.trusts:
        trust = group_id(code)
        if trust not in parse.organisations:
            parse.add_org(
                Organisation(
                    id=trust,
                    kind=NodeKind.TRUST,
                    name=name,
                    group_uid=code,
                    subtype=TRUST_FLAGS.get(groups.trust_flag or ""),
                    source=source,
                )
            )
            parse.derived.add(trust)
        parse.add_tie(_membership(org.id, trust, EdgeKind.MEMBER_OF, None, until, source))
    for code, name in groups.federations:
        federation = group_id(code)
        if federation not in parse.organisations:
            parse.add_org(
                Organisation(
                    id=federation,
                    kind=NodeKind.FEDERATION,
                    name=name,
                    group_uid=code,
                    source=source,
                    # GIAS federations share one governing body: the hard end of the continuum.
                    properties={"governance": "hard_governance"},
                )
            )
            parse.derived.add(federation)
        parse.add_tie(_membership(org.id, federation, EdgeKind.MEMBER_OF, None, until, source))
    for name in groups.sponsors:
        sponsor = f"sponsor-{slugify(name)}"
        if sponsor not in parse.organisations:
            parse.add_org(Organisation(id=sponsor, kind=NodeKind.SPONSOR, name=name, source=source))
            parse.derived.add(sponsor)
        parse.add_tie(_membership(org.id, sponsor, EdgeKind.SPONSORED_BY, None, until, source))


def _tie(**fields: Any) -> Tie:
    """A tie with its stable id, validated once (``make_tie`` validates twice: too slow for England)."""
    key = tie_key(fields["kind"], fields["source_id"], fields["target_id"], fields.get("focus"), fields.get("since"))
    return Tie(id=key, **fields)


def _membership(member: str, group: str, kind: EdgeKind, since: date | None, until: date | None, source: str) -> Tie:
    return _tie(
        source_id=member,
        target_id=group,
        kind=kind,
        role=MemberRole.MEMBER if kind is EdgeKind.MEMBER_OF else None,
        since=since,
        until=until if until is None or since is None or until >= since else since,
        source=source,
    )


def _closed_on(org: Organisation | None) -> date | None:
    if org is None or org.status is not Status.CLOSED:
        return None
    return org.closed


def parse_links(path: Path, parse: GiasParse, store: GraphStore, issues: IssueCollector, report: LoadReport) -> None:
    """Predecessor/successor links become ``predecessor_of``; sixth-form links, collaboration."""
    _header, rows = read_csv(path, LINK_COLUMNS, "a GIAS establishment links file")
    source = f"gias:{path.name}"
    candidates: list[tuple[_Row, str, str, str, date | None]] = []
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn, link_urn = row.urn("URN"), row.urn("LinkURN")
        since = row.day("LinkEstablishedDate")
        if row.ok and urn is not None and urn == link_urn:
            row.bad("LinkURN", "an establishment cannot be linked to itself")
        if not row.ok or urn is None or link_urn is None:
            report.rows_rejected += 1
            continue
        candidates.append((row, str(urn), str(link_urn), (row.text("LinkType") or "").lower(), since))
    parse.look_up(store, (end for _, a, b, _, _ in candidates for end in (a, b)))
    skipped: Counter[str] = Counter()
    for row, a, b, link_type, since in candidates:
        if parse.kind(a) is None or parse.kind(b) is None:
            skipped["to establishments not in the load or the store"] += 1
            continue
        ends: tuple[str, str] | None
        if link_type.startswith("successor"):
            ends = (a, b)
        elif link_type.startswith("predecessor"):
            ends = (b, a)
        elif link_type == "result of amalgamation":
            # GIAS lists this link from both ends; the school that closed first came before.
            ends = _amalgamation_order(parse, a, b)
        elif link_type.startswith("sixth form centre"):
            pair = sorted((a, b))
            tie = _validated(
                row,
                _tie,
                source_id=pair[0],
                target_id=pair[1],
                kind=EdgeKind.COLLABORATES_ON,
                focus="sixth_form_centre",
                since=since,
                source=source,
                notes=row.text("LinkType"),
            )
            if tie is None:
                report.rows_rejected += 1
            else:
                parse.ties.setdefault(tie.id, tie)
            continue
        else:
            skipped["of other types (merged, expansion, closure...)"] += 1
            continue
        if ends is None:
            skipped["of amalgamation with no way to tell which came first"] += 1
            continue
        tie = _validated(
            row,
            _tie,
            source_id=ends[0],
            target_id=ends[1],
            kind=EdgeKind.PREDECESSOR_OF,
            since=since,
            source=source,
            notes=row.text("LinkType"),
        )
        if tie is None:
            report.rows_rejected += 1
            continue
        kinds = parse.kind(tie.source_id), parse.kind(tie.target_id)
        if kinds[0] is None or kinds[1] is None or check_endpoints(tie, kinds[0], kinds[1]):
            skipped["between kinds the graph does not link (e.g. a college succeeded by a university)"] += 1
            continue
        # Each link appears from both ends, sometimes with dates a day apart: the first one wins.
        parse.ties.setdefault(tie.id, tie)
    for why, count in sorted(skipped.items()):
        report.notes.append(f"{path.name}: {count} link(s) {why} were skipped")


def _amalgamation_order(parse: GiasParse, a: str, b: str) -> tuple[str, str] | None:
    org_a, org_b = parse.organisations.get(a), parse.organisations.get(b)
    closed_a, closed_b = _closed_on(org_a), _closed_on(org_b)
    if closed_a and (closed_b is None or closed_a < closed_b):
        return a, b
    if closed_b and (closed_a is None or closed_b < closed_a):
        return b, a
    return None


def _group_type(row: _Row) -> tuple[NodeKind, str | None] | None:
    """The kind of group a row names, by its Group Type (code) or, without one, its Group Type."""
    code = row.text("Group Type (code)")
    if code is not None:
        if code.zfill(2) not in GROUP_TYPES:
            row.bad("Group Type (code)", f"unknown group type code {code!r} (expected one of {', '.join(GROUP_TYPES)})")
            return None
        return GROUP_TYPES[code.zfill(2)]
    name = row.text("Group Type")
    if name is None:
        row.bad("Group Type", "is empty")
        return None
    if name.lower() not in GROUP_TYPE_NAMES:
        expected = ", ".join(known.capitalize() for known in GROUP_TYPE_NAMES)
        row.bad("Group Type", f"unknown group type {name!r} (expected one of {expected})")
        return None
    return GROUP_TYPES[GROUP_TYPE_NAMES[name.lower()]]


def _group_org(row: _Row, uid: int, kind: NodeKind, subtype: str | None, source: str) -> Organisation | None:
    closed = row.day("Closed Date")
    opened = row.day("Incorporated on (open date)") or row.day("Open date")
    status_text = (row.text("Group Status") or "").lower()
    companies_house = row.text("Companies House Number")
    return _validated(
        row,
        Organisation,
        id=group_id(uid),
        kind=kind,
        subtype=subtype,
        name=row.text("Group Name") or "",
        group_uid=uid,
        status=Status.CLOSED if closed or status_text == "closed" else Status.OPEN,
        opened=opened,
        closed=closed,
        postcode=row.text("Group Postcode") or row.text("Group Contact Postcode"),
        ukprn=row.integer("UKPRN") or row.integer("Ukprn"),
        source=source,
        properties={"companies_house_number": companies_house} if companies_house else {},
    )


def parse_groups(path: Path, parse: GiasParse, issues: IssueCollector, report: LoadReport) -> None:
    """GIAS ``allgroupsdata.csv``: trusts, federations, sponsors, with open/closed dates."""
    _header, rows = read_csv(path, GROUP_COLUMNS, "a GIAS groups file (allgroupsdata)")
    source = f"gias:{path.name}"
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        uid = row.integer("Group UID", required=True)
        group_type = _group_type(row)
        org = _group_org(row, uid, *group_type, source) if uid is not None and group_type else None
        if org is None or not row.ok:
            report.rows_rejected += 1
            continue
        parse.add_org(org)
        parse.derived.discard(org.id)


def parse_group_links(
    path: Path, parse: GiasParse, store: GraphStore, issues: IssueCollector, report: LoadReport
) -> None:
    """GIAS ``alllinksdata.csv``: which establishment belongs to which group, since when.

    A group missing from ``allgroupsdata.csv`` and the store is built from the
    row's own group columns; a row without them is rejected.
    """
    _header, rows = read_csv(path, GROUP_LINK_COLUMNS, "a GIAS group links file (alllinksdata)")
    source = f"gias:{path.name}"
    candidates: list[tuple[_Row, str, int, date | None]] = []
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn("URN")
        uid = row.integer("Group UID", required=True)
        joined = row.day("Joined date")
        if not row.ok or urn is None or uid is None:
            report.rows_rejected += 1
            continue
        candidates.append((row, str(urn), uid, joined))
    parse.look_up(store, (end for _, school, uid, _ in candidates for end in (school, group_id(uid))))
    outside = 0
    for row, school, uid, joined in candidates:
        group = group_id(uid)
        if parse.kind(group) is None:
            if not row.text("Group Name") or not (row.text("Group Type") or row.text("Group Type (code)")):
                row.bad("Group UID", f"unknown group {uid} (not in the groups file nor the store)")
                report.rows_rejected += 1
                continue
            group_type = _group_type(row)
            org = _group_org(row, uid, *group_type, source) if group_type else None
            if org is None:
                report.rows_rejected += 1
                continue
            parse.add_org(org)
        school_kind = parse.kind(school)
        if school_kind is None:
            outside += 1
            continue
        kind = EdgeKind.SPONSORED_BY if parse.kind(group) is NodeKind.SPONSOR else EdgeKind.MEMBER_OF
        until = _closed_on(parse.organisations.get(school)) or _closed_on(parse.organisations.get(group))
        tie = _validated(row, _membership, school, group, kind, joined, until, source)
        if tie is None:
            report.rows_rejected += 1
            continue
        reason = check_endpoints(tie, school_kind, parse.kind(group) or NodeKind.TRUST)
        if reason:
            row.bad("URN", reason)
            report.rows_rejected += 1
            continue
        parse.add_tie(tie)
        parse.described.add(school)
    if outside:
        report.notes.append(f"{path.name}: {outside} membership(s) of establishments not in the load were skipped")


def parse_hubs(path: Path, parse: GiasParse, store: GraphStore, issues: IssueCollector, report: LoadReport) -> None:
    """Teaching school hubs and their lead schools."""
    _header, rows = read_csv(path, HUB_COLUMNS, "a teaching school hubs file")
    source = f"dfe:{path.name}"
    candidates: list[tuple[_Row, str, int | None, Organisation]] = []
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn("lead_school_urn")
        code = row.text("tsh_region_code")
        name = row.text("teaching_school_hub_name (as in source comment)")
        la_code = row.integer("GIAS_LA (code)")
        if not code:
            row.bad("tsh_region_code", "is empty")
        if not name:
            row.bad("teaching_school_hub_name (as in source comment)", "is empty")
        if not row.ok or urn is None or code is None or name is None:
            report.rows_rejected += 1
            continue
        region = row.text("dfe_region_group")
        org = _validated(
            row,
            Organisation,
            id=f"tsh-{slugify(code)}",
            kind=NodeKind.TEACHING_SCHOOL_HUB,
            name=name,
            source=source,
            properties={"region_code": code, **({"region": region} if region else {})},
        )
        if org is None:
            report.rows_rejected += 1
            continue
        candidates.append((row, str(urn), la_code, org))
    local_authorities = {la_id(la) for _, _, la, _ in candidates if la is not None}
    parse.look_up(store, [*(lead for _, lead, _, _ in candidates), *local_authorities])
    absent = 0
    for row, lead, la, hub in candidates:
        kind = parse.kind(lead)
        if kind is None and la is not None and parse.kind(la_id(la)) is NodeKind.LOCAL_AUTHORITY:
            # The hubs file is national: a lead school outside the loaded authorities is skipped,
            # but one missing from an authority that is loaded is a wrong URN.
            row.bad(
                "lead_school_urn",
                f"unknown school {lead}: no establishment with this URN in the load or the store,"
                f" though its local authority ({la}) is loaded",
            )
            report.rows_rejected += 1
            continue
        if kind is None:
            absent += 1
            continue
        if kind not in (NodeKind.SCHOOL, NodeKind.FE_COLLEGE):
            row.bad("lead_school_urn", f"{lead} is a {kind.value}, not a school or college")
            report.rows_rejected += 1
            continue
        parse.add_org(hub)
        parse.add_tie(
            _tie(source_id=lead, target_id=hub.id, kind=EdgeKind.MEMBER_OF, role=MemberRole.LEAD, source=source)
        )
    if absent:
        report.notes.append(f"{path.name}: {absent} hub(s) skipped: their lead school is not in the load or the store")


def load_gias(
    store: GraphStore,
    establishments: Sequence[Path] = (),
    *,
    links: Path | None = None,
    groups: Path | None = None,
    group_links: Path | None = None,
    hubs: Path | None = None,
    strict: bool = False,
    dry_run: bool = False,
    as_of: date | None = None,
    audit: AuditOf | None = None,
) -> LoadReport:
    """Load GIAS files into the store in one transaction and report what happened.

    With ``group_links`` (``alllinksdata.csv``) memberships come from it, with
    their joined dates; otherwise from the establishments files' ``Trusts``,
    ``Federations`` and ``SchoolSponsors`` columns. Memberships the store holds
    from an earlier GIAS load, for a school this load describes, and that the
    new files no longer state, are ended (on the extract date, or the day the
    school closed) rather than deleted.
    """
    report = LoadReport(dry_run=dry_run)
    issues = IssueCollector(report, strict)
    parse = GiasParse()
    paths = [*establishments, *(p for p in (groups, group_links, links, hubs) if p is not None)]
    if not paths:
        raise LoadError("nothing to load: give an establishments file or another GIAS file")
    read = [read_establishments(path) for path in establishments]
    day, dated_by = extract_day(paths, read, as_of)
    report.files = [str(p) for p in paths]
    if dated_by != "file name":
        report.notes.append(f"data date: {day.isoformat()} ({dated_by})")
    loaded = store.get_meta().get("data_date", "")
    if loaded > day.isoformat():
        report.notes.append(
            f"note: these files date from {day.isoformat()}, before the data already loaded ({loaded}):"
            " records from newer extracts were kept as they are; this one filled gaps and added history"
        )
    for establishment in read:
        parse_establishments(establishment, parse, issues, report, day, with_groups=group_links is None)
        establishment.rows = []  # England's raw rows: hundreds of MB, not needed past here
    if groups is not None:
        parse_groups(groups, parse, issues, report)
    if group_links is not None:
        parse_group_links(group_links, parse, store, issues, report)
    if links is not None:
        parse_links(links, parse, store, issues, report)
    if hubs is not None:
        parse_hubs(hubs, parse, store, issues, report)

    stored_orgs = _keep_known_fields(store, parse)
    _refuse_foreign_records(stored_orgs, parse)
    kept = _keep_newer(store, parse, stored_orgs, day, check_ties=loaded > day.isoformat())
    if kept:
        report.notes.append(
            f"{kept} record(s) older than the stored ones ({CHANGED}) were kept as stored; their gaps were filled"
        )
    batch = WriteBatch(meta={f"source:{p.name}": (file_date(p) or day).isoformat() for p in paths})
    batch.meta["data_date"] = max(day.isoformat(), loaded)
    stored = store.all_ties(kinds=MEMBERSHIPS) if parse.described else []
    if parse.unknown or parse.unknown_of:
        parse.look_up(store, {tie.target_id for tie in stored if tie.source_id in parse.described})
    batch.delete_ties = _reconcile_memberships(stored, parse, day)
    batch.end_ties = _ended_memberships(stored, parse, day, set(batch.delete_ties))
    batch.organisations = list(parse.organisations.values())
    batch.ties = list(parse.ties.values())
    report.organisations = len(batch.organisations)
    report.ties = len(batch.ties)
    report.ties_ended = len(batch.end_ties)
    if not dry_run:
        write_load(store, batch, report, audit)  # all or nothing; Neo4j writes England in stages, about 20 s
    return report


#: Sources a load writes: a record so marked may change kind when a later extract says so.
_LOADED = ("gias:", "dfe:", "ofsted:", "ties:")


def _refuse_foreign_records(stored_orgs: dict[str, Organisation], parse: GiasParse) -> None:
    """Refuse a load that would silently turn someone's record into an official one (with its ties).

    Ids of the official shapes are reserved to loads and admins, but a record made through the API
    before (or by an admin) may hold one: a URN held by a partnership stays the partnership's until
    someone deletes or renames it.
    """
    clashes = [
        f"{org_id} ({stored.kind.value}, source {stored.source or 'none'})"
        for org_id, stored in stored_orgs.items()
        if stored.kind is not parse.organisations[org_id].kind and not (stored.source or "").startswith(_LOADED)
    ]
    if clashes:
        raise LoadError(
            f"the store holds {len(clashes)} id(s) of this load as records no load wrote, of another kind:"
            f" {', '.join(clashes[:5])}{'...' if len(clashes) > 5 else ''}; delete or rename them, then load again"
        )


def _keep_known_fields(store: GraphStore, parse: GiasParse) -> dict[str, Organisation]:
    """Keep stored facts the files do not carry: Ofsted ratings, a trust's Companies House number...

    Returns the stored versions of the load's organisations.
    """
    ids = sorted(parse.organisations)
    found = {org.id: org for org in store.get_organisations(ids)} if ids else {}
    for stored in found.values():
        fresh = parse.organisations[stored.id]
        keep = parse.keep_fields.get(stored.id, ())
        update: dict[str, Any] = {name: getattr(stored, name) for name in keep if name != "inspections"}
        if stored.id in parse.derived and stored.kind is fresh.kind:
            update.update({name: value for name, value in stored if value is not None and getattr(fresh, name) is None})
            update["properties"] = {**stored.properties, **fresh.properties}
            update.pop("source", None)
        if update:
            fresh = parse.organisations[stored.id] = fresh.model_copy(update=update)
        if "inspections" in keep and stored.inspections:
            merged = merge_inspections(stored.inspections, fresh.inspections)
            parse.organisations[stored.id] = with_inspections(fresh, merged)
    return found


def _is_gias(tie: Tie) -> bool:
    return (tie.source or "").startswith("gias:")


def _reconcile_memberships(stored: list[Tie], parse: GiasParse, day: date) -> list[str]:
    """Match the load's memberships to the stored ones, so a re-load neither duplicates nor loses history.

    The same membership may be stored undated (from the establishments file)
    and stated dated (from ``alllinksdata.csv``), or the other way round. A
    membership the store holds as ended, stated again, is a school that left
    and came back: a new membership from the extract date. Returns the ids of
    stored ties the load's dated ones replace.
    """
    by_id = {tie.id: tie for tie in stored}
    current: dict[tuple[EdgeKind, str, str], Tie] = {}
    for tie in stored:
        if tie.until is None and _is_gias(tie):
            current[(tie.kind, tie.source_id, tie.target_id)] = tie
    replaced = []
    for tie in list(parse.ties.values()):
        if tie.kind not in MEMBERSHIPS or not _is_gias(tie):
            continue
        old = by_id.get(tie.id)
        if old is not None:
            if _is_gias(old) and old.until is not None and tie.until is None and old.until < day:
                _swap(parse, tie, since=day)
            continue
        same = current.get((tie.kind, tie.source_id, tie.target_id))
        if same is None:
            continue
        if tie.since is None:
            _swap(parse, tie, since=same.since)
        elif same.since is None:
            replaced.append(same.id)
    return replaced


def _swap(parse: GiasParse, tie: Tie, since: date | None) -> None:
    del parse.ties[tie.id]
    fields = tie.model_dump(exclude={"id"})
    fields["since"] = since
    if fields["until"] is not None and since is not None and fields["until"] < since:
        fields["until"] = since
    parse.add_tie(_tie(**fields))


def _ended_memberships(stored: list[Tie], parse: GiasParse, day: date, replaced: set[str]) -> list[tuple[str, date]]:
    """Current GIAS memberships of described schools that the new files no longer state, with their last day."""
    ended = []
    for tie in stored:
        if (
            tie.until is None
            and _is_gias(tie)
            and tie.source_id in parse.described
            and not _unknown(tie, parse)
            and tie.id not in parse.ties
            and tie.id not in replaced
            and not _newer_than(tie, day)
        ):
            member = parse.organisations.get(tie.source_id)
            # An older record ending what a newer one left unknown ends it on its own date (_keep_newer).
            record = parse.older.get(tie.source_id) or _version(member) or (day, day)
            until = _closed_on(member) or _left_on(record)
            ended.append((tie.id, max(until, tie.since) if tie.since else until))
    return ended


def _unknown(tie: Tie, parse: GiasParse) -> bool:
    """Whether the load leaves this membership's kind (trust, federation, sponsor) unknown for its school."""
    if not (parse.unknown or parse.unknown_of):
        return False
    kind = _membership_kind(tie, parse)
    return kind in parse.unknown or kind in parse.unknown_of.get(tie.source_id, frozenset())


def _membership_kind(tie: Tie, parse: GiasParse) -> str | None:
    group = parse.kind(tie.target_id)
    return "sponsor" if tie.kind is EdgeKind.SPONSORED_BY else group.value if group is not None else None


def _unknown_to(org: Organisation, tie: Tie, parse: GiasParse) -> bool:
    """Whether the stored record ``org`` came from a file that left this membership's kind unknown."""
    unknown = org.properties.get(UNKNOWN_MEMBERSHIPS)
    return isinstance(unknown, str) and _membership_kind(tie, parse) in unknown.split(",")


def _extract_date(source: str | None) -> date | None:
    """The date of the GIAS extract a record came from (``gias:edubasealldata20250718.csv``).

    >>> _extract_date("gias:edubasealldata20250718.csv"), _extract_date("ties:my20250718.csv")
    (datetime.date(2025, 7, 18), None)
    """
    if not (source or "").startswith("gias:"):
        return None
    return file_date(Path((source or "")[len("gias:") :]))


def _newer_than(tie: Tie, day: date) -> bool:
    """Whether a stored tie holds what an extract later than ``day`` said (its source, or its end)."""
    stated = _extract_date(tie.source)
    return (stated is not None and stated > day) or (tie.until is not None and tie.until > day)


#: Facts an older extract may fill in when a newer one left them empty.
_GAP_FIELDS = ("ofsted_rating", "ofsted_date")


def _version(org: Organisation | None) -> tuple[date, date] | None:
    """When a loaded record last changed, and the day of the extract that said so (the later, the newer).

    Records loaded before these dates were kept are dated by their extract's name.

    >>> _version(Organisation(id="1", kind="school", name="A", properties={"last_changed": "2025-07-16"}))
    (datetime.date(2025, 7, 16), datetime.date(2025, 7, 16))
    """
    if org is None:
        return None
    dates = []
    for name in (RECORD_DATE, EXTRACT_DATE):
        value = org.properties.get(name)
        try:
            dates.append(date.fromisoformat(value) if isinstance(value, str) else None)
        except ValueError:
            dates.append(None)
    changed, extracted = dates
    named = _extract_date(org.source)
    changed = changed or named
    if changed is None:
        return None
    return changed, extracted or named or changed


def _left_on(newer: tuple[date, date]) -> date:
    """The last day of a membership a record no longer states: the day that record last changed.

    Its ``LastChangedDate`` is the same whichever load comes first (an extract's date is not: it is
    whichever later extract was loaded), so loads in any order end it on the same day. Without
    ``LastChangedDate`` a record's date is its extract's.

    >>> _left_on((date(2025, 7, 9), date(2025, 7, 18)))
    datetime.date(2025, 7, 9)
    """
    return newer[0]


def _keep_newer(
    store: GraphStore, parse: GiasParse, stored_orgs: dict[str, Organisation], day: date, *, check_ties: bool
) -> int:
    """Make records older than the stored ones change only what they know better, record by record.

    Loads in any order give the same history: an organisation whose stored record changed later
    (its ``LastChangedDate``, whatever the files are called) stands as it is (the older record only
    fills its empty Ofsted facts), and a membership only the older record states was over by then:
    it is added ended on the day a newer load would have ended it (``_left_on``). Its stored
    memberships are not ended. Returns how many records were kept.
    """
    newer: dict[str, date] = {}
    for org_id, stored in stored_orgs.items():
        fresh = parse.organisations[org_id]
        stated = _version(stored)
        if stated is None or stated <= (_version(fresh) or (day, day)):
            continue
        newer[org_id] = _left_on(stated)
        # The stored record stands for the kinds of membership it knew; for those its file left
        # unknown, this older record is the best knowledge there is, ending on its own date.
        left_unknown = stored.properties.get(UNKNOWN_MEMBERSHIPS)
        known = frozenset(MEMBERSHIP_KINDS) - set(left_unknown.split(",") if isinstance(left_unknown, str) else ())
        parse.unknown_of[org_id] = parse.unknown_of.get(org_id, frozenset()) | known
        parse.older[org_id] = _version(fresh) or (day, day)
        gaps: dict[str, Any] = {
            name: getattr(fresh, name)
            for name in _GAP_FIELDS
            if getattr(stored, name) is None and getattr(fresh, name) is not None
        }
        # Inspections already hold the stored ones and this file's (_keep_known_fields merged them).
        if len(getattr(fresh, "inspections", ())) > len(getattr(stored, "inspections", ())):
            gaps["inspections"] = fresh.inspections
        parse.organisations[org_id] = stored.model_copy(update=gaps)
    if not (newer or check_ties):
        return 0
    held = {tie.id: tie for tie in store.all_ties()}
    for tie in list(parse.ties.values()):
        old = held.get(tie.id)
        if old is not None:
            if tie.source_id in newer or _newer_than(old, day):
                parse.ties[tie.id] = old
            continue
        ended_by = newer.get(tie.source_id)
        if (
            tie.kind in MEMBERSHIPS
            and ended_by is not None
            and tie.until is None
            and not _unknown_to(stored_orgs[tie.source_id], tie, parse)
        ):
            parse.ties[tie.id] = tie.model_copy(update={"until": max(ended_by, tie.since) if tie.since else ended_by})
    return sum(1 for org_id in newer if org_id not in parse.derived)
