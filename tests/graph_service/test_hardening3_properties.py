"""Issue 23's property tests: dates from year 1 to 9999, one-line text of every Unicode category,
and GIAS loads in any order. Few examples each (CI stays fast); each runs on both backends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graph_service.api.app import create_app
from graph_service.models import QUERY_DAYS
from graph_service.store import GraphStore
from tests.factories import small_network
from tests.graph_service.api.test_writes import EDITOR, make_settings

QUICK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


@pytest.fixture
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    store.apply(small_network())
    with TestClient(create_app(make_settings(tmp_path), store=store), raise_server_exceptions=False) as test_client:
        yield test_client


#: Every endpoint taking a date, with the parameter.
DATED = (
    "/questions/support/2?as_at={}",
    "/questions/isolated?as_at={}",
    "/organisations/1/ties?as_at={}",
    "/export?format=json&as_at={}",
    "/viz/organisation/1?as_at={}",
)


@pytest.mark.parametrize("day", [date(1, 1, 1), date(3, 1, 1), date(9999, 12, 31)])
def test_extreme_dates_are_a_422_not_a_500(client: TestClient, day: date) -> None:
    # Item 6: as_at=0001-01-01 (to 0003-01-01) was a 500 (OverflowError in the support index's bounds).
    for address in DATED:
        answer = client.get(address.format(day.isoformat()))
        assert answer.status_code == 422, (address, answer.text)
        assert "outside the dates the service answers for" in answer.text


@QUICK
@given(day=days)
def test_any_date_is_answered_or_refused_never_a_500(client: TestClient, day: date) -> None:
    inside = QUERY_DAYS[0] <= day <= QUERY_DAYS[1]
    for address in DATED:
        answer = client.get(address.format(day.isoformat()))
        assert answer.status_code == (200 if inside else 422), (address, answer.text)


@QUICK
@given(since=days, until=days)
def test_tie_dates_of_any_year_round_trip(client: TestClient, since: date, until: date) -> None:
    partnership = {"kind": "partnership", "name": "P", "subtype": "network", "opened": since.isoformat()}
    assert client.put("/organisations/p1", json=partnership, headers=EDITOR).status_code in (200, 201)
    body = {"source_id": "1", "target_id": "p1", "kind": "member_of", "role": "member", "since": since.isoformat()}
    posted = client.post("/ties", json={**body, "until": until.isoformat()}, headers=EDITOR)
    if until < since:
        assert posted.status_code == 422, posted.text
        return
    assert posted.status_code in (200, 201), posted.text
    read = client.get(f"/ties/{posted.json()['id']}").json()
    assert (read["since"], read["until"]) == (since.isoformat(), until.isoformat())
    # ... and every question over them still answers (no date arithmetic overflows).
    for address in DATED:
        assert client.get(address.format("2025-09-01")).status_code == 200, address


def test_the_cli_refuses_dates_outside_the_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    from graph_service.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["isolated", "--as-at", "0001-01-01"])
    assert exited.value.code == 2
    assert "outside the dates the service answers for" in capsys.readouterr().err


#: Restated independently of the models: what no one-line field (a name) may hold (item 8).
NEVER_IN_A_NAME = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u2028\u2029\u200b-\u200f\u2060-\u2064\ufeff\u061c\u180e"
    "\ufdd0-\ufdef\U000e0000-\U000e007f]|[\ufffe\uffff]|[\U0001fffe\U0001ffff\U0010fffe\U0010ffff]"
)
#: What pydantic strips from the ends of text: Unicode's White_Space characters.
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
WHITE_SPACE += "\u2028\u2029\u202f\u205f\u3000"
#: Every category; and, as often, the characters the probe found accepted among ordinary letters.
PROBED = "\u2028\u2029\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\U000e0041\ufdd0\uffff\U0010ffff\u0301 aZ"
one_line = st.one_of(
    st.text(alphabet=st.characters(), min_size=1, max_size=12), st.text(alphabet=PROBED, min_size=1, max_size=8)
)


def _noncharacter(c: str) -> bool:
    return 0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE


@QUICK
@given(name=one_line)
@example(name="Saint\u2028Mary")
@example(name="Alpha\u200bAcademy")
@example(name="Tagged\U000e0041")
@example(name="\ufdd0")
def test_one_line_text_of_every_category_is_stored_as_sent_or_refused(
    client: TestClient, store: GraphStore, name: str
) -> None:
    # Item 8: U+2028, U+2029, zero-width and bidi controls, tags and noncharacters were accepted in names.
    body = {"kind": "partnership", "name": name, "subtype": "network"}
    answer = client.put("/organisations/p-any", json=body, headers=EDITOR)
    stripped = name.strip(WHITE_SPACE)
    bad = NEVER_IN_A_NAME.search(stripped) or any(_noncharacter(c) for c in stripped)
    assert answer.status_code < 500, answer.text
    if bad or not stripped or len(stripped) > 300:
        assert answer.status_code == 422, (name, answer.text)
        return
    assert answer.status_code in (200, 201), (name, answer.text)
    stored = store.get_organisation("p-any")
    assert stored is not None and stored.name == stripped == client.get("/organisations/p-any").json()["name"]


#: Three GIAS extracts of three schools, whose trust, name and roll change from one to the next.
EXTRACTS = (date(2025, 1, 15), date(2025, 4, 15), date(2025, 7, 18))
TRUSTS = {5001: "ALPHA TRUST", 5002: "BETA TRUST", 5003: "GAMMA TRUST"}
GIAS_HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentName", "TypeOfEstablishment (name)", "EstablishmentStatus (name)",
    "PhaseOfEducation (name)", "NumberOfPupils", "TrustSchoolFlag (code)", "Trusts (code)", "Trusts (name)",
    "Federations (code)", "Federations (name)", "SchoolSponsors (name)", "LastChangedDate",
]  # fmt: skip
#: One school's state in each extract: (trust or None, name, pupils).
states = st.tuples(st.sampled_from([None, *TRUSTS]), st.sampled_from(["Oak School", "Oak Academy"]), st.integers(1, 3))


#: One school's states in the three extracts: a record that changed at most once between them (see the
#: README: several changes, or a school leaving a trust and rejoining it, get their full history only
#: from loads in date order).
histories = st.builds(lambda first, then, at: [first] * at + [then] * (3 - at), states, states, st.integers(1, 3))


def _extract_files(folder: Path, schools: list[list[tuple[int | None, str, int]]]) -> list[Path]:
    import csv

    paths = []
    changed = [date(2024, 6, 1)] * len(schools)
    for k, day in enumerate(EXTRACTS):
        path = folder / f"edubasealldata{day:%Y%m%d}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(GIAS_HEADER)
            for i, history in enumerate(schools):
                trust, name, pupils = history[k]
                if k and history[k] != history[k - 1]:
                    changed[i] = day.replace(day=day.day - 1)  # GIAS dates the record's change
                flag, code, trust_name = ("3", str(trust), TRUSTS[trust]) if trust else ("2", "", "")
                writer.writerow(
                    [900101 + i, 330, "Birmingham", name, "Academy converter", "Open", "Primary", pupils * 100]
                    + [flag, code, trust_name, "", "", "", changed[i].strftime("%d-%m-%Y")]
                )
        paths.append(path)
    return paths


def _loaded_history(store: GraphStore) -> tuple[dict[str, object], dict[str, object]]:
    from graph_service.models import EdgeKind

    ties = {t.id: (t.since, t.until) for t in store.all_ties(kinds=[EdgeKind.MEMBER_OF, EdgeKind.SPONSORED_BY])}
    ids = [str(900101 + i) for i in range(3)]
    facts = {o.id: (o.name, o.pupils) for o in store.get_organisations(ids)}
    return ties, facts


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    schools=st.lists(histories, min_size=3, max_size=3),
    order=st.permutations(range(3)),
)
def test_loads_in_any_order_give_the_same_history(
    store: GraphStore, tmp_path: Path, schools: list[list[tuple[int | None, str, int]]], order: list[int]
) -> None:
    from graph_service.store import EmbeddedStore
    from loaders.gias import load_gias

    paths = _extract_files(tmp_path, schools)
    reference = EmbeddedStore(tmp_path / "in-date-order.sqlite3")
    reference.open()
    try:
        reference.clear()
        for path in paths:
            load_gias(reference, [path])
        expected = _loaded_history(reference)
    finally:
        reference.close()
    store.clear()
    for k in order:
        load_gias(store, [paths[k]])
    assert _loaded_history(store) == expected, (schools, order)
    assert store.get_meta()["data_date"] == "2025-07-18"
