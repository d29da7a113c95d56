"""The codebook: every exported attribute, its type, where it comes from and what it means.

Names, types and meanings are read from the models (field descriptions, enum
values) through the same tables the writers use (:mod:`records`), so the
codebook cannot drift from the files. Only the source columns are written
here, by hand; a test checks that every model field has one and that each
GIAS column named is in the real GIAS files. Free properties are listed when
an export holds them, with their source when a loader is known to write them.
"""

from __future__ import annotations

import csv
import io
import typing
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from graph_service.export.records import (
    EDGE_FIELDS,
    JSON_FIELDS,
    NODE_FIELDS,
    AttrType,
    Schema,
)
from graph_service.models import Inspection, Organisation, ServiceLevelAgreement, Tie

_GIAS = "GIAS establishments"
_GROUPS = "GIAS groups (allgroupsdata)"
_LINKS = "GIAS links"

#: Where each model field comes from: (file, column) pairs, '' for "set by the service".
SOURCES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "node": {
        "kind": [(_GIAS, "TypeOfEstablishment (name)"), (_GROUPS, "Group Type")],
        "name": [(_GIAS, "EstablishmentName"), (_GROUPS, "Group Name"), (_GIAS, "LA (name)")],
        "subtype": [(_GIAS, "TypeOfEstablishment (name)"), (_GROUPS, "Group Type")],
        "status": [(_GIAS, "EstablishmentStatus (name)"), (_GROUPS, "Group Status")],
        "urn": [(_GIAS, "URN")],
        "group_uid": [(_GROUPS, "Group UID")],
        "ukprn": [(_GIAS, "UKPRN"), (_GROUPS, "UKPRN")],
        "phase": [(_GIAS, "PhaseOfEducation (name)")],
        "type_name": [(_GIAS, "TypeOfEstablishment (name)")],
        "la_code": [(_GIAS, "LA (code)")],
        "local_authority": [(_GIAS, "LA (name)")],
        "district": [(_GIAS, "DistrictAdministrative (name)")],
        "constituency": [(_GIAS, "ParliamentaryConstituency (name)")],
        "postcode": [(_GIAS, "Postcode"), (_GROUPS, "Group Postcode")],
        "latitude": [(_GIAS, "Easting"), (_GIAS, "Northing")],
        "longitude": [(_GIAS, "Easting"), (_GIAS, "Northing")],
        "pupils": [(_GIAS, "NumberOfPupils")],
        "capacity": [(_GIAS, "SchoolCapacity")],
        "fsm_pct": [(_GIAS, "PercentageFSM")],
        "urban_rural": [(_GIAS, "UrbanRural (name)")],
        "ofsted_rating": [(_GIAS, "OfstedRating (name)"), ("Ofsted inspections and outcomes", "")],
        "ofsted_date": [(_GIAS, "OfstedLastInsp"), ("Ofsted inspections and outcomes", "")],
        "inspections": [("Ofsted inspections and outcomes", ""), (_GIAS, "OfstedLastInsp")],
        "opened": [(_GIAS, "OpenDate"), (_GROUPS, "Incorporated on (open date)")],
        "closed": [(_GIAS, "CloseDate"), (_GROUPS, "Closed Date")],
        "data_source": [("the file or person a record came from", "")],
    },
    "edge": {
        "kind": [(_GIAS, "Trusts (code)"), (_GIAS, "Federations (code)"), (_LINKS, "LinkType"), ("ties file", "")],
        "level": [("ties file", "level"), (_GIAS, "Federations (code)")],
        "role": [("ties file", "role"), ("GIAS group links (alllinksdata)", "")],
        "focus": [("ties file", "focus")],
        "outcome": [("ties file", "outcome")],
        "since": [(_LINKS, "LinkEstablishedDate"), ("GIAS group links (alllinksdata)", "Joined date")],
        "until": [("the day the first GIAS record without a membership last changed, or a closing date", "")],
        "data_source": [("the file or person a record came from", "")],
        "notes": [(_LINKS, "LinkType"), ("ties file", "notes")],
        "sla_lead_partner": [("ties file", "sla_lead_partner")],
        "sla_who_pays": [("ties file", "sla_who_pays")],
        "sla_withdrawal_terms": [("ties file", "sla_withdrawal_terms")],
    },
}

