"""The GIAS loader on small hand-made files whose every expected answer is known."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from graph_service.models import EdgeKind, NodeKind, OfstedRating, Status
from graph_service.store import EmbeddedStore, GraphStore, OrganisationFilter
from loaders.common import read_text
from loaders.gias import file_date, load_gias

DATA = Path(__file__).parent / "data"
JANUARY = DATA / "edubasealldata20250115_small.csv"
JULY = DATA / "edubasealldata20250718_small.csv"
LINKS = DATA / "links_edubasealldata20250718_small.csv"
GROUPS = DATA / "allgroupsdata.csv"
GROUP_LINKS = DATA / "alllinksdata.csv"
HUBS = DATA / "teaching_school_hubs_small.csv"
SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"


def current(store: GraphStore, org_id: str, kinds: tuple[EdgeKind, ...] = ()) -> list[str]:
    """Ids of the ties of ``org_id`` with no end date."""
    return [t.id for t in store.ties_of(org_id, kinds=kinds) if t.until is None]


def test_kinds_statuses_and_locations(store: GraphStore) -> None:
    report = load_gias(store, [JANUARY])
    assert (report.rows_read, report.rows_rejected, report.issues) == (10, 0, [])
    kinds = {
        org.id: (org.kind, org.subtype, org.status)
        for org in store.get_organisations([str(n) for n in range(900001, 900011)])
    }
    assert kinds == {
        "900001": (NodeKind.SCHOOL, "academy_converter", Status.OPEN),
        "900002": (NodeKind.SCHOOL, "academy_sponsor_led", Status.OPEN),
        "900003": (NodeKind.SCHOOL, "community", Status.OPEN),
        "900004": (NodeKind.SCHOOL, "community", Status.OPEN),
        "900005": (NodeKind.SCHOOL, "voluntary_aided", Status.OPEN),
        "900006": (NodeKind.FE_COLLEGE, "further_education", Status.OPEN),
        "900007": (NodeKind.FE_COLLEGE, "sixth_form_college", Status.OPEN),
        "900008": (NodeKind.COMMUNITY_PARTNER, "university", Status.OPEN),
        "900009": (NodeKind.SCHOOL, "free_school", Status.PROPOSED_TO_OPEN),
        "900010": (NodeKind.SCHOOL, "community", Status.CLOSED),
    }
    alpha = store.get_organisation("900001")
    assert alpha is not None
    # Easting 407000, Northing 286000 is central Birmingham.
    assert (alpha.latitude, alpha.longitude) == pytest.approx((52.4719, -1.8984), abs=1e-3)
    assert alpha.ofsted_rating is OfstedRating.GOOD and alpha.ofsted_date == date(2023, 3, 12)
    assert (alpha.pupils, alpha.fsm_pct, alpha.ukprn, alpha.opened) == (412, 23.5, 10000001, date(2014, 9, 1))
    for no_location in ("900002", "900003"):  # Easting/Northing "0" and blank
        org = store.get_organisation(no_location)
        assert org is not None and (org.latitude, org.longitude) == (None, None)
    beta = store.get_organisation("900002")
    assert beta is not None and beta.fsm_pct == 0.0 and beta.ofsted_rating is OfstedRating.REQUIRES_IMPROVEMENT
    gamma = store.get_organisation("900003")
    assert gamma is not None and gamma.ofsted_rating is OfstedRating.SPECIAL_MEASURES


def test_groups_from_the_establishments_columns(store: GraphStore) -> None:
    load_gias(store, [JANUARY])
    trust = store.get_organisation("group-5001")
    assert trust is not None and (trust.kind, trust.name, trust.subtype) == (
        NodeKind.TRUST,
        "ALPHA LEARNING TRUST",
        "multi_academy",
    )
    assert sorted(t.source_id for t in store.ties_of("group-5001")) == ["900001", "900002", "900009"]
    # "6001~6002": one school in two federations.
    assert current(store, "900003", (EdgeKind.MEMBER_OF,)) == [
        "member_of:900003:group-6001",
        "member_of:900003:group-6002",
    ]
    federation = store.get_organisation("group-6002")
    assert federation is not None and federation.name == "Gamma Nursery Federation"
    assert current(store, "900002", (EdgeKind.SPONSORED_BY,)) == ["sponsored_by:900002:sponsor-beta-sponsors-ltd"]
    maintained = sorted(t.source_id for t in store.all_ties([EdgeKind.MAINTAINED_BY]))
    assert maintained == ["900003", "900004", "900005", "900010"]
    # Kappa closed in 2019: its tie to the authority ended then, and stays as history.
    kappa = store.get_tie("maintained_by:900010:la-330")
    assert kappa is not None and kappa.until == date(2019, 8, 31)
    assert store.get_organisation("la-330").name == "Birmingham"  # type: ignore[union-attr]


def test_newer_file_updates_in_place(store: GraphStore) -> None:
    load_gias(store, [JANUARY])
    report = load_gias(store, [JULY])
    assert report.result is not None and report.result.ties_ended == 3
    # Alpha moved from trust 5001 to 5003: the old membership ends on the extract date.
    old = store.get_tie("member_of:900001:group-5001")
    assert old is not None and old.until == date(2025, 7, 18)
    assert current(store, "900001", (EdgeKind.MEMBER_OF,)) == ["member_of:900001:group-5003"]
    # Delta left its federation.
    assert store.get_tie("member_of:900004:group-6001").until == date(2025, 7, 18)  # type: ignore[union-attr]
    # Epsilon closed on 31 March: closed, and its ties end that day.
    epsilon = store.get_organisation("900005")
    assert epsilon is not None and (epsilon.status, epsilon.closed) == (Status.CLOSED, date(2025, 3, 31))
    assert [(t.id, t.until) for t in store.ties_of("900005")] == [
        ("maintained_by:900005:la-330", date(2025, 3, 31)),
        ("member_of:900005:group-5002", date(2025, 3, 31)),
    ]
    iota = store.get_organisation("900009")
    assert iota is not None and iota.status is Status.OPEN
    # The July file has no Ofsted columns: January's ratings stay.
    beta = store.get_organisation("900002")
    assert beta is not None and beta.ofsted_rating is OfstedRating.REQUIRES_IMPROVEMENT
    again = load_gias(store, [JULY])
    assert again.result is not None and again.result.changed == 0


def test_rejoining_a_trust_starts_a_new_membership(store: GraphStore, tmp_path: Path) -> None:
    load_gias(store, [JANUARY])
    load_gias(store, [JULY])
    back = tmp_path / "edubasealldata20251010_small.csv"
    back.write_text(JANUARY.read_text(encoding="utf-8").replace("OfstedLastInsp", "Unused"), encoding="utf-8")
    load_gias(store, [back])
    ties = {t.id: (t.since, t.until) for t in store.ties_of("900001", kinds=[EdgeKind.MEMBER_OF])}
    assert ties == {
        "member_of:900001:group-5001": (None, date(2025, 7, 18)),
        "member_of:900001:group-5001:2025-10-10": (date(2025, 10, 10), None),
        "member_of:900001:group-5003": (None, date(2025, 10, 10)),
    }


def test_links_hubs_and_their_skips(store: GraphStore) -> None:
    report = load_gias(store, [JULY], links=LINKS, hubs=HUBS)
    assert report.issues == []
    assert sorted(t.id for t in store.all_ties([EdgeKind.PREDECESSOR_OF, EdgeKind.COLLABORATES_ON])) == [
        "collaborates_on:900002:900007:sixth_form_centre",
        # "Result of Amalgamation" is listed from both ends: Epsilon closed, so it came first.
        "predecessor_of:900005:900003",
        # Successor and Predecessor rows are the same link seen from each end.
        "predecessor_of:900010:900001",
    ]
    assert sorted(report.notes) == [
        "links_edubasealldata20250718_small.csv: 1 link(s) between kinds the graph does not link"
        " (e.g. a college succeeded by a university) were skipped",
        "links_edubasealldata20250718_small.csv: 1 link(s) of other types (merged, expansion, closure...) were skipped",
        "links_edubasealldata20250718_small.csv: 1 link(s) to establishments not in the load or the store were skipped",
        "teaching_school_hubs_small.csv: 1 hub(s) skipped: their lead school is not in the load or the store",
    ]
    hub = store.get_organisation("tsh-wm9")
    assert hub is not None and (hub.kind, hub.name) == (NodeKind.TEACHING_SCHOOL_HUB, "Alpha Teaching School Hub")
    lead = store.get_tie("member_of:900001:tsh-wm9")
    assert lead is not None and lead.role is not None and lead.role.value == "lead"


def test_links_and_hubs_reach_schools_loaded_earlier(store: GraphStore) -> None:
    load_gias(store, [JULY])
    report = load_gias(store, links=LINKS, hubs=HUBS)
    assert report.organisations == 1  # the hub; the schools come from the store
    assert store.get_tie("predecessor_of:900010:900001") is not None
    assert store.get_tie("member_of:900001:tsh-wm9") is not None


def test_groups_files_give_dated_memberships(store: GraphStore) -> None:
    report = load_gias(store, [JULY], groups=GROUPS, group_links=GROUP_LINKS)
    assert report.issues == []
    assert report.notes == ["alllinksdata.csv: 1 membership(s) of establishments not in the load were skipped"]
    alpha_trust = store.get_organisation("group-5001")
    assert alpha_trust is not None
    assert (alpha_trust.ukprn, alpha_trust.opened, alpha_trust.postcode) == (10050001, date(2014, 4, 1), "B1 1AB")
    assert alpha_trust.properties == {"companies_house_number": "07654321"}
    omega = store.get_organisation("group-5004")
    assert omega is not None and (omega.status, omega.closed, omega.subtype) == (
        Status.CLOSED,
        date(2023, 12, 31),
        "single_academy",
    )
    sponsor = store.get_organisation("group-7001")
    assert sponsor is not None and sponsor.kind is NodeKind.SPONSOR
    ties = {t.id: (t.since, t.until) for t in store.all_ties([EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY])}
    assert ties == {
        "member_of:900001:group-5003:2025-06-01": (date(2025, 6, 1), None),
        "member_of:900002:group-5001:2016-09-01": (date(2016, 9, 1), None),
        "sponsored_by:900002:group-7001": (date(2016, 9, 1), None),
        "member_of:900003:group-6001:2015-09-01": (date(2015, 9, 1), None),
        # The federation closed in 2024.
        "member_of:900003:group-6002:2015-09-01": (date(2015, 9, 1), date(2024, 8, 31)),
        "member_of:900009:group-5001": (None, None),
        # A group missing from allgroupsdata is built from the links row; Kappa closed in 2019.
        "member_of:900010:group-8801:2012-09-01": (date(2012, 9, 1), date(2019, 8, 31)),
    }
    kappa_trust = store.get_organisation("group-8801")
    assert kappa_trust is not None and (kappa_trust.name, kappa_trust.subtype) == (
        "KAPPA PRIMARY TRUST",
        "single_academy",
    )
    assert store.get_organisation("sponsor-beta-sponsors-ltd") is None
    again = load_gias(store, [JULY], groups=GROUPS, group_links=GROUP_LINKS)
    assert again.result is not None and again.result.changed == 0


def test_dated_memberships_replace_undated_ones_without_duplicates(store: GraphStore) -> None:
    load_gias(store, [JANUARY])
    load_gias(store, [JULY], groups=GROUPS, group_links=GROUP_LINKS)
    beta = sorted(t.id for t in store.ties_of("900002", kinds=[EdgeKind.MEMBER_OF]))
    assert beta == ["member_of:900002:group-5001:2016-09-01"]
    # An establishments-only load afterwards keeps the dated membership rather than adding an undated one.
    load_gias(store, [JULY])
    assert sorted(t.id for t in store.ties_of("900002", kinds=[EdgeKind.MEMBER_OF])) == beta
    assert store.get_tie(beta[0]).until is None  # type: ignore[union-attr]


def test_children_centres_become_community_partners(store: GraphStore) -> None:
    load_gias(store, [SAMPLE / "childrencentres20250727_birmingham.csv"])
    partners, total = store.list_organisations(OrganisationFilter(kinds=[NodeKind.COMMUNITY_PARTNER]), limit=100)
    assert total == 35
    assert {p.subtype for p in partners} == {"childrens_centre"}
    anthony = store.get_organisation("20098")
    assert anthony is not None and anthony.name == "Anthony Road Children's Centre"
    assert anthony.opened == date(2006, 9, 1) and anthony.postcode == "B8 3AA"
    assert store.all_ties() == []


def test_cp1252_and_gzip_copies_load_the_same(tmp_path: Path) -> None:
    text = JANUARY.read_text(encoding="utf-8").replace("Alpha Academy", "Académie Alpha – St Mary’s")
    cp1252 = tmp_path / "edubasealldata20250115_cp1252.csv"
    cp1252.write_bytes(text.encode("cp1252"))
    gzipped = tmp_path / "edubasealldata20250115_utf8.csv.gz"
    gzipped.write_bytes(gzip.compress(text.encode("utf-8")))
    assert read_text(cp1252) == read_text(gzipped) == text
    loaded = []
    for path in (cp1252, gzipped):
        store = EmbeddedStore(tmp_path / f"{path.name}.sqlite3")
        store.open()
        load_gias(store, [path])
        alpha = store.get_organisation("900001")
        assert alpha is not None and alpha.name == "Académie Alpha – St Mary’s"
        loaded.append(
            (
                [
                    # Each copy is named as the source, of the school and of its GIAS inspection record.
                    o.model_dump(exclude={"source": True, "inspections": {"__all__": {"source"}}})
                    for o in store.get_organisations(["900001", "900005"])
                ],
                store.counts(),
            )
        )
        store.close()
    assert loaded[0] == loaded[1]


def test_dry_run_writes_nothing(store: GraphStore) -> None:
    report = load_gias(store, [JANUARY], dry_run=True)
    assert (report.organisations, report.ties, report.result) == (16, 12, None)
    assert store.counts() == {}


def test_file_date() -> None:
    assert file_date(Path("edubasealldata20250718.csv.gz")) == date(2025, 7, 18)
    assert file_date(Path("allgroupsdata.csv")) is None
    assert file_date(Path("edubasealldata20251399.csv")) is None
