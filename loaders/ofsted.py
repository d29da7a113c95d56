"""Loader for Ofsted's files of state-funded schools' inspections and outcomes.

Reads the three layouts Ofsted publishes, told apart by their headers:

* the official statistics "State-funded schools inspections and outcomes as at <date>" and the
  monthly management information file of the graded era (the same columns): each school's latest
  graded inspection, the one before, and the latest ungraded one;
* the monthly management information file in the report-card format (November 2025 on): the
  latest report card, the latest graded (OEIF) inspection and the latest ungraded one.

Plain or gzipped, Windows-1252 or UTF-8. Every row is checked (bad grade words, bad dates and
URNs that are not in the store are reported with line, column and reason); the inspections are
added to each school's history (merged by date and kind, so a later file never loses earlier
ones), its ``ofsted_rating`` and ``ofsted_date`` set from the inspection now in force, and the
whole load written in one transaction. Ofsted's multi-academy trust UIDs are compared with the
trust memberships GIAS gave, and the differences reported, never applied.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph_service import memory
from graph_service.analytics.standing import judge
from graph_service.models import EdgeKind, Inspection, InspectionKind, NodeKind, OfstedRating, Organisation, group_id
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


class Layout(StrEnum):
    """Which of Ofsted's files a header is."""

    GRADED = "graded"  # official statistics "as at", and the graded-era management information
    REPORT_CARD = "report_card"  # management information since November 2025


#: Columns that tell the layouts apart (and that each must have).
GRADED_COLUMNS = ("URN", "Inspection start date", "Overall effectiveness", "Quality of education")
REPORT_CARD_COLUMNS = ("URN", "Inspection start date", "Inclusion", "Curriculum and teaching", "Safeguarding standards")

