"""Loader for DfE "Get Information about Schools" (GIAS) downloads.

Reads the establishments file (``edubasealldata*.csv``, plain or gzipped,
UTF-8 or cp1252), optionally the establishment links file, GIAS's groups files
(``allgroupsdata.csv``, ``alllinksdata.csv``) and the teaching school hubs list.
Everything is validated first; then the whole load is written in one
transaction, so a failed load leaves the store as it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    group_id,
    la_id,
    make_tie,
    slugify,
)
from graph_service.store.base import GraphStore, WriteBatch
from loaders.common import IssueCollector, LoadError, LoadReport, Progress, parse_date, read_csv

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
#: GIAS Group Type (code) -> (kind, subtype) for allgroupsdata.csv.
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
#: Columns some GIAS downloads lack -> the fields they fill.
OPTIONAL_COLUMNS = {"OfstedRating (name)": "ofsted_rating", "OfstedLastInsp": "ofsted_date"}
_FILE_DATE = re.compile(r"(20\d{2})(\d{2})(\d{2})")
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
    #: Fields a file did not carry, to be kept from the store rather than erased.
    keep_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add_org(self, org: Organisation) -> None:
        self.organisations[org.id] = org

    def add_tie(self, tie: Tie) -> None:
        self.ties[tie.id] = tie


class _Row:
    """Typed access to one CSV row, reporting bad fields to the collector."""

    def __init__(self, row: dict[str, str], file: str, line: int, issues: IssueCollector) -> None:
        self.row = row
        self.file = file
        self.line = line
        self.issues = issues
        self.ok = True

    def text(self, column: str) -> str | None:
        value = self.row.get(column, "")
        return value or None

    def bad(self, column: str, reason: str) -> None:
        self.ok = False
        self.issues.add(self.file, self.line, column, reason)

    def integer(self, column: str, *, required: bool = False) -> int | None:
        value = self.row.get(column, "")
        if not value:
            if required:
                self.bad(column, "is empty")
            return None
        try:
            return int(value)
        except ValueError:
            self.bad(column, f"{value!r} is not a whole number")
            return None

    def number(self, column: str) -> float | None:
        value = self.row.get(column, "")
        if not value:
            return None
        try:
            return float(value)
        except ValueError:
            self.bad(column, f"{value!r} is not a number")
            return None

    def day(self, column: str) -> date | None:
        try:
            return parse_date(self.row.get(column, ""))
        except ValueError as exc:
            self.bad(column, str(exc))
            return None

    def urn(self, column: str = "URN") -> int | None:
        value = self.row.get(column, "")
        if not _URN.match(value) or int(value) == 0:
            self.bad(column, f"malformed URN {value!r} (expected digits)")
            return None
        return int(value)


def _validated(row: _Row, build: Any, **fields: Any) -> Any:
    try:
        return build(**fields)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"]) or "row"
            row.bad(column, error["msg"])
        return None


def parse_establishments(path: Path, parse: GiasParse, issues: IssueCollector, report: LoadReport, as_of: date) -> None:
    """Establishments, local authorities, trusts, federations and sponsors from one file."""
    header, rows = read_csv(path, ESTABLISHMENT_COLUMNS, "a GIAS establishments file")
    source = f"gias:{path.name}"
    # GIAS dropped the Ofsted columns in 2025: a file without them must not erase known ratings.
    keeps = tuple(f for column, f in OPTIONAL_COLUMNS.items() if column not in header)
    parsed: list[tuple[dict[str, Any], tuple[float, float] | None, _Row]] = []
    seen: dict[int, int] = {}
    all_rows = list(rows)
    progress = Progress(f"reading {path.name}", len(all_rows))
    for number, (line, raw) in enumerate(all_rows):
        progress.update(number)
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn()
        type_name = row.text("TypeOfEstablishment (name)") or ""
        status_name = (row.text("EstablishmentStatus (name)") or "").lower()
        status = STATUSES.get(status_name)
        if status is None:
            row.bad("EstablishmentStatus (name)", f"unknown status {status_name!r}")
        phase_name = (row.text("PhaseOfEducation (name)") or "").lower()
        phase = PHASES.get(phase_name) if phase_name else None
        if phase_name and phase is None:
            row.bad("PhaseOfEducation (name)", f"unknown phase {phase_name!r}")
        rating_name = (row.text("OfstedRating (name)") or "").lower()
        rating = RATINGS.get(rating_name) if rating_name else None
        if rating_name and rating is None:
            row.bad("OfstedRating (name)", f"unknown Ofsted rating {rating_name!r}")
        kind, subtype = TYPES.get(type_name.lower(), (NodeKind.SCHOOL, SchoolType.OTHER))
        if (
            kind is NodeKind.FE_COLLEGE
            and "sixth form college" in (row.text("FurtherEducationType (name)") or "").lower()
        ):
            subtype = CollegeType.SIXTH_FORM_COLLEGE
        easting, northing = row.number("Easting"), row.number("Northing")
        point = (easting, northing) if easting and northing else None
        fsm = row.number("PercentageFSM")
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
            "fsm_pct": fsm,
            "urban_rural": row.text("UrbanRural (name)"),
            "ofsted_rating": rating,
            "ofsted_date": row.day("OfstedLastInsp"),
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
                    "ward": row.text("AdministrativeWard (name)"),
                    "region": row.text("GOR (name)"),
                    "type_group": row.text("EstablishmentTypeGroup (name)"),
                }.items()
                if value is not None
            },
        }
        if urn is not None and urn in seen:
            row.bad("URN", f"duplicate URN {urn} (first on line {seen[urn]})")
        if row.ok and urn is not None:
            seen[urn] = line
            parsed.append((fields, point, row))
        else:
            report.rows_rejected += 1
    progress.done()

    located = _to_latlon([p for _, p, _ in parsed if p is not None])
    positions = iter(located)
    for fields, point, row in parsed:
        if point is not None:
            lat, lon = next(positions)
            if 49 <= lat <= 61 and -9 <= lon <= 3:
                fields["latitude"], fields["longitude"] = round(lat, 6), round(lon, 6)
            else:
                row.issues.report.notes.append(
                    f"{row.file}:{row.line}: Easting/Northing {point} is outside Great Britain; location left unknown"
                )
        org = _validated(row, Organisation, id=str(fields["urn"]), **fields)
        if org is None:
            report.rows_rejected += 1
            continue
        parse.add_org(org)
        if keeps:
            parse.keep_fields[org.id] = keeps
        _group_ties(org, row, parse, source, as_of)


def _group_ties(org: Organisation, row: _Row, parse: GiasParse, source: str, as_of: date) -> None:
    """The establishment's local authority, trust, federation and sponsor ties."""
    until = org.closed if org.status is Status.CLOSED else None
    if org.kind not in (NodeKind.SCHOOL, NodeKind.FE_COLLEGE):
        return
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
        if (org.type_name or "").lower() in MAINTAINED:
            parse.add_tie(
                make_tie(source_id=org.id, target_id=la, kind=EdgeKind.MAINTAINED_BY, until=until, source=source)
            )
    trust_code = row.integer("Trusts (code)")
    trust_name = row.text("Trusts (name)")
    if trust_code and trust_name:
        trust = group_id(trust_code)
        parse.organisations.setdefault(
            trust,
            Organisation(
                id=trust,
                kind=NodeKind.TRUST,
                name=trust_name,
                group_uid=trust_code,
                subtype=TRUST_FLAGS.get(row.text("TrustSchoolFlag (code)") or ""),
                source=source,
            ),
        )
        parse.add_tie(
            make_tie(
                source_id=org.id,
                target_id=trust,
                kind=EdgeKind.MEMBER_OF,
                role=MemberRole.MEMBER,
                until=until,
                source=source,
            )
        )
    federation_code = row.integer("Federations (code)")
    federation_name = row.text("Federations (name)")
    if federation_code and federation_name:
        federation = group_id(federation_code)
        parse.organisations.setdefault(
            federation,
            Organisation(
                id=federation,
                kind=NodeKind.FEDERATION,
                name=federation_name,
                group_uid=federation_code,
                source=source,
                # GIAS federations share one governing body: the hard end of the continuum.
                properties={"governance": "hard_governance"},
            ),
        )
        parse.add_tie(
            make_tie(
                source_id=org.id,
                target_id=federation,
                kind=EdgeKind.MEMBER_OF,
                role=MemberRole.MEMBER,
                until=until,
                source=source,
            )
        )
    sponsor_name = row.text("SchoolSponsors (name)")
    if sponsor_name:
        sponsor = f"sponsor-{slugify(sponsor_name)}"
        parse.organisations.setdefault(
            sponsor, Organisation(id=sponsor, kind=NodeKind.SPONSOR, name=sponsor_name, source=source)
        )
        parse.add_tie(
            make_tie(source_id=org.id, target_id=sponsor, kind=EdgeKind.SPONSORED_BY, until=until, source=source)
        )


