"""A hand-built town whose isolated schools, support candidates and islands are known exactly.

North district: Ash (101) and Birch (102) are in Trust One; Birch supports Kestrel (111)
since 2024-09-01; Juniper (110) left Trust One on 2022-08-31; Cedar (103) and Gorse (107,
no location) are only maintained by the local authority.
South district: Damson (104, special measures) is the only member of Solo Trust; Elm (105)
and Fir (106) are federated at loose collaboration, 6.8 km apart; Ivy (109) leads the
teaching school hub; Larch (112) opened on 2023-09-01 and succeeds Hazel (108, closed
2021-08-31).
"""

from __future__ import annotations

from datetime import date

import networkx as nx

from graph_service.graphview import build_graph
from graph_service.models import EdgeKind, NodeKind
from graph_service.store.base import WriteBatch
from tests.factories import org, school, tie

URBAN = "(England/Wales) Urban major conurbation"
#: The day the support tests ask about (recency is measured to it).
SUPPORT_DAY = date(2025, 9, 1)


def town() -> WriteBatch:
    orgs = [
        school(101, "Ash Primary", ofsted_rating="good", ofsted_date=date(2023, 1, 10), latitude=52.48,
               longitude=-1.89, pupils=300, fsm_pct=30.0, urban_rural=URBAN, district="North"),
        school(102, "Birch Primary", ofsted_rating="outstanding", ofsted_date=date(2024, 1, 10), latitude=52.489,
               longitude=-1.89, pupils=400, fsm_pct=20.0, urban_rural=URBAN, district="North"),
        school(103, "Cedar Primary", ofsted_rating="requires_improvement", latitude=52.48, longitude=-1.875,
               district="North", subtype="community"),
        school(104, "Damson Primary", ofsted_rating="special_measures", latitude=52.5, longitude=-1.89,
               pupils=200, fsm_pct=45.0, urban_rural=URBAN, district="South"),
        school(105, "Elm Secondary", phase="secondary", ofsted_rating="good", ofsted_date=date(2022, 6, 1),
               latitude=52.48, longitude=-1.8, district="South"),
        school(106, "Fir Secondary", phase="secondary", ofsted_rating="inadequate", latitude=52.48,
               longitude=-1.7, district="South"),
        school(107, "Gorse Nursery", phase="nursery", ofsted_rating="outstanding", district="North"),
        school(108, "Hazel Primary", ofsted_rating="good", status="closed", opened=date(2000, 9, 1),
               closed=date(2021, 8, 31), latitude=52.47, longitude=-1.89, district="South"),
        school(109, "Ivy Primary", ofsted_rating="outstanding", ofsted_date=date(2025, 3, 1), latitude=52.51,
               longitude=-1.89, district="South"),
        school(110, "Juniper Primary", ofsted_rating="inadequate", latitude=52.485, longitude=-1.895,
               district="North"),
        school(111, "Kestrel Primary", ofsted_rating="requires_improvement", latitude=52.49, longitude=-1.88,
               district="North"),
        school(112, "Larch Academy", ofsted_rating="good", opened=date(2023, 9, 1), latitude=52.52,
               longitude=-1.89, district="South", subtype="academy_converter"),
        org("group-1", NodeKind.TRUST, "Trust One", subtype="multi_academy", group_uid=1),
        org("group-2", NodeKind.TRUST, "Solo Trust", subtype="single_academy", group_uid=2),
        org("tsh-x", NodeKind.TEACHING_SCHOOL_HUB, "Ivy Teaching School Hub"),
        org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
    ]  # fmt: skip
    ties = [
        tie("101", "group-1", EdgeKind.MEMBER_OF, role="member"),
        tie("102", "group-1", EdgeKind.MEMBER_OF, role="member"),
        tie("110", "group-1", EdgeKind.MEMBER_OF, role="member", since=date(2019, 9, 1), until=date(2022, 8, 31)),
        tie("102", "111", EdgeKind.SUPPORTS, focus="maths", since=date(2024, 9, 1)),
        tie("104", "group-2", EdgeKind.MEMBER_OF, role="member"),
        tie("105", "106", EdgeKind.FEDERATED_WITH, level="loose_collaboration"),
        tie("109", "tsh-x", EdgeKind.MEMBER_OF, role="lead"),
        tie("108", "112", EdgeKind.PREDECESSOR_OF),
        tie("103", "la-330", EdgeKind.MAINTAINED_BY),
        tie("107", "la-330", EdgeKind.MAINTAINED_BY),
    ]
    return WriteBatch(organisations=orgs, ties=ties)


def town_graph() -> nx.MultiDiGraph:
    batch = town()
    return build_graph(batch.organisations, batch.ties)


def two_triangles() -> WriteBatch:
    """Two triangles of schools (201-203, 204-206) joined by one tie, 203-204."""
    orgs = [school(n, f"School {n}", latitude=52.4 + n / 1000, longitude=-1.9) for n in range(201, 207)]
    pairs = [(201, 202), (202, 203), (201, 203), (204, 205), (205, 206), (204, 206), (203, 204)]
    ties = [tie(str(a), str(b), EdgeKind.COLLABORATES_ON, focus="cpd") for a, b in pairs]
    return WriteBatch(organisations=orgs, ties=ties)
