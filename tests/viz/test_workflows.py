"""The front end's workflows, driven in a real headless Chromium (Debian's) by Playwright, on the
Birmingham sample served by the API: what a broker and a strategist do, step by step.

Each step's screenshot is written to ``test-output/viz/workflows/`` (git-ignored; docs/viz.md
describes them). Every answer on screen is checked against the service's own answer. Locally a
missing browser or Playwright skips these tests; under CI=true it fails them.
"""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph_service import areas, questions
from graph_service.cli import load_sample
from graph_service.store import EmbeddedStore
from tests.viz.pages import OUTPUT, shot
from viz import search
from viz.render import LABEL_SCALE

BIRMINGHAM = questions.AreaFilter(la_code=330, types=areas.default_types())


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(tmp_path_factory.mktemp("workflows") / "graph.sqlite3")
    store.open()
    load_sample(store)
    try:
        yield store
    finally:
        store.close()


def test_broker_finds_a_school_by_name_and_downloads_its_partners(
    page: Any, base_url: str, sample: EmbeddedStore
) -> None:
    listed = questions.isolated_schools(sample, filters=BIRMINGHAM)
    target = next(item for item in listed.items if item.ofsted_rating is not None and item.ofsted_rating.in_difficulty)
    word = target.name.split()[0]
    expected_hits = search.index(sample).search(word, 25)

    page.goto(f"{base_url}/viz/")
    page.fill("#search-box", word)
    page.wait_for_function("document.querySelectorAll('#search-suggestions option').length > 0")
    suggestions = page.eval_on_selector_all("#search-suggestions option", "els => els.map(e => e.value)")
    assert suggestions == [hit.id for hit in expected_hits[:10]]
    shot(page, "01-search-by-name-suggestions")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#search-hits")
    names = page.eval_on_selector_all("#search-hits a", "els => els.map(e => e.textContent)")
    assert names == [hit.name for hit in expected_hits]
    shot(page, "02-search-by-name-results")

    page.click(f"#search-hits a[href$='/viz/school/{target.id}']")
    page.wait_for_selector("#name")
    assert page.inner_text("#name") == target.name
    assert page.inner_text("#isolation").startswith("Isolated")
    answer = questions.support_partners(sample, target.id)
    # The first screen answers first: the whole summary card is in view at 1400x900, without scrolling.
    card = page.locator("#summary").bounding_box()
    assert card is not None and card["y"] >= 0 and card["y"] + card["height"] <= 900
    assert page.evaluate("window.scrollY") == 0
    standing = answer.school.ofsted_rating
    assert standing is not None and page.inner_text("#standing .rating").lower().startswith(
        standing.value.replace("_", " ")
    )
    top = page.eval_on_selector_all("#top li > a", "els => els.map(e => e.textContent)")
    assert top == [candidate.name for candidate in answer.candidates[:3]]
    shot(page, "03-school-page")
    # Every detail is below it, folded; a heading unfolds its section.
    assert not page.is_visible("#candidates")
    page.click("#support h2 button")
    assert page.is_visible("#candidates")
    items = page.eval_on_selector_all("#candidates > li > a b", "els => els.map(e => e.textContent)")
    assert items == [candidate.name for candidate in answer.candidates]
    # Every reason of every candidate is on the page.
    reasons = page.eval_on_selector_all("#candidates ul.reasons li", "els => els.map(e => e.textContent)")
    assert reasons == [reason for candidate in answer.candidates for reason in candidate.reasons]

    with page.expect_download() as download:
        page.click("#partners-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(
        csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#"))))
    )
    assert [row["name"] for row in rows] == [candidate.name for candidate in answer.candidates]
    assert [row["reasons"] for row in rows] == ["; ".join(c.reasons) for c in answer.candidates]
    assert download.value.suggested_filename == f"support-{target.id}.csv"

    page.emulate_media(media="print")
    assert page.eval_on_selector("nav", "e => getComputedStyle(e).display") == "none"
    shot(page, "04-school-page-print-layout")
    # The whole page, every folded section open, on two A4 pages.
    pdf = page.pdf(format="A4")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") <= 2
    assert page.is_visible("#facts-section dl.facts") and page.is_visible("#inspections")


