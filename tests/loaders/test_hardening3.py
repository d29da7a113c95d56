"""Issue 23's probes of the loaders, each a regression test, on both backends where a store is involved."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.models import EdgeKind, OfstedRating, Organisation
from graph_service.store import GraphStore
from loaders.common import LoadError
from loaders.gias import load_gias
from tests.graph_service.api.test_writes import ADMIN, make_settings
from tests.loaders.test_hardening import _table, _write

SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"
JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
JULY = SAMPLE / "edubasealldata20250718_birmingham.csv"
MEMBERSHIPS = [EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY]
#: What the probe saw January rewrite: pupils, status, closing dates, names, urban/rural.
FACTS = ("name", "pupils", "status", "closed", "urban_rural", "capacity", "type_name")


def _facts(store: GraphStore) -> dict[str, tuple[object, ...]]:
    orgs, _ = _all(store)
    return {org.id: tuple(getattr(org, name) for name in FACTS) for org in orgs}


def _all(store: GraphStore) -> tuple[list[Organisation], int]:
    from graph_service.store import OrganisationFilter

    return store.list_organisations(OrganisationFilter(), offset=0, limit=100_000)


def _history(store: GraphStore) -> dict[str, tuple[object, ...]]:
    return {t.id: (t.source_id, t.target_id, t.since, t.until) for t in store.all_ties(kinds=MEMBERSHIPS)}


def test_an_undated_older_extract_rewrites_no_record(store: GraphStore, tmp_path: Path) -> None:
    # Item 1: January's file as "upload.csv" after July's updated 1,094 records and ended 5 ties.
    load_gias(store, [JULY])
    facts, history, meta = _facts(store), _history(store), store.get_meta()
    report = load_gias(store, [shutil.copy(JANUARY, tmp_path / "upload.csv")])
    assert report.rows_rejected == 0 and report.ties_ended == 0
    after = _facts(store)
    assert {k: v for k, v in after.items() if k in facts} == facts
    assert {k: v for k, v in _history(store).items() if k in history} == history
    assert store.get_meta()["data_date"] == meta["data_date"] == "2025-07-18"
    assert any("newest LastChangedDate" in note for note in report.notes)  # dated 2025-01-14 by its content
    assert any("older than the stored ones" in note for note in report.notes)


def test_records_are_dated_one_by_one_not_by_the_file(store: GraphStore, tmp_path: Path) -> None:
    # A later extract (by name and content) holding one record older than the stored one: that record stands.
    load_gias(store, [JULY])
    header, rows = _table(JULY)
    _, january_rows = _table(JANUARY)
    urn, changed = header.index("URN"), header.index("LastChangedDate")
    january = {row[urn]: row for row in january_rows}
    stale = next(row for row in rows if row[urn] in january and row[changed] != january[row[urn]][changed])
    fresh = next(row for row in rows if row is not stale)
    old_name = store.get_organisation(stale[urn])
    assert old_name is not None
    stale_copy = list(stale)
    stale_copy[changed] = "01-01-2020"
    stale_copy[header.index("EstablishmentName")] = "Renamed By An Old Record"
    fresh_copy = list(fresh)
    fresh_copy[changed] = "20-07-2025"
    fresh_copy[header.index("EstablishmentName")] = "Renamed By A New Record"
    later = _write(tmp_path / "edubasealldata20250801_birmingham.csv", header, [stale_copy, fresh_copy])
    load_gias(store, [later])
    kept, changed_org = store.get_organisation(stale[urn]), store.get_organisation(fresh[urn])
    assert kept is not None and kept.name == old_name.name
    assert changed_org is not None and changed_org.name == "Renamed By A New Record"
    assert changed_org.properties["last_changed"] == "2025-07-20"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("edubasealldata20991231_birmingham.csv", "its name dates it 2099-12-31, after today"),
        (
            "edubasealldata20250301_birmingham.csv",
            "its name dates it 2025-03-01, but its newest record changed on 2025-07-17",
        ),
    ],
)
def test_a_name_that_contradicts_the_content_is_refused(
    store: GraphStore, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(LoadError, match=message):
        load_gias(store, [shutil.copy(JULY, tmp_path / name)])
    assert sum(store.counts().values()) == 0
    assert "data_date" not in store.get_meta()


def test_as_of_before_the_content_is_refused(store: GraphStore) -> None:
    from datetime import date

    with pytest.raises(LoadError, match="--as-of 2025-01-01 is before the newest record's LastChangedDate"):
        load_gias(store, [JULY], as_of=date(2025, 1, 1))


def test_a_record_changed_after_today_is_rejected(store: GraphStore, tmp_path: Path) -> None:
    header, rows = _table(JULY)
    rows = [list(row) for row in rows[:3]]
    rows[0][header.index("LastChangedDate")] = "31-12-2099"
    report = load_gias(store, [_write(tmp_path / "upload.csv", header, rows)])
    assert report.rows_rejected == 1
    assert "LastChangedDate" in str(report.issues[0]) and "after today" in str(report.issues[0])


def test_the_api_dates_an_upload_without_a_filename_by_its_content(store: GraphStore, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path), store=store)) as client:
        assert (
            client.post(
                "/loads/gias?filename=edubasealldata20250718_birmingham.csv", content=JULY.read_bytes(), headers=ADMIN
            ).status_code
            == 200
        )
        facts, history = _facts(store), _history(store)
        answer = client.post("/loads/gias", content=JANUARY.read_bytes(), headers=ADMIN)
        assert answer.status_code == 200, answer.text
        assert {k: v for k, v in _facts(store).items() if k in facts} == facts
        assert {k: v for k, v in _history(store).items() if k in history} == history
        assert client.get("/health").json()["data_date"] == "2025-07-18"
        misdated = client.post(
            "/loads/gias?filename=edubasealldata20991231.csv", content=JANUARY.read_bytes(), headers=ADMIN
        )
        assert misdated.status_code == 422 and "2099-12-31" in misdated.text and "after today" in misdated.text


def test_the_cli_dates_a_file_by_its_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graph_service.cli import main
    from graph_service.store import EmbeddedStore

    db = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(db))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    assert main(["load", "gias", str(JULY)]) == 0
    store = EmbeddedStore(db)
    store.open()
    try:
        facts = _facts(store)
    finally:
        store.close()
    assert main(["load", "gias", str(shutil.copy(JANUARY, tmp_path / "export.csv"))]) == 0
    assert main(["load", "gias", str(shutil.copy(JULY, tmp_path / "edubasealldata20991231.csv"))]) == 1
    store.open()
    try:
        assert {k: v for k, v in _facts(store).items() if k in facts} == facts
        assert store.get_meta()["data_date"] == "2025-07-18"
    finally:
        store.close()


def _blanked(tmp_path: Path, columns: set[str]) -> Path:
    """July's file, a day later by name, with ``columns`` blank in every row."""
    header, rows = _table(JULY)
    blank = [header.index(column) for column in columns]
    for row in rows:
        for i in blank:
            row[i] = ""
    return _write(tmp_path / "edubasealldata20250719_birmingham.csv", header, rows)


