"""Pages for people: /docs and /redoc with their files served by the service (offline), and errors
as HTML for a browser while programs keep their JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.settings import Settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(GRAPH_SERVICE_DB=tmp_path / "pages.sqlite3", GRAPH_SERVICE_STORE="embedded")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_pages_load_only_files_the_service_serves(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/"), f"{path} loads {source} from elsewhere"
        assert client.get(source).status_code == 200, source
    assert "googleapis" not in page.text and "cdn" not in page.text.lower()
    for source in sources:
        if source.endswith(".js"):
            # No address elsewhere in the scripts either (ReDoc's bundle as shipped has Redocly's logo).
            assert not re.findall(rb"https?://cdn[\w.-]*", client.get(source).content), source


def test_errors_are_pages_for_browsers_and_json_for_programs(client: TestClient) -> None:
    program = client.get("/organisations/nope")
    assert program.status_code == 404 and program.json() == {"detail": "no organisation with id 'nope'"}
    browser = client.get("/organisations/nope", headers=BROWSER)
    assert browser.status_code == 404 and browser.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in browser.text
    assert '<p class="message">no organisation with id &#39;nope&#39;</p>' in browser.text
    assert '<a href="/viz/">' in browser.text
    # A validation error: each problem on its own line, named by its parameter.
    invalid = client.get("/viz/organisation/x?hops=99", headers=BROWSER)
    assert invalid.status_code == 422 and '<p class="message">hops: hops may be at most 4</p>' in invalid.text
    # Names are escaped, never markup.
    evil = client.get("/organisations/<img src=x onerror=alert(1)>", headers=BROWSER)
    assert evil.status_code == 404
    assert "<img" not in evil.text and "&lt;img src=x onerror=alert(1)&gt;" in evil.text
    # A write (not a page request) keeps its JSON even from a browser.
    assert client.post("/ties", json={}, headers=BROWSER).headers["content-type"] == "application/json"
