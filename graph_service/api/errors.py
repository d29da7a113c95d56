"""Errors in the shapes the OpenAPI schema promises."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError


def unprocessable(location: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 in FastAPI's standard validation-error shape, for checks a schema cannot express.

    Raise it: ``raise unprocessable(("query", "as_at"), "as_at is after today")``.
    """
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])
