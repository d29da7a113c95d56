"""The corpus of bad files in ``bad_files/``: each gets its exact one-line error or row issue.

Whole-file problems raise :class:`LoadError` with one line and write nothing.
Bad rows are reported with file, line, column and reason; the other rows load,
``--strict`` refuses the file, and the command line never shows a traceback.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from graph_service.cli import main
from graph_service.models import NodeKind
from graph_service.store import EmbeddedStore, GraphStore, WriteBatch
from loaders.common import LoadError, LoadIssue, StrictModeError
from loaders.gias import load_gias
from loaders.ties import load_ties
from tests.factories import org, small_network

BAD = Path(__file__).parent / "bad_files"

#: File -> the one-line error after "<path>" (whole-file problems).
FILE_ERRORS = {
    "empty.csv": ": the file is empty",
    "utf16_no_bom.csv": ": UTF-16 text without a byte-order mark; save it as UTF-8 (or UTF-16 with BOM)",
    "random_binary.csv": ": binary content, not a CSV or JSON text file",
    "bad_bytes.csv": ":3: the file is neither UTF-8 nor Windows-1252 text (byte 0x81)",
    "truncated.csv.gz": ": the gzip file is truncated or corrupt"
    " (Compressed file ended before the end-of-stream marker was reached)",
    "wrong_header.csv": ": wrong header for a GIAS establishments file: missing column(s) 'EstablishmentName',"
    " 'TypeOfEstablishment (name)', 'EstablishmentStatus (name)'",
    "header_only.csv": ": no establishments after the header",
    "ties_wrong_header.csv": ": wrong header for a ties file: unknown column(s) 'untill' (expected source_id,"
    " target_id, kind, level, role, since, until, focus, outcome, notes, source, sla_lead_partner, sla_who_pays,"
    " sla_withdrawal_terms, source_kind, source_name, target_kind, target_name, partner_type)",
    "ties_missing_column.csv": ": wrong header for a ties file: missing column(s) 'kind'",
    "ties_header_only.csv": ": no ties in the file",
    "ties_broken.json": ":3: not valid JSON (Expecting ',' delimiter at column 3)",
    "grouplinks_wrong_header.csv": ": wrong header for a GIAS group links file (alllinksdata): missing column(s)"
    " 'Group UID'",
    "links_wrong_header.csv": ": wrong header for a GIAS establishment links file: missing column(s) 'LinkURN'",
    "hubs_wrong_header.csv": ": wrong header for a teaching school hubs file: missing column(s) 'lead_school_urn'",
}

#: File -> (line, column, reason) of its one bad row; the file's other two rows are good.
ROW_ISSUES = {
    "malformed_urn.csv": (3, "URN", "malformed URN '10312O' (expected digits)"),
    "bad_date.csv": (3, "OpenDate", "'31/8/19' is not a date (expected dd-mm-yyyy or yyyy-mm-dd)"),
    "unknown_status.csv": (3, "EstablishmentStatus (name)", "unknown status 'Temporarily closed'"),
    "duplicate_urn.csv": (4, "URN", "duplicate URN 100001 (first on line 2)"),
    "ties_unknown_kind.csv": (
        3,
        "kind",
        "unknown kind 'mentors' (expected one of member_of, federated_with, supports, collaborates_on,"
        " maintained_by, sponsored_by, predecessor_of)",
    ),
    "ties_malformed_urn.csv": (3, "target_id", "malformed URN '1.03E+05' (expected digits only, e.g. 103120)"),
    "ties_bad_date.csv": (3, "since", "'2024-02-30' is not a date (no such day or month)"),
    "ties_self_loop.csv": (3, "target_id", "a tie cannot join an organisation to itself"),
    "ties_unknown_school.csv": (
        3,
        "target_id",
        "unknown organisation '999999': no establishment with URN 999999 and no group with Group UID 999999"
        " in the store",
    ),
    "ties_duplicate.csv": (4, "", "duplicate of the tie on line 2 (same kind, ends, focus and since)"),
    "ties_wrong_endpoints.csv": (3, "kind", "maintained_by cannot end at a school"),
    "ties_no_level.csv": (
        3,
        "level",
        "federated_with needs a level (one of hard_governance, soft_governance, soft, loose_collaboration)",
    ),
    "ties_bad_item.json": (4, "focus", "must be text or a number, not list"),
    "groups_unknown_type.csv": (
        3,
        "Group Type (code)",
        "unknown group type code '99' (expected one of 01, 02, 05, 06, 07, 10, 11)",
    ),
    "groups_unknown_type_name.csv": (
        3,
        "Group Type",
        "unknown group type 'Co-operative trust' (expected one of Federation, Trust, School sponsor,"
        " Multi-academy trust, Umbrella trust, Single-academy trust, Secure single-academy trust)",
    ),
    "groups_bad_date.csv": (3, "Closed Date", "'31/12/23' is not a date (expected dd-mm-yyyy or yyyy-mm-dd)"),
    "grouplinks_unknown_group.csv": (3, "Group UID", "unknown group 999 (not in the groups file nor the store)"),
    "grouplinks_bad_date.csv": (3, "Joined date", "'31/09/2020' is not a date (no such day or month)"),
    "links_self_link.csv": (3, "LinkURN", "an establishment cannot be linked to itself"),
    "links_malformed_urn.csv": (3, "LinkURN", "malformed URN '4O' (expected digits)"),
    "hubs_unknown_urn.csv": (
        3,
        "lead_school_urn",
        "unknown school 999999: no establishment with this URN in the load or the store,"
        " though its local authority (330) is loaded",
    ),
}

#: File-name prefix -> the ``load_gias`` option (and CLI flag) that takes the file; others are establishments.
GIAS_OPTIONS = {"groups": "groups", "grouplinks": "group_links", "links": "links", "hubs": "hubs"}


def load(store: GraphStore, path: Path, **options: bool) -> object:
    prefix = path.name.split("_", 1)[0]
    if prefix == "ties":
        return load_ties(store, path, **options)
    if prefix in GIAS_OPTIONS:
        return load_gias(store, **{GIAS_OPTIONS[prefix]: path}, **options)  # type: ignore[arg-type]
    return load_gias(store, [path], **options)


@pytest.fixture
def network(store: GraphStore) -> GraphStore:
    store.apply(small_network())
    return store


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in BAD.iterdir()) == sorted([*FILE_ERRORS, *ROW_ISSUES, "ties_cannot_create.csv"])


@pytest.mark.parametrize("name", sorted(FILE_ERRORS))
def test_whole_file_errors(network: GraphStore, name: str) -> None:
    path = BAD / name
    before = network.counts()
    with pytest.raises(LoadError) as error:
        load(network, path)
    assert str(error.value) == f"{path}{FILE_ERRORS[name]}"
    assert "\n" not in str(error.value)
    assert network.counts() == before


@pytest.mark.parametrize("name", sorted(ROW_ISSUES))
def test_bad_rows_are_reported_and_the_rest_loaded(network: GraphStore, name: str) -> None:
    path = BAD / name
    line, column, reason = ROW_ISSUES[name]
    report = load(network, path)
    assert report.issues == [LoadIssue(name, line, column, reason)]  # type: ignore[attr-defined]
    assert (report.rows_read, report.rows_rejected) == (3, 1)  # type: ignore[attr-defined]
    assert report.result is not None and report.result.changed > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(ROW_ISSUES))
def test_strict_refuses_the_whole_file(network: GraphStore, name: str) -> None:
    path = BAD / name
    line, column, reason = ROW_ISSUES[name]
    before = network.counts()
    with pytest.raises(StrictModeError) as refused:
        load(network, path, strict=True)
    assert refused.value.issue == LoadIssue(name, line, column, reason)
    assert network.counts() == before


def test_a_new_organisation_of_a_kind_gias_owns_is_refused(network: GraphStore) -> None:
    report = load_ties(network, BAD / "ties_cannot_create.csv")
    assert [str(issue) for issue in report.issues] == [
        "ties_cannot_create.csv:2, column 'target_kind': a ties file cannot create a school (only community_partner,"
        " partnership, teaching_school_alliance); schools come from GIAS"
    ]
    assert network.get_organisation("new-academy") is None


def test_a_hub_led_by_something_not_a_school_is_refused(network: GraphStore, tmp_path: Path) -> None:
    network.apply(WriteBatch(organisations=[org("5", NodeKind.COMMUNITY_PARTNER, "Five Community Hall")]))
    hubs = tmp_path / "hubs.csv"
    lines = (BAD / "hubs_unknown_urn.csv").read_text(encoding="utf-8").splitlines()
    hubs.write_text("\n".join([lines[0], lines[1].replace("WM9,1,", "WM9,5,")]) + "\n", encoding="utf-8")
    report = load_gias(network, hubs=hubs)
    reason = "5 is a community_partner, not a school or college"
    assert report.issues == [LoadIssue("hubs.csv", 2, "lead_school_urn", reason)]
    assert network.get_organisation("tsh-wm9") is None


# -- the command line -------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded store holding the small network, which the CLI will use; run from ``tmp_path``."""
    monkeypatch.chdir(tmp_path)  # where reports go without --report
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    store = EmbeddedStore(path)
    store.open()
    store.apply(small_network())
    store.close()
    return path


