"""The GIAS loader on the real Birmingham files, checked against counts made from the CSVs here.

The expected figures are computed in this file with the csv module alone, not
with the loader's own tables, so a mapping mistake in the loader shows up.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from graph_service.models import EdgeKind, NodeKind, Status
from graph_service.store import GraphStore, OrganisationFilter
from loaders.gias import load_gias

SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"
JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
JULY = SAMPLE / "edubasealldata20250718_birmingham.csv"
LINKS = SAMPLE / "links_edubasealldata20250718_birmingham.csv"
HUBS = SAMPLE / "teaching_school_hubs_lead_schools.csv"
CENTRES = SAMPLE / "childrencentres20250727_birmingham.csv"
JULY_DAY = date(2025, 7, 18)

COLLEGES = {"Further education", "Sixth form centres", "Special post 16 institution"}
PARTNERS = {"Higher education institutions", "Children's centre", "Children's centre linked site"}
#: Establishment types a local authority maintains (DfE's definition).
LA_MAINTAINED = {
    "Community school",
    "Voluntary aided school",
    "Voluntary controlled school",
    "Foundation school",
    "Local authority nursery school",
    "Community special school",
    "Foundation special school",
    "Pupil referral unit",
}
MEMBERSHIPS = [EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY]


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["URN"]: row for row in csv.DictReader(handle)}


def groups_of(row: dict[str, str]) -> set[str]:
    """The GIAS groups one establishment row names, as node ids."""
    found = {f"group-{code}" for column in ("Trusts (code)", "Federations (code)") for code in row[column].split("~")}
    if row["SchoolSponsors (name)"]:
        found.add("sponsor:" + row["SchoolSponsors (name)"])
    return {g for g in found if g != "group-"}


def gias_day(text: str) -> date:
    return datetime.strptime(text, "%d-%m-%Y").date()


def count(store: GraphStore, **filters: object) -> int:
    return store.list_organisations(OrganisationFilter(**filters), limit=1)[1]  # type: ignore[arg-type]


def ties(store: GraphStore, kind: EdgeKind, keep: Callable[[object], bool] = lambda tie: True) -> int:
    return sum(1 for tie in store.all_ties([kind]) if keep(tie))


def test_counts_match_the_file(store: GraphStore) -> None:
    july = rows(JULY)
    report = load_gias(store, [JULY])
    assert (report.rows_read, report.rows_rejected, report.issues) == (len(july), 0, [])
    types = [row["TypeOfEstablishment (name)"] for row in july.values()]
    colleges = sum(t in COLLEGES for t in types)
    partners = sum(t in PARTNERS for t in types)
    assert count(store, kinds=[NodeKind.FE_COLLEGE]) == colleges > 0
    assert count(store, kinds=[NodeKind.COMMUNITY_PARTNER]) == partners > 0
    assert count(store, kinds=[NodeKind.SCHOOL]) == len(july) - colleges - partners
    assert len(store.get_organisations(list(july))) == len(july)

    open_schools = sum(
        row["EstablishmentStatus (name)"] == "Open" and row["TypeOfEstablishment (name)"] not in COLLEGES | PARTNERS
        for row in july.values()
    )
    assert count(store, kinds=[NodeKind.SCHOOL], statuses=[Status.OPEN]) == open_schools
    assert count(store, statuses=[Status.CLOSED]) == sum(
        row["EstablishmentStatus (name)"] == "Closed" for row in july.values()
    )

    trusts = {row["Trusts (code)"] for row in july.values() if row["Trusts (code)"]}
    federations = {code for row in july.values() for code in row["Federations (code)"].split("~") if code}
    sponsors = {row["SchoolSponsors (name)"] for row in july.values() if row["SchoolSponsors (name)"]}
    assert count(store, kinds=[NodeKind.TRUST]) == len(trusts)
    assert count(store, kinds=[NodeKind.FEDERATION]) == len(federations)
    assert count(store, kinds=[NodeKind.SPONSOR]) == len(sponsors)
    assert count(store, kinds=[NodeKind.LOCAL_AUTHORITY]) == 1

    kinds = {org.id: org.kind for org in store.list_organisations(OrganisationFilter(), limit=10_000)[0]}
    trust_members = sum(1 for row in july.values() if row["Trusts (code)"])
    federation_members = sum(len([c for c in row["Federations (code)"].split("~") if c]) for row in july.values())
    assert ties(store, EdgeKind.MEMBER_OF, lambda t: kinds[t.target_id] is NodeKind.TRUST) == trust_members  # type: ignore[attr-defined]
    assert ties(store, EdgeKind.MEMBER_OF, lambda t: kinds[t.target_id] is NodeKind.FEDERATION) == federation_members  # type: ignore[attr-defined]
    assert ties(store, EdgeKind.SPONSORED_BY) == sum(1 for row in july.values() if row["SchoolSponsors (name)"])
    maintained = [urn for urn, row in july.items() if row["TypeOfEstablishment (name)"] in LA_MAINTAINED]
    assert ties(store, EdgeKind.MAINTAINED_BY) == len(maintained)
    still_maintained = [urn for urn in maintained if july[urn]["EstablishmentStatus (name)"] != "Closed"]
    assert ties(store, EdgeKind.MAINTAINED_BY, lambda t: t.until is None) == len(still_maintained)  # type: ignore[attr-defined]

    located = sum(1 for row in july.values() if row["Easting"] not in ("", "0"))
    assert sum(1 for org in store.get_organisations(list(july)) if org.latitude is not None) == located


def successions(establishments: dict[str, dict[str, str]], links: Path) -> set[tuple[str, str]]:
    """(predecessor, successor) pairs the links file gives between providers of the load.

    "Successor..." rows mean LinkURN came after URN, "Predecessor..." rows the reverse; a
    result of amalgamation runs from the one that closed first; sixth-form centre links are
    collaboration, and every other type (and a link to a children's centre, a university or an
    establishment outside the load) is no succession.
    """
    providers = {urn for urn, row in establishments.items() if row["TypeOfEstablishment (name)"] not in PARTNERS}
    closed = {
        urn: gias_day(row["CloseDate"])
        for urn, row in establishments.items()
        if row["EstablishmentStatus (name)"] == "Closed" and row["CloseDate"]
    }
    pairs = set()
    with links.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            a, b, link_type = row["URN"], row["LinkURN"], row["LinkType"].lower()
            if a not in providers or b not in providers:
                continue
            if link_type.startswith("successor"):
                pairs.add((a, b))
            elif link_type.startswith("predecessor"):
                pairs.add((b, a))
            elif link_type == "result of amalgamation" and closed.get(a, date.max) != closed.get(b, date.max):
                pairs.add((a, b) if closed.get(a, date.max) < closed.get(b, date.max) else (b, a))
    return pairs


def test_full_sample_counts_and_second_load_changes_nothing(store: GraphStore) -> None:
    july, centres = rows(JULY), rows(CENTRES)
    hubs = list(csv.DictReader(HUBS.open(encoding="utf-8", newline="")))
    files = {"establishments": [JULY, CENTRES], "links": LINKS, "hubs": HUBS}
    first = load_gias(store, files["establishments"], links=LINKS, hubs=HUBS)
    assert first.issues == []
    assert count(store, kinds=[NodeKind.COMMUNITY_PARTNER]) == len(centres) + sum(
        row["TypeOfEstablishment (name)"] in PARTNERS for row in july.values()
    )
    birmingham_hubs = {row["tsh_region_code"] for row in hubs if row["lead_school_urn"] in july}
    assert count(store, kinds=[NodeKind.TEACHING_SCHOOL_HUB]) == len(birmingham_hubs) > 0
    expected = successions(july, LINKS)
    stored = {(t.source_id, t.target_id) for t in store.all_ties([EdgeKind.PREDECESSOR_OF])}
    assert stored == expected and len(expected) > 300
    second = load_gias(store, files["establishments"], links=LINKS, hubs=HUBS)
    assert second.result is not None and second.result.changed == 0
    assert second.ties == first.ties and second.organisations == first.organisations


def test_january_then_july_shows_the_moves_and_closures(store: GraphStore) -> None:
    january, july = rows(JANUARY), rows(JULY)
    load_gias(store, [JANUARY])
    # A January rating the July file (no Ofsted columns) must not erase.
    rated = next(urn for urn, row in january.items() if row["OfstedRating (name)"] == "Special Measures")
    load_gias(store, [JULY])

    both = january.keys() & july.keys()
    closed = {
        urn
        for urn in both
        if january[urn]["EstablishmentStatus (name)"] != "Closed"
        and july[urn]["EstablishmentStatus (name)"] == "Closed"
    }
    moved = {
        urn: (january[urn]["Trusts (code)"], july[urn]["Trusts (code)"])
        for urn in both - closed
        if january[urn]["Trusts (code)"] and january[urn]["Trusts (code)"] != july[urn]["Trusts (code)"]
    }
    left = {urn for urn in both - closed if groups_of(january[urn]) - groups_of(july[urn])}
    assert closed and moved  # the sample has both; otherwise this test would prove nothing
    assert set(moved) <= left

    # A membership the July record no longer states ended when that record last changed (its
    # LastChangedDate: the same whichever file is loaded first), by July's extract at the latest.
    def left_on(urn: str) -> date:
        changed = datetime.strptime(july[urn]["LastChangedDate"], "%d-%m-%Y").date()
        return max(changed, date(2025, 1, 15))

    for urn, (old, new) in moved.items():
        old_tie = store.get_tie(f"member_of:{urn}:group-{old}")
        assert old_tie is not None and old_tie.until == left_on(urn) <= JULY_DAY
        if new:
            new_tie = store.get_tie(f"member_of:{urn}:group-{new}")
            assert new_tie is not None and new_tie.until is None
    ended_on_leaving = {
        t.source_id for t in store.all_ties(MEMBERSHIPS) if t.source_id in july and t.until == left_on(t.source_id)
    }
    assert ended_on_leaving == left

    now_closed = {
        org.id
        for org in store.list_organisations(OrganisationFilter(statuses=[Status.CLOSED]), limit=10_000)[0]
        if org.id in january and january[org.id]["EstablishmentStatus (name)"] != "Closed"
    }
    assert now_closed == closed
    ended = 0
    for urn in closed:
        org = store.get_organisation(urn)
        assert org is not None and org.closed == gias_day(july[urn]["CloseDate"])
        # An independent school has no such ties; every other closed school's end on its closing day.
        for tie in store.ties_of(urn, kinds=[*MEMBERSHIPS, EdgeKind.MAINTAINED_BY]):
            assert tie.until == org.closed, tie.id
            ended += 1
    assert ended > 0
    assert store.get_organisation(rated).ofsted_rating.value == "special_measures"  # type: ignore[union-attr]


@pytest.mark.parametrize("path", [JANUARY, JULY])
def test_every_row_of_the_real_files_is_accepted(path: Path, embedded: GraphStore) -> None:
    report = load_gias(embedded, [path], strict=True, dry_run=True)
    assert report.rows_read == len(rows(path)) and report.rows_rejected == 0


def test_a_newer_file_updates_a_changed_ofsted_rating_in_place(store: GraphStore, tmp_path: Path) -> None:
    """An edited copy of part of the real January file, dated later, saved as GIAS saves it (cp1252)."""
    january = rows(JANUARY)
    load_gias(store, [JANUARY])
    changed = next(
        urn
        for urn, row in january.items()
        if row["OfstedRating (name)"] == "Good" and row["EstablishmentStatus (name)"] == "Open"
    )
    others = [urn for urn, row in january.items() if urn != changed and row["OfstedRating (name)"]][:9]
    untouched = next(urn for urn in january if urn not in others and urn != changed)
    before = {urn: store.get_organisation(urn) for urn in (changed, *others, untouched)}
    counts, tie_count = store.counts(), len(store.all_ties())

    newer = tmp_path / "edubasealldata20250301_birmingham_with_ofsted.csv"
    with JANUARY.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        edited = [row for row in reader if row["URN"] in {changed, *others}]
        header = reader.fieldnames
    assert header is not None and len(edited) == 10
    for row in edited:
        if row["URN"] == changed:
            row["OfstedRating (name)"], row["OfstedLastInsp"] = "Outstanding", "12-02-2025"
            row["LastChangedDate"] = "13-02-2025"  # as GIAS dates a record's change
    with newer.open("w", encoding="cp1252", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=header, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(edited)

    report = load_gias(store, [newer])
    assert report.issues == [] and report.result is not None
    assert (report.result.organisations_created, report.result.ties_created) == (0, 0)
    assert store.counts() == counts and len(store.all_ties()) == tie_count

    now, old = store.get_organisation(changed), before[changed]
    assert now is not None and now.ofsted_rating is not None and old is not None and old.ofsted_rating is not None
    assert (now.ofsted_rating.value, now.ofsted_date) == ("outstanding", date(2025, 2, 12))
    assert (old.ofsted_rating.value, old.ofsted_date) != ("outstanding", date(2025, 2, 12))
    # Only the rating, its date, the source file and the history changed: the same node, updated in place.
    same = {"ofsted_rating", "ofsted_date", "source", "inspections", "properties"}
    assert now.model_dump(exclude=same) == old.model_dump(exclude=same)
    assert (now.properties.pop("last_changed"), now.properties.pop("extracted")) == ("2025-02-13", "2025-03-01")
    # Ten rows, none in a trust or with a sponsor: those columns, blank in every row, are unknown (issue 23).
    assert now.properties.pop("memberships_unknown", None) in (None, "sponsor,trust", "federation,sponsor,trust")
    assert now.properties == {k: v for k, v in old.properties.items() if k not in ("last_changed", "extracted")}
    # The history keeps the January rating and adds the newer one (loaders.ofsted.merge_inspections).
    assert [(i.date, i.rating) for i in now.inspections] == [
        *((i.date, i.rating) for i in old.inspections),
        (date(2025, 2, 12), "outstanding"),
    ]
    for urn in others:
        assert store.get_organisation(urn).ofsted_rating == before[urn].ofsted_rating  # type: ignore[union-attr]
    assert store.get_organisation(untouched) == before[untouched]
    assert store.get_meta()["data_date"] == "2025-03-01"