#: A graded inspection's columns: (field or judgement, column) for the latest and the previous one.
_LATEST_GRADED = {
    "date": "Inspection start date",
    "published": "Publication date",
    "number": "Inspection number of latest graded inspection",
    "inspection_type": "Inspection type",
    "same_urn": "Does the latest graded inspection relate to the URN of the current school?",
    "urn_at": "URN at time of latest graded inspection",
    "laestab_at": "LAESTAB at time of latest graded inspection",
    "name_at": "School name at time of latest graded inspection",
    "type_at": "School type at time of latest graded inspection",
    "overall": "Overall effectiveness",
    "category": "Category of concern",
    "quality_of_education": "Quality of education",
    "behaviour_and_attitudes": "Behaviour and attitudes",
    "personal_development": "Personal development",
    "leadership_and_management": "Effectiveness of leadership and management",
    "safeguarding": "Safeguarding is effective?",
    "early_years": "Early years provision (where applicable)",
    "sixth_form": "Sixth form provision (where applicable)",
}
_PREVIOUS_GRADED = {
    "date": "Previous inspection start date",
    "published": "Previous publication date",
    "number": "Previous inspection number",
    "same_urn": "Does the previous graded inspection relate to the URN of the current school?",
    "urn_at": "URN at time of previous graded inspection",
    "laestab_at": "LAESTAB at time of previous graded inspection",
    "name_at": "School name at time of previous graded inspection",
    "type_at": "School type at time of previous graded inspection",
    "overall": "Previous graded inspection overall effectiveness",
    "category": "Previous category of concern",
    "quality_of_education": "Previous quality of education",
    "behaviour_and_attitudes": "Previous behaviour and attitudes",
    "personal_development": "Previous personal development",
    "leadership_and_management": "Previous effectiveness of leadership and management",
    "safeguarding": "Previous safeguarding is effective?",
    "early_years": "Previous early years provision (where applicable)",
    "sixth_form": "Previous sixth form provision (where applicable)",
}
_OEIF_GRADED = {
    "date": "Inspection start date of latest OEIF graded inspection",
    "published": "Publication date of latest OEIF graded inspection",
    "number": "Inspection number of latest OEIF graded inspection",
    "inspection_type": "Inspection type of latest OEIF graded inspection",
    "same_urn": "Does the latest OEIF graded inspection relate to the URN of the current school?",
    "urn_at": "URN at time of latest OEIF graded inspection",
    "laestab_at": "LAESTAB at time of latest OEIF graded inspection",
    "name_at": "School name at time of latest OEIF graded inspection",
    "type_at": "School type at time of latest OEIF graded inspection",
    "overall": "Latest OEIF overall effectiveness",
    "category": "Latest OEIF category of concern",
    "quality_of_education": "Latest OEIF quality of education",
    "behaviour_and_attitudes": "Latest OEIF behaviour and attitudes",
    "personal_development": "Latest OEIF personal development",
    "leadership_and_management": "Latest OEIF effectiveness of leadership and management",
    # Ofsted's header has two spaces here.
    "safeguarding": "Latest OEIF  safeguarding is effective?",
    "early_years": "Latest OEIF early years provision (where applicable)",
    "sixth_form": "Latest OEIF sixth form provision (where applicable)",
}
_UNGRADED = {
    "date": "Date of latest ungraded inspection",
    "published": "Ungraded inspection publication date",
    "same_urn": "Does the ungraded inspection relate to the URN of the current school?",
    "urn_at": "URN at time of the ungraded inspection",
    "laestab_at": "LAESTAB at time of the ungraded inspection",
    # The graded file says "of the latest ungraded inspection", the report-card file "of the ungraded inspection".
    "name_at": "School name at time of the latest ungraded inspection|School name at time of the ungraded inspection",
    "type_at": "School type at time of the latest ungraded inspection|School type at time of the ungraded inspection",
    "outcome": "Ungraded inspection overall outcome",
}
_GRADED_UNGRADED_NUMBER = "Latest ungraded inspection number since last graded inspection"
_REPORT_CARD_UNGRADED_NUMBER = "Latest ungraded inspection number"
_REPORT_CARD = {
    "date": "Inspection start date",
    "published": "Publication date",
    "number": "Inspection number of latest full inspection",
    "inspection_type": "Inspection type",
    "same_urn": "Does the latest full inspection relate to the URN of the current school?",
    "urn_at": "URN at time of latest full inspection",
    "laestab_at": "LAESTAB at time of latest full inspection",
    "name_at": "School name at time of latest full inspection",
    "type_at": "School type at time of latest full inspection",
    "category": "Category of concern",
    "safeguarding": "Safeguarding standards",
}
#: Report-card area -> its column.
REPORT_CARD_AREA_COLUMNS = {
    "inclusion": "Inclusion",
    "curriculum_and_teaching": "Curriculum and teaching",
    "achievement": "Achievement",
    "attendance_and_behaviour": "Attendance and behaviour",
    "personal_development_and_wellbeing": "Personal development and wellbeing",
    "early_years": "Early years (where applicable)",
    "post_16": "Post-16 provision (where applicable)",
    "leadership_and_governance": "Leadership and governance",
}
SUB_JUDGEMENTS = (
    "quality_of_education",
    "behaviour_and_attitudes",
    "personal_development",
    "leadership_and_management",
    "early_years",
    "sixth_form",
)
#: Report-card grade words (lower case) -> stored value; "not applicable" leaves the area out.
GRADE_WORDS = {
    "exceptional": "exceptional",
    "strong standard": "strong_standard",
    "expected standard": "expected_standard",
    "needs attention": "needs_attention",
    "urgent improvement": "urgent_improvement",
}
#: 9 means "not applicable" in graded files.
NOT_APPLICABLE = frozenset({"9", "not applicable"})
#: The early years and sixth form columns also hold 8 and 0 (a few hundred and a few dozen
#: schools in the August 2025 file), never explained; read as "no grade given", as 9 is.
NO_PROVISION_GRADE = NOT_APPLICABLE | {"8", "0"}
#: Sub-judgements of provision a school may not have.
PROVISION = frozenset({"early_years", "sixth_form"})
CATEGORIES = frozenset({"SM", "SWK", "RSI", "NTI"})
_MAT_UID = "Multi-academy trust UID"
_URN = re.compile(r"^\d{1,7}$")
#: How many examples of each trust difference the load's notes name.
EXAMPLES = 5
_GRADES = {"1": 1, "2": 2, "3": 3, "4": 4, "9": None, "": None}
#: Dates already read, by their text (shared by loads: the same text is always the same day).
_DAYS: dict[str, date | None] = {}


