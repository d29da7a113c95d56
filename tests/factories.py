"""Tiny hand-built graphs with known answers."""

from __future__ import annotations

from typing import Any

from graph_service.models import EdgeKind, NodeKind, Organisation, Tie, make_tie
from graph_service.store.base import WriteBatch


def school(urn: int, name: str | None = None, **fields: Any) -> Organisation:
    fields.setdefault("phase", "primary")
    fields.setdefault("la_code", 330)
    fields.setdefault("local_authority", "Birmingham")
    return Organisation(id=str(urn), kind=NodeKind.SCHOOL, urn=urn, name=name or f"School {urn}", **fields)


def org(org_id: str, kind: NodeKind, name: str | None = None, **fields: Any) -> Organisation:
    return Organisation(id=org_id, kind=kind, name=name or org_id, **fields)


def tie(source: str, target: str, kind: EdgeKind | str, **fields: Any) -> Tie:
    return make_tie(source_id=source, target_id=target, kind=kind, **fields)


def small_network() -> WriteBatch:
    """Four schools, a trust, an LA.

    1 and 2 are in trust T (2 left on 2022-08-31); 3 is federated with 1 (soft);
    4 is only maintained by the LA (isolated).
    """
    from datetime import date

    orgs = [
        school(1, "Alpha Primary", ofsted_rating="good", latitude=52.48, longitude=-1.89),
        school(2, "Beta Primary", ofsted_rating="special_measures", latitude=52.49, longitude=-1.88),
        school(3, "Gamma Secondary", phase="secondary", ofsted_rating="outstanding"),
        school(4, "Delta Nursery", phase="nursery", ofsted_rating="requires_improvement"),
        org("group-10", NodeKind.TRUST, "Trust T", subtype="multi_academy", group_uid=10),
        org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
    ]
    ties = [
        tie("1", "group-10", EdgeKind.MEMBER_OF, role="member", since=date(2019, 9, 1)),
        tie("2", "group-10", EdgeKind.MEMBER_OF, role="member", since=date(2019, 9, 1), until=date(2022, 8, 31)),
        tie("3", "1", EdgeKind.FEDERATED_WITH, level="soft"),
        tie("4", "la-330", EdgeKind.MAINTAINED_BY),
    ]
    return WriteBatch(organisations=orgs, ties=ties)
