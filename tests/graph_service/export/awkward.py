"""A tiny graph with awkward text, every attribute type and dated history, for the export tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.export.source import Selection
from graph_service.models import EdgeKind, NodeKind, Organisation, ServiceLevelAgreement
from graph_service.store import GraphStore
from graph_service.store.base import WriteBatch
from tests.factories import org, school, tie

#: Quotes, an ampersand, accents, a tag, a backslash escape, a comment marker and a formula, all at once
#: (names are one line: line breaks and tabs are in ``NOTES``).
AWKWARD = 'St Mary\'s "Catholic" & <b>École</b> Zoë \\u0027 // =1+2; INF'
NOTES = "joined 'early' & \"happily\"\nsee <minutes>\ttabbed \\ backslash \\u000a; // not a comment"
META = {"source:edubasealldata20250718.csv": "2025-07-18", "source:ties.csv": "2025-06-30", "data_date": "2025-07-18"}


def awkward_network() -> WriteBatch:
    """Six organisations and seven ties covering every attribute type, awkward text and dated history."""
    orgs = [
        school(
            100,
            AWKWARD,
            ofsted_rating="good",
            ofsted_date=date(2023, 5, 4),
            opened=date(2010, 9, 1),
            latitude=52.5,
            longitude=-1.9,
            pupils=420,
            capacity=450,
            fsm_pct=23.5,
            ukprn=10012345,
            source="gias:edubasealldata20250718.csv",
            properties={
                "flagged": True,
                "score": 2.5,
                "count": 7,
                "note": "a;b|c,d",
                "name": "a property called name",
                "property_x": "already prefixed",
            },
        ),
        school(200, "Zoë Closed Academy", status="closed", opened=date(2001, 1, 1), closed=date(2020, 8, 31)),
        school(300, "Plain Primary"),
        org("400", NodeKind.FE_COLLEGE, "Ćollege of Further Education", subtype="further_education", urn=400),
        org("group-5", NodeKind.TRUST, "Trust <5> & Co", subtype="multi_academy", group_uid=5, opened=date(2015, 1, 1)),
        org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
    ]
    ties = [
        tie("100", "group-5", EdgeKind.MEMBER_OF, role="lead", since=date(2016, 9, 1), notes=NOTES),
        tie("200", "group-5", EdgeKind.MEMBER_OF, role="member", since=date(2016, 9, 1), until=date(2020, 8, 31)),
        tie(
            "100",
            "300",
            EdgeKind.SUPPORTS,
            focus="maths",
            outcome="Improved to 'good'",
            since=date(2021, 1, 1),
            sla=ServiceLevelAgreement(lead_partner="100", who_pays="LA & trust", withdrawal_terms="3 months' notice"),
            properties={"weight": 1.5, "hours": 40},
        ),
        tie("300", "400", EdgeKind.FEDERATED_WITH, level="hard_governance"),
        tie("300", "la-330", EdgeKind.MAINTAINED_BY),
        tie("400", "la-330", EdgeKind.COLLABORATES_ON, focus="cpd", properties={"active": False}),
        tie("200", "300", EdgeKind.PREDECESSOR_OF, since=date(2020, 9, 1)),
    ]
    return WriteBatch(organisations=orgs, ties=ties, meta=dict(META))


class Listed(Selection):
    """Organisations given as a list, for records the stores now refuse (on write and on read)."""

    def __init__(self, organisations: list[Organisation]) -> None:
        super().__init__(store=None, ids=[org.id for org in organisations], ties=[])  # type: ignore[arg-type]
        self._organisations = organisations

    def organisations(self) -> Iterator[Organisation]:
        return iter(self._organisations)


def export_file(store: GraphStore, fmt: ExportFormat, path: Path, spec: ExportSpec | None = None) -> Path:
    """Export to ``path`` and return it."""
    write_export(prepare_export(store, spec or ExportSpec(), fmt), path)
    return path
