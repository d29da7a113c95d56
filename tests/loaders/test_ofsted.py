"""The Ofsted loader on real rows of both layouts, and on hand-made bad ones, on both backends.

Expected values are read off the CSV rows by hand (quoted in the comments), not from the loader.
The rows are Ofsted data (data/ofsted_report_card_sample.csv: the header and three real rows of the
report-card management information file; the bundled Birmingham outcomes file). Contains public
sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from pathlib import Path

import pytest

from graph_service.analytics.standing import rating_on, standing_on
from graph_service.graphview import org_attrs
from graph_service.models import EdgeKind, InspectionKind, NodeKind, Organisation, make_tie
from graph_service.store import EmbeddedStore, GraphStore
from graph_service.store.base import WriteBatch
from loaders.common import LoadError, StrictModeError
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted
from tests.factories import org, school

SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"
OUTCOMES = SAMPLE / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025_birmingham.csv"
JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
REPORT_CARDS = Path(__file__).parent / "data" / "ofsted_report_card_sample.csv"


def _rows(path: Path, urns: set[str], encoding: str = "cp1252") -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["URN"] in urns]
        assert reader.fieldnames is not None
        return list(reader.fieldnames), rows


def _write(path: Path, header: list[str], rows: list[dict[str, str]], encoding: str = "cp1252") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _schools(store: GraphStore, *urns: int) -> None:
    store.apply(WriteBatch(organisations=[school(urn) for urn in urns]))


def _stored(store: GraphStore, urn: int) -> Organisation:
    found = store.get_organisation(str(urn))
    assert found is not None
    return found


# -- the report-card layout: the three real rows ------------------------------------------


def test_report_card_rows(store: GraphStore) -> None:
    _schools(store, 100977, 103519, 116430)
    report = load_ofsted(store, REPORT_CARDS)
    assert report.issues == [] and report.rows_read == 3 and report.organisations == 3
    assert "report_card layout" in report.notes[0]

    # 100977 Stepney All Saints: report card 10/02/2026, Inclusion Exceptional, Curriculum and teaching
    # Strong standard, ..., Early years Not applicable, Post-16 Strong standard; ungraded 14/10/2021.
    stepney = _stored(store, 100977)
    assert [(i.date, i.kind) for i in stepney.inspections] == [
        (date(2021, 10, 14), InspectionKind.UNGRADED),
        (date(2026, 2, 10), InspectionKind.REPORT_CARD),
    ]
    card = stepney.inspections[1]
    assert card.areas["inclusion"] == "exceptional" and card.areas["curriculum_and_teaching"] == "strong_standard"
    assert "early_years" not in card.areas and card.areas["post_16"] == "strong_standard"
    assert card.safeguarding is True and card.category is None and card.published == date(2026, 4, 19)
    assert stepney.inspections[0].outcome == "School remains Outstanding"
    # Every area Exceptional or Strong standard: 1 on the common scale, so outstanding.
    assert stepney.ofsted_rating == "outstanding" and stepney.ofsted_date == date(2026, 2, 10)

    # 103519 Moseley School: SM; Curriculum and teaching and Leadership Urgent improvement.
    moseley = _stored(store, 103519)
    assert moseley.ofsted_rating == "special_measures"
    standing = standing_on(org_attrs(moseley), date(2026, 1, 1))
    assert standing is not None and standing.basis == "report card on 2025-12-09: category of concern SM"
    assert standing.areas == {
        "inclusion": 3,
        "curriculum_and_teaching": 4,
        "achievement": 3,
        "attendance_and_behaviour": 3,
        "personal_development_and_wellbeing": 3,
        "sixth_form": 2,
        "leadership_and_governance": 4,
    }

    # 116430 The Clere School: no report card; latest OEIF 15/01/2025 Not judged, SWK, 3/4/3/4, safeguarding Yes.
    clere = _stored(store, 116430)
    assert [(i.date, i.kind) for i in clere.inspections] == [(date(2025, 1, 15), InspectionKind.GRADED)]
    graded = clere.inspections[0]
    assert graded.overall is None and graded.category == "SWK" and graded.safeguarding is True
    assert graded.judgements == {
        "quality_of_education": 3,
        "behaviour_and_attitudes": 4,
        "personal_development": 3,
        "leadership_and_management": 4,
    }
    assert clere.ofsted_rating == "serious_weaknesses"


# -- the graded layout: real Birmingham rows ------------------------------------------------


def test_graded_rows(store: GraphStore, tmp_path: Path) -> None:
    wanted = {"103130", "103427", "141003", "140262", "150054", "103560"}
    header, rows = _rows(OUTCOMES, wanted)
    _schools(store, *(int(u) for u in wanted))
    report = load_ofsted(store, _write(tmp_path / "outcomes.csv", header, rows))
    assert report.issues == [] and report.rows_read == 6 and report.organisations == 5
    assert any("1 school(s) with no inspection in the file" in note for note in report.notes)

    # 103130 Allens Croft: latest 28/01/2025 "Not judged", 1/1/1/1; previous 08/06/2022 overall 3.
    allens = _stored(store, 103130)
    assert [(i.date, i.overall) for i in allens.inspections] == [(date(2022, 6, 8), 3), (date(2025, 1, 28), None)]
    assert allens.ofsted_rating == "outstanding"
    attrs = org_attrs(allens)
    latest = standing_on(attrs, date(2025, 8, 31))
    assert latest is not None and latest.basis.startswith("Not judged on 2025-01-28: from sub-judgements")
    # As at a day before the latest inspection, the previous one is in force.
    assert rating_on(attrs, date(2025, 1, 27)) == "requires_improvement"
    assert rating_on(attrs, date(2022, 6, 7)) is None

    # 103427 The Oratory: 30/11/2022 overall 4, SM; 27/11/2018 overall 3.
    oratory = _stored(store, 103427)
    assert oratory.ofsted_rating == "special_measures"
    assert rating_on(org_attrs(oratory), date(2022, 11, 29)) == "requires_improvement"

    # 141003 Jewellery Quarter: 26/11/2024 "Not judged", SWK; trust 4145.
    assert _stored(store, 141003).ofsted_rating == "serious_weaknesses"

    # 140262 Robin Hood Academy: graded 02/07/2013 on its predecessor 103386; ungraded 22/09/2022 "School remains Good".
    robin = _stored(store, 140262)
    graded = [i for i in robin.inspections if i.kind is InspectionKind.GRADED]
    assert graded[-1].urn_at_inspection == 103386 and graded[-1].overall == 2
    # Who it was then: Ofsted's LAESTAB, name and type at the time.
    assert (graded[-1].laestab_at_inspection, graded[-1].name_at_inspection, graded[-1].type_at_inspection) == (
        3302460,
        "Robin Hood Junior and Infant School",
        "Community School",
    )
    ungraded = [i for i in robin.inspections if i.kind is InspectionKind.UNGRADED]
    assert [(i.date, i.outcome) for i in ungraded] == [(date(2022, 9, 22), "School remains Good")]
    # An ungraded inspection confirms the grade; the standing still comes from the graded one.
    assert rating_on(org_attrs(robin), date(2024, 1, 1)) == "good"

    # 150054 Birches Green: no inspection in the file, so nothing changes.
    assert _stored(store, 150054).inspections == []

    # 103560 Bishop Challoner: 13/09/2016 overall 2; before it, 10/05/2016 overall 4 with SM.
    challoner = org_attrs(_stored(store, 103560))
    assert rating_on(challoner, date(2016, 9, 12)) == "special_measures"
    assert rating_on(challoner, date(2016, 9, 13)) == "good"


def test_gzip_and_utf8_copies_load_the_same(store: GraphStore, tmp_path: Path) -> None:
    text = OUTCOMES.read_bytes().decode("cp1252")
    assert any(ord(c) > 127 for c in text)  # the sample holds Windows-1252 letters
    gz = tmp_path / "outcomes.csv.gz"
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    urns = [int(row["URN"]) for row in csv.DictReader(io.StringIO(text))]
    _schools(store, *urns)
    first = load_ofsted(store, OUTCOMES)
    histories = {urn: _stored(store, urn).inspections for urn in urns[:50]}
    again = load_ofsted(store, gz)
    assert first.issues == again.issues == []
    assert again.result is not None and again.result.organisations_updated == 0  # nothing new
    assert {urn: _stored(store, urn).inspections for urn in urns[:50]} == histories


# -- history: later files add, never lose ---------------------------------------------------


def test_later_file_adds_and_gias_keeps_history(store: GraphStore, tmp_path: Path) -> None:
    load_gias(store, [JANUARY])
    # 103519 Moseley: GIAS January 2025 gives a rating and a date; Ofsted's August 2025 file its graded
    # history; the report card of 09/12/2025 comes later. Each load adds to what is stored.
    gias = [(i.date, i.rating) for i in _stored(store, 103519).inspections]
    assert len(gias) == 1
    header, rows = _rows(OUTCOMES, {"103519"})
    load_ofsted(store, _write(tmp_path / "outcomes.csv", header, rows))
    after_outcomes = _stored(store, 103519).inspections
    card_header, card_rows = _rows(REPORT_CARDS, {"103519"}, encoding="utf-8")
    load_ofsted(store, _write(tmp_path / "cards.csv", card_header, card_rows, encoding="utf-8"))
    moseley = _stored(store, 103519)
    assert all(i in moseley.inspections for i in after_outcomes) and len(moseley.inspections) > len(after_outcomes)
    assert moseley.inspections[-1].kind is InspectionKind.REPORT_CARD and moseley.ofsted_rating == "special_measures"
    # GIAS's record gives way to Ofsted's on the same day, and stays on any other.
    ofsted_days = {i.date for i in moseley.inspections if (i.source or "").startswith("ofsted:")}
    assert all(day in ofsted_days or i.source is None for day, _ in gias for i in moseley.inspections if i.date == day)

    # A GIAS load (January again) keeps every inspection, and the rating from the latest one.
    load_gias(store, [JANUARY])
    again = _stored(store, 103519)
    assert again.inspections == moseley.inspections and again.ofsted_rating == "special_measures"
    assert again.ofsted_date == date(2025, 12, 9)


# -- bad input -----------------------------------------------------------------------------


def _bad_file(tmp_path: Path) -> Path:
    header, rows = _rows(OUTCOMES, {"103130", "103427", "141003"})
    rows[0]["Quality of education"] = "Good"  # line 2: a word where a grade goes
    rows[1]["Inspection start date"] = "31/02/2022"  # line 3: no such day
    rows[2]["URN"] = "999999"  # line 4: not in the store
    return _write(tmp_path / "bad.csv", header, rows)


def test_bad_rows_are_reported_and_good_ones_loaded(store: GraphStore, tmp_path: Path) -> None:
    _schools(store, 103130, 103427, 141003)
    bad = _bad_file(tmp_path)
    header, rows = _rows(bad, {"103130", "103427", "999999"})
    good = _rows(OUTCOMES, {"141003"})[1][0]
    rows += [good, dict(good)]  # line 5: 141003; line 6: 141003 again
    _, fresh = _rows(OUTCOMES, {"103130"})
    rows.append({**fresh[0], "Category of concern": "XX"})  # line 7: an unknown category
    report = load_ofsted(store, _write(tmp_path / "more.csv", header, rows))
    found = [(issue.line, issue.column, issue.reason) for issue in report.issues]
    assert found[0] == (2, "Quality of education", "'Good' is not a grade (expected 1-4, or 9 for not applicable)")
    assert found[1][:2] == (3, "Inspection start date") and "no such day" in found[1][2]
    assert found[2] == (6, "URN", "duplicate URN 141003 (first on line 5)")
    assert found[3][:2] == (7, "Category of concern") and "'XX'" in found[3][2]
    # URNs are looked up in the store once the file is read: reported last.
    assert found[4][:2] == (4, "URN") and "no school with URN 999999 in the store" in found[4][2]
    assert len(found) == 5 and report.rows_rejected == 5
    # Only the good row (141003) was written; nothing was created for 999999.
    assert _stored(store, 141003).ofsted_rating == "serious_weaknesses"
    assert _stored(store, 103130).inspections == [] and store.get_organisation("999999") is None


def test_strict_refuses_and_dry_run_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _schools(store, 103130, 103427, 141003)
    before = [_stored(store, urn) for urn in (103130, 103427, 141003)]
    with pytest.raises(StrictModeError, match=r"bad\.csv:2, column 'Quality of education'"):
        load_ofsted(store, _bad_file(tmp_path), strict=True)
    report = load_ofsted(store, _bad_file(tmp_path), dry_run=True)
    assert report.result is None and len(report.issues) == 3
    assert [_stored(store, urn) for urn in (103130, 103427, 141003)] == before


def test_report_card_grade_words_are_checked(store: GraphStore, tmp_path: Path) -> None:
    _schools(store, 100977)
    header, rows = _rows(REPORT_CARDS, {"100977"}, encoding="utf-8")
    rows[0]["Attendance and behaviour"] = "Good"
    rows[0]["Safeguarding standards"] = "Partly"
    report = load_ofsted(store, _write(tmp_path / "cards.csv", header, rows, encoding="utf-8"))
    assert [(i.line, i.column) for i in report.issues] == [
        (2, "Safeguarding standards"),
        (2, "Attendance and behaviour"),
    ]
    assert "unknown grade 'Good'" in report.issues[1].reason and "Needs attention" in report.issues[1].reason
    assert _stored(store, 100977).inspections == []


def test_a_report_card_judged_on_a_predecessor_says_who_it_was(store: GraphStore, tmp_path: Path) -> None:
    _schools(store, 100977)
    header, rows = _rows(REPORT_CARDS, {"100977"}, encoding="utf-8")
    rows[0].update(
        {
            "Does the latest full inspection relate to the URN of the current school?": "No",
            "URN at time of latest full inspection": "100001",
            "LAESTAB at time of latest full inspection": "2114000",
            "School name at time of latest full inspection": "Old Stepney School",
            "School type at time of latest full inspection": "Voluntary Aided School",
        }
    )
    load_ofsted(store, _write(tmp_path / "cards.csv", header, rows, encoding="utf-8"))
    card = [i for i in _stored(store, 100977).inspections if i.kind is InspectionKind.REPORT_CARD][-1]
    assert (card.urn_at_inspection, card.laestab_at_inspection, card.name_at_inspection, card.type_at_inspection) == (
        100001,
        2114000,
        "Old Stepney School",
        "Voluntary Aided School",
    )
    standing = standing_on(org_attrs(_stored(store, 100977)), date(2026, 6, 1))
    assert standing is not None and (standing.judged_urn, standing.judged_name) == ("100001", "Old Stepney School")


def test_control_characters_in_text_cells_are_refused(store: GraphStore, tmp_path: Path) -> None:
    _schools(store, 140262)
    header, rows = _rows(OUTCOMES, {"140262"})
    rows[0]["Ungraded inspection overall outcome"] = "School remains Good\x1b[2J"
    report = load_ofsted(store, _write(tmp_path / "outcomes.csv", header, rows))
    assert len(report.issues) == 1 and "control or invisible character" in report.issues[0].reason
    assert report.issues[0].line == 2 and _stored(store, 140262).inspections == []


def test_a_file_that_is_not_ofsteds_is_refused(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("URN,Name\n100000,A school\n", encoding="utf-8")
    with pytest.raises(LoadError, match="not an Ofsted inspections file"):
        load_ofsted(store, path)
    with pytest.raises(LoadError, match="not an Ofsted inspections file"):
        load_ofsted(store, JANUARY)
    path.write_text("School,Name\n100000,A school\n", encoding="utf-8")
    with pytest.raises(LoadError, match="wrong header for an Ofsted inspections file: missing column"):
        load_ofsted(store, path)
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(REPORT_CARDS.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(LoadError, match="no schools after the header"):
        load_ofsted(store, header_only)
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress(REPORT_CARDS.read_bytes())[:-20])
    with pytest.raises(LoadError, match="truncated or corrupt"):
        load_ofsted(store, truncated)


# -- trust UIDs ----------------------------------------------------------------------------


def test_trust_uids_are_compared_not_applied(store: GraphStore, tmp_path: Path) -> None:
    # 141003 Jewellery Quarter: Ofsted says multi-academy trust 4145. In the store it is in 9999 instead.
    header, rows = _rows(OUTCOMES, {"141003"})
    trusts = [
        org("group-4145", NodeKind.TRUST, "Ofsted's trust", subtype="multi_academy", group_uid=4145),
        org("group-9999", NodeKind.TRUST, "GIAS's trust", subtype="multi_academy", group_uid=9999),
    ]
    store.apply(
        WriteBatch(
            organisations=[school(141003), *trusts],
            ties=[make_tie(source_id="141003", target_id="group-9999", kind=EdgeKind.MEMBER_OF, source="gias:x.csv")],
        )
    )
    report = load_ofsted(store, _write(tmp_path / "outcomes.csv", header, rows))
    assert any(
        "1 school(s) in a multi-academy trust GIAS does not list it in" in note
        and "141003 -> group-4145 (GIAS: group-9999)" in note
        for note in report.notes
    )
    assert [t.target_id for t in store.ties_of("141003")] == ["group-9999"]  # not applied


# -- the command line ----------------------------------------------------------------------


def test_cli_load_ofsted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from graph_service.cli import main

    database = tmp_path / "graph.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(database))
    seeded = EmbeddedStore(database)
    seeded.open()
    _schools(seeded, 100977, 103519)
    seeded.close()
    rejected = tmp_path / "rejected.csv"
    assert main(["load", "ofsted", str(REPORT_CARDS), "--report", str(rejected)]) == 0
    out = capsys.readouterr().out
    assert "rows read: 3, rejected: 1" in out and "report_card layout" in out
    with rejected.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["line"], row["column"]) for row in rows] == [("4", "URN")] and "116430" in rows[0]["reason"]
    store = EmbeddedStore(database)
    store.open()
    assert _stored(store, 103519).ofsted_rating == "special_measures"
    store.close()
    assert main(["load", "ofsted", str(JANUARY)]) == 1
    assert capsys.readouterr().err.count("\n") == 1  # one line, no traceback
