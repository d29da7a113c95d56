"""The collaboration ties loader: the documented format, on tiny graphs with known answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from graph_service.models import EdgeKind, NodeKind
from graph_service.store import GraphStore, WriteBatch
from loaders.common import LoadError, LoadIssue, StrictModeError
from loaders.gias import load_gias
from loaders.ties import COLUMNS, load_ties
from tests.factories import school, small_network

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SAMPLE = REPO / "graph_service" / "sample_data"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def network(store: GraphStore) -> GraphStore:
    """Schools 1-4, trust group-10, authority la-330 (see tests.factories.small_network)."""
    store.apply(small_network())
    return store


def test_examples_load_and_the_json_states_the_same_ties(store: GraphStore) -> None:
    load_gias(
        store,
        [SAMPLE / "edubasealldata20250718_birmingham.csv", SAMPLE / "childrencentres20250727_birmingham.csv"],
    )
    csv_report = load_ties(store, EXAMPLES / "ties_example.csv")
    assert (csv_report.rows_read, csv_report.issues, csv_report.ties, csv_report.organisations) == (10, [], 10, 3)
    partner = store.get_organisation("kings-heath-community-sports-club")
    assert partner is not None and (partner.kind, partner.subtype) == (NodeKind.COMMUNITY_PARTNER, "sports_club")
    partnership = store.get_organisation("south-birmingham-learning-partnership")
    assert partnership is not None and partnership.subtype == "learning_partnership"
    club = store.get_tie("collaborates_on:kings-heath-community-sports-club:103243:extended_services")
    assert club is not None and club.sla is not None
    assert (club.sla.lead_partner, club.sla.withdrawal_terms) == ("103243", "One term's notice by either side")
    # The example spells one date dd-mm-yyyy, as GIAS does.
    cpd = store.get_tie("supports:103157:103208:cpd")
    assert cpd is not None and cpd.since == date(2025, 1, 1)
    json_report = load_ties(store, EXAMPLES / "ties_example.json")
    assert (json_report.rows_read, json_report.issues) == (5, [])
    assert json_report.result is not None and json_report.result.changed == 0


def test_template_has_every_column_and_no_rows() -> None:
    lines = (EXAMPLES / "ties_template.csv").read_text(encoding="utf-8").splitlines()
    assert lines == [",".join(COLUMNS)]


def test_a_second_load_creates_no_duplicates(network: GraphStore, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "source_id,target_id,kind,level,since,focus,target_kind,target_name,partner_type\n"
        "1,2,supports,,2024-09-01,maths,,,\n"
        "3,4,federated_with,soft_governance,2023-09-01,,,,\n"
        "4,careers-hub,collaborates_on,,,careers,community_partner,City Careers Hub,careers_service\n",
    )
    first = load_ties(network, path)
    assert first.result is not None and (first.result.ties_created, first.result.organisations_created) == (3, 1)
    before = network.counts()
    second = load_ties(network, path)
    assert second.result is not None and second.result.changed == 0
    assert network.counts() == before


def test_ids_resolve_as_urn_first_then_group_uid(network: GraphStore, tmp_path: Path) -> None:
    path = write(tmp_path, "ties.csv", "source_id,target_id,kind,role\n1,10,member_of,lead\n")
    load_ties(network, path)
    assert network.get_tie("member_of:1:group-10") is not None
    network.apply(WriteBatch(organisations=[school(10, "Ten Primary")]))
    load_ties(network, write(tmp_path, "more.csv", "source_id,target_id,kind,focus\n1,10,supports,cpd\n"))
    assert network.get_tie("supports:1:10:cpd") is not None


def test_headers_as_people_type_them(network: GraphStore, tmp_path: Path) -> None:
    path = write(tmp_path, "ties.csv", "Source ID,Target ID,Kind,Since,Focus\n2,3,supports,01/09/2024,Joint Staffing\n")
    report = load_ties(network, path)
    assert report.issues == []
    tie = network.get_tie("supports:2:3:joint_staffing")
    assert tie is not None and tie.since == date(2024, 9, 1)


def test_bad_rows_are_reported_and_good_ones_written(network: GraphStore, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "source_id,target_id,kind,since,until,focus,sla_lead_partner\n"
        "1,2,supports,2024-09-01,,maths,\n"
        "1,3,supports,2024-09-01,2023-01-01,,\n"
        "1,4,collaborates_on,,,cpd,nobody\n"
        "2,group-10,supports,,,,\n"
        "2,4,supports,,,,\n",
    )
    report = load_ties(network, path)
    assert report.issues == [
        LoadIssue("ties.csv", 3, "until", "2023-01-01 is before since (2024-09-01)"),
        LoadIssue("ties.csv", 4, "sla_lead_partner", "unknown organisation 'nobody'"),
        LoadIssue("ties.csv", 5, "kind", "supports cannot end at a trust"),
    ]
    assert (report.rows_read, report.rows_rejected, report.ties) == (5, 3, 2)
    assert sorted(t.id for t in network.all_ties([EdgeKind.SUPPORTS])) == ["supports:1:2:maths", "supports:2:4"]


def test_strict_refuses_the_file_at_its_first_bad_row(network: GraphStore, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "source_id,target_id,kind,since,target_kind,target_name\n"
        "1,new-partnership,member_of,2024-09-01,partnership,New Partnership\n"
        "1,3,supports,soon,,\n"
        "1,new-trust,member_of,,trust,New Trust\n",
    )
    before = network.counts()
    with pytest.raises(StrictModeError) as refused:
        load_ties(network, path, strict=True)
    # Line 4's problem is found in an earlier pass than line 3's, but the first bad row in the file is reported.
    assert str(refused.value) == (
        "refused (strict): ties.csv:3, column 'since': 'soon' is not a date (expected dd-mm-yyyy or yyyy-mm-dd)"
    )
    assert network.counts() == before
    assert network.get_organisation("new-partnership") is None


def test_dry_run_reports_without_writing(network: GraphStore, tmp_path: Path) -> None:
    path = write(tmp_path, "ties.csv", "source_id,target_id,kind,focus\n1,2,supports,maths\n2,2,supports,\n")
    before = network.counts()
    report = load_ties(network, path, dry_run=True)
    assert (report.ties, report.rows_rejected, report.result) == (1, 1, None)
    assert network.counts() == before


def test_creating_organisations(network: GraphStore, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "source_id,target_id,kind,role,focus,source_kind,source_name,target_kind,target_name,partner_type\n"
        "1,bep,member_of,member,,,,partnership,Birmingham Education Partnership,area_partnership\n"
        "2,bep,member_of,lead,,,Beta Primary,partnership,Birmingham Education Partnership,\n"
        "3,bep,member_of,member,,,,partnership,Another Name,\n"
        "club,4,collaborates_on,,sport,community_partner,Club,,,rugby_club\n"
        "1,new-trust,member_of,member,,,,trust,New Trust,\n"
        "1,group-10,member_of,member,,,,federation,Trust T,\n",
    )
    report = load_ties(network, path)
    assert report.issues == [
        LoadIssue(
            "ties.csv",
            4,
            "target_name",
            "'bep' was declared on line 2 as partnership 'Birmingham Education Partnership' (area_partnership)",
        ),
        LoadIssue(
            "ties.csv",
            5,
            "partner_type",
            "subtype 'rugby_club' is not valid for 'community_partner'; expected one of ['careers_service',"
            " 'childrens_centre', 'employer', 'faith_group', 'other', 'private_provider', 'sports_club',"
            " 'trade_union', 'university', 'voluntary_provider']",
        ),
        LoadIssue(
            "ties.csv",
            6,
            "target_kind",
            "a ties file cannot create a trust (only community_partner, partnership, teaching_school_alliance);"
            " trusts come from GIAS",
        ),
        LoadIssue("ties.csv", 7, "target_kind", "'group-10' is a trust, not a federation"),
    ]
    bep = network.get_organisation("bep")
    assert bep is not None and (bep.kind, bep.name, bep.subtype) == (
        NodeKind.PARTNERSHIP,
        "Birmingham Education Partnership",
        "area_partnership",
    )
    assert sorted(t.source_id for t in network.ties_of("bep")) == ["1", "2"]
    assert network.get_organisation("club") is None


def test_unknown_slug_without_kind_says_how_to_create_it(network: GraphStore, tmp_path: Path) -> None:
    report = load_ties(network, write(tmp_path, "ties.csv", "source_id,target_id,kind\n1,bep,member_of\n"))
    assert [str(i) for i in report.issues] == [
        "ties.csv:2, column 'target_id': unknown organisation 'bep' (give target_kind and target_name to create it)"
    ]


def test_json_issues_carry_the_line_of_their_tie(network: GraphStore, tmp_path: Path) -> None:
    ties = [
        {"source_id": 1, "target_id": 2, "kind": "supports", "focus": "maths"},
        {"source_id": "1", "target_id": 3, "kind": "supports", "colour": "red"},
        {"source_id": 3, "target_id": 4, "kind": "supports", "sla": {"who_pays": "LA", "lead_partner": 3}},
        "not a tie",
    ]
    path = write(tmp_path, "ties.json", json.dumps(ties, indent=2))
    report = load_ties(network, path)
    assert [str(i) for i in report.issues] == [
        "ties.json:8, column 'colour': unknown field",
        "ties.json:23: a tie must be a JSON object",
    ]
    sla = network.get_tie("supports:3:4")
    assert sla is not None and sla.sla is not None and (sla.sla.lead_partner, sla.sla.who_pays) == ("3", "LA")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("ties.json", '{"links": []}', 'a JSON ties file is a list of ties, or an object {"ties": [...]}'),
        ("ties.json", "[]", "no ties in the file"),
        ("ties.txt", "[1, 2", "1: not valid JSON"),
    ],
)
def test_json_file_errors(network: GraphStore, tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(LoadError) as error:
        load_ties(network, path)
    assert str(error.value).startswith(f"{path}{':' if expected[0].isdigit() else ': '}{expected}")


def test_choices_as_people_type_them_and_ids_that_cannot_be(network: GraphStore, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ties.csv",
        "source_id,target_id,kind,level,target_kind,target_name\n"
        "1,3,Federated With,Hard governance,,\n"
        "1,Kings Heath Club,collaborates_on,,Community Partner,Kings Heath Club\n",
    )
    report = load_ties(network, path)
    assert [str(issue) for issue in report.issues] == [
        "ties.csv:3, column 'target_id': malformed id 'Kings Heath Club' for a new community_partner"
        " (use letters, digits and '-', e.g. 'kings-heath-club')"
    ]
    tie = network.get_tie("federated_with:1:3")
    assert tie is not None and tie.level is not None and tie.level.value == "hard_governance"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-16"])
def test_files_as_spreadsheets_save_them(network: GraphStore, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "ties.csv"
    path.write_bytes("source_id,target_id,kind,sla_who_pays\n1,4,supports,£500 a term – from the LA\n".encode(encoding))
    report = load_ties(network, path)
    assert report.issues == []
    tie = network.get_tie("supports:1:4")
    assert tie is not None and tie.sla is not None and tie.sla.who_pays == "£500 a term – from the LA"
