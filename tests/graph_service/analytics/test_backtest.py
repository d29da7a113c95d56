"""The support backtest on a small real extract (Thurrock, GIAS July 2025), checked against the CSV itself."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest

from graph_service import questions
from graph_service.analytics.backtest import HELD_OUT_FROM, summarise, takeover_cases
from graph_service.analytics.geo import distance_between
from graph_service.analytics.network import was_open
from graph_service.analytics.support import assume_good, line_reaches, rank_lines, support_index
from graph_service.cli import main
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias

DATA = Path(__file__).parent / "data"
ESTABLISHMENTS = DATA / "edubasealldata20250718_thurrock.csv"
LINKS = DATA / "links_edubasealldata20250718_thurrock.csv"


def gias_day(text: str) -> date:
    return datetime.strptime(text, "%d-%m-%Y").date()


def rows() -> dict[str, dict[str, str]]:
    with ESTABLISHMENTS.open(encoding="utf-8", newline="") as f:
        return {row["URN"]: row for row in csv.DictReader(f)}


def expected_cases() -> set[tuple[str, str, str, date]]:
    """(school, successor, trust, take-over day) read straight off the two files."""
    by_urn = rows()
    pairs = set()
    with LINKS.open(encoding="utf-8", newline="") as f:
        for link in csv.DictReader(f):
            if link["LinkType"].startswith("Successor"):
                pairs.add((link["URN"], link["LinkURN"]))
            elif link["LinkType"].startswith("Predecessor"):
                pairs.add((link["LinkURN"], link["URN"]))
    found = set()
    for school, successor in pairs:
        a, b = by_urn[school], by_urn[successor]
        if a["EstablishmentTypeGroup (name)"] != "Local authority maintained schools":
            continue
        if b["TypeOfEstablishment (name)"] != "Academy sponsor led" or not b["Trusts (code)"]:
            continue
        found.add((school, successor, f"group-{b['Trusts (code)']}", gias_day(b["OpenDate"])))
    return found


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    path = tmp_path_factory.mktemp("thurrock") / "graph.sqlite3"
    backend = EmbeddedStore(path)
    backend.open()
    load_gias(backend, [ESTABLISHMENTS], links=LINKS)
    try:
        yield backend
    finally:
        backend.close()


def test_the_cases_are_the_sponsor_led_take_overs_the_files_record(store: EmbeddedStore) -> None:
    cases = takeover_cases(store.graph())
    expected = expected_cases()
    assert len(expected) >= 10
    assert {(c.school, c.successor, c.trust, c.taken_over) for c in cases} == expected
    for case in cases:
        assert case.day == case.taken_over - timedelta(days=1)
        # The case's own future is never in the question: its academy is not open on the day asked.
        assert not was_open(store.graph().nodes[case.successor], case.day)


def nearest_trust_rank(graph: nx.MultiDiGraph, school: str, trust: str, day: date, by_urn: dict) -> int | None:
    """The nearest-trust baseline, by brute force over the CSV's trust columns."""
    nearest: dict[str, float] = {}
    for urn, row in by_urn.items():
        if urn == school or not row["Trusts (code)"] or not was_open(graph.nodes[urn], day):
            continue
        km = distance_between(graph.nodes[school], graph.nodes[urn])
        if km is None or km > 100:
            continue
        for code in row["Trusts (code)"].split(", "):
            group = f"group-{code}"
            nearest[group] = min(km, nearest.get(group, km))
    order = sorted(nearest, key=lambda group: nearest[group])
    return order.index(trust) + 1 if trust in nearest else None


def test_ranks_agree_with_the_question_and_with_a_brute_force_baseline(store: EmbeddedStore) -> None:
    answer = questions.support_backtest(store, ignore_ratings=True)
    graph = store.graph()
    by_urn = rows()
    index = support_index(graph)
    assert len(answer.cases) == len(expected_cases()) and answer.skipped == 0
    for case in answer.cases:
        assert case.asked_as_at.year == case.year or case.asked_as_at == date(case.year, 1, 1) - timedelta(days=1)
        assert case.held_out == (case.asked_as_at + timedelta(days=1) >= HELD_OUT_FROM)
        lines, *_ = rank_lines(graph, case.urn, case.asked_as_at, rating_of=assume_good, index=index)
        reached = [
            rank for rank, line in enumerate(lines, 1) if line_reaches(graph, line, case.trust, case.asked_as_at, index)
        ]
        assert case.support_rank == (reached[0] if reached else None)
        assert case.nearest_trust_rank == nearest_trust_rank(graph, case.urn, case.trust, case.asked_as_at, by_urn)
        if case.support_rank is not None:
            assert case.top == lines[0].id
    # The figures are those of the rows.
    figures = summarise([case.model_dump() for case in answer.cases])
    assert answer.all.model_dump(by_alias=True) == figures
    assert answer.all.cases == answer.tuning.cases + answer.held_out.cases
    assert sum(f.cases for f in answer.by_year.values()) == answer.all.cases
    assert any("successor academy is never used" in note for note in answer.notes)


def test_filters_and_an_empty_selection(store: EmbeddedStore) -> None:
    since = date(2015, 1, 1)
    late = questions.support_backtest(store, ignore_ratings=True, since=since)
    assert late.all.cases == len([c for c in expected_cases() if c[3] >= since]) > 0
    with pytest.raises(questions.BadQuestion, match="no take-overs to measure"):
        questions.support_backtest(store, la_code=330)


def test_cli_backtest_writes_one_csv_row_per_case(
    store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(store.path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    out = tmp_path / "cases.csv"
    assert main(["backtest", "--ignore-ratings", "--csv", str(out), "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["ignore_ratings"] is True and len(body["cases"]) == len(expected_cases())
    with out.open(encoding="utf-8", newline="") as f:
        written = list(csv.DictReader(f))
    assert sorted(row["urn"] for row in written) == sorted(case[0] for case in expected_cases())
    with pytest.raises(SystemExit):
        main(["backtest", "--weight", "charm=1"])


def test_cli_backtest_takes_a_local_authority_by_code_or_name(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(store.path))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    counts = []
    for la in ("883", "thurrock", " Thurrock "):
        assert main(["backtest", "--ignore-ratings", "--la", la, "--format", "json"]) == 0
        counts.append(len(json.loads(capsys.readouterr().out)["cases"]))
    assert counts == [len(expected_cases())] * 3
    assert main(["backtest", "--ignore-ratings", "--la", "Thurrok"]) == 1
    assert "Thurrock" in capsys.readouterr().err  # the nearest name is suggested
    assert main(["backtest", "--ignore-ratings", "--la", "999"]) == 1
    assert "no local authority with code 999" in capsys.readouterr().err


def test_a_limit_shows_exactly_the_first_lines_on_real_data(store: EmbeddedStore) -> None:
    """Every school of the extract, at two dates: the first 10 lines with a limit are those without one."""
    from graph_service.analytics.support import support_candidates

    graph = store.graph()
    index = support_index(graph)
    schools = sorted(node for node, attrs in graph.nodes(data=True) if attrs.get("kind") == "school")
    assert len(schools) > 100
    for urn in schools:
        for day in (date(2016, 9, 1), date(2024, 9, 1)):
            whole = support_candidates(graph, urn, day, limit=None, index=index, rating_of=assume_good)
            shown = support_candidates(graph, urn, day, limit=10, index=index, rating_of=assume_good)
            assert shown["candidates"] == whole["candidates"][:10], (urn, day)