def parse_links(path: Path, parse: GiasParse, known: set[str], issues: IssueCollector, report: LoadReport) -> None:
    """Predecessor/successor links become ``predecessor_of``; sixth-form links, collaboration."""
    _header, rows = read_csv(path, LINK_COLUMNS, "a GIAS establishment links file")
    source = f"gias:{path.name}"
    outside = unmapped = 0
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn, link_urn = row.urn("URN"), row.urn("LinkURN")
        since = row.day("LinkEstablishedDate")
        link_type = (row.text("LinkType") or "").lower()
        if not row.ok or urn is None or link_urn is None:
            report.rows_rejected += 1
            continue
        if urn == link_urn:
            row.bad("LinkURN", "an establishment cannot be linked to itself")
            report.rows_rejected += 1
            continue
        a, b = str(urn), str(link_urn)
        if a not in known or b not in known:
            outside += 1
            continue
        if link_type.startswith("successor"):
            fields = {"source_id": a, "target_id": b, "kind": EdgeKind.PREDECESSOR_OF}
        elif link_type.startswith("predecessor") or link_type == "result of amalgamation":
            fields = {"source_id": b, "target_id": a, "kind": EdgeKind.PREDECESSOR_OF}
        elif link_type.startswith("sixth form centre"):
            fields = {
                "source_id": min(a, b),
                "target_id": max(a, b),
                "kind": EdgeKind.COLLABORATES_ON,
                "focus": "sixth_form_centre",
            }
        else:
            unmapped += 1
            continue
        tie = _validated(row, make_tie, since=since, source=source, notes=row.text("LinkType"), **fields)
        if tie is None:
            report.rows_rejected += 1
            continue
        parse.add_tie(tie)
    if outside:
        report.notes.append(f"{path.name}: {outside} link(s) to establishments not in the load were skipped")
    if unmapped:
        report.notes.append(f"{path.name}: {unmapped} link(s) of other types (merged, expansion...) were skipped")