#: Free properties the loaders write: (file, column, meaning).
PROPERTY_SOURCES: dict[str, tuple[str, str, str, str]] = {
    "age_low": ("node", _GIAS, "StatutoryLowAge", "Lowest statutory age of pupils."),
    "age_high": ("node", _GIAS, "StatutoryHighAge", "Highest statutory age of pupils."),
    "gender": ("node", _GIAS, "Gender (name)", "Boys, girls or mixed."),
    "religious_character": ("node", _GIAS, "ReligiousCharacter (name)", "Religious character."),
    "diocese": ("node", _GIAS, "Diocese (name)", "Diocese."),
    "ward": ("node", _GIAS, "AdministrativeWard (name)", "Administrative ward."),
    "region": ("node", _GIAS, "GOR (name)", "Region (government office region)."),
    "type_group": ("node", _GIAS, "EstablishmentTypeGroup (name)", "GIAS's broad group of establishment types."),
    "town": ("node", _GIAS, "Town", "Town of the address."),
    "laestab": ("node", _GIAS, "EstablishmentNumber", "DfE number: LA code and establishment number (LAESTAB)."),
    "companies_house_number": ("node", _GROUPS, "Companies House Number", "A trust's company number."),
    "governance": ("edge", _GIAS, "Federations (code)", "Governance of a federation group."),
    "region_code": ("node", "teaching school hubs file", "tsh_region_code", "A teaching school hub's region code."),
}

_TYPE_NOTES = {
    AttrType.STRING: "text",
    AttrType.INT: "integer (64-bit)",
    AttrType.FLOAT: "decimal",
    AttrType.BOOL: "true/false",
    AttrType.DATE: "date (YYYY-MM-DD)",
}


@dataclass(frozen=True)
class Entry:
    """One exported attribute."""

    table: str
    name: str
    type: str
    source: str
    meaning: str


def _enum_values(annotation: Any) -> list[str]:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, Enum):
            return [str(member.value) for member in arg]
    return []


def _meaning(model: type[BaseModel], field: str) -> str:
    info = model.model_fields[field]
    text = info.description or ""
    values = _enum_values(info.annotation)
    if values:
        text += f" One of: {', '.join(values)}."
    if field == "inspections":
        keys = ", ".join(Inspection.model_fields)
        text += f" JSON text: a list of objects with keys {keys} (unset keys left out)."
    return text.strip()


def _source(table: str, name: str) -> str:
    parts = []
    for file, column in SOURCES[table].get(name, []):
        parts.append(f"{file}: {column}" if column else file)
    return "; ".join(parts)


def _model_of(table: str, field: str, export: str) -> type[BaseModel]:
    if table == "edge" and export.startswith("sla_"):
        return ServiceLevelAgreement
    return Organisation if table == "node" else Tie


def entries(schema: Schema | None = None) -> list[Entry]:
    """The codebook of an export (``schema``: only the attributes it holds), or of every model field.

    >>> [(e.name, e.type) for e in entries() if e.table == "node"][:3]
    [('id', 'text'), ('kind', 'text'), ('name', 'text')]
    """
    rows: list[Entry] = []
    for table, fields in (("node", NODE_FIELDS), ("edge", EDGE_FIELDS)):
        rows.extend(_IDS[table])
        held = None if schema is None else (schema.node if table == "node" else schema.edge)
        names = {export: (field, kind) for field, export, kind in fields}
        for export, (field, kind) in names.items():
            if held is not None and export not in held:
                continue
            model = _model_of(table, field, export)
            type_text = "JSON text" if export in JSON_FIELDS else _TYPE_NOTES[held[export] if held else kind]
            rows.append(Entry(table, export, type_text, _source(table, export), _meaning(model, field)))
        if held is None:
            known = [(name, "") for name, (where, *_rest) in PROPERTY_SOURCES.items() if where == table]
        else:
            known = [(name, _TYPE_NOTES[kind]) for name, kind in held.items() if name not in names]
        for name, type_text in known:
            _table, file, column, meaning = PROPERTY_SOURCES.get(name, (table, "", "", "Free property."))
            source = f"{file}: {column}" if file else "a free property (a loaded ties file, or the API)"
            rows.append(Entry(table, name, type_text or "as loaded", source, meaning))
    return rows


_IDS = {
    "node": [Entry("node", "id", "text", "URN; group-<Group UID>; la-<LA code>; a slug", "Organisation id (unique).")],
    "edge": [
        Entry("edge", "id", "text", "kind, ends and (for some kinds) focus or start", "Tie id (stable, unique)."),
        Entry("edge", "source", "text", "the tie's first end", "Id of the organisation the tie starts at."),
        Entry("edge", "target", "text", "the tie's second end", "Id of the organisation the tie ends at."),
    ],
}


_HEADER = ["table", "name", "type", "source", "meaning"]


def as_csv(rows: list[Entry]) -> str:
    """The codebook as CSV (one row per attribute)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_HEADER)
    writer.writerows([list(asdict(row).values()) for row in rows])
    return out.getvalue()


def as_markdown(rows: list[Entry]) -> str:
    """The codebook as a Markdown table."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(_HEADER) + " |", "| " + " | ".join("---" for _ in _HEADER) + " |"]
    lines.extend("| " + " | ".join(cell(value) for value in asdict(row).values()) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def as_records(rows: list[Entry]) -> list[dict[str, str]]:
    """The codebook as plain dicts (node-link JSON's ``graph.codebook``)."""
    return [asdict(row) for row in rows]