def _current(store: GraphStore) -> int:
    return sum(1 for t in store.all_ties(kinds=MEMBERSHIPS) if t.until is None)


@pytest.mark.parametrize(
    "columns",
    [
        # Item 2: the membership columns present but empty in every row ended 480 of 485 memberships.
        {
            "Trusts (code)",
            "Trusts (name)",
            "Federations (code)",
            "Federations (name)",
            "SchoolSponsors (name)",
            "TrustSchoolFlag (code)",
            "TrustSchoolFlag (name)",
            "FederationFlag (name)",
            "SchoolSponsorFlag (name)",
        },
        # ... and Trusts blank while TrustSchoolFlag still says the school is in a trust ended 263.
        {"Trusts (code)", "Trusts (name)"},
    ],
    ids=["all-blank", "trusts-blank-flag-set"],
)
def test_blank_membership_columns_end_no_membership(store: GraphStore, tmp_path: Path, columns: set[str]) -> None:
    load_gias(store, [JULY])
    history, current = _history(store), _current(store)
    assert current > 400
    report = load_gias(store, [_blanked(tmp_path, columns)])
    assert report.ties_ended == 0 and report.rows_rejected == 0
    assert _history(store) == history
    warnings = [note for note in report.notes if note.startswith("warning:") and "'Trusts (code)'" in note]
    assert len(warnings) == 1 and "trust memberships are unknown" in warnings[0]


def test_a_school_that_left_its_trust_by_its_flag_still_ends_its_membership(store: GraphStore, tmp_path: Path) -> None:
    # The rule is no blanket refusal: a row whose flag agrees ("not supported by a trust") is believed.
    load_gias(store, [JULY])
    header, rows = _table(JULY)
    code, flag = header.index("Trusts (code)"), header.index("TrustSchoolFlag (code)")
    leaver = next(row for row in rows if row[code] and "~" not in row[code])
    tie_id = f"member_of:{leaver[header.index('URN')]}:group-{leaver[code]}"
    leaver[code], leaver[header.index("Trusts (name)")], leaver[flag] = "", "", "2"
    leaver[header.index("LastChangedDate")] = "19-07-2025"  # GIAS dates the record's change
    report = load_gias(store, [_write(tmp_path / "edubasealldata20250719_birmingham.csv", header, rows)])
    assert report.ties_ended == 1
    ended = store.get_tie(tie_id)
    assert ended is not None and str(ended.until) == "2025-07-19"
    assert not [note for note in report.notes if note.startswith("warning:")]


OUTCOMES = SAMPLE / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025_birmingham.csv"


