"""Areas side by side and over time, in a real headless Chromium (Debian's) driven by Playwright.

The Birmingham sample plus three Coventry schools, served by the API: the strategist opens the
area table, sorts it, opens an area's small line charts, and a school's page leads to its area's
series. Every figure on screen is checked against the service's own answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from graph_service import area_questions
from graph_service.cli import load_sample
from graph_service.models import EdgeKind, NodeKind
from graph_service.store import EmbeddedStore, WriteBatch
from tests.factories import org, school, tie
from tests.viz.pages import shot

COVENTRY = {"la_code": 331, "local_authority": "Coventry"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("areas-browser") / "graph.sqlite3")
    store.open()
    load_sample(store)
    store.apply(
        WriteBatch(
            organisations=[school(n, **COVENTRY) for n in (990001, 990002, 990003)]
            + [org("group-990", NodeKind.TRUST, "Coventry Trust", group_uid=990)],
            ties=[tie(str(n), "group-990", EdgeKind.MEMBER_OF) for n in (990001, 990002)],
        )
    )
    try:
        yield store
    finally:
        store.close()


def areas_order(page: Any) -> list[str]:
    return page.eval_on_selector_all("#areas tbody tr", "rows => rows.map(r => r.dataset.area)")


def test_strategist_compares_areas_and_opens_one_over_time(page: Any, base_url: str, sample: EmbeddedStore) -> None:
    page.goto(f"{base_url}/viz/areas?as_at=2025-07-18")
    expected = area_questions.area_table(sample, date(2025, 7, 18))
    assert [row.area for row in expected.rows] == ["330", "331"]
    assert areas_order(page) == ["330", "331"]
    birmingham = page.locator("#areas tbody tr[data-area='330'] td")
    # Column 1 is the schools' count; 2 the share in a trust, in percent.
    assert birmingham.nth(1).inner_text() == str(expected.rows[0].schools) and expected.rows[0].schools > 400
    assert birmingham.nth(2).get_attribute("data-value") == str(expected.rows[0].in_trust_share)
    assert page.locator("#areas svg.spark").count() == 2
    # Sorting by the number of schools, then the other way.
    page.locator("#areas th", has_text="schools").first.click()
    assert areas_order(page) == ["331", "330"]
    page.locator("#areas th", has_text="schools").first.click()
    assert areas_order(page) == ["330", "331"]
    shot(page, "areas-table")
    with page.expect_download() as download:
        page.click("#csv")
    with open(download.value.path(), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("as_at,area,name,schools,in_trust_share") and len(lines) == 3

    page.click("#areas a:text('Birmingham')")
    page.wait_for_selector("#series")
    assert page.locator("#area-name").inner_text() == "Birmingham"
    series = area_questions.area_trends(sample, date(2010, 8, 31), date(2025, 8, 31), area="330")
    assert page.locator("#series figure svg").count() == len(series.measures) == 11
    assert page.locator("#figures tbody tr").count() == len(series.days) == 16
    last = page.locator("#figures tbody tr").last.locator("td")
    assert last.nth(0).inner_text() == "2025-08-31" and last.nth(1).inner_text() == str(
        series.areas[0].values["schools"][-1]
    )
    shot(page, "area-330-series")


def test_a_schools_page_leads_to_its_areas_series(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/viz/school/990001")
    page.click("#area-section h2 button")  # the section is folded below the summary card
    page.click("#area-series a:text('Coventry, year by year')")
    page.wait_for_selector("#series")
    assert page.locator("#area-name").inner_text() == "Coventry"
    schools = page.locator("#series figure[data-measure='schools'] .range span").last.inner_text()
    assert schools == "2025: 3"
    shot(page, "school-area-series")


@pytest.fixture(scope="module")
def served_store(sample: EmbeddedStore) -> EmbeddedStore:
    """The service of tests/viz/conftest.py answers from this module's sample."""
    return sample
