"""The OpenAPI document lists the refusals each operation may answer, as problem details, so that clients (and
the fuzz in CI, `.ci/fuzz`) know every status and body to expect."""

from __future__ import annotations

import jsonschema
from django.test import Client

from huanxin.core.api_support import PROBLEM_SCHEMA
from huanxin.core.errors import PROBLEM_CONTENT_TYPE, ValidationFailed


def _operations():
    from huanxin.api import api

    spec = api.get_openapi_schema()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield spec, path, method, operation


def test_every_operation_documents_its_refusals_as_problem_details():
    for spec, path, method, operation in _operations():
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert 422 in responses, where
        problem = responses[422]["content"][PROBLEM_CONTENT_TYPE]["schema"]["$ref"]
        assert problem == "#/components/schemas/Problem"
        assert spec["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
        if operation.get("security"):
            assert {401, 403} <= set(responses), where
        else:
            assert 401 not in responses, where
        if method != "get":
            assert 409 in responses, where
        if "requestBody" in operation:
            assert {400, 415} <= set(responses), where


def test_rate_limited_operations_say_so():
    documented = {(m, p) for _, p, m, o in _operations() if 429 in o["responses"]}
    assert documented == {
        ("post", "/api/v1/accounts/phone-codes"),
        ("post", "/api/v1/accounts/residents"),
        ("get", "/api/v1/vehicles/certificates/check/{number}"),
        ("post", "/api/v1/vehicles/certificates"),
        ("get", "/api/v1/recycling/network/sites"),
    }


def test_the_problem_schema_is_what_the_api_answers():
    jsonschema.validate(
        ValidationFailed.for_field("days", "required", "此字段为必填项").problem("/x", "id"), PROBLEM_SCHEMA
    )
    response = Client().get("/api/v1/calendar/working-days")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    jsonschema.validate(response.json(), PROBLEM_SCHEMA)
    refused = Client().get("/api/v1/accounts/me")
    assert refused.status_code == 401
    jsonschema.validate(refused.json(), PROBLEM_SCHEMA)