class _Row(CheckedRow):
    """One CSV row: Ofsted writes ``NULL`` for nothing; bad cells are reported to the collector."""

    #: Latest day each date column may hold, and what that day is (``_latest_days``).
    latest: dict[str, tuple[date, str]] = {}

    def get(self, column: str) -> str:
        value = self.row.get(column, "")
        if value[:1] == " " or value[-1:] == " ":  # rare: strip only then (tens of cells per row)
            value = value.strip()
        return "" if value == "NULL" else value

    def day(self, column: str) -> date | None:
        found = self._day(column)
        latest = self.latest.get(column)
        if found is not None and latest is not None and found > latest[0]:
            # An inspection dated in the future would stand as the latest for good (later files only add).
            self.bad(column, f"{found} is after {latest[1]} ({latest[0]})")
            return None
        return found

    def _day(self, column: str) -> date | None:
        text = self.get(column)
        if text in _DAYS:  # a national file has about 2,000 distinct dates in 100,000 cells
            return _DAYS[text]
        try:
            found = _DAYS[text] = parse_date(text)
        except ValueError as exc:
            self.bad(column, str(exc))
            return None
        return found

    def grade(self, column: str, provision: bool = False) -> int | None:
        value = self.get(column)
        if value in _GRADES:
            return _GRADES[value]
        if not value or value.lower() in (NO_PROVISION_GRADE if provision else NOT_APPLICABLE):
            return None
        if value in ("1", "2", "3", "4"):
            return int(value)
        also = ", 8 or 0" if provision else ""
        self.bad(column, f"{value!r} is not a grade (expected 1-4, or 9{also} for not applicable)")
        return None

    def overall(self, column: str) -> int | None:
        if self.get(column).lower() == "not judged":
            return None  # graded inspections since September 2024 give no overall grade
        return self.grade(column)

    def category(self, column: str) -> str | None:
        value = self.get(column).upper()
        if not value:
            return None
        if value not in CATEGORIES:
            self.bad(column, f"unknown category of concern {value!r} (expected SM, SWK, RSI, NTI or blank)")
            return None
        return value

    def yes_no(self, column: str, yes: str = "yes", no: str = "no") -> bool | None:
        value = self.get(column).lower()
        if not value or value in NOT_APPLICABLE:
            return None
        if value in (yes, no):
            return value == yes
        self.bad(column, f"{self.get(column)!r} is not {yes.capitalize()} or {no.capitalize()}")
        return None

    def urn(self, column: str) -> int | None:
        value = self.get(column)
        if not value:
            return None
        if not _URN.match(value) or int(value) == 0:
            self.bad(column, f"malformed URN {value!r} (expected digits)")
            return None
        return int(value)


_AS_AT = re.compile(r"as[ _-]at[ _-](\d{1,2})[ _-]([A-Za-z]+)[ _-](\d{4})", re.IGNORECASE)
_MONTHS = {name: number for number, name in enumerate(calendar.month_name) if name} | {
    name: number for number, name in enumerate(calendar.month_abbr) if name
}


def as_at(path: Path) -> date | None:
    """The date an Ofsted file's name says it is "as at".

    >>> as_at(Path("State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"))
    datetime.date(2025, 8, 31)
    """
    match = _AS_AT.search(path.name)
    month = _MONTHS.get(match[2].capitalize()) if match else None
    if match is None or month is None:
        return None
    try:
        return date(int(match[3]), month, int(match[1]))
    except ValueError:
        return None