def test_broker_finds_schools_near_a_postcode(page: Any, base_url: str, sample: EmbeddedStore) -> None:
    located = next(
        org
        for org in sample.get_organisations(
            [item.id for item in questions.isolated_schools(sample, filters=BIRMINGHAM).items]
        )
        if org.postcode and org.latitude is not None
    )
    place, near = search.index(sample).near(located.postcode or "", limit=25, radius_km=3) or ("", [])
    assert near and near[0].distance_km == 0.0  # the school at that postcode, or one beside it
    page.goto(f"{base_url}/viz/")
    page.fill("#search-box", located.postcode or "")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#search-hits")
    assert page.inner_text("#search-result p") == (f"Open schools within 3 km of {located.postcode} ({place}):")
    names = page.eval_on_selector_all("#search-hits a", "els => els.map(e => e.textContent)")
    assert names == [hit.name for hit in near]
    shot(page, "05-search-by-postcode")


def test_search_forgives_a_misspelling_and_takes_a_postcode_sector(
    page: Any, base_url: str, sample: EmbeddedStore
) -> None:
    expected = search.index(sample).search("Nechels", 25)
    assert expected and all(hit.matched == "similar name" for hit in expected)
    assert any("Nechells" in hit.name for hit in expected)
    page.goto(f"{base_url}/viz/")
    page.fill("#search-box", "Nechels")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#search-hits")
    assert page.inner_text("#search-result p") == "No name holds \u201cNechels\u201d; similar names:"
    names = page.eval_on_selector_all("#search-hits a", "els => els.map(e => e.textContent)")
    assert names == [hit.name for hit in expected]
    # Closed schools are marked; phase and Ofsted standing are shown.
    closed = [hit for hit in expected if hit.closed]
    assert page.locator("#search-hits li.closed").count() == len(closed) > 0
    rated = next(hit for hit in expected if hit.ofsted_rating)
    line = page.locator("#search-hits li", has_text=rated.name).first.inner_text()
    assert f"Ofsted: {rated.ofsted_rating.replace('_', ' ')}" in line and str(rated.phase) in line
    shot(page, "16-search-misspelt")

    place, near = search.index(sample).near("B7 5", limit=25, radius_km=3) or ("", [])
    assert place.endswith("in sector B7 5") and near
    page.fill("#search-box", "B7 5")
    page.click("#search button[type=submit]")
    page.wait_for_function("((document.querySelector('#search-result p') || {}).textContent || '').includes('B7 5')")
    assert page.inner_text("#search-result p") == f"Open schools within 3 km of B7 5 ({place}):"
    names = page.eval_on_selector_all("#search-hits a", "els => els.map(e => e.textContent)")
    assert names == [hit.name for hit in near]
    shot(page, "17-search-postcode-sector")


