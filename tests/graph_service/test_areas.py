"""Collaboration by area and over time: exact answers on a tiny network in both stores, the CLI, and real data."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from graph_service import area_questions
from graph_service.analytics.panel import academy_shares, projection
from graph_service.area_questions import AreaBy, Step
from graph_service.cli import main
from graph_service.models import EdgeKind, NodeKind, Status
from graph_service.questions import BadQuestion
from graph_service.store import EmbeddedStore, GraphStore
from graph_service.store.base import WriteBatch
from tests.factories import org, school, tie

BEFORE = date(2019, 8, 31)
CENSUS = date(2024, 1, 18)


def network() -> WriteBatch:
    """Two local authorities.

    Birmingham (330): 101, 102 (opened 2021), 103 in trust T; 104 in trust U since 2020-09-01,
    supported by 103; 105 with no tie at all; 109, an independent school, also in T (never counted).
    Coventry (331): 201 in U; 202 federated (F) with 203, which closed on 2020-08-31 and was
    succeeded by 202.
    """
    cov = {"la_code": 331, "local_authority": "Coventry"}
    orgs = [
        school(101, type_name="Academy converter", subtype="academy_converter", phase="primary"),
        school(102, opened=date(2021, 9, 1)),
        school(103),
        school(104, ofsted_rating="inadequate"),
        school(105, ofsted_rating="good"),
        school(109, subtype="independent"),
        school(201, **cov),
        school(202, **cov),
        school(203, status=Status.CLOSED, closed=date(2020, 8, 31), **cov),
        org("group-10", NodeKind.TRUST, "Trust T", group_uid=10),
        org("group-11", NodeKind.TRUST, "Trust U", group_uid=11),
        org("group-20", NodeKind.FEDERATION, "Federation F", group_uid=20),
    ]
    ties = [
        tie("101", "group-10", EdgeKind.MEMBER_OF),
        tie("102", "group-10", EdgeKind.MEMBER_OF),
        tie("103", "group-10", EdgeKind.MEMBER_OF),
        tie("109", "group-10", EdgeKind.MEMBER_OF),
        tie("104", "group-11", EdgeKind.MEMBER_OF, since=date(2020, 9, 1)),
        tie("201", "group-11", EdgeKind.MEMBER_OF),
        tie("103", "104", EdgeKind.SUPPORTS),
        tie("202", "group-20", EdgeKind.MEMBER_OF),
        tie("203", "group-20", EdgeKind.MEMBER_OF, until=date(2020, 8, 31)),
        tie("203", "202", EdgeKind.PREDECESSOR_OF),
    ]
    return WriteBatch(organisations=orgs, ties=ties)


@pytest.fixture
def loaded(store: GraphStore) -> GraphStore:
    store.apply(network())
    return store


def rows_by_area(store: GraphStore, day: date) -> dict[str, dict[str, object]]:
    return {row.area: row.model_dump() for row in area_questions.area_table(store, day).rows}


def test_area_measures_on_the_census_day(loaded: GraphStore) -> None:
    found = rows_by_area(loaded, CENSUS)
    # 109 is independent: not counted, and not a partner of T's schools.
    assert found["330"] == {
        "area": "330",
        "name": "Birmingham",
        "schools": 5,
        "in_trust_share": 0.8,
        "in_federation_share": 0.0,
        "isolated_share": 0.2,
        "no_partner_share": 0.2,
        "trusts": 2,
        "trust_hhi": 0.625,  # T holds 3 of the 4 trust schools, U 1: 9/16 + 1/16
        "mean_degree": 1.8,  # 101: 102 103; 102: 101 103; 103: 101 102 104; 104: 103 201; 105: none
        "across_trust_per_school": 0.4,  # 103-104 only: 104-201 share U
        "components": 2,  # the tie 104-201 crosses into Coventry and is cut
        "largest_component_share": 0.8,
    }
    # 203 closed in 2020: never counted as open, nor as 202's partner.
    assert found["331"] == {
        "area": "331",
        "name": "Coventry",
        "schools": 2,
        "in_trust_share": 0.5,
        "in_federation_share": 0.5,
        "isolated_share": 0.0,
        "no_partner_share": 0.5,
        "trusts": 1,
        "trust_hhi": 1.0,
        "mean_degree": 0.5,
        "across_trust_per_school": 0.0,
        "components": 2,
        "largest_component_share": 0.5,
    }


def test_area_measures_before_the_changes(loaded: GraphStore) -> None:
    found = rows_by_area(loaded, BEFORE)
    birmingham, coventry = found["330"], found["331"]
    # 102 not open yet; 104 not yet in U: 101-103, 103-104.
    assert (birmingham["schools"], birmingham["in_trust_share"], birmingham["mean_degree"]) == (4, 0.5, 1.0)
    assert (birmingham["across_trust_per_school"], birmingham["trusts"], birmingham["trust_hhi"]) == (0.5, 1, 1.0)
    # 203 open and federated with 202: one component of two, 201 alone.
    assert (coventry["schools"], coventry["in_federation_share"], coventry["components"]) == (3, 0.6667, 2)
    assert (coventry["largest_component_share"], coventry["across_trust_per_school"]) == (0.6667, 0.6667)


def test_series_are_the_tables_of_each_day(loaded: GraphStore) -> None:
    series = area_questions.area_trends(loaded, date(2019, 8, 31), date(2024, 8, 31))
    assert series.days == [date(year, 8, 31) for year in range(2019, 2025)]
    coventry = next(trend for trend in series.areas if trend.area == "331")
    assert coventry.values["schools"] == [3, 3, 2, 2, 2, 2]  # 203 closed on 31 August 2020: open that day
    for i, day in enumerate(series.days):
        table = rows_by_area(loaded, day)
        for trend in series.areas:
            assert {m: v[i] for m, v in trend.values.items()} == {
                m: v for m, v in table[trend.area].items() if m not in ("area", "name")
            }
    one = area_questions.area_trends(loaded, BEFORE, CENSUS, area="Coventry")
    assert [trend.area for trend in one.areas] == ["331"]
    regions = area_questions.area_table(loaded, CENSUS, AreaBy.DISTRICT)
    assert regions.rows == []  # no school here has a district


def test_bad_series_are_refused(loaded: GraphStore) -> None:
    with pytest.raises(BadQuestion, match="ends on or after"):
        area_questions.area_trends(loaded, CENSUS, BEFORE)
    with pytest.raises(BadQuestion, match="at most 400 days"):
        area_questions.area_trends(loaded, date(1990, 1, 1), date(2025, 1, 1), Step.MONTH)
    with pytest.raises(BadQuestion, match="no la 'Nowhere'"):
        area_questions.area_trends(loaded, BEFORE, CENSUS, area="Nowhere")


def test_panel_rows(loaded: GraphStore) -> None:
    columns = area_questions.panel(loaded, [CENSUS, BEFORE])
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    assert [(row["as_at"], row["urn"]) for row in rows] == [
        (BEFORE, urn) for urn in ("101", "103", "104", "105", "201", "202", "203")
    ] + [(CENSUS, urn) for urn in ("101", "102", "103", "104", "105", "201", "202")]
    by = {(row["as_at"], row["urn"]): row for row in rows}
    assert (by[BEFORE, "104"]["trust_id"], by[CENSUS, "104"]["trust_id"]) == (None, "group-11")
    row = by[CENSUS, "104"]
    assert (row["degree"], row["across_trust"], row["strength"]) == (2, 1, 2.0)
    assert (by[BEFORE, "203"]["federation_id"], by[BEFORE, "203"]["successor_urns"]) == ("group-20", "202")
    assert by[CENSUS, "202"]["predecessor_urns"] == "203"
    assert (by[CENSUS, "105"]["isolated"], by[CENSUS, "104"]["isolated"]) == (True, False)
    assert by[CENSUS, "101"]["type_name"] == "Academy converter"
    # Flat ratings (no inspection records) stand on every day, each school its own.
    assert (by[BEFORE, "104"]["standing"], by[CENSUS, "105"]["standing"], by[CENSUS, "101"]["standing"]) == (
        "inadequate",
        "good",
        None,
    )
    assert by[CENSUS, "105"]["standing_basis"] == "rated good (no inspection records)"


def test_projection_weights_and_closed_partners(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "graph.sqlite3")
    store.open()
    store.apply(network())
    found = projection(store.graph()).on(CENSUS)
    ids = projection(store.graph()).ids
    assert "109" not in ids  # independent
    edges = {
        (ids[a], ids[b]): (weight, in_trust)
        for a, b, weight, in_trust in zip(
            found.edge_a.tolist(),
            found.edge_b.tolist(),
            found.edge_weight.tolist(),
            found.edge_in_trust.tolist(),
            strict=True,
        )
    }
    assert edges == {
        ("101", "102"): (1.0, True),
        ("101", "103"): (1.0, True),
        ("102", "103"): (1.0, True),
        ("103", "104"): (1.0, False),
        ("104", "201"): (1.0, True),
    }
    store.close()


def test_academy_shares_count_as_dfe_does() -> None:
    shares = academy_shares(
        {
            "phase": ["primary", "middle_deemed_primary", "all_through", "not_applicable", "not_applicable", "16_plus"],
            "type_group": [
                "Academies",
                "Local authority maintained schools",
                "Free Schools",
                "Special schools",
                "Special schools",
                "Academies",
            ],
            "type_name": [
                "Academy converter",
                "Community school",
                "Free schools",
                "Non-maintained special school",  # not state-funded: left out
                "Foundation special school",
                "Academy 16-19 converter",  # no DfE phase: left out
            ],
        }
    )
    assert shares == {
        "primary": {"schools": 2, "academies": 1, "share": 0.5},
        "secondary": {"schools": 1, "academies": 1, "share": 1.0},
        "special": {"schools": 1, "academies": 0, "share": 0.0},
    }


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "graph.sqlite3"
    store = EmbeddedStore(path)
    store.open()
    store.apply(network())
    store.close()
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(path))
    return path


def test_cli_areas_series_and_table(cli_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["areas", "--from", "2019", "--to", "2024", "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 12  # two areas, six years
    assert rows[0]["as_at"] == "2019-08-31" and rows[0]["area"] == "330" and rows[0]["schools"] == "4"
    assert main(["areas", "--on", "2024-01-18", "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert [row["schools"] for row in answer["rows"]] == [5, 2]
    assert main(["areas", "--on", "2024-01-18", "--sort", "no_partner_share"]) == 0
    table = capsys.readouterr().out
    assert table.index("Coventry") < table.index("Birmingham")  # 50% before 20%
    assert main(["areas", "--from", "2019"]) == 2
    assert "needs both --from and --to" in capsys.readouterr().err
    assert main(["areas", "--from", "2024", "--to", "2019"]) == 1
    assert "ends on or after it starts" in capsys.readouterr().err


def test_cli_panel_files(cli_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "panel"
    assert main(["export", "--format", "panel", "--from", "2019", "--to", "2024", "-o", str(out)]) == 0
    assert "exported 41 rows (6 days)" in capsys.readouterr().out
    with (out / "panel.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 41 and rows[0]["as_at"] == "2019-08-31" and rows[0]["urn"] == "101"
    book = (out / "codebook.csv").read_text(encoding="utf-8")
    assert "across_trust,integer," in book and "Open Government Licence" in book
    assert main(["export", "--format", "panel", "--on", "2024-01-18", "--panel-format", "parquet", "-o", str(out)]) == 0
    table = pq.read_table(out / "panel.parquet")
    assert table.num_rows == 7 and str(table.schema.field("as_at").type) == "date32[day]"
    assert main(["export", "--format", "panel", "-o", str(out)]) == 2
    assert "needs --from and --to" in capsys.readouterr().err
    taken = tmp_path / "a-file"
    taken.write_text("")
    assert main(["export", "--format", "panel", "--on", "2024-01-18", "-o", str(taken)]) == 1
    assert f"cannot write {taken}" in capsys.readouterr().err
    assert main(["areas", "--on", "2024-01-18", "--area", "Nowhere"]) == 1
    assert "no la 'Nowhere' had open state-funded schools on 2024-01-18" in capsys.readouterr().err


# -- the API ------------------------------------------------------------------------------------


def test_api_gives_what_the_cli_gives(loaded: GraphStore, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from graph_service.api.app import create_app
    from tests.graph_service.api.test_writes import make_settings

    with TestClient(create_app(make_settings(tmp_path), store=loaded)) as client:
        table = client.get("/questions/areas", params={"as_at": "2024-01-18"})
        assert table.status_code == 200, table.text
        expected = json.loads(area_questions.area_table(loaded, CENSUS).model_dump_json())
        assert table.json()["rows"] == expected["rows"] and len(expected["rows"]) == 2
        series = client.get("/questions/areas/series", params={"from": "2019-08-31", "to": "2024-08-31", "area": "331"})
        assert series.status_code == 200, series.text
        assert series.json()["areas"][0]["values"]["schools"] == [3, 3, 2, 2, 2, 2]
        panel = client.get("/export/panel", params={"from": "2019-08-31", "to": "2024-08-31"})
        assert panel.status_code == 200 and panel.headers["content-type"].startswith("text/csv")
        assert 'filename="panel-2019-08-31_2024-08-31.csv"' in panel.headers["content-disposition"]
        assert len(panel.text.strip().splitlines()) == 42  # header and 41 rows, as the CLI writes
        parquet = client.get(
            "/export/panel", params=[("on", "2024-01-18"), ("on", "2019-08-31"), ("format", "parquet")]
        )
        assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
        # The pages' downloads and a page for an area that has no schools.
        rows = client.get("/viz/areas.csv", params={"as_at": "2024-01-18"}).text.splitlines()
        assert rows[0].startswith("as_at,area,name,schools") and rows[1].startswith("2024-01-18,330,Birmingham,5,")
        rows = client.get("/viz/areas/series.csv", params={"area": "331", "start": 2019, "end": 2024}).text.splitlines()
        assert [row.split(",")[:4] for row in rows[1:3]] == [
            ["2019-08-31", "331", "Coventry", "3"],
            ["2020-08-31", "331", "Coventry", "3"],
        ]
        missing = client.get("/viz/areas/999")
        assert missing.status_code == 404 and "no la '999'" in missing.json()["detail"]
        page = client.get("/viz/areas/331", params={"start": 2019, "end": 2024})
        assert page.status_code == 200 and page.text.count("<figure") == 11
        for path, params, words in (
            ("/questions/areas/series", {"from": "2024-08-31", "to": "2019-08-31"}, "ends on or after"),
            ("/questions/areas/series", {"from": "2019-08-31"}, "to"),
            ("/questions/areas/series", {"from": "2019-08-31", "to": "2020-08-31", "by": "ward"}, "by"),
            ("/questions/areas", {"as_at": "2024-13-01"}, "as_at"),
            ("/export/panel", {}, "give 'from' and 'to'"),
            ("/export/panel", {"from": "2019-08-31"}, "needs both"),
        ):
            response = client.get(path, params=params)
            assert response.status_code == 422 and words in response.text, (path, params, response.text)


# -- real data ----------------------------------------------------------------------------------


def test_birmingham_with_the_example_ties(store: GraphStore) -> None:
    """The real sample, then the example ties file: support, a federation and a partnership join schools."""
    from graph_service.cli import load_sample
    from loaders.ties import load_ties
    from tests.conftest import REPO

    load_sample(store)
    day = date(2025, 7, 18)
    winter = date(2022, 12, 31)
    before = area_questions.panel(store, [day, winter])
    load_ties(store, REPO / "examples" / "ties_example.csv")
    after = area_questions.panel(store, [day, winter])

    def rows(columns: dict[str, list[object]], on: date) -> dict[object, dict[str, object]]:
        found = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        return {row["urn"]: row for row in found if row["as_at"] == on}

    was, now = rows(before, day), rows(after, day)
    was_then, then = rows(before, winter), rows(after, winter)
    # 103298, 103243 and 103444 share the partnership since 2022-23; 103298 supports 103243 since
    # 2024-09-01; 103243 and 103130 federated in 2023; 103157 supports 103208 since January 2025.
    for urn, gained in (("103298", 2), ("103243", 3), ("103444", 2), ("103130", 1), ("103157", 1), ("103208", 1)):
        assert now[urn]["degree"] - was[urn]["degree"] == gained, urn
        assert now[urn]["across_trust"] - was[urn]["across_trust"] == gained, urn
    # At the end of 2022 the partnership held 103298 and 103243 only (103444 joined in January 2023).
    assert [then[urn]["degree"] - was_then[urn]["degree"] for urn in ("103298", "103243", "103444")] == [1, 1, 0]
    table = {row.area: row for row in area_questions.area_table(store, day).rows}
    total = sum(row["across_trust"] for row in now.values())
    assert table["330"].across_trust_per_school == round(total / table["330"].schools, 4)