def counts(db: Path) -> dict[str, int]:
    store = EmbeddedStore(db)
    store.open()
    try:
        return store.counts()
    finally:
        store.close()


def load_args(path: Path) -> list[str]:
    """``graph-service load ...`` arguments that load the file as what it is."""
    prefix = path.name.split("_", 1)[0]
    if prefix == "ties":
        return ["load", "ties", str(path)]
    if prefix in GIAS_OPTIONS:
        return ["load", "gias", "--" + GIAS_OPTIONS[prefix].replace("_", "-"), str(path)]
    return ["load", "gias", str(path)]


@pytest.mark.parametrize("name", sorted(FILE_ERRORS))
def test_cli_whole_file_error_is_one_line_and_exit_1(db: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = BAD / name
    before = counts(db)
    assert main(load_args(path)) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {path}{FILE_ERRORS[name]}\n")
    assert counts(db) == before


def test_cli_missing_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.csv"
    assert main(["load", "ties", str(missing)]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such file\n"
    assert main(["load", "gias", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory, not a file\n"


@pytest.mark.parametrize("name", ["malformed_urn.csv", "ties_unknown_school.csv", "hubs_unknown_urn.csv"])
def test_cli_strict_refuses_with_one_line(db: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    line, column, reason = ROW_ISSUES[name]
    before = counts(db)
    assert main([*load_args(BAD / name), "--strict"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: refused (strict): {LoadIssue(name, line, column, reason)}\n")
    assert counts(db) == before


@pytest.mark.parametrize("name", ["duplicate_urn.csv", "ties_self_loop.csv", "links_self_link.csv"])
def test_cli_loads_good_rows_and_writes_the_report(
    db: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line, column, reason = ROW_ISSUES[name]
    rejected = tmp_path / "rejected.csv"
    before = counts(db)
    assert main([*load_args(BAD / name), "--report", str(rejected)]) == 0
    out, err = capsys.readouterr()
    assert err == f"rejected: {LoadIssue(name, line, column, reason)}\n"
    assert "rows read: 3, rejected: 1" in out and f"report of rejected rows written to {rejected}" in out
    with rejected.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [["file", "line", "column", "reason"], [name, str(line), column, reason]]
    assert counts(db) != before


def test_cli_dry_run_writes_nothing(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = counts(db)
    assert main(["load", "ties", "--dry-run", str(BAD / "ties_duplicate.csv")]) == 0
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert counts(db) == before


def test_cli_report_that_cannot_be_written_is_one_line_and_nothing_is_loaded(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-dir" / "rejected.csv"
    before = counts(db)
    assert main(["load", "ties", str(BAD / "ties_self_loop.csv"), "--report", str(target)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {target}: cannot write the report of rejected rows (No such file or directory)\n"
    assert counts(db) == before  # checked before loading, not after the load was written
    assert main(["load", "ties", str(BAD / "ties_self_loop.csv"), "--report", str(tmp_path)]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path}: cannot write the report of rejected rows (Is a directory)\n"


def read_report(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


HEADER = ["file", "line", "column", "reason"]


def test_cli_report_is_written_even_after_a_clean_load(db: Path, tmp_path: Path) -> None:
    """So that a report from an earlier, worse load never stays behind looking current."""
    report = tmp_path / "rejected.csv"
    report.write_text("file,line,column,reason\nold.csv,2,URN,an old complaint\n", encoding="utf-8")
    clean = Path(__file__).parent / "data" / "edubasealldata20250718_small.csv"
    assert main(["load", "gias", str(clean), "--report", str(report)]) == 0
    assert read_report(report) == [HEADER]


def test_cli_without_report_writes_rejected_rows_here_and_says_where(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ties = tmp_path / "ties.csv"
    shutil.copy(BAD / "ties_self_loop.csv", ties)
    default = tmp_path / "ties-rejected.csv"
    assert main(["load", "ties", str(ties)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"report of rejected rows written to {default} (--report FILE to choose where)"
    line, column, reason = ROW_ISSUES["ties_self_loop.csv"]
    assert read_report(default) == [HEADER, ["ties.csv", str(line), column, reason]]

    # The file corrected and loaded again: the report left here no longer lists rows now fine.
    lines = ties.read_text(encoding="utf-8").splitlines()
    ties.write_text("\n".join(lines[: line - 1] + lines[line:]) + "\n", encoding="utf-8")
    assert main(["load", "ties", str(ties)]) == 0
    assert capsys.readouterr().err == f"no rows rejected: emptied the earlier report {default}\n"
    assert read_report(default) == [HEADER]


def test_cli_clean_load_without_report_writes_no_file(db: Path, tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    assert main(["load", "gias", str(Path(__file__).parent / "data" / "edubasealldata20250718_small.csv")]) == 0
    assert set(tmp_path.iterdir()) == before


def test_cli_default_report_that_cannot_be_written_is_a_warning(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The load is written by then: it must not look as if it failed."""
    (tmp_path / "ties_self_loop-rejected.csv").mkdir()
    before = counts(db)
    assert main(["load", "ties", str(BAD / "ties_self_loop.csv")]) == 0
    out, err = capsys.readouterr()
    assert "rows read: 3, rejected: 1" in out
    assert err.splitlines()[-1] == (
        f"warning: {tmp_path / 'ties_self_loop-rejected.csv'}: cannot write the report of rejected rows"
        " (Is a directory); give --report FILE to write it elsewhere"
    )
    assert counts(db) != before
