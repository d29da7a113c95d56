"""schemathesis against the app's own OpenAPI schema, on both backends: no 500s, responses match.

Three runs per backend: valid requests with an admin key; invalid ones (out-of-range numbers,
wrong types, missing fields), which must be refused with a documented 4xx; and valid ones with
no key, which must read as the public may and never write. The default run is short for CI
(``FUZZ_EXAMPLES`` per operation, 12, and half that for the last two); for a long one:
``FUZZ_EXAMPLES=500 pytest tests/graph_service/api/test_fuzz.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from graph_service.api.app import create_app
from graph_service.store import GraphStore
from tests.factories import small_network
from tests.graph_service.api.test_writes import ADMIN, make_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


def no_write_without_a_key(_ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Without a key, every write is refused with 401 (or 413 for a body too big to read)."""
    if case.method.upper() != "GET" and response.status_code not in (401, 413):
        raise AssertionError(f"{case.method} {case.formatted_path} without a key answered {response.status_code}")


def fuzz(
    app: FastAPI, examples: int, headers: dict[str, str], mode: GenerationMode = GenerationMode.POSITIVE
) -> dict[str, str]:
    """Run every operation of the app's schema; return failures by operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    operations = 0
    extra = [] if headers else [no_write_without_a_key]
    # Semantic refusals (409, 422 on a file's content) of well-shaped input are legitimate; so are
    # 401s without a key. Invalid input must be refused or answered with a documented response,
    # never a 5xx, but FastAPI ignoring an unknown query parameter is not a fault.
    excluded = [positive_data_acceptance, negative_data_rejection]
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=excluded, additional_checks=extra)

        try:
            check()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            continue  # nothing in this operation can be made invalid (a bare string in the path)
        # schemathesis raises a BaseExceptionGroup; collect every operation's failure, then report them together.
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert operations >= 10, "the schema lost its operations"
    return failures


@pytest.mark.parametrize(
    ("headers", "mode", "examples"),
    [
        pytest.param(ADMIN, GenerationMode.POSITIVE, EXAMPLES, id="admin"),
        # Mostly refused before any store is asked, so fewer examples find as much.
        pytest.param(ADMIN, GenerationMode.NEGATIVE, max(1, EXAMPLES // 2), id="admin-invalid"),
        pytest.param({}, GenerationMode.POSITIVE, max(1, EXAMPLES // 2), id="no-key"),
    ],
)
def test_no_server_errors_and_responses_match_the_schema(
    store: GraphStore, tmp_path: Path, headers: dict[str, str], mode: GenerationMode, examples: int
) -> None:
    store.apply(small_network())
    app = create_app(make_settings(tmp_path), store=store)
    failures = fuzz(app, examples, headers, mode)
    assert failures == {}
