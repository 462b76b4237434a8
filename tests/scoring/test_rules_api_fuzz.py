"""Property-based tests of the scoring API from its own OpenAPI schema (schemathesis), as an
admin: whatever a client sends, the answer is documented, matches the schema, and is never a
server error. ``schemathesis.toml`` holds the shared settings."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from scoring import proposals, services
from scoring import rescoring as rescorings

pytestmark = pytest.mark.django_db

# Operations without parameters or body: no request to them can be invalid.
NOTHING_TO_BREAK = {"GET /api/v1/scoring/profile/"}


@pytest.fixture
def api_headers(admin_user, settings) -> dict[str, str]:
    settings.API_THROTTLE_RATES = {"anon": "100000/minute", "user": "100000/minute"}
    # A finished preview and a queued one, so ids 1 and 2 exist.
    for _ in range(2):
        rescorings.rescoring_start(
            kind="preview",
            proposal=proposals.snapshot(services.active_profile()),
            by_user=admin_user,
        )
    return {"Authorization": f"Token {Token.objects.create(user=admin_user).key}"}


@pytest.fixture
def api_schema(db, api_headers):
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi(
        "/api/schema/", get_wsgi_application(), headers=api_headers
    )
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_answers_every_generated_request_as_documented(api_schema, api_headers, mode):
    operations = [
        operation
        for operation in (result.ok() for result in api_schema.get_all_operations())
        if operation.path.startswith("/api/v1/scoring/")
    ]
    assert len(operations) == 5

    for operation in operations:
        if mode == GenerationMode.NEGATIVE and operation.label in NOTHING_TO_BREAK:
            continue
        query = {"cursor": ""} if operation.label == "GET /api/v1/scoring/versions/" else None

        @given(case=operation.as_strategy(mode, query=query))
        @settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_as_documented(case):
            case.call_and_validate(headers=api_headers)

        answers_as_documented()
