"""Who is calling: API keys and roles as FastAPI dependencies, and request size limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.security import ApiKey, KeyRing, Role
from graph_service.settings import Settings

key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key; writes need an editor or admin key."
)

ANONYMOUS = ApiKey(name="anonymous", role=Role.READER, digest=b"")


def caller(request: Request, presented: Annotated[str | None, Depends(key_header)]) -> ApiKey | None:
    """The key presented, or ``None``; a key that matches nothing is a 401."""
    if presented is None:
        return None
    keys: KeyRing = request.app.state.keys
    key = keys.identify(presented)
    if key is None:
        raise HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": "X-API-Key"})
    return key


Caller = Annotated[ApiKey | None, Depends(caller)]


def require(role: Role) -> Callable[[Request, ApiKey | None], ApiKey]:
    """A dependency that lets through only callers with at least ``role``."""

    def check(request: Request, key: Caller) -> ApiKey:
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


class BodyLimit:
    """Refuse request bodies over a limit with 413, before they are read into memory."""

    def __init__(self, app: ASGIApp, limit: int, upload_limit: int, upload_prefix: str = "/loads/") -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_prefix = upload_prefix

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

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


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