def test_strategist_lists_isolated_schools_leaves_independents_out_and_opens_one(
    page: Any, base_url: str, sample: EmbeddedStore
) -> None:
    everything = questions.isolated_schools(sample, filters=questions.AreaFilter(la_code=330))
    state_funded = questions.isolated_schools(sample, filters=BIRMINGHAM)
    independents = [item for item in everything.items if item.subtype == "independent"]
    assert independents, "the sample has isolated independent schools"

    page.goto(f"{base_url}/viz/?la_code=330&all_types=true")
    page.wait_for_selector("#isolated")
    assert page.locator("#isolated tbody tr").count() == everything.total
    assert page.locator("#isolated tbody tr[data-subtype=independent]").count() == len(independents)
    shot(page, "06-isolated-every-type")

    page.uncheck("#isolated-form input[name=all_types]")
    page.click("#isolated-form button[type=submit]")
    page.wait_for_url("**/viz/?la_code=330*")
    assert page.locator("#isolated tbody tr").count() == state_funded.total
    assert page.locator("#isolated tbody tr[data-subtype=independent]").count() == 0
    types = page.eval_on_selector_all("#isolated tbody tr td:nth-child(3)", "els => els.map(e => e.textContent)")
    assert types == [item.type_name or item.subtype for item in state_funded.items]
    shot(page, "07-isolated-state-funded")

    # Leave nursery schools out too, then sort by name.
    page.check("#isolated-form input[value=nursery_school]")
    page.click("#isolated-form button[type=submit]")
    page.wait_for_url("**exclude=nursery_school*")
    no_nursery = [item for item in state_funded.items if item.subtype != "nursery_school"]
    assert page.locator("#isolated tbody tr").count() == len(no_nursery)
    page.click("#isolated th:first-child")
    names = page.eval_on_selector_all("#isolated tbody tr td:first-child", "els => els.map(e => e.textContent)")
    assert names == sorted((item.name for item in no_nursery), key=str.lower)
    with page.expect_download() as download:
        page.click("#isolated-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [row["urn"] for row in rows] == [str(item.urn) for item in no_nursery]
    shot(page, "08-isolated-without-nursery-sorted")

    first = names[0]
    page.click("#isolated tbody tr:first-child a.school")
    page.wait_for_selector("#name")
    assert page.inner_text("#name") == first
    shot(page, "09-isolated-school-opened")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_strategist_draws_an_area_searches_inside_and_exports_a_png(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/viz/area?la_code=330")
    page.wait_for_function("window.vizDrawn", timeout=120_000)
    total = page.evaluate("nodes.length")
    # Zoomed out on the whole authority: only highlighted organisations carry a label.
    assert page.evaluate("network.getScale()") < LABEL_SCALE
    assert page.evaluate("nodes.get().filter(n => n.label).length") == 0
    assert page.get_attribute("#home", "href") == "/viz/"
    shot(page, "10-area-zoomed-out")

    trust = page.evaluate("nodes.get().filter(n => n.kind === 'trust').sort((a, b) => b.size - a.size)[0]")
    page.fill("#find", trust["name"])
    page.press("#find", "Enter")
    page.wait_for_function("document.getElementById('found').textContent.length > 0")
    tied = page.evaluate(f"network.getConnectedNodes({trust['id']!r})")
    assert page.evaluate("network.getSelectedNodes()") == [trust["id"]]
    # Only the trust and those tied to it are labelled (the trust first; no label over another), and they
    # fill the view.
    labelled = page.evaluate("nodes.get().filter(n => n.label).map(n => n.id)")
    assert trust["id"] in labelled and set(labelled) <= {trust["id"], *tied}
    boxes = page.evaluate("window.labelBoxes")
    assert len(boxes) == len(labelled)
    assert not any(
        a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for i, a in enumerate(boxes) for b in boxes[:i]
    )
    box = page.evaluate("(() => { const b = container.getBoundingClientRect(); return [b.width, b.height]; })()")
    for node in (trust["id"], *tied):
        point = page.evaluate(f"network.canvasToDOM(network.getPositions([{node!r}])[{node!r}])")
        assert 0 <= point["x"] <= box[0] and 0 <= point["y"] <= box[1], node
    assert (
        page.inner_text("#found")
        == f"{trust['name']}: {len(tied)} tied organisation{'s' if len(tied) != 1 else ''} shown"
    )
    # Not a hairball: of the membership lines only the selected trust's are drawn (683 ties: above 400).
    hidden = page.evaluate("edges.get().filter(e => e.hidden).map(e => e.kind)")
    assert hidden and set(hidden) <= {"member_of", "sponsored_by"} and not page.is_checked("#all-members")
    own = set(page.evaluate(f"network.getConnectedEdges({trust['id']!r})"))
    assert own and not own & set(page.evaluate("edges.get().filter(e => e.hidden).map(e => e.id)"))
    shot(page, "11-area-found-a-trust")

    # What the picture does not hold is looked up in the store, with a link to the school's page.
    page.fill("#find", "3302238")  # a LAESTAB: no name in the picture holds it
    page.press("#find", "Enter")
    page.wait_for_selector("#found a")
    assert page.get_attribute("#found a", "href") == "/viz/school/103288"

    # Filters: leave out every kind but schools.
    for kind in page.eval_on_selector_all("fieldset[data-field=kind] input", "els => els.map(e => e.value)"):
        if kind != "school":
            page.uncheck(f"fieldset[data-field=kind] input[value={kind}]")
    hidden = page.evaluate("nodes.get().filter(n => n.hidden).length")
    assert hidden == page.evaluate("nodes.get().filter(n => n.kind !== 'school').length") and 0 < hidden < total
    shot(page, "12-area-schools-only")

    scale = page.evaluate("network.getScale()")
    with page.expect_download() as download:
        page.click("#png")
    data = Path(download.value.path()).read_bytes()
    # The whole picture, with a title and date above, the legend beside and the source below.
    exported = page.evaluate("window.pngExported")
    width, height = page.evaluate("[container.clientWidth, container.clientHeight]")
    assert exported["canvas"] == [width, height]
    assert _png_size(data) == (exported["width"], exported["height"]) == (width + 330, height + 60 + 28)
    assert download.value.suggested_filename.endswith(".png")
    assert page.evaluate("network.getScale()") == pytest.approx(scale)  # the view is given back
    (OUTPUT / "13-area-exported.png").write_bytes(data)

    # The time slider: the picture as it stood on 1 September 2019.
    page.fill("#as-at", "2019")
    page.dispatch_event("#as-at", "change")
    page.wait_for_url("**as_at=2019-09-01**")
    page.wait_for_function("window.vizDrawn")
    assert page.inner_text("header h1").endswith("on 2019-09-01")
    shot(page, "20-area-in-2019")


def test_strategist_reads_the_national_view_moves_in_time_and_exports_a_png(
    page: Any, base_url: str, sample: EmbeddedStore
) -> None:
    from viz import national

    (birmingham,) = national.national_rows(sample)
    page.goto(f"{base_url}/viz/")
    page.click("#national")
    page.wait_for_function("window.vizDrawn")
    assert page.evaluate("window.vizDrawn.areas") == 1
    # The coast and the area are painted on the map's canvas; the name is labelled.
    assert page.inner_text(".la-label") == "Birmingham"
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert text.startswith("Birmingham (330)")
    assert f"isolated\t{birmingham.isolated} ({100 * birmingham.isolated_share:.1f}%)" in text
    assert f"in difficulty (Ofsted)\t{birmingham.difficulty} ({100 * birmingham.difficulty_share:.1f}%)" in text
    assert popup.locator("a").first.get_attribute("href") == "/viz/?la_code=330"
    shot(page, "18-national-view")

    page.select_option("#measure", "in_group_share")
    assert page.inner_text("#legend-title") == "share of schools in a trust, federation or partnership"
    # The time slider: back to 1 September 2016, the figures of that day.
    page.fill("#as-at", "2016")
    page.dispatch_event("#as-at", "change")
    page.wait_for_url("**as_at=2016-09-01**")
    page.wait_for_function("window.vizDrawn")
    (then,) = national.national_rows(sample, date(2016, 9, 1))
    assert page.inner_text("#facts").startswith(
        f"1 local authorities, {then.schools:,} state-funded schools open on 2016-09-01"
    )
    assert page.input_value("#measure") == "in_group_share"

    with page.expect_download() as download:
        page.click("#png")
    data = Path(download.value.path()).read_bytes()
    exported = page.evaluate("window.pngExported")
    assert _png_size(data) == (exported["width"], exported["height"])
    size = page.evaluate("[map.getSize().x, map.getSize().y]")
    assert (exported["width"], exported["height"]) == (size[0] + 230, size[1] + 86)  # map, legend, title, source
    assert download.value.suggested_filename == "local-authorities-in_group_share-2016-09-01.png"
    (OUTPUT / "19-national-exported.png").write_bytes(data)


def test_the_api_pages_draw_offline(page: Any, base_url: str) -> None:
    """/docs and /redoc, linked from the front page, draw from the service's own files (the guard refuses others)."""
    page.goto(f"{base_url}/viz/")
    page.click("a[href='/docs']")
    page.wait_for_selector(".opblock", timeout=120_000)
    assert page.locator(".opblock").count() > 20
    shot(page, "14-docs-offline")
    page.goto(f"{base_url}/redoc")
    # A locator, not a JavaScript predicate: the page's Content-Security-Policy forbids eval.
    page.get_by_text("/questions/support/{urn}").first.wait_for(timeout=120_000)
    shot(page, "15-redoc-offline")


@pytest.fixture(scope="module")
def served_store(sample: EmbeddedStore) -> EmbeddedStore:
    return sample
