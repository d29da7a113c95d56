"""Pages for people: the API's description at ``/docs`` and ``/redoc`` with their files served from
here (offline, no CDN), and errors as an HTML page when a browser asks for one.

Swagger UI and ReDoc come from the ``fastapi-offline`` package (MIT; Swagger UI under
Apache 2.0 and ReDoc under MIT, as shipped there). A program still gets every error as
JSON: only a request whose ``Accept`` header asks for ``text/html`` (a browser opening a
link) gets a page, with the same status and message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/api-pages"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` offline and turn errors into pages for browsers.

    The app must be built with ``docs_url=None, redoc_url=None`` (FastAPI's own pages load from a CDN).
    """
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="api-pages")
    redirect = "/docs/oauth2-redirect"

    # Plain routes, as FastAPI adds its own docs pages: the app's dependencies (a reader key when
    # reads are not public) do not apply to the description of the API, only to the API.
    async def swagger(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title}: API",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )
        return _self_only(page)

    async def swagger_redirect(_request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title}: API",
            redoc_js_url=f"{root}{REDOC_URL}",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _self_only(page)

    app.add_route("/docs", swagger, include_in_schema=False)
    app.add_route(redirect, swagger_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.add_route(REDOC_URL, redoc_script, include_in_schema=False)
    app.add_middleware(HtmlErrors)


#: ReDoc's bundle, served without its one remote address (below).
REDOC_URL = "/redoc/redoc.standalone.js"
#: The Redocly logo under ReDoc's menu, fetched from Redocly's servers by the bundle as shipped.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_bundle() -> bytes:
    """ReDoc's bundle with the logo's address emptied: an image without a source fetches nothing, and
    the bundle hides it when it fails to load."""
    script = (ASSETS / "redoc.standalone.js").read_bytes()
    if REDOC_LOGO not in script:
        raise RuntimeError(f"ReDoc's bundle in {ASSETS} changed: check what it fetches")
    return script.replace(REDOC_LOGO, b"")


async def redoc_script(_request: Request) -> Response:
    return Response(_redoc_bundle(), media_type="text/javascript")


#: The API pages may load only from this service: ReDoc's bundle would otherwise fetch its logo from
#: Redocly's servers, which an offline browser cannot reach (and a school's network may block).
SELF_ONLY = "default-src 'self' data: blob: 'unsafe-inline'; worker-src 'self' blob:"


def _self_only(page: HTMLResponse) -> HTMLResponse:
    """The page, with a Content-Security-Policy that keeps the browser on this service."""
    page.headers["Content-Security-Policy"] = SELF_ONLY
    return page


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def wants_html(headers: list[tuple[bytes, bytes]], method: str) -> bool:
    """Whether a request comes from a browser opening a page: a GET whose Accept names text/html.

    >>> wants_html([(b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8")], "GET")
    True
    >>> wants_html([(b"accept", b"*/*")], "GET"), wants_html([(b"accept", b"application/json")], "GET")
    (False, False)
    """
    if method not in ("GET", "HEAD"):
        return False
    accept = b",".join(value for name, value in headers if name.lower() == b"accept").decode("latin-1")
    return "text/html" in accept.lower()


def messages(body: bytes) -> list[str]:
    """The message lines of a JSON error body (``detail`` as text, or FastAPI's list of problems).

    >>> messages(b'{"detail": "no organisation with id \\'x\\'"}')
    ["no organisation with id 'x'"]
    >>> messages(b'{"detail": [{"loc": ["query", "hops"], "msg": "too many"}]}')
    ['hops: too many']
    """
    try:
        detail = json.loads(body or b"null")
    except ValueError:
        return [body.decode("utf-8", "replace")]
    if isinstance(detail, dict):
        detail = detail.get("detail", detail)
    if isinstance(detail, str):
        return [detail]
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, dict):
                where = [str(part) for part in item.get("loc", ()) if part not in ("query", "path", "body")]
                lines.append(f"{'.'.join(where)}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
            else:
                lines.append(str(item))
        return lines
    return [json.dumps(detail)]


def error_page(status: int, lines: list[str], root: str = "") -> str:
    """An error as a small HTML page (every message escaped)."""
    from viz.render import templates

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return templates().get_template("error.html").render(status=status, phrase=phrase, lines=lines, root=root)


class HtmlErrors:
    """ASGI middleware: a JSON error answered to a browser's page request becomes an HTML page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not wants_html(scope.get("headers", []), scope.get("method", "")):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {name.lower(): value for name, value in message.get("headers", [])}
                is_json = headers.get(b"content-type", b"").startswith(b"application/json")
                if message["status"] >= 400 and is_json:
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                root = str(scope.get("root_path", "")).rstrip("/")
                page = error_page(start["status"], messages(b"".join(chunks)), root).encode()
                kept = [
                    (name, value)
                    for name, value in start.get("headers", [])
                    if name.lower() not in (b"content-type", b"content-length")
                ]
                kept += [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode())]
                await send({**start, "headers": kept})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, capture)
