"""What the browser suites share: the service on a loopback port, Debian's Chromium driven by Playwright
(``viz.browser``), and a fresh page per test that may reach the service only.

A suite defines ``served_store`` (module scope): the store the service answers from. Locally a missing
browser or Playwright skips the suite; under CI=true it fails it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from graph_service.store import EmbeddedStore
from viz.browser import chromium, missing, offline_page, serving


@pytest.fixture(scope="module")
def base_url(served_store: EmbeddedStore) -> Iterator[str]:
    """The API on a free loopback port, in a thread, on the suite's store file."""
    needed = missing()
    if needed:
        message = "browser tests need " + " and ".join(needed)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    from graph_service.api.app import create_app
    from graph_service.settings import Settings

    with serving(create_app(Settings(GRAPH_SERVICE_DB=served_store.path, GRAPH_SERVICE_STORE="embedded"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh 1400x900 page that may reach the service only: anything else is recorded, refused and fails
    the test; any alert() a name managed to run is recorded in ``window.__alerts``."""
    with offline_page(browser, base_url) as (tab, elsewhere):
        tab.add_init_script("window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };")
        yield tab
    assert elsewhere == [], "the pages reached outside the service (they must work offline)"
