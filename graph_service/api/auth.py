"""Who is calling: API keys and roles as FastAPI dependencies, and request size limits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from graph_service.security import ApiKey, KeyRing, Role
from graph_service.settings import Settings

key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key; writes need an editor or admin key."
)

ANONYMOUS = ApiKey(name="anonymous", role=Role.READER, digest=b"")


# Coroutines, as graph_service.api.app's: a plain function dependency costs a worker thread's hop.
async def caller(request: Request, presented: Annotated[str | None, Depends(key_header)]) -> ApiKey | None:
    """The key presented, or ``None``; a key that matches nothing is a 401 (one SHA-256: no wait)."""
    if presented is None:
        return None
    keys: KeyRing = request.app.state.keys
    key = keys.identify(presented)
    if key is None:
        raise HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": "X-API-Key"})
    return key


Caller = Annotated[ApiKey | None, Depends(caller)]


def require(role: Role) -> Callable[[Request, ApiKey | None], Awaitable[ApiKey]]:
    """A dependency that lets through only callers with at least ``role``."""

    async def check(request: Request, key: Caller) -> ApiKey:
        settings: Settings = request.app.state.settings
        if role is Role.READER and settings.public_read:
            return key or ANONYMOUS
        if key is None:
            raise HTTPException(
                401,
                f"this needs an API key with the {role.name.lower()} role (header X-API-Key)",
                headers={"WWW-Authenticate": "X-API-Key"},
            )
        if key.role < role:
            raise HTTPException(
                403, f"key {key.name!r} has the {key.role.name.lower()} role; this needs {role.name.lower()}"
            )
        return key

    return check


Reader = Annotated[ApiKey, Depends(require(Role.READER))]
Editor = Annotated[ApiKey, Depends(require(Role.EDITOR))]
Admin = Annotated[ApiKey, Depends(require(Role.ADMIN))]


#: Pages that describe the API: behind a reader key when reads are not public.
DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class DocsGuard:
    """Ask for a valid key before the API's own pages (``/docs``, ``/redoc``, ``/openapi.json``).

    Used only when ``GRAPH_SERVICE_PUBLIC_READ=false``: FastAPI serves these pages outside the
    routes' dependencies, so the app-wide reader check never sees them.
    """

    def __init__(self, app: ASGIApp, keys: KeyRing) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in DOC_PATHS:
            presented = dict(scope.get("headers") or []).get(b"x-api-key")
            if presented is None or self.keys.identify(presented.decode("latin-1")) is None:
                await _problem(send, 401, "the API's pages need an API key (header X-API-Key)", unauthorised=True)
                return
        await self.app(scope, receive, send)


#: Methods Starlette may redirect (a trailing "/" dropped); a write is answered where it was sent.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NoWriteRedirect:
    """Answer 404 to a write whose path ends in ``/``, instead of Starlette's redirect without it.

    ``PUT /organisations/0%2F`` (the id ``0/``) would otherwise be redirected to
    ``/organisations/0``, and a client that follows redirects would write organisation ``0``: an
    id must be refused in the form it was sent, never turned into another one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and scope["path"].endswith("/"):
            await _problem(send, 404, "no such address: ids hold no '/' and write addresses do not end in '/'")
            return
        await self.app(scope, receive, send)


class QuestionGate:
    """At most ``limit`` questions answered at once per process; the others wait their turn.

    A whole-England question costs seconds of CPU: without a cap, a few at once starve every other
    request. One that waits longer than ``wait`` seconds is answered 503 with ``Retry-After``.
    """

    def __init__(self, app: ASGIApp, limit: int, wait: float, prefix: str = "/questions/") -> None:
        self.app = app
        self.wait = wait
        self.prefix = prefix
        self.turns = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        # A status page (/questions/health/status) is cheap, and must answer while questions run.
        if not path.startswith(self.prefix) or path.endswith("/status"):
            await self.app(scope, receive, send)
            return
        if self.turns.locked():
            # wait_for wraps the wait in a task of its own: paid only when there is a wait.
            try:
                await asyncio.wait_for(self.turns.acquire(), self.wait)
            except TimeoutError:
                await _problem(send, 503, "too many questions are being answered; try again shortly", retry_after=5)
                return
        else:
            await self.turns.acquire()  # a free turn is taken at once, without yielding
        try:
            await self.app(scope, receive, send)
        finally:
            self.turns.release()