def _latest_days(path: Path) -> dict[str, tuple[date, str]]:
    """The latest day each date column may hold: inspections by the file's "as at" date, publications by today.

    Publications follow inspections by weeks (the 31 August 2025 file publishes until 29 September).
    """
    today = date.today()
    named = as_at(path)
    inspected = (named, "the file's date") if named is not None and named <= today else (today, "today")
    blocks = (_LATEST_GRADED, _PREVIOUS_GRADED, _OEIF_GRADED, _UNGRADED, _REPORT_CARD)
    latest = {block["date"]: inspected for block in blocks}
    latest.update({block["published"]: (today, "today") for block in blocks})
    return latest


def layout_of(header: Sequence[str], path: Path) -> Layout:
    """Which Ofsted file a header belongs to; a header that is neither is a one-line error."""
    names = set(header)
    if all(column in names for column in REPORT_CARD_COLUMNS):
        return Layout.REPORT_CARD
    if all(column in names for column in GRADED_COLUMNS):
        return Layout.GRADED
    wanted = "Inclusion, Curriculum and teaching, Safeguarding standards (report cards)"
    wanted += " or Overall effectiveness, Quality of education (graded inspections)"
    raise LoadError(f"{path}: not an Ofsted inspections file: the header lacks URN, Inspection start date and {wanted}")


def _fields(row: _Row, columns: dict[str, str], kind: InspectionKind, source: str, own_urn: int) -> dict[str, Any]:
    """The fields of one inspection from its block of columns (without the judgements)."""
    fields: dict[str, Any] = {
        "date": row.day(columns["date"]),
        "kind": kind,
        "published": row.day(columns["published"]),
        "source": source,
    }
    if "number" in columns:
        fields["number"] = row.get(columns["number"]) or None
    if "inspection_type" in columns:
        fields["inspection_type"] = row.get(columns["inspection_type"]) or None
    if "category" in columns:
        fields["category"] = row.category(columns["category"])
    same = row.yes_no(columns["same_urn"])
    inspected = row.urn(columns["urn_at"])
    if same is False and inspected is not None and inspected != own_urn:
        # Judged as another school (a predecessor): keep who it was, to say so beside the standing.
        fields["urn_at_inspection"] = inspected
        laestab = row.get(columns["laestab_at"])
        if laestab.isdigit() and 0 < int(laestab) <= 9999999:
            fields["laestab_at_inspection"] = int(laestab)
        for name, key in (("name_at_inspection", "name_at"), ("type_at_inspection", "type_at")):
            text = next((row.get(column) for column in columns[key].split("|") if row.get(column)), "")
            if text:
                fields[name] = text
    return fields


def _graded(row: _Row, columns: dict[str, str], source: str, own_urn: int) -> dict[str, Any] | None:
    if not row.get(columns["date"]):
        return None
    fields = _fields(row, columns, InspectionKind.GRADED, source, own_urn)
    fields["overall"] = row.overall(columns["overall"])
    judgements = {name: row.grade(columns[name], name in PROVISION) for name in SUB_JUDGEMENTS}
    fields["judgements"] = {name: grade for name, grade in judgements.items() if grade is not None}
    fields["safeguarding"] = row.yes_no(columns["safeguarding"])
    return fields


def _ungraded(row: _Row, number_column: str, source: str, own_urn: int) -> dict[str, Any] | None:
    if not row.get(_UNGRADED["date"]):
        return None
    fields = _fields(row, _UNGRADED, InspectionKind.UNGRADED, source, own_urn)
    fields["number"] = row.get(number_column) or None
    fields["outcome"] = row.get(_UNGRADED["outcome"]) or None
    return fields


