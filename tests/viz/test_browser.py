"""End to end: the API serves the Birmingham sample and headless Chromium draws the pages.

Chromium is Debian's ``chromium`` package, driven by Playwright (:mod:`viz.browser`), each
page refused any address but the service's. Locally a missing browser skips these tests;
under CI=true it fails them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph_service.cli import load_sample
from graph_service.models import EdgeKind, NodeKind
from graph_service.store import EmbeddedStore, WriteBatch
from tests.factories import school, tie
from tests.viz.test_render import network as tiny_network
from viz import style, views
from viz.render import LABEL_SCALE, Picture, write_html

OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "viz"
EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
EVIL_URN = 999001
BIRMINGHAM = views.Area(la_code=330)

#: Counts painted pixels of the network's canvas, to tell a drawn network from an empty box.
PAINTED = """(() => {
  const canvas = document.querySelector('#mynetwork canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) painted++;
  }
  return {width: canvas.width, height: canvas.height, painted: painted};
})()"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """The Birmingham sample, plus an isolated school whose name tries to inject markup."""
    backend = EmbeddedStore(tmp_path_factory.mktemp("viz-e2e") / "graph.sqlite3")
    backend.open()
    load_sample(backend)
    backend.apply(
        WriteBatch(
            organisations=[school(EVIL_URN, EVIL, latitude=52.45, longitude=-1.93)],
            ties=[tie(str(EVIL_URN), "la-330", EdgeKind.MAINTAINED_BY)],
        )
    )
    try:
        yield backend
    finally:
        backend.close()


def open_network(page: Any, url: str) -> dict[str, float]:
    page.goto(url)
    drawn: dict[str, float] = page.wait_for_function("window.vizDrawn").json_value()
    return drawn


def test_area_page_draws_every_organisation_on_the_map(page: Any, base_url: str, sample: EmbeddedStore) -> None:
    expected = views.area(sample, BIRMINGHAM).graph
    drawn = open_network(page, f"{base_url}/viz/area?la_code=330")
    assert page.evaluate("network.body.data.nodes.length") == expected.number_of_nodes() == drawn["nodes"]
    assert page.evaluate("network.body.data.edges.length") == expected.number_of_edges()
    assert expected.number_of_nodes() > 600  # the real sample, not a toy
    assert page.evaluate("network.physics.options.enabled") is False
    # Each node is where the page data put it (fixed map positions; vis reports whole pixels).
    moved = page.evaluate(
        "nodes.get().filter(n => { const p = network.getPositions([n.id])[n.id];"
        " return Math.abs(p.x - n.x) > 1 || Math.abs(p.y - n.y) > 1; }).length"
    )
    assert moved == 0
    loose = page.evaluate(
        "Object.values(network.body.nodes).filter(n => !(n.options.fixed.x && n.options.fixed.y)).length"
    )
    assert loose == 0
    canvas = page.evaluate(PAINTED)
    assert canvas["width"] > 500 and canvas["painted"] > 0.01 * canvas["width"] * canvas["height"]
    # Offline: the page fetched nothing beyond itself.
    assert page.evaluate("performance.getEntriesByType('resource').map(e => e.name)") == []
    page.screenshot(path=OUTPUT / "area-330.png")


def test_colour_switch_and_isolated_view(page: Any, base_url: str, sample: EmbeddedStore) -> None:
    view = views.isolated(sample, BIRMINGHAM)
    open_network(page, f"{base_url}/viz/isolated?la_code=330&colour=kind")
    assert page.evaluate("network.body.data.nodes.length") == view.graph.number_of_nodes()
    assert page.evaluate("edges.get().filter(e => e.kind === 'extra').length") == len(view.extra_edges)
    assert page.evaluate("nodes.get().filter(n => n.highlighted).length") == len(view.highlight)
    page.evaluate("document.querySelector('input[name=colour][value=rating]').click()")
    wrong = page.evaluate("nodes.get().filter(n => n.color.background !== n.ratingColour).length")
    assert wrong == 0
    assert page.evaluate("document.getElementById('legend-kind').classList.contains('legend-hidden')") is True
    page.screenshot(path=OUTPUT / "isolated-330-rating.png")


def test_tooltip_shows_an_injected_name_as_text(page: Any, base_url: str) -> None:
    node = str(EVIL_URN)
    open_network(page, f"{base_url}/viz/organisation/{node}")
    point = page.evaluate(
        f"(() => {{ const p = network.canvasToDOM(network.getPositions(['{node}'])['{node}']);"
        " const box = container.getBoundingClientRect(); return {x: box.left + p.x, y: box.top + p.y}; })()"
    )
    page.mouse.move(point["x"], point["y"])
    tip = page.wait_for_function(
        "(() => { const tip = document.getElementById('tip');"
        " return tip && !tip.hidden && tip.querySelector('b')"
        " ? {bold: tip.querySelector('b').textContent, lines: [...tip.children].map(e => e.textContent),"
        " elements: tip.querySelectorAll('*').length} : null; })()",
        timeout=10_000,
    ).json_value()
    assert tip["bold"] == EVIL  # shown as the text it is
    assert tip["lines"][:3] == [EVIL, "school", f"URN: {EVIL_URN}"]
    assert tip["elements"] == len(tip["lines"])  # one element per line, nothing parsed out of the name
    assert page.evaluate("window.__alerts.length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.screenshot(path=OUTPUT / "tooltip-escaped.png")


def test_page_script_turns_rows_into_the_styled_items(page: Any, tmp_path: Path) -> None:
    """The tiny hand-built graph of the unit tests, drawn: what vis-network holds is exact."""
    written = write_html(
        Picture(tiny_network(), title="Tiny", colour="rating", highlight=frozenset({"4"})), tmp_path / "tiny.html"
    )
    open_network(page, written.as_uri())
    node = page.evaluate(
        "(() => { const out = {}; nodes.get().forEach(n => { out[n.id] = {shape: n.shape, color: n.color,"
        " label: n.label, size: n.size, opacity: n.opacity === undefined ? null : n.opacity,"
        " border: n.borderWidth === undefined ? null : n.borderWidth}; }); return out; })()"
    )
    # Zoomed out (scale below viz.render.LABEL_SCALE) only highlighted organisations are labelled.
    assert page.evaluate("network.getScale()") < LABEL_SCALE
    alpha = {"shape": "dot", "color": "#1a9641", "label": "", "size": 14.9, "opacity": None, "border": None}
    assert node["1"] == alpha
    assert node["2"]["color"] == "#7f0000" and node["group-10"]["shape"] == "square"
    assert node["group-10"]["color"] == style.NO_RATING_COLOUR  # colour by rating: a trust has none
    assert node["4"] == {
        "shape": "dot",
        "color": {"background": "#fdae61", "border": "#000000"},
        "label": "Delta",
        "size": 12.0,
        "opacity": None,
        "border": 3,
    }
    assert node["5"]["opacity"] == 0.4 and node["la-330"]["shape"] == "star"
    edge = page.evaluate(
        "(() => { const out = {}; edges.get().forEach(e => { out[e.id] = {color: e.color, width: e.width,"
        " dashes: e.dashes === undefined ? null : e.dashes, arrows: e.arrows === undefined ? null : e.arrows}; });"
        " return out; })()"
    )
    assert edge["federated_with:1:3"] == {"color": "#c0392b", "width": 2.5, "dashes": [8, 4], "arrows": None}
    assert edge["supports:1:2:maths"] == {"color": "#e67e22", "width": 3, "dashes": None, "arrows": "to"}
    assert edge["member_of:3:group-20"]["width"] == 5  # membership of a hard-governance federation
    page.evaluate("document.querySelector('input[name=colour][value=kind]').click()")
    assert page.evaluate("nodes.get('1').color.background") == style.KIND_COLOURS[NodeKind.SCHOOL]
    # A tie's tooltip, from its plain-text lines and the names at its ends.
    lines = page.evaluate(
        "(() => { const p = network.canvasToDOM(network.getPositions(['1'])['1']);"
        " const q = network.canvasToDOM(network.getPositions(['3'])['3']);"
        " return {x: (p.x + q.x) / 2, y: (p.y + q.y) / 2}; })()"
    )
    box = page.evaluate("(() => { const b = container.getBoundingClientRect(); return {x: b.left, y: b.top}; })()")
    page.mouse.move(box["x"] + lines["x"], box["y"] + lines["y"])
    shown = page.wait_for_function(
        "(() => { const tip = document.getElementById('tip');"
        " return tip.hidden ? null : [...tip.children].map(e => e.textContent); })()",
        timeout=10_000,
    ).json_value()
    assert shown == ["Alpha \u2192 Gamma", "federated with (soft)"]
    # Zoomed in on Alpha, it is labelled (labels off the screen wait until it moves there).
    page.evaluate(
        f"network.moveTo({{position: network.getPositions(['1'])['1'], scale: {LABEL_SCALE + 0.5}}});"
        " network.emit('zoom', {}); true"
    )
    assert page.evaluate("nodes.get('1').label") == "Alpha"


def test_front_page_draws_an_area_from_its_form(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/viz/")
    page.evaluate(
        "(() => { const form = document.querySelector('form.view[data-path=area]');"
        " form.elements.la_code.value = '330'; form.requestSubmit(); })()"
    )
    page.wait_for_function("location.pathname === '/viz/area' && window.vizDrawn")
    assert page.evaluate("location.search") == "?la_code=330&colour=kind&layout=geo"


@pytest.fixture(scope="module")
def served_store(sample: EmbeddedStore) -> EmbeddedStore:
    return sample