def parse_groups(path: Path, parse: GiasParse, issues: IssueCollector, report: LoadReport) -> None:
    """GIAS ``allgroupsdata.csv``: trusts, federations, sponsors, with open/closed dates."""
    _header, rows = read_csv(path, GROUP_COLUMNS, "a GIAS groups file (allgroupsdata)")
    source = f"gias:{path.name}"
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        uid = row.integer("Group UID", required=True)
        code = row.text("Group Type (code)") or GROUP_TYPE_NAMES.get((row.text("Group Type") or "").lower(), "")
        code = code.zfill(2) if code else code
        if code not in GROUP_TYPES:
            row.bad("Group Type", f"unknown group type {row.text('Group Type')!r}")
        closed = row.day("Closed Date")
        opened = row.day("Incorporated on (open date)") or row.day("Open date")
        status_text = (row.text("Group Status") or "").lower()
        if not row.ok or uid is None:
            report.rows_rejected += 1
            continue
        kind, subtype = GROUP_TYPES[code]
        org = _validated(
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
            postcode=row.text("Group Postcode"),
            ukprn=row.integer("UKPRN"),
            source=source,
            properties={"companies_house_number": row.text("Companies House Number")}
            if row.text("Companies House Number")
            else {},
        )
        if org is None:
            report.rows_rejected += 1
            continue
        parse.add_org(org)


def parse_group_links(
    path: Path, parse: GiasParse, known: set[str], issues: IssueCollector, report: LoadReport
) -> None:
    """GIAS ``alllinksdata.csv``: which establishment joined which group, and when."""
    _header, rows = read_csv(path, GROUP_LINK_COLUMNS, "a GIAS group links file (alllinksdata)")
    source = f"gias:{path.name}"
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn("URN")
        uid = row.integer("Group UID", required=True)
        joined = row.day("Joined date")
        if not row.ok or urn is None or uid is None:
            report.rows_rejected += 1
            continue
        school, group = str(urn), group_id(uid)
        if group not in parse.organisations and group not in known:
            row.bad("Group UID", f"unknown group {uid}")
            report.rows_rejected += 1
            continue
        if school not in parse.organisations and school not in known:
            continue
        group_kind = parse.organisations[group].kind if group in parse.organisations else None
        kind = EdgeKind.SPONSORED_BY if group_kind is NodeKind.SPONSOR else EdgeKind.MEMBER_OF
        # The establishments file's membership of the same group has no date; this one replaces it.
        parse.ties.pop(f"{kind.value}:{school}:{group}", None)
        tie = _validated(
            row,
            make_tie,
            source_id=school,
            target_id=group,
            kind=kind,
            role=MemberRole.MEMBER if kind is EdgeKind.MEMBER_OF else None,
            since=joined,
            source=source,
        )
        if tie is not None:
            parse.add_tie(tie)