def _report_card(row: _Row, source: str, own_urn: int) -> dict[str, Any] | None:
    if not row.get(_REPORT_CARD["date"]):
        return None
    fields = _fields(row, _REPORT_CARD, InspectionKind.REPORT_CARD, source, own_urn)
    fields["safeguarding"] = row.yes_no(_REPORT_CARD["safeguarding"], yes="met", no="not met")
    areas = {}
    for area, column in REPORT_CARD_AREA_COLUMNS.items():
        word = row.get(column)
        if not word or word.lower() in NOT_APPLICABLE:
            continue
        if word.lower() not in GRADE_WORDS:
            expected = ", ".join(w.capitalize() for w in GRADE_WORDS)
            row.bad(column, f"unknown grade {word!r} (expected {expected} or Not applicable)")
            continue
        areas[area] = GRADE_WORDS[word.lower()]
    fields["areas"] = areas
    return fields


def inspections_of(row: _Row, layout: Layout, own_urn: int, source: str) -> list[Inspection]:
    """The inspections one row names (none when a cell is bad: ``row.ok`` turns false)."""
    if layout is Layout.GRADED:
        blocks = [
            _graded(row, _LATEST_GRADED, source, own_urn),
            _graded(row, _PREVIOUS_GRADED, source, own_urn),
            _ungraded(row, _GRADED_UNGRADED_NUMBER, source, own_urn),
        ]
    else:
        blocks = [
            _report_card(row, source, own_urn),
            _graded(row, _OEIF_GRADED, source, own_urn),
            _ungraded(row, _REPORT_CARD_UNGRADED_NUMBER, source, own_urn),
        ]
    found = []
    for fields in blocks:
        if fields is None or not row.ok:
            continue
        try:
            found.append(Inspection(**fields))
        except ValidationError as exc:
            for error in exc.errors():
                row.bad(".".join(str(part) for part in error["loc"]) or "row", error["msg"])
    return found if row.ok else []


def _from_gias(inspection: Inspection) -> bool:
    return (inspection.source or "").startswith("gias:")


def _same_but_source(one: Inspection, other: Inspection) -> bool:
    if one.source == other.source:
        return False  # called after an equality test: they differ in more than the source
    return one.model_copy(update={"source": None}) == other.model_copy(update={"source": None})


def merge_inspections(stored: Iterable[Inspection], new: Iterable[Inspection]) -> list[Inspection]:
    """A school's history with ``new`` inspections added: one per date and kind, oldest first.

    A new inspection replaces a stored one of the same date and kind (a later file may correct
    it). GIAS's Ofsted columns give only a rating and a date: such a record gives way to any
    inspection from Ofsted's own files on that date, which says more, and never replaces one.

    Examples
    --------
    >>> old = Inspection(date="2019-03-05", kind="graded", overall=3)
    >>> gias = Inspection(date="2023-05-10", kind="graded", rating="good", source="gias:x.csv")
    >>> ofsted = Inspection(date="2023-05-10", kind="ungraded", outcome="School remains Good", source="ofsted:y.csv")
    >>> [(i.date.isoformat(), i.kind.value) for i in merge_inspections([old, gias], [ofsted])]
    [('2019-03-05', 'graded'), ('2023-05-10', 'ungraded')]
    >>> [i.source for i in merge_inspections([ofsted], [gias])]
    ['ofsted:y.csv']
    """
    if not stored:  # a school's first inspections (most of a first load): nothing to merge with
        first = {(i.date, i.kind): i for i in new}
        return sorted(first.values(), key=lambda i: (i.date, i.kind.value))
    by_key: dict[tuple[date, InspectionKind], Inspection] = {(i.date, i.kind): i for i in stored}
    for inspection in new:
        key = (inspection.date, inspection.kind)
        if inspection.number:  # the same inspection, dated otherwise by an earlier file: this file corrects it
            same = [k for k, i in by_key.items() if i.number == inspection.number and k[1] is key[1] and k != key]
            for old_key in same:
                del by_key[old_key]
        current = by_key.get(key)
        if current is not None and _from_gias(inspection) and not _from_gias(current):
            continue
        if current is not None and (current == inspection or _same_but_source(current, inspection)):
            continue  # the same facts (perhaps from another copy of the file): nothing changes
        by_key[key] = inspection
    ofsted_days = {day for (day, _kind), i in by_key.items() if not _from_gias(i)}
    kept = [i for (day, _kind), i in by_key.items() if not (_from_gias(i) and day in ofsted_days)]
    return sorted(kept, key=lambda i: (i.date, i.kind.value))


