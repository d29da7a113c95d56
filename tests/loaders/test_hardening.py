"""Issue 15's probes of the loaders, each a regression test, on both backends where a store is involved."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from graph_service.models import EdgeKind
from graph_service.store import GraphStore
from loaders.common import LoadError, LoadReport, expanded_limit, read_csv, read_text
from loaders.gias import MEMBERSHIP_COLUMNS, load_gias
from loaders.ties import load_ties

SAMPLE = Path(__file__).resolve().parents[2] / "graph_service" / "sample_data"
JANUARY = SAMPLE / "edubasealldata20250115_birmingham_with_ofsted.csv"
JULY = SAMPLE / "edubasealldata20250718_birmingham.csv"
MEMBERSHIPS = [EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY]


def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # Ofsted's files
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _history(store: GraphStore) -> dict[str, tuple[object, ...]]:
    """Every membership as (ends, since, until): what a load order must not change."""
    return {t.id: (t.source_id, t.target_id, t.since, t.until) for t in store.all_ties(kinds=MEMBERSHIPS)}


def test_a_file_without_the_membership_columns_ends_no_membership(store: GraphStore, tmp_path: Path) -> None:
    # Item 4: the July file less its Trusts*, Federations*, SchoolSponsors* and flag columns.
    load_gias(store, [JULY])
    before = _history(store)
    current = [t for t in store.all_ties(kinds=MEMBERSHIPS) if t.until is None]
    assert len(current) > 100  # the sample's memberships, most current
    header, rows = _table(JULY)
    dropped = [i for i, name in enumerate(header) if name in MEMBERSHIP_COLUMNS or name.endswith("Flag (code)")]
    dropped += [i for i, name in enumerate(header) if name.endswith("Flag (name)")]
    keep = [i for i in range(len(header)) if i not in set(dropped)]
    later = _write(
        tmp_path / "edubasealldata20250801_birmingham.csv",
        [header[i] for i in keep],
        [[row[i] for i in keep] for row in rows],
    )
    report = load_gias(store, [later])
    assert report.rows_rejected == 0
    assert report.ties_ended == 0
    assert _history(store) == before
    assert any("memberships are unknown" in note for note in report.notes)


def test_an_older_extract_after_a_newer_one_rewrites_no_history(store: GraphStore, tmp_path: Path) -> None:
    # Item 5: January after July ended July's current memberships on 2025-01-15.
    load_gias(store, [JULY])
    july = {t.id: t for t in store.all_ties(kinds=MEMBERSHIPS)}
    july_orgs = {o.id: o.name for o in store.get_organisations(sorted({t.source_id for t in july.values()}))}
    report = load_gias(store, [JANUARY])
    after = {t.id: t for t in store.all_ties(kinds=MEMBERSHIPS)}
    assert report.ties_ended == 0
    for tie_id, tie in july.items():
        assert after[tie_id] == tie, tie_id  # what July stated stands as it was
    assert {o.id: o.name for o in store.get_organisations(sorted(july_orgs))} == july_orgs


def test_loads_in_either_order_give_the_same_history(tmp_path: Path, store: GraphStore) -> None:
    from graph_service.store import EmbeddedStore

    forwards = EmbeddedStore(tmp_path / "forwards.sqlite3")
    forwards.open()
    try:
        load_gias(forwards, [JANUARY])
        load_gias(forwards, [JULY])
        expected = _history(forwards)
    finally:
        forwards.close()
    load_gias(store, [JULY])
    load_gias(store, [JANUARY])
    assert _history(store) == expected
    # ... and loading July again changes nothing (no split history).
    report = load_gias(store, [JULY])
    assert report.ties_ended == 0 and _history(store) == expected


def test_a_gzip_bomb_stops_at_the_limit(store: GraphStore, tmp_path: Path) -> None:
    # Item 6: streamed decompression, refused once past the limit, nothing written.
    bomb = tmp_path / "edubasealldata20250718.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        chunk = b"0" * (1 << 20)
        for _ in range(48):
            handle.write(chunk)
    assert bomb.stat().st_size < 200_000
    with expanded_limit(8 << 20), pytest.raises(LoadError, match="larger than 8,388,608 bytes once decompressed"):
        load_gias(store, [bomb])
    assert not any(store.counts().values())


def test_a_plain_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"URN\n" + b"1\n" * 1000)
    with expanded_limit(100), pytest.raises(LoadError, match="larger than 100 bytes"):
        read_text(big)


def test_short_and_long_rows_are_rejected_with_their_line(store: GraphStore, tmp_path: Path) -> None:
    header, rows = _table(JULY)
    short = rows[1][:20]
    cut = rows[2][: len(rows[2]) // 2]  # a file cut mid-row: its last row
    long = [*rows[3], "extra"]
    path = _write(tmp_path / "edubasealldata20250718_b.csv", header, [rows[0], short, long, cut])
    report = load_gias(store, [path])
    assert report.rows_read == 4 and report.rows_rejected == 3
    reasons = {issue.line: issue.reason for issue in report.issues}
    assert reasons[3] == f"20 value(s) where the header has {len(header)} column(s)"
    assert reasons[4] == f"{len(header) + 1} value(s) where the header has {len(header)} column(s)"
    assert reasons[5].startswith(f"{len(cut)} value(s)")
    stored = store.get_organisation(rows[1][0])
    assert stored is None  # never stored with a blank location and postcode


def test_a_utf8_file_with_a_stray_cp1252_byte_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes("URN,Name\n1,Café\n2,Zoë\n".encode() + b"3,Caf\xe9\n")
    with pytest.raises(LoadError, match=r"mixed\.csv:4: byte 0xe9 is not UTF-8"):
        read_text(path)
    cp1252 = tmp_path / "cp1252.csv"
    cp1252.write_bytes("URN,Name\n1,Café\n".encode("cp1252"))
    assert read_text(cp1252) == "URN,Name\n1,Café\n"


def test_a_huge_header_of_duplicates_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("URN," + ",".join(["X"] * 300_000) + "\n1," + ",".join(["a"] * 300_000) + "\n")
    with pytest.raises(LoadError, match="duplicated column"):
        read_csv(path, ("URN",), "a test file")


def test_deeply_nested_json_in_a_ties_file_is_a_load_error(store: GraphStore, tmp_path: Path) -> None:
    deep = tmp_path / "ties.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LoadError, match="nested"):
        load_ties(store, deep)
    nested = tmp_path / "nested.json"
    row = {"source_id": "1", "target_id": "2", "kind": "supports", "notes": [[[[[[[[["x"]]]]]]]]]}
    nested.write_text(json.dumps([row]))
    with pytest.raises(LoadError, match="nested deeper"):
        load_ties(store, nested)


def test_rejected_row_reports_do_not_carry_formulas(tmp_path: Path) -> None:
    report = LoadReport()
    from loaders.common import LoadIssue

    report.issues.append(LoadIssue("f.csv", 2, "name", '=HYPERLINK("http://evil","x")'))
    report.issues.append(LoadIssue("f.csv", 3, "+cmd|' /C calc'!A0", "@SUM(1)"))
    out = tmp_path / "rejected.csv"
    report.write_issues(out)
    cells = [cell for row in csv.reader(io.StringIO(out.read_text())) for cell in row]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert '\'=HYPERLINK("http://evil","x")' in cells and "'@SUM(1)" in cells


def test_property_keys_from_a_ties_file_are_checked(store: GraphStore, tmp_path: Path) -> None:
    """A loaded record goes through the same models: an unsafe name is a rejected row, not stored."""
    path = tmp_path / "ties.csv"
    path.write_text(
        "source_id,target_id,kind,source_kind,source_name\n"
        "evil-partner,bep,collaborates_on,community_partner,Evil\x1b[2J\n"
    )
    report = load_ties(store, path, dry_run=True)
    assert report.rows_rejected == 1
    assert any("control or invisible character" in issue.reason for issue in report.issues)


def test_a_file_name_with_a_newline_is_refused(store: GraphStore, tmp_path: Path) -> None:
    """Item 3: a loaded file's name went into exports' headers as a line of its own."""
    path = tmp_path / "ties.csv\nMATCH (n) DETACH DELETE n;.csv"
    path.write_text("source_id,target_id,kind\n1,2,supports\n")
    with pytest.raises(LoadError, match=r"file name holds a control or invisible character \('\\n'\)"):
        load_ties(store, path)
    with pytest.raises(LoadError, match="rename the file"):
        load_gias(store, [path])
    assert store.get_meta() == {}


def test_a_short_row_of_an_ofsted_file_is_rejected(store: GraphStore, tmp_path: Path) -> None:
    from loaders.ofsted import load_ofsted

    load_gias(store, [JULY])
    source = SAMPLE / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025_birmingham.csv"
    header, rows = _table(source)
    cut = _write(tmp_path / source.name, header, [rows[0], rows[1][:10]])
    report = load_ofsted(store, cut, dry_run=True)
    assert report.rows_read == 2 and report.rows_rejected == 1
    assert [issue.reason for issue in report.issues] == [f"10 value(s) where the header has {len(header)} column(s)"]
