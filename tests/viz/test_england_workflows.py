"""The workflows on whole England (slow): the national view, a forgiving search, a school page that
answers first and an authority's isolated list, driven by Playwright in Debian's Chromium, each page
refused any address but the service's. Screenshots go to ``test-output/viz/workflows/`` (21 to 24)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_service import areas, questions
from graph_service.store import EmbeddedStore
from tests.viz.pages import shot
from viz import national, search

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ENGLAND = DATA / "gias" / "edubasealldata20250718_england.csv.gz"
LINKS = DATA / "gias" / "links_edubasealldata20250718_england.csv"
OUTCOMES = DATA / "ofsted" / "State-funded_schools_inspections_and_outcomes_as_at_31_August_2025.csv.gz"
KENT = 886

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def england(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    if not ENGLAND.exists():
        pytest.skip(f"{ENGLAND} is not here")
    from loaders.gias import load_gias
    from loaders.ofsted import load_ofsted

    store = EmbeddedStore(tmp_path_factory.mktemp("england-viz") / "graph.sqlite3")
    store.open()
    load_gias(store, [ENGLAND], links=LINKS)
    load_ofsted(store, OUTCOMES)
    yield store
    store.close()


def test_england_national_view_and_kent(page: Any, base_url: str, england: EmbeddedStore) -> None:
    rows = {row.name: row for row in national.national_rows(england)}
    page.goto(f"{base_url}/viz/")
    assert page.locator("#whole-graph a").get_attribute("href") == "/viz/national"  # England is too big to draw
    page.click("#national")
    page.wait_for_function("window.vizDrawn", timeout=120_000)
    assert page.evaluate("window.vizDrawn.areas") == sum(1 for row in rows.values() if row.outline) > 140
    kent = rows["Kent"]
    page.evaluate("window.areas.find(a => a.row.name === 'Kent').openPopup() && true")
    text = page.inner_text(".leaflet-popup-content")
    assert text.startswith(f"Kent ({KENT})") and f"schools\t{kent.schools}" in text
    assert f"isolated\t{kent.isolated} ({100 * kent.isolated_share:.1f}%)" in text
    shot(page, "21-england-national")


def test_england_search_school_page_and_isolated_list(page: Any, base_url: str, england: EmbeddedStore) -> None:
    hits = search.index(england).search("Nechels", 25)
    page.goto(f"{base_url}/viz/")
    page.fill("#search-box", "Nechels")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#search-hits")
    assert page.eval_on_selector_all("#search-hits a", "els => els.map(e => e.textContent)") == [h.name for h in hits]
    assert any("Nechells" in hit.name for hit in hits)
    shot(page, "22-england-search-misspelt")

    kent = questions.isolated_schools(england, filters=questions.AreaFilter(la_code=KENT, types=areas.default_types()))
    page.goto(f"{base_url}/viz/?la_code={KENT}")
    page.wait_for_selector("#isolated")
    assert page.locator("#isolated tbody tr").count() == kent.total > 0
    partners = page.eval_on_selector_all("#isolated td.partner", "els => els.map(e => e.textContent.trim())")
    located = [item.latitude is not None for item in kent.items]
    assert [bool(text) for text in partners] == located  # every located isolated school has its nearest partner
    shot(page, "23-england-isolated-kent")

    worst = kent.items[0]
    page.click(f"#isolated a.school[href$='/viz/school/{worst.id}']")
    page.wait_for_selector("#summary")
    card = page.locator("#summary").bounding_box()
    assert card is not None and card["y"] >= 0 and card["y"] + card["height"] <= 900
    answer = questions.support_partners(england, worst.id)
    top = page.eval_on_selector_all("#top li > a", "els => els.map(e => e.textContent)")
    assert top == [candidate.name for candidate in answer.candidates[:3]]
    shot(page, "24-england-school-page")
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") <= 2


@pytest.fixture(scope="module")
def served_store(england: EmbeddedStore) -> EmbeddedStore:
    return england