def parse_hubs(path: Path, parse: GiasParse, known: set[str], issues: IssueCollector, report: LoadReport) -> None:
    """Teaching school hubs and their lead schools."""
    _header, rows = read_csv(path, HUB_COLUMNS, "a teaching school hubs file")
    source = f"dfe:{path.name}"
    absent = 0
    for line, raw in rows:
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        urn = row.urn("lead_school_urn")
        code = row.text("tsh_region_code")
        name = row.text("teaching_school_hub_name (as in source comment)")
        if not code:
            row.bad("tsh_region_code", "is empty")
        if not name:
            row.bad("teaching_school_hub_name (as in source comment)", "is empty")
        if not row.ok or urn is None or code is None or name is None:
            report.rows_rejected += 1
            continue
        hub = f"tsh-{slugify(code)}"
        org = _validated(
            row,
            Organisation,
            id=hub,
            kind=NodeKind.TEACHING_SCHOOL_HUB,
            name=name,
            source=source,
            properties={"region_code": code, "region": row.text("dfe_region_group")},
        )
        if org is None:
            report.rows_rejected += 1
            continue
        if str(urn) in parse.organisations or str(urn) in known:
            parse.add_org(org)
            parse.add_tie(
                make_tie(
                    source_id=str(urn), target_id=hub, kind=EdgeKind.MEMBER_OF, role=MemberRole.LEAD, source=source
                )
            )
        else:
            absent += 1
    if absent:
        report.notes.append(f"{path.name}: {absent} hub(s) skipped: their lead school is not in the store")


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
) -> LoadReport:
    """Load GIAS files into the store in one transaction and report what happened.

    Memberships (trust, federation, sponsor) that the store holds from an
    earlier GIAS load, for a school this load describes, and that the new files
    no longer state, are ended on the extract date rather than deleted.
    """
    report = LoadReport(dry_run=dry_run)
    issues = IssueCollector(report, strict)
    parse = GiasParse()
    paths = [*establishments, *(p for p in (groups, group_links, links, hubs) if p is not None)]
    if not paths:
        raise LoadError("nothing to load: give an establishments file or another GIAS file")
    day = as_of or next((d for d in map(file_date, paths) if d), None) or date.today()
    report.files = [str(p) for p in paths]
    for path in establishments:
        parse_establishments(path, parse, issues, report, day)
    if groups is not None:
        parse_groups(groups, parse, issues, report)
    known = _known_ids(store, parse)
    if group_links is not None:
        parse_group_links(group_links, parse, known, issues, report)
    if links is not None:
        parse_links(links, parse, known | parse.organisations.keys(), issues, report)
    if hubs is not None:
        parse_hubs(hubs, parse, known | parse.organisations.keys(), issues, report)

    _keep_known_fields(store, parse)
    batch = WriteBatch(
        organisations=list(parse.organisations.values()),
        ties=list(parse.ties.values()),
        meta={f"source:{p.name}": (file_date(p) or day).isoformat() for p in paths},
    )
    batch.meta["data_date"] = max([day.isoformat(), store.get_meta().get("data_date", "")])
    batch.end_ties = _ended_memberships(store, parse, day)
    report.organisations = len(batch.organisations)
    report.ties = len(batch.ties)
    report.ties_ended = len(batch.end_ties)
    if not dry_run:
        report.result = store.apply(batch)
    return report


def _keep_known_fields(store: GraphStore, parse: GiasParse) -> None:
    """Copy fields the files did not carry (Ofsted rating...) from the stored organisations."""
    if not parse.keep_fields:
        return
    for stored in store.get_organisations(sorted(parse.keep_fields)):
        fresh = parse.organisations[stored.id]
        update = {name: getattr(stored, name) for name in parse.keep_fields[stored.id]}
        parse.organisations[stored.id] = fresh.model_copy(update=update)


def _known_ids(store: GraphStore, parse: GiasParse) -> set[str]:
    """Ids already in the store that links may point at."""
    from graph_service.store.base import OrganisationFilter

    organisations, _ = store.list_organisations(
        OrganisationFilter(
            kinds=(NodeKind.SCHOOL, NodeKind.FE_COLLEGE, NodeKind.TRUST, NodeKind.FEDERATION, NodeKind.SPONSOR)
        ),
        limit=10_000_000,
    )
    return {org.id for org in organisations}


def _ended_memberships(store: GraphStore, parse: GiasParse, day: date) -> list[tuple[str, date]]:
    """Current GIAS memberships of described schools that the new files no longer state."""
    ended = []
    for tie in store.all_ties(kinds=(EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY)):
        if (
            tie.until is None
            and tie.source_id in parse.described
            and (tie.source or "").startswith("gias:")
            and tie.id not in parse.ties
        ):
            ended.append((tie.id, max(day, tie.since) if tie.since else day))
    return ended


def load_error_message(exc: Exception) -> str:
    """One line for the user, whatever went wrong."""
    if isinstance(exc, LoadError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