def with_inspections(org: Organisation, inspections: list[Inspection]) -> Organisation:
    """``org`` with this inspection history, its ``ofsted_rating`` and ``ofsted_date`` from the latest judgement.

    Without a graded inspection or report card in the history, the flat rating stays as it was.
    """
    update: dict[str, Any] = {"inspections": inspections}
    latest = next((i for i in reversed(inspections) if i.kind is not InspectionKind.UNGRADED), None)
    if latest is not None:
        rating, _basis = judge(latest.__dict__)  # enums compare and hash as their values
        if rating is not None:
            update["ofsted_rating"] = OfstedRating(rating)
            update["ofsted_date"] = latest.date
    # A copy, not a validation (a third of a national load's time): the inspections are valid
    # models already and merge_inspections sorted them.
    return org.model_copy(update=update)


@dataclass
class _Parsed:
    urn: int
    inspections: list[Inspection]
    trust_uid: int | None


def _trust_notes(store: GraphStore, parsed: list[_Parsed], file: str) -> list[str]:
    """Differences between Ofsted's multi-academy trust UIDs and GIAS's current memberships."""
    schools = {str(p.urn): p for p in parsed}
    memberships: dict[str, set[str]] = {}
    for tie in store.all_ties(kinds=[EdgeKind.MEMBER_OF]):
        if tie.source_id in schools and tie.until is None and tie.target_id.startswith("group-"):
            memberships.setdefault(tie.source_id, set()).add(tie.target_id)
    groups = {g for targets in memberships.values() for g in targets}
    named = {group_id(p.trust_uid) for p in parsed if p.trust_uid is not None}
    kinds = {org.id: org for org in store.get_organisations(sorted(groups | named))}
    multi = {gid for gid, org in kinds.items() if org.kind is NodeKind.TRUST and org.subtype == "multi_academy"}
    not_in_gias: list[str] = []
    unknown_trust: list[str] = []
    not_in_ofsted: list[str] = []
    for school, p in sorted(schools.items(), key=lambda item: int(item[0])):
        gias_trusts = memberships.get(school, set()) & multi
        if p.trust_uid is not None:
            trust = group_id(p.trust_uid)
            if trust not in kinds:
                unknown_trust.append(f"{school} -> {p.trust_uid}")
            elif trust not in memberships.get(school, set()):
                now = ", ".join(sorted(gias_trusts)) or "no multi-academy trust"
                not_in_gias.append(f"{school} -> {trust} (GIAS: {now})")
        elif gias_trusts:
            not_in_ofsted.append(f"{school} (GIAS: {', '.join(sorted(gias_trusts))})")
    notes = []
    for what, found in (
        ("in a multi-academy trust GIAS does not list it in", not_in_gias),
        ("in a trust (Group UID) that is not in the store", unknown_trust),
        ("in no multi-academy trust, where GIAS lists one", not_in_ofsted),
    ):
        if found:
            examples = "; ".join(found[:EXAMPLES]) + ("; ..." if len(found) > EXAMPLES else "")
            notes.append(f"trust check: {file} puts {len(found)} school(s) {what} (not applied): {examples}")
    if not notes:
        notes.append(f"trust check: {file}'s multi-academy trust UIDs agree with GIAS's memberships")
    return notes


