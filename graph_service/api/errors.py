"""Errors in the shapes the OpenAPI schema promises."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError

logger = logging.getLogger("graph_service.api")


def unprocessable(location: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 in FastAPI's standard validation-error shape, for checks a schema cannot express.

    Raise it: ``raise unprocessable(("query", "as_at"), "as_at is after today")``.
    """
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])


def store_detail(request: Request, what: str, exc: Exception) -> str:
    """The message of a 503: the database's own words only for a caller with a valid key.

    They can name the server (a Bolt URI, a file path) and the driver's text, which an
    anonymous caller has no business reading; the log has them for the operator.
    """
    logger.warning("%s %s: %s: %s", request.method, request.url.path, what, exc)
    presented = request.headers.get("x-api-key")
    keys = getattr(request.app.state, "keys", None)
    if presented is not None and keys is not None and keys.identify(presented) is not None:
        return f"{what}: {exc}"
    return f"{what}; try again later (the server's log says why)"
