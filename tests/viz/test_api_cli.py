"""The pictures through the API (TestClient) and the ``render`` command, on the embedded store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from graph_service.api.app import create_app
from graph_service.cli import main
from graph_service.models import EdgeKind
from graph_service.settings import Settings
from graph_service.store import EmbeddedStore, WriteBatch
from tests.factories import school, tie
from tests.viz.pages import node_ids
from tests.viz.test_views import batch

EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "graph.sqlite3"
    seeded = EmbeddedStore(path)
    seeded.open()
    seeded.apply(batch())
    # An isolated school whose name tries to inject markup into the pages.
    seeded.apply(WriteBatch(organisations=[school(7, EVIL, latitude=52.46, longitude=-1.91)], ties=[]))
    seeded.apply(WriteBatch(ties=[tie("7", "la-330", EdgeKind.MAINTAINED_BY)]))
    seeded.close()
    return path


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    settings = Settings(GRAPH_SERVICE_DB=db, GRAPH_SERVICE_STORE="embedded")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/viz/organisation/1?hops=2&as_at=2025-07-18", {"1", "3", "6", "group-10"}),
        ("/viz/area?la_code=330&as_at=2025-07-18", {"1", "2", "3", "4", "7", "la-330", "group-10"}),
        ("/viz/area?local_authority=birmingham&as_at=2025-07-18&colour=rating&layout=force", None),
        ("/viz/group/group-10?as_at=2025-07-18", {"group-10", "1", "6"}),
        ("/viz/isolated?la_code=330&partners=1&as_at=2025-07-18", {"1", "2", "4", "7", "group-10"}),
        ("/viz/graph?as_at=2025-07-18", {"1", "2", "3", "4", "6", "7", "group-10", "la-330"}),
    ],
)
def test_views_are_html_pages(client: TestClient, url: str, expected: set[str] | None) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "data as of 2025-07-18" in page and "vis.Network" in page
    if expected is not None:
        assert set(node_ids(page)) == expected
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    # Served pages link a double-clicked node to its neighbourhood.
    assert 'var linkBase = "/viz/organisation/";' in page


def test_bad_requests_are_404_or_422_with_a_message(client: TestClient) -> None:
    cases = {
        "/viz/organisation/nope": (404, "no organisation with id 'nope'"),
        "/viz/organisation/1?hops=9": (422, "hops may be at most 4"),
        "/viz/area": (422, "give an area"),
        "/viz/area?la_code=999": (404, "no local authority with code 999 in the store; it holds"),
        "/viz/isolated?district=Nowhere": (404, "no district named 'Nowhere' in the store"),
        "/viz/group/la-330": (422, "not a group"),
        "/viz/group/group-99": (404, "group-99"),
        "/viz/?la_code=abc": (422, "la_code must be a number"),
        "/viz/?la_code=\u00b2": (422, "la_code must be a number"),
        "/viz/?la_code=9999999999": (422, "la_code must be between 0 and 99999"),
    }
    for url, (status, message) in cases.items():
        response = client.get(url)
        assert response.status_code == status, url
        detail = response.json()["detail"]
        # 404s carry a sentence; 422s FastAPI's standard list of {loc, msg, type}.
        assert message in (detail if status == 404 else detail[0]["msg"]), url
    for url in (
        "/viz/area?la_code=330&colour=purple",
        "/viz/graph?layout=tree",
        "/viz/graph?as_at=2025-13-01",
        "/viz/isolated?la_code=99999999999999999999999",
    ):
        response = client.get(url)
        assert response.status_code == 422 and response.json()["detail"], url


def capped(db: Path, limit: int) -> TestClient:
    """A client whose served pictures may hold at most ``limit`` organisations."""
    settings = Settings(GRAPH_SERVICE_DB=db, GRAPH_SERVICE_STORE="embedded")
    # model_copy sets the limit whether or not Settings declares max_viz_nodes yet.
    return TestClient(create_app(settings.model_copy(update={"max_viz_nodes": limit})))


@pytest.mark.parametrize(
    ("url", "limit", "advice"),
    [
        ("/viz/graph?as_at=2025-07-18", 7, ["/viz/area?la_code=330", "`graph-service render graph -o FILE.html`"]),
        ("/viz/area?la_code=330&as_at=2025-07-18", 6, ["district=", "`graph-service render area --la-code N"]),
        ("/viz/isolated?la_code=330&partners=1&as_at=2025-07-18", 4, ["fewer partners", "render isolated"]),
        ("/viz/organisation/1?hops=2&as_at=2025-07-18", 3, ["fewer hops", "render organisation ID --hops 2"]),
        ("/viz/group/group-10?as_at=2025-07-18", 2, ["/viz/organisation/", "render group ID"]),
    ],
)
def test_a_picture_above_the_limit_is_refused_with_413(db: Path, url: str, limit: int, advice: list[str]) -> None:
    with capped(db, limit + 1) as client:
        assert client.get(url).status_code == 200, "one more organisation allowed: drawn"
    with capped(db, limit) as client:
        response = client.get(url)
    assert response.status_code == 413 and response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert f"organisations, more than the limit of {limit} for a served page" in detail
    assert all(hint in detail for hint in advice), detail
    assert detail.endswith("which has no limit")


def test_the_limit_is_in_the_schema_and_on_the_front_page(db: Path) -> None:
    with capped(db, 1234) as client:
        paths = client.get("/openapi.json").json()["paths"]
        page = client.get("/viz/").text
    for path in ("/viz/graph", "/viz/area", "/viz/isolated", "/viz/organisation/{org_id}", "/viz/group/{org_id}"):
        assert "413" in paths[path]["get"]["responses"], path
    assert "more than 1,234 organisations is not served here" in page and "graph-service render" in page


def test_render_command_has_no_limit(db: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(db))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    monkeypatch.setenv("GRAPH_SERVICE_MAX_VIZ_NODES", "1")
    out = tmp_path / "graph.html"
    assert main(["render", "graph", "--as-at", "2025-07-18", "-o", str(out)]) == 0
    assert len(node_ids(out.read_text(encoding="utf-8"))) == 8
    assert "8 organisations" in capsys.readouterr().out


def test_front_page_lists_views_isolated_schools_and_the_support_box(client: TestClient) -> None:
    page = client.get("/viz/").text  # one local authority in the store: it is chosen
    for path in ("organisation/{id}", "area", "group/{id}", "isolated", "graph"):
        assert f'data-path="{path}"' in page
    assert "Isolated schools in Birmingham (LA 330)" in page
    # The hand-built schools have no recorded type: the state-funded default keeps them.
    rows = re.findall(r'<a class="school" href="/viz/school/(\d+)">', page)
    assert rows == ["2", "4", "7"]  # special measures, requires improvement, unrated
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert 'id="support"' in page and 'id="search-box"' in page
    # /docs and /redoc are served offline (their files come from a package), so the page links them.
    assert '<a href="/docs">' in page and '<a href="/redoc">' in page
    assert 'href="/viz/isolated-list.csv?la_code=330"' in page
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/viz/?la_code=").status_code == 200  # the page's own empty choice
    assert "no local authority with code 999 in the store" in client.get("/viz/?la_code=999").text


def test_render_command_writes_an_offline_page(db: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(db))
    monkeypatch.setenv("GRAPH_SERVICE_STORE", "embedded")
    out = tmp_path / "area.html"
    command = ["render", "area", "--la-code", "330", "--colour", "rating", "--as-at", "2025-07-18", "-o", str(out)]
    assert main(command) == 0
    page = out.read_text(encoding="utf-8")
    assert set(node_ids(page)) == {"1", "2", "3", "4", "7", "la-330", "group-10"}
    assert '"physics":{"enabled":false}' in page and "<title>Birmingham (LA 330)" in page
    assert "var linkBase = null;" in page
    assert "7 organisations, 4 ties" in capsys.readouterr().out

    group = tmp_path / "group.html"
    assert main(["render", "group", "group-10", "--layout", "force", "-o", str(group)]) == 0
    assert '"physics":{"enabled":true' in group.read_text(encoding="utf-8")


def test_render_command_errors_are_clear(db: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GRAPH_SERVICE_DB", str(db))
    out = tmp_path / "x.html"
    assert main(["render", "organisation", "nope", "-o", str(out)]) == 1
    assert "no organisation with id 'nope'" in capsys.readouterr().err
    assert main(["render", "organisation", "-o", str(out)]) == 2
    assert "give the organisation's id" in capsys.readouterr().err
    assert main(["render", "area", "-o", str(out)]) == 1
    assert "give an area" in capsys.readouterr().err
    assert main(["render", "area", "--la-code", "99999999999999999999", "-o", str(out)]) == 1
    assert "la_code must be between" in capsys.readouterr().err
    assert main(["render", "organisation", "1", "--hops", "7", "-o", str(out)]) == 2
    assert main(["render", "graph", "-o", str(tmp_path / "missing" / "x.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main(["render", "castle", "-o", str(out)])