def load_ofsted(
    store: GraphStore,
    path: Path,
    *,
    strict: bool = False,
    dry_run: bool = False,
    audit: AuditOf | None = None,
) -> LoadReport:
    """Load one Ofsted inspections file into the schools' histories, in one transaction.

    Schools must be in the store already (load GIAS first): a row whose URN is not is
    reported and skipped, never created.
    """
    # A national file makes a few hundred thousand objects that live until the load ends; the
    # cyclic collector's passes over them were a third of the load's time (issue 13).
    with memory.collector_paused():
        return _load(store, path, strict=strict, dry_run=dry_run, audit=audit)


def _load(store: GraphStore, path: Path, *, strict: bool, dry_run: bool, audit: AuditOf | None) -> LoadReport:
    report = LoadReport(dry_run=dry_run, files=[str(path)])
    issues = IssueCollector(report, strict)
    header, rows = read_csv(path, ("URN",), "an Ofsted inspections file")
    layout = layout_of(header, path)
    source = f"ofsted:{path.name}"
    all_rows = list(rows)
    if not all_rows:
        raise LoadError(f"{path}: no schools after the header")
    progress = Progress(f"reading {path.name}", len(all_rows))
    latest = _latest_days(path)
    candidates: list[tuple[_Row, _Parsed]] = []
    seen: dict[int, int] = {}
    for number, (line, raw) in enumerate(all_rows):
        progress.update(number)
        report.rows_read += 1
        row = _Row(raw, path.name, line, issues)
        row.latest = latest
        urn = row.urn("URN")
        if urn is None and row.ok:
            row.bad("URN", "is empty")
        if urn is not None and urn in seen:
            row.bad("URN", f"duplicate URN {urn} (first on line {seen[urn]})")
        found = inspections_of(row, layout, urn, source) if row.ok and urn is not None else []
        trust = row.get(_MAT_UID)
        if trust and not trust.isdigit():
            row.bad(_MAT_UID, f"{trust!r} is not a Group UID (expected digits)")
        trust_uid = int(trust) if trust.isdigit() and int(trust) > 0 else None
        if not row.ok or urn is None:
            report.rows_rejected += 1
            continue
        seen[urn] = line
        candidates.append((row, _Parsed(urn, found, trust_uid)))
    progress.done()

    stored = {org.id: org for org in store.get_organisations([str(p.urn) for _, p in candidates])}
    parsed: list[_Parsed] = []
    updated: list[Organisation] = []
    empty = 0
    for row, p in candidates:
        org = stored.get(str(p.urn))
        if org is None:
            row.bad("URN", f"no school with URN {p.urn} in the store (load the GIAS establishments first); not created")
            report.rows_rejected += 1
            continue
        if org.kind not in (NodeKind.SCHOOL, NodeKind.FE_COLLEGE):
            row.bad("URN", f"{p.urn} is a {org.kind.value}, not a school or college")
            report.rows_rejected += 1
            continue
        parsed.append(p)
        if not p.inspections:
            empty += 1
            continue
        merged = merge_inspections(org.inspections, p.inspections)
        fresh = with_inspections(org, merged)
        if fresh != org:
            updated.append(fresh)

    report.organisations = len(updated)
    added = sum(len(p.inspections) for p in parsed)
    report.notes.append(
        f"{path.name}: {layout.value} layout; {added} inspection(s) of {len(parsed)} school(s) read,"
        f" {len(updated)} school(s) changed"
    )
    if empty:
        report.notes.append(f"{path.name}: {empty} school(s) with no inspection in the file")
    report.notes.extend(_trust_notes(store, parsed, path.name))
    batch = WriteBatch(organisations=updated, meta={f"source:{path.name}": _file_day(parsed).isoformat()})
    if not dry_run:
        write_load(store, batch, report, audit)
    return report


def _file_day(parsed: list[_Parsed]) -> date:
    """The file's date: its latest publication (Ofsted's file names spell dates several ways)."""
    days = [i.published or i.date for p in parsed for i in p.inspections]
    return max(days, default=date.today())
