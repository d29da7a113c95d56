"""The national Ofsted file over GIAS July 2025 for England (slow; the files in ../shared/data).

The issue's "done when": at least 95% of open state-funded schools have a standing, and every
school in special measures or serious weaknesses (261 in the file) gets support candidates within
its radius or a note saying why not. Expected counts are made from the CSV here, with csv alone.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_service import questions
from graph_service.analytics.standing import rating_on
from graph_service.store import EmbeddedStore
from loaders.gias import load_gias
from loaders.ofsted import load_ofsted

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ESTABLISHMENTS = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
OUTCOMES = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
#: GIAS establishment type groups of state-funded schools.
STATE_FUNDED = {"Local authority maintained schools", "Academies", "Free Schools", "Special schools"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not OUTCOMES.is_file() or not ESTABLISHMENTS.is_file(), reason="national files not here"),
]


@pytest.fixture(scope="module")
def england(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("england") / "graph.sqlite3")
    store.open()
    load_gias(store, [ESTABLISHMENTS], links=LINKS)
    report = load_ofsted(store, OUTCOMES)
    assert report.result is not None
    store.report = report  # type: ignore[attr-defined]
    try:
        yield store
    finally:
        store.close()


def _outcomes() -> list[dict[str, str]]:
    with gzip.open(OUTCOMES) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="cp1252", newline="")))


def test_the_file_loads_and_unknown_urns_are_reported(england: EmbeddedStore) -> None:
    report = england.report  # type: ignore[attr-defined]
    rows = _outcomes()
    with gzip.open(ESTABLISHMENTS) as raw:
        known = {row["URN"] for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))}
    missing = sorted(row["URN"] for row in rows if row["URN"] not in known)
    assert report.rows_read == len(rows) == 21_990
    assert [issue.reason.split(" in the store")[0] for issue in report.issues] == [
        f"no school with URN {urn}" for urn in missing
    ]
    assert all(issue.column == "URN" for issue in report.issues) and report.rows_rejected == len(missing)


def test_most_open_state_funded_schools_have_a_standing(england: EmbeddedStore) -> None:
    graph = england.graph()
    schools = [
        attrs
        for _node, attrs in graph.nodes(data=True)
        if attrs.get("kind") == "school"
        and attrs.get("status") in ("open", "open_proposed_to_close")
        and attrs.get("type_group") in STATE_FUNDED
    ]
    standings = Counter(rating_on(attrs) for attrs in schools)
    assert (len(schools) - standings[None]) / len(schools) >= 0.95
    # Every school the file puts in a category of concern, and in the store, has that standing.
    categories = Counter(row["Category of concern"] for row in _outcomes() if row["URN"] in graph)
    assert standings["special_measures"] == categories["SM"] and standings["serious_weaknesses"] == categories["SWK"]
    assert categories["SM"] + categories["SWK"] == 261


def test_every_school_in_a_category_gets_candidates_or_a_note(england: EmbeddedStore) -> None:
    graph = england.graph()
    concern = sorted(
        row["URN"] for row in _outcomes() if row["Category of concern"] in ("SM", "SWK") and row["URN"] in graph
    )
    assert len(concern) == 261
    unanswered = []
    for urn in concern:
        answer = questions.support_partners(england, urn)
        assert answer.in_difficulty, urn
        if not answer.candidates and not answer.notes:
            unanswered.append(urn)
    assert unanswered == []