def _outcomes(path: Path, edit: dict[str, str], urn: str | None = None) -> tuple[str, Path]:
    with OUTCOMES.open(encoding="cp1252", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    row = next(r for r in rows if (urn is None and r["Inspection start date"] not in ("", "NULL")) or r["URN"] == urn)
    row.update(edit)
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return row["URN"], path


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        # Item 4: a row dated 31/12/2099 in a file "as at 31 August 2025" made a school Outstanding on 2099-12-31.
        ("Inspection start date", "31/12/2099", "2099-12-31 is after the file's date (2025-08-31)"),
        ("Inspection start date", "15/09/2025", "2025-09-15 is after the file's date (2025-08-31)"),
        ("Publication date", "31/12/2099", "2099-12-31 is after today"),
        ("Previous inspection start date", "01/01/2030", "2030-01-01 is after the file's date"),
    ],
)
def test_inspections_dated_after_the_file_are_rejected(
    store: GraphStore, tmp_path: Path, column: str, value: str, message: str
) -> None:
    from loaders.ofsted import load_ofsted

    load_gias(store, [JULY])
    edit = {column: value, "Overall effectiveness": "1"}
    urn, path = _outcomes(tmp_path / OUTCOMES.name, edit)
    report = load_ofsted(store, path)
    bad = [issue for issue in report.issues if issue.column == column]
    assert len(bad) == 1 and message in bad[0].reason and report.rows_rejected == 1
    school = store.get_organisation(urn)
    assert school is not None and all(i.date.year < 2026 for i in school.inspections)


def test_a_later_file_corrects_an_inspection_with_the_same_number(store: GraphStore, tmp_path: Path) -> None:
    # The 2099 inspection an earlier load accepted is replaced by the same inspection number, dated right.
    from graph_service.store import WriteBatch
    from loaders.ofsted import load_ofsted, merge_inspections, with_inspections

    load_gias(store, [JULY])
    urn, path = _outcomes(tmp_path / OUTCOMES.name, {})
    load_ofsted(store, path)
    school = store.get_organisation(urn)
    assert school is not None
    real = next(i for i in school.inspections if i.number and i.kind.value == "graded")
    future = {"date": real.date.replace(year=2099), "overall": 1, "rating": OfstedRating.OUTSTANDING}
    wrong = real.model_copy(update=future)
    stale = with_inspections(school, merge_inspections([i for i in school.inspections if i != real], [wrong]))
    store.apply(WriteBatch(organisations=[stale]))
    assert store.get_organisation(urn).ofsted_date.year == 2099  # type: ignore[union-attr]
    load_ofsted(store, path)
    fixed = store.get_organisation(urn)
    assert fixed is not None and [i for i in fixed.inspections if i.number == real.number and i.kind is real.kind] == [
        real
    ]
    assert fixed.ofsted_date is not None and fixed.ofsted_date.year < 2026


def test_a_gias_rating_dated_after_the_extract_is_rejected(store: GraphStore, tmp_path: Path) -> None:
    header, rows = _table(JANUARY)
    rows = [list(row) for row in rows[:5]]
    rows[0][header.index("OfstedLastInsp")] = "31-12-2099"
    report = load_gias(store, [_write(tmp_path / "edubasealldata20250115_birmingham.csv", header, rows)])
    assert report.rows_rejected == 1 and "after the file's date (2025-01-15)" in str(report.issues[0])


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_a_ties_file_of_too_many_rows_is_refused_before_it_is_held(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    # Item 3: 60 MB of JSON took 1.48 GB in the CLI; the rows a load holds are bounded (here, lowered to 50).
    import json

    import loaders.ties
    from loaders.ties import load_ties

    monkeypatch.setattr(loaders.ties, "MAX_TIE_ROWS", 50)
    rows = [{"source_id": "1", "target_id": "2", "kind": "supports", "focus": f"f{i}"} for i in range(51)]
    path = tmp_path / f"ties{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(rows))
    else:
        path.write_text("source_id,target_id,kind,focus\n" + "".join(f"1,2,supports,f{i}\n" for i in range(51)))
    with pytest.raises(LoadError, match="more than 50 ties in one file"):
        load_ties(store, path)
    assert sum(store.counts().values()) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1,]", "Illegal trailing comma"),
        ("[{} {}]", "Expecting ',' delimiter"),
        ('{"ties": []} []', "Extra data"),
        ('{"ties": [], "more": 1}', "a list of ties, or an object"),
        ('[{"a": [[[[[[[1]]]]]]]}]', "nested deeper"),
        ("[", "Expecting value"),
    ],
)
def test_json_ties_read_one_at_a_time_still_refuse_what_is_not_json(
    store: GraphStore, tmp_path: Path, text: str, message: str
) -> None:
    from loaders.ties import load_ties

    path = tmp_path / "ties.json"
    path.write_text(text)
    with pytest.raises(LoadError, match=message):
        load_ties(store, path)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""], ids=["bom", "no-bom"])
def test_a_stray_byte_after_a_bom_is_named_right(tmp_path: Path, bom: bytes) -> None:
    # Item 11: a UTF-8 file with a BOM and one Windows-1252 byte was refused naming "0x53", not 0x96.
    from loaders.common import read_text

    path = tmp_path / "mixed.csv"
    path.write_bytes(bom + "URN,Name\n1,Caf\u00e9\n2,St Mary\x96s\n".encode("utf-8").replace(b"\xc2\x96", b"\x96"))
    with pytest.raises(LoadError, match=r"mixed.csv:3: byte 0x96 is not UTF-8"):
        read_text(path)
