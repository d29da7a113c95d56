"""schemathesis against the app's own OpenAPI schema, on both backends: no 500s, responses match.

A short run here (``FUZZ_EXAMPLES`` per operation); ``bench/fuzz.py`` runs a long one.
"""

from __future__ import annotations

import os
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from graph_service.api.app import create_app
from graph_service.store import GraphStore
from tests.factories import small_network
from tests.graph_service.api.test_writes import ADMIN, make_settings


def fuzz(app: FastAPI, examples: int) -> dict[str, str]:
    """Run every operation of the app's schema; return failures by operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            # Semantic refusals (409, 422 on a file's content) of well-shaped input are legitimate.
            case.call_and_validate(headers=ADMIN, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:2000]
    assert operations >= 10, "the schema lost its operations"
    return failures


def test_no_server_errors_and_responses_match_the_schema(store: GraphStore, tmp_path: Path) -> None:
    store.apply(small_network())
    app = create_app(make_settings(tmp_path), store=store)
    failures = fuzz(app, int(os.environ.get("FUZZ_EXAMPLES", "12")))
    assert failures == {}