class BodyLimit:
    """Refuse request bodies over a limit with 413, before they are read into memory, and bodies
    sent too slowly (a gap over ``timeout`` seconds) with 408."""

    def __init__(
        self, app: ASGIApp, limit: int, upload_limit: int, upload_prefix: str = "/loads/", timeout: float = 30.0
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_prefix = upload_prefix
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(self.upload_prefix) else self.limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        failed: list[Exception] = []
        started = False

        async def counted() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                failed.append(_TooSlow())
                raise failed[0] from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    failed.append(_TooLarge())
                    raise failed[0]
            return message

        async def answer(message: Message) -> None:
            # FastAPI turns any error while it reads a JSON body into its own 400 ("There was an error
            # parsing the body"): once the body failed here, that answer is dropped for the true one.
            nonlocal started
            if not failed:
                started = True
                await send(message)

        with contextlib.suppress(_TooLarge, _TooSlow):
            await self.app(scope, counted, answer)
        if not failed or started:
            return
        if isinstance(failed[0], _TooLarge):
            await _too_large(send, limit)
        else:
            await _problem(send, 408, f"the request body stalled for over {self.timeout:g} seconds")


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def _problem(
    send: Callable[[Any], Awaitable[None]],
    status: int,
    detail: str,
    *,
    retry_after: int | None = None,
    unauthorised: bool = False,
) -> None:
    import json

    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if unauthorised:
        headers.append((b"www-authenticate", b"X-API-Key"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Callable[[Any], Awaitable[None]], limit: int) -> None:
    body = f'{{"detail":"request body larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FloodFilter(logging.Filter):
    """Let through at most ``per_second`` records a second; say how many were dropped.

    Hundreds of broken or half-sent requests each log a warning: without a cap they filled the
    disk (278 MB in 25 s). Used by uvicorn's handlers through :func:`server_options`.
    """

    def __init__(self, per_second: float = 20.0) -> None:
        super().__init__()
        self.per_second = per_second
        self.allowance = per_second
        self.last = time.monotonic()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        self.allowance = min(self.per_second, self.allowance + (now - self.last) * self.per_second)
        self.last = now
        if self.allowance < 1:
            self.dropped += 1
            return False
        self.allowance -= 1
        if self.dropped:
            record.msg = (
                f"{record.msg} (and {self.dropped} log line(s) dropped: more than {self.per_second:g} a second)"
            )
            self.dropped = 0
        return True


class HeaderTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol, closing a connection that takes too long to send a request's headers.

    uvicorn times out idle keep-alive connections but not a request's headers, so clients that
    send a header line every few seconds (slowloris) held connections until file descriptors ran
    out. The timer runs from the first byte of each request until its headers are complete.
    """

    header_timeout: float | None = None  # from the settings, read in each server process

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if HeaderTimeoutH11.header_timeout is None:
            HeaderTimeoutH11.header_timeout = Settings().header_timeout_seconds
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._header_timer is None and self._waiting_for_headers():
            self._header_timer = self.loop.call_later(self.header_timeout or 10.0, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._arm()
        super().data_received(data)
        if not self._waiting_for_headers():
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


#: Largest request head (request line and headers) a connection may send.
MAX_HEADER_BYTES = 65_536


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's limits for ``graph-service serve``: connections, timeouts, header size, log floods."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["filters"] = {"flood": {"()": "graph_service.api.auth.FloodFilter", "per_second": 20}}
    for handler in log_config["handlers"].values():
        handler["filters"] = ["flood"]
    return {
        "http": HeaderTimeoutH11,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "log_config": log_config,
    }
